//! The state of one run that simulated threads and the scheduler share: the objects, the
//! threads, the clock, the timers, the strategy and the trace.
//!
//! Wake-ups are eager, as in the NT kernel: the moment an object becomes signaled, the
//! waits it satisfies are completed and their auto-reset events consumed (Doc: CreateEventW,
//! "remains signaled until a single waiting thread is released"), and the moment a deadline
//! passes, its wait times out. So a blocked thread's wait is never satisfied while it stays
//! blocked, and the scheduler only chooses among runnable threads.

use crate::execution::Limits;
use crate::misuse::{Finding, Misuse};
use crate::sim::Leak;
use crate::strategy::{Choice, Oracle};
use crate::thread::{Apc, Blocker, State, ThreadRecord, ThreadSet};
use crate::trace::{Entry, Record, Trace, TraceKept};
use crate::{ThreadId, Value, Wake};
use std::any::Any;
use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use wsasim_model::{Handle, HostId, Kernel, Object, WaitSpec};

/// A `wsasim::sync` object of this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SyncId(pub u32);

/// Where a `wsasim::sync` object keeps its id, given out by the first run that uses it. An
/// object belongs to that one run: one made outside it (in a `static`, say) would carry its
/// state from seed to seed, and across the OS threads of a sweep, so a second run that uses
/// it is refused.
#[derive(Debug, Default)]
pub struct SyncCell {
    run: AtomicU64,
    id: AtomicU32,
}

impl SyncCell {
    pub const fn new() -> SyncCell {
        SyncCell { run: AtomicU64::new(0), id: AtomicU32::new(0) }
    }
}

#[derive(Debug)]
enum SyncState {
    Mutex { owner: Option<ThreadId>, waiters: Vec<ThreadId> },
    Condvar { waiters: Vec<ThreadId> },
}

/// A simulated machine.
#[derive(Debug)]
pub(crate) struct HostRecord {
    pub(crate) name: String,
    pub(crate) client: bool,
    /// Threads made on it so far, its main thread included: the next one's ordinal.
    pub(crate) threads: u32,
}

/// The shared state of one run.
#[derive(Debug)]
pub struct World {
    pub(crate) kernel: Kernel,
    pub(crate) net: crate::net::Net,
    /// What the network's last step asked of the world, kept for the next one's (see
    /// `World::with_net`).
    pub(crate) net_effects: std::collections::VecDeque<crate::net::Effect>,
    /// Kept beside the network's effects, for the same reason: a network step is given it.
    pub(crate) overlappeds_in_use: crate::net::InUse,
    pub(crate) threads: Vec<ThreadRecord>,
    pub(crate) hosts: Vec<HostRecord>,
    pub(crate) now_ns: u64,
    /// Deadlines of blocked threads, earliest first; ties break on the thread id.
    pub(crate) timers: BTreeSet<(u64, ThreadId)>,
    /// Every decision of the run.
    pub(crate) oracle: Oracle,
    pub(crate) trace: Trace,
    pub(crate) current: ThreadId,
    /// Calls without a scheduling point since the last one (see `runtime::local`).
    pub(crate) local_streak: u32,
    /// Threads in `State::Runnable`, the running one included.
    pub(crate) runnable: ThreadSet,
    /// Threads blocked in `select` or `WSAPoll`, so arrivals skip looking for them when
    /// there are none.
    pub(crate) polling: u32,
    /// Scheduling steps taken, by the scheduler or in place ([`World::step_alone`]).
    pub(crate) steps: u64,
    pub(crate) limits: Limits,
    /// Set once the run is over and its threads unwind: nothing may park any more.
    pub(crate) tearing_down: bool,
    /// Threads spawned since the scheduler last looked, waiting for their coroutines.
    pub(crate) unborn: Vec<Unborn>,
    /// Misuses the program may make without the run failing (`Sim::allow`).
    pub(crate) allowed: BTreeSet<Misuse>,
    /// The first misuse the run made: it stops at its next scheduling point.
    pub(crate) finding: Option<Finding>,
    /// Unique in the process, so a [`SyncCell`] can tell this run from an earlier one.
    run_id: u64,
    sync: Vec<SyncState>,
    scratch: Vec<ThreadId>,
    /// The handle lists of waits that ended, for the next ones (`World::wait_list`).
    spare_handles: Vec<Vec<Handle>>,
    /// The threads blocked in a wait on each object, by the object's handle index, so that
    /// a signal looks at its own waiters only, however many threads wait on others.
    waiting_on: Vec<Vec<ThreadId>>,
    /// What client hosts that ended left open (`World::host_exited`).
    pub(crate) exit_leaks: Vec<Leak>,
    /// Crashes and restarts to come, earliest first (see `crash`).
    pub(crate) host_events: std::collections::VecDeque<crate::crash::HostEvent>,
    given: crate::given::Given,
}

