//! One Neutron listing as collection asks for it ([`Ask`]): read, checked once every
//! listing has ended (its end asked for again, an empty listing read again), and read again
//! whole when a check caught a Neutron API worker that had just started.

use reqwest::header::HeaderMap;

use super::client::Session;
use super::listing::{every, Listing, Page};
use super::pages::{fields, RulesPage, RULE_FIELDS};
use super::progress::Progress;
use crate::collect::wire::RawRule;
use crate::inventory::CollectionError;

/// One Neutron listing as collection asks for it: what it is called (progress, messages),
/// its path and query, and the items it keeps (see [`Session::list`]).
pub(super) struct Ask<P: Page> {
    pub(super) resource: &'static str,
    pub(super) path: &'static str,
    pub(super) query: Vec<(&'static str, &'static str)>,
    pub(super) keep: fn(&P::Item) -> bool,
    /// Whether its last page is asked for again even when it held objects (see
    /// [`Ask::checked`]): the listings whose objects decide findings or their severity,
    /// the egress rules (checked with the ingress rules at no request more, see
    /// `rule_ends`; on their own only where that cannot be), and the floating IPs to a
    /// token that is not an admin's (their own ports, the free sign, are not listed to
    /// it).
    pub(super) verify_end: bool,
    /// Whether findings depend on it: an end that cannot be checked is then a required
    /// collection error (`CollectionError::required`).
    pub(super) decides_findings: bool,
}

impl<P: Page> Ask<P> {
    pub(super) fn new(
        resource: &'static str,
        path: &'static str,
        query: Vec<(&'static str, &'static str)>,
    ) -> Ask<P> {
        Ask {
            resource,
            path,
            query,
            keep: every,
            verify_end: false,
            decides_findings: false,
        }
    }

    /// This listing, which decides findings, its last page asked for again whatever it
    /// held.
    pub(super) fn verified(self) -> Ask<P> {
        Ask {
            verify_end: true,
            decides_findings: true,
            ..self
        }
    }

    /// Lists the collection from `base`.
    pub(super) async fn list(
        &self,
        session: &Session,
        progress: &dyn Progress,
        base: &str,
    ) -> Listing<P> {
        session
            .list::<P>(
                self.resource,
                base,
                self.path,
                &self.query,
                &HeaderMap::new(),
                progress,
                self.keep,
            )
            .await
    }

    /// `listed`, checked once every listing has ended: a Neutron API worker that
    /// has just started can answer its first requests, for a moment, with some or all of a
    /// page's objects left out, and HTTP 200 (its policy rules are not in place yet:
    /// `neutron.policy.init`; seen on the lab's real Neutron, for lone requests too).
    /// Neutron drops the objects its policy check refused from a page it has read, and
    /// gives a next link only to a full page: such a page ends the listing early. A
    /// request after the others finds the worker ready.
    /// - A listing that came back empty is read again. An empty listing costs one small
    ///   request more; an empty cloud read as a clean one would cost the audit.
    /// - A listing whose last page came back empty after pages with objects (what every
    ///   listing of a multiple of the page size looks like) has that page asked for again.
    /// - A listing that decides findings or their severity (`verify_end`: the ingress
    ///   rules, the ports; and the floating IPs to a token that is not an admin's, which
    ///   has no other check of them) has its last page asked for again whatever it held, if it held
    ///   fewer than a page's worth (a server that ignored the limit is not asked for
    ///   everything twice). The rules are mostly checked otherwise: both directions with
    ///   one request (see `rule_ends`), this only where that cannot be.
    ///
    /// More objects on that page now mean the listing was cut short: it is read again
    /// whole. One request more per listing asked. `checks` says when anything was read
    /// again and found objects (and then see [`Ask::settled`]).
    pub(super) async fn checked(
        &self,
        session: &Session,
        progress: &dyn Progress,
        base: &str,
        listed: Listing<P>,
        checks: &mut Checks,
    ) -> Checked<P> {
        let as_read = Checked::as_read;
        let Ok(first) = &listed else {
            return as_read(listed);
        };
        if first.count > 0 {
            let Some(end) = &first.last_page else {
                return as_read(listed);
            };
            let short = end.objects < session.settings().page_size;
            if !(end.objects == 0 || end.beyond || self.verify_end && short) {
                return as_read(listed);
            }
            let ended = match end.objects {
                n if end.beyond => format!(
                    "Neutron's listing of {} had a page of {n} object(s), short of its limit, \
                     with more objects known beyond it (read from both ends; {} listed)",
                    self.resource, first.count
                ),
                0 => format!(
                    "Neutron's listing of {} ended with an empty page after {} object(s)",
                    self.resource, first.count
                ),
                n => format!(
                    "Neutron's listing of {} ended on a page of {n} object(s) ({} listed)",
                    self.resource, first.count
                ),
            };
            // An error asking again leaves the listing as it was read, and says so as a
            // collection error: whether the listing is whole is unknown, so the audit is
            // incomplete. Required for a listing that decides findings (they may be
            // missing); for the others, `--allow-partial` lets the gate decide.
            let now = match session.objects_on_page::<P>(&end.url).await {
                Ok(now) => now,
                Err(e) => {
                    checks.errors.push(CollectionError {
                        resource: self.path.trim_start_matches('/').replace('-', "_"),
                        endpoint: Some(end.url.clone()),
                        status: e.status,
                        message: format!(
                            "{ended}, and asking for that page again failed ({}): whether \
                             the listing was cut short is unknown",
                            e.message
                        ),
                        required: self.decides_findings,
                    });
                    return as_read(listed);
                }
            };
            if now <= end.objects {
                return as_read(listed);
            }
            let found = format!("{ended}, and that page held {now} when asked again");
            return self
                .read_again(session, progress, base, checks, found)
                .await;
        }
        let again = self.list(session, progress, base).await;
        if let Ok(again) = &again {
            if again.count > 0 {
                checks.raced = true;
                checks.warnings.push(format!(
                    "Neutron listed no {} at first, then {} when asked again: a Neutron API \
                     worker that has just started can answer its first requests with empty \
                     lists (its policy rules not loaded yet)",
                    self.resource, again.count
                ));
            }
        }
        Checked {
            listing: again,
            done: true,
        }
    }

