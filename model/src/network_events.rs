//! A socket's network events, as `WSAEventSelect` and `WSAEnumNetworkEvents` see them:
//! what has happened and not been enumerated, and when the selected event is set.
//!
//! This follows what Windows does where its documentation (Doc: WSAEventSelect) says
//! otherwise. An occurrence is recorded whether or not it is selected, and the record
//! survives re-selecting (Wine sock.c test_accept_events, test_close_events,
//! test_read_events); a new arrival records its event again without the re-enabling call
//! (test_read_events, test_accept_events, test_oob_events, todo_wine: Windows does it);
//! enumeration clears only what it reports, so re-selecting does not report an event
//! again (test_connect_events, test_WSAEnumNetworkEvents). What an occurrence is, and when
//! the re-enabling calls find their condition still true, is the transport's to say.

use crate::Handle;
use crate::Win32Error;
use windows_sys::Win32::Networking::WinSock::{FD_CLOSE, FD_MAX_EVENTS, FD_WRITE};

/// One socket's selection and record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkEvents {
    /// The selection: the event object set for the events in `mask` (one per socket:
    /// Doc: WSAEventSelect). A mask of 0 means none.
    event: Option<Handle>,
    mask: u32,
    /// Events that happened and were not enumerated yet, with their error codes.
    recorded: u32,
    errors: [Win32Error; FD_MAX_EVENTS as usize],
    /// FD_CLOSE happened: it is never recorded again (Doc: WSAEventSelect, no re-enabling
    /// function).
    closed: bool,
    /// A send failed with `WSAEWOULDBLOCK`: the next room in the send buffer is FD_WRITE
    /// (Doc: WSAEventSelect; Wine sock.c test_write_events).
    write_blocked: bool,
}

/// What `WSAEnumNetworkEvents` reports: the events and, for each of them only, its code
/// (the caller's other entries are left as they were: Doc: WSAEnumNetworkEvents; Wine
/// sock.c test_WSAEnumNetworkEvents).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Enumerated {
    pub events: u32,
    pub errors: [Win32Error; FD_MAX_EVENTS as usize],
}

impl Enumerated {
    /// The reported events with their codes, lowest bit first.
    pub fn entries(&self) -> impl Iterator<Item = (u32, Win32Error)> + '_ {
        (0..FD_MAX_EVENTS)
            .filter(|bit| self.events & (1 << bit) != 0)
            .map(|bit| (bit, self.errors[bit as usize]))
    }
}

impl NetworkEvents {
    /// `WSAEventSelect(s, event, mask)` (Doc: WSAEventSelect): replaces the selection,
    /// keeps the record, and gives the event to set at once when recorded events are in the
    /// new mask. The event is never reset here.
    pub fn select(&mut self, event: Option<Handle>, mask: u32) -> Option<Handle> {
        (self.event, self.mask) = if mask == 0 { (None, 0) } else { (event, mask) };
        self.to_set(self.recorded)
    }

    /// Whether a selection is active: the socket is then kept nonblocking (Doc:
    /// WSAEventSelect; Wine sock.c test_fionbio).
    pub fn selected(&self) -> bool {
        self.mask != 0
    }

    /// The selection an accepted socket starts with (Doc: WSAEventSelect; Wine sock.c
    /// test_accept_events): the listener's, with nothing recorded.
    pub fn inherited(&self) -> NetworkEvents {
        NetworkEvents { event: self.event, mask: self.mask, ..NetworkEvents::default() }
    }

    /// `event` (one FD_ bit) happened with `error`: it is recorded, and the selected event
    /// is returned when it is to be set.
    pub fn occur(&mut self, event: u32, error: Win32Error) -> Option<Handle> {
        assert!(event.is_power_of_two() && event < 1 << FD_MAX_EVENTS, "one FD_ bit, not {event:#x}");
        if event == FD_CLOSE {
            if self.closed {
                return None;
            }
            self.closed = true;
        }
        self.recorded |= event;
        self.errors[event.trailing_zeros() as usize] = error;
        self.to_set(event)
    }

    /// A re-enabling call for `event` succeeded (Wine sock.c test_read_events,
    /// test_accept_events): if its condition `still` holds (data or connections left), it
    /// is recorded again; if not, a record not yet enumerated is dropped. A failed call
    /// re-enables nothing (Wine sock.c test_read_events, event mode), so it does not come
    /// here.
    pub fn reenable(&mut self, event: u32, still: bool) -> Option<Handle> {
        if still {
            return self.occur(event, 0);
        }
        self.recorded &= !event;
        None
    }

    /// A send failed with `WSAEWOULDBLOCK` (Wine sock.c test_write_events).
    pub fn send_blocked(&mut self) {
        self.write_blocked = true;
    }

