//! Name resolution over the run's hosts table: `getaddrinfo`, `GetAddrInfoW`,
//! `freeaddrinfo`, `FreeAddrInfoW`, `getnameinfo`, `GetNameInfoW`, `gethostname`,
//! `GetHostNameW`, `gethostbyname`, `gethostbyaddr`.
//!
//! Nothing outside the run is asked: each host's name resolves (ignoring case, as DNS
//! does) to its address, `localhost` to 127.0.0.1, the empty name to the calling host's own
//! address, a dotted IPv4 address to itself; anything else is unknown. Each name has one
//! IPv4 address, so every list `getaddrinfo` returns has one entry.
//!
//! What these functions return is memory the system owns (`World::lend`,
//! `World::thread_buffer`), laid out as Windows lays it out: an ADDRINFO entry with its
//! address and name after it, a HOSTENT with its alias list, address list and address right
//! after the struct (Wine protocol.c test_dns).

use crate::call::{Call, enter};
use crate::memory::{Access, usable};
use crate::services;
use crate::text::{self, Unit};
use std::net::{Ipv4Addr, SocketAddrV4};
use windows_sys::Win32::Networking::WinSock::{
    ADDRINFOA, ADDRINFOW, AF_INET, AF_INET6, AF_UNSPEC, AI_ADDRCONFIG, AI_ALL, AI_CANONNAME, AI_FQDN,
    AI_NUMERICHOST, AI_NUMERICSERV, AI_PASSIVE, AI_RETURN_PREFERRED_NAMES, AI_V4MAPPED, HOSTENT, NI_DGRAM,
    NI_NAMEREQD, NI_NUMERICHOST, NI_NUMERICSERV, SOCK_DGRAM, SOCK_RAW, SOCK_RDM, SOCK_SEQPACKET, SOCK_STREAM,
    SOCKADDR, SOCKADDR_IN, WSAEAFNOSUPPORT, WSAEFAULT, WSAEINVAL, WSAESOCKTNOSUPPORT, WSAHOST_NOT_FOUND,
    WSANO_DATA, WSANO_RECOVERY, WSANOTINITIALISED, WSATYPE_NOT_FOUND,
};
use windows_sys::core::{PCSTR, PCWSTR, PSTR, PWSTR};
use wsasim_model::address;
use wsasim_sim::names::{Meaning, Shown};
use wsasim_sim::{Value, World, runtime, sockaddr};

/// Room for a name in what is returned: a host name is at most 63 characters (`Sim::host`),
/// a dotted address 15.
const NAME_ROOM: usize = 64;

/// `getaddrinfo` (Doc: getaddrinfo function): 0 and a list in `*ppresult` to free with
/// [`freeaddrinfo`], or a Winsock error code, which is also the last error (Wine protocol.c
/// test_getaddrinfo: the last error is 0 on success, the code on failure).
pub unsafe fn getaddrinfo(
    pnodename: PCSTR,
    pservicename: PCSTR,
    phints: *const ADDRINFOA,
    ppresult: *mut *mut ADDRINFOA,
) -> i32 {
    // SAFETY: the caller's pointers, as for Windows.
    unsafe { get_addr_info::<u8>(enter("getaddrinfo"), pnodename, pservicename, phints, ppresult) }
}

/// `GetAddrInfoW` (Doc: GetAddrInfoW function): [`getaddrinfo`] with UTF-16 text.
pub unsafe fn GetAddrInfoW(
    pnodename: PCWSTR,
    pservicename: PCWSTR,
    phints: *const ADDRINFOW,
    ppresult: *mut *mut ADDRINFOW,
) -> i32 {
    // SAFETY: the caller's pointers, as for Windows.
    unsafe { get_addr_info::<u16>(enter("GetAddrInfoW"), pnodename, pservicename, phints, ppresult) }
}

/// `freeaddrinfo` (Doc: freeaddrinfo function): frees a list [`getaddrinfo`] returned;
/// NULL does nothing. Anything else (a list freed already, a pointer into one) would
/// corrupt the heap on Windows, so it ends the run with that said.
pub unsafe fn freeaddrinfo(paddrinfo: *const ADDRINFOA) {
    free_addr_info::<u8>(enter("freeaddrinfo"), paddrinfo);
}

