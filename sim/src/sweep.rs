//! The one runner of seeds: many seeds of one or more jobs, in parallel, under one
//! [`Exploration`]; `wsasim::check` and the `wsasim` command both sweep with it, so
//! strategies, schedules and swarm settings exist once.
//!
//! Seeds run keeping nothing of their traces. A seed that fails is run again keeping its
//! trace's hash, which also checks that it fails the same way twice; so is one passing
//! seed in [`DOUBLE_RUN`], twice, so that a program that is not deterministic is caught
//! even when nothing fails. The smallest failing seed of each job is then run once more
//! with its trace and schedule kept, and must give the same hash.

use crate::shrink::{Budget, Minimised, minimise};
use crate::sim::Replay;
use crate::{Failure, Outcome, Sim, Strategy, Swarm, SwarmSettings, TraceKept};
use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::thread::Thread;
use std::time::{Duration, Instant};

/// How a sweep's seeds decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exploration {
    pub strategy: Strategy,
    /// Draw each seed's configuration within these bounds.
    pub swarm: Option<Swarm>,
    /// The run length strategies draw their points over; 0 until measured (see
    /// [`Exploration::needs_run_length`]).
    pub run_length: u64,
}

impl Default for Exploration {
    fn default() -> Exploration {
        Exploration { strategy: Strategy::RandomWalk, swarm: None, run_length: 0 }
    }
}

impl Exploration {
    /// Sets a run's strategy, swarm bounds and run length.
    pub fn apply(&self, sim: &mut Sim) {
        sim.strategy(self.strategy).swarm(self.swarm).run_length(self.run_length);
    }

    /// Whether a strategy (given or drawn) will draw points over a run length still to be
    /// measured.
    pub fn needs_run_length(&self) -> bool {
        self.run_length == 0 && (self.strategy.needs_steps() || self.swarm.is_some())
    }
}

/// How the runner asks for one seed to be run.
#[derive(Debug, Clone)]
pub struct RunAs {
    pub seed: u64,
    /// What to keep of the trace: the records and schedule for the run that confirms a
    /// failure.
    pub kept: TraceKept,
    /// With its run length measured.
    pub exploration: Exploration,
    /// Replay this instead of deciding (minimising a failure).
    pub replay: Option<Replay>,
}

impl RunAs {
    /// Seed `seed` under `exploration`, deciding as it says.
    pub fn seed(seed: u64, kept: TraceKept, exploration: Exploration) -> RunAs {
        RunAs { seed, kept, exploration, replay: None }
    }

    /// Sets a run up as asked: exploration, trace, replay.
    pub fn apply(&self, sim: &mut Sim) {
        self.exploration.apply(sim);
        sim.trace_kept(self.kept);
        if let Some(replay) = &self.replay {
            sim.replay(replay.clone());
        }
    }
}

/// What one seed gave.
#[derive(Debug, Clone)]
pub struct SeedResult {
    pub seed: u64,
    /// Scheduling steps of a run that passed.
    pub steps: Option<u64>,
    pub virtual_time: Duration,
    /// The trace's hash, for the seeds run keeping it: the failing ones and the passing
    /// ones run twice.
    pub trace_hash: Option<u64>,
    /// Why it failed (the failure's kind and message), if it did.
    pub failure: Option<String>,
    /// A second run of the seed differed from the first: the program is not deterministic,
    /// and the seed counts as failing, `failure` saying how.
    pub differs: bool,
    /// What a failing seed drew, under swarm settings.
    pub swarm: Option<SwarmSettings>,
}

/// What the smallest failing seed gave when run again with its trace kept.
#[derive(Debug)]
pub enum Confirmed {
    /// The same failure, with the same trace hash: its trace and schedule are kept.
    Same(Box<Failure>),
    /// Two runs of the seed differed (`why` says how, naming the seed): the program is not
    /// deterministic.
    Differs { why: String },
}

/// What the seeds of one job gave. Only failing seeds are kept: the others reach the
/// runner's `each` and go, so a sweep of a billion seeds holds no more than its failures.
#[derive(Debug)]
pub struct JobResult {
    /// Seeds that ran.
    pub seeds_run: u64,
    /// The failing ones, by seed.
    pub failures: Vec<SeedResult>,
    /// Host time spent on its seeds, over all workers.
    pub wall: Duration,
    /// The exploration its seeds ran under, run length measured.
    pub exploration: Exploration,
    /// Its smallest failing seed, run again.
    pub confirmed: Option<Confirmed>,
    /// That failure minimised, when the runner minimises.
    pub minimised: Option<Minimised>,
}

