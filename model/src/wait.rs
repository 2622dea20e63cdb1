//! The rules of `WaitForMultipleObjectsEx`, which `WaitForSingleObject(Ex)`,
//! `WaitForMultipleObjects` and `WSAWaitForMultipleEvents` share (Doc:
//! WSAWaitForMultipleEvents, "calls the WaitForMultipleObjectsEx function").
//!
//! This module decides whether a wait is well formed, whether it is satisfied now, and what
//! a satisfied wait consumes. When to test it, timeouts and alerts belong to the engine.

use crate::{Handle, HostId, Kernel, Win32Error};
use windows_sys::Win32::Foundation::{ERROR_INVALID_HANDLE, ERROR_INVALID_PARAMETER};
// MAXIMUM_WAIT_OBJECTS lives in a large module of its own; WinSock exports the same 64.
use windows_sys::Win32::Networking::WinSock::WSA_MAXIMUM_WAIT_EVENTS as MAXIMUM_WAIT_OBJECTS;

/// A wait on one or more objects, handles already resolved (no pseudo-handles).
#[derive(Debug, Clone, Copy)]
pub struct WaitSpec<'a> {
    pub handles: &'a [Handle],
    /// `bWaitAll`: every object at once, rather than any one of them.
    pub all: bool,
}

/// Why a wait is refused before it starts: `WAIT_FAILED` with this last error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitError(pub Win32Error);

impl Kernel {
    /// Checks a wait before it starts, in the order Windows checks (Doc:
    /// WSAWaitForMultipleEvents, its error table; Doc: WaitForMultipleObjectsEx): the count,
    /// then every handle, then duplicates, which only a wait-all refuses with
    /// `ERROR_INVALID_PARAMETER` (The Old New Thing, "Why does WaitForMultipleObjects return
    /// ERROR_INVALID_PARAMETER when all the parameters look valid to me?"; a wait-any may
    /// name an object twice: Doc: WSAWaitForMultipleEvents, `lphEvents`).
    pub fn check_wait(&self, host: HostId, wait: WaitSpec<'_>) -> Result<(), WaitError> {
        let count = wait.handles.len();
        if count == 0 || count > MAXIMUM_WAIT_OBJECTS as usize {
            return Err(WaitError(ERROR_INVALID_PARAMETER));
        }
        for &h in wait.handles {
            if self.get(host, h).is_err() {
                return Err(WaitError(ERROR_INVALID_HANDLE));
            }
        }
        if wait.all && has_duplicates(wait.handles) {
            return Err(WaitError(ERROR_INVALID_PARAMETER));
        }
        Ok(())
    }

    /// The index the wait would return now, if it is satisfied: for a wait-any the lowest
    /// signaled index (Wine kernel32 sync.c test_WaitForMultipleObjects), for a wait-all 0
    /// once every object is signaled (Doc: WSAWaitForMultipleEvents, `fWaitAll`).
    pub fn satisfied(&self, wait: WaitSpec<'_>) -> Option<u32> {
        let signaled = |h: &Handle| self.object(*h).is_signaled();
        if wait.all {
            wait.handles.iter().all(signaled).then_some(0)
        } else {
            wait.handles.iter().position(signaled).map(|i| i as u32)
        }
    }

    /// Completes a satisfied wait: only the objects whose state made it return are touched
    /// (Doc: WaitForMultipleObjectsEx), so a wait-any consumes one auto-reset event (Wine
    /// kernel32 sync.c test_WaitForMultipleObjects) and a wait-all consumes all of them
    /// together (Doc: WSAWaitForMultipleEvents, remarks). Returns the index
    /// [`Kernel::satisfied`] gave.
    pub fn satisfy(&mut self, wait: WaitSpec<'_>) -> Option<u32> {
        let index = self.satisfied(wait)?;
        if wait.all {
            for &h in wait.handles {
                self.object_mut(h).satisfy();
            }
        } else {
            self.object_mut(wait.handles[index as usize]).satisfy();
        }
        Some(index)
    }
}