/// `FreeAddrInfoW` (Doc: FreeAddrInfoW function): [`freeaddrinfo`] for [`GetAddrInfoW`]'s
/// lists.
pub unsafe fn FreeAddrInfoW(paddrinfo: *const ADDRINFOW) {
    free_addr_info::<u16>(enter("FreeAddrInfoW"), paddrinfo);
}

/// `getnameinfo` (Doc: getnameinfo function): the host's name and the service's for an
/// IPv4 address, or their numbers where they have none (or where `NI_NUMERICHOST` /
/// `NI_NUMERICSERV` ask for them); 0, or a Winsock error code, which is also the last
/// error.
pub unsafe fn getnameinfo(
    psockaddr: *const SOCKADDR,
    sockaddrlength: i32,
    pnodebuffer: PSTR,
    nodebuffersize: u32,
    pservicebuffer: PSTR,
    servicebuffersize: u32,
    flags: i32,
) -> i32 {
    let call = enter("getnameinfo");
    let out = Out {
        host: pnodebuffer,
        host_len: nodebuffersize,
        serv: pservicebuffer,
        serv_len: servicebuffersize,
    };
    // SAFETY: the caller's pointers, as for Windows.
    unsafe { get_name_info(call, psockaddr, sockaddrlength, out, flags) }
}

/// `GetNameInfoW` (Doc: GetNameInfoW function): [`getnameinfo`] with UTF-16 text, the sizes
/// in characters.
pub unsafe fn GetNameInfoW(
    psockaddr: *const SOCKADDR,
    sockaddrlength: i32,
    pnodebuffer: PWSTR,
    nodebuffersize: u32,
    pservicebuffer: PWSTR,
    servicebuffersize: u32,
    flags: i32,
) -> i32 {
    let call = enter("GetNameInfoW");
    let out = Out {
        host: pnodebuffer,
        host_len: nodebuffersize,
        serv: pservicebuffer,
        serv_len: servicebuffersize,
    };
    // SAFETY: the caller's pointers, as for Windows.
    unsafe { get_name_info(call, psockaddr, sockaddrlength, out, flags) }
}

/// `gethostname` (Doc: gethostname function): the calling host's name, 0; `SOCKET_ERROR`
/// with `WSAEFAULT` when `namelen` cannot hold it and its NUL, or `WSANOTINITIALISED`.
pub unsafe fn gethostname(name: PSTR, namelen: i32) -> i32 {
    // SAFETY: the caller's buffer, as for Windows.
    unsafe { get_host_name(enter("gethostname"), name, namelen) }
}

/// `GetHostNameW` (Doc: GetHostNameW function): [`gethostname`] in UTF-16, `namelen` in
/// characters.
pub unsafe fn GetHostNameW(name: PWSTR, namelen: i32) -> i32 {
    // SAFETY: the caller's buffer, as for Windows.
    unsafe { get_host_name(enter("GetHostNameW"), name, namelen) }
}

/// `gethostbyname` (Doc: gethostbyname function): the thread's HOSTENT filled in for a
/// name (NULL or empty: the calling host's), or NULL with `WSAHOST_NOT_FOUND`. A dotted
/// address is returned as it is, without a lookup.
pub unsafe fn gethostbyname(name: PCSTR) -> *mut HOSTENT {
    let call = enter("gethostbyname");
    // SAFETY: the caller's string, as for Windows.
    let text = unsafe { text::read(name) };
    let args = [text::show(&text)];
    let found = call.with(|w| {
        let text = text?;
        started(w)?;
        lookup(w, text.as_deref().unwrap_or(""), false)
    });
    host_entry(call, &args, found)
}

