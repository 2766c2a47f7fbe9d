//! Writing-system evidence: which script a text's letters are in, and the few letters that
//! alone settle a language (kana → ja, hangul → ko, Thai script → th, kanji forms only
//! Japanese uses → ja).

/// The writing system of a letter, as far as language identification cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Script {
    Latin,
    Cyrillic,
    /// Chinese characters (hanzi / kanji / hanja).
    Han,
    /// Hiragana and katakana.
    Kana,
    Hangul,
    Thai,
    Other,
}

/// Letter counts by script.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ScriptCounts {
    pub letters: usize,
    pub latin: usize,
    pub cyrillic: usize,
    pub han: usize,
    pub kana: usize,
    pub hangul: usize,
    pub thai: usize,
    pub other: usize,
    /// Han characters in a form only Japanese writes (shinjitai, kokuji).
    pub ja_kanji: usize,
    /// Latin letters only Vietnamese writes (ư ơ đ ă, tone-marked vowels).
    pub vi_only: usize,
    /// Runs of Latin letters: about the Latin words.
    pub latin_words: usize,
}

impl ScriptCounts {
    pub fn of(text: &str) -> Self {
        let mut s = ScriptCounts::default();
        let mut in_latin = false;
        for c in text.chars() {
            // ASCII (most of English and Vietnamese text) settled without the general
            // lookup: a letter is Latin and never one only Vietnamese writes.
            if c.is_ascii() {
                let latin = c.is_ascii_alphabetic();
                s.latin_words += usize::from(latin && !in_latin);
                in_latin = latin;
                s.letters += usize::from(latin);
                s.latin += usize::from(latin);
                continue;
            }
            let script = script_of(c);
            let latin = script == Some(Script::Latin);
            s.latin_words += usize::from(latin && !in_latin);
            in_latin = latin;
            let Some(script) = script else { continue };
            s.letters += 1;
            match script {
                Script::Latin => {
                    s.latin += 1;
                    s.vi_only += usize::from(crate::article::is_vietnamese_only(c));
                }
                Script::Cyrillic => s.cyrillic += 1,
                Script::Han => {
                    s.han += 1;
                    if is_ja_only_kanji(c) {
                        s.ja_kanji += 1;
                    }
                }
                Script::Kana => s.kana += 1,
                Script::Hangul => s.hangul += 1,
                Script::Thai => s.thai += 1,
                Script::Other => s.other += 1,
            }
        }
        s
    }

    /// The script most of the text is written in. A CJK character carries about as much
    /// as a short word, so it counts for two Latin letters: "この近辺にATMはありますか" is
    /// Japanese, "the Tokyo office (東京)" English.
    pub fn dominant(&self) -> Option<Script> {
        let cjk = 2 * (self.han + self.kana + self.hangul);
        let candidates = [
            (Script::Latin, self.latin),
            (Script::Cyrillic, self.cyrillic),
            (Script::Han, cjk),
            (Script::Thai, self.thai),
            (Script::Other, self.other),
        ];
        let (script, n) = candidates.into_iter().max_by_key(|&(_, n)| n)?;
        if n == 0 {
            return None;
        }
        if script != Script::Han {
            return Some(script);
        }
        // Within CJK: kana makes it Japanese even beside many kanji; hangul Korean.
        Some(if self.hangul > self.kana && self.hangul * 2 >= self.han {
            Script::Hangul
        } else if self.kana > 0 && self.kana * 20 >= self.han {
            Script::Kana
        } else {
            Script::Han
        })
    }
}

