//! Sweeps: one setup over many seeds, in parallel on every core, for `#[test]`s.
//!
//! Seeds run without keeping their traces; the smallest failing seed is then run again with
//! its trace kept, which also checks that it fails the same way twice.

use crate::{Failure, Sim};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The environment variable that makes [`check`] run one seed only, and print its trace.
pub const SEED_VAR: &str = "WSASIM_SEED";

/// Runs `setup`'s simulation once per seed, in parallel on every core, and panics with the
/// failure of the smallest failing seed, which names the command that replays it. With
/// `WSASIM_SEED=<n>` in the environment, runs only seed `n` and prints its trace.
pub fn check(seeds: impl IntoIterator<Item = u64>, setup: impl Fn(&mut Sim) + Sync) {
    let test = std::thread::current().name().map(str::to_owned);
    let prepare = |seed: u64, keep_trace: bool| {
        let mut sim = Sim::new(seed);
        setup(&mut sim);
        sim.keep_trace(keep_trace).replay_command(replay_command(Some((seed, test.as_deref()))));
        sim
    };
    if let Some(seed) = seed_from_env() {
        match prepare(seed, true).run() {
            Ok(outcome) => eprintln!(
                "{}wsasim: seed {seed} passed (trace hash {:016x})",
                outcome.trace_text(),
                outcome.trace_hash()
            ),
            Err(failure) => {
                eprintln!("{}", failure.trace_text());
                panic!("{failure}");
            }
        }
        return;
    }
    let seeds: Vec<u64> = seeds.into_iter().collect();
    let Some((seed, hash)) = smallest_failure(&seeds, |seed| prepare(seed, false).run()) else {
        return;
    };
    let failure = match prepare(seed, true).run() {
        Err(failure) => failure,
        Ok(_) => {
            panic!("wsasim: seed {seed} failed, then passed when run again: the program is not deterministic")
        }
    };
    assert_eq!(
        failure.trace_hash(),
        hash,
        "wsasim: seed {seed} failed twice with different traces: the program is not deterministic"
    );
    panic!("{failure}");
}

/// Runs every seed on all cores; returns the smallest failing seed and its trace hash.
/// Once a seed fails, larger seeds are skipped.
fn smallest_failure(
    seeds: &[u64],
    run: impl Fn(u64) -> Result<crate::Outcome, Failure> + Sync,
) -> Option<(u64, u64)> {
    let next = AtomicUsize::new(0);
    let found: Mutex<Option<(u64, u64)>> = Mutex::new(None);
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(seeds.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                while let Some(&seed) = seeds.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let beaten = |f: &Option<(u64, u64)>| f.is_some_and(|(best, _)| best < seed);
                    if beaten(&found.lock().expect("no worker panics holding it")) {
                        continue;
                    }
                    if let Err(failure) = run(seed) {
                        let mut f = found.lock().expect("no worker panics holding it");
                        if !beaten(&f) {
                            *f = Some((seed, failure.trace_hash()));
                        }
                    }
                }
            });
        }
    });
    found.into_inner().expect("no worker panicked")
}

fn seed_from_env() -> Option<u64> {
    let value = std::env::var(SEED_VAR).ok()?;
    let seed = value
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("wsasim: {SEED_VAR}={value:?} is not a seed (a number from 0 to 2^64-1)"));
    Some(seed)
}

/// The command that runs this test again: with `WSASIM_SEED` when a sweep found the seed,
/// without when the seed is written in the test. `test` is libtest's thread name, which is
/// the test's path.
pub(crate) fn replay_command(sweep: Option<(u64, Option<&str>)>) -> String {
    let test = match sweep {
        Some((_, name)) => name.map(str::to_owned),
        None => std::thread::current().name().map(str::to_owned),
    };
    let cargo = match test.as_deref() {
        Some(name) if name != "main" => format!("cargo test {name} -- --exact --nocapture"),
        _ => "cargo test".to_owned(),
    };
    match sweep {
        Some((seed, _)) => format!("{SEED_VAR}={seed} {cargo}"),
        None => cargo,
    }
}
