//! A fast fake Keystone + Neutron + Nova for benchmarks: serves a snapshot's lists with real
//! pagination (`limit`, `marker`, `*_links`, an empty last page when the total is a multiple
//! of the limit), `fields=`, the `direction` and `router:external` filters, Neutron's
//! `sort_key=id&sort_dir=desc` and Nova's `sort_key=uuid`, rendering each distinct page
//! once and then serving it from memory, so the server is not the bottleneck. Counts
//! requests and bytes (`GET /_stats`, `POST /_reset`). Listens on 127.0.0.1 only and
//! prints its port.
//!
//! `cargo run --release --example bench-server -- SNAPSHOT.json [WORKERS US_PER_OBJECT
//! [US_PER_SERVER]]`
//!
//! With `WORKERS` and `US_PER_OBJECT`, it models an API that is the slow part, as a real
//! Neutron is: each page takes that many microseconds per object it lists, on one of
//! `WORKERS` workers (a request waits for a free one). Nova's servers are served by a Nova
//! of as many workers of its own, at `US_PER_SERVER` a server (default `US_PER_OBJECT`; a
//! real Nova is about four times slower a server than Neutron an object). A model, not an
//! OpenStack: the lab (scripts/bench-lab) measures the real ones.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Map, Value};

struct Collection {
    key: &'static str,
    items: Vec<Value>,
    index: HashMap<String, usize>,
}

/// The slow-API model: a page costs `per_object` per object, on one of the workers
/// (Nova's servers `per_server` a server, on one of Nova's).
struct Model {
    workers: tokio::sync::Semaphore,
    per_object: std::time::Duration,
    nova_workers: tokio::sync::Semaphore,
    per_server: std::time::Duration,
}

struct Server {
    base: String,
    collections: HashMap<&'static str, Collection>,
    /// Each page's body and how many objects it lists.
    cache: RwLock<HashMap<String, (Bytes, usize)>>,
    model: Option<Model>,
    requests: AtomicU64,
    bytes: AtomicU64,
}

fn collection(snapshot: &mut Value, snap_key: &str, key: &'static str) -> Collection {
    let mut items: Vec<Value> = snapshot
        .get_mut(snap_key)
        .and_then(|v| v.as_array_mut())
        .map(std::mem::take)
        .unwrap_or_default();
    items.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    let index = items
        .iter()
        .enumerate()
        .map(|(i, v)| (v["id"].as_str().unwrap_or_default().to_owned(), i))
        .collect();
    Collection { key, items, index }
}

