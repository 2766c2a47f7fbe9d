//! Mixed-language text: split into units (lines, and the one-line bilingual forms
//! "vi text / en text" and "en text (vi text)"), label each unit, and let the languages the
//! text shows clearly decide the units that are unsure on their own.

use super::detect::{Detector, Evidence, RELIABLE_CONTENT};
use super::UND;

/// Bonus (nats) for a language the surrounding text is clearly written in, when a unit
/// is unsure: enough to settle a near tie between, say, en and tl, not enough to overrule
/// clear evidence.
pub const CONTEXT_BONUS: f32 = 5.0;

/// A piece of the input in one language. `text` is a substring of the input.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment<'a> {
    pub text: &'a str,
    pub lang: &'static str,
}

/// A unit with its evidence.
pub struct Unit<'a> {
    pub text: &'a str,
    pub evidence: Evidence,
}

/// Split one line into its bilingual parts, or `None` when it is one language.
///
/// The forms: "vi / en" (any number of parts joined by " / ") and "en (vi)" with the
/// parenthesis closing the line. A split needs the parts to be in different languages,
/// each clearly, so a monolingual line with "(Photo: VNA)", "(local time)" or an "and / or"
/// stays whole.
pub fn split_line<'a>(det: &Detector, line: &'a str) -> Option<Vec<Unit<'a>>> {
    if line.contains(" / ") {
        let parts: Vec<&str> = line
            .split(" / ")
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        if parts.len() >= 2 {
            let units: Vec<Unit> = parts
                .into_iter()
                .map(|p| Unit {
                    text: p,
                    evidence: det.evidence(p),
                })
                .collect();
            if clearly_different(&units) {
                return Some(units);
            }
        }
    }
    let (outer, inner) = trailing_parenthesis(line)?;
    let units = vec![
        Unit {
            text: outer,
            evidence: det.evidence(outer),
        },
        Unit {
            text: inner,
            evidence: det.evidence(inner),
        },
    ];
    clearly_different(&units).then_some(units)
}

/// At least two languages among the parts, and each part clear: reliable; or (Latin-script
/// parts only: kanji next to kana are Japanese) beside a reliable part, at least two real
/// words, mostly not names, in another language
/// ("I love Hollywood movies. (Tôi thích xem phim Hollywood.)"); or, beside a part settled
/// by its script or letters, three or more words without a single accented letter — a
/// title full of names next to a Japanese or Vietnamese caption is still another language.
fn clearly_different(units: &[Unit]) -> bool {
    let first = units.first().map_or(UND, |u| u.evidence.best());
    if first == UND || units.iter().all(|u| u.evidence.best() == first) {
        return false;
    }
    let reliable: Vec<&str> = units
        .iter()
        .filter(|u| u.evidence.reliable())
        .map(|u| u.evidence.best())
        .collect();
    let settled: Vec<&str> = units
        .iter()
        .filter(|u| u.evidence.script && u.evidence.reliable())
        .map(|u| u.evidence.best())
        .collect();
    units.iter().all(|u| {
        let e = &u.evidence;
        let other = |langs: &[&str]| !langs.is_empty() && !langs.contains(&e.best());
        e.reliable()
            || (e.best() != UND
                && e.latin
                && ((other(&reliable) && e.content >= RELIABLE_CONTENT && e.content >= e.names)
                    || (other(&settled) && e.plain && e.content + e.names >= 3)))
    })
}

/// "outer (inner)" where the parenthesis closes the line (trailing punctuation allowed):
/// the text before it and the text inside, both trimmed and non-empty.
fn trailing_parenthesis(line: &str) -> Option<(&str, &str)> {
    let body = line.trim_end_matches(|c: char| c.is_whitespace() || matches!(c, '.' | '。' | ','));
    // Byte offset of the closing parenthesis (ASCII or full-width).
    let close = body
        .strip_suffix(')')
        .or_else(|| body.strip_suffix('）'))?
        .len();
    // The matching opening parenthesis, scanning back.
    let mut depth = 0usize;
    let mut open = None;
    for (i, c) in body[..close].char_indices().rev() {
        match c {
            ')' | '）' => depth += 1,
            '(' | '（' if depth == 0 => {
                open = Some((i, c.len_utf8()));
                break;
            }
            '(' | '（' => depth -= 1,
            _ => {}
        }
    }
    let (open, width) = open?;
    let outer = line[..open].trim();
    let inner = line[open + width..close].trim();
    (!outer.is_empty() && !inner.is_empty()).then_some((outer, inner))
}

