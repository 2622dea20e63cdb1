//! One run: the scheduler loop, and the coroutines of the simulated threads it resumes.
//!
//! Each step: time out the waits whose deadline has passed; if no thread can run, jump the
//! clock to the next deadline (or stop: the run is over or deadlocked); otherwise let the
//! strategy pick one runnable thread, advance the clock by one quantum, and resume that
//! thread until its next scheduling point.

use crate::crash::HostEvent;
use crate::misuse::Misuse;
use crate::net::{Faults, Injection, Latency};
use crate::panic::{self, Teardown};
use crate::runtime::{self, Leave, Runtime};
use crate::strategy::{Choice, Decision, Directive, Oracle, Recorded, Strategy};
use crate::thread::{Role, State};
use crate::trace::{Entry, Record, TraceKept};
use crate::world::{HostRecord, Unborn};
use crate::{ThreadId, Wake, World};
use corosensei::stack::DefaultStack;
use corosensei::{Coroutine, CoroutineResult, Yielder};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// The bounds of a run, each reported by name when hit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Scheduling steps before the run fails as a livelock.
    pub(crate) steps_max: u64,
    /// Virtual time before the run fails as a livelock.
    pub(crate) time_max_ns: u64,
    /// Virtual time each scheduling step takes, so that a polling loop sees time pass.
    pub(crate) quantum_ns: u64,
    /// The stack of each simulated thread (reserved; pages are touched only when used).
    pub(crate) stack_bytes: usize,
    /// Memory the kept trace may take before it is cut, so a run that loops for ever cannot
    /// fill the machine's.
    pub(crate) trace_bytes_max: usize,
}

/// A host as the run starts it.
pub(crate) struct HostStart {
    pub(crate) name: String,
    pub(crate) ip: std::net::Ipv4Addr,
    pub(crate) client: bool,
    pub(crate) main: Box<dyn FnOnce()>,
}

/// The network of a run, as `Sim` was told.
#[derive(Debug, Clone)]
pub(crate) struct NetSettings {
    pub(crate) latency: Option<Latency>,
    /// Per pair of hosts (lower index first).
    pub(crate) links: BTreeMap<(u32, u32), Latency>,
    /// Operations that could complete at once pend one time in this many (0: never).
    pub(crate) pend_odds: usize,
    /// One TCP segment in this many is cut short (0: none).
    pub(crate) cut_odds: usize,
    pub(crate) planted_stall: bool,
    /// Misuses the program may make (`Sim::allow`).
    pub(crate) allowed: BTreeSet<Misuse>,
    /// Each host starts this many microseconds after the run at most (`Sim::start_spread`).
    pub(crate) start_spread_us: u64,
    /// What the network gets wrong, hosts named by index.
    pub(crate) faults: Faults,
    /// Errors to inject into calls.
    pub(crate) injections: Vec<Injection>,
}

impl Default for NetSettings {
    fn default() -> NetSettings {
        NetSettings {
            latency: None,
            links: BTreeMap::new(),
            pend_odds: 0,
            cut_odds: NetSettings::CUT_ODDS,
            planted_stall: false,
            allowed: BTreeSet::new(),
            start_spread_us: NetSettings::START_SPREAD_US,
            faults: Faults::default(),
            injections: Vec::new(),
        }
    }
}

impl NetSettings {
    /// One segment in four is cut by default: most go out whole, as on a real link, and
    /// receives still see every split.
    pub(crate) const CUT_ODDS: usize = 4;
    /// `Sim::pend_immediate(true)`: half the operations that could complete at once pend.
    pub(crate) const PEND_ODDS: usize = 2;
    /// Hosts start within a millisecond of each other: well beyond a step (1 µs) and a
    /// packet's default latency (50 to 150 µs), so that which host is up first is in play.
    pub(crate) const START_SPREAD_US: u64 = 1_000;
}

