//! What every simulated function does around its body.
//!
//! [`enter`] is the scheduling point; [`Call::done`] writes the trace line and, for a
//! failure, the last error. Whether a success touches the last error is each function's
//! own rule (most kernel32 functions leave it alone; `CreateEvent` sets 0), so it is not
//! decided here.

use windows_sys::Win32::Foundation::HANDLE;
use windows_sys::Win32::Networking::WinSock::SOCKET_ERROR;
use wsasim_model::Handle;
use wsasim_sim::runtime::{self, Cx};
use wsasim_sim::{Value, World};

/// A simulated function's call in progress.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Call {
    pub(crate) name: &'static str,
    pub(crate) cx: Cx,
}

/// The scheduling point at the start of every simulated function.
pub(crate) fn enter(name: &'static str) -> Call {
    Call { name, cx: runtime::enter(name) }
}

/// The scheduling point of a call that gives the thread's step up (see
/// `wsasim_sim::runtime::enter_yielding`).
pub(crate) fn enter_yielding(name: &'static str) -> Call {
    Call { name, cx: runtime::enter_yielding(name) }
}

/// The start of a function that touches only the calling thread's state: no scheduling
/// point (see `wsasim_sim::runtime::local`).
pub(crate) fn local(name: &'static str) -> Call {
    Call { name, cx: runtime::local(name) }
}

impl Call {
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        self.cx.with(f)
    }

    /// Ends the call: records `name(args) = ret`, and for a failure (`error` set) sets the
    /// thread's last error.
    pub(crate) fn done(&self, args: &[Value], ret: Value, error: Option<u32>) {
        self.with(|w| {
            if let Some(e) = error {
                w.set_last_error(e);
            }
            w.trace_call(self.name, args, ret, error);
        });
    }
}

impl Call {
    /// Ends a Winsock call that returns an `int`: the value on success, which sets the last
    /// error to 0 (Wine sock.c test_WSARecv, test_WSASendTo), or `SOCKET_ERROR`
    /// with the error.
    pub(crate) fn winsock(&self, args: &[Value], r: Result<i32, u32>) -> i32 {
        match r {
            Ok(v) => {
                self.with(|w| w.set_last_error(0));
                self.done(args, Value::Int(v.into()), None);
                v
            }
            Err(e) => {
                self.done(args, Value::Int(SOCKET_ERROR.into()), Some(e));
                SOCKET_ERROR
            }
        }
    }
}

/// The handle a `HANDLE` value names.
pub(crate) fn handle(h: HANDLE) -> Handle {
    Handle(h as usize)
}

/// How the trace shows a `HANDLE` argument.
pub(crate) fn hex(h: HANDLE) -> Value {
    Value::Hex(h as usize as u64)
}
