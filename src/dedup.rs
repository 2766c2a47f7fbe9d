//! TODO: stage `dedup`.
