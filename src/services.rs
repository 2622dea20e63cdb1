//! The services and protocols databases: `getservbyname`, `getservbyport`,
//! `getprotobyname`, `getprotobynumber`, over the entries of Windows' own
//! `%SystemRoot%\System32\drivers\etc\services` and `protocol` files that programs look up
//! (a subset of the services; every protocol).

use crate::call::{Call, enter};
use crate::resolve::started;
use crate::text;
use windows_sys::Win32::Networking::WinSock::{PROTOENT, SERVENT, WSANO_DATA};
use windows_sys::core::PCSTR;
use wsasim_sim::Value;

/// A service: its name, port, transport protocol and other names.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Service {
    pub(crate) name: &'static str,
    pub(crate) port: u16,
    pub(crate) proto: &'static str,
    aliases: &'static [&'static str],
}

const fn service(
    name: &'static str,
    port: u16,
    proto: &'static str,
    aliases: &'static [&'static str],
) -> Service {
    Service { name, port, proto, aliases }
}

/// In the file's order, which decides what a lookup without a protocol finds first.
const SERVICES: &[Service] = &[
    service("echo", 7, "tcp", &[]),
    service("echo", 7, "udp", &[]),
    service("discard", 9, "tcp", &["sink", "null"]),
    service("discard", 9, "udp", &["sink", "null"]),
    service("daytime", 13, "tcp", &[]),
    service("daytime", 13, "udp", &[]),
    service("qotd", 17, "tcp", &["quote"]),
    service("qotd", 17, "udp", &["quote"]),
    service("chargen", 19, "tcp", &["ttytst", "source"]),
    service("chargen", 19, "udp", &["ttytst", "source"]),
    service("ftp-data", 20, "tcp", &[]),
    service("ftp", 21, "tcp", &[]),
    service("ssh", 22, "tcp", &[]),
    service("telnet", 23, "tcp", &[]),
    service("smtp", 25, "tcp", &["mail"]),
    service("time", 37, "tcp", &["timserver"]),
    service("time", 37, "udp", &["timserver"]),
    service("domain", 53, "tcp", &[]),
    service("domain", 53, "udp", &[]),
    service("bootps", 67, "udp", &["dhcps"]),
    service("bootpc", 68, "udp", &["dhcpc"]),
    service("tftp", 69, "udp", &[]),
    service("gopher", 70, "tcp", &[]),
    service("finger", 79, "tcp", &[]),
    service("http", 80, "tcp", &["www", "www-http"]),
    service("kerberos", 88, "tcp", &["krb5", "kerberos-sec"]),
    service("kerberos", 88, "udp", &["krb5", "kerberos-sec"]),
    service("pop3", 110, "tcp", &[]),
    service("nntp", 119, "tcp", &["usenet"]),
    service("ntp", 123, "udp", &[]),
    service("epmap", 135, "tcp", &["loc-srv"]),
    service("epmap", 135, "udp", &["loc-srv"]),
    service("netbios-ns", 137, "tcp", &["nbname"]),
    service("netbios-ns", 137, "udp", &["nbname"]),
    service("netbios-dgm", 138, "udp", &["nbdatagram"]),
    service("netbios-ssn", 139, "tcp", &["nbsession"]),
    service("imap", 143, "tcp", &["imap4"]),
    service("snmp", 161, "udp", &[]),
    service("snmptrap", 162, "udp", &["snmp-trap"]),
    service("ldap", 389, "tcp", &[]),
    service("https", 443, "tcp", &["MCom"]),
    service("https", 443, "udp", &["MCom"]),
    service("microsoft-ds", 445, "tcp", &[]),
    service("microsoft-ds", 445, "udp", &[]),
    service("ms-sql-s", 1433, "tcp", &[]),
    service("ms-sql-s", 1433, "udp", &[]),
    service("ms-sql-m", 1434, "tcp", &[]),
    service("ms-sql-m", 1434, "udp", &[]),
];

/// A protocol: its name, number and other name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Protocol {
    name: &'static str,
    number: u8,
    alias: &'static str,
}

const fn protocol(name: &'static str, number: u8, alias: &'static str) -> Protocol {
    Protocol { name, number, alias }
}

