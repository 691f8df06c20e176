//! A synthetic OpenStack cloud of a given size, generated deterministically from a seed and
//! written as a driftmux snapshot (raw API objects with the fields driftmux collects).
//! Shared by the benchmark examples (`bench-gen`, `bench-server`).
#![allow(dead_code)]

use std::io::{self, Write};

/// xorshift64*: deterministic and fast.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// A UUID-shaped id, unique per (kind, n).
pub fn uuid(kind: u8, n: u64) -> String {
    let h = n.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ ((kind as u64) << 56);
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        (h >> 32) as u32,
        (h >> 16) as u16,
        kind as u16 & 0xfff,
        (n >> 48) as u16 & 0xfff,
        n & 0xffff_ffff_ffff
    )
}

/// Sizes: ports = rules, servers = rules / 2 (the shape).
pub struct Shape {
    pub rules: u64,
    pub groups: u64,
    pub ports: u64,
    pub servers: u64,
    pub projects: u64,
    pub floating_ips: u64,
}

impl Shape {
    pub fn for_rules(rules: u64) -> Shape {
        Shape {
            rules,
            groups: (rules / 8).max(1),
            ports: rules,
            servers: (rules / 2).max(1),
            projects: (rules / 500).max(1),
            floating_ips: (rules / 20).max(1),
        }
    }
}

