//! Minimising a failing run (wsasim_sim `shrink`): the planted bugs' failures shrink to
//! fewer deviations from the default schedule, still fail the same way on replay, and
//! shrink the same way every time; the long programs' late failures move early.

use crate::long_bugs::LONG_BUGS;
use crate::planted_bugs::{BUGS, Bug};
use crate::runner::failure_of;
use std::time::Duration;
use wsasim::{Budget, Check, Failure, Replay, Sim, Strategy, minimise, same_failure};

/// The default run bound, without the host-time bound, which could end a search early on
/// a slow machine and change what it finds.
const UNTIMED: Budget = Budget { runs_max: 500, time_max: Duration::MAX };

fn sim(bug: Bug, seed: u64) -> Sim {
    let mut sim = Sim::new(seed);
    (bug.setup)(&mut sim, false);
    sim
}

/// The first `n` failing seeds of `bug` under the random walk, their traces kept.
fn failures(bug: Bug, n: usize) -> Vec<Failure> {
    (0..2000).filter_map(|seed| sim(bug, seed).run().err()).take(n).collect()
}

fn shrunk(bug: Bug, failure: &Failure, budget: Budget) -> wsasim::Minimised {
    let replay = |replay: Replay| sim(bug, replay.schedule.seed).replay(replay).run();
    minimise(failure, budget, &replay).expect("a failure that kept its schedule minimises")
}

#[test]
fn every_planted_failure_shrinks_to_no_more_deviations_and_replays_the_same_failure() {
    for bug in BUGS {
        for failure in failures(bug, 5) {
            let m = shrunk(bug, &failure, Budget::default());
            assert!(
                same_failure(m.failure.kind(), failure.kind()),
                "{}: {} vs {}",
                bug.name,
                m.failure,
                failure
            );
            assert!(
                m.failure.deviations() <= failure.deviations(),
                "{}: {} > {}",
                bug.name,
                m.failure.deviations(),
                failure.deviations()
            );
            assert_eq!(m.budget_hit, None);
            // The minimised schedule, replayed strictly, is that run again.
            let schedule = m.failure.schedule().unwrap().clone();
            let again = sim(bug, schedule.seed).replay_schedule(schedule).run().expect_err("it still fails");
            assert_eq!(again.trace_hash(), m.failure.trace_hash(), "{}", bug.name);
        }
    }
}

#[test]
fn shrinking_is_deterministic() {
    let bug = *BUGS.iter().find(|b| b.name == "torn_sequence").unwrap();
    for failure in failures(bug, 3) {
        let a = shrunk(bug, &failure, UNTIMED);
        let b = shrunk(bug, &failure, UNTIMED);
        assert_eq!(a.failure.schedule(), b.failure.schedule());
        assert_eq!(a.runs, b.runs);
    }
    let long = LONG_BUGS.iter().find(|b| b.name == "lost_completion").unwrap();
    let build = |seed| long_sim(long.setup, false, seed);
    let failure = (0..50).find_map(|s| build(s).run().err()).unwrap();
    let replay = |r: Replay| build(r.schedule.seed).replay(r).run();
    let a = minimise(&failure, UNTIMED, &replay).unwrap();
    let b = minimise(&failure, UNTIMED, &replay).unwrap();
    assert_eq!((a.failure.schedule(), a.runs), (b.failure.schedule(), b.runs));
}

#[test]
fn a_spent_budget_is_reported() {
    let bug = *BUGS.iter().find(|b| b.name == "lost_update").unwrap();
    let failure = failures(bug, 1).pop().unwrap();
    let m = shrunk(bug, &failure, Budget { runs_max: 1, ..Budget::default() });
    assert_eq!(m.budget_hit.as_deref(), Some("1 runs (Budget::runs_max)"));
    assert_eq!(m.runs, 1);
}

#[test]
fn check_reports_the_minimised_schedule_and_it_replays() {
    let lost_update = |sim: &mut Sim| (BUGS[3].setup)(sim, false);
    let message = failure_of(|| Check::new(0..100).strategy(Strategy::pct(2)).run(lost_update));
    assert!(message.contains("\nminimised: "), "{message}");
    assert!(message.contains(" deviations from the default schedule (of "), "{message}");
    let path = message.lines().find_map(|l| l.strip_prefix("schedule: ")).unwrap();
    let schedule: wsasim::Schedule = std::fs::read_to_string(path).unwrap().parse().unwrap();
    let again = {
        let mut s = Sim::new(0);
        lost_update(&mut s);
        s.replay_schedule(schedule).run()
    };
    assert!(again.expect_err("it fails").to_string().contains("an update was lost"));
    let plain = failure_of(|| Check::new(0..100).strategy(Strategy::pct(2)).shrink(None).run(lost_update));
    assert!(!plain.contains("minimised: "), "{plain}");
}

#[test]
fn a_minimised_trace_marks_its_deviations_and_can_leave_the_scheduling_out() {
    let bug = *BUGS.iter().find(|b| b.name == "lost_update").unwrap();
    let failure = failures(bug, 1).pop().unwrap();
    let m = shrunk(bug, &failure, Budget::default());
    let n = m.failure.deviations();
    assert!(n > 0, "lost_update needs a deviation");
    let marked = m.failure.trace_text_marked(false);
    let marks: Vec<&str> = marked.lines().filter(|l| l.contains("  <- deviation ")).collect();
    assert!(!marks.is_empty() && marks.len() as u64 <= n, "{marked}");
    assert!(marks.iter().all(|l| l.contains("  ~ run ") && l.ends_with(&format!(" of {n}"))), "{marked}");
    assert_eq!(
        marked.replace(&format!(" of {n}"), "").lines().count(),
        m.failure.trace_text().lines().count()
    );
    let calls = m.failure.trace_text_marked(true);
    assert!(!calls.contains("  ~ ") && calls.contains("GetTickCount()"), "{calls}");
}

