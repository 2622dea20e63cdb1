//! What follows an overlapped operation: its result (`WSAGetOverlappedResult`,
//! `GetOverlappedResult`) and its cancellation (`CancelIo`, `CancelIoEx`).

use crate::call::{Call, enter, handle, hex};
use crate::socket::lookup;
use crate::wait::wait;
use windows_sys::Win32::Foundation::{
    ERROR_INVALID_HANDLE, ERROR_IO_INCOMPLETE, ERROR_IO_PENDING, ERROR_NOT_FOUND, HANDLE,
};
use windows_sys::Win32::Networking::WinSock::*;
use windows_sys::Win32::System::IO::OVERLAPPED;
use windows_sys::Win32::System::Threading::INFINITE;
use windows_sys::core::BOOL;
use wsasim_model::Status;
use wsasim_sim::{Cancel, Misuse, SocketId, Value, overlapped};

/// `WSAGetOverlappedResult` (Doc: WSAGetOverlappedResult function; Wine sock.c
/// test_WSAGetOverlappedResult, test_ip_pktinfo).
pub unsafe fn WSAGetOverlappedResult(
    s: SOCKET,
    lpoverlapped: *const OVERLAPPED,
    lpcbtransfer: *mut u32,
    fwait: BOOL,
    lpdwflags: *mut u32,
) -> BOOL {
    let call = enter("WSAGetOverlappedResult");
    let args = [Value::Hex(s as u64), Value::Ptr(!lpoverlapped.is_null()), Value::Bool(fwait)];
    let r = lookup(call, s).and_then(|id| {
        if lpoverlapped.is_null() || lpcbtransfer.is_null() {
            return Err(WSAEFAULT as u32);
        }
        // SAFETY: the caller's OVERLAPPED and pointers, as for Windows.
        unsafe { overlapped_status(call, &args, id, lpoverlapped, fwait != 0, lpcbtransfer) }
    });
    let r = match r {
        Ok(Some(status)) => match status.wsa_result() {
            Ok(error) => {
                if !lpdwflags.is_null() {
                    // SAFETY: as above; flags are written on success only (Wine
                    // sock.c test_ip_pktinfo).
                    unsafe { *lpdwflags = overlapped::flags(lpoverlapped) };
                }
                Ok(error)
            }
            Err(e) => Err(e),
        },
        // The event was signaled while the status still said pending: TRUE at once,
        // with ERROR_IO_PENDING (Wine sock.c test_WSAGetOverlappedResult).
        Ok(None) => Ok(ERROR_IO_PENDING),
        Err(e) => Err(e),
    };
    let ret = BOOL::from(r.is_ok());
    call.with(|w| w.set_last_error(r.unwrap_or_else(|e| e)));
    call.done(&args, Value::Bool(ret), r.err());
    ret
}

/// The status of an overlapped operation, after waiting (non-alertably: Wine sock.c
/// test_WSAGetOverlappedResult) for its event, or the socket when it has none, if `wait`
/// says so: `None` when the wait ended with the operation still pending. The byte count is
/// written whatever the status (Wine sock.c test_ip_pktinfo).
///
/// # Safety
/// `ov` and `bytes` must be valid.
unsafe fn overlapped_status(
    call: Call,
    args: &[Value],
    id: SocketId,
    ov: *const OVERLAPPED,
    wait_for_it: bool,
    bytes: *mut u32,
) -> Result<Option<Status>, u32> {
    call.with(|w| {
        let socket = w.socket(id);
        if !socket.used_overlappeds.contains(ov as usize) {
            let handle = socket.handle;
            w.misuse(Misuse::ForeignOverlapped, call.name, || {
                format!("an OVERLAPPED that no operation on socket {handle} used")
            });
        }
    });
    // SAFETY: the caller's contract.
    let status = || unsafe { overlapped::status(ov) };
    if status() == Status::PENDING {
        if !wait_for_it {
            return Err(ERROR_IO_INCOMPLETE);
        }
        // SAFETY: as above.
        let event = unsafe { (*ov).hEvent };
        let on = if event.is_null() { call.with(|w| w.socket(id).handle) } else { handle(event) };
        wait(call, args, &[on], false, INFINITE, false)?;
    }
    // SAFETY: as above.
    unsafe { *bytes = overlapped::bytes(ov) as u32 };
    Ok(Some(status()).filter(|s| *s != Status::PENDING))
}

