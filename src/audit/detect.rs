//! Detection: does one rule expose critical ports to a public source?
//!
//! Three independent questions, each a small pure function: is the source public
//! ([`public_source`]), which ports does the rule open ([`exposed_ports`]), and what do those
//! ports match in the policy ([`classify`]). The audit combines them per rule.

use std::sync::LazyLock;

use ipnet::IpNet;

use super::policy::{CriticalPort, Policy};
use crate::finding::{FindingKind, PortExposure};
use crate::inventory::{Remote, Rule};

/// IPv4 space that is private or special-use: a broad prefix entirely inside it is not public.
const PRIVATE_V4: &[&str] = &[
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "224.0.0.0/4",
    "240.0.0.0/4",
];
const PRIVATE_V6: &[&str] = &["::1/128", "fc00::/7", "fe80::/10", "ff00::/8"];

static PRIVATE_NETS: LazyLock<(Vec<IpNet>, Vec<IpNet>)> = LazyLock::new(|| {
    let parse = |list: &[&str]| -> Vec<IpNet> {
        list.iter()
            .map(|p| p.parse().expect("valid literal"))
            .collect()
    };
    (parse(PRIVATE_V4), parse(PRIVATE_V6))
});

/// A prefix at most this long is "broad" (IPv4, IPv6).
const BROAD_V4: u8 = 8;
const BROAD_V6: u8 = 32;

/// The rule's source when it is public, normalised for display; `None` when it is not.
///
/// Public means: no remote group or address group, and either no prefix at all (every
/// source of the ethertype), a zero-length prefix, or a broad prefix not entirely inside
/// private or special-use space.
pub fn public_source(rule: &Rule) -> Option<IpNet> {
    match &rule.remote {
        Remote::Group(_) | Remote::AddressGroup(_) => None,
        Remote::Any => Some(rule.ethertype.any_source()),
        Remote::Prefix(net) => is_public(net).then_some(*net),
    }
}

/// Whether a (normalised) prefix counts as a public source.
pub fn is_public(net: &IpNet) -> bool {
    let (broad, private) = match net {
        IpNet::V4(_) => (BROAD_V4, &PRIVATE_NETS.0),
        IpNet::V6(_) => (BROAD_V6, &PRIVATE_NETS.1),
    };
    if net.prefix_len() == 0 {
        return true;
    }
    net.prefix_len() <= broad && !private.iter().any(|p| p.contains(net))
}

/// The destination ports a rule opens, or `None` when its protocol has no ports
/// (ICMP type/code, GRE, ...). A null bound is never read as port 0.
pub fn exposed_ports(rule: &Rule) -> Option<PortExposure> {
    if rule.protocol == crate::inventory::Protocol::Any {
        return Some(PortExposure::All);
    }
    if !rule.protocol.is_port_based() {
        return None;
    }
    let (lo, hi) = match (rule.port_range_min, rule.port_range_max) {
        (None, None) => return Some(PortExposure::All),
        // Half-open ranges (old clouds, hand-made snapshots) extend to the edge.
        (Some(lo), None) => (lo, u16::MAX),
        (None, Some(hi)) => (1, hi),
        (Some(lo), Some(hi)) => (lo, hi),
    };
    if lo <= 1 && hi == u16::MAX {
        Some(PortExposure::All)
    } else {
        Some(PortExposure::Range { lo, hi })
    }
}