/// `gethostbyaddr` (Doc: gethostbyaddr function): the thread's HOSTENT for an IPv4
/// address (`len` 4, `type` `AF_INET`) that names a host, or NULL with `WSAHOST_NOT_FOUND`;
/// `WSAEAFNOSUPPORT` for another type, `WSAEINVAL` for `AF_INET6` with a `len` other than
/// 16, `WSAEFAULT` for a short or bad address.
pub unsafe fn gethostbyaddr(addr: PCSTR, len: i32, r#type: i32) -> *mut HOSTENT {
    let call = enter("gethostbyaddr");
    let ip = (len >= 4 && usable(addr, 4, Access::Read)).then(|| {
        // SAFETY: four readable bytes, just checked.
        Ipv4Addr::from(unsafe { addr.cast::<[u8; 4]>().read_unaligned() })
    });
    let args = [
        ip.map_or(Value::Ptr(!addr.is_null()), |ip| Value::Text(ip.to_string())),
        Value::Int(len.into()),
        Value::Const(Meaning::Family, r#type.into()),
    ];
    let found = call.with(|w| {
        started(w)?;
        match r#type {
            t if t == i32::from(AF_INET) => {}
            t if t == i32::from(AF_INET6) && len != 16 => return Err(WSAEINVAL as u32),
            // No host has an IPv6 address.
            t if t == i32::from(AF_INET6) => return Err(WSAHOST_NOT_FOUND as u32),
            _ => return Err(WSAEAFNOSUPPORT as u32),
        }
        let ip = ip.ok_or(WSAEFAULT as u32)?;
        let name = name_of(w, ip).ok_or(WSAHOST_NOT_FOUND as u32)?;
        Ok(Found { ip, name })
    });
    host_entry(call, &args, found)
}

/// What a name leads to: an address, and the name it has there.
struct Found {
    ip: Ipv4Addr,
    name: String,
}

/// `WSANOTINITIALISED` before the host's `WSAStartup`.
pub(crate) fn started(w: &World) -> Result<(), u32> {
    if w.net_started() { Ok(()) } else { Err(WSANOTINITIALISED as u32) }
}

/// Resolves a host name, the rules in the module's comment; `numeric` (`AI_NUMERICHOST`)
/// takes a dotted address only.
fn lookup(w: &World, node: &str, numeric: bool) -> Result<Found, u32> {
    if let Some(ip) = address::inet_pton4(node.as_bytes()) {
        // Its canonical name is itself [inferred: no page or test says].
        return Ok(Found { ip, name: node.to_owned() });
    }
    if numeric {
        return Err(WSAHOST_NOT_FOUND as u32);
    }
    if node.is_empty() {
        let ip = w.hosts_table().nth(w.host() as usize).expect("the running host is in the table").1;
        return Ok(Found { ip, name: w.host_name().to_owned() });
    }
    if node.eq_ignore_ascii_case("localhost") {
        return Ok(Found { ip: Ipv4Addr::LOCALHOST, name: "localhost".to_owned() });
    }
    let (name, ip) =
        w.hosts_table().find(|(name, _)| name.eq_ignore_ascii_case(node)).ok_or(WSAHOST_NOT_FOUND as u32)?;
    Ok(Found { ip, name: name.to_owned() })
}

/// The name an address has: a host's, or `localhost` for loopback [inferred: Windows may
/// give the machine's name; no page or test says].
fn name_of(w: &World, ip: Ipv4Addr) -> Option<String> {
    if ip.is_loopback() {
        return Some("localhost".to_owned());
    }
    w.hosts_table().find(|(_, a)| *a == ip).map(|(name, _)| name.to_owned())
}

/// A character of the functions' text with the ADDRINFO that goes with it.
trait Char: Unit {
    type Info: Copy + 'static;
    fn hints(info: &Self::Info) -> Hints;
    fn info(answer: &Answer, addr: *mut SOCKADDR, canonical: *mut Self) -> Self::Info;
}

