//! A paginated listing: its pages fetched in order by following next links (each page
//! decoded, validated into typed objects as it arrives), repeats and pagination loops
//! refused, a long listing also read from its end (`both_ends`), and where it ended kept
//! for the checks after (`LastPage`).

use std::collections::HashSet;
use std::time::Duration;

use reqwest::header::HeaderMap;
use rustc_hash::FxHashSet;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::both_ends::{self, Ends, Step};
use super::client::{encode_query, FetchError, Session};
use super::progress::Progress;
use crate::id::Id;
use crate::inventory::{FromRaw, InvalidField};

impl Session {
    /// GETs one page of a listing and decodes it: its items into `items` (cleared first;
    /// `body` is the reused buffer) and its next link.
    pub(super) async fn page<P: Page>(
        &self,
        url: &str,
        headers: &HeaderMap,
        body: &mut Vec<u8>,
        items: &mut Vec<P::Item>,
    ) -> Result<Option<String>, FetchError> {
        self.get_into(url, headers, body).await?;
        if let Some(next) = P::decode_plain(body, items) {
            return Ok(next);
        }
        let (decoded, next) = match serde_json::from_slice::<P>(body) {
            Ok(page) => page.into_parts(),
            Err(e) => {
                let message = match e.classify() {
                    // Well-formed JSON of an unexpected shape (or a truncated list).
                    serde_json::error::Category::Data => format!("unexpected response: {e}"),
                    _ => format!("invalid JSON in the response: {e}"),
                };
                // serde_json quotes a string of the wrong type: it may echo the token.
                return Err(FetchError::msg(self.redacted(message).await));
            }
        };
        *items = decoded;
        Ok(next)
    }

    /// How many objects the page at `url` holds (asked again: see `Listed::last_page`).
    pub async fn objects_on_page<P: Page>(&self, url: &str) -> Result<usize, FetchError> {
        let mut items = Vec::new();
        self.page::<P>(url, &HeaderMap::new(), &mut Vec::new(), &mut items)
            .await?;
        Ok(items.len())
    }

    /// Lists a paginated collection: `base` + `path` with `query`, following next links,
    /// keeping the items `keep` accepts (`every` item, or the part a filter in `query` asks
    /// for: exact even from a server that ignored the filter). Each page is validated into
    /// typed objects as it arrives (while the next one is fetched by the other listings),
    /// and its raw objects are dropped unless `keep_raw` asks for them. A listing in id
    /// order (`Page::ID_ORDER`) still running after `reverse_after` is also read from its
    /// end (see `both_ends`).
    #[allow(clippy::too_many_arguments)]
    pub async fn list<P: Page>(
        &self,
        resource: &'static str,
        base: &str,
        path: &str,
        query: &[(&str, &str)],
        headers: &HeaderMap,
        progress: &dyn Progress,
        keep: fn(&P::Item) -> bool,
    ) -> Listing<P> {
        let endpoint = format!("{}{path}", base.trim_end_matches('/'));
        let mut initial: Vec<(String, String)> = query
            .iter()
            .chain(P::ID_ORDER.query_pairs())
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        if P::PAGINATED {
            initial.push(("limit".into(), self.settings().page_size.to_string()));
        }
        let initial = encode_query(&initial);
        let stream = Stream {
            resource,
            endpoint: &endpoint,
            query: &initial,
            headers,
            progress,
            keep,
        };
        // When, and with which query, the listing is also read from its end.
        let from_end = self
            .settings()
            .reverse_after
            .filter(|_| P::PAGINATED)
            .zip(P::ID_ORDER.reversed(&initial));
        let Some((after, reversed)) = from_end else {
            let (listed, pages) = self.list_forward::<P>(&stream, None).await?;
            progress.done(resource, listed.count, pages);
            return Ok(listed);
        };
        let ends = Ends::new(resource, self.settings().verbose);
        let forward = async {
            let listed = self.list_forward::<P>(&stream, Some(&ends)).await;
            ends.finish();
            listed
        };
        let backward = both_ends::backward::<P>(self, &stream, &reversed, &ends, after);
        let (forward, ()) = tokio::join!(forward, backward);
        let (mut listed, mut pages) = forward?;
        if let Some(short) = ends.short_meeting() {
            listed.last_page = Some(short);
        }
        let (tail, requests) = ends.into_tail();
        pages += requests;
        if let Some(mut tail) = tail {
            if let Some(raw) = &mut listed.raw {
                raw.extend(tail.iter().cloned());
            }
            let n = tail.len();
            listed.add_page(listed.count, tail.drain(..));
            listed.count += n;
        }
        progress.done(resource, listed.count, pages);
        Ok(listed)
    }

