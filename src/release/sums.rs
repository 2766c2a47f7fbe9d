//! `SHA256SUMS` in GNU coreutils format (`<64 hex>  <path>`), so `sha256sum -c SHA256SUMS`
//! checks a release with no quire installed.

use super::paths::check_rel_path;

/// Render sorted lines for `(path, sha256)` pairs.
pub fn render<'a>(entries: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut lines: Vec<(&str, &str)> = entries.into_iter().collect();
    lines.sort();
    lines
        .iter()
        .map(|(path, sha)| format!("{sha}  {path}\n"))
        .collect()
}

/// One parsed line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SumLine {
    pub line: usize,
    pub sha256: String,
    pub path: String,
}

/// Parse a `SHA256SUMS` file strictly: lowercase hex, two spaces (text mode, as written),
/// `\n` line ends, a final newline, no escaped names, safe relative paths. Returns the lines that parse and a
/// problem for every one that does not.
pub fn parse(bytes: &[u8]) -> (Vec<SumLine>, Vec<String>) {
    let mut lines = Vec::new();
    let mut problems = Vec::new();
    let Ok(text) = std::str::from_utf8(bytes) else {
        problems.push("SHA256SUMS is not UTF-8".to_string());
        return (lines, problems);
    };
    if !text.is_empty() && !text.ends_with('\n') {
        problems.push("SHA256SUMS does not end with a newline".to_string());
    }
    // Split on `\n` only: `str::lines` would silently drop a `\r`, and a CRLF file is not
    // what the writer produces.
    let body = text.strip_suffix('\n').unwrap_or(text);
    let all_lines = if body.is_empty() {
        Vec::new()
    } else {
        body.split('\n').collect()
    };
    for (i, line) in all_lines.into_iter().enumerate() {
        let n = i + 1;
        let parsed = line.split_once("  ").and_then(|(sha, path)| {
            let hex_ok =
                sha.len() == 64 && sha.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
            hex_ok.then(|| SumLine {
                line: n,
                sha256: sha.to_string(),
                path: path.to_string(),
            })
        });
        match parsed {
            Some(l) => match check_rel_path(&l.path) {
                Some(why) => problems.push(format!("SHA256SUMS line {n}: {why}")),
                None => lines.push(l),
            },
            None => problems.push(format!(
                "SHA256SUMS line {n} is not `<64 lowercase hex>  <path>`: {:?}",
                truncate(line)
            )),
        }
    }
    (lines, problems)
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(100) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let a = "a".repeat(64);
        let b = "b".repeat(64);
        let text = render([("z/x", a.as_str()), ("README.md", b.as_str())]);
        assert_eq!(text, format!("{b}  README.md\n{a}  z/x\n"));
        let (lines, problems) = parse(text.as_bytes());
        assert!(problems.is_empty());
        assert_eq!(lines[1].path, "z/x");
    }

    #[test]
    fn rejects_malformed() {
        let a = "a".repeat(64);
        for bad in [
            format!("{a} *x\n"),
            format!("{}  x\n", "A".repeat(64)),
            format!("\\{a}  x\n"),
            "garbage\n".to_string(),
            format!("{a}  x"),
            format!("{a}  x\r\n"),
        ] {
            let (_, problems) = parse(bad.as_bytes());
            assert!(!problems.is_empty(), "{bad:?}");
        }
    }
}
