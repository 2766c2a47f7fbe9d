//! Article structure: a decoded [`RawDoc`] → an [`Article`] with head fields (title,
//! publication time, byline) and body [`Block`]s, one per non-empty line.
//!
//! Only what the article prints is taken: a date is parsed when a head line holds one in a
//! known format, never inferred.

use regex::Regex;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

use crate::source::{Format, RawDoc};

/// What the head parser recognised a block as. Such blocks are fields, not body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum HeadRole {
    Title,
    /// A line holding the publication date (and maybe the byline).
    Dateline,
    Byline,
}

/// One line of the article.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Block {
    pub text: String,
    /// Set when the head parser took this block as a field.
    pub role: Option<HeadRole>,
}

/// An article split into fields and blocks.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Article {
    pub source: String,
    pub source_id: Option<String>,
    pub url: Option<String>,
    pub title: Option<String>,
    /// Milliseconds since the Unix epoch, local time as printed (no zone).
    pub published: Option<i64>,
    pub byline: Option<String>,
    pub blocks: Vec<Block>,
    /// Repairs reported by decoding, carried along for the report.
    pub notes: Vec<String>,
}

/// How many leading blocks may hold navigation before the title.
const TITLE_SEARCH: usize = 5;
/// How many blocks after the title may hold the dateline.
const DATELINE_SEARCH: usize = 4;

impl Article {
    /// Split a decoded document into head fields and blocks.
    pub fn parse(doc: RawDoc) -> Article {
        let mut blocks: Vec<Block> = unwrap_lines(&doc.text)
            .into_iter()
            .map(|text| Block { text, role: None })
            .collect();

        let mut title = doc
            .title
            .as_deref()
            .map(collapse_spaces)
            .filter(|t| !t.is_empty());
        let mut title_at = None;
        match (&title, doc.format) {
            (None, Some(Format::Text) | None) => {
                // The title is the first line, unless navigation crumbs come first.
                let pick = (0..blocks.len().min(TITLE_SEARCH))
                    .find(|&i| looks_like_title(&blocks[i].text))
                    .or(if blocks.is_empty() { None } else { Some(0) });
                if let Some(i) = pick {
                    title = Some(blocks[i].text.clone());
                    title_at = Some(i);
                }
            }
            (Some(t), _) => {
                // A record with a title field often repeats it as the first line of its text.
                title_at = (0..blocks.len().min(3)).find(|&i| same_text(&blocks[i].text, t));
            }
            (None, Some(Format::Jsonl)) => {}
        }
        if let Some(i) = title_at {
            blocks[i].role = Some(HeadRole::Title);
        }

        let mut published = doc
            .published
            .as_deref()
            .and_then(parse_date)
            .map(|d| d.millis);
        let mut byline = doc
            .byline
            .as_deref()
            .map(collapse_spaces)
            .filter(|b| !b.is_empty());

        let start = title_at.map_or(0, |i| i + 1);
        let end = (start + DATELINE_SEARCH).min(blocks.len());
        for block in &mut blocks[start..end] {
            if let Some(line) = parse_dateline(&block.text) {
                block.role = Some(HeadRole::Dateline);
                published = published.or(Some(line.millis));
                if byline.is_none() {
                    byline = line.byline;
                }
                break;
            }
            if byline.is_none() {
                if let Some(name) = by_prefix(&block.text) {
                    block.role = Some(HeadRole::Byline);
                    byline = Some(name);
                }
            }
        }

        Article {
            source: doc.source,
            source_id: doc.source_id,
            url: doc.url,
            title,
            published,
            byline,
            blocks,
            notes: doc.notes,
        }
    }
}

