//! Where a build spends its time: CPU seconds per stage, summed over worker threads,
//! and wall seconds per pass. Reported by `quire build --json` and on the terminal,
//! never written into the release (which must not depend on how fast the machine was).

use serde::Serialize;
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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

/// Stage CPU nanoseconds of one build, shared by its threads (and held by each thread's
/// [`Local`] until that thread settles into it).
type Totals = [AtomicU64; Stage::ALL.len()];

/// How often, at most, a thread reads its CPU clock while stages run back to back.
///
/// The thread CPU clock is a system call (no fast path in the vDSO, ~0.6 µs here), and an
/// article passes through a dozen stages: reading it around every stage cost ~3% of a
/// build. Stages are measured by the cheap monotonic clock instead, and each window's
/// CPU time is shared among the stages that ran in it, in proportion to their wall time:
/// a thread that was descheduled inside a stage is not charged for the wait.
const WINDOW: Duration = Duration::from_millis(2);

/// One thread's stage times since its last CPU clock reading.
struct Local {
    /// The build they belong to.
    totals: Option<Arc<Totals>>,
    /// The last reading: the thread's CPU nanoseconds, and when it was taken.
    cpu: u64,
    at: Instant,
    /// Wall nanoseconds per stage since that reading.
    pending: [u64; Stage::ALL.len()],
    /// The innermost stage running on this thread, and since when it runs uninterrupted.
    open: Option<(Stage, Instant)>,
}

impl Local {
    /// Add the wall time from `since` to `until` to `stage`.
    fn charge(&mut self, stage: Stage, since: Instant, until: Instant) {
        let ns = until.saturating_duration_since(since).as_nanos();
        let slot = &mut self.pending[stage as usize];
        *slot = slot.saturating_add(u64::try_from(ns).unwrap_or(u64::MAX));
    }

    /// [`settle`](Local::settle) once a window has passed since the last reading.
    fn settle_if_due(&mut self, now: Instant) {
        if now.saturating_duration_since(self.at) >= WINDOW {
            self.settle(now);
        }
    }

    /// Read the CPU clock and share what it advanced since the last reading among the
    /// pending stages: each gets its wall time, scaled down when the thread had less CPU
    /// time than that (the excess is time off the CPU). CPU time spent outside any
    /// stage (scheduling between stages, waiting spins) is not charged.
    fn settle(&mut self, now: Instant) {
        let cpu = thread_cpu_nanos();
        let used = cpu.saturating_sub(self.cpu);
        self.cpu = cpu;
        self.at = now;
        let pending = std::mem::take(&mut self.pending);
        let Some(totals) = &self.totals else {
            return;
        };
        let wall: u64 = pending.iter().sum();
        for (total, &ns) in totals.iter().zip(&pending) {
            if ns > 0 {
                let charged = if used >= wall {
                    ns
                } else {
                    (u128::from(ns) * u128::from(used) / u128::from(wall)) as u64
                };
                total.fetch_add(charged, Ordering::Relaxed);
            }
        }
    }

    /// Whether this thread's pending times are `totals`' build's.
    fn serves(&self, totals: &Arc<Totals>) -> bool {
        self.totals.as_ref().is_some_and(|t| Arc::ptr_eq(t, totals))
    }

    /// Make `totals` this thread's build, settling what another build left pending.
    fn belong_to(&mut self, totals: &Arc<Totals>, now: Instant) {
        if !self.serves(totals) {
            self.settle(now);
            self.totals = Some(Arc::clone(totals));
        }
    }
}

/// A stage [`Clocks::time`] runs; dropped when it ends.
struct OpenStage<'a> {
    totals: &'a Arc<Totals>,
    /// The stage it runs inside, resumed when it ends.
    outer: Option<Stage>,
}

impl Drop for OpenStage<'_> {
    fn drop(&mut self) {
        let end = Instant::now();
        LOCAL.with_borrow_mut(|l| {
            l.belong_to(self.totals, end);
            if let Some((stage, since)) = l.open.take() {
                l.charge(stage, since, end);
            }
            l.open = self.outer.map(|o| (o, end));
            l.settle_if_due(end);
        });
    }
}

