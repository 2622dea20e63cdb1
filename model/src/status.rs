//! The completion status of an overlapped operation, as Windows keeps it in
//! `OVERLAPPED.Internal` (an NTSTATUS), and the two ways Windows turns it into an error code:
//! Winsock's (`WSAGetOverlappedResult`, completion routines) and kernel32's
//! (`GetOverlappedResult`, completion ports), which differ (Wine sock.c map_status;
//! test_tcp_reset, test_completion_port).

use crate::Win32Error;
use windows_sys::Win32::Foundation::*;
use windows_sys::Win32::Networking::WinSock::*;

/// An NTSTATUS as `OVERLAPPED.Internal` holds it. A program may write any value there, so
/// every value has a reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Status(pub NTSTATUS);

impl Status {
    pub const SUCCESS: Status = Status(STATUS_SUCCESS);
    /// Set when an operation starts and stays until it completes (Wine sock.c
    /// test_nonblocking_async_recv).
    pub const PENDING: Status = Status(STATUS_PENDING);
    /// A datagram cut to the receive buffers (Wine afd.c test_recv). A warning: it fails
    /// the call.
    pub const BUFFER_OVERFLOW: Status = Status(STATUS_BUFFER_OVERFLOW);
    pub const CANCELLED: Status = Status(STATUS_CANCELLED);
    pub const CONNECTION_RESET: Status = Status(STATUS_CONNECTION_RESET);
    pub const CONNECTION_ABORTED: Status = Status(STATUS_CONNECTION_ABORTED);
    pub const CONNECTION_REFUSED: Status = Status(STATUS_CONNECTION_REFUSED);
    /// A UDP receive ended by an ICMP port unreachable (`WSAECONNRESET`: Wine sock.c
    /// test_WSAGetOverlappedResult's map).
    pub const PORT_UNREACHABLE: Status = Status(STATUS_PORT_UNREACHABLE);
    /// A control the provider does not have, completed through its OVERLAPPED (Wine sock.c
    /// test_unsupported_ioctls).
    pub const NOT_SUPPORTED: Status = Status(STATUS_NOT_SUPPORTED);

    /// `WSAGetOverlappedResult`'s reading (Wine sock.c test_WSAGetOverlappedResult and the
    /// table of its map_status, checked on Windows): `Ok` with the last error a success
    /// sets (Windows 10 1809 and later), or `Err` with the Winsock error of a failure.
    /// `STATUS_PENDING` and warnings are failures.
    pub fn wsa_result(self) -> Result<Win32Error, Win32Error> {
        let s = self.0;
        if s >= 0 && s != STATUS_PENDING {
            return Ok(self.win32_error());
        }
        let e = match s {
            STATUS_PENDING => WSA_IO_INCOMPLETE,
            STATUS_BUFFER_OVERFLOW => WSAEMSGSIZE,
            STATUS_CANCELLED => WSA_OPERATION_ABORTED,
            STATUS_CONNECTION_RESET | STATUS_REMOTE_DISCONNECT | STATUS_CONNECTION_DISCONNECTED => {
                WSAECONNRESET
            }
            STATUS_PORT_UNREACHABLE => WSAECONNRESET,
            STATUS_CONNECTION_ABORTED | STATUS_LOCAL_DISCONNECT => WSAECONNABORTED,
            STATUS_CONNECTION_REFUSED => WSAECONNREFUSED,
            STATUS_GRACEFUL_DISCONNECT => WSAEDISCON,
            STATUS_PIPE_DISCONNECTED => WSAESHUTDOWN,
            STATUS_IO_TIMEOUT => WSAETIMEDOUT,
            STATUS_DEVICE_NOT_READY => WSAEWOULDBLOCK,
            STATUS_INVALID_CONNECTION => WSAENOTCONN,
            STATUS_CONNECTION_ACTIVE => WSAEISCONN,
            STATUS_NOT_SUPPORTED => WSAEOPNOTSUPP,
            STATUS_BUFFER_TOO_SMALL | STATUS_ACCESS_VIOLATION => WSAEFAULT,
            STATUS_INVALID_HANDLE | STATUS_OBJECT_TYPE_MISMATCH => WSAENOTSOCK,
            STATUS_NETWORK_UNREACHABLE => WSAENETUNREACH,
            STATUS_HOST_UNREACHABLE => WSAEHOSTUNREACH,
            STATUS_REQUEST_ABORTED => WSAEINTR,
            _ => WSAEINVAL,
        };
        Err(e as Win32Error)
    }

