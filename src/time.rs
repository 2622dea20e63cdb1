//! The virtual clock, mirroring `std::time::Instant`. Reading it is not a scheduling point.

use std::ops::{Add, AddAssign, Sub};
use std::time::Duration;
use wsasim_sim::runtime;

/// A moment of virtual time in the current run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant {
    ns: u64,
}

impl Instant {
    /// Now, on the virtual clock. Panics outside a simulation.
    pub fn now() -> Instant {
        Instant { ns: runtime::with_world("Instant::now", |w| w.now_ns()) }
    }

    pub fn duration_since(&self, earlier: Instant) -> Duration {
        self.saturating_duration_since(earlier)
    }

    pub fn checked_duration_since(&self, earlier: Instant) -> Option<Duration> {
        self.ns.checked_sub(earlier.ns).map(Duration::from_nanos)
    }

    pub fn saturating_duration_since(&self, earlier: Instant) -> Duration {
        Duration::from_nanos(self.ns.saturating_sub(earlier.ns))
    }

    pub fn elapsed(&self) -> Duration {
        Instant::now().saturating_duration_since(*self)
    }

    pub fn checked_add(&self, dur: Duration) -> Option<Instant> {
        let ns = u64::try_from(dur.as_nanos()).ok()?;
        Some(Instant { ns: self.ns.checked_add(ns)? })
    }

    pub fn checked_sub(&self, dur: Duration) -> Option<Instant> {
        let ns = u64::try_from(dur.as_nanos()).ok()?;
        Some(Instant { ns: self.ns.checked_sub(ns)? })
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, dur: Duration) -> Instant {
        self.checked_add(dur).expect("overflow when adding a duration to an instant")
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, dur: Duration) {
        *self = *self + dur;
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;
    fn sub(self, dur: Duration) -> Instant {
        self.checked_sub(dur).expect("overflow when subtracting a duration from an instant")
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, earlier: Instant) -> Duration {
        self.saturating_duration_since(earlier)
    }
}
