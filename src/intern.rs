//! Names that arrive borrowed but must live as `&'static str`: the keys of
//! the `log` crate's key-values, the file and module names of `log` records
//! that reach the pipeline through `tracing-log`, resource attribute names
//! from the environment, and panic locations. slog keys and
//! record locations are `&'static str`, so such a name is copied once, kept
//! for the life of the process, and found again by a lookup.
//!
//! Reading is an atomic load and a hash lookup: no lock, no allocation, no
//! system call; inserting takes no lock either. At most [`MAX_INTERNED`] names are ever kept, so a source of
//! ever-new names cannot grow the process without bound; past that,
//! [`intern`] returns `None` and the caller says so in the record.

use std::collections::HashSet;
use std::sync::Arc;

use arc_swap::ArcSwapOption;

/// The most names kept.
pub(crate) const MAX_INTERNED: usize = 4096;

/// A set of kept names, replaced whole on insert. Lock-free on both sides:
/// a forked child may intern while a thread of the parent that does not
/// exist there was inserting (a lock would stay held forever).
struct Table {
    names: ArcSwapOption<HashSet<&'static str>>,
}

impl Table {
    const fn new() -> Table {
        Table {
            names: ArcSwapOption::const_empty(),
        }
    }

    fn intern(&self, name: &str, max: usize) -> Option<&'static str> {
        if let Some(found) = self.names.load().as_ref().and_then(|s| s.get(name)) {
            return Some(found);
        }
        let mut kept: Option<&'static str> = None;
        loop {
            let names = self.names.load_full();
            let set = names.as_deref();
            if let Some(found) = set.and_then(|s| s.get(name)) {
                // Another thread kept it first (this thread's copy, if it
                // made one, stays leaked: one short string per such race).
                return Some(found);
            }
            if set.map_or(0, HashSet::len) >= max {
                return None;
            }
            let copy = *kept.get_or_insert_with(|| Box::leak(name.to_owned().into_boxed_str()));
            let mut more = set.cloned().unwrap_or_default();
            more.insert(copy);
            let before = self.names.compare_and_swap(&names, Some(Arc::new(more)));
            let same = match (&*before, &names) {
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                (None, None) => true,
                _ => false,
            };
            if same {
                return Some(copy);
            }
        }
    }
}

/// `name` as a `&'static str`: the kept copy, made on first sight; `None`
/// once [`MAX_INTERNED`] other names are kept.
pub(crate) fn intern(name: &str) -> Option<&'static str> {
    static TABLE: Table = Table::new();
    TABLE.intern(name, MAX_INTERNED)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_name_is_the_same_copy() {
        let a = intern(&String::from("order_id")).unwrap();
        let b = intern(&String::from("order_id")).unwrap();
        assert_eq!(a, "order_id");
        assert!(std::ptr::eq(a, b));
    }

    #[test]
    fn the_table_is_bounded() {
        let table = Table::new();
        let refused = (0..40)
            .filter(|i| table.intern(&format!("bounded-{i}"), 30).is_none())
            .count();
        assert_eq!(refused, 10);
        assert_eq!(table.names.load().as_ref().map_or(0, |s| s.len()), 30);
        // A name kept before the table filled is still found.
        assert!(table.intern("bounded-0", 30).is_some());
    }
}
