//! Where a build spends its time: CPU seconds per stage, summed over worker threads,
//! and wall seconds per pass. Reported by `quire build --json` and on the terminal,
//! never written into the release (which must not depend on how fast the machine was).

use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// One stage of the data flow, as timed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Reading, decompressing and splitting input files.
    Read,
    /// Decoding bytes to text and parsing the article head.
    Decode,
    /// Boilerplate decisions (run twice: own evidence, then with corpus statistics).
    Clean,
    /// MinHash sketches, content keys and line keys.
    Sketch,
    /// Writing and reading back the spill file.
    Spill,
    /// Resolving duplicate clusters.
    Dedup,
    /// Corpus line and word statistics (the line keys themselves are made with the
    /// content keys, under `Sketch`).
    Stats,
    /// Glued-word repair.
    Unglue,
    /// Paragraph and document language.
    Lang,
    Tokenize,
    /// Arrow batches, Parquet encoding and compression, shard hashes.
    Write,
}

impl Stage {
    pub const ALL: [Stage; 11] = [
        Stage::Read,
        Stage::Decode,
        Stage::Clean,
        Stage::Sketch,
        Stage::Spill,
        Stage::Dedup,
        Stage::Stats,
        Stage::Unglue,
        Stage::Lang,
        Stage::Tokenize,
        Stage::Write,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Read => "read",
            Stage::Decode => "decode",
            Stage::Clean => "clean",
            Stage::Sketch => "sketch",
            Stage::Spill => "spill",
            Stage::Dedup => "dedup",
            Stage::Stats => "stats",
            Stage::Unglue => "unglue",
            Stage::Lang => "lang",
            Stage::Tokenize => "tokenize",
            Stage::Write => "write",
        }
    }
}

/// CPU time of the calling thread, in nanoseconds.
fn thread_cpu_nanos() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant the
    // kernel knows. On failure the struct stays zero and the stage reads as 0 s.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return 0;
    }
    (ts.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(ts.tv_nsec as u64)
}

/// The last thread CPU clock reading [`Clocks::time`] took on this thread.
#[derive(Clone, Copy)]
struct Reading {
    /// The [`Clocks`] it was taken for (its address, only compared).
    clocks: usize,
    /// When, by the monotonic clock.
    at: Instant,
    cpu: u64,
}

/// A stage that starts within this time of the previous one's end on the same thread
/// starts from that end's reading.
const LAP_GAP: std::time::Duration = std::time::Duration::from_micros(20);

thread_local! {
    static LAST_READING: std::cell::Cell<Option<Reading>> = const { std::cell::Cell::new(None) };
}

/// Stage clocks shared by the worker threads of one build.
#[derive(Debug, Default)]
pub struct Clocks {
    cpu: [AtomicU64; Stage::ALL.len()],
    passes: Mutex<Vec<(String, f64)>>,
}

impl Clocks {
    pub fn new() -> Self {
        Self::default()
    }

    /// Run `f`, charging the calling thread's CPU time to `stage`.
    ///
    /// The thread CPU clock is a system call (no fast path in the vDSO), and an article
    /// passes through a dozen stages: two readings per stage cost ~2% of a build. When
    /// this thread's previous stage ended moments ago (by the cheap monotonic clock), its
    /// closing reading opens this stage, and the few instructions in between are charged
    /// here.
    pub fn time<T>(&self, stage: Stage, f: impl FnOnce() -> T) -> T {
        let me = self as *const Clocks as usize;
        let now = Instant::now();
        let start = LAST_READING
            .get()
            .filter(|r| r.clocks == me && now.saturating_duration_since(r.at) < LAP_GAP)
            .map_or_else(thread_cpu_nanos, |r| r.cpu);
        let out = f();
        let end = thread_cpu_nanos();
        LAST_READING.set(Some(Reading {
            clocks: me,
            at: Instant::now(),
            cpu: end,
        }));
        self.cpu[stage as usize].fetch_add(end.saturating_sub(start), Ordering::Relaxed);
        out
    }

