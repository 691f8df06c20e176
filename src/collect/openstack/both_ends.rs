//! Reading a long listing from both ends at once.
//!
//! A marker-paginated listing is one request at a time, so one API worker serves it however
//! many the cloud runs: against a real Neutron, a listing of 100k ports takes over a minute,
//! and Nova's servers take four times as long per object. Neutron lists in id order and
//! sorts the other way on request (`sort_key=id&sort_dir=desc`); Nova's servers are listed
//! in uuid order, asked for (`sort_key=uuid&sort_dir=asc`, `desc` the other way; see
//! `IdOrder`). So a listing still running after `ClientSettings::reverse_after` gets a
//! second stream that starts from the end; the two stop where they meet, and a second
//! worker has served half.
//!
//! The second stream may stop the first one early, so it is trusted only with proof, and
//! any doubt leaves the first stream to read the listing alone, as it would have:
//! - its start is proven to be the end: after its first page, a request from its first
//!   (greatest) id in the listing's own order must return nothing;
//! - its ids must fall strictly from page to page, and the first stream's rise strictly;
//! - every id of both must be a lower-case dashed UUID (Neutron's and Nova's ids): their
//!   order is then the same under any collation the server's database sorts by, so
//!   "greater" means the same thing to the server and here;
//! - an error, an empty or unordered page, a link that does not advance, the first stream
//!   restarting (a deleted marker): the second stream stops and its pages are dropped.
//!
//! They meet when the first stream's greatest id reaches the second's least: every id up to
//! the one is in the first, every id from the other in the second, so the two hold the
//! whole listing. The second's objects beyond the first's last id are added after the
//! first's, in id order: the same objects, in the same order, as one stream would give.
//! Both streams run in the listing's task (two futures), so a page is handled whole before
//! the other stream runs: no step of one interleaves with a step of the other.
//!
//! Pages are sized so that neither stream reads what the other is reading (a request
//! cancelled where the streams meet is still served, and costs a busy API worker's time):
//! Neutron's ids are random UUIDs, spread evenly, so how densely the ids read so far fill
//! the ranges read estimates how many objects lie between the streams (`remaining`). Each
//! asks only for what the other's page in flight leaves, with a margin, and waits while
//! that page likely covers the rest. The estimate only sizes pages: being wrong costs a
//! request or a few objects read twice, never an object; after a few short pages in a
//! listing (ids not spread evenly) it is given up, and the streams read full pages.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::watch;

use super::client::Session;
use super::listing::{HasId, LastPage, Page, Stream};
use crate::id::Id;

/// Where the two streams are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// The first stream is reading; the second waits, or reads, or is proven and reading.
    Running,
    /// They met: both stop; the second's pages complete the first's.
    Met,
    /// The second stream is out of the game (the first ended, or the second gave up).
    Over,
}

/// What the first stream does with a page it has just read.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Step {
    /// Keep it and go on.
    Go,
    /// Keep it and stop: with it, the streams meet.
    Last,
    /// Drop it and stop: the streams met while it was read.
    Drop,
}

struct State<I> {
    phase: Phase,
    /// The first stream's greatest id so far (its last: its ids rise).
    forward_last: Option<Id>,
    /// Objects the first stream read (before any client-side filter) and kept, so far.
    forward_seen: usize,
    forward_kept: usize,
    /// The second stream's pages once proven (kept objects, as received: ids falling).
    backward: Vec<Vec<I>>,
    /// The second stream's least id so far, once proven.
    backward_last: Option<Id>,
    backward_seen: usize,
    backward_kept: usize,
    /// Requests the second stream made (its pages and its proof).
    backward_requests: usize,
    /// The second stream's page that met the first, when it held fewer objects than it
    /// was asked for: see [`Ends::short_meeting`].
    short_meeting: Option<LastPage>,
    /// The `limit` of the page each stream is reading now (0: none).
    forward_in_flight: usize,
    backward_in_flight: usize,
    /// Pages asked for short of `page_size` by the estimate, by either stream.
    trimmed: usize,
}

