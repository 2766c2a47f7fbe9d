//! The real `quire` binary on real files: builds, determinism, hostile inputs, verify.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn quire(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_quire"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run quire")
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&fs::read(dir.join("manifest.json")).unwrap()).unwrap()
}

/// Every file under `dir`, relative path → bytes.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.push((rel, fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn sample_release_builds_verifies_and_keeps_every_article() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("rel");
    let o = quire(
        &["build", "raw", "-o", out.to_str().unwrap(), "--json"],
        &repo(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let summary: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(summary["stats"]["docs_out"], 5);
    let m = manifest(&out);
    assert_eq!(m["stats"]["docs_in"], 5);
    assert_eq!(m["stats"]["docs_out"], 5);
    assert_eq!(m["stats"]["languages"]["en"], 5);
    // The four Vietnamese captions of seed 001 and their translations.
    assert_eq!(m["stats"]["parallel_pairs"], 4);
    let v = quire(&["verify", out.to_str().unwrap()], &repo());
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));
}

#[test]
fn release_is_byte_identical_across_jobs_and_input_location() {
    let tmp = tempfile::tempdir().unwrap();
    let a_in = tmp.path().join("one/raw");
    let b_in = tmp.path().join("two/deeper/raw");
    copy_dir(&repo().join("raw"), &a_in);
    copy_dir(&repo().join("raw"), &b_in);
    let a_out = tmp.path().join("a");
    let b_out = tmp.path().join("b");
    let o = quire(
        &[
            "build",
            a_in.to_str().unwrap(),
            "-o",
            a_out.to_str().unwrap(),
            "--jobs",
            "1",
            "-q",
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = quire(
        &[
            "build",
            "two/deeper/raw",
            "-o",
            b_out.to_str().unwrap(),
            "--jobs",
            "2",
            "-q",
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(snapshot(&a_out), snapshot(&b_out));
}

#[test]
fn hostile_inputs_are_reported_and_the_rest_builds() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    fs::create_dir_all(&input).unwrap();
    let article = fs::read(repo().join("raw/000_ad2ff3227c696ec5.txt")).unwrap();
    fs::write(input.join("good.txt"), &article).unwrap();
    fs::write(input.join("empty.txt"), b"").unwrap();
    fs::write(
        input.join("image.txt"),
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01",
    )
    .unwrap();
    fs::write(input.join("notes.md"), b"# not an article").unwrap();
    // A gzip stream cut short: nothing of it may become a document.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&fs::read(repo().join("raw/001_02746c563ef5bbfc.txt")).unwrap())
        .unwrap();
    let gz = gz.finish().unwrap();
    fs::write(input.join("cut.txt.gz"), &gz[..gz.len() * 6 / 10]).unwrap();
    fs::write(input.join("feed.jsonl"), b"{\"id\": \"a\", \"text\": \"A short story about the harbour, told in a single long sentence that is plainly the body of the article.\"}\nnot json\n{\"id\": \"b\"}\n").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", input.join("passwd.txt")).unwrap();
    let fifo = input.join("pipe.txt");
    let made_fifo = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success());

    let out = tmp.path().join("rel");
    let o = quire(&["build", "in", "-o", out.to_str().unwrap()], tmp.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    for name in [
        "empty.txt",
        "image.txt",
        "cut.txt.gz",
        "passwd.txt",
        "feed.jsonl#L2",
        "feed.jsonl#L3",
        "notes.md",
    ] {
        assert!(err.contains(name), "no warning naming {name}:\n{err}");
    }
    let m = manifest(&out);
    let stats = &m["stats"];
    assert_eq!(stats["docs_out"], 2, "{stats}");
    assert_eq!(stats["rejected"]["binary"], 1);
    assert_eq!(stats["rejected"]["corrupt_compressed"], 1);
    assert_eq!(stats["rejected"]["invalid_json"], 1);
    assert_eq!(stats["rejected"]["missing_text"], 1);
    assert_eq!(stats["skipped"]["empty"], 1);
    assert_eq!(stats["skipped"]["symlink_outside_root"], 1);
    assert_eq!(stats["skipped"]["unsupported_extension"], 1);
    if made_fifo {
        assert_eq!(stats["skipped"]["not_regular_file"], 1);
    }
    let text = snapshot(&out)
        .into_iter()
        .map(|(_, b)| String::from_utf8_lossy(&b).into_owned())
        .collect::<String>();
    assert!(!text.contains("root:x:0:0"));
}

#[test]
fn verify_lists_every_problem() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("rel");
    let o = quire(
        &["build", "raw", "-o", out.to_str().unwrap(), "-q"],
        &repo(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let shard = fs::read_dir(out.join("data"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();

    // Flip one byte in the middle of the shard and drop an extra file in.
    let mut bytes = fs::read(&shard).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    fs::write(&shard, &bytes).unwrap();
    fs::write(out.join("data/extra.parquet"), b"PAR1").unwrap();
    let v = quire(&["verify", out.to_str().unwrap()], &repo());
    assert_eq!(v.status.code(), Some(1));
    let report = String::from_utf8_lossy(&v.stdout);
    assert!(report.contains("extra.parquet"), "{report}");
    assert!(
        report.contains(shard.file_name().unwrap().to_str().unwrap()),
        "{report}"
    );

    // A deleted shard.
    fs::remove_file(&shard).unwrap();
    let v = quire(&["verify", out.to_str().unwrap()], &repo());
    assert_eq!(v.status.code(), Some(1));
}

#[test]
fn clean_shows_each_block_with_its_reason() {
    let o = quire(&["clean", "raw/001_02746c563ef5bbfc.txt"], &repo());
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("navigation | Home / News"), "{out}");
    assert!(out.contains("comment_prompt | Leave a Reply"), "{out}");
    assert!(out.contains("caption | Toàn cảnh hội nghị."), "{out}");
}

#[test]
fn clean_keeps_the_related_list_at_the_end_out_of_the_body() {
    // The third sample ends in "See more" and headline/teaser pairs, one headline printed
    // twice: long teasers, but none of them is the article.
    let o = quire(
        &["clean", "--json", "raw/003_e36e2714c04eb8a0.txt"],
        &repo(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    let blocks: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let see_more = blocks
        .iter()
        .position(|b| b["text"] == "See more")
        .expect("the sample has a See more list");
    let body_before = blocks[..see_more]
        .iter()
        .filter(|b| b["decision"] == "body")
        .count();
    assert!(body_before >= 10, "{out}");
    for b in &blocks[see_more..] {
        assert_ne!(b["decision"], "body", "{out}");
    }
}

#[test]
fn usage_errors_exit_2_and_missing_input_exits_1() {
    let o = quire(&["build", "--no-such-flag"], &repo());
    assert_eq!(o.status.code(), Some(2));
    let tmp = tempfile::tempdir().unwrap();
    let o = quire(&["build", "does-not-exist", "-o", "x"], tmp.path());
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("does-not-exist"), "{}", stderr(&o));
}
