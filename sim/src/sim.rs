//! The builder of a run ([`Sim`]) and what a run returns ([`Outcome`] or [`Failure`]).

use crate::ThreadId;
use crate::crash::HostEvent;
use crate::execution::{self, Decide, Ending, Finished, HostStart, Limits, NetSettings};
use crate::misuse::{Finding, Misuse};
use crate::net::{Chance, Conservation, Injection, Latency, LinkFaults, Partition};
use crate::strategy::{Directive, Schedule, Strategy};
use crate::swarm::{Swarm, SwarmSettings};
use crate::thread::{Blocker, Role, State};
use crate::trace::{self, TraceKept};
use std::fmt;
use std::net::Ipv4Addr;
use std::time::Duration;

/// One simulated run: hosts with their main threads, a seed, and settings.
///
/// ```no_run
/// let mut sim = wsasim_sim::Sim::new(7);
/// sim.client("a", "192.0.2.1", || { /* the program under test */ });
/// let outcome = sim.run().unwrap_or_else(|f| panic!("{f}"));
/// println!("{}", outcome.trace_text());
/// ```
pub struct Sim {
    seed: u64,
    hosts: Vec<(Ipv4Addr, HostStart)>,
    limits: Limits,
    trace_kept: TraceKept,
    fail_on_leaks: bool,
    replay: Option<String>,
    strategy: Strategy,
    /// The run length strategies draw their points over when they were given none.
    run_length: u64,
    swarm: Option<Swarm>,
    /// A recorded schedule to replay instead of deciding.
    schedule: Option<Replay>,
    expected_misuse: Option<Misuse>,
    net: NetSettings,
    /// Links named by host, resolved when the run starts.
    links: Vec<(String, String, Latency)>,
    /// Faults of links named by host, in the order set.
    link_faults: Vec<(String, String, FaultKind, Chance)>,
    /// Partitions by host name: when, until when, and the two sides.
    partitions: Vec<(Duration, Duration, Vec<String>, Vec<String>)>,
    /// Crashes and restarts (with the main thread to run) by host name, in the order set.
    host_events: Vec<NamedHostEvent>,
}

/// A crash (no main) or restart (with the main thread it runs) of a host, by name.
type NamedHostEvent = (Duration, String, Option<Box<dyn FnOnce()>>);

/// A kind of fault a link can be given a chance of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FaultKind {
    Loss,
    Duplicate,
    Reorder,
    Reset,
}

impl FaultKind {
    /// The `Sim` method that sets it for a link.
    fn call(self) -> &'static str {
        match self {
            FaultKind::Loss => "link_loss",
            FaultKind::Duplicate => "link_duplicate",
            FaultKind::Reorder => "link_reorder",
            FaultKind::Reset => "link_reset",
        }
    }

    fn set(self, link: &mut LinkFaults, chance: Chance) {
        match self {
            FaultKind::Loss => link.loss = chance,
            FaultKind::Duplicate => link.duplicate = chance,
            FaultKind::Reorder => link.reorder = chance,
            FaultKind::Reset => link.reset = chance,
        }
    }
}

/// A probability a fault setting was given, checked.
fn chance(call: &str, p: f64) -> Chance {
    Chance::of(p).unwrap_or_else(|| panic!("wsasim: Sim::{call} takes a probability from 0 to 1, not {p}"))
}

impl fmt::Debug for Sim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hosts: Vec<_> = self.hosts.iter().map(|(a, h)| format!("{}@{a}", h.name)).collect();
        f.debug_struct("Sim")
            .field("seed", &self.seed)
            .field("hosts", &hosts)
            .field("limits", &self.limits)
            .finish()
    }
}

impl Sim {
    /// Default bound on scheduling steps.
    pub const STEPS_MAX: u64 = 50_000_000;
    /// Default bound on virtual time.
    pub const TIME_MAX: Duration = Duration::from_secs(3600);
    /// Default virtual time of one scheduling step.
    pub const QUANTUM: Duration = Duration::from_micros(1);
    /// Default stack of a simulated thread.
    pub const STACK_BYTES: usize = 1 << 20;
    /// Default bound on the memory a kept trace takes: 1 GiB, some ten million entries.
    pub const TRACE_BYTES_MAX: usize = 1 << 30;