/// The seeds of a job, in the order they run, without being listed when they are a range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seeds {
    /// These seeds.
    List(Vec<u64>),
    /// The seeds of `range` whose position in it is `first` modulo `every`: all of them
    /// for `every` 1, one shard of `every` for each `first` below it.
    Range { range: Range<u64>, every: u64, first: u64 },
}

impl Seeds {
    pub fn len(&self) -> u64 {
        match self {
            Seeds::List(list) => list.len() as u64,
            Seeds::Range { range, every, first } => {
                let n = range.end.saturating_sub(range.start);
                if n <= *first { 0 } else { (n - first - 1) / every + 1 }
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `i`th seed, `i` below [`Seeds::len`].
    pub fn nth(&self, i: u64) -> u64 {
        match self {
            Seeds::List(list) => list[i as usize],
            Seeds::Range { range, every, first } => range.start + first + i * every,
        }
    }
}

/// Seeds to run under one exploration.
#[derive(Debug, Clone)]
pub struct Job {
    pub seeds: Seeds,
    pub exploration: Exploration,
}

/// How long one seed may run in host time before the sweep gives up on it. A program that
/// loops without a Win32 call never reaches a scheduling point, so no step or time limit
/// stops it, and its OS thread cannot be stopped either: the watchdog names the seed and
/// how to replay it (the seed spins again, at the same place, under a debugger), then
/// ends the process with exit code 1.
#[derive(Clone, Copy)]
pub struct Watchdog<'a> {
    pub after: Duration,
    /// The command that replays seed `seed` of job `j`.
    pub replay: &'a (dyn Fn(usize, u64) -> String + Sync),
}

impl std::fmt::Debug for Watchdog<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watchdog").field("after", &self.after).finish_non_exhaustive()
    }
}

/// The environment variable that sets the watchdog, in seconds (0: none).
pub const WATCHDOG_VAR: &str = "WSASIM_WATCHDOG_SECS";

/// The watchdog's time: [`WATCHDOG_VAR`], or 600 s; `None` for 0.
pub fn watchdog_after() -> Option<Duration> {
    let secs = std::env::var(WATCHDOG_VAR).ok().and_then(|v| v.trim().parse().ok()).unwrap_or(600);
    (secs > 0).then(|| Duration::from_secs(secs))
}

/// Runs seeds on OS threads.
#[derive(Debug, Clone, Copy)]
pub struct Runner<'a> {
    pub workers: usize,
    /// Once a job has failed, skip its larger seeds (for `wsasim::check`, which reports
    /// the smallest), instead of running all of them (the command's reports count every
    /// failing seed).
    pub stop_at_failure: bool,
    /// Minimise each job's confirmed failure within this budget (`None`: do not).
    pub shrink: Option<Budget>,
    /// Once this is set (by an interrupt), start no more seeds and minimise nothing: the
    /// results hold the seeds that finished.
    pub stop: Option<&'static AtomicBool>,
    /// Gives up on a seed that runs too long (see [`Watchdog`]).
    pub watchdog: Option<Watchdog<'a>>,
}

/// How far past the oldest unfinished seed a worker may start one: so many finished seeds
/// at most wait for a slow one, however long it takes.
const AHEAD_MAX: u64 = 1 << 16;

/// Finished seeds, handed on in the order of the sweep (job by job, seed by seed) whatever
/// order the workers finish them in: those that finish early wait here for the ones before.
struct InOrder {
    next: u64,
    /// Finished seeds past `next`: the job and result of each, `None` for one skipped.
    waiting: BTreeMap<u64, Option<(usize, SeedResult)>>,
}

/// A worker leaving, however it leaves (a panic in the program's setup too): the watchdog
/// stops watching it, the caller stops waiting for it, and after a panic no worker waits
/// for the seed it held.
struct Leaving<'a> {
    slot: &'a Mutex<Option<(usize, u64, Instant)>>,
    active: &'a AtomicUsize,
    caller: &'a Thread,
    abandoned: &'a AtomicBool,
    in_order: &'a Mutex<InOrder>,
    caught_up: &'a Condvar,
}

impl Drop for Leaving<'_> {
    fn drop(&mut self) {
        *self.slot.lock().unwrap_or_else(|e| e.into_inner()) = None;
        if std::thread::panicking() {
            // Under the lock the waiters test it under, so none misses it.
            let _o = self.in_order.lock().unwrap_or_else(|e| e.into_inner());
            self.abandoned.store(true, Ordering::Relaxed);
            self.caught_up.notify_all();
        }
        self.active.fetch_sub(1, Ordering::Relaxed);
        self.caller.unpark();
    }
}