/// The article's lines, with lines that a hard wrap broke out of one paragraph joined
/// back together.
///
/// A text is hard-wrapped when most lines that continue a paragraph (a run of lines
/// without a blank line between) end near one common right margin; then a line that
/// reaches the margin continues on the next. In any text, a line that stops mid-sentence
/// (no closing punctuation) before a line starting in lower case is one broken sentence.
/// Everything else stays one block per line: captions printed twice, a headline and its
/// photo credit, list items.
fn unwrap_lines(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text
        .lines()
        .map(|l| l.trim_matches(char::is_whitespace))
        .collect();
    let len = |l: &str| l.chars().count();
    // Lines followed by another line of the same paragraph.
    let mut continued: Vec<usize> = (0..lines.len().saturating_sub(1))
        .filter(|&i| !lines[i].is_empty() && !lines[i + 1].is_empty())
        .map(|i| len(lines[i]))
        .collect();
    continued.sort_unstable();
    let margin = if continued.len() >= 4 {
        let m = continued[continued.len() * 9 / 10];
        let near = continued.iter().filter(|&&n| n + WRAP_SLACK >= m).count();
        ((40..=120).contains(&m) && near * 10 >= continued.len() * 6).then_some(m)
    } else {
        None
    };
    let mut out: Vec<String> = Vec::new();
    let mut open = false;
    for (i, line) in lines.iter().enumerate() {
        if line.is_empty() {
            open = false;
            continue;
        }
        let line = collapse_spaces(line);
        let joins = open
            && out.last().is_some_and(|prev: &String| {
                let wrapped =
                    margin.is_some_and(|m| len(prev) + WRAP_SLACK >= m && len(prev) <= m + 2);
                // Cheapest test first; the word count stops at five instead of reading
                // the whole paragraph joined so far.
                wrapped
                    || (line.chars().next().is_some_and(char::is_lowercase)
                        && !ends_clause(prev)
                        && words_exceed(prev, 4))
            });
        match (joins, out.last_mut()) {
            (true, Some(prev)) => {
                // A hyphen at the margin joins a word split across lines.
                if prev.ends_with('-')
                    && line.chars().next().is_some_and(char::is_lowercase)
                    && !prev.ends_with(" -")
                {
                    prev.push_str(&line);
                } else {
                    prev.push(' ');
                    prev.push_str(&line);
                }
            }
            _ => out.push(line),
        }
        open = i + 1 < lines.len();
    }
    out
}

/// How far short of the margin a wrapped line may end (the next word did not fit).
const WRAP_SLACK: usize = 22;

/// Ends like a sentence or clause, in any of our scripts.
pub fn ends_clause(s: &str) -> bool {
    s.trim_end()
        .chars()
        .last()
        .is_some_and(|c| ".!?:;\"”’»)]…。！？".contains(c))
}

/// Collapse runs of whitespace inside a line to one space.
fn collapse_spaces(s: &str) -> String {
    let t = s.trim();
    let mut out = String::with_capacity(t.len());
    // Stretches between irregular spaces are copied as they are (most lines are one
    // stretch); each run of whitespace becomes one space.
    let mut from = 0;
    while let Some(i) = crate::text::irregular_space(t, from) {
        out.push_str(&t[from..i]);
        // The run may have begun with a single space, copied with the stretch. Trimmed,
        // `t` has a word after every run.
        if !out.ends_with(' ') {
            out.push(' ');
        }
        let run = &t[i..];
        from = i + (run.len() - run.trim_start().len());
    }
    out.push_str(&t[from..]);
    out
}

fn same_text(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim(), b.trim());
    // Final sigma is the only lower-casing that depends on neighbours; without it the
    // lower case is per character, so compare lazily: a paragraph differs from the
    // title within a few characters, and is never lower-cased whole.
    if a.contains('Σ') || b.contains('Σ') {
        return crate::text::to_lower(a) == crate::text::to_lower(b);
    }
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

/// Number of words, counting each CJK character as one (CJK runs have no spaces).
pub fn word_count(s: &str) -> usize {
    count_words(s, usize::MAX)
}

/// [`word_count`], but counting stops at `limit`.
fn count_words(s: &str, limit: usize) -> usize {
    let mut n = 0;
    let mut in_word = false;
    for c in s.chars() {
        if is_cjk(c) {
            n += 1;
            in_word = false;
        } else if crate::text::is_alphanumeric(c) {
            if !in_word {
                n += 1;
            }
            in_word = true;
        } else {
            in_word = false;
        }
        if n >= limit {
            break;
        }
    }
    n
}

/// Han, kana, hangul: scripts written without spaces between words.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0xAC00..=0xD7AF | 0x20000..=0x2FFFF)
}

/// `s.chars().any(is_cjk)`. Every CJK character starts with a byte from E3 up, which
/// no other character of most text has: a byte scan finds where to start decoding.
pub fn has_cjk(s: &str) -> bool {
    // A byte from E3 up is always a character's first byte.
    crate::text::find_byte(s.as_bytes(), |x| x >= 0xE3).is_some_and(|i| s[i..].chars().any(is_cjk))
}

