//! The simulated transport provider: sockets, TCP connections and UDP datagrams between
//! the hosts of a run, over a wire with latency.
//!
//! Calls come from the front end through the `World` methods here; packets come due in
//! the scheduler, which hands them to [`World::deliver_next`]. Operations that cannot
//! complete at once wait in their socket's queues and complete as packets arrive, so a
//! completion is always made by either the call that started the operation (at once) or an
//! arrival (later), each traced.
//!
//! - `socket`: a socket's record and options.
//! - `conservation`: where every byte went, and connections whose bytes can never move.
//! - `op`: an operation in progress and how its completion is delivered.
//! - `tcp`, `udp`: each protocol's calls and arrivals.
//! - `readiness`: network events (`WSAEventSelect`) and what `select` and `WSAPoll` see.
//! - `wire`: packets in flight and the one place that decides their fate.

mod conservation;
mod op;
mod readiness;
mod socket;
mod tcp;
mod udp;
mod wire;

pub use conservation::Conservation;
pub use op::{Buffer, FromSlot, Notify, Op, buffer_list};
pub use readiness::Readiness;
pub use socket::{Options, Socket};
pub use wire::Latency;
pub(crate) use wire::{Packet, Wire};

use crate::World;
use std::net::{Ipv4Addr, SocketAddrV4};
use windows_sys::Win32::Foundation::STATUS_PENDING;
use windows_sys::Win32::Networking::WinSock::{
    AF_INET, FD_WRITE, IN_ADDR, IN_ADDR_0, SOCKADDR_IN, WSAEADDRNOTAVAIL, WSAENOBUFS, WSAENOTSOCK,
    WSAEWOULDBLOCK, WSANOTINITIALISED,
};
use wsasim_model::{HostId, Object, Ports, Proto, Status, Stream, Win32Error};

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
    /// Its socket was closed.
    Closed,
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
    /// A reset went out: both streams are dropped.
    reset: bool,
}

/// A simulated host, as the transport sees it.
#[derive(Debug)]
struct NetHost {
    ip: Ipv4Addr,
    /// `WSAStartup` calls not yet matched by `WSACleanup`.
    started: u32,
}

/// The transport's state in a run.
#[derive(Debug, Default)]
pub(crate) struct Net {
    sockets: Vec<Socket>,
    conns: Vec<Conn>,
    ports: Ports,
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
    /// `Sim::plant_stall`: connections of closed sockets stop transmitting.
    pub(crate) planted_stall: bool,
}

