//! Work over many independent items on every core, in order: the rules over 10,000 documents,
//! for one. Scoped threads over contiguous chunks; small inputs stay on the calling thread,
//! where starting threads would cost more than they save.

/// The threads worth using: the cores this process may run on (cgroup limits included).
/// Asked once: finding out reads the cgroup files, and a directory of manifests asks per file.
pub fn threads() -> usize {
    static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *THREADS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get().min(8)))
}

/// `items.iter().map(f).collect()`, computed in `threads()` contiguous chunks of at least
/// `min_chunk` items each, one thread per chunk; the results keep the items' order. A
/// panicking `f` panics here, as it would on one thread.
pub fn map<'a, T: Sync, R: Send>(
    items: &'a [T],
    min_chunk: usize,
    f: impl Fn(&'a T) -> R + Sync,
) -> Vec<R> {
    let chunks = threads().min(items.len() / min_chunk.max(1)).max(1);
    if chunks == 1 {
        return items.iter().map(f).collect();
    }
    let size = items.len().div_ceil(chunks);
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(size)
            .map(|chunk| scope.spawn(move || chunk.iter().map(f).collect::<Vec<R>>()))
            .collect();
        let mut out = Vec::with_capacity(items.len());
        for handle in handles {
            match handle.join() {
                Ok(part) => out.extend(part),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        out
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn results_keep_the_order_of_the_items_whatever_the_chunking() {
        for n in [0, 1, 7, 100, 1_001] {
            let items: Vec<usize> = (0..n).collect();
            for min_chunk in [0, 1, 10, 5_000] {
                let out = super::map(&items, min_chunk, |i| i * 2);
                assert_eq!(out, items.iter().map(|i| i * 2).collect::<Vec<_>>());
            }
        }
    }
}