    pub fn new(seed: u64) -> Sim {
        Sim {
            seed,
            hosts: Vec::new(),
            limits: Limits {
                steps_max: Self::STEPS_MAX,
                time_max_ns: Self::TIME_MAX.as_nanos() as u64,
                quantum_ns: Self::QUANTUM.as_nanos() as u64,
                stack_bytes: Self::STACK_BYTES,
                trace_bytes_max: Self::TRACE_BYTES_MAX,
            },
            trace_kept: TraceKept::Records,
            fail_on_leaks: false,
            replay: None,
            strategy: Strategy::RandomWalk,
            run_length: 0,
            swarm: None,
            schedule: None,
            expected_misuse: None,
            net: NetSettings::default(),
            links: Vec::new(),
            link_faults: Vec::new(),
            partitions: Vec::new(),
            host_events: Vec::new(),
        }
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The names of the hosts added so far, in order.
    pub fn host_names(&self) -> impl Iterator<Item = &str> {
        self.hosts.iter().map(|(_, h)| h.name.as_str())
    }

    /// A host whose main thread must return: the run succeeds when every client's has.
    pub fn client(&mut self, name: &str, ipv4: &str, main: impl FnOnce() + 'static) -> &mut Sim {
        self.add_host(name, ipv4, true, Box::new(main))
    }

    /// A host whose main thread may run forever, such as a server: it is stopped, and its
    /// threads unwound, once every client has finished.
    pub fn host(&mut self, name: &str, ipv4: &str, main: impl FnOnce() + 'static) -> &mut Sim {
        self.add_host(name, ipv4, false, Box::new(main))
    }

    /// Fails the run after this many scheduling steps (default [`Sim::STEPS_MAX`]).
    pub fn steps_max(&mut self, steps: u64) -> &mut Sim {
        self.limits.steps_max = steps;
        self
    }

    /// Fails the run once virtual time passes this (default [`Sim::TIME_MAX`]).
    pub fn time_max(&mut self, time: Duration) -> &mut Sim {
        self.limits.time_max_ns = ns(time);
        self
    }

    /// The virtual time each scheduling step takes (default [`Sim::QUANTUM`]).
    pub fn quantum(&mut self, quantum: Duration) -> &mut Sim {
        self.limits.quantum_ns = ns(quantum);
        self
    }

    /// Keeps the trace's entries until they take this much memory (default
    /// [`Sim::TRACE_BYTES_MAX`]): past it the trace is cut, the run goes on as one that keeps
    /// only its hash, and gives the same hash.
    pub fn trace_bytes_max(&mut self, bytes: usize) -> &mut Sim {
        self.limits.trace_bytes_max = bytes;
        self
    }

    /// The stack reserved for each simulated thread (default [`Sim::STACK_BYTES`]).
    pub fn stack_bytes(&mut self, bytes: usize) -> &mut Sim {
        self.limits.stack_bytes = bytes;
        self
    }

    /// What the run keeps of its trace (default [`TraceKept::Records`]: its entries, for
    /// [`Outcome::trace_text`], and its schedule).
    pub fn trace_kept(&mut self, kept: TraceKept) -> &mut Sim {
        self.trace_kept = kept;
        self
    }

    /// Keeps the trace's entries and schedule, or (`false`) only the trace's hash: short
    /// for [`Sim::trace_kept`] with [`TraceKept::Records`] or [`TraceKept::Hash`].
    pub fn keep_trace(&mut self, keep: bool) -> &mut Sim {
        self.trace_kept(if keep { TraceKept::Records } else { TraceKept::Hash })
    }

    /// Makes an event or a socket left open by a client host a failure (by default it is
    /// only reported in [`Outcome::leaks`]): Doc: WSACloseEvent asks for one close per
    /// create, Doc: closesocket "for each successful call to socket".
    pub fn fail_on_leaks(&mut self, fail: bool) -> &mut Sim {
        self.fail_on_leaks = fail;
        self
    }

    /// How far apart the hosts start: in a run of two hosts or more, each host's main thread
    /// starts at a seeded moment from 0 to `spread` after the run's start, in whole
    /// microseconds (1 ms by default), as real machines are not started in step;
    /// `Duration::ZERO` starts them together. Each start is a recorded decision (`start` in
    /// a schedule file), whose default is 0.
    pub fn start_spread(&mut self, spread: Duration) -> &mut Sim {
        self.net.start_spread_us = u64::try_from(spread.as_micros()).unwrap_or(u64::MAX);
        self
    }

    /// The latency of every link (default 50 to 150 µs): each packet's is drawn from
    /// `min..=max` by the strategy; `min == max` fixes it.
    pub fn latency(&mut self, min: Duration, max: Duration) -> &mut Sim {
        self.net.latency = Some(latency(min, max));
        self
    }

    /// The latency between two hosts, by name (`a == b` for a host's loopback), over
    /// [`Sim::latency`].
    pub fn link_latency(&mut self, a: &str, b: &str, min: Duration, max: Duration) -> &mut Sim {
        self.links.push((a.to_owned(), b.to_owned(), latency(min, max)));
        self
    }

    /// Loses each packet on every link between hosts (a host's loopback makes no fault)
    /// with probability `p` (0 by default). A datagram (or
    /// ICMP message) lost is gone, counted as lost; TCP sends a lost segment again after a
    /// retransmission timeout, so the program sees only the delay, unless its
    /// retransmissions run out (see the README's table of TCP timers). Each loss is a
    /// recorded decision (`loss` in a schedule file) and a `fault:` line of the trace.
    pub fn loss(&mut self, p: f64) -> &mut Sim {
        self.net.faults.all.loss = chance("loss", p);
        self
    }

    /// Duplicates each packet on every link with probability `p`: a datagram arrives twice;
    /// a TCP segment's copy is discarded by the receiver.
    pub fn duplicate(&mut self, p: f64) -> &mut Sim {
        self.net.faults.all.duplicate = chance("duplicate", p);
        self
    }

    /// Holds each packet back with probability `p`, by up to four times the link's
    /// greatest latency, so that datagrams sent after it may arrive first; TCP still
    /// delivers in order, so a segment held back delays the ones behind it.
    pub fn reorder(&mut self, p: f64) -> &mut Sim {
        self.net.faults.all.reorder = chance("reorder", p);
        self
    }

    /// Makes a middlebox reset a TCP connection, at seeded random: each segment with data
    /// on a link between hosts does so with probability `p`, and each end gets a reset
    /// ahead of it, the segment then discarded: pending operations fail with
    /// `STATUS_CONNECTION_RESET`, later calls with `WSAECONNRESET`, as when a firewall or
    /// a NAT drops the connection.
    pub fn reset(&mut self, p: f64) -> &mut Sim {
        self.net.faults.all.reset = chance("reset", p);
        self
    }

    /// [`Sim::loss`] between two hosts, by name, over the setting for every link.
    pub fn link_loss(&mut self, a: &str, b: &str, p: f64) -> &mut Sim {
        self.link_faults.push((a.to_owned(), b.to_owned(), FaultKind::Loss, chance("link_loss", p)));
        self
    }

    /// [`Sim::duplicate`] between two hosts, by name.
    pub fn link_duplicate(&mut self, a: &str, b: &str, p: f64) -> &mut Sim {
        self.link_faults.push((
            a.to_owned(),
            b.to_owned(),
            FaultKind::Duplicate,
            chance("link_duplicate", p),
        ));
        self
    }

    /// [`Sim::reorder`] between two hosts, by name.
    pub fn link_reorder(&mut self, a: &str, b: &str, p: f64) -> &mut Sim {
        self.link_faults.push((a.to_owned(), b.to_owned(), FaultKind::Reorder, chance("link_reorder", p)));
        self
    }

    /// [`Sim::reset`] between two hosts, by name.
    pub fn link_reset(&mut self, a: &str, b: &str, p: f64) -> &mut Sim {
        self.link_faults.push((a.to_owned(), b.to_owned(), FaultKind::Reset, chance("link_reset", p)));
        self
    }

    /// Cuts the hosts named in `a` off from those in `b` from `at` after the run's start
    /// until `heal_at` (`Duration::MAX`: for good). A packet sent across meanwhile is lost:
    /// datagrams are gone; TCP retransmits, and a connection whose retransmissions run out
    /// before the partition heals is dropped (its operations fail with `WSAECONNABORTED`),
    /// as is a connect (`WSAETIMEDOUT` after 21 s).
    pub fn partition(&mut self, at: Duration, heal_at: Duration, a: &[&str], b: &[&str]) -> &mut Sim {
        assert!(
            heal_at > at,
            "wsasim: Sim::partition: it heals at {heal_at:?}, not after it starts at {at:?}"
        );
        if let Some(both) = a.iter().find(|n| b.contains(n)) {
            panic!("wsasim: Sim::partition: host {both:?} is on both sides");
        }
        let names = |side: &[&str]| side.iter().map(|n| (*n).to_owned()).collect();
        self.partitions.push((at, heal_at, names(a), names(b)));
        self
    }

    /// Makes `call` fail with `error` with probability `p` each time it would otherwise go
    /// ahead, as Windows fails it when short of resources: `WSAENOBUFS` from a send, say,
    /// which a program must retry. The failure is the call's own (`SOCKET_ERROR` and the
    /// last error, no completion for an overlapped call), a recorded decision (`inject`
    /// in a schedule) and a line of the trace. Panics if the call's Microsoft page does not
    /// list the error, or if the error says what became of a connection (those come from
    /// `Sim::reset` and the other faults); the README's table lists what can be injected.
    pub fn inject(&mut self, call: &str, error: u32, p: f64) -> &mut Sim {
        let injection = Injection::new(call, error, chance("inject", p));
        self.net.injections.push(injection.unwrap_or_else(|e| panic!("wsasim: Sim::inject: {e}")));
        self
    }

    /// Crashes host `name` at `at` after the run's start, as a power cut would: its threads
    /// end where they stand, its handles are gone, and its sockets vanish without a FIN or
    /// a reset, so a peer finds out only by its own timeout (its retransmissions into the
    /// host, which is down, run out) or, once the host has restarted, from the reset its
    /// next segment draws. A crashed client host counts as finished, unless it restarts.
    pub fn crash(&mut self, name: &str, at: Duration) -> &mut Sim {
        self.host_events.push((at, name.to_owned(), None));
        self
    }

    /// Boots host `name` again at `at` (crashing it first if it is up), on a fresh host:
    /// same name and address, no handles, `WSAStartup` not yet called, and `main` as its
    /// main thread (a host's first main has run already, so it is given again: often the
    /// same function). A server can so be tested for clients that reconnect.
    pub fn restart(&mut self, name: &str, at: Duration, main: impl FnOnce() + 'static) -> &mut Sim {
        self.host_events.push((at, name.to_owned(), Some(Box::new(main))));
        self
    }

    /// Makes overlapped operations that could complete at once pend instead, at seeded
    /// random (default off: they complete at once, as on Windows: Wine sock.c
    /// test_completion_port). A program must handle both outcomes; this finds the ones that
    /// do not.
    pub fn pend_immediate(&mut self, on: bool) -> &mut Sim {
        self.net.pend_odds = if on { NetSettings::PEND_ODDS } else { 0 };
        self
    }

    /// Plants the transport bug that the end-of-run stall check exists to catch: the
    /// connection of a closed socket stops transmitting, so bytes a graceful close should
    /// still deliver stay unsent. For wsasim's own tests of that check; never for a program.
    #[doc(hidden)]
    pub fn plant_stall(&mut self) -> &mut Sim {
        self.net.planted_stall = true;
        self
    }

    /// Lets the program make `misuse` without the run failing: for a test of what
    /// Windows does then.
    pub fn allow(&mut self, misuse: Misuse) -> &mut Sim {
        self.net.allowed.insert(misuse);
        self
    }

    /// Makes the run pass only if the program makes `misuse` (and fail as
    /// [`FailureKind::NoMisuse`] if it makes none): for examples and tests of the checks.
    /// The finding is then [`Outcome::misuse`].
    pub fn expect_misuse(&mut self, misuse: Misuse) -> &mut Sim {
        self.expected_misuse = Some(misuse);
        self
    }

    /// How the run decides which party runs next (default [`Strategy::RandomWalk`]).
    pub fn strategy(&mut self, strategy: Strategy) -> &mut Sim {
        self.strategy = strategy;
        self
    }

    /// The run length, in decisions of which party runs, that PCT and bounded preemption
    /// draw their points over when their strategy names none (default
    /// [`Strategy::STEPS_DEFAULT`]; a sweep measures it on seed 0).
    pub fn run_length(&mut self, steps: u64) -> &mut Sim {
        self.run_length = steps;
        self
    }

    /// Draws the strategy, link latencies, segment cuts and pending at random from the
    /// seed within `swarm`'s bounds, over what was set (per-link latencies stay). A
    /// failure names what was drawn.
    pub fn swarm(&mut self, swarm: Option<Swarm>) -> &mut Sim {
        self.swarm = swarm;
        self
    }

    /// Replays a recorded schedule: its seed becomes the run's, every decision comes from
    /// it, and so do the swarm settings its seed drew. A run that stops fitting it fails
    /// as [`FailureKind::Diverged`].
    pub fn replay_schedule(&mut self, schedule: Schedule) -> &mut Sim {
        self.replay(Replay { schedule, keep: None })
    }

    /// Replays a schedule as [`Replay`] says: strictly, as [`Sim::replay_schedule`] does,
    /// or only the decisions it keeps, the default elsewhere, as minimising does.
    pub fn replay(&mut self, replay: Replay) -> &mut Sim {
        self.seed = replay.schedule.seed;
        self.schedule = Some(replay);
        self
    }

    /// The command a failure prints to replay this run.
    pub fn replay_command(&mut self, command: impl Into<String>) -> &mut Sim {
        self.replay = Some(command.into());
        self
    }

    /// Runs the simulation to its end. Panics if it has no client, or was run already.
    pub fn run(&mut self) -> Result<Outcome, Failure> {
        assert!(
            self.hosts.iter().any(|(_, h)| h.client),
            "wsasim: Sim::run needs a client host (Sim::client)"
        );
        let mut net = self.net.clone();
        let index = |call: &str, name: &str| {
            let i = self.hosts.iter().position(|(_, h)| h.name == name);
            i.unwrap_or_else(|| panic!("wsasim: Sim::{call} names no host {name:?}")) as u32
        };
        let pair = |call: &str, a: &str, b: &str| {
            let (a, b) = (index(call, a), index(call, b));
            (a.min(b), a.max(b))
        };
        for (a, b, l) in &self.links {
            net.links.insert(pair("link_latency", a, b), *l);
        }
        for (a, b, kind, chance) in &self.link_faults {
            let all = net.faults.all;
            kind.set(net.faults.links.entry(pair(kind.call(), a, b)).or_insert(all), *chance);
        }
        for (at, heal, a, b) in &self.partitions {
            let side = |names: &[String]| names.iter().map(|n| index("partition", n)).collect();
            let p = Partition { from_ns: ns(*at), heal_ns: ns(*heal), sides: [side(a), side(b)] };
            net.faults.partitions.push(p);
        }
        let events = std::mem::take(&mut self.host_events);
        let host_events = host_events(events, &index, self.hosts.len() as u32, &mut net.faults.partitions);
        let hosts = std::mem::take(&mut self.hosts).into_iter().map(|(_, h)| h).collect();
        let (decide, strategy, drawn) = self.decide(&mut net);
        let finished =
            execution::execute(self.seed, decide, self.trace_kept, self.limits, net, hosts, host_events);
        let replay =
            || self.replay.clone().unwrap_or_else(|| crate::check::replay_command(None, &Default::default()));
        let mut report = Box::new(Report::new(self.seed, strategy, finished));
        (report.swarm, report.expected_misuse) = (drawn, self.expected_misuse);
        if let Some(schedule) = &mut report.schedule {
            schedule.swarm = drawn;
        }
        report.judge(self.fail_on_leaks, self.limits, replay)
    }

    /// Where the run's decisions come from, the strategy as the schedule names it, and the
    /// swarm settings drawn (or replayed), which `net` takes.
    fn decide(&self, net: &mut NetSettings) -> (Decide, String, Option<SwarmSettings>) {
        let steps = if self.run_length == 0 { Strategy::STEPS_DEFAULT } else { self.run_length };
        let drawn = match &self.schedule {
            Some(r) => r.schedule.swarm,
            None => self.swarm.map(|swarm| swarm.draw(self.seed, steps)),
        };
        if let Some(d) = drawn {
            (net.latency, net.cut_odds, net.pend_odds) = (Some(d.latency), d.cut_odds, d.pend_odds);
            if let Some(faults) = d.faults {
                net.faults.all = faults;
            }
        }
        if let Some(Replay { schedule, keep }) = &self.schedule {
            return (
                Decide::Replay(schedule.decisions.clone(), keep.clone()),
                schedule.strategy.clone(),
                drawn,
            );
        }
        let strategy = drawn.map_or(self.strategy.over(steps), |d| d.strategy);
        (Decide::By(strategy), strategy.to_string(), drawn)
    }

    fn add_host(&mut self, name: &str, ipv4: &str, client: bool, main: Box<dyn FnOnce()>) -> &mut Sim {
        let addr: Ipv4Addr =
            ipv4.parse().unwrap_or_else(|_| panic!("wsasim: host {name:?}: {ipv4:?} is not an IPv4 address"));
        assert!(
            !(addr.is_loopback() || addr.is_unspecified() || addr.is_broadcast() || addr.is_multicast()),
            "wsasim: host {name:?}: {addr} cannot be a host's address (loopback, unspecified, broadcast or multicast)"
        );
        assert!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "wsasim: host name {name:?} must be letters, digits, '-' or '_'"
        );
        // A DNS label's limit (RFC 1035 2.3.4), so the name fits what resolution returns.
        assert!(name.len() <= 63, "wsasim: host name {name:?} is longer than 63 characters");
        for (a, h) in &self.hosts {
            assert!(h.name != name, "wsasim: two hosts are named {name:?}");
            assert!(*a != addr, "wsasim: hosts {:?} and {name:?} both have address {addr}", h.name);
        }
        self.hosts.push((addr, HostStart { name: name.to_owned(), ip: addr, client, main }));
        self
    }
}