/// Where a run's decisions come from.
#[derive(Debug, Clone)]
pub(crate) enum Decide {
    By(Strategy),
    /// A recorded schedule's decisions: all of them, or those kept (see
    /// `strategy::Oracle::replay`).
    Replay(Vec<Decision>, Option<Vec<Directive>>),
}

/// How the loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    /// Every client's main thread returned.
    Done,
    /// The main thread of a host panicked.
    Panic(ThreadId),
    /// Nothing could run and nothing was due, with a client not finished.
    Deadlock,
    StepLimit,
    TimeLimit,
    /// A replayed schedule stopped fitting the run.
    Diverged,
    /// The program misused the API (`World::finding`).
    Misuse,
}

type ThreadCoroutine = Coroutine<Wake, Leave, (), DefaultStack>;

thread_local! {
    /// Stacks of ended coroutines with their sizes, reused by the next runs on this OS
    /// thread that ask for the same size.
    static STACKS: RefCell<Vec<(usize, DefaultStack)>> = const { RefCell::new(Vec::new()) };
}

/// What a run leaves for its report.
#[derive(Debug)]
pub(crate) struct Finished {
    pub(crate) ending: Ending,
    pub(crate) world: World,
    pub(crate) steps: u64,
    /// Every decision with its default, when the run kept its trace.
    pub(crate) decisions: Option<Recorded>,
    /// Why a replayed schedule stopped fitting the run.
    pub(crate) divergence: Option<String>,
}

pub(crate) fn execute(
    seed: u64,
    decide: Decide,
    kept: TraceKept,
    limits: Limits,
    net: NetSettings,
    hosts: Vec<HostStart>,
    host_events: Vec<HostEvent>,
) -> Finished {
    panic::install_hook();
    let oracle = match decide {
        Decide::By(strategy) => Oracle::new(strategy.scheduler(seed), kept == TraceKept::Records),
        Decide::Replay(decisions, keep) => Oracle::replay(decisions, keep, kept == TraceKept::Records),
    };
    let rt = Box::new(Runtime {
        world: RefCell::new(World::new(oracle, kept, limits)),
        yielders: RefCell::new(Vec::new()),
    });
    let _installed = runtime::install(&rt);
    let mut exec = Execution { rt: &rt, coroutines: Vec::new(), limits };
    {
        let mut w = rt.world.borrow_mut();
        w.net.wire.default_latency = net.latency;
        w.net.wire.latency = net.links;
        (w.net.pend_odds, w.net.cut_odds) = (net.pend_odds, net.cut_odds);
        w.net.planted_stall = net.planted_stall;
        w.net.faults_on = !net.faults.none();
        w.net.faults = net.faults;
        w.net.injections = net.injections;
        w.allowed = net.allowed;
        w.host_events = host_events.into();
        // One host alone has no other to be up before or after.
        let spread =
            if hosts.len() > 1 { usize::try_from(net.start_spread_us).unwrap_or(usize::MAX - 1) } else { 0 };
        for (i, h) in hosts.into_iter().enumerate() {
            w.net.add_host(h.ip);
            let role = if h.client { Role::Client } else { Role::Server };
            let name = format!("{}/main", h.name);
            w.hosts.push(HostRecord { name: h.name, client: h.client, threads: 0 });
            let (main, _) = runtime::add_thread(&mut w, name, i as u32, role, h.main);
            let start_us = if spread == 0 { 0 } else { w.oracle.pick(Choice::Start, spread + 1) };
            w.start_later(main, start_us as u64 * 1_000);
        }
    }
    let ending = exec.run();
    exec.tear_down();
    drop(exec);
    drop(_installed);
    let mut world = rt.world.into_inner();
    let (decisions, divergence) = world.oracle.finish();
    let ending = if divergence.is_some() { Ending::Diverged } else { ending };
    Finished { ending, steps: world.steps, world, decisions, divergence }
}

