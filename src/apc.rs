//! The calling thread and its APC queue: `GetCurrentThread`, `GetCurrentThreadId`,
//! `QueueUserAPC`. The queued routines run in the thread's alertable waits (Doc:
//! WSAWaitForMultipleEvents, `fAlertable`).

use crate::call::{enter, hex};
use windows_sys::Win32::Foundation::{
    ERROR_GEN_FAILURE, ERROR_INVALID_HANDLE, ERROR_INVALID_PARAMETER, HANDLE, PAPCFUNC,
};
use wsasim_model::Handle;
use wsasim_sim::Value;

/// `GetCurrentThread`: the pseudo-handle that means the calling thread (Doc:
/// GetCurrentThread function).
pub unsafe fn GetCurrentThread() -> HANDLE {
    let call = enter("GetCurrentThread");
    call.done(&[], Value::Hex(Handle::CURRENT_THREAD.0 as u64), None);
    Handle::CURRENT_THREAD.0 as HANDLE
}

/// `GetCurrentThreadId`: a number unique to the thread within the run: nonzero and a
/// multiple of 4, like Windows' thread ids.
pub unsafe fn GetCurrentThreadId() -> u32 {
    let call = enter("GetCurrentThreadId");
    let id = call.with(|w| crate::win32_thread::thread_id(w.current()));
    call.done(&[], Value::Int(id.into()), None);
    id
}

/// `QueueUserAPC` (Doc: QueueUserAPC function): queues `pfnapc(dwdata)` to a thread of this
/// host, by its handle or the `GetCurrentThread()` pseudo-handle. Returns nonzero on
/// success. A thread that has ended fails with `ERROR_GEN_FAILURE` (Wine kernel32 sync.c
/// test_QueueUserAPC), a handle that is not a thread with `ERROR_INVALID_HANDLE`. A NULL
/// routine fails with `ERROR_INVALID_PARAMETER`, where Windows accepts it: what it does then
/// is undocumented (at the NT layer a NULL routine is skipped: Wine kernel32 sync.c
/// test_QueueUserAPC, NtQueueApcThread), a README deviation.
pub unsafe fn QueueUserAPC(pfnapc: PAPCFUNC, hthread: HANDLE, dwdata: usize) -> u32 {
    let call = enter("QueueUserAPC");
    // dwData is often a pointer: the trace shows only whether it is 0, since no address may
    // reach a trace.
    let args = [Value::Ptr(pfnapc.is_some()), hex(hthread), Value::Ptr(dwdata != 0)];
    let r = call.with(|w| {
        let routine = pfnapc.ok_or(ERROR_INVALID_PARAMETER)?;
        let thread = crate::win32_thread::thread_of(w, hthread).ok_or(ERROR_INVALID_HANDLE)?;
        // SAFETY: the routine is the caller's, called with the caller's argument on the
        // thread it chose, as Windows calls it.
        let run = Box::new(move || unsafe { routine(dwdata) });
        let queued = w.queue_apc(thread, Value::Ptr(dwdata != 0), run);
        if queued { Ok(()) } else { Err(ERROR_GEN_FAILURE) }
    });
    let ret = u32::from(r.is_ok());
    call.done(&args, Value::Int(ret.into()), r.err());
    ret
}