/// The crashes and restarts, earliest first, hosts by index; the time each host is
/// down (from a crash to its restart, or for good) joins `partitions`, between it and
/// every other host, so that packets sent to it are lost and TCP retransmits them.
fn host_events(
    events: Vec<NamedHostEvent>,
    index: &dyn Fn(&str, &str) -> u32,
    hosts: u32,
    partitions: &mut Vec<Partition>,
) -> Vec<HostEvent> {
    let mut events: Vec<HostEvent> = events
        .into_iter()
        .map(|(at, name, restart)| {
            let call = if restart.is_some() { "restart" } else { "crash" };
            HostEvent { at_ns: ns(at), host: index(call, &name), restart }
        })
        .collect();
    events.sort_by_key(|e| e.at_ns);
    for host in 0..hosts {
        let others = (0..hosts).filter(|h| *h != host).collect::<Vec<_>>();
        let mut down_since = None;
        let mut down = |from_ns, heal_ns| {
            partitions.push(Partition { from_ns, heal_ns, sides: [vec![host], others.clone()] });
        };
        for e in events.iter().filter(|e| e.host == host) {
            match (&e.restart, down_since) {
                (None, None) => down_since = Some(e.at_ns),
                (Some(_), Some(from)) => {
                    down(from, e.at_ns);
                    down_since = None;
                }
                _ => {}
            }
        }
        if let Some(from) = down_since {
            down(from, u64::MAX);
        }
    }
    events
}

