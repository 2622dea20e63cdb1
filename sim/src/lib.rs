//! wsasim's engine: it runs the simulated threads of one run as coroutines on one OS
//! thread, under a seeded scheduler and a virtual clock, and records the trace.
//!
//! The engine owns every source of nondeterminism; the semantics of the objects live in
//! `wsasim-model`, and the Win32 surface in the front end, which calls [`runtime`].
//!
//! Code map:
//! - [`Sim`], [`Outcome`], [`Failure`] (`sim`): the builder of a run and what it returns.
//! - [`check`] (`sweep`): many seeds in parallel, for `#[test]`s, with replay by seed.
//! - `execution`: the scheduler loop of one run, and the coroutines it resumes.
//! - `world`: the state of one run that simulated threads and the scheduler share.
//! - `thread`: a simulated thread's record and what it can block on.
//! - `crash`: hosts that crash and restart at set times.
//! - `strategy`: the oracle every decision goes through, and the strategies behind it.
//! - `swarm`: a configuration drawn per seed.
//! - `shrink`: minimising a failing schedule to its fewest deviations.
//! - `misuse`: misuses of the overlapped API a run names.
//! - `net`: the simulated transport: sockets, connections, datagrams and the wire.
//! - `trace`: the record of every call, completion and choice, and its hash.
//! - [`runtime`]: what the front end calls from inside a simulated thread.
//! - `panic`: telling a simulated thread's panic from the engine's own.
//!
//! Architecture invariant: a run is a pure function of (program, seed, settings). Nothing
//! here reads the host's clock, iterates a hash map, or draws a random number outside
//! `strategy`.

mod check;
mod crash;
mod execution;
mod given;
mod misuse;
pub mod names;
mod net;
mod panic;
pub mod runtime;
mod shrink;
mod sim;
mod strategy;
mod swarm;
mod sweep;
mod thread;
mod trace;
mod world;

pub use check::{Check, check};
pub use misuse::{Finding, Misuse};
pub use net::overlapped;
pub use net::{
    Buffer, Cancel, Chance, Conservation, FromSlot, Latency, LinkFaults, Notify, Op, Options, Readiness,
    Socket, SocketId, Start, buffer_list, injectable, sockaddr,
};
pub use shrink::{Budget, Minimised, minimise, same_failure};
pub use sim::{Failure, FailureKind, Leak, Outcome, Replay, Sim};
pub use strategy::{Anchor, Choice, Decision, Directive, Schedule, Strategy};
pub use swarm::{Swarm, SwarmSettings};
pub use sweep::{
    Confirmed, DOUBLE_RUN, Exploration, Job, JobResult, RunAs, Runner, SeedResult, Seeds, WATCHDOG_VAR,
    Watchdog, measure, runs_twice, watchdog_after,
};
pub use thread::{Blocker, ThreadId, Wake};
pub use trace::{TraceKept, Value};
pub use world::{SyncCell, SyncId, World};
