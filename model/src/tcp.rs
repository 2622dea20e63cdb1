//! The life of a TCP socket, and the errors each call gets in each state.
//!
//! Sources: shutdown: Wine sock.c test_shutdown, Doc: shutdown; a reset by the peer: Wine
//! sock.c test_tcp_reset; connect: Wine sock.c test_errors, test_connect,
//! test_connecting_socket; Doc: listen and Doc: connect (their error tables).

use crate::Win32Error;
use windows_sys::Win32::Networking::WinSock::{
    SD_BOTH, SD_RECEIVE, SD_SEND, WSAEALREADY, WSAECONNABORTED, WSAECONNRESET, WSAEINVAL, WSAEISCONN,
    WSAENOTCONN, WSAESHUTDOWN,
};

/// A TCP socket's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tcp {
    /// Made by `socket`; enters again when a connect fails (a socket may connect again
    /// after a refusal: Wine sock.c test_connect). Leaves by `listen` or `connect`. Whether
    /// it is bound is the socket's address, not a state of its own.
    Idle,
    /// After `listen`. Final until close.
    Listening,
    /// A connect is under way; leaves when it is accepted or refused.
    Connecting,
    /// Established (by a connect, or as an accepted socket); each direction can be shut
    /// down, and neither can be opened again (Doc: shutdown).
    Connected { send_open: bool, receive_open: bool },
    /// The peer reset the connection: sends and receives fail at once. Final. Resets are
    /// told apart by the socket's state when one arrives: after the peer's end of stream
    /// (`after_fin`: as when the peer closed, then answered data sent to it with a reset)
    /// they fail with `WSAECONNABORTED` (Wine sock.c test_shutdown, "Send data to a peer
    /// which is closed"), on an open connection with `WSAECONNRESET` (Wine sock.c
    /// test_tcp_reset). That a reset after a half-close with no data sent is the same is
    /// inferred: no test separates the two.
    Reset { after_fin: bool },
    /// This side gave up on the connection: its retransmissions ran out (TCP's user
    /// timeout, RFC 1122 4.2.3.5), or its keep-alive probes went unanswered
    /// (`keep_alive`). Sends and receives fail at once, with [`Tcp::DROPPED_ERROR`] or
    /// [`Tcp::KEEP_ALIVE_ERROR`]. Final.
    Dropped { keep_alive: bool },
}

fn err(e: i32) -> Win32Error {
    e as Win32Error
}

impl Tcp {
    pub fn new() -> Tcp {
        Tcp::Idle
    }

    /// A socket made by `accept`: established from the start.
    pub fn accepted() -> Tcp {
        Tcp::Connected { send_open: true, receive_open: true }
    }

    /// `listen` (Doc: listen), on a socket `bound` to an address or not: an unbound socket
    /// is `WSAEINVAL`, a connected one `WSAEISCONN`; listening again only changes the
    /// backlog. A socket still connecting gets `WSAEALREADY`, as `connect` does then
    /// [inferred: no page or test covers it].
    pub fn listen(&mut self, bound: bool) -> Result<(), Win32Error> {
        match *self {
            Tcp::Idle if bound => {
                *self = Tcp::Listening;
                Ok(())
            }
            Tcp::Listening => Ok(()),
            Tcp::Idle => Err(err(WSAEINVAL)),
            Tcp::Connecting => Err(err(WSAEALREADY)),
            Tcp::Connected { .. } | Tcp::Reset { .. } | Tcp::Dropped { .. } => Err(err(WSAEISCONN)),
        }
    }

    /// `connect` starts (Wine sock.c test_connect, test_connecting_socket): on a listening
    /// socket `WSAEINVAL`, while another is under way `WSAEALREADY`, once connected (even
    /// shut down: Wine sock.c test_shutdown) `WSAEISCONN`.
    pub fn connect(&mut self) -> Result<(), Win32Error> {
        match *self {
            Tcp::Idle => {
                *self = Tcp::Connecting;
                Ok(())
            }
            Tcp::Listening => Err(err(WSAEINVAL)),
            Tcp::Connecting => Err(err(WSAEALREADY)),
            Tcp::Connected { .. } | Tcp::Reset { .. } | Tcp::Dropped { .. } => Err(err(WSAEISCONN)),
        }
    }

