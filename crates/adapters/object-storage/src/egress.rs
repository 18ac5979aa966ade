//! Which addresses HTTP(S) dataset sources may reach: [`EgressPolicy`], the check of a host
//! against it, and the DNS resolver that applies it at connect time.
//!
//! A dataset URL is chosen by a user, yet fetched by the server; without a policy it reaches the
//! server's own loopback, its private network and the cloud's metadata service (server-side
//! request forgery). So, unless the operator allows more:
//! - a host that is an IP literal is checked before any request is made (reqwest does not pass
//!   literals through its resolver), after the `url` crate has normalised its spellings
//!   (`2130706433`, `0x7f.0.0.1` and `127.1` all become `127.0.0.1`);
//! - a host name is resolved by [`EgressResolver`], reqwest's resolver, which refuses the name
//!   when *any* of its addresses is refused: the addresses connected to are the ones checked, so
//!   a name that resolves differently the second time (DNS rebinding) is caught;
//! - the names of metadata services are refused before they are resolved;
//! - a redirect's target is checked in the same way ([`EgressPolicy::check_url`]).
//!
//! Refusal happens before a connection is attempted, so a refused address answers the same
//! whether or not something listens there. Endpoints an operator registers (S3 storages, the
//! `MINIO_*` endpoint, results) are trusted and not subject to the policy.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use ipnet::IpNet;
use url::Host;

/// Host names of cloud instance metadata services, refused by name whatever they resolve to: a
/// resolver we do not control (a cluster's, a VPC's) may map them to an address an operator
/// allowed for other reasons.
const REFUSED_NAMES: [&str; 5] =
    ["metadata", "metadata.google.internal", "metadata.goog", "instance-data", "instance-data.ec2.internal"];

/// Which addresses user-supplied HTTP(S) dataset sources may reach.
///
/// The default refuses every address that is not a public unicast one: loopback, unspecified,
/// private (RFC 1918), shared (CGNAT, `100.64.0.0/10`), link-local (which holds the metadata
/// address `169.254.169.254`), unique-local (`fc00::/7`, holding `fd00:ec2::254`), multicast,
/// broadcast and reserved ranges, and every IPv6 form that embeds such an IPv4 address
/// (IPv4-mapped `::ffff:127.0.0.1`, IPv4-compatible, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`).
/// Operators allow more with [`EgressPolicy::new`]: address ranges, and host names trusted
/// whatever they resolve to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EgressPolicy {
    /// Address ranges allowed even though they are not public.
    allow_cidrs: Vec<IpNet>,
    /// Host names (lowercase, without a trailing dot) allowed whatever they resolve to; an entry
    /// starting with `*.` allows every subdomain of the rest.
    allow_hosts: Vec<String>,
}

/// An allow-list entry that is neither a CIDR nor an address, or a host that is not a name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidEgressPolicy(String);

/// A host refused by the policy. Its message names the host only: neither the addresses it
/// resolved to nor the reason, which would tell a caller about the network behind the server.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("host `{host}` is not allowed by the egress policy")]
pub(crate) struct EgressRefused {
    /// The host as the URL names it.
    pub(crate) host: String,
}

/// What the policy says about a host before it is resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HostVerdict {
    /// Allowed without looking at addresses: an allowed IP literal, or a name the operator trusts.
    Allowed,
    /// A name whose addresses are checked when it is resolved.
    CheckAddresses,
}

