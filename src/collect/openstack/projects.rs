//! Keystone's projects, for their names: all of them for an admin, else the user's own.

use reqwest::header::HeaderMap;
use serde::Deserialize;

use super::client::{FetchError, Session};
use super::listing::{every, Listed, Page};
use super::progress::Progress;
use crate::collect::wire::RawProject;
use crate::inventory::Project;

/// Keystone lists projects in one response with `links.next` (normally null) and
/// `truncated` when its `list_limit` cut the list.
#[derive(Deserialize)]
pub struct KeystoneProjects {
    projects: Vec<RawProject>,
    #[serde(default)]
    links: Option<KeystoneLinks>,
    /// Keystone's `list_limit` cut the list: refuse it rather than miss projects.
    #[serde(default, deserialize_with = "not_truncated", rename = "truncated")]
    _truncated: bool,
}

fn not_truncated<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    if Option::<bool>::deserialize(d)?.unwrap_or(false) {
        return Err(serde::de::Error::custom(
            "Keystone truncated the project list (its list_limit is lower than the number of projects)",
        ));
    }
    Ok(false)
}

#[derive(Deserialize, Default)]
struct KeystoneLinks {
    #[serde(default)]
    next: Option<String>,
}

impl Page for KeystoneProjects {
    type Item = RawProject;
    type Typed = Project;
    const PAGINATED: bool = false;
    fn into_parts(self) -> (Vec<RawProject>, Option<String>) {
        (self.projects, self.links.unwrap_or_default().next)
    }
}

/// Keystone's projects: all of them for an admin, else the user's own
/// (`/v3/auth/projects`); failing both, projects are shown by id.
pub(super) async fn projects(
    session: &Session,
    identity: &str,
    is_admin: bool,
    progress: &dyn Progress,
) -> Result<Listed<RawProject, Project>, (String, FetchError)> {
    let none = HeaderMap::new();
    let all = format!("{identity}/projects");
    let first = session
        .list::<KeystoneProjects>(
            "projects",
            identity,
            "/projects",
            &[],
            &none,
            progress,
            every,
        )
        .await;
    match first {
        Ok(list) => Ok(list),
        Err(FetchError {
            status: Some(403), ..
        }) if !is_admin => session
            .list::<KeystoneProjects>(
                "projects",
                identity,
                "/auth/projects",
                &[],
                &none,
                progress,
                every,
            )
            .await
            .map_err(|e| (format!("{identity}/auth/projects"), e)),
        Err(e) => Err((all, e)),
    }
}
