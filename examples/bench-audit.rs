//! Analysis benchmark: generates a synthetic snapshot of N rules (deterministic), then
//! prints how long parsing + validation and the audit itself take. Figures, not a test.
//!
//! `cargo run --release --example bench-audit -- 100000 [1000000 ...]`

use std::fmt::Write as _;
use std::time::Instant;

use driftmux::audit::{self, policy::Policy};
use driftmux::collect::snapshot;
use driftmux::inventory::Inventory;

/// A tiny deterministic PRNG (xorshift), so every run audits the same cloud.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn generate(rules: usize) -> String {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let groups = (rules / 10).max(1);
    let projects = (rules / 1000).max(1);
    let servers = rules / 2;
    let mut s = String::with_capacity(rules * 400);
    s.push_str("{\"driftmux_snapshot\":1,\"projects\":[");
    for p in 0..projects {
        let _ = write!(
            s,
            "{}{{\"id\":\"p{p:08}\",\"name\":\"project-{p}\"}}",
            if p > 0 { "," } else { "" }
        );
    }
    s.push_str("],\"security_groups\":[");
    for g in 0..groups {
        let _ = write!(
            s,
            "{}{{\"id\":\"sg{g:010}\",\"name\":\"group-{g}\",\"project_id\":\"p{:08}\"}}",
            if g > 0 { "," } else { "" },
            g % projects
        );
    }
    s.push_str("],\"security_group_rules\":[");
    const PREFIXES: &[&str] = &[
        "10.0.0.0/8",
        "192.168.0.0/16",
        "203.0.113.0/24",
        "172.16.0.0/12",
    ];
    for r in 0..rules {
        let g = rng.below(groups as u64);
        let direction = if rng.below(3) == 0 {
            "egress"
        } else {
            "ingress"
        };
        let (proto, lo, hi) = match rng.below(10) {
            0 => ("null".to_owned(), "null".to_owned(), "null".to_owned()),
            1 => ("\"icmp\"".to_owned(), "8".to_owned(), "0".to_owned()),
            2 => ("\"udp\"".to_owned(), "53".to_owned(), "53".to_owned()),
            3 => {
                let lo = 1 + rng.below(60000);
                (
                    "\"tcp\"".to_owned(),
                    lo.to_string(),
                    (lo + rng.below(1000)).to_string(),
                )
            }
            _ => {
                let port =
                    [22, 80, 443, 3306, 5432, 6379, 8080, 9200, 30080][rng.below(9) as usize];
                ("\"tcp\"".to_owned(), port.to_string(), port.to_string())
            }
        };
        let remote = match rng.below(20) {
            0 => "\"remote_ip_prefix\":\"0.0.0.0/0\",\"remote_group_id\":null".to_owned(),
            1 => "\"remote_ip_prefix\":null,\"remote_group_id\":null".to_owned(),
            2..=9 => format!("\"remote_ip_prefix\":null,\"remote_group_id\":\"sg{g:010}\""),
            n => format!(
                "\"remote_ip_prefix\":\"{}\",\"remote_group_id\":null",
                PREFIXES[n as usize % 4]
            ),
        };
        let _ = write!(
            s,
            "{}{{\"id\":\"rule{r:012}\",\"security_group_id\":\"sg{g:010}\",\"project_id\":\"p{:08}\",\"direction\":\"{direction}\",\"ethertype\":\"IPv4\",\"protocol\":{proto},\"port_range_min\":{lo},\"port_range_max\":{hi},{remote},\"remote_address_group_id\":null,\"description\":\"\",\"tags\":[],\"revision_number\":0}}",
            if r > 0 { "," } else { "" },
            g as usize % projects
        );
    }
    s.push_str("],\"ports\":[");
    for p in 0..rules {
        let g1 = rng.below(groups as u64);
        let g2 = rng.below(groups as u64);
        let _ = write!(
            s,
            "{}{{\"id\":\"port{p:012}\",\"device_id\":\"vm{:010}\",\"device_owner\":\"compute:nova\",\"security_groups\":[\"sg{g1:010}\",\"sg{g2:010}\"],\"fixed_ips\":[{{\"subnet_id\":\"s\",\"ip_address\":\"10.{}.{}.{}\"}}],\"status\":\"ACTIVE\"}}",
            if p > 0 { "," } else { "" },
            p / 2,
            (p >> 16) & 255,
            (p >> 8) & 255,
            p & 255
        );
    }
    s.push_str("],\"servers\":[");
    for v in 0..servers {
        let _ = write!(s, "{}{{\"id\":\"vm{v:010}\",\"name\":\"server-{v}\",\"status\":\"ACTIVE\",\"tenant_id\":\"p{:08}\"}}", if v > 0 { "," } else { "" }, v % projects);
    }
    s.push_str("]}");
    s
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("sizes are rule counts"))
        .collect();
    let sizes = if sizes.is_empty() {
        vec![10_000, 100_000]
    } else {
        sizes
    };
    println!("| rules | snapshot MiB | parse + validate (s) | audit (s) | findings |");
    println!("|---:|---:|---:|---:|---:|");
    for n in sizes {
        let text = generate(n);
        let t0 = Instant::now();
        let raw = snapshot::parse(text.as_bytes()).expect("generated snapshot parses");
        let inventory = Inventory::from_raw(raw).expect("generated snapshot is valid");
        let parse = t0.elapsed();
        let t1 = Instant::now();
        let report = audit::run(&inventory, &Policy::default());
        let audit = t1.elapsed();
        println!(
            "| {n} | {:.1} | {:.3} | {:.3} | {} |",
            text.len() as f64 / (1 << 20) as f64,
            parse.as_secs_f64(),
            audit.as_secs_f64(),
            report.findings.len()
        );
    }
}
