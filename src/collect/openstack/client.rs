//! The HTTP side of collection: one reqwest client (rustls) with timeouts, retries with
//! backoff and jitter (connection errors, 5xx, 429 honouring `Retry-After`), one
//! re-authentication on a 401, a bound on the size of a body, and redirects kept to the
//! same origin. One request at a time: pagination is `listing`'s.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::StatusCode;

use super::auth::{self, Token};
use super::config::CloudConfig;
use super::secret::{redact, Secret};

/// Tunables of the HTTP client.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// Per request, body included.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Retries after the first attempt, for connection errors, 5xx and 429.
    pub retries: u32,
    /// `limit` sent with every list request.
    pub page_size: usize,
    /// A page larger than this is refused.
    pub max_page_bytes: usize,
    /// Longest wait honoured from a `Retry-After` header.
    pub max_retry_after: Duration,
    /// First backoff delay (doubled each retry, plus jitter).
    pub backoff: Duration,
    /// Log every request (method, URL, status, time) and retry to stderr. Never a header
    /// or a body: no token or password can appear.
    pub verbose: bool,
    /// Keep the raw API objects as well as the validated ones (`--save-snapshot`).
    pub keep_raw: bool,
    /// A Neutron or Nova listing still running after this long is also read from its end,
    /// in a second stream (see `both_ends`); `None`: never.
    pub reverse_after: Option<Duration>,
}

impl Default for ClientSettings {
    fn default() -> Self {
        ClientSettings {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            retries: 3,
            page_size: 1000,
            max_page_bytes: 256 << 20,
            max_retry_after: Duration::from_secs(60),
            backoff: Duration::from_millis(500),
            verbose: false,
            keep_raw: false,
            reverse_after: Some(Duration::from_secs(2)),
        }
    }
}

/// Why a request failed for good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchError {
    pub status: Option<u16>,
    pub message: String,
}

impl FetchError {
    pub(super) fn msg(message: impl Into<String>) -> FetchError {
        FetchError {
            status: None,
            message: message.into(),
        }
    }
}

/// An authenticated session against one cloud.
pub struct Session {
    http: reqwest::Client,
    cloud: CloudConfig,
    settings: ClientSettings,
    /// The current token and its generation (bumped on each re-authentication).
    token: tokio::sync::RwLock<(u64, Arc<Token>)>,
    pub requests: AtomicU64,
    pub bytes: AtomicU64,
}

/// Builds the HTTP client: rustls with the system's roots (when `system_roots`: loading
/// them costs ~3 ms of CPU, for nothing on a cloud reached over plain http) plus `cacert`,
/// or no verification when asked; a client certificate when configured.
pub fn http_client(
    cloud: &CloudConfig,
    settings: &ClientSettings,
    system_roots: bool,
) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(system_roots)
        .timeout(settings.timeout)
        .connect_timeout(settings.connect_timeout.min(settings.timeout))
        .user_agent(concat!("driftmux/", env!("CARGO_PKG_VERSION")))
        .redirect(redirect_policy())
        .pool_idle_timeout(Duration::from_secs(30));
    if let Some(path) = &cloud.cacert {
        let pem = std::fs::read(path)
            .map_err(|e| format!("cannot read cacert {}: {e}", path.display()))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
            format!(
                "cacert {}: not a PEM certificate bundle: {e}",
                path.display()
            )
        })?;
        if certs.is_empty() {
            return Err(format!("cacert {}: no certificate found", path.display()));
        }
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    if let (Some(cert), Some(key)) = (&cloud.cert, &cloud.key) {
        let mut pem =
            std::fs::read(cert).map_err(|e| format!("cannot read cert {}: {e}", cert.display()))?;
        pem.extend(
            std::fs::read(key).map_err(|e| format!("cannot read key {}: {e}", key.display()))?,
        );
        let identity = reqwest::Identity::from_pem(&pem)
            .map_err(|e| format!("cert/key {}: {e}", cert.display()))?;
        builder = builder.identity(identity);
    }
    if !cloud.verify {
        builder = builder.danger_accept_invalid_certs(true);
    }
    builder
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

