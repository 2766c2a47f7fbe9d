//! TODO: stage `clean`.