fn latency(min: Duration, max: Duration) -> Latency {
    assert!(min <= max, "wsasim: a latency range from {min:?} to {max:?}");
    let ns = |d: Duration| u64::try_from(d.as_nanos()).expect("a latency under 584 years");
    Latency { min_ns: ns(min), max_ns: ns(max) }
}

/// A schedule to replay, and which of its decisions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replay {
    pub schedule: Schedule,
    /// `None`: every decision, strictly (a run that stops fitting fails as diverged).
    /// `Some`: only these, each where its anchor comes and it still fits; the default
    /// everywhere else ([`crate::Choice::default_option`]): how a schedule is minimised.
    pub keep: Option<Vec<Directive>>,
}

/// An event or a socket still open at the end of a run, on a client host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leak {
    /// `"event"` or `"socket"`.
    pub what: &'static str,
    pub handle: usize,
    /// The thread that created it.
    pub thread: String,
    /// When it was created.
    pub created: Duration,
}

impl fmt::Display for Leak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {:#x} created by {} at {:?} was never closed",
            self.what, self.handle, self.thread, self.created
        )
    }
}

/// A run that succeeded.
#[derive(Debug)]
pub struct Outcome {
    report: Box<Report>,
}

impl Outcome {
    pub fn seed(&self) -> u64 {
        self.report.seed
    }