    /// kernel32's reading, `RtlNtStatusToDosError`, which `GetOverlappedResult` and
    /// completion-port packets use (Wine sock.c test_tcp_reset: a reset is
    /// `ERROR_NETNAME_DELETED` there, not `WSAECONNRESET`). 0 for `STATUS_SUCCESS`;
    /// `ERROR_MR_MID_NOT_FOUND` for a status the table does not know, as
    /// `RtlNtStatusToDosError` gives. (`GetOverlappedResult` itself reports a pending
    /// operation as `ERROR_IO_INCOMPLETE`, as `WSAGetOverlappedResult` does.)
    pub fn win32_error(self) -> Win32Error {
        match self.0 {
            STATUS_SUCCESS => 0,
            STATUS_PENDING => ERROR_IO_PENDING,
            STATUS_BUFFER_OVERFLOW => ERROR_MORE_DATA,
            STATUS_CANCELLED => ERROR_OPERATION_ABORTED,
            STATUS_CONNECTION_RESET
            | STATUS_LOCAL_DISCONNECT
            | STATUS_REMOTE_DISCONNECT
            | STATUS_CONNECTION_DISCONNECTED => ERROR_NETNAME_DELETED,
            STATUS_CONNECTION_ABORTED => ERROR_CONNECTION_ABORTED,
            STATUS_CONNECTION_REFUSED => ERROR_CONNECTION_REFUSED,
            STATUS_GRACEFUL_DISCONNECT => ERROR_GRACEFUL_DISCONNECT,
            STATUS_PIPE_DISCONNECTED => ERROR_PIPE_NOT_CONNECTED,
            STATUS_IO_TIMEOUT => ERROR_SEM_TIMEOUT,
            STATUS_DEVICE_NOT_READY => ERROR_NOT_READY,
            STATUS_INVALID_CONNECTION => ERROR_CONNECTION_INVALID,
            STATUS_CONNECTION_ACTIVE => ERROR_CONNECTION_ACTIVE,
            STATUS_NOT_SUPPORTED => ERROR_NOT_SUPPORTED,
            STATUS_BUFFER_TOO_SMALL => ERROR_INSUFFICIENT_BUFFER,
            STATUS_ACCESS_VIOLATION => ERROR_NOACCESS,
            STATUS_INVALID_HANDLE | STATUS_OBJECT_TYPE_MISMATCH => ERROR_INVALID_HANDLE,
            STATUS_NETWORK_UNREACHABLE => ERROR_NETWORK_UNREACHABLE,
            STATUS_HOST_UNREACHABLE => ERROR_HOST_UNREACHABLE,
            STATUS_PORT_UNREACHABLE => ERROR_PORT_UNREACHABLE,
            STATUS_REQUEST_ABORTED => ERROR_REQUEST_ABORTED,
            _ => ERROR_MR_MID_NOT_FOUND,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_two_readings_of_the_statuses_wsasim_produces() {
        // (status, WSAGetOverlappedResult, GetOverlappedResult): Wine sock.c map_status,
        // test_tcp_reset, test_completion_port.
        let table: &[(Status, Result<u32, i32>, u32)] = &[
            (Status::SUCCESS, Ok(0), 0),
            (Status::PENDING, Err(WSA_IO_INCOMPLETE), ERROR_IO_PENDING),
            (Status::BUFFER_OVERFLOW, Err(WSAEMSGSIZE), ERROR_MORE_DATA),
            (Status::CANCELLED, Err(WSA_OPERATION_ABORTED), ERROR_OPERATION_ABORTED),
            (Status::CONNECTION_RESET, Err(WSAECONNRESET), ERROR_NETNAME_DELETED),
            (Status::CONNECTION_ABORTED, Err(WSAECONNABORTED), ERROR_CONNECTION_ABORTED),
            (Status::CONNECTION_REFUSED, Err(WSAECONNREFUSED), ERROR_CONNECTION_REFUSED),
        ];
        for &(status, wsa, win32) in table {
            assert_eq!(status.wsa_result(), wsa.map_err(|e| e as u32), "{status:?}");
            assert_eq!(status.win32_error(), win32, "{status:?}");
        }
    }

    #[test]
    fn any_value_a_program_writes_has_a_reading() {
        // Wine sock.c map_status: other errors and warnings fail with WSAEINVAL; other
        // success codes succeed.
        assert_eq!(Status(0xC000_0001_u32 as i32).wsa_result(), Err(WSAEINVAL as u32));
        assert_eq!(Status(0x8000_0001_u32 as i32).wsa_result(), Err(WSAEINVAL as u32));
        assert_eq!(Status(0x4000_0000).wsa_result(), Ok(ERROR_MR_MID_NOT_FOUND));
        assert_eq!(Status(STATUS_IO_TIMEOUT).wsa_result(), Err(WSAETIMEDOUT as u32));
    }
}
