//! gort: Go's runtime rebuilt in Rust. See `design.md` at the repository root for the map.

pub mod chan;
pub(crate) mod coop;
pub(crate) mod g;
pub(crate) mod loom;
pub(crate) mod rand;
mod select;
#[doc(hidden)]
pub use select::__private;
