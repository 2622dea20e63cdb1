//! Misuses of the overlapped API that the simulator names, as Application Verifier does on
//! Windows: a program that makes one may well pass on a given run, since what it corrupts
//! need not be visible, so the run fails at the misuse itself, naming it.
//!
//! A misuse is a finding, not a Windows error (the call goes on as Windows would) and not a
//! bug of wsasim's: the run that makes one stops at its next scheduling point and fails as
//! `FailureKind::Misuse`. Each can be allowed by a program that makes it on purpose
//! (`Sim::allow`), such as a test of what Windows does then.

use std::fmt;

/// A misuse the simulator detects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Misuse {
    /// An `OVERLAPPED` passed to a new operation while an earlier one using it is still
    /// pending.
    OverlappedInUse,
    /// An event closed while a thread waits on it or a pending operation will signal it.
    EventClosedInUse,
    /// `WSAGetOverlappedResult` or `GetOverlappedResult` asked about an `OVERLAPPED` that
    /// no operation on that socket used.
    ForeignOverlapped,
    /// A socket closed while another thread is blocked in a call on it.
    SocketClosedInUse,
    /// The last `WSACleanup` of a host with sockets still open.
    CleanupWithSocketsOpen,
    /// A spawned thread that ends with operations pending, or with completion routines
    /// queued that can no longer run.
    ThreadEndedWithIo,
    /// A pending send's buffers written before the send took their bytes.
    SendBufferTouched,
    /// A pending receive's buffers written before it completed.
    ReceiveBufferTouched,
}

impl Misuse {
    pub const ALL: [Misuse; 8] = [
        Misuse::OverlappedInUse,
        Misuse::EventClosedInUse,
        Misuse::ForeignOverlapped,
        Misuse::SocketClosedInUse,
        Misuse::CleanupWithSocketsOpen,
        Misuse::ThreadEndedWithIo,
        Misuse::SendBufferTouched,
        Misuse::ReceiveBufferTouched,
    ];

    /// Its name in a scenario's `allow` list.
    pub fn name(self) -> &'static str {
        match self {
            Misuse::OverlappedInUse => "overlapped-in-use",
            Misuse::EventClosedInUse => "event-closed-in-use",
            Misuse::ForeignOverlapped => "foreign-overlapped",
            Misuse::SocketClosedInUse => "socket-closed-in-use",
            Misuse::CleanupWithSocketsOpen => "cleanup-with-sockets-open",
            Misuse::ThreadEndedWithIo => "thread-ended-with-io",
            Misuse::SendBufferTouched => "send-buffer-touched",
            Misuse::ReceiveBufferTouched => "receive-buffer-touched",
        }
    }

    pub fn from_name(name: &str) -> Option<Misuse> {
        Misuse::ALL.into_iter().find(|m| m.name() == name)
    }

    /// Why it is wrong, and the page that says so.
    pub fn why(self) -> &'static str {
        match self {
            Misuse::OverlappedInUse => {
                "the system still writes the OVERLAPPED of the pending operation, so the two operations overwrite \
                 each other's status and count (Doc: WSARecv, WSASend: the OVERLAPPED must stay valid and unused \
                 until the operation completes)"
            }
            Misuse::EventClosedInUse => {
                "a wait on a closed handle is undefined, and the completion signals a handle that may already name \
                 another object (Doc: WSAWaitForMultipleEvents: \"If one of these handles is closed while the wait \
                 is still pending, the behavior is undefined\"; Doc: WSACloseEvent)"
            }
            Misuse::ForeignOverlapped => {
                "its status says nothing about this socket: the result is another operation's, or none (Doc: \
                 WSAGetOverlappedResult: lpOverlapped must point to the WSAOVERLAPPED given when the overlapped \
                 operation was started on the socket s)"
            }
            Misuse::SocketClosedInUse => {
                "the blocked call is cut off (WSAEINTR), and the handle may name another socket by the time the \
                 call looks at it again (Doc: closesocket: the blocking calls it cuts off fail with WSAEINTR)"
            }
            Misuse::CleanupWithSocketsOpen => {
                "the open sockets are reset and their pending operations cut off, so peers see their connections \
                 reset and unread data is lost (Doc: WSACleanup: \"Sockets that were open when WSACleanup was \
                 called are reset and automatically deallocated\"; close them first)"
            }
            Misuse::ThreadEndedWithIo => {
                "its operations are cancelled as it ends and its completion routines never run, since only an \
                 alertable wait of that thread runs them (Doc: WSARecv, WSASend: \"All I/O initiated by a given \
                 thread is canceled when that thread exits\"; Doc: QueueUserAPC)"
            }
            Misuse::SendBufferTouched => {
                "the system takes a pending send's bytes when it can, so the peer gets what the buffers hold \
                 then, not what they held at the call (Doc: WSASend: the buffers must stay unchanged until the \
                 send completes)"
            }
            Misuse::ReceiveBufferTouched => {
                "the system owns a pending receive's buffers and writes the data over what the program wrote \
                 (Doc: WSARecv: the buffers belong to the system until the operation completes); while it \
                 pends, wsasim fills them with 0xCD"
            }
        }
    }
}

impl fmt::Display for Misuse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One misuse as a run found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub misuse: Misuse,
    /// The call that made it.
    pub call: &'static str,
    pub thread: String,
    /// The object misused, described without an address (a trace never shows one).
    pub object: String,
    /// The trace line of the call, when the trace was kept: the line after the last one
    /// kept before it.
    pub trace_line: Option<usize>,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "misuse ({}): {} in {}", self.misuse, self.call, self.thread)?;
        if let Some(line) = self.trace_line {
            write!(f, " (trace line {line})")?;
        }
        write!(f, ": {}: {}", self.object, self.misuse.why())
    }
}