/// A thread whose record exists and whose coroutine the scheduler has yet to create.
pub(crate) struct Unborn(pub(crate) ThreadId, pub(crate) Box<dyn FnOnce()>);

impl std::fmt::Debug for Unborn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Unborn({:?})", self.0)
    }
}

impl World {
    pub(crate) fn new(oracle: Oracle, kept: TraceKept, limits: Limits) -> World {
        static RUNS: AtomicU64 = AtomicU64::new(1);
        World {
            kernel: Kernel::new(),
            net: crate::net::Net::default(),
            net_effects: std::collections::VecDeque::new(),
            overlappeds_in_use: Default::default(),
            threads: Vec::new(),
            hosts: Vec::new(),
            now_ns: 0,
            timers: BTreeSet::new(),
            oracle,
            trace: Trace::new(kept, limits.trace_bytes_max),
            current: ThreadId(0),
            local_streak: 0,
            runnable: ThreadSet::default(),
            polling: 0,
            steps: 0,
            limits,
            tearing_down: false,
            unborn: Vec::new(),
            allowed: BTreeSet::new(),
            finding: None,
            run_id: RUNS.fetch_add(1, Ordering::Relaxed),
            sync: Vec::new(),
            scratch: Vec::new(),
            spare_handles: Vec::new(),
            given: crate::given::Given::default(),
            exit_leaks: Vec::new(),
            host_events: std::collections::VecDeque::new(),
            waiting_on: Vec::new(),
        }
    }

    /// The thread that is running.
    pub fn current(&self) -> ThreadId {
        self.current
    }

    /// The running thread waits, and may not need to block: its turn is over all the same,
    /// for the anchors of decisions (`strategy::Anchor::round`; blocking ends one too).
    pub fn turn_ended(&mut self) {
        self.oracle.turn_ended(self.current);
    }

    /// The running thread's `call` made `misuse` of `object`: unless the run allows it, the
    /// run stops at its next scheduling point and fails naming it. The call itself goes on
    /// as Windows would.
    pub fn misuse(&mut self, misuse: Misuse, call: &'static str, object: impl FnOnce() -> String) {
        if self.counts(misuse) {
            let trace_line = self.trace.kept().map(|n| n + 1);
            self.found(self.current, misuse, call, object(), trace_line);
        }
    }

    /// Whether `misuse` would be the run's finding now: not allowed, none found before,
    /// the run not over.
    fn counts(&self, misuse: Misuse) -> bool {
        !self.allowed.contains(&misuse) && self.finding.is_none() && !self.tearing_down
    }

    /// Keeps `thread`'s misuse as the run's finding if it counts (see [`World::misuse`]),
    /// found when the trace had `trace_line` entries; the network finds them as packets
    /// arrive, for the thread whose `call` started the operation.
    pub(crate) fn found(
        &mut self,
        thread: ThreadId,
        misuse: Misuse,
        call: &'static str,
        object: String,
        trace_line: Option<usize>,
    ) {
        if self.counts(misuse) {
            let thread = self.threads[thread.index()].name.clone();
            self.finding = Some(Finding { misuse, call, thread, object, trace_line });
        }
    }

    /// The host of the thread that is running.
    pub fn host(&self) -> HostId {
        self.threads[self.current.index()].host
    }

