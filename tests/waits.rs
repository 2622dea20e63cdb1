//! Waits: `WaitForSingleObject(Ex)`, `WaitForMultipleObjects(Ex)`,
//! `WSAWaitForMultipleEvents`, `Sleep`, `SleepEx` (Doc: WSAWaitForMultipleEvents; Doc:
//! WaitForMultipleObjectsEx).

use crate::harness::{BOGUS, run};
use std::ptr::null;
use std::time::Duration;
use wsasim::Win32::Foundation::*;
use wsasim::Win32::Networking::WinSock::*;
use wsasim::Win32::System::SystemInformation::GetTickCount64;
use wsasim::Win32::System::Threading::*;
use wsasim::thread;
use wsasim::time::Instant;

/// Makes events from a pattern: `m`/`a` manual/auto reset, upper case signaled.
unsafe fn events(pattern: &str) -> Vec<HANDLE> {
    pattern
        .chars()
        .map(|c| unsafe {
            CreateEventW(null(), c.eq_ignore_ascii_case(&'m').into(), c.is_ascii_uppercase().into(), null())
        })
        .collect()
}

unsafe fn wait_any(hs: &[HANDLE], ms: u32) -> u32 {
    unsafe { WSAWaitForMultipleEvents(hs.len() as u32, hs.as_ptr(), FALSE, ms, FALSE) }
}

unsafe fn wait_all(hs: &[HANDLE], ms: u32) -> u32 {
    unsafe { WaitForMultipleObjects(hs.len() as u32, hs.as_ptr(), TRUE, ms) }
}

#[test]
fn wait_any_on_64_events_returns_the_lowest_signaled_index_and_consumes_only_it() {
    // Wine kernel32 sync.c test_WaitForMultipleObjects.
    run(|| unsafe {
        let hs = events(&format!("M{}", "A".repeat(63)));
        assert_eq!(wait_any(&hs, 0), WSA_WAIT_EVENT_0 as u32);
        assert_eq!(wait_any(&hs, 0), WSA_WAIT_EVENT_0 as u32, "the manual-reset event stays signaled");
        ResetEvent(hs[0]);
        for i in 1..64 {
            assert_eq!(wait_any(&hs, 0), i, "one auto-reset event consumed per wait");
        }
        assert_eq!(wait_any(&hs, 0), WSA_WAIT_TIMEOUT);
    });
}

#[test]
fn wait_all_returns_only_when_all_are_signaled_and_consumes_them_together() {
    // Doc: WaitForMultipleObjects ("does not modify the states ... until the states of all
    // objects have been set to signaled").
    run(|| unsafe {
        let hs = events(&format!("M{}a", "A".repeat(62)));
        assert_eq!(wait_all(&hs, 0), WAIT_TIMEOUT);
        assert_eq!(wait_any(&hs[1..2], 0), 0, "the failed wait-all consumed nothing");
        SetEvent(hs[1]);
        SetEvent(hs[63]);
        assert_eq!(wait_all(&hs, 0), WAIT_OBJECT_0);
        for (i, h) in hs.iter().enumerate() {
            let expected = if i == 0 { WAIT_OBJECT_0 } else { WAIT_TIMEOUT };
            assert_eq!(WaitForSingleObject(*h, 0), expected, "event {i} after the wait-all");
        }
    });
}

#[test]
fn wait_all_wakes_only_when_the_last_event_is_set() {
    run(|| unsafe {
        let hs = events("aaa");
        let setter = hs.clone().into_iter().map(|h| h as usize).collect::<Vec<_>>();
        let t = thread::spawn(move || {
            for h in setter {
                thread::sleep(Duration::from_millis(10));
                SetEvent(h as HANDLE);
            }
        });
        let start = Instant::now();
        assert_eq!(wait_all(&hs, INFINITE), WAIT_OBJECT_0);
        assert!(start.elapsed() >= Duration::from_millis(30), "woke after {:?}", start.elapsed());
        assert_eq!(wait_any(&hs, 0), WAIT_TIMEOUT, "all three were consumed together");
        t.join().unwrap();
    });
}