struct Execution<'rt> {
    rt: &'rt Runtime,
    coroutines: Vec<Option<ThreadCoroutine>>,
    limits: Limits,
}

impl Execution<'_> {
    fn run(&mut self) -> Ending {
        let mut runnable = Vec::new();
        loop {
            self.adopt_unborn();
            let mut w = self.rt.world.borrow_mut();
            if w.oracle.diverged {
                return Ending::Diverged;
            }
            if w.finding.is_some() {
                return Ending::Misuse;
            }
            if w.next_host_event().is_some_and(|at| at <= w.now_ns) {
                w.host_events_due();
                if w.clients_done() {
                    return Ending::Done;
                }
                continue;
            }
            w.expire_timers();
            runnable.clear();
            w.runnable.list_into(&mut runnable);
            let packet = w.next_packet_due();
            if packet.is_some_and(|t| t <= w.now_ns) {
                runnable.push(ThreadId::NET);
            }
            if runnable.is_empty() {
                let timer = w.timers.first().map(|&(deadline, _)| deadline);
                let Some(next) = timer.into_iter().chain(packet).chain(w.next_host_event()).min() else {
                    return Ending::Deadlock;
                };
                if next > self.limits.time_max_ns {
                    return Ending::TimeLimit;
                }
                w.now_ns = next;
                continue;
            }
            debug_assert!(
                runnable
                    .iter()
                    .all(|t| *t == ThreadId::NET || matches!(w.threads[t.index()].state, State::Runnable(_))),
                "the runnable set holds runnable threads only"
            );
            if w.steps >= self.limits.steps_max {
                return Ending::StepLimit;
            }
            if w.now_ns > self.limits.time_max_ns {
                return Ending::TimeLimit;
            }
            let last = w.current;
            let chosen = runnable[w.oracle.pick_party(&runnable, last)];
            if w.oracle.diverged {
                return Ending::Diverged;
            }
            if runnable.len() > 1 {
                let now = w.now_ns;
                w.trace.choice(now, chosen, Choice::Run.name(), chosen, &runnable);
            }
            w.steps += 1;
            w.current = chosen;
            if chosen == ThreadId::NET {
                w.deliver_next();
                continue;
            }
            w.now_ns += self.limits.quantum_ns;
            let record = &mut w.threads[chosen.index()];
            let State::Runnable(wake) = std::mem::replace(&mut record.state, State::Runnable(Wake::Go))
            else {
                unreachable!("{:?}", record.state)
            };
            drop(w);
            if self.resume(chosen, wake) {
                if let Some(ending) = self.thread_ended(chosen) {
                    return ending;
                }
            }
        }
    }

    /// Resumes a thread until its next scheduling point; `true` if it ended.
    #[inline]
    fn resume(&mut self, thread: ThreadId, wake: Wake) -> bool {
        let co = self.coroutines[thread.index()].as_mut().expect("a runnable thread has a coroutine");
        match runtime::as_simulated_thread(|| co.resume(wake)) {
            CoroutineResult::Yield(Leave::Step) => false,
            CoroutineResult::Yield(Leave::Exit) => {
                self.abandon(thread);
                true
            }
            CoroutineResult::Return(()) => {
                let co = self.coroutines[thread.index()].take().expect("just resumed");
                let size = self.limits.stack_bytes;
                STACKS.with_borrow_mut(|s| s.push((size, co.into_stack())));
                true
            }
        }
    }

    /// Ends a thread's coroutine without unwinding it (see `ThreadRecord::foreign`): what
    /// its stack holds is never dropped, and the stack is reused.
    fn abandon(&mut self, thread: ThreadId) {
        let mut co = self.coroutines[thread.index()].take().expect("an abandoned thread has a coroutine");
        // SAFETY: the frames left on the stack are never returned to, and nothing outside
        // the stack points into it: the thread's yielder pointer is not used again, and
        // what its frames own is leaked, which is safe.
        unsafe { co.force_reset() };
        let size = self.limits.stack_bytes;
        STACKS.with_borrow_mut(|s| s.push((size, co.into_stack())));
    }

    /// Records a thread's end. A panic of a host's main thread, or `runtime::fail_run` in
    /// any thread, ends the run, and so does the end of the last client's main thread (a run
    /// starts with at least one).
    fn thread_ended(&mut self, thread: ThreadId) -> Option<Ending> {
        let mut w = self.rt.world.borrow_mut();
        let now = w.now_ns;
        let w = &mut *w;
        let (panicked, fails_run) = match &w.threads[thread.index()].panicked {
            Some(p) => {
                w.trace.panic(now, thread, &p.message);
                (true, p.payload.as_ref().is_some_and(|p| p.is::<panic::RunFailure>()))
            }
            None => {
                w.trace.push(Record { time_ns: now, thread, entry: Entry::Exit });
                (false, false)
            }
        };
        w.thread_finished(thread);
        let role = w.threads[thread.index()].role;
        if panicked && (role != Role::Spawned || fails_run) {
            return Some(Ending::Panic(thread));
        }
        if role != Role::Spawned && !panicked {
            let host = w.threads[thread.index()].host;
            w.host_exited(host);
        }
        (role == Role::Client && w.clients_done()).then_some(Ending::Done)
    }

    /// Creates the coroutines of threads spawned since the last step.
    fn adopt_unborn(&mut self) {
        if self.rt.world.borrow().unborn.is_empty() {
            return;
        }
        let unborn = std::mem::take(&mut self.rt.world.borrow_mut().unborn);
        for Unborn(id, main) in unborn {
            let size = self.limits.stack_bytes;
            let cached = STACKS.with_borrow_mut(|s| {
                let at = s.iter().position(|(bytes, _)| *bytes == size)?;
                Some(s.swap_remove(at).1)
            });
            let stack =
                cached.unwrap_or_else(|| DefaultStack::new(size).expect("wsasim: cannot map a thread stack"));
            let rt: *const Runtime = self.rt;
            let body = move |yielder: &Yielder<Wake, Leave>, first: Wake| {
                // SAFETY: the runtime outlives every coroutine: `execute` tears them all
                // down before it drops the runtime.
                let rt = unsafe { &*rt };
                rt.yielders.borrow_mut()[id.index()] = yielder;
                if first == Wake::Teardown {
                    return;
                }
                if let Err(payload) = catch_unwind(AssertUnwindSafe(main)) {
                    if !payload.is::<Teardown>() {
                        let (message, location) = panic::take_message(payload.as_ref());
                        let panicked = crate::thread::Panicked { message, location, payload: Some(payload) };
                        rt.world.borrow_mut().threads[id.index()].panicked = Some(panicked);
                    }
                }
            };
            assert_eq!(self.coroutines.len(), id.index(), "threads are adopted in order");
            self.coroutines.push(Some(Coroutine::with_stack(stack, body)));
            self.rt.yielders.borrow_mut().push(std::ptr::null());
        }
    }

    /// Unwinds every thread that has not ended, in id order, so that their destructors run
    /// and their stacks are freed.
    fn tear_down(&mut self) {
        self.adopt_unborn();
        self.rt.world.borrow_mut().tearing_down = true;
        for i in 0..self.coroutines.len() {
            let started = self.coroutines[i].as_ref().is_some_and(Coroutine::started);
            if started && self.rt.world.borrow().threads[i].foreign {
                self.abandon(ThreadId(i as u32));
                continue;
            }
            if self.coroutines[i].is_some() {
                self.rt.world.borrow_mut().current = ThreadId(i as u32);
                let ended = self.resume(ThreadId(i as u32), Wake::Teardown);
                assert!(ended, "thread {i} went on after its teardown");
            }
        }
        // Threads spawned by destructors during the teardown never start.
        let late = std::mem::take(&mut self.rt.world.borrow_mut().unborn);
        drop(late);
    }
}
