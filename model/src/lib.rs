//! The semantics of the Win32 objects wsasim simulates, as plain state machines.
//!
//! This crate owns the rules: what an event does when it is set, which handle a wait
//! returns, what a wait consumes, which error a bad handle gets. It owns no clock, no
//! random numbers and no threads: time and every choice come in as arguments, so each
//! rule can be tested on its own and driven by anything. The engine (`wsasim-sim`) decides
//! when things happen; this crate decides what they do.
//!
//! Code map:
//! - [`address`]: IPv4 addresses in text, as `inet_addr` and `inet_pton` read them.
//! - [`handle`]: handle values, given out once and never reused within a run.
//! - [`event`]: the event object (manual and auto reset).
//! - [`kernel`]: the object table of a run: events and thread objects behind handles.
//! - [`wait`]: the rules of `WaitForMultipleObjectsEx` and `WSAWaitForMultipleEvents`.
//! - [`network_events`]: a socket's `WSAEventSelect` selection and its record of events.
//! - [`bindings`]: local transport addresses: bind, sharing, ephemeral ports, lookup.
//! - [`spares`]: buffers kept for reuse across a run's (and a sweep's) many uses.
//! - [`status`]: completion statuses (NTSTATUS) and their Winsock and kernel32 error codes.
//! - [`stream`]: one direction of a TCP connection, from the send buffer to the reader.
//! - [`datagram`]: a UDP socket's receive queue, with truncation.
//! - [`tcp`]: the life of a TCP socket and the error of each call in each state.

pub mod address;
pub mod bindings;
pub mod datagram;
pub mod event;
pub mod handle;
pub mod kernel;
pub mod network_events;
pub mod spares;
pub mod status;
pub mod stream;
pub mod tcp;
pub mod udp;
pub mod wait;

pub use bindings::{Bindings, Proto, Sharing};
pub use datagram::{Datagram, DatagramCounts, DatagramQueue};
pub use event::{Event, Reset};
pub use handle::{Handle, HostId};
pub use kernel::{Kernel, Object, ObjectInfo};
pub use network_events::{Enumerated, NetworkEvents};
pub use spares::Spares;
pub use status::Status;
pub use stream::{Counts, Segment, Stream};
pub use tcp::Tcp;
pub use udp::Udp;
pub use wait::{WaitError, WaitSpec};

/// A Win32 error code, as `GetLastError` returns it (`WIN32_ERROR` in `windows-sys`).
pub type Win32Error = u32;