    /// The listing from its start, following next links; with `ends`, it stops where it
    /// meets the listing from the end. Its objects, and the pages it read.
    async fn list_forward<P: Page>(
        &self,
        stream: &Stream<'_, P>,
        ends: Option<&Ends<P::Item>>,
    ) -> Result<(Listed<P::Item, P::Typed>, usize), FetchError> {
        let mut restarted = false;
        'listing: loop {
            let mut listed = Listed::default();
            let mut raw_pages: Vec<Vec<P::Item>> = Vec::new();
            let mut count = 0usize;
            let mut repeats = Repeats::default();
            let mut seen_queries: HashSet<String> = HashSet::new();
            let mut query = stream.query.to_owned();
            let mut pages = 0usize;
            let mut last_page = Duration::ZERO;
            // Reused from page to page: the body and the raw items of the page being read.
            let (mut body, mut page_items) = (Vec::new(), Vec::new());
            let mut ended_on = None;
            loop {
                seen_queries.insert(query.clone());
                let page_size = self.settings().page_size;
                let mut asked = page_size;
                let url = match ends {
                    // Near where the listing from the end is, only what is left: the limit
                    // is set anew on each page (a next link repeats the last one).
                    Some(ends) => {
                        // It waits for a page from the end at most twice as long as its
                        // own last page took.
                        let patience = (last_page * 2).max(Duration::from_millis(100));
                        let Some(limit) = ends.forward_limit(page_size, patience).await else {
                            break; // the streams met
                        };
                        asked = limit;
                        let query = both_ends::with_limit(&query, limit);
                        format!("{}?{query}", stream.endpoint)
                    }
                    _ if query.is_empty() => stream.endpoint.to_owned(),
                    _ => format!("{}?{query}", stream.endpoint),
                };
                let started = std::time::Instant::now();
                let read = self.page::<P>(&url, stream.headers, &mut body, &mut page_items);
                let next = match ends {
                    None => read.await?,
                    Some(ends) => tokio::select! {
                        biased;
                        next = read => next?,
                        () = ends.met() => break,
                    },
                };
                pages += 1;
                last_page = started.elapsed();
                let step = ends.map_or(Step::Go, |ends| ends.forward_page(&page_items));
                if step == Step::Drop {
                    break;
                }
                let objects = page_items.len();
                page_items.retain(stream.keep);
                for (at, item) in page_items.iter().enumerate() {
                    let earlier = || {
                        let typed = listed.typed.iter().flatten().map(HasId::id);
                        typed.chain(page_items[..at].iter().map(HasId::id))
                    };
                    if repeats.repeated(item.id(), earlier) {
                        if restarted {
                            return Err(FetchError::msg(format!(
                                "the listing returned {} twice, again after a restart: objects changed while they were read",
                                item.id()
                            )));
                        }
                        // Neutron restarts from the first page when the marker was deleted.
                        restarted = true;
                        if let Some(ends) = ends {
                            ends.abandon("the listing from the start restarted");
                        }
                        continue 'listing;
                    }
                }
                if self.settings().keep_raw {
                    raw_pages.push(page_items.clone());
                }
                let n = page_items.len();
                listed.add_page(count, page_items.drain(..));
                count += n;
                let shown = match ends {
                    Some(ends) => ends.forward_progress(count, pages, next.is_some()),
                    None => count,
                };
                stream.progress.page(stream.resource, shown);
                if step == Step::Last {
                    // Where the streams meet, a page holds all it was asked for (the
                    // listing from the end read on beyond it), unless objects were left
                    // out of it.
                    if objects < asked {
                        let beyond = true;
                        ended_on = Some(LastPage {
                            url,
                            objects,
                            beyond,
                        });
                    }
                    break;
                }
                let Some(href) = next else {
                    let beyond = ends.is_some_and(Ends::read_beyond);
                    ended_on = Some(LastPage {
                        url,
                        objects,
                        beyond,
                    });
                    break;
                };
                let next_query = href
                    .split_once('?')
                    .map(|(_, q)| q)
                    .unwrap_or("")
                    .to_owned();
                if next_query.is_empty()
                    || next_query == query
                    || seen_queries.contains(&next_query)
                {
                    return Err(FetchError::msg(format!(
                        "the next link does not advance (page {pages}): pagination loop"
                    )));
                }
                query = next_query;
            }
            listed.count = count;
            listed.last_page = ended_on;
            if self.settings().keep_raw {
                listed.raw = Some(raw_pages.into_iter().flatten().collect());
            }
            return Ok((listed, pages));
        }
    }
}

