//! One direction of a TCP connection: the bytes a sender's sends have handed to the
//! transport, on their way through the network to the receiver's queue.
//!
//! ```text
//! send(...) ──accept──▶ unsent ──transmit──▶ in flight ──deliver──▶ received ──read──▶ app
//!                       └──── the sender's send buffer ────┘        └─ receive buffer ─┘
//! ```
//!
//! The send buffer holds bytes until they are delivered (acknowledgement is taken to be
//! instant on delivery); the receiver's buffer bounds what may be in flight or unread, as
//! TCP's window does. So a receiver that stops reading fills its buffer, then the sender's,
//! and then sends must wait (Wine sock.c test_send). How big each segment is belongs to the
//! caller (the engine draws it), and nothing here knows about time.
//!
//! Urgent data (`send` with `MSG_OOB`) travels in the stream at its place; as it arrives
//! it is set aside for `recv(MSG_OOB)`, or left in line when the receiver has
//! `SO_OOBINLINE` (Wine sock.c test_select, test_fionread_siocatmark).
//!
//! Architecture invariant: no byte is lost silently. `accepted = read + unsent + in flight
//! + received + discarded`, asserted after every change.

use crate::Spares;
use std::collections::VecDeque;

/// A piece of the stream on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub data: Vec<u8>,
    /// The sender's end of stream (after a graceful close or `shutdown(SD_SEND)`) rides on
    /// the last segment.
    pub fin: bool,
}

/// Byte counts of a stream, for the end-of-run conservation check.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub accepted: u64,
    pub read: u64,
    pub unsent: u64,
    pub in_flight: u64,
    /// Arrived and not read: urgent bytes set aside included.
    pub received: u64,
    /// Thrown away by a reset.
    pub discarded: u64,
}

impl Counts {
    pub fn conserved(&self) -> bool {
        self.accepted == self.read + self.unsent + self.in_flight + self.received + self.discarded
    }
}

/// Where the sender's end of stream is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fin {
    /// The sender may still send.
    Open,
    /// The sender is done; the FIN goes out with the last unsent byte.
    Queued,
    /// On the wire.
    InFlight,
    /// Arrived: once `received` is drained, reads return end of stream.
    Arrived,
}

#[derive(Debug, Clone)]
pub struct Stream {
    send_buffer_max: usize,
    receive_buffer_max: usize,
    unsent: VecDeque<u8>,
    in_flight: usize,
    received: VecDeque<u8>,
    fin: Fin,
    reset: bool,
    read: u64,
    accepted: u64,
    discarded: u64,
    /// Stream offsets of urgent bytes not yet arrived.
    marks: VecDeque<u64>,
    /// Bytes that have arrived, urgent ones included: the offset of the next to arrive.
    arrived: u64,
    /// Urgent bytes set aside for `recv(MSG_OOB)`, oldest first (Wine sock.c
    /// test_fionread_siocatmark: a second one is kept too).
    urgent: VecDeque<u8>,
    /// `SO_OOBINLINE` on the receiver.
    oob_inline: bool,
}

impl Stream {
    /// A stream whose sender has `send_buffer_max` bytes of buffer (`SO_SNDBUF`) and whose
    /// receiver has `receive_buffer_max` (`SO_RCVBUF`, at least 1 so the stream can move).
    pub fn new(send_buffer_max: usize, receive_buffer_max: usize) -> Stream {
        assert!(receive_buffer_max > 0, "a receive buffer of 0 bytes would stall every stream");
        Stream {
            send_buffer_max,
            receive_buffer_max,
            unsent: VecDeque::new(),
            in_flight: 0,
            received: VecDeque::new(),
            fin: Fin::Open,
            reset: false,
            read: 0,
            accepted: 0,
            discarded: 0,
            marks: VecDeque::new(),
            arrived: 0,
            urgent: VecDeque::new(),
            oob_inline: false,
        }
    }

    /// How many bytes a send may hand over now. A send buffer of 0 still takes bytes that
    /// can go on the wire at once, as Windows does with `SO_SNDBUF` 0 (Wine sock.c test_send).
    pub fn send_space(&self) -> usize {
        if self.fin != Fin::Open || self.reset {
            return 0;
        }
        let buffered = self.unsent.len() + self.in_flight;
        self.send_buffer_max.saturating_sub(buffered).max(self.room().saturating_sub(self.unsent.len()))
    }

