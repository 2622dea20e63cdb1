//! A host that crashes, and comes back: what the transport forgets, and what packets find.
//!
//! A crash is a machine that stops: it sends nothing more, not even a FIN or a reset, so
//! its peers find out only by a timeout of their own or, once it is up again, from the
//! reset its fresh TCP answers their next segment with (RFC 793, 3.4: a segment for a
//! connection that does not exist draws a reset). While it is down, packets to it are
//! lost: `Sim` makes its down time a partition between it and every other host, so TCP
//! retransmits into it as into any partition, and what was already on the wire when it
//! went down is dropped on arrival here.

use super::effects::NetCx;
use super::{EndState, Net, Packet};
use crate::trace::Entry;
use wsasim_model::{HostId, Proto};

impl Net {
    /// Host `host` goes down: its sockets are gone, their pending operations abandoned
    /// (the threads that issued them have ended with the host), their ports free; every
    /// connection end it held is forgotten, what it had not sent or read thrown away and
    /// counted, segments it was still to send again with them; `WSAStartup` must be
    /// called again.
    pub(crate) fn crash_host(&mut self, cx: &mut NetCx, host: HostId) {
        for s in self.open_sockets(host) {
            self.mark_closed(s);
            let socket = self.socket_mut(s);
            socket.events.select(None, 0);
            let handle = socket.handle;
            let ops = socket.take_ops(|_| true).into_iter().chain(std::mem::take(&mut socket.waiters));
            for op in ops.collect::<Vec<_>>() {
                op.abandon(cx, handle, wsasim_model::Status::CANCELLED);
            }
            let (proto, local, holds_port) = (socket.proto, socket.local, socket.holds_port);
            if let (true, Some(local)) = (holds_port, local) {
                self.bindings.unbind(host, proto, s.0, local.port());
            }
            if proto == Proto::Udp {
                self.socket_mut(s).datagrams.discard_all();
            }
            self.socket_mut(s).backlog.clear();
        }
        for conn in &mut self.conns {
            for side in 0..2 {
                if conn.hosts[side] == host && conn.ends[side] != EndState::Gone {
                    conn.ends[side] = EndState::Gone;
                    conn.streams[side].forget_unsent();
                    conn.streams[1 - side].forget_received();
                }
            }
        }
        // Retransmissions it had still to send never go, nor what waited behind them.
        let conns = &self.conns;
        let never_sent =
            self.wire.take_never_sent(cx.now_ns, |c, side| conns[c.0 as usize].hosts[side] == host);
        for (c, side, segment) in never_sent {
            let conn = self.conn_mut(c);
            let (from, to, bytes) = (conn.addrs[side], conn.addrs[1 - side], segment.data.len() as u64);
            conn.streams[side].never_sent(segment);
            cx.record(Entry::Packet { what: "never sent", from, to, bytes });
        }
        let h = &mut self.hosts[host as usize];
        (h.started, h.down) = (0, true);
    }

    /// Whether `host` crashed and is not up again.
    pub(crate) fn is_down(&self, host: HostId) -> bool {
        self.hosts[host as usize].down
    }

    /// Host `host` is up again, with nothing of its life before.
    pub(crate) fn restart_host(&mut self, host: HostId) {
        self.hosts[host as usize].down = false;
    }

    /// `packet`, unless it arrives at a host that is down: then it is dropped here, traced,
    /// and TCP's segments and SYNs sent again; a datagram's bytes are counted as dropped.
    pub(super) fn unless_host_down(&mut self, cx: &mut NetCx, packet: Packet) -> Option<Packet> {
        let (to, from_addr, to_addr, bytes) = match &packet {
            Packet::Syn { host, from, to, .. } => (*host, *from, *to, 0),
            Packet::Datagram { host, from, to, data } => (*host, *from, *to, data.len()),
            Packet::PortUnreachable { host, from, to } => (*host, *from, *to, 0),
            Packet::Refused { client, from, to } => (self.socket(*client).host, *to, *from, 0),
            Packet::SynAck { conn } => {
                let c = self.conn(*conn);
                (c.hosts[0], c.addrs[1], c.addrs[0], 0)
            }
            Packet::Segment { conn, side, segment } => {
                let c = self.conn(*conn);
                (c.hosts[1 - side], c.addrs[*side], c.addrs[1 - side], segment.data.len())
            }
            Packet::Rst { conn, side, .. } | Packet::Probe { conn, side, .. } => {
                let c = self.conn(*conn);
                (c.hosts[1 - side], c.addrs[*side], c.addrs[1 - side], 0)
            }
            // Not packets: what a host's own transport does.
            Packet::ConnectTimeout { .. }
            | Packet::GaveUp { .. }
            | Packet::KeepAlive { .. }
            | Packet::Serve { .. } => {
                return Some(packet);
            }
        };
        if !self.hosts[to as usize].down {
            return Some(packet);
        }
        cx.record(Entry::Packet {
            what: "down host drops",
            from: from_addr,
            to: to_addr,
            bytes: bytes as u64,
        });
        // What TCP retransmits goes again, lost as the host is still down, so a timeout
        // later (its count of retransmissions starts anew: an approximation). A reset, a
        // datagram or an ICMP message is gone.
        match packet {
            Packet::Datagram { data, .. } => self.udp_dropped += data.len() as u64,
            Packet::Segment { conn, side, segment } => {
                if !self.send_segment(cx, conn, side, segment) {
                    return None;
                }
            }
            Packet::Syn { client, from, to, host } => {
                let client_host = self.socket(client).host;
                let sent = self.send_packet(cx, client_host, host, 0, Packet::Syn { client, from, to, host });
                self.handshake_sent(client, sent);
            }
            // The answer to a client that is down: nobody waits for it.
            Packet::SynAck { .. }
            | Packet::Refused { .. }
            | Packet::Rst { .. }
            | Packet::PortUnreachable { .. } => {}
            // A probe is not sent again: the prober's timer sends the next.
            Packet::Probe { .. } => {}
            Packet::ConnectTimeout { .. }
            | Packet::GaveUp { .. }
            | Packet::KeepAlive { .. }
            | Packet::Serve { .. } => unreachable!("not a packet, handed on above"),
        }
        None
    }
}
