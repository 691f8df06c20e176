//! Nova: the servers of every project (their names and status; a project's own to a token
//! that is not an admin's), and whether every Nova cell answered the listing.

use reqwest::header::{HeaderMap, HeaderValue};
use rustc_hash::FxHashSet;
use serde::Deserialize;

use super::client::{FetchError, Session};
use super::listing::{every, Listed};
use super::pages::ServersPage;
use super::progress::Progress;
use crate::collect::wire::{RawPort, RawServer};
use crate::id::Id;
use crate::inventory::{CollectionError, Port, Server};

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
    let listed = match read.map(|()| serde_json::from_slice::<NovaServices>(&body)) {
        Ok(Ok(listed)) => listed,
        Ok(Err(e)) => {
            // A decoder's message quotes a string of the wrong type.
            let message = session.redacted(format!("unexpected response: {e}")).await;
            let e = FetchError {
                status: None,
                message,
            };
            return Some((url, Err(e)));
        }
        Err(e) => return Some((url, Err(e))),
    };
    let hosts = (listed.services.into_iter())
        .filter(|s| s.status.as_deref() == Some("UNKNOWN"))
        .map(|s| s.host.unwrap_or_else(|| "(no host)".to_owned()))
        .collect();
    Some((url, Ok(hosts)))
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
    let n = hosts.len();
    let more = and_more(n);
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

/// Nova's servers as listed.
pub(super) struct Servers {
    pub listed: Listed<RawServer, Server>,
    /// Nova refused to list every project's (`all_tenants`, admin-only by default) to a
    /// token that is not an admin's: these are the token's project's own servers (listed
    /// from this URL), which are every server its Neutron ports name only when Neutron
    /// listed that project's ports alone (see [`own_project_error`]).
    pub own_project: Option<String>,
}

/// Nova's servers, all projects, with the pinned microversion (falling back to the base
/// version on clouds too old for it). To a token that is not an admin's, Nova refuses all
/// projects (HTTP 403): then the project's own servers.
pub(super) async fn servers(
    session: &Session,
    compute: Option<&str>,
    is_admin: bool,
    progress: &dyn Progress,
) -> Result<Servers, (String, FetchError)> {
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
    let list = |query: &'static [(&'static str, &'static str)], headers: HeaderMap| async move {
        let path = "/servers/detail";
        (session.list::<ServersPage>("servers", compute, path, query, &headers, progress, every))
            .await
    };
    const ALL: &[(&str, &str)] = &[("all_tenants", "1")];
    let mut headers = nova_headers();
    let mut listed = list(ALL, headers.clone()).await;
    if let Err(FetchError {
        status: Some(406), ..
    }) = listed
    {
        headers = HeaderMap::new();
        listed = list(ALL, headers.clone()).await;
    }
    let own_project = !is_admin
        && matches!(
            listed,
            Err(FetchError {
                status: Some(403),
                ..
            })
        );
    if own_project {
        if session.settings().verbose {
            eprintln!(
                "driftmux: {endpoint}?all_tenants=1: HTTP 403 (not an admin's token): listing \
                 the project's own servers"
            );
        }
        listed = list(&[], headers).await;
    }
    match listed {
        Ok(listed) => Ok(Servers {
            listed,
            own_project: own_project.then(|| endpoint.clone()),
        }),
        Err(e) => Err((endpoint, e)),
    }
}

/// The collection error when Nova listed only the project's own servers and Neutron's
/// ports name others (Neutron lists more than the project's ports to such a token, a
/// server was deleted while they were read, or it is in a Nova cell that does not respond,
/// which `os-services` does not tell such a token): their names and status are unknown, as
/// when the servers cannot be listed.
pub(super) fn own_project_error(
    servers: &Listed<RawServer, Server>,
    ports: &Listed<RawPort, Port>,
    endpoint: String,
) -> Option<CollectionError> {
    let listed: FxHashSet<&Id> = servers.typed.iter().flatten().map(|s| &s.id).collect();
    let mut unlisted: Vec<&Id> = (ports.typed.iter().flatten())
        .filter_map(Port::server)
        .filter(|id| !listed.contains(id))
        .collect();
    unlisted.sort_unstable();
    unlisted.dedup();
    let first = unlisted.first()?;
    let n = unlisted.len();
    let more = and_more(n);
    Some(CollectionError {
        resource: "servers".to_owned(),
        endpoint: Some(endpoint),
        status: Some(403),
        message: format!(
            "Nova refused to list every project's servers (all_tenants) to this token, and \
             its listing of the project's own servers lacks {n} server{s} that Neutron's \
             ports name ({first}{more}): their names and status are unknown (servers of \
             other projects, deleted while the listings were read, or in a Nova cell that \
             does not respond)",
            s = if n == 1 { "" } else { "s" },
        ),
        required: false,
    })
}

/// `" and N more"` after the first of `n` things named (nothing when it is the only one).
fn and_more(n: usize) -> String {
    match n {
        0 | 1 => String::new(),
        n => format!(" and {} more", n - 1),
    }
}
