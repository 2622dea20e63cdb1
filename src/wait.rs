//! Waits and sleeps: `WaitForSingleObject(Ex)`, `WaitForMultipleObjects(Ex)`,
//! `WSAWaitForMultipleEvents`, `Sleep`, `SleepEx`.
//!
//! All of them are `WaitForMultipleObjectsEx` underneath (Doc: WSAWaitForMultipleEvents),
//! in this order: refuse a malformed wait (Doc: WSAWaitForMultipleEvents, its error table;
//! Doc: WaitForMultipleObjectsEx); return an object that is signaled now, even with APCs
//! queued (Wine sock.c test_select, test_WSARecv); in an alertable wait, run the queued APCs
//! and return `WAIT_IO_COMPLETION` (Doc: WSAWaitForMultipleEvents, `fAlertable`); with a
//! zero timeout, return `WAIT_TIMEOUT` (Doc: WSAWaitForMultipleEvents, `dwTimeout`);
//! otherwise park until an object, an APC or the deadline ends the wait. The objects' rules
//! are `wsasim_model::wait`'s.

use crate::call::{Call, enter, enter_yielding, handle, hex};
use windows_sys::Win32::Foundation::{
    ERROR_INVALID_PARAMETER, ERROR_NOACCESS, HANDLE, WAIT_FAILED, WAIT_IO_COMPLETION, WAIT_OBJECT_0,
    WAIT_TIMEOUT,
};
use windows_sys::Win32::Networking::WinSock::WSA_MAXIMUM_WAIT_EVENTS;
use windows_sys::Win32::System::Threading::INFINITE;
use windows_sys::core::BOOL;
use wsasim_model::{Handle, WaitError, WaitSpec};
use wsasim_sim::{Blocker, Value, Wake};

/// `WaitForSingleObject` (Doc: WaitForSingleObject function).
pub unsafe fn WaitForSingleObject(hhandle: HANDLE, dwmilliseconds: u32) -> u32 {
    let call = enter("WaitForSingleObject");
    single(call, &[hex(hhandle), Value::Ms(dwmilliseconds)], hhandle, dwmilliseconds, false)
}

/// `WaitForSingleObjectEx` (Doc: WaitForSingleObjectEx function).
pub unsafe fn WaitForSingleObjectEx(hhandle: HANDLE, dwmilliseconds: u32, balertable: BOOL) -> u32 {
    let call = enter("WaitForSingleObjectEx");
    let args = [hex(hhandle), Value::Ms(dwmilliseconds), Value::Bool(balertable)];
    single(call, &args, hhandle, dwmilliseconds, balertable != 0)
}

/// A wait on one handle, where the pseudo-handles `GetCurrentThread()` and
/// `GetCurrentProcess()` (`INVALID_HANDLE_VALUE` too) name the calling thread and its
/// process, neither of which is signaled while the thread waits: the wait times out (Wine
/// kernel32 sync.c test_WaitForSingleObject, "pseudo handles are allowed": both give
/// WAIT_TIMEOUT). A wait on several objects refuses them (`WaitForMultipleObjectsEx`).
fn single(call: Call, args: &[Value], h: HANDLE, ms: u32, alertable: bool) -> u32 {
    let r = if [Handle::CURRENT_THREAD, Handle::CURRENT_PROCESS].contains(&handle(h)) {
        // The thread's own handle may be closed already; the pseudo-handle still works.
        let me = call.with(|w| w.thread_handle(w.current()));
        Ok(satisfy_or_park(call, args, &[me], false, ms, alertable))
    } else {
        wait(call, args, &[handle(h)], false, ms, alertable)
    };
    record(call, args, r)
}

/// `WaitForMultipleObjects` (Doc: WaitForMultipleObjects function).
pub unsafe fn WaitForMultipleObjects(
    ncount: u32,
    lphandles: *const HANDLE,
    bwaitall: BOOL,
    dwmilliseconds: u32,
) -> u32 {
    let call = enter("WaitForMultipleObjects");
    // SAFETY: the caller passes `ncount` handles at `lphandles`, as for Windows.
    unsafe { multiple(call, ncount, lphandles, bwaitall, dwmilliseconds, None) }
}

