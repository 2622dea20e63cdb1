//! Every choice of a run, and the strategies that make them.
//!
//! A run asks its [`Oracle`] for each decision: which party takes the next step (a
//! runnable thread, or the network delivering a due packet), and every other value the
//! engine leaves open (which satisfied waiter wakes first, a packet's latency, where a
//! segment is cut, ...). The oracle hands the question to the run's [`Scheduler`], records
//! the answer when the run keeps its schedule, and counts what strategies measure a run by.
//!
//! - `random`: the uniform random walk, the default.
//! - `pct`: probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010).
//! - `preemptions`: a random walk with a bounded number of preemptions (Musuvathi and
//!   Qadeer, PLDI 2007).
//! - `schedule`: the recorded decisions of a run, their text form, and their replay.
//!
//! Architecture invariant: a single option is no decision. It draws nothing and is not
//! recorded, so adding a party that never competes does not change the other decisions.

mod pct;
mod preemptions;
mod random;
mod schedule;

pub use schedule::{Decision, Schedule};

use crate::ThreadId;
use std::fmt;
use std::str::FromStr;

/// What a decision decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Choice {
    /// Which party takes the next step: a runnable thread, or the network.
    Run,
    /// Which of several waits satisfied at once completes first.
    Wake,
    /// Which waiter takes a released `wsasim::sync::Mutex`.
    Lock,
    /// Which waiter a `notify_one` wakes.
    Notify,
    /// Where the search for a free dynamic port starts.
    Port,
    /// A packet's latency, within its link's range.
    Latency,
    /// Whether a TCP segment is cut short.
    Cut,
    /// Where a segment cut short ends.
    CutAt,
    /// Whether an operation that could complete at once pends (`Sim::pend_immediate`).
    Pend,
    /// How long after the run's start a host starts, in microseconds
    /// (`Sim::start_spread`).
    Start,
    /// Whether a packet is lost (`Sim::loss`); option 0, the default, is that it is not.
    Loss,
    /// Whether a packet is duplicated (`Sim::duplicate`).
    Duplicate,
    /// Whether a packet is held back, so that later ones may overtake it (`Sim::reorder`).
    Reorder,
    /// How long a packet held back is held, in nanoseconds.
    Hold,
    /// Whether a TCP segment makes the network reset its connection (`Sim::reset`).
    Reset,
    /// Whether a call fails with an error injected into it (`Sim::inject`).
    Inject,
}

impl Choice {
    pub(crate) const ALL: [Choice; 16] = [
        Choice::Run,
        Choice::Wake,
        Choice::Lock,
        Choice::Notify,
        Choice::Port,
        Choice::Latency,
        Choice::Cut,
        Choice::CutAt,
        Choice::Pend,
        Choice::Start,
        Choice::Loss,
        Choice::Duplicate,
        Choice::Reorder,
        Choice::Hold,
        Choice::Reset,
        Choice::Inject,
    ];

    /// Its name in a schedule file.
    pub fn name(self) -> &'static str {
        match self {
            Choice::Run => "run",
            Choice::Wake => "wake",
            Choice::Lock => "lock",
            Choice::Notify => "notify",
            Choice::Port => "port",
            Choice::Latency => "latency",
            Choice::Cut => "cut",
            Choice::CutAt => "cut-at",
            Choice::Pend => "pend",
            Choice::Start => "start",
            Choice::Loss => "loss",
            Choice::Duplicate => "duplicate",
            Choice::Reorder => "reorder",
            Choice::Hold => "hold",
            Choice::Reset => "reset",
            Choice::Inject => "inject",
        }
    }

    fn from_name(name: &str) -> Option<Choice> {
        Choice::ALL.into_iter().find(|c| c.name() == name)
    }

    /// Whether the trace writes a choice entry for it: the choices among parties.
    pub(crate) fn writes_entry(self) -> bool {
        matches!(self, Choice::Run | Choice::Wake | Choice::Lock | Choice::Notify)
    }

    /// The documented default among `count` options, for any choice but [`Choice::Run`]:
    /// the first waiter, the first port, the lowest latency, a segment not cut (cutting is
    /// option 0), an operation that completes at once (pending is the last option), a host
    /// that starts with the run. A
    /// decision that takes another is a deviation.
    pub fn default_option(self, count: usize) -> usize {
        match self {
            Choice::Cut => 1.min(count - 1),
            _ => 0,
        }
    }
}

