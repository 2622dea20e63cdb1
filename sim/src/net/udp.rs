//! UDP: datagrams with their boundaries, sent at once and queued at the receiver.
//!
//! A datagram larger than the receive buffers is cut and the rest thrown away, completing
//! with `STATUS_BUFFER_OVERFLOW` (Wine afd.c test_recv; Wine sock.c test_icmp). One that no
//! socket takes (no host, no binding, a connected socket's other peer, a full queue) is
//! dropped, as a network drops it; every dropped byte is counted.
//!
//! A host answers a datagram to a port nothing has bound with an ICMP port unreachable,
//! which the sender's next receive reports as `WSAECONNRESET` (Doc: recvfrom, "a previous
//! send operation resulted in an ICMP Port Unreachable message"), one receive per message
//! (inferred; Windows counts them); its sends go on succeeding (Wine sock.c test_UDP).

use super::effects::NetCx;
use super::op::{gather, scatter, write_from};
use super::{Net, Notify, Op, Packet, Socket, SocketId, Start};
use crate::trace::Entry;
use std::net::SocketAddrV4;
use windows_sys::Win32::Networking::WinSock::{
    FD_CONNECT, FD_READ, FD_WRITE, MSG_PEEK, WSAEADDRNOTAVAIL, WSAECONNRESET, WSAEINVAL, WSAEMSGSIZE,
    WSAENOTCONN,
};
use wsasim_model::{Datagram, Proto, Status, Win32Error};

/// The largest UDP payload over IPv4: 65535 less the IP and UDP headers.
const DATAGRAM_MAX: usize = 65507;

impl Net {
    pub(super) fn udp_start_receive(&mut self, cx: &mut NetCx, s: SocketId, op: Op, may_pend: bool) -> Start {
        let socket = self.socket(s);
        if let Err(e) = socket.udp.may_receive() {
            return Start::Failed(e);
        }
        if socket.local.is_none() {
            // Doc: recvfrom: WSAEINVAL, "the socket has not been bound with bind".
            return Start::Failed(WSAEINVAL as Win32Error);
        }
        if socket.port_unreachable > 0 {
            // Before any datagram queued behind it (inferred: no source says).
            self.socket_mut(s).port_unreachable -= 1;
            return Start::Failed(WSAECONNRESET as Win32Error);
        }
        let overlapped = !matches!(op.notify, Notify::Waiter);
        if socket.receives.is_empty()
            && !socket.datagrams.is_empty()
            && !(overlapped && self.pend_at_random(cx, s))
        {
            op.begin(cx);
            let (status, bytes) = self.read_datagram(s, &op);
            self.received(cx, s);
            return self.done_at_once(cx, s, op, status, bytes);
        }
        self.pend_receive(cx, s, op, may_pend)
    }

    /// Takes the next datagram into `op`'s buffers, and writes its sender where asked.
    fn read_datagram(&mut self, s: SocketId, op: &Op) -> (Status, usize) {
        let peek = op.flags & MSG_PEEK as u32 != 0;
        let read = self.socket_mut(s).datagrams.read(op.capacity(), peek).expect("a datagram is queued");
        // SAFETY: the receive's buffers and address are the system's until it completes
        // (Doc: WSARecvFrom), which is now.
        unsafe {
            scatter(&op.buffers, &read.data);
            if let Some(from) = op.from {
                write_from(from, read.from);
            }
        }
        let status = if read.truncated { Status::BUFFER_OVERFLOW } else { Status::SUCCESS };
        (status, read.data.len())
    }

    /// Serves pending receives with queued datagrams; whether it served any.
    pub(super) fn udp_serve_receives(&mut self, cx: &mut NetCx, s: SocketId) -> bool {
        let handle = self.socket(s).handle;
        let mut served = false;
        while !self.socket(s).receives.is_empty() && !self.socket(s).datagrams.is_empty() {
            let mut op = self.socket_mut(s).receives.pop_front().expect("checked");
            op.receive_guard_ends(cx, handle);
            let (status, bytes) = self.read_datagram(s, &op);
            op.complete(cx, handle, status, bytes);
            served = true;
        }
        served
    }

    /// `connect` on a UDP socket sets its default peer, any port 0 included (Wine sock.c
    /// test_connect_events, "Test with UDP sockets": a connect to 127.0.0.1 port 0
    /// succeeds), or, given no address, clears it (Doc: connect: "If the address member of
    /// the structure specified by name is filled with zeros, the socket will be
    /// disconnected"; Wine sock.c test_connect_udp).
    pub(super) fn udp_connect(
        &mut self,
        cx: &mut NetCx,
        s: SocketId,
        to: SocketAddrV4,
    ) -> Result<(), Win32Error> {
        if to.ip().is_unspecified() {
            self.socket_mut(s).peer = None;
            return Ok(());
        }
        self.bind_implicitly(cx, s)?;
        self.socket_mut(s).peer = Some(to);
        // Windows records FD_CONNECT and FD_WRITE (Wine sock.c test_connect_events,
        // todo_wine).
        self.occur(cx, s, FD_CONNECT, 0);
        self.occur(cx, s, FD_WRITE, 0);
        Ok(())
    }