/// `Char` for a unit and its ADDRINFO, whose fields are named alike.
macro_rules! char_with {
    ($unit:ty, $info:ident) => {
        impl Char for $unit {
            type Info = $info;
            fn hints(i: &$info) -> Hints {
                let clean = i.ai_addrlen == 0
                    && i.ai_canonname.is_null()
                    && i.ai_addr.is_null()
                    && i.ai_next.is_null();
                Hints {
                    flags: i.ai_flags as u32,
                    family: i.ai_family,
                    socktype: i.ai_socktype,
                    protocol: i.ai_protocol,
                    clean,
                }
            }
            fn info(a: &Answer, addr: *mut SOCKADDR, canonical: *mut $unit) -> $info {
                $info {
                    ai_flags: a.flags,
                    ai_family: AF_INET.into(),
                    ai_socktype: a.socktype,
                    ai_protocol: a.protocol,
                    ai_addrlen: size_of::<SOCKADDR_IN>(),
                    ai_canonname: if a.canonical.is_some() { canonical } else { std::ptr::null_mut() },
                    ai_addr: addr,
                    ai_next: std::ptr::null_mut(),
                }
            }
        }
    };
}

char_with!(u8, ADDRINFOA);
char_with!(u16, ADDRINFOW);

/// What a program asked `getaddrinfo` for.
#[derive(Debug, Default)]
struct Hints {
    flags: u32,
    family: i32,
    socktype: i32,
    protocol: i32,
    /// Its other members are 0 or NULL, as Doc: getaddrinfo requires of hints.
    clean: bool,
}

/// The one entry of a list `getaddrinfo` returns.
struct Answer {
    flags: i32,
    socktype: i32,
    protocol: i32,
    addr: SocketAddrV4,
    canonical: Option<String>,
}

/// A list `getaddrinfo` returns: its one entry, with the address and the canonical name it
/// points to right after it, lent as one block.
#[repr(C)]
struct List<C: Char> {
    info: C::Info,
    addr: SOCKADDR_IN,
    canonical: [C; NAME_ROOM],
}

const FLAGS_KNOWN: u32 = AI_PASSIVE
    | AI_CANONNAME
    | AI_NUMERICHOST
    | AI_NUMERICSERV
    | AI_ALL
    | AI_ADDRCONFIG
    | AI_V4MAPPED
    | AI_RETURN_PREFERRED_NAMES
    | AI_FQDN;

/// The rules of Doc: getaddrinfo (hints whose other members are set, or `AI_CANONNAME`
/// without a node: `WSANO_RECOVERY`; unknown flags, or `AI_FQDN` with `AI_CANONNAME`:
/// `WSAEINVAL`), with Wine protocol.c test_getaddrinfo's findings: a socket type that is
/// none of Winsock's fails with `WSAESOCKTNOSUPPORT`, any protocol is taken and returned as
/// given, an unknown service fails with `WSATYPE_NOT_FOUND`, and neither a node nor a
/// service with `WSAHOST_NOT_FOUND`.
fn resolve(w: &World, node: Option<&str>, service: Option<&str>, hints: &Hints) -> Result<Answer, u32> {
    started(w)?;
    let canonical = hints.flags & AI_CANONNAME != 0;
    if !hints.clean || (node.is_none() && canonical) {
        return Err(WSANO_RECOVERY as u32);
    }
    if hints.flags & !FLAGS_KNOWN != 0 || (canonical && hints.flags & AI_FQDN != 0) {
        return Err(WSAEINVAL as u32);
    }
    match hints.family {
        f if f == i32::from(AF_UNSPEC) || f == i32::from(AF_INET) => {}
        // No host has an IPv6 address: Windows answers so for a host without a global
        // IPv6 address (Wine protocol.c test_getaddrinfo).
        f if f == i32::from(AF_INET6) => return Err(WSANO_DATA as u32),
        _ => return Err(WSAEAFNOSUPPORT as u32),
    }
    if ![0, SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_RDM, SOCK_SEQPACKET].contains(&hints.socktype) {
        return Err(WSAESOCKTNOSUPPORT as u32);
    }
    if node.is_none() && service.is_none() {
        return Err(WSAHOST_NOT_FOUND as u32);
    }
    let found = match node {
        Some(n) => lookup(w, n, hints.flags & AI_NUMERICHOST != 0)?,
        None if hints.flags & AI_PASSIVE != 0 => Found { ip: Ipv4Addr::UNSPECIFIED, name: String::new() },
        None => Found { ip: Ipv4Addr::LOCALHOST, name: String::new() },
    };
    let port = port_of(service, hints)?;
    Ok(Answer {
        flags: 0,
        socktype: hints.socktype,
        protocol: hints.protocol,
        addr: SocketAddrV4::new(found.ip, port),
        canonical: canonical.then_some(found.name),
    })
}

