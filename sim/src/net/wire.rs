//! The network between hosts: packets on their way, each due at a virtual time.
//!
//! Every packet goes through [`Net::send_packet`], the one place that decides its fate:
//! arrival after a latency drawn from the link's range, never before an earlier packet of
//! the same TCP direction (TCP delivers in order), unless the run's faults (`faults`)
//! decide otherwise.

use super::effects::NetCx;
use super::faults::{Carriage, Fate, Retransmit};
use super::{ConnId, Net, SocketId};
use crate::strategy::Choice;
use crate::trace::{Entry, Fault};
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
    /// A reset from side `side` to the other; `answers` a segment of the other's, which
    /// that side sends again until a reset gets through (its data unacknowledged), rather
    /// than on its own (an abortive close), when a lost one is gone.
    Rst {
        conn: ConnId,
        side: usize,
        answers: bool,
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
    /// Not a packet: a connect to an address no host has, or whose handshake every
    /// retransmission of which was lost, gives up (`Retransmit::SYN`).
    ConnectTimeout {
        client: SocketId,
    },
    /// Not a packet: side `side` of a connection gives up on `segment`, every
    /// retransmission of which was lost.
    GaveUp {
        conn: ConnId,
        side: usize,
        segment: Segment,
    },
    /// A keep-alive probe from side `side` of a connection to the other, or the answer
    /// to one (`ack`).
    Probe {
        conn: ConnId,
        side: usize,
        ack: bool,
    },
    /// Not a packet: side `side`'s keep-alive timer.
    KeepAlive {
        conn: ConnId,
        side: usize,
    },
    /// Not a packet: pending operations a socket could complete at once, under
    /// `Sim::pend_immediate`, complete now.
    Serve {
        socket: SocketId,
    },
}

impl Packet {
    /// What the trace calls a keep-alive probe, or its answer.
    pub(crate) fn probe_name(ack: bool) -> &'static str {
        if ack { "keep-alive ack" } else { "keep-alive" }
    }
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
    /// When the packets that go again after a loss leave their host, by their order on
    /// the wire: later than they were put on it (kept apart, as only faults make them).
    leaves_ns: BTreeMap<u64, u64>,
}

impl Wire {
    /// When the next packet is due.
    pub(crate) fn next_due(&self) -> Option<u64> {
        self.queue.peek().map(|d| d.0.at_ns)
    }

    pub(crate) fn pop(&mut self) -> Option<Packet> {
        let Reverse(due) = self.queue.pop()?;
        if !self.leaves_ns.is_empty() {
            self.leaves_ns.remove(&due.order);
        }
        Some(due.packet)
    }

    pub(crate) fn push(&mut self, at_ns: u64, packet: Packet) {
        self.sent += 1;
        self.queue.push(Reverse(Due { at_ns, order: self.sent, packet }));
    }

    /// `packet`, sent again after a loss, leaves its host at `leaves_ns`.
    fn push_resent(&mut self, leaves_ns: u64, at_ns: u64, packet: Packet) {
        self.push(at_ns, packet);
        self.leaves_ns.insert(self.sent, leaves_ns);
    }