/// The default of which party runs: the one that ran last, while it can (the network
/// delivering the next due packet, when it was the network); else the network, delivering
/// the earliest due packet; else the first runnable thread.
pub fn default_party(runnable: &[ThreadId], last: ThreadId) -> usize {
    let at = |p: ThreadId| runnable.iter().position(|r| *r == p);
    at(last).or_else(|| at(ThreadId::NET)).unwrap_or(0)
}

/// How a run makes its decisions of which party runs next. Every other decision is a
/// seeded draw under every strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Each runnable party equally likely at every step.
    RandomWalk,
    /// PCT: random distinct priorities for the parties, the highest-priority runnable one
    /// always runs, and `depth - 1` times, at steps drawn from `1..steps`, the party that
    /// ran last drops below all others. `steps` estimates the run's length in decisions
    /// with more than one runnable party; 0 lets the runner measure it (`Sim` alone takes
    /// [`Strategy::STEPS_DEFAULT`]).
    Pct { depth: usize, steps: u64 },
    /// Runs the party that ran last for as long as it can, switching away from it while it
    /// is runnable at most `max` times, at points drawn over `steps` such decisions (0: as
    /// for PCT). Switches forced by blocking, and those a yielding thread offers, are free.
    Preemptions { max: usize, steps: u64 },
}

impl Strategy {
    /// The run length a strategy that needs one assumes when no runner measured it.
    pub const STEPS_DEFAULT: u64 = 1000;

    /// PCT of `depth`, over the run length the runner measures.
    pub const fn pct(depth: usize) -> Strategy {
        Strategy::Pct { depth, steps: 0 }
    }

    /// At most `max` preemptions, over the run length the runner measures.
    pub const fn preemptions(max: usize) -> Strategy {
        Strategy::Preemptions { max, steps: 0 }
    }

    /// Whether it draws its change or preemption points over an estimated length that
    /// is still to be measured.
    pub fn needs_steps(self) -> bool {
        matches!(self, Strategy::Pct { steps: 0, .. } | Strategy::Preemptions { steps: 0, .. })
    }

    /// The same strategy over a run length of `steps` decisions, when it names none.
    pub fn over(self, steps: u64) -> Strategy {
        match self {
            Strategy::Pct { depth, steps: 0 } => Strategy::Pct { depth, steps },
            Strategy::Preemptions { max, steps: 0 } => Strategy::Preemptions { max, steps },
            named => named,
        }
    }

    /// Its scheduler for a run of `seed`; a run length still 0 must have been resolved.
    pub(crate) fn scheduler(self, seed: u64) -> Box<dyn Scheduler> {
        assert!(!self.needs_steps(), "{self}: a run length to draw over");
        match self {
            Strategy::RandomWalk => Box::new(random::RandomWalk::new(seed)),
            Strategy::Pct { depth, steps } => Box::new(pct::Pct::new(seed, depth, steps)),
            Strategy::Preemptions { max, steps } => Box::new(preemptions::Preemptions::new(seed, max, steps)),
        }
    }
}

/// `random`, `pct:DEPTH[:STEPS]`, `pb:MAX[:STEPS]`: the form `WSASIM_STRATEGY`,
/// `--strategy` and scenario files take, and replay commands print.
impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, n, steps) = match *self {
            Strategy::RandomWalk => return write!(f, "random"),
            Strategy::Pct { depth, steps } => ("pct", depth, steps),
            Strategy::Preemptions { max, steps } => ("pb", max, steps),
        };
        write!(f, "{name}:{n}")?;
        if steps > 0 { write!(f, ":{steps}") } else { Ok(()) }
    }
}

impl FromStr for Strategy {
    type Err = String;

