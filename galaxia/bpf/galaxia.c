// SPDX-License-Identifier: (Apache-2.0 OR GPL-2.0-only)
/*
 * galaxia's eBPF datapath: Cilium's, in miniature, for the Star Wars demo in network namespaces.
 *
 * Where each program runs (one copy of each, attached to many interfaces with TCX links):
 *
 *   pod --eth0==veth==galaxia-lxc<id>--> node namespace --galaxia-up==bridge==> other nodes
 *                     ^ ingress: galaxia_pod_out     ^ ingress: galaxia_node_in
 *                     ^ egress:  galaxia_pod_in
 *
 *   galaxia_pod_in   (Cilium's cil_to_container) packets going into a pod: identity-based L3/L4
 *                    policy on every packet, conntrack so that replies pass, drop and
 *                    policy-verdict events, to-endpoint traces.
 *   galaxia_pod_out  (cil_from_container) packets leaving a pod: conntrack of its own
 *                    connections, and for a destination on the same node, the L7 redirect.
 *   galaxia_node_in  (cil_from_netdev) packets from other nodes: the L7 redirect.
 *   galaxia_sock_lb  (cil_sock4_connect) connect() of a pod's process to a ClusterIP: rewritten
 *                    to a ready backend, as Cilium's socket-level load balancer does;
 *   galaxia_sock_rn  (cil_sock4_getpeername) and getpeername() answers the ClusterIP again.
 *
 * The L7 redirect is Cilium's TPROXY done with bpf_sk_assign: the packet is assigned to the L7
 * proxy's socket in the node's namespace and marked, and the node's `ip rule fwmark` delivers it
 * locally; the proxy then sees the original destination as its accepted socket's local address.
 * Policy is looked up where the packet enters the destination's node (redirect) and where it
 * enters the pod (allow or drop), on every packet: a policy change is felt by the next one.
 */

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "galaxia.h"

#ifndef EHOSTUNREACH
#define EHOSTUNREACH 113
#endif

/* Cilium's bpf.monitorInterval: a direction whose flags are all known is traced again after this. */
#define MONITOR_INTERVAL_NS (5ULL * 1000 * 1000 * 1000)

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __be32);
	__type(value, struct ipcache_val);
} galaxia_ipcache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __be32);
	__type(value, struct endpoint_val);
} galaxia_lxc SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct policy_key);
	__type(value, struct policy_val);
} galaxia_policy SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct ct_key);
	__type(value, struct ct_val);
} galaxia_ct SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct svc_key);
	__type(value, struct svc_val);
} galaxia_lb4_svc SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct backend_key);
	__type(value, struct backend_val);
} galaxia_lb4_be SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct lb_rev_val);
} galaxia_lb4_rev SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} galaxia_events SEC(".maps");

/* One parsed packet. */
struct pkt {
	struct ct_key t;
	__u8 flags; /* F_* for TCP, 0 otherwise */
	__u32 len;
};

static __always_inline int parse(struct __sk_buff *skb, struct pkt *p)
{
	struct iphdr ip;

	if (skb->protocol != bpf_htons(ETH_P_IP))
		return -1;
	if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)) < 0 || ip.version != 4)
		return -1;
	__builtin_memset(p, 0, sizeof(*p));
	p->t.saddr = ip.saddr;
	p->t.daddr = ip.daddr;
	p->t.proto = ip.protocol;
	p->len = skb->len;
	/* A later fragment has no ports: it is looked up as port 0. */
	if (ip.frag_off & bpf_htons(0x1fff))
		return 0;
	__u32 l4 = ETH_HLEN + ip.ihl * 4;
	if (ip.protocol == IPPROTO_TCP) {
		struct tcphdr th;
		if (bpf_skb_load_bytes(skb, l4, &th, sizeof(th)) < 0)
			return -1;
		p->t.sport = th.source;
		p->t.dport = th.dest;
		p->flags = (th.syn ? F_SYN : 0) | (th.ack ? F_ACK : 0) | (th.rst ? F_RST : 0) |
			   (th.fin ? F_FIN : 0) | (th.psh ? F_PSH : 0);
	} else if (ip.protocol == IPPROTO_UDP) {
		struct udphdr uh;
		if (bpf_skb_load_bytes(skb, l4, &uh, sizeof(uh)) < 0)
			return -1;
		p->t.sport = uh.source;
		p->t.dport = uh.dest;
	}
	return 0;
}