/// The script of a letter; `None` for anything that is not a letter (digits, punctuation,
/// symbols, marks).
pub fn script_of(c: char) -> Option<Script> {
    let u = u32::from(c);
    // Fast path for ASCII.
    if u < 0x80 {
        return c.is_ascii_alphabetic().then_some(Script::Latin);
    }
    if !crate::text::is_alphabetic(c) {
        // The prolonged sound mark and iteration marks are not "alphabetic" but are kana.
        return matches!(u, 0x30FC | 0x309D | 0x309E | 0x30FD | 0x30FE).then_some(Script::Kana);
    }
    Some(match u {
        0x00C0..=0x024F | 0x1E00..=0x1EFF | 0x2C60..=0x2C7F | 0xA720..=0xA7FF => Script::Latin,
        // Full-width Latin (ＣＤ) is Latin; it shows up in Japanese text as acronyms.
        0xFF21..=0xFF3A | 0xFF41..=0xFF5A => Script::Latin,
        0x0400..=0x052F | 0x1C80..=0x1C8F | 0x2DE0..=0x2DFF | 0xA640..=0xA69F => Script::Cyrillic,
        0x3040..=0x30FF | 0x31F0..=0x31FF | 0xFF66..=0xFF9F => Script::Kana,
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x3134F => Script::Han,
        0x3005 | 0x3007 => Script::Han, // 々 〇
        0xAC00..=0xD7AF | 0x1100..=0x11FF | 0x3130..=0x318F | 0xA960..=0xA97F => Script::Hangul,
        0x0E00..=0x0E7F => Script::Thai,
        _ => Script::Other,
    })
}

/// Whether `c` is one of [`JA_ONLY_KANJI`]: one load from a bitmap, where a search of the
/// string ran for every kanji of Japanese text.
fn is_ja_only_kanji(c: char) -> bool {
    let u = u32::from(c) as usize;
    JA_ONLY_KANJI_BITS
        .get(u / 64)
        .is_some_and(|w| w >> (u % 64) & 1 == 1)
}

/// [`JA_ONLY_KANJI`] as a bitmap of the Basic Multilingual Plane (8 KiB), made at compile
/// time; every character there is three bytes of UTF-8 (the build fails otherwise).
static JA_ONLY_KANJI_BITS: [u64; 1024] = {
    let b = JA_ONLY_KANJI.as_bytes();
    let mut bits = [0u64; 1024];
    let mut i = 0;
    while i < b.len() {
        assert!(b[i] & 0xF0 == 0xE0 && i + 2 < b.len());
        let u = ((b[i] as usize & 0x0F) << 12)
            | ((b[i + 1] as usize & 0x3F) << 6)
            | (b[i + 2] as usize & 0x3F);
        bits[u / 64] |= 1 << (u % 64);
        i += 3;
    }
    bits
};

/// Kanji in the forms Japanese writes and neither simplified nor traditional Chinese does
/// (shinjitai such as 気 for 氣/气, 駅 for 驛/驿), and kokuji (込, 働, 峠). One of these in a
/// kanji-only line is strong evidence of Japanese. Characters whose Japanese form is also
/// the simplified Chinese one (国, 会, 当, 万) are deliberately absent.
const JA_ONLY_KANJI: &str = "\
亜悪圧囲壱隠栄営駅円塩縁応桜穏仮価絵拡覚楽渇巻陥勧寛関歓観気帰戯犠拠挙暁駆勲恵掲渓経蛍軽継\
鶏撃険剣圏倹検権県験厳広効鉱黒砕済斎剤雑桟賛歯児実釈収従渋獣縦粛処奨焼証乗浄剰畳縄壌嬢譲醸\
図粋酔髄瀬斉摂専戦銭繊荘捜挿巣総騒増蔵臓続対帯滝択沢単団弾遅鋳庁聴勅逓鉄転伝稲闘徳読弐悩脳\
廃拝売発髪抜晩浜払仏塀辺変歩豊毎満黙薬訳揺様謡頼覧竜両猟緑涙塁隷霊齢暦歴錬労録歳亀顔頬唖\
込峠畑畠枠働匂栃辻凪凧榊躾籾鰯噺俣杢糀麿々";

/// Kanji words everyday Japanese uses and Chinese does not (Chinese says 真的 for 本当,
/// 名字 for 名前, 工作 for 仕事). Words Chinese writes too (了解, 注意, 今日, 新聞, 勉強)
/// are deliberately absent: they are no evidence.
const JA_ONLY_WORDS: &[&str] = &[
    "大丈夫",
    "本当",
    "残念",
    "仕事",
    "名前",
    "一緒",
    "大切",
    "素敵",
    "面白",
    "心配",
    "返事",
    "時計",
    "無料",
    "会社",
    "切手",
    "切符",
    "宿題",
    "返信",
    "勝手",
    "予約",
    "予定",
    "記念",
    "見学",
    "誕生日",
    "彼女",
    "彼氏",
    "私達",
    "本屋",
    "部屋",
    "果物",
    "映画",
    "火事",
];

