//! The runner: seeds, determinism, failures and their replay, limits, leaks, traces.

use crate::harness::run_seed;
use std::cell::Cell;
use std::collections::BTreeSet;
use std::rc::Rc;
use std::time::Duration;
use wsasim::Win32::Foundation::*;
use wsasim::Win32::Networking::WinSock::*;
use wsasim::Win32::System::Threading::*;
use wsasim::{FailureKind, Sim, thread};

/// Two threads ping-pong through two auto-reset events, `rounds` times.
fn ping_pong(rounds: u32) {
    unsafe {
        let ping = CreateEventW(std::ptr::null(), FALSE, FALSE, std::ptr::null()) as usize;
        let pong = CreateEventW(std::ptr::null(), FALSE, FALSE, std::ptr::null()) as usize;
        let echo = thread::spawn(move || {
            for _ in 0..rounds {
                assert_eq!(WaitForSingleObject(ping as HANDLE, INFINITE), WAIT_OBJECT_0);
                SetEvent(pong as HANDLE);
            }
        });
        for _ in 0..rounds {
            SetEvent(ping as HANDLE);
            assert_eq!(WaitForSingleObject(pong as HANDLE, 1000), WAIT_OBJECT_0);
        }
        echo.join().unwrap();
        CloseHandle(ping as HANDLE);
        CloseHandle(pong as HANDLE);
    }
}

#[test]
fn the_issue_example_passes_over_500_seeds() {
    wsasim::check(0..500, |sim| {
        sim.client("a", "192.0.2.1", || unsafe {
            let ev = WSACreateEvent(); // WSAEVENT is isize in windows-sys; the wait takes HANDLEs
            let t = thread::spawn(move || {
                WSASetEvent(ev);
            });
            let r = WSAWaitForMultipleEvents(1, &(ev as HANDLE), 0, 1000, 0);
            assert_eq!(r, WSA_WAIT_EVENT_0 as u32);
            t.join().unwrap();
            WSACloseEvent(ev);
        });
    });
}

#[test]
fn the_same_seed_gives_the_same_trace_over_200_seeds() {
    let mut distinct = BTreeSet::new();
    for seed in 0..200 {
        let a = run_seed(seed, || ping_pong(20));
        let b = run_seed(seed, || ping_pong(20));
        assert_eq!(a.trace_hash(), b.trace_hash(), "seed {seed}");
        assert_eq!(a.trace_text(), b.trace_text(), "seed {seed}");
        distinct.insert(a.trace_hash());
    }
    assert!(distinct.len() > 150, "only {} distinct traces in 200 seeds", distinct.len());
}

/// Passes a pointer as an APC's argument, and fails with a panic: neither the address nor
/// the panic's source path may reach the trace.
fn addresses_and_panics(sim: &mut Sim) {
    unsafe extern "system" fn touch(context: usize) {
        unsafe { *(context as *mut u32) += 1 };
    }
    sim.client("a", "192.0.2.1", || unsafe {
        let mut counter = Box::new(0u32);
        QueueUserAPC(Some(touch), GetCurrentThread(), &mut *counter as *mut u32 as usize);
        assert_eq!(SleepEx(0, TRUE), WAIT_IO_COMPLETION);
        assert_eq!(*counter, 2, "planted failure");
    });
}

#[test]
fn a_seed_gives_the_same_trace_on_another_os_thread() {
    let on_new_thread = || {
        std::thread::spawn(|| {
            let _ = vec![0u8; 4096 * 7]; // moves the allocator, so addresses differ
            let mut sim = Sim::new(3);
            addresses_and_panics(&mut sim);
            let f = sim.run().unwrap_err();
            (f.trace_hash(), f.trace_text())
        })
        .join()
        .unwrap()
    };
    let (a, b) = (on_new_thread(), on_new_thread());
    assert_eq!(a, b);
    assert!(a.1.contains("apc(&)"), "{}", a.1);
    assert!(a.1.contains("panic: assertion"), "{}", a.1);
    assert!(!a.1.contains("tests/runner.rs"), "no source path in the trace:\n{}", a.1);
}

