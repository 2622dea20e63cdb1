//! wsasim: Windows Sockets 2 programs, run unchanged against a deterministic simulator.
//!
//! A program written against `windows-sys` swaps one path in its tests,
//!
//! ```ignore
//! #[cfg(not(test))] pub use windows_sys::*;
//! #[cfg(test)]      pub use wsasim::*;
//! ```
//!
//! and its Win32 calls then run on simulated threads, under a seeded scheduler and a virtual
//! clock: a failing seed replays exactly.
//!
//! Code map:
//! - [`Win32`]: the `windows-sys` module tree: its types and constants, re-exported, and
//!   the simulated functions in place of its own.
//! - `event`, `wait`, `apc`, `handle`, `error`, `tick`, `addr`, `socket`, `io`, `readiness`:
//!   the simulated functions, each in the module of the object or concept it acts on.
//! - `call`: what every simulated function does around its body: the scheduling point,
//!   the trace line, the last error.
//! - [`thread`], [`sync`], [`time`]: `std`'s threads, locks and clock, for simulated
//!   threads.
//! - [`Sim`], [`check`], [`Check`]: running one seed, or sweeping many, under a
//!   [`Strategy`], recording a [`Schedule`] (from `wsasim-sim`).
//!
//! Architecture invariant: no function of the Win32 surface panics on bad input inside a
//! simulation; it returns what Windows returns. Outside a simulation, every one panics,
//! naming itself.

// Win32 names, letter for letter.
#![allow(non_snake_case)]
// Every simulated function is `unsafe` because `windows-sys`'s is, and its safety contract is
// its Microsoft page's: the pointers it takes must be valid as that page describes.
#![allow(clippy::missing_safety_doc)]
// Win32 signatures, argument for argument.
#![allow(clippy::too_many_arguments)]

#[allow(non_snake_case)]
pub mod Win32;
mod addr;
mod apc;
mod call;
mod error;
mod event;
mod handle;
mod io;
mod ioctl;
mod memory;
mod overlapped;
mod readiness;
mod resolve;
#[cfg(feature = "cli")]
pub mod scenario;
mod services;
mod socket;
pub mod sync;
mod text;
pub mod thread;
mod tick;
pub mod time;
mod wait;
mod win32_thread;

/// `windows-sys`'s `core` module (`BOOL`, `PCWSTR`, ...), at the path programs expect.
pub use windows_sys::core;
pub use wsasim_sim::{
    Anchor, Budget, Check, Choice, Decision, Directive, Failure, FailureKind, Finding, Leak, Minimised,
    Misuse, Outcome, Replay, Schedule, Sim, Strategy, Swarm, SwarmSettings, TraceKept, WATCHDOG_VAR, check,
    minimise, same_failure,
};
