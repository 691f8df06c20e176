//! A fake OpenStack on 127.0.0.1 that behaves like Keystone, Neutron and Nova where driftmux
//! depends on it: token issuance with `X-Subject-Token` and a catalog, admin vs project
//! scope, Neutron and Nova pagination (`limit`, `marker`, `*_links` with `next` and
//! `previous`, an empty last page when the total is a multiple of the limit, a deleted
//! marker restarting from the first page, `sort_key=id&sort_dir=desc` on Neutron, Nova's
//! servers newest first unless asked `sort_key=uuid`), Nova's `os-services` (a cell that
//! does not respond shows its hosts `UNKNOWN` at 2.69), `fields=`, the `direction` and
//! `router:external` filters, error bodies in each service's shape,
//! and scripted faults (status codes, `Retry-After`, stalls, truncated bodies, revoked
//! tokens, looping links). Every request is logged for assertions.
#![allow(dead_code)]
#![allow(clippy::result_large_err)] // axum handlers answer with a Response either way

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Map, Value};

/// One scripted misbehaviour, applied to the next request whose path matches.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Answer with this status (and a service-shaped error body).
    Status(u16),
    /// Answer with this status and a message echoing what was sent: the request body to
    /// Keystone, the `X-Auth-Token` header to the other services (a gateway's error page
    /// quoting the request; with 200, a page whose lists are that message; with 201 to
    /// Keystone, a token whose body is).
    Echo(u16),
    /// 429 with `Retry-After: secs`.
    RetryAfter(u64),
    /// Wait this long before answering normally.
    Stall(Duration),
    /// Send the first half of the normal body only (declared length kept: the client sees
    /// the body cut off).
    Truncate,
    /// Answer 200 with a body that is not JSON.
    Garbage,
    /// Revoke every token before answering (the client must re-authenticate).
    RevokeTokens,
    /// Make the next link point back at the same page.
    LoopLink,
    /// Make the next link the collection's URL with no query at all (a proxy that drops
    /// it): the first page again, without the limit or filters.
    BareLink,
    /// Treat the request's marker as deleted: Neutron then restarts from the first page.
    DropMarker,
    /// A 3 MiB page (larger than the bound the tests set with --max-page-bytes).
    Huge,
    /// Answer with this redirect status, `Location` the same path and query on this origin
    /// (`http://127.0.0.1:PORT`).
    Redirect(u16, String),
    /// Answer 200 with a page holding nothing (no objects, no links), as a Neutron API
    /// worker that has just started can answer its first concurrent requests.
    Empty,
    /// Answer 200 with every other object of the listing left out, as such a worker can
    /// too (its policy rules loaded while it filtered the page).
    Partial,
    /// `Partial` the other way: every other object, the first left out (as many as
    /// `Partial` gives of an even count, none the same).
    PartialOther,
    /// Answer 200 with every other object of the page left out (the first kept), as
    /// Neutron answers when its policy check refuses them: a page of two objects or more
    /// is then short, and has no next link.
    Thinned,
    /// `Thinned`, answered after waiting this long (a slow page from a worker that has just
    /// started: where listings read from both ends meet).
    SlowThinned(Duration),
}

#[derive(Clone)]
pub struct User {
    pub name: String,
    pub password: String,
    pub project: String,
    pub admin: bool,
}