/// A service's port: none for NULL or "", a decimal number, or a name from the services
/// table for the hinted socket type (`AI_NUMERICSERV`: numbers only).
fn port_of(service: Option<&str>, hints: &Hints) -> Result<u16, u32> {
    let Some(text) = service.filter(|s| !s.is_empty()) else { return Ok(0) };
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().map_err(|_| WSATYPE_NOT_FOUND as u32);
    }
    if hints.flags & AI_NUMERICSERV != 0 {
        return Err(WSAHOST_NOT_FOUND as u32);
    }
    let proto =
        (hints.socktype == SOCK_DGRAM).then_some("udp").or((hints.socktype == SOCK_STREAM).then_some("tcp"));
    services::by_name(text, proto).map(|s| s.port).ok_or(WSATYPE_NOT_FOUND as u32)
}

/// # Safety
/// The caller's pointers, as the program promised Windows.
unsafe fn get_addr_info<C: Char>(
    call: Call,
    node: *const C,
    service: *const C,
    hints: *const C::Info,
    result: *mut *mut C::Info,
) -> i32 {
    // SAFETY: the caller's strings.
    let (node, service) = unsafe { (text::read(node), text::read(service)) };
    let hints = if hints.is_null() {
        Ok(None)
    } else if usable(hints.cast(), size_of::<C::Info>(), Access::Read) {
        // SAFETY: readable, just checked.
        let given = unsafe { hints.read_unaligned() };
        Ok(Some(C::hints(&given)))
    } else {
        Err(WSAEFAULT as u32)
    };
    // A NULL or unwritable ppResult: WSAEFAULT, inferred (no page or test says).
    let writable = usable(result.cast(), size_of::<*mut C::Info>(), Access::Write);
    let mut args = vec![text::show(&node), text::show(&service), show_hints(&hints)];
    let answer = call.with(|w| {
        let (node, service) = (node?, service?);
        // Doc: getaddrinfo, NULL hints: "treated as... AF_UNSPEC and all other members 0".
        let hints = hints?.unwrap_or(Hints { clean: true, ..Hints::default() });
        if !writable {
            return Err(WSAEFAULT as u32);
        }
        resolve(w, node.as_deref(), service.as_deref(), &hints)
    });
    let ret = match answer {
        Ok(answer) => {
            let list = call.with(|w| {
                w.lend(List::<C> {
                    info: C::info(&answer, std::ptr::null_mut(), std::ptr::null_mut()),
                    addr: sockaddr(answer.addr),
                    canonical: [C::default(); NAME_ROOM],
                })
            });
            // SAFETY: the block just lent, which stays where it is until it is freed.
            unsafe {
                let name = C::encode(answer.canonical.as_deref().unwrap_or(""));
                let room = &mut (*list).canonical;
                room[..name.len()].copy_from_slice(&name);
                (*list).info = C::info(&answer, (&raw mut (*list).addr).cast(), room.as_mut_ptr());
                result.write(list.cast());
            }
            args.push(Value::Text(format!("&[{}]", answer.addr)));
            0
        }
        Err(e) => {
            if writable {
                // SAFETY: writable, checked above.
                unsafe { result.write(std::ptr::null_mut()) };
            }
            args.push(Value::Ptr(!result.is_null()));
            e as i32
        }
    };
    finish(call, &args, ret)
}

