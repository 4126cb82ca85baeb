//! Data structures shared by the policies: an index-linked slab with an
//! embedded key index (every linked-list policy), and the count-min sketch with
//! doorkeeper that frequency-based admission (W-TinyLFU) uses, and the 4-ary
//! max-heap of the offline policies (Belady), and Redis's eviction pool over
//! randomly sampled resident keys (the `sampled-*` models).
//!
//! They live here so that each policy file only says *what* to keep, and the
//! memory layout (u32 handles, no `Box`, no `Rc`, no `unsafe`; the prefetch hint
//! is `crate::prefetch`'s) is decided once.

pub mod evpool;
pub mod maxheap;
pub(crate) mod prefetch;
pub mod queue;
pub mod sketch;
pub mod slab;

pub(crate) use maxheap::MaxHeap4;
pub(crate) use queue::Queue;
pub(crate) use sketch::TinyLfu;
pub(crate) use slab::{LinkedSlab, List, NIL};
