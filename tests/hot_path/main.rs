//! The logging hot path costs nothing per record: no heap allocation
//! (`allocations`, counted by this binary's global allocator, per thread)
//! and no system call (`syscalls`, counted by the kernel), each with a
//! negative control through the same counter in the same run.

#[path = "../support/mod.rs"]
mod support;

mod allocations;
mod syscalls;

#[global_allocator]
static COUNTING: support::alloc::CountingAlloc = support::alloc::CountingAlloc;
