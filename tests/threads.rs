//! `wsasim::thread`, `wsasim::sync` and `wsasim::time`, the std mirrors.

use crate::harness::run;
use std::rc::Rc;
use std::time::Duration;
use wsasim::Win32::Foundation::{FALSE, HANDLE, TRUE, WAIT_OBJECT_0};
use wsasim::Win32::System::Threading::{CreateEventA, INFINITE, SetEvent, WaitForSingleObject};
use wsasim::sync::{Condvar, Mutex};
use wsasim::thread;
use wsasim::time::Instant;

#[test]
fn join_returns_the_value_or_the_panic() {
    run(|| {
        let t = thread::spawn(|| 6 * 7);
        assert_eq!(t.thread().name(), Some("a/t1"));
        assert_eq!(t.join().unwrap(), 42);
        let p = thread::spawn(|| -> u8 { panic!("boom") });
        let payload = p.join().expect_err("the thread panicked");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom"));
    });
}

#[test]
fn current_names_the_running_thread() {
    run(|| {
        assert_eq!(thread::current().name(), Some("a/main"));
        let t = thread::spawn(|| thread::current().name().map(str::to_owned));
        assert_eq!(t.join().unwrap().as_deref(), Some("a/t1"));
    });
}

#[test]
fn an_unjoined_panic_fails_the_run() {
    let mut sim = wsasim::Sim::new(0);
    sim.client("a", "192.0.2.1", || {
        thread::spawn(|| panic!("nobody joins me"));
        thread::sleep(Duration::from_millis(1));
    });
    let failure = sim.run().expect_err("a panic no one took");
    match failure.kind() {
        wsasim::FailureKind::Panic { thread, message } => {
            assert_eq!(thread, "a/t1");
            assert!(message.starts_with("nobody joins me (at tests/threads.rs:"), "{message}");
        }
        other => panic!("{other}"),
    }
}

#[test]
fn sleep_and_instant_follow_the_virtual_clock() {
    let outcome = run(|| {
        let t0 = Instant::now();
        thread::sleep(Duration::from_secs(90));
        let slept = t0.elapsed();
        assert!(slept >= Duration::from_secs(90) && slept < Duration::from_secs(91), "{slept:?}");
        assert_eq!((t0 + Duration::from_secs(1)) - t0, Duration::from_secs(1));
    });
    assert!(outcome.elapsed() >= Duration::from_secs(90));
}

#[test]
fn yield_now_lets_another_thread_run() {
    let seen = (0..50).filter(|&seed| {
        let order = Rc::new(std::cell::RefCell::new(Vec::new()));
        let o = order.clone();
        crate::harness::run_seed(seed, move || {
            let o2 = o.clone();
            let t = thread::spawn(move || o2.borrow_mut().push("t1"));
            thread::yield_now();
            o.borrow_mut().push("main");
            t.join().unwrap();
        });
        order.borrow()[0] == "t1"
    });
    let count = seen.count();
    assert!(count > 0 && count < 50, "the spawned thread ran first in {count} of 50 seeds");
}

#[test]
fn mutex_and_condvar_hand_off_work_between_threads() {
    run(|| {
        let state = Rc::new((Mutex::new(Vec::new()), Condvar::new()));
        let producer_state = state.clone();
        let producer = thread::spawn(move || {
            let (m, cv) = &*producer_state;
            for i in 0..10 {
                m.lock().unwrap().push(i);
                cv.notify_one();
                thread::yield_now();
            }
        });
        let (m, cv) = &*state;
        let mut got = Vec::new();
        while got.len() < 10 {
            let mut items = cv.wait_while(m.lock().unwrap(), |items| items.is_empty()).unwrap();
            got.append(&mut items);
        }
        assert_eq!(got, (0..10).collect::<Vec<_>>());
        producer.join().unwrap();
    });
}

#[test]
fn a_contended_mutex_serializes_its_holders() {
    wsasim::check(0..50, |sim| {
        sim.client("a", "192.0.2.1", || {
            let m = Rc::new(Mutex::new(0u32));
            let workers: Vec<_> = (0..3)
                .map(|_| {
                    let m = m.clone();
                    thread::spawn(move || {
                        for _ in 0..5 {
                            let mut g = m.lock().unwrap();
                            let v = *g;
                            thread::yield_now();
                            *g = v + 1;
                        }
                    })
                })
                .collect();
            for w in workers {
                w.join().unwrap();
            }
            assert_eq!(*m.lock().unwrap(), 15);
        });
    });
}

