//! whatlang, for languages our own evidence does not cover (an allowlist that names, say,
//! Italian or Arabic). Our model and script rules decide everything in the default list.

use whatlang::{Detector, Lang};

use super::UND;

/// ISO 639-3 (whatlang) → ISO 639-1.
const CODES: &[(Lang, &str)] = &[
    (Lang::Epo, "eo"),
    (Lang::Eng, "en"),
    (Lang::Rus, "ru"),
    (Lang::Cmn, "zh"),
    (Lang::Spa, "es"),
    (Lang::Por, "pt"),
    (Lang::Ita, "it"),
    (Lang::Ben, "bn"),
    (Lang::Fra, "fr"),
    (Lang::Deu, "de"),
    (Lang::Ukr, "uk"),
    (Lang::Kat, "ka"),
    (Lang::Ara, "ar"),
    (Lang::Hin, "hi"),
    (Lang::Jpn, "ja"),
    (Lang::Heb, "he"),
    (Lang::Yid, "yi"),
    (Lang::Pol, "pl"),
    (Lang::Amh, "am"),
    (Lang::Jav, "jv"),
    (Lang::Kor, "ko"),
    (Lang::Nob, "nb"),
    (Lang::Dan, "da"),
    (Lang::Swe, "sv"),
    (Lang::Fin, "fi"),
    (Lang::Tur, "tr"),
    (Lang::Nld, "nl"),
    (Lang::Hun, "hu"),
    (Lang::Ces, "cs"),
    (Lang::Ell, "el"),
    (Lang::Bul, "bg"),
    (Lang::Bel, "be"),
    (Lang::Mar, "mr"),
    (Lang::Kan, "kn"),
    (Lang::Ron, "ro"),
    (Lang::Slv, "sl"),
    (Lang::Hrv, "hr"),
    (Lang::Srp, "sr"),
    (Lang::Mkd, "mk"),
    (Lang::Lit, "lt"),
    (Lang::Lav, "lv"),
    (Lang::Est, "et"),
    (Lang::Tam, "ta"),
    (Lang::Vie, "vi"),
    (Lang::Urd, "ur"),
    (Lang::Tha, "th"),
    (Lang::Guj, "gu"),
    (Lang::Uzb, "uz"),
    (Lang::Pan, "pa"),
    (Lang::Aze, "az"),
    (Lang::Ind, "id"),
    (Lang::Tel, "te"),
    (Lang::Pes, "fa"),
    (Lang::Mal, "ml"),
    (Lang::Ori, "or"),
    (Lang::Mya, "my"),
    (Lang::Nep, "ne"),
    (Lang::Sin, "si"),
    (Lang::Khm, "km"),
    (Lang::Tuk, "tk"),
    (Lang::Aka, "ak"),
    (Lang::Zul, "zu"),
    (Lang::Sna, "sn"),
    (Lang::Afr, "af"),
    (Lang::Lat, "la"),
    (Lang::Slk, "sk"),
    (Lang::Cat, "ca"),
    (Lang::Tgl, "tl"),
    (Lang::Hye, "hy"),
];

pub fn iso1(lang: Lang) -> &'static str {
    CODES
        .iter()
        .find(|(l, _)| *l == lang)
        .map_or(UND, |(_, c)| c)
}

/// whatlang narrowed to the allowed languages it knows, minus those we decide ourselves.
pub struct Fallback {
    detector: Detector,
}

impl Fallback {
    /// `None` when no allowed language is left for whatlang.
    pub fn new(codes: &[&str]) -> Option<Self> {
        let langs: Vec<Lang> = CODES
            .iter()
            .filter(|(_, c)| codes.contains(c))
            .map(|(l, _)| *l)
            .collect();
        (!langs.is_empty()).then(|| Fallback {
            detector: Detector::with_allowlist(langs),
        })
    }

    /// whatlang with every language it knows.
    pub fn all() -> Self {
        Fallback {
            detector: Detector::new(),
        }
    }

    /// whatlang's answer and whether it calls it reliable.
    pub fn detect(&self, text: &str) -> Option<(&'static str, bool)> {
        let info = self.detector.detect(text)?;
        let code = iso1(info.lang());
        (code != UND).then_some((code, info.is_reliable()))
    }
}

/// Every ISO 639-1 code whatlang can answer.
pub fn known(code: &str) -> bool {
    CODES.iter().any(|(_, c)| *c == code)
}
