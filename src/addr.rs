//! Byte order and address text: `htons`, `ntohs`, `htonl`, `ntohl`, `inet_addr`,
//! `inet_pton`, `InetPtonW`, `inet_ntop`, `InetNtopW`, `inet_ntoa`. The parsing rules are
//! `wsasim_model::address`'s.
//!
//! The byte-order functions and `inet_addr` touch no state and set no error, so they work
//! anywhere, inside a simulation or not, and are not scheduling points.

use crate::call::{Call, enter};
use crate::memory::{Access, usable};
use crate::text::{self, Unit};
use std::ffi::{CStr, c_void};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4};
use windows_sys::Win32::Foundation::STATUS_INVALID_PARAMETER;
use windows_sys::Win32::Networking::WinSock::{
    AF_INET, AF_INET6, IN_ADDR, INADDR_NONE, SOCKADDR, SOCKADDR_IN, WSAEAFNOSUPPORT, WSAEFAULT, WSAEINVAL,
};
use windows_sys::core::{PCSTR, PCWSTR, PSTR, PWSTR};
use wsasim_model::address;
use wsasim_sim::names::Meaning;
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
    // SAFETY: the caller's pointers, as for Windows.
    unsafe { pton(enter("inet_pton"), family, pszaddrstring, paddrbuf) }
}

/// `InetPtonW` (Doc: InetPtonW function): [`inet_pton`] for UTF-16 text, which also sets
/// the last error to `WSAEINVAL` when it returns 0 (Wine protocol.c test_inet_pton).
pub unsafe fn InetPtonW(family: i32, pszaddrstring: PCWSTR, paddrbuf: *mut c_void) -> i32 {
    // SAFETY: the caller's pointers, as for Windows.
    unsafe { pton(enter("InetPtonW"), family, pszaddrstring, paddrbuf) }
}

/// # Safety
/// The caller's pointers, as the program promised Windows.
unsafe fn pton<C: Unit>(call: Call, family: i32, text: *const C, buf: *mut c_void) -> i32 {
    // SAFETY: the caller's string.
    let text = unsafe { text::read(text) };
    let args = [Value::Const(Meaning::Family, family.into()), text::show(&text), Value::Ptr(!buf.is_null())];
    let parsed: Result<Option<Vec<u8>>, u32> = match (family, text) {
        (f, _) if f != i32::from(AF_INET) && f != i32::from(AF_INET6) => Err(WSAEAFNOSUPPORT as u32),
        (_, Ok(None) | Err(_)) => Err(WSAEFAULT as u32),
        _ if buf.is_null() => Err(WSAEFAULT as u32),
        (f, Ok(Some(t))) if f == i32::from(AF_INET) => {
            Ok(address::inet_pton4(t.as_bytes()).map(|a| a.octets().to_vec()))
        }
        (_, Ok(Some(t))) => Ok(t.parse::<Ipv6Addr>().ok().map(|a| a.octets().to_vec())),
    };
    let error = match parsed {
        Err(e) => Some(e),
        Ok(None) if call.name == "InetPtonW" => Some(WSAEINVAL as u32),
        Ok(_) => None,
    };
    let ret = match parsed {
        Ok(Some(bytes)) => {
            // SAFETY: the caller's buffer holds an address of the family it named.
            unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), buf.cast::<u8>(), bytes.len()) };
            1
        }
        Ok(None) => 0,
        Err(_) => -1,
    };
    call.done(&args, Value::Int(ret.into()), error);
    ret
}

/// `inet_ntop` (Doc: inet_ntop function): the address's text in `pstringbuf`, which it
/// returns; NULL with `WSAEAFNOSUPPORT` for a family other than `AF_INET` / `AF_INET6`, or
/// with `STATUS_INVALID_PARAMETER` for a NULL buffer or one too small for the text and its
/// NUL (Wine protocol.c test_addr_to_print; the page says `ERROR_INVALID_PARAMETER`, what
/// Windows 7 gave), with `WSAEFAULT` for an address that cannot be read (inferred).
pub unsafe fn inet_ntop(family: i32, paddr: *const c_void, pstringbuf: PSTR, stringbufsize: usize) -> PCSTR {
    // SAFETY: the caller's pointers, as for Windows.
    unsafe { ntop(enter("inet_ntop"), family, paddr, pstringbuf, stringbufsize) }
}

