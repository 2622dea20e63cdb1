//! Errors injected into calls (`Sim::inject`): which call may be made to fail with which
//! error, and the one draw that decides it.
//!
//! Only errors that a call's Microsoft page lists, and that leave nothing behind but the
//! failure, can be injected: a system short of buffers or of socket descriptors fails the
//! call and is fine again later. An error that says what became of a connection
//! (`WSAECONNRESET`, `WSAECONNABORTED`, `WSAENETRESET`, `WSAETIMEDOUT`) is not injected
//! into one call: a connection reset for one receive and working for the next is one no
//! Windows has. Those come from the network's faults (`Sim::reset`, `Sim::partition`,
//! `Sim::crash`), which reset or drop the connection for every call after.
//!
//! An injected failure is a real one: the call fails in its own way (`SOCKET_ERROR` or
//! `INVALID_SOCKET`, the last error set, no completion queued for an overlapped call) at
//! the point where the call would otherwise have gone ahead, after every check of its
//! arguments and of its socket's state, so a call that would have failed anyway still
//! fails as it would.

use super::Net;
use super::effects::NetCx;
use super::faults::Chance;
use crate::strategy::Choice;
use crate::trace::Entry;
use windows_sys::Win32::Networking::WinSock::{WSAEMFILE, WSAENOBUFS};
use wsasim_model::Win32Error;

/// An error a call may be made to fail with, and the page that lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Injectable {
    call: &'static str,
    error: Win32Error,
    /// What the page says of it.
    meaning: &'static str,
}

const NOBUFS: &str = "no buffer space is available";
const MFILE: &str = "no more socket descriptors are available";

/// Every error that can be injected, by call (Doc: each call's function page, Return
/// value / Error code tables).
pub(crate) const INJECTABLE: [Injectable; 14] = [
    Injectable { call: "socket", error: WSAEMFILE as Win32Error, meaning: MFILE },
    Injectable { call: "socket", error: WSAENOBUFS as Win32Error, meaning: NOBUFS },
    Injectable { call: "WSASocketW", error: WSAEMFILE as Win32Error, meaning: MFILE },
    Injectable { call: "WSASocketW", error: WSAENOBUFS as Win32Error, meaning: NOBUFS },
    Injectable { call: "WSASocketA", error: WSAEMFILE as Win32Error, meaning: MFILE },
    Injectable { call: "WSASocketA", error: WSAENOBUFS as Win32Error, meaning: NOBUFS },
    Injectable { call: "accept", error: WSAEMFILE as Win32Error, meaning: MFILE },
    Injectable { call: "accept", error: WSAENOBUFS as Win32Error, meaning: NOBUFS },
    Injectable { call: "connect", error: WSAENOBUFS as Win32Error, meaning: NOBUFS },
    Injectable { call: "WSAConnect", error: WSAENOBUFS as Win32Error, meaning: NOBUFS },
    Injectable { call: "send", error: WSAENOBUFS as Win32Error, meaning: NOBUFS },
    Injectable { call: "WSASend", error: WSAENOBUFS as Win32Error, meaning: NOBUFS },
    Injectable { call: "sendto", error: WSAENOBUFS as Win32Error, meaning: NOBUFS },
    Injectable { call: "WSASendTo", error: WSAENOBUFS as Win32Error, meaning: NOBUFS },
];

/// An error to inject into a call, with its chance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Injection {
    pub call: &'static str,
    pub error: Win32Error,
    pub chance: Chance,
}

impl Injection {
    /// The injection of `error` into `call`, if it can be made; else why not.
    pub fn new(call: &str, error: Win32Error, chance: Chance) -> Result<Injection, String> {
        let of_call: Vec<&Injectable> = INJECTABLE.iter().filter(|i| i.call == call).collect();
        if of_call.is_empty() {
            let calls: std::collections::BTreeSet<&str> = INJECTABLE.iter().map(|i| i.call).collect();
            return Err(format!("no error can be injected into {call:?}; into {calls:?} only"));
        }
        let name = |e: Win32Error| crate::names::Meaning::Error.name(i64::from(e)).unwrap_or("?");
        match of_call.iter().find(|i| i.error == error) {
            Some(i) => Ok(Injection { call: i.call, error, chance }),
            None => {
                let allowed: Vec<&str> = of_call.iter().map(|i| name(i.error)).collect();
                Err(format!(
                    "{call} cannot be made to fail with {} ({error}): what it can is {allowed:?} (errors that \
                     say what became of a connection come from the network's faults: Sim::reset, \
                     Sim::partition, Sim::crash)",
                    name(error)
                ))
            }
        }
    }
}

/// Whether `error` can be injected into `call` (`Sim::inject`); if not, why not.
pub fn injectable(call: &str, error: Win32Error) -> Result<(), String> {
    Injection::new(call, error, Chance::default()).map(|_| ())
}

impl Net {
    /// Whether `call`, about to go ahead, fails instead with an injected error: each
    /// injection into it drawn in the order set, the first that happens traced and given.
    pub(crate) fn injected(&mut self, cx: &mut NetCx, call: &'static str) -> Option<Win32Error> {
        if self.injections.is_empty() {
            return None;
        }
        let mut drawn = self.injections.iter().filter(|i| i.call == call);
        let error = drawn.find(|i| i.chance.happens(cx, Choice::Inject))?.error;
        cx.record(Entry::Injected { call, error });
        Some(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use windows_sys::Win32::Networking::WinSock::WSAECONNRESET;

    #[test]
    fn the_readme_lists_every_error_that_can_be_injected() {
        let readme = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"));
        for i in INJECTABLE {
            let error = crate::names::Meaning::Error.name(i64::from(i.error)).expect("a named error");
            let row = readme.lines().find(|l| l.starts_with(&format!("| `{}` |", i.call)));
            let row = row.unwrap_or_else(|| panic!("no row for {} in the README's table", i.call));
            assert!(row.contains(error) && row.contains(i.meaning), "{row}: {error}, {}", i.meaning);
        }
    }

    #[test]
    fn only_errors_a_call_documents_and_that_leave_nothing_behind_can_be_injected() {
        let p = Chance::of(0.5).unwrap();
        assert!(Injection::new("WSASend", WSAENOBUFS as u32, p).is_ok());
        let reset = Injection::new("WSARecv", WSAECONNRESET as u32, p).unwrap_err();
        assert!(reset.contains("no error can be injected into \"WSARecv\""), "{reset}");
        let mfile = Injection::new("WSASend", WSAEMFILE as u32, p).unwrap_err();
        assert!(mfile.contains("WSASend cannot be made to fail with WSAEMFILE"), "{mfile}");
        assert!(mfile.contains("[\"WSAENOBUFS\"]"), "{mfile}");
    }
}