/// `WaitForMultipleObjectsEx` (Doc: WaitForMultipleObjectsEx function). Pseudo-handles are
/// refused here, with `ERROR_INVALID_HANDLE` (Wine kernel32 sync.c
/// test_WaitForMultipleObjects).
pub unsafe fn WaitForMultipleObjectsEx(
    ncount: u32,
    lphandles: *const HANDLE,
    bwaitall: BOOL,
    dwmilliseconds: u32,
    balertable: BOOL,
) -> u32 {
    let call = enter("WaitForMultipleObjectsEx");
    // SAFETY: as for `WaitForMultipleObjects`.
    unsafe { multiple(call, ncount, lphandles, bwaitall, dwmilliseconds, Some(balertable)) }
}

/// `WSAWaitForMultipleEvents`: `WaitForMultipleObjectsEx` with the same arguments (Doc:
/// WSAWaitForMultipleEvents function). Its results are the `WSA_WAIT_*` names of the same
/// values.
pub unsafe fn WSAWaitForMultipleEvents(
    cevents: u32,
    lphevents: *const HANDLE,
    fwaitall: BOOL,
    dwtimeout: u32,
    falertable: BOOL,
) -> u32 {
    let call = enter("WSAWaitForMultipleEvents");
    // SAFETY: as for `WaitForMultipleObjects`.
    unsafe { multiple(call, cevents, lphevents, fwaitall, dwtimeout, Some(falertable)) }
}

/// Reads the handle array once its count is known to be valid, then waits.
///
/// # Safety
/// `handles` must point to `count` handles when `count` is from 1 to 64 and it is not NULL.
unsafe fn multiple(
    call: Call,
    count: u32,
    handles: *const HANDLE,
    all: BOOL,
    ms: u32,
    alertable: Option<BOOL>,
) -> u32 {
    let list: &[HANDLE] = if count == 0 || count > WSA_MAXIMUM_WAIT_EVENTS || handles.is_null() {
        &[]
    } else {
        // SAFETY: the caller's contract, for a count Windows would accept.
        unsafe { std::slice::from_raw_parts(handles, count as usize) }
    };
    let mut shown = SHOWN.take();
    shown.clear();
    shown.extend(list.iter().map(|h| *h as usize as u64));
    let all_args = [
        Value::Int(count.into()),
        Value::List(shown),
        Value::Bool(all),
        Value::Ms(ms),
        Value::Bool(alertable.unwrap_or(0)),
    ];
    let args = if alertable.is_some() { &all_args[..] } else { &all_args[..4] };
    // The count is checked first (Doc: WSAWaitForMultipleEvents; Doc:
    // WaitForMultipleObjectsEx); a NULL array with a valid count is an access violation in
    // the kernel's probe, which Win32 reports as ERROR_NOACCESS.
    let r = if count == 0 || count > WSA_MAXIMUM_WAIT_EVENTS {
        Err(ERROR_INVALID_PARAMETER)
    } else if handles.is_null() {
        Err(ERROR_NOACCESS)
    } else {
        let mut resolved = [Handle(0); WSA_MAXIMUM_WAIT_EVENTS as usize];
        for (r, h) in resolved.iter_mut().zip(list) {
            *r = handle(*h);
        }
        wait(call, args, &resolved[..list.len()], all != 0, ms, alertable.unwrap_or(0) != 0)
    };
    let ret = record(call, args, r);
    if let [_, Value::List(shown), ..] = all_args {
        SHOWN.set(shown);
    }
    ret
}

thread_local! {
    /// The list a wait on several objects shows its handles in, kept for the next one:
    /// every round trip of a typical program makes such a wait.
    static SHOWN: std::cell::Cell<Vec<u64>> = const { std::cell::Cell::new(Vec::new()) };
}

/// A wait on open handles of this host: its result, or the error it fails with. The caller
/// records the call (`args` are for the `blocks` line).
pub(crate) fn wait(
    call: Call,
    args: &[Value],
    handles: &[Handle],
    all: bool,
    ms: u32,
    alertable: bool,
) -> Result<u32, u32> {
    let spec = WaitSpec { handles, all };
    call.with(|w| {
        let host = w.host();
        w.kernel().check_wait(host, spec)
    })
    .map_err(|WaitError(e)| e)?;
    Ok(satisfy_or_park(call, args, handles, all, ms, alertable))
}