fn free_addr_info<C: Char>(call: Call, list: *const C::Info) {
    let args = [Value::Ptr(!list.is_null())];
    if !list.is_null() && call.with(|w| w.take_back(list.cast::<List<C>>())).is_none() {
        // No address in the message: it would differ from run to run.
        runtime::fail_run(format!(
            "{}: the pointer is not a list getaddrinfo returned, or it was freed already: Windows' heap would be corrupted",
            call.name
        ));
    }
    call.done(&args, Value::Void, None);
}

/// Where `getnameinfo` writes, in units of `C`.
struct Out<C> {
    host: *mut C,
    host_len: u32,
    serv: *mut C,
    serv_len: u32,
}

/// # Safety
/// The caller's pointers, as the program promised Windows.
unsafe fn get_name_info<C: Char>(
    call: Call,
    sa: *const SOCKADDR,
    salen: i32,
    out: Out<C>,
    flags: i32,
) -> i32 {
    let flags = flags as u32;
    // SAFETY: the caller's address, of the length given.
    let addr = unsafe { crate::addr::read_sockaddr(sa, salen) };
    let mut args = vec![addr.map_or(Value::Ptr(!sa.is_null()), crate::addr::show), Value::Int(salen.into())];
    let names = call.with(|w| {
        started(w)?;
        let addr = addr?;
        if out.host.is_null() && out.serv.is_null() {
            // Doc: getnameinfo, EAI_NONAME: "both the host and serv parameters were NULL".
            return Err(WSAHOST_NOT_FOUND as u32);
        }
        let host = (!out.host.is_null()).then(|| match name_of(w, *addr.ip()) {
            Some(name) if flags & NI_NUMERICHOST == 0 => Ok(name),
            _ if flags & NI_NAMEREQD != 0 => Err(WSAHOST_NOT_FOUND as u32),
            _ => Ok(addr.ip().to_string()),
        });
        let proto = if flags & NI_DGRAM != 0 { "udp" } else { "tcp" };
        let serv = (!out.serv.is_null()).then(|| match services::by_port(addr.port(), Some(proto)) {
            Some(s) if flags & NI_NUMERICSERV == 0 => s.name.to_owned(),
            _ => addr.port().to_string(),
        });
        Ok((host.transpose()?, serv))
    });
    let written = names.and_then(|(host, serv)| {
        // Doc: getnameinfo, EAI_BADFLAGS: "a host name was requested, but the hostlen
        // parameter was zero, or a service name was requested, but the servlen parameter
        // was zero".
        if (host.is_some() && out.host_len == 0) || (serv.is_some() && out.serv_len == 0) {
            return Err(WSAEINVAL as u32);
        }
        let host = host.map(|h| C::encode(&h));
        let serv = serv.map(|s| C::encode(&s));
        let fits = |text: &Option<Vec<C>>, at: *mut C, len: u32| {
            text.as_ref().is_none_or(|t| {
                t.len() < len as usize && usable(at.cast(), (t.len() + 1) * size_of::<C>(), Access::Write)
            })
        };
        // A buffer too small for its text: WSAEFAULT, inferred (no page or test says).
        if !fits(&host, out.host, out.host_len) || !fits(&serv, out.serv, out.serv_len) {
            return Err(WSAEFAULT as u32);
        }
        // SAFETY: each buffer holds its text and NUL, just checked.
        unsafe {
            write_text(&host, out.host);
            write_text(&serv, out.serv);
        }
        Ok((host.map(|h| C::decode(&h)), serv.map(|s| C::decode(&s))))
    });
    let (host, serv) = written.as_ref().map_or((None, None), |(h, s)| (h.clone(), s.clone()));
    args.push(host.map_or(Value::Ptr(!out.host.is_null()), |h| Value::Text(format!("&{h:?}"))));
    args.push(Value::Int(out.host_len.into()));
    args.push(serv.map_or(Value::Ptr(!out.serv.is_null()), |s| Value::Text(format!("&{s:?}"))));
    args.push(Value::Int(out.serv_len.into()));
    args.push(Value::Hex(flags.into()));
    finish(call, &args, written.err().map_or(0, |e| e as i32))
}