/// One listing's request: what `Session::list` was asked for, the query encoded.
pub(super) struct Stream<'a, P: Page> {
    pub resource: &'static str,
    pub endpoint: &'a str,
    /// Filters, fields and limit, encoded.
    pub query: &'a str,
    pub headers: &'a HeaderMap,
    pub progress: &'a dyn Progress,
    pub keep: fn(&P::Item) -> bool,
}

/// Finds an id that a listing returns a second time (Neutron restarts from the first page
/// when the marker was deleted; a broken server may repeat itself).
///
/// Listings are in id order (Neutron's unasked, Nova's servers asked for it): while every
/// id is greater than the one before, none can be a repeat, and nothing is kept. At the
/// first id out of order (a server that ignores the sort), the ids listed so far go into a
/// set, and every later id is looked up in it. Ids of objects that failed validation are
/// not in it (their listing fails anyway).
enum Repeats {
    Ascending(Option<Id>),
    Seen(FxHashSet<Id>),
}

impl Default for Repeats {
    fn default() -> Self {
        Repeats::Ascending(None)
    }
}

impl Repeats {
    /// Whether `id` was listed before; `earlier` gives the ids listed so far.
    fn repeated<'a, I>(&mut self, id: &Id, earlier: impl FnOnce() -> I) -> bool
    where
        I: Iterator<Item = &'a Id>,
    {
        if let Repeats::Ascending(last) = self {
            if last.as_ref().is_none_or(|last| id > last) {
                *last = Some(id.clone());
                return false;
            }
            *self = Repeats::Seen(earlier().cloned().collect());
        }
        let Repeats::Seen(seen) = self else {
            unreachable!("the set was just built")
        };
        !seen.insert(id.clone())
    }
}

/// What listing the collection of page type `P` gives.
pub type Listing<P> = Result<Listed<<P as Page>::Item, <P as Page>::Typed>, FetchError>;

/// A listing's objects: validated, in the chunks they arrived in (pages), with the
/// problems found (paths index the whole listing), and the raw objects when kept.
#[derive(Debug)]
pub struct Listed<R, T> {
    pub typed: Vec<Vec<T>>,
    pub problems: Vec<InvalidField>,
    pub raw: Option<Vec<R>>,
    /// How many objects were listed (valid or not).
    pub count: usize,
    /// The page the listing ended on, when it ended on its own (a page without a next
    /// link), or where the listings from both ends met when that page held fewer objects
    /// than it was asked for (see [`LastPage::beyond`]). Neutron gives a next link to
    /// every full page, so the last page is short, or empty when the total is a multiple
    /// of the page size; but Neutron also leaves out of a page the objects its policy
    /// check refused, and an API worker that has just started can refuse some or all of
    /// them: the page is then short, or empty, and ends the listing early (see
    /// `collect::openstack::ask::Ask::checked`).
    pub last_page: Option<LastPage>,
}

