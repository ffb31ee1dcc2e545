//! Name resolution that works in a `FROM scratch` image: no libc resolver, so this reads
//! resolv.conf (search domains, `ndots`) and the hosts file itself and asks the nameservers with
//! hickory. IP literals and `localhost` never touch either file.
//!
//! The file paths (and the nameservers' port) can be overridden through the environment so that
//! tests can point a ship at files they wrote and at a DNS responder on a loopback port.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;

use hickory_resolver::config::{NameServerConfig, ResolveHosts, ResolverConfig};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::{Resolver as Hickory, TokioResolver};
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
    dns: OnceCell<(TokioResolver, ResolverConfig, usize)>,
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
        let (dns, config, ndots) = self.dns().await?;
        let hosts = read_hosts(&self.settings.hosts);
        for candidate in candidates(bare, config.search(), *ndots) {
            let ips: Vec<SocketAddr> = hosts
                .iter()
                .filter(|(name, _)| name.eq_ignore_ascii_case(&candidate))
                .map(|(_, ip)| SocketAddr::new(*ip, port))
                .collect();
            if !ips.is_empty() {
                return Ok(ips);
            }
        }
        match dns.lookup_ip(bare).await {
            Ok(lookup) => {
                let ips: Vec<SocketAddr> =
                    lookup.iter().map(|ip| SocketAddr::new(ip, port)).collect();
                if ips.is_empty() {
                    Err(not_found(host, "no address"))
                } else {
                    Ok(ips)
                }
            }
            Err(e) => Err(not_found(host, &e.to_string())),
        }
    }

    async fn dns(&self) -> Result<&(TokioResolver, ResolverConfig, usize), ResolveError> {
        self.dns
            .get_or_try_init(|| async {
                let path = &self.settings.resolv_conf;
                // A missing resolv.conf leaves only the hosts file; hickory then has no servers.
                let data = match std::fs::read(path) {
                    Ok(d) => d,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
                    Err(source) => {
                        return Err(ResolveError::Config {
                            path: path.display().to_string(),
                            source,
                        });
                    }
                };
                // Without nameservers only the hosts file answers (hickory refuses such a file).
                let has_servers = String::from_utf8_lossy(&data)
                    .lines()
                    .any(|l| l.trim_start().starts_with("nameserver"));
                let (parsed, mut opts) = if has_servers {
                    hickory_resolver::system_conf::parse_resolv_conf(&data).map_err(|e| {
                        ResolveError::Config {
                            path: path.display().to_string(),
                            source: std::io::Error::new(
                                std::io::ErrorKind::InvalidData,
                                e.to_string(),
                            ),
                        }
                    })?
                } else {
                    (
                        ResolverConfig::from_parts(
                            None,
                            Vec::new(),
                            Vec::<NameServerConfig>::new(),
                        ),
                        hickory_resolver::config::ResolverOpts::default(),
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
                let config = ResolverConfig::from_parts(
                    parsed.domain().cloned(),
                    parsed.search().to_vec(),
                    servers,
                );
                // The hosts file is read here, from the configurable path, not by hickory.
                opts.use_hosts_file = ResolveHosts::Never;
                opts.attempts = 2;
                let ndots = opts.ndots;
                let resolver = Hickory::builder_with_config(
                    config.clone(),
                    TokioConnectionProvider::default(),
                )
                .with_options(opts)
                .build();
                Ok((resolver, config, ndots))
            })
            .await
    }
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
fn candidates(host: &str, search: &[hickory_resolver::Name], ndots: usize) -> Vec<String> {
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
        let search: Vec<hickory_resolver::Name> =
            ["default.svc.cluster.local.", "svc.cluster.local."]
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
}
