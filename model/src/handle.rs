//! Handle values.
//!
//! Windows reuses handle values once they are closed, so a stale handle may name a newer
//! object (Doc: WSACloseEvent). wsasim never reuses one within a run: a stale handle is
//! always detected as invalid, which a program cannot tell apart from Windows except that
//! it never silently reaches the wrong object.

use std::fmt;

/// The simulated machine an object belongs to. Handles are per process on Windows: a
/// handle used on a host other than its own is invalid there.
pub type HostId = u32;

/// A handle value as a program sees it: a multiple of 4 from [`Handle::FIRST`] on, like the
/// values Windows gives out. Sockets share this space, since a `SOCKET` is a handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Handle(pub usize);

impl Handle {
    /// The first value given out in a run.
    pub const FIRST: Handle = Handle(0x100);
    /// `GetCurrentThread()`: a pseudo-handle that means "the calling thread" (Doc:
    /// GetCurrentThread function).
    pub const CURRENT_THREAD: Handle = Handle(usize::MAX - 1);
    /// `GetCurrentProcess()`, `(HANDLE)-1`, which is also `INVALID_HANDLE_VALUE`: "the
    /// calling process" (Doc: GetCurrentProcess function).
    pub const CURRENT_PROCESS: Handle = Handle(usize::MAX);

    /// The dense index of a value given out by a run, or `None` for any other value.
    pub fn index(self) -> Option<usize> {
        let offset = self.0.checked_sub(Self::FIRST.0)?;
        (offset % 4 == 0).then_some(offset / 4)
    }

    /// The value at a dense index.
    pub fn from_index(index: usize) -> Handle {
        Handle(Self::FIRST.0 + 4 * index)
    }
}

impl fmt::Display for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_round_trips_and_rejects_foreign_values() {
        for i in [0, 1, 63, 100_000] {
            assert_eq!(Handle::from_index(i).index(), Some(i));
        }
        assert_eq!(Handle(0).index(), None);
        assert_eq!(Handle(0x102).index(), None);
        assert_eq!(Handle::CURRENT_THREAD.index(), None);
    }
}
