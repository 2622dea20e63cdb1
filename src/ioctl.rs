//! A socket's controls: `ioctlsocket` and `WSAIoctl`. The rules are Wine sock.c's
//! test_fionbio, test_fionread_siocatmark, test_keepalive_vals, test_unsupported_ioctls
//! and test_get_extension_func, run on Windows.

use crate::call::{Call, enter};
use crate::memory::{Access, usable};
use crate::socket::lookup;
use std::ffi::c_void;
use windows_sys::Win32::Networking::WinSock::{
    FIONBIO, FIONREAD, LPWSAOVERLAPPED_COMPLETION_ROUTINE, SIO_GET_EXTENSION_FUNCTION_POINTER,
    SIO_KEEPALIVE_VALS, SIO_UDP_CONNRESET, SOCKET, WSA_IO_PENDING, WSAEFAULT, WSAEINVAL, WSAENOPROTOOPT,
    WSAEOPNOTSUPP, tcp_keepalive,
};
use windows_sys::Win32::System::IO::OVERLAPPED;
use wsasim_model::{Proto, Status};
use wsasim_sim::names::Meaning;
use wsasim_sim::{Op, SocketId, Value};

/// `ioctlsocket` (Doc: ioctlsocket function): `FIONBIO` (which cannot turn blocking mode
/// back on while `WSAEventSelect` holds the socket) and `FIONREAD`; any other command is
/// `WSAEINVAL`, and an argument that cannot be used `WSAEFAULT` (Wine sock.c test_fionbio:
/// `(u_long *)1`).
pub unsafe fn ioctlsocket(s: SOCKET, cmd: i32, argp: *mut u32) -> i32 {
    let call = enter("ioctlsocket");
    let args = [Value::Hex(s as u64), Value::Const(Meaning::Ioctl, cmd.into()), Value::Ptr(!argp.is_null())];
    let r = lookup(call, s).and_then(|id| {
        if !usable(argp.cast(), size_of::<u32>(), Access::Write) {
            return Err(WSAEFAULT as u32);
        }
        match cmd {
            // SAFETY: a u32, just probed, as the caller passes Windows.
            FIONBIO => set_nonblocking(call, id, unsafe { *argp } != 0),
            FIONREAD => {
                let n = call.with(|w| w.readable(id));
                // SAFETY: as above.
                unsafe { *argp = u32::try_from(n).unwrap_or(u32::MAX) };
                Ok(())
            }
            _ => Err(WSAEINVAL as u32),
        }
    });
    call.winsock(&args, r.map(|()| 0))
}

/// `FIONBIO`: blocking mode cannot come back while `WSAEventSelect` holds the socket (Doc:
/// WSAEventSelect; Wine sock.c test_fionbio).
fn set_nonblocking(call: Call, id: SocketId, nonblocking: bool) -> Result<(), u32> {
    call.with(|w| {
        let socket = w.socket_mut(id);
        if !nonblocking && socket.events.selected() {
            return Err(WSAEINVAL as u32);
        }
        socket.options.nonblocking = nonblocking;
        Ok(())
    })
}

/// What a control gave: the bytes it wrote to the output buffer, or an error; or it is not
/// one the provider has.
enum Control {
    Done(Result<u32, u32>),
    Unsupported,
}