/// What an exposure matches in the policy: the kind of finding and its match labels, or
/// `None` when it is not worth reporting.
pub fn classify(policy: &Policy, ports: PortExposure) -> Option<(FindingKind, Vec<String>)> {
    let PortExposure::Range { lo, hi } = ports else {
        return Some((FindingKind::AllPorts, vec!["all_ports".to_owned()]));
    };
    let labels = |table: &[CriticalPort]| -> Vec<String> {
        table
            .iter()
            .filter(|c| c.intersects(lo, hi))
            .map(|c| c.label.clone())
            .collect()
    };
    let critical = labels(&policy.critical_ports);
    if !critical.is_empty() {
        return Some((FindingKind::CriticalService, critical));
    }
    if policy.report_web {
        let web = labels(&policy.web_ports);
        if !web.is_empty() {
            return Some((FindingKind::Web, web));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{Direction, EtherType, Protocol};

    fn rule(protocol: &str, min: Option<u16>, max: Option<u16>) -> Rule {
        Rule {
            id: "r".into(),
            security_group_id: "g".into(),
            project_id: None,
            direction: Direction::Ingress,
            ethertype: EtherType::IPv4,
            protocol: Protocol::parse(Some(protocol).filter(|p| !p.is_empty())).unwrap(),
            port_range_min: min,
            port_range_max: max,
            remote: Remote::Any,
            raw_protocol: None,
            raw_remote_ip_prefix: None,
        }
    }

    fn public(prefix: &str) -> bool {
        is_public(&crate::inventory::parse_prefix(prefix).unwrap())
    }

    #[test]
    fn public_and_private_prefixes() {
        for p in [
            "0.0.0.0/0",
            "::/0",
            "::0/0",
            "1.2.3.4/0",
            "0.0.0.0/1",
            "128.0.0.0/1",
            "2000::/3",
            "8.0.0.0/8",
            "2001:db8::/32",
            "11.0.0.0/8",
        ] {
            assert!(public(p), "{p} should be public");
        }
        for p in [
            "10.0.0.0/8",
            "fc00::/7",
            "fd00::/8",
            "203.0.113.0/24",
            "127.0.0.0/8",
            "224.0.0.0/4",
            "240.0.0.0/4",
            "0.0.0.0/8",
            "fe80::/10",
            "ff00::/8",
            "8.0.0.0/9",
            "2001:db8::/33",
            "192.0.2.1/32",
        ] {
            assert!(!public(p), "{p} should not be public");
        }
    }

    #[test]
    fn remote_group_and_address_group_are_never_public() {
        let mut r = rule("tcp", Some(22), Some(22));
        r.remote = Remote::Group("g2".into());
        assert_eq!(public_source(&r), None);
        r.remote = Remote::AddressGroup("ag".into());
        assert_eq!(public_source(&r), None);
    }

    #[test]
    fn null_prefix_shows_the_family_wide_source() {
        let mut r = rule("tcp", Some(22), Some(22));
        assert_eq!(public_source(&r).unwrap().to_string(), "0.0.0.0/0");
        r.ethertype = EtherType::IPv6;
        assert_eq!(public_source(&r).unwrap().to_string(), "::/0");
        r.remote = Remote::Prefix(crate::inventory::parse_prefix("1.2.3.4/0").unwrap());
        assert_eq!(public_source(&r).unwrap().to_string(), "0.0.0.0/0");
    }

    #[test]
    fn port_ranges() {
        use PortExposure::*;
        assert_eq!(exposed_ports(&rule("", None, None)), Some(All));
        assert_eq!(exposed_ports(&rule("any", Some(22), Some(22))), Some(All));
        assert_eq!(exposed_ports(&rule("0", None, None)), Some(All));
        assert_eq!(exposed_ports(&rule("tcp", None, None)), Some(All));
        assert_eq!(exposed_ports(&rule("udp", Some(1), Some(65535))), Some(All));
        assert_eq!(exposed_ports(&rule("6", Some(0), Some(65535))), Some(All));
        assert_eq!(
            exposed_ports(&rule("tcp", Some(22), Some(22))),
            Some(Range { lo: 22, hi: 22 })
        );
        assert_eq!(
            exposed_ports(&rule("tcp", Some(22), None)),
            Some(Range { lo: 22, hi: 65535 })
        );
        assert_eq!(
            exposed_ports(&rule("tcp", None, Some(22))),
            Some(Range { lo: 1, hi: 22 })
        );
        assert_eq!(exposed_ports(&rule("tcp", Some(1), None)), Some(All));
        for p in ["sctp", "dccp", "udplite", "132", "33", "136"] {
            assert_eq!(
                exposed_ports(&rule(p, Some(22), Some(22))),
                Some(Range { lo: 22, hi: 22 }),
                "{p}"
            );
        }
        for p in ["icmp", "ipv6-icmp", "58", "47", "gre"] {
            assert_eq!(exposed_ports(&rule(p, Some(22), Some(22))), None, "{p}");
            assert_eq!(exposed_ports(&rule(p, None, None)), None, "{p}");
        }
    }

    #[test]
    fn matches_in_port_order() {
        let p = Policy::default();
        let m = |lo, hi| classify(&p, PortExposure::Range { lo, hi });
        assert_eq!(
            m(22, 22),
            Some((FindingKind::CriticalService, vec!["22/SSH".into()]))
        );
        assert_eq!(
            m(80, 443),
            Some((FindingKind::CriticalService, vec!["389/LDAP".into()]))
        );
        assert_eq!(
            m(5901, 5901),
            Some((FindingKind::CriticalService, vec!["5900-5999/VNC".into()]))
        );
        assert_eq!(
            m(1, 1000).unwrap().1,
            vec!["22/SSH", "389/LDAP", "445/SMB", "636/LDAPS"]
        );
        assert_eq!(
            m(2049, 2376).unwrap().1,
            vec![
                "2049/NFS",
                "2375/Docker API without TLS",
                "2376/Docker API with TLS"
            ]
        );
        assert_eq!(m(80, 80), None);
        assert_eq!(m(443, 443), None);
        assert_eq!(m(81, 88), None);
        assert_eq!(
            classify(&p, PortExposure::All),
            Some((FindingKind::AllPorts, vec!["all_ports".into()]))
        );
    }

    #[test]
    fn web_ports_only_with_report_web() {
        let p = Policy::parse("report_web: true").unwrap();
        let m = |lo, hi| classify(&p, PortExposure::Range { lo, hi });
        assert_eq!(m(80, 80), Some((FindingKind::Web, vec!["80/HTTP".into()])));
        assert_eq!(
            m(443, 443),
            Some((FindingKind::Web, vec!["443/HTTPS".into()]))
        );
        // A critical match wins over web labels.
        assert_eq!(
            m(80, 443),
            Some((FindingKind::CriticalService, vec!["389/LDAP".into()]))
        );
    }
}
