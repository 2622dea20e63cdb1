//! The faults a run's network is set to make, and the fate they give each packet.
//!
//! [`Net::send_packet`](super::Net::send_packet) asks [`Faults::fate`] what becomes of every
//! packet it puts on the wire. Each fault is a decision of the run's oracle (recorded in a
//! schedule, replayed exactly) and an entry of the trace. What a fault does depends on the
//! protocol, as on a real network:
//!
//! - A datagram (or an ICMP message) is lost, duplicated or reordered, and the program
//!   sees it so.
//! - A TCP segment, SYN or SYN-ACK that is lost is sent again after a retransmission
//!   timeout that doubles each time; the program sees only the delay, unless every
//!   retransmission is lost too (a partition), when the connection gives up. A duplicate
//!   is discarded by the receiver; a segment held back delays those behind it, as TCP
//!   delivers in order.
//! - A reset is not retransmitted: lost, it is gone (RFC 793: the peer's next segment to
//!   the connection that no longer exists draws another).
//!
//! The timers are Windows' (see [`Retransmit`]).

use super::effects::NetCx;
use crate::strategy::Choice;
use std::collections::BTreeMap;
use wsasim_model::HostId;

/// A chance in parts per million: exact, so a setting of 0.1 draws alike everywhere.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Chance(u32);

impl Chance {
    const WHOLE: u32 = 1_000_000;

    /// In parts per million, at most a million.
    pub fn from_ppm(ppm: u32) -> Option<Chance> {
        (ppm <= Chance::WHOLE).then_some(Chance(ppm))
    }

    pub fn ppm(self) -> u32 {
        self.0
    }

    /// A probability from 0 to 1; `None` for anything else.
    pub fn of(p: f64) -> Option<Chance> {
        (0.0..=1.0).contains(&p).then(|| Chance((p * f64::from(Chance::WHOLE)).round() as u32))
    }

    /// Whether it happens this time: a decision of the oracle, drawn only when it can. Its
    /// option 0, the default a schedule falls back to, is that it does not happen.
    pub(super) fn happens(self, cx: &mut NetCx, choice: Choice) -> bool {
        self.0 > 0 && cx.pick(choice, Chance::WHOLE as usize) >= (Chance::WHOLE - self.0) as usize
    }
}

/// What may go wrong on a link, packet by packet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkFaults {
    pub loss: Chance,
    pub duplicate: Chance,
    pub reorder: Chance,
    /// Each TCP segment with data makes a middlebox reset its connection.
    pub reset: Chance,
}

/// Two groups of hosts that cannot reach each other from `from_ns` until `heal_ns`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    pub from_ns: u64,
    /// `u64::MAX`: never heals.
    pub heal_ns: u64,
    pub sides: [Vec<HostId>; 2],
}

impl Partition {
    fn separates(&self, a: HostId, b: HostId, at_ns: u64) -> bool {
        let [x, y] = &self.sides;
        (self.from_ns..self.heal_ns).contains(&at_ns)
            && ((x.contains(&a) && y.contains(&b)) || (x.contains(&b) && y.contains(&a)))
    }
}

/// Windows' retransmission timers (see the README's table of TCP timers for sources).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retransmit {
    /// The first timeout: for a SYN or SYN-ACK, Windows' initial RTO; for data, what the
    /// link's round trip gives, no less than Windows' minimum RTO.
    pub first_ns: u64,
    /// How many times it is sent again before the connection gives up.
    pub retries: u32,
}

impl Retransmit {
    /// A connection request: InitialRto 3 s, MaxSynRetransmissions 2, so a connect that
    /// cannot get through fails after 3 + 6 + 12 = 21 s.
    pub const SYN: Retransmit = Retransmit { first_ns: 3_000_000_000, retries: 2 };
    /// Windows' minimum RTO, 300 ms.
    pub const MIN_RTO_NS: u64 = 300_000_000;
    /// TcpMaxDataRetransmissions, 5.
    pub const DATA_RETRIES: u32 = 5;

    /// Data on a link whose round trip takes at most `rtt_ns`: the RTO RFC 6298 gives after
    /// one measurement (SRTT + 4 × RTTVAR = 3 × RTT), no less than the minimum.
    pub fn data(rtt_ns: u64) -> Retransmit {
        Retransmit { first_ns: (3 * rtt_ns).max(Retransmit::MIN_RTO_NS), retries: Retransmit::DATA_RETRIES }
    }

    /// When the sender gives up, counted from the first transmission: the last timeout
    /// runs out too.
    pub fn gives_up_after_ns(self) -> u64 {
        (0..=self.retries).map(|i| self.first_ns << i).sum()
    }
}

/// How a packet is carried: what its protocol does about a fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carriage {
    /// A datagram: lost, duplicated or reordered as it is.
    Datagram,
    /// Retransmitted until it gets through or the sender gives up.
    Reliable(Retransmit),
    /// Sent once, never repeated: an ICMP message, a reset, a keep-alive probe; lost or
    /// delayed.
    Once,
}

