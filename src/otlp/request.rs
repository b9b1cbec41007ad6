//! An export request (exporter thread): the records of a batch grouped by
//! scope (their target) under one resource, the host.

use std::collections::HashMap;
use std::ops::Range;

use super::any_value::{key_value, resource_value};
use super::proto::{bytes_field, nested};
use crate::format::escape::json::escape;
use crate::host::HostInfo;

/// One encoded record in a chunk: its scope name (the target) and its
/// `LogRecord`.
#[derive(Clone, Debug)]
pub(crate) struct Unit {
    pub(crate) target: Range<usize>,
    pub(crate) record: Range<usize>,
}

/// Writes an export request holding `units` (ranges into `data`): one
/// `ResourceLogs` with `host` as its resource, one `ScopeLogs` per target.
pub(crate) fn request(out: &mut Vec<u8>, json: bool, host: &HostInfo, units: &[(&[u8], &[u8])]) {
    // Records grouped by scope, scopes in order of first appearance.
    let mut scopes: Vec<(&[u8], Vec<&[u8]>)> = Vec::new();
    let mut index: HashMap<&[u8], usize> = HashMap::new();
    for (target, record) in units {
        let i = *index.entry(target).or_insert_with(|| {
            scopes.push((target, Vec::new()));
            scopes.len() - 1
        });
        scopes[i].1.push(record);
    }
    if json {
        out.extend_from_slice(b"{\"resourceLogs\":[{\"resource\":{\"attributes\":[");
        let mut first = true;
        let _ = host.visit(|k, v| {
            key_value(out, true, 1, &mut first, false, k, resource_value(v));
            Ok::<(), ()>(())
        });
        out.extend_from_slice(b"]},\"scopeLogs\":[");
        for (i, (target, records)) in scopes.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"scope\":{\"name\":\"");
            escape(out, target);
            out.extend_from_slice(b"\"},\"logRecords\":[");
            for (j, r) in records.iter().enumerate() {
                if j > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(r);
            }
            out.extend_from_slice(b"]}");
        }
        out.extend_from_slice(b"]}]}");
    } else {
        nested(out, 1, |out| {
            nested(out, 1, |out| {
                let _ = host.visit(|k, v| {
                    key_value(out, false, 1, &mut true, false, k, resource_value(v));
                    Ok::<(), ()>(())
                });
            });
            for (target, records) in &scopes {
                nested(out, 2, |out| {
                    nested(out, 1, |out| bytes_field(out, 1, target));
                    for r in records {
                        bytes_field(out, 2, r);
                    }
                });
            }
        });
    }
}
