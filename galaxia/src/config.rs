//! Every timeout and limit of the running galaxy, in one place, with why it has the value it has.

use std::time::Duration;

/// How long the proxy holds a connection whose request a policy dropped. Cilium sends nothing back
/// at all, so the client waits for its own timeout (curl `-m 2` exits 28); the hold only bounds how
/// long a client without a timeout ties up a task.
pub const DROP_HOLD: Duration = Duration::from_secs(300);

/// Connecting to a Death Star replica on loopback takes microseconds; a second means it is gone.
pub const UPSTREAM_CONNECT: Duration = Duration::from_secs(1);

/// Idle keep-alive connections kept per replica (the replica closes idle ones after its own
/// header-read timeout, and a closed one is skipped).
pub const UPSTREAM_MAX_IDLE: usize = 256;

/// Kubernetes restarts a crashed container after 10 s, doubling up to 5 min. The local twin starts
/// lower so that the tutorial does not sit idle; `galaxia up --restart-backoff` changes the base.
pub const RESTART_BACKOFF_BASE: Duration = Duration::from_secs(2);
/// Kubernetes' cap on the restart back-off.
pub const RESTART_BACKOFF_CAP: Duration = Duration::from_secs(300);
/// A container that ran this long without crashing gets its back-off reset (as the kubelet does).
pub const RESTART_BACKOFF_RESET: Duration = Duration::from_secs(600);

/// How long a control API client waits for an answer (the galaxy runs on this machine).
pub const CONTROL_REQUEST: Duration = Duration::from_secs(10);

/// How long `galaxia up` waits for every pod to be ready before it says so and keeps going.
pub const READY_WAIT: Duration = Duration::from_secs(30);

/// How often a replica's readiness is probed. The kubelet's period is seconds; on loopback a probe
/// costs microseconds, and a short period takes an exploding replica out of its Service before it
/// dies, so that no request is sent to a dead port.
pub const READINESS_PERIOD: Duration = Duration::from_millis(100);
/// A probe with no answer this quickly fails (the replica is on this machine).
pub const READINESS_TIMEOUT: Duration = Duration::from_secs(1);
/// Consecutive failed probes that make a replica not ready.
pub const READINESS_FAILURES: u32 = 2;