#[test]
fn keeping_the_trace_does_not_change_the_run() {
    let hash = |keep: bool| {
        let mut sim = Sim::new(11);
        sim.keep_trace(keep).client("a", "192.0.2.1", || ping_pong(5));
        sim.run().unwrap().trace_hash()
    };
    assert_eq!(hash(true), hash(false));
}

#[test]
fn a_race_on_one_event_ends_differently_across_seeds() {
    // A setter and a resetter race; the waiter's 5 ms wait sees whichever came last. The
    // scheduler must explore both orders.
    let mut results = BTreeSet::new();
    for seed in 0..100 {
        let result = Rc::new(Cell::new(0));
        let r = result.clone();
        run_seed(seed, move || unsafe {
            let ev = WSACreateEvent() as usize;
            let set = thread::spawn(move || WSASetEvent(ev as isize));
            let reset = thread::spawn(move || WSAResetEvent(ev as isize));
            set.join().unwrap();
            reset.join().unwrap();
            r.set(WaitForSingleObject(ev as HANDLE, 5));
            WSACloseEvent(ev as isize);
        });
        results.insert(result.get());
    }
    assert_eq!(results, BTreeSet::from([WAIT_OBJECT_0, WAIT_TIMEOUT]));
}

/// A planted lost wakeup: the waiter checks a flag, and only then resets the event it will
/// wait on. If the worker sets the flag and the event in between, the reset erases the
/// signal and the waiter waits forever.
fn lost_wakeup(sim: &mut Sim) {
    sim.client("a", "192.0.2.1", || unsafe {
        let ready = Rc::new(Cell::new(false));
        let ev = CreateEventW(std::ptr::null(), TRUE, FALSE, std::ptr::null()) as usize;
        let flag = ready.clone();
        let worker = thread::spawn(move || {
            flag.set(true);
            SetEvent(ev as HANDLE);
        });
        if !ready.get() {
            ResetEvent(ev as HANDLE);
            WaitForSingleObject(ev as HANDLE, INFINITE);
        }
        worker.join().unwrap();
    });
}

/// The seed a failure message names.
pub(crate) fn seed_of(message: &str) -> u64 {
    message.split("seed ").nth(1).and_then(|s| s.split(' ').next()).and_then(|s| s.parse().ok()).unwrap()
}

