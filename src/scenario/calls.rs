//! What a script may call, with which arguments, and the constants it may name.
//!
//! A script's form of a call keeps C's arguments in C's order, less what the script
//! supplies itself: counts and lengths (a list or a buffer carries its own), and
//! out-parameters (expectation clauses read them). Flags, and a completion routine, are
//! optional and come last.

use windows_sys::Win32::Foundation as foundation;
use windows_sys::Win32::Networking::WinSock as ws;
use windows_sys::Win32::System::Threading as threading;

/// A callable's identity, for the interpreter's dispatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum F {
    WSAStartup,
    WSACleanup,
    WSACreateEvent,
    CreateEvent,
    WSASetEvent,
    WSAResetEvent,
    WSACloseEvent,
    SetEvent,
    ResetEvent,
    CloseHandle,
    WSAWaitForMultipleEvents,
    WaitForSingleObject,
    WaitForSingleObjectEx,
    WaitForMultipleObjects,
    WaitForMultipleObjectsEx,
    Sleep,
    SleepEx,
    GetLastError,
    WSAGetLastError,
    Socket,
    WSASocket,
    Bind,
    Connect,
    Listen,
    Accept,
    Closesocket,
    Shutdown,
    Ioctlsocket,
    Setsockopt,
    Getsockopt,
    Send,
    Recv,
    Sendto,
    Recvfrom,
    WSASend,
    WSARecv,
    WSASendTo,
    WSARecvFrom,
    WSAGetOverlappedResult,
    CancelIo,
    CancelIoEx,
    WSAEventSelect,
    WSAEnumNetworkEvents,
    /// `buf(16)` or `buf("text")`: a new buffer.
    Buf,
    /// `ov(ev)` or `ov()`: a new `OVERLAPPED`.
    Ov,
    /// `signaled(h)`: whether an object is signaled, read without a wait.
    Signaled,
    /// `completion(ov)`: what the completion routine of an overlapped operation was given.
    Completion,
    /// `held(rx)`: how many bytes a buffer holds (and, as `data`, which).
    Held,
}

/// What an argument must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A number or constants joined by `|`.
    Int,
    /// A socket's name, or a number (for an invalid socket).
    Socket,
    /// An event's name, `NULL`, or a number.
    Event,
    /// An event's or a socket's name, or a number.
    Handle,
    /// `[...]` of events.
    Handles,
    /// A buffer's name, `buf(..)`, a string, or `[...]` of those.
    Buffers,
    /// An overlapped's name, `ov(..)`, or `NULL`.
    Overlapped,
    /// `"a.b.c.d:port"`.
    Addr,
    /// `routine` (the script's completion routine) or `NULL`.
    Routine,
    /// A number, or a string for a buffer's initial bytes (`buf` only).
    BufInit,
}

/// What a call gives back, and so what a name bound to it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ret {
    Int,
    Void,
    Socket,
    Event,
    Buffer,
    Overlapped,
}

impl Ret {
    pub fn noun(self) -> &'static str {
        match self {
            Ret::Int => "a number",
            Ret::Void => "nothing",
            Ret::Socket => "a socket",
            Ret::Event => "an event",
            Ret::Buffer => "a buffer",
            Ret::Overlapped => "an overlapped",
        }
    }
}

/// The clauses a call's expectation may hold besides its value and last error.
pub mod clause {
    pub const BYTES: u8 = 1;
    pub const DATA: u8 = 2;
    pub const FLAGS: u8 = 4;
    pub const EVENTS: u8 = 8;
    pub const FROM: u8 = 16;
    pub const OUT: u8 = 32;
}

#[derive(Debug)]
pub struct Signature {
    pub name: &'static str,
    pub f: F,
    pub params: &'static [Kind],
    /// How many of `params` must be given; the rest are optional.
    pub required: usize,
    pub ret: Ret,
    pub clauses: u8,
}

use Kind::*;
use clause::*;

