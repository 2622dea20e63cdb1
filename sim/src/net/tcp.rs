//! TCP: listen, connect, accept, the byte streams of a connection, close and reset.
//!
//! A connection's bytes move in [`wsasim_model::Stream`]s; this module decides when they
//! move: a send hands bytes over (all at once while less than `SO_SNDBUF` is buffered, as
//! Windows does: Wine sock.c test_send, test_write_events), [`World::pump`] cuts what the
//! receiver's window allows into segments of a size the strategy draws (so a receive may
//! complete with any part of what was sent: Doc: WSARecv), and each arrival serves the
//! receiver's pending receives in the order posted (Wine sock.c test_simultaneous_async_recv).

use super::effects::NetCx;
use super::faults::Retransmit;
use super::op::{for_each_part, gather, scatter, scatter_at};
use super::socket::End;
use super::{Conn, ConnId, EndState, Net, Notify, Op, Packet, Sent, SocketId, Start};
use crate::strategy::Choice;
use crate::trace::Entry;
use std::net::SocketAddrV4;
use windows_sys::Win32::Foundation::STATUS_IO_TIMEOUT;
use windows_sys::Win32::Networking::WinSock::{
    FD_ACCEPT, FD_CLOSE, FD_CONNECT, FD_OOB, FD_READ, FD_WRITE, MSG_OOB, MSG_PEEK, SD_BOTH, SD_SEND,
    WSAEADDRNOTAVAIL, WSAECONNABORTED, WSAECONNREFUSED, WSAEINVAL, WSAETIMEDOUT, WSAEWOULDBLOCK,
};
use wsasim_model::{Proto, Segment, Status, Stream, Tcp, Win32Error};

/// The largest segment: Ethernet's MSS, on every link (loopback too).
const MSS: usize = 1460;

/// Windows clamps a listen backlog to 200 (Doc: listen, SOMAXCONN).
const BACKLOG_MAX: usize = 200;

impl Net {
    /// `listen` (Doc: listen).
    pub fn listen(&mut self, s: SocketId, backlog: i32) -> Result<(), Win32Error> {
        let socket = self.socket_mut(s);
        if socket.proto != Proto::Tcp {
            return Err(windows_sys::Win32::Networking::WinSock::WSAEOPNOTSUPP as Win32Error);
        }
        let bound = socket.local.is_some();
        socket.tcp.listen(bound)?;
        socket.backlog_max = usize::try_from(backlog).unwrap_or(0).clamp(1, BACKLOG_MAX);
        Ok(())
    }

    /// `connect`: `Ok(true)` when it is done (UDP), `Ok(false)` when the handshake is under
    /// way; the socket's state then says how it ended.
    pub fn connect(
        &mut self,
        cx: &mut NetCx,
        s: SocketId,
        to: SocketAddrV4,
        call: &'static str,
    ) -> Result<bool, Win32Error> {
        if self.socket(s).proto == Proto::Udp {
            self.udp_connect(cx, s, to)?;
            return Ok(true);
        }
        if to.ip().is_unspecified() || to.port() == 0 {
            // Doc: connect: "The remote address is not a valid address (such as ADDR_ANY)";
            // a zero port is taken to be as invalid for a connection [inferred: untested].
            return Err(WSAEADDRNOTAVAIL as Win32Error);
        }
        let mut tcp = self.socket(s).tcp;
        tcp.connect()?;
        if let Some(e) = self.injected(cx, call) {
            return Err(e);
        }
        self.bind_implicitly(cx, s)?;
        let socket = self.socket_mut(s);
        socket.tcp = tcp;
        socket.peer = Some(to);
        socket.error = 0;
        let (host, local) = (socket.host, socket.local.expect("bound above"));
        let ip = if local.ip().is_unspecified() { self.source_ip(host, *to.ip()) } else { *local.ip() };
        let from = SocketAddrV4::new(ip, local.port());
        match self.route(host, *to.ip()) {
            Some(dst) => {
                let sent = self.send_packet(cx, host, dst, 0, Packet::Syn { client: s, from, to, host: dst });
                self.handshake_sent(s, sent);
            }
            None => {
                let at = cx.now_ns + Retransmit::SYN.gives_up_after_ns();
                self.wire.push(at, Packet::ConnectTimeout { client: s });
            }
        }
        Ok(false)
    }

    /// A packet of `client`'s handshake went out: when every retransmission of it is lost,
    /// the connect gives up (Doc: connect, WSAETIMEDOUT).
    pub(super) fn handshake_sent(&mut self, client: SocketId, sent: Sent) {
        if let Sent::GivesUp(at, _) = sent {
            self.wire.push(at, Packet::ConnectTimeout { client });
        }
    }