impl EgressPolicy {
    /// The default policy, plus the operator's allowances: `allow_cidrs` are CIDRs
    /// (`10.0.0.0/8`, `fd12::/16`) or single addresses; `allow_hosts` are host names, or
    /// `*.example.org` for every subdomain of `example.org`. An allowed CIDR also allows the
    /// IPv6 forms that embed its IPv4 addresses.
    ///
    /// # Errors
    /// An entry that does not parse, naming it; an address given as a host (use `allow_cidrs`).
    pub fn new<C, H>(allow_cidrs: C, allow_hosts: H) -> Result<Self, InvalidEgressPolicy>
    where
        C: IntoIterator,
        C::Item: AsRef<str>,
        H: IntoIterator,
        H::Item: AsRef<str>,
    {
        let allow_cidrs = allow_cidrs
            .into_iter()
            .map(|entry| {
                let entry = entry.as_ref().trim();
                entry
                    .parse::<IpNet>()
                    .map(|net| net.trunc())
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        InvalidEgressPolicy(format!("`{entry}` is not a CIDR (such as 10.0.0.0/8) or an address"))
                    })
            })
            .collect::<Result<_, _>>()?;
        let allow_hosts = allow_hosts
            .into_iter()
            .map(|entry| {
                let entry = normalise(entry.as_ref().trim());
                let name = entry.strip_prefix("*.").unwrap_or(&entry);
                if name.parse::<IpAddr>().is_ok() || name.trim_matches(['[', ']']).parse::<Ipv6Addr>().is_ok() {
                    return Err(InvalidEgressPolicy(format!("`{entry}` is an address; allow it with a CIDR instead")));
                }
                if name.is_empty() || name.contains(['/', ':', '*', ' ', '@']) {
                    return Err(InvalidEgressPolicy(format!("`{entry}` is not a host name")));
                }
                Ok(entry)
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { allow_cidrs, allow_hosts })
    }

    /// Whether connecting to `ip` is allowed.
    pub fn allows_ip(&self, ip: IpAddr) -> bool {
        let embedded = embedded_ipv4(ip).map(IpAddr::V4);
        let candidates = [Some(ip), embedded];
        if candidates.iter().flatten().any(|ip| self.allow_cidrs.iter().any(|net| net.contains(ip))) {
            return true;
        }
        match ip {
            IpAddr::V4(v4) => is_public_v4(v4),
            IpAddr::V6(v6) => is_public_v6(v6),
        }
    }

    /// What the policy says about `host` before resolution: an IP literal is decided here; a
    /// name is allowed when the operator trusts it, refused when it names a metadata service,
    /// and otherwise left to the resolver.
    ///
    /// # Errors
    /// [`EgressRefused`] naming the host.
    pub(crate) fn check_host(&self, host: &Host<&str>) -> Result<HostVerdict, EgressRefused> {
        let refused = || EgressRefused { host: host.to_string() };
        match host {
            Host::Ipv4(ip) => self.allows_ip(IpAddr::V4(*ip)).then_some(HostVerdict::Allowed).ok_or_else(refused),
            Host::Ipv6(ip) => self.allows_ip(IpAddr::V6(*ip)).then_some(HostVerdict::Allowed).ok_or_else(refused),
            Host::Domain(name) => self.check_name(name).map_err(|()| refused()),
        }
    }

    /// [`check_host`](Self::check_host) for the host of `url`; a URL without a host is refused.
    ///
    /// # Errors
    /// [`EgressRefused`] naming the host.
    pub(crate) fn check_url(&self, url: &url::Url) -> Result<HostVerdict, EgressRefused> {
        match url.host() {
            Some(host) => self.check_host(&host),
            None => Err(EgressRefused { host: String::new() }),
        }
    }

    /// The verdict on a host name (not an IP literal).
    fn check_name(&self, name: &str) -> Result<HostVerdict, ()> {
        let name = normalise(name);
        if self.trusts(&name) {
            return Ok(HostVerdict::Allowed);
        }
        // A name that is an address in some spelling the `url` crate left alone (it normalises
        // every IPv4 spelling of a special scheme, so this is a second line only).
        if let Ok(ip) = name.trim_matches(['[', ']']).parse::<IpAddr>() {
            return if self.allows_ip(ip) { Ok(HostVerdict::Allowed) } else { Err(()) };
        }
        if REFUSED_NAMES.contains(&name.as_str()) {
            return Err(());
        }
        Ok(HostVerdict::CheckAddresses)
    }

    /// Whether the operator allowed the (normalised) name.
    fn trusts(&self, name: &str) -> bool {
        self.allow_hosts.iter().any(|allowed| match allowed.strip_prefix("*.") {
            Some(parent) => name.strip_suffix(parent).is_some_and(|sub| sub.ends_with('.') && sub.len() > 1),
            None => allowed == name,
        })
    }
}

/// A host name in lowercase without its trailing dot (`Example.ORG.` is `example.org`).
fn normalise(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// The IPv4 address an IPv6 address stands for or embeds: IPv4-mapped (`::ffff:a.b.c.d`),
/// IPv4-compatible (`::a.b.c.d`, but not `::` and `::1`), NAT64 (`64:ff9b::a.b.c.d`) and 6to4
/// (`2002:aabb:ccdd::/48`).
fn embedded_ipv4(ip: IpAddr) -> Option<Ipv4Addr> {
    let IpAddr::V6(v6) = ip else { return None };
    if let Some(v4) = v6.to_ipv4_mapped() {
        return Some(v4);
    }
    let segments = v6.segments();
    let octets = v6.octets();
    let last_four = Ipv4Addr::new(octets[12], octets[13], octets[14], octets[15]);
    if segments[..6] == [0; 6] && !v6.is_unspecified() && !v6.is_loopback() {
        return Some(last_four);
    }
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some(last_four);
    }
    if segments[0] == 0x2002 {
        return Some(Ipv4Addr::new(octets[2], octets[3], octets[4], octets[5]));
    }
    None
}

