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
                            if !cl_lines.iter().all(|l| utf8.contains(l)) { bad += 1; if bad < 3 { eprintln!("  {name} MISMATCH: {:?}", &cl.chars().take(120).collect::<String>()); } }
                        }
                        r.guessed_encoding.unwrap_or("utf-8".into())
                    }
                    Err((reason, d)) => format!("REJECT {reason:?} {}", d.chars().take(60).collect::<String>()),
                };
                *stats.entry(key).or_default() += 1;
            }
            println!("{name} size={size} chunks={n} bad={bad} {:?}", stats);
        }
    }
}