    /// Virtual time in nanoseconds since the run began.
    pub fn now_ns(&self) -> u64 {
        self.now_ns
    }

    pub fn kernel(&self) -> &Kernel {
        &self.kernel
    }

    /// The object table, for changes that signal nothing (creating, resetting, closing).
    /// A change that may signal an object goes through [`World::signal`].
    pub fn kernel_mut(&mut self) -> &mut Kernel {
        &mut self.kernel
    }

    /// Makes a change that may signal `object` (and no other), then completes every wait
    /// it satisfies. Only waits on `object` can be: every other object is as it was.
    pub fn signal<R>(&mut self, object: Handle, change: impl FnOnce(&mut Kernel) -> R) -> R {
        let r = change(&mut self.kernel);
        self.wake_waiters(object);
        // Every blocked thread is looked at: affordable in debug builds for small runs only.
        debug_assert!(
            self.threads.len() > 256 || self.satisfied_waiter().is_none(),
            "a change through World::signal signaled an object other than {object}"
        );
        r
    }

    /// A blocked thread whose wait on objects is satisfied: none, ever, outside a change
    /// in progress (see the module doc).
    fn satisfied_waiter(&self) -> Option<ThreadId> {
        let i = self.threads.iter().position(|t| self.wait_satisfied(t, |handles| !handles.is_empty()))?;
        Some(ThreadId(i as u32))
    }

    /// Whether `t` is blocked in a wait on objects that `waits_on` picks, and the wait is
    /// satisfied now.
    fn wait_satisfied(&self, t: &ThreadRecord, waits_on: impl Fn(&[Handle]) -> bool) -> bool {
        match &t.state {
            State::Blocked { on: Blocker::Objects { handles, all, .. }, .. } => {
                waits_on(handles) && self.kernel.satisfied(WaitSpec { handles, all: *all }).is_some()
            }
            _ => false,
        }
    }

    /// Creates an object on the running thread's host.
    pub fn create(&mut self, object: Object) -> Handle {
        let (host, thread, now) = (self.host(), self.current.0, self.now_ns);
        self.kernel.insert(host, object, thread, now)
    }

    pub fn last_error(&self) -> u32 {
        self.threads[self.current.index()].last_error
    }

    pub fn set_last_error(&mut self, error: u32) {
        let me = &mut self.threads[self.current.index()];
        me.last_error = error;
        me.last_error_sets = me.last_error_sets.wrapping_add(1);
    }

    /// How many times the running thread's last error was set, for telling an error a call
    /// set from one an earlier call left (the value alone cannot: a call may set the same).
    pub fn last_error_sets(&self) -> u32 {
        self.threads[self.current.index()].last_error_sets
    }

    /// Gives the program `value` until it hands it back with [`World::take_back`], or the
    /// run ends (see `given`): a block `getaddrinfo` returns, say.
    pub fn lend<T: Any>(&mut self, value: T) -> *mut T {
        self.given.lend(value)
    }

    /// The block lent at `at`, if one of type `T` was and is still out.
    pub fn take_back<T: Any>(&mut self, at: *const T) -> Option<T> {
        self.given.take_back(at)
    }

    /// The running thread's buffer of type `T` (see `given`), where it was the last time.
    pub fn thread_buffer<T: Any + Default>(&mut self) -> &mut T {
        let me = self.current;
        self.given.per_thread(me)
    }

    /// Each host's name and address, in the order they were added.
    pub fn hosts_table(&self) -> impl Iterator<Item = (&str, Ipv4Addr)> {
        self.hosts.iter().enumerate().map(|(i, h)| (h.name.as_str(), self.net.host_ip(i as HostId)))
    }

    /// The running thread's host's name.
    pub fn host_name(&self) -> &str {
        &self.hosts[self.host() as usize].name
    }

    /// Holds a host's main thread, not yet run, until `at_ns` (`Sim::start_spread`).
    pub(crate) fn start_later(&mut self, thread: ThreadId, at_ns: u64) {
        if at_ns == 0 {
            return;
        }
        self.threads[thread.index()].state =
            State::Blocked { call: "start", on: Blocker::Start, deadline_ns: Some(at_ns) };
        self.timers.insert((at_ns, thread));
        self.runnable.remove(thread);
    }