const fn sig(name: &'static str, f: F, params: &'static [Kind], ret: Ret) -> Signature {
    Signature { name, f, params, required: params.len(), ret, clauses: 0 }
}

const fn opt(s: Signature, required: usize) -> Signature {
    Signature { required, ..s }
}

const fn with(s: Signature, clauses: u8) -> Signature {
    Signature { clauses: s.clauses | clauses, ..s }
}

pub const SIGNATURES: &[Signature] = &[
    sig("WSAStartup", F::WSAStartup, &[], Ret::Int),
    sig("WSACleanup", F::WSACleanup, &[], Ret::Int),
    sig("WSACreateEvent", F::WSACreateEvent, &[], Ret::Event),
    sig("CreateEvent", F::CreateEvent, &[Int, Int], Ret::Event),
    sig("WSASetEvent", F::WSASetEvent, &[Event], Ret::Int),
    sig("WSAResetEvent", F::WSAResetEvent, &[Event], Ret::Int),
    sig("WSACloseEvent", F::WSACloseEvent, &[Event], Ret::Int),
    sig("SetEvent", F::SetEvent, &[Event], Ret::Int),
    sig("ResetEvent", F::ResetEvent, &[Event], Ret::Int),
    sig("CloseHandle", F::CloseHandle, &[Handle], Ret::Int),
    opt(sig("WSAWaitForMultipleEvents", F::WSAWaitForMultipleEvents, &[Handles, Int, Int, Int], Ret::Int), 3),
    sig("WaitForSingleObject", F::WaitForSingleObject, &[Handle, Int], Ret::Int),
    sig("WaitForSingleObjectEx", F::WaitForSingleObjectEx, &[Handle, Int, Int], Ret::Int),
    sig("WaitForMultipleObjects", F::WaitForMultipleObjects, &[Handles, Int, Int], Ret::Int),
    sig("WaitForMultipleObjectsEx", F::WaitForMultipleObjectsEx, &[Handles, Int, Int, Int], Ret::Int),
    sig("Sleep", F::Sleep, &[Int], Ret::Void),
    sig("SleepEx", F::SleepEx, &[Int, Int], Ret::Int),
    sig("GetLastError", F::GetLastError, &[], Ret::Int),
    sig("WSAGetLastError", F::WSAGetLastError, &[], Ret::Int),
    sig("socket", F::Socket, &[Int, Int, Int], Ret::Socket),
    sig("WSASocket", F::WSASocket, &[Int, Int, Int, Int], Ret::Socket),
    sig("bind", F::Bind, &[Socket, Addr], Ret::Int),
    sig("connect", F::Connect, &[Socket, Addr], Ret::Int),
    sig("listen", F::Listen, &[Socket, Int], Ret::Int),
    with(sig("accept", F::Accept, &[Socket], Ret::Socket), FROM),
    sig("closesocket", F::Closesocket, &[Socket], Ret::Int),
    sig("shutdown", F::Shutdown, &[Socket, Int], Ret::Int),
    with(sig("ioctlsocket", F::Ioctlsocket, &[Socket, Int, Int], Ret::Int), OUT),
    sig("setsockopt", F::Setsockopt, &[Socket, Int, Int, Int], Ret::Int),
    with(sig("getsockopt", F::Getsockopt, &[Socket, Int, Int], Ret::Int), OUT),
    opt(sig("send", F::Send, &[Socket, Buffers, Int], Ret::Int), 2),
    with(opt(sig("recv", F::Recv, &[Socket, Buffers, Int], Ret::Int), 2), DATA),
    opt(sig("sendto", F::Sendto, &[Socket, Buffers, Addr, Int], Ret::Int), 3),
    with(opt(sig("recvfrom", F::Recvfrom, &[Socket, Buffers, Int], Ret::Int), 2), DATA | FROM),
    with(opt(sig("WSASend", F::WSASend, &[Socket, Buffers, Overlapped, Int, Routine], Ret::Int), 3), BYTES),
    with(
        opt(sig("WSARecv", F::WSARecv, &[Socket, Buffers, Overlapped, Int, Routine], Ret::Int), 3),
        BYTES | DATA | FLAGS,
    ),
    with(
        opt(sig("WSASendTo", F::WSASendTo, &[Socket, Buffers, Addr, Overlapped, Int, Routine], Ret::Int), 4),
        BYTES,
    ),
    with(
        opt(sig("WSARecvFrom", F::WSARecvFrom, &[Socket, Buffers, Overlapped, Int, Routine], Ret::Int), 3),
        BYTES | DATA | FLAGS | FROM,
    ),
    with(
        sig("WSAGetOverlappedResult", F::WSAGetOverlappedResult, &[Socket, Overlapped, Int], Ret::Int),
        BYTES | DATA | FLAGS | FROM,
    ),
    sig("CancelIo", F::CancelIo, &[Socket], Ret::Int),
    sig("CancelIoEx", F::CancelIoEx, &[Socket, Overlapped], Ret::Int),
    sig("WSAEventSelect", F::WSAEventSelect, &[Socket, Event, Int], Ret::Int),
    with(sig("WSAEnumNetworkEvents", F::WSAEnumNetworkEvents, &[Socket, Event], Ret::Int), EVENTS),
    sig("buf", F::Buf, &[BufInit], Ret::Buffer),
    opt(sig("ov", F::Ov, &[Event], Ret::Overlapped), 0),
    sig("signaled", F::Signaled, &[Handle], Ret::Int),
    with(sig("completion", F::Completion, &[Overlapped], Ret::Int), BYTES | DATA | FLAGS | FROM),
    with(sig("held", F::Held, &[Buffers], Ret::Int), DATA),
];

