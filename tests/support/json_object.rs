//! A JSON object as the ordered list of its members, duplicates kept.
//!
//! `serde_json::Value` keeps the last of two members with the same key (as
//! Python's json, jq and node do), so a line with a duplicate key would parse
//! fine and hide it. This parser keeps every member in the order written, so
//! a test can see the order and every duplicate.
#![allow(dead_code)]

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;

/// The members of one JSON object, in the order they were written.
#[derive(Debug, Clone, PartialEq)]
pub struct Members(pub Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Ordered;

        impl<'de> Visitor<'de> for Ordered {
            type Value = Members;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut members = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Value>()? {
                    members.push((k, v));
                }
                Ok(Members(members))
            }
        }

        d.deserialize_map(Ordered)
    }
}

impl Members {
    /// Parses `line` (one JSON object, nothing else but white space).
    pub fn parse(line: &str) -> Result<Members, String> {
        serde_json::from_str(line).map_err(|e| format!("not a JSON object ({e}): {line}"))
    }

    /// Parses `line` and fails if a key appears twice.
    pub fn parse_unique(line: &str) -> Result<Members, String> {
        let m = Members::parse(line)?;
        match m.duplicate() {
            Some(k) => Err(format!("duplicate key {k:?} in {line}")),
            None => Ok(m),
        }
    }

    /// The first key that appears more than once.
    pub fn duplicate(&self) -> Option<&str> {
        let mut seen = std::collections::HashSet::new();
        self.0
            .iter()
            .map(|(k, _)| k.as_str())
            .find(|k| !seen.insert(*k))
    }

    /// The value of `key` (the first, if it appears twice).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The keys, in order.
    pub fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(k, _)| k.as_str()).collect()
    }
}