    /// `SO_SNDBUF` changed on the sending socket.
    pub fn set_send_buffer(&mut self, bytes: usize) {
        self.send_buffer_max = bytes;
    }

    /// `SO_RCVBUF` changed on the receiving socket (at least 1, as in [`Stream::new`]).
    pub fn set_receive_buffer(&mut self, bytes: usize) {
        self.receive_buffer_max = bytes.max(1);
    }

    /// Bytes the sender has handed over that the receiver has not yet got: what
    /// `SO_SNDBUF` bounds.
    pub fn buffered(&self) -> usize {
        self.unsent.len() + self.in_flight
    }

    /// Takes all of `data` into the send buffer, beyond `send_space()` if need be: Windows
    /// buffers a whole send whenever less than `SO_SNDBUF` is buffered, so a nonblocking
    /// send is all or nothing (Wine sock.c test_write_events). `false` if the
    /// sender is done. After a reset that the sender has not yet heard of, the bytes are
    /// taken and thrown away, as a network would.
    pub fn accept_all(&mut self, data: &[u8]) -> bool {
        if self.fin != Fin::Open {
            return false;
        }
        self.accepted += data.len() as u64;
        if self.reset {
            self.discarded += data.len() as u64;
        } else {
            self.unsent.extend(data);
        }
        self.check();
        true
    }

    /// The last byte accepted is urgent (`MSG_OOB`: the last byte of the send, as BSD
    /// sockets mark it). It must not have been sent yet.
    pub fn mark_urgent(&mut self) {
        if self.reset {
            return;
        }
        let at = self.accepted.checked_sub(1).expect("a byte to mark");
        assert!(at >= self.arrived + self.in_flight as u64, "marking a byte already sent");
        assert!(self.marks.back().is_none_or(|m| *m < at), "marking a byte twice");
        self.marks.push_back(at);
    }

    /// `SO_OOBINLINE` changed on the receiving socket; it decides for urgent bytes that
    /// arrive from now on (Windows also moves a byte already set aside back in line: not
    /// simulated, a README difference).
    pub fn set_oob_inline(&mut self, inline: bool) {
        self.oob_inline = inline;
    }

    /// Takes up to `send_space()` bytes of `data` into the send buffer; returns how many.
    pub fn accept(&mut self, data: &[u8]) -> usize {
        let n = data.len().min(self.send_space());
        self.unsent.extend(&data[..n]);
        self.accepted += n as u64;
        self.check();
        n
    }

    /// How many unsent bytes may go on the wire now: the receiver's window.
    pub fn window(&self) -> usize {
        self.room().min(self.unsent.len())
    }

    /// Receive buffer space not taken by bytes in flight or unread.
    fn room(&self) -> usize {
        self.receive_buffer_max.saturating_sub(self.received.len() + self.in_flight)
    }

    /// Whether `transmit` has anything to send: bytes within the window, or a queued FIN
    /// once every byte is out.
    pub fn can_transmit(&self) -> bool {
        !self.reset && (self.window() > 0 || (self.fin == Fin::Queued && self.unsent.is_empty()))
    }

    /// Cuts the next segment, of `len` bytes (1 to `window()`, or 0 for a bare FIN).
    pub fn transmit(&mut self, len: usize) -> Segment {
        assert!(self.can_transmit(), "transmit with nothing to send");
        assert!(len <= self.window(), "segment of {len} bytes beyond the window of {}", self.window());
        assert!(len > 0 || self.unsent.is_empty(), "an empty segment with bytes waiting");
        let data = take_front(&mut self.unsent, len);
        self.in_flight += len;
        let fin = self.fin == Fin::Queued && self.unsent.is_empty();
        if fin {
            self.fin = Fin::InFlight;
        }
        self.check();
        Segment { data, fin }
    }

