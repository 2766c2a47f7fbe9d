//! Writes `<out>/<language>.tsv` (n-gram, ln P(last char | preceding chars)) for each
//! lingua language model that quire's Latin-script model is derived from.
//! Only the `models/ngrams.fst` files are read; the crates' test data is never touched.

use fst::Streamer;
use include_dir::Dir;
use std::io::Write;

fn main() -> std::io::Result<()> {
    let out = std::env::args().nth(1).unwrap_or_else(|| "lingua-tsv".into());
    std::fs::create_dir_all(&out)?;
    let models: [(&str, &Dir); 9] = [
        ("english", &lingua_english_language_model::ENGLISH_MODELS_DIRECTORY),
        ("french", &lingua_french_language_model::FRENCH_MODELS_DIRECTORY),
        ("german", &lingua_german_language_model::GERMAN_MODELS_DIRECTORY),
        ("spanish", &lingua_spanish_language_model::SPANISH_MODELS_DIRECTORY),
        ("portuguese", &lingua_portuguese_language_model::PORTUGUESE_MODELS_DIRECTORY),
        ("indonesian", &lingua_indonesian_language_model::INDONESIAN_MODELS_DIRECTORY),
        ("malay", &lingua_malay_language_model::MALAY_MODELS_DIRECTORY),
        ("tagalog", &lingua_tagalog_language_model::TAGALOG_MODELS_DIRECTORY),
        ("vietnamese", &lingua_vietnamese_language_model::VIETNAMESE_MODELS_DIRECTORY),
    ];
    for (name, dir) in models {
        let file = dir.get_file("ngrams.fst").expect("ngrams.fst in model crate");
        let map = fst::Map::new(file.contents()).expect("valid fst");
        let mut w = std::io::BufWriter::new(std::fs::File::create(format!("{out}/{name}.tsv"))?);
        let mut stream = map.stream();
        while let Some((k, v)) = stream.next() {
            writeln!(w, "{}\t{}", String::from_utf8_lossy(k), f64::from_bits(v))?;
        }
        w.flush()?;
        eprintln!("{name}: {} n-grams", map.len());
    }
    Ok(())
}