/// What becomes of a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// It leaves at `sent_ns` (a retransmission, perhaps) and arrives after its latency,
    /// `held_ns` later than that for a reordered one, which may then be overtaken; with a
    /// copy behind it when `duplicated`; a TCP segment that `resets` makes the network
    /// reset its connection (and arrives after the reset, to be discarded).
    Arrives { sent_ns: u64, held_ns: u64, duplicated: bool, losses: u32, resets: bool },
    /// Never arrives.
    Lost,
    /// Every retransmission was lost: the sender gives up at `at_ns`.
    GivesUp { at_ns: u64 },
}

/// The faults of a run, as `Sim` was told.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    /// On every link without one of its own.
    pub all: LinkFaults,
    /// Per pair of hosts, lower index first.
    pub links: BTreeMap<(HostId, HostId), LinkFaults>,
    pub partitions: Vec<Partition>,
}

impl Faults {
    /// Whether the network makes no fault at all: each packet's fate is then decided
    /// without a look at any of this.
    pub fn none(&self) -> bool {
        self.all == LinkFaults::default()
            && self.links.values().all(|l| *l == LinkFaults::default())
            && self.partitions.is_empty()
    }

    fn link(&self, a: HostId, b: HostId) -> LinkFaults {
        self.links.get(&(a.min(b), a.max(b))).copied().unwrap_or(self.all)
    }

    /// Whether a partition keeps `a` from reaching `b` at `at_ns`.
    pub fn cut(&self, a: HostId, b: HostId, at_ns: u64) -> bool {
        a != b && self.partitions.iter().any(|p| p.separates(a, b, at_ns))
    }

    /// The fate of a packet sent now from host `from` to host `to`, held back for at most
    /// `hold_max_ns` when reordered; `data` for a TCP segment with bytes, which the network
    /// may reset the connection of.
    pub fn fate(
        &self,
        cx: &mut NetCx,
        from: HostId,
        to: HostId,
        carriage: Carriage,
        hold_max_ns: u64,
        data: bool,
    ) -> Fate {
        let link = self.link(from, to);
        let now = cx.now_ns;
        let lost =
            |cx: &mut NetCx, at_ns: u64| self.cut(from, to, at_ns) || link.loss.happens(cx, Choice::Loss);
        let (sent_ns, losses) = match carriage {
            Carriage::Datagram | Carriage::Once => {
                if lost(cx, now) {
                    return Fate::Lost;
                }
                (now, 0)
            }
            Carriage::Reliable(r) => {
                let mut at = now;
                let mut losses = 0;
                while lost(cx, at) {
                    if losses == r.retries {
                        return Fate::GivesUp { at_ns: now + r.gives_up_after_ns() };
                    }
                    at += r.first_ns << losses;
                    losses += 1;
                }
                (at, losses)
            }
        };
        let held_ns = match link.reorder.happens(cx, Choice::Reorder) {
            true if hold_max_ns > 0 => 1 + cx.pick(Choice::Hold, hold_max_ns as usize) as u64,
            _ => 0,
        };
        let duplicated = matches!(carriage, Carriage::Datagram | Carriage::Reliable(_))
            && link.duplicate.happens(cx, Choice::Duplicate);
        let resets = data && link.reset.happens(cx, Choice::Reset);
        Fate::Arrives { sent_ns, held_ns, duplicated, losses, resets }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connect_that_cannot_get_through_gives_up_after_21_seconds() {
        assert_eq!(Retransmit::SYN.gives_up_after_ns(), 21_000_000_000);
        // On a LAN the minimum RTO rules: 0.3 × (1 + 2 + 4 + 8 + 16 + 32) = 18.9 s.
        assert_eq!(Retransmit::data(300_000).gives_up_after_ns(), 18_900_000_000);
        assert_eq!(Retransmit::data(200_000_000).first_ns, 600_000_000);
    }

    #[test]
    fn a_partition_separates_its_sides_while_it_lasts_and_nothing_else() {
        let p = Partition { from_ns: 10, heal_ns: 20, sides: [vec![0], vec![1, 2]] };
        let faults = Faults { partitions: vec![p], ..Faults::default() };
        assert!(faults.cut(0, 2, 10) && faults.cut(2, 0, 19));
        assert!(!faults.cut(0, 2, 9) && !faults.cut(0, 2, 20), "before and after");
        assert!(!faults.cut(1, 2, 15), "hosts on one side");
        assert!(!faults.cut(0, 0, 15), "a host's loopback");
    }

    #[test]
    fn chances_are_exact_parts_per_million() {
        assert_eq!(Chance::of(0.1), Some(Chance(100_000)));
        assert_eq!(Chance::of(1.5), None);
        assert_eq!(Chance::of(f64::NAN), None);
        assert_eq!(Chance::of(1.0), Some(Chance(Chance::WHOLE)));
    }
}
