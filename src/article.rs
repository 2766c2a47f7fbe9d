//! TODO: stage `article`.
