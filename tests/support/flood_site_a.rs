//! A `tracing` call site at line 5 of this file (see `flood_site_b.rs`).
#![allow(dead_code)]

pub fn fail() {
    tracing::error!(site = "a", "accept failed");
}