/// The last page of a listing: its URL, and how many objects it held (before any `keep`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastPage {
    pub url: String,
    pub objects: usize,
    /// Objects are known to lie beyond it (the listing from the end read them), so it
    /// should have held all it was asked for: read from both ends, a page short of its
    /// limit where the streams meet, or ending the listing from the start before they do.
    pub beyond: bool,
}

impl<R, T> Default for Listed<R, T> {
    fn default() -> Self {
        Listed {
            typed: Vec::new(),
            problems: Vec::new(),
            raw: None,
            count: 0,
            last_page: None,
        }
    }
}

impl<R, T> Listed<R, T> {
    /// Another listing's objects after these, as one listing: its problems name their
    /// objects by their index in the whole.
    pub fn append(&mut self, other: Listed<R, T>) {
        let offset = self.count;
        self.typed.extend(other.typed);
        self.problems
            .extend(other.problems.into_iter().map(|p| p.shifted(offset)));
        if let (Some(raw), Some(more)) = (&mut self.raw, other.raw) {
            raw.extend(more);
        }
        self.count += other.count;
    }
}

impl<R, T: FromRaw<Raw = R>> Listed<R, T> {
    /// Validates a page whose first object is the `first`-th of the listing.
    fn add_page(&mut self, first: usize, page: impl ExactSizeIterator<Item = R>) {
        let typed = T::from_raw_run(first, page, &mut self.problems);
        self.typed.push(typed);
    }
}

/// Keeps every item of a listing (see [`Session::list`]).
pub fn every<T>(_: &T) -> bool {
    true
}

/// Something with an `id`, to detect listings that repeat themselves.
pub trait HasId {
    fn id(&self) -> &Id;
}

/// How an API puts a paginated listing in id order, which lets a long listing be read from
/// both ends (see `both_ends`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdOrder {
    /// Not in id order (or not paginated: Keystone).
    Unordered,
    /// In id order unasked; `sort_key=id&sort_dir=desc` lists the other way (Neutron).
    ById,
    /// In uuid order only when asked, `sort_key=uuid&sort_dir=asc` (Nova lists newest
    /// first): every listing asks, so that its order is one order whether it is read from
    /// both ends or not (`sort_dir=desc` lists the other way).
    ByUuidOnRequest,
}

impl IdOrder {
    /// What the listing (from its start) adds to its query.
    pub(super) fn query_pairs(self) -> &'static [(&'static str, &'static str)] {
        match self {
            IdOrder::ByUuidOnRequest => &[("sort_key", "uuid"), ("sort_dir", "asc")],
            IdOrder::Unordered | IdOrder::ById => &[],
        }
    }

    /// The query that lists the other way, from the listing's own (encoded, with its
    /// `query_pairs`); `None` when the listing cannot be read from its end.
    pub(super) fn reversed(self, query: &str) -> Option<String> {
        match self {
            IdOrder::Unordered => None,
            IdOrder::ById => Some(format!("{query}&sort_key=id&sort_dir=desc")),
            IdOrder::ByUuidOnRequest => Some(
                query
                    .split('&')
                    .map(|pair| match pair {
                        "sort_dir=asc" => "sort_dir=desc",
                        pair => pair,
                    })
                    .collect::<Vec<_>>()
                    .join("&"),
            ),
        }
    }
}

/// One page of a collection: its items and the next link, if any.
pub trait Page: DeserializeOwned {
    type Item: HasId + Clone;
    /// The validated object an item becomes.
    type Typed: FromRaw<Raw = Self::Item> + HasId;
    /// Whether the API takes `limit` (Keystone does not paginate by marker).
    const PAGINATED: bool = true;
    /// Whether and how the API lists in id order: a long listing may then be read from
    /// both ends (see `both_ends`).
    const ID_ORDER: IdOrder = IdOrder::Unordered;
    fn into_parts(self) -> (Vec<Self::Item>, Option<String>);
    /// The items (into `items`, cleared first) and next link of a page in the plain form,
    /// read without serde; `None` leaves the page to serde (which reads the same, or
    /// explains what is wrong), and `items` holds nothing useful.
    fn decode_plain(_body: &[u8], _items: &mut Vec<Self::Item>) -> Option<Option<String>> {
        None
    }
}