/// A wait on objects already resolved, whatever the state of their handles: the objects
/// signaled now win (Wine sock.c test_select, test_WSARecv), or the thread parks.
pub(crate) fn satisfy_or_park(
    call: Call,
    args: &[Value],
    objects: &[Handle],
    all: bool,
    ms: u32,
    alertable: bool,
) -> u32 {
    let satisfied = call.with(|w| {
        w.turn_ended();
        w.kernel_mut().satisfy(WaitSpec { handles: objects, all })
    });
    match satisfied {
        Some(index) => WAIT_OBJECT_0 + index,
        None => park(call, args, objects, all, ms, alertable),
    }
}

/// Records a wait's result as Windows returns it: `WAIT_FAILED` and the last error on a
/// failure, and the last error left alone otherwise.
fn record(call: Call, args: &[Value], r: Result<u32, u32>) -> u32 {
    let ret = r.unwrap_or(WAIT_FAILED);
    call.done(args, Value::Wait(ret), r.err());
    ret
}

/// The rest of a wait that is not satisfied now (Doc: WSAWaitForMultipleEvents, `dwTimeout`
/// and `fAlertable`).
fn park(call: Call, args: &[Value], handles: &[Handle], all: bool, ms: u32, alertable: bool) -> u32 {
    if alertable && call.cx.run_apcs() > 0 {
        return WAIT_IO_COMPLETION;
    }
    if ms == 0 {
        return WAIT_TIMEOUT;
    }
    let deadline_ns = (ms != INFINITE).then(|| call.with(|w| w.now_ns()) + u64::from(ms) * 1_000_000);
    let on = Blocker::Objects { handles: call.with(|w| w.wait_list(handles)), all, alertable };
    match call.cx.block(call.name, args, on, deadline_ns) {
        Wake::Object(index) => WAIT_OBJECT_0 + index,
        Wake::Apc => {
            call.cx.run_apcs();
            WAIT_IO_COMPLETION
        }
        Wake::Timeout => WAIT_TIMEOUT,
        other => unreachable!("a wait woken by {other:?}"),
    }
}

/// `Sleep` (Doc: Sleep function): a non-alertable `SleepEx`. `Sleep(0)` only gives the
/// scheduler a choice.
pub unsafe fn Sleep(dwmilliseconds: u32) {
    let call = if dwmilliseconds == 0 { enter_yielding("Sleep") } else { enter("Sleep") };
    let args = [Value::Ms(dwmilliseconds)];
    sleep(call, &args, dwmilliseconds, false);
    call.done(&args, Value::Void, None);
}

/// `SleepEx` (Doc: SleepEx function): 0 when the time has passed, `WAIT_IO_COMPLETION`
/// when APCs ran; it never touches the last error (Wine kernelbase `SleepEx`).
pub unsafe fn SleepEx(dwmilliseconds: u32, balertable: BOOL) -> u32 {
    let call = if dwmilliseconds == 0 { enter_yielding("SleepEx") } else { enter("SleepEx") };
    let args = [Value::Ms(dwmilliseconds), Value::Bool(balertable)];
    let r = sleep(call, &args, dwmilliseconds, balertable != 0);
    // 0, or WAIT_IO_COMPLETION by name.
    call.done(&args, if r == 0 { Value::Int(0) } else { Value::Wait(r) }, None);
    r
}

fn sleep(call: Call, args: &[Value], ms: u32, alertable: bool) -> u32 {
    match park(call, args, &[], false, ms, alertable) {
        WAIT_TIMEOUT => 0,
        other => other,
    }
}

/// Parks the calling thread for `ns` of virtual time, for `wsasim::thread::sleep`.
pub(crate) fn sleep_ns(call: Call, args: &[Value], ns: u64) {
    let deadline = call.with(|w| w.now_ns()).saturating_add(ns);
    let on = Blocker::Objects { handles: Vec::new(), all: false, alertable: false };
    let wake = call.cx.block(call.name, args, on, Some(deadline));
    assert_eq!(wake, Wake::Timeout, "a sleep ends only by its deadline");
}
