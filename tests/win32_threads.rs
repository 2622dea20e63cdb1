//! `CreateThread`, `ResumeThread`, `ExitThread` and `GetExitCodeThread` over simulated
//! threads (Doc: CreateThread, Doc: ResumeThread, Doc: ExitThread, Doc: GetExitCodeThread).

use crate::harness::{BOGUS, distinct_traces, run};
use std::cell::Cell;
use std::ffi::c_void;
use std::ptr::{null, null_mut};
use wsasim::Win32::Foundation::*;
use wsasim::Win32::System::Threading::*;

unsafe extern "system" fn add_one(p: *mut c_void) -> u32 {
    let cell = unsafe { &*(p as *const Cell<u32>) };
    cell.set(cell.get() + 1);
    cell.get() * 10
}

unsafe extern "system" fn wait_then_return(p: *mut c_void) -> u32 {
    unsafe { WaitForSingleObject(p as HANDLE, INFINITE) };
    7
}

fn create(
    routine: LPTHREAD_START_ROUTINE,
    parameter: *const c_void,
    flags: THREAD_CREATION_FLAGS,
) -> (HANDLE, u32) {
    let mut id = 0;
    let h = unsafe { CreateThread(null(), 0, routine, parameter, flags, &mut id) };
    assert!(!h.is_null(), "CreateThread: {}", unsafe { GetLastError() });
    (h, id)
}

fn exit_code(h: HANDLE) -> u32 {
    let mut code = 0;
    assert_eq!(unsafe { GetExitCodeThread(h, &mut code) }, TRUE);
    code
}

#[test]
fn the_thread_functions_return_value_is_its_exit_code_and_still_active_before() {
    run(|| unsafe {
        let go = CreateEventA(null(), TRUE, FALSE, null());
        let (h, id) = create(Some(wait_then_return), go.cast(), 0);
        assert!(id != 0 && id % 4 == 0, "{id}");
        assert_ne!(id, GetCurrentThreadId());
        assert_eq!(exit_code(h), STILL_ACTIVE as u32);
        assert_eq!(WaitForSingleObject(h, 0), WAIT_TIMEOUT);
        SetEvent(go);
        assert_eq!(WaitForSingleObject(h, INFINITE), WAIT_OBJECT_0);
        assert_eq!(exit_code(h), 7);
        assert_eq!(CloseHandle(h), TRUE);
        CloseHandle(go);
    });
}

#[test]
fn a_suspended_thread_starts_at_resume_thread_which_gives_the_previous_count() {
    run(|| unsafe {
        let count = Cell::new(0u32);
        let (h, _) = create(Some(add_one), (&raw const count).cast(), CREATE_SUSPENDED);
        Sleep(10);
        assert_eq!(count.get(), 0, "a suspended thread ran");
        assert_eq!(exit_code(h), STILL_ACTIVE as u32);
        assert_eq!(ResumeThread(h), 1);
        assert_eq!(WaitForSingleObject(h, INFINITE), WAIT_OBJECT_0);
        assert_eq!(count.get(), 1);
        assert_eq!(exit_code(h), 10);
        assert_eq!(ResumeThread(h), 0, "a thread not suspended");
        CloseHandle(h);
    });
}

struct Flag<'a>(&'a Cell<bool>);

impl Drop for Flag<'_> {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

unsafe extern "system" fn exits_early(p: *mut c_void) -> u32 {
    let dropped = unsafe { &*(p as *const Cell<bool>) };
    let _guard = Flag(dropped);
    unsafe { ExitThread(42) }
}

#[test]
fn exit_thread_ends_the_thread_with_its_code_and_runs_no_destructor() {
    run(|| unsafe {
        let dropped = Cell::new(false);
        let (h, _) = create(Some(exits_early), (&raw const dropped).cast(), 0);
        assert_eq!(WaitForSingleObject(h, INFINITE), WAIT_OBJECT_0);
        assert_eq!(exit_code(h), 42);
        assert!(!dropped.get(), "ExitThread ran a destructor");
        // The stack it left is reused by the next thread.
        let (again, _) = create(Some(exits_early), (&raw const dropped).cast(), 0);
        assert_eq!(WaitForSingleObject(again, INFINITE), WAIT_OBJECT_0);
        assert_eq!(exit_code(again), 42);
    });
}

