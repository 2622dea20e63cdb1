//! Local transport addresses: which socket (by the transport's id) has bound which (address, port), whether a new
//! `bind` may share one, and which socket an arriving packet is for.
//!
//! Sharing follows Microsoft's table of a second bind against a first one (Doc: "Sharing
//! Transport Addresses", the WSK page whose table the Winsock page "Using SO_REUSEADDR and
//! SO_EXCLUSIVEADDRUSE" describes in prose). Every program of a run is one user, so the
//! table's CHECK cases (a security check against the first socket's owner) succeed.

use crate::{HostId, Win32Error};
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddrV4};
use windows_sys::Win32::Networking::WinSock::{WSAEACCES, WSAEADDRINUSE};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Proto {
    Tcp,
    Udp,
}

/// The sharing option a socket had when it was bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sharing {
    Default,
    /// `SO_REUSEADDR`.
    ReuseAddr,
    /// `SO_EXCLUSIVEADDRUSE`.
    Exclusive,
}

/// The first dynamic port, and the last: Windows Vista and later give ports 49152–65535
/// for port 0 (Doc: "Using SO_REUSEADDR and SO_EXCLUSIVEADDRUSE", "ephemeral local ports
/// consist of ports greater than port 49151").
pub const EPHEMERAL: std::ops::RangeInclusive<u16> = 49152..=65535;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Bound {
    socket: u32,
    ip: Ipv4Addr,
    sharing: Sharing,
}

/// Every binding of a run, by host, protocol and port.
#[derive(Debug, Default)]
pub struct Bindings {
    bound: BTreeMap<(HostId, Proto, u16), Vec<Bound>>,
}

impl Bindings {
    pub fn new() -> Bindings {
        Bindings::default()
    }

    /// Binds `socket` to `addr` (its port not 0) if the bindings already there allow it:
    /// `WSAEADDRINUSE` or `WSAEACCES` otherwise, by the table.
    pub fn bind(
        &mut self,
        host: HostId,
        proto: Proto,
        socket: u32,
        addr: SocketAddrV4,
        sharing: Sharing,
    ) -> Result<(), Win32Error> {
        assert_ne!(addr.port(), 0, "port 0 is resolved by the caller through `ephemeral`");
        let new = Bound { socket, ip: *addr.ip(), sharing };
        let entries = self.bound.entry((host, proto, addr.port())).or_default();
        for first in entries.iter().filter(|b| overlaps(b.ip, new.ip)) {
            match second_bind(new, *first) {
                Verdict::Success => {}
                Verdict::InUse => return Err(WSAEADDRINUSE as Win32Error),
                Verdict::Denied => return Err(WSAEACCES as Win32Error),
            }
        }
        entries.push(new);
        Ok(())
    }

    /// Drops a socket's binding (when it closes).
    pub fn unbind(&mut self, host: HostId, proto: Proto, socket: u32, port: u16) {
        let key = (host, proto, port);
        let entries = self.bound.get_mut(&key).expect("a bound socket has an entry");
        entries.retain(|b| b.socket != socket);
        if entries.is_empty() {
            self.bound.remove(&key);
        }
    }

    /// Whether nothing bound to `port` collides with a bind to `ip`: the engine draws a
    /// dynamic port and takes the first free one from there.
    pub fn is_free(&self, host: HostId, proto: Proto, ip: Ipv4Addr, port: u16) -> bool {
        self.bound.get(&(host, proto, port)).is_none_or(|v| v.iter().all(|b| !overlaps(b.ip, ip)))
    }

    /// The socket a packet to `dst` on `host` is for: a binding to the exact address wins
    /// over the wildcard; among equals, the earliest.
    pub fn lookup(&self, host: HostId, proto: Proto, dst: SocketAddrV4) -> Option<u32> {
        let entries = self.bound.get(&(host, proto, dst.port()))?;
        let exact = entries.iter().find(|b| b.ip == *dst.ip());
        exact.or_else(|| entries.iter().find(|b| b.ip.is_unspecified())).map(|b| b.socket)
    }
}

/// Two bindings of one port collide when their addresses can meet.
fn overlaps(a: Ipv4Addr, b: Ipv4Addr) -> bool {
    a == b || a.is_unspecified() || b.is_unspecified()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Success,
    InUse,
    Denied,
}

