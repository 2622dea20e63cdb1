//! Running many seeds of many scenarios on several OS threads, and what each seed gave.

use super::{Registry, Scenario};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Which of a scenario's seeds a machine runs: the `k`th of every `n` (from 1), so that
/// shards `1/n` to `n/n` together run each seed once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub k: u64,
    pub n: u64,
}

impl Shard {
    pub const ALL: Shard = Shard { k: 1, n: 1 };

    pub fn parse(s: &str) -> Result<Shard, String> {
        let parsed = s.split_once('/').and_then(|(k, n)| Some((k.parse().ok()?, n.parse().ok()?)));
        match parsed {
            Some((k, n)) if 1 <= k && k <= n => Ok(Shard { k, n }),
            _ => Err(format!("{s:?}: expected K/N with 1 <= K <= N, such as 2/3")),
        }
    }

    pub fn select(self, seeds: impl Iterator<Item = u64>) -> Vec<u64> {
        seeds.enumerate().filter(|(i, _)| *i as u64 % self.n == self.k - 1).map(|(_, s)| s).collect()
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
}

/// What the seeds of one scenario gave, in seed order.
#[derive(Debug)]
pub struct ScenarioResult {
    pub seeds: Vec<SeedResult>,
    /// Host time spent on its seeds, over all workers.
    pub wall: Duration,
}

impl ScenarioResult {
    pub fn failures(&self) -> impl Iterator<Item = &SeedResult> {
        self.seeds.iter().filter(|s| s.failure.is_some())
    }
}

/// Runs `seeds[i]` of `scenarios[i]` on `jobs` OS threads, without keeping traces, calling
/// `tick` after each seed.
pub fn run(
    registry: &Registry,
    scenarios: &[Scenario],
    seeds: &[Vec<u64>],
    jobs: usize,
    replay: &(dyn Fn(&Scenario, u64) -> String + Sync),
    tick: &(dyn Fn() + Sync),
) -> Vec<ScenarioResult> {
    let work: Vec<(usize, u64)> =
        seeds.iter().enumerate().flat_map(|(i, s)| s.iter().map(move |seed| (i, *seed))).collect();
    let results: Vec<Mutex<ScenarioResult>> = scenarios
        .iter()
        .map(|_| Mutex::new(ScenarioResult { seeds: Vec::new(), wall: Duration::ZERO }))
        .collect();
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..jobs.clamp(1, work.len().max(1)) {
            s.spawn(|| {
                while let Some(&(i, seed)) = work.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let started = Instant::now();
                    let scenario = &scenarios[i];
                    let result = match scenario.run(registry, seed, false, &replay(scenario, seed)) {
                        Ok(o) => SeedResult {
                            seed,
                            steps: Some(o.steps()),
                            virtual_time: o.elapsed(),
                            trace_hash: o.trace_hash(),
                            failure: None,
                        },
                        Err(f) => SeedResult {
                            seed,
                            steps: None,
                            virtual_time: f.elapsed(),
                            trace_hash: f.trace_hash(),
                            failure: Some(f.kind().to_string()),
                        },
                    };
                    let mut r = results[i].lock().expect("no worker panics holding it");
                    r.seeds.push(result);
                    r.wall += started.elapsed();
                    tick();
                }
            });
        }
    });
    let mut results: Vec<ScenarioResult> =
        results.into_iter().map(|r| r.into_inner().expect("no worker panicked")).collect();
    for r in &mut results {
        r.seeds.sort_by_key(|s| s.seed);
    }
    results
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_seeds() {
        let all: Vec<u64> = (5..105).collect();
        let mut union: Vec<u64> =
            (1..=3).flat_map(|k| Shard { k, n: 3 }.select(all.iter().copied())).collect();
        union.sort();
        assert_eq!(union, all);
        assert_eq!(Shard::parse("2/3"), Ok(Shard { k: 2, n: 3 }));
        assert!(Shard::parse("0/3").is_err() && Shard::parse("4/3").is_err() && Shard::parse("x").is_err());
    }
}