impl Server {
    fn page(&self, name: &str, uri: &Uri) -> Option<(Bytes, usize)> {
        let cache_key = format!("{name}?{}", uri.query().unwrap_or(""));
        if let Some(hit) = self.cache.read().unwrap().get(&cache_key) {
            return Some(hit.clone());
        }
        let c = self.collections.get(name)?;
        let mut limit = None;
        let mut marker = None;
        let mut fields = Vec::new();
        let mut external = None;
        let mut direction = None;
        let (mut by_id, mut descending) = (false, false);
        for pair in uri
            .query()
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty())
        {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match k {
                "limit" => limit = v.parse::<usize>().ok(),
                "marker" => marker = Some(v.to_owned()),
                "fields" => fields.push(v.to_owned()),
                "router:external" | "router%3Aexternal" => {
                    external = Some(v == "true" || v == "True")
                }
                "direction" => direction = Some(v.to_owned()),
                "sort_key" => by_id = v == "id" || v == "uuid",
                "sort_dir" => descending = v == "desc",
                _ => {}
            }
        }
        // Every list is in id order here; Neutron sorts the other way on request
        // (`sort_key=id`), Nova too (`sort_key=uuid`); Keystone does not.
        let descending = descending && by_id && name != "projects";
        let at = marker.as_ref().and_then(|m| c.index.get(m)).copied();
        let order: Box<dyn Iterator<Item = usize>> = if descending {
            Box::new((0..at.unwrap_or(c.items.len())).rev())
        } else {
            Box::new(at.map_or(0, |i| i + 1)..c.items.len())
        };
        let mut page = Vec::new();
        for i in order {
            if limit.is_some_and(|l| page.len() >= l) {
                break;
            }
            let item = &c.items[i];
            if let Some(want) = external {
                if item["router:external"].as_bool().unwrap_or(false) != want {
                    continue;
                }
            }
            if direction.as_ref().is_some_and(|d| item["direction"] != **d) {
                continue;
            }
            page.push(if fields.is_empty() {
                item.clone()
            } else {
                let mut m = Map::new();
                for f in &fields {
                    let f = f.replace("%3A", ":");
                    if let Some(v) = item.get(&f) {
                        m.insert(f, v.clone());
                    }
                }
                Value::Object(m)
            });
        }
        let mut out = Map::new();
        let count = page.len();
        let full = limit.is_some_and(|l| page.len() == l);
        let last_id = page
            .last()
            .and_then(|p| p["id"].as_str().map(str::to_owned));
        out.insert(c.key.to_owned(), Value::Array(page));
        if limit.is_some() {
            let mut links = Vec::new();
            if full {
                let keep: Vec<&str> = uri
                    .query()
                    .unwrap_or("")
                    .split('&')
                    .filter(|p| !p.starts_with("marker=") && !p.is_empty())
                    .collect();
                let path = if name == "servers-detail" {
                    "compute/v2.1/servers/detail".to_owned()
                } else {
                    format!("network/v2.0/{name}")
                };
                links.push(json!({"rel": "next", "href": format!("{}/{path}?{}&marker={}", self.base, keep.join("&"), last_id.unwrap_or_default())}));
            }
            out.insert(format!("{}_links", c.key), Value::Array(links));
        }
        let body = Bytes::from(serde_json::to_vec(&Value::Object(out)).unwrap());
        self.cache
            .write()
            .unwrap()
            .insert(cache_key, (body.clone(), count));
        Some((body, count))
    }

    /// A page (of Nova's servers when `nova`), after the model's time if there is one.
    async fn answer(&self, (body, objects): (Bytes, usize), nova: bool) -> Response {
        if let Some(model) = &self.model {
            let (workers, per_object) = if nova {
                (&model.nova_workers, model.per_server)
            } else {
                (&model.workers, model.per_object)
            };
            let _worker = workers.acquire().await.unwrap();
            tokio::time::sleep(per_object * objects as u32).await;
        }
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
        (StatusCode::OK, [("content-type", "application/json")], body).into_response()
    }
}

async fn token(State(s): State<Arc<Server>>) -> Response {
    s.requests.fetch_add(1, Ordering::Relaxed);
    let base = &s.base;
    let body = json!({"token": {"methods": ["password"], "expires_at": "2099-01-01T00:00:00.000000Z",
        "issued_at": "2026-01-01T00:00:00.000000Z", "user": {"id": "bench", "name": "bench", "domain": {"id": "default", "name": "Default"}},
        "project": {"id": "admin", "name": "admin", "domain": {"id": "default", "name": "Default"}}, "roles": [{"id": "admin", "name": "admin"}], "catalog": [
        {"type": "identity", "name": "keystone", "id": "k", "endpoints": [{"interface": "public", "region_id": "RegionOne", "url": format!("{base}/identity/v3")}]},
        {"type": "network", "name": "neutron", "id": "n", "endpoints": [{"interface": "public", "region_id": "RegionOne", "url": format!("{base}/network")}]},
        {"type": "compute", "name": "nova", "id": "c", "endpoints": [{"interface": "public", "region_id": "RegionOne", "url": format!("{base}/compute/v2.1")}]}]}});
    (
        StatusCode::CREATED,
        [
            ("x-subject-token", "bench-token"),
            ("content-type", "application/json"),
        ],
        body.to_string(),
    )
        .into_response()
}

async fn neutron(State(s): State<Arc<Server>>, Path(name): Path<String>, uri: Uri) -> Response {
    match s.page(&name, &uri) {
        Some(page) => s.answer(page, false).await,
        None => (
            StatusCode::NOT_FOUND,
            "{\"NeutronError\": {\"message\": \"not found\"}}",
        )
            .into_response(),
    }
}

async fn servers(State(s): State<Arc<Server>>, uri: Uri) -> Response {
    let page = s.page("servers-detail", &uri).expect("servers");
    s.answer(page, true).await
}

/// Nova's compute services: one host, in a cell that answers (driftmux asks whether every
/// cell does).
async fn services(State(s): State<Arc<Server>>) -> Response {
    let body = json!({"services": [{"binary": "nova-compute", "host": "compute-1",
        "id": "5f2b8a3c-0b3e-4c1e-9d8e-1f2a3b4c5d6e", "zone": "nova", "status": "enabled",
        "state": "up", "updated_at": "2026-01-01T00:00:00Z", "disabled_reason": null}]});
    s.answer((Bytes::from(body.to_string()), 0), true).await
}