pub fn signature(name: &str) -> Option<&'static Signature> {
    SIGNATURES.iter().find(|s| s.name == name)
}

/// The signature of a function a script calls.
pub fn signature_of(f: F) -> &'static Signature {
    SIGNATURES.iter().find(|s| s.f == f).expect("every function has its signature")
}

/// The name of a clause bit, for messages.
pub fn clause_name(bit: u8) -> &'static str {
    match bit {
        BYTES => "bytes",
        DATA => "data",
        FLAGS => "flags",
        EVENTS => "lNetworkEvents and iErrorCode",
        FROM => "from",
        _ => "out",
    }
}

/// The constants a script may name besides those `wsasim_sim::names` has (errors, families,
/// socket types, protocols, options, ioctls, flags), with `windows-sys`'s values.
pub const CONSTANTS: &[(&str, i64)] = wsasim_sim::named![
    foundation::TRUE,
    foundation::FALSE,
    foundation::WAIT_OBJECT_0,
    foundation::WAIT_TIMEOUT,
    foundation::WAIT_FAILED,
    foundation::WAIT_IO_COMPLETION,
    threading::INFINITE,
    ws::WSA_INFINITE,
    ws::WSA_WAIT_EVENT_0,
    ws::WSA_WAIT_TIMEOUT,
    ws::WSA_WAIT_IO_COMPLETION,
    ws::WSA_WAIT_FAILED,
    ws::SOCKET_ERROR,
    ws::INVALID_SOCKET,
    ws::WSA_FLAG_OVERLAPPED,
    ws::FD_READ_BIT,
    ws::FD_WRITE_BIT,
    ws::FD_OOB_BIT,
    ws::FD_ACCEPT_BIT,
    ws::FD_CONNECT_BIT,
    ws::FD_CLOSE_BIT,
];

/// `NULL`, and `routine`, are words of the script itself, not constants.
pub const NULL: &str = "NULL";
pub const ROUTINE: &str = "routine";

pub fn constant(name: &str) -> Option<i64> {
    if name == NULL {
        return Some(0);
    }
    let own = || CONSTANTS.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
    wsasim_sim::names::value_of(name).or_else(own)
}
