//! Where the two listings of security group rules ended, checked with one request.
//!
//! The rules are listed twice over (`direction=ingress`, `direction=egress`; see
//! `rule_asks`), both in id order. A page thinned by a Neutron API worker that has just
//! started ends its listing early (see `Ask::checked`), so where each listing ended is
//! checked once every listing has ended. Asked for apart, the ingress rules' last page costs
//! a request and the egress rules' another; asked for together, one request does: the rules
//! of both directions after the lesser of the two listings' last markers, with `limit` one
//! more than driftmux listed there. Every rule Neutron holds there should be one listed: a
//! rule that is not means its listing was cut short, and that listing is read again whole.
//!
//! Only where that request stays small (the rules listed after the marker at most four
//! pages' worth); otherwise, or when either listing cannot be checked so (an error, an
//! empty listing, an end where the listings from both ends met), each is checked on its own.

use rustc_hash::FxHashSet;

use super::ask::{Ask, Checked, Checks};
use super::client::Session;
use super::listing::HasId;
use super::listing::Listing;
use super::pages::RulesPage;
use super::progress::Progress;
use crate::id::Id;
use crate::inventory::CollectionError;

/// The ingress (`asks[0]`) and egress (`asks[1]`) rules as read, checked.
pub(super) async fn checked(
    session: &Session,
    progress: &dyn Progress,
    base: &str,
    asks: [&Ask<RulesPage>; 2],
    listed: [Listing<RulesPage>; 2],
    checks: [&mut Checks; 2],
) -> [Checked<RulesPage>; 2] {
    let Some(plan) = Plan::of(&listed, session.settings().page_size) else {
        return apart(session, progress, base, asks, listed, checks).await;
    };
    let url = plan.url(base);
    let mut held = Vec::new();
    let answer = session
        .page::<RulesPage>(&url, &Default::default(), &mut Vec::new(), &mut held)
        .await;
    let next = match answer {
        Ok(next) => next,
        Err(e) => {
            // Whether the ingress rules are whole is unknown: findings may be missing.
            checks[0].errors.push(CollectionError {
                resource: "security_group_rules".into(),
                endpoint: Some(url),
                status: e.status,
                message: format!(
                    "asking again for the rules after where their listings ended failed ({}): \
                     whether the listings were cut short is unknown",
                    e.message
                ),
                required: true,
            });
            return listed.map(Checked::as_read);
        }
    };
    // Rules Neutron holds there that were not listed, by the listing they belong to.
    let mut unlisted = [0usize; 2];
    for rule in &held {
        if !plan.listed.contains(rule.id()) {
            unlisted[usize::from((asks[1].keep)(rule))] += 1;
        }
    }
    if next.is_some() && unlisted == [0, 0] && held.len() <= plan.listed.len() {
        // The server answered fewer than asked for, and more follow: it keeps pages
        // smaller than the limit. Nothing shown either way: each checked on its own.
        return apart(session, progress, base, asks, listed, checks).await;
    }
    let [ingress, egress] = listed;
    let [c1, c2] = checks;
    let (ingress, egress) = tokio::join!(
        again(session, progress, base, asks[0], ingress, unlisted[0], c1),
        again(session, progress, base, asks[1], egress, unlisted[1], c2),
    );
    [ingress, egress]
}

/// Each listing checked on its own (see `Ask::checked`), side by side.
async fn apart(
    session: &Session,
    progress: &dyn Progress,
    base: &str,
    asks: [&Ask<RulesPage>; 2],
    listed: [Listing<RulesPage>; 2],
    checks: [&mut Checks; 2],
) -> [Checked<RulesPage>; 2] {
    let [ingress, egress] = listed;
    let [c1, c2] = checks;
    let (ingress, egress) = tokio::join!(
        asks[0].checked(session, progress, base, ingress, c1),
        asks[1].checked(session, progress, base, egress, c2),
    );
    [ingress, egress]
}

/// The listing read again whole, with a warning, when Neutron held `unlisted` rules of it
/// after where it ended; else as read.
async fn again(
    session: &Session,
    progress: &dyn Progress,
    base: &str,
    ask: &Ask<RulesPage>,
    listing: Listing<RulesPage>,
    unlisted: usize,
    checks: &mut Checks,
) -> Checked<RulesPage> {
    let first = match &listing {
        Ok(first) if unlisted > 0 => first.count,
        _ => return Checked::as_read(listing),
    };
    let found = format!(
        "Neutron's listing of {} ended after {first} object(s), and Neutron held at least \
         {unlisted} more after where it ended when asked again",
        ask.resource
    );
    ask.read_again(session, progress, base, checks, found).await
}

/// The one request, when it can check both listings.
struct Plan {
    /// The lesser of the two listings' last markers (none: a listing of one page).
    marker: Option<Id>,
    /// The rules listed after it (either direction, valid or not).
    listed: FxHashSet<Id>,
}

impl Plan {
    fn of(listed: &[Listing<RulesPage>; 2], page_size: usize) -> Option<Plan> {
        let [Ok(ingress), Ok(egress)] = listed else {
            return None;
        };
        // The lesser marker; none when a listing had one page (read from its start).
        let mut marker: Option<Id> = None;
        let mut from_start = false;
        for rules in [ingress, egress] {
            let end = rules.last_page.as_ref()?;
            // An empty listing is read again whole (see `Ask::checked`); an end where the
            // listings from both ends met, or a page that should have been full, is asked
            // for on its own.
            if rules.count == 0 || end.beyond || end.objects >= page_size {
                return None;
            }
            let Some(at) = marker_of(&end.url) else {
                from_start = true;
                continue;
            };
            // Markers compared as Neutron sorts ids: only dashed UUIDs sort alike
            // whatever the database's collation.
            at.dashed_uuid_value()?;
            marker = Some(match marker {
                Some(m) if m <= at => m,
                _ => at,
            });
        }
        if from_start {
            marker = None;
        }
        let listed = listed_after(marker.as_ref(), listed);
        (listed.len() <= 4 * page_size).then_some(Plan { marker, listed })
    }

    /// The request: the rules of both directions after the marker, one more than expected,
    /// with only what tells them apart.
    fn url(&self, base: &str) -> String {
        let mut url = format!(
            "{}/security-group-rules?fields=id&fields=security_group_id&fields=direction&limit={}",
            base.trim_end_matches('/'),
            self.listed.len() + 1
        );
        if let Some(marker) = &self.marker {
            url.push_str("&marker=");
            url.push_str(&marker.to_string());
        }
        url
    }
}

/// The ids of the rules listed after `marker` (valid or not).
fn listed_after(marker: Option<&Id>, listed: &[Listing<RulesPage>; 2]) -> FxHashSet<Id> {
    let after = |id: &Id| marker.is_none_or(|m| id > m);
    let mut ids = FxHashSet::default();
    for rules in listed.iter().flatten() {
        // Pages in id order, read from the last: one that starts at or before the
        // marker is the last to look at (the rest of a long listing is not walked).
        for page in rules.typed.iter().rev() {
            ids.extend(page.iter().map(|r| &r.id).filter(|id| after(id)).cloned());
            if page.first().is_some_and(|r| !after(&r.id)) {
                break;
            }
        }
        let invalid = rules.problems.iter().filter_map(|p| p.object_id.as_deref());
        ids.extend(invalid.map(Id::from).filter(|id| after(id)));
    }
    ids
}

/// The `marker` of a page's URL.
fn marker_of(url: &str) -> Option<Id> {
    let (_, query) = url.split_once('?')?;
    let value = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("marker="))?;
    Some(Id::from(value))
}
