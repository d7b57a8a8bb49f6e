//! gort's netpoller (placeholder; see issue 3).
