//! The raw transfer floor: fetches the same pages driftmux fetches (same queries and Nova
//! microversion, the same concurrency across resources, pages in order within each),
//! following next links found with a plain byte search, and discards the bodies. Prints
//! requests, bytes and seconds.
//!
//! `cargo run --release --example bench-fetch -- BASE_URL PAGE_SIZE` against the bench
//! server (its URL layout, any token);
//! `cargo run --release --example bench-fetch -- --cloud PAGE_SIZE` against a real cloud:
//! a password token from `OS_AUTH_URL`, `OS_USERNAME`, `OS_PASSWORD`, `OS_PROJECT_NAME` (and
//! the domain variables, default `Default`), endpoints from its catalog, as driftmux does;
//! the time then includes the token request, as driftmux's does.

use std::time::Instant;

use driftmux::collect::openstack::NOVA_MICROVERSION as NOVA;

#[derive(Clone, Copy)]
enum Service {
    Network,
    Compute,
    Identity,
}

const LISTS: &[(Service, &str, &str)] = &[
    // The rules in two listings, one per direction, as driftmux lists them.
    (Service::Network, "security-group-rules", "fields=id&fields=security_group_id&fields=project_id&fields=direction&fields=ethertype&fields=protocol&fields=port_range_min&fields=port_range_max&fields=remote_ip_prefix&fields=remote_group_id&fields=remote_address_group_id&direction=ingress"),
    (Service::Network, "security-group-rules", "fields=id&fields=security_group_id&fields=project_id&fields=direction&fields=ethertype&fields=protocol&fields=port_range_min&fields=port_range_max&fields=remote_ip_prefix&fields=remote_group_id&fields=remote_address_group_id&direction=egress"),
    (Service::Network, "security-groups", "fields=id&fields=name&fields=project_id"),
    (Service::Network, "ports", "fields=id&fields=device_id&fields=device_owner&fields=security_groups&fields=port_security_enabled&fields=project_id&fields=network_id&fields=fixed_ips"),
    (Service::Network, "floatingips", "fields=id&fields=floating_ip_address&fields=port_id&fields=fixed_ip_address&fields=floating_network_id"),
    (Service::Network, "networks", "fields=id&fields=name&fields=router:external&router:external=true"),
    // No address groups: driftmux lists them only once a rule names one, and no rule of
    // the bench's clouds does (the lab's seed has one: there driftmux makes one small
    // request more than this floor, after the listings).
    (Service::Compute, "servers/detail", "all_tenants=1&sort_key=uuid&sort_dir=asc"),
    // Whether every Nova cell answers (one response, no limit).
    (Service::Compute, "os-services", "binary=nova-compute"),
    (Service::Identity, "projects", ""),
];

/// Where each service's lists are, and the token to send.
struct Endpoints {
    network: String,
    compute: String,
    identity: String,
    token: String,
}

impl Endpoints {
    fn bench_server(base: &str) -> Endpoints {
        Endpoints {
            network: format!("{base}/network/v2.0"),
            compute: format!("{base}/compute/v2.1"),
            identity: format!("{base}/identity/v3"),
            token: "bench-token".to_owned(),
        }
    }

