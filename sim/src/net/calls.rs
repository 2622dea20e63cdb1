//! The transport as the rest of the run reaches it: the calls of the front end and the
//! scheduler's arrivals, each a step of the network run with its context (see
//! `effects`), with what is the world's own (handles, threads) done here.

use super::{Cancel, Net, Notify, Op, Readiness, Socket, SocketId, Start};
use crate::World;
use crate::thread::{Blocker, State};
use std::net::SocketAddrV4;
use windows_sys::Win32::Networking::WinSock::{
    FD_ACCEPT, LPWSAOVERLAPPED_COMPLETION_ROUTINE, WSA_INVALID_HANDLE, WSAENOTSOCK, WSANOTINITIALISED,
};
use windows_sys::Win32::System::IO::OVERLAPPED;
use wsasim_model::{Enumerated, Handle, Object, Proto, Status, Win32Error};

impl World {
    /// `WSAStartup` on the running thread's host.
    pub fn net_startup(&mut self) {
        let host = self.host();
        self.net.startup(host);
    }

    /// `WSACleanup`: the last one closes every socket of the host (Wine sock.c
    /// test_WithWSAStartup).
    pub fn net_cleanup(&mut self) -> Result<(), Win32Error> {
        let host = self.host();
        if !self.net.cleanup(host)? {
            return Ok(());
        }
        let open = self.net.open_sockets(host);
        if !open.is_empty() {
            let n = open.len();
            self.misuse(crate::Misuse::CleanupWithSocketsOpen, "WSACleanup", || format!("sockets open: {n}"));
        }
        for s in open {
            self.close_socket(s);
        }
        Ok(())
    }

    /// Closes every socket `host` has open, as its exit does (`World::host_exited`).
    pub(crate) fn close_host_sockets(&mut self, host: wsasim_model::HostId) {
        for s in self.net.open_sockets(host) {
            self.close_socket(s);
        }
    }

    /// The socket behind a handle of the running host: `WSANOTINITIALISED` before
    /// `WSAStartup` (Wine sock.c test_WithoutWSAStartup), `WSAENOTSOCK` for anything else
    /// (Wine sock.c test_WSAGetOverlappedResult).
    pub fn socket_id(&self, handle: usize) -> Result<SocketId, Win32Error> {
        let host = self.host();
        if !self.net.started(host) {
            return Err(WSANOTINITIALISED as Win32Error);
        }
        let id = self.kernel.socket(host, Handle(handle)).ok_or(WSAENOTSOCK as Win32Error)?;
        Ok(SocketId(id))
    }

    /// Whether `WSAStartup` was called on the running thread's host.
    pub fn net_started(&self) -> bool {
        self.net.started(self.host())
    }

    pub fn socket(&self, s: SocketId) -> &Socket {
        self.net.socket(s)
    }

    pub fn socket_mut(&mut self, s: SocketId) -> &mut Socket {
        self.net.socket_mut(s)
    }

    /// A new socket on the running thread's host, with its handle.
    pub fn open_socket(&mut self, proto: Proto, overlapped: bool) -> SocketId {
        let id = self.net.next_socket();
        let handle = self.create(Object::Socket { id: id.0, signaled: false });
        let host = self.host();
        self.net.add_socket(Socket::new(handle, host, proto, overlapped))
    }

    /// `bind`, with port 0 given a free dynamic port.
    pub fn bind(&mut self, s: SocketId, addr: SocketAddrV4) -> Result<(), Win32Error> {
        self.with_net(|net, cx| net.bind(cx, s, addr))
    }

    /// The local address `getsockname` reports.
    pub fn local_name(&self, s: SocketId) -> Option<SocketAddrV4> {
        self.net.local_name(s)
    }

    /// `FIONREAD`.
    pub fn readable(&self, s: SocketId) -> usize {
        self.net.readable(s)
    }