async fn projects(State(s): State<Arc<Server>>, uri: Uri) -> Response {
    let page = s.page("projects", &uri).expect("projects");
    s.answer(page, false).await
}

/// Version discovery documents (openstacksdk and keystoneauth ask for them).
async fn versions(State(s): State<Arc<Server>>, uri: Uri) -> Response {
    let base = &s.base;
    let body = match uri.path().trim_end_matches('/') {
        "/identity" | "/identity/v3" => {
            json!({"version": {"id": "v3.14", "status": "stable", "updated": "2020-04-07T00:00:00Z",
            "links": [{"rel": "self", "href": format!("{base}/identity/v3/")}],
            "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}]}})
        }
        "/network" => {
            json!({"versions": [{"id": "v2.0", "status": "CURRENT", "links": [{"rel": "self", "href": format!("{base}/network/v2.0/")}]}]})
        }
        "/network/v2.0" => json!({"resources": []}),
        "/compute" | "/compute/v2.1" => {
            json!({"version": {"id": "v2.1", "status": "CURRENT", "version": "2.96", "min_version": "2.1",
            "updated": "2013-07-23T11:33:21Z", "links": [{"rel": "self", "href": format!("{base}/compute/v2.1/")}]}})
        }
        _ => return (StatusCode::NOT_FOUND, "not found").into_response(),
    };
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn stats(State(s): State<Arc<Server>>) -> String {
    json!({"requests": s.requests.load(Ordering::Relaxed), "bytes": s.bytes.load(Ordering::Relaxed)}).to_string()
}

async fn reset(State(s): State<Arc<Server>>) -> &'static str {
    s.requests.store(0, Ordering::Relaxed);
    s.bytes.store(0, Ordering::Relaxed);
    "ok"
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().expect("SNAPSHOT");
    let micros = |us: &str, what: &str| std::time::Duration::from_micros(us.parse().expect(what));
    let model = match &args[1..] {
        [] => None,
        [workers, us, per_server @ ..] if per_server.len() <= 1 => {
            let workers: usize = workers.parse().expect("WORKERS");
            Some(Model {
                workers: tokio::sync::Semaphore::new(workers),
                per_object: micros(us, "US_PER_OBJECT"),
                nova_workers: tokio::sync::Semaphore::new(workers),
                per_server: micros(per_server.first().unwrap_or(us), "US_PER_SERVER"),
            })
        }
        _ => panic!("usage: bench-server SNAPSHOT [WORKERS US_PER_OBJECT [US_PER_SERVER]]"),
    };
    let mut snapshot: Value =
        serde_json::from_slice(&std::fs::read(path).expect("read")).expect("JSON");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let mut collections = HashMap::new();
        for (name, snap_key, key) in [
            (
                "security-group-rules",
                "security_group_rules",
                "security_group_rules",
            ),
            ("security-groups", "security_groups", "security_groups"),
            ("ports", "ports", "ports"),
            ("floatingips", "floatingips", "floatingips"),
            ("networks", "networks", "networks"),
            ("address-groups", "address_groups", "address_groups"),
            ("servers-detail", "servers", "servers"),
            ("projects", "projects", "projects"),
        ] {
            collections.insert(name, collection(&mut snapshot, snap_key, key));
        }
        let server = Arc::new(Server {
            base: base.clone(),
            collections,
            cache: RwLock::new(HashMap::new()),
            model,
            requests: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
        });
        let app = Router::new()
            .route("/identity/v3/auth/tokens", post(token))
            .route("/identity/v3/projects", get(projects))
            .route("/network/v2.0/{name}", get(neutron))
            .route("/compute/v2.1/servers/detail", get(servers))
            .route("/compute/v2.1/os-services", get(services))
            .route("/_stats", get(stats))
            .route("/identity", get(versions))
            .route("/identity/v3", get(versions))
            .route("/identity/v3/", get(versions))
            .route("/network", get(versions))
            .route("/network/", get(versions))
            .route("/network/v2.0/", get(versions))
            .route("/compute", get(versions))
            .route("/compute/v2.1", get(versions))
            .route("/compute/v2.1/", get(versions))
            .route("/_reset", post(reset))
            .with_state(server);
        println!("{base}");
        use std::io::Write;
        std::io::stdout().flush().unwrap();
        axum::serve(listener, app).await.unwrap();
    });
}