    /// Whether `accept` on `s` would take a connection now: an error for a socket that is
    /// not a listener (or no longer open), `false` while its backlog is empty.
    pub(crate) fn may_accept(&self, s: SocketId) -> Result<bool, Win32Error> {
        let listener = self.socket(s);
        if listener.closed {
            // Another thread closed it while this call waited (Doc: closesocket).
            return Err(windows_sys::Win32::Networking::WinSock::WSAEINTR as Win32Error);
        }
        if listener.tcp != Tcp::Listening {
            // Doc: accept: "The listen function was not invoked prior to accept".
            return Err(WSAEINVAL as Win32Error);
        }
        Ok(!listener.backlog.is_empty())
    }

    /// `accept` of the listener's next connection, `may_accept` having said there is one:
    /// the new socket `new` takes it, with the listener's options.
    pub(crate) fn accept(&mut self, cx: &mut NetCx, s: SocketId, new: SocketId) {
        let listener = self.socket(s);
        let (options, events) = (listener.options, listener.events.inherited());
        let c = self.socket_mut(s).backlog.pop_front().expect("may_accept saw one");
        let more = !self.socket(s).backlog.is_empty();
        self.reenable(cx, s, FD_ACCEPT, more);
        let conn = self.conn_mut(c);
        conn.ends[1] = EndState::Open(new);
        // The reset, on its way or arrived, follows any end of stream sent before it.
        let (addrs, was_reset, after_fin) = (conn.addrs, conn.reset(), conn.streams[0].fin_sent());
        let socket = self.socket_mut(new);
        socket.options = options;
        socket.events = events;
        socket.tcp = if was_reset { Tcp::Reset { after_fin } } else { Tcp::accepted() };
        socket.local = Some(addrs[1]);
        socket.peer = Some(addrs[0]);
        socket.end = Some(End { conn: c, side: 1 });
        self.accepted_events(cx, new, c, was_reset);
        self.arm_keep_alive(cx, c, 1);
    }

    /// What an accepted socket's record starts with (Wine sock.c test_accept_events; Wine
    /// afd.c test_event_select: FD_WRITE only, never FD_CONNECT), and what already arrived
    /// on its connection while it waited in the backlog.
    fn accepted_events(&mut self, cx: &mut NetCx, s: SocketId, c: ConnId, was_reset: bool) {
        let incoming = &self.conn(c).streams[0];
        let (data, urgent, fin) =
            (incoming.readable() > 0, incoming.urgent_pending(), incoming.fin_arrived());
        if was_reset {
            self.occur(cx, s, FD_CLOSE, WSAECONNABORTED as Win32Error);
            return;
        }
        self.occur(cx, s, FD_WRITE, 0);
        if data {
            self.occur(cx, s, FD_READ, 0);
        }
        if urgent {
            self.occur(cx, s, FD_OOB, 0);
        }
        if fin {
            self.occur(cx, s, FD_CLOSE, 0);
        }
    }

    /// `shutdown` (Doc: shutdown; Wine sock.c test_shutdown): `SD_SEND` sends the end of
    /// stream after the data already sent.
    pub fn shutdown(&mut self, cx: &mut NetCx, s: SocketId, how: i32) -> Result<(), Win32Error> {
        let socket = self.socket_mut(s);
        if socket.proto == Proto::Udp {
            return socket.udp.shutdown(how);
        }
        socket.tcp.shutdown(how)?;
        if let (SD_SEND | SD_BOTH, Some(end)) = (how, socket.end) {
            socket.finish_after_sends = true;
            self.serve_sends(cx, end.conn, end.side);
        }
        Ok(())
    }

    /// Copies `SO_SNDBUF`, `SO_RCVBUF` and `SO_OOBINLINE` to a connected socket's
    /// streams, and starts its keep-alive timer when it asks for one.
    pub fn apply_options(&mut self, cx: &mut NetCx, s: SocketId) {
        let socket = self.socket(s);
        let (options, Some(end)) = (socket.options, socket.end) else { return };
        let conn = self.conn_mut(end.conn);
        conn.streams[end.side].set_send_buffer(options.send_buffer);
        conn.streams[1 - end.side].set_receive_buffer(options.receive_buffer);
        conn.streams[1 - end.side].set_oob_inline(options.oob_inline);
        self.arm_keep_alive(cx, end.conn, end.side);
        self.serve_sends(cx, end.conn, end.side);
        // A larger receive buffer opens the peer's window: its pending sends go on.
        self.serve_sends(cx, end.conn, 1 - end.side);
    }

    /// A receive on a TCP socket: at once if bytes or the end of stream are there and no
    /// receive is ahead of it; otherwise it pends (`may_pend`) or would block.
    pub(super) fn tcp_start_receive(&mut self, cx: &mut NetCx, s: SocketId, op: Op, may_pend: bool) -> Start {
        let socket = self.socket(s);
        if let Err(e) = socket.tcp.may_receive() {
            return Start::Failed(e);
        }
        let end = socket.end.expect("a connected socket has a connection");
        if op.flags & MSG_OOB as u32 != 0 {
            return self.read_urgent(cx, s, end, op);
        }
        let overlapped = !matches!(op.notify, Notify::Waiter);
        if socket.receives.is_empty()
            && self.receive_ready(end)
            && !(overlapped && self.pend_at_random(cx, s))
        {
            op.begin(cx);
            let (status, bytes) = self.read_into(end, &op);
            self.after_read(cx, end);
            self.received(cx, s);
            return self.done_at_once(cx, s, op, status, bytes);
        }
        self.pend_receive(cx, s, op, may_pend)
    }

