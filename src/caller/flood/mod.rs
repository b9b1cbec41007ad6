//! [`FloodGuard`]: per-call-site flood control that counts and reports every
//! record it drops.

mod config;
mod drain;
mod table;
mod ticker;

pub use config::{
    flood_keys, FloodConfig, DEFAULT_FLOOD_BURST, DEFAULT_FLOOD_INFO_BURST, DEFAULT_FLOOD_WINDOW,
    MAX_FLOOD_BURST, MAX_FLOOD_WINDOW, MIN_FLOOD_WINDOW,
};
pub use drain::{FloodGuard, FloodStats};
