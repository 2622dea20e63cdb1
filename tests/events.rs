//! Event objects: creation, set, reset, close, and the errors of bad handles (Doc:
//! WSACreateEvent, Doc: WSASetEvent, Doc: WSAResetEvent, Doc: WSACloseEvent).

use crate::harness::{BOGUS, run};
use std::ptr::null;
use wsasim::Win32::Foundation::*;
use wsasim::Win32::Networking::WinSock::*;
use wsasim::Win32::System::Threading::*;

fn signaled(h: HANDLE) -> bool {
    // SAFETY: a poll of a handle; bad handles are the simulator's to report.
    unsafe { WaitForSingleObject(h, 0) == WAIT_OBJECT_0 }
}

#[test]
fn wsa_create_event_is_manual_reset_and_starts_nonsignaled() {
    // Doc: WSACreateEvent function.
    run(|| unsafe {
        SetLastError(1234);
        let ev = WSACreateEvent();
        assert_ne!(ev, WSA_INVALID_EVENT);
        assert_eq!(GetLastError(), 0, "creation sets the last error to 0 (Wine kernelbase CreateEventExW)");
        let h = ev as HANDLE;
        assert!(!signaled(h));
        assert_eq!(WSASetEvent(ev), TRUE);
        assert!(signaled(h));
        assert!(signaled(h), "a satisfied wait leaves a manual-reset event signaled");
        assert_eq!(WSAResetEvent(ev), TRUE);
        assert!(!signaled(h));
        assert_eq!(WSACloseEvent(ev), TRUE);
    });
}

#[test]
fn create_event_honours_reset_kind_and_initial_state() {
    // Doc: CreateEventW function: bManualReset and bInitialState.
    run(|| unsafe {
        let auto_on = CreateEventW(null(), FALSE, TRUE, null());
        assert!(signaled(auto_on));
        assert!(!signaled(auto_on), "the wait took the auto-reset event's signal");
        let manual_on = CreateEventA(null(), TRUE, TRUE, null());
        assert!(signaled(manual_on) && signaled(manual_on));
        let auto_off = CreateEventW(null(), FALSE, FALSE, null());
        assert!(!signaled(auto_off));
        assert_eq!(SetEvent(auto_off), TRUE);
        assert_eq!(SetEvent(auto_off), TRUE, "setting a signaled event succeeds");
        assert!(signaled(auto_off));
        assert!(!signaled(auto_off), "two sets still release one wait");
        assert_eq!(ResetEvent(manual_on), TRUE);
        assert!(!signaled(manual_on));
        for h in [auto_on, manual_on, auto_off] {
            assert_eq!(CloseHandle(h), TRUE);
        }
    });
}

#[test]
fn named_events_are_refused_with_a_clear_error() {
    run(|| unsafe {
        let name: Vec<u16> = "wsasim-test\0".encode_utf16().collect();
        assert!(CreateEventW(null(), TRUE, FALSE, name.as_ptr()).is_null());
        assert_eq!(GetLastError(), ERROR_NOT_SUPPORTED);
        assert!(CreateEventA(null(), TRUE, FALSE, c"x".as_ptr().cast()).is_null());
        assert_eq!(GetLastError(), ERROR_NOT_SUPPORTED);
    });
}

#[test]
fn bad_handles_fail_with_invalid_handle_and_successes_keep_the_last_error() {
    // Doc: WSASetEvent, WSAResetEvent, WSACloseEvent; SetEvent, ResetEvent and CloseHandle
    // leave the last error alone on success (Wine kernelbase set_ntstatus sets it only on
    // failure).
    run(|| unsafe {
        let ev = WSACreateEvent();
        let closed = WSACreateEvent();
        assert_eq!(WSACloseEvent(closed), TRUE);
        for bad in [BOGUS, std::ptr::null_mut(), closed as HANDLE] {
            SetLastError(0);
            assert_eq!(SetEvent(bad), FALSE);
            assert_eq!(GetLastError(), ERROR_INVALID_HANDLE);
            SetLastError(0);
            assert_eq!(ResetEvent(bad), FALSE);
            assert_eq!(WSAGetLastError(), WSA_INVALID_HANDLE);
            SetLastError(0);
            assert_eq!(WSASetEvent(bad as isize), FALSE);
            assert_eq!(WSAGetLastError(), WSA_INVALID_HANDLE);
            assert_eq!(WSAResetEvent(bad as isize), FALSE);
            assert_eq!(WSACloseEvent(bad as isize), FALSE);
            assert_eq!(WSAGetLastError(), WSA_INVALID_HANDLE);
            assert_eq!(CloseHandle(bad), FALSE);
            assert_eq!(GetLastError(), ERROR_INVALID_HANDLE);
        }
        SetLastError(77);
        assert_eq!(SetEvent(ev as HANDLE), TRUE);
        assert_eq!(ResetEvent(ev as HANDLE), TRUE);
        assert_eq!(WSASetEvent(ev), TRUE);
        assert_eq!(GetLastError(), 77);
        assert_eq!(CloseHandle(ev as HANDLE), TRUE);
        assert_eq!(GetLastError(), 77);
    });
}

#[test]
fn handle_values_are_never_reused_so_stale_handles_stay_invalid() {
    // Doc: WSACloseEvent; Windows may reuse a value; wsasim never does within a run.
    run(|| unsafe {
        let first = WSACreateEvent();
        assert_eq!(WSACloseEvent(first), TRUE);
        for _ in 0..100 {
            let ev = WSACreateEvent();
            assert_ne!(ev, first);
            assert_eq!(WSASetEvent(first), FALSE);
            assert_eq!(WSACloseEvent(ev), TRUE);
        }
    });
}

#[test]
fn a_thread_handle_is_not_an_event() {
    // NT refuses the wrong object type (STATUS_OBJECT_TYPE_MISMATCH): ERROR_INVALID_HANDLE.
    run(|| unsafe {
        let t = wsasim::thread::spawn(|| ());
        assert_eq!(SetEvent(t.as_raw_handle()), FALSE);
        assert_eq!(GetLastError(), ERROR_INVALID_HANDLE);
        t.join().unwrap();
    });
}

#[test]
fn handles_belong_to_their_host() {
    // Handles are per process: another host's value is invalid here.
    let mut sim = wsasim::Sim::new(0);
    let shared = std::rc::Rc::new(std::cell::Cell::new(0isize));
    let (a, b) = (shared.clone(), shared);
    sim.client("a", "192.0.2.1", move || unsafe { a.set(WSACreateEvent()) });
    sim.client("b", "192.0.2.2", move || unsafe {
        while b.get() == 0 {
            Sleep(1);
        }
        assert_eq!(WSASetEvent(b.get()), FALSE);
        assert_eq!(WSAGetLastError(), WSA_INVALID_HANDLE);
    });
    let outcome = sim.run().unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(outcome.leaks().len(), 1, "host a never closed its event");
}
