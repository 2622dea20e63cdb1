//! The simulated transport provider: sockets, TCP connections and UDP datagrams between
//! the hosts of a run, over a wire with latency.
//!
//! [`Net`] owns the transport's state; each of its steps (a call of the front end, an
//! arrival the scheduler hands it) is given a [`NetCx`] and leaves the effects it has
//! outside the network (signals, APCs, wake-ups) for the world to apply. Operations that
//! cannot complete at once wait in their socket's queues and complete as packets arrive,
//! so a completion is always made by either the call that started the operation (at
//! once) or an arrival (later), each traced.
//!
//! - `calls`: the transport as the world reaches it.
//! - `effects`: what a step may use, and what it asks of the world.
//! - `socket`: a socket's record and options.
//! - `conservation`: where every byte went, and connections whose bytes can never move.
//! - `crash`: a host that goes down, and comes back.
//! - `inject`: errors injected into calls, and which call may be given which.
//! - `keepalive`: TCP keep-alive probes, and the connections they find dead.
//! - `op`: an operation in progress and how its completion is delivered.
//! - `overlapped`: where an operation's end is kept in its OVERLAPPED.
//! - `tcp`, `udp`: each protocol's calls and arrivals.
//! - `readiness`: network events (`WSAEventSelect`) and what `select` and `WSAPoll` see.
//! - `wire`: packets in flight and the one place that decides their fate.

mod calls;
mod conservation;
mod crash;
mod effects;
mod faults;
mod inject;
mod keepalive;
mod op;
pub mod overlapped;
mod readiness;
mod socket;
mod tcp;
mod udp;
mod wire;

pub use conservation::Conservation;
pub(crate) use effects::{Effect, NetCx};
pub use faults::{Chance, Faults, LinkFaults, Partition};
pub use inject::{Injection, injectable};
pub(crate) use op::InUse;
pub use op::{Buffer, FromSlot, Notify, Op, buffer_list};
pub use readiness::Readiness;
pub use socket::{Options, Socket};
pub use wire::Latency;
pub(crate) use wire::{Packet, Sent, Wire};

use std::net::{Ipv4Addr, SocketAddrV4};
use windows_sys::Win32::Networking::WinSock::{
    AF_INET, FD_WRITE, IN_ADDR, IN_ADDR_0, SOCKADDR_IN, WSAEADDRNOTAVAIL, WSAENOBUFS, WSAEWOULDBLOCK,
    WSANOTINITIALISED,
};
use wsasim_model::{Bindings, HostId, Proto, Status, Stream, Win32Error};

/// A socket of the run, indexing the transport's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SocketId(pub u32);

/// A TCP connection of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnId(pub u32);

/// How a call that may complete at once went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// Completed in the call, with this status; an overlapped operation's notification
    /// has been delivered (Doc: WSARecv; Wine sock.c test_completion_port).
    Done { status: Status, bytes: usize },
    /// The transport holds the operation; it completes later.
    Pending,
    /// Never started: no completion will come (Doc: WSARecv; Wine sock.c
    /// test_completion_port).
    Failed(Win32Error),
}

/// Which pending operations a cancel reaches (Doc: CancelIoEx function).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancel {
    /// `CancelIoEx(h, NULL)`: all of them.
    All,
    /// `CancelIoEx(h, ov)`: those with this OVERLAPPED.
    Overlapped(usize),
    /// `CancelIo(h)`: those the calling thread issued.
    Thread(crate::ThreadId),
}

/// Where the end of an established connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EndState {
    /// In the listener's backlog, not yet accepted.
    Unaccepted,
    Open(SocketId),
    /// Its socket was closed; its host still carries the connection.
    Closed,
    /// Its host has forgotten the connection: it reset it, or gave up on it. A segment
    /// that reaches it draws a reset (RFC 793, 3.4: "reset generation").
    Gone,
}

/// A TCP connection: one stream each way. `streams[s]` carries what side `s` sends.
#[derive(Debug)]
struct Conn {
    streams: [Stream; 2],
    ends: [EndState; 2],
    addrs: [SocketAddrV4; 2],
    hosts: [HostId; 2],
    /// When the last packet from each side arrives, so the next never overtakes it.
    last_arrival: [u64; 2],
    /// Each side's retransmissions of a segment will run out (`Packet::GaveUp` is on its
    /// way): it sends nothing more.
    giving_up: [bool; 2],
    keep_alive: [keepalive::KeepAlive; 2],
}

