//! A socket's record in the transport: its protocol state, addresses, options and the
//! operations it holds.

use super::ConnId;
use super::op::Op;
use std::collections::{BTreeSet, VecDeque};
use std::net::SocketAddrV4;
use wsasim_model::{DatagramQueue, Handle, HostId, NetworkEvents, Proto, Tcp, Udp};

/// The options a program can set, with Windows' defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// `FIONBIO`.
    pub nonblocking: bool,
    /// `SO_SNDBUF`, `SO_RCVBUF`: 64 KiB each [inferred: the value `getsockopt` is commonly
    /// reported to give on Windows 10; no Microsoft page or Wine test states it].
    pub send_buffer: usize,
    pub receive_buffer: usize,
    /// `SO_LINGER`: `Some(0)` makes `closesocket` abortive.
    pub linger: Option<u16>,
    pub reuse_addr: bool,
    /// `SO_RCVTIMEO` in milliseconds, 0 for none.
    pub receive_timeout_ms: u32,
    /// `TCP_NODELAY`: kept and reported; segments already go out as soon as sent.
    pub no_delay: bool,
    /// `SO_OOBINLINE`: urgent bytes stay in the stream (Wine sock.c test_select, OOB part).
    pub oob_inline: bool,
    /// `SO_KEEPALIVE`, or `SIO_KEEPALIVE_VALS`' `onoff`: off by default (Doc:
    /// SO_KEEPALIVE).
    pub keep_alive: bool,
    /// `SIO_KEEPALIVE_VALS`' `keepalivetime` and `keepaliveinterval`: 2 hours and 1
    /// second by default (Doc: SO_KEEPALIVE, KeepAliveTime and KeepAliveInterval).
    pub keep_alive_idle_ms: u32,
    pub keep_alive_interval_ms: u32,
    /// `SIO_UDP_CONNRESET`: ICMP port unreachables are reported (on by default: the Winsock
    /// IOCTLs page; Microsoft KB 263823).
    pub report_unreachable: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            nonblocking: false,
            send_buffer: 65536,
            receive_buffer: 65536,
            linger: None,
            reuse_addr: false,
            receive_timeout_ms: 0,
            no_delay: false,
            oob_inline: false,
            keep_alive: false,
            keep_alive_idle_ms: 2 * 60 * 60 * 1000,
            keep_alive_interval_ms: 1000,
            report_unreachable: true,
        }
    }
}

/// Which end of a connection a socket is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct End {
    pub conn: ConnId,
    /// 0 for the end that connected, 1 for the accepted one.
    pub side: usize,
}

#[derive(Debug)]
pub struct Socket {
    pub handle: Handle,
    pub host: HostId,
    pub proto: Proto,
    /// Made by `socket()` (Doc: socket function), or by `WSASocketW` with
    /// `WSA_FLAG_OVERLAPPED` (Doc: WSASocketW function).
    pub overlapped: bool,
    pub options: Options,
    /// The bound address: `bind`, or the implicit bind of `connect` or a first `sendto`;
    /// for an accepted socket, the address its peer connected to.
    pub local: Option<SocketAddrV4>,
    /// Whether the socket holds its port in the host's table (an accepted socket shares
    /// its listener's).
    pub holds_port: bool,
    /// The peer of a connected socket (TCP, or UDP after `connect`).
    pub peer: Option<SocketAddrV4>,
    /// TCP only.
    pub tcp: Tcp,
    pub end: Option<End>,
    /// A listener's connections, established and not yet accepted.
    pub backlog: VecDeque<ConnId>,
    pub backlog_max: usize,
    /// UDP only.
    pub datagrams: DatagramQueue,
    /// UDP only: ICMP port unreachable messages not yet reported, each to one receive.
    pub port_unreachable: u32,
    /// UDP only: what `shutdown` turned off.
    pub udp: Udp,
    /// Pending receives and sends, each served in the order posted (Wine sock.c
    /// test_simultaneous_async_recv; Doc: WSARecv, Doc: WSASend).
    pub receives: VecDeque<Op>,
    pub sends: VecDeque<Op>,
    /// Blocking `accept` and `connect` calls, woken when the state they wait for changes.
    pub waiters: Vec<Op>,
    /// `shutdown(SD_SEND)` came while sends were pending: the end of stream follows them.
    pub finish_after_sends: bool,
    /// `WSAEventSelect`'s selection and the record of network events.
    pub events: NetworkEvents,
    /// `SO_ERROR`: the last connect failure (reading it does not clear it: Wine sock.c
    /// test_select).
    pub error: u32,
    pub closed: bool,
    /// Every OVERLAPPED an operation on this socket was given: what its
    /// `WSAGetOverlappedResult` may ask about.
    pub used_overlappeds: Overlappeds,
}

/// A set of OVERLAPPEDs by address, which remembers the last two given: a program mostly
/// reuses one for its receives and one for its sends, which are then found at once.
#[derive(Debug, Default)]
pub struct Overlappeds {
    all: BTreeSet<usize>,
    recent: [Option<usize>; 2],
}

impl Overlappeds {
    pub fn insert(&mut self, overlapped: usize) {
        if !self.recent.contains(&Some(overlapped)) {
            self.all.insert(overlapped);
            self.recent = [Some(overlapped), self.recent[0]];
        }
    }

    pub fn contains(&self, overlapped: usize) -> bool {
        self.recent.contains(&Some(overlapped)) || self.all.contains(&overlapped)
    }
}

impl Socket {
    /// A UDP socket's receive would complete now: a datagram is queued, or a port
    /// unreachable waits to be reported.
    pub fn udp_readable(&self) -> bool {
        !self.datagrams.is_empty() || self.port_unreachable > 0
    }

    pub fn new(handle: Handle, host: HostId, proto: Proto, overlapped: bool) -> Socket {
        Socket {
            handle,
            host,
            proto,
            overlapped,
            options: Options::default(),
            local: None,
            holds_port: false,
            peer: None,
            tcp: Tcp::new(),
            end: None,
            backlog: VecDeque::new(),
            backlog_max: 0,
            datagrams: DatagramQueue::new(),
            port_unreachable: 0,
            udp: Udp::default(),
            receives: VecDeque::new(),
            sends: VecDeque::new(),
            waiters: Vec::new(),
            finish_after_sends: false,
            events: NetworkEvents::default(),
            error: 0,
            closed: false,
            used_overlappeds: Overlappeds::default(),
        }
    }

    /// Takes the pending receives, then sends, that `matches` picks, keeping the others in
    /// order. Allocates nothing when it picks none, the usual case at a thread's exit.
    pub fn take_ops(&mut self, matches: impl Fn(&Op) -> bool) -> Vec<Op> {
        let mut taken = Vec::new();
        for queue in [&mut self.receives, &mut self.sends] {
            if queue.iter().any(&matches) {
                let (hit, kept): (VecDeque<Op>, VecDeque<Op>) = queue.drain(..).partition(&matches);
                *queue = kept;
                taken.extend(hit);
            }
        }
        taken
    }
}

#[cfg(test)]
mod tests {
    use super::Overlappeds;

    #[test]
    fn overlappeds_hold_every_one_given_the_last_two_or_older() {
        let mut used = Overlappeds::default();
        assert!(!used.contains(0), "none given, NULL neither");
        for ov in [0x1000, 0x2000, 0x1000, 0x3000, 0x4000] {
            used.insert(ov);
        }
        assert!([0x1000, 0x2000, 0x3000, 0x4000].iter().all(|ov| used.contains(*ov)));
        assert!(!used.contains(0x5000) && !used.contains(0));
    }
}
