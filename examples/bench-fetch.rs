//! The raw transfer floor: fetches the same pages driftmux fetches (same queries, the same
//! concurrency across resources, pages in order within each), following next links found
//! with a plain byte search, and discards the bodies. Prints requests, bytes and seconds.
//!
//! `cargo run --release --example bench-fetch -- BASE_URL PAGE_SIZE`

use std::time::Instant;

const LISTS: &[(&str, &str)] = &[
    ("network/v2.0/security-group-rules", "fields=id&fields=security_group_id&fields=project_id&fields=direction&fields=ethertype&fields=protocol&fields=port_range_min&fields=port_range_max&fields=remote_ip_prefix&fields=remote_group_id&fields=remote_address_group_id"),
    ("network/v2.0/security-groups", "fields=id&fields=name&fields=project_id"),
    ("network/v2.0/ports", "fields=id&fields=device_id&fields=device_owner&fields=security_groups&fields=port_security_enabled&fields=project_id&fields=network_id&fields=fixed_ips"),
    ("network/v2.0/floatingips", "fields=id&fields=floating_ip_address&fields=port_id&fields=fixed_ip_address&fields=floating_network_id"),
    ("network/v2.0/networks", "fields=id&fields=name&fields=router:external&router:external=true"),
    ("network/v2.0/address-groups", "fields=id&fields=name&fields=addresses"),
    ("compute/v2.1/servers/detail", "all_tenants=1"),
    ("identity/v3/projects", ""),
];

/// The query of the `next` link, found without parsing the JSON.
fn next_query(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let at = text.rfind("\"rel\":\"next\"")?;
    let href = text[..at]
        .rfind("\"href\":\"")
        .map(|i| i + 8)
        .or_else(|| text[at..].find("\"href\":\"").map(|i| at + i + 8))?;
    let end = text[href..].find('"')? + href;
    text[href..end].split_once('?').map(|(_, q)| q.to_owned())
}

fn main() {
    let base = std::env::args().nth(1).expect("BASE_URL");
    let page_size: usize = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    let (requests, bytes) = rt.block_on(async {
        let client = reqwest::Client::new();
        let mut tasks = Vec::new();
        for (path, query) in LISTS {
            let client = client.clone();
            let url = format!("{base}/{path}");
            // Keystone takes no limit (driftmux sends none either).
            let mut query = if path.starts_with("identity") {
                (*query).to_owned()
            } else {
                format!("{query}&limit={page_size}")
            };
            tasks.push(tokio::spawn(async move {
                let (mut n, mut b) = (0u64, 0u64);
                loop {
                    let body = client
                        .get(format!("{url}?{query}"))
                        .header("X-Auth-Token", "bench-token")
                        .send()
                        .await
                        .unwrap()
                        .bytes()
                        .await
                        .unwrap();
                    n += 1;
                    b += body.len() as u64;
                    match next_query(&body) {
                        Some(q) => query = q,
                        None => break,
                    }
                }
                (n, b)
            }));
        }
        let mut total = (0, 0);
        for t in tasks {
            let (n, b) = t.await.unwrap();
            total.0 += n;
            total.1 += b;
        }
        total
    });
    println!(
        "{{\"requests\": {requests}, \"bytes\": {bytes}, \"seconds\": {:.4}}}",
        started.elapsed().as_secs_f64()
    );
}
