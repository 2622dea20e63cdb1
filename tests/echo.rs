//! The overlapped echo workload over many seeds, its trace, and a planted bug that a real
//! network exposes: a client that takes one receive for a whole message.

use crate::echo_workload::Echo;
use wsasim::Sim;

#[test]
fn the_overlapped_echo_passes_over_1000_seeds() {
    wsasim::check(0..1000, |sim| Echo::ISSUE.setup(sim));
}

#[test]
fn the_same_seed_gives_the_same_trace() {
    let distinct = crate::harness::distinct_traces(0..20, |sim| Echo::ISSUE.setup(sim));
    assert_eq!(distinct, 20, "every seed takes its own path");
}

#[test]
fn every_byte_of_the_echo_is_accounted_for() {
    let mut sim = Sim::new(3);
    Echo::ISSUE.setup(&mut sim);
    let c = sim.run().unwrap_or_else(|f| panic!("{f}")).conservation();
    let bytes = 2 * 4 * 100 * 64;
    assert_eq!((c.tcp_accepted, c.tcp_read, c.tcp_pending, c.tcp_discarded), (bytes, bytes, 0, 0));
    assert!(c.holds());
}

#[test]
fn a_small_echo_trace() {
    let mut sim = Sim::new(0);
    Echo { clients: 2, rounds: 2, message: 8, one_receive_per_message: false }.setup(&mut sim);
    let outcome = sim.run().unwrap_or_else(|f| panic!("{f}"));
    insta::assert_snapshot!(outcome.trace_text());
}

#[test]
fn the_echo_handles_operations_that_pend_instead_of_completing_at_once() {
    // Sim::pend_immediate: the same program, with every immediate completion made a
    // seeded coin toss.
    wsasim::check(0..200, |sim| {
        Echo::ISSUE.setup(sim);
        sim.pend_immediate(true);
    });
}

fn planted(sim: &mut Sim) {
    Echo { one_receive_per_message: true, ..Echo::ISSUE }.setup(sim);
}

#[test]
fn check_finds_the_client_that_takes_one_receive_for_a_whole_message() {
    let message = crate::runner::failure_of(|| wsasim::check(0..100, planted));
    assert!(message.contains("one receive returns the whole message"), "{message}");
    let seed = crate::runner::seed_of(&message);
    let replay = format!(
        "replay: WSASIM_SEED={seed} cargo test echo::check_finds_the_client_that_takes_one_receive_for_a_whole_message -- --exact --nocapture"
    );
    assert!(message.contains(&replay), "{message}");
    // The printed command, run through this test binary, fails the same way with the same trace.
    let stderr = crate::runner::replay_through_this_binary("echo::planted_replay_target", seed);
    assert!(stderr.contains(&format!("seed {seed} failed")), "{stderr}");
    let mut sim = Sim::new(seed);
    planted(&mut sim);
    let trace = sim.run().unwrap_err().trace_text();
    assert!(stderr.contains(&trace), "the printed trace is the seed's trace");
}

#[test]
#[ignore = "run by check_finds_the_client_that_takes_one_receive_for_a_whole_message"]
fn planted_replay_target() {
    wsasim::check(0..100, planted);
}

/// All that a failing `check` says, as a user reads it under the test's output: the seed,
/// what failed and where, the commands that replay it, the minimised schedule.
#[test]
fn a_failing_check_says_this_and_no_more() {
    let message = crate::runner::failure_of(|| wsasim::check(0..100, planted));
    let message = message.replace(env!("CARGO_MANIFEST_DIR"), "[root]");
    insta::assert_snapshot!(message);
}
