//! Byte order and address text: `htons`, `ntohs`, `htonl`, `ntohl`, `inet_addr`,
//! `inet_pton`. The parsing rules are `wsasim_model::address`'s.
//!
//! The byte-order functions and `inet_addr` touch no state and set no error, so they work
//! anywhere, inside a simulation or not, and are not scheduling points.

use crate::call::enter;
use std::ffi::{CStr, c_void};
use std::net::SocketAddrV4;
use windows_sys::Win32::Networking::WinSock::{
    AF_INET, AF_INET6, INADDR_NONE, SOCKADDR, SOCKADDR_IN, WSAEAFNOSUPPORT, WSAEFAULT,
};
use windows_sys::core::PCSTR;
use wsasim_model::address;
use wsasim_sim::{Value, sockaddr};

/// `htons`: host (little-endian on every Windows target) to network byte order.
pub unsafe fn htons(hostshort: u16) -> u16 {
    hostshort.to_be()
}

/// `ntohs`: network to host byte order.
pub unsafe fn ntohs(netshort: u16) -> u16 {
    u16::from_be(netshort)
}

/// `htonl`: host to network byte order.
pub unsafe fn htonl(hostlong: u32) -> u32 {
    hostlong.to_be()
}

/// `ntohl`: network to host byte order.
pub unsafe fn ntohl(netlong: u32) -> u32 {
    u32::from_be(netlong)
}

/// `inet_addr` (Doc: inet_addr function): the address in network byte order, or
/// `INADDR_NONE` for a string that is not one, or for NULL.
pub unsafe fn inet_addr(cp: PCSTR) -> u32 {
    if cp.is_null() {
        return INADDR_NONE;
    }
    // SAFETY: the caller passes a NUL-terminated string, as for Windows.
    let text = unsafe { CStr::from_ptr(cp.cast()) };
    address::inet_addr(text.to_bytes()).map_or(INADDR_NONE, |a| u32::from_ne_bytes(a.octets()))
}

/// `inet_pton` (Doc: inet_pton function): 1 and the address in network byte order in
/// `paddrbuf` (4 bytes for `AF_INET`, 16 for `AF_INET6`), 0 for a string that is not an
/// address, -1 with `WSAEAFNOSUPPORT` for another family or `WSAEFAULT` for a NULL pointer.
pub unsafe fn inet_pton(family: i32, pszaddrstring: PCSTR, paddrbuf: *mut c_void) -> i32 {
    let call = enter("inet_pton");
    // SAFETY: a non-NULL string is NUL-terminated, as the caller promises Windows.
    let text = (!pszaddrstring.is_null()).then(|| unsafe { CStr::from_ptr(pszaddrstring.cast()) });
    let shown = text.map_or(Value::Ptr(false), |t| Value::Text(format!("{:?}", t.to_string_lossy())));
    let args = [Value::Int(family.into()), shown, Value::Ptr(!paddrbuf.is_null())];
    let parsed: Result<Option<Vec<u8>>, u32> = match (family, text) {
        (f, _) if f != i32::from(AF_INET) && f != i32::from(AF_INET6) => Err(WSAEAFNOSUPPORT as u32),
        (_, None) => Err(WSAEFAULT as u32),
        _ if paddrbuf.is_null() => Err(WSAEFAULT as u32),
        (f, Some(t)) if f == i32::from(AF_INET) => {
            Ok(address::inet_pton4(t.to_bytes()).map(|a| a.octets().to_vec()))
        }
        (_, Some(t)) => {
            let v6 = t.to_str().ok().and_then(|s| s.parse::<std::net::Ipv6Addr>().ok());
            Ok(v6.map(|a| a.octets().to_vec()))
        }
    };
    let error = parsed.as_ref().err().copied();
    let ret = match parsed {
        Ok(Some(bytes)) => {
            // SAFETY: the caller's buffer holds an address of the family it named.
            unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), paddrbuf.cast::<u8>(), bytes.len()) };
            1
        }
        Ok(None) => 0,
        Err(_) => -1,
    };
    call.done(&args, Value::Int(ret.into()), error);
    ret
}

/// Reads an IPv4 socket address argument (`bind`, `connect`, `sendto`): `WSAEFAULT` when
/// it is NULL or shorter than a SOCKADDR_IN, `WSAEAFNOSUPPORT` for another family (Doc:
/// bind, connect).
///
/// # Safety
/// `name` must be valid for `len` bytes when it is not NULL.
pub(crate) unsafe fn read_sockaddr(name: *const SOCKADDR, len: i32) -> Result<SocketAddrV4, u32> {
    if name.is_null() || usize::try_from(len).unwrap_or(0) < size_of::<SOCKADDR_IN>() {
        return Err(WSAEFAULT as u32);
    }
    // SAFETY: the caller's contract, for a length that holds a SOCKADDR_IN.
    let sin = unsafe { name.cast::<SOCKADDR_IN>().read_unaligned() };
    if sin.sin_family != AF_INET {
        return Err(WSAEAFNOSUPPORT as u32);
    }
    // SAFETY: every bit pattern of the union is a u32.
    let ip = u32::from_be(unsafe { sin.sin_addr.S_un.S_addr });
    Ok(SocketAddrV4::new(ip.into(), u16::from_be(sin.sin_port)))
}

/// Reads `connect`'s name: as [`read_sockaddr`], except that a name of family `AF_UNSPEC`
/// that is all zeros reads as 0.0.0.0:0, no address, which disconnects a UDP socket (Wine
/// sock.c test_connect_udp).
///
/// # Safety
/// As for [`read_sockaddr`].
pub(crate) unsafe fn read_peer_name(name: *const SOCKADDR, len: i32) -> Result<SocketAddrV4, u32> {
    // SAFETY: the caller's contract.
    let read = unsafe { read_sockaddr(name, len) };
    if read != Err(WSAEAFNOSUPPORT as u32) {
        return read;
    }
    // SAFETY: `read_sockaddr` checked that `len` bytes hold a SOCKADDR_IN.
    let bytes = unsafe { name.cast::<[u8; size_of::<SOCKADDR_IN>()]>().read_unaligned() };
    if bytes.iter().all(|b| *b == 0) { Ok(SocketAddrV4::new(0.into(), 0)) } else { read }
}

/// Writes an address where `getsockname`, `getpeername`, `accept` or `recvfrom` were told
/// to: `WSAEFAULT` when the space is too small (Doc: getsockname).
///
/// # Safety
/// `name` and `len` must be valid when not NULL, `name` for `*len` bytes.
pub(crate) unsafe fn write_sockaddr(
    name: *mut SOCKADDR,
    len: *mut i32,
    addr: SocketAddrV4,
) -> Result<(), u32> {
    // SAFETY: the caller's contract.
    unsafe {
        if name.is_null() || len.is_null() || usize::try_from(*len).unwrap_or(0) < size_of::<SOCKADDR_IN>() {
            return Err(WSAEFAULT as u32);
        }
        name.cast::<SOCKADDR_IN>().write_unaligned(sockaddr(addr));
        *len = size_of::<SOCKADDR_IN>() as i32;
    }
    Ok(())
}

/// How the trace shows a socket address.
pub(crate) fn show(addr: SocketAddrV4) -> Value {
    Value::Text(addr.to_string())
}