const PROTOCOLS: &[Protocol] = &[
    protocol("ip", 0, "IP"),
    protocol("icmp", 1, "ICMP"),
    protocol("ggp", 3, "GGP"),
    protocol("tcp", 6, "TCP"),
    protocol("egp", 8, "EGP"),
    protocol("pup", 12, "PUP"),
    protocol("udp", 17, "UDP"),
    protocol("hmp", 20, "HMP"),
    protocol("xns-idp", 22, "XNS-IDP"),
    protocol("rdp", 27, "RDP"),
    protocol("ipv6", 41, "IPv6"),
    protocol("ipv6-route", 43, "IPv6-Route"),
    protocol("ipv6-frag", 44, "IPv6-Frag"),
    protocol("esp", 50, "ESP"),
    protocol("ah", 51, "AH"),
    protocol("ipv6-icmp", 58, "IPv6-ICMP"),
    protocol("ipv6-nonxt", 59, "IPv6-NoNxt"),
    protocol("ipv6-opts", 60, "IPv6-Opts"),
    protocol("rvd", 66, "RVD"),
];

/// The service with this name or alias over `proto` (any, for `None`).
pub(crate) fn by_name(name: &str, proto: Option<&str>) -> Option<Service> {
    SERVICES.iter().copied().find(|s| {
        (s.name.eq_ignore_ascii_case(name) || s.aliases.iter().any(|a| a.eq_ignore_ascii_case(name)))
            && proto.is_none_or(|p| s.proto.eq_ignore_ascii_case(p))
    })
}

/// The service on this port over `proto` (any, for `None`).
pub(crate) fn by_port(port: u16, proto: Option<&str>) -> Option<Service> {
    SERVICES.iter().copied().find(|s| s.port == port && proto.is_none_or(|p| s.proto.eq_ignore_ascii_case(p)))
}

/// Room for the names a SERVENT or PROTOENT points to.
const ROOM: usize = 16;

/// The SERVENT of the calling thread, with its names after it.
#[repr(C)]
struct ServiceBuffer {
    entry: SERVENT,
    aliases: [*mut i8; 3],
    name: [u8; ROOM],
    proto: [u8; ROOM],
    alias_names: [[u8; ROOM]; 2],
}

impl Default for ServiceBuffer {
    fn default() -> ServiceBuffer {
        let null = std::ptr::null_mut();
        ServiceBuffer {
            entry: SERVENT { s_name: null, s_aliases: null.cast(), s_proto: null, s_port: 0 },
            aliases: [null.cast(); 3],
            name: [0; ROOM],
            proto: [0; ROOM],
            alias_names: [[0; ROOM]; 2],
        }
    }
}

/// The PROTOENT of the calling thread, with its names after it.
#[repr(C)]
struct ProtocolBuffer {
    entry: PROTOENT,
    aliases: [*mut i8; 2],
    name: [u8; ROOM],
    alias: [u8; ROOM],
}

impl Default for ProtocolBuffer {
    fn default() -> ProtocolBuffer {
        let null = std::ptr::null_mut();
        ProtocolBuffer {
            entry: PROTOENT { p_name: null, p_aliases: null.cast(), p_proto: 0 },
            aliases: [null.cast(); 2],
            name: [0; ROOM],
            alias: [0; ROOM],
        }
    }
}

/// `getservbyname` (Doc: getservbyname function): the thread's SERVENT for a service name
/// or alias over `proto` (NULL: any), the port in network byte order; NULL with
/// `WSANO_DATA` when there is none.
pub unsafe fn getservbyname(name: PCSTR, proto: PCSTR) -> *mut SERVENT {
    let call = enter("getservbyname");
    // SAFETY: the caller's strings, as for Windows.
    let (name, proto) = unsafe { (text::read(name), text::read(proto)) };
    let args = [text::show(&name), text::show(&proto)];
    let found = name.and_then(|n| {
        let proto = proto?;
        Ok(n.and_then(|n| by_name(&n, proto.as_deref())))
    });
    service_entry(call, &args, found)
}

/// `getservbyport` (Doc: getservbyport function): [`getservbyname`] by a port in network
/// byte order.
pub unsafe fn getservbyport(port: i32, proto: PCSTR) -> *mut SERVENT {
    let call = enter("getservbyport");
    // SAFETY: the caller's string, as for Windows.
    let proto = unsafe { text::read(proto) };
    let port = u16::from_be(port as u16);
    let args = [Value::Text(format!("htons({port})")), text::show(&proto)];
    service_entry(call, &args, proto.map(|p| by_port(port, p.as_deref())))
}