    /// A segment arrives at the receiver, in order; returns how many urgent bytes it set
    /// aside. After a reset it is discarded.
    pub fn deliver(&mut self, segment: Segment) -> usize {
        let Segment { mut data, fin } = segment;
        let len = data.len();
        assert!(len <= self.in_flight, "delivered {len} bytes with {} in flight", self.in_flight);
        self.in_flight -= len;
        let start = self.arrived;
        self.arrived += len as u64;
        let mut urgent = 0;
        while self.marks.front().is_some_and(|m| *m < self.arrived) {
            let at = (self.marks.pop_front().expect("checked") - start) as usize;
            if !self.reset && !self.oob_inline {
                // Earlier urgent bytes of this segment are already out of `data`.
                self.urgent.push_back(data.remove(at - urgent));
                urgent += 1;
            }
        }
        if self.reset {
            self.discarded += len as u64;
            self.check();
            spare(data);
            return 0;
        }
        self.received.extend(&data);
        spare(data);
        if fin {
            assert_eq!(self.fin, Fin::InFlight, "a FIN that was not sent");
            self.fin = Fin::Arrived;
        }
        self.check();
        urgent
    }

    /// Bytes the receiver can read now.
    pub fn readable(&self) -> usize {
        self.received.len()
    }

    /// Whether the receiver has read everything before the sender's end of stream: reads
    /// now return 0 bytes (Doc: WSARecv; Wine sock.c test_shutdown).
    pub fn at_end(&self) -> bool {
        self.fin == Fin::Arrived && self.received.is_empty()
    }

    /// Whether an urgent byte waits for `recv(MSG_OOB)`.
    pub fn urgent_pending(&self) -> bool {
        !self.urgent.is_empty()
    }

    /// `recv(MSG_OOB)`: the oldest urgent byte set aside; with `peek`, left there.
    pub fn read_urgent(&mut self, peek: bool) -> Option<u8> {
        let byte = *self.urgent.front()?;
        if !peek {
            self.urgent.pop_front();
            self.read += 1;
        }
        self.check();
        Some(byte)
    }

    /// Whether the sender's FIN has gone out, arrived or not.
    pub fn fin_sent(&self) -> bool {
        matches!(self.fin, Fin::InFlight | Fin::Arrived)
    }

    /// Whether the sender's FIN has arrived, read up to or not.
    pub fn fin_arrived(&self) -> bool {
        self.fin == Fin::Arrived
    }

    /// Reads up to `max` bytes; with `peek`, copies them without consuming (Wine afd.c
    /// test_recv).
    pub fn read(&mut self, max: usize, peek: bool) -> Vec<u8> {
        let mut data = Vec::with_capacity(max.min(self.received.len()));
        self.read_with(max, peek, |part| data.extend_from_slice(part));
        data
    }

    /// Reads as `read` does, handing the bytes to `into` where they lie, in one slice or
    /// two, without copying them anywhere first: the count read.
    pub fn read_with(&mut self, max: usize, peek: bool, mut into: impl FnMut(&[u8])) -> usize {
        let n = max.min(self.received.len());
        let (a, b) = self.received.as_slices();
        let from_a = n.min(a.len());
        into(&a[..from_a]);
        if n > from_a {
            into(&b[..n - from_a]);
        }
        if !peek {
            self.received.drain(..n);
            self.read += n as u64;
        }
        self.check();
        n
    }

    /// The sender is done sending (`shutdown(SD_SEND)` or a graceful close): bytes already
    /// accepted still go out, then the FIN (Wine sock.c test_write_events,
    /// test_send_buffering).
    pub fn finish(&mut self) {
        if self.fin == Fin::Open {
            self.fin = Fin::Queued;
        }
    }

    /// A segment that will never arrive (its retransmissions ran out): its bytes are
    /// thrown away and counted, and nothing after it can arrive in order, so the stream
    /// ends as by a reset.
    pub fn lose(&mut self, segment: Segment) {
        self.never_sent(segment);
        self.abort();
    }

    /// A segment on the wire that never left after all (its sender's host crashed before
    /// sending it again, or before the one it waited behind): its bytes are thrown away and
    /// counted; what arrived before it stays.
    pub fn never_sent(&mut self, segment: Segment) {
        let len = segment.data.len();
        assert!(len <= self.in_flight, "{len} bytes never sent with {} in flight", self.in_flight);
        self.in_flight -= len;
        self.discarded += len as u64;
        spare(segment.data);
        self.check();
    }

    /// The receiver forgot the connection: what it had not read is thrown away and
    /// counted.
    pub fn forget_received(&mut self) {
        self.discarded += (self.received.len() + self.urgent.len()) as u64;
        self.received.clear();
        self.urgent.clear();
        self.check();
    }

