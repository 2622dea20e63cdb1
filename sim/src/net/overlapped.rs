//! Where Windows keeps an operation's end in its OVERLAPPED, read and written here only:
//! the status (an NTSTATUS, `STATUS_PENDING` while it pends) in `Internal`, the byte count
//! in `InternalHigh`, and the receive flags in `Offset`, where Winsock providers keep them
//! for `WSAGetOverlappedResult` (Wine sock.c test_nonblocking_async_recv,
//! test_ip_pktinfo).
//!
//! # Safety
//! Every function takes an OVERLAPPED that must be valid for the access.

use windows_sys::Win32::Foundation::STATUS_PENDING;
use windows_sys::Win32::System::IO::OVERLAPPED;
use wsasim_model::Status;

/// The status of the operation using `ov`: `Status::PENDING` until it ends.
///
/// # Safety
/// `ov` must be valid to read.
pub unsafe fn status(ov: *const OVERLAPPED) -> Status {
    // SAFETY: the caller's contract.
    Status(unsafe { (*ov).Internal } as u32 as i32)
}

/// The bytes the operation using `ov` moved.
///
/// # Safety
/// As for [`status`].
pub unsafe fn bytes(ov: *const OVERLAPPED) -> usize {
    // SAFETY: the caller's contract.
    unsafe { (*ov).InternalHigh }
}

/// The flags a receive using `ov` ended with.
///
/// # Safety
/// As for [`status`].
pub unsafe fn flags(ov: *const OVERLAPPED) -> u32 {
    // SAFETY: the caller's contract.
    unsafe { (*ov).Anonymous.Anonymous.Offset }
}

/// An operation using `ov` starts.
///
/// # Safety
/// `ov` must be valid to write.
pub(super) unsafe fn begin(ov: *mut OVERLAPPED) {
    // SAFETY: the caller's contract.
    unsafe { (*ov).Internal = STATUS_PENDING as u32 as usize };
}

/// The operation using `ov` ended with `status` and `bytes`, and, for an overlapped one,
/// its receive `flags`.
///
/// # Safety
/// As for [`begin`].
pub(super) unsafe fn end(ov: *mut OVERLAPPED, status: Status, bytes: usize, flags: Option<u32>) {
    // SAFETY: the caller's contract.
    unsafe {
        (*ov).Internal = status.0 as u32 as usize;
        (*ov).InternalHigh = bytes;
        if let Some(flags) = flags {
            (*ov).Anonymous.Anonymous.Offset = flags;
        }
    }
}