    /// A send on a TCP socket: taken whole at once while less than `SO_SNDBUF` is buffered
    /// and no send is ahead of it; otherwise it pends, and hands its bytes over as buffer
    /// space comes back, completing with the full count (Wine sock.c test_send), or would
    /// block (Wine sock.c test_write_events).
    pub(super) fn tcp_start_send(
        &mut self,
        cx: &mut NetCx,
        s: SocketId,
        mut op: Op,
        may_pend: bool,
    ) -> Start {
        if let Err(e) = self.socket(s).tcp.may_send() {
            return Start::Failed(e);
        }
        if let Some(e) = self.injected(cx, op.call) {
            return Start::Failed(e);
        }
        let socket = self.socket(s);
        let end = socket.end.expect("a connected socket has a connection");
        let room = self.conn(end.conn).streams[end.side].buffered() < socket.options.send_buffer;
        let overlapped = !matches!(op.notify, Notify::Waiter);
        let at_once = socket.sends.is_empty() && room;
        if at_once && overlapped && self.pend_at_random(cx, s) {
            // Served by the `Serve` event, not in the call.
            op.begin(cx);
            op.guard_while_pending(cx, false);
            self.socket_mut(s).sends.push_back(op);
            return Start::Pending;
        }
        if at_once {
            op.begin(cx);
            let total = op.capacity();
            let stream = &mut self.conn_mut(end.conn).streams[end.side];
            let take = |part: &[u8]| assert!(stream.accept_all(part), "a stream that may send takes bytes");
            // SAFETY: the program's buffers, valid for the call (Doc: WSASend).
            unsafe { for_each_part(&op.buffers, 0, total, take) };
            if op.flags & MSG_OOB as u32 != 0 && total > 0 {
                stream.mark_urgent();
            }
            op.taken = total;
            self.pump(cx, end.conn, end.side);
            return self.done_at_once(cx, s, op, Status::SUCCESS, total);
        }
        if !may_pend {
            self.socket_mut(s).events.send_blocked();
            return Start::Failed(WSAEWOULDBLOCK as Win32Error);
        }
        op.begin(cx);
        op.guard_while_pending(cx, false);
        self.socket_mut(s).sends.push_back(op);
        self.serve_sends(cx, end.conn, end.side);
        Start::Pending
    }

    /// `recv(MSG_OOB)`: the oldest urgent byte set aside, at once. With
    /// `SO_OOBINLINE` it is `WSAEINVAL` (Wine sock.c test_select); with none waiting,
    /// `WSAEWOULDBLOCK`, whatever the mode (a README deviation: it does not wait).
    fn read_urgent(&mut self, cx: &mut NetCx, s: SocketId, end: End, op: Op) -> Start {
        if self.socket(s).options.oob_inline {
            return Start::Failed(WSAEINVAL as Win32Error);
        }
        let stream = &mut self.conn_mut(end.conn).streams[1 - end.side];
        if !stream.urgent_pending() {
            return Start::Failed(WSAEWOULDBLOCK as Win32Error);
        }
        op.begin(cx);
        if op.capacity() == 0 {
            // As for a zero-length receive (Wine sock.c test_empty_recv): nothing is consumed.
            return self.done_at_once(cx, s, op, Status::SUCCESS, 0);
        }
        let peek = op.flags & MSG_PEEK as u32 != 0;
        let stream = &mut self.conn_mut(end.conn).streams[1 - end.side];
        let byte = stream.read_urgent(peek).expect("checked");
        let more = stream.urgent_pending();
        // Wine sock.c test_oob_events: FD_OOB again while another urgent byte waits.
        self.reenable(cx, s, FD_OOB, more);
        // SAFETY: the receive's buffers, valid for the call.
        unsafe { scatter(&op.buffers, &[byte]) };
        self.done_at_once(cx, s, op, Status::SUCCESS, 1)
    }

    fn receive_ready(&self, end: End) -> bool {
        let stream = &self.conn(end.conn).streams[1 - end.side];
        stream.readable() > 0 || stream.at_end()
    }

    /// Reads what `op` can take. A receive with no room completes without consuming
    /// anything (Wine sock.c test_empty_recv); at the end of stream, with 0 bytes (Doc:
    /// WSARecv; Wine sock.c test_shutdown).
    fn read_into(&mut self, end: End, op: &Op) -> (Status, usize) {
        let capacity = op.capacity();
        if capacity == 0 {
            return (Status::SUCCESS, 0);
        }
        let peek = op.flags & MSG_PEEK as u32 != 0;
        let mut at = 0;
        let stream = &mut self.conn_mut(end.conn).streams[1 - end.side];
        let read = stream.read_with(capacity, peek, |part| {
            // SAFETY: the receive's buffers stay the system's until it completes (Doc:
            // WSARecv, Doc: WSASend), which is now.
            unsafe { scatter_at(&op.buffers, at, part) };
            at += part.len();
        });
        (Status::SUCCESS, read)
    }

