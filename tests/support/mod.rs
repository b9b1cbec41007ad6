//! Helpers shared by the integration tests. A test file declares this module
//! once (`mod support;`; a folder crate `tests/<unit>/main.rs`:
//! `#[path = "../support/mod.rs"] mod support;`) and uses what it needs. The
//! benches and tests of `integration/` include single files of it with
//! `#[path]`, so each file stays usable on its own.
//!
//! Not every test crate uses every helper, hence the allowances.
#![allow(dead_code, unused_imports, unused_macros)]

pub mod alloc;
pub mod capture;
pub mod flood_site_a;
pub mod flood_site_b;
pub mod json_object;
pub mod pace;
pub mod pipeline;
pub mod pty;
pub mod runner;
pub mod syscalls;
