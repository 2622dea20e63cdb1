//! Microsoft's overlapped I/O samples, ported to Rust as literally as the language allows:
//! the same calls in the same order, the same checks, the same output. Each is a `main`
//! that returns the process's exit code.
//!
//! - [`wsasend_server`]: the example of Doc: WSASend, a server that sends ten 4,096-byte
//!   buffers to the client it accepts.
//! - [`wsarecv_client`]: the example of Doc: WSARecv, a client that receives until the
//!   server closes. The two make a pair.
//! - [`wait_echo_server`]: the example of Doc: WSAWaitForMultipleEvents, an echo server;
//!   [`wait_echo_server_fixed`] is its corrected twin.

#[cfg(not(feature = "sim"))]
pub use windows_sys::Win32;
#[cfg(feature = "sim")]
pub use wsasim::Win32;

pub mod wait_echo_server;
pub mod wait_echo_server_fixed;
pub mod wsarecv_client;
pub mod wsasend_server;

/// `MAKEWORD(2, 2)`.
pub const VERSION_2_2: u16 = 0x0202;