    /// After a read, the receiver's window has opened: the sender may go on.
    fn after_read(&mut self, cx: &mut NetCx, end: End) {
        self.serve_sends(cx, end.conn, 1 - end.side);
    }

    /// Serves a socket's pending receives in the order posted, while there is something
    /// for them; whether it served any.
    pub(super) fn serve_receives(&mut self, cx: &mut NetCx, s: SocketId) -> bool {
        let Some(end) = self.socket(s).end else { return false };
        let handle = self.socket(s).handle;
        let mut served = false;
        while !self.socket(s).receives.is_empty() && self.receive_ready(end) {
            let mut op = self.socket_mut(s).receives.pop_front().expect("checked");
            op.receive_guard_ends(cx, handle);
            let (status, bytes) = self.read_into(end, &op);
            op.complete(cx, handle, status, bytes);
            served = true;
        }
        if served {
            self.after_read(cx, end);
        }
        served
    }

    /// Hands the bytes of side `side`'s pending sends to its stream as space allows (a
    /// send whose bytes are all taken completes), then transmits what the window allows.
    /// A closed socket has no sends left, but its connection still transmits: a graceful
    /// close delivers every byte already taken, then the end of stream (Wine sock.c
    /// test_send_buffering).
    pub(super) fn serve_sends(&mut self, cx: &mut NetCx, c: ConnId, side: usize) {
        let EndState::Open(s) = self.conn(c).ends[side] else {
            if !self.planted_stall {
                self.pump(cx, c, side);
            }
            return;
        };
        let handle = self.socket(s).handle;
        let mut touched = None;
        while let Some(op) = self.sockets[s.0 as usize].sends.front_mut() {
            let stream = &mut self.conns[c.0 as usize].streams[side];
            let remaining = op.capacity() - op.taken;
            let n = remaining.min(stream.send_space());
            if n > 0 {
                // SAFETY: a pending send's buffers are the system's until it completes
                // (Doc: WSASend, `lpBuffers`); its bytes are taken from them now, as Windows
                // takes them.
                let data = unsafe { gather(&op.buffers, op.taken, n) };
                if op.send_touched(&data) {
                    touched = Some((op.thread, op.call));
                }
                assert_eq!(stream.accept(&data), n, "the stream takes what it has room for");
                op.taken += n;
                if op.taken < op.capacity() {
                    // SAFETY: as above.
                    unsafe { op.guard_on() };
                }
                if op.taken == op.capacity() && op.flags & MSG_OOB as u32 != 0 {
                    stream.mark_urgent();
                }
            }
            if op.taken < op.capacity() {
                break;
            }
            let op = self.socket_mut(s).sends.pop_front().expect("checked");
            let taken = op.taken;
            op.complete(cx, handle, Status::SUCCESS, taken);
        }
        if let Some((thread, call)) = touched {
            let object = format!("the buffers of a {call} pending on socket {handle}");
            cx.misuse(thread, crate::Misuse::SendBufferTouched, call, object);
        }
        let socket = self.socket_mut(s);
        if socket.finish_after_sends && socket.sends.is_empty() {
            // The end of stream goes after every byte already sent (Wine sock.c
            // test_write_events, test_send_buffering).
            socket.finish_after_sends = false;
            self.conn_mut(c).streams[side].finish();
        }
        self.pump(cx, c, side);
        if self.conn(c).streams[side].buffered() < self.socket(s).options.send_buffer {
            self.send_room(cx, s);
        }
    }

    /// Puts on the wire what side `side`'s stream may send now, in segments. Nothing
    /// goes out from an end whose host forgot the connection, or behind a segment that
    /// will never get through.
    fn pump(&mut self, cx: &mut NetCx, c: ConnId, side: usize) {
        if self.conn(c).ends[side] == EndState::Gone || self.conn(c).giving_up[side] {
            return;
        }
        loop {
            let stream = &self.conn(c).streams[side];
            if !stream.can_transmit() {
                return;
            }
            let window = stream.window();
            let len = self.segment_len(cx, window);
            let segment = self.conn_mut(c).streams[side].transmit(len);
            if !self.send_segment(cx, c, side, segment) {
                return;
            }
        }
    }