/// A simulated host, as the transport sees it.
#[derive(Debug)]
struct NetHost {
    ip: Ipv4Addr,
    /// `WSAStartup` calls not yet matched by `WSACleanup`.
    started: u32,
    /// Crashed and not restarted (`Sim::crash`): packets to it are dropped.
    down: bool,
    /// Its sockets not yet closed, oldest first: what its calls look through.
    open: Vec<SocketId>,
}

/// The transport's state in a run.
#[derive(Debug, Default)]
pub(crate) struct Net {
    sockets: Vec<Socket>,
    conns: Vec<Conn>,
    bindings: Bindings,
    hosts: Vec<NetHost>,
    pub(crate) wire: Wire,
    /// `Sim::pend_immediate`: operations that could complete at once pend one time in
    /// this many (0: never).
    pub(crate) pend_odds: usize,
    /// One TCP segment in this many is cut short at a random point (0: none).
    pub(crate) cut_odds: usize,
    udp_sent: u64,
    /// Datagrams no socket took.
    udp_dropped: u64,
    /// Datagram bytes the network lost, and the bytes of the copies it made.
    udp_lost: u64,
    udp_duplicated: u64,
    pub(crate) faults: Faults,
    /// Whether `faults` makes any (`!Faults::none`), asked once: without, the packet
    /// gate draws only latencies.
    pub(crate) faults_on: bool,
    /// Errors to inject into calls (`Sim::inject`).
    pub(crate) injections: Vec<Injection>,
    /// `Sim::plant_stall`: connections of closed sockets stop transmitting.
    pub(crate) planted_stall: bool,
}

impl Conn {
    /// A reset went out (one stream is aborted at once, the other as it arrives): nothing
    /// more is sent on it.
    fn reset(&self) -> bool {
        self.streams.iter().any(Stream::is_reset)
    }
}

impl Net {
    pub(crate) fn add_host(&mut self, ip: Ipv4Addr) {
        self.hosts.push(NetHost { ip, started: 0, down: false, open: Vec::new() });
    }

    pub(crate) fn host_ip(&self, host: HostId) -> Ipv4Addr {
        self.hosts[host as usize].ip
    }

    /// The host `ip` reaches from `from`: itself on 127.0.0.0/8, as Wine's tests do.
    fn route(&self, from: HostId, ip: Ipv4Addr) -> Option<HostId> {
        if ip.is_loopback() {
            return Some(from);
        }
        self.hosts.iter().position(|h| h.ip == ip).map(|h| h as HostId)
    }

    /// The address a socket of `host` sends from to reach `dst`.
    fn source_ip(&self, host: HostId, dst: Ipv4Addr) -> Ipv4Addr {
        if dst.is_loopback() { Ipv4Addr::LOCALHOST } else { self.hosts[host as usize].ip }
    }
}

/// A SOCKADDR_IN for an address, in network byte order.
pub fn sockaddr(addr: SocketAddrV4) -> SOCKADDR_IN {
    SOCKADDR_IN {
        sin_family: AF_INET,
        sin_port: addr.port().to_be(),
        sin_addr: IN_ADDR { S_un: IN_ADDR_0 { S_addr: u32::from(*addr.ip()).to_be() } },
        sin_zero: [0; 8],
    }
}

impl Net {
    /// `WSAStartup` on `host`.
    pub(crate) fn startup(&mut self, host: HostId) {
        self.hosts[host as usize].started += 1;
    }

    /// `WSACleanup` on `host`: whether it was the last, which closes every socket of the
    /// host (Wine sock.c test_WithWSAStartup).
    pub(crate) fn cleanup(&mut self, host: HostId) -> Result<bool, Win32Error> {
        let h = &mut self.hosts[host as usize];
        if h.started == 0 {
            return Err(WSANOTINITIALISED as Win32Error);
        }
        h.started -= 1;
        Ok(h.started == 0)
    }

    /// Whether `WSAStartup` was called on `host`.
    pub(crate) fn started(&self, host: HostId) -> bool {
        self.hosts[host as usize].started > 0
    }

