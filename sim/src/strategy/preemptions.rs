//! A random walk with a bounded number of preemptions (after Musuvathi and Qadeer,
//! "Iterative Context Bounding for Systematic Testing of Multithreaded Programs", PLDI
//! 2007): few switches away from a runnable thread find most concurrency bugs.
//!
//! The party that ran last runs again while it can. A number of preemptions drawn from 0
//! to `max` (so that runs with fewer are as likely as runs with more: a preemption can
//! undo another's effect), at decisions drawn from the first `steps` where it could go on
//! and another party could run, switch to another runnable party, drawn at random. Switches it does not decide are
//! free: after the party blocked or ended, after the network delivered a packet, and when
//! a thread yields (a spin loop must let the others run).

use super::{Choice, Scheduler};
use crate::ThreadId;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[derive(Debug)]
pub(crate) struct Preemptions {
    data: ChaCha8Rng,
    rng: ChaCha8Rng,
    /// The preemptible decisions (counted from 1) at which the running thread is
    /// preempted.
    points: Vec<u64>,
    preemptible: u64,
}

impl Preemptions {
    pub(crate) fn new(seed: u64, max: usize, steps: u64) -> Preemptions {
        let data = ChaCha8Rng::seed_from_u64(seed);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(1);
        let count = rng.random_range(0..=max).min(steps as usize);
        let mut points: Vec<u64> = Vec::new();
        while points.len() < count {
            let at = rng.random_range(1..=steps);
            if !points.contains(&at) {
                points.push(at);
            }
        }
        Preemptions { data, rng, points, preemptible: 0 }
    }

    /// Any of `runnable` but the one at `skip`.
    fn other(&mut self, runnable: &[ThreadId], skip: usize) -> usize {
        let i = self.rng.random_range(0..runnable.len() - 1);
        if i >= skip { i + 1 } else { i }
    }
}

impl Scheduler for Preemptions {
    fn next_party(&mut self, runnable: &[ThreadId], last: ThreadId, yielding: bool) -> usize {
        let at = runnable.iter().position(|p| *p == last).filter(|_| last != ThreadId::NET);
        match at {
            None => self.rng.random_range(0..runnable.len()),
            Some(i) if yielding => self.other(runnable, i),
            Some(i) => {
                self.preemptible += 1;
                if self.points.contains(&self.preemptible) { self.other(runnable, i) } else { i }
            }
        }
    }

    fn next_value(&mut self, _choice: Choice, count: usize) -> usize {
        self.data.random_range(0..count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_runnable_thread_is_preempted_at_most_max_times_and_every_count_comes_up() {
        let parties = [ThreadId(0), ThreadId(1), ThreadId(2)];
        for max in 0..4 {
            let mut counts = vec![0; max + 1];
            for seed in 0..100 {
                let mut pb = Preemptions::new(seed, max, 50);
                let mut last = parties[0];
                let mut switches = 0;
                for _ in 0..50 {
                    let next = parties[pb.next_party(&parties, last, false)];
                    switches += usize::from(next != last);
                    last = next;
                }
                assert!(switches <= max, "seed {seed}: {switches} > {max}");
                counts[switches] += 1;
            }
            assert!(counts.iter().all(|c| *c > 10), "max {max}: {counts:?}");
        }
    }

    #[test]
    fn switches_it_does_not_decide_are_free() {
        let mut pb = Preemptions::new(3, 0, 50);
        let parties = [ThreadId(0), ThreadId(1)];
        assert_eq!(pb.next_party(&parties, ThreadId(0), true), 1, "a yield");
        let after_net: Vec<usize> = (0..20).map(|_| pb.next_party(&parties, ThreadId::NET, false)).collect();
        assert!(after_net.contains(&0) && after_net.contains(&1), "{after_net:?}");
    }
}