    /// Start timing a pass; [`PassClock::done`] records its wall time and tells what
    /// each stage spent during it.
    pub fn pass(&self, name: &'static str) -> PassClock<'_> {
        PassClock {
            clocks: self,
            name,
            started: Instant::now(),
            cpu_before: Stage::ALL.map(|s| self.cpu_seconds(s)),
        }
    }

    pub fn cpu_seconds(&self, stage: Stage) -> f64 {
        self.cpu[stage as usize].load(Ordering::Relaxed) as f64 / 1e9
    }

    /// A snapshot for reports.
    pub fn report(&self) -> Timings {
        Timings {
            cpu_seconds: Stage::ALL
                .iter()
                .map(|&s| (s.as_str(), self.cpu_seconds(s)))
                .collect(),
            pass_seconds: self.passes.lock().map(|p| p.clone()).unwrap_or_default(),
        }
    }
}

/// A pass being timed.
pub struct PassClock<'a> {
    clocks: &'a Clocks,
    name: &'static str,
    started: Instant,
    cpu_before: [f64; Stage::ALL.len()],
}

/// What one pass took: its wall seconds and the CPU seconds of each stage that ran in
/// it (stages that did not run left out).
#[derive(Debug, Clone)]
pub struct PassTime {
    pub name: &'static str,
    pub wall: f64,
    pub cpu: Vec<(&'static str, f64)>,
}

impl PassClock<'_> {
    /// Record the pass's wall time.
    pub fn done(self) -> PassTime {
        let wall = self.started.elapsed().as_secs_f64();
        if let Ok(mut p) = self.clocks.passes.lock() {
            p.push((self.name.to_string(), wall));
        }
        let cpu = Stage::ALL
            .iter()
            .zip(self.cpu_before)
            .map(|(&s, before)| (s.as_str(), self.clocks.cpu_seconds(s) - before))
            .filter(|(_, d)| *d > 0.0)
            .collect();
        PassTime {
            name: self.name,
            wall,
            cpu,
        }
    }
}

/// CPU seconds per stage and wall seconds per pass of one build.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Timings {
    /// Stage name → CPU seconds summed over threads, in data-flow order.
    #[serde(serialize_with = "ordered")]
    pub cpu_seconds: Vec<(&'static str, f64)>,
    /// Pass name → wall seconds, in the order the passes ran.
    #[serde(serialize_with = "ordered")]
    pub pass_seconds: Vec<(String, f64)>,
}

/// Pairs as a JSON object that keeps their order.
fn ordered<S: serde::Serializer, K: AsRef<str>>(
    pairs: &[(K, f64)],
    s: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = s.serialize_map(Some(pairs.len()))?;
    for (k, v) in pairs {
        // Milliseconds are plenty; fewer digits keep the JSON readable.
        map.serialize_entry(k.as_ref(), &((v * 1000.0).round() / 1000.0))?;
    }
    map.end()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_work_is_charged_to_its_stage_only() {
        let clocks = Clocks::new();
        let n = clocks.time(Stage::Lang, || {
            // Enough arithmetic to take measurable CPU time.
            (0..5_000_000u64).fold(0u64, |a, x| a.wrapping_mul(31).wrapping_add(x))
        });
        assert_ne!(n, 1);
        assert!(clocks.cpu_seconds(Stage::Lang) > 0.0);
        assert_eq!(clocks.cpu_seconds(Stage::Clean), 0.0);
        let pass = clocks.pass("write");
        clocks.time(Stage::Tokenize, || (0..1_000_000u64).sum::<u64>());
        let t = pass.done();
        assert_eq!(t.name, "write");
        assert!(t.wall >= 0.0);
        // Only what ran during the pass is charged to it.
        assert_eq!(t.cpu.len(), 1);
        assert_eq!(t.cpu[0].0, "tokenize");
        let report = clocks.report();
        assert_eq!(report.pass_seconds.len(), 1);
        assert_eq!(report.pass_seconds[0].0, "write");
        let json = serde_json::to_value(&report).unwrap_or_default();
        let keys: Vec<&String> = json["cpu_seconds"]
            .as_object()
            .map(|o| o.keys().collect())
            .unwrap_or_default();
        assert_eq!(keys.len(), Stage::ALL.len());
        assert!(json["cpu_seconds"]["lang"].as_f64().unwrap_or(0.0) > 0.0);
    }
}