    /// Puts a segment of side `side` on the wire; `false` if its retransmissions will run
    /// out, and the side gives up on the connection.
    pub(super) fn send_segment(&mut self, cx: &mut NetCx, c: ConnId, side: usize, segment: Segment) -> bool {
        let conn = self.conn(c);
        let (from, to, after) = (conn.hosts[side], conn.hosts[1 - side], conn.last_arrival[side]);
        match self.send_packet(cx, from, to, after, Packet::Segment { conn: c, side, segment }) {
            Sent::At(at) => {
                self.conn_mut(c).last_arrival[side] = at;
                true
            }
            Sent::GivesUp(at, Packet::Segment { segment, .. }) => {
                self.conn_mut(c).giving_up[side] = true;
                self.wire.push(at, Packet::GaveUp { conn: c, side, segment });
                false
            }
            sent => unreachable!("a segment is retransmitted: {sent:?}"),
        }
    }

    /// How much of a window of `window` bytes the next segment carries: all of it up to
    /// the MSS, or, one time in `cut_odds`, a random part, so receives see every split.
    fn segment_len(&mut self, cx: &mut NetCx, window: usize) -> usize {
        let max = window.min(MSS);
        let odds = self.cut_odds;
        if max > 1 && odds > 0 && cx.pick(Choice::Cut, odds) == 0 {
            1 + cx.pick(Choice::CutAt, max - 1)
        } else {
            max
        }
    }

    /// `closesocket` of a TCP socket, after its operations were completed.
    pub(super) fn tcp_close(&mut self, cx: &mut NetCx, s: SocketId) {
        let socket = self.socket(s);
        match (socket.tcp, socket.end) {
            (Tcp::Listening, _) => {
                // Connections never accepted are reset.
                for c in std::mem::take(&mut self.socket_mut(s).backlog) {
                    self.conn_mut(c).ends[1] = EndState::Closed;
                    self.abort(cx, c, 1, false);
                }
            }
            // Given up on: nothing is left to close.
            (_, Some(end)) if self.conn(end.conn).ends[end.side] == EndState::Gone => {}
            (_, Some(end)) => {
                let abortive = socket.options.linger == Some(0)
                    || self.conn(end.conn).streams[1 - end.side].readable() > 0;
                self.conn_mut(end.conn).ends[end.side] = EndState::Closed;
                match (self.conn(end.conn).reset(), abortive) {
                    // A reset connection has nothing left to close.
                    (true, _) => {}
                    // SO_LINGER {1, 0} (Doc: closesocket), or unread data, which TCP
                    // answers with a reset (RFC 1122, 4.2.2.13).
                    (false, true) => self.abort(cx, end.conn, end.side, false),
                    // Bytes already taken are still delivered, then the end of stream (Wine
                    // sock.c test_write_events, test_send_buffering).
                    (false, false) => {
                        self.conn_mut(end.conn).streams[end.side].finish();
                        self.pump(cx, end.conn, end.side);
                    }
                }
            }
            // A connect under way: its answer finds the socket closed.
            _ => {}
        }
    }

    /// Side `side` resets the connection: it drops what it received, sends nothing more,
    /// and a reset goes to the other side, which keeps what it has until the reset
    /// arrives. A reset that `answers` a packet of the other side's goes again with each
    /// of its retransmissions, until one gets through or they run out.
    pub(super) fn abort(&mut self, cx: &mut NetCx, c: ConnId, side: usize, answers: bool) {
        let conn = self.conn_mut(c);
        conn.ends[side] = EndState::Gone;
        conn.streams[1 - side].abort();
        let conn = self.conn(c);
        let (from, to, after) = (conn.hosts[side], conn.hosts[1 - side], conn.last_arrival[side]);
        match self.send_packet(cx, from, to, after, Packet::Rst { conn: c, side, answers }) {
            Sent::At(at) => self.conn_mut(c).last_arrival[side] = at,
            Sent::Lost => {}
            Sent::GivesUp(at, _) => {
                let nothing = Segment { data: Vec::new(), fin: false };
                self.wire.push(at, Packet::GaveUp { conn: c, side: 1 - side, segment: nothing });
            }
        }
    }

    /// A connection request arrives: a listener with room in its backlog takes it and
    /// answers; anything else refuses it (Doc: connect, WSAECONNREFUSED).
    pub(super) fn tcp_syn(
        &mut self,
        cx: &mut NetCx,
        client: SocketId,
        from: SocketAddrV4,
        to: SocketAddrV4,
        host: u32,
    ) {
        trace_packet(cx, "syn", from, to, 0);
        let listener = self.bindings.lookup(host, Proto::Tcp, to);
        let listener = listener.map(SocketId).filter(|l| {
            let l = self.socket(*l);
            l.tcp == Tcp::Listening && !l.closed && l.backlog.len() < l.backlog_max
        });
        let client_host = self.socket(client).host;
        let Some(l) = listener else {
            let sent = self.send_packet(cx, host, client_host, 0, Packet::Refused { client, from, to });
            self.handshake_sent(client, sent);
            return;
        };
        let (lopt, copt) = (self.socket(l).options, self.socket(client).options);
        let c = ConnId(self.conns.len() as u32);
        let mut streams = [
            Stream::new(copt.send_buffer, lopt.receive_buffer.max(1)),
            Stream::new(lopt.send_buffer, copt.receive_buffer.max(1)),
        ];
        streams[0].set_oob_inline(lopt.oob_inline);
        streams[1].set_oob_inline(copt.oob_inline);
        self.conns.push(Conn {
            streams,
            ends: [EndState::Open(client), EndState::Unaccepted],
            addrs: [from, to],
            hosts: [client_host, host],
            last_arrival: [0, 0],
            giving_up: [false, false],
            keep_alive: Default::default(),
        });
        let sent = self.send_packet(cx, host, client_host, 0, Packet::SynAck { conn: c });
        let Sent::At(at) = sent else {
            // The handshake never completes: neither end holds the connection (Windows
            // queues a connection for accept once the handshake is done).
            self.conn_mut(c).ends = [EndState::Gone, EndState::Gone];
            return self.handshake_sent(client, sent);
        };
        self.conn_mut(c).last_arrival[1] = at;
        self.socket_mut(l).backlog.push_back(c);
        self.wake_state_waiters(cx, l, Status::SUCCESS);
        self.occur(cx, l, FD_ACCEPT, 0);
    }

