//! What the network may touch of a run, and what it asks the rest of the run to do.
//!
//! The network owns its sockets, connections and the wire; everything else (objects,
//! threads, APCs, misuse findings) is the world's. A network step is given a [`NetCx`]:
//! the clock, the decisions and the trace, which it uses as it goes, and a list it leaves
//! [`Effect`]s in, which the world applies once the step is over, in order. Nothing the
//! world does in applying them reaches back into the network, so the order of the
//! network's own work is the order it would have had if it had applied them itself.

use super::Net;
use super::op::InUse;
use crate::misuse::Misuse;
use crate::strategy::{Choice, Oracle};
use crate::thread::{Blocker, State};
use crate::trace::{Entry, Record, Trace};
use crate::{ThreadId, Value, Wake, World};
use std::collections::VecDeque;
use wsasim_model::Handle;

/// The part of the run a network step may use as it goes.
pub(crate) struct NetCx<'w> {
    pub(crate) now_ns: u64,
    /// The party that runs: the thread that made a call, or the network's arrivals.
    pub(crate) thread: ThreadId,
    /// The run is over and its threads unwind: completions write no program memory.
    pub(crate) tearing_down: bool,
    pub(crate) oracle: &'w mut Oracle,
    pub(crate) trace: &'w mut Trace,
    pub(crate) effects: &'w mut VecDeque<Effect>,
    /// The OVERLAPPEDs pending operations hold.
    pub(crate) in_use: &'w mut InUse,
}

/// A change outside the network that a step of it makes.
#[derive(Debug)]
pub(crate) enum Effect {
    /// Signal an object: an OVERLAPPED's event, a socket, a selected event.
    Signal(Handle),
    /// Reset an object: an operation using it as its event started.
    Reset(Handle),
    /// Queue a completion routine to the thread that issued the operation.
    Apc { thread: ThreadId, call: &'static str, run: Routine },
    /// A thread blocked in a Winsock call until its operation completes may go on.
    Io(ThreadId),
    /// The readiness of this socket may have changed: `select` and `WSAPoll` calls waiting
    /// on it look again.
    Poke(Handle),
    /// A misuse, found (boxed: rare, and the largest, it would make every effect as large).
    Misuse(Box<Found>),
}

/// `thread`'s `call` made `misuse` of `object`, found when the trace had `trace_line`
/// entries.
#[derive(Debug)]
pub(crate) struct Found {
    thread: ThreadId,
    misuse: Misuse,
    call: &'static str,
    object: String,
    trace_line: Option<usize>,
}

/// A completion routine bound to its arguments, to run as an APC.
pub(crate) struct Routine(pub(crate) Box<dyn FnOnce()>);

impl std::fmt::Debug for Routine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Routine")
    }
}

impl NetCx<'_> {
    pub(crate) fn pick(&mut self, choice: Choice, count: usize) -> usize {
        self.oracle.pick(choice, count)
    }

    /// Records `entry` at the current time, by the running party.
    pub(crate) fn record(&mut self, entry: Entry) {
        self.trace.push(Record { time_ns: self.now_ns, thread: self.thread, entry });
    }

    pub(crate) fn effect(&mut self, effect: Effect) {
        self.effects.push_back(effect);
    }

    /// `thread`'s `call` made `misuse` (see [`World::misuse`]).
    pub(crate) fn misuse(&mut self, thread: ThreadId, misuse: Misuse, call: &'static str, object: String) {
        let trace_line = self.trace.kept().map(|n| n + 1);
        self.effects.push_back(Effect::Misuse(Box::new(Found { thread, misuse, call, object, trace_line })));
    }
}

impl World {
    /// Runs a step of the network with the context it may use, then applies the effects it
    /// left.
    pub(crate) fn with_net<R>(&mut self, step: impl FnOnce(&mut Net, &mut NetCx) -> R) -> R {
        let mut cx = NetCx {
            now_ns: self.now_ns,
            thread: self.current,
            tearing_down: self.tearing_down,
            oracle: &mut self.oracle,
            trace: &mut self.trace,
            effects: &mut self.net_effects,
            in_use: &mut self.overlappeds_in_use,
        };
        let r = step(&mut self.net, &mut cx);
        if !self.net_effects.is_empty() {
            self.apply_effects();
        }
        r
    }

    /// Applies the effects a step left, in order: one copy of this for every kind of
    /// step, out of line.
    #[inline(never)]
    fn apply_effects(&mut self) {
        while let Some(effect) = self.net_effects.pop_front() {
            self.apply(effect);
        }
    }

    #[inline(always)]
    fn apply(&mut self, effect: Effect) {
        match effect {
            Effect::Signal(h) => self.signal(h, |k| k.object_mut(h).set_signaled(true)),
            Effect::Reset(h) => self.kernel.object_mut(h).set_signaled(false),
            Effect::Apc { thread, call, run } => {
                self.queue_apc(thread, Value::Str(call), run.0);
            }
            Effect::Io(thread) => {
                if let State::Blocked { on: Blocker::Io { .. }, .. } = self.threads[thread.index()].state {
                    self.make_runnable(thread, Wake::Io);
                }
            }
            Effect::Poke(handle) => self.poke(handle),
            Effect::Misuse(f) => self.found(f.thread, f.misuse, f.call, f.object, f.trace_line),
        }
    }

    /// Wakes the threads waiting in `select` or `WSAPoll` on socket `handle`: its readiness
    /// may have changed, and they look again.
    fn poke(&mut self, handle: Handle) {
        if self.polling == 0 {
            return;
        }
        let waiting: Vec<ThreadId> = (0..self.threads.len() as u32)
            .map(ThreadId)
            .filter(|t| {
                matches!(&self.threads[t.index()].state,
                    State::Blocked { on: Blocker::Poll { sockets }, .. } if sockets.contains(&handle))
            })
            .collect();
        for t in waiting {
            self.make_runnable(t, Wake::Io);
        }
    }
}