static __always_inline struct ct_key reversed(const struct ct_key *t)
{
	struct ct_key r = {
		.saddr = t->daddr,
		.daddr = t->saddr,
		.sport = t->dport,
		.dport = t->sport,
		.proto = t->proto,
	};
	return r;
}

static __always_inline void emit(const struct pkt *p, __u8 type, __u8 subtype, __s8 verdict,
				 __u8 match_type, __u8 is_reply, __u32 src_id, __u32 dst_id,
				 __u16 endpoint, __u16 proxy_port)
{
	struct event e = {
		.type = type,
		.subtype = subtype,
		.tcp_flags = p->flags,
		.proto = p->t.proto,
		.verdict = verdict,
		.match_type = match_type,
		.is_reply = is_reply,
		.saddr = p->t.saddr,
		.daddr = p->t.daddr,
		.sport = p->t.sport,
		.dport = p->t.dport,
		.src_identity = src_id,
		.dst_identity = dst_id,
		.endpoint = endpoint,
		.proxy_port = proxy_port,
		.len = p->len,
		.ktime_ns = bpf_ktime_get_ns(),
	};
	/* A full ring loses the event, never the packet (Hubble counts such losses). */
	bpf_ringbuf_output(&galaxia_events, &e, sizeof(e), 0);
}

/* Cilium's monitor aggregation `medium`: trace a packet when it carries a TCP flag not yet
 * reported in its direction, or when the interval has passed. A FIN or RST also forgets what the
 * other direction reported, so that the closing handshake (`ACK, FIN` each way, the last `ACK`)
 * is traced as on Cilium. */
static __always_inline int aggregate(__u8 *seen, __u64 *at, __u8 *other, __u8 flags, __u64 now)
{
	int due = (flags & ~*seen) || now - *at >= MONITOR_INTERVAL_NS;
	if (due) {
		*seen |= flags;
		*at = now;
	}
	if (flags & (F_FIN | F_RST))
		*other = 0;
	return due;
}

/* A fresh SYN on a tuple whose previous connection got past its handshake: a new connection. */
static __always_inline int reopened(const struct pkt *p, const struct ct_val *ct)
{
	return p->flags == F_SYN && (ct->fwd_flags & F_ACK);
}

static __always_inline struct ct_val *ct_open(const struct pkt *p, __u8 state, __u32 src_id,
					      __u64 now)
{
	struct ct_val v = {
		.created_ns = now,
		.last_ns = now,
		.state = state,
		.src_identity = src_id,
	};
	bpf_map_update_elem(&galaxia_ct, &p->t, &v, BPF_ANY);
	return bpf_map_lookup_elem(&galaxia_ct, &p->t);
}

static __always_inline void ct_count(__u64 *packets, __u64 *bytes, __u64 *last, const struct pkt *p,
				     __u64 now)
{
	__sync_fetch_and_add(packets, 1);
	__sync_fetch_and_add(bytes, p->len);
	*last = now;
}

/* The policy entry for a packet to `endpoint` from `identity`: the exact port first, then every
 * port of the protocol, then every protocol (L3-only). None: not allowed. */
static __always_inline struct policy_val *policy_lookup(__u16 endpoint, __u32 identity,
							const struct pkt *p)
{
	struct policy_key k = {
		.identity = identity,
		.endpoint = endpoint,
		.dport = bpf_ntohs(p->t.dport),
		.proto = p->t.proto,
	};
	struct policy_val *v = bpf_map_lookup_elem(&galaxia_policy, &k);
	if (v)
		return v;
	k.dport = 0;
	v = bpf_map_lookup_elem(&galaxia_policy, &k);
	if (v)
		return v;
	k.proto = 0;
	return bpf_map_lookup_elem(&galaxia_policy, &k);
}

