//! The names of Win32 constants, for the numbers whose meaning a call gives them: a trace
//! shows `socket(AF_INET, SOCK_STREAM, IPPROTO_TCP)` and `error WSAECONNREFUSED` where the
//! numbers are 2, 1, 6 and 10061. A value without a name shows as its number, flags as
//! their names joined by `|` (with what is left over in hex).

use std::fmt;
use windows_sys::Win32::Foundation as foundation;
use windows_sys::Win32::Networking::WinSock as ws;

/// `(name, value)` pairs from `windows-sys`'s constants, as `&[(&str, i64)]` (scenario
/// scripts name theirs so too).
#[macro_export]
macro_rules! named {
    ($($module:ident :: $name:ident),* $(,)?) => {
        &[$((stringify!($name), $module::$name as i64)),*]
    };
}

/// Winsock's error codes. Six are kernel32's under other names (`WSA_IO_PENDING` is
/// `ERROR_IO_PENDING`, 997): a Winsock call's error is named from this table first.
pub const WINSOCK_ERRORS: &[(&str, i64)] = named![
    ws::WSA_IO_PENDING,
    ws::WSA_IO_INCOMPLETE,
    ws::WSA_INVALID_HANDLE,
    ws::WSA_INVALID_PARAMETER,
    ws::WSA_OPERATION_ABORTED,
    ws::WSA_NOT_ENOUGH_MEMORY,
    ws::WSAEINTR,
    ws::WSAEBADF,
    ws::WSAEACCES,
    ws::WSAEFAULT,
    ws::WSAEINVAL,
    ws::WSAEMFILE,
    ws::WSAEWOULDBLOCK,
    ws::WSAEINPROGRESS,
    ws::WSAEALREADY,
    ws::WSAENOTSOCK,
    ws::WSAEDESTADDRREQ,
    ws::WSAEMSGSIZE,
    ws::WSAEPROTOTYPE,
    ws::WSAENOPROTOOPT,
    ws::WSAEPROTONOSUPPORT,
    ws::WSAESOCKTNOSUPPORT,
    ws::WSAEOPNOTSUPP,
    ws::WSAEPFNOSUPPORT,
    ws::WSAEAFNOSUPPORT,
    ws::WSAEADDRINUSE,
    ws::WSAEADDRNOTAVAIL,
    ws::WSAENETDOWN,
    ws::WSAENETUNREACH,
    ws::WSAENETRESET,
    ws::WSAECONNABORTED,
    ws::WSAECONNRESET,
    ws::WSAENOBUFS,
    ws::WSAEISCONN,
    ws::WSAENOTCONN,
    ws::WSAESHUTDOWN,
    ws::WSAETIMEDOUT,
    ws::WSAECONNREFUSED,
    ws::WSAEHOSTUNREACH,
    ws::WSAEDISCON,
    ws::WSANOTINITIALISED,
    ws::WSASYSNOTREADY,
    ws::WSAVERNOTSUPPORTED,
    ws::WSATYPE_NOT_FOUND,
    ws::WSAHOST_NOT_FOUND,
    ws::WSATRY_AGAIN,
    ws::WSANO_RECOVERY,
    ws::WSANO_DATA,
];

/// kernel32's error codes, which a kernel32 call's error is named from first.
pub const ERRORS: &[(&str, i64)] = named![
    foundation::ERROR_SUCCESS,
    foundation::ERROR_INVALID_HANDLE,
    foundation::ERROR_INVALID_PARAMETER,
    foundation::ERROR_NOACCESS,
    foundation::ERROR_NOT_FOUND,
    foundation::ERROR_NOT_SUPPORTED,
    foundation::ERROR_IO_PENDING,
    foundation::ERROR_IO_INCOMPLETE,
    foundation::ERROR_OPERATION_ABORTED,
    foundation::ERROR_NETNAME_DELETED,
];

/// `STATUS_INVALID_PARAMETER`, which `inet_ntop` leaves as the last error: an NTSTATUS,
/// whose value as an `i64` is its 32 bits unsigned.
const NTSTATUS_ERRORS: &[(&str, i64)] =
    &[("STATUS_INVALID_PARAMETER", foundation::STATUS_INVALID_PARAMETER as u32 as i64)];

pub const FAMILIES: &[(&str, i64)] = named![ws::AF_UNSPEC, ws::AF_INET, ws::AF_INET6];

pub const SOCKET_TYPES: &[(&str, i64)] =
    named![ws::SOCK_STREAM, ws::SOCK_DGRAM, ws::SOCK_RAW, ws::SOCK_RDM, ws::SOCK_SEQPACKET];

pub const PROTOCOLS: &[(&str, i64)] = named![ws::IPPROTO_TCP, ws::IPPROTO_UDP, ws::IPPROTO_ICMP];

