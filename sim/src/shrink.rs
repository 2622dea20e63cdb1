//! Minimising a failing run: the schedule with the fewest deviations from the documented
//! defaults (`Choice::default_option`, `strategy::default_party`) that still fails the
//! same way, and then the shortest.
//!
//! A candidate keeps some deviations and takes the default everywhere else. It keeps
//! them by anchor (`strategy::Anchor`: the party, its round, its step), not by position:
//! removing one deviation moves every later decision to another position, but leaves a
//! kept one on the same turn of the same party, which is what it meant. The search:
//! deviations of whole kinds of choice dropped, then all but those of the parties' last
//! rounds, then delta debugging (Zeller and Hildebrandt, "Simplifying and Isolating
//! Failure-Inducing Input", TSE 2002) and one-at-a-time removal, each candidate taken when
//! it fails the same way with a trace no longer than the original's; then the deviations
//! left moved to earlier rounds, taken when the trace gets shorter; and again, until
//! neither finds a smaller run. When a candidate fails the same way, its own recorded run
//! becomes the current one, whose deviations are never more than those kept, so the
//! search ends. Deviations rather than decisions are the unit because a default decision
//! explains nothing: a reader needs only the few places where the run went another way
//! than it would by itself. The same failure minimises to the same schedule, unless the
//! budget's host-time bound stops it, which is reported (the run bound, met first by
//! default, is deterministic).

use crate::ThreadId;
use crate::sim::Replay;
use crate::strategy::{Anchor, Choice, Directive, Schedule};
use crate::{Failure, FailureKind, Outcome};
use std::collections::{BTreeMap, BTreeSet};
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

/// The numbers of rounds that `earlier` tries moving every deviation back by.
const EARLIER_TRIES_MAX: usize = 64;

/// Minimises `original` (which must have kept its schedule) by replaying candidates with
/// `run`, which builds and runs the original program with the replay it is given. `None`
/// when the original, replayed with all its deviations kept, does not fail the same way
/// (or the budget allows not even that run).
pub fn minimise(
    original: &Failure,
    budget: Budget,
    run: &dyn Fn(Replay) -> Result<Outcome, Failure>,
) -> Option<Minimised> {
    let started = Instant::now();
    let mut search = Search { original, budget, started, runs: 0, budget_hit: None, run };
    debug_assert_eq!(
        original.directives().iter().map(|d| d.anchor).collect::<BTreeSet<_>>().len(),
        original.directives().len(),
        "two decisions with one anchor"
    );
    let all = original.deviation_indices().iter().map(|&i| original.directives()[i]).collect();
    let mut current = search.attempt(original.schedule()?.clone(), all)?;
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

struct Search<'a> {
    original: &'a Failure,
    budget: Budget,
    started: Instant,
    runs: u32,
    budget_hit: Option<String>,
    run: &'a dyn Fn(Replay) -> Result<Outcome, Failure>,
}