    /// The listener's answer: the client's connect is done, unless the client closed
    /// meanwhile, or its host forgot the connection (it crashed), either of which resets
    /// the connection (RFC 793, 3.4).
    pub(super) fn tcp_syn_ack(&mut self, cx: &mut NetCx, c: ConnId) {
        let (addrs, end) = (self.conn(c).addrs, self.conn(c).ends[0]);
        trace_packet(cx, "syn-ack", addrs[1], addrs[0], 0);
        let client = match end {
            EndState::Open(client) if !self.socket(client).closed => client,
            EndState::Open(_) => {
                self.conn_mut(c).ends[0] = EndState::Closed;
                return self.abort(cx, c, 0, true);
            }
            EndState::Gone => return self.abort(cx, c, 0, true),
            EndState::Closed | EndState::Unaccepted => {
                unreachable!("a client's end before its SYN-ACK: {end:?}")
            }
        };
        let socket = self.socket_mut(client);
        socket.tcp.established();
        socket.end = Some(End { conn: c, side: 0 });
        self.wake_state_waiters(cx, client, Status::SUCCESS);
        // FD_CONNECT and FD_WRITE together (Wine sock.c test_connect_events).
        self.occur(cx, client, FD_CONNECT, 0);
        self.occur(cx, client, FD_WRITE, 0);
        self.arm_keep_alive(cx, c, 0);
        self.serve(cx, client);
    }

    /// The connect was refused (Wine sock.c test_errors, test_connect): `SO_ERROR` says so,
    /// and the socket may connect again.
    pub(super) fn tcp_refused(
        &mut self,
        cx: &mut NetCx,
        client: SocketId,
        from: SocketAddrV4,
        to: SocketAddrV4,
    ) {
        trace_packet(cx, "refused", to, from, 0);
        self.connect_failed(cx, client, WSAECONNREFUSED as Win32Error, Status::CONNECTION_REFUSED);
    }

    pub(super) fn tcp_connect_timeout(&mut self, cx: &mut NetCx, client: SocketId) {
        self.connect_failed(cx, client, WSAETIMEDOUT as Win32Error, Status(STATUS_IO_TIMEOUT));
    }

    fn connect_failed(&mut self, cx: &mut NetCx, client: SocketId, error: Win32Error, status: Status) {
        let socket = self.socket_mut(client);
        if socket.closed || socket.tcp != Tcp::Connecting {
            return;
        }
        socket.tcp.refused();
        socket.error = error;
        self.wake_state_waiters(cx, client, status);
        // FD_CONNECT alone, with the error (Wine afd.c test_get_events).
        self.occur(cx, client, FD_CONNECT, error);
    }

    /// A segment arrives: its bytes join the receiver's queue and serve its pending
    /// receives; the sender's buffer has room again. Bytes for a closed socket are
    /// answered with a reset.
    pub(super) fn tcp_segment(&mut self, cx: &mut NetCx, c: ConnId, side: usize, segment: Segment) {
        let conn = self.conn(c);
        let what = match (segment.data.is_empty(), segment.fin) {
            (true, _) => "fin",
            (false, true) => "data+fin",
            (false, false) => "data",
        };
        trace_packet(cx, what, conn.addrs[side], conn.addrs[1 - side], segment.data.len());
        let (bytes, fin) = (segment.data.len(), segment.fin);
        // The receiver hears its peer, and the sender its acknowledgement.
        self.heard(cx, c, 0);
        self.heard(cx, c, 1);
        let urgent = self.conn_mut(c).streams[side].deliver(segment);
        match self.conn(c).ends[1 - side] {
            EndState::Open(s) => {
                self.serve_receives(cx, s);
                // Bytes a pending receive took record nothing (Wine sock.c test_read_events);
                // urgent bytes set aside are FD_OOB, not FD_READ (Doc: WSAEventSelect).
                if bytes > urgent && self.conn(c).streams[side].readable() > 0 {
                    self.occur(cx, s, FD_READ, 0);
                }
                if urgent > 0 {
                    self.occur(cx, s, FD_OOB, 0);
                }
                // FD_CLOSE as the FIN arrives, even before the data is read (Wine
                // sock.c test_close_events, todo_wine).
                if fin {
                    self.occur(cx, s, FD_CLOSE, 0);
                }
            }
            // Unread data at close (RFC 1122, 4.2.2.13), or any segment (a FIN too) for a
            // connection the host forgot (RFC 793, 3.4), answered with a reset, once.
            end @ (EndState::Closed | EndState::Gone)
                if (bytes > 0 || end == EndState::Gone) && !self.conn(c).streams[side].is_reset() =>
            {
                self.abort(cx, c, 1 - side, true)
            }
            _ => {}
        }
        self.serve_sends(cx, c, side);
    }