/// `WSAIoctl` (Doc: WSAIoctl function): `FIONBIO`, `FIONREAD`, `SIO_KEEPALIVE_VALS` (the
/// socket's keep-alive: `net::keepalive`), `SIO_UDP_CONNRESET`. A NULL
/// `lpcbBytesReturned` is `WSAEFAULT`, with an OVERLAPPED too. With an OVERLAPPED the
/// control completes in the call, as an operation that completes at once does (its
/// OVERLAPPED written with 0 bytes, its event signaled or its routine queued). Any other
/// code is `WSAEOPNOTSUPP`, or with an OVERLAPPED `WSA_IO_PENDING` and a completion with
/// `STATUS_NOT_SUPPORTED`; `SIO_GET_EXTENSION_FUNCTION_POINTER` is `WSAEINVAL`, as for an
/// unknown GUID, since no extension function is simulated.
pub unsafe fn WSAIoctl(
    s: SOCKET,
    dwiocontrolcode: u32,
    lpvinbuffer: *const c_void,
    cbinbuffer: u32,
    lpvoutbuffer: *mut c_void,
    cboutbuffer: u32,
    lpcbbytesreturned: *mut u32,
    lpoverlapped: *mut OVERLAPPED,
    lpcompletionroutine: LPWSAOVERLAPPED_COMPLETION_ROUTINE,
) -> i32 {
    let call = enter("WSAIoctl");
    let args = [
        Value::Hex(s as u64),
        Value::Const(Meaning::Ioctl, dwiocontrolcode.into()),
        Value::Int(cbinbuffer.into()),
        Value::Int(cboutbuffer.into()),
        Value::Ptr(!lpcbbytesreturned.is_null()),
        Value::Ptr(!lpoverlapped.is_null()),
        Value::Ptr(lpcompletionroutine.is_some()),
    ];
    let input = |len: usize| {
        let fits = cbinbuffer as usize >= len && usable(lpvinbuffer.cast(), len, Access::Read);
        // SAFETY: `len` readable bytes, just probed, read as the control's input.
        fits.then(|| unsafe { std::slice::from_raw_parts(lpvinbuffer.cast::<u8>(), len) }.to_vec())
    };
    let word = |bytes: Vec<u8>| u32::from_ne_bytes(bytes[..4].try_into().expect("four bytes"));
    let r = lookup(call, s).and_then(|id| {
        if !usable(lpcbbytesreturned.cast(), size_of::<u32>(), Access::Write) {
            return Err(WSAEFAULT as u32);
        }
        let proto = call.with(|w| w.socket(id).proto);
        let control = match dwiocontrolcode {
            c if c == FIONBIO as u32 => Control::Done(
                input(size_of::<u32>())
                    .ok_or(WSAEFAULT as u32)
                    .and_then(|b| set_nonblocking(call, id, word(b) != 0))
                    .map(|()| 0),
            ),
            c if c == FIONREAD as u32 => Control::Done(
                if cboutbuffer as usize >= size_of::<u32>()
                    && usable(lpvoutbuffer.cast(), size_of::<u32>(), Access::Write)
                {
                    let n = u32::try_from(call.with(|w| w.readable(id))).unwrap_or(u32::MAX);
                    // SAFETY: a writable u32, just probed.
                    unsafe { lpvoutbuffer.cast::<u32>().write_unaligned(n) };
                    Ok(size_of::<u32>() as u32)
                } else {
                    Err(WSAEFAULT as u32)
                },
            ),
            // Doc: WSAIoctl, SIO_KEEPALIVE_VALS on a datagram socket: WSAENOPROTOOPT.
            SIO_KEEPALIVE_VALS if proto == Proto::Udp => Control::Done(Err(WSAENOPROTOOPT as u32)),
            // Doc: SIO_KEEPALIVE_VALS: on or off, the idle time and the interval in ms.
            SIO_KEEPALIVE_VALS => {
                Control::Done(input(size_of::<tcp_keepalive>()).ok_or(WSAEFAULT as u32).map(|b| {
                    // SAFETY: `b` holds a tcp_keepalive's bytes.
                    let k = unsafe { b.as_ptr().cast::<tcp_keepalive>().read_unaligned() };
                    call.with(|w| {
                        let o = &mut w.socket_mut(id).options;
                        o.keep_alive = k.onoff != 0;
                        // The times of an `onoff` of 0 are kept for nothing, and a time of
                        // 0 is taken as 1 ms [inferred: the page says neither].
                        if o.keep_alive {
                            o.keep_alive_idle_ms = k.keepalivetime.max(1);
                            o.keep_alive_interval_ms = k.keepaliveinterval.max(1);
                        }
                        w.apply_options(id);
                    });
                    0
                }))
            }
            // Taken on a TCP socket too, where it changes nothing [inferred: no source says].
            SIO_UDP_CONNRESET => Control::Done(input(size_of::<u32>()).ok_or(WSAEFAULT as u32).map(|b| {
                call.with(|w| w.socket_mut(id).options.report_unreachable = word(b) != 0);
                0
            })),
            SIO_GET_EXTENSION_FUNCTION_POINTER => Control::Done(Err(WSAEINVAL as u32)),
            _ => Control::Unsupported,
        };
        finish(call, id, control, lpcbbytesreturned, lpoverlapped, lpcompletionroutine)
    });
    call.winsock(&args, r)
}

/// Ends a control: writes the count, and with an OVERLAPPED completes it in the call.
fn finish(
    call: Call,
    id: SocketId,
    control: Control,
    returned: *mut u32,
    ov: *mut OVERLAPPED,
    routine: LPWSAOVERLAPPED_COMPLETION_ROUTINE,
) -> Result<i32, u32> {
    let status = match control {
        Control::Done(Err(e)) => return Err(e),
        Control::Done(Ok(bytes)) => {
            // SAFETY: probed writable by the caller.
            unsafe { returned.write_unaligned(bytes) };
            Status::SUCCESS
        }
        Control::Unsupported if ov.is_null() => {
            // SAFETY: as above.
            unsafe { returned.write_unaligned(0) };
            return Err(WSAEOPNOTSUPP as u32);
        }
        Control::Unsupported => Status::NOT_SUPPORTED,
    };
    if ov.is_null() {
        return Ok(0);
    }
    // SAFETY: the caller's OVERLAPPED, valid until the control completes, which is now.
    let notify = call.with(|w| unsafe { w.notify_for(id, ov, routine) })?;
    call.with(|w| {
        w.overlapped_given(id, ov as usize, call.name);
        let op = Op {
            call: call.name,
            thread: w.current(),
            buffers: Vec::new(),
            flags: 0,
            overlapped: ov,
            notify,
            from: None,
            taken: 0,
            saved: None,
            in_use: false,
        };
        w.complete_now(id, op, status);
    });
    if status == Status::SUCCESS { Ok(0) } else { Err(WSA_IO_PENDING as u32) }
}
