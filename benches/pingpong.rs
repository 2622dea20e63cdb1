//! Two simulated threads ping-pong through two auto-reset events; reports scheduling points
//! (scheduler steps) per second of host time, on one core, keeping nothing of the trace (as
//! a sweep runs a passing seed).
//!
//! `cargo bench --bench pingpong [-- ROUNDS SEEDS]` (defaults: 200000 round trips, 5 seeds).

use std::hint::black_box;
use std::ptr::null;
use std::time::Instant;
use wsasim::Win32::Foundation::{FALSE, HANDLE, WAIT_OBJECT_0};
use wsasim::Win32::System::Threading::{CreateEventW, INFINITE, SetEvent, WaitForSingleObject};
use wsasim::{Sim, TraceKept};

fn ping_pong(rounds: u32) {
    // SAFETY: NULL attributes and names are valid; the handles are the run's own.
    unsafe {
        let ping = CreateEventW(null(), FALSE, FALSE, null()) as usize;
        let pong = CreateEventW(null(), FALSE, FALSE, null()) as usize;
        let echo = wsasim::thread::spawn(move || {
            for _ in 0..rounds {
                assert_eq!(WaitForSingleObject(ping as HANDLE, INFINITE), WAIT_OBJECT_0);
                SetEvent(pong as HANDLE);
            }
        });
        for _ in 0..rounds {
            SetEvent(ping as HANDLE);
            assert_eq!(WaitForSingleObject(pong as HANDLE, INFINITE), WAIT_OBJECT_0);
        }
        echo.join().unwrap();
    }
}

fn main() {
    let args: Vec<u64> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let rounds = args.first().copied().unwrap_or(200_000) as u32;
    let seeds = args.get(1).copied().unwrap_or(5);
    let (mut steps, mut calls_s) = (0u64, 0f64);
    for seed in 0..seeds {
        let mut sim = Sim::new(seed);
        sim.trace_kept(TraceKept::Nothing).client("a", "192.0.2.1", move || ping_pong(rounds));
        let start = Instant::now();
        let outcome = sim.run().unwrap_or_else(|f| panic!("{f}"));
        calls_s += start.elapsed().as_secs_f64();
        steps += black_box(outcome.steps());
    }
    let per_s = steps as f64 / calls_s;
    println!(
        "pingpong: {seeds} seeds x {rounds} round trips: {steps} scheduling points in {calls_s:.3} s = {:.2} M scheduling points/s ({:.0} ns each, {:.0} ns per round trip)",
        per_s / 1e6,
        1e9 / per_s,
        calls_s * 1e9 / (seeds * u64::from(rounds)) as f64
    );
}
