//! The uniform random walk: at every decision each option is equally likely.

use super::{Choice, Scheduler};
use crate::ThreadId;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// One generator for every decision, drawn in the order the run asks: a run replays from
/// its seed alone, and the traces of this strategy are those of every earlier release.
#[derive(Debug)]
pub(crate) struct RandomWalk {
    rng: ChaCha8Rng,
}

impl RandomWalk {
    pub(crate) fn new(seed: u64) -> RandomWalk {
        RandomWalk { rng: ChaCha8Rng::seed_from_u64(seed) }
    }
}

impl Scheduler for RandomWalk {
    fn next_party(&mut self, runnable: &[ThreadId], _last: ThreadId, _yielding: bool) -> usize {
        self.rng.random_range(0..runnable.len())
    }

    fn next_value(&mut self, _choice: Choice, count: usize) -> usize {
        self.rng.random_range(0..count)
    }
}