#[derive(Debug, Deserialize)]
pub struct Link {
    #[serde(default)]
    pub href: String,
    #[serde(default)]
    pub rel: String,
}

/// The `next` href among `*_links`.
pub fn next_link(links: Vec<Link>) -> Option<String> {
    links.into_iter().find(|l| l.rel == "next").map(|l| l.href)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_from_the_end_lists_the_other_way() {
        let neutron = "fields=id&limit=1000";
        assert!(IdOrder::ById.query_pairs().is_empty());
        assert_eq!(
            IdOrder::ById.reversed(neutron).unwrap(),
            "fields=id&limit=1000&sort_key=id&sort_dir=desc"
        );
        // Nova: the listing asks for uuid order; from the end, the same the other way (a
        // second sort_key would be a second sort).
        let pairs = IdOrder::ByUuidOnRequest.query_pairs();
        assert_eq!(pairs, [("sort_key", "uuid"), ("sort_dir", "asc")]);
        let nova = "all_tenants=1&sort_key=uuid&sort_dir=asc&limit=1000";
        assert_eq!(
            IdOrder::ByUuidOnRequest.reversed(nova).unwrap(),
            "all_tenants=1&sort_key=uuid&sort_dir=desc&limit=1000"
        );
        assert_eq!(IdOrder::Unordered.reversed(neutron), None);
    }

    /// Whether each id of `listing` repeats an earlier one, as a listing checks them.
    fn repeats(listing: &[&str]) -> Vec<bool> {
        let ids: Vec<Id> = listing.iter().map(|s| Id::new(s)).collect();
        let mut repeats = Repeats::default();
        (0..ids.len())
            .map(|at| repeats.repeated(&ids[at], || ids[..at].iter()))
            .collect()
    }

    #[test]
    fn repeated_ids_are_found_in_any_order() {
        // In id order (Neutron): nothing repeats, nothing is kept.
        assert_eq!(repeats(&["a", "b", "c"]), [false; 3]);
        let mut repeats_in_order = Repeats::default();
        for id in ["a", "b", "c"] {
            assert!(
                !repeats_in_order.repeated(&Id::new(id), || -> std::slice::Iter<Id> {
                    panic!("ids in order need no set")
                })
            );
        }
        // Restarted from the first page: the first id comes again.
        assert_eq!(repeats(&["a", "b", "c", "a"]), [false, false, false, true]);
        // Out of order from the start (a server that ignores the sort), then a repeat of any earlier id.
        assert_eq!(
            repeats(&["c", "b", "a", "d", "b"]),
            [false, false, false, false, true]
        );
        assert_eq!(repeats(&["b", "c", "a", "c"]), [false, false, false, true]);
        // An id equal to the one before is a repeat too.
        assert_eq!(repeats(&["a", "a"]), [false, true]);
    }

    /// The egress rules appended to the ingress rules: one listing, counted whole, its
    /// problems naming their objects by their index in the whole.
    #[test]
    fn an_appended_listing_counts_and_indexes_as_one() {
        let invalid = |path: &str| InvalidField {
            path: path.into(),
            object_id: None,
            message: "bad".into(),
        };
        let listed = |count, problems, raw: Vec<u8>| Listed::<u8, u8> {
            typed: vec![raw.clone()],
            problems,
            raw: Some(raw),
            count,
            last_page: None,
        };
        let mut ingress = listed(3, vec![invalid("rules[1].protocol")], vec![1, 2]);
        ingress.append(listed(2, vec![invalid("rules[0].protocol")], vec![3]));
        assert_eq!(ingress.count, 5);
        let paths: Vec<&str> = ingress.problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["rules[1].protocol", "rules[3].protocol"]);
        assert_eq!(ingress.typed, [vec![1, 2], vec![3]]);
        assert_eq!(ingress.raw, Some(vec![1, 2, 3]));
    }
}