impl Runner<'_> {
    /// Runs the seeds of each job `j` with `run(j, as)`, handing each seed's result to
    /// `each(j, result)` in job order, then seed order.
    pub fn run(
        &self,
        jobs: &[Job],
        run: &(dyn Fn(usize, RunAs) -> Result<Outcome, Failure> + Sync),
        each: &(dyn Fn(usize, &SeedResult) + Sync),
    ) -> Vec<JobResult> {
        let explorations: Vec<Exploration> =
            jobs.iter().enumerate().map(|(j, job)| measure(job.exploration, &|r| run(j, r))).collect();
        // Where each job's seeds start in the sweep's order.
        let starts: Vec<u64> = jobs
            .iter()
            .scan(0, |at, job| {
                let start = *at;
                *at += job.seeds.len();
                Some(start)
            })
            .collect();
        let total: u64 = jobs.iter().map(|job| job.seeds.len()).sum();
        let locate = |index: u64| {
            let j = starts.partition_point(|start| *start <= index) - 1;
            (j, jobs[j].seeds.nth(index - starts[j]))
        };
        let results: Vec<Mutex<JobResult>> = explorations
            .iter()
            .map(|e| {
                Mutex::new(JobResult {
                    seeds_run: 0,
                    failures: Vec::new(),
                    wall: Duration::ZERO,
                    exploration: *e,
                    confirmed: None,
                    minimised: None,
                })
            })
            .collect();
        let hand_on = |j: usize, result: SeedResult| {
            let mut r = results[j].lock().expect("no worker panics holding it");
            r.seeds_run += 1;
            each(j, &result);
            if result.failure.is_some() {
                r.failures.push(result);
            }
        };
        let in_order = Mutex::new(InOrder { next: 0, waiting: BTreeMap::new() });
        let caught_up = Condvar::new();
        // A worker panicked (in the program's setup, say): the seed it held never finishes.
        let abandoned = AtomicBool::new(false);
        let finished = |index: u64, done: Option<(usize, SeedResult)>| {
            let mut o = in_order.lock().expect("no worker panics holding it");
            o.waiting.insert(index, done);
            while let Some(done) = {
                let next = o.next;
                o.waiting.remove(&next)
            } {
                o.next += 1;
                if let Some((j, result)) = done {
                    hand_on(j, result);
                }
            }
            caught_up.notify_all();
        };
        // Waits until `index` is within AHEAD_MAX of the oldest unfinished seed.
        let wait_for_room = |index: u64| {
            let mut o = in_order.lock().expect("no worker panics holding it");
            while index >= o.next + AHEAD_MAX && !abandoned.load(Ordering::Relaxed) {
                o = caught_up.wait(o).expect("no worker panics holding it");
            }
        };
        // The smallest failing seed of each job so far, for `stop_at_failure`.
        let failed: Vec<Mutex<Option<u64>>> = jobs.iter().map(|_| Mutex::new(None)).collect();
        let stopped = || self.stop.is_some_and(|s| s.load(Ordering::Relaxed));
        let next = AtomicU64::new(0);
        let workers = (self.workers as u64).clamp(1, total.max(1)) as usize;
        // What each worker runs, since when: for the watchdog.
        let running: Vec<Mutex<Option<(usize, u64, Instant)>>> =
            (0..workers).map(|_| Mutex::new(None)).collect();
        let (ids, active, caller) = (AtomicUsize::new(0), AtomicUsize::new(workers), std::thread::current());
        let panicked = std::thread::scope(|s| {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    s.spawn(|| {
                        let slot = &running[ids.fetch_add(1, Ordering::Relaxed)];
                        let _leaving = Leaving {
                            slot,
                            active: &active,
                            caller: &caller,
                            abandoned: &abandoned,
                            in_order: &in_order,
                            caught_up: &caught_up,
                        };
                        loop {
                            let index = next.fetch_add(1, Ordering::Relaxed);
                            if index >= total || stopped() {
                                break;
                            }
                            wait_for_room(index);
                            let (j, seed) = locate(index);
                            let beaten = |f: &Option<u64>| f.is_some_and(|best| best < seed);
                            if self.stop_at_failure
                                && beaten(&failed[j].lock().expect("no worker panics holding it"))
                            {
                                finished(index, None);
                                continue;
                            }
                            let started = Instant::now();
                            *slot.lock().expect("no worker panics holding it") = Some((j, seed, started));
                            let result =
                                run_seed(seed, &|kept| run(j, RunAs::seed(seed, kept, explorations[j])));
                            *slot.lock().expect("no worker panics holding it") = None;
                            if result.failure.is_some() {
                                let mut f = failed[j].lock().expect("no worker panics holding it");
                                if !beaten(&f) {
                                    *f = Some(seed);
                                }
                            }
                            results[j].lock().expect("no worker panics holding it").wall += started.elapsed();
                            finished(index, Some((j, result)));
                        }
                    })
                })
                .collect();
            while active.load(Ordering::Relaxed) > 0 {
                let Some(dog) = self.watchdog else { break };
                std::thread::park_timeout(dog.after.min(Duration::from_millis(500)));
                for slot in &running {
                    if let Some((j, seed, since)) = *slot.lock().unwrap_or_else(|e| e.into_inner()) {
                        if since.elapsed() > dog.after {
                            eprintln!(
                                "wsasim: seed {seed} has run for {} s of host time without ending ({WATCHDOG_VAR}): a loop that makes no Win32 call never reaches a scheduling point, so no step or time limit can stop it. The seed spins again, at the same place: {}",
                                since.elapsed().as_secs(),
                                (dog.replay)(j, seed)
                            );
                            std::process::exit(1);
                        }
                    }
                }
            }
            // A worker's panic (the program's setup's, say) is the sweep's, as it was raised.
            let ends: Vec<_> = handles.into_iter().map(|h| h.join()).collect();
            ends.into_iter().find_map(Result::err)
        });
        if let Some(payload) = panicked {
            std::panic::resume_unwind(payload);
        }
        // Stopped by an interrupt, seeds that finished after one that never started.
        let left = std::mem::take(&mut in_order.into_inner().expect("no worker panicked").waiting);
        for (j, result) in left.into_values().flatten() {
            hand_on(j, result);
        }
        let mut results: Vec<JobResult> =
            results.into_iter().map(|r| r.into_inner().expect("no worker panicked")).collect();
        for (j, r) in results.iter_mut().enumerate() {
            // A listed job's seeds may come in any order.
            r.failures.sort_by_key(|f| f.seed);
            if self.stop_at_failure {
                // Seeds above the smallest failure may have run before it was found.
                r.failures.truncate(1);
            }
            let confirmed = r.failures.first().map(|f| confirm(j, f, r.exploration, run));
            let shrink = self.shrink.filter(|_| !stopped());
            if let (Some(Confirmed::Same(failure)), Some(budget)) = (&confirmed, shrink) {
                let (seed, exploration) = (failure.seed(), r.exploration);
                let replay = |replay| {
                    run(
                        j,
                        RunAs { replay: Some(replay), ..RunAs::seed(seed, TraceKept::Records, exploration) },
                    )
                };
                r.minimised = minimise(failure, budget, &replay);
            }
            r.confirmed = confirmed;
        }
        results
    }
}

