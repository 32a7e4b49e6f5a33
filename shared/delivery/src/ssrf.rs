//! The guard against server-side request forgery: which addresses a bot's endpoint may live
//! at, checked on IP literals in the URL and on every address DNS returns, at connect time.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// Which addresses outgoing requests may connect to: global ones, plus what is opened here.
#[derive(Debug, Clone, Default)]
pub struct AddressPolicy {
    /// Opens every non-global unicast address (loopback, private, link-local, …), for local
    /// development and tests. Multicast, broadcast and unspecified addresses stay refused.
    pub allow_all_private: bool,
    /// Subnets opened explicitly, as (network, prefix length) pairs.
    pub allowed: Vec<(IpAddr, u8)>,
}

impl AddressPolicy {
    /// Parses "10.0.0.0/8,fd00::/8" style allow-lists; an address without a prefix length opens
    /// just itself, and empty entries are ignored.
    ///
    /// # Errors
    /// A message naming the entry that is not an address or has an impossible prefix length.
    pub fn with_allow_list(list: &str) -> Result<Self, String> {
        let allowed = list.split(',').map(str::trim).filter(|entry| !entry.is_empty()).map(parse_subnet);
        Ok(Self { allow_all_private: false, allowed: allowed.collect::<Result<_, _>>()? })
    }

    /// Whether connecting to `ip` is allowed: global unicast addresses, or ones the allow-list
    /// (or `allow_all_private`) opens. Refused: loopback, private (RFC 1918), link-local
    /// (169.254.169.254 included), CGNAT 100.64/10, unique-local fc00::/7, IPv6 link-local
    /// fe80::/10, unspecified, broadcast, multicast, the documentation ranges, 0.0.0.0/8,
    /// 192.0.0.0/24, benchmarking 198.18/15, reserved 240/4, everything outside 2000::/3 in IPv6,
    /// and the IPv4-mapped, IPv4-compatible, NAT64 (64:ff9b::/96) and 6to4 forms of any refused
    /// IPv4 address.
    #[must_use]
    pub fn is_allowed(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        if self.allowed.iter().any(|&(network, prefix)| in_subnet(ip, network, prefix)) {
            return true;
        }
        if self.allow_all_private && is_unicast(ip) {
            return true;
        }
        match ip {
            IpAddr::V4(v4) => is_global_v4(v4),
            IpAddr::V6(v6) => is_global_v6(v6),
        }
    }

    /// Refuses a URL whose host is an IP literal that is not allowed (DNS names are checked by
    /// the resolver at connect time).
    ///
    /// # Errors
    /// [`SsrfError::Refused`] with the literal address.
    pub fn check_url(&self, url: &Url) -> Result<(), SsrfError> {
        let ip = match url.host() {
            Some(Host::Ipv4(v4)) => IpAddr::V4(v4),
            Some(Host::Ipv6(v6)) => IpAddr::V6(v6),
            Some(Host::Domain(_)) | None => return Ok(()),
        };
        if self.is_allowed(ip) { Ok(()) } else { Err(SsrfError::Refused(ip)) }
    }
}

/// Why a request was not sent.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum SsrfError {
    #[error("the endpoint's address {0} is not allowed (private, loopback or otherwise not global)")]
    Refused(IpAddr),
    #[error("the endpoint's host {0} resolves to no allowed address")]
    NoAllowedAddress(String),
}

/// A future that resolves a host name to its addresses.
pub type LookupFuture = Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send>>;

/// How [`GuardedResolver`] turns a host name into addresses, before the policy filters them.
/// [`SystemLookup`] is the one used in production; tests substitute answers the system resolver
/// cannot be made to give, such as a name whose address changes between lookups.
pub trait Lookup: Send + Sync {
    /// Every address `host` resolves to, unfiltered.
    fn lookup(&self, host: &str) -> LookupFuture;
}

/// The system resolver (`getaddrinfo`, through [`tokio::net::lookup_host`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemLookup;

impl Lookup for SystemLookup {
    fn lookup(&self, host: &str) -> LookupFuture {
        let host = host.to_owned();
        Box::pin(async move {
            let found = tokio::net::lookup_host((host.as_str(), 0)).await?;
            Ok(found.map(|addr| addr.ip()).collect())
        })
    }
}

/// A reqwest DNS resolver that resolves with a [`Lookup`] (the system resolver unless told
/// otherwise) and drops every address the policy refuses; if none remain it fails with
/// [`SsrfError::NoAllowedAddress`]. reqwest resolves again for every new connection and connects
/// only to the addresses returned here, so a name that rebinds to a private address after
/// passing once (DNS rebinding) is refused on the lookup that returns the private address.
pub struct GuardedResolver {
    policy: Arc<AddressPolicy>,
    lookup: Arc<dyn Lookup>,
}