/// What authentication failed with.
#[derive(Debug)]
pub enum AuthError {
    /// Keystone refused the credentials (401): its message.
    Rejected(String),
    /// Keystone could not be reached or answered oddly.
    Failed(String),
}

impl Session {
    /// Authenticates and returns a session holding the token.
    pub async fn connect(
        cloud: CloudConfig,
        settings: ClientSettings,
        http: reqwest::Client,
    ) -> Result<Session, AuthError> {
        let token = authenticate(&http, &cloud, &settings).await?;
        Ok(Session {
            http,
            cloud,
            settings,
            token: tokio::sync::RwLock::new((0, Arc::new(token))),
            requests: AtomicU64::new(1),
            bytes: AtomicU64::new(0),
        })
    }

    pub fn cloud(&self) -> &CloudConfig {
        &self.cloud
    }

    /// Uses `http` from now on (a client that can reach the catalog's endpoints).
    pub fn set_http(&mut self, http: reqwest::Client) {
        self.http = http;
    }

    pub fn settings(&self) -> &ClientSettings {
        &self.settings
    }

    pub async fn token(&self) -> Arc<Token> {
        self.token.read().await.1.clone()
    }

    /// Re-authenticates unless another task already did since `generation`.
    async fn reauthenticate(&self, generation: u64) -> Result<(), FetchError> {
        let mut guard = self.token.write().await;
        if guard.0 != generation {
            return Ok(());
        }
        let token = authenticate(&self.http, &self.cloud, &self.settings)
            .await
            .map_err(|e| match e {
                AuthError::Rejected(m) | AuthError::Failed(m) => FetchError {
                    status: Some(401),
                    message: format!("re-authentication failed: {m}"),
                },
            })?;
        self.requests.fetch_add(1, Ordering::Relaxed);
        *guard = (generation + 1, Arc::new(token));
        Ok(())
    }

    /// `text`, from a server's answer, without `token` or the credentials' secret: a server
    /// may echo what it was sent.
    fn without_secrets(&self, text: String, token: &Secret) -> String {
        redact(text, &[token, self.cloud().auth.secret()])
    }

    /// `text`, from a server's answer, without the current token or the credentials'
    /// secret.
    pub(super) async fn redacted(&self, text: String) -> String {
        let token = self.token.read().await.1.clone();
        self.without_secrets(text, &token.value)
    }

