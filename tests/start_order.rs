//! Hosts start at seeded moments (`Sim::start_spread`), so a program that assumes its
//! server is up first is caught. The planted twin: a client that connects once, at once,
//! with the network's default latency (`planted_bugs`' `connect_before_listen` with the
//! defaults: 50 to 150 µs, hosts within 1 ms); its fixed twin tries again while refused.

use crate::harness::distinct_traces;
use std::time::Duration;
use wsasim::Sim;
use wsasim::Win32::System::Threading::Sleep;

/// The planted `connect_before_listen`, with the default latency and start spread back.
fn connects_once(sim: &mut Sim, fixed: bool) {
    (crate::planted_bugs::BUGS.iter().find(|b| b.name == "connect_before_listen").expect("planted").setup)(
        sim, fixed,
    );
    sim.latency(Duration::from_micros(50), Duration::from_micros(150)).start_spread(Duration::from_millis(1));
}

/// The seeds of `seeds` on which the program fails.
fn failing(seeds: std::ops::Range<u64>, fixed: bool, spread: Option<Duration>) -> Vec<u64> {
    seeds
        .filter(|&seed| {
            let mut sim = Sim::new(seed);
            connects_once(&mut sim, fixed);
            if let Some(s) = spread {
                sim.start_spread(s);
            }
            sim.keep_trace(false).run().is_err()
        })
        .collect()
}

#[test]
fn a_client_that_assumes_its_server_is_up_is_caught_by_the_default_start_spread() {
    // Hosts that start together, as every run did before: the request, 50 µs or more on
    // the wire, always finds the server listening.
    assert_eq!(failing(0..2000, false, Some(Duration::ZERO)), Vec::<u64>::new());
    let found = failing(0..200, false, None);
    assert!(found.first().is_some_and(|&s| s < 10), "first failing seeds: {found:?}");
    assert!(found.len() > 40, "{} of 200 seeds", found.len());
    assert_eq!(failing(0..500, true, None), Vec::<u64>::new(), "the twin that tries again");
}

#[test]
fn a_start_is_a_recorded_decision_and_the_same_seed_starts_the_same() {
    let distinct = distinct_traces(0..20, |sim| connects_once(sim, true));
    assert_eq!(distinct, 20);
    let mut sim = Sim::new(3);
    connects_once(&mut sim, true);
    let outcome = sim.run().unwrap();
    let schedule = outcome.schedule().expect("a kept schedule").to_string();
    assert_eq!(schedule.matches(" start=").count() + schedule.matches("\nstart=").count(), 2, "{schedule}");
    // One host alone starts with the run: it has no other to be up before.
    let mut alone = Sim::new(3);
    alone.client("a", "192.0.2.1", || unsafe { Sleep(5) });
    let text = alone.run().unwrap().trace_text();
    assert!(text.starts_with("0.000002000  a/main  Sleep(5) blocks"), "its first step, as ever: {text}");
}