    fn from_str(s: &str) -> Result<Strategy, String> {
        let bad = || format!("{s:?}: expected random, pct:DEPTH[:STEPS] or pb:MAX[:STEPS]");
        let mut parts = s.split(':');
        let name = parts.next().unwrap_or_default();
        if name == "random" {
            return if parts.next().is_none() { Ok(Strategy::RandomWalk) } else { Err(bad()) };
        }
        let n: usize = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let steps: u64 = match parts.next() {
            Some(p) => p.parse().map_err(|_| bad())?,
            None => 0,
        };
        if parts.next().is_some() {
            return Err(bad());
        }
        match name {
            "pct" if (1..=DEPTH_MAX).contains(&n) => Ok(Strategy::Pct { depth: n, steps }),
            "pb" if n <= PREEMPTIONS_MAX => Ok(Strategy::Preemptions { max: n, steps }),
            "pct" => Err(format!("{s:?}: PCT's depth goes from 1 to {DEPTH_MAX}")),
            "pb" => Err(format!("{s:?}: at most {PREEMPTIONS_MAX} preemptions")),
            _ => Err(bad()),
        }
    }
}

/// The deepest PCT search offered: each level multiplies the seeds a bug needs by the run
/// length.
pub const DEPTH_MAX: usize = 10;
/// The most preemptions a bounded search offers.
pub const PREEMPTIONS_MAX: usize = 100;

/// A strategy's side of the oracle: shuttle's `Scheduler` is the model (`next_task`,
/// `next_u64`). It is asked only when there are two options or more.
pub(crate) trait Scheduler {
    /// Which of `runnable` takes the next step. `last` is the party that took the last
    /// one (it may be among them), `yielding` whether it gave the step up (`Sleep(0)`,
    /// `SleepEx(0, ..)`, `thread::yield_now`).
    fn next_party(&mut self, runnable: &[ThreadId], last: ThreadId, yielding: bool) -> usize;

    /// One of `count` options for any other choice.
    fn next_value(&mut self, choice: Choice, count: usize) -> usize;

    /// Why a replayed schedule stopped fitting the run, once it has.
    fn divergence(&self) -> Option<&str> {
        None
    }

    /// Called when the run has ended: a replay that has decisions left says so.
    fn finish(&mut self) {}
}

/// Where a decision was made, in terms that a change elsewhere in the run leaves alone:
/// the party taking its step (for which party runs next, the one whose step just ended),
/// how many times that party had waited or blocked before (its round), its calls since
/// (the network: its deliveries), and which decision of its kind since its last call. Removing one deviation of a schedule
/// moves every later decision to another position, but not off its party's turn:
/// minimising keeps deviations by anchor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Anchor {
    pub party: ThreadId,
    pub round: u32,
    pub step: u32,
    pub choice: Choice,
    pub nth: u32,
}

/// A decision by its anchor: the option taken (for which party runs, the party itself,
/// which keeps its meaning when the runnable set around it changes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Directive {
    pub anchor: Anchor,
    pub value: u64,
}

/// A run's decisions, each with its default option and its directive.
pub(crate) type Recorded = (Vec<Decision>, Vec<u64>, Vec<Directive>);

/// Where one party is in its run, for the anchors of its decisions.
#[derive(Debug, Clone, Copy, Default)]
struct Turn {
    /// Turns ended so far: waits and blocks (for the network, the times it had nothing
    /// more to deliver).
    round: u32,
    /// Calls since (for the network, deliveries).
    step: u32,
    /// Decisions of each choice since its last call or turn's end.
    nth: [u32; Choice::ALL.len()],
}

/// Each party's turns and calls, for the anchors of its decisions. Counted at every call,
/// not at every decision of which party runs, so that a call made while its thread is
/// alone (no decision) counts the same as one made among others.
#[derive(Debug)]
struct Progress {
    /// By party: the network first, then each thread by index.
    turns: Vec<Turn>,
    /// The party taking the current step.
    stepping: ThreadId,
    /// Whether the running thread's turn has ended since its last call: a wait that then
    /// blocks ends it once.
    ended: bool,
}

