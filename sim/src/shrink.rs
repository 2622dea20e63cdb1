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
use crate::strategy::{Choice, Schedule};
use crate::trace::Place;
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

/// The earlier places tried for one group of deviations in one pass: the place that
/// makes a program fail again is most often one of its first few that look alike.
const EARLIER_TRIES_MAX: usize = 64;

/// Minimises `original` (which must have kept its schedule) by replaying candidates with
/// `run`, which builds and runs the original program with the replay it is given.
pub fn minimise(
    original: &Failure,
    budget: Budget,
    run: &dyn Fn(Replay) -> Result<Outcome, Failure>,
) -> Option<Minimised> {
    let started = Instant::now();
    let mut search = Search { original, budget, started, runs: 0, budget_hit: None, run, plain: None };
    let mut current = search.keeping(original, &original.deviation_indices())?;
    loop {
        current = search.fewer_deviations(current);
        match search.earlier(&current) {
            Some(shorter) => current = shorter,
            None => break,
        }
    }
    let Search { runs, budget_hit, .. } = search;
    Some(Minimised { failure: current, deviations_before: original.deviations(), runs, budget_hit })
}

/// Where each decision of a run was made.
type Places = Vec<(Choice, u64, Option<Place>)>;

struct Search<'a> {
    original: &'a Failure,
    budget: Budget,
    started: Instant,
    runs: u32,
    budget_hit: Option<String>,
    run: &'a dyn Fn(Replay) -> Result<Outcome, Failure>,
    /// `plain_places`, once known.
    plain: Option<Places>,
}

impl Search<'_> {
    /// ddmin over the deviations of `current` (try keeping one chunk, then all but one
    /// chunk, at a granularity that doubles until single deviations), then each deviation
    /// left removed alone.
    fn fewer_deviations(&mut self, mut current: Failure) -> Failure {
        let mut deviations = current.deviation_indices();
        let mut n = 2;
        let mut none_tried = false;
        while !deviations.is_empty() && self.budget_hit.is_none() {
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
            match candidates.iter().find_map(|keep| self.keeping(&current, keep)) {
                Some(smaller) => {
                    current = smaller;
                    deviations = current.deviation_indices();
                    n = 2.max(n - 1);
                }
                None if n >= deviations.len() => break,
                None => n = (2 * n).min(deviations.len()),
            }
        }
        let mut i = 0;
        while i < deviations.len() && self.budget_hit.is_none() {
            let without: Vec<usize> = deviations.iter().copied().filter(|d| *d != deviations[i]).collect();
            match self.keeping(&current, &without) {
                Some(smaller) => {
                    current = smaller;
                    deviations = current.deviation_indices();
                    i = 0;
                }
                None => i += 1,
            }
        }
        current
    }

    /// The same deviations made earlier in the run, so that it fails sooner: a program
    /// that fails in its fortieth round usually fails in its first one when its first
    /// round takes the same turns. Each group of the last deviations (all of them first)
    /// moves back, each member by one distance, to decisions made where they were
    /// (`Failure::decision_places`), the earliest first: onto the current run, the
    /// deviations before the group kept, and onto the run with no deviation at all, those
    /// dropped. The first candidate that fails the same way, with no more deviations and a
    /// shorter trace, is taken.
    fn earlier(&mut self, current: &Failure) -> Option<Failure> {
        let deviations = current.deviation_indices();
        let schedule = current.schedule()?;
        let places = current.decision_places();
        let plain = self.plain_places(schedule);
        for from in 0..deviations.len() {
            let group = &deviations[from..];
            let ontos = [(&plain, &deviations[..0]), (&places, &deviations[..from])];
            for (onto, kept) in ontos.into_iter().take(if from == 0 { 1 } else { 2 }) {
                let floor = kept.last().map_or(0, |k| k + 1);
                let lands = |at: usize, j: usize| at + j - group[0];
                let fits = |at: &usize| group.iter().all(|&j| onto.get(lands(*at, j)) == Some(&places[j]));
                let targets: Vec<usize> = (floor..group[0]).filter(fits).take(EARLIER_TRIES_MAX).collect();
                for at in targets {
                    if self.budget_hit.is_some() {
                        return None;
                    }
                    let len = lands(at, deviations[deviations.len() - 1]) + 1;
                    let mut moved = vec![schedule.decisions[0]; len];
                    let mut keep = vec![false; len];
                    let placed = kept.iter().map(|&k| (k, k)).chain(group.iter().map(|&j| (j, lands(at, j))));
                    for (j, to) in placed {
                        moved[to] = schedule.decisions[j];
                        keep[to] = true;
                    }
                    let schedule = Schedule { decisions: moved, ..schedule.clone() };
                    let shorter = |f: &Failure| {
                        f.trace_len() < current.trace_len() && f.deviations() <= current.deviations()
                    };
                    if let Some(f) = self.attempt(schedule, keep).filter(shorter) {
                        return Some(f);
                    }
                }
            }
        }
        None
    }

    /// Where each decision of the run with no deviation was made (one run, the first time).
    fn plain_places(&mut self, schedule: &Schedule) -> Places {
        if self.plain.is_none() && self.spend() {
            let plain = Schedule { decisions: Vec::new(), ..schedule.clone() };
            self.plain = Some(match (self.run)(Replay { schedule: plain, keep: Some(Vec::new()) }) {
                Ok(outcome) => outcome.decision_places(),
                Err(failure) => failure.decision_places(),
            });
        }
        self.plain.clone().unwrap_or_default()
    }

    /// Replays `base` keeping the deviations at `keep`: its failure, if it is the same and
    /// its trace no longer than the original's (fewer deviations that make a longer story
    /// than the one minimising started from explain no better).
    fn keeping(&mut self, base: &Failure, keep: &[usize]) -> Option<Failure> {
        let schedule = base.schedule()?.clone();
        let mut kept = vec![false; schedule.decisions.len()];
        keep.iter().for_each(|&i| kept[i] = true);
        let longest = self.original.trace_len();
        self.attempt(schedule, kept).filter(|f| f.trace_len() <= longest)
    }

    /// Takes one run from the budget, if it has one left.
    fn spend(&mut self) -> bool {
        if self.runs >= self.budget.runs_max {
            self.budget_hit = Some(format!("{} runs (Budget::runs_max)", self.budget.runs_max));
        } else if self.started.elapsed() > self.budget.time_max {
            self.budget_hit = Some(format!("{:?} (Budget::time_max)", self.budget.time_max));
        } else {
            self.runs += 1;
        }
        self.budget_hit.is_none()
    }

    /// Replays the decisions of `schedule` marked in `keep`, the default elsewhere: its
    /// failure, if it is the same.
    fn attempt(&mut self, schedule: Schedule, keep: Vec<bool>) -> Option<Failure> {
        if !self.spend() {
            return None;
        }
        match (self.run)(Replay { schedule, keep: Some(keep) }) {
            Err(f) if same_failure(f.kind(), self.original.kind()) && f.schedule().is_some() => Some(f),
            _ => None,
        }
    }
}