    /// A datagram goes out at once, to `to` or the connected peer; an unbound socket is
    /// bound first (Doc: sendto, "an implicit bind"). To port 0 it goes out like any other,
    /// and no socket takes it (Wine sock.c test_UDP, "Test sending to port 0").
    pub(super) fn udp_send(
        &mut self,
        cx: &mut NetCx,
        s: SocketId,
        op: Op,
        to: Option<SocketAddrV4>,
    ) -> Start {
        if let Err(e) = self.socket(s).udp.may_send() {
            return Start::Failed(e);
        }
        let Some(dst) = to.or(self.socket(s).peer) else {
            return Start::Failed(WSAENOTCONN as Win32Error);
        };
        if dst.ip().is_unspecified() {
            // Doc: sendto: "The remote address is not a valid address, for example, ADDR_ANY".
            return Start::Failed(WSAEADDRNOTAVAIL as Win32Error);
        }
        let total = op.capacity();
        if total > DATAGRAM_MAX {
            return Start::Failed(WSAEMSGSIZE as Win32Error);
        }
        if let Some(e) = self.injected(cx, op.call) {
            return Start::Failed(e);
        }
        if let Err(e) = self.bind_implicitly(cx, s) {
            return Start::Failed(e);
        }
        op.begin(cx);
        // SAFETY: the program's buffers, valid for the call (Doc: WSASendTo).
        let data = unsafe { gather(&op.buffers, 0, total) };
        let (host, local) = (self.socket(s).host, self.socket(s).local.expect("bound above"));
        let ip = if local.ip().is_unspecified() { self.source_ip(host, *dst.ip()) } else { *local.ip() };
        let from = SocketAddrV4::new(ip, local.port());
        self.udp_sent += total as u64;
        match self.route(host, *dst.ip()) {
            Some(h) => {
                self.send_packet(cx, host, h, 0, Packet::Datagram { host: h, from, to: dst, data });
            }
            None => self.udp_dropped += total as u64,
        }
        self.done_at_once(cx, s, op, Status::SUCCESS, total)
    }

    /// A datagram arrives at `host`.
    pub(super) fn udp_arrival(
        &mut self,
        cx: &mut NetCx,
        host: u32,
        from: SocketAddrV4,
        to: SocketAddrV4,
        data: Vec<u8>,
    ) {
        let len = data.len();
        let target = self.bindings.lookup(host, Proto::Udp, to);
        let taken = target.map(SocketId).filter(|s| {
            let socket = self.socket(*s);
            let queued = socket.datagrams.counts().queued as usize;
            !socket.closed
                && socket.peer.is_none_or(|p| p == from)
                && queued + len <= socket.options.receive_buffer
        });
        let entry = Entry::Packet {
            what: if taken.is_some() { "udp" } else { "udp dropped" },
            from,
            to,
            bytes: len as u64,
        };
        cx.record(entry);
        match taken {
            Some(s) => {
                self.socket_mut(s).datagrams.push(Datagram { from, data });
                self.udp_serve_receives(cx, s);
                if !self.socket(s).datagrams.is_empty() {
                    self.occur(cx, s, FD_READ, 0);
                }
            }
            None => self.udp_dropped += len as u64,
        }
        if target.is_none()
            && let Some(sender) = self.route(host, *from.ip())
        {
            self.send_packet(
                cx,
                host,
                sender,
                0,
                Packet::PortUnreachable { host: sender, from: to, to: from },
            );
        }
    }

    /// An ICMP port unreachable arrives for the socket bound to `to`: a pending receive
    /// completes with it, else the next receive reports it (with FD_READ, as select reports
    /// the socket readable: Microsoft KB 263823; FD_READ itself is inferred).
    pub(super) fn udp_port_unreachable(
        &mut self,
        cx: &mut NetCx,
        host: u32,
        from: SocketAddrV4,
        to: SocketAddrV4,
    ) {
        let entry = Entry::Packet { what: "port unreachable", from, to, bytes: 0 };
        cx.record(entry);
        let target = self.bindings.lookup(host, Proto::Udp, to);
        let reported = |s: &Socket| !s.closed && s.options.report_unreachable;
        let Some(s) = target.map(SocketId).filter(|s| reported(self.socket(*s))) else { return };
        if let Some(mut op) = self.socket_mut(s).receives.pop_front() {
            let handle = self.socket(s).handle;
            op.receive_guard_ends(cx, handle);
            op.complete(cx, handle, Status::PORT_UNREACHABLE, 0);
            return;
        }
        self.socket_mut(s).port_unreachable += 1;
        self.occur(cx, s, FD_READ, 0);
    }
}