impl Default for Progress {
    fn default() -> Progress {
        // Decisions before the first step (setting the hosts up) are the network's.
        Progress { turns: Vec::new(), stepping: ThreadId::NET, ended: false }
    }
}

impl Progress {
    fn of(&mut self, party: ThreadId) -> &mut Turn {
        let slot = if party == ThreadId::NET { 0 } else { party.index() + 1 };
        if self.turns.len() <= slot {
            self.turns.resize(slot + 1, Turn::default());
        }
        &mut self.turns[slot]
    }

    /// The next decision of `choice` by `party`: its anchor. Distinct for every decision
    /// of a run, since each call or turn's end moves the party's (round, step) on.
    fn anchor(&mut self, party: ThreadId, choice: Choice) -> Anchor {
        let turn = self.of(party);
        let nth = &mut turn.nth[choice as usize];
        *nth += 1;
        Anchor { party, round: turn.round, step: turn.step, choice, nth: *nth }
    }

    /// The running thread `party` makes a call.
    fn call_entered(&mut self, party: ThreadId) {
        let turn = self.of(party);
        (turn.step, turn.nth) = (turn.step + 1, [0; Choice::ALL.len()]);
        self.ended = false;
    }

    /// The running thread `party` waits, satisfied at once or not, or blocks: its turn
    /// ends, once, so that the same turn of a loop has the same anchors whichever other
    /// party got there first.
    fn turn_ended(&mut self, party: ThreadId) {
        if !std::mem::replace(&mut self.ended, true) {
            *self.of(party) = Turn { round: self.of(party).round + 1, ..Turn::default() };
        }
    }

    /// A decision of which of `runnable` runs after `last`'s step: its anchor.
    fn step_ended(&mut self, runnable: &[ThreadId], last: ThreadId) -> Anchor {
        let anchor = self.anchor(last, Choice::Run);
        if last == ThreadId::NET && !runnable.contains(&last) {
            let net = self.of(last);
            *net = Turn { round: net.round + 1, ..Turn::default() };
        }
        anchor
    }

    fn step_began(&mut self, party: ThreadId) {
        self.stepping = party;
        if party == ThreadId::NET {
            let net = self.of(party);
            (net.step, net.nth) = (net.step + 1, [0; Choice::ALL.len()]);
        }
    }

    /// The anchor of a decision of `choice` within the current step.
    fn within_step(&mut self, choice: Choice) -> Anchor {
        self.anchor(self.stepping, choice)
    }
}

thread_local! {
    /// Decisions the last run on this OS thread recorded: the next one's starting capacity,
    /// so that a sweep's seeds do not grow their schedules again and again.
    static RECORDED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The one source of a run's decisions.
pub(crate) struct Oracle {
    scheduler: Box<dyn Scheduler>,
    /// Every decision of the run, when the run records its schedule.
    recorded: Option<Vec<Decision>>,
    /// Decisions of which party runs with more than one runnable: the length PCT and
    /// bounded preemption measure a run by.
    party_decisions: u64,
    /// Decisions of which party runs that chose another than the one that ran last.
    switches: u64,
    /// Set by a yielding call for the next decision of which party runs.
    pub(crate) yielding: bool,
    /// Whether the decisions come from a recorded schedule.
    replaying: bool,
    /// Decisions taken from a schedule only where kept, the default elsewhere: how a
    /// schedule is minimised.
    keeping: Option<schedule::Keeping>,
    /// The default of each recorded decision, beside `recorded`.
    defaults: Option<Vec<u64>>,
    /// The directive of each recorded decision, beside `recorded`.
    directives: Option<Vec<Directive>>,
    /// Where each party is, when decisions are recorded or kept by anchor.
    progress: Option<Progress>,
    /// Decisions that took another option than the default.
    deviations: u64,
    /// Set once a replayed schedule no longer fits the run, which then stops.
    pub(crate) diverged: bool,
}

impl fmt::Debug for Oracle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Oracle").field("party_decisions", &self.party_decisions).finish_non_exhaustive()
    }
}