    /// The sockets of `host` still open, in order.
    pub(crate) fn open_sockets(&self, host: HostId) -> Vec<SocketId> {
        self.hosts[host as usize].open.clone()
    }

    /// The id the next socket gets.
    pub(crate) fn next_socket(&self) -> SocketId {
        SocketId(self.sockets.len() as u32)
    }

    /// Adds a socket, with the id `next_socket` said.
    pub(crate) fn add_socket(&mut self, socket: Socket) -> SocketId {
        let id = self.next_socket();
        self.hosts[socket.host as usize].open.push(id);
        self.sockets.push(socket);
        id
    }

    /// `s` is closed, or gone with its host: no call of the host sees it again.
    fn mark_closed(&mut self, s: SocketId) {
        let socket = self.socket_mut(s);
        socket.closed = true;
        let host = socket.host as usize;
        self.hosts[host].open.retain(|o| *o != s);
    }

    pub fn socket(&self, s: SocketId) -> &Socket {
        &self.sockets[s.0 as usize]
    }

    pub fn socket_mut(&mut self, s: SocketId) -> &mut Socket {
        &mut self.sockets[s.0 as usize]
    }

    /// `bind`, with port 0 given a free dynamic port.
    pub fn bind(&mut self, cx: &mut NetCx, s: SocketId, addr: SocketAddrV4) -> Result<(), Win32Error> {
        let socket = self.socket(s);
        let (host, proto, reuse) = (socket.host, socket.proto, socket.options.reuse_addr);
        if socket.local.is_some() {
            // Doc: bind: "the socket is already bound to an address".
            return Err(windows_sys::Win32::Networking::WinSock::WSAEINVAL as Win32Error);
        }
        let ip = *addr.ip();
        let local = ip.is_unspecified() || ip.is_loopback() || ip == self.hosts[host as usize].ip;
        if !local {
            // Doc: bind: "the specified address is not a valid address for this computer".
            return Err(WSAEADDRNOTAVAIL as Win32Error);
        }
        let port = match addr.port() {
            // Doc: bind: WSAENOBUFS, "not enough buffers are available" (no port is free).
            0 => self.ephemeral_port(cx, host, proto, ip).ok_or(WSAENOBUFS as Win32Error)?,
            port => port,
        };
        let sharing = if reuse { wsasim_model::Sharing::ReuseAddr } else { wsasim_model::Sharing::Default };
        let bound = SocketAddrV4::new(ip, port);
        self.bindings.bind(host, proto, s.0, bound, sharing)?;
        let socket = self.socket_mut(s);
        (socket.local, socket.holds_port) = (Some(bound), true);
        if proto == Proto::Udp {
            // A UDP socket is writable once bound (Wine sock.c test_WSAEnumNetworkEvents).
            self.occur(cx, s, FD_WRITE, 0);
        }
        Ok(())
    }

    /// A free dynamic port, drawn by the strategy: a random start, then the next free one.
    fn ephemeral_port(&mut self, cx: &mut NetCx, host: HostId, proto: Proto, ip: Ipv4Addr) -> Option<u16> {
        let range = wsasim_model::bindings::EPHEMERAL;
        let size = usize::from(range.end() - range.start()) + 1;
        let start = cx.pick(crate::strategy::Choice::Port, size);
        (0..size)
            .map(|i| range.start() + ((start + i) % size) as u16)
            .find(|port| self.bindings.is_free(host, proto, ip, *port))
    }