#[test]
fn bad_handles_and_pointers_get_windows_errors() {
    run(|| unsafe {
        assert_eq!(ResumeThread(BOGUS), u32::MAX);
        assert_eq!(GetLastError(), ERROR_INVALID_HANDLE);
        let event = CreateEventA(null(), TRUE, FALSE, null());
        assert_eq!(ResumeThread(event), u32::MAX, "an event is not a thread");
        assert_eq!(GetLastError(), ERROR_INVALID_HANDLE);
        let mut code = 0;
        assert_eq!(GetExitCodeThread(BOGUS, &mut code), FALSE);
        assert_eq!(GetLastError(), ERROR_INVALID_HANDLE);
        assert_eq!(GetExitCodeThread(GetCurrentThread(), null_mut()), FALSE);
        assert_eq!(GetLastError(), ERROR_NOACCESS);
        assert_eq!(GetExitCodeThread(GetCurrentThread(), &mut code), TRUE);
        assert_eq!(code, STILL_ACTIVE as u32);
        let count = Cell::new(0u32);
        let h = CreateThread(null(), 0, Some(add_one), (&raw const count).cast(), 0, 8 as *mut u32);
        assert!(h.is_null(), "an id pointer that cannot be written");
        assert_eq!(GetLastError(), ERROR_NOACCESS);
        Sleep(10);
        assert_eq!(count.get(), 0, "no thread was made");
    });
}

#[test]
fn a_null_thread_function_ends_the_run() {
    let mut sim = wsasim::Sim::new(0);
    sim.client("a", "192.0.2.1", || unsafe {
        CreateThread(null(), 0, None, null(), 0, null_mut());
    });
    let failure = sim.run().expect_err("a NULL lpStartAddress");
    assert!(failure.to_string().contains("lpStartAddress is NULL"), "{failure}");
}

#[test]
fn a_thread_suspended_forever_is_named_in_the_deadlock() {
    let mut sim = wsasim::Sim::new(0);
    sim.client("a", "192.0.2.1", || unsafe {
        let count = Cell::new(0u32);
        let (h, _) = create(Some(add_one), (&raw const count).cast(), CREATE_SUSPENDED);
        WaitForSingleObject(h, INFINITE);
    });
    let failure = sim.run().expect_err("nobody resumes it");
    let wsasim::FailureKind::Deadlock { blocked } = failure.kind() else { panic!("{failure}") };
    assert!(
        blocked.iter().any(|b| b.contains("a/t1 blocked in CreateThread, suspended (CREATE_SUSPENDED)")),
        "{blocked:?}"
    );
}

unsafe extern "system" fn serve_forever(p: *mut c_void) -> u32 {
    let dropped = unsafe { &*(p as *const Cell<bool>) };
    let _guard = Flag(dropped);
    unsafe { WaitForSingleObject(CreateEventA(null(), TRUE, FALSE, null()), INFINITE) };
    unreachable!("nothing sets the event")
}

#[test]
fn a_created_thread_still_blocked_when_the_run_ends_is_abandoned_without_unwinding() {
    let dropped: &'static Cell<bool> = Box::leak(Box::new(Cell::new(false)));
    let mut sim = wsasim::Sim::new(0);
    sim.host("s", "192.0.2.2", move || {
        create(Some(serve_forever), (&raw const *dropped).cast(), 0);
        unsafe { Sleep(INFINITE) };
    });
    sim.client("a", "192.0.2.1", || unsafe { Sleep(5) });
    sim.run().unwrap_or_else(|f| panic!("{f}"));
    assert!(!dropped.get(), "an extern \"system\" frame was unwound");
}

#[test]
fn the_same_seed_gives_the_same_trace() {
    let distinct = distinct_traces(0..20, |sim| {
        sim.client("a", "192.0.2.1", || unsafe {
            let count = Box::leak(Box::new(Cell::new(0u32)));
            let threads: Vec<HANDLE> =
                (0..3).map(|_| create(Some(add_one), (&raw const *count).cast(), 0).0).collect();
            WaitForMultipleObjects(3, threads.as_ptr(), TRUE, INFINITE);
            assert_eq!(count.get(), 3);
        });
    });
    assert!(distinct > 1, "three threads gave one interleaving in 20 seeds");
}

#[test]
fn exit_thread_in_a_spawned_thread_ends_it_and_join_says_so() {
    run(|| {
        let t = wsasim::thread::spawn(|| -> u8 { unsafe { ExitThread(3) } });
        let payload = t.join().expect_err("no result");
        assert_eq!(
            payload.downcast_ref::<&str>(),
            Some(&"wsasim: the thread ended by ExitThread, with no result")
        );
    });
}
