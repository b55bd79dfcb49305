//! The line of every field of a document, recorded while it is parsed and asked for only for
//! the few fields a finding names. Kept small and cheap to build, since a 10,000-document
//! input has half a million fields: a path is stored as a keyed hash of its text (no string
//! per field), and the lines of a root `items` array are kept per item, so that splitting a
//! `kind: List` into its items moves each item's map instead of re-filing every line
//! (docs/performance.md).

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};
use std::sync::OnceLock;

/// Path hash → 1-based line. The keys are hashes already, so the map does not hash again.
type LineMap = HashMap<u64, usize, BuildHasherDefault<Prehashed>>;

/// The hash of a dotted field path (`spec.services.0.name`). Keyed per process, so input
/// crafted to collide cannot be written in advance.
fn key(path: &str) -> u64 {
    static STATE: OnceLock<RandomState> = OnceLock::new();
    STATE.get_or_init(RandomState::new).hash_one(path)
}

/// A hasher for keys that are hashes.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// The field lines of one document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Lines {
    /// Every field outside the root's `items` array.
    root: LineMap,
    /// For each element of the root's `items` array, its fields by path relative to it (the
    /// element itself under the empty path).
    items: Vec<LineMap>,
}

impl Lines {
    /// The line recorded for exactly this path.
    pub(super) fn get(&self, path: &str) -> Option<usize> {
        if !self.items.is_empty()
            && let Some(rest) = path.strip_prefix("items.")
        {
            let (index, field) = rest.split_once('.').unwrap_or((rest, ""));
            if let Ok(i) = index.parse::<usize>() {
                return self.items.get(i)?.get(&key(field)).copied();
            }
        }
        self.root.get(&key(path)).copied()
    }

    /// The lines of each element of the root's `items` array, as documents of their own.
    pub(super) fn into_items(self) -> Vec<Lines> {
        self.items
            .into_iter()
            .map(|root| Lines {
                root,
                items: Vec::new(),
            })
            .collect()
    }

    /// These lines, with the items of `more` appended to the root `items` array's, in order.
    pub(super) fn with_items(mut self, more: impl IntoIterator<Item = Lines>) -> Lines {
        for lines in more {
            self.items.extend(lines.items);
        }
        self
    }

    /// The line of the item itself, when this is one element of a root `items` array.
    pub(super) fn own_line(&self) -> Option<usize> {
        self.root.get(&key("")).copied()
    }
}

/// Builds [`Lines`] while a parser walks a document depth-first.
#[derive(Default)]
pub(super) struct Recorder {
    /// The dotted path of the node being read, relative to the current root `items` element
    /// when inside one.
    path: String,
    /// The root `items` element being read, if any.
    item: Option<usize>,
    /// Lines before the parsed text: it is a part of a larger one, cut at a document start.
    base: usize,
    lines: Lines,
}

impl Recorder {
    /// A recorder for a text that starts after `base` lines of the input.
    pub(super) fn after_lines(base: usize) -> Recorder {
        Recorder {
            base,
            ..Recorder::default()
        }
    }

    /// Descends into a mapping key or sequence index; returns the mark to [`Self::leave`] with.
    pub(super) fn enter(&mut self, segment: &str) -> usize {
        let mark = self.path.len();
        if mark > 0 {
            self.path.push('.');
        }
        self.path.push_str(segment);
        mark
    }

    pub(super) fn leave(&mut self, mark: usize) {
        self.path.truncate(mark);
    }

    /// Records the line of the node at the current path.
    pub(super) fn record(&mut self, line: usize) {
        let line = line + self.base;
        let k = key(&self.path);
        match self.item {
            Some(i) => {
                if let Some(map) = self.lines.items.get_mut(i) {
                    map.insert(k, line);
                }
            }
            None => {
                self.lines.root.insert(k, line);
            }
        }
    }

    /// Whether the current node is the root's `items` value (an array there is read with
    /// [`Self::enter_item`]).
    pub(super) fn at_root_items(&self) -> bool {
        self.item.is_none() && self.path == "items"
    }

    /// Starts element `index` of the root's `items` array, recorded at `line`; paths are
    /// relative to it until [`Self::leave_item`].
    pub(super) fn enter_item(&mut self, index: usize, line: usize) -> String {
        if self.lines.items.len() <= index {
            self.lines.items.resize_with(index + 1, LineMap::default);
        }
        self.item = Some(index);
        let saved = std::mem::take(&mut self.path);
        self.record(line);
        saved
    }

    pub(super) fn leave_item(&mut self, saved: String) {
        self.item = None;
        self.path = saved;
    }

    /// The lines before the text read: a part's recorded lines are its own plus these.
    pub(super) fn base(&self) -> usize {
        self.base
    }

    /// Appends the items of another part's root `items` array (read with a recorder of its
    /// own, from index 0) after the items recorded so far.
    pub(super) fn add_items(&mut self, more: Lines) {
        self.lines.items.extend(more.items);
    }

    pub(super) fn finish(self) -> Lines {
        self.lines
    }
}

/// Formats sequence indexes without allocating.
#[derive(Default)]
pub(super) struct Index([u8; 20]);

impl Index {
    pub(super) fn format(&mut self, mut n: usize) -> &str {
        let mut i = self.0.len();
        loop {
            i -= 1;
            self.0[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        std::str::from_utf8(&self.0[i..]).unwrap_or("0")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_inside_and_outside_the_root_items() {
        let mut r = Recorder::default();
        let m = r.enter("kind");
        r.record(1);
        r.leave(m);
        let m = r.enter("items");
        r.record(2);
        assert!(r.at_root_items());
        let saved = r.enter_item(0, 3);
        let s = r.enter("spec");
        r.record(4);
        assert!(!r.at_root_items());
        let i = r.enter("items");
        assert!(!r.at_root_items(), "an item's own items are not the root's");
        r.leave(i);
        r.leave(s);
        r.leave_item(saved);
        r.leave(m);
        let lines = r.finish();
        assert_eq!(lines.get("kind"), Some(1));
        assert_eq!(lines.get("items"), Some(2));
        assert_eq!(lines.get("items.0"), Some(3));
        assert_eq!(lines.get("items.0.spec"), Some(4));
        assert_eq!(lines.get("items.1"), None);
        assert_eq!(lines.get("spec"), None);
        let items = lines.into_items();
        assert_eq!(items.len(), 1);
        assert_eq!(
            (items[0].own_line(), items[0].get("spec")),
            (Some(3), Some(4))
        );
    }

    #[test]
    fn indexes_format_as_decimal() {
        let mut i = Index::default();
        assert_eq!(i.format(0), "0");
        assert_eq!(i.format(10_470), "10470");
        assert_eq!(i.format(usize::MAX), usize::MAX.to_string());
    }
}