impl Oracle {
    pub(crate) fn new(scheduler: Box<dyn Scheduler>, record: bool) -> Oracle {
        Oracle {
            scheduler,
            recorded: record.then(|| Vec::with_capacity(RECORDED.get())),
            party_decisions: 0,
            switches: 0,
            yielding: false,
            replaying: false,
            keeping: None,
            defaults: record.then(|| Vec::with_capacity(RECORDED.get())),
            directives: record.then(|| Vec::with_capacity(RECORDED.get())),
            progress: record.then(Progress::default),
            deviations: 0,
            diverged: false,
        }
    }

    /// An oracle that replays `decisions` strictly, or, given `keep`, takes those
    /// directives where their anchors come and still fit, and the default elsewhere.
    pub(crate) fn replay(decisions: Vec<Decision>, keep: Option<Vec<Directive>>, record: bool) -> Oracle {
        match keep {
            None => {
                Oracle { replaying: true, ..Oracle::new(Box::new(schedule::Replay::new(decisions)), record) }
            }
            Some(keep) => {
                let unused = Box::new(random::RandomWalk::new(0));
                Oracle {
                    keeping: Some(schedule::Keeping::new(keep)),
                    progress: Some(Progress::default()),
                    ..Oracle::new(unused, record)
                }
            }
        }
    }

    /// One of `count` options of `choice`.
    pub(crate) fn pick(&mut self, choice: Choice, count: usize) -> usize {
        assert!(count > 0, "a choice among no options");
        if count == 1 {
            return 0;
        }
        let default = choice.default_option(count);
        let anchor = self.progress.as_mut().map(|p| p.within_step(choice));
        let chosen = match (&self.keeping, anchor) {
            (Some(k), Some(anchor)) => k.value(anchor, count, default),
            _ => self.scheduler.next_value(choice, count),
        };
        self.record(
            choice,
            count,
            chosen,
            default,
            anchor.map(|anchor| Directive { anchor, value: chosen as u64 }),
        )
    }

    /// Which of `runnable` takes the next step.
    pub(crate) fn pick_party(&mut self, runnable: &[ThreadId], last: ThreadId) -> usize {
        assert!(!runnable.is_empty(), "a step with no party to take it");
        let yielding = std::mem::take(&mut self.yielding);
        let anchor = self.progress.as_mut().map(|p| p.step_ended(runnable, last));
        if runnable.len() == 1 {
            if let Some(p) = &mut self.progress {
                p.step_began(runnable[0]);
            }
            return 0;
        }
        self.party_decisions += 1;
        let default = default_party(runnable, last);
        let chosen = match (&self.keeping, anchor) {
            (Some(k), Some(anchor)) => k.party(anchor, runnable, default),
            _ => self.scheduler.next_party(runnable, last, yielding),
        };
        self.switches += u64::from(runnable[chosen] != last);
        if let Some(p) = &mut self.progress {
            p.step_began(runnable[chosen]);
        }
        let directive = anchor.map(|anchor| Directive { anchor, value: u64::from(runnable[chosen].0) });
        self.record(Choice::Run, runnable.len(), chosen, default, directive)
    }

    fn record(
        &mut self,
        choice: Choice,
        count: usize,
        chosen: usize,
        default: usize,
        directive: Option<Directive>,
    ) -> usize {
        assert!(chosen < count, "{choice:?}: option {chosen} of {count}");
        self.deviations += u64::from(chosen != default);
        if let Some(defaults) = &mut self.defaults {
            defaults.push(default as u64);
        }
        if let (Some(directives), Some(d)) = (&mut self.directives, directive) {
            directives.push(d);
        }
        if self.replaying {
            self.diverged = self.scheduler.divergence().is_some();
        }
        if let Some(recorded) = &mut self.recorded {
            recorded.push(Decision { choice, count: count as u64, chosen: chosen as u64 });
        }
        chosen
    }

    /// `party` makes a call: see `Progress::call_entered`.
    pub(crate) fn call_entered(&mut self, party: ThreadId) {
        if let Some(p) = &mut self.progress {
            p.call_entered(party);
        }
    }