pub struct Config {
    /// The cloud's content, in snapshot form (lists of raw API objects).
    pub snapshot: Value,
    pub users: Vec<User>,
    /// Application credentials: id → (secret, user name).
    pub app_credentials: HashMap<String, (String, String)>,
    /// Leave the network service out of the catalog.
    pub no_network_in_catalog: bool,
    /// Answer 404 to address-groups (extension absent).
    pub no_address_groups: bool,
    /// Keystone's list_limit cut the project list (`"truncated": true`).
    pub truncated_projects: bool,
    /// Host written into pagination hrefs (as behind a proxy): never reachable.
    pub link_host: String,
    /// Tokens valid from the start (for token authentication), and their user's name.
    pub preset_tokens: HashMap<String, String>,
    /// A second region in the catalog, with network and compute endpoints (the same
    /// server's).
    pub second_region: Option<String>,
    /// Ignore `direction=` on rule listings (serve every rule), as a server without the
    /// filter would.
    pub ignore_direction_filter: bool,
    /// Ignore `sort_key`/`sort_dir` (Neutron listing in id order, Nova's servers as the
    /// snapshot lists them), as a server without sorting would.
    pub ignore_sort: bool,
    /// Compute hosts of a Nova cell that does not respond: `os-services` lists them with
    /// status `UNKNOWN` at microversion 2.69 or later (and leaves them out before it).
    pub down_cell_hosts: Vec<String>,
    /// Neutron's `pagination_max_limit`: a `limit` above it is served as it (its pages,
    /// and the `limit` of their next links).
    pub neutron_max_limit: Option<usize>,
}

impl Config {
    pub fn new(snapshot: Value) -> Config {
        Config {
            snapshot,
            users: vec![
                User {
                    name: "admin".into(),
                    password: "canary-password-123".into(),
                    project: "admin".into(),
                    admin: true,
                },
                User {
                    name: "tenant".into(),
                    password: "tenant-pass".into(),
                    project: "datalab".into(),
                    admin: false,
                },
            ],
            app_credentials: HashMap::from([(
                "appcred-1".to_owned(),
                ("canary-appcred-secret".to_owned(), "admin".to_owned()),
            )]),
            no_network_in_catalog: false,
            no_address_groups: false,
            truncated_projects: false,
            link_host: "http://neutron.internal.invalid:9696".into(),
            preset_tokens: HashMap::from([("canary-token-4242".to_owned(), "admin".to_owned())]),
            second_region: None,
            ignore_direction_filter: false,
            ignore_sort: false,
            down_cell_hosts: Vec::new(),
            neutron_max_limit: None,
        }
    }
}

pub struct Shared {
    pub config: Config,
    pub tokens: HashMap<String, User>,
    pub token_counter: u64,
    pub faults: Vec<(String, VecDeque<Fault>)>,
    pub log: Vec<String>,
    pub base: String,
}

#[derive(Clone)]
pub struct FakeOpenStack {
    pub base: String,
    /// The same server on plain http (`base` itself, unless `start_tls` put TLS in front;
    /// the catalog lists `base`).
    pub http_base: String,
    pub state: Arc<Mutex<Shared>>,
}

impl FakeOpenStack {
    /// Starts the server on 127.0.0.1 (a random port) in a background thread.
    pub fn start(config: Config) -> FakeOpenStack {
        let tokens = config
            .preset_tokens
            .iter()
            .filter_map(|(t, name)| {
                let user = config.users.iter().find(|u| &u.name == name)?.clone();
                Some((t.clone(), user))
            })
            .collect();
        let state = Arc::new(Mutex::new(Shared {
            config,
            tokens,
            token_counter: 0,
            faults: Vec::new(),
            log: Vec::new(),
            base: String::new(),
        }));
        let (tx, rx) = std::sync::mpsc::channel();
        let st = state.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr: SocketAddr = listener.local_addr().unwrap();
                st.lock().unwrap().base = format!("http://{addr}");
                tx.send(addr).unwrap();
                axum::serve(listener, router(st)).await.unwrap();
            });
        });
        let addr = rx.recv().unwrap();
        FakeOpenStack {
            base: format!("http://{addr}"),
            http_base: format!("http://{addr}"),
            state,
        }
    }

    pub fn auth_url(&self) -> String {
        format!("{}/identity", self.base)
    }

    /// Queues faults for requests whose path contains `path`; `path?query` also needs the
    /// query to contain `query` (`/security-group-rules?direction=egress`).
    pub fn fault(&self, path: &str, faults: impl IntoIterator<Item = Fault>) {
        self.state
            .lock()
            .unwrap()
            .faults
            .push((path.to_owned(), faults.into_iter().collect()));
    }

    pub fn log(&self) -> Vec<String> {
        self.state.lock().unwrap().log.clone()
    }

    /// Requests whose path (with query) contains `needle`.
    pub fn requests(&self, needle: &str) -> Vec<String> {
        self.log()
            .into_iter()
            .filter(|l| l.contains(needle))
            .collect()
    }
}