pub const LEVELS: &[(&str, i64)] = named![ws::SOL_SOCKET, ws::IPPROTO_TCP];

pub const SOCKET_OPTIONS: &[(&str, i64)] = named![
    ws::SO_SNDBUF,
    ws::SO_RCVBUF,
    ws::SO_REUSEADDR,
    ws::SO_RCVTIMEO,
    ws::SO_SNDTIMEO,
    ws::SO_ERROR,
    ws::SO_TYPE,
    ws::SO_OOBINLINE,
    ws::SO_LINGER,
    ws::SO_KEEPALIVE,
    ws::SO_BROADCAST,
];

pub const TCP_OPTIONS: &[(&str, i64)] = named![ws::TCP_NODELAY];

/// `ioctlsocket`'s commands, as unsigned 32-bit values (`FIONBIO` is negative as an `i32`).
const IOCTLS: &[(&str, i64)] = &[
    ("FIONBIO", ws::FIONBIO as u32 as i64),
    ("FIONREAD", ws::FIONREAD as u32 as i64),
    ("SIOCATMARK", ws::SIOCATMARK as u32 as i64),
    ("SIO_KEEPALIVE_VALS", ws::SIO_KEEPALIVE_VALS as i64),
    ("SIO_UDP_CONNRESET", ws::SIO_UDP_CONNRESET as i64),
    ("SIO_GET_EXTENSION_FUNCTION_POINTER", ws::SIO_GET_EXTENSION_FUNCTION_POINTER as i64),
];

pub const SHUTDOWN: &[(&str, i64)] = named![ws::SD_RECEIVE, ws::SD_SEND, ws::SD_BOTH];

pub const MESSAGE_FLAGS: &[(&str, i64)] = named![
    ws::MSG_OOB,
    ws::MSG_PEEK,
    ws::MSG_DONTROUTE,
    ws::MSG_WAITALL,
    ws::MSG_PARTIAL,
    ws::MSG_PUSH_IMMEDIATE
];

/// The `FD_*` events by bit (`windows-sys` lacks the last four: Doc: WSAEventSelect).
pub const NETWORK_EVENTS: &[(&str, i64)] = &[
    ("FD_READ", ws::FD_READ as i64),
    ("FD_WRITE", ws::FD_WRITE as i64),
    ("FD_OOB", ws::FD_OOB as i64),
    ("FD_ACCEPT", ws::FD_ACCEPT as i64),
    ("FD_CONNECT", ws::FD_CONNECT as i64),
    ("FD_CLOSE", ws::FD_CLOSE as i64),
    ("FD_QOS", 1 << 6),
    ("FD_GROUP_QOS", 1 << 7),
    ("FD_ROUTING_INTERFACE_CHANGE", 1 << 8),
    ("FD_ADDRESS_LIST_CHANGE", 1 << 9),
];

/// The value of a constant any table here names.
pub fn value_of(name: &str) -> Option<i64> {
    let tables = [
        WINSOCK_ERRORS,
        ERRORS,
        NTSTATUS_ERRORS,
        FAMILIES,
        SOCKET_TYPES,
        PROTOCOLS,
        LEVELS,
        SOCKET_OPTIONS,
        TCP_OPTIONS,
        IOCTLS,
        SHUTDOWN,
        MESSAGE_FLAGS,
        NETWORK_EVENTS,
    ];
    tables.iter().flat_map(|t| t.iter()).find(|(n, _)| *n == name).map(|(_, v)| *v)
}

/// How the errors of the function named `call` are named: Winsock's (`WSA...` and the
/// lowercase BSD names) by Winsock's names, kernel32's by theirs.
pub fn errors_of(call: &str) -> Meaning {
    let winsock = call.starts_with("WSA") || call.starts_with(|c: char| c.is_ascii_lowercase());
    if winsock { Meaning::Error } else { Meaning::Win32Error }
}

/// What a number means where a call takes or gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Meaning {
    /// A Winsock call's error code: a last error, or what `getaddrinfo` returns.
    Error,
    /// A kernel32 call's error code.
    Win32Error,
    Family,
    SocketType,
    Protocol,
    /// `setsockopt`'s and `getsockopt`'s level.
    Level,
    /// An option of `SOL_SOCKET`.
    SocketOption,
    /// An option of `IPPROTO_TCP`.
    TcpOption,
    /// `ioctlsocket`'s command.
    Ioctl,
    /// `shutdown`'s `how`.
    Shutdown,
    /// `MSG_*` flags, of a send or a receive.
    MessageFlags,
    /// `FD_*` flags, of `WSAEventSelect`.
    NetworkEvents,
}

