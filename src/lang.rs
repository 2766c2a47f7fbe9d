//! TODO: stage `lang`.
