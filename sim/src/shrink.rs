//! Minimising a failing run: the schedule with the fewest deviations from the documented
//! defaults (`Choice::default_option`, `strategy::default_party`) that still fails the
//! same way.
//!
//! Delta debugging over the deviations (Zeller and Hildebrandt, "Simplifying and
//! Isolating Failure-Inducing Input", TSE 2002), then one-at-a-time removal. A candidate
//! keeps some deviations of the current schedule and takes the default everywhere else,
//! by position (`Replay::keep`); when it fails the same way, its own recorded run becomes
//! the current schedule, whose deviations are never more than those kept, so every step
//! that succeeds removes at least one and the search ends. Deviations rather than
//! decisions are the unit because a default decision explains nothing: a reader needs only
//! the few places where the run went another way than it would by itself. The same failure
//! minimises to the same schedule, unless the budget's host-time bound stops it, which is
//! reported (the run bound, met first by default, is deterministic).

use crate::sim::Replay;
use crate::{Failure, FailureKind, Outcome};
use std::time::{Duration, Instant};

/// How much minimising may cost, each bound reported when hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Replays of candidate schedules.
    pub runs_max: u32,
    /// Host time.
    pub time_max: Duration,
}

impl Default for Budget {
    fn default() -> Budget {
        Budget { runs_max: 500, time_max: Duration::from_secs(20) }
    }
}

/// A minimised failure.
#[derive(Debug)]
pub struct Minimised {
    /// The run of the minimised schedule, its trace and schedule kept.
    pub failure: Failure,
    /// The deviations of the failure it started from.
    pub deviations_before: u64,
    /// Candidate schedules replayed.
    pub runs: u32,
    /// The bound that stopped the search early, if one did.
    pub budget_hit: Option<String>,
}

/// Minimises `original` (which must have kept its schedule) by replaying candidates with
/// `run`, which builds and runs the original program with the replay it is given.
pub fn minimise(
    original: &Failure,
    budget: Budget,
    run: &dyn Fn(Replay) -> Result<Outcome, Failure>,
) -> Option<Minimised> {
    let started = Instant::now();
    let mut search = Search { original: original.kind(), budget, started, runs: 0, budget_hit: None, run };
    let mut current = search.attempt(original, &original.deviation_indices())?;
    let mut deviations = current.deviation_indices();
    // ddmin: try keeping one chunk, then all but one chunk, at a granularity that doubles
    // until single deviations.
    let mut n = 2;
    let mut none_tried = false;
    while !deviations.is_empty() && search.budget_hit.is_none() {
        let chunks: Vec<&[usize]> = deviations.chunks(deviations.len().div_ceil(n)).collect();
        // No deviation at all first: many failures need none, or one.
        let mut candidates: Vec<Vec<usize>> = if none_tried { Vec::new() } else { vec![Vec::new()] };
        none_tried = true;
        candidates.extend(chunks.iter().map(|c| c.to_vec()));
        if chunks.len() > 2 {
            candidates.extend((0..chunks.len()).map(|i| {
                chunks
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .flat_map(|(_, c)| c.iter().copied())
                    .collect()
            }));
        }
        // Only proper subsets: keeping all would find the current run again.
        candidates.retain(|keep| keep.len() < deviations.len());
        let found = candidates.iter().find_map(|keep| search.attempt(&current, keep));
        match found {
            Some(smaller) => {
                current = smaller;
                deviations = current.deviation_indices();
                n = 2.max(n - 1);
            }
            None if n >= deviations.len() => break,
            None => n = (2 * n).min(deviations.len()),
        }
    }
    // Each deviation left alone, removed once more.
    let mut i = 0;
    while i < deviations.len() && search.budget_hit.is_none() {
        let without: Vec<usize> = deviations.iter().copied().filter(|d| *d != deviations[i]).collect();
        match search.attempt(&current, &without) {
            Some(smaller) => {
                current = smaller;
                deviations = current.deviation_indices();
                i = 0;
            }
            None => i += 1,
        }
    }
    let Search { runs, budget_hit, .. } = search;
    Some(Minimised { failure: current, deviations_before: original.deviations(), runs, budget_hit })
}

struct Search<'a> {
    original: &'a FailureKind,
    budget: Budget,
    started: Instant,
    runs: u32,
    budget_hit: Option<String>,
    run: &'a dyn Fn(Replay) -> Result<Outcome, Failure>,
}

impl Search<'_> {
    /// Replays `base` keeping the deviations at `keep`: its failure, if it is the same.
    fn attempt(&mut self, base: &Failure, keep: &[usize]) -> Option<Failure> {
        if self.runs >= self.budget.runs_max {
            self.budget_hit = Some(format!("{} runs (Budget::runs_max)", self.budget.runs_max));
            return None;
        }
        if self.started.elapsed() > self.budget.time_max {
            self.budget_hit = Some(format!("{:?} (Budget::time_max)", self.budget.time_max));
            return None;
        }
        self.runs += 1;
        let schedule = base.schedule()?.clone();
        let mut kept = vec![false; schedule.decisions.len()];
        keep.iter().for_each(|&i| kept[i] = true);
        match (self.run)(Replay { schedule, keep: Some(kept) }) {
            Err(f) if same_failure(f.kind(), self.original) && f.schedule().is_some() => Some(f),
            _ => None,
        }
    }
}

/// Whether two failures are the same: the same panic (thread and message), a deadlock of
/// the same threads in the same calls, the same misuse by the same call and thread, or
/// the same kind of any other failure.
pub fn same_failure(a: &FailureKind, b: &FailureKind) -> bool {
    // "a/main blocked in WaitForSingleObject", without what it waits on and until when.
    let calls = |blocked: &[String]| -> Vec<String> {
        blocked.iter().map(|b| b.split(", ").next().unwrap_or_default().to_owned()).collect()
    };
    match (a, b) {
        (FailureKind::Panic { thread: t, message: m }, FailureKind::Panic { thread: u, message: n }) => {
            t == u && m == n
        }
        (FailureKind::Deadlock { blocked: x }, FailureKind::Deadlock { blocked: y }) => calls(x) == calls(y),
        (FailureKind::Misuse(x), FailureKind::Misuse(y)) => {
            (x.misuse, x.call, &x.thread) == (y.misuse, y.call, &y.thread)
        }
        _ => std::mem::discriminant(a) == std::mem::discriminant(b),
    }
}
