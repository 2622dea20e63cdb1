//! The names of constants whose meaning an argument is known to have, as traces and
//! messages show them: `AF_INET` rather than 2. A value without a name shows as its number.

use windows_sys::Win32::Networking::WinSock::{
    AF_INET, AF_INET6, AF_UNSPEC, IPPROTO_ICMP, IPPROTO_IP, IPPROTO_TCP, IPPROTO_UDP, SOCK_DGRAM, SOCK_RAW,
    SOCK_RDM, SOCK_SEQPACKET, SOCK_STREAM,
};

/// An address family.
pub(crate) fn family(af: i32) -> String {
    let name = match af {
        a if a == i32::from(AF_UNSPEC) => "AF_UNSPEC",
        a if a == i32::from(AF_INET) => "AF_INET",
        a if a == i32::from(AF_INET6) => "AF_INET6",
        _ => return af.to_string(),
    };
    name.to_owned()
}

/// A socket type.
pub(crate) fn socket_type(kind: i32) -> String {
    let name = match kind {
        SOCK_STREAM => "SOCK_STREAM",
        SOCK_DGRAM => "SOCK_DGRAM",
        SOCK_RAW => "SOCK_RAW",
        SOCK_RDM => "SOCK_RDM",
        SOCK_SEQPACKET => "SOCK_SEQPACKET",
        0 => "0",
        _ => return kind.to_string(),
    };
    name.to_owned()
}

/// A protocol of the IP family.
pub(crate) fn protocol(protocol: i32) -> String {
    let name = match protocol {
        IPPROTO_TCP => "IPPROTO_TCP",
        IPPROTO_UDP => "IPPROTO_UDP",
        IPPROTO_ICMP => "IPPROTO_ICMP",
        IPPROTO_IP => "0",
        _ => return protocol.to_string(),
    };
    name.to_owned()
}