    /// The trace as text (see the trace format in the README). Empty if the trace was not
    /// kept.
    pub fn trace_text(&self) -> String {
        self.report.trace_text()
    }

    /// The trace as JSON lines.
    pub fn trace_jsonl(&self) -> String {
        self.report.trace_jsonl()
    }

    /// The trace with the choices that deviate from their defaults marked (see
    /// [`Failure::trace_text_marked`]).
    pub fn trace_text_marked(&self, calls_only: bool) -> String {
        self.report.trace_text_marked(calls_only)
    }

    /// A hash of the whole trace: equal for equal runs. Panics if the run kept neither
    /// its trace nor its hash ([`TraceKept::Nothing`]).
    pub fn trace_hash(&self) -> u64 {
        self.report.trace_hash()
    }

    /// Virtual time at the end of the run.
    pub fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.report.elapsed_ns)
    }

    /// Scheduling steps the run took.
    pub fn steps(&self) -> u64 {
        self.report.steps
    }

    /// Events and sockets the client hosts left open.
    pub fn leaks(&self) -> &[Leak] {
        &self.report.leaks
    }

    /// Where every byte the transport took went (checked to balance at every run's end).
    pub fn conservation(&self) -> Conservation {
        self.report.conservation
    }

    /// Decisions of which party runs, among two or more: the run length that PCT and
    /// bounded preemption draw their points over.
    pub fn party_decisions(&self) -> u64 {
        self.report.party_decisions
    }

    /// Decisions of which party runs that ran another than the one that ran last.
    pub fn switches(&self) -> u64 {
        self.report.switches
    }

    /// The misuse a run that expected one made ([`Sim::expect_misuse`]).
    pub fn misuse(&self) -> Option<&Finding> {
        self.report.finding.as_ref()
    }

    /// Every decision of the run, when it kept its trace.
    pub fn schedule(&self) -> Option<&Schedule> {
        self.report.schedule.as_ref()
    }
}

