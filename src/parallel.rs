//! Running one function over many independent items on every core, with
//! the results in the items' order, so output never depends on timing; and
//! two independent jobs side by side.
//!
//! Scoped threads from the standard library take items by an atomic
//! counter, a few at a time: checking 10,000 planned changes shares out
//! evenly without a thread-pool crate. Small inputs run on the calling
//! thread. The Apache loader resolves and reads the files of a large
//! Include this way before walking them in order (0.95x the time at 10,000
//! sites, same peak); parsing them this way too was tried: 0.95x the time
//! for 1.2x the peak memory, since every tree is then held at once; so was
//! parsing 256 at a time (1.21x the time) and one thread reading and
//! parsing ahead of the walk through a channel (1.1x the time, each file
//! a hand-over between threads); and so was walking each site file on
//! its own on every core, the loader only renumbering what each holds,
//! 1,024 at a time (1.07x the time) or through a bounded ring of results
//! with the threads started once (0.99x the time, 1.15x the cpu: reading
//! on one core what was made on the other cost as much as it saved).

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Below this many items, one thread does the work: starting threads costs
/// more than it saves.
const SERIAL_BELOW: usize = 64;
/// Items a thread takes at once.
const BATCH: usize = 16;

/// `f` applied to every item, results in the order of `items`. A panic in
/// `f` reaches the caller.
pub fn map<T, R, F>(items: &[T], f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(items.len().div_ceil(BATCH));
    if items.len() < SERIAL_BELOW || threads < 2 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<(usize, Vec<R>)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let mut mine = Vec::new();
                loop {
                    let start = next.fetch_add(BATCH, Ordering::Relaxed);
                    if start >= items.len() {
                        break;
                    }
                    let end = (start + BATCH).min(items.len());
                    mine.push((start, items[start..end].iter().map(&f).collect()));
                }
                done.lock().unwrap_or_else(|e| e.into_inner()).extend(mine);
            });
        }
    });
    let mut batches = done.into_inner().unwrap_or_else(|e| e.into_inner());
    batches.sort_unstable_by_key(|(start, _)| *start);
    batches.into_iter().flat_map(|(_, r)| r).collect()
}

/// `a()` and `b()`, the second on another thread when there is another
/// core. A panic in either reaches the caller.
pub fn join<A, B, RA, RB>(a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA,
    B: FnOnce() -> RB + Send,
    RB: Send,
{
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cores < 2 {
        let ra = a();
        return (ra, b());
    }
    std::thread::scope(|s| {
        let other = s.spawn(b);
        let ra = a();
        let rb = other
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (ra, rb)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_the_order_of_the_items() {
        for n in [0, 1, 63, 64, 65, 1000] {
            let items: Vec<usize> = (0..n).collect();
            let out = map(&items, |i| i * 2);
            assert_eq!(out, items.iter().map(|i| i * 2).collect::<Vec<_>>(), "{n}");
        }
    }

    #[test]
    fn join_returns_both_in_place() {
        let (a, b) = join(|| "first", || 2);
        assert_eq!((a, b), ("first", 2));
        let r = std::panic::catch_unwind(|| join(|| 1, || -> u8 { panic!("the other") }));
        assert!(r.is_err());
    }

    #[test]
    fn a_panic_in_one_item_reaches_the_caller() {
        let items: Vec<usize> = (0..200).collect();
        let r = std::panic::catch_unwind(|| {
            map(&items, |&i| if i == 150 { panic!("one item") } else { i })
        });
        assert!(r.is_err());
    }
}