    /// A password token and the catalog's public endpoints (the bench's lab cloud).
    async fn cloud(client: &reqwest::Client) -> Endpoints {
        let env = |name: &str, default: Option<&str>| {
            std::env::var(name)
                .ok()
                .or(default.map(str::to_owned))
                .unwrap_or_else(|| panic!("{name} is not set"))
        };
        let auth_url = env("OS_AUTH_URL", None);
        let auth_url = auth_url.trim_end_matches('/');
        let v3 = if auth_url.ends_with("/v3") {
            auth_url.to_owned()
        } else {
            format!("{auth_url}/v3")
        };
        let body = serde_json::json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": env("OS_USERNAME", None),
                "domain": {"name": env("OS_USER_DOMAIN_NAME", Some("Default"))},
                "password": env("OS_PASSWORD", None)}}},
            "scope": {"project": {
                "name": env("OS_PROJECT_NAME", None),
                "domain": {"name": env("OS_PROJECT_DOMAIN_NAME", Some("Default"))}}}}});
        let response = client
            .post(format!("{v3}/auth/tokens"))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("the token request");
        assert!(
            response.status().is_success(),
            "Keystone: {}",
            response.status()
        );
        let token = response.headers()["x-subject-token"]
            .to_str()
            .expect("an ASCII token")
            .to_owned();
        let body: serde_json::Value =
            serde_json::from_slice(&response.bytes().await.expect("the token body"))
                .expect("a JSON token");
        let url = |kind: &str| {
            body["token"]["catalog"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|service| service["type"] == kind)
                .flat_map(|service| service["endpoints"].as_array().into_iter().flatten())
                .find(|endpoint| endpoint["interface"] == "public")
                .and_then(|endpoint| endpoint["url"].as_str())
                .unwrap_or_else(|| panic!("no public {kind} endpoint in the catalog"))
                .trim_end_matches('/')
                .to_owned()
        };
        let network = url("network");
        Endpoints {
            network: if network.ends_with("/v2.0") {
                network
            } else {
                format!("{network}/v2.0")
            },
            compute: url("compute"),
            identity: v3,
            token,
        }
    }

    fn base(&self, service: Service) -> &str {
        match service {
            Service::Network => &self.network,
            Service::Compute => &self.compute,
            Service::Identity => &self.identity,
        }
    }
}

/// The query of the `next` link, found without parsing the JSON: the link object holding
/// `"rel": "next"` (spaces allowed: Neutron writes them, the bench server does not).
fn next_query(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let at = text.rmatch_indices("\"next\"").map(|(i, _)| i).find(|&i| {
        let before = text[..i].trim_end();
        before
            .strip_suffix(':')
            .is_some_and(|b| b.trim_end().ends_with("\"rel\""))
    })?;
    let object = &text[text[..at].rfind('{')?..at + text[at..].find('}')?];
    let key = object.find("\"href\"")? + 6;
    let rest = object[key..].trim_start().strip_prefix(':')?.trim_start();
    let href = rest.strip_prefix('"')?;
    let href = &href[..href.find('"')?];
    href.split_once('?').map(|(_, q)| q.to_owned())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (base, page_size) = match args.as_slice() {
        [flag, size] if flag == "--cloud" => (None, size),
        [base, size] => (Some(base.clone()), size),
        _ => panic!("usage: bench-fetch (BASE_URL | --cloud) PAGE_SIZE"),
    };
    let page_size: usize = page_size.parse().expect("PAGE_SIZE");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    let (requests, bytes) = rt.block_on(async {
        let client = reqwest::Client::new();
        let endpoints = match &base {
            Some(base) => Endpoints::bench_server(base),
            None => Endpoints::cloud(&client).await,
        };
        let mut tasks = Vec::new();
        for &(service, path, query) in LISTS {
            let client = client.clone();
            let token = endpoints.token.clone();
            let url = format!("{}/{path}", endpoints.base(service));
            // Keystone and os-services take no limit (driftmux sends none either).
            let mut query = match (service, path) {
                (Service::Identity, _) | (_, "os-services") => query.to_owned(),
                _ => format!("{query}&limit={page_size}"),
            };
            tasks.push(tokio::spawn(async move {
                let (mut n, mut b) = (0u64, 0u64);
                loop {
                    let mut request = client
                        .get(format!("{url}?{query}"))
                        .header("X-Auth-Token", &token);
                    // Nova's microversion, as driftmux asks for it: a larger server record
                    // than the base version's, a little slower to list.
                    if let Service::Compute = service {
                        request = request
                            .header("OpenStack-API-Version", format!("compute {NOVA}"))
                            .header("X-OpenStack-Nova-API-Version", NOVA);
                    }
                    let response = request.send().await.unwrap();
                    n += 1;
                    assert!(
                        response.status().is_success(),
                        "{url}: {}",
                        response.status()
                    );
                    let body = response.bytes().await.unwrap();
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