/// `exploration` with its run length measured, when it needs one, as the decisions of
/// which party runs in seed 0 under the random walk: the estimate of a program's run
/// length (PCT's k; Burckhardt et al. take it as known), the same whichever seeds a
/// sweep, a shard or a replay runs.
pub fn measure(exploration: Exploration, run: &dyn Fn(RunAs) -> Result<Outcome, Failure>) -> Exploration {
    if !exploration.needs_run_length() {
        return exploration;
    }
    let length = match run(RunAs::seed(0, TraceKept::Nothing, Exploration::default())) {
        Ok(o) => o.party_decisions(),
        Err(f) => f.party_decisions(),
    };
    Exploration { run_length: length.max(1), ..exploration }
}

/// One seed in this many, drawn by its number, is run twice keeping its hash, and must give
/// the same trace both times.
pub const DOUBLE_RUN: u64 = 32;

/// Whether `seed` is one of those run twice: its number hashed (Fibonacci hashing, the
/// top five bits of the product), so that any range of seeds, and any shard of one, has
/// its share of them.
pub fn runs_twice(seed: u64) -> bool {
    const _: () = assert!(DOUBLE_RUN == 1 << 5);
    seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 59 == 0
}

/// Runs one seed keeping nothing, or its hash when it [`runs_twice`]. A seed that fails, or
/// runs twice, runs again keeping its hash: the second run must fail the same way (and
/// give the same hash, when both kept one) or pass with the same hash. A failing seed
/// therefore costs two runs.
fn run_seed(seed: u64, run: &dyn Fn(TraceKept) -> Result<Outcome, Failure>) -> SeedResult {
    let twice = runs_twice(seed);
    let first = run(if twice { TraceKept::Hash } else { TraceKept::Nothing });
    if first.is_ok() && !twice {
        return seed_result(seed, first, false);
    }
    let again = run(TraceKept::Hash);
    let hashes = |a: u64, b: u64| format!("two different traces (hash {a:016x}, then {b:016x})");
    let differs = match (&first, &again) {
        (Ok(a), Ok(b)) => (a.trace_hash() != b.trace_hash())
            .then(|| format!("seed {seed} passed twice with {}", hashes(a.trace_hash(), b.trace_hash()))),
        (Err(a), Err(b)) if a.kind() != b.kind() => {
            Some(format!("seed {seed} failed ({}), then failed another way ({})", a.kind(), b.kind()))
        }
        (Err(a), Err(b)) => (twice && a.trace_hash() != b.trace_hash())
            .then(|| format!("seed {seed} failed twice with {}", hashes(a.trace_hash(), b.trace_hash()))),
        (Err(a), Ok(_)) => Some(format!("seed {seed} failed ({}), then passed when run again", a.kind())),
        (Ok(_), Err(b)) => Some(format!("seed {seed} passed, then failed when run again ({})", b.kind())),
    };
    let mut result = seed_result(seed, again, true);
    if let Some(why) = differs {
        (result.failure, result.differs) = (Some(format!("not deterministic: {why}")), true);
    }
    result
}