/// Why a run failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailureKind {
    /// A simulated thread panicked: a host's main thread, or a spawned one that nobody
    /// joined.
    Panic { thread: String, message: String },
    /// Nothing could run and nothing was due while a client had not finished. Each entry
    /// names a blocked thread and the call it is blocked in.
    Deadlock { blocked: Vec<String> },
    /// The run took `steps_max` scheduling steps.
    StepLimit { steps_max: u64 },
    /// Virtual time passed `time_max`.
    TimeLimit { time_max: Duration },
    /// Events or sockets left open, with `Sim::fail_on_leaks`.
    Leaks { leaks: Vec<Leak> },
    /// The program misused the overlapped API ([`Misuse`]): the call, thread, object and
    /// trace line, and why it is wrong.
    Misuse(Finding),
    /// `Sim::expect_misuse`, and the program made none.
    NoMisuse { expected: Misuse },
    /// A replayed schedule stopped fitting the run (`why` names the decision), which
    /// stopped there, after trace line `trace_line` when the trace was kept.
    Diverged { why: String, trace_line: Option<usize> },
    /// At the end of the run, a connection held bytes that nothing could move any more: a
    /// bug in wsasim's transport, reported before whatever else ended the run (`then`),
    /// since that may be its consequence. Each entry names a direction of a connection and
    /// what is stuck in it.
    Stalled { connections: Vec<String>, then: Option<Box<FailureKind>> },
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailureKind::Panic { thread, message } => {
                write!(f, "thread {thread} panicked: {message}")
            }
            FailureKind::Deadlock { blocked } => {
                write!(f, "deadlock: no thread can run and nothing is due")?;
                blocked.iter().try_for_each(|b| write!(f, "\n  {b}"))
            }
            FailureKind::StepLimit { steps_max } => {
                write!(f, "step limit: {steps_max} scheduling steps (Sim::steps_max)")
            }

            FailureKind::TimeLimit { time_max } => {
                write!(f, "time limit: virtual time passed {time_max:?} (Sim::time_max)")
            }
            FailureKind::Misuse(finding) => write!(f, "{finding}"),
            FailureKind::NoMisuse { expected } => {
                write!(f, "expected the misuse {expected}, and the run made none")
            }
            FailureKind::Diverged { why, trace_line } => {
                write!(f, "the schedule does not fit the run: {why}")?;
                match trace_line {
                    Some(line) => write!(f, " (the run stopped after trace line {line})"),
                    None => Ok(()),
                }
            }
            FailureKind::Stalled { connections, then } => {
                write!(f, "stalled: bytes that can never move (a bug in wsasim's transport)")?;
                connections.iter().try_for_each(|c| write!(f, "\n  {c}"))?;
                match then {
                    Some(then) => write!(f, "\nand then: {then}"),
                    None => Ok(()),
                }
            }
            FailureKind::Leaks { leaks } => {
                write!(f, "{} handle(s) left open (Sim::fail_on_leaks)", leaks.len())?;
                leaks.iter().try_for_each(|l| write!(f, "\n  {l}"))
            }
        }
    }
}

/// A run that failed: the seed, why, and the command that replays it.
#[derive(Debug)]
pub struct Failure {
    kind: FailureKind,
    replay: String,
    report: Box<Report>,
}

impl Failure {
    pub fn seed(&self) -> u64 {
        self.report.seed
    }

    pub fn kind(&self) -> &FailureKind {
        &self.kind
    }

    /// The command that replays this failure.
    pub fn replay(&self) -> &str {
        &self.replay
    }

    /// The trace up to the failure. Empty if the trace was not kept.
    pub fn trace_text(&self) -> String {
        self.report.trace_text()
    }

    /// The trace up to the failure with every choice that deviates from its default marked,
    /// as a replay of a minimised schedule shows it; with `calls_only`, without the
    /// scheduler's choices and packet arrivals.
    pub fn trace_text_marked(&self, calls_only: bool) -> String {
        self.report.trace_text_marked(calls_only)
    }

    /// The trace up to the failure, as JSON lines.
    pub fn trace_jsonl(&self) -> String {
        self.report.trace_jsonl()
    }

    /// A hash of the whole trace (see [`Outcome::trace_hash`]).
    pub fn trace_hash(&self) -> u64 {
        self.report.trace_hash()
    }

