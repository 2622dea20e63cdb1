//! Helpers shared by the test modules.

use wsasim::Win32::Foundation::HANDLE;
use wsasim::{Outcome, Sim};

/// Runs `main` as the only client of a one-host simulation with seed 0, and returns its
/// outcome; a failure fails the test with its report.
pub fn run(main: impl FnOnce() + 'static) -> Outcome {
    run_seed(0, main)
}

pub fn run_seed(seed: u64, main: impl FnOnce() + 'static) -> Outcome {
    let mut sim = Sim::new(seed);
    sim.client("a", "192.0.2.1", main);
    sim.run().unwrap_or_else(|f| panic!("{f}\n{}", f.trace_text()))
}

/// A `HANDLE` that was never given out.
pub const BOGUS: HANDLE = 0x7770 as HANDLE;