    /// Side `side` gives up on `segment`, every retransmission of which was lost: its host
    /// forgets the connection without a word to the peer (RFC 1122, 4.2.3.5, R2), and its
    /// socket's pending and later operations fail with `Tcp::DROPPED_ERROR`. The peer
    /// finds out when a segment of its own reaches this host, which answers with a reset,
    /// or when its own retransmissions run out.
    pub(super) fn tcp_gave_up(&mut self, cx: &mut NetCx, c: ConnId, side: usize, segment: Segment) {
        let conn = self.conn_mut(c);
        let bytes = segment.data.len();
        conn.streams[side].lose(segment);
        trace_packet(cx, "gave up", conn.addrs[side], conn.addrs[1 - side], bytes);
        self.drop_end(cx, c, side, Status::CONNECTION_ABORTED, false);
    }

    /// Side `side`'s host drops the connection, its own stream already ended: what it
    /// received and had not read is thrown away, its socket's pending operations complete
    /// with `status` and its later calls fail as `Tcp::Dropped` says, with FD_CLOSE
    /// carrying `WSAECONNABORTED` (Doc: WSAEventSelect, "terminated due to a time-out or
    /// other failure"). The peer, its window open again, goes on sending, to meet a reset.
    pub(super) fn drop_end(
        &mut self,
        cx: &mut NetCx,
        c: ConnId,
        side: usize,
        status: Status,
        keep_alive: bool,
    ) {
        let conn = self.conn_mut(c);
        conn.streams[1 - side].forget_received();
        let end = std::mem::replace(&mut conn.ends[side], EndState::Gone);
        if let EndState::Open(s) = end {
            let socket = self.socket_mut(s);
            socket.tcp.drop_connection(keep_alive);
            let handle = socket.handle;
            let ops: Vec<Op> = socket.receives.drain(..).chain(socket.sends.drain(..)).collect();
            for op in ops {
                op.complete(cx, handle, status, 0);
            }
            self.occur(cx, s, FD_CLOSE, WSAECONNABORTED as Win32Error);
        }
        self.serve_sends(cx, c, 1 - side);
    }

    /// A reset arrives (Wine sock.c test_tcp_reset): the receiver's pending operations fail
    /// with `STATUS_CONNECTION_RESET`, and its later calls at once with `WSAECONNRESET`; or,
    /// when the peer's end of stream came first, with `STATUS_CONNECTION_ABORTED` and
    /// `WSAECONNABORTED` (Wine sock.c test_shutdown; see `Tcp::Reset`).
    pub(super) fn tcp_rst(&mut self, cx: &mut NetCx, c: ConnId, side: usize) {
        let conn = self.conn_mut(c);
        let after_fin = conn.streams[side].fin_arrived();
        conn.streams.iter_mut().for_each(Stream::abort);
        let (from, to, end) = (conn.addrs[side], conn.addrs[1 - side], conn.ends[1 - side]);
        trace_packet(cx, "rst", from, to, 0);
        let EndState::Open(s) = end else { return };
        let socket = self.socket_mut(s);
        socket.tcp.reset(after_fin);
        let handle = socket.handle;
        let ops: Vec<Op> = socket.receives.drain(..).chain(socket.sends.drain(..)).collect();
        // After the FIN, pending operations (sends: receives completed at the FIN) end as
        // aborted, as later calls fail [inferred: no test has one pending then].
        let status = if after_fin { Status::CONNECTION_ABORTED } else { Status::CONNECTION_RESET };
        for op in ops {
            op.complete(cx, handle, status, 0);
        }
        // WSAECONNABORTED, not the documented WSAECONNRESET (Wine sock.c
        // test_close_events, "Trigger RST").
        self.occur(cx, s, FD_CLOSE, WSAECONNABORTED as Win32Error);
    }