thread_local! {
    static LOCAL: RefCell<Local> = RefCell::new(Local {
        totals: None,
        cpu: thread_cpu_nanos(),
        at: Instant::now(),
        pending: [0; Stage::ALL.len()],
        open: None,
    });
}

/// Stage clocks shared by the worker threads of one build.
#[derive(Debug, Default)]
pub struct Clocks {
    cpu: Arc<Totals>,
    passes: Mutex<Vec<(String, f64)>>,
}

impl Clocks {
    pub fn new() -> Self {
        Self::default()
    }

    /// Run `f`, charging the calling thread's CPU time to `stage` (see [`WINDOW`]). A stage
    /// started inside `f` pauses this one: time is charged to the innermost stage only.
    pub fn time<T>(&self, stage: Stage, f: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let outer = LOCAL.with_borrow_mut(|l| {
            l.belong_to(&self.cpu, start);
            // A stage that starts inside another pauses it: a thread that waits inside a
            // parallel loop (the Parquet encoder's columns, a batch's articles) runs
            // other queued work meanwhile, other articles' stages among it. Each stretch
            // of time is charged to the innermost stage only, never to both.
            let outer = l.open.replace((stage, start));
            if let Some((o, since)) = outer {
                l.charge(o, since, start);
            }
            // After a pause, start a fresh window: the pause is no stage's.
            l.settle_if_due(start);
            outer.map(|(o, _)| o)
        });
        // Closed by its drop, so a stage that unwinds still gives the thread back to the
        // stage it ran inside.
        let _open = OpenStage {
            totals: &self.cpu,
            outer,
        };
        f()
    }

    /// Settle the calling thread's pending stage times, so the totals include them. Other
    /// threads settle their own within [`WINDOW`] of running a stage; what a thread has
    /// pending when it stops timing (at most a window) counts towards the next pass it
    /// times in, or is lost.
    fn settle_here(&self) {
        LOCAL.with_borrow_mut(|l| {
            if l.serves(&self.cpu) {
                l.settle(Instant::now());
            }
        });
    }