    /// `party` waits or blocks: see `Progress::turn_ended`.
    pub(crate) fn turn_ended(&mut self, party: ThreadId) {
        if let Some(p) = &mut self.progress {
            p.turn_ended(party);
        }
    }

    pub(crate) fn party_decisions(&self) -> u64 {
        self.party_decisions
    }

    pub(crate) fn switches(&self) -> u64 {
        self.switches
    }

    pub(crate) fn deviations(&self) -> u64 {
        self.deviations
    }

    /// The run is over: what it recorded (each decision with its default), and why a
    /// replay stopped fitting it, if it did.
    pub(crate) fn finish(&mut self) -> (Option<Recorded>, Option<String>) {
        self.scheduler.finish();
        let recorded = match (self.recorded.take(), self.defaults.take(), self.directives.take()) {
            (Some(r), Some(d), Some(a)) => Some((r, d, a)),
            _ => None,
        };
        if let Some((r, ..)) = &recorded {
            RECORDED.set(r.len());
        }
        (recorded, self.scheduler.divergence().map(str::to_owned))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategies_read_back_what_they_print() {
        for text in ["random", "pct:3", "pct:2:812", "pb:0", "pb:2:40"] {
            let s: Strategy = text.parse().unwrap();
            assert_eq!(s.to_string(), text);
        }
        assert_eq!("pct:3".parse(), Ok(Strategy::Pct { depth: 3, steps: 0 }));
        for bad in ["", "pct", "pct:0", "pct:11", "pct:x", "pb:101", "random:1", "pct:1:2:3", "dfs"] {
            assert!(bad.parse::<Strategy>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_turn_after_a_wait_has_the_same_anchor_whether_the_wait_blocked_or_not() {
        let (a, b) = (ThreadId(0), ThreadId(1));
        // Thread a makes a call, waits (satisfied at once), then makes another call.
        let mut at_once = Progress::default();
        at_once.call_entered(a);
        at_once.call_entered(a);
        at_once.turn_ended(a);
        at_once.call_entered(a);
        let after_at_once = at_once.step_ended(&[a, b], a);
        // The same, but the wait blocks (ending the turn once) and b runs before a wakes.
        let mut blocked = Progress::default();
        blocked.call_entered(a);
        blocked.call_entered(a);
        blocked.turn_ended(a);
        blocked.turn_ended(a);
        blocked.step_ended(&[b], a);
        blocked.step_began(b);
        blocked.call_entered(b);
        blocked.step_ended(&[a, b], b);
        blocked.step_began(a);
        blocked.call_entered(a);
        let after_blocked = blocked.step_ended(&[a, b], a);
        assert_eq!(after_at_once, after_blocked);
        assert_eq!((after_blocked.round, after_blocked.step, after_blocked.nth), (1, 1, 1));
    }

    #[test]
    fn no_two_decisions_share_an_anchor() {
        let a = ThreadId(0);
        let mut p = Progress::default();
        p.step_began(a);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..3 {
            p.call_entered(a);
            assert!(seen.insert(p.within_step(Choice::Latency)));
            assert!(seen.insert(p.within_step(Choice::Latency)));
            // Blocks in the same call: the decisions after it are another turn's.
            p.turn_ended(a);
            assert!(seen.insert(p.within_step(Choice::Latency)));
            // Two decisions of which party runs with no call between (time passed).
            assert!(seen.insert(p.step_ended(&[], a)));
            assert!(seen.insert(p.step_ended(&[], a)));
        }
    }

    #[test]
    fn a_single_option_is_no_decision() {
        let mut oracle = Oracle::new(Strategy::RandomWalk.scheduler(0), true);
        assert_eq!(oracle.pick(Choice::Latency, 1), 0);
        assert_eq!(oracle.pick_party(&[ThreadId(0)], ThreadId(0)), 0);
        let (recorded, _) = oracle.finish();
        assert_eq!(recorded, Some((Vec::new(), Vec::new(), Vec::new())));
        assert_eq!(oracle.party_decisions(), 0);
    }
}
