//! TODO: stage `tokenize`.
