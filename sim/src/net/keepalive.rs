//! TCP keep-alive (`SO_KEEPALIVE`, `SIO_KEEPALIVE_VALS`): an end that has heard nothing
//! from its peer for the idle time sends a probe; a peer that still holds the connection
//! answers it, one that forgot it answers with a reset, and an end whose probes all go
//! unanswered drops the connection.
//!
//! Windows' numbers (Doc: SO_KEEPALIVE; Doc: SIO_KEEPALIVE_VALS): off by default; when
//! on, the first probe after 2 hours without a packet from the peer, then one a second,
//! ten in all (Windows Vista and later; not settable). An acknowledgement is instant on
//! delivery here, so a segment that arrives is heard at both ends. An accepted end's idle
//! time starts at `accept`, and a connection waiting in the backlog is not probed.
//!
//! Probes are sent only in runs whose network makes faults: without them every probe is
//! answered, or meets a reset that the peer has already sent, so keep-alive could change
//! nothing the program sees, and its timers would only keep a deadlocked run from being
//! reported as one.

use super::effects::NetCx;
use super::{ConnId, EndState, Net, Packet, Sent};
use crate::trace::Entry;
use windows_sys::Win32::Foundation::STATUS_IO_TIMEOUT;
use wsasim_model::{Status, Tcp};

/// Probes an end sends before it drops the connection (Doc: SO_KEEPALIVE: "set to 10 and
/// cannot be changed").
const PROBES: u32 = 10;

/// One end's keep-alive state.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct KeepAlive {
    /// When its timer (`Packet::KeepAlive`) is due; a timer due at another time is one
    /// set before and overtaken, and does nothing.
    due_ns: Option<u64>,
    /// When it last heard from its peer (or the connection was made).
    heard_ns: u64,
    /// Probes sent since then.
    unanswered: u32,
}

impl Net {
    /// Sets side `side`'s keep-alive timer when its socket asks for keep-alive: a first
    /// one as if the peer had just been heard, or an earlier one when the idle time was
    /// made shorter.
    pub(super) fn arm_keep_alive(&mut self, cx: &mut NetCx, c: ConnId, side: usize) {
        let EndState::Open(s) = self.conn(c).ends[side] else { return };
        let options = self.socket(s).options;
        if !options.keep_alive || !self.faults_on {
            return;
        }
        let k = &mut self.conn_mut(c).keep_alive[side];
        if k.due_ns.is_none() {
            *k = KeepAlive { due_ns: None, heard_ns: cx.now_ns, unanswered: 0 };
        }
        let at = k.heard_ns + ms(options.keep_alive_idle_ms);
        if k.unanswered == 0 && k.due_ns.is_none_or(|due| at < due) {
            self.set_timer(c, side, at.max(cx.now_ns));
        }
    }

    fn set_timer(&mut self, c: ConnId, side: usize, at: u64) {
        self.conn_mut(c).keep_alive[side].due_ns = Some(at);
        self.wire.push(at, Packet::KeepAlive { conn: c, side });
    }

    /// Side `side` heard from its peer.
    pub(super) fn heard(&mut self, cx: &NetCx, c: ConnId, side: usize) {
        let k = &mut self.conn_mut(c).keep_alive[side];
        (k.heard_ns, k.unanswered) = (cx.now_ns, 0);
    }

    /// Side `side`'s timer: it goes quiet if its socket no longer asks for keep-alive or
    /// is no longer connected; waits on if the peer was heard within the idle time;
    /// otherwise sends a probe, or, the last one unanswered, drops the connection.
    pub(super) fn keep_alive_due(&mut self, cx: &mut NetCx, c: ConnId, side: usize) {
        if self.conn(c).keep_alive[side].due_ns != Some(cx.now_ns) {
            return;
        }
        let options = match self.conn(c).ends[side] {
            EndState::Open(s) if matches!(self.socket(s).tcp, Tcp::Connected { .. }) => {
                Some(self.socket(s).options).filter(|o| o.keep_alive)
            }
            _ => None,
        };
        let Some(options) = options else {
            self.conn_mut(c).keep_alive[side].due_ns = None;
            return;
        };
        let k = self.conn(c).keep_alive[side];
        let idle_due = k.heard_ns + ms(options.keep_alive_idle_ms);
        let sending = self.conn(c).streams[side].counts().in_flight > 0;
        let next = match k.unanswered {
            // Data on its way is TCP's retransmissions' to look after, not keep-alive's
            // (RFC 1122, 4.2.3.6: probes go on an idle connection).
            _ if sending => cx.now_ns + ms(options.keep_alive_idle_ms),
            0 if cx.now_ns < idle_due => idle_due,
            PROBES => return self.keep_alive_failed(cx, c, side),
            _ => {
                self.conn_mut(c).keep_alive[side].unanswered += 1;
                self.send_probe(cx, c, side, false);
                cx.now_ns + ms(options.keep_alive_interval_ms)
            }
        };
        self.set_timer(c, side, next);
    }

    /// A probe from side `side`, or its answer (`ack`), on the wire: neither is sent
    /// again when lost.
    fn send_probe(&mut self, cx: &mut NetCx, c: ConnId, side: usize, ack: bool) {
        let conn = self.conn(c);
        let (from, to) = (conn.hosts[side], conn.hosts[1 - side]);
        let sent = self.send_packet(cx, from, to, 0, Packet::Probe { conn: c, side, ack });
        assert!(!matches!(sent, Sent::GivesUp(..)), "a probe is sent once");
    }

    /// A probe (or its answer) from side `side` arrives: an end that holds the
    /// connection (its socket open or not) has heard its peer, and answers a probe; one
    /// whose host forgot it, or that was reset, answers with a reset each time (RFC 793,
    /// 3.4), which fails the prober's operations as any reset does.
    pub(super) fn probe_arrives(&mut self, cx: &mut NetCx, c: ConnId, side: usize, ack: bool) {
        let conn = self.conn(c);
        let what = Packet::probe_name(ack);
        cx.record(Entry::Packet { what, from: conn.addrs[side], to: conn.addrs[1 - side], bytes: 0 });
        let forgot = conn.ends[1 - side] == EndState::Gone || conn.streams[side].is_reset();
        match (forgot, ack) {
            (true, false) => self.abort(cx, c, 1 - side, false),
            // An answer for an end that has since dropped the connection: nobody waits.
            (true, true) => {}
            (false, _) => {
                self.heard(cx, c, 1 - side);
                if !ack {
                    self.send_probe(cx, c, 1 - side, true);
                }
            }
        }
    }

    /// Every probe of side `side` went unanswered: its host forgets the connection, as
    /// when retransmissions run out, and what it had not sent is thrown away. Its pending
    /// operations complete with `STATUS_IO_TIMEOUT` (`WSAETIMEDOUT`: Doc: WSARecv, "the
    /// peer system failed to respond"; `ERROR_SEM_TIMEOUT` through
    /// `GetOverlappedResult`), its later calls fail with `Tcp::KEEP_ALIVE_ERROR`.
    fn keep_alive_failed(&mut self, cx: &mut NetCx, c: ConnId, side: usize) {
        let conn = self.conn_mut(c);
        conn.keep_alive[side].due_ns = None;
        conn.streams[side].forget_unsent();
        let (from, to) = (conn.addrs[side], conn.addrs[1 - side]);
        cx.record(Entry::Packet { what: "keep-alive gave up", from, to, bytes: 0 });
        self.drop_end(cx, c, side, Status(STATUS_IO_TIMEOUT), true);
    }
}

fn ms(ms: u32) -> u64 {
    u64::from(ms) * 1_000_000
}