/// Whether an IPv4 address is public unicast: none of loopback, "this network" (`0.0.0.0/8`),
/// private, shared (CGNAT), link-local, IETF protocol assignments (`192.0.0.0/24`),
/// documentation, benchmarking (`198.18.0.0/15`), multicast, reserved (`240.0.0.0/4`) or
/// broadcast.
fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let refused = ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (b & 0xc0) == 64)
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b & 0xfe) == 18)
        || a >= 240;
    !refused
}

/// Whether an IPv6 address is public unicast: none of unspecified, loopback, unique-local
/// (`fc00::/7`), link-local (`fe80::/10`), site-local (`fec0::/10`), multicast, discard-only
/// (`100::/64`), documentation (`2001:db8::/32`), Teredo (`2001::/32`, whose IPv4 address is
/// obfuscated), local-use NAT64 (`64:ff9b:1::/48`), and an embedded IPv4 address that is not
/// public itself.
fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_ipv4(IpAddr::V6(ip)) {
        return is_public_v4(v4);
    }
    let segments = ip.segments();
    let refused = ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (segments[0] & 0xfe00) == 0xfc00
        || (segments[0] & 0xffc0) == 0xfe80
        || (segments[0] & 0xffc0) == 0xfec0
        || segments[..4] == [0x100, 0, 0, 0]
        || segments[..2] == [0x2001, 0xdb8]
        || segments[..2] == [0x2001, 0]
        || segments[..3] == [0x64, 0xff9b, 1];
    !refused
}

/// reqwest's resolver for HTTP(S) dataset sources: resolves with the system resolver and refuses
/// a name any of whose addresses the policy refuses, so the addresses connected to are the ones
/// checked.
#[derive(Debug, Clone)]
pub(crate) struct EgressResolver {
    /// The policy applied.
    pub(crate) policy: Arc<EgressPolicy>,
}

impl EgressResolver {
    /// The addresses of `name` (port 0: reqwest sets the URL's), when the policy allows them all.
    ///
    /// # Errors
    /// [`EgressRefused`] when the name or any of its addresses is refused; the resolver's error
    /// when the name does not resolve.
    pub(crate) async fn resolve_checked(
        policy: &EgressPolicy,
        name: &str,
    ) -> Result<Vec<std::net::SocketAddr>, Box<dyn std::error::Error + Send + Sync>> {
        let refused = || Box::new(EgressRefused { host: name.to_owned() });
        let verdict = policy.check_name(name).map_err(|()| refused())?;
        let addresses: Vec<_> = tokio::net::lookup_host((name, 0)).await?.collect();
        if verdict == HostVerdict::CheckAddresses && addresses.iter().any(|address| !policy.allows_ip(address.ip())) {
            return Err(refused());
        }
        Ok(addresses)
    }
}