fn router(state: Arc<Mutex<Shared>>) -> Router {
    Router::new()
        .route("/identity/v3/auth/tokens", post(issue_token))
        .route("/identity/v3/projects", get(list_projects))
        .route("/identity/v3/auth/projects", get(list_auth_projects))
        .route("/network/v2.0/{collection}", get(list_neutron))
        .route("/compute/v2.1/servers/detail", get(list_servers))
        .route("/compute/v2.1/os-services", get(list_services))
        .with_state(state)
}

fn json_response(status: StatusCode, body: Value) -> Response {
    (
        status,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// Applies the next queued fault for this path, if any. `Ok(None)`: proceed normally;
/// `Ok(Some(fault))`: a fault that shapes the normal answer; `Err(resp)`: answer this.
async fn take_fault(
    state: &Arc<Mutex<Shared>>,
    method: &Method,
    uri: &Uri,
    service: &str,
) -> Result<Option<Fault>, Response> {
    let fault = {
        let mut s = state.lock().unwrap();
        s.log.push(format!("{method} {uri}"));
        let (path, query) = (uri.path().to_owned(), uri.query().unwrap_or("").to_owned());
        let matches = |pattern: &str| match pattern.split_once('?') {
            Some((p, q)) => path.contains(p) && query.contains(q),
            None => path.contains(pattern),
        };
        s.faults
            .iter_mut()
            .find(|(p, q)| matches(p) && !q.is_empty())
            .and_then(|(_, q)| q.pop_front())
    };
    match fault {
        None => Ok(None),
        Some(Fault::Status(code)) => {
            let status = StatusCode::from_u16(code).unwrap();
            let body = match service {
                "network" => {
                    json!({"NeutronError": {"type": "Fault", "message": format!("injected {code}"), "detail": ""}})
                }
                "compute" => {
                    json!({"computeFault": {"code": code, "message": format!("injected {code}")}})
                }
                _ => {
                    json!({"error": {"code": code, "title": "Fault", "message": format!("injected {code}")}})
                }
            };
            Err(json_response(status, body))
        }
        Some(Fault::RetryAfter(secs)) => Err((
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", secs.to_string())],
            "rate limited",
        )
            .into_response()),
        Some(Fault::Stall(d)) => {
            tokio::time::sleep(d).await;
            Ok(None)
        }
        Some(Fault::SlowThinned(d)) => {
            tokio::time::sleep(d).await;
            Ok(Some(Fault::Thinned))
        }
        Some(Fault::RevokeTokens) => {
            state.lock().unwrap().tokens.clear();
            Ok(None)
        }
        Some(Fault::Redirect(code, origin)) => Err((
            StatusCode::from_u16(code).unwrap(),
            [("location", format!("{origin}{uri}"))],
            "moved",
        )
            .into_response()),
        Some(other) => Ok(Some(other)),
    }
}

/// The normal body, shaped by a fault that acts on it.
fn finish(fault: Option<Fault>, body: Value) -> Response {
    match fault {
        Some(Fault::Truncate) => {
            let text = body.to_string();
            let half = text[..text.len() / 2].to_owned();
            // The head and half the body, then the stream fails: the connection is cut
            // mid-body. (Failing at once, it would be cut before the head was sent.)
            use futures_util::StreamExt;
            let chunks = futures_util::stream::once(async { Ok(half) }).chain(
                futures_util::stream::once(async {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    Err(std::io::Error::other("connection reset"))
                }),
            );
            Response::builder()
                .status(200)
                .header("content-type", "application/json")
                .body(Body::from_stream(chunks))
                .unwrap()
        }
        Some(Fault::Garbage) => (StatusCode::OK, "<html>proxy error</html>").into_response(),
        Some(Fault::Huge) => {
            // The normal page padded to 3 MiB (tests lower the bound to 1 MiB).
            let mut text = body.to_string();
            text.push_str(&" ".repeat(3 << 20));
            json_response_text(text)
        }
        _ => json_response(StatusCode::OK, body),
    }
}

fn json_response_text(text: String) -> Response {
    (StatusCode::OK, [("content-type", "application/json")], text).into_response()
}

async fn issue_token(
    State(state): State<Arc<Mutex<Shared>>>,
    method: Method,
    uri: Uri,
    body: String,
) -> Response {
    let fault = match take_fault(&state, &method, &uri, "identity").await {
        Ok(Some(Fault::Echo(code))) => {
            let message = format!("cannot take this request: {body}");
            if code == 201 {
                // A token whose body is that text: a decoder quotes a string of the wrong type.
                let token = [("x-subject-token", "gAAAAA-fake-token-echoed")];
                return (
                    StatusCode::CREATED,
                    token,
                    json!({"token": message}).to_string(),
                )
                    .into_response();
            }
            return json_response(
                StatusCode::from_u16(code).unwrap(),
                json!({"error": {"code": code, "message": message}}),
            );
        }
        Ok(fault) => fault,
        Err(resp) => return resp,
    };
    let req: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let identity = &req["auth"]["identity"];
    let mut s = state.lock().unwrap();
    let user = match identity["methods"][0].as_str() {
        Some("password") => {
            let u = &identity["password"]["user"];
            s.config
                .users
                .iter()
                .find(|x| {
                    Some(x.name.as_str()) == u["name"].as_str()
                        && Some(x.password.as_str()) == u["password"].as_str()
                })
                .cloned()
        }
        Some("application_credential") => {
            let c = &identity["application_credential"];
            c["id"]
                .as_str()
                .and_then(|id| s.config.app_credentials.get(id))
                .filter(|(secret, _)| Some(secret.as_str()) == c["secret"].as_str())
                .and_then(|(_, name)| s.config.users.iter().find(|u| &u.name == name).cloned())
        }
        Some("token") => identity["token"]["id"]
            .as_str()
            .and_then(|t| s.tokens.get(t))
            .cloned(),
        _ => None,
    };
    let Some(user) = user else {
        return json_response(
            StatusCode::UNAUTHORIZED,
            json!({"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}}),
        );
    };
    s.token_counter += 1;
    let token = format!("gAAAAA-fake-token-{}", s.token_counter);
    s.tokens.insert(token.clone(), user.clone());
    let base = s.base.clone();
    let mut catalog = vec![
        json!({"type": "identity", "name": "keystone", "endpoints": [
            {"interface": "public", "region_id": "RegionOne", "region": "RegionOne", "url": format!("{base}/identity/v3")}]}),
        json!({"type": "compute", "name": "nova", "endpoints": [
            {"interface": "public", "region_id": "RegionOne", "region": "RegionOne", "url": format!("{base}/compute/v2.1")}]}),
    ];
    if !s.config.no_network_in_catalog {
        catalog.push(json!({"type": "network", "name": "neutron", "endpoints": [
            {"interface": "internal", "region_id": "RegionOne", "region": "RegionOne", "url": "http://neutron.internal.invalid:9696"},
            {"interface": "public", "region_id": "RegionOne", "region": "RegionOne", "url": format!("{base}/network")}]}));
    }
    if let Some(region) = &s.config.second_region {
        for (service, path) in [("network", "/network"), ("compute", "/compute/v2.1")] {
            catalog.push(json!({"type": service, "name": service, "endpoints": [
                {"interface": "public", "region_id": region, "region": region, "url": format!("{base}{path}")}]}));
        }
    }
    let roles = if user.admin {
        json!([{"id": "r1", "name": "admin"}, {"id": "r2", "name": "member"}])
    } else {
        json!([{"id": "r2", "name": "member"}])
    };
    // The project's id as the cloud holds it (Keystone's token names the project's own id).
    let projects = s.config.snapshot["projects"].as_array();
    let project_id = (projects.into_iter().flatten())
        .find(|p| p["name"] == user.project.as_str())
        .and_then(|p| p["id"].as_str())
        .map_or_else(|| format!("p-{}", user.project), str::to_owned);
    let body = json!({"token": {"methods": ["password"], "expires_at": "2099-01-01T00:00:00Z",
        "project": {"id": project_id, "name": user.project},
        "roles": roles, "catalog": catalog}});
    let mut body = body.to_string();
    if let Some(Fault::Huge) = fault {
        body.push_str(&" ".repeat(3 << 20));
    }
    (
        StatusCode::CREATED,
        [
            ("x-subject-token", token.as_str()),
            ("content-type", "application/json"),
        ],
        body,
    )
        .into_response()
}

/// What every authenticated handler does first: the next queued fault for the path, then
/// the user behind the token (a fault answer or a 401 is the response instead).
async fn admit(
    state: &Arc<Mutex<Shared>>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    service: &str,
) -> Result<(Option<Fault>, User), Response> {
    let fault = take_fault(state, method, uri, service).await?;
    if let Some(Fault::Echo(code)) = fault {
        let token = headers.get("x-auth-token").and_then(|v| v.to_str().ok());
        let message = format!("the token {} is not accepted here", token.unwrap_or(""));
        if code == 200 {
            // A page whose list is that text: a decoder quotes a string of the wrong type.
            let lists = [
                "security_group_rules",
                "security_groups",
                "ports",
                "floatingips",
                "networks",
                "address_groups",
                "servers",
                "projects",
                "services",
            ];
            let page: Map<String, Value> = (lists.iter())
                .map(|k| (k.to_string(), json!(message)))
                .collect();
            return Err(json_response(StatusCode::OK, Value::Object(page)));
        }
        return Err(json_response(
            StatusCode::from_u16(code).unwrap(),
            json!({"error": {"code": code, "message": message}}),
        ));
    }
    Ok((fault, authorize(state, headers, service)?))
}

/// The user behind the request's token, or a 401 in the service's shape.
fn authorize(
    state: &Arc<Mutex<Shared>>,
    headers: &HeaderMap,
    service: &str,
) -> Result<User, Response> {
    let token = headers
        .get("x-auth-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    state
        .lock()
        .unwrap()
        .tokens
        .get(token)
        .cloned()
        .ok_or_else(|| {
            let body = match service {
                "network" => json!({"NeutronError": {"type": "Unauthorized", "message": "Authentication required", "detail": ""}}),
                _ => json!({"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}}),
            };
            json_response(StatusCode::UNAUTHORIZED, body)
        })
}

fn snapshot_list(state: &Arc<Mutex<Shared>>, key: &str) -> Vec<Value> {
    state.lock().unwrap().config.snapshot[key]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn list_projects(
    State(state): State<Arc<Mutex<Shared>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let user = match admit(&state, &method, &uri, &headers, "identity").await {
        Ok((_, user)) => user,
        Err(r) => return r,
    };
    if !user.admin {
        return json_response(
            StatusCode::FORBIDDEN,
            json!({"error": {"code": 403, "title": "Forbidden", "message": "You are not authorized to perform the requested action: identity:list_projects."}}),
        );
    }
    let projects = snapshot_list(&state, "projects");
    let truncated = state.lock().unwrap().config.truncated_projects;
    json_response(
        StatusCode::OK,
        json!({"projects": projects, "links": {"self": uri.to_string(), "next": null, "previous": null}, "truncated": truncated}),
    )
}

async fn list_auth_projects(
    State(state): State<Arc<Mutex<Shared>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let user = match admit(&state, &method, &uri, &headers, "identity").await {
        Ok((_, user)) => user,
        Err(r) => return r,
    };
    let projects: Vec<Value> = snapshot_list(&state, "projects")
        .into_iter()
        .filter(|p| p["name"] == user.project.as_str())
        .collect();
    json_response(
        StatusCode::OK,
        json!({"projects": projects, "links": {"next": null}}),
    )
}

/// Parses repeated query parameters (`fields=a&fields=b`).
fn query_pairs(uri: &Uri) -> Vec<(String, String)> {
    uri.query()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 3 <= b.len() {
            if let Some(byte) = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The order a listing is served in.
#[derive(Clone, Copy, PartialEq)]
enum Order {
    /// The snapshot's (Nova's servers unasked: newest first).
    AsStored,
    ById,
    ByIdDescending,
}

impl Order {
    /// The order `pairs` ask for by `sort_key=key`: by id, the other way with
    /// `sort_dir=desc`; `unasked` without it, or when the server ignores sorting.
    fn asked(pairs: &[(String, String)], key: &str, unasked: Order, ignore: bool) -> Order {
        let has = |k: &str, v: &str| pairs.iter().any(|(pk, pv)| pk == k && pv == v);
        if ignore || !has("sort_key", key) {
            unasked
        } else if has("sort_dir", "desc") {
            Order::ByIdDescending
        } else {
            Order::ById
        }
    }
}

/// One page of `items` (in `order`) after `marker`, with Neutron-style links.
fn paginate(
    items: Vec<Value>,
    pairs: &[(String, String)],
    fault: Option<&Fault>,
    link_base: &str,
    key: &str,
    order: Order,
) -> Value {
    let loop_link = matches!(fault, Some(Fault::LoopLink));
    let drop_marker = matches!(fault, Some(Fault::DropMarker));
    let mut items = items;
    if order != Order::AsStored {
        items.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    }
    if order == Order::ByIdDescending {
        items.reverse();
    }
    let limit: Option<usize> = pairs
        .iter()
        .find(|(k, _)| k == "limit")
        .and_then(|(_, v)| v.parse().ok());
    let marker = pairs
        .iter()
        .find(|(k, _)| k == "marker")
        .map(|(_, v)| v.clone())
        .filter(|_| !drop_marker);
    let fields: Vec<&str> = pairs
        .iter()
        .filter(|(k, _)| k == "fields")
        .map(|(_, v)| v.as_str())
        .collect();
    // A marker that no longer exists restarts from the first page, as Neutron does.
    let start = marker
        .as_deref()
        .and_then(|m| items.iter().position(|i| i["id"] == m).map(|p| p + 1))
        .unwrap_or(0);
    let end = limit.map_or(items.len(), |l| (start + l).min(items.len()));
    let mut page: Vec<Value> = items[start..end]
        .iter()
        .map(|item| {
            if fields.is_empty() {
                item.clone()
            } else {
                let mut m = Map::new();
                for f in &fields {
                    if let Some(v) = item.get(*f) {
                        m.insert((*f).to_owned(), v.clone());
                    }
                }
                Value::Object(m)
            }
        })
        .collect();
    if matches!(fault, Some(Fault::Thinned)) {
        // Neutron drops what its policy check refused from the page it read: the page is
        // short, and gets no next link.
        let mut keep = false;
        page.retain(|_| {
            keep = !keep;
            keep
        });
    }
    let mut out = Map::new();
    out.insert(key.to_owned(), Value::Array(page.clone()));
    if let Some(limit) = limit {
        let keep: Vec<String> = pairs
            .iter()
            .filter(|(k, _)| k != "marker")
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let mut links = Vec::new();
        // A full page gets a next link (so a total that is a multiple of the limit ends
        // with an empty page that has none).
        if page.len() == limit {
            let marker = if loop_link {
                marker.clone().unwrap_or_default()
            } else {
                page.last().unwrap()["id"].as_str().unwrap().to_owned()
            };
            let mut q = keep.clone();
            q.push(format!("marker={marker}"));
            if loop_link && marker.is_empty() {
                q.pop();
            }
            let href = if matches!(fault, Some(Fault::BareLink)) {
                link_base.to_owned()
            } else {
                format!("{link_base}?{}", q.join("&"))
            };
            links.push(json!({"rel": "next", "href": href}));
        }
        if let Some(first) = page.first() {
            let mut q = keep.clone();
            q.push(format!("marker={}", first["id"].as_str().unwrap()));
            q.push("page_reverse=True".into());
            links.push(json!({"rel": "previous", "href": format!("{link_base}?{}", q.join("&"))}));
        }
        out.insert(format!("{key}_links"), Value::Array(links));
    }
    Value::Object(out)
}

async fn list_neutron(
    State(state): State<Arc<Mutex<Shared>>>,
    Path(collection): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let fault = match admit(&state, &method, &uri, &headers, "network").await {
        Ok((fault, _)) => fault,
        Err(r) => return r,
    };
    let (key, snap_key) = match collection.as_str() {
        "security-group-rules" => ("security_group_rules", "security_group_rules"),
        "security-groups" => ("security_groups", "security_groups"),
        "ports" => ("ports", "ports"),
        "floatingips" => ("floatingips", "floatingips"),
        "networks" => ("networks", "networks"),
        "address-groups" => {
            if state.lock().unwrap().config.no_address_groups {
                return json_response(
                    StatusCode::NOT_FOUND,
                    json!({"NeutronError": {"type": "HTTPNotFound", "message": "The resource could not be found.", "detail": ""}}),
                );
            }
            ("address_groups", "address_groups")
        }
        _ => {
            return json_response(
                StatusCode::NOT_FOUND,
                json!({"NeutronError": {"type": "HTTPNotFound", "message": "The resource could not be found.", "detail": ""}}),
            )
        }
    };
    let mut pairs = query_pairs(&uri);
    let mut items = snapshot_list(&state, snap_key);
    let (ignore_direction, ignore_sort, max_limit) = {
        let c = &state.lock().unwrap().config;
        (
            c.ignore_direction_filter,
            c.ignore_sort,
            c.neutron_max_limit,
        )
    };
    // As Neutron's `get_limit_and_marker`: the limit asked for, at most the maximum.
    if let Some(max) = max_limit {
        for (k, v) in &mut pairs {
            if let (true, Ok(asked)) = (k == "limit", v.parse::<usize>()) {
                *v = asked.min(max).to_string();
            }
        }
    }
    let order = Order::asked(&pairs, "id", Order::ById, ignore_sort);
    for (k, v) in &pairs {
        if k == "router:external" {
            let want = v.eq_ignore_ascii_case("true");
            items.retain(|n| n["router:external"].as_bool().unwrap_or(false) == want);
        }
        // Neutron filters on an attribute's exact value (it stores only ingress or egress).
        if k == "direction" && !ignore_direction {
            items.retain(|r| r["direction"] == v.as_str());
        }
    }
    if matches!(fault, Some(Fault::Empty)) {
        items.clear();
    }
    if let Some(first_kept @ (Fault::Partial | Fault::PartialOther)) = &fault {
        let mut keep = matches!(first_kept, Fault::PartialOther);
        items.retain(|_| {
            keep = !keep;
            keep
        });
    }
    let link_host = state.lock().unwrap().config.link_host.clone();
    let link_base = format!("{link_host}/v2.0/{collection}");
    let page = paginate(items, &pairs, fault.as_ref(), &link_base, key, order);
    finish(fault, page)
}

async fn list_servers(
    State(state): State<Arc<Mutex<Shared>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Query(_q): Query<HashMap<String, String>>,
) -> Response {
    let (fault, user) = match admit(&state, &method, &uri, &headers, "compute").await {
        Ok(admitted) => admitted,
        Err(r) => return r,
    };
    let pairs = query_pairs(&uri);
    let all_tenants = pairs.iter().any(|(k, v)| k == "all_tenants" && v == "1");
    if all_tenants && !user.admin {
        return json_response(
            StatusCode::FORBIDDEN,
            json!({"forbidden": {"code": 403, "message": "Policy doesn't allow os_compute_api:servers:detail:get_all_tenants to be performed."}}),
        );
    }
    let (base, ignore_sort) = {
        let state = state.lock().unwrap();
        (state.base.clone(), state.config.ignore_sort)
    };
    // Newest first (as the snapshot lists them) unless asked for uuid order.
    let order = Order::asked(&pairs, "uuid", Order::AsStored, ignore_sort);
    let link_base = format!("{base}/compute/v2.1/servers/detail");
    let mut servers = snapshot_list(&state, "servers");
    if !all_tenants {
        // As Nova: without all_tenants, the token's project's own servers.
        let projects = snapshot_list(&state, "projects");
        let own = projects.iter().find(|p| p["name"] == user.project.as_str());
        let own = own.map(|p| p["id"].clone());
        servers.retain(|s| Some(&s["tenant_id"]) == own.as_ref());
    }
    let page = paginate(
        servers,
        &pairs,
        fault.as_ref(),
        &link_base,
        "servers",
        order,
    );
    finish(fault, page)
}

/// Nova's compute services (admin only): one host that answers, and the hosts of a cell
/// that does not as Nova shows them from microversion 2.69 (host, binary, `UNKNOWN`).
async fn list_services(
    State(state): State<Arc<Mutex<Shared>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let (fault, user) = match admit(&state, &method, &uri, &headers, "compute").await {
        Ok(admitted) => admitted,
        Err(r) => return r,
    };
    if !user.admin {
        return json_response(
            StatusCode::FORBIDDEN,
            json!({"forbidden": {"code": 403, "message": "Policy doesn't allow os_compute_api:os-services:list to be performed."}}),
        );
    }
    let microversion = headers
        .get("openstack-api-version")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("compute "))
        .and_then(|v| v.split_once('.'))
        .and_then(|(major, minor)| Some((major.parse::<u32>().ok()?, minor.parse::<u32>().ok()?)));
    let mut services = vec![json!({"binary": "nova-compute", "host": "compute-1",
        "id": "5f2b8a3c-0b3e-4c1e-9d8e-1f2a3b4c5d6e", "zone": "nova", "status": "enabled",
        "state": "up", "updated_at": "2026-11-24T08:00:00Z", "disabled_reason": null})];
    if microversion.is_some_and(|v| v >= (2, 69)) {
        let down = state.lock().unwrap().config.down_cell_hosts.clone();
        services.extend(
            down.into_iter()
                .map(|host| json!({"binary": "nova-compute", "host": host, "status": "UNKNOWN"})),
        );
    }
    finish(fault, json!({ "services": services }))
}

/// The same fake OpenStack behind TLS: a certificate for 127.0.0.1 signed by a fresh CA.
/// Returns the server (its `base` is the https URL) and the CA certificate (PEM).
impl FakeOpenStack {
    pub fn start_tls(config: Config) -> (FakeOpenStack, String) {
        use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
        use tokio_rustls::rustls;

        let plain = FakeOpenStack::start(config);
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
        let key = KeyPair::generate().unwrap();
        let cert = CertificateParams::new(vec!["127.0.0.1".to_owned()])
            .unwrap()
            .signed_by(&key, &ca)
            .unwrap();
        let server_config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.der().clone()],
                rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).unwrap(),
            )
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server_config));
        let backend = plain.base.trim_start_matches("http://").to_owned();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(listener.local_addr().unwrap()).unwrap();
                loop {
                    let Ok((tcp, _)) = listener.accept().await else {
                        continue;
                    };
                    let acceptor = acceptor.clone();
                    let backend = backend.clone();
                    tokio::spawn(async move {
                        // A client that rejects the certificate aborts the handshake: fine.
                        let Ok(mut tls) = acceptor.accept(tcp).await else {
                            return;
                        };
                        let Ok(mut up) = tokio::net::TcpStream::connect(backend).await else {
                            return;
                        };
                        let _ = tokio::io::copy_bidirectional(&mut tls, &mut up).await;
                    });
                }
            });
        });
        let addr = rx.recv().unwrap();
        let base = format!("https://{addr}");
        plain.state.lock().unwrap().base = base.clone();
        (
            FakeOpenStack {
                base,
                http_base: plain.http_base,
                state: plain.state,
            },
            ca.pem(),
        )
    }
}
