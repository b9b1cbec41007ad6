//! A `tracing` call site at line 5 of this file, like `flood_site_a.rs`.
#![allow(dead_code)]

pub fn fail() {
    tracing::error!(site = "b", "accept failed");
}