/// Runs the ignored test `target` of this binary with `WSASIM_SEED=seed`, as a printed
/// replay command does; returns its stderr, after checking that it failed.
pub(crate) fn replay_through_this_binary(target: &str, seed: u64) -> String {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([target, "--exact", "--ignored", "--nocapture"])
        .env("WSASIM_SEED", seed.to_string())
        .output()
        .unwrap();
    assert!(!output.status.success(), "the replay of seed {seed} fails");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub(crate) fn failure_of(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
    let payload = std::panic::catch_unwind(f).expect_err("the sweep finds the bug");
    payload.downcast_ref::<String>().cloned().expect("a formatted panic message")
}

#[test]
fn check_finds_a_planted_lost_wakeup_within_200_seeds_and_names_the_replay() {
    let message = failure_of(|| wsasim::check(0..200, lost_wakeup));
    let first = (0..200)
        .find(|&seed| {
            let mut sim = Sim::new(seed);
            lost_wakeup(&mut sim);
            sim.run().is_err()
        })
        .expect("some seed fails");
    assert!(message.contains(&format!("seed {first} failed")), "{message}");
    assert!(message.contains("deadlock"), "{message}");
    assert!(
        message.contains("a/main blocked in WaitForSingleObject, waiting on [0x104], forever"),
        "{message}"
    );
    let replay = format!(
        "replay: WSASIM_SEED={first} cargo test runner::check_finds_a_planted_lost_wakeup_within_200_seeds_and_names_the_replay -- --exact --nocapture"
    );
    assert!(message.contains(&replay), "{message}");

    // Replaying the seed gives the same failure and the same trace.
    let replays: Vec<_> = (0..2)
        .map(|_| {
            let mut sim = Sim::new(first);
            lost_wakeup(&mut sim);
            sim.run().expect_err("the seed fails again")
        })
        .collect();
    assert_eq!(replays[0].kind(), replays[1].kind());
    assert_eq!(replays[0].trace_text(), replays[1].trace_text());
    assert!(replays[0].trace_text().contains("ResetEvent(0x104) = TRUE"));
}

/// Not run by default: the target of `the_printed_replay_command_reproduces_the_failure`,
/// which runs it with `WSASIM_SEED` through this test binary.
#[test]
#[ignore = "run by the_printed_replay_command_reproduces_the_failure"]
fn replay_target() {
    wsasim::check(0..200, lost_wakeup);
}

#[test]
fn the_printed_replay_command_reproduces_the_failure() {
    let message = failure_of(|| wsasim::check(0..200, lost_wakeup));
    let seed = seed_of(&message);
    let stderr = replay_through_this_binary("runner::replay_target", seed);
    assert!(stderr.contains(&format!("seed {seed} failed")), "{stderr}");
    assert!(stderr.contains("ResetEvent(0x104) = TRUE"), "the trace is printed:\n{stderr}");
    let mut sim = Sim::new(seed);
    lost_wakeup(&mut sim);
    let trace = sim.run().unwrap_err().trace_text();
    assert!(stderr.contains(&trace), "the printed trace is the seed's trace:\n{stderr}");
}

/// Seed 3 of ten spins without a Win32 call: run by the test below, with a watchdog of 1 s.
#[test]
#[ignore = "run by a_seed_that_spins_without_calls_is_named_by_the_watchdog"]
fn spin_target() {
    wsasim::check(0..10, |sim| {
        let spins = sim.seed() == 3;
        sim.client("a", "192.0.2.1", move || unsafe {
            Sleep(1);
            if spins {
                loop {
                    std::hint::spin_loop();
                }
            }
        });
    });
}

#[test]
fn a_seed_that_spins_without_calls_is_named_by_the_watchdog() {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["runner::spin_target", "--exact", "--ignored", "--nocapture"])
        .env(wsasim::WATCHDOG_VAR, "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("wsasim: seed 3 has run for 1 s of host time without ending"), "{stderr}");
    assert!(stderr.contains("WSASIM_SEED=3 cargo test runner::spin_target"), "{stderr}");
}

#[test]
fn a_setup_that_panics_fails_the_sweep_at_once() {
    // The panic reaches the caller: no worker waits for the seed it was to run, and the
    // watchdog does not take it for a seed that spins.
    let message =
        failure_of(|| wsasim::check(0..4, |sim| panic!("a setup that panics at seed {}", sim.seed())));
    assert!(message.contains("a setup that panics"), "{message}");
}

#[test]
fn limits_on_steps_and_time_are_named_when_hit() {
    let spin = || loop {
        thread::yield_now();
    };
    let mut sim = Sim::new(0);
    sim.steps_max(1000).client("a", "192.0.2.1", spin);
    let f = sim.run().unwrap_err();
    assert_eq!(f.kind(), &FailureKind::StepLimit { steps_max: 1000 });
    assert!(f.to_string().contains("Sim::steps_max"), "{f}");

    let mut sim = Sim::new(0);
    sim.time_max(Duration::from_secs(10)).client("a", "192.0.2.1", || unsafe {
        loop {
            Sleep(1000);
        }
    });
    let f = sim.run().unwrap_err();
    assert_eq!(f.kind(), &FailureKind::TimeLimit { time_max: Duration::from_secs(10) });
    assert!(f.elapsed() <= Duration::from_secs(10), "{:?}", f.elapsed());
}

#[test]
fn a_loop_of_calls_without_scheduling_points_still_meets_the_step_limit() {
    // GetLastError touches only the caller's state: no scheduling point each time, but each
    // counts as a step, so the loop ends after about as many calls as the limit.
    let calls = Rc::new(Cell::new(0u64));
    let counted = calls.clone();
    let mut sim = Sim::new(0);
    sim.steps_max(100_000).client("a", "192.0.2.1", move || unsafe {
        loop {
            GetLastError();
            counted.set(counted.get() + 1);
        }
    });
    let f = sim.run().unwrap_err();
    assert_eq!(f.kind(), &FailureKind::StepLimit { steps_max: 100_000 });
    assert!((99_000..=101_000).contains(&calls.get()), "{} calls", calls.get());
}

#[test]
fn a_kept_trace_is_cut_at_its_memory_bound_and_the_run_goes_on_as_if_it_were_not() {
    let set_for_ever = || unsafe {
        let ev = CreateEventA(std::ptr::null(), TRUE, FALSE, std::ptr::null());
        loop {
            SetEvent(ev);
        }
    };
    let run = |kept| {
        let mut sim = Sim::new(0);
        sim.trace_kept(kept).trace_bytes_max(1 << 20).steps_max(200_000).client(
            "a",
            "192.0.2.1",
            set_for_ever,
        );
        sim.run().unwrap_err()
    };
    let (kept, hashed) = (run(wsasim::TraceKept::Records), run(wsasim::TraceKept::Hash));
    assert_eq!(kept.kind(), &FailureKind::StepLimit { steps_max: 200_000 });
    assert_eq!(kept.kind(), hashed.kind());
    assert_eq!(kept.trace_hash(), hashed.trace_hash(), "the hash covers the entries past the cut");
    assert!((1_000..200_000).contains(&kept.trace_len()), "{} entries kept", kept.trace_len());
    let text = kept.trace_text();
    assert!(
        text.ends_with(
            "it reached Sim::trace_bytes_max; the run went on, and its hash covers every entry)\n"
        ),
        "{}",
        &text[text.len() - 200..]
    );
}

#[test]
fn a_server_host_is_stopped_when_the_clients_are_done() {
    let dropped = Rc::new(Cell::new(false));
    struct Flag(Rc<Cell<bool>>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.set(true);
        }
    }
    let flag = Flag(dropped.clone());
    let mut sim = Sim::new(1);
    sim.host("server", "192.0.2.10", move || unsafe {
        let _flag = flag;
        let ev = WSACreateEvent();
        WSAWaitForMultipleEvents(1, &(ev as HANDLE), FALSE, WSA_INFINITE, FALSE);
    });
    sim.client("client", "192.0.2.11", || thread::sleep(Duration::from_millis(3)));
    let outcome = sim.run().unwrap();
    assert!(dropped.get(), "the server's stack was unwound");
    assert!(outcome.leaks().is_empty(), "a stopped server's events are not leaks");
}