impl Net {
    pub(crate) fn add_host(&mut self, ip: Ipv4Addr) {
        self.hosts.push(NetHost { ip, started: 0 });
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

impl World {
    /// `WSAStartup` on the running thread's host.
    pub fn net_startup(&mut self) {
        let host = self.host();
        self.net.hosts[host as usize].started += 1;
    }

    /// `WSACleanup`: the last one closes every socket of the host (Wine sock.c
    /// test_WithWSAStartup).
    pub fn net_cleanup(&mut self) -> Result<(), Win32Error> {
        let host = self.host();
        let h = &mut self.net.hosts[host as usize];
        if h.started == 0 {
            return Err(WSANOTINITIALISED as Win32Error);
        }
        h.started -= 1;
        if h.started == 0 {
            let open = self.open_sockets(host);
            if !open.is_empty() {
                let n = open.len();
                self.misuse(crate::Misuse::CleanupWithSocketsOpen, "WSACleanup", || {
                    format!("sockets open: {n}")
                });
            }
            for s in open {
                self.close_socket(s);
            }
        }
        Ok(())
    }

    /// The sockets of `host` still open, in order.
    fn open_sockets(&self, host: HostId) -> Vec<SocketId> {
        (0..self.net.sockets.len())
            .map(|i| SocketId(i as u32))
            .filter(|s| self.socket(*s).host == host && !self.socket(*s).closed)
            .collect()
    }

    /// Closes every socket `host` has open, as its exit does (`World::host_exited`).
    pub(crate) fn close_host_sockets(&mut self, host: HostId) {
        for s in self.open_sockets(host) {
            self.close_socket(s);
        }
    }

    /// The socket behind a handle of the running host: `WSANOTINITIALISED` before
    /// `WSAStartup` (Wine sock.c test_WithoutWSAStartup), `WSAENOTSOCK` for anything else
    /// (Wine sock.c test_WSAGetOverlappedResult).
    pub fn socket_id(&self, handle: usize) -> Result<SocketId, Win32Error> {
        let host = self.host();
        if self.net.hosts[host as usize].started == 0 {
            return Err(WSANOTINITIALISED as Win32Error);
        }
        let id = self.kernel.socket(host, wsasim_model::Handle(handle)).ok_or(WSAENOTSOCK as Win32Error)?;
        Ok(SocketId(id))
    }

    /// Whether `WSAStartup` was called on the running thread's host.
    pub fn net_started(&self) -> bool {
        self.net.hosts[self.host() as usize].started > 0
    }

    pub fn socket(&self, s: SocketId) -> &Socket {
        &self.net.sockets[s.0 as usize]
    }

    pub fn socket_mut(&mut self, s: SocketId) -> &mut Socket {
        &mut self.net.sockets[s.0 as usize]
    }

    /// A new socket on the running thread's host, with its handle.
    pub fn open_socket(&mut self, proto: Proto, overlapped: bool) -> SocketId {
        let id = SocketId(self.net.sockets.len() as u32);
        let handle = self.create(Object::Socket { id: id.0, signaled: false });
        let host = self.host();
        self.net.sockets.push(Socket::new(handle, host, proto, overlapped));
        id
    }

    /// `bind`, with port 0 given a free dynamic port.
    pub fn bind(&mut self, s: SocketId, addr: SocketAddrV4) -> Result<(), Win32Error> {
        let socket = self.socket(s);
        let (host, proto, handle, reuse) =
            (socket.host, socket.proto, socket.handle, socket.options.reuse_addr);
        if socket.local.is_some() {
            // Doc: bind: "the socket is already bound to an address".
            return Err(windows_sys::Win32::Networking::WinSock::WSAEINVAL as Win32Error);
        }
        let ip = *addr.ip();
        let local = ip.is_unspecified() || ip.is_loopback() || ip == self.net.hosts[host as usize].ip;
        if !local {
            // Doc: bind: "the specified address is not a valid address for this computer".
            return Err(WSAEADDRNOTAVAIL as Win32Error);
        }
        let port = match addr.port() {
            // Doc: bind: WSAENOBUFS, "not enough buffers are available" (no port is free).
            0 => self.ephemeral_port(host, proto, ip).ok_or(WSAENOBUFS as Win32Error)?,
            port => port,
        };
        let sharing = if reuse { wsasim_model::Sharing::ReuseAddr } else { wsasim_model::Sharing::Default };
        let bound = SocketAddrV4::new(ip, port);
        self.net.ports.bind(host, proto, handle, bound, sharing)?;
        let socket = self.socket_mut(s);
        (socket.local, socket.holds_port) = (Some(bound), true);
        if proto == Proto::Udp {
            // A UDP socket is writable once bound (Wine sock.c test_WSAEnumNetworkEvents).
            self.occur(s, FD_WRITE, 0);
        }
        Ok(())
    }

    /// A free dynamic port, drawn by the strategy: a random start, then the next free one.
    fn ephemeral_port(&mut self, host: HostId, proto: Proto, ip: Ipv4Addr) -> Option<u16> {
        let range = wsasim_model::ports::EPHEMERAL;
        let size = usize::from(range.end() - range.start()) + 1;
        let start = self.oracle.pick(crate::strategy::Choice::Port, size);
        (0..size)
            .map(|i| range.start() + ((start + i) % size) as u16)
            .find(|port| self.net.ports.is_free(host, proto, ip, *port))
    }

    /// Binds an unbound socket to the wildcard address and a dynamic port, as `connect`
    /// and a first `sendto` do.
    fn bind_implicitly(&mut self, s: SocketId) -> Result<(), Win32Error> {
        match self.socket(s).local {
            Some(_) => Ok(()),
            None => self.bind(s, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0)),
        }
    }

    /// The local address `getsockname` reports: the bound one, with the wildcard replaced
    /// by the address a connection uses.
    pub fn local_name(&self, s: SocketId) -> Option<SocketAddrV4> {
        let socket = self.socket(s);
        let local = socket.local?;
        match (local.ip().is_unspecified(), socket.peer) {
            (true, Some(peer)) if socket.end.is_some() || socket.proto == Proto::Udp => {
                Some(SocketAddrV4::new(self.net.source_ip(socket.host, *peer.ip()), local.port()))
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
    pub fn close_socket(&mut self, s: SocketId) {
        let handle = self.socket(s).handle;
        if let Some((name, call)) = self.blocked_on(handle) {
            self.misuse(crate::Misuse::SocketClosedInUse, "closesocket", || {
                format!("socket {handle}, which {name} is blocked in {call} on")
            });
        }
        let proto = self.socket(s).proto;
        // An overlapped TCP receive completes as connection aborted (Wine sock.c
        // test_iocp), a UDP one as cancelled (Wine afd.c test_recv); sends and blocking
        // calls as cancelled.
        let receive_status = if proto == Proto::Tcp { Status::CONNECTION_ABORTED } else { Status::CANCELLED };
        let socket = self.socket_mut(s);
        socket.closed = true;
        // Closing ends the selection (Doc: WSAEventSelect).
        socket.events.select(None, 0);
        let receives = std::mem::take(&mut socket.receives);
        let sends = std::mem::take(&mut socket.sends);
        let waiters = std::mem::take(&mut socket.waiters);
        for op in receives {
            // A blocking call is cut off as cancelled, and fails with WSAEINTR.
            let status = if matches!(op.notify, Notify::Waiter) { Status::CANCELLED } else { receive_status };
            self.complete(handle, op, status, 0);
        }
        for op in sends.into_iter().chain(waiters) {
            let taken = op.taken;
            self.complete(handle, op, Status::CANCELLED, taken);
        }
        let host = self.socket(s).host;
        self.kernel.close(host, handle).expect("an open socket has an open handle");
        if let (true, Some(local)) = (self.socket(s).holds_port, self.socket(s).local) {
            self.net.ports.unbind(host, proto, handle, local.port());
        }
        match proto {
            Proto::Tcp => self.tcp_close(s),
            Proto::Udp => self.socket_mut(s).datagrams.discard_all(),
        }
        // A `select` waiting on it looks again, and fails.
        self.poke(s);
    }

    /// The first operation pending on the running host's open sockets that `picks`, with
    /// its socket. Every overlapped call searches them (`overlapped_given`), so each queue
    /// is walked as its two slices, in plain loops: chained `VecDeque` iterators cost
    /// 750 instructions more per echo round trip, and an iterator over the slices 850.
    fn pending_op_where(&self, mut picks: impl FnMut(&Op) -> bool) -> Option<(&Socket, &Op)> {
        let host = self.host();
        for s in self.net.sockets.iter().filter(|s| s.host == host && !s.closed) {
            let ((a, b), (c, d)) = (s.receives.as_slices(), s.sends.as_slices());
            for ops in [a, b, c, d] {
                if let Some(op) = ops.iter().find(|op| picks(op)) {
                    return Some((s, op));
                }
            }
        }
        None
    }

    /// An overlapped call of socket `s` is given the OVERLAPPED at `overlapped`: it is a
    /// misuse while an operation using it still pends; the socket may be asked about it
    /// from now on (`WSAGetOverlappedResult`), even if the call fails at once.
    pub fn overlapped_given(&mut self, s: SocketId, overlapped: usize, call: &'static str) {
        let earlier = self.pending_op_where(|op| op.overlapped as usize == overlapped);
        if let Some((earlier, socket)) = earlier.map(|(s, op)| (op.call, s.handle)) {
            self.misuse(crate::Misuse::OverlappedInUse, call, || {
                format!("the OVERLAPPED of a {earlier} still pending on socket {socket}")
            });
        }
        self.socket_mut(s).used_overlappeds.insert(overlapped);
    }

    /// What in the running host still refers to the event `event`, as a clause that ends
    /// "the event, which ...": a thread that waits on it, or an operation pending that will
    /// signal it.
    pub fn event_user(&self, event: wsasim_model::Handle) -> Option<String> {
        use crate::thread::{Blocker, State};
        let host = self.host();
        let waiter = self.threads.iter().find(|t| {
            t.host == host
                && matches!(&t.state, State::Blocked { on: Blocker::Objects { handles, .. }, .. } if handles.contains(&event))
        });
        if let Some(t) = waiter {
            return Some(format!("{} waits on", t.name));
        }
        let (s, op) = self.pending_op_where(|op| matches!(op.notify, Notify::Object(h) if h == event))?;
        Some(format!("a {} pending on socket {} will signal", op.call, s.handle))
    }

    /// Another thread blocked in a call on socket `handle` (a blocking call, `select` or
    /// `WSAPoll`): its name and call.
    fn blocked_on(&self, handle: wsasim_model::Handle) -> Option<(String, &'static str)> {
        use crate::thread::{Blocker, State};
        let me = self.current;
        let on = |b: &Blocker| match b {
            Blocker::Io { socket } => *socket == handle,
            Blocker::Poll { sockets } => sockets.contains(&handle),
            _ => false,
        };
        self.threads.iter().enumerate().find_map(|(i, t)| match &t.state {
            State::Blocked { call, on: b, .. } if i != me.index() && on(b) => Some((t.name.clone(), *call)),
            _ => None,
        })
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
    pub fn wait_for_state(&mut self, s: SocketId, op: Op) {
        if self.socket(s).closed {
            let handle = self.socket(s).handle;
            self.complete(handle, op, Status::CANCELLED, 0);
            return;
        }
        self.socket_mut(s).waiters.push(op);
    }

    fn wake_state_waiters(&mut self, s: SocketId, status: Status) {
        let waiters = std::mem::take(&mut self.socket_mut(s).waiters);
        let handle = self.socket(s).handle;
        for op in waiters {
            self.complete(handle, op, status, 0);
        }
    }

    /// Cancels pending operations of a socket (Doc: CancelIoEx function): each completes
    /// with `STATUS_CANCELLED`. Returns how many.
    pub fn cancel(&mut self, s: SocketId, which: Cancel) -> usize {
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
            self.complete(handle, op, Status::CANCELLED, taken);
        }
        if n > 0 {
            self.after_cancel(s);
        }
        n
    }

    /// Cancelled sends no longer hold back an end of stream that `shutdown` queued
    /// behind them.
    fn after_cancel(&mut self, s: SocketId) {
        if let Some(end) = self.socket(s).end {
            self.serve_sends(end.conn, end.side);
        }
    }

    /// An operation starts: its OVERLAPPED says pending until it completes, and its event,
    /// or the socket when it has none, is reset (Wine sock.c test_nonblocking_async_recv;
    /// Doc: WSAGetOverlappedResult, "the function that started the operation resets the
    /// hEvent member").
    fn begin(&mut self, op: &Op) {
        // SAFETY: the OVERLAPPED stays valid until the operation completes (Doc: WSARecv,
        // Doc: WSASend).
        unsafe { (*op.overlapped).Internal = STATUS_PENDING as u32 as usize };
        if let Notify::Object(h) = op.notify {
            self.kernel.object_mut(h).set_signaled(false);
        }
    }

    /// An operation that moves no data and completes in its call (`WSAIoctl`), as one
    /// that completes at once does: its OVERLAPPED written, its event signaled or its
    /// routine queued.
    pub fn complete_now(&mut self, s: SocketId, op: Op, status: Status) {
        self.begin(&op);
        let handle = self.socket(s).handle;
        self.complete(handle, op, status, 0);
    }

    /// A receive: `may_pend` for an overlapped or blocking call, not for a nonblocking one
    /// (which then gets `WSAEWOULDBLOCK`).
    pub fn start_receive(&mut self, s: SocketId, op: Op, may_pend: bool) -> Start {
        match self.socket(s).proto {
            Proto::Tcp => self.tcp_start_receive(s, op, may_pend),
            Proto::Udp => self.udp_start_receive(s, op, may_pend),
        }
    }

    /// A send, to `to` for an unconnected UDP socket.
    pub fn start_send(&mut self, s: SocketId, op: Op, to: Option<SocketAddrV4>, may_pend: bool) -> Start {
        match self.socket(s).proto {
            Proto::Tcp => self.tcp_start_send(s, op, may_pend),
            Proto::Udp => self.udp_send(s, op, to),
        }
    }

    /// How many operations `thread`, of the running host, has pending.
    pub(crate) fn thread_io(&self, thread: crate::ThreadId) -> usize {
        let mut count = 0;
        // Picks none, counting as it goes.
        self.pending_op_where(|op| {
            count += usize::from(op.thread == thread);
            false
        });
        count
    }

    /// Cancels every pending operation a thread issued, on every socket (see `abandon`).
    pub(crate) fn cancel_thread_io(&mut self, thread: crate::ThreadId) {
        for s in 0..self.net.sockets.len() {
            let socket = &mut self.net.sockets[s];
            let cancelled = socket.take_ops(|op| op.thread == thread);
            let handle = socket.handle;
            let any = !cancelled.is_empty();
            for op in cancelled {
                self.abandon(handle, op, Status::CANCELLED);
            }
            if any {
                self.after_cancel(SocketId(s as u32));
            }
        }
    }

    /// A receive that cannot complete now: it waits its turn (Wine sock.c
    /// test_simultaneous_async_recv), or, when it may not pend, would block.
    fn pend_receive(&mut self, s: SocketId, mut op: Op, may_pend: bool) -> Start {
        if !may_pend {
            return Start::Failed(WSAEWOULDBLOCK as Win32Error);
        }
        self.begin(&op);
        self.guard(&mut op, true);
        self.socket_mut(s).receives.push_back(op);
        Start::Pending
    }

    /// An overlapped operation pends: its buffers are guarded until it completes (see
    /// `Op::guard`); a blocking call's belong to its thread, which is blocked.
    fn guard(&mut self, op: &mut Op, receive: bool) {
        if !matches!(op.notify, Notify::Waiter) {
            // SAFETY: the program's buffers, the system's while the operation pends (Doc:
            // WSARecv, Doc: WSASend).
            unsafe { op.guard(receive) };
        }
    }

    /// Starts an operation with the strategy's say on whether it may complete at once:
    /// by default it does (Doc: WSARecv; Wine sock.c test_completion_port); under
    /// `Sim::pend_immediate`, it pends at random and is served by a `Serve` event, since a
    /// program must handle both.
    fn pend_at_random(&mut self, s: SocketId) -> bool {
        let odds = self.net.pend_odds;
        if odds == 0 || self.oracle.pick(crate::strategy::Choice::Pend, odds) != odds - 1 {
            return false;
        }
        self.net.wire.push(self.now_ns, Packet::Serve { socket: s });
        true
    }

    /// When the next packet is due, for the scheduler.
    pub(crate) fn next_packet_due(&self) -> Option<u64> {
        self.net.wire.next_due()
    }

    /// Hands the next due packet to its destination.
    pub(crate) fn deliver_next(&mut self) {
        let packet = self.net.wire.pop().expect("a packet is due");
        match packet {
            Packet::Syn { client, from, to, host } => self.tcp_syn(client, from, to, host),
            Packet::SynAck { conn } => self.tcp_syn_ack(conn),
            Packet::Refused { client, from, to } => self.tcp_refused(client, from, to),
            Packet::Segment { conn, side, segment } => self.tcp_segment(conn, side, segment),
            Packet::Rst { conn, side } => self.tcp_rst(conn, side),
            Packet::Datagram { host, from, to, data } => self.udp_arrival(host, from, to, data),
            Packet::PortUnreachable { host, from, to } => self.udp_port_unreachable(host, from, to),
            Packet::ConnectTimeout { client } => self.tcp_connect_timeout(client),
            Packet::Serve { socket } => {
                // A receive pended at random (Sim::pend_immediate) completes as the
                // receive that completed in its call it stands for: it re-enables FD_READ,
                // where data that fills a truly pending receive does not (Wine sock.c
                // test_read_events).
                if self.serve(socket) {
                    self.received(socket);
                }
            }
        }
    }

    /// Serves whatever a socket's pending operations can take now; whether a receive
    /// completed.
    fn serve(&mut self, s: SocketId) -> bool {
        match self.socket(s).proto {
            Proto::Tcp => {
                let Some(end) = self.socket(s).end else { return false };
                let served = self.serve_receives(s);
                self.serve_sends(end.conn, end.side);
                served
            }
            Proto::Udp => self.udp_serve_receives(s),
        }
    }

    fn conn(&self, c: ConnId) -> &Conn {
        &self.net.conns[c.0 as usize]
    }

    fn conn_mut(&mut self, c: ConnId) -> &mut Conn {
        &mut self.net.conns[c.0 as usize]
    }
}