/// Whether two failures are the same: the same panic (thread, place, and message but for
/// its numbers: the same assertion failing in round 1 as in round 40), a deadlock of
/// the same threads in the same calls, the same misuse by the same call and thread, or
/// the same kind of any other failure.
pub fn same_failure(a: &FailureKind, b: &FailureKind) -> bool {
    // "a/main blocked in WaitForSingleObject", without what it waits on and until when.
    let calls = |blocked: &[String]| -> Vec<String> {
        blocked.iter().map(|b| b.split(", ").next().unwrap_or_default().to_owned()).collect()
    };
    match (a, b) {
        (FailureKind::Panic { thread: t, message: m }, FailureKind::Panic { thread: u, message: n }) => {
            t == u && same_panic(m, n)
        }
        (FailureKind::Deadlock { blocked: x }, FailureKind::Deadlock { blocked: y }) => calls(x) == calls(y),
        (FailureKind::Misuse(x), FailureKind::Misuse(y)) => {
            (x.misuse, x.call, &x.thread) == (y.misuse, y.call, &y.thread)
        }
        _ => std::mem::discriminant(a) == std::mem::discriminant(b),
    }
}

/// Two panic messages, `text (at file:line:col)`, of the same place, whose texts differ at
/// most in their numbers.
fn same_panic(a: &str, b: &str) -> bool {
    fn split(m: &str) -> (&str, &str) {
        m.rsplit_once(" (at ").unwrap_or((m, ""))
    }
    fn unnumbered(t: &str) -> impl Iterator<Item = &str> {
        t.split(|c: char| c.is_ascii_digit()).filter(|p| !p.is_empty())
    }
    let ((a, at_a), (b, at_b)) = (split(a), split(b));
    at_a == at_b && unnumbered(a).eq(unnumbered(b))
}