    /// Virtual time at the failure.
    pub fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.report.elapsed_ns)
    }

    /// Decisions of which party runs, among two or more (see [`Outcome::party_decisions`]).
    pub fn party_decisions(&self) -> u64 {
        self.report.party_decisions
    }

    /// What the seed drew, under [`Sim::swarm`].
    pub fn swarm(&self) -> Option<SwarmSettings> {
        self.report.swarm
    }

    /// Decisions that took another option than their default ([`crate::Choice`]).
    pub fn deviations(&self) -> u64 {
        self.report.deviations
    }

    /// Which decisions of [`Failure::schedule`] are deviations, by index.
    pub fn deviation_indices(&self) -> Vec<usize> {
        let Some(schedule) = &self.report.schedule else { return Vec::new() };
        let taken = schedule.decisions.iter().zip(&self.report.defaults);
        taken.enumerate().filter(|(_, (d, default))| d.chosen != **default).map(|(i, _)| i).collect()
    }

    /// The directive of each decision of [`Failure::schedule`]: how minimising keeps it.
    pub fn directives(&self) -> &[Directive] {
        &self.report.directives
    }

    /// The trace's entries, when it was kept.
    pub fn trace_len(&self) -> usize {
        self.report.records().len()
    }

    /// Every decision up to the failure, when the run kept its trace: replaying it with
    /// [`Sim::replay_schedule`] gives the same failure.
    pub fn schedule(&self) -> Option<&Schedule> {
        self.report.schedule.as_ref()
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "wsasim: seed {} failed at {:?} of virtual time", self.report.seed, self.elapsed())?;
        writeln!(f, "{}", self.kind)?;
        if let Some(drawn) = &self.report.swarm {
            writeln!(f, "swarm: {drawn}")?;
        }
        write!(f, "replay: {}", self.replay)
    }
}

impl std::error::Error for Failure {}

/// What both outcomes share.
#[derive(Debug)]
struct Report {
    seed: u64,
    /// The hash, when the run folded it in as it went ([`TraceKept::Hash`]).
    hash: Option<u64>,
    records: Option<trace::Records>,
    names: Vec<String>,
    elapsed_ns: u64,
    steps: u64,
    leaks: Vec<Leak>,
    conservation: Conservation,
    /// Connections whose bytes can never move (see `Net::stalls`).
    stalls: Vec<String>,
    schedule: Option<Schedule>,
    /// The default of each decision of `schedule`.
    defaults: Vec<u64>,
    /// The directive of each decision of `schedule`.
    directives: Vec<Directive>,
    /// Decisions that took another option than the default.
    deviations: u64,
    divergence: Option<String>,
    party_decisions: u64,
    /// Decisions that ran another party than the one that ran last.
    switches: u64,
    /// What the seed drew, under `Sim::swarm`.
    swarm: Option<SwarmSettings>,
    /// The first misuse the program made.
    finding: Option<Finding>,
    /// `Sim::expect_misuse`.
    expected_misuse: Option<Misuse>,
    ending: Ending,
    /// Each blocked thread and what it waits for, for a deadlock.
    blocked: Vec<String>,
    /// The first panic no one took: of a host's main thread, or of an unjoined thread.
    panic: Option<(String, String)>,
}

impl Report {
    fn new(seed: u64, strategy: String, finished: Finished) -> Report {
        let Finished { ending, mut world, steps, decisions, divergence } = finished;
        let (schedule, defaults, directives) = match decisions {
            Some((decisions, defaults, directives)) => {
                (Some(Schedule { seed, strategy, swarm: None, decisions }), defaults, directives)
            }
            None => (None, Vec::new(), Vec::new()),
        };
        let deviations = world.oracle.deviations();
        let (party_decisions, switches) = (world.oracle.party_decisions(), world.oracle.switches());
        let names: Vec<String> = world.threads.iter().map(|t| t.name.clone()).collect();
        let name = |t: u32| names[t as usize].clone();
        // What client hosts that ended left open, then what those still running have open.
        let mut leaks = std::mem::take(&mut world.exit_leaks);
        let mut running = vec![false; world.hosts.len()];
        for t in
            world.threads.iter().filter(|t| t.role != Role::Spawned && !matches!(t.state, State::Finished))
        {
            running[t.host as usize] = true;
        }
        leaks.extend(world.open_leaks(|host| world.hosts[host as usize].client && running[host as usize]));
        leaks.sort_by_key(|l| (l.created, l.handle));
        // Described for a deadlock only: a run that ends otherwise leaves servers blocked.
        let blocked = match ending {
            Ending::Deadlock => world.threads.iter().filter_map(describe_blocked).collect(),
            _ => Vec::new(),
        };
        let panic = match ending {
            Ending::Panic(t) => Some(t),
            _ => world.threads.iter().position(|t| t.panicked.is_some()).map(|i| ThreadId(i as u32)),
        }
        .map(|t| {
            let p = world.threads[t.index()].panicked.take().expect("a panicked thread");
            let at = if p.location.is_empty() { String::new() } else { format!(" (at {})", p.location) };
            (name(t.0), format!("{}{at}", p.message))
        });
        let conservation = world.net.conservation();
        assert!(conservation.holds(), "wsasim: bytes lost without a trace, seed {seed}: {conservation:?}");
        let stalls = world.net.stalls();
        let (hash, records) =
            std::mem::replace(&mut world.trace, trace::Trace::new(TraceKept::Nothing, 0)).into_parts();
        Report {
            seed,
            hash,
            records,
            names,
            elapsed_ns: world.now_ns,
            steps,
            leaks,
            conservation,
            stalls,
            schedule,
            defaults,
            directives,
            deviations,
            divergence,
            party_decisions,
            switches,
            swarm: None,
            finding: world.finding.take(),
            expected_misuse: None,
            ending,
            blocked,
            panic,
        }
    }