/// `getprotobyname` (Doc: getprotobyname function): the thread's PROTOENT for a protocol
/// name or alias, ignoring case; NULL with `WSANO_DATA` when there is none.
pub unsafe fn getprotobyname(name: PCSTR) -> *mut PROTOENT {
    let call = enter("getprotobyname");
    // SAFETY: the caller's string, as for Windows.
    let name = unsafe { text::read(name) };
    let args = [text::show(&name)];
    let found = name.map(|n| {
        let n = n?;
        PROTOCOLS
            .iter()
            .copied()
            .find(|p| p.name.eq_ignore_ascii_case(&n) || p.alias.eq_ignore_ascii_case(&n))
    });
    protocol_entry(call, &args, found)
}

/// `getprotobynumber` (Doc: getprotobynumber function): [`getprotobyname`] by number.
pub unsafe fn getprotobynumber(number: i32) -> *mut PROTOENT {
    let call = enter("getprotobynumber");
    let found = PROTOCOLS.iter().copied().find(|p| i32::from(p.number) == number);
    protocol_entry(call, &[Value::Int(number.into())], Ok(found))
}

/// The thread's SERVENT filled in with what was found: `Err` for a string that cannot be
/// read (`WSAEFAULT`), `Ok(None)` for none found.
fn service_entry(call: Call, args: &[Value], found: Result<Option<Service>, u32>) -> *mut SERVENT {
    let entry = call.with(|w| {
        started(w)?;
        let s = found?.ok_or(WSANO_DATA as u32)?;
        let b = w.thread_buffer::<ServiceBuffer>();
        b.name = padded(s.name);
        b.proto = padded(s.proto);
        b.aliases = [std::ptr::null_mut(); 3];
        for (i, alias) in s.aliases.iter().enumerate() {
            b.alias_names[i] = padded(alias);
            b.aliases[i] = b.alias_names[i].as_mut_ptr().cast();
        }
        b.entry = SERVENT {
            s_name: b.name.as_mut_ptr(),
            s_aliases: b.aliases.as_mut_ptr(),
            s_proto: b.proto.as_mut_ptr(),
            s_port: s.port.to_be() as i16,
        };
        Ok((&raw mut b.entry, s))
    });
    let shown = entry.map(|(e, s)| (e, format!("&{{{:?}, {}, {:?}}}", s.name, s.port, s.proto)));
    finish(call, args, shown)
}

/// As [`service_entry`], for a PROTOENT.
fn protocol_entry(call: Call, args: &[Value], found: Result<Option<Protocol>, u32>) -> *mut PROTOENT {
    let entry = call.with(|w| {
        started(w)?;
        let p = found?.ok_or(WSANO_DATA as u32)?;
        let b = w.thread_buffer::<ProtocolBuffer>();
        b.name = padded(p.name);
        b.alias = padded(p.alias);
        b.aliases = [b.alias.as_mut_ptr().cast(), std::ptr::null_mut()];
        b.entry = PROTOENT {
            p_name: b.name.as_mut_ptr(),
            p_aliases: b.aliases.as_mut_ptr(),
            p_proto: p.number.into(),
        };
        Ok((&raw mut b.entry, p))
    });
    finish(call, args, entry.map(|(e, p)| (e, format!("&{{{:?}, {}}}", p.name, p.number))))
}

/// Ends a lookup: the thread's entry, shown as found, or NULL with the error.
fn finish<T>(call: Call, args: &[Value], entry: Result<(*mut T, String), u32>) -> *mut T {
    match entry {
        Ok((e, shown)) => {
            call.done(args, Value::Text(shown), None);
            e
        }
        Err(e) => {
            call.done(args, Value::Ptr(false), Some(e));
            std::ptr::null_mut()
        }
    }
}

/// A table name with its NUL, in a buffer's room for it.
fn padded(name: &str) -> [u8; ROOM] {
    let mut room = [0; ROOM];
    room[..name.len()].copy_from_slice(name.as_bytes());
    room
}