#[test]
fn leaked_events_are_reported_and_can_fail_the_run() {
    let leaky = |sim: &mut Sim| {
        sim.client("a", "192.0.2.1", || unsafe {
            let kept = WSACreateEvent();
            let closed = WSACreateEvent();
            WSACloseEvent(closed);
            let _ = kept;
        });
    };
    let mut sim = Sim::new(0);
    leaky(&mut sim);
    let outcome = sim.run().unwrap();
    assert_eq!(outcome.leaks().len(), 1);
    assert_eq!(outcome.leaks()[0].handle, 0x104);
    assert_eq!(outcome.leaks()[0].thread, "a/main");

    let mut sim = Sim::new(0);
    leaky(&mut sim);
    let f = sim.fail_on_leaks(true).run().unwrap_err();
    assert!(matches!(f.kind(), FailureKind::Leaks { leaks } if leaks.len() == 1), "{f}");
    assert!(f.to_string().contains("event 0x104 created by a/main"), "{f}");
}

#[test]
fn a_host_main_panic_fails_the_run_with_its_message_and_location() {
    let mut sim = Sim::new(3);
    sim.client("a", "192.0.2.1", || {
        let x = 2;
        assert_eq!(x, 3, "arithmetic");
    });
    let f = sim.run().unwrap_err();
    let text = f.to_string();
    assert!(text.contains("seed 3 failed"), "{text}");
    assert!(text.contains("thread a/main panicked"), "{text}");
    assert!(text.contains("arithmetic"), "{text}");
    assert!(text.contains("tests/runner.rs:"), "{text}");
    assert!(text.contains("replay: cargo test runner::a_host_main_panic"), "{text}");
}

#[test]
fn the_trace_of_a_ping_pong() {
    let outcome = run_seed(7, || ping_pong(3));
    insta::assert_snapshot!(outcome.trace_text());
}

#[test]
fn the_trace_as_json_lines() {
    let outcome = run_seed(7, || ping_pong(1));
    let text = outcome.trace_jsonl();
    assert_eq!(text.lines().count(), outcome.trace_text().lines().count());
    insta::assert_snapshot!(text);
}

