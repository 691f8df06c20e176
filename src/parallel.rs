//! Work shared between threads, in order: the audit's enrichment and the JSON report's
//! rendering split a slice into one contiguous share per core and keep the shares' order.

/// Threads worth starting: one per core, at most 8.
pub fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 8))
}

/// `work(start, share)` on contiguous shares of `items` (one per core, none smaller than
/// `min_share`, so small inputs stay on this thread), results in the order of the shares.
/// `start` is the index of the share's first item.
pub fn map_shares<T: Sync, R: Send>(
    items: &[T],
    min_share: usize,
    work: impl Fn(usize, &[T]) -> R + Sync,
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
}