/// The state the two streams of one listing share.
pub(super) struct Ends<I> {
    /// The listing's name, and whether to say why the second stream stops (`--verbose`).
    resource: &'static str,
    verbose: bool,
    state: Mutex<State<I>>,
    phase: watch::Sender<Phase>,
    /// Pages the first stream has read that had a next link: the second starts only on a
    /// listing that is not over after one page.
    forward_pages: watch::Sender<usize>,
    /// Bumped when the second stream records a page or the phase changes: what the first
    /// stream waits for when the page being read from the end covers what is left.
    backward_changes: watch::Sender<u64>,
}

/// Whether `ids` are all dashed UUIDs, strictly rising (`rising`) or falling, and beyond
/// `after` (greater than it when rising, less when falling).
fn in_order<'a>(after: Option<&Id>, ids: impl Iterator<Item = &'a Id>, rising: bool) -> bool {
    let mut last = after;
    for id in ids {
        if id.dashed_uuid_value().is_none() {
            return false;
        }
        if let Some(last) = last {
            if (rising && id <= last) || (!rising && id >= last) {
                return false;
            }
        }
        last = Some(id);
    }
    true
}

impl<I: HasId> Ends<I> {
    pub(super) fn new(resource: &'static str, verbose: bool) -> Ends<I> {
        Ends {
            resource,
            verbose,
            state: Mutex::new(State {
                phase: Phase::Running,
                forward_last: None,
                forward_seen: 0,
                forward_kept: 0,
                backward: Vec::new(),
                backward_last: None,
                backward_seen: 0,
                backward_kept: 0,
                backward_requests: 0,
                short_meeting: None,
                forward_in_flight: 0,
                backward_in_flight: 0,
                trimmed: 0,
            }),
            phase: watch::channel(Phase::Running).0,
            forward_pages: watch::channel(0).0,
            backward_changes: watch::channel(0).0,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State<I>> {
        self.state
            .lock()
            .expect("no step panics while holding the state")
    }

    fn set_phase(&self, state: &mut State<I>, phase: Phase) {
        state.phase = phase;
        self.phase.send_replace(phase);
        self.backward_changes.send_modify(|n| *n += 1);
    }

    /// Takes the second stream out (its pages are dropped), saying why with `--verbose`,
    /// unless the streams already met or it is already out.
    pub(super) fn abandon(&self, why: &str) {
        let mut state = self.lock();
        if state.phase == Phase::Running {
            if self.verbose {
                eprintln!(
                    "driftmux: {}: reading from the end stopped ({why}); the listing from the start goes on alone",
                    self.resource
                );
            }
            state.backward.clear();
            self.set_phase(&mut state, Phase::Over);
        }
    }

    /// Whether the second stream has read objects that it proved are in the listing, and
    /// has not met the first: asked when the first ends on its own, such objects lie
    /// beyond where it ended.
    pub(super) fn read_beyond(&self) -> bool {
        let state = self.lock();
        state.phase == Phase::Running && state.backward_last.is_some()
    }

    /// The first stream is over (done, failed or stopped): the second stops.
    pub(super) fn finish(&self) {
        let mut state = self.lock();
        if state.phase == Phase::Running {
            self.set_phase(&mut state, Phase::Over);
        }
    }

    /// Resolves once the streams have met (never, if they do not).
    pub(super) async fn met(&self) {
        let mut phase = self.phase.subscribe();
        if phase.wait_for(|p| *p == Phase::Met).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// Resolves once the second stream should stop (met, or out).
    async fn stopped(&self) {
        let mut phase = self.phase.subscribe();
        let _ = phase.wait_for(|p| *p != Phase::Running).await;
    }

    /// The first stream read `items` (before any client-side filter): keep them or not.
    pub(super) fn forward_page(&self, items: &[I]) -> Step {
        let mut state = self.lock();
        state.forward_in_flight = 0;
        match state.phase {
            Phase::Met => return Step::Drop,
            Phase::Over => return Step::Go,
            Phase::Running => {}
        }
        let ids = items.iter().map(HasId::id);
        if !in_order(state.forward_last.as_ref(), ids, true) {
            drop(state);
            self.abandon("the listing from the start is not in id order (or not by UUID)");
            return Step::Go;
        }
        if let Some(last) = items.last() {
            state.forward_last = Some(last.id().clone());
        }
        state.forward_seen += items.len();
        if met(&state) {
            self.set_phase(&mut state, Phase::Met);
            return Step::Last;
        }
        Step::Go
    }

    /// The `limit` the first stream asks for next: its usual `page_size`, or, once the
    /// second stream is proven, what the estimate leaves beyond the page that one is
    /// reading, with a margin. When that page likely covers all that is left, the first
    /// stream waits for it, up to `patience` (a slow page from the end must not hold the
    /// listing up: then it asks for all that is left itself), and looks again; `None` when
    /// the streams met meanwhile. The first stream never stops short of the second: it
    /// may read a few objects twice.
    pub(super) async fn forward_limit(
        &self,
        page_size: usize,
        patience: Duration,
    ) -> Option<usize> {
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            let mut changes = self.backward_changes.subscribe();
            let waited_enough = tokio::time::Instant::now() >= deadline;
            {
                let mut state = self.lock();
                let in_flight = if waited_enough {
                    0
                } else {
                    state.backward_in_flight
                };
                let wanted = match (state.phase, &state.backward_last, remaining(&state)) {
                    (Phase::Met, _, _) => return None,
                    (Phase::Running, Some(_), Some(left)) => {
                        let beyond = left - in_flight as f64;
                        (beyond > 0.0 || in_flight == 0).then(|| with_margin(beyond, page_size))
                    }
                    _ => Some(page_size),
                };
                if let Some(limit) = wanted {
                    state.forward_in_flight = limit;
                    state.trimmed += usize::from(limit < page_size);
                    return Some(limit);
                }
            }
            let _ = tokio::time::timeout_at(deadline, changes.changed()).await;
        }
    }

    /// The first stream kept `kept` objects so far and read a page with a next link
    /// (`more`): the number to show as fetched.
    pub(super) fn forward_progress(&self, kept: usize, pages: usize, more: bool) -> usize {
        let mut state = self.lock();
        state.forward_kept = kept;
        if more {
            self.forward_pages.send_replace(pages);
        }
        kept + state.backward_kept
    }

    /// The least id of a page the second stream read, if its ids fall in order from
    /// where it was.
    fn check_backward(&self, items: &[I]) -> Result<Id, String> {
        let state = self.lock();
        let ids = items.iter().map(HasId::id);
        if !in_order(state.backward_last.as_ref(), ids, false) {
            return Err("its ids do not fall in order (or are not UUIDs)".into());
        }
        items.last().map(|i| i.id().clone()).ok_or_else(|| {
            "it read an empty page before meeting the listing from the start".to_owned()
        })
    }

    /// Records a proven page of the second stream (its kept objects, how many it read
    /// before any client-side filter, and the least id it read): whether the streams met
    /// with it. `shown` gets the number of objects to show as fetched.
    /// `short`: the page's URL, when it held fewer objects than it was asked for.
    fn backward_page(
        &self,
        page: Vec<I>,
        seen: usize,
        least: Id,
        short: Option<String>,
        shown: impl FnOnce(usize),
    ) -> bool {
        let mut state = self.lock();
        if state.phase != Phase::Running {
            return state.phase == Phase::Met;
        }
        state.backward_seen += seen;
        state.backward_kept += page.len();
        state.backward.push(page);
        state.backward_last = Some(least);
        shown(state.forward_kept + state.backward_kept);
        if met(&state) {
            let page = |url| LastPage {
                url,
                objects: seen,
                beyond: true,
            };
            state.short_meeting = short.map(page);
            self.set_phase(&mut state, Phase::Met);
        }
        self.backward_changes.send_modify(|n| *n += 1);
        state.phase == Phase::Met
    }

    /// Where the streams met on a page of the second stream that held fewer objects than
    /// it was asked for. Objects lie beyond it (the first stream read them), so it should
    /// have been full: objects were left out of it, which lay between the streams (see
    /// `LastPage::beyond`).
    pub(super) fn short_meeting(&self) -> Option<LastPage> {
        self.lock().short_meeting.clone()
    }

    /// The second stream's objects that complete the first's (those beyond the first's
    /// last id, in id order) when the streams met, and the requests it made either way.
    pub(super) fn into_tail(self) -> (Option<Vec<I>>, usize) {
        let state = self.state.into_inner().expect("no step panics");
        let requests = state.backward_requests;
        if state.phase != Phase::Met {
            return (None, requests);
        }
        let last = state
            .forward_last
            .expect("the streams meet only after the first has read an object");
        let mut tail: Vec<I> = state
            .backward
            .into_iter()
            .flatten()
            .filter(|item| *item.id() > last)
            .collect();
        tail.reverse();
        (Some(tail), requests)
    }
}

/// Short pages the estimate may ask for in one listing. Near the meeting each stream needs
/// one or two; more means the ids are not spread evenly (not Neutron's random UUIDs), and
/// the estimate is not trusted any more: full pages from then on, as without it.
const MAX_TRIMMED: usize = 6;

/// How many objects lie between the two streams, estimated from how densely the ids read
/// so far fill the ranges read (Neutron's ids are random UUIDs, spread evenly); `None` when
/// there is nothing to go by, or the estimate has failed (`MAX_TRIMMED`).
fn remaining<I>(state: &State<I>) -> Option<f64> {
    if state.trimmed >= MAX_TRIMMED {
        return None;
    }
    let space = u128::MAX as f64;
    let forward = state.forward_last.as_ref()?.dashed_uuid_value()? as f64;
    let (backward, seen) = match &state.backward_last {
        Some(least) => (
            least.dashed_uuid_value()? as f64,
            state.forward_seen + state.backward_seen,
        ),
        None => (space, state.forward_seen),
    };
    let covered = forward + (space - backward);
    Some(seen as f64 / covered.max(1.0) * (backward - forward).max(0.0))
}

/// How many objects the second stream asks for next: what the estimate leaves beyond the
/// page the first stream is reading, with a margin, at most a page; `None` when that page
/// likely reaches all that is left (a page from the end would be read twice), so the second
/// stream waits for it (never when the first is reading nothing: one of the two always
/// reads); a full page when there is no estimate.
fn backward_limit<I>(state: &State<I>, page_size: usize) -> Option<usize> {
    let Some(left) = remaining(state) else {
        return Some(page_size);
    };
    let beyond = left - state.forward_in_flight as f64;
    (beyond > 0.0 || state.forward_in_flight == 0).then(|| with_margin(beyond, page_size))
}

/// A page for `wanted` objects by the estimate: a quarter more and a few (the estimate is
/// off by a few percent on a listing long enough to be read from both ends), at most
/// `page_size`, at least the few.
fn with_margin(wanted: f64, page_size: usize) -> usize {
    let wanted = (wanted.max(0.0) * 1.25).ceil() + 16.0;
    if wanted >= page_size as f64 {
        page_size
    } else {
        wanted as usize
    }
}

/// Whether the first stream reached the second.
fn met<I>(state: &State<I>) -> bool {
    matches!((&state.forward_last, &state.backward_last), (Some(f), Some(b)) if f >= b)
}

/// The second stream: waits `after` (and for the first stream to have read a page with a
/// next link), then reads the listing from its end (`reversed`: its query the other way)
/// until it meets the first stream, or stops when that one is over. It never fails the
/// listing: trouble takes it out.
pub(super) async fn backward<P: Page>(
    session: &Session,
    listing: &Stream<'_, P>,
    reversed: &str,
    ends: &Ends<P::Item>,
    after: Duration,
) {
    let waited = async {
        tokio::time::sleep(after).await;
        let mut pages = ends.forward_pages.subscribe();
        let _ = pages.wait_for(|n| *n >= 1).await;
    };
    tokio::select! {
        _ = waited => {}
        _ = ends.stopped() => return,
    }
    let reading = read_backward(session, listing, reversed, ends);
    let outcome = tokio::select! {
        outcome = reading => outcome,
        _ = ends.stopped() => Ok(()),
    };
    if let Err(why) = outcome {
        ends.abandon(&why);
    }
}

/// Reads pages from the end until the streams meet; `Err` says why it gave up.
async fn read_backward<P: Page>(
    session: &Session,
    listing: &Stream<'_, P>,
    reversed: &str,
    ends: &Ends<P::Item>,
) -> Result<(), String> {
    let url = |query: &str| format!("{}?{query}", listing.endpoint);
    let mut query = reversed.to_owned();
    let mut seen: HashSet<String> = HashSet::new();
    let (mut body, mut items) = (Vec::new(), Vec::new());
    let mut proven = false;
    let page_size = session.settings().page_size;
    loop {
        let mut forward_pages = ends.forward_pages.subscribe();
        let Some(limit) = backward_limit(&ends.lock(), page_size) else {
            // The page from the start being read now likely reaches the end of what is
            // left: wait for it, then look again.
            let _ = forward_pages.changed().await;
            continue;
        };
        seen.insert(query.clone());
        {
            let mut state = ends.lock();
            state.backward_requests += 1;
            state.backward_in_flight = limit;
            state.trimmed += usize::from(limit < page_size);
        }
        let page_url = url(&with_limit(&query, limit));
        let next = session
            .page::<P>(&page_url, listing.headers, &mut body, &mut items)
            .await
            .map_err(|e| e.message)?;
        ends.lock().backward_in_flight = 0;
        let least = ends.check_backward(&items)?;
        if !proven {
            // Nothing after its first id: it started at the end.
            let greatest = items[0].id().to_string();
            ends.lock().backward_requests += 1;
            let mut after = Vec::new();
            let proof = format!("{}&marker={greatest}", with_limit(listing.query, 1));
            session
                .page::<P>(&url(&proof), listing.headers, &mut body, &mut after)
                .await
                .map_err(|e| e.message)?;
            if !after.is_empty() {
                return Err(format!(
                    "the listing goes on after {greatest}: it did not start at the end"
                ));
            }
            proven = true;
        }
        let read = items.len();
        let page: Vec<P::Item> = items.drain(..).filter(listing.keep).collect();
        let shown = |n| listing.progress.page(listing.resource, n);
        let short = (read < limit).then_some(page_url);
        if ends.backward_page(page, read, least, short, shown) {
            return Ok(());
        }
        let Some(href) = next else {
            return Err("it reached the start without meeting the listing from the start".into());
        };
        let next_query = href.split_once('?').map_or("", |(_, q)| q).to_owned();
        if next_query.is_empty() || seen.contains(&next_query) {
            return Err("its next link does not advance".into());
        }
        query = next_query;
    }
}

/// The query with `limit=n` in place of its limit.
pub(super) fn with_limit(query: &str, n: usize) -> String {
    let limit = format!("limit={n}");
    query
        .split('&')
        .filter(|pair| !pair.starts_with("limit="))
        .chain([limit.as_str()])
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, PartialEq)]
    struct Item(Id);
    impl HasId for Item {
        fn id(&self) -> &Id {
            &self.0
        }
    }

