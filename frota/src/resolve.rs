//! Name resolution that works in a `FROM scratch` image: no libc resolver, so this reads
//! resolv.conf (search domains, `ndots`) and the hosts file itself and asks the nameservers with
//! hickory. IP literals and `localhost` never touch either file.
//!
//! A nameserver that does not answer costs what it costs glibc (and so Debian's curl): resolv.conf's
//! `timeout` × `attempts` per name tried, and the search list stops at the first name nobody
//! answered for; see [`query_budget`] and [`Resolver::resolve`].
//!
//! The file paths (and the nameservers' port) can be overridden through the environment so that
//! tests can point a ship at files they wrote and at a DNS responder on a loopback port.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use hickory_resolver::config::{
    LookupIpStrategy, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::{Name, Resolver as Hickory, TokioResolver};
use tokio::sync::OnceCell;

/// Env var naming the resolv.conf to read instead of `/etc/resolv.conf`.
pub const ENV_RESOLV_CONF: &str = "FROTA_RESOLV_CONF";
/// Env var naming the hosts file to read instead of `/etc/hosts`.
pub const ENV_HOSTS: &str = "FROTA_HOSTS";
/// Env var with a port to use for every nameserver instead of 53 (tests run a responder on an
/// ephemeral loopback port).
pub const ENV_DNS_PORT: &str = "FROTA_DNS_PORT";

/// Where resolution reads its configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolverSettings {
    pub resolv_conf: PathBuf,
    pub hosts: PathBuf,
    /// Overrides the nameservers' port.
    pub dns_port: Option<u16>,
}

impl Default for ResolverSettings {
    fn default() -> Self {
        ResolverSettings {
            resolv_conf: PathBuf::from("/etc/resolv.conf"),
            hosts: PathBuf::from("/etc/hosts"),
            dns_port: None,
        }
    }
}