/// Writes the snapshot of a cloud of `shape` to `out`.
pub fn write_snapshot(shape: &Shape, seed: u64, out: &mut impl Write) -> io::Result<()> {
    let mut rng = Rng::new(seed);
    let project = |i: u64| uuid(1, i % shape.projects).replace('-', "");
    write!(out, "{{\"driftmux_snapshot\":1,\"collected_at\":\"2026-11-20T08:00:00Z\",\"cloud\":\"synthetic\",\"region\":\"RegionOne\",\"projects\":[")?;
    for p in 0..shape.projects {
        let sep = if p > 0 { "," } else { "" };
        write!(
            out,
            "{sep}{{\"id\":\"{}\",\"name\":\"project-{p}\",\"domain_id\":\"default\"}}",
            project(p)
        )?;
    }
    write!(out, "],\"security_groups\":[")?;
    for g in 0..shape.groups {
        let sep = if g > 0 { "," } else { "" };
        let name = if g % 10 == 0 {
            "default".to_owned()
        } else {
            format!("group-{g}")
        };
        write!(
            out,
            "{sep}{{\"id\":\"{}\",\"name\":\"{name}\",\"project_id\":\"{}\"}}",
            uuid(2, g),
            project(g)
        )?;
    }
    write!(out, "],\"security_group_rules\":[")?;
    const PRIVATE: [&str; 4] = [
        "10.0.0.0/8",
        "192.168.0.0/16",
        "172.16.0.0/12",
        "203.0.113.0/24",
    ];
    const PORTS: [u16; 10] = [22, 80, 443, 3306, 5432, 6379, 8080, 9200, 30080, 3389];
    for r in 0..shape.rules {
        let g = rng.below(shape.groups);
        let direction = if rng.below(3) == 0 {
            "egress"
        } else {
            "ingress"
        };
        let ethertype = if rng.below(5) == 0 { "IPv6" } else { "IPv4" };
        let (protocol, lo, hi) = match rng.below(10) {
            0 => ("null".to_owned(), "null".to_owned(), "null".to_owned()),
            1 => ("\"icmp\"".to_owned(), "null".to_owned(), "null".to_owned()),
            2 => ("\"udp\"".to_owned(), "53".to_owned(), "53".to_owned()),
            3 => {
                let lo = 1 + rng.below(60000);
                (
                    "\"tcp\"".to_owned(),
                    lo.to_string(),
                    (lo + rng.below(2000)).to_string(),
                )
            }
            _ => {
                let p = PORTS[rng.below(PORTS.len() as u64) as usize];
                ("\"tcp\"".to_owned(), p.to_string(), p.to_string())
            }
        };
        let any = if ethertype == "IPv6" {
            "::/0"
        } else {
            "0.0.0.0/0"
        };
        let (prefix, remote_group) = match rng.below(20) {
            0 => (format!("\"{any}\""), "null".to_owned()),
            1 => ("null".to_owned(), "null".to_owned()),
            2..=11 => ("null".to_owned(), format!("\"{}\"", uuid(2, g))),
            n => {
                let p = if ethertype == "IPv6" {
                    "fd00::/8"
                } else {
                    PRIVATE[n as usize % 4]
                };
                (format!("\"{p}\""), "null".to_owned())
            }
        };
        let sep = if r > 0 { "," } else { "" };
        write!(
            out,
            "{sep}{{\"id\":\"{}\",\"security_group_id\":\"{}\",\"project_id\":\"{}\",\"direction\":\"{direction}\",\"ethertype\":\"{ethertype}\",\"protocol\":{protocol},\"port_range_min\":{lo},\"port_range_max\":{hi},\"remote_ip_prefix\":{prefix},\"remote_group_id\":{remote_group},\"remote_address_group_id\":null}}",
            uuid(3, r),
            uuid(2, g),
            project(g)
        )?;
    }
    write!(out, "],\"ports\":[")?;
    for p in 0..shape.ports {
        let g1 = uuid(2, rng.below(shape.groups));
        let groups = if rng.below(3) == 0 {
            format!("\"{g1}\",\"{}\"", uuid(2, rng.below(shape.groups)))
        } else {
            format!("\"{g1}\"")
        };
        let (device, owner) = match rng.below(20) {
            0 => (format!("dhcp{}", p % 1000), "network:dhcp"),
            1 => (uuid(7, p % 1000), "network:router_interface"),
            _ => (uuid(4, p / 2), "compute:nova"),
        };
        let sep = if p > 0 { "," } else { "" };
        write!(
            out,
            "{sep}{{\"id\":\"{}\",\"device_id\":\"{device}\",\"device_owner\":\"{owner}\",\"security_groups\":[{groups}],\"port_security_enabled\":true,\"project_id\":\"{}\",\"network_id\":\"{}\",\"fixed_ips\":[{{\"subnet_id\":\"{}\",\"ip_address\":\"10.{}.{}.{}\"}}]}}",
            uuid(5, p),
            project(p),
            uuid(6, p % 20),
            uuid(8, p % 20),
            (p >> 16) & 255,
            (p >> 8) & 255,
            p & 255
        )?;
    }
    write!(out, "],\"servers\":[")?;
    for s in 0..shape.servers {
        let sep = if s > 0 { "," } else { "" };
        write!(out, "{sep}{{\"id\":\"{}\",\"name\":\"server-{s}\",\"status\":\"ACTIVE\",\"tenant_id\":\"{}\"}}", uuid(4, s), project(s))?;
    }
    write!(out, "],\"floatingips\":[")?;
    for f in 0..shape.floating_ips {
        let sep = if f > 0 { "," } else { "" };
        let port = rng.below(shape.ports);
        write!(
            out,
            "{sep}{{\"id\":\"{}\",\"floating_ip_address\":\"198.{}.{}.{}\",\"port_id\":\"{}\",\"fixed_ip_address\":\"10.{}.{}.{}\",\"floating_network_id\":\"{}\"}}",
            uuid(9, f),
            18 + ((f >> 16) & 1),
            (f >> 8) & 255,
            f & 255,
            uuid(5, port),
            (port >> 16) & 255,
            (port >> 8) & 255,
            port & 255,
            uuid(6, 0)
        )?;
    }
    write!(out, "],\"networks\":[")?;
    for n in 0..20u64 {
        let sep = if n > 0 { "," } else { "" };
        write!(
            out,
            "{sep}{{\"id\":\"{}\",\"name\":\"net-{n}\",\"router:external\":{}}}",
            uuid(6, n),
            n < 2
        )?;
    }
    write!(out, "],\"address_groups\":[]}}")?;
    Ok(())
}