    /// The sender's host forgot the connection (it crashed): what it had not sent is
    /// thrown away and counted, and its end of stream never goes; what is on the wire
    /// still arrives.
    pub fn forget_unsent(&mut self) {
        self.discarded += self.unsent.len() as u64;
        self.unsent.clear();
        let on_the_wire = self.arrived + self.in_flight as u64;
        self.marks.retain(|m| *m < on_the_wire);
        if self.fin == Fin::Queued {
            self.fin = Fin::Open;
        }
        self.check();
    }

    /// Whether a reset ended the stream (`abort`).
    pub fn is_reset(&self) -> bool {
        self.reset
    }

    /// An abortive close or a reset: what was not yet read is thrown away and counted, and
    /// segments still in flight are discarded when they arrive.
    pub fn abort(&mut self) {
        self.discarded += (self.unsent.len() + self.received.len() + self.urgent.len()) as u64;
        self.unsent.clear();
        self.received.clear();
        self.urgent.clear();
        self.marks.clear();
        self.reset = true;
        self.check();
    }

    pub fn counts(&self) -> Counts {
        Counts {
            accepted: self.accepted,
            read: self.read,
            unsent: self.unsent.len() as u64,
            in_flight: self.in_flight as u64,
            received: (self.received.len() + self.urgent.len()) as u64,
            discarded: self.discarded,
        }
    }

    fn check(&self) {
        let c = self.counts();
        assert!(c.conserved(), "bytes lost in a stream: {c:?}");
    }
}

thread_local! {
    /// The payloads of segments delivered, for the next ones' (`take_front`): a stream
    /// sends segments all its life, and each would otherwise allocate its payload.
    static PAYLOADS: Spares<Vec<u8>> = const { Spares::new() };
}

fn spare(mut payload: Vec<u8>) {
    payload.clear();
    PAYLOADS.with(|p| p.give(payload));
}