    /// `closesocket` (see `Net::close_socket`): closing a socket another thread is blocked
    /// on is a misuse.
    pub fn close_socket(&mut self, s: SocketId) {
        let (handle, host) = (self.socket(s).handle, self.socket(s).host);
        if let Some((name, call)) = self.blocked_on(handle) {
            self.misuse(crate::Misuse::SocketClosedInUse, "closesocket", || {
                format!("socket {handle}, which {name} is blocked in {call} on")
            });
        }
        self.with_net(|net, cx| net.close_socket(cx, s));
        self.kernel.close(host, handle).expect("an open socket has an open handle");
    }

    /// Another thread blocked in a call on socket `handle` (a blocking call, `select` or
    /// `WSAPoll`): its name and call.
    fn blocked_on(&self, handle: Handle) -> Option<(String, &'static str)> {
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

    /// How an overlapped operation on socket `s` makes its completion known: its
    /// completion routine, else its OVERLAPPED's event, else the socket (Doc: WSARecv);
    /// an `hEvent` that is not an event of the running host is `WSA_INVALID_HANDLE`.
    ///
    /// # Safety
    /// `ov` is the caller's OVERLAPPED, not NULL.
    pub unsafe fn notify_for(
        &self,
        s: SocketId,
        ov: *const OVERLAPPED,
        routine: LPWSAOVERLAPPED_COMPLETION_ROUTINE,
    ) -> Result<Notify, Win32Error> {
        if routine.is_some() {
            return Ok(Notify::Routine(routine));
        }
        // SAFETY: the caller's contract.
        let event = Handle(unsafe { (*ov).hEvent } as usize);
        if event.0 == 0 {
            return Ok(Notify::Object(self.socket(s).handle));
        }
        match self.kernel.get(self.host(), event) {
            Ok(Object::Event(_)) => Ok(Notify::Object(event)),
            _ => Err(WSA_INVALID_HANDLE as Win32Error),
        }
    }

    /// An overlapped call of socket `s` is given the OVERLAPPED at `overlapped`: it is a
    /// misuse while an operation using it still pends (looked for only where one may:
    /// `InUse`); the socket may be asked about it from now on (`WSAGetOverlappedResult`),
    /// even if the call fails at once.
    pub fn overlapped_given(&mut self, s: SocketId, overlapped: usize, call: &'static str) {
        if self.overlappeds_in_use.may_hold(overlapped) {
            self.with_net(|net, cx| net.check_overlapped_free(cx, s, overlapped, call));
        }
        self.net.socket_mut(s).used_overlappeds.insert(overlapped);
    }

    /// What in the running host still refers to the event `event`, as a clause that ends
    /// "the event, which ...": a thread that waits on it, or an operation pending that will
    /// signal it.
    pub fn event_user(&self, event: Handle) -> Option<String> {
        let host = self.host();
        let waiter = self.threads.iter().find(|t| {
            t.host == host
                && matches!(&t.state, State::Blocked { on: Blocker::Objects { handles, .. }, .. } if handles.contains(&event))
        });
        if let Some(t) = waiter {
            return Some(format!("{} waits on", t.name));
        }
        let (s, op) =
            self.net.pending_op_where(host, |op| matches!(op.notify, Notify::Object(h) if h == event))?;
        Some(format!("a {} pending on socket {} will signal", op.call, s.handle))
    }

    /// Takes a blocking call's operation back, unfinished (its timeout passed).
    pub fn withdraw(&mut self, s: SocketId, overlapped: usize) {
        self.net.withdraw(s, overlapped);
    }

    /// See `Net::wait_for_state`.
    pub fn wait_for_state(&mut self, s: SocketId, op: Op) {
        self.with_net(|net, cx| net.wait_for_state(cx, s, op));
    }

    /// Cancels pending operations of a socket (see `Net::cancel`); how many.
    pub fn cancel(&mut self, s: SocketId, which: Cancel) -> usize {
        self.with_net(|net, cx| net.cancel(cx, s, which))
    }

    /// See `Net::complete_now`.
    pub fn complete_now(&mut self, s: SocketId, op: Op, status: Status) {
        self.with_net(|net, cx| net.complete_now(cx, s, op, status));
    }

    /// See `Net::start_receive`.
    pub fn start_receive(&mut self, s: SocketId, op: Op, may_pend: bool) -> Start {
        self.with_net(|net, cx| net.start_receive(cx, s, op, may_pend))
    }

    /// Whether `call`, about to go ahead, fails with an injected error (`Net::injected`).
    pub fn injected(&mut self, call: &'static str) -> Option<Win32Error> {
        if self.net.injections.is_empty() {
            return None;
        }
        self.with_net(|net, cx| net.injected(cx, call))
    }

    /// See `Net::start_send`.
    pub fn start_send(&mut self, s: SocketId, op: Op, to: Option<SocketAddrV4>, may_pend: bool) -> Start {
        self.with_net(|net, cx| net.start_send(cx, s, op, to, may_pend))
    }

    /// How many operations `thread`, of the running host, has pending.
    pub(crate) fn thread_io(&self, thread: crate::ThreadId) -> usize {
        self.net.thread_io(self.host(), thread)
    }

    /// See `Net::cancel_thread_io`.
    pub(crate) fn cancel_thread_io(&mut self, thread: crate::ThreadId) {
        self.with_net(|net, cx| net.cancel_thread_io(cx, thread));
    }

    /// `listen` (Doc: listen).
    pub fn listen(&mut self, s: SocketId, backlog: i32) -> Result<(), Win32Error> {
        self.net.listen(s, backlog)
    }

    /// See `Net::connect`.
    pub fn connect(&mut self, s: SocketId, to: SocketAddrV4, call: &'static str) -> Result<bool, Win32Error> {
        self.with_net(|net, cx| net.connect(cx, s, to, call))
    }

    /// `accept`: the next established connection of a listener, as a new socket that
    /// inherits the listener's options; `None` while the backlog is empty.
    pub fn accept(&mut self, s: SocketId) -> Result<Option<SocketId>, Win32Error> {
        if !self.net.may_accept(s)? {
            return Ok(None);
        }
        // The connection stays queued for the next accept (Doc: accept, WSAEMFILE: "The
        // queue is nonempty upon entry to accept and there are no descriptors available").
        if let Some(e) = self.injected("accept") {
            // A re-enabling call that fails re-enables its event all the same (Doc:
            // WSAEventSelect), and the connection still waits.
            self.with_net(|net, cx| net.reenable(cx, s, FD_ACCEPT, true));
            return Err(e);
        }
        let new = self.open_socket(Proto::Tcp, self.socket(s).overlapped);
        self.with_net(|net, cx| net.accept(cx, s, new));
        Ok(Some(new))
    }

    /// See `Net::shutdown`.
    pub fn shutdown(&mut self, s: SocketId, how: i32) -> Result<(), Win32Error> {
        self.with_net(|net, cx| net.shutdown(cx, s, how))
    }

    /// See `Net::apply_options`.
    pub fn apply_options(&mut self, s: SocketId) {
        self.with_net(|net, cx| net.apply_options(cx, s));
    }

    /// `WSAEventSelect(s, event, mask)` (see `Net::event_select`).
    pub fn event_select(&mut self, s: SocketId, event: Option<Handle>, mask: u32) {
        self.with_net(|net, cx| net.event_select(cx, s, event, mask));
    }

    /// `WSAEnumNetworkEvents` (Doc: WSAEnumNetworkEvents): takes the recorded events in the
    /// mask, and resets `event` in the same step.
    pub fn enumerate_events(&mut self, s: SocketId, event: Option<Handle>) -> Enumerated {
        if let Some(h) = event {
            let host = self.host();
            self.kernel_mut().event_mut(host, h).expect("checked by the caller").reset();
        }
        self.socket_mut(s).events.enumerate()
    }

    /// What `select` and `WSAPoll` report for `s` now.
    pub fn readiness(&self, s: SocketId) -> Readiness {
        self.net.readiness(s)
    }

    /// When the next packet is due, for the scheduler.
    pub(crate) fn next_packet_due(&self) -> Option<u64> {
        self.net.next_packet_due()
    }

    /// Hands the next due packet to its destination.
    pub(crate) fn deliver_next(&mut self) {
        self.with_net(Net::deliver_next);
    }
}