/// Letters no other language we handle writes: ơ ư ă đ and the tone-marked vowels of the
/// Latin Extended Additional block (ạ ả ấ … ỹ). Shared by cleaning and language id.
pub fn is_vietnamese_only(c: char) -> bool {
    matches!(c, 'ơ' | 'Ơ' | 'ư' | 'Ư' | 'ă' | 'Ă' | 'đ' | 'Đ')
        || matches!(u32::from(c), 0x1EA0..=0x1EF9)
}

/// A breadcrumb trail such as `Home / News` or `News » World`.
pub fn is_crumb(s: &str) -> bool {
    // Every separator holds one of these characters, so the text before the first of
    // them starts every first part: more than three words there, and no part is short.
    match find_crumb_separator(s) {
        None => return false,
        Some(i) if words_exceed(&s[..i], 3) => return false,
        Some(_) => {}
    }
    let seps = [" / ", " > ", " » ", " › ", " | "];
    seps.iter().any(|sep| {
        let mut parts = 0;
        for p in s.split(sep) {
            // The first long part settles it, without counting a whole paragraph.
            if p.is_empty() || words_exceed(p, 3) {
                return false;
            }
            parts += 1;
        }
        parts >= 2
    })
}

/// `s.find(['/', '>', '»', '›', '|'])`, as a byte scan: a block without a separator
/// (most paragraphs) is read through, and the scan over `char`s cost several times more.
fn find_crumb_separator(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut from = 0;
    // The first byte of every separator (`»` is C2 BB, `›` E2 80 BA), then the separator
    // it starts. Lead bytes: the last bytes, BA and BB, are in every other Vietnamese
    // letter (E1 BA xx, E1 BB xx).
    while let Some(p) = crate::text::find_byte(&b[from..], |x| {
        (x == b'/') | (x == b'>') | (x == b'|') | (x == 0xC2) | (x == 0xE2)
    }) {
        let i = from + p;
        let rest = &b[i..];
        if rest[0] < 0x80 || rest.starts_with("»".as_bytes()) || rest.starts_with("›".as_bytes())
        {
            return Some(i);
        }
        from = i + 1;
    }
    None
}

/// `word_count(s) > n`, reading only as far as needed.
fn words_exceed(s: &str, n: usize) -> bool {
    count_words(s, n + 1) > n
}

fn looks_like_title(s: &str) -> bool {
    if is_crumb(s) {
        return false;
    }
    let cjk = s.chars().filter(|&c| is_cjk(c)).count();
    if cjk > 0 {
        return cjk >= 6;
    }
    word_count(s) >= 3
}

/// `By Jane Doe` → `Jane Doe`.
fn by_prefix(s: &str) -> Option<String> {
    let rest = s.strip_prefix("By ").or_else(|| s.strip_prefix("by "))?;
    let words = word_count(rest);
    ((1..=6).contains(&words) && !rest.ends_with('.')).then(|| rest.trim().to_string())
}

/// A parsed date and what surrounded it on a dateline.
#[derive(Debug, Clone, PartialEq)]
pub struct Dateline {
    pub millis: i64,
    pub byline: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Parsed {
    millis: i64,
    start: usize,
    end: usize,
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

fn month_number(name: &str) -> Option<u32> {
    let lower = crate::text::to_lower(name);
    MONTHS
        .iter()
        .position(|m| lower.starts_with(m))
        .map(|i| i as u32 + 1)
}

fn date_patterns() -> &'static [Regex] {
    static PATTERNS: OnceLock<Vec<Regex>> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        let month = r"(?P<mon>Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?";
        let time = r"(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?";
        let sep = r"\s*[,|\-–]?\s*";
        [
            // ISO 8601: 2023-11-02, 2023-11-02T10:26:00(Z|+07:00)
            format!(r"(?P<y>\d{{4}})-(?P<m>\d{{2}})-(?P<d>\d{{2}})(?:[T ]{time}(?:\.\d+)?(?:Z|[+-]\d{{2}}:?\d{{2}})?)?"),
            // 12:53, 19/09/2023
            format!(r"{time}{sep}(?P<d>\d{{1,2}})/(?P<m>\d{{1,2}})/(?P<y>\d{{4}})"),
            // 19/09/2023 12:53
            format!(r"(?P<d>\d{{1,2}})/(?P<m>\d{{1,2}})/(?P<y>\d{{4}})(?:{sep}{time})?"),
            // November 07, 2023 | 10:26
            format!(r"{month}\s+(?P<d>\d{{1,2}}),?\s+(?P<y>\d{{4}})(?:{sep}{time})?"),
            // 7 November 2023 10:26
            format!(r"(?P<d>\d{{1,2}})\s+{month},?\s+(?P<y>\d{{4}})(?:{sep}{time})?"),
        ]
        .iter()
        .filter_map(|p| Regex::new(&format!(r"(?i)\b{p}")).ok())
        .collect()
    })
}

