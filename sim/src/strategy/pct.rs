//! Probabilistic concurrency testing (Burckhardt, Kothari, Musuvathi, Nagarakatte, "A
//! Randomized Scheduler with Probabilistic Guarantees of Finding Bugs", ASPLOS 2010).
//!
//! Each party gets a random priority when it first competes, above every priority a
//! change can give; the highest-priority runnable party always takes the step. After
//! each of `depth - 1` steps drawn at random from `1..=steps` (independently, as in the
//! paper: two may fall on one step, and one on the last does nothing), the party that ran
//! it drops to the change's priority (the i-th drawn change gives i, below every first
//! priority). A
//! bug of depth d among n parties and k steps is then found with probability at least
//! 1/(n·k^(d−1)). As in the paper (4.1, "Identifying Sequential Execution") only decisions
//! with more than one runnable party are steps; a yielding party drops below all others,
//! as a spin loop must let the others run.

use super::{Choice, Scheduler};
use crate::ThreadId;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[derive(Debug)]
pub(crate) struct Pct {
    /// Every choice that is not of a party: seeded draws, as under every strategy.
    data: ChaCha8Rng,
    /// Priorities and change points.
    rng: ChaCha8Rng,
    /// Each thread's priority, by thread index, once it has competed.
    threads: Vec<Option<i64>>,
    net: Option<i64>,
    /// The steps after which the party that ran them drops; the i-th (from 0) gives
    /// priority i + 1 (the first of two on one step counts).
    changes: Vec<u64>,
    steps: u64,
    /// The priority the next yield gives: below every other.
    lowest: i64,
}

/// First priorities are drawn above this, so that they stay above every change's.
const FIRST_PRIORITY_MIN: i64 = 1 << 32;

impl Pct {
    pub(crate) fn new(seed: u64, depth: usize, steps: u64) -> Pct {
        assert!(depth >= 1, "PCT's depth starts at 1");
        let data = ChaCha8Rng::seed_from_u64(seed);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(1);
        let changes: Vec<u64> = (1..depth).map(|_| rng.random_range(1..=steps.max(1))).collect();
        Pct { data, rng, threads: Vec::new(), net: None, changes, steps: 0, lowest: 0 }
    }

    fn priority(&mut self, party: ThreadId) -> i64 {
        let rng = &mut self.rng;
        let slot = if party == ThreadId::NET {
            &mut self.net
        } else {
            if self.threads.len() <= party.index() {
                self.threads.resize(party.index() + 1, None);
            }
            &mut self.threads[party.index()]
        };
        *slot.get_or_insert_with(|| rng.random_range(FIRST_PRIORITY_MIN..i64::MAX))
    }

    fn set_priority(&mut self, party: ThreadId, priority: i64) {
        self.priority(party);
        match party {
            ThreadId::NET => self.net = Some(priority),
            t => self.threads[t.index()] = Some(priority),
        }
    }
}

impl Scheduler for Pct {
    fn next_party(&mut self, runnable: &[ThreadId], last: ThreadId, yielding: bool) -> usize {
        if let Some(i) = self.changes.iter().position(|&at| at == self.steps) {
            self.set_priority(last, i as i64 + 1);
        }
        if yielding {
            self.set_priority(last, self.lowest);
            self.lowest -= 1;
        }
        self.steps += 1;
        let mut best = 0;
        let mut best_priority = i64::MIN;
        for (i, &party) in runnable.iter().enumerate() {
            let p = self.priority(party);
            if p > best_priority {
                (best, best_priority) = (i, p);
            }
        }
        best
    }

    fn next_value(&mut self, _choice: Choice, count: usize) -> usize {
        self.data.random_range(0..count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: ThreadId = ThreadId(0);
    const B: ThreadId = ThreadId(1);

    #[test]
    fn the_highest_priority_runs_until_a_change_point_drops_it() {
        // Depth 2 over 10 steps: one change; before it the same party runs every time,
        // after it the other.
        for seed in 0..50 {
            let mut pct = Pct::new(seed, 2, 10);
            let change = pct.changes[0].min(10);
            let mut last = A;
            let mut ran = Vec::new();
            for _ in 0..10 {
                last = [A, B][pct.next_party(&[A, B], last, false)];
                ran.push(last);
            }
            let first = ran[0];
            let split = change as usize;
            assert!(ran[..split].iter().all(|p| *p == first), "seed {seed}: {ran:?} change {change}");
            assert!(ran[split..].iter().all(|p| *p != first), "seed {seed}: {ran:?} change {change}");
        }
    }

    #[test]
    fn a_yield_lets_the_others_run() {
        let mut pct = Pct::new(7, 1, 100);
        let first = [A, B][pct.next_party(&[A, B], A, false)];
        let other = if first == A { B } else { A };
        assert_eq!([A, B][pct.next_party(&[A, B], first, true)], other);
        assert_eq!([A, B][pct.next_party(&[A, B], other, false)], other, "it keeps its priority");
    }

    #[test]
    fn first_priorities_are_uniform_over_the_parties() {
        let firsts =
            (0..400).filter(|&seed| Pct::new(seed, 1, 10).next_party(&[A, B], A, false) == 0).count();
        assert!((150..250).contains(&firsts), "{firsts} of 400");
    }
}