    /// The send buffer has room: FD_WRITE, if a send was refused since the last one.
    pub fn send_room(&mut self) -> Option<Handle> {
        if !std::mem::take(&mut self.write_blocked) {
            return None;
        }
        self.occur(FD_WRITE, 0)
    }

    /// `WSAEnumNetworkEvents` (Doc: WSAEnumNetworkEvents; Wine sock.c test_read_events):
    /// the recorded events in the current mask, which it clears, leaving the others
    /// recorded.
    pub fn enumerate(&mut self) -> Enumerated {
        let events = self.recorded & self.mask;
        self.recorded &= !events;
        Enumerated { events, errors: self.errors }
    }

    fn to_set(&self, events: u32) -> Option<Handle> {
        if events & self.mask != 0 { self.event } else { None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use windows_sys::Win32::Networking::WinSock::{
        FD_ACCEPT, FD_CLOSE_BIT, FD_CONNECT, FD_READ, FD_READ_BIT, WSAECONNABORTED,
    };

    const EV: Handle = Handle(0x40);

    #[test]
    fn an_event_recorded_before_the_selection_sets_the_event_when_selected() {
        let mut n = NetworkEvents::default();
        assert_eq!(n.occur(FD_ACCEPT, 0), None);
        assert_eq!(n.select(Some(EV), FD_READ), None, "not in the mask");
        assert_eq!(n.select(Some(EV), FD_READ | FD_ACCEPT), Some(EV), "kept across re-selects");
        assert_eq!(n.enumerate().events, FD_ACCEPT);
        assert_eq!(n.select(Some(EV), FD_READ | FD_ACCEPT), None, "enumerated: not reported again");
    }

    #[test]
    fn enumeration_clears_only_what_is_in_the_mask() {
        let mut n = NetworkEvents::default();
        n.select(Some(EV), FD_READ);
        n.occur(FD_READ, 0);
        n.occur(FD_ACCEPT, 0);
        assert_eq!(n.enumerate().events, FD_READ);
        n.select(Some(EV), FD_ACCEPT);
        assert_eq!(n.enumerate().events, FD_ACCEPT);
    }

    #[test]
    fn a_new_arrival_records_again_without_reenabling() {
        let mut n = NetworkEvents::default();
        n.select(Some(EV), FD_READ);
        n.occur(FD_READ, 0);
        n.enumerate();
        assert_eq!(n.occur(FD_READ, 0), Some(EV));
    }

    #[test]
    fn reenabling_records_again_or_drops_the_record() {
        let mut n = NetworkEvents::default();
        n.select(Some(EV), FD_READ);
        n.occur(FD_READ, 0);
        assert_eq!(n.reenable(FD_READ, false), None);
        assert_eq!(n.enumerate().events, 0, "the last byte read drops the record");
        assert_eq!(n.reenable(FD_READ, true), Some(EV));
        assert_eq!(n.enumerate().events, FD_READ);
    }

    #[test]
    fn close_is_recorded_once_with_its_code() {
        let mut n = NetworkEvents::default();
        n.select(Some(EV), FD_CLOSE | FD_READ);
        assert_eq!(n.occur(FD_CLOSE, WSAECONNABORTED as u32), Some(EV));
        assert_eq!(n.occur(FD_CLOSE, 0), None);
        n.occur(FD_READ, 0);
        let e = n.enumerate();
        let entries: Vec<_> = e.entries().collect();
        assert_eq!(entries, [(FD_READ_BIT, 0), (FD_CLOSE_BIT, WSAECONNABORTED as u32)]);
        assert_eq!(n.occur(FD_CLOSE, 0), None);
    }

    #[test]
    fn write_comes_back_only_after_a_refused_send() {
        let mut n = NetworkEvents::default();
        n.select(Some(EV), FD_WRITE);
        assert_eq!(n.send_room(), None);
        n.send_blocked();
        assert_eq!(n.send_room(), Some(EV));
        assert_eq!(n.send_room(), None, "once per refusal");
    }

    #[test]
    fn a_zero_mask_cancels_the_selection_but_keeps_the_record() {
        let mut n = NetworkEvents::default();
        n.select(Some(EV), FD_ACCEPT | FD_CONNECT);
        assert!(n.selected());
        n.select(Some(EV), 0);
        assert!(!n.selected());
        assert_eq!(n.occur(FD_ACCEPT, 0), None);
        assert_eq!(n.select(Some(EV), FD_ACCEPT), Some(EV));
    }

    #[test]
    fn an_accepted_socket_inherits_the_selection_and_nothing_recorded() {
        let mut listener = NetworkEvents::default();
        listener.select(Some(EV), FD_ACCEPT | FD_READ);
        listener.occur(FD_ACCEPT, 0);
        let mut accepted = listener.inherited();
        assert!(accepted.selected());
        assert_eq!(accepted.enumerate().events, 0);
        assert_eq!(accepted.occur(FD_READ, 0), Some(EV));
    }
}