    /// Sets the running thread's exit code (see `ThreadRecord::exit_code`).
    pub fn set_exit_code(&mut self, code: u32) {
        let me = self.current;
        self.threads[me.index()].exit_code = code;
    }

    /// A thread's exit code once it has ended (see `ThreadRecord::exit_code`).
    pub fn exit_code(&self, thread: ThreadId) -> Option<u32> {
        let record = &self.threads[thread.index()];
        matches!(record.state, State::Finished).then_some(record.exit_code)
    }

    /// The thread a thread object belongs to, if `handle` is one on the running host.
    pub fn thread_of(&self, handle: Handle) -> Option<ThreadId> {
        match self.kernel.get(self.host(), handle) {
            Ok(Object::Thread { .. }) => {}
            _ => return None,
        }
        let t = self.threads.iter().position(|t| t.handle == handle)?;
        Some(ThreadId(t as u32))
    }

    /// `host/main`, or `host/tN` for a spawned thread.
    pub fn thread_name(&self, thread: ThreadId) -> &str {
        &self.threads[thread.index()].name
    }

    /// The thread object of a thread.
    pub fn thread_handle(&self, thread: ThreadId) -> Handle {
        self.threads[thread.index()].handle
    }

    /// Queues an APC to a thread; `false` if the thread has ended. An alertable wait in
    /// progress ends at once: a blocked wait is never satisfied (see the module doc), so
    /// no signaled object can win over the APC here (that is decided when a wait starts:
    /// Wine sock.c test_select, test_WSARecv).
    pub fn queue_apc(&mut self, thread: ThreadId, argument: Value, run: Box<dyn FnOnce()>) -> bool {
        let record = &mut self.threads[thread.index()];
        if matches!(record.state, State::Finished) {
            return false;
        }
        record.apcs.push_back(Apc { argument, run });
        if let State::Blocked {
            on: Blocker::Objects { alertable: true, .. } | Blocker::Io { .. } | Blocker::Poll { .. },
            ..
        } = record.state
        {
            self.make_runnable(thread, Wake::Apc);
        }
        true
    }

    /// Whether the running thread has APCs queued.
    pub fn has_apcs(&self) -> bool {
        !self.threads[self.current.index()].apcs.is_empty()
    }

    /// Takes the running thread's next APC and records that it runs.
    pub fn next_apc(&mut self) -> Option<Box<dyn FnOnce()>> {
        let apc = self.threads[self.current.index()].apcs.pop_front()?;
        let (time_ns, thread) = (self.now_ns, self.current);
        self.trace.apc(time_ns, thread, &apc.argument);
        Some(apc.run)
    }

    /// Records a call of the running thread.
    #[inline]
    pub fn trace_call(&mut self, name: &'static str, args: &[Value], ret: Value, error: Option<u32>) {
        self.trace.call(self.now_ns, self.current, name, args, ret, error);
    }

    /// Parks the running thread; the caller then suspends it. A wait on objects must not be
    /// satisfiable now, and an alertable one must have no APC queued: those end at once.
    pub(crate) fn block(&mut self, call: &'static str, on: Blocker, deadline_ns: Option<u64>) {
        let me = self.current;
        self.oracle.turn_ended(me);
        match &on {
            Blocker::Objects { handles, all, alertable } => {
                let spec = WaitSpec { handles, all: *all };
                assert!(
                    handles.is_empty() || self.kernel.satisfied(spec).is_none(),
                    "{call} parks on a satisfied wait"
                );
                assert!(!(*alertable && self.has_apcs()), "{call} parks alertably with APCs queued");
                for i in handles.iter().filter_map(|h| h.index()) {
                    if i >= self.waiting_on.len() {
                        self.waiting_on.resize_with(i + 1, Vec::new);
                    }
                    if !self.waiting_on[i].contains(&me) {
                        self.waiting_on[i].push(me);
                    }
                }
            }
            Blocker::Io { .. } => assert!(!self.has_apcs(), "{call} parks alertably with APCs queued"),
            Blocker::Poll { .. } => {
                assert!(!self.has_apcs(), "{call} parks alertably with APCs queued");
                self.polling += 1;
            }
            Blocker::Lock(id) => match &mut self.sync[id.0 as usize] {
                SyncState::Mutex { waiters, .. } => waiters.push(me),
                other => unreachable!("{other:?}"),
            },
            Blocker::Notify(id) => match &mut self.sync[id.0 as usize] {
                SyncState::Condvar { waiters } => waiters.push(me),
                other => unreachable!("{other:?}"),
            },
            Blocker::Suspended | Blocker::Start => {
                unreachable!("{call}: only a thread not yet started waits so")
            }
        }
        if let Some(d) = deadline_ns {
            self.timers.insert((d, me));
        }
        self.threads[me.index()].state = State::Blocked { call, on, deadline_ns };
        self.runnable.remove(me);
    }

