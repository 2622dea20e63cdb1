//! The network between hosts: packets on their way, each due at a virtual time.
//!
//! Every packet goes through [`Net::send_packet`], the one place that decides its fate:
//! today, arrival after a latency drawn from the link's range, never before an earlier
//! packet of the same TCP direction (TCP delivers in order). Loss, duplication, reordering
//! and partitions belong there too.

use super::effects::NetCx;
use super::{ConnId, Net, SocketId};
use crate::strategy::Choice;
use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BinaryHeap};
use std::net::SocketAddrV4;
use wsasim_model::{HostId, Segment};

/// A packet on the wire.
#[derive(Debug)]
pub(crate) enum Packet {
    /// A connection request from `client` (a TCP socket) to `to` on `host`.
    Syn {
        client: SocketId,
        from: SocketAddrV4,
        to: SocketAddrV4,
        host: HostId,
    },
    /// The listener accepted: the client's end is established.
    SynAck {
        conn: ConnId,
    },
    /// Nobody listens at the address, or the backlog is full: the client gets a reset.
    Refused {
        client: SocketId,
        from: SocketAddrV4,
        to: SocketAddrV4,
    },
    /// Bytes (or a FIN) from side `side` of a connection to the other.
    Segment {
        conn: ConnId,
        side: usize,
        segment: Segment,
    },
    /// A reset from side `side` to the other.
    Rst {
        conn: ConnId,
        side: usize,
    },
    Datagram {
        host: HostId,
        from: SocketAddrV4,
        to: SocketAddrV4,
        data: Vec<u8>,
    },
    /// The ICMP port unreachable a host answers a datagram with when nothing is bound to
    /// its port: back to the sender's address `to`, about the address `from`.
    PortUnreachable {
        host: HostId,
        from: SocketAddrV4,
        to: SocketAddrV4,
    },
    /// Not a packet: a connect to an address no host has gives up (after Windows' 21 s of
    /// SYN retries, TcpMaxConnectRetransmissions 2).
    ConnectTimeout {
        client: SocketId,
    },
    /// Not a packet: pending operations a socket could complete at once, under
    /// `Sim::pend_immediate`, complete now.
    Serve {
        socket: SocketId,
    },
}

/// Latency of a link, drawn from `min_ns..=max_ns` for each packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Latency {
    pub min_ns: u64,
    pub max_ns: u64,
}

impl Latency {
    /// 50 to 150 µs: a LAN, wide enough that packets of different connections overtake
    /// each other.
    pub const DEFAULT: Latency = Latency { min_ns: 50_000, max_ns: 150_000 };
}

/// A packet due at `at_ns`, the `order`-th sent: packets are delivered by due time, then
/// in the order they were sent.
#[derive(Debug)]
struct Due {
    at_ns: u64,
    order: u64,
    packet: Packet,
}

impl Due {
    fn key(&self) -> (u64, u64) {
        (self.at_ns, self.order)
    }
}

impl PartialEq for Due {
    fn eq(&self, other: &Due) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Due {}

impl PartialOrd for Due {
    fn partial_cmp(&self, other: &Due) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Due {
    fn cmp(&self, other: &Due) -> Ordering {
        self.key().cmp(&other.key())
    }
}

/// Packets in flight, earliest due first.
#[derive(Debug, Default)]
pub(crate) struct Wire {
    queue: BinaryHeap<Reverse<Due>>,
    sent: u64,
    pub(crate) latency: BTreeMap<(HostId, HostId), Latency>,
    pub(crate) default_latency: Option<Latency>,
    /// When the last datagram from one host to another arrives: datagrams are not
    /// reordered (reordering is a fault, decided in `send_packet` when it comes).
    pub(crate) datagram_last: BTreeMap<(HostId, HostId), u64>,
}

impl Wire {
    /// When the next packet is due.
    pub(crate) fn next_due(&self) -> Option<u64> {
        self.queue.peek().map(|d| d.0.at_ns)
    }

    pub(crate) fn pop(&mut self) -> Option<Packet> {
        self.queue.pop().map(|d| d.0.packet)
    }

    pub(crate) fn push(&mut self, at_ns: u64, packet: Packet) {
        self.sent += 1;
        self.queue.push(Reverse(Due { at_ns, order: self.sent, packet }));
    }

    fn latency(&self, a: HostId, b: HostId) -> Latency {
        let key = (a.min(b), a.max(b));
        self.latency.get(&key).copied().or(self.default_latency).unwrap_or(Latency::DEFAULT)
    }

    /// The packets on the wire, in no particular order.
    pub(crate) fn packets(&self) -> impl Iterator<Item = &Packet> {
        self.queue.iter().map(|d| &d.0.packet)
    }
}

impl Net {
    /// Puts a packet from host `from` to host `to` on the wire. `after_ns` is the arrival
    /// of the previous packet it must not overtake (0 for none); the arrival is returned.
    pub(crate) fn send_packet(
        &mut self,
        cx: &mut NetCx,
        from: HostId,
        to: HostId,
        after_ns: u64,
        packet: Packet,
    ) -> u64 {
        let Latency { min_ns, max_ns } = self.wire.latency(from, to);
        let spread = (max_ns - min_ns) as usize;
        let drawn = if spread == 0 { 0 } else { cx.pick(Choice::Latency, spread + 1) as u64 };
        let at = (cx.now_ns + min_ns + drawn).max(after_ns);
        self.wire.push(at, packet);
        at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets_leave_by_due_time_then_in_the_order_sent() {
        let mut wire = Wire::default();
        let serve = |s: u32| Packet::Serve { socket: SocketId(s) };
        for (at, s) in [(30, 0), (10, 1), (30, 2), (10, 3), (20, 4), (10, 5)] {
            wire.push(at, serve(s));
        }
        let mut order = Vec::new();
        while let Some(due) = wire.next_due() {
            let Some(Packet::Serve { socket }) = wire.pop() else { unreachable!() };
            order.push((due, socket.0));
        }
        assert_eq!(order, [(10, 1), (10, 3), (10, 5), (20, 4), (30, 0), (30, 2)]);
    }
}