    /// The connect was accepted.
    pub fn established(&mut self) {
        assert_eq!(*self, Tcp::Connecting, "established without a connect");
        *self = Tcp::Connected { send_open: true, receive_open: true };
    }

    /// The connect was refused: the socket may try again (it stays bound to its
    /// ephemeral port).
    pub fn refused(&mut self) {
        assert_eq!(*self, Tcp::Connecting, "refused without a connect");
        *self = Tcp::Idle;
    }

    /// The peer reset the connection, after its end of stream arrived or not.
    pub fn reset(&mut self, after_fin: bool) {
        if let Tcp::Connected { .. } = self {
            *self = Tcp::Reset { after_fin };
        }
    }

    /// What a dropped connection's operations fail with: Doc: WSASend, WSAECONNABORTED,
    /// "The virtual circuit was terminated due to a time-out or other failure".
    pub const DROPPED_ERROR: Win32Error = WSAECONNABORTED as Win32Error;

    /// What a connection keep-alive dropped fails later calls with: Doc: Windows Sockets
    /// Error Codes, WSAECONNRESET, "Subsequent operations fail with WSAECONNRESET" (the
    /// SIO_KEEPALIVE_VALS page says WSAENOTCONN; the error codes page is followed).
    pub const KEEP_ALIVE_ERROR: Win32Error = WSAECONNRESET as Win32Error;

    /// This side gives up on an established connection, its keep-alive probes
    /// unanswered or not.
    pub fn drop_connection(&mut self, keep_alive: bool) {
        if let Tcp::Connected { .. } = self {
            *self = Tcp::Dropped { keep_alive };
        }
    }

    fn dropped_error(keep_alive: bool) -> Win32Error {
        if keep_alive { Tcp::KEEP_ALIVE_ERROR } else { Tcp::DROPPED_ERROR }
    }

    /// What sends and receives fail with after a reset.
    fn reset_error(after_fin: bool) -> Win32Error {
        err(if after_fin { WSAECONNABORTED } else { WSAECONNRESET })
    }

    /// `shutdown(how)` (Wine sock.c test_shutdown): a bad `how` is `WSAEINVAL`; a socket
    /// that is not connected (listening included) `WSAENOTCONN`; repeating a direction
    /// succeeds.
    pub fn shutdown(&mut self, how: i32) -> Result<(), Win32Error> {
        let (send, receive) = match how {
            SD_SEND => (true, false),
            SD_RECEIVE => (false, true),
            SD_BOTH => (true, true),
            _ => return Err(err(WSAEINVAL)),
        };
        match self {
            Tcp::Connected { send_open, receive_open } => {
                *send_open &= !send;
                *receive_open &= !receive;
                Ok(())
            }
            Tcp::Reset { .. } | Tcp::Dropped { .. } => Ok(()),
            _ => Err(err(WSAENOTCONN)),
        }
    }

    /// Whether a send may start: `WSAENOTCONN` before a connection (while connecting too:
    /// Wine sock.c test_connecting_socket), `WSAESHUTDOWN` after `SD_SEND`, the reset's
    /// error after a reset.
    pub fn may_send(&self) -> Result<(), Win32Error> {
        match self {
            Tcp::Connected { send_open: true, .. } => Ok(()),
            Tcp::Connected { send_open: false, .. } => Err(err(WSAESHUTDOWN)),
            Tcp::Reset { after_fin } => Err(Tcp::reset_error(*after_fin)),
            Tcp::Dropped { keep_alive } => Err(Tcp::dropped_error(*keep_alive)),
            _ => Err(err(WSAENOTCONN)),
        }
    }