fn has_duplicates(handles: &[Handle]) -> bool {
    let mut sorted = handles.to_vec();
    sorted.sort_unstable();
    sorted.windows(2).any(|w| w[0] == w[1])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Event, Object, Reset};

    /// Builds a kernel with one event per entry: `M`/`m` manual-reset, `A`/`a` auto-reset,
    /// upper case signaled.
    fn kernel(events: &str) -> (Kernel, Vec<Handle>) {
        let mut k = Kernel::new();
        let handles = events
            .chars()
            .map(|c| {
                let reset = if c.eq_ignore_ascii_case(&'m') { Reset::Manual } else { Reset::Auto };
                let ev = Event::new(reset, c.is_ascii_uppercase());
                k.insert(0, Object::Event(ev), 0, 0)
            })
            .collect();
        (k, handles)
    }

    fn states(k: &Kernel, handles: &[Handle]) -> String {
        handles
            .iter()
            .map(|h| match k.object(*h) {
                Object::Event(e) => {
                    let c = if e.reset_kind() == Reset::Manual { 'm' } else { 'a' };
                    if e.is_signaled() { c.to_ascii_uppercase() } else { c }
                }
                other => unreachable!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn satisfy_follows_the_wait_rules() {
        // (events before, wait-all, returned index, events after). Wait-any: Wine kernel32
        // sync.c test_WaitForMultipleObjects; wait-all: Doc: WSAWaitForMultipleEvents.
        let table: &[(&str, bool, Option<u32>, &str)] = &[
            // Wait-any returns the lowest signaled index.
            ("mMA", false, Some(1), "mMA"),
            ("maA", false, Some(2), "maa"),
            // A manual-reset event stays signaled and wins again.
            ("MA", false, Some(0), "MA"),
            // Only the returned auto-reset event is consumed.
            ("AAA", false, Some(0), "aAA"),
            ("aAA", false, Some(1), "aaA"),
            ("ma", false, None, "ma"),
            // Wait-all returns 0 only when all are signaled, and consumes all.
            ("MAA", true, Some(0), "Maa"),
            ("MaA", true, None, "MaA"),
            ("AAAAM", true, Some(0), "aaaaM"),
        ];
        for &(before, all, index, after) in table {
            let (mut k, hs) = kernel(before);
            let spec = WaitSpec { handles: &hs, all };
            assert_eq!(k.satisfied(spec), index, "{before} all={all}");
            assert_eq!(k.satisfy(spec), index, "{before} all={all}");
            assert_eq!(states(&k, &hs), after, "{before} all={all}");
        }
    }

    #[test]
    fn sixty_four_auto_reset_events_are_consumed_one_per_wait_in_index_order() {
        // Wine kernel32 sync.c test_WaitForMultipleObjects: after the manual event is reset,
        // successive waits return 1, 2, ..., 63.
        let (mut k, hs) = kernel(&format!("M{}", "A".repeat(63)));
        let spec = WaitSpec { handles: &hs, all: false };
        assert_eq!(k.satisfy(spec), Some(0));
        assert_eq!(k.satisfy(spec), Some(0));
        k.event_mut(0, hs[0]).unwrap().reset();
        for i in 1..64 {
            assert_eq!(k.satisfy(spec), Some(i));
        }
        assert_eq!(k.satisfy(spec), None);
    }

    #[test]
    fn check_wait_refuses_bad_counts_handles_and_wait_all_duplicates() {
        let (mut k, hs) = kernel(&"a".repeat(65));
        let ok = |k: &Kernel, handles: &[Handle], all| k.check_wait(0, WaitSpec { handles, all });
        let param = Err(WaitError(ERROR_INVALID_PARAMETER));
        let handle = Err(WaitError(ERROR_INVALID_HANDLE));
        // Doc: WSAWaitForMultipleEvents (its error table); Doc: WaitForMultipleObjectsEx
        // (duplicates; the wait-all error code: The Old New Thing, "Why does
        // WaitForMultipleObjects return ERROR_INVALID_PARAMETER ...").
        for all in [false, true] {
            assert_eq!(ok(&k, &[], all), param, "no handles");
            assert_eq!(ok(&k, &hs, all), param, "65 handles");
            assert_eq!(ok(&k, &hs[..64], all), Ok(()), "64 handles");
            assert_eq!(ok(&k, &[hs[0], Handle(0x7777)], all), handle, "an invalid handle");
            assert_eq!(ok(&k, &[Handle::CURRENT_THREAD], all), handle, "pseudo-handle");
        }
        assert_eq!(ok(&k, &[hs[0], hs[0]], false), Ok(()), "wait-any allows duplicates");
        assert_eq!(ok(&k, &[hs[0], hs[0]], true), param, "wait-all refuses duplicates");
        // A count error is reported before a handle error.
        let mut bad = vec![Handle(0x7777)];
        bad.extend(&hs);
        assert_eq!(ok(&k, &bad, false), param);
        k.close(0, hs[3]).unwrap();
        assert_eq!(ok(&k, &hs[..4], false), handle, "a closed handle");
        assert_eq!(k.check_wait(1, WaitSpec { handles: &hs[..1], all: false }), handle, "another host's");
    }

    #[test]
    fn a_thread_object_satisfies_waits_once_it_has_exited() {
        let mut k = Kernel::new();
        let t = k.insert(0, Object::Thread { exited: false }, 0, 0);
        let spec = WaitSpec { handles: &[t], all: false };
        assert_eq!(k.satisfy(spec), None);
        k.thread_exited(t);
        assert_eq!(k.satisfy(spec), Some(0));
        assert_eq!(k.satisfy(spec), Some(0), "an ended thread stays signaled");
    }
}
