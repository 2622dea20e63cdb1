//! Waits and sleeps: `WaitForSingleObject(Ex)`, `WaitForMultipleObjects(Ex)`,
//! `WSAWaitForMultipleEvents`, `Sleep`, `SleepEx`.
//!
//! All of them are `WaitForMultipleObjectsEx` underneath (R1.6), in this order: refuse a
//! malformed wait (R1.7, R1.8, R1.12); return an object that is signaled now, even with APCs
//! queued (R1.15); in an alertable wait, run the queued APCs and return
//! `WAIT_IO_COMPLETION` (R1.14); with a zero timeout, return `WAIT_TIMEOUT` (R1.13);
//! otherwise park until an object, an APC or the deadline ends the wait. The objects' rules
//! are `wsasim_model::wait`'s.

use crate::call::{Call, enter, handle, hex};
use windows_sys::Win32::Foundation::{
    ERROR_INVALID_PARAMETER, ERROR_NOACCESS, HANDLE, WAIT_FAILED, WAIT_IO_COMPLETION,
    WAIT_OBJECT_0, WAIT_TIMEOUT,
};
use windows_sys::Win32::Networking::WinSock::WSA_MAXIMUM_WAIT_EVENTS;
use windows_sys::Win32::System::Threading::INFINITE;
use windows_sys::core::BOOL;
use wsasim_model::{Handle, WaitError, WaitSpec};
use wsasim_sim::runtime::Cx;
use wsasim_sim::{Blocker, Value, Wake};

/// `WaitForSingleObject` (Doc: WaitForSingleObject function).
pub unsafe fn WaitForSingleObject(hhandle: HANDLE, dwmilliseconds: u32) -> u32 {
    let call = enter("WaitForSingleObject");
    single(
        call,
        &[hex(hhandle), Value::Ms(dwmilliseconds)],
        hhandle,
        dwmilliseconds,
        false,
    )
}

/// `WaitForSingleObjectEx` (Doc: WaitForSingleObjectEx function).
pub unsafe fn WaitForSingleObjectEx(hhandle: HANDLE, dwmilliseconds: u32, balertable: BOOL) -> u32 {
    let call = enter("WaitForSingleObjectEx");
    let args = [
        hex(hhandle),
        Value::Ms(dwmilliseconds),
        Value::Bool(balertable),
    ];
    single(call, &args, hhandle, dwmilliseconds, balertable != 0)
}

/// A wait on one handle, where the `GetCurrentThread()` pseudo-handle names the calling
/// thread, which is never signaled while it waits: the wait times out (Wine kernel32 sync.c
/// test_WaitForSingleObject).
fn single(call: Call, args: &[Value], h: HANDLE, ms: u32, alertable: bool) -> u32 {
    let mut target = handle(h);
    if target == Handle::CURRENT_THREAD {
        target = call.with(|w| w.thread_handle(w.current()));
    }
    wait(call, args, &[target], false, ms, alertable)
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
    unsafe {
        multiple(
            call,
            ncount,
            lphandles,
            bwaitall,
            dwmilliseconds,
            Some(balertable),
        )
    }
}

/// `WSAWaitForMultipleEvents`: `WaitForMultipleObjectsEx` with the same arguments (R1.6;
/// Doc: WSAWaitForMultipleEvents function). Its results are the `WSA_WAIT_*` names of the
/// same values.
pub unsafe fn WSAWaitForMultipleEvents(
    cevents: u32,
    lphevents: *const HANDLE,
    fwaitall: BOOL,
    dwtimeout: u32,
    falertable: BOOL,
) -> u32 {
    let call = enter("WSAWaitForMultipleEvents");
    // SAFETY: as for `WaitForMultipleObjects`.
    unsafe {
        multiple(
            call,
            cevents,
            lphevents,
            fwaitall,
            dwtimeout,
            Some(falertable),
        )
    }
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
    let mut args = vec![
        Value::Int(count.into()),
        Value::List(list.iter().map(|h| *h as usize as u64).collect()),
    ];
    args.extend([Value::Bool(all), Value::Ms(ms)]);
    args.extend(alertable.map(Value::Bool));
    // R1.7: the count is checked first; a NULL array with a valid count is an access
    // violation in the kernel's probe, which Win32 reports as ERROR_NOACCESS.
    if count == 0 || count > WSA_MAXIMUM_WAIT_EVENTS {
        return fail(call, &args, ERROR_INVALID_PARAMETER);
    }
    if handles.is_null() {
        return fail(call, &args, ERROR_NOACCESS);
    }
    let resolved: Vec<Handle> = list.iter().map(|h| handle(*h)).collect();
    wait(
        call,
        &args,
        &resolved,
        all != 0,
        ms,
        alertable.unwrap_or(0) != 0,
    )
}