    /// Whether a receive may start: as for sends, with `SD_RECEIVE` (an overlapped receive
    /// after it fails at once too: Wine sock.c test_shutdown).
    pub fn may_receive(&self) -> Result<(), Win32Error> {
        match self {
            Tcp::Connected { receive_open: true, .. } => Ok(()),
            Tcp::Connected { receive_open: false, .. } => Err(err(WSAESHUTDOWN)),
            Tcp::Reset { after_fin } => Err(Tcp::reset_error(*after_fin)),
            Tcp::Dropped { keep_alive } => Err(Tcp::dropped_error(*keep_alive)),
            _ => Err(err(WSAENOTCONN)),
        }
    }
}

impl Default for Tcp {
    fn default() -> Tcp {
        Tcp::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPEN: Tcp = Tcp::Connected { send_open: true, receive_open: true };

    #[test]
    fn each_call_gets_the_error_of_its_state() {
        let reset = Tcp::Reset { after_fin: false };
        let aborted = Tcp::Reset { after_fin: true };
        // Each state with whether its socket is bound.
        let states = [
            (Tcp::new(), false),
            (Tcp::Idle, true),
            (Tcp::Listening, true),
            (Tcp::Connecting, true),
            (OPEN, true),
            (reset, true),
            (aborted, true),
        ];
        // (listen, connect, send, receive) for each state, 0 for success.
        let expected: [[i32; 4]; 7] = [
            [WSAEINVAL, 0, WSAENOTCONN, WSAENOTCONN],
            [0, 0, WSAENOTCONN, WSAENOTCONN],
            [0, WSAEINVAL, WSAENOTCONN, WSAENOTCONN],
            [WSAEALREADY, WSAEALREADY, WSAENOTCONN, WSAENOTCONN],
            [WSAEISCONN, WSAEISCONN, 0, 0],
            [WSAEISCONN, WSAEISCONN, WSAECONNRESET, WSAECONNRESET],
            [WSAEISCONN, WSAEISCONN, WSAECONNABORTED, WSAECONNABORTED],
        ];
        let code = |r: Result<(), Win32Error>| r.err().map_or(0, |e| e as i32);
        for ((state, bound), row) in states.into_iter().zip(expected) {
            let got = [
                code(state.clone().listen(bound)),
                code(state.clone().connect()),
                code(state.may_send()),
                code(state.may_receive()),
            ];
            assert_eq!(got, row, "{state:?}");
        }
    }

    #[test]
    fn shutdown_closes_directions_for_good() {
        // Wine sock.c test_shutdown: bad `how`, unconnected and listening sockets; SD_SEND
        // twice succeeds.
        assert_eq!(OPEN.clone().shutdown(7), Err(WSAEINVAL as u32));
        assert_eq!(Tcp::new().shutdown(SD_SEND), Err(WSAENOTCONN as u32));
        assert_eq!(Tcp::Listening.shutdown(SD_BOTH), Err(WSAENOTCONN as u32));
        let mut s = OPEN;
        s.shutdown(SD_SEND).unwrap();
        s.shutdown(SD_SEND).unwrap();
        assert_eq!(s.may_send(), Err(WSAESHUTDOWN as u32));
        assert_eq!(s.may_receive(), Ok(()));
        s.shutdown(SD_RECEIVE).unwrap();
        assert_eq!(s.may_receive(), Err(WSAESHUTDOWN as u32));
        assert_eq!(s.connect(), Err(WSAEISCONN as u32), "connect after shutdown");
    }

    #[test]
    fn a_refused_connect_may_be_tried_again() {
        let mut s = Tcp::new();
        s.connect().unwrap();
        s.refused();
        assert_eq!(s, Tcp::Idle);
        s.connect().unwrap();
        s.established();
        assert_eq!(s, OPEN);
        s.reset(false);
        assert_eq!(s.may_send(), Err(WSAECONNRESET as u32));
        s.reset(true);
        assert_eq!(s.may_send(), Err(WSAECONNRESET as u32), "a reset is final");
    }
}
