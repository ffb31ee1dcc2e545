/* SPDX-License-Identifier: (Apache-2.0 OR GPL-2.0-only) */
/*
 * galaxia's eBPF datapath: the layouts the programs (galaxia.c) and galaxia's loader
 * (galaxia/src/ebpf/maps.rs) share. Every struct has explicit padding and a fixed size, written
 * next to it: the Rust side encodes and decodes the same bytes by offset, so a change here is a
 * change there. Addresses and ports are in network byte order, as on the wire; identities,
 * endpoint ids and policy ports in host order.
 */
#ifndef GALAXIA_H
#define GALAXIA_H

#include <linux/types.h>

/* Cilium's reserved identities (pkg/identity/numericidentity.go). */
#define IDENTITY_UNKNOWN 0
#define IDENTITY_HOST 1
#define IDENTITY_WORLD 2

/* A policy entry's answer for (identity, port, protocol). */
#define VERDICT_ALLOW 1
#define VERDICT_DENY 2
#define VERDICT_REDIRECT 3 /* to the L7 proxy of the endpoint's node */

/* Endpoint flags. */
#define EP_ENFORCE_INGRESS 1 /* a policy with an ingress section selects it: default deny */

/* Monitor events, with Cilium's numbers (pkg/monitor/api/types.go). */
#define EVENT_DROP 1
#define EVENT_TRACE 4
#define EVENT_POLICY_VERDICT 5
#define DROP_POLICY_DENIED 133
#define OBS_TO_ENDPOINT 0
#define OBS_TO_PROXY 1
#define REPLY_NO 0
#define REPLY_YES 1
#define REPLY_UNKNOWN 2

/* TCP flags as galaxia's flows number them (flows::flow::TcpFlags). */
#define F_SYN 1
#define F_ACK 2
#define F_RST 4
#define F_FIN 8
#define F_PSH 16

/* The mark a packet steered to the L7 proxy carries: each node's `ip rule fwmark` delivers it
 * locally (to the socket bpf_sk_assign chose) instead of forwarding it to the pod. */
#define MARK_TO_PROXY 0x200

/* Conntrack entry states. */
#define CT_INGRESS_SEEN 1 /* the server's ingress path decided this connection */
#define CT_PROXY 2        /* its client packets go to the L7 proxy */
#define CT_FROM_POD 4     /* the client is a local pod (its egress opened the entry) */

/* ipcache: pod (or node) IP -> security identity. Key: __be32 address. 8 bytes. */
struct ipcache_val {
	__u32 identity;
	__u8 node; /* the node hosting the address */
	__u8 pad[3];
};

/* lxc: a local endpoint, by its pod IP (__be32). 16 bytes. */
struct endpoint_val {
	__u16 id;       /* Cilium's endpoint id */
	__u8 node;      /* the node it runs on */
	__u8 flags;     /* EP_* */
	__u32 identity; /* its own security identity */
	__u32 ifindex;  /* its veth (galaxia-lxc<id>) in the node's namespace */
	__be32 host_ip; /* its node's router address: traffic from it is reserved:host */
};

/* policy: (endpoint, remote identity, destination port, protocol) -> answer. Port 0 is every
 * port, protocol 0 every protocol (an L3-only rule). 12 bytes. */
struct policy_key {
	__u32 identity;
	__u16 endpoint;
	__u16 dport; /* host order */
	__u8 proto;
	__u8 pad[3];
};

/* 24 bytes. */
struct policy_val {
	__u8 verdict;     /* VERDICT_* */
	__u8 match_type;  /* politica::MatchType, for policy-verdict events */
	__u16 proxy_port; /* host order, for VERDICT_REDIRECT */
	__u32 pad;
	__u64 packets; /* packets this entry decided */
	__u64 bytes;
};

/* ct: one connection, keyed by its original direction (client -> server). 16 bytes. */
struct ct_key {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
};

/* 72 bytes. "fwd" is client -> server, "rev" the replies. */
struct ct_val {
	__u64 created_ns;
	__u64 last_ns;
	__u64 fwd_packets;
	__u64 fwd_bytes;
	__u64 rev_packets;
	__u64 rev_bytes;
	__u64 fwd_report_ns; /* monitor aggregation: when a trace was last reported */
	__u64 rev_report_ns;
	__u8 fwd_flags; /* the TCP flags reported so far in each direction */
	__u8 rev_flags;
	__u8 state; /* CT_* */
	__u8 pad;
	__u32 src_identity;
};

/* lb4_svc: a Service frontend (ClusterIP, port) -> its backends. 8 bytes each. */
struct svc_key {
	__be32 vip;
	__be16 port;
	__u8 proto;
	__u8 pad;
};

struct svc_val {
	__u16 count; /* ready backends, in slots 0..count-1 */
	__u16 id;
	__u32 pad;
};

/* lb4_be: (service id, slot) -> a ready backend. 4 and 8 bytes. */
struct backend_key {
	__u16 svc;
	__u16 slot;
};

struct backend_val {
	__be32 ip;
	__be16 port;
	__u16 pad;
};

/* lb4_rev: socket cookie -> the frontend it connected to, for getpeername(). 8 bytes. */
struct lb_rev_val {
	__be32 vip;
	__be16 port;
	__u16 pad;
};

/* One record of the events ring buffer. 48 bytes. */
struct event {
	__u8 type;       /* EVENT_* */
	__u8 subtype;    /* drop reason, or observation point */
	__u8 tcp_flags;  /* F_* */
	__u8 proto;      /* IPPROTO_* */
	__s8 verdict;    /* policy verdicts: 1 allowed, 2 redirected, -1 denied */
	__u8 match_type; /* policy verdicts */
	__u8 is_reply;   /* REPLY_* */
	__u8 pad0;
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u32 src_identity;
	__u32 dst_identity;
	__u16 endpoint; /* where it was observed */
	__u16 proxy_port;
	__u32 len;
	__u32 pad1;
	__u64 ktime_ns; /* CLOCK_MONOTONIC */
};

#endif