    /// Binds an unbound socket to the wildcard address and a dynamic port, as `connect`
    /// and a first `sendto` do.
    fn bind_implicitly(&mut self, cx: &mut NetCx, s: SocketId) -> Result<(), Win32Error> {
        match self.socket(s).local {
            Some(_) => Ok(()),
            None => self.bind(cx, s, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0)),
        }
    }

    /// The local address `getsockname` reports: the bound one, with the wildcard replaced
    /// by the address a connection uses.
    pub fn local_name(&self, s: SocketId) -> Option<SocketAddrV4> {
        let socket = self.socket(s);
        let local = socket.local?;
        match (local.ip().is_unspecified(), socket.peer) {
            (true, Some(peer)) if socket.end.is_some() || socket.proto == Proto::Udp => {
                Some(SocketAddrV4::new(self.source_ip(socket.host, *peer.ip()), local.port()))
            }
            _ => Some(local),
        }
    }

    /// `FIONREAD`: the bytes a TCP receive could take now, or every byte queued on a UDP
    /// socket (Doc: ioctlsocket: for a datagram socket, "the amount of pending data").
    pub fn readable(&self, s: SocketId) -> usize {
        let socket = self.socket(s);
        match (socket.proto, socket.end) {
            (Proto::Udp, _) => socket.datagrams.counts().queued as usize,
            (Proto::Tcp, Some(end)) => self.conn(end.conn).streams[1 - end.side].readable(),
            (Proto::Tcp, None) => 0,
        }
    }

    /// `closesocket`: pending operations complete (Doc: closesocket), the address is freed,
    /// and a connection closes gracefully or, with `SO_LINGER` {1, 0}, by a reset.
    pub(crate) fn close_socket(&mut self, cx: &mut NetCx, s: SocketId) {
        let handle = self.socket(s).handle;
        let proto = self.socket(s).proto;
        // An overlapped TCP receive completes as connection aborted (Wine sock.c
        // test_iocp), a UDP one as cancelled (Wine afd.c test_recv); sends and blocking
        // calls as cancelled.
        let receive_status = if proto == Proto::Tcp { Status::CONNECTION_ABORTED } else { Status::CANCELLED };
        self.mark_closed(s);
        let socket = self.socket_mut(s);
        // Closing ends the selection (Doc: WSAEventSelect).
        socket.events.select(None, 0);
        let receives = std::mem::take(&mut socket.receives);
        let sends = std::mem::take(&mut socket.sends);
        let waiters = std::mem::take(&mut socket.waiters);
        for op in receives {
            // A blocking call is cut off as cancelled, and fails with WSAEINTR.
            let status = if matches!(op.notify, Notify::Waiter) { Status::CANCELLED } else { receive_status };
            op.complete(cx, handle, status, 0);
        }
        for op in sends.into_iter().chain(waiters) {
            let taken = op.taken;
            op.complete(cx, handle, Status::CANCELLED, taken);
        }
        let host = self.socket(s).host;
        if let (true, Some(local)) = (self.socket(s).holds_port, self.socket(s).local) {
            self.bindings.unbind(host, proto, s.0, local.port());
        }
        match proto {
            Proto::Tcp => self.tcp_close(cx, s),
            Proto::Udp => self.socket_mut(s).datagrams.discard_all(),
        }
        // A `select` waiting on it looks again, and fails.
        self.poke(cx, s);
    }

    /// The first operation pending on the open sockets of `host` that `picks`, with its
    /// socket. Every overlapped call searches them (`overlapped_given`), so each queue is
    /// walked as its two slices, in plain loops: chained `VecDeque` iterators cost 750
    /// instructions more per echo round trip, and an iterator over the slices 850.
    pub(crate) fn pending_op_where(
        &self,
        host: HostId,
        mut picks: impl FnMut(&Op) -> bool,
    ) -> Option<(&Socket, &Op)> {
        for s in self.hosts[host as usize].open.iter().map(|s| self.socket(*s)) {
            let ((a, b), (c, d)) = (s.receives.as_slices(), s.sends.as_slices());
            for ops in [a, b, c, d] {
                if let Some(op) = ops.iter().find(|op| picks(op)) {
                    return Some((s, op));
                }
            }
        }
        None
    }

    /// `call` on socket `s` was given the OVERLAPPED at `overlapped`, which a pending
    /// operation of the host may hold: a misuse if one does.
    pub(crate) fn check_overlapped_free(
        &mut self,
        cx: &mut NetCx,
        s: SocketId,
        overlapped: usize,
        call: &'static str,
    ) {
        let host = self.socket(s).host;
        let earlier = self.pending_op_where(host, |op| op.overlapped as usize == overlapped);
        if let Some((earlier, socket)) = earlier.map(|(s, op)| (op.call, s.handle)) {
            let object = format!("the OVERLAPPED of a {earlier} still pending on socket {socket}");
            cx.misuse(cx.thread, crate::Misuse::OverlappedInUse, call, object);
        }
    }

    /// Takes a blocking call's operation back, unfinished (its timeout passed).
    pub fn withdraw(&mut self, s: SocketId, overlapped: usize) {
        let socket = self.socket_mut(s);
        for queue in [&mut socket.receives, &mut socket.sends] {
            queue.retain(|op| op.overlapped as usize != overlapped);
        }
        socket.waiters.retain(|op| op.overlapped as usize != overlapped);
    }

    /// Registers a blocking `accept` or `connect`, completed when the socket's state
    /// changes; on a socket closed meanwhile, it completes at once as cancelled.
    pub fn wait_for_state(&mut self, cx: &mut NetCx, s: SocketId, op: Op) {
        if self.socket(s).closed {
            let handle = self.socket(s).handle;
            op.complete(cx, handle, Status::CANCELLED, 0);
            return;
        }
        self.socket_mut(s).waiters.push(op);
    }

    fn wake_state_waiters(&mut self, cx: &mut NetCx, s: SocketId, status: Status) {
        let waiters = std::mem::take(&mut self.socket_mut(s).waiters);
        let handle = self.socket(s).handle;
        for op in waiters {
            op.complete(cx, handle, status, 0);
        }
    }

    /// Cancels pending operations of a socket (Doc: CancelIoEx function): each completes
    /// with `STATUS_CANCELLED`. Returns how many.
    pub fn cancel(&mut self, cx: &mut NetCx, s: SocketId, which: Cancel) -> usize {
        let matches = |op: &Op| match which {
            Cancel::All => true,
            Cancel::Overlapped(ov) => op.overlapped as usize == ov,
            Cancel::Thread(t) => op.thread == t,
        };
        let socket = self.socket_mut(s);
        let cancelled = socket.take_ops(matches);
        let handle = socket.handle;
        let n = cancelled.len();
        for op in cancelled {
            let taken = op.taken;
            op.complete(cx, handle, Status::CANCELLED, taken);
        }
        if n > 0 {
            self.after_cancel(cx, s);
        }
        n
    }

    /// Cancelled sends no longer hold back an end of stream that `shutdown` queued
    /// behind them.
    fn after_cancel(&mut self, cx: &mut NetCx, s: SocketId) {
        if let Some(end) = self.socket(s).end {
            self.serve_sends(cx, end.conn, end.side);
        }
    }

    /// An operation that moves no data and completes in its call (`WSAIoctl`), as one
    /// that completes at once does: its OVERLAPPED written, its event signaled or its
    /// routine queued.
    pub fn complete_now(&mut self, cx: &mut NetCx, s: SocketId, op: Op, status: Status) {
        op.begin(cx);
        let handle = self.socket(s).handle;
        op.complete(cx, handle, status, 0);
    }

    /// A receive: `may_pend` for an overlapped or blocking call, not for a nonblocking one
    /// (which then gets `WSAEWOULDBLOCK`).
    pub fn start_receive(&mut self, cx: &mut NetCx, s: SocketId, op: Op, may_pend: bool) -> Start {
        match self.socket(s).proto {
            Proto::Tcp => self.tcp_start_receive(cx, s, op, may_pend),
            Proto::Udp => self.udp_start_receive(cx, s, op, may_pend),
        }
    }

    /// A send, to `to` for an unconnected UDP socket.
    pub fn start_send(
        &mut self,
        cx: &mut NetCx,
        s: SocketId,
        op: Op,
        to: Option<SocketAddrV4>,
        may_pend: bool,
    ) -> Start {
        match self.socket(s).proto {
            Proto::Tcp => self.tcp_start_send(cx, s, op, may_pend),
            Proto::Udp => self.udp_send(cx, s, op, to),
        }
    }

    /// How many operations `thread`, of `host`, has pending.
    pub(crate) fn thread_io(&self, host: HostId, thread: crate::ThreadId) -> usize {
        let mut count = 0;
        // Picks none, counting as it goes.
        self.pending_op_where(host, |op| {
            count += usize::from(op.thread == thread);
            false
        });
        count
    }

    /// Cancels every pending operation a thread issued, on every socket (see `abandon`).
    pub(crate) fn cancel_thread_io(&mut self, cx: &mut NetCx, thread: crate::ThreadId) {
        for s in 0..self.sockets.len() {
            let socket = &mut self.sockets[s];
            let cancelled = socket.take_ops(|op| op.thread == thread);
            let handle = socket.handle;
            let any = !cancelled.is_empty();
            for op in cancelled {
                op.abandon(cx, handle, Status::CANCELLED);
            }
            if any {
                self.after_cancel(cx, SocketId(s as u32));
            }
        }
    }

    /// A receive that cannot complete now: it waits its turn (Wine sock.c
    /// test_simultaneous_async_recv), or, when it may not pend, would block.
    fn pend_receive(&mut self, cx: &mut NetCx, s: SocketId, mut op: Op, may_pend: bool) -> Start {
        if !may_pend {
            return Start::Failed(WSAEWOULDBLOCK as Win32Error);
        }
        op.begin(cx);
        op.guard_while_pending(cx, true);
        self.socket_mut(s).receives.push_back(op);
        Start::Pending
    }

    /// Starts an operation with the strategy's say on whether it may complete at once:
    /// by default it does (Doc: WSARecv; Wine sock.c test_completion_port); under
    /// `Sim::pend_immediate`, it pends at random and is served by a `Serve` event, since a
    /// program must handle both.
    fn pend_at_random(&mut self, cx: &mut NetCx, s: SocketId) -> bool {
        let odds = self.pend_odds;
        if odds == 0 || cx.pick(crate::strategy::Choice::Pend, odds) != odds - 1 {
            return false;
        }
        self.wire.push(cx.now_ns, Packet::Serve { socket: s });
        true
    }

    /// When the next packet is due, for the scheduler.
    pub(crate) fn next_packet_due(&self) -> Option<u64> {
        self.wire.next_due()
    }

    /// Hands the next due packet to its destination.
    pub(crate) fn deliver_next(&mut self, cx: &mut NetCx) {
        let packet = self.wire.pop().expect("a packet is due");
        // Hosts go down only in runs with faults: a crash's down time is a partition.
        let packet = if self.faults_on {
            match self.unless_host_down(cx, packet) {
                Some(p) => p,
                None => return,
            }
        } else {
            packet
        };
        match packet {
            Packet::Syn { client, from, to, host } => self.tcp_syn(cx, client, from, to, host),
            Packet::SynAck { conn } => self.tcp_syn_ack(cx, conn),
            Packet::Refused { client, from, to } => self.tcp_refused(cx, client, from, to),
            Packet::Segment { conn, side, segment } => self.tcp_segment(cx, conn, side, segment),
            Packet::Rst { conn, side, .. } => self.tcp_rst(cx, conn, side),
            Packet::Datagram { host, from, to, data } => self.udp_arrival(cx, host, from, to, data),
            Packet::PortUnreachable { host, from, to } => self.udp_port_unreachable(cx, host, from, to),
            Packet::ConnectTimeout { client } => self.tcp_connect_timeout(cx, client),
            Packet::GaveUp { conn, side, segment } => self.tcp_gave_up(cx, conn, side, segment),
            Packet::Probe { conn, side, ack } => self.probe_arrives(cx, conn, side, ack),
            Packet::KeepAlive { conn, side } => self.keep_alive_due(cx, conn, side),
            Packet::Serve { socket } => {
                // A receive pended at random (Sim::pend_immediate) completes as the
                // receive that completed in its call it stands for: it re-enables FD_READ,
                // where data that fills a truly pending receive does not (Wine sock.c
                // test_read_events).
                if self.serve(cx, socket) {
                    self.received(cx, socket);
                }
            }
        }
    }

    /// Serves whatever a socket's pending operations can take now; whether a receive
    /// completed.
    fn serve(&mut self, cx: &mut NetCx, s: SocketId) -> bool {
        match self.socket(s).proto {
            Proto::Tcp => {
                let Some(end) = self.socket(s).end else { return false };
                let served = self.serve_receives(cx, s);
                self.serve_sends(cx, end.conn, end.side);
                served
            }
            Proto::Udp => self.udp_serve_receives(cx, s),
        }
    }

    fn conn(&self, c: ConnId) -> &Conn {
        &self.conns[c.0 as usize]
    }

    fn conn_mut(&mut self, c: ConnId) -> &mut Conn {
        &mut self.conns[c.0 as usize]
    }
}