/// The first `n` bytes of `queue`, removed, copied a slice at a time.
fn take_front(queue: &mut VecDeque<u8>, n: usize) -> Vec<u8> {
    let (a, b) = queue.as_slices();
    let from_a = n.min(a.len());
    let mut data = PAYLOADS.with(Spares::take).unwrap_or_default();
    data.reserve(n);
    data.extend_from_slice(&a[..from_a]);
    data.extend_from_slice(&b[..n - from_a]);
    queue.drain(..n);
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pump(s: &mut Stream, segment_max: usize) {
        while s.can_transmit() {
            let seg = s.transmit(s.window().min(segment_max));
            s.deliver(seg);
        }
    }

    #[test]
    fn bytes_arrive_in_order_in_any_cut_of_segments() {
        let data: Vec<u8> = (0..=255).collect();
        for segment_max in [1, 7, 64, 1000] {
            let mut s = Stream::new(1 << 16, 1 << 16);
            assert_eq!(s.accept(&data), 256);
            pump(&mut s, segment_max);
            assert_eq!(s.read(1000, false), data, "segments of at most {segment_max}");
            assert!(s.counts().conserved());
        }
    }

    #[test]
    fn a_receiver_that_does_not_read_fills_both_buffers_then_stops_the_sender() {
        // Wine sock.c test_send: sends pend when buffer space is exhausted, and go on once
        // the peer drains.
        let mut s = Stream::new(100, 50);
        assert_eq!(s.accept(&[1; 1000]), 100, "the send buffer takes 100");
        pump(&mut s, 30);
        assert_eq!(s.readable(), 50, "the receive buffer is full");
        assert_eq!(s.accept(&[2; 1000]), 50, "delivered bytes freed send buffer space");
        pump(&mut s, 30);
        assert_eq!(s.accept(&[3; 10]), 0, "both buffers are full");
        assert_eq!(s.read(20, false).len(), 20);
        pump(&mut s, 30);
        assert_eq!(s.readable(), 50);
        assert_eq!(s.accept(&[3; 100]), 20);
    }

    #[test]
    fn a_crashed_sender_discards_what_it_had_not_sent_and_its_segments_on_the_wire_arrive() {
        let mut s = Stream::new(100, 100);
        assert_eq!(s.accept(b"abcdef"), 6);
        let on_the_wire = s.transmit(2);
        s.finish();
        s.forget_unsent();
        assert!(!s.can_transmit(), "nothing left to send, not even the FIN");
        s.deliver(on_the_wire);
        assert_eq!(s.read(10, false), b"ab");
        assert!(!s.at_end(), "the end of stream never went");
        let c = s.counts();
        assert_eq!((c.accepted, c.read, c.discarded), (6, 2, 4));
        assert!(c.conserved());
    }

    #[test]
    fn a_zero_send_buffer_still_takes_what_the_window_allows() {
        let mut s = Stream::new(0, 10);
        assert_eq!(s.accept(&[9; 25]), 10);
        pump(&mut s, 4);
        assert_eq!(s.accept(&[9; 25]), 0);
        s.read(10, false);
        assert_eq!(s.accept(&[9; 25]), 10);
    }

    #[test]
    fn a_whole_send_is_taken_beyond_the_buffer_while_the_sender_is_open() {
        let mut s = Stream::new(10, 10);
        assert!(s.accept_all(&[1; 25]));
        assert_eq!(s.buffered(), 25);
        assert_eq!(s.send_space(), 0);
        s.finish();
        assert!(!s.accept_all(&[1; 5]), "nothing after the end of stream");
        assert_eq!(s.counts().accepted, 25);
    }

    #[test]
    fn end_of_stream_comes_after_the_data() {
        let mut s = Stream::new(100, 100);
        s.accept(b"hello");
        s.finish();
        assert_eq!(s.accept(b"more"), 0, "no send after the end of stream");
        let first = s.transmit(2);
        assert!(!first.fin);
        let last = s.transmit(3);
        assert!(last.fin, "the FIN rides on the last byte");
        s.deliver(first);
        assert!(!s.at_end());
        s.deliver(last);
        assert!(!s.at_end(), "data before the FIN is read first");
        assert_eq!(s.read(100, true), b"hello", "a peek does not consume");
        assert_eq!(s.read(100, false), b"hello");
        assert!(s.at_end());
    }

    #[test]
    fn a_bare_fin_goes_out_when_nothing_is_unsent() {
        let mut s = Stream::new(100, 100);
        s.finish();
        let seg = s.transmit(0);
        assert_eq!(seg, Segment { data: vec![], fin: true });
        s.deliver(seg);
        assert!(s.at_end());
    }

    #[test]
    fn an_urgent_byte_is_set_aside_unless_the_receiver_keeps_it_in_line() {
        // Wine sock.c test_fionread_siocatmark: the urgent byte is not counted by
        // FIONREAD, and a second one is kept beside the first.
        let mut s = Stream::new(100, 100);
        s.accept_all(b"12345");
        s.accept_all(b"a");
        s.mark_urgent();
        s.accept_all(b"67b");
        s.mark_urgent();
        let seg = s.transmit(7);
        assert_eq!(s.deliver(seg), 1);
        let seg = s.transmit(2);
        assert_eq!(s.deliver(seg), 1);
        assert_eq!(s.readable(), 7);
        assert!(s.urgent_pending());
        assert_eq!(s.read_urgent(true), Some(b'a'), "a peek leaves it");
        assert_eq!(
            (s.read_urgent(false), s.read_urgent(false), s.read_urgent(false)),
            (Some(b'a'), Some(b'b'), None)
        );
        assert_eq!(s.read(100, false), b"1234567");
        assert!(s.counts().conserved());

        let mut inline = Stream::new(100, 100);
        inline.set_oob_inline(true);
        inline.accept_all(b"xy");
        inline.mark_urgent();
        let seg = inline.transmit(2);
        assert_eq!(inline.deliver(seg), 0, "in line: nothing set aside");
        assert!(!inline.urgent_pending());
        assert_eq!(inline.read(100, false), b"xy");
    }

    #[test]
    fn an_abort_discards_and_counts_every_byte_not_yet_read() {
        let mut s = Stream::new(100, 100);
        s.accept(&[1; 60]);
        let on_wire = s.transmit(20);
        let delivered = s.transmit(10);
        s.deliver(delivered);
        s.read(4, false);
        s.abort();
        s.deliver(on_wire);
        let c = s.counts();
        assert_eq!((c.accepted, c.read, c.discarded), (60, 4, 56));
        assert!(c.conserved());
        assert_eq!(s.readable(), 0);
        assert!(!s.can_transmit());
    }
}