/// Sends one datagram whose length comes from `length`, and passes whatever it is.
fn send_of_length(sim: &mut Sim, length: fn() -> usize) {
    use crate::harness::net::{LEN, bind_to, sockaddr, startup, udp};
    sim.client("a", "192.0.2.1", move || unsafe {
        startup();
        let s = udp();
        bind_to(s, "0.0.0.0:9");
        let to = sockaddr("192.0.2.1:9");
        let data = vec![7u8; length()];
        let sent = sendto(s, data.as_ptr(), data.len() as i32, 0, (&raw const to).cast(), LEN);
        assert_eq!(sent, data.len() as i32);
        closesocket(s);
        WSACleanup();
    });
}

/// What `check` says of a program over seeds 0..200, which all pass when run once.
fn checked(length: fn() -> usize) -> Result<(), String> {
    let run = std::panic::catch_unwind(|| {
        wsasim::Check::new(0..200).shrink(None).run(|sim| send_of_length(sim, length));
    });
    run.map_err(|p| p.downcast_ref::<String>().cloned().unwrap_or_default())
}

#[test]
fn a_program_that_reads_hidden_state_is_caught_though_every_seed_passes() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    // The planted bug: a count kept outside the simulation, different at every run.
    let hidden = || 1 + CALLS.fetch_add(1, Ordering::Relaxed);
    let why = checked(hidden).expect_err("a seed run twice sends two lengths");
    let first = (0..200).find(|&s| wsasim_sim::runs_twice(s)).expect("one in 32 of 200 seeds");
    assert!(why.contains(&format!("seed {first} passed twice with two different traces")), "{why}");
    assert!(why.starts_with("wsasim: not deterministic: "), "{why}");
    assert!(why.contains("the usual cause is state outside the simulation"), "{why}");
    // Two more runs keep their traces: the first entry where they part is the send.
    let parts = why.lines().skip_while(|l| !l.contains("they part at line")).collect::<Vec<_>>();
    assert!(parts.len() == 3 && parts[1].contains("first:  ") && parts[1].contains("sendto("), "{why}");
    assert!(parts[2].contains("second: ") && parts[2].contains("sendto(") && parts[1] != parts[2], "{why}");
    // Its twin takes the length from the run alone.
    assert_eq!(checked(|| 5), Ok(()));
}

#[test]
fn the_seeds_run_twice_are_one_in_32_of_any_range_and_of_each_shard() {
    let twice = |seeds: &mut dyn Iterator<Item = u64>| seeds.filter(|&s| wsasim_sim::runs_twice(s)).count();
    let n = 32 * wsasim_sim::DOUBLE_RUN;
    for start in [0, 1, 1000, u64::MAX - n] {
        let all = twice(&mut (start..start + n));
        assert!((16..=48).contains(&all), "{all} of {n} seeds from {start}");
        for (k, of) in [(0, 2), (1, 2), (0, 3), (2, 3)] {
            let part = twice(&mut (start..start + n).skip(k).step_by(of));
            assert!(
                (all / of / 2..=all * 2 / of).contains(&part),
                "shard {k}/{of} from {start}: {part} of {all}"
            );
        }
    }
}

#[test]
fn a_seed_that_fails_then_passes_keeps_its_first_failure_in_the_report() {
    use std::sync::atomic::{AtomicBool, Ordering};
    static FAILED_ONCE: AtomicBool = AtomicBool::new(false);
    let run = std::panic::catch_unwind(|| {
        wsasim::Check::new(0..1).shrink(None).run(|sim| {
            sim.client("a", "192.0.2.1", || {
                let first = !FAILED_ONCE.swap(true, Ordering::Relaxed);
                thread::yield_now();
                assert!(!first, "the first run of the process fails");
            });
        });
    });
    let why =
        run.map_err(|p| p.downcast_ref::<String>().cloned().unwrap_or_default()).expect_err("it failed once");
    assert!(
        why.starts_with("wsasim: not deterministic: seed 0 failed (thread a/main panicked: the first run of the process fails"),
        "{why}"
    );
    assert!(why.contains("then passed when run again"), "{why}");
    assert!(why.contains("a `static` or a thread-local kept from run to run"), "{why}");
    assert!(why.contains("two more runs kept their traces and agreed"), "{why}");
}
