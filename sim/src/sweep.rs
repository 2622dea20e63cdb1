//! The one runner of seeds: many seeds of one or more jobs, in parallel, under one
//! [`Exploration`]; `wsasim::check` and the `wsasim` command both sweep with it, so
//! strategies, schedules and swarm settings exist once.
//!
//! Seeds run without keeping their traces. The smallest failing seed of each job is then
//! run again with its trace and schedule kept, which also checks that the program fails
//! the same way twice.

use crate::shrink::{Budget, Minimised, minimise};
use crate::sim::Replay;
use crate::{Failure, Outcome, Sim, Strategy, Swarm, SwarmSettings};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
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
    /// Keep the trace and the schedule (the run that confirms a failure).
    pub keep_trace: bool,
    /// With its run length measured.
    pub exploration: Exploration,
    /// Replay this instead of deciding (minimising a failure).
    pub replay: Option<Replay>,
}

impl RunAs {
    /// Seed `seed` under `exploration`, deciding as it says.
    pub fn seed(seed: u64, keep_trace: bool, exploration: Exploration) -> RunAs {
        RunAs { seed, keep_trace, exploration, replay: None }
    }

    /// Sets a run up as asked: exploration, trace, replay.
    pub fn apply(&self, sim: &mut Sim) {
        self.exploration.apply(sim);
        sim.keep_trace(self.keep_trace);
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
    pub trace_hash: u64,
    /// Why it failed (the failure's kind and message), if it did.
    pub failure: Option<String>,
    /// What a failing seed drew, under swarm settings.
    pub swarm: Option<SwarmSettings>,
}

/// What the smallest failing seed gave when run again with its trace kept.
#[derive(Debug)]
pub enum Confirmed {
    /// The same failure, with the same trace hash: its trace and schedule are kept.
    Same(Box<Failure>),
    /// It passed, or failed another way: the program is not deterministic.
    Differs { seed: u64, again: String },
}

/// What the seeds of one job gave, in seed order.
#[derive(Debug)]
pub struct JobResult {
    pub seeds: Vec<SeedResult>,
    /// Host time spent on its seeds, over all workers.
    pub wall: Duration,
    /// The exploration its seeds ran under, run length measured.
    pub exploration: Exploration,
    /// Its smallest failing seed, run again.
    pub confirmed: Option<Confirmed>,
    /// That failure minimised, when the runner minimises.
    pub minimised: Option<Minimised>,
}

impl JobResult {
    pub fn failures(&self) -> impl Iterator<Item = &SeedResult> {
        self.seeds.iter().filter(|s| s.failure.is_some())
    }
}

/// Seeds to run under one exploration.
#[derive(Debug, Clone)]
pub struct Job {
    pub seeds: Vec<u64>,
    pub exploration: Exploration,
}

/// Runs seeds on OS threads.
#[derive(Debug, Clone, Copy)]
pub struct Runner {
    pub workers: usize,
    /// Once a job has failed, skip its larger seeds (for `wsasim::check`, which reports
    /// the smallest), instead of running all of them (the command's reports count every
    /// failing seed).
    pub stop_at_failure: bool,
    /// Minimise each job's confirmed failure within this budget (`None`: do not).
    pub shrink: Option<Budget>,
}

impl Runner {
    /// Runs the seeds of each job `j` with `run(j, as)`, calling `tick` after each seed.
    pub fn run(
        &self,
        jobs: &[Job],
        run: &(dyn Fn(usize, RunAs) -> Result<Outcome, Failure> + Sync),
        tick: &(dyn Fn() + Sync),
    ) -> Vec<JobResult> {
        let explorations: Vec<Exploration> =
            jobs.iter().enumerate().map(|(j, job)| measure(job.exploration, &|r| run(j, r))).collect();
        let work: Vec<(usize, u64)> = jobs
            .iter()
            .enumerate()
            .flat_map(|(j, job)| job.seeds.iter().map(move |seed| (j, *seed)))
            .collect();
        let results: Vec<Mutex<JobResult>> = explorations
            .iter()
            .map(|e| {
                Mutex::new(JobResult {
                    seeds: Vec::new(),
                    wall: Duration::ZERO,
                    exploration: *e,
                    confirmed: None,
                    minimised: None,
                })
            })
            .collect();
        // The smallest failing seed of each job so far, for `stop_at_failure`.
        let failed: Vec<Mutex<Option<u64>>> = jobs.iter().map(|_| Mutex::new(None)).collect();
        let next = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..self.workers.clamp(1, work.len().max(1)) {
                s.spawn(|| {
                    while let Some(&(j, seed)) = work.get(next.fetch_add(1, Ordering::Relaxed)) {
                        let beaten = |f: &Option<u64>| f.is_some_and(|best| best < seed);
                        if self.stop_at_failure
                            && beaten(&failed[j].lock().expect("no worker panics holding it"))
                        {
                            continue;
                        }
                        let started = Instant::now();
                        let result = seed_result(seed, run(j, RunAs::seed(seed, false, explorations[j])));
                        if result.failure.is_some() {
                            let mut f = failed[j].lock().expect("no worker panics holding it");
                            if !beaten(&f) {
                                *f = Some(seed);
                            }
                        }
                        let mut r = results[j].lock().expect("no worker panics holding it");
                        r.seeds.push(result);
                        r.wall += started.elapsed();
                        tick();
                    }
                });
            }
        });
        let mut results: Vec<JobResult> =
            results.into_iter().map(|r| r.into_inner().expect("no worker panicked")).collect();
        for (j, r) in results.iter_mut().enumerate() {
            r.seeds.sort_by_key(|s| s.seed);
            if self.stop_at_failure {
                // Seeds above the smallest failure may have run before it was found.
                let first = r.seeds.iter().position(|s| s.failure.is_some());
                r.seeds.truncate(first.map_or(r.seeds.len(), |i| i + 1));
            }
            let confirmed = r.failures().next().map(|f| confirm(j, f, r.exploration, run));
            if let (Some(Confirmed::Same(failure)), Some(budget)) = (&confirmed, self.shrink) {
                let (seed, exploration) = (failure.seed(), r.exploration);
                let replay =
                    |replay| run(j, RunAs { replay: Some(replay), ..RunAs::seed(seed, true, exploration) });
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
    let length = match run(RunAs::seed(0, false, Exploration::default())) {
        Ok(o) => o.party_decisions(),
        Err(f) => f.party_decisions(),
    };
    Exploration { run_length: length.max(1), ..exploration }
}

fn seed_result(seed: u64, result: Result<Outcome, Failure>) -> SeedResult {
    match result {
        Ok(o) => SeedResult {
            seed,
            steps: Some(o.steps()),
            virtual_time: o.elapsed(),
            trace_hash: o.trace_hash(),
            failure: None,
            swarm: None,
        },
        Err(f) => SeedResult {
            seed,
            steps: None,
            virtual_time: f.elapsed(),
            trace_hash: f.trace_hash(),
            failure: Some(f.kind().to_string()),
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
    let seed = failed.seed;
    match run(j, RunAs::seed(seed, true, exploration)) {
        Err(f) if f.trace_hash() == failed.trace_hash => Confirmed::Same(Box::new(f)),
        Err(f) => Confirmed::Differs { seed, again: format!("failed another way: {}", f.kind()) },
        Ok(_) => Confirmed::Differs { seed, again: "passed".to_owned() },
    }
}
