//! THROWAWAY (not to be committed): corpus checks against local files.
use super::decode::bytes_to_text;
use super::sanitize::{clean, Repairs};

fn chunks(b: &[u8], size: usize) -> Vec<&[u8]> {
    let mut out = vec![];
    let mut start = 0;
    while start < b.len() {
        let mut end = (start + size).min(b.len());
        while end < b.len() && b[end] != b'\n' { end += 1; }
        out.push(&b[start..end]);
        start = end + 1;
    }
    out
}

#[test]
#[ignore]
fn west_corpus() {
    let dir = std::path::Path::new("/tmp/west");
    let mut names: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    names.sort();
    let utf8 = std::fs::read_to_string(dir.join("vi.utf8")).unwrap();
    for p in names {
        let name = p.file_name().unwrap().to_str().unwrap().to_string();
        if name == "vi.utf8" { continue; }
        let b = std::fs::read(&p).unwrap();
        for size in [200usize, 1000, 100000000] {
            let mut stats: std::collections::BTreeMap<String, usize> = Default::default();
            let mut bad = 0; let mut n = 0;
            let expect_chunks: Vec<&[u8]> = chunks(utf8.as_bytes(), 0);
            let _ = expect_chunks;
            for c in chunks(&b, size) {
                if !c.iter().any(|&x| x >= 0x80) { continue; }
                n += 1;
                let mut r = Repairs::default();
                let key = match bytes_to_text(c, &mut r) {
                    Ok(t) => {
                        if name.starts_with("vi.") {
                            let cl = clean(&t, &mut r);
                            let cl_lines: Vec<&str> = cl.lines().collect();
                            // every decoded line must be a line of the original
                            let orig = utf8.replace('\t', " ").to_lowercase();
                            if let Some(l) = cl_lines.iter().find(|l| !orig.contains(&l.to_lowercase())) { bad += 1; if bad < 4 { eprintln!("  {name} MISMATCH: {:?}", l); } }
                        }
                        let g = r.guessed_encoding.clone().unwrap_or("utf-8".into());
                        if !name.starts_with("vi.") && (g.contains("Vietnamese") || g.contains("1258")) {
                            let words: Vec<&str> = t.split(|c: char| !c.is_alphabetic() && !('\u{300}'..='\u{36f}').contains(&c)).filter(|w| !w.is_ascii()).collect();
                            let mut cl = Repairs::default();
                            println!("  FP {name}: {:?}", words.iter().map(|w| clean(w, &mut cl)).collect::<Vec<_>>());
                        }
                        g
                    }
                    Err((reason, d)) => { if !name.starts_with("vi.") && size == 200 && format!("{reason:?}").contains("Legacy") { println!("  FR {name}: {}", String::from_utf8_lossy(c).chars().filter(|c| !c.is_ascii()).collect::<String>()); } format!("REJECT {reason:?} {}", d.chars().take(60).collect::<String>()) },
                };
                *stats.entry(key).or_default() += 1;
            }
            println!("{name} size={size} chunks={n} bad={bad} {:?}", stats);
        }
    }
}

#[test]
#[ignore]
fn bench_badinput() {
    let root = std::path::PathBuf::from(std::env::var("BAD").unwrap_or("/tmp/bad".into()));
    let cfg = crate::config::SourceConfig::default();
    let t0 = std::time::Instant::now();
    let d = super::discover(std::slice::from_ref(&root)).unwrap();
    for p in &d.problems {
        println!("PROBLEM {} | {} | {}", p.source, p.reason.as_str(), p.detail);
    }
    for f in &d.files {
        for item in super::open(f, &cfg) {
            match item.and_then(|u| super::decode(u, &cfg)) {
                Ok(doc) => {
                    let fffd = doc.text.matches('\u{fffd}').count();
                    let head: String = doc.text.chars().take(60).collect();
                    println!("DOC {} | {} chars fffd={} | notes={:?} | {:?}", doc.source, doc.text.chars().count(), fffd, doc.notes, head);
                    if let Ok(out) = std::env::var("OUT") {
                        use std::io::Write;
                        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(out).unwrap();
                        writeln!(f, "{}", serde_json::json!({"source": doc.source, "text": doc.text, "title": doc.title, "notes": doc.notes})).unwrap();
                    }
                    if let Some(ex) = std::env::var("DUMP").ok().filter(|d| doc.source.contains(d.as_str())) { let _ = ex; println!("{}", doc.text); }
                }
                Err(r) => println!("REJ {} | {} | {}", r.source, r.reason.as_str(), r.detail),
            }
        }
    }
    println!("elapsed {:?}", t0.elapsed());
}

#[test]
#[ignore]
fn throughput() {
    let cfg = crate::config::SourceConfig::default();
    let para_en = "The cooperative relationship between Vietnam and Japan is at its best in history, said the minister. ";
    let para_vi = "Hội nghị đã thu hút đông đảo đại biểu trong và ngoài nước tham dự. “Meet Japan 2023” – ";
    for (name, para) in [("ascii", para_en), ("vietnamese", para_vi), ("mixed+entities", "a &amp; b “x” Việt Nam\r\n")] {
        let mut text = String::new();
        while text.len() < 15 << 20 { text.push_str(para); if text.len() % 7 == 0 { text.push('\n'); } }
        let bytes = text.into_bytes();
        let n = bytes.len();
        let t = std::time::Instant::now();
        let doc = super::decode(super::Unit::Text { source: "x".into(), bytes }, &cfg).unwrap();
        let dt = t.elapsed();
        println!("{name}: {:.1} MB/s ({} notes)", n as f64 / dt.as_secs_f64() / 1e6, doc.notes.len());
    }
}