impl GuardedResolver {
    /// A resolver that asks the system resolver and lets through only the addresses `policy`
    /// allows.
    #[must_use]
    pub fn new(policy: AddressPolicy) -> Self {
        Self::with_lookup(policy, Arc::new(SystemLookup))
    }

    /// A resolver that asks `lookup` and lets through only the addresses `policy` allows.
    #[must_use]
    pub fn with_lookup(policy: AddressPolicy, lookup: Arc<dyn Lookup>) -> Self {
        Self { policy: Arc::new(policy), lookup }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = Arc::clone(&self.policy);
        let host = name.as_str().to_owned();
        let found = self.lookup.lookup(&host);
        Box::pin(async move {
            let found = found.await?;
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|ip| policy.is_allowed(*ip))
                // The port is the URL's; reqwest sets it on every address returned.
                .map(|ip| SocketAddr::new(ip, 0))
                .collect();
            if allowed.is_empty() {
                tracing::warn!(host, "refused to connect: the host resolves to no allowed address");
                return Err(SsrfError::NoAllowedAddress(host).into());
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

fn parse_subnet(entry: &str) -> Result<(IpAddr, u8), String> {
    let bad = || format!("invalid subnet {entry:?} in the address allow-list");
    let (address, prefix) = match entry.split_once('/') {
        Some((address, prefix)) => (address, Some(prefix)),
        None => (entry, None),
    };
    let ip: IpAddr = address.trim().parse().map_err(|_| bad())?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix {
        Some(p) => p.trim().parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
        None => max,
    };
    Ok((ip.to_canonical(), prefix))
}

fn in_subnet(ip: IpAddr, network: IpAddr, prefix: u8) -> bool {
    match (ip, network) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

/// Whether `ip` can be a request's destination at all.
fn is_unicast(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => !(v4.is_unspecified() || v4.is_multicast() || v4.is_broadcast()),
        IpAddr::V6(v6) => !(v6.is_unspecified() || v6.is_multicast()),
    }
}

/// IPv4 ranges that are not reachable on the public internet, as (network, prefix length).
const NON_GLOBAL_V4: [([u8; 4], u8); 15] = [
    ([0, 0, 0, 0], 8),       // "this network"
    ([10, 0, 0, 0], 8),      // private
    ([100, 64, 0, 0], 10),   // carrier-grade NAT
    ([127, 0, 0, 0], 8),     // loopback
    ([169, 254, 0, 0], 16),  // link-local, cloud metadata
    ([172, 16, 0, 0], 12),   // private
    ([192, 0, 0, 0], 24),    // IETF protocol assignments
    ([192, 0, 2, 0], 24),    // documentation
    ([192, 88, 99, 0], 24),  // 6to4 relay anycast
    ([192, 168, 0, 0], 16),  // private
    ([198, 18, 0, 0], 15),   // benchmarking
    ([198, 51, 100, 0], 24), // documentation
    ([203, 0, 113, 0], 24),  // documentation
    ([224, 0, 0, 0], 4),     // multicast
    ([240, 0, 0, 0], 4),     // reserved, broadcast included
];

fn is_global_v4(ip: Ipv4Addr) -> bool {
    !NON_GLOBAL_V4.iter().any(|&(net, prefix)| in_subnet(IpAddr::V4(ip), IpAddr::V4(Ipv4Addr::from(net)), prefix))
}

fn is_global_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_v4(ip) {
        return is_global_v4(v4);
    }
    let s = ip.segments();
    let global_unicast = s[0] & 0xe000 == 0x2000; // 2000::/3
    let ietf_assignments = s[0] == 0x2001 && s[1] < 0x0200; // 2001::/23, Teredo included
    let documentation = (s[0] == 0x2001 && s[1] == 0x0db8) || (s[0] == 0x3fff && s[1] < 0x1000);
    global_unicast && !ietf_assignments && !documentation
}

/// The IPv4 address an IPv6 address stands for: IPv4-mapped (::ffff:0:0/96), IPv4-compatible
/// (::/96), NAT64 (64:ff9b::/96) and 6to4 (2002::/16).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let o = ip.octets();
    let low = Ipv4Addr::new(o[12], o[13], o[14], o[15]);
    match s {
        [0, 0, 0, 0, 0, 0xffff, _, _] | [0, 0, 0, 0, 0, 0, _, _] | [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(low),
        [0x2002, ..] => Some(Ipv4Addr::new(o[2], o[3], o[4], o[5])),
        _ => None,
    }
}

/// Answers a fixed list of addresses per call, in turn; the last list answers every call
/// after it. Counts the calls.
#[cfg(test)]
pub(crate) struct ScriptedLookup {
    answers: Vec<Vec<IpAddr>>,
    calls: std::sync::atomic::AtomicUsize,
}

#[cfg(test)]
impl ScriptedLookup {
    pub(crate) fn new(answers: &[&[&str]]) -> Arc<Self> {
        let answers = answers.iter().map(|call| call.iter().map(|a| a.parse().unwrap()).collect()).collect();
        Arc::new(Self { answers, calls: std::sync::atomic::AtomicUsize::new(0) })
    }

    pub(crate) fn calls(&self) -> usize {
        self.calls.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[cfg(test)]
impl Lookup for ScriptedLookup {
    fn lookup(&self, _host: &str) -> LookupFuture {
        let call = self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let answer = self.answers[call.min(self.answers.len() - 1)].clone();
        Box::pin(async move { Ok(answer) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn global_addresses_are_allowed() {
        let policy = AddressPolicy::default();
        for global in ["8.8.8.8", "1.1.1.1", "93.184.216.34", "100.128.0.1", "172.32.0.1", "2606:4700::1111"] {
            assert!(policy.is_allowed(ip(global)), "{global}");
        }
    }

    #[test]
    fn every_non_global_ipv4_range_is_refused() {
        let policy = AddressPolicy::default();
        for refused in [
            "0.0.0.0",
            "0.1.2.3",
            "10.1.2.3",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "127.255.0.9",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.10",
            "192.88.99.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
        ] {
            assert!(!policy.is_allowed(ip(refused)), "{refused}");
        }
    }

    #[test]
    fn every_non_global_ipv6_range_is_refused() {
        let policy = AddressPolicy::default();
        for refused in [
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
            "2001::1",
            "3fff::1",
            "100::1",
            "64:ff9b:1::1",
        ] {
            assert!(!policy.is_allowed(ip(refused)), "{refused}");
        }
    }

    #[test]
    fn ipv6_forms_of_refused_ipv4_addresses_are_refused() {
        let policy = AddressPolicy::default();
        for refused in
            ["::ffff:127.0.0.1", "::ffff:169.254.169.254", "::10.0.0.1", "64:ff9b::7f00:1", "2002:c0a8:101::1"]
        {
            assert!(!policy.is_allowed(ip(refused)), "{refused}");
        }
        for global in ["::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"] {
            assert!(policy.is_allowed(ip(global)), "{global}");
        }
    }

    #[test]
    fn the_allow_list_opens_its_subnets_only() {
        let policy = AddressPolicy::with_allow_list("10.0.0.0/8, fd00::/8,192.168.1.5").unwrap();
        assert!(policy.is_allowed(ip("10.1.2.3")));
        assert!(policy.is_allowed(ip("::ffff:10.1.2.3")));
        assert!(policy.is_allowed(ip("fd12::1")));
        assert!(policy.is_allowed(ip("192.168.1.5")));
        assert!(!policy.is_allowed(ip("192.168.1.6")));
        assert!(!policy.is_allowed(ip("127.0.0.1")));
        assert!(!policy.is_allowed(ip("fc00::1")));
    }

    #[test]
    fn allow_list_parsing_refuses_malformed_entries() {
        assert_eq!(AddressPolicy::with_allow_list("").unwrap().allowed, vec![]);
        assert_eq!(AddressPolicy::with_allow_list("0.0.0.0/0").unwrap().allowed, vec![(ip("0.0.0.0"), 0)]);
        for bad in ["10.0.0.0/33", "fd00::/129", "10.0.0/8", "example.com", "10.0.0.0/x", "10.0.0.0/8/8"] {
            assert!(AddressPolicy::with_allow_list(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn allow_all_private_opens_private_unicast_but_not_multicast() {
        let policy = AddressPolicy { allow_all_private: true, allowed: vec![] };
        assert!(policy.is_allowed(ip("127.0.0.1")));
        assert!(policy.is_allowed(ip("10.0.0.1")));
        assert!(policy.is_allowed(ip("::1")));
        assert!(!policy.is_allowed(ip("224.0.0.1")));
        assert!(!policy.is_allowed(ip("0.0.0.0")));
        assert!(!policy.is_allowed(ip("255.255.255.255")));
    }

    #[test]
    fn check_url_refuses_private_ip_literals() {
        let policy = AddressPolicy::default();
        assert_eq!(policy.check_url(&url("http://127.0.0.1:8080/")), Err(SsrfError::Refused(ip("127.0.0.1"))));
        assert_eq!(policy.check_url(&url("http://[::ffff:7f00:1]/")), Err(SsrfError::Refused(ip("::ffff:7f00:1"))));
        assert_eq!(
            policy.check_url(&url("http://169.254.169.254/latest/meta-data")),
            Err(SsrfError::Refused(ip("169.254.169.254")))
        );
        assert_eq!(policy.check_url(&url("http://0x7f000001/")), Err(SsrfError::Refused(ip("127.0.0.1"))));
    }

    #[test]
    fn check_url_refuses_every_spelling_of_a_refused_address() {
        let policy = AddressPolicy::default();
        for (spelled, address) in [
            ("http://2130706433/", "127.0.0.1"),
            ("http://0177.0.0.1/", "127.0.0.1"),
            ("http://0x7f.0.0.1/", "127.0.0.1"),
            ("http://127.1/", "127.0.0.1"),
            ("http://0/", "0.0.0.0"),
            ("http://0251.0376.0251.0376/", "169.254.169.254"),
            ("http://2852039166/", "169.254.169.254"),
            ("http://[::127.0.0.1]/", "::127.0.0.1"),
            ("http://[::ffff:a9fe:a9fe]/", "::ffff:169.254.169.254"),
            ("http://[0:0:0:0:0:ffff:10.0.0.1]/", "::ffff:10.0.0.1"),
        ] {
            assert_eq!(policy.check_url(&url(spelled)), Err(SsrfError::Refused(ip(address))), "{spelled}");
        }
    }

    #[test]
    fn check_url_leaves_names_to_the_resolver() {
        let policy = AddressPolicy::default();
        assert_eq!(policy.check_url(&url("https://8.8.8.8/hook")), Ok(()));
        assert_eq!(policy.check_url(&url("http://localhost:8080/")), Ok(()));
        assert_eq!(policy.check_url(&url("https://bots.example.com/hook")), Ok(()));
    }

    #[tokio::test]
    async fn the_resolver_refuses_a_name_that_resolves_to_loopback() {
        let resolver = GuardedResolver::new(AddressPolicy::default());
        let error = resolver.resolve("localhost".parse().unwrap()).await.err().expect("localhost is refused");
        let refusal = error.downcast_ref::<SsrfError>().expect("the refusal is the guard's");
        assert_eq!(refusal, &SsrfError::NoAllowedAddress("localhost".to_owned()));
    }

    #[tokio::test]
    async fn the_resolver_returns_addresses_the_policy_opens() {
        let resolver = GuardedResolver::new(AddressPolicy::with_allow_list("127.0.0.0/8").unwrap());
        let addrs: Vec<SocketAddr> = resolver.resolve("localhost".parse().unwrap()).await.unwrap().collect();
        assert!(!addrs.is_empty());
        assert!(addrs.iter().all(|addr| addr.ip().is_loopback() && addr.is_ipv4()), "{addrs:?}");
    }

    async fn resolve_with(resolver: &GuardedResolver, host: &str) -> Result<Vec<IpAddr>, SsrfError> {
        match resolver.resolve(host.parse().unwrap()).await {
            Ok(addrs) => Ok(addrs.map(|addr| addr.ip()).collect()),
            Err(error) => Err(error.downcast_ref::<SsrfError>().expect("the refusal is the guard's").clone()),
        }
    }

    #[tokio::test]
    async fn the_resolver_drops_the_refused_addresses_of_a_mixed_answer() {
        let lookup = ScriptedLookup::new(&[&["127.0.0.1", "93.184.216.34", "::1", "169.254.169.254"]]);
        let resolver = GuardedResolver::with_lookup(AddressPolicy::default(), lookup.clone());
        assert_eq!(resolve_with(&resolver, "mixed.example").await, Ok(vec![ip("93.184.216.34")]));
        assert_eq!(lookup.calls(), 1);
    }

    #[tokio::test]
    async fn a_name_that_rebinds_to_loopback_is_refused_on_the_lookup_that_rebinds() {
        let lookup = ScriptedLookup::new(&[&["93.184.216.34"], &["127.0.0.1"]]);
        let resolver = GuardedResolver::with_lookup(AddressPolicy::default(), lookup.clone());
        assert_eq!(resolve_with(&resolver, "rebind.example").await, Ok(vec![ip("93.184.216.34")]));
        assert_eq!(
            resolve_with(&resolver, "rebind.example").await,
            Err(SsrfError::NoAllowedAddress("rebind.example".to_owned()))
        );
        assert_eq!(lookup.calls(), 2);
    }

    #[tokio::test]
    async fn a_failed_lookup_is_an_error_not_a_refusal() {
        struct Failing;
        impl Lookup for Failing {
            fn lookup(&self, _host: &str) -> LookupFuture {
                Box::pin(async { Err(io::Error::other("no such host")) })
            }
        }
        let resolver = GuardedResolver::with_lookup(AddressPolicy::default(), Arc::new(Failing));
        let error = resolver.resolve("gone.example".parse().unwrap()).await.err().expect("the lookup failed");
        assert!(error.downcast_ref::<SsrfError>().is_none(), "{error}");
    }
}
