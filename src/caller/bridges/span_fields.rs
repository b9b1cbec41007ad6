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
}

impl SpanNode {
    pub(crate) fn new(own: SpanFields, parent: Option<Arc<SpanNode>>) -> Arc<SpanNode> {
        Arc::new(SpanNode {
            own: ArcSwap::from_pointee(own),
            parent,
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

thread_local! {
    /// The spans this thread has entered and not left (span id, node),
    /// innermost last.
    static ENTERED: RefCell<Vec<(u64, Arc<SpanNode>)>> = const { RefCell::new(Vec::new()) };
}

/// This thread entered span `id`.
pub(crate) fn enter(id: u64, node: Arc<SpanNode>) {
    let _ = ENTERED.try_with(|e| {
        if let Ok(mut e) = e.try_borrow_mut() {
            e.push((id, node));
        }
    });
}

/// This thread left span `id` (the last entry for it: spans may be left out
/// of order).
pub(crate) fn exit(id: u64) {
    let _ = ENTERED.try_with(|e| {
        if let Ok(mut e) = e.try_borrow_mut() {
            if let Some(at) = e.iter().rposition(|(i, _)| *i == id) {
                e.remove(at);
            }
        }
    });
}

/// The node of span `id` if this thread has entered it.
pub(crate) fn entered_node(id: u64) -> Option<Arc<SpanNode>> {
    ENTERED
        .try_with(|e| {
            e.try_borrow().ok().and_then(|e| {
                e.iter()
                    .rev()
                    .find(|(i, _)| *i == id)
                    .map(|(_, n)| Arc::clone(n))
            })
        })
        .ok()
        .flatten()
}

/// The node of the innermost span this thread has entered.
pub(crate) fn current() -> Option<Arc<SpanNode>> {
    ENTERED
        .try_with(|e| {
            e.try_borrow()
                .ok()
                .and_then(|e| e.last().map(|(_, n)| Arc::clone(n)))
        })
        .ok()
        .flatten()
}

/// True if this thread is inside a span: one thread-local read.
#[inline]
pub(crate) fn span_entered() -> bool {
    ENTERED
        .try_with(|e| e.try_borrow().is_ok_and(|e| !e.is_empty()))
        .unwrap_or(false)
}

/// Adds the fields of the span entered on this thread, and its parents', to
/// `ev`.
pub(crate) fn push_current_span_fields(ev: &mut Event) {
    if let Some(node) = current() {
        node.push_fields(ev);
    }
}