static __always_inline __u32 identity_of(__be32 addr, const struct endpoint_val *ep)
{
	if (addr == ep->host_ip)
		return IDENTITY_HOST;
	struct ipcache_val *ic = bpf_map_lookup_elem(&galaxia_ipcache, &addr);
	return ic ? ic->identity : IDENTITY_WORLD;
}

/* Assign the packet to the proxy: the connection's own socket when the proxy already holds it
 * (the accepted one, local address = the pod), else the proxy's listener on `proxy_port`. */
static __always_inline int assign_to_proxy(struct __sk_buff *skb, const struct pkt *p,
					   __u16 proxy_port)
{
	struct bpf_sock_tuple tup = {};
	struct bpf_sock *sk;
	long r;

	tup.ipv4.saddr = p->t.saddr;
	tup.ipv4.daddr = p->t.daddr;
	tup.ipv4.sport = p->t.sport;
	tup.ipv4.dport = p->t.dport;
	sk = bpf_skc_lookup_tcp(skb, &tup, sizeof(tup.ipv4), BPF_F_CURRENT_NETNS, 0);
	if (sk) {
		if (sk->state != BPF_TCP_LISTEN) {
			r = bpf_sk_assign(skb, sk, 0);
			bpf_sk_release(sk);
			return r;
		}
		bpf_sk_release(sk);
	}
	tup.ipv4.dport = bpf_htons(proxy_port);
	sk = bpf_skc_lookup_tcp(skb, &tup, sizeof(tup.ipv4), BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return -1;
	if (sk->state != BPF_TCP_LISTEN) {
		bpf_sk_release(sk);
		return -1;
	}
	r = bpf_sk_assign(skb, sk, 0);
	bpf_sk_release(sk);
	return r;
}

/* A packet from `src_id` entering the node of its destination `dep`: if the destination's policy
 * redirects this port to the proxy, hand it to the proxy. Allow and deny are decided later, on
 * the pod's own ingress (galaxia_pod_in), so that a drop is observed at the endpoint. */
static __always_inline int steer(struct __sk_buff *skb, const struct pkt *p,
				 struct endpoint_val *dep, __u32 src_id, __u64 now)
{
	if (!(dep->flags & EP_ENFORCE_INGRESS) || p->t.proto != IPPROTO_TCP)
		return TC_ACT_OK;
	struct policy_val *pv = policy_lookup(dep->id, src_id, p);
	if (!pv || pv->verdict != VERDICT_REDIRECT)
		return TC_ACT_OK;
	/* No proxy socket: leave the packet to galaxia_pod_in, which drops it (fail closed). */
	if (assign_to_proxy(skb, p, pv->proxy_port) != 0)
		return TC_ACT_OK;
	skb->mark = MARK_TO_PROXY;
	__sync_fetch_and_add(&pv->packets, 1);
	__sync_fetch_and_add(&pv->bytes, p->len);

	struct ct_val *ct = bpf_map_lookup_elem(&galaxia_ct, &p->t);
	if (!ct || reopened(p, ct))
		ct = ct_open(p, 0, src_id, now);
	if (!ct)
		return TC_ACT_OK;
	ct_count(&ct->fwd_packets, &ct->fwd_bytes, &ct->last_ns, p, now);
	if (!(ct->state & CT_INGRESS_SEEN)) {
		ct->state |= CT_INGRESS_SEEN | CT_PROXY;
		emit(p, EVENT_POLICY_VERDICT, 0, 2, pv->match_type, REPLY_NO, src_id, dep->identity,
		     dep->id, pv->proxy_port);
	}
	if (aggregate(&ct->fwd_flags, &ct->fwd_report_ns, &ct->rev_flags, p->flags, now))
		emit(p, EVENT_TRACE, OBS_TO_PROXY, 0, 0, REPLY_NO, src_id, dep->identity, dep->id,
		     pv->proxy_port);
	return TC_ACT_OK;
}

SEC("classifier")
int galaxia_pod_in(struct __sk_buff *skb)
{
	struct pkt p;
	if (parse(skb, &p) < 0)
		return TC_ACT_OK;
	struct endpoint_val *dep = bpf_map_lookup_elem(&galaxia_lxc, &p.t.daddr);
	if (!dep)
		return TC_ACT_OK;
	__u64 now = bpf_ktime_get_ns();

	/* A reply to one of the pod's own connections passes, whatever the policy. */
	struct ct_key rk = reversed(&p.t);
	struct ct_val *rev = bpf_map_lookup_elem(&galaxia_ct, &rk);
	if (rev) {
		ct_count(&rev->rev_packets, &rev->rev_bytes, &rev->last_ns, &p, now);
		if (aggregate(&rev->rev_flags, &rev->rev_report_ns, &rev->fwd_flags, p.flags, now)) {
			struct ipcache_val *ic = bpf_map_lookup_elem(&galaxia_ipcache, &p.t.saddr);
			emit(&p, EVENT_TRACE, OBS_TO_ENDPOINT, 0, 0, REPLY_YES,
			     ic ? ic->identity : IDENTITY_WORLD, dep->identity, dep->id, 0);
		}
		return TC_ACT_OK;
	}

	__u32 src_id = identity_of(p.t.saddr, dep);
	int enforced = dep->flags & EP_ENFORCE_INGRESS;
	struct policy_val *pv = 0;
	__u8 verdict = VERDICT_ALLOW;
	/* Cilium lets the node itself (probes, the proxy's own connections) into every endpoint. */
	if (enforced && src_id != IDENTITY_HOST) {
		pv = policy_lookup(dep->id, src_id, &p);
		verdict = pv ? pv->verdict : VERDICT_DENY;
	}
	if (pv) {
		__sync_fetch_and_add(&pv->packets, 1);
		__sync_fetch_and_add(&pv->bytes, p.len);
	}
	/* A redirected port reaches the pod only through the proxy (from the node itself). */
	if (verdict != VERDICT_ALLOW) {
		emit(&p, EVENT_POLICY_VERDICT, 0, -1, 0, REPLY_UNKNOWN, src_id, dep->identity,
		     dep->id, 0);
		emit(&p, EVENT_DROP, DROP_POLICY_DENIED, 0, 0, REPLY_UNKNOWN, src_id, dep->identity,
		     dep->id, 0);
		return TC_ACT_SHOT;
	}

	struct ct_val *ct = bpf_map_lookup_elem(&galaxia_ct, &p.t);
	if (!ct || reopened(&p, ct))
		ct = ct_open(&p, 0, src_id, now);
	if (!ct)
		return TC_ACT_OK;
	ct_count(&ct->fwd_packets, &ct->fwd_bytes, &ct->last_ns, &p, now);
	if (!(ct->state & CT_INGRESS_SEEN)) {
		ct->state |= CT_INGRESS_SEEN;
		if (enforced && src_id != IDENTITY_HOST)
			emit(&p, EVENT_POLICY_VERDICT, 0, 1, pv ? pv->match_type : 0, REPLY_NO,
			     src_id, dep->identity, dep->id, 0);
	}
	if (aggregate(&ct->fwd_flags, &ct->fwd_report_ns, &ct->rev_flags, p.flags, now))
		emit(&p, EVENT_TRACE, OBS_TO_ENDPOINT, 0, 0, REPLY_NO, src_id, dep->identity,
		     dep->id, 0);
	return TC_ACT_OK;
}

SEC("classifier")
int galaxia_pod_out(struct __sk_buff *skb)
{
	struct pkt p;
	if (parse(skb, &p) < 0)
		return TC_ACT_OK;
	struct endpoint_val *sep = bpf_map_lookup_elem(&galaxia_lxc, &p.t.saddr);
	/* A pod sends only from its own address, so that its identity cannot be borrowed. */
	if (!sep || sep->ifindex != skb->ifindex)
		return TC_ACT_SHOT;
	__u64 now = bpf_ktime_get_ns();

	struct ct_key rk = reversed(&p.t);
	struct ct_val *rev = bpf_map_lookup_elem(&galaxia_ct, &rk);
	if (rev) {
		/* The pod answers a connection made to it. */
		ct_count(&rev->rev_packets, &rev->rev_bytes, &rev->last_ns, &p, now);
		if (p.flags & (F_FIN | F_RST))
			rev->fwd_flags = 0;
		return TC_ACT_OK;
	}
	struct ct_val *ct = bpf_map_lookup_elem(&galaxia_ct, &p.t);
	if (!ct || reopened(&p, ct))
		ct = ct_open(&p, CT_FROM_POD, sep->identity, now);
	if (ct) {
		ct->state |= CT_FROM_POD;
		ct_count(&ct->fwd_packets, &ct->fwd_bytes, &ct->last_ns, &p, now);
	}

	/* A destination on this node is entered here; one elsewhere, by its node's galaxia_node_in. */
	struct endpoint_val *dep = bpf_map_lookup_elem(&galaxia_lxc, &p.t.daddr);
	if (dep && dep->node == sep->node)
		return steer(skb, &p, dep, sep->identity, now);
	return TC_ACT_OK;
}

SEC("classifier")
int galaxia_node_in(struct __sk_buff *skb)
{
	struct pkt p;
	if (parse(skb, &p) < 0)
		return TC_ACT_OK;
	struct endpoint_val *dep = bpf_map_lookup_elem(&galaxia_lxc, &p.t.daddr);
	if (!dep)
		return TC_ACT_OK;
	struct ct_key rk = reversed(&p.t);
	if (bpf_map_lookup_elem(&galaxia_ct, &rk))
		return TC_ACT_OK; /* a reply to the pod's own connection */
	struct ipcache_val *ic = bpf_map_lookup_elem(&galaxia_ipcache, &p.t.saddr);
	return steer(skb, &p, dep, ic ? ic->identity : IDENTITY_WORLD, bpf_ktime_get_ns());
}

SEC("cgroup/connect4")
int galaxia_sock_lb(struct bpf_sock_addr *ctx)
{
	if (ctx->protocol != IPPROTO_TCP)
		return 1;
	__u32 port = ctx->user_port;
	struct svc_key k = {
		.vip = ctx->user_ip4,
		.port = (__be16)port,
		.proto = IPPROTO_TCP,
	};
	struct svc_val *svc = bpf_map_lookup_elem(&galaxia_lb4_svc, &k);
	if (!svc)
		return 1;
	/* A Service with no ready backend: connect() fails at once with EHOSTUNREACH ("No route to
	 * host"), as Cilium's sock4_xlate_fwd makes it (try_set_retval, SYS_REJECT). */
	if (svc->count == 0) {
		bpf_set_retval(-EHOSTUNREACH);
		return 0;
	}
	struct backend_key bk = {
		.svc = svc->id,
		.slot = bpf_get_prandom_u32() % svc->count,
	};
	struct backend_val *be = bpf_map_lookup_elem(&galaxia_lb4_be, &bk);
	if (!be)
		return 1;
	__u64 cookie = bpf_get_socket_cookie(ctx);
	struct lb_rev_val rn = { .vip = k.vip, .port = k.port };
	bpf_map_update_elem(&galaxia_lb4_rev, &cookie, &rn, BPF_ANY);
	ctx->user_ip4 = be->ip;
	ctx->user_port = be->port;
	return 1;
}

SEC("cgroup/getpeername4")
int galaxia_sock_rn(struct bpf_sock_addr *ctx)
{
	__u64 cookie = bpf_get_socket_cookie(ctx);
	struct lb_rev_val *rn = bpf_map_lookup_elem(&galaxia_lb4_rev, &cookie);
	if (rn) {
		ctx->user_ip4 = rn->vip;
		ctx->user_port = rn->port;
	}
	return 1;
}

/* The kernel checks this string, not the SPDX line: the programs are offered under GPL-2.0 too. */
char _license[] SEC("license") = "GPL";
