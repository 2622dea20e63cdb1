//! What the front end calls from inside a simulated thread: scheduling points, blocking,
//! spawning, and access to the [`World`] of the run.
//!
//! Every Win32 call starts with [`enter`], which is a scheduling point: the thread yields
//! to the scheduler, which may run another thread first. The call's body then runs without
//! interruption until it returns or blocks, so each call is atomic, as a system call is.

use crate::panic::{self, Teardown};
use crate::thread::{Blocker, Role, State, ThreadRecord};
use crate::{ThreadId, Value, Wake, World};
use corosensei::Yielder;
use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::marker::PhantomData;
use std::ptr;
use wsasim_model::{Handle, Object};

/// The state of the run on this OS thread, shared by the scheduler and simulated threads.
#[derive(Debug)]
pub(crate) struct Runtime {
    pub(crate) world: RefCell<World>,
    /// Each simulated thread's way back to the scheduler, by thread id. A pointer into that
    /// thread's coroutine stack, valid while the coroutine lives.
    pub(crate) yielders: RefCell<Vec<*const Yielder<Wake, Leave>>>,
}

/// Why a simulated thread gives the scheduler its OS thread back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Leave {
    /// At a scheduling point or a block: it goes on when resumed.
    Step,
    /// It called `ExitThread`: it has ended, and its stack is abandoned.
    Exit,
}

thread_local! {
    static RUNTIME: Cell<*const Runtime> = const { Cell::new(ptr::null()) };
}

/// Makes `runtime` the current run of this OS thread until the guard drops.
pub(crate) fn install(runtime: &Runtime) -> Installed {
    assert!(RUNTIME.get().is_null(), "wsasim: a simulation cannot run inside another one");
    RUNTIME.set(runtime);
    Installed
}

#[derive(Debug)]
pub(crate) struct Installed;

impl Drop for Installed {
    fn drop(&mut self) {
        RUNTIME.set(ptr::null());
    }
}

/// Whether this OS thread is running a simulation.
pub fn in_simulation() -> bool {
    !RUNTIME.get().is_null()
}

/// Runs `f` on the current run's runtime; panics outside a simulation, naming `call`.
#[inline]
fn with_runtime<R>(call: &str, f: impl FnOnce(&Runtime) -> R) -> R {
    let rt = RUNTIME.get();
    assert!(
        !rt.is_null(),
        "wsasim: {call} was called outside a simulation; call it from a thread of Sim::run or wsasim::check"
    );
    // SAFETY: the pointer is set by `install` from a runtime that outlives the guard, and
    // cleared when the guard drops; the reference does not escape `f`.
    f(unsafe { &*rt })
}

/// A call in progress on a simulated thread. It holds no reference: each use looks the run
/// up again, so a `Cx` kept past its run fails cleanly instead of reaching freed memory.
#[derive(Debug, Clone, Copy)]
pub struct Cx {
    call: &'static str,
    /// Not `Send`: a call belongs to the OS thread of its run.
    _not_send: PhantomData<*const ()>,
}

/// A scheduling point, then the body of `call` may run: the returned [`Cx`] gives it the
/// world. Panics when called outside a simulation, naming the call.
pub fn enter(call: &'static str) -> Cx {
    let cx = Cx { call, _not_send: PhantomData };
    let go_on = cx.with(|w| {
        w.local_streak = 0;
        w.oracle.call_entered(w.current);
        w.tearing_down || w.step_alone()
    });
    if !go_on {
        cx.suspend();
    }
    cx
}

/// A scheduling point at which the thread gives its step up (`Sleep(0)`, `SleepEx(0, ..)`,
/// `thread::yield_now`): strategies that keep a thread running let another run here (see
/// `strategy::Scheduler::next_party`).
pub fn enter_yielding(call: &'static str) -> Cx {
    with_world(call, |w| w.oracle.yielding = true);
    let cx = enter(call);
    // Taken by the decision, unless the thread was alone and there was none.
    cx.with(|w| w.oracle.yielding = false);
    cx
}

/// A call that touches only the calling thread's own state (its last error): no other
/// thread can see or change that state, so where it runs among their steps changes
/// nothing, and it is not a scheduling point. Only a long run of such calls with no other
/// call between them is given one, which counts the run's calls as steps, so that a loop
/// of nothing else meets `Sim::steps_max` after as many calls as a loop of other calls
/// would. Panics outside a simulation, naming the call.
pub fn local(call: &'static str) -> Cx {
    const STREAK_MAX: u32 = 1000;
    let streak = with_world(call, |w| {
        w.local_streak += 1;
        if w.local_streak > STREAK_MAX {
            w.steps += u64::from(STREAK_MAX);
        }
        w.local_streak
    });
    if streak > STREAK_MAX {
        return enter(call);
    }
    Cx { call, _not_send: PhantomData }
}

/// Fails the run at once with `message`, from any simulated thread, as a panic of a host's
/// main thread does (a spawned thread's panic only reaches whoever joins it). For checkers
/// whose every failure is the run's, such as scenario scripts. The failure has no source
/// location: the message says where.
pub fn fail_run(message: String) -> ! {
    let foreign = with_world("fail_run", |w| w.threads[w.current.index()].foreign);
    if !foreign {
        std::panic::resume_unwind(Box::new(panic::RunFailure(message)))
    }
    // Code inside an `extern "system"` function cannot unwind: the failure is recorded as
    // the unwinding would have, and the thread leaves its stack as `ExitThread` does.
    with_world("fail_run", |w| {
        let payload: Box<dyn Any + Send> = Box::new(panic::RunFailure(message.clone()));
        let panicked = crate::thread::Panicked { message, location: String::new(), payload: Some(payload) };
        w.threads[w.current.index()].panicked = Some(panicked);
    });
    leave()
}

