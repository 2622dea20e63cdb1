//! Swarm settings (Groce, Zhang, Eide, Chen, Regehr, "Swarm Testing", ISSTA 2012): each
//! seed draws its own configuration, so a sweep explores many configurations instead of
//! one. A configuration that makes a bug likely (a near-zero latency that lets a client
//! connect before its server listens; no segment ever cut; PCT of depth 2) then shows up
//! on some seeds, where a single default would hide it on all.

use crate::net::Latency;
use crate::strategy::Strategy;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::fmt;
use std::time::Duration;

/// The bounds each seed draws its configuration within.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Swarm {
    /// PCT is drawn with a depth from 1 to this (0: never PCT).
    pub depth_max: usize,
    /// The bounded-preemption walk is drawn with 0 to this many preemptions.
    pub preemptions_max: usize,
    /// Each link's range is drawn within 0 to this: its top a power-of-two fraction of it
    /// (down to 1/1024, as likely as the whole), its bottom below that, so that near-zero
    /// latencies, which let a packet race the calls around it, are as common as wide ones.
    pub latency_max: Duration,
    /// One segment in N is cut short, N drawn from 1 to this, or none.
    pub cut_odds_max: usize,
    /// Whether a seed may make operations that could complete at once pend (one in 2 to
    /// 5 of them).
    pub pend_immediate: bool,
}

impl Default for Swarm {
    fn default() -> Swarm {
        Swarm {
            depth_max: 3,
            preemptions_max: 3,
            latency_max: Duration::from_micros(200),
            cut_odds_max: 8,
            pend_immediate: true,
        }
    }
}

/// What one seed drew.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SwarmSettings {
    pub strategy: Strategy,
    pub latency: Latency,
    /// One segment in this many is cut short (0: none).
    pub cut_odds: usize,
    /// One operation that could complete at once in this many pends (0: none).
    pub pend_odds: usize,
}

impl Swarm {
    /// The configuration of `seed`, on a stream of its own, so the run's decisions are
    /// drawn as without swarm. Strategies that need a run length take `steps`.
    pub fn draw(&self, seed: u64, steps: u64) -> SwarmSettings {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(2);
        let strategy = match rng.random_range(0..3) {
            1 if self.depth_max > 0 => Strategy::Pct { depth: rng.random_range(1..=self.depth_max), steps },
            2 => Strategy::Preemptions { max: rng.random_range(0..=self.preemptions_max), steps },
            _ => Strategy::RandomWalk,
        };
        let top = u64::try_from(self.latency_max.as_nanos()).unwrap_or(u64::MAX) >> rng.random_range(0..=10);
        let latency = Latency { min_ns: rng.random_range(0..=top), max_ns: top };
        let cut = rng.random_range(0..=self.cut_odds_max);
        let pend = if self.pend_immediate { rng.random_range(0..=4) } else { 0 };
        // A pend odds of 1 would pend every operation: start at 2.
        SwarmSettings { strategy, latency, cut_odds: cut, pend_odds: if pend == 0 { 0 } else { pend + 1 } }
    }
}

impl fmt::Display for SwarmSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = |n: u64| Duration::from_nanos(n);
        write!(
            f,
            "strategy {}, latency {:?} to {:?}",
            self.strategy,
            ns(self.latency.min_ns),
            ns(self.latency.max_ns)
        )?;
        match self.cut_odds {
            0 => write!(f, ", no segment cut")?,
            n => write!(f, ", 1 segment in {n} cut")?,
        }
        match self.pend_odds {
            0 => write!(f, ", nothing pends"),
            n => write!(f, ", 1 operation in {n} pends"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_seed_draws_within_the_bounds_and_seeds_differ() {
        let swarm = Swarm { depth_max: 2, preemptions_max: 1, cut_odds_max: 3, ..Swarm::default() };
        let drawn: Vec<SwarmSettings> = (0..200).map(|seed| swarm.draw(seed, 50)).collect();
        for d in &drawn {
            assert!(d.latency.min_ns <= d.latency.max_ns && d.latency.max_ns <= 200_000, "{d}");
            assert!(d.cut_odds <= 3 && d.pend_odds <= 5 && d.pend_odds != 1, "{d}");
            match d.strategy {
                Strategy::Pct { depth, steps } => assert!((1..=2).contains(&depth) && steps == 50),
                Strategy::Preemptions { max, steps } => assert!(max <= 1 && steps == 50),
                Strategy::RandomWalk => {}
            }
        }
        let kinds = |f: fn(&Strategy) -> bool| drawn.iter().filter(|d| f(&d.strategy)).count();
        assert!(kinds(|s| matches!(s, Strategy::Pct { .. })) > 30);
        assert!(kinds(|s| matches!(s, Strategy::Preemptions { .. })) > 30);
        assert!(kinds(|s| matches!(s, Strategy::RandomWalk)) > 30);
        assert_eq!(swarm.draw(7, 50), swarm.draw(7, 50), "the seed decides");
        assert!(drawn.iter().any(|d| d.latency.max_ns < 20_000), "near-zero latencies come up");
    }
}