/// # Safety
/// `at` holds `text` and its NUL when `text` is some.
unsafe fn write_text<C: Unit>(text: &Option<Vec<C>>, at: *mut C) {
    if let Some(t) = text {
        // SAFETY: the caller's promise.
        unsafe { text::write(t, at) };
    }
}

/// # Safety
/// `name` holds `namelen` units when it is not NULL.
unsafe fn get_host_name<C: Unit>(call: Call, name: *mut C, namelen: i32) -> i32 {
    let r = call.with(|w| {
        started(w)?;
        let text = C::encode(w.host_name());
        let room = usize::try_from(namelen).unwrap_or(0);
        if text.len() >= room || !usable(name.cast(), (text.len() + 1) * size_of::<C>(), Access::Write) {
            return Err(WSAEFAULT as u32);
        }
        // SAFETY: it holds the name and its NUL, just checked.
        unsafe { text::write(&text, name) };
        Ok(w.host_name().to_owned())
    });
    let args = [
        r.as_ref().map_or(Value::Ptr(!name.is_null()), |n| Value::Text(format!("&{n:?}"))),
        Value::Int(namelen.into()),
    ];
    call.winsock(&args, r.map(|_| 0))
}

/// The HOSTENT of the calling thread, with what it points to after it.
#[repr(C)]
struct HostBuffer {
    entry: HOSTENT,
    aliases: [*mut i8; 1],
    addresses: [*mut i8; 2],
    address: [u8; 4],
    name: [u8; NAME_ROOM],
}

impl Default for HostBuffer {
    fn default() -> HostBuffer {
        let null = std::ptr::null_mut::<i8>();
        HostBuffer {
            entry: HOSTENT {
                h_name: null.cast(),
                h_aliases: null.cast(),
                h_addrtype: 0,
                h_length: 0,
                h_addr_list: null.cast(),
            },
            aliases: [null],
            addresses: [null; 2],
            address: [0; 4],
            name: [0; NAME_ROOM],
        }
    }
}

/// Fills the thread's HOSTENT with what was found, or fails the call.
fn host_entry(call: Call, args: &[Value], found: Result<Found, u32>) -> *mut HOSTENT {
    let found = match found {
        Ok(f) => f,
        Err(e) => {
            call.done(args, Value::Ptr(false), Some(e));
            return std::ptr::null_mut();
        }
    };
    let entry = call.with(|w| {
        let b = w.thread_buffer::<HostBuffer>();
        b.name = [0; NAME_ROOM];
        b.name[..found.name.len()].copy_from_slice(found.name.as_bytes());
        b.address = found.ip.octets();
        b.aliases = [std::ptr::null_mut()];
        b.addresses = [b.address.as_mut_ptr().cast(), std::ptr::null_mut()];
        b.entry = HOSTENT {
            h_name: b.name.as_mut_ptr(),
            h_aliases: b.aliases.as_mut_ptr(),
            h_addrtype: AF_INET as i16,
            h_length: 4,
            h_addr_list: b.addresses.as_mut_ptr(),
        };
        &raw mut b.entry
    });
    call.done(args, Value::Text(format!("&{{{:?}, {}}}", found.name, found.ip)), None);
    entry
}

/// Ends a resolution call that returns its error code, which is also the last error (0 on
/// success: Wine protocol.c test_getaddrinfo).
fn finish(call: Call, args: &[Value], ret: i32) -> i32 {
    call.with(|w| w.set_last_error(ret as u32));
    call.done(args, Value::Int(ret.into()), (ret != 0).then_some(ret as u32));
    ret
}

fn show_hints(hints: &Result<Option<Hints>, u32>) -> Value {
    match hints {
        Ok(None) => Value::Ptr(false),
        Ok(Some(h)) => Value::Text(format!(
            "{{flags {:#x}, {}, {}, {}}}",
            h.flags,
            Shown(Meaning::Family, h.family.into()),
            Shown(Meaning::SocketType, h.socktype.into()),
            Shown(Meaning::Protocol, h.protocol.into())
        )),
        Err(_) => Value::Ptr(true),
    }
}
