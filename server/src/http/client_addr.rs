//! The client's address behind reverse proxies.
//!
//! `X-Forwarded-For` is a list each proxy *appends* to: `client, proxy1, proxy2`. Only the
//! entries our own proxies appended can be trusted — the left part is whatever the client
//! sent. So the address is read from the right:
//!
//! - `trusted_proxies = N`: the entry N hops from the right (the address the outermost of our N
//!   proxies saw). With fewer entries, the leftmost one.
//! - `trusted_proxy_cidrs`: only when the peer itself is in one of these networks; then the
//!   rightmost entry *outside* them (an unparsable entry ends the walk at the last good one).
//! - neither: the header is ignored; the peer address is the client.

use crate::config::{Config, ConfigError};
use axum::http::HeaderMap;
use std::net::IpAddr;

/// A network in CIDR notation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `10.0.0.0/8`, `::1/128` or a bare address.
    pub fn parse(s: &str) -> Option<Self> {
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a.parse::<IpAddr>().ok()?, p.parse::<u8>().ok()?),
            None => {
                let a = s.trim().parse::<IpAddr>().ok()?;
                (a, if a.is_ipv4() { 32 } else { 128 })
            }
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        (prefix <= max).then_some(Self { net: addr, prefix })
    }

    /// Whether `ip` is in this network (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.net, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Which proxies are trusted to report the client address.
#[derive(Debug, Clone, Default)]
pub struct ProxyTrust {
    hops: usize,
    cidrs: Vec<Cidr>,
}

impl ProxyTrust {
    /// From `trusted_proxies`, `trusted_proxy_cidrs` (and the old `trust_forwarded_for`).
    pub fn from_config(c: &Config) -> Result<Self, ConfigError> {
        let cidrs = c
            .trusted_proxy_cidrs
            .iter()
            .map(|s| {
                Cidr::parse(s).ok_or_else(|| {
                    ConfigError(format!("trusted_proxy_cidrs: `{s}` is not a network"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let hops = (c.trusted_proxies as usize).max(usize::from(c.trust_forwarded_for));
        Ok(Self { hops, cidrs })
    }

    /// The client address for a request from `peer` with `headers`.
    pub fn client_addr(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if self.cidrs.is_empty() && self.hops == 0 {
            return peer;
        }
        if !self.cidrs.is_empty() && !self.cidrs.iter().any(|c| c.contains(peer)) {
            return peer;
        }
        let entries: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .collect();
        if !self.cidrs.is_empty() {
            let mut last = peer;
            for e in entries.iter().rev() {
                let Ok(ip) = e.parse::<IpAddr>().map(canonical) else { return last };
                if !self.cidrs.iter().any(|c| c.contains(ip)) {
                    return ip;
                }
                last = ip;
            }
            return last;
        }
        let index = entries.len().saturating_sub(self.hops);
        entries.get(index).and_then(|e| e.parse().ok()).map_or(peer, canonical)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn hops_count_from_the_right_and_cidrs_skip_trusted_entries() {
        let peer: IpAddr = "10.0.0.2".parse().unwrap();
        let none = ProxyTrust::default();
        assert_eq!(none.client_addr(peer, &headers(&["1.2.3.4"])), peer);
        let one = ProxyTrust { hops: 1, cidrs: vec![] };
        let h = headers(&["6.6.6.6, 1.2.3.4"]);
        assert_eq!(one.client_addr(peer, &h), "1.2.3.4".parse::<IpAddr>().unwrap());
        let two = ProxyTrust { hops: 2, cidrs: vec![] };
        assert_eq!(two.client_addr(peer, &h), "6.6.6.6".parse::<IpAddr>().unwrap());
        let split = headers(&["6.6.6.6", "1.2.3.4, 10.0.0.1"]);
        assert_eq!(two.client_addr(peer, &split), "1.2.3.4".parse::<IpAddr>().unwrap());
        assert_eq!(
            two.client_addr(peer, &headers(&["9.9.9.9"])),
            "9.9.9.9".parse::<IpAddr>().unwrap()
        );
        assert_eq!(one.client_addr(peer, &HeaderMap::new()), peer);
        let nets = ProxyTrust { hops: 0, cidrs: vec![Cidr::parse("10.0.0.0/8").unwrap()] };
        let h = headers(&["6.6.6.6, 1.2.3.4, 10.9.9.9"]);
        assert_eq!(nets.client_addr(peer, &h), "1.2.3.4".parse::<IpAddr>().unwrap());
        let outside: IpAddr = "8.8.8.8".parse().unwrap();
        assert_eq!(nets.client_addr(outside, &h), outside, "only trusted peers are believed");
        assert!(Cidr::parse("::ffff:0:0/96").is_some());
        assert!(Cidr::parse("10.0.0.0/33").is_none());
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains("1.1.1.1".parse().unwrap()));
        let mapped: IpAddr = "::ffff:10.1.1.1".parse().unwrap();
        assert!(Cidr::parse("10.0.0.0/8").unwrap().contains(mapped));
    }
}
