//! Where every byte a send handed over went, and the connections whose bytes can never
//! move: both checked at the end of every run.
//!
//! A byte is read, discarded by a named rule (a reset, a truncated or undeliverable
//! datagram), or still on its way. On its way is only honest while something can still
//! move it: a packet on the wire, or a receiver that may read. A connection whose bytes
//! wait for a transmission or a hand-over that nothing will make is stalled: that is a bug
//! of the transport's, and fails the run naming the connection.

use super::{EndState, Net, Packet};
use std::collections::{BTreeMap, BTreeSet};

/// Bytes the transport took and where they all went, for the end-of-run check that none
/// was lost unseen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Conservation {
    /// TCP: taken by sends; read by receivers; on their way (unsent, in flight, or
    /// unread); thrown away by resets.
    pub tcp_accepted: u64,
    pub tcp_read: u64,
    pub tcp_pending: u64,
    pub tcp_discarded: u64,
    /// UDP: sent, and copies the network made of what was sent (`Sim::duplicate`); read;
    /// queued or on the wire; cut by truncation or dropped (no receiver, full queue,
    /// closed socket); lost by the network (`Sim::loss`, a partition).
    pub udp_sent: u64,
    pub udp_duplicated: u64,
    pub udp_read: u64,
    pub udp_pending: u64,
    pub udp_discarded: u64,
    pub udp_lost: u64,
}

impl Conservation {
    pub fn holds(&self) -> bool {
        self.tcp_accepted == self.tcp_read + self.tcp_pending + self.tcp_discarded
            && self.udp_sent + self.udp_duplicated
                == self.udp_read + self.udp_pending + self.udp_discarded + self.udp_lost
    }
}

impl Net {
    pub(crate) fn conservation(&self) -> Conservation {
        let mut c = Conservation {
            udp_sent: self.udp_sent,
            udp_duplicated: self.udp_duplicated,
            udp_lost: self.udp_lost,
            ..Conservation::default()
        };
        for s in self.conns.iter().flat_map(|c| &c.streams) {
            let k = s.counts();
            c.tcp_accepted += k.accepted;
            c.tcp_read += k.read;
            c.tcp_pending += k.unsent + k.in_flight + k.received;
            c.tcp_discarded += k.discarded;
        }
        for q in self.sockets.iter().map(|s| s.datagrams.counts()) {
            c.udp_read += q.read;
            c.udp_pending += q.queued;
            c.udp_discarded += q.truncated + q.discarded;
        }
        for packet in self.wire.packets() {
            if let Packet::Datagram { data, .. } = packet {
                c.udp_pending += data.len() as u64;
            }
        }
        c.udp_discarded += self.udp_dropped;
        c
    }

    /// Each direction of a connection holding bytes that nothing can move any more, as
    /// `from > to: what is stuck`. Empty in every run of a correct transport: a stream
    /// transmits whenever its window opens, whether its socket is open or closed, and
    /// pending operations are served whenever they can be.
    pub(crate) fn stalls(&self) -> Vec<String> {
        // Pending operations that a `Serve` event (Sim::pend_immediate) will still serve,
        // and the bytes each direction has on the wire.
        let mut served = BTreeSet::new();
        let mut carried: BTreeMap<(u32, usize), u64> = BTreeMap::new();
        for packet in self.wire.packets() {
            match packet {
                Packet::Serve { socket } => _ = served.insert(*socket),
                Packet::Segment { conn, side, segment } | Packet::GaveUp { conn, side, segment } => {
                    *carried.entry((conn.0, *side)).or_default() += segment.data.len() as u64;
                }
                _ => {}
            }
        }
        let mut stalls = Vec::new();
        for (i, conn) in self.conns.iter().enumerate().filter(|(_, c)| !c.reset()) {
            for side in 0..2 {
                let stream = &conn.streams[side];
                let mut stuck = Vec::new();
                if stream.can_transmit() && !conn.giving_up[side] && conn.ends[side] != EndState::Gone {
                    stuck.push(match stream.counts().unsent {
                        0 => "the end of stream unsent".to_owned(),
                        unsent => format!("{unsent} bytes unsent with the window open"),
                    });
                }
                let in_flight = stream.counts().in_flight;
                let on_wire = carried.get(&(i as u32, side)).copied().unwrap_or(0);
                if in_flight != on_wire {
                    stuck.push(format!("{in_flight} bytes in flight, {on_wire} on the wire"));
                }
                if let EndState::Open(s) = conn.ends[side] {
                    let socket = &self.sockets[s.0 as usize];
                    let sends = &socket.sends;
                    if !sends.is_empty() && stream.send_space() > 0 && !served.contains(&s) {
                        stuck.push(format!("{} sends pending with room in the send buffer", sends.len()));
                    }
                    if socket.finish_after_sends && sends.is_empty() {
                        stuck.push("the end of stream held for sends that are gone".to_owned());
                    }
                }
                if let EndState::Open(r) = conn.ends[1 - side] {
                    let receives = &self.sockets[r.0 as usize].receives;
                    let ready = stream.readable() > 0 || stream.at_end();
                    if !receives.is_empty() && ready && !served.contains(&r) {
                        stuck.push(format!(
                            "{} receives pending with data or the end of stream there",
                            receives.len()
                        ));
                    }
                }
                if !stuck.is_empty() {
                    let (from, to) = (conn.addrs[side], conn.addrs[1 - side]);
                    stalls.push(format!("{from} > {to}: {}", stuck.join("; ")));
                }
            }
        }
        stalls
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Conn, ConnId, Notify, Op, SocketId};
    use super::*;
    use crate::ThreadId;
    use crate::net::Socket;
    use std::net::SocketAddrV4;
    use windows_sys::Win32::System::IO::OVERLAPPED;
    use wsasim_model::{Handle, Proto, Stream};

