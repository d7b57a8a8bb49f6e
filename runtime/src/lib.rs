//! gort: Go's runtime rebuilt in Rust. See `design.md` at the repository root for the map.

pub(crate) mod loom;
pub(crate) mod rand;
pub(crate) mod coop;
pub(crate) mod g;
pub mod sync;
pub mod context;
mod sema;
