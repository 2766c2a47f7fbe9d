//! Names inside a release: relative file paths, split names and shard file names. Shared by
//! the writer (which refuses to produce anything else) and `verify` (which refuses to
//! accept anything else).

/// Longest relative path accepted in a manifest or `SHA256SUMS`.
const MAX_PATH_BYTES: usize = 1024;
/// Longest split name. Splits appear in file names and YAML keys.
const MAX_SPLIT_BYTES: usize = 64;

/// Files every release has, besides the shards; extra files may not take these names.
pub const MANIFEST: &str = "manifest.json";
pub const SUMS: &str = "SHA256SUMS";
pub const CARD: &str = "README.md";
pub const TOKENIZER: &str = "tokenizer.json";
pub const DATA_DIR: &str = "data";

/// Why `path` is not an acceptable release-relative path, or `None` if it is: `/`-separated,
/// relative, no empty, `.` or `..` component, no backslash, NUL or other control character.
/// These rules make a listed path impossible to resolve outside the release.
pub fn check_rel_path(path: &str) -> Option<String> {
    let reason = if path.is_empty() {
        "is empty"
    } else if path.len() > MAX_PATH_BYTES {
        "is too long"
    } else if path.starts_with('/') {
        "is absolute"
    } else if path.contains('\\') {
        "contains a backslash"
    } else if path.chars().any(char::is_control) {
        "contains a control character"
    } else if path.split('/').any(|c| c == "..") {
        "contains `..`"
    } else if path.split('/').any(|c| c.is_empty() || c == ".") {
        "has an empty or `.` component"
    } else {
        return None;
    };
    Some(format!("path {path:?} {reason}"))
}

/// Split names: `[A-Za-z0-9_]+`. No `-` so that the `data/{split}-*.parquet` glob of one
/// split can never match another split's shards, no `.` or `/` so they are safe in paths.
pub fn check_split_name(split: &str) -> Option<String> {
    if split.is_empty()
        || split.len() > MAX_SPLIT_BYTES
        || !split
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        Some(format!(
            "split name {split:?} must be 1 to {MAX_SPLIT_BYTES} characters of [A-Za-z0-9_]"
        ))
    } else {
        None
    }
}

/// `data/{split}-{index:05}-of-{count:05}-{first 16 hex of sha256}.parquet`
pub fn shard_path(split: &str, index: usize, count: usize, sha256: &str) -> String {
    let prefix = sha256.get(..16).unwrap_or(sha256);
    format!("{DATA_DIR}/{split}-{index:05}-of-{count:05}-{prefix}.parquet")
}

/// The parts of a shard file name, as produced by [`shard_path`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardName {
    pub split: String,
    pub index: usize,
    pub count: usize,
    pub hash_prefix: String,
}

/// Parse a shard path; `None` unless it is exactly in the canonical form (formatting the
/// parsed parts again gives the same string).
pub fn parse_shard_path(path: &str) -> Option<ShardName> {
    let stem = path
        .strip_prefix(DATA_DIR)?
        .strip_prefix('/')?
        .strip_suffix(".parquet")?;
    let parts: Vec<&str> = stem.split('-').collect();
    let [split, index, of, count, hash] = parts.as_slice() else {
        return None;
    };
    if *of != "of"
        || check_split_name(split).is_some()
        || hash.len() != 16
        || !hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return None;
    }
    let name = ShardName {
        split: split.to_string(),
        index: index.parse().ok()?,
        count: count.parse().ok()?,
        hash_prefix: hash.to_string(),
    };
    // Rejects `+1`, extra leading zeros and the like: one shard, one spelling.
    let canonical = format!(
        "{DATA_DIR}/{split}-{:05}-of-{:05}-{hash}.parquet",
        name.index, name.count
    );
    (canonical == path).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rel_paths() {
        for ok in ["README.md", "dedup/removed.jsonl", "a/b/c.d", "ünï/cødé"] {
            assert_eq!(check_rel_path(ok), None, "{ok}");
        }
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a//b",
            "a/",
            "./a",
            "a\\b",
            "a\0b",
            "a\nb",
            "..",
        ] {
            assert!(check_rel_path(bad).is_some(), "{bad:?}");
        }
    }

    #[test]
    fn split_names() {
        assert!(check_split_name("train").is_none());
        assert!(check_split_name("dev_2").is_none());
        for bad in ["", "a-b", "a/b", "a.b", "ü", &"x".repeat(65)] {
            assert!(check_split_name(bad).is_some(), "{bad:?}");
        }
    }

    #[test]
    fn shard_names_round_trip() {
        let sha = "0123456789abcdef".repeat(4);
        let p = shard_path("train", 3, 12, &sha);
        assert_eq!(p, "data/train-00003-of-00012-0123456789abcdef.parquet");
        assert_eq!(
            parse_shard_path(&p),
            Some(ShardName {
                split: "train".into(),
                index: 3,
                count: 12,
                hash_prefix: "0123456789abcdef".into()
            })
        );
        for bad in [
            "data/train-3-of-00012-0123456789abcdef.parquet",
            "data/train-00003-of-00012-0123456789ABCDEF.parquet",
            "data/train-00003-of-00012-0123456789abcde.parquet",
            "train-00003-of-00012-0123456789abcdef.parquet",
            "data/tr-ain-00003-of-00012-0123456789abcdef.parquet",
            "data/train-00003-to-00012-0123456789abcdef.parquet",
            "data/train-+0003-of-00012-0123456789abcdef.parquet",
        ] {
            assert_eq!(parse_shard_path(bad), None, "{bad}");
        }
    }
}
