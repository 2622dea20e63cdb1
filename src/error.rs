//! The thread's last error. These calls read or write the calling thread's own state, so
//! they are not scheduling points. `GetLastError` and `WSAGetLastError` read one per-thread value
//! (Doc: WSAGetLastError, "the last error that occurred for the calling thread"; Wine's
//! `WSAGetLastError` returns `GetLastError()`).

use crate::call::local;
use windows_sys::Win32::Foundation::WIN32_ERROR;
use wsasim_sim::Value;

/// `GetLastError`: the calling thread's last error.
pub unsafe fn GetLastError() -> WIN32_ERROR {
    let call = local("GetLastError");
    let e = call.with(|w| w.last_error());
    call.done(&[], Value::Int(e.into()), None);
    e
}

/// `SetLastError`: sets the calling thread's last error.
pub unsafe fn SetLastError(dwerrcode: WIN32_ERROR) {
    let call = local("SetLastError");
    call.with(|w| w.set_last_error(dwerrcode));
    call.done(&[Value::Int(dwerrcode.into())], Value::Void, None);
}

/// `WSAGetLastError`: the calling thread's last error, as a Winsock error code.
pub unsafe fn WSAGetLastError() -> i32 {
    let call = local("WSAGetLastError");
    let e = call.with(|w| w.last_error()) as i32;
    call.done(&[], Value::Int(e.into()), None);
    e
}

/// `WSASetLastError`: sets the calling thread's last error.
pub unsafe fn WSASetLastError(ierror: i32) {
    let call = local("WSASetLastError");
    call.with(|w| w.set_last_error(ierror as u32));
    call.done(&[Value::Int(ierror.into())], Value::Void, None);
}
