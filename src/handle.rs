//! `CloseHandle`, for every kind of object.

use crate::call::{Call, enter, handle, hex};
use windows_sys::Win32::Foundation::HANDLE;
use windows_sys::core::BOOL;
use wsasim_model::Handle;
use wsasim_sim::{Value, World};

/// `CloseHandle` (Doc: CloseHandle function). Closing the `GetCurrentThread()`
/// pseudo-handle "has no effect" (Doc: GetCurrentThread function) and succeeds. Any value
/// that is not an open handle of this host fails with `ERROR_INVALID_HANDLE`. A wait in
/// progress on the object goes on (see `wsasim_model::kernel`).
pub unsafe fn CloseHandle(hobject: HANDLE) -> BOOL {
    close_call(enter("CloseHandle"), hobject)
}

/// Closes `h` and records the call as `CloseHandle` does (`WSACloseEvent` too).
pub(crate) fn close_call(call: Call, h: HANDLE) -> BOOL {
    let r = call.with(|w| {
        let h = handle(h);
        if crate::event::is_event(w, h) {
            if let Some(user) = w.event_user(h) {
                w.misuse(wsasim_sim::Misuse::EventClosedInUse, call.name, || {
                    format!("event {h}, which {user}")
                });
            }
        }
        close(w, h)
    });
    let ret = BOOL::from(r.is_ok());
    call.done(&[hex(h)], Value::Bool(ret), r.err());
    ret
}

/// Closes a handle of the running thread's host.
pub(crate) fn close(w: &mut World, h: Handle) -> Result<(), u32> {
    // Closing a pseudo-handle does nothing (Doc: GetCurrentProcess, GetCurrentThread).
    if h == Handle::CURRENT_THREAD || h == Handle::CURRENT_PROCESS {
        return Ok(());
    }
    let host = w.host();
    if let Some(id) = w.kernel().socket(host, h) {
        // A socket handle is a file handle: closing it closes the socket (Wine sock.c
        // test_iocp closes one with CloseHandle).
        w.close_socket(wsasim_sim::SocketId(id));
        return Ok(());
    }
    w.kernel_mut().close(host, h)
}