/// The units of a text: its non-empty lines, each split into its bilingual parts.
pub fn units<'a>(det: &Detector, text: &'a str) -> Vec<Unit<'a>> {
    let mut out = Vec::new();
    for line in text.split('\n') {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        match split_line(det, line) {
            Some(parts) => out.extend(parts),
            None => out.push(Unit {
                text: line,
                evidence: det.evidence(line),
            }),
        }
    }
    out
}

/// Label every unit of `text`. Units that are clear keep their own language; the others
/// choose among their own candidates with a bonus for the languages the clear units show
/// (a short "Let's try it." between Vietnamese captions and English lines stays en, a
/// kanji-only line among Japanese ones becomes ja), or are `und` when they have hardly a
/// word and none of those languages is even a candidate.
pub fn segments<'a>(det: &Detector, text: &'a str) -> Vec<Segment<'a>> {
    let units = units(det, text);
    let mut clear: Vec<&'static str> = Vec::new();
    // Whether the clear Vietnamese is written with its diacritics: then a line without a
    // single accented letter is not Vietnamese ("Let me dream." after "Hãy để tôi mơ mộng.").
    let mut vi_marked = false;
    for u in &units {
        let l = u.evidence.best();
        if u.evidence.reliable() {
            if !clear.contains(&l) {
                clear.push(l);
            }
            vi_marked |= l == "vi" && !u.evidence.plain;
        }
    }
    units
        .iter()
        .map(|u| {
            let e = &u.evidence;
            let lang = if e.reliable() || clear.is_empty() {
                e.best()
            } else if e.content < RELIABLE_CONTENT && !clear.iter().any(|l| e.has(l)) {
                // Hardly a word, in a script none of the clear lines use ("Galaxy S8."
                // in Vietnamese text, "Yahoo!" in Japanese): no guess.
                UND
            } else {
                e.decide_by(|l| {
                    if l == "vi" && vi_marked && e.plain {
                        -CONTEXT_BONUS
                    } else if clear.contains(&l) {
                        CONTEXT_BONUS
                    } else {
                        0.0
                    }
                })
                .0
            };
            Segment { text: u.text, lang }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det() -> Detector {
        Detector::new(&crate::config::LangConfig::default().allowlist)
    }

    fn seq(text: &str) -> Vec<(&str, &'static str)> {
        segments(&det(), text)
            .into_iter()
            .map(|s| (s.text, s.lang))
            .collect()
    }

    #[test]
    fn slash_form_splits_into_vi_and_en() {
        let t = "Và điều đó, với mức độ rộng lớn hơn, là cái chúng ta muốn làm hiện nay. / And that, to a large extent, is what we want to do now.";
        assert_eq!(
            seq(t),
            [
                (
                    "Và điều đó, với mức độ rộng lớn hơn, là cái chúng ta muốn làm hiện nay.",
                    "vi"
                ),
                (
                    "And that, to a large extent, is what we want to do now.",
                    "en"
                )
            ]
        );
        let t = "ベッドの下にモンスターがいる。 / There's a monster under my bed.";
        assert_eq!(
            seq(t),
            [
                ("ベッドの下にモンスターがいる。", "ja"),
                ("There's a monster under my bed.", "en")
            ]
        );
    }

    #[test]
    fn trailing_parenthesis_form_splits() {
        let t = "Settling down in South Korea was a lot more challenging than I had expected. (Việc ổn định cuộc sống ở đây khó khăn hơn nhiều so với tôi tưởng tượng.)";
        let s = seq(t);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].1, "en");
        assert_eq!(s[1].1, "vi");
        assert!(s[1].0.starts_with("Việc") && s[1].0.ends_with("tượng."));
        let s = seq("He repeated his question. (彼は質問を繰り返しました。)");
        assert_eq!(
            s,
            [
                ("He repeated his question.", "en"),
                ("彼は質問を繰り返しました。", "ja")
            ]
        );
    }

    #[test]
    fn monolingual_parentheses_and_slashes_stay_whole() {
        for t in [
            "Prime Minister Pham Minh Chinh arrives in Kazan city of Russia (Photo: VNA)",
            "Deputy Minister of Justice Nguyen Thanh Tinh. (Photo: VNA)",
            "They met on October 23 (local time).",
            "Tom suýt (mém) bị đuối nước.",
            "Bring your passport and / or your identity card.",
        ] {
            let s = seq(t);
            assert_eq!(s.len(), 1, "{t}: {s:?}");
        }
    }

    #[test]
    fn parenthesis_parsing() {
        assert_eq!(trailing_parenthesis("a (b)"), Some(("a", "b")));
        assert_eq!(trailing_parenthesis("a (b (c)) ."), Some(("a", "b (c)")));
        assert_eq!(trailing_parenthesis("a （b）"), Some(("a", "b")));
        assert_eq!(trailing_parenthesis("(b)"), None);
        assert_eq!(trailing_parenthesis("a b)"), None);
        assert_eq!(trailing_parenthesis(")"), None);
        assert_eq!(trailing_parenthesis(""), None);
    }

    #[test]
    fn monolingual_blocks_are_not_mixed() {
        for t in [
            "It's no use trying to convince Nguyen Thanh Tinh.\nLet's go to Vu Chi Mai's house right now.\nNguyen Thanh Tinh took his girlfriend out on Saturday night.",
            "Hoai Anh played the piano and Bui Thanh Son sang.\nDid you let Trinh Dinh Dung drive your car?",
            "Kimura Takuya was depressed.\nWhat are Suga Yoshihide's true intentions?",
            "Hattori Seitaro was never able to tell Yamada Takio that he loved her.\nWe arrived at a small town in Hokkaido.",
            "Tom luôn luôn cực kỳ cẩn thận.\nTom đã không thể chịu đựng Mary thêm một chút nào nữa.",
            "この近辺にATMはありますか?\nトムはトレーニングをしながらiPodを聞いていた。\nこのＣＤは彼女のものです。",
        ] {
            let s = seq(t);
            let mut langs: Vec<&str> = s.iter().map(|x| x.1).filter(|l| *l != UND).collect();
            langs.dedup();
            assert_eq!(langs.len(), 1, "{t}: {s:?}");
        }
    }

    #[test]
    fn short_translations_keep_their_own_language() {
        let langs = |t: &str| -> Vec<&'static str> { seq(t).into_iter().map(|x| x.1).collect() };
        assert_eq!(langs("Hãy để tôi mơ mộng.\nLet me dream."), ["vi", "en"]);
        assert_eq!(langs("Thử nó xem sao.\nLet's try it."), ["vi", "en"]);
        assert_eq!(langs("まあ受け取って。\nJust take it."), ["ja", "en"]);
        assert_eq!(
            langs("Tom co giai phap cho moi thu.\nTom has a solution for everything."),
            ["vi", "en"]
        );
    }

    #[test]
    fn hardly_a_word_in_another_script_is_und() {
        let s = seq("ディスプレイ出力はDVI×2、HDMI、DisplayPortを装備。\nYahoo!");
        assert_eq!(s[0].1, "ja");
        assert_eq!(s[1].1, UND);
        assert!(segments(&det(), "").is_empty());
        assert_eq!(seq("\n  \n42\n"), [("42", UND)]);
    }

    #[test]
    fn unsure_lines_follow_the_clear_ones() {
        let s = seq("トムはメアリーの唇にキスをした。\n了解。");
        assert_eq!(s[1].1, "ja");
        let s = seq("了解。");
        assert_eq!(s[0].1, "zh");
    }
}