impl reqwest::dns::Resolve for EgressResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = Arc::clone(&self.policy);
        Box::pin(async move {
            let addresses = Self::resolve_checked(&policy, name.as_str()).await?;
            let addresses: reqwest::dns::Addrs = Box::new(addresses.into_iter());
            Ok(addresses)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url_allowed(policy: &EgressPolicy, url: &str) -> Result<HostVerdict, EgressRefused> {
        policy.check_url(&url::Url::parse(url).unwrap())
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn every_spelling_of_a_local_or_metadata_address_is_refused_by_default() {
        let policy = EgressPolicy::default();
        for url in [
            "http://127.0.0.1:9/x.parquet",
            "http://127.1/x.parquet",
            "http://2130706433/x.parquet",
            "http://0x7f.0.0.1/x.parquet",
            "http://0177.0.0.1/x.parquet",
            "http://0x7f000001/x.parquet",
            "http://[::1]/x.parquet",
            "http://[::ffff:127.0.0.1]/x.parquet",
            "http://[::ffff:7f00:1]/x.parquet",
            "http://[::127.0.0.1]/x.parquet",
            "http://[64:ff9b::7f00:1]/x.parquet",
            "http://[64:ff9b::a9fe:a9fe]/x.parquet",
            "http://[2002:7f00:1::]/x.parquet",
            "http://0.0.0.0/x.parquet",
            "http://0/x.parquet",
            "http://[::]/x.parquet",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::ffff:169.254.169.254]/x",
            "http://[fd00:ec2::254]/x",
            "http://10.1.2.3/x",
            "http://172.16.0.1/x",
            "http://192.168.1.1/x",
            "http://100.100.100.200/x",
            "http://[fe80::1]/x",
            "http://[fc00::1]/x",
            "http://224.0.0.1/x",
            "http://255.255.255.255/x",
            "http://metadata/x",
            "http://metadata.google.internal/computeMetadata/v1/",
            "http://Metadata.Google.Internal./x",
        ] {
            let error = url_allowed(&policy, url).expect_err(url);
            assert!(error.to_string().ends_with("is not allowed by the egress policy"), "{url}: {error}");
        }
    }

    #[test]
    fn public_addresses_are_allowed_and_names_are_left_to_the_resolver() {
        let policy = EgressPolicy::default();
        for url in ["http://8.8.8.8/x", "https://[2606:4700::1111]/x", "http://[::ffff:8.8.8.8]/x"] {
            assert_eq!(url_allowed(&policy, url), Ok(HostVerdict::Allowed), "{url}");
        }
        assert_eq!(url_allowed(&policy, "https://example.org/x"), Ok(HostVerdict::CheckAddresses));
    }

    #[test]
    fn the_refusal_names_the_host_as_written_in_the_url() {
        let error = url_allowed(&EgressPolicy::default(), "http://2130706433:8080/x").unwrap_err();
        assert_eq!(error.to_string(), "host `127.0.0.1` is not allowed by the egress policy");
    }

    #[test]
    fn allowed_cidrs_let_their_addresses_through_in_every_form() {
        let policy = EgressPolicy::new(["127.0.0.1/32", "10.0.0.0/8", "fd12::/16", "192.168.1.7"], [""; 0]).unwrap();
        for allowed in ["127.0.0.1", "::ffff:127.0.0.1", "10.200.0.1", "fd12::5", "192.168.1.7"] {
            assert!(policy.allows_ip(ip(allowed)), "{allowed}");
        }
        for refused in ["127.0.0.2", "192.168.1.8", "fd13::1", "169.254.169.254"] {
            assert!(!policy.allows_ip(ip(refused)), "{refused}");
        }
    }

    #[test]
    fn allowed_hosts_are_trusted_whatever_they_resolve_to() {
        let policy = EgressPolicy::new([""; 0], ["datasets.internal.", "*.Corp.Example"]).unwrap();
        for url in ["http://datasets.internal/x", "http://a.corp.example/x", "http://b.a.corp.example/x"] {
            assert_eq!(url_allowed(&policy, url), Ok(HostVerdict::Allowed), "{url}");
        }
        assert_eq!(url_allowed(&policy, "http://corp.example/x"), Ok(HostVerdict::CheckAddresses));
        assert_eq!(url_allowed(&policy, "http://evilcorp.example/x"), Ok(HostVerdict::CheckAddresses));
        let localhost = EgressPolicy::new([""; 0], ["localhost"]).unwrap();
        assert_eq!(url_allowed(&localhost, "http://localhost:8000/x"), Ok(HostVerdict::Allowed));
    }

    #[test]
    fn invalid_allowances_are_named() {
        let error = EgressPolicy::new(["10.0.0.0/33"], [""; 0]).unwrap_err();
        assert!(error.to_string().contains("10.0.0.0/33"), "{error}");
        let error = EgressPolicy::new([""; 0], ["127.0.0.1"]).unwrap_err();
        assert!(error.to_string().contains("CIDR"), "{error}");
        assert!(EgressPolicy::new([""; 0], ["http://x/"]).is_err());
    }

    #[tokio::test]
    async fn names_resolving_to_refused_addresses_are_refused_by_the_resolver() {
        let policy = EgressPolicy::default();
        for name in ["localhost", "metadata.google.internal"] {
            let error = EgressResolver::resolve_checked(&policy, name).await.unwrap_err();
            assert_eq!(error.to_string(), format!("host `{name}` is not allowed by the egress policy"));
        }
        // Every address of the name must be allowed (localhost is 127.0.0.1 and often ::1 too).
        let loopback = EgressPolicy::new(["127.0.0.0/8", "::1/128"], [""; 0]).unwrap();
        assert!(!EgressResolver::resolve_checked(&loopback, "localhost").await.unwrap().is_empty());
        let trusted = EgressPolicy::new([""; 0], ["localhost"]).unwrap();
        assert!(!EgressResolver::resolve_checked(&trusted, "localhost").await.unwrap().is_empty());
        let metadata = EgressPolicy::new(["169.254.0.0/16"], [""; 0]).unwrap();
        assert!(EgressResolver::resolve_checked(&metadata, "metadata").await.is_err(), "refused by name");
    }
}
