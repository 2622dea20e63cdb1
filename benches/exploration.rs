//! How often each strategy finds each planted bug (`tests/planted_bugs.rs`): the fraction
//! of seeds that fail, for the random walk, bounded preemption, PCT of the bug's depth
//! (beside the paper's bound 1/(n·k^(d−1)), with k the run length measured on seed 0 and
//! n the bug's parties) and swarm settings; and that no fixed twin ever fails.
//!
//! Then, for the first 20 failing seeds of each planted bug and each long program
//! (`tests/long_bugs.rs`) under the random walk, what minimising gives
//! (`wsasim::minimise`): deviations from the default schedule and trace lines, before and
//! after, and the ratio of the lines, medians; and the median ratio over the long programs.
//!
//! `cargo bench --bench exploration [-- SEEDS]` (default 10,000 seeds per cell);
//! `-- shrink` for the minimising table alone.

#[path = "../tests/long_bugs.rs"]
mod long_bugs;
#[path = "../tests/planted_bugs.rs"]
mod planted_bugs;

use long_bugs::LONG_BUGS;
use planted_bugs::{BUGS, Bug};
use wsasim::{Budget, Replay, Sim, Strategy, Swarm, minimise};

/// How one column explores.
#[derive(Clone, Copy)]
enum Column {
    Plain(Strategy),
    /// PCT with the depth of the bug in its row.
    PctOfDepth,
    Swarm,
}

fn sim(bug: &Bug, fixed: bool, seed: u64, column: Column, run_length: u64) -> Sim {
    let mut sim = Sim::new(seed);
    sim.keep_trace(false).run_length(run_length);
    (bug.setup)(&mut sim, fixed);
    match column {
        Column::Plain(s) => _ = sim.strategy(s),
        Column::PctOfDepth => _ = sim.strategy(Strategy::pct(bug.depth as usize)),
        Column::Swarm => _ = sim.swarm(Some(Swarm::default())),
    }
    sim
}

/// Seeds of `seeds` on which the run fails.
fn failures(bug: &Bug, fixed: bool, seeds: u64, column: Column, run_length: u64) -> u64 {
    (0..seeds).filter(|&seed| sim(bug, fixed, seed, column, run_length).run().is_err()).count() as u64
}

fn main() {
    let seeds = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(10_000u64);
    if std::env::args().any(|a| a == "shrink") {
        return shrink_table();
    }
    let columns = [
        ("random", Column::Plain(Strategy::RandomWalk)),
        ("pb:1", Column::Plain(Strategy::preemptions(1))),
        ("pb:2", Column::Plain(Strategy::preemptions(2))),
        ("pct:d", Column::PctOfDepth),
        ("swarm", Column::Swarm),
    ];
    println!("{seeds} seeds per cell; k = decisions of which party runs on seed 0 (random walk)\n");
    let names: Vec<&str> = columns.iter().map(|(n, _)| *n).collect();
    println!("| bug | depth | n | k | {} | PCT bound | fixed twins failing |", names.join(" | "));
    println!("|---|---:|---:|---:|{}---:|---:|", "---:|".repeat(columns.len()));
    for bug in &BUGS {
        let mut first = Sim::new(0);
        (bug.setup)(&mut first, false);
        let k = match first.run() {
            Ok(o) => o.party_decisions(),
            Err(f) => f.party_decisions(),
        }
        .max(1);
        let cells: Vec<String> = columns
            .iter()
            .map(|(_, c)| format!("{:.4}", failures(bug, false, seeds, *c, k) as f64 / seeds as f64))
            .collect();
        let fixed: u64 = columns.iter().map(|(_, c)| failures(bug, true, seeds, *c, k)).sum();
        let bound = 1.0 / (f64::from(bug.parties) * (k as f64).powi(bug.depth as i32 - 1));
        println!(
            "| {} | {} | {} | {k} | {} | {bound:.4} | {fixed} |",
            bug.name,
            bug.depth,
            bug.parties,
            cells.join(" | ")
        );
    }
    shrink_table();
}

fn median(mut v: Vec<usize>) -> usize {
    v.sort_unstable();
    v[v.len() / 2]
}

/// Original against minimised, over the first 20 failing seeds of each program: the
/// planted bugs, then the long programs.
fn shrink_table() {
    println!(
        "\n| program | failing seeds | deviations (median) | minimised | trace lines (median) | minimised | ratio (median) | runs (median) |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let programs = BUGS
        .iter()
        .map(|b| (b.name, b.setup, false))
        .chain(LONG_BUGS.iter().map(|b| (b.name, b.setup, true)));
    let mut ratios = Vec::new();
    for (name, setup, long) in programs {
        let build = |seed: u64| {
            let mut sim = Sim::new(seed);
            setup(&mut sim, false);
            sim
        };
        let failures: Vec<_> = (0..20_000).filter_map(|seed| build(seed).run().err()).take(20).collect();
        let mut rows: [Vec<usize>; 6] = Default::default();
        for f in &failures {
            let replay = |r: Replay| build(r.schedule.seed).replay(r).run();
            let m = minimise(f, Budget::default(), &replay).expect("a kept schedule");
            let row = [
                f.deviations() as usize,
                m.failure.deviations() as usize,
                f.trace_len(),
                m.failure.trace_len(),
                m.failure.trace_len() * 1000 / f.trace_len(),
                m.runs as usize,
            ];
            rows.iter_mut().zip(row).for_each(|(r, v)| r.push(v));
        }
        let [d0, d1, l0, l1, ratio, runs] = rows.map(median);
        if long {
            ratios.push(ratio);
        }
        println!(
            "| {name} | {} | {d0} | {d1} | {l0} | {l1} | {:.3} | {runs} |",
            failures.len(),
            ratio as f64 / 1000.0
        );
    }
    ratios.sort_unstable();
    let middle = (ratios[(ratios.len() - 1) / 2] + ratios[ratios.len() / 2]) as f64 / 2000.0;
    println!("\nmedian ratio over the long programs: {middle:.3}");
}