/// Leaves the running thread's stack for good (see `Leave::Exit`).
fn leave() -> ! {
    let yielder = with_runtime("leave", |rt| rt.yielders.borrow()[rt.world.borrow().current.index()]);
    // SAFETY: as in `Cx::suspend`; the scheduler never resumes a thread that left this way.
    unsafe { &*yielder }.suspend(Leave::Exit);
    unreachable!("wsasim: a thread resumed after it left")
}

/// The world without a scheduling point: for reading the clock, and for destructors.
#[inline]
pub fn with_world<R>(what: &'static str, f: impl FnOnce(&mut World) -> R) -> R {
    with_runtime(what, |rt| f(&mut rt.world.borrow_mut()))
}

impl Cx {
    /// Runs `f` on the world. `f` must not call back into the runtime.
    #[inline]
    pub fn with<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        with_world(self.call, f)
    }

    /// Parks this thread on `on` until it is satisfied or `deadline_ns` passes, recording
    /// `call(args) blocks`. At the end of a run, when nothing may park, it returns
    /// `Wake::Timeout` at once.
    pub fn block(&self, call: &'static str, args: &[Value], on: Blocker, deadline_ns: Option<u64>) -> Wake {
        let parked = self.with(|w| {
            if w.tearing_down {
                return false;
            }
            w.trace.blocks(w.now_ns, w.current, call, args);
            w.block(call, on, deadline_ns);
            true
        });
        if parked { self.suspend() } else { Wake::Timeout }
    }

    /// Runs every APC queued to this thread, including any queued meanwhile (Doc:
    /// WSAWaitForMultipleEvents, `fAlertable`).
    /// Returns how many ran.
    pub fn run_apcs(&self) -> usize {
        let mut count = 0;
        while let Some(apc) = self.with(World::next_apc) {
            apc();
            count += 1;
        }
        count
    }

    /// Creates a simulated thread on this thread's host, runnable at once. Returns its id
    /// and its thread object.
    pub fn spawn(&self, main: Box<dyn FnOnce()>) -> (ThreadId, Handle) {
        self.with(|w| {
            let host = w.host();
            let ordinal = w.hosts[host as usize].threads;
            let name = format!("{}/t{ordinal}", w.hosts[host as usize].name);
            add_thread(w, name, host, Role::Spawned, main)
        })
    }

    /// Creates a thread for `CreateThread`: its code runs inside the program's `extern
    /// "system"` function, so it never unwinds (see `ThreadRecord::foreign`); `suspended`
    /// keeps it from running until [`Cx::resume_thread`].
    pub fn spawn_foreign(&self, main: Box<dyn FnOnce()>, suspended: bool) -> (ThreadId, Handle) {
        let (id, handle) = self.spawn(main);
        self.with(|w| {
            let record = &mut w.threads[id.index()];
            record.foreign = true;
            if suspended {
                record.state =
                    State::Blocked { call: "CreateThread", on: Blocker::Suspended, deadline_ns: None };
                w.runnable.remove(id);
            }
        });
        (id, handle)
    }

    /// `ResumeThread`'s step: the thread's suspend count before it, which is 1 for a thread
    /// made suspended that has not been resumed (it now starts) and 0 for any other.
    pub fn resume_thread(&self, thread: ThreadId) -> u32 {
        self.with(|w| {
            let suspended =
                matches!(w.threads[thread.index()].state, State::Blocked { on: Blocker::Suspended, .. });
            if suspended {
                w.make_runnable(thread, Wake::Go);
            }
            u32::from(suspended)
        })
    }

    /// Ends the calling thread with `code` where it stands (`ExitThread`): nothing on its
    /// stack is dropped, as Windows runs no destructors then.
    pub fn exit_thread(&self, code: u32) -> ! {
        self.with(|w| w.set_exit_code(code));
        leave()
    }

    /// Takes the panic of an ended thread, so that the run does not report it.
    pub fn take_panic(&self, thread: ThreadId) -> Option<Box<dyn Any + Send>> {
        self.with(|w| w.threads[thread.index()].panicked.take()?.payload)
    }

    fn suspend(&self) -> Wake {
        let yielder = with_runtime(self.call, |rt| rt.yielders.borrow()[rt.world.borrow().current.index()]);
        // SAFETY: this code runs on thread `me`'s coroutine, whose yielder lives as long
        // as the coroutine does.
        let wake = unsafe { &*yielder }.suspend(Leave::Step);
        if wake == Wake::Teardown {
            std::panic::resume_unwind(Box::new(Teardown));
        }
        wake
    }
}

/// Adds a thread record and its thread object; the scheduler creates its coroutine.
pub(crate) fn add_thread(
    w: &mut World,
    name: String,
    host: u32,
    role: Role,
    main: Box<dyn FnOnce()>,
) -> (ThreadId, Handle) {
    let id = ThreadId(w.threads.len() as u32);
    let handle = w.kernel.insert(host, Object::Thread { exited: false }, w.current.0, w.now_ns);
    w.runnable.insert(id);
    w.hosts[host as usize].threads += 1;
    w.threads.push(ThreadRecord {
        name,
        host,
        role,
        state: State::Runnable(Wake::Go),
        handle,
        last_error: 0,
        last_error_sets: 0,
        apcs: VecDeque::new(),
        panicked: None,
        exit_code: 0,
        foreign: false,
    });
    w.unborn.push(crate::world::Unborn(id, main));
    (id, handle)
}

/// Marks the code on this OS thread as a simulated thread's while `f` runs.
#[inline]
pub(crate) fn as_simulated_thread<R>(f: impl FnOnce() -> R) -> R {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            panic::set_in_simulated_thread(false);
        }
    }
    panic::set_in_simulated_thread(true);
    let _reset = Reset;
    f()
}
