//! Swarm settings (Groce, Zhang, Eide, Chen, Regehr, "Swarm Testing", ISSTA 2012): each
//! seed draws its own configuration, so a sweep explores many configurations instead of
//! one. A configuration that makes a bug likely (a near-zero latency that lets a client
//! connect before its server listens; no segment ever cut; PCT of depth 2) then shows up
//! on some seeds, where a single default would hide it on all.

use crate::net::{Chance, Latency, LinkFaults};
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
    /// The faults of every link between hosts, each drawn from none to this (half the
    /// seeds none of a kind, so a fault's absence is explored too); all none by default,
    /// since a program is not expected to survive what it was not written for (a UDP
    /// exchange without retries, a connection reset).
    pub faults_max: LinkFaults,
}

impl Default for Swarm {
    fn default() -> Swarm {
        Swarm {
            depth_max: 3,
            preemptions_max: 3,
            latency_max: Duration::from_micros(200),
            cut_odds_max: 8,
            pend_immediate: true,
            faults_max: LinkFaults::default(),
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
    /// The faults of every link between hosts, in place of `Sim::loss` and its kin (links
    /// set one by one keep theirs); `None` when the bounds draw none.
    pub faults: Option<LinkFaults>,
}

impl Swarm {
    /// These bounds with faults drawn on every link: loss, duplication, reordering and
    /// resets each up to its probability (from 0 to 1), as `Sim::loss` and its kin take.
    pub fn faults(mut self, loss: f64, duplicate: f64, reorder: f64, reset: f64) -> Swarm {
        let bound = |p: f64| {
            Chance::of(p)
                .unwrap_or_else(|| panic!("wsasim: Swarm::faults takes probabilities from 0 to 1, not {p}"))
        };
        self.faults_max = LinkFaults {
            loss: bound(loss),
            duplicate: bound(duplicate),
            reorder: bound(reorder),
            reset: bound(reset),
        };
        self
    }

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
        let pend_odds = if pend == 0 { 0 } else { pend + 1 };
        // Drawn last, and only when asked for: the draws above stay what they were.
        let faults = (self.faults_max != LinkFaults::default()).then(|| {
            let mut draw = |max: Chance| match max.ppm() > 0 && rng.random_bool(0.5) {
                true => Chance::from_ppm(rng.random_range(1..=max.ppm())).expect("within the bound"),
                false => Chance::default(),
            };
            let m = self.faults_max;
            LinkFaults {
                loss: draw(m.loss),
                duplicate: draw(m.duplicate),
                reorder: draw(m.reorder),
                reset: draw(m.reset),
            }
        });
        SwarmSettings { strategy, latency, cut_odds: cut, pend_odds, faults }
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
            0 => write!(f, ", nothing pends")?,
            n => write!(f, ", 1 operation in {n} pends")?,
        }
        let Some(faults) = self.faults else { return Ok(()) };
        let percent = |c: Chance| f64::from(c.ppm()) / 1e4;
        write!(
            f,
            ", loss {}%, duplication {}%, reordering {}%, resets {}%",
            percent(faults.loss),
            percent(faults.duplicate),
            percent(faults.reorder),
            percent(faults.reset)
        )
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
        assert!(drawn.iter().all(|d| d.faults.is_none()), "no faults unless asked for");
    }

    #[test]
    fn faults_are_drawn_within_their_bounds_each_absent_on_about_half_the_seeds() {
        let plain = Swarm::default();
        let swarm = plain.faults(0.1, 0.2, 0.3, 0.0);
        let mut absent = [0; 3];
        for seed in 0..400 {
            let d = swarm.draw(seed, 50);
            let f = d.faults.expect("asked for");
            for (((kind, max), absent), chance) in ["loss", "duplicate", "reorder"]
                .iter()
                .zip([100_000, 200_000, 300_000])
                .zip(&mut absent)
                .zip([f.loss, f.duplicate, f.reorder])
            {
                assert!(chance.ppm() <= max, "{kind} {d}");
                *absent += usize::from(chance.ppm() == 0);
            }
            assert_eq!(f.reset.ppm(), 0, "a bound of 0 draws none");
            let without = plain.draw(seed, 50);
            assert_eq!(SwarmSettings { faults: None, ..d }, without, "the other draws stay as they were");
        }
        assert!(absent.iter().all(|&n| (150..250).contains(&n)), "{absent:?}");
    }
}