    /// A completion in the call that started the operation: an overlapped one still
    /// notifies (Doc: WSARecv; Wine sock.c test_completion_port); a blocking or nonblocking
    /// call just returns.
    pub(super) fn done_at_once(
        &mut self,
        cx: &mut NetCx,
        s: SocketId,
        op: Op,
        status: Status,
        bytes: usize,
    ) -> Start {
        if matches!(op.notify, Notify::Waiter) {
            // SAFETY: the call's OVERLAPPED (its own, or the program's, which is filled: Wine
            // sock.c test_nonblocking_async_recv).
            unsafe { super::overlapped::end(op.overlapped, status, bytes, None) };
        } else {
            let handle = self.socket(s).handle;
            op.complete(cx, handle, status, bytes);
        }
        Start::Done { status, bytes }
    }
}

fn trace_packet(cx: &mut NetCx, what: &'static str, from: SocketAddrV4, to: SocketAddrV4, bytes: usize) {
    cx.record(Entry::Packet { what, from, to, bytes: bytes as u64 });
}

#[cfg(test)]
mod tests {
    //! TCP under faults, step by step, with no thread: a network, its context and a
    //! connection between two hosts.

    use super::super::faults::{Chance, LinkFaults};
    use super::super::op::InUse;
    use super::super::{Conn, ConnId, EndState, Net, Socket, SocketId};
    use super::*;
    use crate::strategy::{Oracle, Strategy};
    use crate::trace::{Trace, TraceKept};
    use std::collections::VecDeque;
    use wsasim_model::Handle;

    /// A network with one connection between sockets 0 (host 0) and 1 (host 1), its
    /// links making `faults`, side 0 with `bytes` to send.
    fn connected(faults: LinkFaults, bytes: &[u8]) -> Net {
        let mut net = Net::default();
        for (i, ip) in ["192.0.2.1", "192.0.2.2"].into_iter().enumerate() {
            net.add_host(ip.parse().unwrap());
            let mut socket = Socket::new(Handle(0x100 + 4 * i), i as u32, Proto::Tcp, true);
            (socket.tcp, socket.end) = (Tcp::accepted(), Some(End { conn: ConnId(0), side: i }));
            net.add_socket(socket);
        }
        let mut stream = Stream::new(1 << 16, 1 << 16);
        stream.accept(bytes);
        net.conns.push(Conn {
            streams: [stream, Stream::new(1 << 16, 1 << 16)],
            ends: [EndState::Open(SocketId(0)), EndState::Open(SocketId(1))],
            addrs: ["192.0.2.1:1000".parse().unwrap(), "192.0.2.2:7".parse().unwrap()],
            hosts: [0, 1],
            last_arrival: [0, 0],
            giving_up: [false, false],
            keep_alive: Default::default(),
        });
        net.faults.all = faults;
        net.faults_on = true;
        net
    }

    /// Runs the network's arrivals until none is left, from `seed`'s decisions; the
    /// virtual time it ends at.
    fn run(net: &mut Net, seed: u64) -> u64 {
        let mut oracle = Oracle::new(Strategy::RandomWalk.scheduler(seed), false);
        let mut trace = Trace::new(TraceKept::Nothing, usize::MAX);
        let (mut effects, mut in_use) = (VecDeque::new(), InUse::default());
        let mut cx = NetCx {
            now_ns: 0,
            thread: crate::ThreadId::NET,
            tearing_down: false,
            oracle: &mut oracle,
            trace: &mut trace,
            effects: &mut effects,
            in_use: &mut in_use,
        };
        net.pump(&mut cx, ConnId(0), 0);
        while let Some(at) = net.next_packet_due() {
            cx.now_ns = at;
            net.deliver_next(&mut cx);
        }
        cx.now_ns
    }

    fn chance(p: f64) -> Chance {
        Chance::of(p).unwrap()
    }

    #[test]
    fn a_lossy_link_delivers_every_byte_once_and_in_order_only_later() {
        let data: Vec<u8> = (0..=255).cycle().take(10_000).collect();
        // At 20 % a segment and all five of its retransmissions are lost 1 time in 15,625.
        let faults = LinkFaults {
            loss: chance(0.2),
            duplicate: chance(0.3),
            reorder: chance(0.3),
            ..Default::default()
        };
        for seed in 0..50 {
            let mut net = connected(faults, &data);
            let end = run(&mut net, seed);
            assert_eq!(net.conns[0].streams[0].read(usize::MAX, false), data, "seed {seed}");
            assert!(net.conservation().holds(), "seed {seed}");
            assert!(end < 18_900_000_000, "seed {seed}: nothing given up");
        }
    }

    #[test]
    fn a_link_that_loses_everything_makes_the_sender_give_up_after_its_retransmissions() {
        let mut net = connected(LinkFaults { loss: chance(1.0), ..Default::default() }, b"hello");
        let end = run(&mut net, 0);
        assert_eq!(end, 18_900_000_000, "0.3 × (1 + 2 + 4 + 8 + 16 + 32) s");
        assert_eq!(net.socket(SocketId(0)).tcp, Tcp::Dropped { keep_alive: false });
        assert_eq!(net.socket(SocketId(1)).tcp, Tcp::accepted(), "the peer is told nothing");
        let c = net.conservation();
        assert!(c.holds() && c.tcp_discarded == 5, "{c:?}");
    }
}
