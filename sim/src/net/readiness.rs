//! How a program learns that a socket is ready: the network events of `WSAEventSelect`
//! (their rules are `wsasim_model::NetworkEvents`'s; here is where the transport says they
//! happen), and the readiness `select` and `WSAPoll` read.
//!
//! Every change that can make a socket readable, writable or failed goes through
//! [`Net::occur`] or [`Net::poke`], which also wake the threads waiting for it in
//! `select` or `WSAPoll`.

use super::effects::{Effect, NetCx};
use super::{Net, SocketId};
use windows_sys::Win32::Networking::WinSock::FD_READ;
use wsasim_model::{Handle, Proto, Tcp, Win32Error};

/// What `select` and `WSAPoll` see of a socket now; each call reads it its own way
/// (Wine sock.c test_select, test_WSAPoll, test_tcp_reset).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Readiness {
    /// Bytes or a datagram to read, or (listening) a connection to accept.
    pub data: bool,
    /// The peer's FIN arrived: a receive returns 0.
    pub peer_closed: bool,
    /// An urgent byte waits out of line for `recv(MSG_OOB)`.
    pub urgent: bool,
    /// A send would be taken now.
    pub writable: bool,
    /// The peer reset the connection.
    pub reset: bool,
    /// A nonblocking connect failed (`SO_ERROR` says why).
    pub connect_failed: bool,
}

impl Net {
    /// `event` (an FD_ bit) happened on socket `s` with `error`: it is recorded, the
    /// selected event is set if it is selected, and waiting `select`s look again.
    pub(super) fn occur(&mut self, cx: &mut NetCx, s: SocketId, event: u32, error: Win32Error) {
        let set = self.socket_mut(s).events.occur(event, error);
        set_selected(cx, set);
        self.poke(cx, s);
    }

    /// A re-enabling call for `event` succeeded on `s` (Wine sock.c test_read_events,
    /// test_accept_events); `still` is whether its condition holds.
    pub(super) fn reenable(&mut self, cx: &mut NetCx, s: SocketId, event: u32, still: bool) {
        let set = self.socket_mut(s).events.reenable(event, still);
        set_selected(cx, set);
    }

    /// A receive completed in its call: FD_READ is re-enabled (Wine sock.c test_read_events).
    pub(super) fn received(&mut self, cx: &mut NetCx, s: SocketId) {
        let left = match self.socket(s).proto {
            Proto::Tcp => self.readable(s) > 0,
            Proto::Udp => self.socket(s).udp_readable(),
        };
        self.reenable(cx, s, FD_READ, left);
    }

    /// The send buffer of `s` has room again: FD_WRITE if a send was refused since the
    /// last one (Wine sock.c test_write_events), and waiting `select`s look again.
    pub(super) fn send_room(&mut self, cx: &mut NetCx, s: SocketId) {
        let set = self.socket_mut(s).events.send_room();
        set_selected(cx, set);
        self.poke(cx, s);
    }

    /// `WSAEventSelect(s, event, mask)` (Doc: WSAEventSelect; Wine sock.c test_fionbio,
    /// test_accept_events): the socket becomes nonblocking, and the event is set at once
    /// when recorded events are in the new mask.
    pub(crate) fn event_select(&mut self, cx: &mut NetCx, s: SocketId, event: Option<Handle>, mask: u32) {
        let socket = self.socket_mut(s);
        socket.options.nonblocking = true;
        let set = socket.events.select(event, mask);
        set_selected(cx, set);
    }

    /// What `select` and `WSAPoll` report for `s` now.
    pub fn readiness(&self, s: SocketId) -> Readiness {
        let socket = self.socket(s);
        match (socket.proto, socket.tcp, socket.end) {
            // An unbound UDP socket is writable too (Wine sock.c test_select).
            (Proto::Udp, ..) => {
                // A port unreachable to report makes it readable too (Microsoft KB 263823:
                // select reports it readable, and recvfrom then fails).
                Readiness { data: socket.udp_readable(), writable: true, ..Readiness::default() }
            }
            (Proto::Tcp, Tcp::Listening, _) => {
                Readiness { data: !socket.backlog.is_empty(), ..Readiness::default() }
            }
            (Proto::Tcp, Tcp::Reset { .. }, _) => {
                Readiness { writable: true, reset: true, ..Readiness::default() }
            }
            (Proto::Tcp, tcp, Some(end)) => {
                let conn = self.conn(end.conn);
                let (incoming, outgoing) = (&conn.streams[1 - end.side], &conn.streams[end.side]);
                Readiness {
                    data: incoming.readable() > 0,
                    peer_closed: incoming.at_end(),
                    urgent: incoming.urgent_pending(),
                    writable: tcp.may_send().is_ok() && outgoing.buffered() < socket.options.send_buffer,
                    ..Readiness::default()
                }
            }
            (Proto::Tcp, Tcp::Idle, None) => {
                Readiness { connect_failed: socket.error != 0, ..Readiness::default() }
            }
            (Proto::Tcp, ..) => Readiness::default(),
        }
    }

    /// The threads waiting in `select` or `WSAPoll` on `s` look again: its readiness may
    /// have changed.
    pub(super) fn poke(&self, cx: &mut NetCx, s: SocketId) {
        cx.effect(Effect::Poke(self.socket(s).handle));
    }
}

/// The selected event of a socket is set, if an event was selected and set.
fn set_selected(cx: &mut NetCx, event: Option<Handle>) {
    if let Some(h) = event {
        cx.effect(Effect::Signal(h));
    }
}
