//! The request context of the calling thread: the fields of the `tracing`
//! spans it has entered, for every record it logs, whichever API it uses.
//!
//! The layer keeps one [`SpanNode`] per span (its own fields, and its
//! parent's node), made when the span is created and updated when fields are
//! recorded. Entering a span pushes its node onto a stack of this thread's,
//! leaving pops it. A record reads the top node and walks to the root: no
//! registry lookup and no lock another layer could hold (tracing-subscriber's
//! `fmt` layer holds a span's extensions while it formats a field, and a
//! field's `Debug` may log). With no span entered, a record pays one
//! thread-local read.
//!
//! Rules, the same for slog, `log` and `tracing` records: the record's own
//! fields first, then the spans' fields, outermost span first; a key given
//! twice keeps the value nearest the record (its own, then the innermost
//! span's) and is written once. The encoder writes a span field named like a
//! record key or host field as `fields.<name>`; a slog logger's own context
//! (`o!`) comes after the spans' fields, so a key both give keeps the span's
//! value.

use std::cell::RefCell;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwap;
use tracing_core::field::{Field, Visit};

use crate::record::event::{Event, FieldIn, Value};

/// A span's own fields.
#[derive(Default, Clone)]
pub(crate) struct SpanFields(Vec<(&'static str, Owned)>);

#[derive(Clone)]
enum Owned {
    Str(String),
    Plain(Value),
}

impl SpanFields {
    fn set(&mut self, key: &'static str, value: Owned) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key, value)),
        }
    }
}

impl Visit for SpanFields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.set(field.name(), Owned::Str(format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.set(field.name(), Owned::Str(value.to_owned()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.set(field.name(), Owned::Plain(Value::I64(value)));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.set(field.name(), Owned::Plain(Value::U64(value)));
    }
    fn record_i128(&mut self, field: &Field, value: i128) {
        self.set(field.name(), Owned::Plain(Value::I128(value)));
    }
    fn record_u128(&mut self, field: &Field, value: u128) {
        self.set(field.name(), Owned::Plain(Value::U128(value)));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.set(field.name(), Owned::Plain(Value::F64(value)));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.set(field.name(), Owned::Plain(Value::Bool(value)));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.set(field.name(), Owned::Str(value.to_string()));
    }
}

/// One span's fields and its parent's node.
pub(crate) struct SpanNode {
    own: ArcSwap<SpanFields>,
    parent: Option<Arc<SpanNode>>,
    /// The [`EPOCH`] at which the span was left on a thread that had not
    /// entered it, or closed: every thread's entry for it made before then
    /// is stale (0: never).
    left: AtomicU64,
}

/// Counts enters and orphan exits across all threads: an entry of a
/// thread's stack is live while its span was not left elsewhere after it.
static EPOCH: AtomicU64 = AtomicU64::new(0);

fn next_epoch() -> u64 {
    EPOCH.fetch_add(1, Ordering::AcqRel) + 1
}

impl SpanNode {
    pub(crate) fn new(own: SpanFields, parent: Option<Arc<SpanNode>>) -> Arc<SpanNode> {
        Arc::new(SpanNode {
            own: ArcSwap::from_pointee(own),
            parent,
            left: AtomicU64::new(0),
        })
    }

    /// Fields recorded later (`Span::record`): set or replaced.
    pub(crate) fn record(&self, new: SpanFields) {
        self.own.rcu(|old| {
            let mut fields = SpanFields::clone(old);
            for (k, v) in &new.0 {
                fields.set(k, v.clone());
            }
            fields
        });
    }

    /// Adds this span's fields and its parents' to `ev`, outermost first,
    /// skipping keys `ev` has or a nearer span gave.
    pub(crate) fn push_fields(&self, ev: &mut Event) {
        let first = ev.field_count();
        let mut node = Some(self);
        while let Some(n) = node {
            let own = n.own.load();
            for (key, value) in own.0.iter().rev() {
                if ev.has_field(key) {
                    continue;
                }
                match value {
                    Owned::Str(s) => ev.push(key, FieldIn::Str(s)),
                    Owned::Plain(v) => ev.push(key, FieldIn::Plain(v.clone())),
                }
            }
            node = n.parent.as_deref();
        }
        // Collected innermost first: write them outermost first.
        ev.reverse_fields_from(first);
    }
}

/// An entry of a thread's stack: the span's id, its node, and the epoch
/// it was entered at.
type Entry = (u64, Arc<SpanNode>, u64);

/// True while the span was not left on another thread (or closed) since
/// this entry was made.
fn live(entry: &Entry) -> bool {
    entry.1.left.load(Ordering::Acquire) < entry.2
}

thread_local! {
    /// The spans this thread has entered and not left (span id, node,
    /// epoch), innermost last. Entries whose span was left elsewhere are
    /// skipped (see [`current`]).
    static ENTERED: RefCell<Vec<Entry>> = const { RefCell::new(Vec::new()) };
}

/// This thread entered span `id`.
pub(crate) fn enter(id: u64, node: Arc<SpanNode>) {
    let _ = ENTERED.try_with(|e| {
        if let Ok(mut e) = e.try_borrow_mut() {
            if e.len() >= STALE_KEPT {
                e.retain(live);
            }
            e.push((id, node, next_epoch()));
        }
    });
}

/// This thread left span `id` (the last entry for it: spans may be left out
/// of order). False if this thread had not entered it: the caller then marks
/// the span [`left_elsewhere`].
pub(crate) fn exit(id: u64) -> bool {
    ENTERED
        .try_with(|e| {
            let Ok(mut e) = e.try_borrow_mut() else {
                return true;
            };
            match e.iter().rposition(|(i, _, _)| *i == id) {
                Some(at) => {
                    e.remove(at);
                    true
                }
                None => false,
            }
        })
        .unwrap_or(true)
}

/// The span of `node` was left on a thread that had not entered it, or
/// closed: it is off every thread's stack, so no record anywhere carries
/// its fields any more (a closed span is no thread's current span for the
/// registry either).
pub(crate) fn left_elsewhere(node: &SpanNode) {
    // The newest mark wins, whichever thread stores last.
    node.left.fetch_max(next_epoch(), Ordering::AcqRel);
}

/// The node of span `id` if this thread has entered it.
pub(crate) fn entered_node(id: u64) -> Option<Arc<SpanNode>> {
    ENTERED
        .try_with(|e| {
            e.try_borrow().ok().and_then(|e| {
                e.iter()
                    .rev()
                    .find(|entry| entry.0 == id && live(entry))
                    .map(|(_, n, _)| Arc::clone(n))
            })
        })
        .ok()
        .flatten()
}

/// The node of the innermost span this thread has entered, skipping the
/// entries of spans left elsewhere. Those stay on the stack until this
/// thread's own exit of them (which then finds them, and marks nothing), or
/// until the stack holds [`STALE_KEPT`] entries ([`enter`] drops them then).
pub(crate) fn current() -> Option<Arc<SpanNode>> {
    ENTERED
        .try_with(|e| {
            e.try_borrow().ok().and_then(|e| {
                e.iter()
                    .rev()
                    .find(|entry| live(entry))
                    .map(|(_, n, _)| Arc::clone(n))
            })
        })
        .ok()
        .flatten()
}

/// Past this many entries a thread's stack drops the stale ones (spans left
/// on other threads and never exited here): memory stays bounded.
const STALE_KEPT: usize = 64;

/// True if this thread is inside a span: one thread-local read when it is
/// not.
#[inline]
pub(crate) fn span_entered() -> bool {
    ENTERED
        .try_with(|e| e.try_borrow().is_ok_and(|e| e.iter().any(live)))
        .unwrap_or(false)
}

/// Adds the fields of the span entered on this thread, and its parents', to
/// `ev`.
pub(crate) fn push_current_span_fields(ev: &mut Event) {
    if let Some(node) = current() {
        node.push_fields(ev);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node() -> Arc<SpanNode> {
        SpanNode::new(SpanFields::default(), None)
    }

    /// Runs `f` on a thread of its own and waits for it.
    fn on_thread<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
        std::thread::spawn(f).join().unwrap()
    }

    #[test]
    fn a_span_left_on_another_thread_is_off_this_one_and_only_for_entries_before() {
        let s = node();
        let (s1, s2) = (Arc::clone(&s), Arc::clone(&s));
        // Thread 1 enters S; thread 2, which never did, leaves it.
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let (back_tx, back_rx) = std::sync::mpsc::channel::<bool>();
        let (entered_tx, entered_rx) = std::sync::mpsc::channel::<()>();
        let t1 = std::thread::spawn(move || {
            enter(7, s1);
            assert!(span_entered());
            entered_tx.send(()).unwrap();
            rx.recv().unwrap();
            // Left elsewhere: not current here.
            let after = current().is_some() || span_entered();
            // Its own exit finds the stale entry: nothing else is marked.
            let found = exit(7);
            back_tx.send(after).unwrap();
            found
        });
        // Thread 1's entry comes before the mark (on a busy machine the
        // thread could start after it, and its entry would then be live).
        entered_rx.recv().unwrap();
        let left_elsewhere_here = on_thread(move || !exit(7));
        assert!(left_elsewhere_here, "thread 2 had not entered it");
        left_elsewhere(&s2);
        // Thread 3 enters S after the mark: live there.
        let s3 = Arc::clone(&s);
        let (go3, wait3) = std::sync::mpsc::channel::<()>();
        let (done3, check3) = std::sync::mpsc::channel::<bool>();
        let t3 = std::thread::spawn(move || {
            enter(7, s3);
            wait3.recv().unwrap();
            done3.send(span_entered()).unwrap();
        });
        std::thread::sleep(std::time::Duration::from_millis(20));
        tx.send(()).unwrap();
        assert!(!back_rx.recv().unwrap(), "thread 1 still sees the span");
        assert!(t1.join().unwrap(), "thread 1's exit found its entry");
        go3.send(()).unwrap();
        assert!(check3.recv().unwrap(), "thread 3's later entry stays live");
        t3.join().unwrap();
    }
}