    /// Takes off the wire every segment of a connection side that `crashed` says forgot
    /// it, from the first that leaves after `now_ns` (a retransmission its host will
    /// never send) on, as the later ones could not be delivered in order without it.
    pub(crate) fn take_never_sent(
        &mut self,
        now_ns: u64,
        crashed: impl Fn(ConnId, usize) -> bool,
    ) -> Vec<(ConnId, usize, Segment)> {
        let mut first: BTreeMap<(ConnId, usize), (u64, u64)> = BTreeMap::new();
        for d in self.queue.iter().map(|d| &d.0) {
            if let Packet::Segment { conn, side, .. } = d.packet
                && self.leaves_ns.get(&d.order).is_some_and(|leaves| *leaves > now_ns)
                && crashed(conn, side)
            {
                let key = first.entry((conn, side)).or_insert(d.key());
                *key = (*key).min(d.key());
            }
        }
        if first.is_empty() {
            return Vec::new();
        }
        let (mut taken, mut kept) = (Vec::new(), Vec::new());
        for Reverse(d) in std::mem::take(&mut self.queue).into_vec() {
            let key = d.key();
            match d.packet {
                Packet::Segment { conn, side, segment }
                    if first.get(&(conn, side)).is_some_and(|f| key >= *f) =>
                {
                    self.leaves_ns.remove(&key.1);
                    taken.push((key, (conn, side, segment)));
                }
                packet => kept.push(Reverse(Due { packet, ..d })),
            }
        }
        self.queue = BinaryHeap::from(kept);
        taken.sort_by_key(|(key, _)| *key);
        taken.into_iter().map(|(_, t)| t).collect()
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

/// What became of a packet put on the wire.
#[derive(Debug)]
pub(crate) enum Sent {
    /// It arrives then.
    At(u64),
    /// It never arrives (a datagram, an ICMP message or a reset, lost).
    Lost,
    /// Every retransmission of it is lost: its sender gives up then, and has it back.
    GivesUp(u64, Packet),
}

impl Net {
    /// Puts a packet from host `from` to host `to` on the wire, with the fate the run's
    /// faults give it. `after_ns` is the arrival of the previous packet it must not
    /// overtake (0 for none); datagrams keep their order by host pair here, unless one is
    /// held back.
    pub(crate) fn send_packet(
        &mut self,
        cx: &mut NetCx,
        from: HostId,
        to: HostId,
        after_ns: u64,
        packet: Packet,
    ) -> Sent {
        let latency = self.wire.latency(from, to);
        let datagram = matches!(packet, Packet::Datagram { .. });
        let after_ns = match datagram {
            true => self.wire.datagram_last.get(&(from, to)).copied().unwrap_or(0),
            false => after_ns,
        };
        // A host's loopback makes no fault.
        if !self.faults_on || from == to {
            let at = (cx.now_ns + draw_latency(cx, latency)).max(after_ns);
            self.wire.push(at, packet);
            if datagram {
                self.wire.datagram_last.insert((from, to), at);
            }
            return Sent::At(at);
        }
        let carriage = match &packet {
            Packet::Datagram { .. } => Carriage::Datagram,
            Packet::PortUnreachable { .. } | Packet::Rst { answers: false, .. } | Packet::Probe { .. } => {
                Carriage::Once
            }
            Packet::Syn { .. } | Packet::SynAck { .. } | Packet::Refused { .. } => {
                Carriage::Reliable(Retransmit::SYN)
            }
            Packet::Segment { .. } | Packet::Rst { answers: true, .. } => {
                Carriage::Reliable(Retransmit::data(2 * latency.max_ns))
            }
            Packet::ConnectTimeout { .. }
            | Packet::GaveUp { .. }
            | Packet::KeepAlive { .. }
            | Packet::Serve { .. } => {
                unreachable!("not a packet: {packet:?}")
            }
        };
        let now = cx.now_ns;
        let data = matches!(&packet, Packet::Segment { segment, .. } if !segment.data.is_empty());
        let fate = self.faults.fate(cx, from, to, carriage, 4 * latency.max_ns, data);
        let record = |cx: &mut NetCx, fault| cx.record(fault_entry(&self.conns, &packet, fault));
        match fate {
            Fate::Lost => {
                record(cx, Fault::Lost);
                if let Packet::Datagram { data, .. } = &packet {
                    self.udp_lost += data.len() as u64;
                }
                Sent::Lost
            }
            Fate::GivesUp { at_ns } => {
                record(cx, Fault::GivesUp { after_ns: at_ns - now });
                Sent::GivesUp(at_ns, packet)
            }
            Fate::Arrives { sent_ns, held_ns, duplicated, losses, resets } => {
                if losses > 0 {
                    record(cx, Fault::Resent { times: losses, after_ns: sent_ns - now });
                }
                if held_ns > 0 {
                    record(cx, Fault::Held { ns: held_ns });
                }
                if duplicated {
                    record(cx, Fault::Duplicated);
                }
                if let (true, Packet::Datagram { host, from, to, data }) = (duplicated, &packet) {
                    // The copy goes its own way; a TCP receiver would discard it unseen.
                    self.udp_duplicated += data.len() as u64;
                    let copy = Packet::Datagram { host: *host, from: *from, to: *to, data: data.clone() };
                    let at = sent_ns + draw_latency(cx, latency);
                    self.wire.push(at, copy);
                }
                let after_ns = if held_ns > 0 && datagram { 0 } else { after_ns };
                let at = (sent_ns + draw_latency(cx, latency) + held_ns).max(after_ns);
                if let (true, &Packet::Segment { conn, side, .. }) = (resets, &packet) {
                    // Ahead of the segment to its receiver, which discards it, and back to
                    // its sender.
                    record(cx, Fault::Reset);
                    self.wire.push(at, Packet::Rst { conn, side, answers: false });
                    let back = sent_ns + draw_latency(cx, latency);
                    self.wire.push(back, Packet::Rst { conn, side: 1 - side, answers: false });
                }
                match losses {
                    0 => self.wire.push(at, packet),
                    _ => self.wire.push_resent(sent_ns, at, packet),
                }
                if datagram && held_ns == 0 {
                    self.wire.datagram_last.insert((from, to), at);
                }
                Sent::At(at)
            }
        }
    }
}

fn draw_latency(cx: &mut NetCx, latency: Latency) -> u64 {
    let spread = (latency.max_ns - latency.min_ns) as usize;
    latency.min_ns + if spread == 0 { 0 } else { cx.pick(Choice::Latency, spread + 1) as u64 }
}

/// The trace entry of a fault made of `packet`.
fn fault_entry(conns: &[super::Conn], packet: &Packet, fault: Fault) -> Entry {
    let addrs = |conn: &ConnId| conns[conn.0 as usize].addrs;
    let (what, from, to, bytes) = match packet {
        Packet::Syn { from, to, .. } => ("syn", *from, *to, 0),
        Packet::SynAck { conn } => ("syn-ack", addrs(conn)[1], addrs(conn)[0], 0),
        Packet::Refused { from, to, .. } => ("refused", *to, *from, 0),
        Packet::Segment { conn, side, segment } => {
            let what = if segment.data.is_empty() { "fin" } else { "data" };
            (what, addrs(conn)[*side], addrs(conn)[1 - side], segment.data.len())
        }
        Packet::Rst { conn, side, .. } => ("rst", addrs(conn)[*side], addrs(conn)[1 - side], 0),
        Packet::Probe { conn, side, ack } => {
            (Packet::probe_name(*ack), addrs(conn)[*side], addrs(conn)[1 - side], 0)
        }
        Packet::Datagram { from, to, data, .. } => ("udp", *from, *to, data.len()),
        Packet::PortUnreachable { from, to, .. } => ("port unreachable", *from, *to, 0),
        Packet::ConnectTimeout { .. }
        | Packet::GaveUp { .. }
        | Packet::KeepAlive { .. }
        | Packet::Serve { .. } => {
            unreachable!("not a packet")
        }
    };
    Entry::Fault { what, from, to, bytes: bytes as u32, fault }
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