    /// The listing read again whole, as cut short where `found` says (which leads the
    /// warning): a race caught.
    pub(super) async fn read_again(
        &self,
        session: &Session,
        progress: &dyn Progress,
        base: &str,
        checks: &mut Checks,
        found: String,
    ) -> Checked<P> {
        checks.raced = true;
        let again = self.list(session, progress, base).await;
        if let Ok(again) = &again {
            checks.warnings.push(format!(
                "{found}: read again whole, {} {}. A Neutron API worker that has just started \
                 can leave objects out of its answers (its policy rules not loaded yet), which \
                 ends a listing early; so can objects created while it was read",
                again.count, self.resource
            ));
        }
        Checked {
            listing: again,
            done: true,
        }
    }

    /// The checked listing, read again whole when the checks caught a worker that had just
    /// started (`raced`) and it is not `done`: such a worker also answers pages with only
    /// some of their objects, which nothing in the answer shows (the lab's real Neutron,
    /// just restarted, listed 17 and 23 of its 34 rules in whole single pages, beside
    /// listings it answered empty). Costs a listing more only after such a race; the
    /// listings are read again side by side (the workers have answered the checks by
    /// then). A second read that fails is the listing's error: the first one cannot be
    /// trusted. With it, a warning when the count changed.
    pub(super) async fn settled(
        &self,
        session: &Session,
        progress: &dyn Progress,
        base: &str,
        checked: Checked<P>,
        raced: bool,
    ) -> (Listing<P>, Option<String>) {
        let Checked { listing, done } = checked;
        let first = match &listing {
            Ok(first) if raced && !done => first.count,
            _ => return (listing, None),
        };
        let again = self.list(session, progress, base).await;
        let warning = match &again {
            Ok(again) if again.count != first => Some(format!(
                "Neutron listed {first} {} at first, then {} when read again after other \
                 listings came back incomplete: a Neutron API worker that has just started \
                 can leave objects out of its first answers",
                self.resource, again.count
            )),
            _ => None,
        };
        (again, warning)
    }
}

/// What the checks after the listings found (see [`Ask::checked`]).
#[derive(Default)]
pub(super) struct Checks {
    pub(super) warnings: Vec<String>,
    /// Listings that could not be checked (required when they decide findings).
    pub(super) errors: Vec<CollectionError>,
    /// A second read found objects that the first did not: a Neutron API worker had just
    /// started, and any listing it served may lack objects.
    pub(super) raced: bool,
}

/// A listing after its check.
pub(super) struct Checked<P: Page> {
    pub(super) listing: Listing<P>,
    /// Nothing to read again after a race: it was read again, alone, after the others (or
    /// nothing reads it).
    pub(super) done: bool,
}

impl<P: Page> Checked<P> {
    /// The listing as read: a race caught elsewhere reads it again.
    pub(super) fn as_read(listing: Listing<P>) -> Checked<P> {
        Checked {
            listing,
            done: false,
        }
    }
}

/// The rules as two listings, `direction=ingress` and `direction=egress` (joined after,
/// ingress first). Listing rules is what takes a real Neutron longest (its cost is per
/// rule), and a marker-paginated listing keeps one API worker busy at a time: two listings
/// keep two. Neutron accepts only these two directions, so the two are the whole listing,
/// at most one page more. Each keeps only its own part (the egress listing its egress
/// rules, the ingress listing everything else, so a rule of no known direction is still
/// listed once and reported): exact even from a server that ignored the filter.
pub(super) fn rule_asks() -> [Ask<RulesPage>; 2] {
    fn egress(rule: &RawRule) -> bool {
        rule.direction
            .as_deref()
            .is_some_and(|d| d.eq_ignore_ascii_case("egress"))
    }
    let ask = |resource: &'static str, direction: &'static str, keep: fn(&RawRule) -> bool| {
        let mut query = fields(RULE_FIELDS);
        query.push(("direction", direction));
        Ask {
            resource,
            path: "/security-group-rules",
            query,
            keep,
            verify_end: true,
            decides_findings: false,
        }
    };
    // Only ingress rules make findings: an egress rule left out changes the count of
    // rules checked, no finding. Both have their end checked (see `rule_ends`).
    [
        ask("ingress security_group_rules", "ingress", |r| !egress(r)).verified(),
        ask("egress security_group_rules", "egress", egress),
    ]
}