fn find_date(s: &str) -> Option<Parsed> {
    // Every pattern needs a four-digit year that `u32::from_str` accepts, i.e. four ASCII
    // digits in a row: without them no pattern can give a date, and the (Unicode,
    // case-insensitive) regexes need not run.
    if !has_ascii_digits(s, 4) {
        return None;
    }
    match_date(s)
}

/// [`find_date`] without the pre-check.
fn match_date(s: &str) -> Option<Parsed> {
    for (i, re) in date_patterns().iter().enumerate() {
        let Some(c) = re.captures(s) else { continue };
        let num = |k: &str| c.name(k).and_then(|m| m.as_str().parse::<u32>().ok());
        let Some(y) = num("y") else { continue };
        let m = match c.name("mon") {
            Some(name) => month_number(name.as_str()),
            None => num("m"),
        };
        let (Some(mut m), Some(mut d)) = (m, num("d")) else {
            continue;
        };
        // Numeric d/m/y: day first (the convention of the sites we read); a first
        // number that cannot be a month and a second that cannot be a day settle it.
        // ISO dates (pattern 0) are never swapped.
        if i > 0 && c.name("mon").is_none() && m > 12 && d <= 12 {
            std::mem::swap(&mut m, &mut d);
        }
        let (hh, mm, ss) = (
            num("H").unwrap_or(0),
            num("M").unwrap_or(0),
            num("S").unwrap_or(0),
        );
        if hh > 23 || mm > 59 || ss > 60 {
            continue;
        }
        let Some(days) = days_from_civil(y as i64, m, d) else {
            continue;
        };
        let whole = c.get(0)?;
        return Some(Parsed {
            millis: (days * 86_400 + (hh * 3600 + mm * 60 + ss) as i64) * 1000,
            start: whole.start(),
            end: whole.end(),
        });
    }
    None
}

/// Whether `s` holds `n` ASCII digits in a row.
fn has_ascii_digits(s: &str, n: usize) -> bool {
    let mut run = 0;
    for &b in s.as_bytes() {
        run = if b.is_ascii_digit() { run + 1 } else { 0 };
        if run >= n {
            return true;
        }
    }
    false
}

/// Parse a free-standing date such as a JSONL `published` field.
pub fn parse_date(s: &str) -> Option<Dateline> {
    find_date(s).map(|p| Dateline {
        millis: p.millis,
        byline: None,
    })
}

/// A head line that is a date, optionally preceded by a byline
/// (`Hoai Anh – Lang Khoa 12:53, 19/09/2023`, `November 07, 2023 | 10:26`).
pub fn parse_dateline(s: &str) -> Option<Dateline> {
    if s.chars().count() > 120 {
        return None;
    }
    let p = find_date(s)?;
    let trim = |t: &str| {
        t.trim_matches(|c: char| c.is_whitespace() || "-–—|,:·•".contains(c))
            .to_string()
    };
    let before = trim(&s[..p.start]);
    let after = trim(&s[p.end..]);
    // Anything besides the date must be short and name-like, not a sentence.
    let name_like = |t: &str| {
        t.is_empty()
            || (word_count(t) <= 8 && !t.ends_with('.') && !t.chars().any(|c| c.is_ascii_digit()))
    };
    if !name_like(&before) || !name_like(&after) {
        return None;
    }
    let byline = [before, after]
        .into_iter()
        .map(|t| t.strip_prefix("By ").map(str::to_string).unwrap_or(t))
        .find(|t| !t.is_empty() && !is_generic_label(t));
    Some(Dateline {
        millis: p.millis,
        byline,
    })
}