    /// The entries kept (none when the run kept none).
    fn records(&self) -> &trace::Records {
        self.records.as_ref().unwrap_or(&trace::NO_RECORDS)
    }

    fn trace_text(&self) -> String {
        trace::render_text(self.records(), &self.names)
    }

    /// The hash the run folded in, or the one of the entries it kept.
    fn trace_hash(&self) -> u64 {
        match (self.hash, &self.records) {
            (Some(hash), _) => hash,
            (None, Some(records)) => records.hash(),
            (None, None) => {
                panic!("wsasim: the run kept neither its trace nor its hash (TraceKept::Nothing)")
            }
        }
    }

    /// The trace with each choice that deviates from its default marked (`<- deviation
    /// k of n`, counting every deviation, value draws too, in the order made), and, with
    /// `calls_only`, without the scheduler's choices and packet arrivals.
    fn trace_text_marked(&self, calls_only: bool) -> String {
        let mut marks = Vec::new();
        if let Some(schedule) = &self.schedule {
            let of = self.deviations as usize;
            let mut k = 0;
            for (d, default) in schedule.decisions.iter().zip(&self.defaults) {
                let deviates = d.chosen != *default;
                k += usize::from(deviates);
                if d.choice.writes_entry() {
                    marks.push(deviates.then_some((k, of)));
                }
            }
        }
        trace::render_text_as(self.records(), &self.names, trace::View { calls_only, marks })
    }

    fn trace_jsonl(&self) -> String {
        trace::render_jsonl(self.records(), &self.names)
    }

    /// The outcome, or the failure with the command `replay` gives (only asked for then).
    fn judge(
        self: Box<Self>,
        fail_on_leaks: bool,
        limits: Limits,
        replay: impl FnOnce() -> String,
    ) -> Result<Outcome, Failure> {
        let kind = if let Some(why) = self.divergence.clone() {
            let trace_line = self.records.as_ref().map(trace::Records::len).filter(|&n| n > 0);
            FailureKind::Diverged { why, trace_line }
        } else if let Some(expected) = self.expected_misuse {
            match &self.finding {
                Some(f) if f.misuse == expected => return Ok(Outcome { report: self }),
                Some(f) => FailureKind::Misuse(f.clone()),
                None => FailureKind::NoMisuse { expected },
            }
        } else if let Some(finding) = self.finding.clone() {
            FailureKind::Misuse(finding)
        } else {
            let ended = if let Some((thread, message)) = self.panic.clone() {
                Some(FailureKind::Panic { thread, message })
            } else {
                match self.ending {
                    Ending::Done if fail_on_leaks && !self.leaks.is_empty() => {
                        Some(FailureKind::Leaks { leaks: self.leaks.clone() })
                    }
                    Ending::Done => None,
                    Ending::Panic(_) => unreachable!("a panic ending always has its panic"),
                    Ending::Diverged => unreachable!("a divergence ending always has its reason"),
                    Ending::Misuse => unreachable!("a misuse ending always has its finding"),
                    Ending::Deadlock => Some(FailureKind::Deadlock { blocked: self.blocked.clone() }),
                    Ending::StepLimit => Some(FailureKind::StepLimit { steps_max: limits.steps_max }),
                    Ending::TimeLimit => {
                        Some(FailureKind::TimeLimit { time_max: Duration::from_nanos(limits.time_max_ns) })
                    }
                }
            };
            match (self.stalls.is_empty(), ended) {
                (true, None) => return Ok(Outcome { report: self }),
                (true, Some(kind)) => kind,
                (false, then) => {
                    FailureKind::Stalled { connections: self.stalls.clone(), then: then.map(Box::new) }
                }
            }
        };
        Err(Failure { kind, replay: replay(), report: self })
    }
}

fn describe_blocked(t: &crate::thread::ThreadRecord) -> Option<String> {
    let State::Blocked { call, on, deadline_ns } = &t.state else {
        return None;
    };
    let what = match on {
        Blocker::Objects { handles, all, alertable } => {
            let list: Vec<String> = handles.iter().map(ToString::to_string).collect();
            let mode = if handles.len() > 1 && *all { "all of" } else { "" };
            let alert = if *alertable { ", alertable" } else { "" };
            if handles.is_empty() {
                format!("sleeping{alert}")
            } else {
                format!("waiting on {mode}[{}]{alert}", list.join(", "))
            }
        }
        Blocker::Io { socket } => format!("waiting on socket {socket}, alertable"),
        Blocker::Poll { sockets } => {
            let list: Vec<String> = sockets.iter().map(ToString::to_string).collect();
            format!("polling sockets [{}], alertable", list.join(", "))
        }
        Blocker::Lock(id) => format!("waiting for mutex #{}", id.0),
        Blocker::Notify(id) => format!("waiting on condition variable #{}", id.0),
        Blocker::Suspended => "suspended (CREATE_SUSPENDED) and never resumed".to_owned(),
        Blocker::Start => "not started yet (Sim::start_spread)".to_owned(),
    };
    let until = deadline_ns.map_or("forever".to_owned(), |d| format!("until {:?}", Duration::from_nanos(d)));
    Some(format!("{} blocked in {call}, {what}, {until}", t.name))
}

/// `d` in nanoseconds, `u64::MAX` past 584 years (a time that never comes).
fn ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}