/// What a run of `seed` gave; its trace hash if it was `hashed`.
fn seed_result(seed: u64, result: Result<Outcome, Failure>, hashed: bool) -> SeedResult {
    match result {
        Ok(o) => SeedResult {
            seed,
            steps: Some(o.steps()),
            virtual_time: o.elapsed(),
            trace_hash: hashed.then(|| o.trace_hash()),
            failure: None,
            differs: false,
            swarm: None,
        },
        Err(f) => SeedResult {
            seed,
            steps: None,
            virtual_time: f.elapsed(),
            trace_hash: hashed.then(|| f.trace_hash()),
            failure: Some(f.kind().to_string()),
            differs: false,
            swarm: f.swarm(),
        },
    }
}

fn confirm(
    j: usize,
    failed: &SeedResult,
    exploration: Exploration,
    run: &(dyn Fn(usize, RunAs) -> Result<Outcome, Failure> + Sync),
) -> Confirmed {
    let (seed, failed_as) = (failed.seed, failed.failure.as_deref().unwrap_or_default());
    let kept = |r: Result<Outcome, Failure>| match r {
        Ok(o) => o.trace_text(),
        Err(f) => f.trace_text(),
    };
    let why = if failed.differs {
        failed_as.to_owned()
    } else {
        let again = run(j, RunAs::seed(seed, TraceKept::Records, exploration));
        let why = match &again {
            Err(f) if Some(f.trace_hash()) == failed.trace_hash => {
                return Confirmed::Same(Box::new(again.expect_err("matched")));
            }
            Err(f) => format!("seed {seed} failed ({failed_as}), then gave another trace ({})", f.kind()),
            Ok(_) => format!("seed {seed} failed ({failed_as}), then passed"),
        };
        format!("not deterministic: {why} when run again keeping its trace")
    };
    let first = kept(run(j, RunAs::seed(seed, TraceKept::Records, exploration)));
    let second = kept(run(j, RunAs::seed(seed, TraceKept::Records, exploration)));
    Confirmed::Differs {
        why: format!("{why}\n{}\n{}", NONDETERMINISM_CAUSES, first_difference(&first, &second)),
    }
}

/// What makes a program give two runs of one seed that differ, said with every such report.
const NONDETERMINISM_CAUSES: &str = "  the usual cause is state outside the simulation, which a seed does not decide: a \
     `static` or a thread-local kept from run to run (seeds run one after another on each OS thread, and \
     in parallel on others), the host's clock or randomness, or a `std::thread` in place of \
     `wsasim::thread`";

/// Where two kept traces of one seed part, to start the search for what the program read.
fn first_difference(a: &str, b: &str) -> String {
    let (mut la, mut lb) = (a.lines(), b.lines());
    for line in 1.. {
        match (la.next(), lb.next()) {
            (Some(x), Some(y)) if x == y => continue,
            (None, None) => break,
            (x, y) => {
                let show = |l: Option<&str>| l.unwrap_or("(the trace ends)").to_owned();
                return format!(
                    "  two more runs kept their traces; they part at line {line}:\n    first:  {}\n    second: {}",
                    show(x),
                    show(y)
                );
            }
        }
    }
    "  two more runs kept their traces and agreed: the difference did not show again".to_owned()
}