    /// GET with retries and one re-authentication; the body replaces `body`'s contents
    /// (its room is reused: a listing reads every page into one buffer).
    pub async fn get_into(
        &self,
        url: &str,
        headers: &HeaderMap,
        body: &mut Vec<u8>,
    ) -> Result<(), FetchError> {
        let mut attempt = 0u32;
        let mut reauthenticated = false;
        loop {
            let (generation, token) = {
                let guard = self.token.read().await;
                (guard.0, guard.1.clone())
            };
            self.requests.fetch_add(1, Ordering::Relaxed);
            let started = std::time::Instant::now();
            let sent = self
                .http
                .get(url)
                .header("X-Auth-Token", sensitive(&token.value))
                .header("Accept", "application/json")
                .headers(headers.clone())
                .send()
                .await;
            if self.settings.verbose {
                let outcome = match &sent {
                    Ok(r) => format!("HTTP {}", r.status().as_u16()),
                    Err(e) => describe(e),
                };
                eprintln!(
                    "driftmux: GET {url} -> {outcome} ({} ms, attempt {})",
                    started.elapsed().as_millis(),
                    attempt + 1
                );
            }
            let retry_in = match sent {
                Err(e) => {
                    let message = describe(&e);
                    if attempt >= self.settings.retries {
                        return Err(FetchError::msg(message));
                    }
                    self.backoff(attempt)
                }
                Ok(resp) => {
                    let status = resp.status();
                    if status.is_success() {
                        match self.read_body(resp, body).await {
                            Ok(()) => return Ok(()),
                            Err(BodyError::TooLarge) => {
                                return Err(FetchError {
                                    status: Some(status.as_u16()),
                                    message: format!(
                                        "response larger than {} MiB: refused",
                                        self.settings.max_page_bytes >> 20
                                    ),
                                })
                            }
                            Err(BodyError::Transport(m)) => {
                                if attempt >= self.settings.retries {
                                    return Err(FetchError::msg(m));
                                }
                                self.backoff(attempt)
                            }
                        }
                    } else if status == StatusCode::UNAUTHORIZED && !reauthenticated {
                        reauthenticated = true;
                        if self.settings.verbose {
                            eprintln!("driftmux: {url}: HTTP 401, re-authenticating once");
                        }
                        self.reauthenticate(generation).await?;
                        continue;
                    } else if status == StatusCode::TOO_MANY_REQUESTS
                        || matches!(status.as_u16(), 500 | 502 | 503 | 504)
                    {
                        let retry_after = retry_after(resp.headers());
                        let (body, _) = read_at_most(resp, ERROR_BODY_MAX).await;
                        if attempt >= self.settings.retries {
                            return Err(FetchError {
                                status: Some(status.as_u16()),
                                message: self
                                    .without_secrets(auth::error_message(&body), &token.value),
                            });
                        }
                        match retry_after {
                            Some(wait) => wait.min(self.settings.max_retry_after),
                            None => self.backoff(attempt),
                        }
                    } else {
                        let redirect = unfollowed_redirect(&resp);
                        let (body, _) = read_at_most(resp, ERROR_BODY_MAX).await;
                        return Err(FetchError {
                            status: Some(status.as_u16()),
                            message: redirect.unwrap_or_else(|| {
                                self.without_secrets(auth::error_message(&body), &token.value)
                            }),
                        });
                    }
                }
            };
            attempt += 1;
            if self.settings.verbose {
                eprintln!("driftmux: retrying {url} in {} ms", retry_in.as_millis());
            }
            tokio::time::sleep(retry_in).await;
        }
    }

