//! Work shared between threads, in order: the audit's detection and enrichment (and the
//! JUnit report's test cases) split a slice into one contiguous share per core and keep the
//! shares' order; the JSON report's findings and the SARIF results are rendered piece by
//! piece on every core and handed back in order, as they are ready.

use std::sync::mpsc;

/// Threads worth starting: one per core, at most 8.
pub fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 8))
}

/// `work(start, share)` on contiguous shares of `items` (one per core, none smaller than
/// `min_share`, so small inputs stay on this thread), results in the order of the shares.
/// `start` is the index of the share's first item.
pub fn map_shares<'a, T: Sync, R: Send>(
    items: &'a [T],
    min_share: usize,
    work: impl Fn(usize, &'a [T]) -> R + Sync,
) -> Vec<R> {
    let share = items.len().div_ceil(threads()).max(min_share).max(1);
    if items.len() <= share {
        return vec![work(0, items)];
    }
    std::thread::scope(|scope| {
        let work = &work;
        let handles: Vec<_> = items
            .chunks(share)
            .enumerate()
            .map(|(i, chunk)| scope.spawn(move || work(i * share, chunk)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a worker thread panicked"))
            .collect()
    })
}

/// `work(start, piece)` on consecutive pieces of `items` (`piece` items each, `start` the
/// index of the piece's first item) on every core, and `each(result)` on this thread, in
/// the pieces' order, as soon as each is ready. At most two results per worker wait, so
/// memory stays bounded whatever the number of items. The first error of `each` stops the
/// work and is returned.
pub fn for_each_ordered<T: Sync, R: Send, E>(
    items: &[T],
    piece: usize,
    work: impl Fn(usize, &[T]) -> R + Sync,
    each: impl FnMut(R) -> Result<(), E>,
) -> Result<(), E> {
    for_each_ordered_on(threads(), items, piece, work, each)
}

/// [`for_each_ordered`] on at most `threads` threads (tests try other counts than the
/// machine's).
fn for_each_ordered_on<T: Sync, R: Send, E>(
    threads: usize,
    items: &[T],
    piece: usize,
    work: impl Fn(usize, &[T]) -> R + Sync,
    mut each: impl FnMut(R) -> Result<(), E>,
) -> Result<(), E> {
    let piece = piece.max(1);
    let pieces = items.len().div_ceil(piece);
    let workers = threads.min(pieces);
    if workers <= 1 {
        return items
            .chunks(piece)
            .enumerate()
            .try_for_each(|(i, chunk)| each(work(i * piece, chunk)));
    }
    std::thread::scope(|scope| {
        let work = &work;
        // Worker w renders pieces w, w + workers, ...: results are taken round-robin.
        let results: Vec<mpsc::Receiver<R>> = (0..workers)
            .map(|w| {
                let (tx, rx) = mpsc::sync_channel(1);
                scope.spawn(move || {
                    for (i, chunk) in items.chunks(piece).enumerate().skip(w).step_by(workers) {
                        // A closed channel: `each` failed and the results are not wanted.
                        if tx.send(work(i * piece, chunk)).is_err() {
                            break;
                        }
                    }
                });
                rx
            })
            .collect();
        // On an early return the receivers are dropped first: the workers stop sending,
        // then the scope joins them.
        for i in 0..pieces {
            let result = results[i % workers]
                .recv()
                .expect("a worker thread panicked");
            each(result)?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn shares_keep_their_order_and_cover_everything() {
        let items: Vec<usize> = (0..10_000).collect();
        let shares = super::map_shares(&items, 1000, |start, share| {
            assert_eq!(share[0], start);
            share.to_vec()
        });
        assert_eq!(shares.concat(), items);
        if super::threads() > 1 {
            assert!(shares.len() > 1);
        }
        assert_eq!(
            super::map_shares(&items[..10], 1000, |_, s| s.len()),
            vec![10]
        );
        assert_eq!(
            super::map_shares(&items[..0], 1000, |_, s| s.len()),
            vec![0]
        );
    }

    #[test]
    fn ordered_pieces_arrive_in_order_and_an_error_stops_the_work() {
        let items: Vec<usize> = (0..10_007).collect();
        // One thread (a one-core machine: this thread alone), the machine's, and more.
        for (threads, piece) in [1, 2, 3]
            .into_iter()
            .flat_map(|t| [1, 7, 1000, 20_000].map(|p| (t, p)))
        {
            let mut seen = Vec::new();
            let done: Result<(), ()> = super::for_each_ordered_on(
                threads,
                &items,
                piece,
                |start, p| {
                    assert_eq!(p[0], start);
                    p.to_vec()
                },
                |p| {
                    seen.extend(p);
                    Ok(())
                },
            );
            assert_eq!(
                (done, &seen),
                (Ok(()), &items),
                "{threads} threads, piece {piece}"
            );
        }
        let mut calls = 0;
        let stopped = super::for_each_ordered(
            &items,
            10,
            |start, _| start,
            |start| {
                calls += 1;
                if start == 50 {
                    Err(start)
                } else {
                    Ok(())
                }
            },
        );
        assert_eq!((stopped, calls), (Err(50), 6));
        let none: Result<(), ()> =
            super::for_each_ordered(&items[..0], 10, |_, _| unreachable!(), |()| Ok(()));
        assert_eq!(none, Ok(()));
    }
}
