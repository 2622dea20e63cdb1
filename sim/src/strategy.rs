//! The scheduling strategy: the one oracle that makes every choice of a run.
//!
//! Uniform random walk over a `ChaCha8Rng` seeded from the run's seed: at every choice point
//! each option is equally likely. Every draw is recorded in the trace by its caller, so a
//! run replays from its seed alone.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[derive(Debug)]
pub(crate) struct RandomWalk {
    rng: ChaCha8Rng,
}

impl RandomWalk {
    pub(crate) fn new(seed: u64) -> RandomWalk {
        RandomWalk { rng: ChaCha8Rng::seed_from_u64(seed) }
    }

    /// One of `count` options. A single option is no choice and draws nothing, so adding
    /// a thread that never competes does not change the other choices of a run.
    pub(crate) fn pick(&mut self, count: usize) -> usize {
        assert!(count > 0, "a choice among no options");
        if count == 1 { 0 } else { self.rng.random_range(0..count) }
    }
}