    async fn read_body(
        &self,
        resp: reqwest::Response,
        body: &mut Vec<u8>,
    ) -> Result<(), BodyError> {
        let max = self.settings.max_page_bytes;
        if declared_larger(&resp, max) {
            return Err(BodyError::TooLarge);
        }
        body.clear();
        body.reserve(resp.content_length().unwrap_or(0) as usize);
        match read_bounded(resp, body, max).await {
            Ok(true) => {
                self.bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
                Ok(())
            }
            Ok(false) => Err(BodyError::TooLarge),
            Err(e) => Err(BodyError::Transport(describe(&e))),
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        backoff(self.settings.backoff, attempt, jitter())
    }
}

/// Exponential backoff with jitter (a fraction in `0..1`): base * 2^attempt (the doubling
/// stops at 2^6), plus that times `jitter`.
fn backoff(base: Duration, attempt: u32, jitter: f64) -> Duration {
    let wait = base.saturating_mul(1 << attempt.min(6));
    wait + wait.mul_f64(jitter)
}

enum BodyError {
    TooLarge,
    Transport(String),
}

/// The most of an error response's body that is read: its message is at the start, and a
/// server sending more (without end, even) must not fill memory or hold the run.
const ERROR_BODY_MAX: usize = 64 << 10;

/// Appends `resp`'s body to `body`, up to `max` bytes in all: `Ok(true)` when it was
/// whole, `Ok(false)` when longer (the rest is never read), `Err` when the transfer
/// failed (what arrived stays in `body`).
async fn read_bounded(
    mut resp: reqwest::Response,
    body: &mut Vec<u8>,
    max: usize,
) -> Result<bool, reqwest::Error> {
    while let Some(chunk) = resp.chunk().await? {
        let room = max - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            return Ok(false);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(true)
}

/// Whether `resp` declares (Content-Length) a body longer than `max`: refused unread.
fn declared_larger(resp: &reqwest::Response, max: usize) -> bool {
    resp.content_length().is_some_and(|n| n > max as u64)
}

/// `resp`'s body and `true`, or its first `max` bytes and `false` when it is longer. A body
/// cut off gives what arrived (an error body or a token is judged by its content).
async fn read_at_most(resp: reqwest::Response, max: usize) -> (Vec<u8>, bool) {
    let mut body = Vec::new();
    let whole = read_bounded(resp, &mut body, max).await.unwrap_or(true);
    (body, whole)
}

/// Most redirects followed for one request.
const MAX_REDIRECTS: usize = 10;

/// Redirects are followed only within one origin (scheme, host and port): the token (a
/// header) and the password (the body a 307 or 308 repeats) never go to another server,
/// nor in clear text after an https -> http redirect. (reqwest's default policy follows
/// redirects anywhere and drops only the standard credential headers, not
/// `X-Auth-Token`.) A redirect not followed is answered as an error, see
/// [`unfollowed_redirect`].
fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let from = attempt.previous().last();
        if attempt.previous().len() <= MAX_REDIRECTS
            && from.is_some_and(|from| same_origin(from, attempt.url()))
        {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

fn same_origin(a: &reqwest::Url, b: &reqwest::Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// Why a redirect answer ended the request (`None` when `resp` is no redirect).
fn unfollowed_redirect(resp: &reqwest::Response) -> Option<String> {
    if !resp.status().is_redirection() {
        return None;
    }
    let location = resp
        .headers()
        .get(reqwest::header::LOCATION)?
        .to_str()
        .ok()?;
    let target = resp.url().join(location).ok()?;
    Some(if same_origin(resp.url(), &target) {
        format!("more than {MAX_REDIRECTS} redirects")
    } else {
        // The target's query is left out: only where it points matters here.
        let port = target.port().map(|p| format!(":{p}")).unwrap_or_default();
        format!(
            "redirect to {}://{}{port}{}, another scheme, host or port: not \
             followed, so no credential is sent there (configure the URL it points to)",
            target.scheme(),
            target.host_str().unwrap_or_default(),
            target.path()
        )
    })
}

/// The token as a header value marked sensitive (never shown in debug output).
fn sensitive(token: &Secret) -> reqwest::header::HeaderValue {
    let mut v = reqwest::header::HeaderValue::from_str(token.expose())
        .unwrap_or_else(|_| reqwest::header::HeaderValue::from_static("invalid"));
    v.set_sensitive(true);
    v
}

/// A short description of a transport error (the URL is printed separately), naming the
/// proxy a connection that failed or timed out went through.
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "the response body was cut off"
    } else {
        "request failed"
    };
    let proxy = (e.is_timeout() || e.is_connect())
        .then(|| e.url().and_then(|url| proxy_for(url.as_str())))
        .flatten();
    let kind = match proxy {
        Some(proxy) => format!("{kind} through the proxy {proxy} (from the *_PROXY variables)"),
        None => kind.to_owned(),
    };
    let mut source = std::error::Error::source(e);
    let mut detail = None;
    while let Some(s) = source {
        detail = Some(s.to_string());
        source = s.source();
    }
    match detail {
        Some(d) => format!("{kind}: {d}"),
        None => kind,
    }
}

/// The proxy a request to `url` goes through, as reqwest chooses it: the same matcher
/// (hyper-util's), reading the same variables as curl does (`HTTPS_PROXY`, `HTTP_PROXY`,
/// `ALL_PROXY`, `NO_PROXY`, either case). Only its scheme, host and port: never the
/// credentials its URL may hold.
pub fn proxy_for(url: &str) -> Option<String> {
    static PROXIES: std::sync::OnceLock<hyper_util::client::proxy::matcher::Matcher> =
        std::sync::OnceLock::new();
    let uri: http::Uri = url.parse().ok()?;
    let matcher = PROXIES.get_or_init(hyper_util::client::proxy::matcher::Matcher::from_system);
    let proxy = matcher.intercept(&uri)?;
    let proxy = proxy.uri();
    let port = proxy
        .port_u16()
        .map(|p| format!(":{p}"))
        .unwrap_or_default();
    Some(format!("{}://{}{port}", proxy.scheme_str()?, proxy.host()?))
}

/// `Retry-After` in seconds (the HTTP-date form is read as a short wait).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get("retry-after")?.to_str().ok()?.trim();
    match value.parse::<u64>() {
        Ok(secs) => Some(Duration::from_secs(secs)),
        Err(_) => Some(Duration::from_secs(1)),
    }
}

/// A pseudo-random fraction in [0, 1) for jitter (no need for a CSPRNG).
fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

pub(super) fn encode_query(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-encodes a query component (keeps unreserved characters and `:`).
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Authenticates against Keystone (with retries on connection errors and 5xx).
async fn authenticate(
    http: &reqwest::Client,
    cloud: &CloudConfig,
    settings: &ClientSettings,
) -> Result<Token, AuthError> {
    let url = format!("{}/auth/tokens", cloud.auth_url);
    let body = serde_json::to_vec(&auth::request_body(&cloud.auth)).expect("serializes");
    let mut attempt = 0;
    loop {
        let sent = http
            .post(&url)
            .header("Content-Type", "application/json")
            .body(body.clone())
            .send()
            .await;
        if settings.verbose {
            let outcome = match &sent {
                Ok(r) => format!("HTTP {}", r.status().as_u16()),
                Err(e) => describe(e),
            };
            eprintln!(
                "driftmux: POST {url} -> {outcome} (attempt {})",
                attempt + 1
            );
        }
        let retryable = match sent {
            Err(e) => format!("{url}: {}", describe(&e)),
            Ok(resp) => {
                if let Some(redirect) = unfollowed_redirect(&resp) {
                    let status = resp.status().as_u16();
                    return Err(AuthError::Failed(format!(
                        "{url} (HTTP {status}): {redirect}"
                    )));
                }
                let status = resp.status();
                let subject = resp
                    .headers()
                    .get("x-subject-token")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let max = if status.is_success() {
                    settings.max_page_bytes
                } else {
                    ERROR_BODY_MAX
                };
                let (bytes, whole) = read_at_most(resp, max).await;
                if status.is_success() {
                    if !whole {
                        return Err(AuthError::Failed(format!(
                            "{url}: response larger than {} MiB: refused",
                            max >> 20
                        )));
                    }
                    return auth::parse_token(subject.as_deref(), &bytes).map_err(|m| {
                        // A decoder's message quotes a string of the wrong type.
                        let issued = Secret::new(subject.unwrap_or_default());
                        let m = redact(m, &[cloud.auth.secret(), &issued]);
                        AuthError::Failed(format!("{url}: {m}"))
                    });
                }
                let message = redact(auth::error_message(&bytes), &[cloud.auth.secret()]);
                if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
                    return Err(AuthError::Rejected(format!(
                        "{url} (HTTP {}): {message}",
                        status.as_u16()
                    )));
                }
                if !(status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS) {
                    return Err(AuthError::Failed(format!(
                        "{url} (HTTP {}): {message}",
                        status.as_u16()
                    )));
                }
                format!("{url} (HTTP {}): {message}", status.as_u16())
            }
        };
        if attempt >= settings.retries {
            return Err(AuthError::Failed(retryable));
        }
        tokio::time::sleep(backoff(settings.backoff, attempt, jitter())).await;
        attempt += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server on 127.0.0.1 that answers every connection with `status` and a chunked
    /// body of `chunks` chunks of 16 KiB (`None`: without end).
    async fn streaming_server(status: u16, chunks: Option<usize>) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut request = [0u8; 4096];
                    let _ = conn.read(&mut request).await;
                    let head = format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n\
                         transfer-encoding: chunked\r\n\r\n"
                    );
                    conn.write_all(head.as_bytes()).await?;
                    let chunk = format!("4000\r\n{}\r\n", "x".repeat(0x4000));
                    let mut sent = 0;
                    while chunks.is_none_or(|n| sent < n) {
                        conn.write_all(chunk.as_bytes()).await?;
                        sent += 1;
                    }
                    conn.write_all(b"0\r\n\r\n").await
                });
            }
        });
        url
    }

    #[tokio::test]
    async fn a_body_is_read_up_to_a_bound_even_without_end() {
        let http = reqwest::Client::new();
        let endless = streaming_server(500, None).await;
        let read = async {
            let resp = http.get(&endless).send().await.unwrap();
            read_at_most(resp, ERROR_BODY_MAX).await
        };
        // Unbounded reading would never end: the test would fail here, not hang.
        let (body, whole) = tokio::time::timeout(Duration::from_secs(60), read)
            .await
            .expect("the read stops at the bound");
        assert_eq!((body.len(), whole), (ERROR_BODY_MAX, false));

        let short = streaming_server(200, Some(3)).await;
        let resp = http.get(&short).send().await.unwrap();
        let (body, whole) = read_at_most(resp, 3 * 0x4000).await;
        assert_eq!((body.len(), whole), (3 * 0x4000, true));
        let resp = http.get(&short).send().await.unwrap();
        let (body, whole) = read_at_most(resp, 3 * 0x4000 - 1).await;
        assert_eq!((body.len(), whole), (3 * 0x4000 - 1, false));
    }

    #[test]
    fn a_body_declared_longer_than_the_bound_is_refused_unread() {
        let declared = |len: usize| {
            let resp = http::Response::builder()
                .header("content-length", len)
                .body(vec![b'x'; len])
                .unwrap();
            declared_larger(&reqwest::Response::from(resp), 100)
        };
        assert!(!declared(99) && !declared(100));
        assert!(declared(101));
    }

    #[test]
    fn an_origin_is_the_scheme_host_and_port() {
        let url = |u: &str| reqwest::Url::parse(u).unwrap();
        let same = |a: &str, b: &str| same_origin(&url(a), &url(b));
        assert!(same("http://h/v3/auth/tokens", "http://h:80/other?x=1"));
        assert!(same("https://H.example:443/a", "https://h.example/b"));
        assert!(
            !same("https://h/a", "http://h/a"),
            "a downgrade to clear text"
        );
        assert!(!same("http://h/a", "https://h/a"));
        assert!(!same("http://h/a", "http://h:8080/a"));
        assert!(!same("http://h/a", "http://h.evil/a"));
        assert!(!same("http://127.0.0.1/a", "http://[::1]/a"));
    }

    #[test]
    fn query_encoding() {
        assert_eq!(
            encode_query(&[
                ("fields".into(), "router:external".into()),
                ("marker".into(), "a b/c".into())
            ]),
            "fields=router:external&marker=a%20b%2Fc"
        );
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", "3".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert(
            "retry-after",
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), Some(Duration::from_secs(1)));
    }

    #[test]
    fn backoff_doubles_up_to_64_times_the_base_plus_its_jitter() {
        let ms = Duration::from_millis;
        let waits: Vec<_> = (0..9).map(|a| backoff(ms(100), a, 0.0)).collect();
        let doubled = [100, 200, 400, 800, 1600, 3200, 6400, 6400, 6400].map(ms);
        assert_eq!(waits, doubled);
        assert_eq!(backoff(ms(100), 2, 0.5), ms(600));
    }

    #[test]
    fn jitter_is_a_fraction() {
        for _ in 0..100 {
            let j = jitter();
            assert!((0.0..1.0).contains(&j));
        }
    }
}
