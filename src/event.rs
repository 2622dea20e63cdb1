//! Event objects: `CreateEventW`/`A`, `SetEvent`, `ResetEvent`, and their Winsock names
//! `WSACreateEvent`, `WSASetEvent`, `WSAResetEvent`, `WSACloseEvent`, which are thin
//! wrappers of the same kernel calls (Wine's ws2_32 implements them so), and so share their
//! rules here.

use crate::call::{Call, enter, handle, hex};
use crate::handle::close_call;
use windows_sys::Win32::Foundation::{ERROR_NOT_SUPPORTED, HANDLE};
use windows_sys::Win32::Networking::WinSock::WSAEVENT;
use windows_sys::Win32::Security::SECURITY_ATTRIBUTES;
use windows_sys::core::{BOOL, PCSTR, PCWSTR};
use wsasim_model::{Event, Handle, Object, Reset};
use wsasim_sim::{Value, World};

/// `CreateEventW` (Doc: CreateEventW function). A successful call sets the last error to 0
/// (Wine kernelbase `CreateEventExW` sets it on every path; Wine kernel32 sync.c test_event
/// checks 0 after creating a new named event). Security attributes are accepted and
/// ignored. Named events are not simulated: a non-NULL name fails with
/// `ERROR_NOT_SUPPORTED` (a README deviation).
pub unsafe fn CreateEventW(
    lpeventattributes: *const SECURITY_ATTRIBUTES,
    bmanualreset: BOOL,
    binitialstate: BOOL,
    lpname: PCWSTR,
) -> HANDLE {
    create(enter("CreateEventW"), lpeventattributes, bmanualreset, binitialstate, lpname.is_null())
}

/// `CreateEventA`: as [`CreateEventW`].
pub unsafe fn CreateEventA(
    lpeventattributes: *const SECURITY_ATTRIBUTES,
    bmanualreset: BOOL,
    binitialstate: BOOL,
    lpname: PCSTR,
) -> HANDLE {
    create(enter("CreateEventA"), lpeventattributes, bmanualreset, binitialstate, lpname.is_null())
}

/// `WSACreateEvent`: a manual-reset event that starts nonsignaled (Doc:
/// WSACreateEvent function). `WSAEVENT` is an `isize` in `windows-sys`.
pub unsafe fn WSACreateEvent() -> WSAEVENT {
    let call = enter("WSACreateEvent");
    let h = call.with(|w| {
        w.set_last_error(0);
        w.create(Object::Event(Event::new(Reset::Manual, false)))
    });
    call.done(&[], Value::Hex(h.0 as u64), None);
    h.0 as WSAEVENT
}

fn create(
    call: Call,
    attributes: *const SECURITY_ATTRIBUTES,
    manual: BOOL,
    initial: BOOL,
    unnamed: bool,
) -> HANDLE {
    let args =
        [Value::Ptr(!attributes.is_null()), Value::Bool(manual), Value::Bool(initial), Value::Ptr(!unnamed)];
    if !unnamed {
        call.done(&args, Value::Hex(0), Some(ERROR_NOT_SUPPORTED));
        return std::ptr::null_mut();
    }
    let reset = if manual != 0 { Reset::Manual } else { Reset::Auto };
    let h = call.with(|w| {
        w.set_last_error(0);
        w.create(Object::Event(Event::new(reset, initial != 0)))
    });
    call.done(&args, Value::Hex(h.0 as u64), None);
    h.0 as HANDLE
}

/// `SetEvent` (Doc: SetEvent function): signals the event and completes the waits that
/// this satisfies. A success leaves the last error alone; a handle that is not an open
/// event fails with `ERROR_INVALID_HANDLE`.
pub unsafe fn SetEvent(hevent: HANDLE) -> BOOL {
    set(enter("SetEvent"), hevent)
}

/// `WSASetEvent` (Doc: WSASetEvent function): as `SetEvent`, failing with
/// `WSA_INVALID_HANDLE` (the same 6).
pub unsafe fn WSASetEvent(hevent: WSAEVENT) -> BOOL {
    set(enter("WSASetEvent"), hevent as HANDLE)
}

fn set(call: Call, h: HANDLE) -> BOOL {
    let r = call.with(|w| {
        let host = w.host();
        w.signal(handle(h), |k| k.event_mut(host, handle(h)).map(Event::set))
    });
    finish(call, h, r)
}

/// `ResetEvent` (Doc: ResetEvent function).
pub unsafe fn ResetEvent(hevent: HANDLE) -> BOOL {
    reset(enter("ResetEvent"), hevent)
}

/// `WSAResetEvent` (Doc: WSAResetEvent function).
pub unsafe fn WSAResetEvent(hevent: WSAEVENT) -> BOOL {
    reset(enter("WSAResetEvent"), hevent as HANDLE)
}

fn reset(call: Call, h: HANDLE) -> BOOL {
    let r = call.with(|w| {
        let host = w.host();
        w.kernel_mut().event_mut(host, handle(h)).map(Event::reset)
    });
    finish(call, h, r)
}

/// `WSACloseEvent` (Doc: WSACloseEvent function): `CloseHandle` under its Winsock name.
pub unsafe fn WSACloseEvent(hevent: WSAEVENT) -> BOOL {
    close_call(enter("WSACloseEvent"), hevent as HANDLE)
}

/// Whether `h` is an open event of the running thread's host: what the Winsock calls that
/// take an event (an OVERLAPPED's `hEvent`, `WSAEventSelect`) accept.
pub(crate) fn is_event(w: &World, h: Handle) -> bool {
    matches!(w.kernel().get(w.host(), h), Ok(Object::Event(_)))
}

fn finish(call: Call, h: HANDLE, r: Result<(), u32>) -> BOOL {
    let error = r.err();
    let ret = BOOL::from(error.is_none());
    call.done(&[hex(h)], Value::Bool(ret), error);
    ret
}