/// Occurrences of Japanese-only kanji words in `text`.
pub fn ja_only_words(text: &str) -> usize {
    JA_ONLY_WORDS.iter().map(|w| text.matches(w).count()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ja_only_kanji_bitmap_is_the_list() {
        for u in (0..0x11000u32).chain([0x20000, 0x2A6D6]) {
            if let Some(c) = char::from_u32(u) {
                assert_eq!(is_ja_only_kanji(c), JA_ONLY_KANJI.contains(c), "U+{u:04X}");
            }
        }
        assert!(is_ja_only_kanji('駅') && is_ja_only_kanji('々') && !is_ja_only_kanji('国'));
    }

    #[test]
    fn counts_are_the_same_on_the_ascii_path() {
        // By the definition: every character through `script_of`.
        let plain = |text: &str| {
            let mut s = ScriptCounts::default();
            let mut in_latin = false;
            for c in text.chars() {
                let script = script_of(c);
                let latin = script == Some(Script::Latin);
                s.latin_words += usize::from(latin && !in_latin);
                in_latin = latin;
                if script.is_some() {
                    s.letters += 1;
                }
                if latin {
                    s.latin += 1;
                    s.vi_only += usize::from(crate::article::is_vietnamese_only(c));
                }
            }
            (s.letters, s.latin, s.latin_words, s.vi_only)
        };
        for text in [
            "",
            "Hanoi on November 16, 2023: the Vietnamese",
            "Người dân Đà Nẵng đón Tết",
            "東京の駅でATMを使った (ＣＤ)",
            "a1b2 c-d e'f Ａb",
        ] {
            let s = ScriptCounts::of(text);
            assert_eq!(
                (s.letters, s.latin, s.latin_words, s.vi_only),
                plain(text),
                "{text}"
            );
        }
    }

    #[test]
    fn scripts_of_letters() {
        assert_eq!(script_of('a'), Some(Script::Latin));
        assert_eq!(script_of('ư'), Some(Script::Latin));
        assert_eq!(script_of('Ｃ'), Some(Script::Latin));
        assert_eq!(script_of('ж'), Some(Script::Cyrillic));
        assert_eq!(script_of('の'), Some(Script::Kana));
        assert_eq!(script_of('ー'), Some(Script::Kana));
        assert_eq!(script_of('ﾂ'), Some(Script::Kana));
        assert_eq!(script_of('気'), Some(Script::Han));
        assert_eq!(script_of('한'), Some(Script::Hangul));
        assert_eq!(script_of('ก'), Some(Script::Thai));
        assert_eq!(script_of('ع'), Some(Script::Other));
        assert_eq!(script_of('1'), None);
        assert_eq!(script_of('。'), None);
    }

    #[test]
    fn dominant_script() {
        let d = |t: &str| ScriptCounts::of(t).dominant();
        assert_eq!(d("この近辺にATMはありますか?"), Some(Script::Kana));
        assert_eq!(d("このＣＤは彼女のものです。"), Some(Script::Kana));
        assert_eq!(
            d("We met at the 東京 office yesterday"),
            Some(Script::Latin)
        );
        assert_eq!(d("中华人民共和国"), Some(Script::Han));
        assert_eq!(d("한국어 문장입니다"), Some(Script::Hangul));
        assert_eq!(d("โครงการ เอกสารสำคัญ"), Some(Script::Thai));
        assert_eq!(d("42 / 7"), None);
        // ộ ị đ are Vietnamese-only; ã ú are Latin-1 and written in other languages too.
        let s = ScriptCounts::of("Hội nghị, 2023: đã thu hút");
        assert_eq!((s.latin_words, s.vi_only, s.latin), (5, 3, 15));
    }

    #[test]
    fn japanese_only_kanji_forms() {
        assert_eq!(ScriptCounts::of("元気？").ja_kanji, 1);
        assert_eq!(ScriptCounts::of("駅前の広場").ja_kanji, 2);
        // Simplified and traditional Chinese forms are not on the list.
        assert_eq!(ScriptCounts::of("气氣驿驛国國会").ja_kanji, 0);
        assert_eq!(ScriptCounts::of("人々").ja_kanji, 1);
        assert_eq!(ja_only_words("本当？大丈夫！"), 2);
        assert_eq!(ja_only_words("我们了解今天的新闻"), 0);
    }
}
