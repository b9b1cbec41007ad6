//! Names that arrive borrowed but must live as `&'static str`: the keys of
//! the `log` crate's key-values, the file and module names of `log` records
//! that reach the pipeline through `tracing-log`, resource attribute names
//! from the environment, and panic locations. slog keys and
//! record locations are `&'static str`, so such a name is copied once, kept
//! for the life of the process, and found again by a lookup.
//!
//! Reading is an atomic load and a hash lookup: no lock, no allocation, no
//! system call. At most [`MAX_INTERNED`] names are ever kept, so a source of
//! ever-new names cannot grow the process without bound; past that,
//! [`intern`] returns `None` and the caller says so in the record.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock, PoisonError};

use arc_swap::ArcSwap;

/// The most names kept.
pub(crate) const MAX_INTERNED: usize = 4096;

struct Table {
    names: ArcSwap<HashSet<&'static str>>,
    /// Serializes inserts (readers never take it).
    insert: Mutex<()>,
}

impl Table {
    fn new() -> Table {
        Table {
            names: ArcSwap::from_pointee(HashSet::new()),
            insert: Mutex::new(()),
        }
    }

    fn intern(&self, name: &str, max: usize) -> Option<&'static str> {
        if let Some(kept) = self.names.load().get(name) {
            return Some(kept);
        }
        let _one = self.insert.lock().unwrap_or_else(PoisonError::into_inner);
        let names = self.names.load();
        if let Some(kept) = names.get(name) {
            return Some(kept);
        }
        if names.len() >= max {
            return None;
        }
        let kept: &'static str = Box::leak(name.to_owned().into_boxed_str());
        let mut more = HashSet::clone(&names);
        more.insert(kept);
        self.names.store(std::sync::Arc::new(more));
        Some(kept)
    }
}

/// `name` as a `&'static str`: the kept copy, made on first sight; `None`
/// once [`MAX_INTERNED`] other names are kept.
pub(crate) fn intern(name: &str) -> Option<&'static str> {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(Table::new).intern(name, MAX_INTERNED)
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
        assert_eq!(table.names.load().len(), 30);
        // A name kept before the table filled is still found.
        assert!(table.intern("bounded-0", 30).is_some());
    }
}