    fn uuid(n: u32) -> Item {
        Item(Id::new(&format!("{n:08x}-0000-4000-8000-000000000000")))
    }

    fn items(ns: &[u32]) -> Vec<Item> {
        ns.iter().map(|&n| uuid(n)).collect()
    }

    /// The second stream reads a page (proven): whether the streams met with it.
    fn backward(ends: &Ends<Item>, ns: &[u32]) -> bool {
        let page = items(ns);
        let least = ends.check_backward(&page).unwrap();
        ends.backward_page(page, ns.len(), least, None, |_| {})
    }

    #[test]
    fn the_second_stream_completes_the_first_in_id_order() {
        let ends = Ends::new("test", false);
        assert_eq!(ends.forward_page(&items(&[1, 2, 3])), Step::Go);
        assert!(!backward(&ends, &[9, 8, 7]));
        assert!(!backward(&ends, &[6, 5, 4]));
        // The first stream's next page reaches the second's least id: it keeps it and stops.
        assert_eq!(ends.forward_page(&items(&[4, 5, 6])), Step::Last);
        let (tail, _) = ends.into_tail();
        assert_eq!(tail.unwrap(), items(&[7, 8, 9]));
    }

    #[test]
    fn a_page_read_after_the_meeting_is_dropped() {
        let ends = Ends::new("test", false);
        assert_eq!(ends.forward_page(&items(&[1, 2])), Step::Go);
        assert!(backward(&ends, &[4, 3, 2]));
        assert_eq!(ends.forward_page(&items(&[3, 4])), Step::Drop);
        assert_eq!(ends.into_tail().0.unwrap(), items(&[3, 4]));
    }