    /// A net with one connection whose first stream holds `bytes`, between two open sockets.
    fn net_with(bytes: &[u8]) -> Net {
        let mut net = Net::default();
        for i in 0..2 {
            net.sockets.push(Socket::new(Handle(0x100 + 4 * i), i as u32, Proto::Tcp, true));
        }
        let mut stream = Stream::new(1 << 16, 1 << 16);
        stream.accept(bytes);
        let addr = |s: &str| s.parse::<SocketAddrV4>().unwrap();
        net.conns.push(Conn {
            streams: [stream, Stream::new(1 << 16, 1 << 16)],
            ends: [EndState::Open(SocketId(0)), EndState::Open(SocketId(1))],
            addrs: [addr("192.0.2.1:1000"), addr("192.0.2.2:7")],
            hosts: [0, 1],
            last_arrival: [0, 0],
            giving_up: [false, false],
            keep_alive: Default::default(),
        });
        net
    }

    fn receive(overlapped: &mut OVERLAPPED) -> Op {
        let notify = Notify::Object(Handle(0x200));
        let buffers = vec![crate::net::Buffer { ptr: std::ptr::null_mut(), len: 16 }];
        Op {
            call: "WSARecv",
            thread: ThreadId(0),
            buffers,
            flags: 0,
            overlapped,
            notify,
            from: None,
            taken: 0,
            saved: None,
            in_use: false,
        }
    }

    #[test]
    fn bytes_that_can_move_are_no_stall_and_unsent_ones_are() {
        let mut net = net_with(b"hello");
        assert_eq!(net.stalls(), ["192.0.2.1:1000 > 192.0.2.2:7: 5 bytes unsent with the window open"]);
        let segment = net.conns[0].streams[0].transmit(5);
        net.wire.push(10, Packet::Segment { conn: ConnId(0), side: 0, segment });
        assert!(net.stalls().is_empty(), "{:?}", net.stalls());
        net.conns[0].streams[1].abort();
        net.wire = Default::default();
        assert!(net.stalls().is_empty(), "a reset connection owes nothing");
    }

    #[test]
    fn bytes_in_flight_with_no_packet_are_a_stall() {
        let mut net = net_with(b"hello");
        let _lost = net.conns[0].streams[0].transmit(5);
        assert_eq!(net.stalls(), ["192.0.2.1:1000 > 192.0.2.2:7: 5 bytes in flight, 0 on the wire"]);
    }

    #[test]
    fn a_receive_left_pending_beside_its_data_is_a_stall_unless_a_serve_is_due() {
        let mut net = net_with(b"hello");
        let segment = net.conns[0].streams[0].transmit(5);
        net.conns[0].streams[0].deliver(segment);
        let mut overlapped = OVERLAPPED::default();
        net.sockets[1].receives.push_back(receive(&mut overlapped));
        let line = "192.0.2.1:1000 > 192.0.2.2:7: 1 receives pending with data or the end of stream there";
        assert_eq!(net.stalls(), [line]);
        net.wire.push(10, Packet::Serve { socket: SocketId(1) });
        assert!(net.stalls().is_empty(), "Sim::pend_immediate serves it later");
    }

    #[test]
    fn a_send_left_pending_with_room_in_the_buffer_is_a_stall() {
        let mut net = net_with(b"");
        let mut overlapped = OVERLAPPED::default();
        net.sockets[0].sends.push_back(Op { call: "WSASend", ..receive(&mut overlapped) });
        assert_eq!(
            net.stalls(),
            ["192.0.2.1:1000 > 192.0.2.2:7: 1 sends pending with room in the send buffer"]
        );
    }
}