#[test]
fn bad_counts_and_pointers_fail_before_anything_waits() {
    // Doc: WaitForMultipleObjectsEx: 0 or more than 64 handles; a NULL array
    // (ERROR_NOACCESS, the kernel's probe).
    run(|| unsafe {
        let hs = events(&"A".repeat(65));
        for (count, ptr) in [(0, hs.as_ptr()), (65, hs.as_ptr()), (1000, null())] {
            SetLastError(0);
            assert_eq!(WSAWaitForMultipleEvents(count, ptr, FALSE, 0, FALSE), WSA_WAIT_FAILED);
            assert_eq!(WSAGetLastError(), WSA_INVALID_PARAMETER);
            assert_eq!(WaitForMultipleObjectsEx(count, ptr, TRUE, 0, FALSE), WAIT_FAILED);
            assert_eq!(GetLastError(), ERROR_INVALID_PARAMETER);
        }
        assert_eq!(WaitForMultipleObjects(1, null(), FALSE, 0), WAIT_FAILED);
        assert_eq!(GetLastError(), ERROR_NOACCESS);
        assert_eq!(wait_any(&hs[..64], 0), WAIT_OBJECT_0, "nothing was consumed by the failures");
    });
}

#[test]
fn an_invalid_or_closed_handle_fails_the_whole_wait() {
    // Doc: WSAWaitForMultipleEvents (error table): WSA_INVALID_HANDLE, and nothing is
    // consumed.
    run(|| unsafe {
        let hs = events("AA");
        let closed = events("A")[0];
        CloseHandle(closed);
        for bad in [BOGUS, closed, null::<()>() as HANDLE] {
            SetLastError(0);
            assert_eq!(wait_any(&[hs[0], bad], 0), WSA_WAIT_FAILED);
            assert_eq!(WSAGetLastError(), WSA_INVALID_HANDLE);
            assert_eq!(WaitForSingleObject(bad, 0), WAIT_FAILED);
            assert_eq!(GetLastError(), ERROR_INVALID_HANDLE);
        }
        assert_eq!(wait_all(&hs, 0), WAIT_OBJECT_0, "the failed waits consumed nothing");
    });
}

#[test]
fn duplicates_are_refused_only_by_wait_all() {
    // Doc: WaitForMultipleObjectsEx; the NT kernel checks duplicates for wait-all only; a
    // wait-any may name an object twice (Doc: WSAWaitForMultipleEvents).
    run(|| unsafe {
        let h = events("A")[0];
        assert_eq!(wait_all(&[h, h], 0), WAIT_FAILED);
        assert_eq!(GetLastError(), ERROR_INVALID_PARAMETER);
        assert_eq!(wait_any(&[h, h], 0), WAIT_OBJECT_0, "the lowest index wins");
        assert_eq!(wait_any(&[h, h], 0), WAIT_TIMEOUT, "and consumed the one event");
    });
}

#[test]
fn successful_and_timed_out_waits_leave_the_last_error_alone() {
    // Wine kernel32 sync.c test_WaitForSingleObject: 0xdeadbeef survives both outcomes.
    run(|| unsafe {
        let h = events("A")[0];
        SetLastError(0xdeadbeef);
        assert_eq!(WaitForSingleObject(h, 0), WAIT_OBJECT_0);
        assert_eq!(WaitForSingleObject(h, 0), WAIT_TIMEOUT);
        assert_eq!(GetLastError(), 0xdeadbeef);
    });
}

#[test]
fn a_timeout_waits_that_long_in_virtual_time() {
    // Doc: WSAWaitForMultipleEvents (`dwTimeout`): a nonzero timeout ends the wait with
    // WAIT_TIMEOUT once it has passed.
    let outcome = run(|| unsafe {
        let h = events("a")[0];
        let t0 = GetTickCount64();
        assert_eq!(WaitForSingleObject(h, 250), WAIT_TIMEOUT);
        let waited = GetTickCount64() - t0;
        assert!((250..252).contains(&waited), "waited {waited} ms");
        let t0 = Instant::now();
        assert_eq!(WaitForSingleObjectEx(h, 0, TRUE), WAIT_TIMEOUT, "a zero timeout polls");
        assert!(t0.elapsed() < Duration::from_millis(1));
    });
    assert!(outcome.elapsed() >= Duration::from_millis(250));
}