    /// The scheduler's next step, taken in place by the running thread at a scheduling
    /// point when the scheduler would have no choice to make: no other thread runnable,
    /// no packet due, no limit reached. It draws nothing and traces nothing, as the
    /// scheduler would not; it only saves the switch to the scheduler and back. `false`
    /// when the scheduler must decide.
    pub(crate) fn step_alone(&mut self) -> bool {
        self.expire_timers();
        let alone = self.runnable.len() == 1
            && self.net.wire.next_due().is_none_or(|t| t > self.now_ns)
            && self.steps < self.limits.steps_max
            && self.now_ns <= self.limits.time_max_ns
            && !self.oracle.diverged
            && self.finding.is_none();
        if alone {
            self.steps += 1;
            self.now_ns += self.limits.quantum_ns;
        }
        alone
    }

    /// Completes every wait on `object` that is satisfied now. When several are, the
    /// strategy picks which completes first, since that decides which takes an auto-reset
    /// event (Doc: WaitForMultipleObjects: the order of release is not FIFO-guaranteed).
    fn wake_waiters(&mut self, object: Handle) {
        while self.kernel.is_signaled(object) {
            let mut ready = std::mem::take(&mut self.scratch);
            ready.clear();
            let waiters = object.index().and_then(|i| self.waiting_on.get(i)).map_or(&[][..], Vec::as_slice);
            ready.extend(waiters.iter().filter(|t| self.wait_satisfied(&self.threads[t.index()], |_| true)));
            // In thread order, as the strategy's choice among them is drawn.
            ready.sort_unstable();
            let chosen = (!ready.is_empty()).then(|| self.choose(Choice::Wake, &ready));
            self.scratch = ready;
            let Some(chosen) = chosen else { return };
            let State::Blocked { on: Blocker::Objects { handles, all, .. }, .. } =
                &self.threads[chosen.index()].state
            else {
                unreachable!("{:?}", self.threads[chosen.index()].state)
            };
            let index = self.kernel.satisfy(WaitSpec { handles, all: *all }).expect("chosen as satisfied");
            self.make_runnable(chosen, Wake::Object(index));
        }
    }

    /// Times out every wait whose deadline is at or before now.
    pub(crate) fn expire_timers(&mut self) {
        while let Some(&(deadline, thread)) = self.timers.first() {
            if deadline > self.now_ns {
                return;
            }
            if let State::Blocked { on: Blocker::Notify(id), .. } = self.threads[thread.index()].state {
                self.remove_waiter(id, thread);
            }
            self.make_runnable(thread, Wake::Timeout);
        }
    }

    /// Ends a thread's block with `wake`, and drops its deadline.
    pub(crate) fn make_runnable(&mut self, thread: ThreadId, wake: Wake) {
        let record = &mut self.threads[thread.index()];
        if let State::Blocked { deadline_ns: Some(d), .. } = record.state {
            self.timers.remove(&(d, thread));
        }
        if let State::Blocked { on: Blocker::Poll { .. }, .. } = record.state {
            self.polling -= 1;
        }
        if let State::Blocked { on: Blocker::Objects { handles, .. }, .. } =
            std::mem::replace(&mut record.state, State::Runnable(wake))
        {
            for i in handles.iter().filter_map(|h| h.index()) {
                self.waiting_on[i].retain(|t| *t != thread);
            }
            self.spare_handles.push(handles);
        }
        self.runnable.insert(thread);
    }

