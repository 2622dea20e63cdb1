//! A simulated thread's record: who it is, what it waits for, and what it left behind.

use crate::world::SyncId;
use std::any::Any;
use std::collections::VecDeque;
use wsasim_model::{Handle, HostId};

/// A simulated thread, numbered densely from 0 in order of creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ThreadId(pub u32);

impl ThreadId {
    /// Not a thread: the network, in whose name arrivals and their completions are traced.
    pub const NET: ThreadId = ThreadId(u32::MAX);

    pub(crate) fn index(self) -> usize {
        self.0 as usize
    }
}

/// Why a thread exists, which decides how its end and its panic count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// The main thread of a client host: the run succeeds when every one has returned.
    Client,
    /// The main thread of a server host: it may run forever and is stopped at the end.
    Server,
    /// A thread made by `wsasim::thread::spawn`.
    Spawned,
}

/// What a suspended thread receives when the scheduler resumes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// Go on from a scheduling point.
    Go,
    /// A wait on objects was satisfied; the index it returns.
    Object(u32),
    /// An alertable wait was ended by queued APCs, which the thread now runs.
    Apc,
    /// The deadline passed first.
    Timeout,
    /// The `wsasim::sync::Mutex` it waited for is now its own.
    Acquired,
    /// A `wsasim::sync::Condvar` it waited on was notified.
    Notified,
    /// An operation the thread's blocking Winsock call waits for completed.
    Io,
    /// The run is over: the thread unwinds its stack and ends.
    Teardown,
}

/// What a blocked thread waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blocker {
    /// A Win32 wait: on `handles` (none for a sleep), ended early by APCs if `alertable`.
    Objects { handles: Vec<Handle>, all: bool, alertable: bool },
    /// A blocking Winsock call (`recv`, `accept`, `connect`, ...) on `socket`: ended by its
    /// operation's completion, by APCs (these calls wait alertably: Wine sock.c
    /// test_WSARecv, test_accept), or by a timeout.
    Io { socket: Handle },
    /// `select` or `WSAPoll` on `sockets`: ended when one of them may have become ready
    /// (woken with `Wake::Io` to look again), by APCs (they wait alertably: Wine sock.c
    /// test_select, test_WSAPoll), or by the timeout.
    Poll { sockets: Vec<Handle> },
    /// A `wsasim::sync::Mutex` held by another thread.
    Lock(SyncId),
    /// A `wsasim::sync::Condvar`.
    Notify(SyncId),
    /// A host's main thread before its start (`Sim::start_spread`): it starts at its
    /// deadline.
    Start,
    /// Made by `CreateThread` with `CREATE_SUSPENDED`: it starts at `ResumeThread` (Doc:
    /// CreateThread, "the thread is created in a suspended state").
    Suspended,
}

/// A thread's lifecycle.
#[derive(Debug)]
pub(crate) enum State {
    /// Can run. Enters when created, when it passes a scheduling point, or when something
    /// ends its wait; `Wake` is what its suspended call receives. Leaves when it blocks or
    /// ends.
    Runnable(Wake),
    /// Parked in `call` until `on` is satisfied or `deadline_ns` passes. Leaves only through
    /// the world's wake-ups, which make it `Runnable`.
    Blocked { call: &'static str, on: Blocker, deadline_ns: Option<u64> },
    /// Its function returned, panicked, or was torn down. Final.
    Finished,
}

/// A set of threads as a bit each: the runnable ones, kept as threads block and wake, and
/// listed in id order for the scheduler at a word's cost per 64 threads, however many are
/// blocked.
#[derive(Debug, Default)]
pub(crate) struct ThreadSet {
    words: Vec<u64>,
    len: u32,
}

impl ThreadSet {
    pub(crate) fn insert(&mut self, t: ThreadId) {
        let (word, bit) = (t.index() / 64, t.0 % 64);
        if word >= self.words.len() {
            self.words.resize(word + 1, 0);
        }
        debug_assert_eq!(self.words[word] & 1 << bit, 0, "{t:?} is in the set already");
        self.words[word] |= 1 << bit;
        self.len += 1;
    }

    pub(crate) fn remove(&mut self, t: ThreadId) {
        let (word, bit) = (t.index() / 64, t.0 % 64);
        debug_assert_ne!(self.words[word] & 1 << bit, 0, "{t:?} is not in the set");
        self.words[word] &= !(1 << bit);
        self.len -= 1;
    }

    pub(crate) fn len(&self) -> u32 {
        self.len
    }

    /// Appends the threads of the set to `out`, in id order.
    pub(crate) fn list_into(&self, out: &mut Vec<ThreadId>) {
        for (i, &word) in self.words.iter().enumerate() {
            let mut word = word;
            while word != 0 {
                out.push(ThreadId(i as u32 * 64 + word.trailing_zeros()));
                word &= word - 1;
            }
        }
    }
}

/// A queued user-mode APC: it runs on its thread, inside an alertable wait.
pub(crate) struct Apc {
    /// What the trace shows of its argument.
    pub(crate) argument: crate::Value,
    pub(crate) run: Box<dyn FnOnce()>,
}

impl std::fmt::Debug for Apc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Apc({})", self.argument)
    }
}

/// A panic of a simulated thread, kept until its `JoinHandle` takes it or the run ends.
pub(crate) struct Panicked {
    pub(crate) message: String,
    /// `file:line:column`, for the failure report only.
    pub(crate) location: String,
    pub(crate) payload: Option<Box<dyn Any + Send>>,
}

impl std::fmt::Debug for Panicked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Panicked({:?})", self.message)
    }
}

#[derive(Debug)]
pub(crate) struct ThreadRecord {
    pub(crate) name: String,
    pub(crate) host: HostId,
    pub(crate) role: Role,
    pub(crate) state: State,
    /// The thread object: signaled when the thread ends.
    pub(crate) handle: Handle,
    /// `GetLastError`: per thread, as on Windows.
    pub(crate) last_error: u32,
    /// See `World::last_error_sets`.
    pub(crate) last_error_sets: u32,
    pub(crate) apcs: VecDeque<Apc>,
    pub(crate) panicked: Option<Panicked>,
    /// What `GetExitCodeThread` gives once it has ended: its function's return value or
    /// `ExitThread`'s argument.
    pub(crate) exit_code: u32,
    /// Its code runs inside an `extern "system"` function (`CreateThread`'s), which cannot
    /// unwind: its end by `ExitThread` or at the run's end abandons its stack instead, as
    /// Windows' `ExitThread` and `TerminateThread` run no destructors.
    pub(crate) foreign: bool,
}
