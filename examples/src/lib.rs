//! Shared helpers for the examples (none yet).
pub mod chapters;