/// Labels that sit next to dates but are not names.
fn is_generic_label(t: &str) -> bool {
    let lower = crate::text::to_lower(t);
    ["published", "updated", "posted", "date", "last updated"]
        .iter()
        .any(|l| lower.trim_end_matches(':') == *l)
}

/// Days since 1970-01-01 of a proleptic Gregorian date, or `None` if it does not exist.
fn days_from_civil(y: i64, m: u32, d: u32) -> Option<i64> {
    if !(1..=12).contains(&m) || d == 0 || !(1000..=9999).contains(&y) {
        return None;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let dim = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if d > dim[(m - 1) as usize] {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(y: i64, m: u32, d: u32, hh: i64, mm: i64) -> i64 {
        (days_from_civil(y, m, d).unwrap() * 86_400 + hh * 3600 + mm * 60) * 1000
    }

    fn txt(text: &str) -> RawDoc {
        RawDoc {
            source: "a.txt".into(),
            text: text.into(),
            format: Some(Format::Text),
            ..Default::default()
        }
    }

    #[test]
    fn epoch_days() {
        assert_eq!(days_from_civil(1970, 1, 1), Some(0));
        assert_eq!(days_from_civil(2000, 3, 1), Some(11_017));
        assert_eq!(days_from_civil(2023, 2, 29), None);
        assert_eq!(days_from_civil(2024, 2, 29), Some(19_782));
    }

    #[test]
    fn dateline_with_byline_first() {
        let d = parse_dateline("Hoai Anh – Lang Khoa 12:53, 19/09/2023").unwrap();
        assert_eq!(d.millis, ms(2023, 9, 19, 12, 53));
        assert_eq!(d.byline.as_deref(), Some("Hoai Anh – Lang Khoa"));
    }

    #[test]
    fn dateline_month_name() {
        let d = parse_dateline("November 07, 2023 | 10:26").unwrap();
        assert_eq!(d.millis, ms(2023, 11, 7, 10, 26));
        assert_eq!(d.byline, None);
        assert_eq!(
            parse_date("2023-11-02T10:00:00Z").unwrap().millis,
            ms(2023, 11, 2, 10, 0)
        );
    }

    #[test]
    fn sentence_with_date_is_not_a_dateline() {
        assert!(
            parse_dateline("On November 2, 2023, the Ministry of Foreign Affairs met.").is_none()
        );
        assert!(parse_dateline(
            "Speaking on 19/09/2023 at the event, he said the programme was a success."
        )
        .is_none());
    }

    #[test]
    fn title_skips_navigation() {
        let a = Article::parse(txt("Uno\n\nNews\n\nHome / News\n\nVietnam – Japan cooperation is in the best stage\n\nBody text here."));
        assert_eq!(
            a.title.as_deref(),
            Some("Vietnam – Japan cooperation is in the best stage")
        );
        assert_eq!(a.blocks[3].role, Some(HeadRole::Title));
        assert_eq!(a.blocks[0].role, None);
    }

    #[test]
    fn head_fields_from_seed_layout() {
        let a = Article::parse(txt(
            "Deepening Vietnam-Japan relationship\n\nHoai Anh – Lang Khoa 12:53, 19/09/2023\n\nOn the morning of September 17, the program began.",
        ));
        assert_eq!(
            a.title.as_deref(),
            Some("Deepening Vietnam-Japan relationship")
        );
        assert_eq!(a.byline.as_deref(), Some("Hoai Anh – Lang Khoa"));
        assert_eq!(a.published, Some(ms(2023, 9, 19, 12, 53)));
        assert_eq!(a.blocks[1].role, Some(HeadRole::Dateline));
        assert_eq!(a.blocks[2].role, None);
    }

    #[test]
    fn jsonl_title_repeated_in_text_is_marked() {
        let doc = RawDoc {
            source: "x.jsonl#L1".into(),
            title: Some("Big news today".into()),
            published: Some("2023-10-11".into()),
            text: "Big news today\nThe body.".into(),
            format: Some(Format::Jsonl),
            ..Default::default()
        };
        let a = Article::parse(doc);
        assert_eq!(a.blocks[0].role, Some(HeadRole::Title));
        assert_eq!(a.published, Some(ms(2023, 10, 11, 0, 0)));
    }

    #[test]
    fn crumb_separators_are_found_like_str_find() {
        let long = format!("{}News › World » Asia", "a b c d ".repeat(9));
        for s in [
            "",
            "Home / News",
            "News » World",
            "2020 › 05",
            "a|b",
            "ĐẠI » Hội",
            "Ả›",
            "Ồ Ằ Ỳ Ỻỻ",
            "»",
            long.as_str(),
        ] {
            assert_eq!(
                find_crumb_separator(s),
                s.find(['/', '>', '»', '›', '|']),
                "{s:?}"
            );
        }
    }

    #[test]
    fn hard_wrapped_paragraphs_are_joined() {
        let text = "Title of the story\n\nThe minister said on Monday that the talks with the\ndelegation had gone well and that both sides would\nmeet again next month to sign the agreement on\ntrade.\n\nA second paragraph follows here, also wrapped at the\nsame margin as the first one so that it is joined\ntoo.";
        let lines = unwrap_lines(text);
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert!(
            lines[1].starts_with("The minister said") && lines[1].ends_with("agreement on trade.")
        );
    }

    #[test]
    fn captions_and_short_lines_stay_apart() {
        let text = "Title\n\nDelegates participate in the program.\nDelegates participate in the program.\n\nLocal Cooperation - An Important Pillar\nPhoto: Le Hong Nhung\n\nA sentence broken in the\nmiddle by a lost line break.";
        let lines = unwrap_lines(text);
        assert_eq!(lines[1], lines[2]);
        assert_eq!(lines[4], "Photo: Le Hong Nhung");
        assert_eq!(
            lines[5],
            "A sentence broken in the middle by a lost line break."
        );
    }

    #[test]
    fn crumbs() {
        assert!(is_crumb("Home / News"));
        assert!(is_crumb("News » World » Asia"));
        assert!(!is_crumb(
            "Vietnam – Japan cooperation / a new stage of development in all fields"
        ));
    }

    /// The definitions the fast paths replace.
    fn collapse_spaces_slow(s: &str) -> String {
        s.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    fn same_text_slow(a: &str, b: &str) -> bool {
        crate::text::to_lower(a.trim()) == crate::text::to_lower(b.trim())
    }

    /// Deterministic pseudo-random strings over characters that stress the fast paths.
    fn random_strings() -> Vec<String> {
        let alphabet: Vec<char> = " \t\n\u{a0}\u{3000}\u{2028}aAzZ09٣２İiẞßKkΣσςΟΔ.-/:,|ệỆ東Tt"
            .chars()
            .collect();
        let mut rng = crate::text::TestRng::new();
        (0..20_000)
            .map(|i| (0..i % 23).map(|_| rng.pick(&alphabet)).collect())
            .collect()
    }

    #[test]
    fn fast_paths_agree_with_their_definitions() {
        let strings = random_strings();
        for (i, s) in strings.iter().enumerate() {
            assert_eq!(collapse_spaces(s), collapse_spaces_slow(s), "{s:?}");
            let t = &strings[(i * 7 + 1) % strings.len()];
            for other in [
                t.as_str(),
                &s.to_uppercase(),
                &s.to_lowercase(),
                &format!(" {s}"),
            ] {
                assert_eq!(
                    same_text(s, other),
                    same_text_slow(s, other),
                    "{s:?} {other:?}"
                );
            }
        }
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            let s = format!("a{c}b {c}");
            assert_eq!(collapse_spaces(&s), collapse_spaces_slow(&s), "{c:?}");
            let up: String = s.to_uppercase();
            assert_eq!(same_text(&s, &up), same_text_slow(&s, &up), "{c:?}");
        }
    }

    #[test]
    fn dates_need_four_ascii_digits() {
        let mut probes = random_strings();
        probes.extend(
            [
                "２０２３-１１-０２",
                "12:53, 19/09/２０２３",
                "19/09/٢٠٢٣ 10:26",
                "November 07, 202 | 10:26",
                "7 Nov 99",
                "2023-11-02",
                "12:53, 19/09/2023",
                "Published 7 November 2023 10:26",
            ]
            .map(String::from),
        );
        for s in &probes {
            if !has_ascii_digits(s, 4) {
                assert_eq!(match_date(s), None, "{s:?}");
            }
            assert_eq!(find_date(s), match_date(s), "{s:?}");
        }
        assert!(find_date("2023-11-02").is_some());
    }

    #[test]
    fn cjk_words() {
        assert_eq!(word_count("東京は晴れ"), 5);
        assert_eq!(word_count("Hello, world 2023"), 3);
    }
}