#[test]
fn waiting_on_the_current_thread_and_process_pseudo_handles() {
    // Wine kernel32 sync.c test_WaitForSingleObject: the caller's own thread is never
    // signaled, so the wait times out; WaitForMultipleObjects refuses pseudo-handles.
    run(|| unsafe {
        let me = GetCurrentThread();
        assert_eq!(WaitForSingleObject(me, 100), WAIT_TIMEOUT);
        assert_eq!(WaitForMultipleObjects(1, &me, FALSE, 0), WAIT_FAILED);
        assert_eq!(GetLastError(), ERROR_INVALID_HANDLE);
        assert_eq!(CloseHandle(me), TRUE, "closing the pseudo-handle has no effect (Doc: GetCurrentThread)");
        // INVALID_HANDLE_VALUE is GetCurrentProcess(): the process, never signaled while one
        // of its threads waits ("pseudo handles are allowed" in the same test).
        assert_eq!(WaitForSingleObject(INVALID_HANDLE_VALUE, 100), WAIT_TIMEOUT);
        assert_eq!(WaitForMultipleObjects(1, &INVALID_HANDLE_VALUE, FALSE, 0), WAIT_FAILED);
        assert_eq!(GetLastError(), ERROR_INVALID_HANDLE);
        assert_eq!(WSAWaitForMultipleEvents(1, &INVALID_HANDLE_VALUE, FALSE, 0, FALSE), WAIT_FAILED);
        assert_eq!(
            CloseHandle(INVALID_HANDLE_VALUE),
            TRUE,
            "as for any pseudo-handle (Doc: GetCurrentProcess)"
        );
        // The pseudo-handle still works once the thread's own handle is closed.
        let detached = thread::spawn(|| WaitForSingleObject(GetCurrentThread(), 10));
        let h = detached.as_raw_handle();
        assert_eq!(CloseHandle(h), TRUE);
        assert_eq!(detached.join().unwrap(), WAIT_TIMEOUT);
    });
}

#[test]
fn a_thread_handle_is_signaled_when_the_thread_ends() {
    // Doc: WaitForSingleObject ("Thread" objects).
    run(|| unsafe {
        let t = thread::spawn(|| thread::sleep(Duration::from_millis(5)));
        let h = t.as_raw_handle();
        assert_eq!(WaitForSingleObject(h, 0), WAIT_TIMEOUT);
        assert!(!t.is_finished());
        assert_eq!(WaitForSingleObject(h, INFINITE), WAIT_OBJECT_0);
        assert_eq!(WaitForSingleObject(h, 0), WAIT_OBJECT_0, "an ended thread stays signaled");
        assert!(t.is_finished());
        t.join().unwrap();
        assert_eq!(WaitForSingleObject(h, 0), WAIT_FAILED, "dropping the JoinHandle closed it");
    });
}

#[test]
fn sleep_passes_virtual_time_and_sleep_zero_only_yields() {
    run(|| unsafe {
        let t0 = GetTickCount64();
        Sleep(0);
        assert_eq!(GetTickCount64() - t0, 0);
        Sleep(40);
        assert!((40..42).contains(&(GetTickCount64() - t0)));
        assert_eq!(SleepEx(10, TRUE), 0, "nothing queued: the time passed");
        assert_eq!(SleepEx(0, FALSE), 0);
    });
}

#[test]
fn an_infinite_wait_that_nothing_ends_is_reported_as_a_deadlock() {
    // Doc: WSAWaitForMultipleEvents (`dwTimeout`): INFINITE never times out, so the run
    // must notice that nothing can end it.
    let mut sim = wsasim::Sim::new(5);
    sim.client("a", "192.0.2.1", || unsafe {
        let ev = WSACreateEvent();
        WSAWaitForMultipleEvents(1, &(ev as HANDLE), FALSE, WSA_INFINITE, FALSE);
    });
    let failure = sim.run().expect_err("nothing sets the event");
    assert!(matches!(failure.kind(), wsasim::FailureKind::Deadlock { .. }), "{failure}");
    let text = failure.to_string();
    assert!(
        text.contains("a/main blocked in WSAWaitForMultipleEvents, waiting on [0x104], forever"),
        "{text}"
    );
}