    #[test]
    fn disorder_or_other_ids_in_the_first_stream_take_the_second_out() {
        for page in [
            items(&[5, 4]),
            vec![Item(Id::new("port-a")), Item(Id::new("port-b"))],
            vec![Item(Id::new("00000005-0000-4000-8000-00000000000A"))],
        ] {
            let ends = Ends::new("test", false);
            assert_eq!(ends.forward_page(&items(&[1, 2])), Step::Go);
            assert_eq!(ends.forward_page(&page), Step::Go);
            // The second stream's pages no longer count: the first reads on to its end.
            assert!(!backward(&ends, &[2, 1]));
            assert_eq!(ends.forward_page(&items(&[7])), Step::Go);
            assert_eq!(ends.lock().phase, Phase::Over);
            assert!(ends.into_tail().0.is_none());
        }
    }

    #[test]
    fn abandoning_drops_the_second_streams_pages() {
        let ends = Ends::new("test", false);
        assert_eq!(ends.forward_page(&items(&[1])), Step::Go);
        assert!(!backward(&ends, &[9, 8]));
        ends.abandon("test");
        assert_eq!(ends.forward_page(&items(&[2, 8, 9])), Step::Go);
        ends.finish();
        assert_eq!(ends.lock().phase, Phase::Over);
        assert!(ends.into_tail().0.is_none());
    }