impl ResolverSettings {
    /// The defaults, overridden by [`ENV_RESOLV_CONF`], [`ENV_HOSTS`] and [`ENV_DNS_PORT`].
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Self {
        let mut s = ResolverSettings::default();
        if let Some(p) = env(ENV_RESOLV_CONF).filter(|v| !v.is_empty()) {
            s.resolv_conf = p.into();
        }
        if let Some(p) = env(ENV_HOSTS).filter(|v| !v.is_empty()) {
            s.hosts = p.into();
        }
        s.dns_port = env(ENV_DNS_PORT).and_then(|p| p.parse().ok());
        s
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("could not resolve host: {host} ({reason})")]
    NotFound { host: String, reason: String },
    /// No nameserver answered within resolv.conf's budget (glibc's `timeout` × `attempts`).
    #[error("could not resolve host: {host} (no answer from the nameservers within {budget:?})")]
    NoAnswer { host: String, budget: Duration },
    #[error("cannot read {path}: {source}")]
    Config {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// Resolves host names; cheap to share, builds the DNS client on first use and keeps its cache.
#[derive(Debug)]
pub struct Resolver {
    settings: ResolverSettings,
    dns: OnceCell<Dns>,
}

/// The DNS client with what resolv.conf says about using it.
#[derive(Debug)]
struct Dns {
    /// `None` without nameservers: only the hosts file answers.
    client: Option<TokioResolver>,
    search: Vec<Name>,
    ndots: usize,
    /// The longest one name may take when no nameserver answers.
    budget: Duration,
}

/// glibc's limits (resolv.h): `RES_MAXRETRANS`, `RES_MAXRETRY`, `MAXNS`.
const MAX_TIMEOUT_SECS: u64 = 30;
const MAX_ATTEMPTS: usize = 5;
const MAX_NAMESERVERS: usize = 3;

/// How long glibc waits for one name (its A and AAAA queries go out together) when no nameserver
/// answers: `attempts` rounds over the servers, the first server waited for `timeout` seconds and
/// server `i > 0` for `(timeout << i) / n` (res_send.c's `send_dg`), each wait at least 1 s. With
/// the defaults (5 s, 2 attempts, one server) that is curl's 10 s before `Could not resolve host`.
pub fn query_budget(timeout_secs: u64, attempts: usize, servers: usize) -> Duration {
    let timeout = timeout_secs.clamp(1, MAX_TIMEOUT_SECS);
    let servers = servers.clamp(1, MAX_NAMESERVERS);
    let round: u64 = (0..servers)
        .map(|i| {
            if i == 0 {
                timeout
            } else {
                ((timeout << i) / servers as u64).max(1)
            }
        })
        .sum();
    Duration::from_secs(round * attempts.clamp(1, MAX_ATTEMPTS) as u64)
}

impl Resolver {
    pub fn new(settings: ResolverSettings) -> Self {
        Resolver {
            settings,
            dns: OnceCell::new(),
        }
    }

    pub fn settings(&self) -> &ResolverSettings {
        &self.settings
    }

    /// The socket addresses for `host:port`, in the order to try them.
    ///
    /// Names are tried in glibc's order (`res_nsearch`): as given first when it has `ndots`
    /// dots or more, then with each search domain, then as given if not tried yet. A name that
    /// does not exist moves on to the next; a name no nameserver answered for ends the search
    /// list (glibc's `TRY_AGAIN`), so an unanswering DNS costs one budget in the list and one
    /// for the name as given, not one per search domain.
    pub async fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, ResolveError> {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        if bare.eq_ignore_ascii_case("localhost") || bare.eq_ignore_ascii_case("localhost.") {
            return Ok(vec![
                SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port),
                SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), port),
            ]);
        }
        let dns = self.dns().await?;
        let hosts = read_hosts(&self.settings.hosts);
        for candidate in candidates(bare, &dns.search, dns.ndots) {
            let ips: Vec<SocketAddr> = hosts
                .iter()
                .filter(|(name, _)| name.eq_ignore_ascii_case(&candidate))
                .map(|(_, ip)| SocketAddr::new(*ip, port))
                .collect();
            if !ips.is_empty() {
                return Ok(ips);
            }
        }
        let Some(client) = &dns.client else {
            return Err(not_found(host, "not in the hosts file, and no nameserver"));
        };
        let mut last = None;
        let mut tried_as_is = false;
        let as_is_first = bare.ends_with('.') || bare.matches('.').count() >= dns.ndots;
        if as_is_first {
            tried_as_is = true;
            match self.query(client, dns, host, bare).await {
                Ok(ips) => return Ok(with_port(ips, port)),
                // A trailing dot means: this name only.
                Err(e) if bare.ends_with('.') => return Err(e.into_error()),
                Err(e) => last = Some(e),
            }
        }
        for domain in &dns.search {
            let name = format!("{bare}.{}", domain.to_string().trim_end_matches('.'));
            match self.query(client, dns, host, &name).await {
                Ok(ips) => return Ok(with_port(ips, port)),
                Err(e) => {
                    let stop = !e.no_such_name;
                    last = Some(e);
                    if stop {
                        break;
                    }
                }
            }
        }
        if !tried_as_is {
            match self.query(client, dns, host, bare).await {
                Ok(ips) => return Ok(with_port(ips, port)),
                Err(e) => last = Some(e),
            }
        }
        Err(last.map_or_else(|| not_found(host, "no address"), Lookup::into_error))
    }

    /// One name (absolute: the search list is applied by [`Resolver::resolve`]), within the
    /// budget. `host` is what the caller asked for, for the error.
    async fn query(
        &self,
        client: &TokioResolver,
        dns: &Dns,
        host: &str,
        name: &str,
    ) -> Result<Vec<IpAddr>, Lookup> {
        let fqdn = format!("{}.", name.trim_end_matches('.'));
        match tokio::time::timeout(dns.budget, client.lookup_ip(fqdn)).await {
            Ok(Ok(lookup)) => {
                let ips: Vec<IpAddr> = lookup.iter().collect();
                if ips.is_empty() {
                    Err(Lookup {
                        error: not_found(host, "no address"),
                        no_such_name: true,
                    })
                } else {
                    Ok(ips)
                }
            }
            // hickory's own per-query timeout can end the wait before the budget does.
            Ok(Err(e))
                if e.proto().is_some_and(|p| {
                    matches!(p.kind(), hickory_resolver::proto::ProtoErrorKind::Timeout)
                }) =>
            {
                Err(Lookup {
                    error: ResolveError::NoAnswer {
                        host: host.to_string(),
                        budget: dns.budget,
                    },
                    no_such_name: false,
                })
            }
            Ok(Err(e)) => Err(Lookup {
                no_such_name: e.is_no_records_found(),
                error: not_found(host, &e.to_string()),
            }),
            Err(_) => Err(Lookup {
                error: ResolveError::NoAnswer {
                    host: host.to_string(),
                    budget: dns.budget,
                },
                no_such_name: false,
            }),
        }
    }

    async fn dns(&self) -> Result<&Dns, ResolveError> {
        self.dns
            .get_or_try_init(|| async {
                let path = &self.settings.resolv_conf;
                let config_error = |source| ResolveError::Config {
                    path: path.display().to_string(),
                    source,
                };
                // A missing resolv.conf leaves only the hosts file.
                let data = match std::fs::read(path) {
                    Ok(d) => d,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
                    Err(source) => return Err(config_error(source)),
                };
                // Without nameservers only the hosts file answers (hickory refuses such a file).
                let has_servers = String::from_utf8_lossy(&data)
                    .lines()
                    .any(|l| l.trim_start().starts_with("nameserver"));
                let (parsed, mut opts) = if has_servers {
                    hickory_resolver::system_conf::parse_resolv_conf(&data).map_err(|e| {
                        config_error(std::io::Error::new(
                            std::io::ErrorKind::InvalidData,
                            e.to_string(),
                        ))
                    })?
                } else {
                    let search = search_without_servers(&data);
                    (
                        ResolverConfig::from_parts(None, search, Vec::<NameServerConfig>::new()),
                        ResolverOpts::default(),
                    )
                };
                let servers: Vec<NameServerConfig> = parsed
                    .name_servers()
                    .iter()
                    .cloned()
                    .map(|mut ns| {
                        if let Some(port) = self.settings.dns_port {
                            ns.socket_addr.set_port(port);
                        }
                        ns
                    })
                    .collect();
                // hickory lists each server once per protocol (UDP, TCP); glibc counts servers.
                let mut distinct: Vec<IpAddr> =
                    servers.iter().map(|s| s.socket_addr.ip()).collect();
                distinct.dedup();
                let attempts = opts.attempts.clamp(1, MAX_ATTEMPTS);
                let budget = query_budget(opts.timeout.as_secs(), attempts, distinct.len());
                let search = parsed.search().to_vec();
                let ndots = opts.ndots;
                let client = (!servers.is_empty()).then(|| {
                    let config = ResolverConfig::from_parts(None, Vec::new(), servers);
                    // The hosts file is read here, from the configurable path, not by hickory.
                    opts.use_hosts_file = ResolveHosts::Never;
                    // Names arrive absolute; the search list is applied in `resolve`.
                    opts.ndots = 0;
                    // glibc sends A and AAAA together and waits for both.
                    opts.ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
                    opts.timeout = opts.timeout.clamp(
                        Duration::from_secs(1),
                        Duration::from_secs(MAX_TIMEOUT_SECS),
                    );
                    // hickory counts retries after the first try; resolv.conf counts tries.
                    opts.attempts = attempts - 1;
                    Hickory::builder_with_config(config, TokioConnectionProvider::default())
                        .with_options(opts)
                        .build()
                });
                Ok(Dns {
                    client,
                    search,
                    ndots,
                    budget,
                })
            })
            .await
    }
}