fn long_sim(setup: fn(&mut Sim, bool), fixed: bool, seed: u64) -> Sim {
    let mut sim = Sim::new(seed);
    setup(&mut sim, fixed);
    sim
}

#[test]
fn long_programs_fail_and_their_fixed_twins_never_do() {
    for bug in LONG_BUGS {
        let failing = (0..300).find(|&s| long_sim(bug.setup, false, s).keep_trace(false).run().is_err());
        assert!(failing.is_some(), "{}: no failure in 300 seeds", bug.name);
        for seed in 0..20 {
            let run = long_sim(bug.setup, true, seed).keep_trace(false).run();
            assert!(run.is_ok(), "{} fixed: {}", bug.name, run.unwrap_err());
        }
    }
}

#[test]
fn a_long_programs_minimised_failure_replays_the_same_and_is_no_longer() {
    for bug in LONG_BUGS {
        let build = |seed| long_sim(bug.setup, false, seed);
        let failure = (0..300).find_map(|s| build(s).run().err()).unwrap();
        let replay = |r: Replay| build(r.schedule.seed).replay(r).run();
        let m = minimise(&failure, Budget { runs_max: 100, ..Budget::default() }, &replay).unwrap();
        assert!(same_failure(m.failure.kind(), failure.kind()), "{}: {}", bug.name, m.failure);
        assert!(m.failure.trace_len() <= failure.trace_len(), "{}", bug.name);
        assert!(m.failure.deviations() <= failure.deviations(), "{}", bug.name);
        let schedule = m.failure.schedule().unwrap().clone();
        let again = build(schedule.seed).replay_schedule(schedule).run().expect_err("it still fails");
        assert_eq!(again.trace_hash(), m.failure.trace_hash(), "{}", bug.name);
    }
}

#[test]
fn a_late_failure_moves_to_where_the_tasks_first_meet() {
    let bug = LONG_BUGS.iter().find(|b| b.name == "torn_read_rounds").unwrap();
    let build = |seed| long_sim(bug.setup, false, seed);
    let late: Vec<(u64, Failure)> = (0..100)
        .filter_map(|s| build(s).run().err().map(|f| (s, f)))
        .filter(|(_, f)| f.elapsed() > Duration::from_millis(100))
        .take(3)
        .collect();
    assert_eq!(late.len(), 3);
    for (seed, failure) in late {
        let replay = |r: Replay| build(r.schedule.seed).replay(r).run();
        let m = minimise(&failure, UNTIMED, &replay).unwrap();
        assert_eq!(m.budget_hit, None, "seed {seed}");
        assert!(same_failure(m.failure.kind(), failure.kind()), "seed {seed}: {}", m.failure);
        assert!(m.failure.elapsed() < Duration::from_millis(1), "seed {seed}: {:?}", m.failure.elapsed());
        assert!(m.failure.trace_len() * 10 < failure.trace_len(), "seed {seed}");
    }
}

#[test]
fn a_panic_that_differs_in_its_numbers_is_the_same_failure() {
    let panic =
        |message: &str| wsasim::FailureKind::Panic { thread: "a/main".into(), message: message.into() };
    let at = " (at tests/x.rs:10:5)";
    let same = |a: &str, b: &str| same_failure(&panic(a), &panic(b));
    assert!(same(&format!("round 40: lost{at}"), &format!("round 1: lost{at}")));
    assert!(!same(&format!("round 40: lost{at}"), "round 40: lost (at tests/x.rs:11:5)"));
    assert!(!same(&format!("round 1: lost{at}"), &format!("round 1: torn{at}")));
    assert!(!same("a1b", "ab"));
}

#[test]
fn no_two_decisions_of_a_run_share_an_anchor() {
    use wsasim::Win32::Networking::WinSock::*;
    use wsasim::Win32::System::Threading::*;
    // A thread alone, whose waits are satisfied at once and whose receives block, with
    // latency draws in between: the case where turns and steps are easiest to confuse.
    let mut sim = Sim::new(3);
    sim.link_latency("a", "a", Duration::from_micros(1), Duration::from_micros(50));
    sim.client("a", "192.0.2.1", || unsafe {
        let mut data = WSADATA::default();
        WSAStartup(0x0202, &mut data);
        let (c, s) = crate::planted_bugs::pair();
        let ev = CreateEventW(std::ptr::null(), 1, 1, std::ptr::null());
        let mut buf = [0u8; 1];
        for _ in 0..5 {
            WaitForSingleObject(ev, 0);
            send(c, b"x".as_ptr(), 1, 0);
            recv(s, buf.as_mut_ptr(), 1, 0);
            send(c, b"y".as_ptr(), 1, 0);
            recv(s, buf.as_mut_ptr(), 1, 0);
        }
        panic!("the end");
    });
    let failure = sim.run().expect_err("it panics at the end");
    let anchors: std::collections::BTreeSet<_> = failure.directives().iter().map(|d| d.anchor).collect();
    assert!(failure.directives().len() > 10, "{}", failure.directives().len());
    assert_eq!(anchors.len(), failure.directives().len());
}