    /// Start timing a pass; [`PassClock::done`] records its wall time and tells what
    /// each stage spent during it.
    pub fn pass(&self, name: &'static str) -> PassClock<'_> {
        self.settle_here();
        PassClock {
            clocks: self,
            name,
            started: Instant::now(),
            cpu_before: Stage::ALL.map(|s| self.settled_seconds(s)),
        }
    }

    pub fn cpu_seconds(&self, stage: Stage) -> f64 {
        self.settle_here();
        self.settled_seconds(stage)
    }

    fn settled_seconds(&self, stage: Stage) -> f64 {
        self.cpu[stage as usize].load(Ordering::Relaxed) as f64 / 1e9
    }

    /// A snapshot for reports.
    pub fn report(&self) -> Timings {
        self.settle_here();
        Timings {
            cpu_seconds: Stage::ALL
                .iter()
                .map(|&s| (s.as_str(), self.settled_seconds(s)))
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
        self.clocks.settle_here();
        let cpu = Stage::ALL
            .iter()
            .zip(self.cpu_before)
            .map(|(&s, before)| (s.as_str(), self.clocks.settled_seconds(s) - before))
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

    /// Arithmetic for about `n` nanoseconds of CPU time (n / 1.5 loop steps).
    fn spin(n: u64) -> u64 {
        (0..n / 2 + 1).fold(0u64, |a, x| {
            std::hint::black_box(a.wrapping_mul(31).wrapping_add(x))
        })
    }

    #[test]
    fn waiting_inside_a_stage_is_not_cpu_time() {
        let clocks = Clocks::new();
        clocks.time(Stage::Read, || {
            std::thread::sleep(Duration::from_millis(40))
        });
        clocks.time(Stage::Decode, || spin(200_000));
        // Charged CPU time cannot exceed what the thread used: a few milliseconds.
        assert!(clocks.cpu_seconds(Stage::Read) < 0.010);
        assert!(clocks.cpu_seconds(Stage::Decode) > 0.0);
    }

    #[test]
    fn short_stages_share_the_threads_cpu_time_by_their_length() {
        // A window's CPU time is shared by the stages' wall time, so a thread descheduled
        // inside one stage tilts the split towards it: on a loaded machine (tests run in
        // parallel) one round can land outside the range. Sharing that is wrong lands
        // outside it every round.
        let mut ratios = Vec::new();
        for _ in 0..5 {
            let clocks = Clocks::new();
            let before = thread_cpu_nanos();
            let mut sink = 0u64;
            // Thousands of stages far shorter than a window, the one three times the other.
            for _ in 0..3_000 {
                sink ^= clocks.time(Stage::Lang, || spin(30_000));
                sink ^= clocks.time(Stage::Clean, || spin(10_000));
            }
            let lang = clocks.cpu_seconds(Stage::Lang);
            let clean = clocks.cpu_seconds(Stage::Clean);
            let used = (thread_cpu_nanos() - before) as f64 / 1e9;
            assert_ne!(sink, 1);
            // Nothing is charged twice, and nearly all of the thread's time is charged.
            assert!(lang + clean <= used * 1.001, "{lang} + {clean} > {used}");
            assert!(lang + clean >= used * 0.7, "{lang} + {clean} << {used}");
            ratios.push(lang / clean);
            if (2.0..4.5).contains(&(lang / clean)) {
                return;
            }
        }
        panic!("lang/clean outside 2.0..4.5 in every round: {ratios:?}");
    }

    #[test]
    fn a_stage_inside_another_is_charged_to_itself_only() {
        // What a thread waiting inside a parallel loop may do: other articles' stages
        // run inside the write stage. Charged to both, the write stage got the larger
        // share (a ratio of ~0.7); charged to the innermost, a third of the language
        // stage's. Rounds as in the test above, for a loaded machine.
        let mut ratios = Vec::new();
        for _ in 0..5 {
            let clocks = Clocks::new();
            let mut sink = 0u64;
            for _ in 0..2_000 {
                sink ^= clocks.time(Stage::Write, || {
                    spin(10_000) ^ clocks.time(Stage::Lang, || spin(30_000))
                });
            }
            assert_ne!(sink, 1);
            let ratio = clocks.cpu_seconds(Stage::Lang) / clocks.cpu_seconds(Stage::Write);
            ratios.push(ratio);
            if (2.0..4.5).contains(&ratio) {
                return;
            }
        }
        panic!("lang/write outside 2.0..4.5 in every round: {ratios:?}");
    }

    #[test]
    fn a_stage_that_unwinds_gives_the_thread_back() {
        let clocks = Clocks::new();
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            clocks.time(Stage::Write, || {
                let inner = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    clocks.time(Stage::Lang, || panic!("an article's stage failed"))
                }));
                assert!(inner.is_err());
                // The write stage runs again, and is the thread's open stage.
                assert!(LOCAL.with_borrow(|l| matches!(l.open, Some((Stage::Write, _)))));
                spin(20_000)
            })
        }));
        assert!(caught.is_ok());
        assert!(LOCAL.with_borrow(|l| l.open.is_none()));
        assert!(clocks.cpu_seconds(Stage::Write) > 0.0);
    }

    #[test]
    fn two_builds_on_one_thread_keep_their_own_times() {
        let (a, b) = (Clocks::new(), Clocks::new());
        for _ in 0..200 {
            a.time(Stage::Sketch, || spin(20_000));
            b.time(Stage::Write, || spin(20_000));
        }
        assert!(a.cpu_seconds(Stage::Sketch) > 0.0);
        assert_eq!(a.cpu_seconds(Stage::Write), 0.0);
        assert!(b.cpu_seconds(Stage::Write) > 0.0);
        assert_eq!(b.cpu_seconds(Stage::Sketch), 0.0);
    }

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
