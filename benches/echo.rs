//! The overlapped echo workload of the tests (4 clients x 100 round trips of 64 bytes,
//! one server on events and `WSAWaitForMultipleEvents`), on one core: round trips and seeds
//! per second of host time, keeping nothing of the trace (as `wsasim::check` runs a passing
//! seed) and as `Sim::run()` runs by default (trace and schedule kept), the fixed cost of a
//! seed, and memory over many seeds.
//!
//! `cargo bench --bench echo [-- SEEDS]` (default 2000 seeds); with `ECHO_ONLY=1` in the
//! environment, only the round-trip measure keeping nothing, with `ECHO_ONLY=kept` only the
//! one keeping the trace, with `ECHO_ONLY=short` only seeds of one round trip per client
//! (for profilers).

#[path = "../tests/echo_workload.rs"]
mod echo_workload;

use echo_workload::Echo;
use std::time::Instant;
use wsasim::{Sim, TraceKept};

/// Resident memory of this process, in KiB (Linux).
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap_or("VmRSS: 0 kB");
    line.split_whitespace().nth(1).and_then(|n| n.parse().ok()).unwrap_or(0)
}

/// Runs `seeds` seeds of `setup`, keeping what `kept` says of the trace, returning host
/// seconds, scheduling steps and switches.
fn sweep(seeds: std::ops::Range<u64>, kept: TraceKept, setup: impl Fn(&mut Sim)) -> (f64, u64, u64) {
    let start = Instant::now();
    let (mut steps, mut switches) = (0, 0);
    for seed in seeds {
        let mut sim = Sim::new(seed);
        sim.trace_kept(kept);
        setup(&mut sim);
        let outcome = sim.run().unwrap_or_else(|f| panic!("{f}"));
        steps += outcome.steps();
        switches += outcome.switches();
    }
    (start.elapsed().as_secs_f64(), steps, switches)
}

fn main() {
    let seeds = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(2000u64);
    // STRATEGY=pct:3 (or swarm) runs the echo under another strategy; PCT and bounded
    // preemption draw over the run length of seed 0.
    let strategy = std::env::var("STRATEGY").unwrap_or_else(|_| "random".to_owned());
    let echo = Echo::ISSUE;
    let round_trips = (echo.clients * echo.rounds) as u64;
    let length = {
        let mut sim = Sim::new(0);
        echo.setup(&mut sim);
        sim.trace_kept(TraceKept::Nothing).run().unwrap_or_else(|f| panic!("{f}")).party_decisions()
    };
    let explore = |sim: &mut Sim| {
        sim.run_length(length);
        match strategy.as_str() {
            "swarm" => _ = sim.swarm(Some(wsasim::Swarm { pend_immediate: false, ..Default::default() })),
            s => _ = sim.strategy(s.parse().unwrap_or_else(|e| panic!("STRATEGY: {e}"))),
        }
    };
    let setup = |sim: &mut Sim| {
        echo.setup(sim);
        explore(sim);
    };
    // ECHO_ONLY=1: the round-trip measure alone, keeping nothing; ECHO_ONLY=kept: keeping
    // the trace and schedule; ECHO_ONLY=short: seeds of one round trip (for profilers).
    let only = std::env::var("ECHO_ONLY").ok();
    let short = Echo { rounds: 1, ..echo };
    if only.as_deref() == Some("short") {
        let (secs, _, _) = sweep(0..seeds, TraceKept::Nothing, |sim| short.setup(sim));
        println!("{seeds} seeds of one round trip per client: {:.1} us per seed", secs * 1e6 / seeds as f64);
        return;
    }
    let keep = if only.as_deref() == Some("kept") { TraceKept::Records } else { TraceKept::Nothing };
    sweep(0..50, keep, setup);
    let (secs, steps, switches) = sweep(0..seeds, keep, setup);
    let kept = if keep == TraceKept::Records { ", trace and schedule kept" } else { "" };
    println!(
        "echo ({strategy}{kept}): {seeds} seeds x {round_trips} round trips of {} bytes in {secs:.3} s: {:.3} M round trips/s, {:.0} seeds/s, {:.0} ns per round trip, {:.1} steps and {:.2} switches per round trip",
        echo.message,
        (seeds * round_trips) as f64 / secs / 1e6,
        seeds as f64 / secs,
        secs * 1e9 / (seeds * round_trips) as f64,
        steps as f64 / (seeds * round_trips) as f64,
        switches as f64 / (seeds * round_trips) as f64,
    );
    if only.is_some() {
        return;
    }
    let (kept, _, _) = sweep(0..seeds, TraceKept::Records, setup);
    println!(
        "echo ({strategy}), trace and schedule kept (Sim::run's default): {:.0} ns per round trip, {:.2} times keeping nothing",
        kept * 1e9 / (seeds * round_trips) as f64,
        kept / secs
    );
    // The fixed cost of a seed (set-up, connections, tear-down), as the peer benchmark
    // defines it: a seed of one round trip per client, less its round trips' marginal cost.
    let marginal_s = secs / (seeds * round_trips) as f64;
    let n = 5_000;
    let (secs_1, _, _) = sweep(0..n, TraceKept::Nothing, |sim| short.setup(sim));
    let fixed_us = (secs_1 / n as f64 - echo.clients as f64 * marginal_s) * 1e6;
    println!(
        "fixed cost per seed: {fixed_us:.1} us ({:.1} us per seed of one round trip per client)",
        secs_1 * 1e6 / n as f64
    );
    // Memory: a server left blocked in accept at every seed's end must be freed.
    let blocked = |sim: &mut Sim| {
        Echo { clients: 1, rounds: 1, ..Echo::ISSUE }.setup(sim);
        // SAFETY: live locals of the sizes given.
        sim.host("idle", "192.0.2.99", || unsafe {
            use wsasim::Win32::Networking::WinSock::*;
            let mut data = WSADATA::default();
            WSAStartup(0x0202, &mut data);
            let l = socket(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP);
            let addr = SOCKADDR_IN { sin_family: AF_INET, sin_port: 9u16.to_be(), ..Default::default() };
            bind(l, (&raw const addr).cast(), size_of::<SOCKADDR_IN>() as i32);
            listen(l, 5);
            accept(l, std::ptr::null_mut(), std::ptr::null_mut());
        });
    };
    sweep(0..1_000, TraceKept::Nothing, blocked);
    let after_1k = rss_kib();
    let (secs, _, _) = sweep(1_000..10_000, TraceKept::Nothing, blocked);
    let after_10k = rss_kib();
    println!("a seed that ends with a server blocked in accept: {:.1} us", secs * 1e6 / 9_000.0);
    println!(
        "memory: {after_1k} KiB after 1,000 seeds, {after_10k} KiB after 10,000 (a server blocked in accept at each end)"
    );
}