/// `InetNtopW` (Doc: InetNtopW function): [`inet_ntop`] in UTF-16, the size in characters.
pub unsafe fn InetNtopW(
    family: i32,
    paddr: *const c_void,
    pstringbuf: PWSTR,
    stringbufsize: usize,
) -> PCWSTR {
    // SAFETY: the caller's pointers, as for Windows.
    unsafe { ntop(enter("InetNtopW"), family, paddr, pstringbuf, stringbufsize) }
}

/// # Safety
/// The caller's pointers, as the program promised Windows.
unsafe fn ntop<C: Unit>(call: Call, family: i32, addr: *const c_void, buf: *mut C, size: usize) -> *const C {
    let shown = match family {
        f if f == i32::from(AF_INET) && usable(addr.cast(), 4, Access::Read) => {
            // SAFETY: four readable bytes, just checked.
            Ok(Ipv4Addr::from(unsafe { addr.cast::<[u8; 4]>().read_unaligned() }).to_string())
        }
        f if f == i32::from(AF_INET6) && usable(addr.cast(), 16, Access::Read) => {
            // SAFETY: sixteen readable bytes, just checked.
            Ok(Ipv6Addr::from(unsafe { addr.cast::<[u8; 16]>().read_unaligned() }).to_string())
        }
        f if f == i32::from(AF_INET) || f == i32::from(AF_INET6) => Err(WSAEFAULT as u32),
        _ => Err(WSAEAFNOSUPPORT as u32),
    };
    let text = shown.and_then(|t| {
        let units = C::encode(&t);
        if buf.is_null()
            || units.len() >= size
            || !usable(buf.cast(), (units.len() + 1) * size_of::<C>(), Access::Write)
        {
            return Err(STATUS_INVALID_PARAMETER as u32);
        }
        // SAFETY: the buffer holds the text and its NUL, just checked.
        unsafe { text::write(&units, buf) };
        Ok(t)
    });
    let mut args = vec![Value::Const(Meaning::Family, family.into()), Value::Ptr(!addr.is_null())];
    args.push(text.as_ref().map_or(Value::Ptr(!buf.is_null()), |t| Value::Text(format!("&{t:?}"))));
    args.push(Value::Int(size as i64));
    match text {
        Ok(_) => {
            call.done(&args, Value::Ptr(true), None);
            buf
        }
        Err(e) => {
            call.done(&args, Value::Ptr(false), Some(e));
            std::ptr::null()
        }
    }
}

/// `inet_ntoa` (Doc: inet_ntoa function): the address's dotted text in the calling thread's
/// buffer, which its next call overwrites (Wine protocol.c test_inet_ntoa: another thread's
/// call leaves it as it was).
pub unsafe fn inet_ntoa(r#in: IN_ADDR) -> PSTR {
    let call = enter("inet_ntoa");
    // SAFETY: every bit pattern of the union is a u32.
    let ip = Ipv4Addr::from(u32::from_be(unsafe { r#in.S_un.S_addr }));
    let text = ip.to_string();
    let at = call.with(|w| {
        let buffer = w.thread_buffer::<[u8; 16]>();
        *buffer = [0; 16];
        buffer[..text.len()].copy_from_slice(text.as_bytes());
        buffer.as_mut_ptr()
    });
    call.done(&[Value::Text(text.clone())], Value::Text(format!("{text:?}")), None);
    at
}

/// Reads an IPv4 socket address argument (`bind`, `connect`, `sendto`): `WSAEFAULT` when
/// it is NULL or shorter than a SOCKADDR_IN, `WSAEAFNOSUPPORT` for another family (Doc:
/// bind, connect).
///
/// # Safety
/// `name` must be valid for `len` bytes when it is not NULL.
pub(crate) unsafe fn read_sockaddr(name: *const SOCKADDR, len: i32) -> Result<SocketAddrV4, u32> {
    if usize::try_from(len).unwrap_or(0) < size_of::<SOCKADDR_IN>()
        || !usable(name.cast(), size_of::<SOCKADDR_IN>(), Access::Read)
    {
        return Err(WSAEFAULT as u32);
    }
    // SAFETY: readable, just checked, for a length that holds a SOCKADDR_IN.
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