/// `GetOverlappedResult` (Doc: GetOverlappedResult function): the same status as
/// `WSAGetOverlappedResult`, read with kernel32's codes (a reset is `ERROR_NETNAME_DELETED`:
/// Wine sock.c test_tcp_reset). A success leaves the last error alone.
pub unsafe fn GetOverlappedResult(
    hfile: HANDLE,
    lpoverlapped: *const OVERLAPPED,
    lpnumberofbytestransferred: *mut u32,
    bwait: BOOL,
) -> BOOL {
    let call = enter("GetOverlappedResult");
    let args = [hex(hfile), Value::Ptr(!lpoverlapped.is_null()), Value::Bool(bwait)];
    let r = call
        .with(|w| {
            let host = w.host();
            w.kernel().socket(host, handle(hfile)).map(SocketId).ok_or(ERROR_INVALID_HANDLE)
        })
        .and_then(|id| {
            if lpoverlapped.is_null() || lpnumberofbytestransferred.is_null() {
                // An access violation in kernel32's probe, as Win32 reports it.
                return Err(windows_sys::Win32::Foundation::ERROR_NOACCESS);
            }
            // SAFETY: the caller's OVERLAPPED and pointer, as for Windows.
            let status = unsafe {
                overlapped_status(call, &args, id, lpoverlapped, bwait != 0, lpnumberofbytestransferred)
            }?;
            match status.map_or(0, |s| s.win32_error()) {
                e if status.is_some_and(|s| s.0 < 0) => Err(e),
                _ => Ok(()),
            }
        });
    let ret = BOOL::from(r.is_ok());
    call.done(&args, Value::Bool(ret), r.err());
    ret
}

/// `CancelIo` (Doc: CancelIo function; Wine sock.c test_send_buffering): the calling
/// thread's operations on the handle; TRUE even when there were none.
pub unsafe fn CancelIo(hfile: HANDLE) -> BOOL {
    let call = enter("CancelIo");
    let r = cancel(call, hfile, |w| Cancel::Thread(w.current())).map(|_| ());
    finish_cancel(call, &[hex(hfile)], r)
}

/// `CancelIoEx` (Doc: CancelIoEx function): every operation on the handle, or those
/// with `lpOverlapped`; `ERROR_NOT_FOUND` when none matched.
pub unsafe fn CancelIoEx(hfile: HANDLE, lpoverlapped: *const OVERLAPPED) -> BOOL {
    let call = enter("CancelIoEx");
    let which = if lpoverlapped.is_null() { Cancel::All } else { Cancel::Overlapped(lpoverlapped as usize) };
    let r = cancel(call, hfile, |_| which).and_then(|n| if n == 0 { Err(ERROR_NOT_FOUND) } else { Ok(()) });
    finish_cancel(call, &[hex(hfile), Value::Ptr(!lpoverlapped.is_null())], r)
}

fn cancel(call: Call, h: HANDLE, which: impl FnOnce(&wsasim_sim::World) -> Cancel) -> Result<usize, u32> {
    call.with(|w| {
        let host = w.host();
        let id = w.kernel().socket(host, handle(h)).ok_or(ERROR_INVALID_HANDLE)?;
        let which = which(w);
        Ok(w.cancel(SocketId(id), which))
    })
}

fn finish_cancel(call: Call, args: &[Value], r: Result<(), u32>) -> BOOL {
    let ret = BOOL::from(r.is_ok());
    call.done(args, Value::Bool(ret), r.err());
    ret
}
