//! The event object.
//!
//! Doc: CreateEventW function; Doc: SetEvent; Doc: ResetEvent. `WSACreateEvent` makes a
//! manual-reset event that starts nonsignaled (Doc: WSACreateEvent; Wine
//! `dlls/ws2_32/socket.c` calls `CreateEventW(NULL, TRUE, FALSE, NULL)`).

/// How an event leaves the signaled state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reset {
    /// Stays signaled until `ResetEvent`: a satisfied wait does not change it.
    Manual,
    /// A satisfied wait takes the signal: one waiter is released per `SetEvent`.
    Auto,
}

/// An event's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    reset: Reset,
    signaled: bool,
}

impl Event {
    pub fn new(reset: Reset, signaled: bool) -> Event {
        Event { reset, signaled }
    }

    pub fn reset_kind(&self) -> Reset {
        self.reset
    }

    pub fn is_signaled(&self) -> bool {
        self.signaled
    }

    /// `SetEvent`: setting a signaled event is not an error and changes nothing.
    pub fn set(&mut self) {
        self.signaled = true;
    }

    /// `ResetEvent`: resetting a nonsignaled event is not an error either.
    pub fn reset(&mut self) {
        self.signaled = false;
    }

    /// The side effect of a wait this event satisfied: an auto-reset event becomes
    /// nonsignaled, a manual-reset one keeps its state (Wine kernel32 sync.c
    /// test_WaitForMultipleObjects).
    pub fn satisfy(&mut self) {
        assert!(self.signaled, "a wait was satisfied by a nonsignaled event");
        if self.reset == Reset::Auto {
            self.signaled = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn satisfy_takes_the_signal_only_from_auto_reset_events() {
        for (reset, after) in [(Reset::Manual, true), (Reset::Auto, false)] {
            let mut e = Event::new(reset, true);
            e.satisfy();
            assert_eq!(e.is_signaled(), after, "{reset:?}");
        }
    }

    #[test]
    fn set_and_reset_are_idempotent() {
        let mut e = Event::new(Reset::Manual, false);
        e.set();
        e.set();
        assert!(e.is_signaled());
        e.reset();
        e.reset();
        assert!(!e.is_signaled());
    }
}