impl Search<'_> {
    /// Fewer deviations: whole kinds dropped, then all but the last rounds kept, then
    /// ddmin over the rest (try keeping one chunk, then all but one chunk, at a
    /// granularity that doubles until single deviations), then each one left removed
    /// alone.
    fn fewer_deviations(&mut self, mut current: Failure) -> Failure {
        current = self.without_kinds(current);
        current = self.last_rounds(current);
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

    /// The deviations of every kind of choice but one, for each kind in turn (`Choice`):
    /// a random run deviates on nearly every latency and port it draws, and a failure
    /// rarely needs any of them.
    fn without_kinds(&mut self, mut current: Failure) -> Failure {
        for kind in Choice::ALL {
            let deviations = current.deviation_indices();
            let others: Vec<usize> = deviations
                .iter()
                .copied()
                .filter(|&i| current.directives()[i].anchor.choice != kind)
                .collect();
            if others.len() == deviations.len() || self.budget_hit.is_some() {
                continue;
            }
            if let Some(fewer) = self.keeping(&current, &others) {
                current = fewer;
            }
        }
        current
    }

    /// Only the deviations of each party's last rounds (1, 2, 4, then 8 of them), the
    /// first of these that fails the same way: a failure is mostly made by the turns just
    /// before it, and this finds those in a few runs where ddmin over hundreds of
    /// deviations may take its whole budget.
    fn last_rounds(&mut self, current: Failure) -> Failure {
        let deviations = current.deviation_indices();
        let anchor = |i: usize| current.directives()[i].anchor;
        let mut last = BTreeMap::new();
        for a in deviations.iter().map(|&i| anchor(i)) {
            last.entry(a.party).and_modify(|r: &mut u32| *r = (*r).max(a.round)).or_insert(a.round);
        }
        for rounds in [1, 2, 4, 8] {
            let recent: Vec<usize> = deviations
                .iter()
                .copied()
                .filter(|&i| anchor(i).round + rounds > last[&anchor(i).party])
                .collect();
            if recent.len() == deviations.len() || self.budget_hit.is_some() {
                break;
            }
            if let Some(fewer) = self.keeping(&current, &recent) {
                return fewer;
            }
        }
        current
    }

    /// The same deviations made in earlier rounds of their parties (`Anchor::round`), so
    /// that the run fails sooner: a program that fails in its fortieth round usually
    /// fails in its first when its first round takes the same turns. The last deviations
    /// (all of them first, then fewer) move, the ones before them kept or dropped: first
    /// each party's to its first round they fit, keeping their spacing; then all back by
    /// one number of rounds, the most first. The first candidate that fails the same way,
    /// with no more deviations and a shorter trace, is taken.
    fn earlier(&mut self, current: &Failure) -> Option<Failure> {
        let kept: Vec<Directive> =
            current.deviation_indices().iter().map(|&i| current.directives()[i]).collect();
        let schedule = current.schedule()?;
        let shorter =
            |f: &Failure| f.trace_len() < current.trace_len() && f.deviations() <= current.deviations();
        for from in 0..kept.len() {
            let (before, group) = kept.split_at(from);
            let back = |n: u32| -> Vec<Directive> {
                group
                    .iter()
                    .map(|d| Directive { anchor: Anchor { round: d.anchor.round - n, ..d.anchor }, ..*d })
                    .collect()
            };
            let mut moves = first_rounds(group);
            let rounds = group.iter().map(|d| d.anchor.round).min().unwrap_or(0);
            moves.extend((1..=rounds).rev().take(EARLIER_TRIES_MAX).map(back));
            moves.retain(|m| m != group);
            let prefixes: &[&[Directive]] = if from == 0 { &[&[]] } else { &[before, &[]] };
            for moved in &moves {
                for prefix in prefixes {
                    if self.budget_hit.is_some() {
                        return None;
                    }
                    let keep: Vec<Directive> = prefix.iter().chain(moved).copied().collect();
                    let anchors: BTreeSet<Anchor> = keep.iter().map(|d| d.anchor).collect();
                    if anchors.len() < keep.len() {
                        continue;
                    }
                    if let Some(f) = self.attempt(schedule.clone(), keep).filter(shorter) {
                        return Some(f);
                    }
                }
            }
        }
        None
    }

    /// Replays `base` keeping the deviations at `keep`: its failure, if it is the same and
    /// its trace no longer than the original's (fewer deviations that make a longer story
    /// than the one minimising started from explain no better).
    fn keeping(&mut self, base: &Failure, keep: &[usize]) -> Option<Failure> {
        let schedule = base.schedule()?.clone();
        let kept = keep.iter().map(|&i| base.directives()[i]).collect();
        let longest = self.original.trace_len();
        let smaller = |f: &Failure| f.trace_len() <= longest && f.deviations() < base.deviations();
        self.attempt(schedule, kept).filter(smaller)
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

    /// Replays `keep`, the default elsewhere (`schedule` gives the seed and the swarm
    /// settings): its failure, if it is the same.
    fn attempt(&mut self, schedule: Schedule, keep: Vec<Directive>) -> Option<Failure> {
        if !self.spend() {
            return None;
        }
        match (self.run)(Replay { schedule, keep: Some(keep) }) {
            Err(f) if same_failure(f.kind(), self.original.kind()) && f.schedule().is_some() => Some(f),
            _ => None,
        }
    }
}

/// How many of its first rounds `first_rounds` tries for each party.
const FIRST_ROUNDS: u32 = 3;

/// `group` moved so that each party's first deviation falls in one of its first rounds
/// (`FIRST_ROUNDS`: whether a party blocks before its first turn depends on the others,
/// so the round of the same turn may differ by one or two), each party's deviations
/// keeping their spacing; the earliest first, for at most three parties.
fn first_rounds(group: &[Directive]) -> Vec<Vec<Directive>> {
    let mut parties: Vec<(ThreadId, u32)> = Vec::new();
    for d in group {
        match parties.iter_mut().find(|(p, _)| *p == d.anchor.party) {
            Some((_, first)) => *first = (*first).min(d.anchor.round),
            None => parties.push((d.anchor.party, d.anchor.round)),
        }
    }
    if parties.len() > 3 {
        return Vec::new();
    }
    let combinations = FIRST_ROUNDS.pow(parties.len() as u32);
    let mut targets: Vec<Vec<u32>> = (0..combinations)
        .map(|mut c| {
            parties
                .iter()
                .map(|_| {
                    let k = c % FIRST_ROUNDS;
                    c /= FIRST_ROUNDS;
                    k
                })
                .collect()
        })
        .collect();
    targets.sort_by_key(|t| t.iter().sum::<u32>());
    targets
        .into_iter()
        .filter(|t| parties.iter().zip(t).all(|((_, first), k)| k <= first))
        .map(|t| {
            let by = |party: ThreadId| {
                let i = parties.iter().position(|(p, _)| *p == party).expect("a party of the group");
                parties[i].1 - t[i]
            };
            group
                .iter()
                .map(|d| Directive {
                    anchor: Anchor { round: d.anchor.round - by(d.anchor.party), ..d.anchor },
                    ..*d
                })
                .collect()
        })
        .collect()
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