/// The table of Doc: "Sharing Transport Addresses", second bind against first.
fn second_bind(second: Bound, first: Bound) -> Verdict {
    use Sharing::*;
    use Verdict::*;
    let column = match (first.sharing, first.ip.is_unspecified()) {
        (Default, true) => 0,
        (Default, false) => 1,
        (ReuseAddr, true) => 2,
        (ReuseAddr, false) => 3,
        (Exclusive, true) => 4,
        (Exclusive, false) => 5,
    };
    // CHECK (a check of the first socket's owner, always this run's one user) is Success.
    let row: [Verdict; 6] = match (second.sharing, second.ip.is_unspecified()) {
        (Default, true) => [InUse, Success, InUse, Success, InUse, Success],
        (Default, false) => [Success, InUse, Success, Denied, Denied, InUse],
        (ReuseAddr, true) => [Denied, Success, Success, Success, Denied, Success],
        (ReuseAddr, false) => [Success, Denied, Success, Success, Denied, Denied],
        (Exclusive, true) => [InUse; 6],
        (Exclusive, false) => [Success, InUse, Success, InUse, Denied, InUse],
    };
    row[column]
}

#[cfg(test)]
mod tests {
    use super::*;

    const WILD: Ipv4Addr = Ipv4Addr::UNSPECIFIED;
    const HOST: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

    fn bind(p: &mut Bindings, s: u32, ip: Ipv4Addr, sharing: Sharing) -> Result<(), Win32Error> {
        p.bind(0, Proto::Tcp, s, SocketAddrV4::new(ip, 7000), sharing)
    }

    #[test]
    fn a_second_bind_follows_the_sharing_table() {
        use Sharing::*;
        let (inuse, denied) = (Err(WSAEADDRINUSE as u32), Err(WSAEACCES as u32));
        // (first, second, result)
        let table = [
            ((WILD, Default), (WILD, Default), inuse),
            ((HOST, Default), (WILD, Default), Ok(())),
            ((WILD, Default), (HOST, Default), Ok(())),
            ((HOST, Default), (HOST, Default), inuse),
            ((HOST, ReuseAddr), (HOST, Default), denied),
            ((WILD, Default), (WILD, ReuseAddr), denied),
            ((WILD, ReuseAddr), (WILD, ReuseAddr), Ok(())),
            ((HOST, Default), (HOST, ReuseAddr), denied),
            ((WILD, Exclusive), (WILD, ReuseAddr), denied),
            ((HOST, Default), (WILD, Exclusive), inuse),
            ((WILD, Exclusive), (HOST, Exclusive), denied),
        ];
        for ((ip1, s1), (ip2, s2), expected) in table {
            let mut p = Bindings::new();
            bind(&mut p, 0, ip1, s1).unwrap();
            assert_eq!(bind(&mut p, 1, ip2, s2), expected, "{ip1}/{s1:?} then {ip2}/{s2:?}");
        }
    }

    #[test]
    fn different_specific_addresses_and_protocols_do_not_collide() {
        let mut p = Bindings::new();
        bind(&mut p, 0, HOST, Sharing::Default).unwrap();
        bind(&mut p, 1, Ipv4Addr::LOCALHOST, Sharing::Default).unwrap();
        let udp = p.bind(0, Proto::Udp, 2, SocketAddrV4::new(HOST, 7000), Sharing::Default);
        assert_eq!(udp, Ok(()));
        assert_eq!(
            p.bind(1, Proto::Tcp, 3, SocketAddrV4::new(HOST, 7000), Sharing::Default),
            Ok(()),
            "another host"
        );
    }

    #[test]
    fn unbinding_frees_the_port() {
        let mut p = Bindings::new();
        bind(&mut p, 0, WILD, Sharing::Default).unwrap();
        p.unbind(0, Proto::Tcp, 0, 7000);
        assert_eq!(bind(&mut p, 1, WILD, Sharing::Default), Ok(()));
    }

    #[test]
    fn lookup_prefers_the_exact_address_over_the_wildcard() {
        let mut p = Bindings::new();
        bind(&mut p, 0, WILD, Sharing::Default).unwrap();
        bind(&mut p, 1, HOST, Sharing::Default).unwrap();
        assert_eq!(p.lookup(0, Proto::Tcp, SocketAddrV4::new(HOST, 7000)), Some(1));
        assert_eq!(p.lookup(0, Proto::Tcp, SocketAddrV4::new(Ipv4Addr::LOCALHOST, 7000)), Some(0));
        assert_eq!(p.lookup(0, Proto::Tcp, SocketAddrV4::new(HOST, 7001)), None);
    }

    #[test]
    fn ephemeral_ports_skip_the_taken_ones() {
        let mut p = Bindings::new();
        let first = *EPHEMERAL.start();
        assert!(p.is_free(0, Proto::Udp, HOST, first));
        assert_eq!(first, 49152);
        p.bind(0, Proto::Udp, 0, SocketAddrV4::new(WILD, first), Sharing::Default).unwrap();
        assert!(!p.is_free(0, Proto::Udp, HOST, 49152));
        assert!(p.is_free(0, Proto::Tcp, HOST, 49152), "ports are per protocol");
        assert_eq!(
            EPHEMERAL.filter(|port| p.is_free(0, Proto::Udp, HOST, *port)).count(),
            EPHEMERAL.len() - 1
        );
    }
}