#[test]
fn condvar_wait_timeout_times_out_in_virtual_time() {
    run(|| {
        let m = Mutex::new(());
        let cv = Condvar::new();
        let t0 = Instant::now();
        let (_g, r) = cv.wait_timeout(m.lock().unwrap(), Duration::from_millis(20)).unwrap();
        assert!(r.timed_out());
        assert!(t0.elapsed() >= Duration::from_millis(20));
        assert!(m.try_lock().is_err(), "the guard is still held");
    });
}

#[test]
fn a_panic_while_holding_a_lock_poisons_it() {
    run(|| {
        let m = Rc::new(Mutex::new(1));
        let m2 = m.clone();
        let t = thread::spawn(move || {
            let _g = m2.lock().unwrap();
            panic!("poison");
        });
        assert!(t.join().is_err());
        assert!(m.is_poisoned());
        assert_eq!(*m.lock().unwrap_err().into_inner(), 1);
    });
}

#[test]
#[should_panic(expected = "wsasim: WSACreateEvent was called outside a simulation")]
fn win32_calls_outside_a_simulation_panic_naming_themselves() {
    // SAFETY: no pointers; the call is refused before it does anything.
    unsafe { wsasim::Win32::Networking::WinSock::WSACreateEvent() };
}

#[test]
fn a_sync_object_used_by_two_runs_is_refused() {
    static SHARED: Mutex<u32> = Mutex::new(0);
    let use_it = || *SHARED.lock().unwrap() += 1;
    run(use_it);
    let mut sim = wsasim::Sim::new(0);
    sim.client("a", "192.0.2.1", use_it);
    let failure = sim.run().expect_err("a static shares state between seeds");
    assert!(failure.to_string().contains("a wsasim::sync object was used by two runs"), "{failure}");
}

#[test]
fn a_thread_stack_has_the_size_asked_for_even_after_smaller_runs() {
    fn recurse(depth: u32) -> u64 {
        let frame = std::hint::black_box([depth as u8; 4096]);
        if depth == 0 { 0 } else { recurse(depth - 1) + u64::from(frame[7]) }
    }
    run(|| assert!(recurse(10) > 0));
    let mut sim = wsasim::Sim::new(0);
    sim.stack_bytes(16 << 20).client("a", "192.0.2.1", || assert!(recurse(1500) > 0));
    sim.run().unwrap_or_else(|f| panic!("{f}"));
}

#[test]
fn a_join_in_a_destructor_while_the_run_ends_returns_an_error() {
    struct Pool(Option<thread::JoinHandle<()>>, Rc<std::cell::Cell<bool>>);
    impl Drop for Pool {
        fn drop(&mut self) {
            let joined = self.0.take().unwrap().join();
            self.1.set(joined.is_err());
        }
    }
    let saw_error = Rc::new(std::cell::Cell::new(false));
    let flag = saw_error.clone();
    let mut sim = wsasim::Sim::new(0);
    sim.host("server", "192.0.2.10", move || {
        let worker = thread::spawn(|| thread::sleep(Duration::from_secs(3600 * 24)));
        let _pool = Pool(Some(worker), flag);
        thread::sleep(Duration::from_secs(3600 * 24));
    });
    sim.client("client", "192.0.2.11", || thread::sleep(Duration::from_millis(1)));
    sim.run().unwrap_or_else(|f| panic!("{f}"));
    assert!(saw_error.get());
}

#[test]
fn twenty_thousand_threads_blocked_at_once_cost_what_their_signals_do() {
    // Each thread waits on its own event, set in reverse order: a signal looks at its
    // object's waiters only and the scheduler at the runnable threads only, so this is
    // linear in the threads (quadratic, it would take minutes in a debug build).
    const N: usize = 20_000;
    let mut sim = wsasim::Sim::new(0);
    sim.keep_trace(false).stack_bytes(64 << 10).client("a", "192.0.2.1", || unsafe {
        let events: Vec<HANDLE> =
            (0..N).map(|_| CreateEventA(std::ptr::null(), TRUE, FALSE, std::ptr::null())).collect();
        let waiters: Vec<_> = events
            .iter()
            .map(|&ev| {
                let ev = ev as usize;
                thread::spawn(move || WaitForSingleObject(ev as HANDLE, INFINITE))
            })
            .collect();
        thread::sleep(Duration::from_millis(1));
        for ev in events.iter().rev() {
            SetEvent(*ev);
        }
        for w in waiters {
            assert_eq!(w.join().unwrap(), WAIT_OBJECT_0);
        }
    });
    sim.run().unwrap_or_else(|f| panic!("{f}"));
}