fn wait(
    call: Call,
    args: &[Value],
    handles: &[Handle],
    all: bool,
    ms: u32,
    alertable: bool,
) -> u32 {
    let spec = WaitSpec { handles, all };
    let checked = call.with(|w| {
        let host = w.host();
        w.kernel().check_wait(host, spec)
    });
    if let Err(WaitError(e)) = checked {
        return fail(call, args, e);
    }
    let result = match call.with(|w| w.kernel_mut().satisfy(spec)) {
        Some(index) => WAIT_OBJECT_0 + index,
        None => park(call, args, handles, all, ms, alertable),
    };
    call.done(args, Value::Wait(result), None);
    result
}

/// The rest of a wait that is not satisfied now (R1.13, R1.14).
fn park(
    call: Call,
    args: &[Value],
    handles: &[Handle],
    all: bool,
    ms: u32,
    alertable: bool,
) -> u32 {
    if alertable && call.cx.run_apcs() > 0 {
        return WAIT_IO_COMPLETION;
    }
    if ms == 0 {
        return WAIT_TIMEOUT;
    }
    let deadline_ns =
        (ms != INFINITE).then(|| call.with(|w| w.now_ns()) + u64::from(ms) * 1_000_000);
    let on = Blocker::Objects {
        handles: handles.to_vec(),
        all,
        alertable,
    };
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

fn fail(call: Call, args: &[Value], error: u32) -> u32 {
    call.done(args, Value::Wait(WAIT_FAILED), Some(error));
    WAIT_FAILED
}

/// `Sleep` (Doc: Sleep function): a non-alertable `SleepEx`. `Sleep(0)` only gives the
/// scheduler a choice.
pub unsafe fn Sleep(dwmilliseconds: u32) {
    let call = enter("Sleep");
    sleep(call, dwmilliseconds, false);
    call.done(&[Value::Ms(dwmilliseconds)], Value::Void, None);
}

/// `SleepEx` (Doc: SleepEx function): 0 when the time has passed, `WAIT_IO_COMPLETION`
/// when APCs ran; it never touches the last error (Wine kernelbase `SleepEx`).
pub unsafe fn SleepEx(dwmilliseconds: u32, balertable: BOOL) -> u32 {
    let call = enter("SleepEx");
    let r = sleep(call, dwmilliseconds, balertable != 0);
    call.done(
        &[Value::Ms(dwmilliseconds), Value::Bool(balertable)],
        Value::Int(r.into()),
        None,
    );
    r
}

fn sleep(call: Call, ms: u32, alertable: bool) -> u32 {
    let args = [Value::Ms(ms), Value::Bool(alertable.into())];
    match park(call, &args, &[], false, ms, alertable) {
        WAIT_TIMEOUT => 0,
        other => other,
    }
}

/// Parks the calling thread for `ns` of virtual time, for `wsasim::thread::sleep`.
pub(crate) fn sleep_ns(cx: Cx, name: &'static str, ns: u64) {
    let deadline = cx.with(|w| w.now_ns()).saturating_add(ns);
    let on = Blocker::Objects {
        handles: Vec::new(),
        all: false,
        alertable: false,
    };
    let wake = cx.block(name, &[Value::Int(ns as i64)], on, Some(deadline));
    assert_eq!(wake, Wake::Timeout, "a sleep ends only by its deadline");
}
