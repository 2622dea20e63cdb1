//! A UDP socket's receive queue: whole datagrams, each with its sender, read one at a time.
//!
//! A datagram larger than the reader's buffers is cut: the reader gets its first part, the
//! rest is thrown away, and the read reports `WSAEMSGSIZE` (Wine sock.c test_icmp,
//! Wine afd.c test_recv "short read of a UDP datagram"). The cut bytes are counted, so the
//! end-of-run check still balances.

use std::collections::VecDeque;
use std::net::SocketAddrV4;

/// One datagram as it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datagram {
    pub from: SocketAddrV4,
    pub data: Vec<u8>,
}

/// What one read took from the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    pub from: SocketAddrV4,
    /// At most the capacity asked for.
    pub data: Vec<u8>,
    /// The datagram did not fit: the rest was discarded (`WSAEMSGSIZE`,
    /// `STATUS_BUFFER_OVERFLOW`).
    pub truncated: bool,
}

/// Byte counts of a receive queue, for the end-of-run conservation check.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DatagramCounts {
    pub arrived: u64,
    pub read: u64,
    pub queued: u64,
    pub truncated: u64,
    /// Thrown away unread: the socket closed with datagrams queued.
    pub discarded: u64,
}

impl DatagramCounts {
    pub fn conserved(&self) -> bool {
        self.arrived == self.read + self.queued + self.truncated + self.discarded
    }
}

#[derive(Debug, Clone, Default)]
pub struct DatagramQueue {
    queue: VecDeque<Datagram>,
    counts: DatagramCounts,
}

impl DatagramQueue {
    pub fn new() -> DatagramQueue {
        DatagramQueue::default()
    }

    pub fn push(&mut self, datagram: Datagram) {
        let len = datagram.data.len() as u64;
        self.counts.arrived += len;
        self.counts.queued += len;
        self.queue.push_back(datagram);
        self.check();
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// The size of the next datagram (`FIONREAD` on a datagram socket reports it).
    pub fn next_len(&self) -> Option<usize> {
        self.queue.front().map(|d| d.data.len())
    }

    /// Reads the next datagram into `capacity` bytes; with `peek`, leaves it queued whole.
    pub fn read(&mut self, capacity: usize, peek: bool) -> Option<Read> {
        let front = self.queue.front()?;
        let truncated = front.data.len() > capacity;
        let read =
            Read { from: front.from, data: front.data[..front.data.len().min(capacity)].to_vec(), truncated };
        if !peek {
            let whole = self.queue.pop_front().expect("front exists").data.len() as u64;
            let kept = read.data.len() as u64;
            self.counts.queued -= whole;
            self.counts.read += kept;
            self.counts.truncated += whole - kept;
        }
        self.check();
        Some(read)
    }

    /// The socket closed: every queued datagram is discarded and counted.
    pub fn discard_all(&mut self) {
        self.counts.discarded += self.counts.queued;
        self.counts.queued = 0;
        self.queue.clear();
        self.check();
    }

    pub fn counts(&self) -> DatagramCounts {
        self.counts
    }

    fn check(&self) {
        assert!(self.counts.conserved(), "bytes lost in a datagram queue: {:?}", self.counts);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from() -> SocketAddrV4 {
        "192.0.2.9:5000".parse().unwrap()
    }

    #[test]
    fn datagrams_keep_their_boundaries_and_order() {
        let mut q = DatagramQueue::new();
        q.push(Datagram { from: from(), data: b"one".to_vec() });
        q.push(Datagram { from: from(), data: b"three".to_vec() });
        assert_eq!(q.next_len(), Some(3));
        let r = q.read(100, false).unwrap();
        assert_eq!((r.data.as_slice(), r.truncated, r.from), (&b"one"[..], false, from()));
        assert_eq!(q.read(100, false).unwrap().data, b"three");
        assert_eq!(q.read(100, false), None);
    }

    #[test]
    fn a_short_buffer_gets_the_first_part_and_the_rest_is_discarded() {
        // Wine afd.c test_recv: a 9-byte datagram into 6 bytes of buffers gives 6 bytes and
        // STATUS_BUFFER_OVERFLOW; Wine sock.c test_icmp: the next read gets the next datagram.
        let mut q = DatagramQueue::new();
        q.push(Datagram { from: from(), data: b"moredata!".to_vec() });
        q.push(Datagram { from: from(), data: b"next".to_vec() });
        let r = q.read(6, false).unwrap();
        assert_eq!((r.data.as_slice(), r.truncated), (&b"moreda"[..], true));
        assert_eq!(q.read(6, false).unwrap().data, b"next");
        let c = q.counts();
        assert_eq!((c.arrived, c.read, c.truncated), (13, 10, 3));
    }

    #[test]
    fn a_peek_leaves_the_datagram_whole() {
        let mut q = DatagramQueue::new();
        q.push(Datagram { from: from(), data: b"abcdef".to_vec() });
        assert!(q.read(2, true).unwrap().truncated);
        assert_eq!(q.read(100, false).unwrap().data, b"abcdef");
    }

    #[test]
    fn closing_discards_and_counts_what_is_queued() {
        let mut q = DatagramQueue::new();
        q.push(Datagram { from: from(), data: vec![0; 10] });
        q.discard_all();
        assert_eq!(q.counts().discarded, 10);
        assert!(q.is_empty());
    }
}
