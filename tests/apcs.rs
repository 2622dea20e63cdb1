//! APCs and alertable waits: `QueueUserAPC`, `SleepEx`, the `Ex` waits (Doc:
//! WSAWaitForMultipleEvents; Doc: WaitForMultipleObjectsEx).

use crate::harness::{BOGUS, run};
use std::cell::Cell;
use std::ptr::null;
use wsasim::Win32::Foundation::*;
use wsasim::Win32::Networking::WinSock::*;
use wsasim::Win32::System::Threading::*;
use wsasim::thread;

thread_local! {
    /// Arguments of the APCs that ran, in order. Simulated threads share one OS thread, and
    /// each test's run has its own.
    static RAN: Cell<Vec<usize>> = const { Cell::new(Vec::new()) };
}

unsafe extern "system" fn record(arg: usize) {
    let mut ran = RAN.take();
    ran.push(arg);
    RAN.set(ran);
}

/// Queues another APC to the current thread from inside an APC.
unsafe extern "system" fn requeue(arg: usize) {
    unsafe {
        record(arg);
        QueueUserAPC(Some(record), GetCurrentThread(), arg + 1);
    }
}

fn ran() -> Vec<usize> {
    RAN.take()
}

#[test]
fn an_alertable_wait_runs_every_queued_apc_and_returns_io_completion() {
    // Doc: WSAWaitForMultipleEvents (`fAlertable`): all queued routines run, including one
    // queued by a routine, then WAIT_IO_COMPLETION; SleepEx(0, TRUE) too (Wine sock.c
    // test_fionbio).
    run(|| unsafe {
        let me = GetCurrentThread();
        assert_ne!(QueueUserAPC(Some(record), me, 1), 0);
        assert_ne!(QueueUserAPC(Some(requeue), me, 2), 0);
        let ev = WSACreateEvent();
        assert_eq!(
            WSAWaitForMultipleEvents(1, &(ev as HANDLE), FALSE, 0, TRUE),
            WSA_WAIT_IO_COMPLETION as u32
        );
        assert_eq!(ran(), [1, 2, 3]);
        assert_ne!(QueueUserAPC(Some(record), me, 4), 0);
        assert_eq!(SleepEx(0, TRUE), WAIT_IO_COMPLETION);
        assert_eq!(ran(), [4]);
        assert_eq!(SleepEx(0, TRUE), 0, "nothing left to run");
    });
}

#[test]
fn a_non_alertable_wait_runs_no_apc() {
    // Doc: WSAWaitForMultipleEvents: with fAlertable FALSE, routines never run during the
    // wait.
    run(|| unsafe {
        let me = GetCurrentThread();
        QueueUserAPC(Some(record), me, 9);
        let ev = WSACreateEvent();
        assert_eq!(WSAWaitForMultipleEvents(1, &(ev as HANDLE), FALSE, 10, FALSE), WSA_WAIT_TIMEOUT);
        assert_eq!(WaitForSingleObject(ev as HANDLE, 10), WAIT_TIMEOUT);
        Sleep(10);
        assert_eq!(ran(), Vec::<usize>::new());
        assert_eq!(WaitForSingleObjectEx(ev as HANDLE, 10, TRUE), WAIT_IO_COMPLETION);
        assert_eq!(ran(), [9]);
    });
}

#[test]
fn a_signaled_object_wins_over_queued_apcs() {
    // The signaled state is checked before APCs (Wine sock.c test_select and test_WSARecv:
    // an immediately satisfied call runs no queued APC).
    run(|| unsafe {
        QueueUserAPC(Some(record), GetCurrentThread(), 5);
        let ev = WSACreateEvent();
        WSASetEvent(ev);
        assert_eq!(WSAWaitForMultipleEvents(1, &(ev as HANDLE), FALSE, 1000, TRUE), WSA_WAIT_EVENT_0 as u32);
        assert_eq!(ran(), Vec::<usize>::new());
        assert_eq!(SleepEx(0, TRUE), WAIT_IO_COMPLETION);
        assert_eq!(ran(), [5]);
    });
}

thread_local! {
    /// The thread id each `record_thread` APC ran on.
    static RAN_ON: Cell<Vec<u32>> = const { Cell::new(Vec::new()) };
}

unsafe extern "system" fn record_thread(_: usize) {
    let mut ran_on = RAN_ON.take();
    ran_on.push(unsafe { GetCurrentThreadId() });
    RAN_ON.set(ran_on);
}

#[test]
fn an_apc_queued_by_another_thread_runs_on_its_target_inside_its_alertable_wait() {
    // Doc: QueueUserAPC; Doc: WaitForMultipleObjectsEx (`bAlertable`): the routine runs on
    // the thread it was queued to, inside its alertable wait.
    run(|| unsafe {
        let waiter = thread::spawn(|| {
            let ev = WSACreateEvent();
            let r = WSAWaitForMultipleEvents(1, &(ev as HANDLE), FALSE, WSA_INFINITE, TRUE);
            (r, RAN_ON.take(), GetCurrentThreadId())
        });
        thread::sleep(std::time::Duration::from_millis(1));
        assert_ne!(QueueUserAPC(Some(record_thread), waiter.as_raw_handle(), 0), 0);
        let (r, ran_on, waiter_id) = waiter.join().unwrap();
        assert_eq!(r, WSA_WAIT_IO_COMPLETION as u32);
        assert_eq!(ran_on, [waiter_id], "the APC ran once, on the waiter");
        assert_ne!(waiter_id, GetCurrentThreadId());
    });
}

#[test]
fn an_alertable_infinite_sleep_ends_when_an_apc_arrives() {
    run(|| unsafe {
        let sleeper = thread::spawn(|| SleepEx(INFINITE, TRUE));
        let h = sleeper.as_raw_handle();
        Sleep(3);
        QueueUserAPC(Some(record), h, 1);
        assert_eq!(sleeper.join().unwrap(), WAIT_IO_COMPLETION);
    });
}

#[test]
fn queue_user_apc_errors() {
    // Wine kernel32 sync.c test_QueueUserAPC: an ended thread gives ERROR_GEN_FAILURE.
    run(|| unsafe {
        let done = thread::spawn(|| ());
        let h = done.as_raw_handle();
        WaitForSingleObject(h, INFINITE);
        assert_eq!(QueueUserAPC(Some(record), h, 1), 0);
        assert_eq!(GetLastError(), ERROR_GEN_FAILURE);
        assert_eq!(QueueUserAPC(Some(record), BOGUS, 1), 0);
        assert_eq!(GetLastError(), ERROR_INVALID_HANDLE);
        let ev = CreateEventW(null(), TRUE, FALSE, null());
        assert_eq!(QueueUserAPC(Some(record), ev, 1), 0, "an event is not a thread");
        assert_eq!(GetLastError(), ERROR_INVALID_HANDLE);
        assert_eq!(QueueUserAPC(None, GetCurrentThread(), 1), 0);
        assert_eq!(GetLastError(), ERROR_INVALID_PARAMETER);
        done.join().unwrap();
        assert_eq!(SleepEx(0, TRUE), 0, "none of the failures queued anything");
    });
}