    /// `handles` in a list for a thread's `Blocker::Objects`, in one that an earlier wait's
    /// block left when it could (a wait parks every round trip of a typical program).
    pub fn wait_list(&mut self, handles: &[Handle]) -> Vec<Handle> {
        let mut list = self.spare_handles.pop().unwrap_or_default();
        list.clear();
        list.extend_from_slice(handles);
        list
    }

    /// Lets the strategy choose one of `options` (two or more get a trace line).
    pub(crate) fn choose(&mut self, choice: Choice, options: &[ThreadId]) -> ThreadId {
        let chosen = options[self.oracle.pick(choice, options.len())];
        if options.len() > 1 {
            self.trace.choice(self.now_ns, self.current, choice.name(), chosen, options);
        }
        chosen
    }

    /// A thread ended: its object is signaled, and the I/O it issued is cancelled (Doc:
    /// WSARecv, "all I/O initiated by a given thread is canceled when that thread
    /// exits").
    pub(crate) fn thread_finished(&mut self, thread: ThreadId) {
        // Only a spawned thread that returns: a host's main thread ends its run's work for
        // that host, and a thread that panicked is reported as a panic.
        let record = &self.threads[thread.index()];
        if record.role == crate::thread::Role::Spawned && record.panicked.is_none() {
            let pending = self.thread_io(thread);
            // Completion routines are queued under their call's name (QueueUserAPC's APCs
            // under their argument), and the documents forbid only those.
            let routines = record.apcs.iter().filter(|a| matches!(a.argument, Value::Str(_))).count();
            if pending > 0 || routines > 0 {
                self.misuse(Misuse::ThreadEndedWithIo, "exit", || {
                    format!("operations pending: {pending}, completion routines queued: {routines}")
                });
            }
        }
        self.end(thread);
    }

    /// A running thread's end: its object signaled, the I/O it issued cancelled.
    fn end(&mut self, thread: ThreadId) {
        let record = &mut self.threads[thread.index()];
        record.state = State::Finished;
        self.runnable.remove(thread);
        let handle = record.handle;
        self.signal(handle, |k| k.thread_exited(handle));
        self.cancel_thread_io(thread);
    }

    /// A host's main thread returned: the host ends as a process that exits does, its other
    /// threads ended and its handles closed (Doc: ExitProcess: "all threads of the process
    /// are terminated", "all of the object handles opened by the process are closed"). Its
    /// threads run no more code (their stacks unwind at the run's end, when nothing can
    /// park); the I/O they issued is cancelled; its sockets close as `closesocket` closes
    /// them, with a reset where data is unread. Its other handles stay open, seen by no
    /// other host. A `wsasim::sync::Mutex` one of its threads held stays held, as a lock a
    /// terminated thread held does on Windows. What a client host left open is a leak,
    /// recorded now, as the run's end would have found it.
    pub(crate) fn host_exited(&mut self, host: HostId) {
        if self.hosts[host as usize].client {
            let leaks = self.open_leaks(|h| h == host);
            self.exit_leaks.extend(leaks);
        }
        self.end_host_threads(host);
        self.close_host_sockets(host);
    }

    /// Ends every thread of `host` where it stands: it runs no more code, and its I/O is
    /// cancelled.
    pub(crate) fn end_host_threads(&mut self, host: HostId) {
        for i in 0..self.threads.len() {
            let thread = ThreadId(i as u32);
            let record = &self.threads[i];
            if record.host != host || matches!(record.state, State::Finished) {
                continue;
            }
            let blocked_on_sync = match record.state {
                State::Blocked { on: Blocker::Lock(id) | Blocker::Notify(id), .. } => Some(id),
                _ => None,
            };
            let blocked = matches!(record.state, State::Blocked { .. });
            if let Some(id) = blocked_on_sync {
                self.remove_waiter(id, thread);
            }
            if blocked {
                self.make_runnable(thread, Wake::Teardown);
            }
            self.trace.push(Record { time_ns: self.now_ns, thread, entry: Entry::Exit });
            self.end(thread);
        }
    }