    #[test]
    fn what_lies_between_is_estimated_from_the_density_of_ids() {
        let at = |fraction: u32| uuid(u32::MAX / 4 * fraction);
        let ends: Ends<Item> = Ends::new("test", false);
        assert_eq!(remaining(&ends.lock()), None);
        // 100 objects in the first quarter of the ids: some 300 after them.
        let mut page: Vec<Item> = (1..100).map(|n| uuid(n * 1000)).collect();
        page.push(at(1));
        assert_eq!(ends.forward_page(&page), Step::Go);
        let left = remaining(&ends.lock()).unwrap();
        assert!((left - 300.0).abs() < 1.0, "{left}");
        // And 100 in the last quarter: some 200 between the two.
        let mut page: Vec<Item> = (1..100).map(|n| uuid(u32::MAX - n * 1000)).collect();
        page.push(at(3));
        let least = ends.check_backward(&page).unwrap();
        assert!(!ends.backward_page(page, 100, least, None, |_| {}));
        let left = remaining(&ends.lock()).unwrap();
        assert!((left - 200.0).abs() < 1.0, "{left}");
        // Other ids: nothing to go by.
        let other: Ends<Item> = Ends::new("test", false);
        other.lock().forward_last = Some(Id::new("port-1"));
        assert_eq!(remaining(&other.lock()), None);
    }