/// A failed lookup of one name, and whether the name does not exist (the search goes on) or
/// nobody said (it stops).
struct Lookup {
    error: ResolveError,
    no_such_name: bool,
}

impl Lookup {
    fn into_error(self) -> ResolveError {
        self.error
    }
}

fn with_port(ips: Vec<IpAddr>, port: u16) -> Vec<SocketAddr> {
    ips.into_iter()
        .map(|ip| SocketAddr::new(ip, port))
        .collect()
}

/// The search domains of a resolv.conf without nameservers (only the hosts file answers, but
/// with the names the search list makes).
fn search_without_servers(data: &[u8]) -> Vec<Name> {
    let text = String::from_utf8_lossy(data);
    let mut search = Vec::new();
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        if let Some("search" | "domain") = fields.next() {
            // As in glibc, the last `search` or `domain` line wins.
            search = fields
                .filter_map(|d| Name::from_str_relaxed(d).ok())
                .collect();
        }
    }
    search
}

fn not_found(host: &str, reason: &str) -> ResolveError {
    ResolveError::NotFound {
        host: host.to_string(),
        reason: reason.to_string(),
    }
}

/// The names to try, in resolv.conf's order: with fewer dots than `ndots` the search domains
/// come first (Kubernetes' `ndots:5` makes `estrela-da-morte` try
/// `estrela-da-morte.default.svc.cluster.local` first).
fn candidates(host: &str, search: &[Name], ndots: usize) -> Vec<String> {
    if let Some(absolute) = host.strip_suffix('.') {
        return vec![absolute.to_string()];
    }
    let searched = search.iter().map(|d| {
        let d = d.to_string();
        format!("{host}.{}", d.trim_end_matches('.'))
    });
    if host.matches('.').count() >= ndots {
        std::iter::once(host.to_string()).chain(searched).collect()
    } else {
        searched.chain(std::iter::once(host.to_string())).collect()
    }
}

/// `(name, ip)` pairs of a hosts file; an unreadable file is an empty one, as for libc.
fn read_hosts(path: &std::path::Path) -> Vec<(String, IpAddr)> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        let mut fields = line.split_whitespace();
        let Some(ip) = fields.next().and_then(|f| f.parse::<IpAddr>().ok()) else {
            continue;
        };
        out.extend(fields.map(|name| (name.trim_end_matches('.').to_string(), ip)));
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn search_domains_come_first_below_ndots() {
        let search: Vec<Name> = ["default.svc.cluster.local.", "svc.cluster.local."]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!(
            candidates("estrela-da-morte", &search, 5),
            [
                "estrela-da-morte.default.svc.cluster.local",
                "estrela-da-morte.svc.cluster.local",
                "estrela-da-morte"
            ]
        );
        assert_eq!(candidates("a.b.", &search, 5), ["a.b"]);
        assert_eq!(candidates("a.b", &search, 1)[0], "a.b");
    }

    #[test]
    fn budget_is_glibcs() {
        // resolv.conf's defaults and one server: curl gives up after 10 s.
        assert_eq!(query_budget(5, 2, 1), Duration::from_secs(10));
        assert_eq!(query_budget(1, 1, 1), Duration::from_secs(1));
        // Two servers: 5 s for the first, (5 << 1) / 2 for the second, twice.
        assert_eq!(query_budget(5, 2, 2), Duration::from_secs(20));
        // glibc's caps: 30 s, 5 attempts, 3 servers; and at least 1 s.
        assert_eq!(query_budget(99, 9, 1), Duration::from_secs(150));
        assert_eq!(query_budget(0, 0, 0), Duration::from_secs(1));
    }
}