    /// The events and sockets open on the hosts `on` picks, as leaks.
    pub(crate) fn open_leaks(&self, on: impl Fn(HostId) -> bool) -> Vec<Leak> {
        self.kernel
            .open_handles()
            .filter(|(_, info)| on(info.host))
            .filter_map(|(h, info)| {
                let what = match info.object {
                    Object::Event(_) => "event",
                    Object::Socket { .. } => "socket",
                    _ => return None,
                };
                Some(Leak {
                    what,
                    handle: h.0,
                    thread: self.threads[info.created_by as usize].name.clone(),
                    created: std::time::Duration::from_nanos(info.created_ns),
                })
            })
            .collect()
    }

    /// The id of a `wsasim::sync` object in this run, given out on first use. Panics if
    /// another run has used the object.
    pub fn sync_id(&mut self, cell: &SyncCell, is_mutex: bool) -> SyncId {
        match cell.run.compare_exchange(0, self.run_id, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => {}
            Err(run) if run == self.run_id => return SyncId(cell.id.load(Ordering::Relaxed)),
            Err(_) => panic!(
                "wsasim: a wsasim::sync object was used by two runs; make it inside the run (a static would share its state between seeds)"
            ),
        }
        let id = SyncId(self.sync.len() as u32);
        self.sync.push(if is_mutex {
            SyncState::Mutex { owner: None, waiters: Vec::new() }
        } else {
            SyncState::Condvar { waiters: Vec::new() }
        });
        cell.id.store(id.0, Ordering::Relaxed);
        id
    }

    /// Takes a free mutex for the running thread, or names the thread that holds it.
    pub fn try_lock(&mut self, id: SyncId) -> Result<(), ThreadId> {
        let me = self.current;
        match &mut self.sync[id.0 as usize] {
            SyncState::Mutex { owner: Some(o), .. } => Err(*o),
            SyncState::Mutex { owner, .. } => {
                *owner = Some(me);
                Ok(())
            }
            other => unreachable!("{other:?}"),
        }
    }

    /// Releases a mutex of the running thread, handing it to a waiter if there is one.
    pub fn unlock(&mut self, id: SyncId) {
        let SyncState::Mutex { owner, waiters } = &mut self.sync[id.0 as usize] else {
            unreachable!("{id:?} is not a mutex")
        };
        assert_eq!(
            *owner,
            Some(self.current),
            "a wsasim::sync::Mutex released by a thread that does not hold it"
        );
        *owner = None;
        if waiters.is_empty() {
            return;
        }
        let options = waiters.clone();
        let next = self.choose(Choice::Lock, &options);
        self.remove_waiter(id, next);
        let SyncState::Mutex { owner, .. } = &mut self.sync[id.0 as usize] else { unreachable!() };
        *owner = Some(next);
        self.make_runnable(next, Wake::Acquired);
    }

    /// Wakes one waiter of a condition variable (chosen by the strategy), or all of them.
    pub fn notify(&mut self, id: SyncId, all: bool) {
        let SyncState::Condvar { waiters } = &mut self.sync[id.0 as usize] else {
            unreachable!("{id:?} is not a condition variable")
        };
        let woken = if all {
            std::mem::take(waiters)
        } else if waiters.is_empty() {
            return;
        } else {
            let options = waiters.clone();
            let one = self.choose(Choice::Notify, &options);
            self.remove_waiter(id, one);
            vec![one]
        };
        for t in woken {
            self.make_runnable(t, Wake::Notified);
        }
    }

    fn remove_waiter(&mut self, id: SyncId, thread: ThreadId) {
        let (SyncState::Mutex { waiters, .. } | SyncState::Condvar { waiters }) =
            &mut self.sync[id.0 as usize];
        waiters.retain(|t| *t != thread);
    }
}
