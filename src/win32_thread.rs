//! Threads the Win32 way: `CreateThread`, `ResumeThread`, `ExitThread`,
//! `GetExitCodeThread`, over simulated threads.
//!
//! The thread function is the program's `extern "system"` function, which cannot unwind: a
//! panic inside it aborts the process (as a crash in a thread ends a Windows process), and
//! its end by `ExitThread` or at the end of a run abandons its stack without running
//! destructors, as Windows' `ExitThread` does.

use crate::call::{enter, handle, hex};
use crate::memory::{Access, usable};
use std::ffi::c_void;
use windows_sys::Win32::Foundation::{ERROR_INVALID_HANDLE, ERROR_NOACCESS, HANDLE, STILL_ACTIVE};
use windows_sys::Win32::Security::SECURITY_ATTRIBUTES;
use windows_sys::Win32::System::Threading::{
    CREATE_SUSPENDED, LPTHREAD_START_ROUTINE, THREAD_CREATION_FLAGS,
};
use wsasim_model::Handle;
use wsasim_sim::{ThreadId, Value, World, runtime};

/// `CreateThread` (Doc: CreateThread function): a thread of the calling thread's host that
/// runs `lpstartaddress(lpparameter)`, its return value the thread's exit code; its handle,
/// and its id in `*lpthreadid` when that is not NULL. `CREATE_SUSPENDED` holds it until
/// [`ResumeThread`]. The security attributes and the stack size are accepted and ignored:
/// every simulated thread has `Sim::stack_bytes`. A NULL function ends the run, as the
/// new thread's jump to address 0 would end the process; an id pointer that cannot be
/// written fails with `ERROR_NOACCESS`, the kernel's answer to a bad pointer, and no thread
/// [inferred: no page or test says].
pub unsafe fn CreateThread(
    lpthreadattributes: *const SECURITY_ATTRIBUTES,
    dwstacksize: usize,
    lpstartaddress: LPTHREAD_START_ROUTINE,
    lpparameter: *const c_void,
    dwcreationflags: THREAD_CREATION_FLAGS,
    lpthreadid: *mut u32,
) -> HANDLE {
    let call = enter("CreateThread");
    let args = [
        Value::Ptr(!lpthreadattributes.is_null()),
        Value::Int(dwstacksize as i64),
        Value::Ptr(lpstartaddress.is_some()),
        Value::Ptr(!lpparameter.is_null()),
        Value::Hex(dwcreationflags.into()),
        Value::Ptr(!lpthreadid.is_null()),
    ];
    let Some(routine) = lpstartaddress else {
        runtime::fail_run(
            "CreateThread: lpStartAddress is NULL: the new thread would fault at address 0".into(),
        );
    };
    if !lpthreadid.is_null() && !writable(lpthreadid) {
        call.done(&args, Value::Hex(0), Some(ERROR_NOACCESS));
        return std::ptr::null_mut();
    }
    let parameter = lpparameter as usize;
    let main = Box::new(move || {
        // SAFETY: the program's thread function, called with its parameter on the new
        // thread, as Windows calls it.
        let code = unsafe { routine(parameter as *mut c_void) };
        runtime::with_world("CreateThread", |w| w.set_exit_code(code));
    });
    let suspended = dwcreationflags & CREATE_SUSPENDED != 0;
    let (id, thread) = call.cx.spawn_foreign(main, suspended);
    if !lpthreadid.is_null() {
        // SAFETY: the caller's pointer, valid for a DWORD when not NULL.
        unsafe { lpthreadid.write(thread_id(id)) };
    }
    call.done(&args, hex(thread.0 as HANDLE), None);
    thread.0 as HANDLE
}

/// `ResumeThread` (Doc: ResumeThread function): the thread's suspend count before the call,
/// 1 for a thread made with `CREATE_SUSPENDED` (which now starts) and 0 for a running one;
/// `u32::MAX` with `ERROR_INVALID_HANDLE` for a handle that is not a thread.
pub unsafe fn ResumeThread(hthread: HANDLE) -> u32 {
    let call = enter("ResumeThread");
    let target = call.with(|w| thread_of(w, hthread));
    let (ret, error) = match target {
        Some(t) => (call.cx.resume_thread(t), None),
        None => (u32::MAX, Some(ERROR_INVALID_HANDLE)),
    };
    call.done(&[hex(hthread)], Value::Int(ret.into()), error);
    ret
}

/// `ExitThread` (Doc: ExitThread function): ends the calling thread with `dwexitcode` as
/// its exit code. Values on its stack are not dropped. On a host's main thread it ends the
/// host as the main thread's return does (where Windows keeps the process while other
/// threads run: a README deviation); on a `wsasim::thread` thread, its `join` gives `Err`.
pub unsafe fn ExitThread(dwexitcode: u32) -> ! {
    let call = enter("ExitThread");
    call.done(&[Value::Int(dwexitcode.into())], Value::Void, None);
    call.cx.exit_thread(dwexitcode)
}

/// `GetExitCodeThread` (Doc: GetExitCodeThread function): nonzero and the exit code in
/// `*lpexitcode`, `STILL_ACTIVE` (259) while the thread runs; 0 with `ERROR_INVALID_HANDLE`
/// for a handle that is not a thread, `ERROR_NOACCESS` for a pointer that cannot be written.
pub unsafe fn GetExitCodeThread(hthread: HANDLE, lpexitcode: *mut u32) -> i32 {
    let call = enter("GetExitCodeThread");
    let args = [hex(hthread), Value::Ptr(!lpexitcode.is_null())];
    let code = call.with(|w| thread_of(w, hthread).map(|t| w.exit_code(t).unwrap_or(STILL_ACTIVE as u32)));
    let code = code.ok_or(ERROR_INVALID_HANDLE);
    let code = code.and_then(|c| if writable(lpexitcode) { Ok(c) } else { Err(ERROR_NOACCESS) });
    let code = match code {
        Ok(c) => c,
        Err(e) => {
            call.done(&args, Value::Int(0), Some(e));
            return 0;
        }
    };
    // SAFETY: checked writable just above.
    unsafe { lpexitcode.write(code) };
    call.done(&args, Value::Int(1), None);
    1
}

/// The thread a handle names, the `GetCurrentThread` pseudo-handle included.
pub(crate) fn thread_of(w: &World, h: HANDLE) -> Option<ThreadId> {
    let target = handle(h);
    if target == Handle::CURRENT_THREAD { Some(w.current()) } else { w.thread_of(target) }
}

fn writable(p: *mut u32) -> bool {
    usable(p.cast(), size_of::<u32>(), Access::Write)
}

/// A thread's id as `GetCurrentThreadId` gives it.
pub(crate) fn thread_id(thread: ThreadId) -> u32 {
    4 * (thread.0 + 1)
}