impl Meaning {
    fn table(self) -> &'static [(&'static str, i64)] {
        match self {
            Meaning::Error => WINSOCK_ERRORS,
            Meaning::Win32Error => ERRORS,
            Meaning::Family => FAMILIES,
            Meaning::SocketType => SOCKET_TYPES,
            Meaning::Protocol => PROTOCOLS,
            Meaning::Level => LEVELS,
            Meaning::SocketOption => SOCKET_OPTIONS,
            Meaning::TcpOption => TCP_OPTIONS,
            Meaning::Ioctl => IOCTLS,
            Meaning::Shutdown => SHUTDOWN,
            Meaning::MessageFlags => MESSAGE_FLAGS,
            Meaning::NetworkEvents => NETWORK_EVENTS,
        }
    }

    fn is_flags(self) -> bool {
        matches!(self, Meaning::MessageFlags | Meaning::NetworkEvents)
    }

    /// The name `value` has, for a meaning whose values are not flags.
    pub fn name(self, value: i64) -> Option<&'static str> {
        let value = if self == Meaning::Ioctl { i64::from(value as u32) } else { value };
        let extra: &[(&str, i64)] = match self {
            Meaning::Error => ERRORS,
            Meaning::Win32Error => WINSOCK_ERRORS,
            _ => &[],
        };
        let errors = if matches!(self, Meaning::Error | Meaning::Win32Error) { NTSTATUS_ERRORS } else { &[] };
        self.table().iter().chain(extra).chain(errors).find(|(_, v)| *v == value).map(|(n, _)| *n)
    }

    /// Writes `value` as a trace shows it.
    pub fn write(self, value: i64, f: &mut impl fmt::Write) -> fmt::Result {
        if !self.is_flags() {
            return match self.name(value) {
                Some(name) => f.write_str(name),
                None if self == Meaning::Ioctl => write!(f, "{:#x}", value as u32),
                None => write!(f, "{value}"),
            };
        }
        if value == 0 {
            return f.write_str("0");
        }
        let mut left = value;
        let mut first = true;
        for (name, bit) in self.table() {
            if left & bit != 0 {
                f.write_str(if first { "" } else { "|" })?;
                f.write_str(name)?;
                left &= !bit;
                first = false;
            }
        }
        if left != 0 {
            write!(f, "{}{left:#x}", if first { "" } else { "|" })?;
        }
        Ok(())
    }

    /// `value` as a message shows it: its name and its number, or the number alone.
    pub fn describe(self, value: i64) -> String {
        match self.name(value) {
            // No error is plainer as 0 than as ERROR_SUCCESS.
            _ if value == 0 && matches!(self, Meaning::Error | Meaning::Win32Error) => "0".to_owned(),
            Some(name) => format!("{name} ({value})"),
            None => value.to_string(),
        }
    }
}

/// A number with its meaning, displayed as [`Meaning::write`] writes it.
#[derive(Debug, Clone, Copy)]
pub struct Shown(pub Meaning, pub i64);

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.write(self.1, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_their_names() {
        assert_eq!(Shown(Meaning::Family, 2).to_string(), "AF_INET");
        assert_eq!(Shown(Meaning::Error, 10061).to_string(), "WSAECONNREFUSED");
        assert_eq!(Shown(Meaning::Error, 997).to_string(), "WSA_IO_PENDING");
        assert_eq!(Shown(Meaning::Error, 0xC000_000D).to_string(), "STATUS_INVALID_PARAMETER");
        assert_eq!(Shown(Meaning::Error, 12345).to_string(), "12345");
        assert_eq!(Shown(Meaning::Ioctl, i64::from(ws::FIONBIO)).to_string(), "FIONBIO");
        assert_eq!(Shown(Meaning::Ioctl, 0x1234).to_string(), "0x1234");
        assert_eq!(Shown(Meaning::NetworkEvents, 0x21).to_string(), "FD_READ|FD_CLOSE");
        assert_eq!(Shown(Meaning::NetworkEvents, 0x1_0001).to_string(), "FD_READ|0x10000");
        assert_eq!(Shown(Meaning::MessageFlags, 0).to_string(), "0");
        assert_eq!(Meaning::Error.describe(10035), "WSAEWOULDBLOCK (10035)");
        assert_eq!(Shown(errors_of("SetEvent"), 6).to_string(), "ERROR_INVALID_HANDLE");
        assert_eq!(Shown(errors_of("WSASetEvent"), 6).to_string(), "WSA_INVALID_HANDLE");
        assert_eq!(Shown(errors_of("closesocket"), 10038).to_string(), "WSAENOTSOCK");
        assert_eq!(Shown(errors_of("GetOverlappedResult"), 996).to_string(), "ERROR_IO_INCOMPLETE");
    }
}
