//! Nova: the servers of every project (their names and status), and whether every Nova
//! cell answered the listing.

use reqwest::header::{HeaderMap, HeaderValue};
use serde::Deserialize;

use super::client::{FetchError, Session};
use super::listing::{every, Listed};
use super::pages::ServersPage;
use super::progress::Progress;
use crate::collect::wire::RawServer;
use crate::inventory::{CollectionError, Server};

/// The Nova microversion asked for: 2.69 returns partial records for servers in down cells
/// instead of failing the listing.
pub const NOVA_MICROVERSION: &str = "2.69";

/// The headers that ask Nova for [`NOVA_MICROVERSION`].
fn nova_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    let version = |v: String| HeaderValue::from_str(&v).expect("ASCII header value");
    headers.insert(
        "OpenStack-API-Version",
        version(format!("compute {NOVA_MICROVERSION}")),
    );
    headers.insert(
        "X-OpenStack-Nova-API-Version",
        version(NOVA_MICROVERSION.to_owned()),
    );
    headers
}

/// Nova's compute services (`os-services`), as far as a down cell shows in them.
#[derive(Deserialize)]
struct NovaServices {
    services: Vec<NovaService>,
}

#[derive(Deserialize)]
struct NovaService {
    #[serde(default)]
    host: Option<String>,
    #[serde(default)]
    status: Option<String>,
}

/// The compute hosts of the Nova cells that do not respond. Nova leaves such a cell's
/// servers out of any paginated listing without an error (it returns their partial records
/// only to an unpaginated, unsorted request), but `os-services` at microversion 2.69 lists
/// the cell's compute services with status `UNKNOWN`: one small request tells whether the
/// servers' listing is whole. `None` when there is no compute endpoint.
pub(super) async fn unreachable_cell_hosts(
    session: &Session,
    compute: Option<&str>,
) -> Option<(String, Result<Vec<String>, FetchError>)> {
    let url = format!("{}/os-services?binary=nova-compute", compute?);
    let mut body = Vec::new();
    let read = session.get_into(&url, &nova_headers(), &mut body).await;
    let hosts = read.and_then(|()| {
        let listed: NovaServices = serde_json::from_slice(&body).map_err(|e| FetchError {
            status: None,
            message: format!("unexpected response: {e}"),
        })?;
        Ok(listed
            .services
            .into_iter()
            .filter(|s| s.status.as_deref() == Some("UNKNOWN"))
            .map(|s| s.host.unwrap_or_else(|| "(no host)".to_owned()))
            .collect())
    });
    Some((url, hosts))
}

/// The collection error when Nova's cells are not all reachable (the servers' listing then
/// misses their servers: enrichment is incomplete, as when the listing fails). Not being
/// able to check (`os-services` is admin-only, and absent from some clouds) is no error:
/// said with `--verbose` only.
pub(super) fn down_cells_error(
    checked: Option<(String, Result<Vec<String>, FetchError>)>,
    verbose: bool,
) -> Option<CollectionError> {
    let (url, hosts) = checked?;
    let hosts = match hosts {
        Ok(hosts) => hosts,
        Err(e) => {
            if verbose {
                let status = e.status.map(|s| format!(" (HTTP {s})")).unwrap_or_default();
                eprintln!(
                    "driftmux: {url}{status}: {}: whether every Nova cell answered is unknown",
                    e.message
                );
            }
            return None;
        }
    };
    let first = hosts.first()?;
    let more = match hosts.len() {
        1 => String::new(),
        n => format!(" and {} more", n - 1),
    };
    let n = hosts.len();
    Some(CollectionError {
        resource: "servers".to_owned(),
        endpoint: Some(url),
        status: None,
        message: format!(
            "a Nova cell does not respond: {n} compute host{s} ({first}{more}) with status \
             UNKNOWN; Nova leaves its servers out of the listing, so their names and status \
             are unknown",
            s = if n == 1 { "" } else { "s" },
        ),
        required: false,
    })
}

/// Nova's servers, all projects, with the pinned microversion (falling back to the base
/// version on clouds too old for it).
pub(super) async fn servers(
    session: &Session,
    compute: Option<&str>,
    progress: &dyn Progress,
) -> Result<Listed<RawServer, Server>, (String, FetchError)> {
    let Some(compute) = compute else {
        return Err((
            "(Keystone catalog)".into(),
            FetchError {
                status: None,
                message: "the catalog has no compute (Nova) endpoint: server names are unknown"
                    .into(),
            },
        ));
    };
    let endpoint = format!("{compute}/servers/detail");
    let headers = nova_headers();
    let query = [("all_tenants", "1")];
    match session
        .list::<ServersPage>(
            "servers",
            compute,
            "/servers/detail",
            &query,
            &headers,
            progress,
            every,
        )
        .await
    {
        Err(FetchError {
            status: Some(406), ..
        }) => session
            .list::<ServersPage>(
                "servers",
                compute,
                "/servers/detail",
                &query,
                &HeaderMap::new(),
                progress,
                every,
            )
            .await
            .map_err(|e| (endpoint, e)),
        other => other.map_err(|e| (endpoint, e)),
    }
}