    /// Near the meeting, the first stream asks only for what the page being read from the
    /// end leaves; when that page covers the rest, it waits for it instead of asking.
    #[tokio::test]
    async fn the_first_stream_waits_for_a_page_from_the_end_that_covers_the_rest() {
        let ends = Ends::new("test", false);
        // Ids spread evenly: 100 read from the start up to 1/4 of the space, 100 from the
        // end down to 3/4: some 200 in between.
        let spread = |from: u32, step: u32| -> Vec<Item> {
            (0..100).map(|n| uuid(from + n * step)).collect()
        };
        let quarter = u32::MAX / 4;
        assert_eq!(
            ends.forward_page(&spread(quarter / 100, quarter / 100)),
            Step::Go
        );
        assert_eq!(
            ends.forward_limit(1000, Duration::from_secs(60)).await,
            Some(1000),
            "none proven yet"
        );
        ends.lock().forward_in_flight = 0;
        let mut page = spread(3 * quarter, quarter / 100);
        page.reverse();
        let least = ends.check_backward(&page).unwrap();
        assert!(!ends.backward_page(page, 100, least, None, |_| {}));
        // What the first stream asks for with a page of `in_flight` being read from the
        // end, waiting for it up to `patience`.
        let asked = |in_flight: usize, patience: Duration| {
            ends.lock().backward_in_flight = in_flight;
            ends.forward_limit(1000, patience)
        };
        let long = Duration::from_secs(60);
        // Nothing read from the end now: the rest, with a margin.
        let limit = asked(0, long).await.unwrap();
        assert!((260..275).contains(&limit), "{limit}");
        // A page of 150 being read from the end: the 50 or so beyond it.
        let limit = asked(150, long).await.unwrap();
        assert!((75..85).contains(&limit), "{limit}");
        // A page of 400 that does not land in time: the first stream asks for the rest.
        let limit = asked(400, Duration::from_millis(10)).await.unwrap();
        assert!((260..275).contains(&limit), "{limit}");
        // Ids not spread evenly would keep the estimate wrong: after a few short pages it
        // is not trusted any more, and the streams ask for full pages without waiting.
        let trimmed = ends.lock().trimmed;
        assert_eq!(trimmed, 3);
        ends.lock().trimmed = MAX_TRIMMED;
        assert_eq!(asked(400, long).await, Some(1000));
        assert_eq!(backward_limit(&ends.lock(), 1000), Some(1000));
        ends.lock().trimmed = trimmed;
        // A page of 400: the first stream waits; the streams meet with that page.
        ends.lock().backward_in_flight = 400;
        let waiting = ends.forward_limit(1000, Duration::from_secs(60));
        let page_lands = async {
            tokio::task::yield_now().await;
            ends.lock().backward_in_flight = 0;
            let step = quarter / 100;
            let page: Vec<Item> = (0..200)
                .rev()
                .map(|n| uuid(quarter - step + n * step))
                .collect();
            let least = ends.check_backward(&page).unwrap();
            assert!(ends.backward_page(page, 200, least, None, |_| {}), "met");
        };
        let (limit, ()) = tokio::join!(waiting, page_lands);
        assert_eq!(limit, None);
    }

    #[test]
    fn ordering_checks() {
        let ids = |ns: &[u32]| items(ns).into_iter().map(|i| i.0).collect::<Vec<_>>();
        assert!(in_order(None, ids(&[1, 2, 3]).iter(), true));
        assert!(!in_order(None, ids(&[1, 1]).iter(), true));
        assert!(!in_order(Some(&uuid(3).0), ids(&[3, 4]).iter(), true));
        assert!(in_order(Some(&uuid(5).0), ids(&[4, 2]).iter(), false));
        assert!(!in_order(Some(&uuid(5).0), ids(&[6]).iter(), false));
        assert!(in_order(None, [].iter(), false));
    }

    #[test]
    fn the_proof_asks_for_one_object() {
        assert_eq!(
            with_limit("fields=id&limit=1000&direction=egress", 1),
            "fields=id&direction=egress&limit=1"
        );
    }
}
