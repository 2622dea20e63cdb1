//! A run's decisions as a schedule: recorded, written as text, read back and replayed.
//!
//! The text form, one header line per field, then the decisions in the order the run
//! made them, as `choice=chosen/options` (options counted from 0), any number per line:
//!
//! ```text
//! wsasim schedule 1
//! seed 17
//! strategy pct:3:812
//! run=1/3 latency=51234/100001 cut=0/4 cut-at=17/1459 wake=0/2
//! ```
//!
//! Lines starting with `#` are comments. A run under swarm settings has a line for what
//! its seed drew, after `strategy`: `swarm latency_ns=0..1777 cut_odds=8 pend_odds=0`,
//! then, if it drew faults, `loss_ppm=N duplicate_ppm=N reorder_ppm=N reset_ppm=N`,
//! which its replay takes again (the strategy drawn needs none: every decision comes from
//! the file). A replay
//! that asks for a decision the file does not have, or one of another kind or number of
//! options, stops the run there, naming both.

use super::{Anchor, Choice, Directive, Scheduler};
use crate::ThreadId;
use crate::net::{Chance, Latency, LinkFaults};
use crate::swarm::SwarmSettings;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// One decision: of what, among how many options, and which was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub choice: Choice,
    pub count: u64,
    pub chosen: u64,
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}/{}", self.choice.name(), self.chosen, self.count)
    }
}

/// The decisions of one run, with the seed and strategy that made them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub seed: u64,
    /// The strategy as `Strategy` prints it (for the reader: a replay takes no strategy).
    pub strategy: String,
    /// What the seed drew, under swarm settings.
    pub swarm: Option<SwarmSettings>,
    pub decisions: Vec<Decision>,
}

const MAGIC: &str = "wsasim schedule 1";
const PER_LINE: usize = 12;

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{MAGIC}\nseed {}\nstrategy {}", self.seed, self.strategy)?;
        if let Some(s) = &self.swarm {
            let l = s.latency;
            write!(
                f,
                "swarm latency_ns={}..{} cut_odds={} pend_odds={}",
                l.min_ns, l.max_ns, s.cut_odds, s.pend_odds
            )?;
            if let Some(x) = s.faults {
                let ppm = [x.loss, x.duplicate, x.reorder, x.reset].map(Chance::ppm);
                write!(
                    f,
                    " loss_ppm={} duplicate_ppm={} reorder_ppm={} reset_ppm={}",
                    ppm[0], ppm[1], ppm[2], ppm[3]
                )?;
            }
            writeln!(f)?;
        }
        for line in self.decisions.chunks(PER_LINE) {
            let tokens: Vec<String> = line.iter().map(ToString::to_string).collect();
            writeln!(f, "{}", tokens.join(" "))?;
        }
        Ok(())
    }
}

/// Errors name the line and column, from 1.
impl FromStr for Schedule {
    type Err = String;

    fn from_str(text: &str) -> Result<Schedule, String> {
        let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim_start().starts_with('#'));
        let mut header = |field: &str| -> Result<(usize, String), String> {
            let (n, line) = lines.next().ok_or_else(|| format!("the file ends before its `{field}` line"))?;
            let value = line.strip_prefix(field).and_then(|v| v.strip_prefix(' '));
            let value =
                value.ok_or_else(|| format!("{}:1: expected `{field} ...`, found {line:?}", n + 1))?;
            Ok((n, value.trim().to_owned()))
        };
        let (n, version) = header("wsasim schedule")?;
        if version != "1" {
            return Err(format!("{}:1: expected `{MAGIC}`, found version {version:?}", n + 1));
        }
        let (n, seed) = header("seed")?;
        let seed = seed.parse().map_err(|_| format!("{}:6: expected a seed, found {seed:?}", n + 1))?;
        let (_, strategy) = header("strategy")?;
        let mut decisions = Vec::new();
        let mut swarm = None;
        for (n, line) in lines {
            if let Some(drawn) = line.strip_prefix("swarm ") {
                let bad = || {
                    format!(
                        "{}:1: expected swarm latency_ns=A..B cut_odds=N pend_odds=N [loss_ppm=N duplicate_ppm=N reorder_ppm=N reset_ppm=N], found {line:?}",
                        n + 1
                    )
                };
                let settings = swarm_line(drawn, strategy.parse().unwrap_or(super::Strategy::RandomWalk));
                swarm = Some(settings.ok_or_else(bad)?);
                continue;
            }
            let mut col = 1;
            for token in line.split(' ') {
                if !token.is_empty() {
                    let d = decision(token).ok_or_else(|| {
                        format!(
                            "{}:{col}: expected choice=chosen/options, such as run=1/3, found {token:?}",
                            n + 1
                        )
                    })?;
                    decisions.push(d);
                }
                col += token.len() + 1;
            }
        }
        Ok(Schedule { seed, strategy, swarm, decisions })
    }
}

/// The fields of a swarm line: three, then the four chances of faults when the seed drew
/// them.
fn swarm_line(text: &str, strategy: super::Strategy) -> Option<SwarmSettings> {
    let fields: Vec<&str> = text.split(' ').collect();
    let field = |i: usize, name: &str| fields.get(i)?.strip_prefix(name)?.strip_prefix('=');
    let (min, max) = field(0, "latency_ns")?.split_once("..")?;
    let latency = Latency { min_ns: min.parse().ok()?, max_ns: max.parse().ok()? };
    let cut_odds = field(1, "cut_odds")?.parse().ok()?;
    let pend_odds = field(2, "pend_odds")?.parse().ok()?;
    let chance = |i, name| Chance::from_ppm(field(i, name)?.parse().ok()?);
    let faults = match fields.len() {
        3 => None,
        7 => Some(LinkFaults {
            loss: chance(3, "loss_ppm")?,
            duplicate: chance(4, "duplicate_ppm")?,
            reorder: chance(5, "reorder_ppm")?,
            reset: chance(6, "reset_ppm")?,
        }),
        _ => return None,
    };
    let settings = SwarmSettings { strategy, latency, cut_odds, pend_odds, faults };
    (latency.min_ns <= latency.max_ns).then_some(settings)
}

fn decision(token: &str) -> Option<Decision> {
    let (name, rest) = token.split_once('=')?;
    let (chosen, count) = rest.split_once('/')?;
    let (chosen, count): (u64, u64) = (chosen.parse().ok()?, count.parse().ok()?);
    (chosen < count).then_some(Decision { choice: Choice::from_name(name)?, count, chosen })
}

/// Replays recorded decisions, checking that each fits what the run asks.
#[derive(Debug)]
pub(crate) struct Replay {
    decisions: Vec<Decision>,
    next: usize,
    divergence: Option<String>,
}

impl Replay {
    pub(crate) fn new(decisions: Vec<Decision>) -> Replay {
        Replay { decisions, next: 0, divergence: None }
    }

    /// The recorded answer to `choice` among `count`, or, once the schedule no longer
    /// fits, option 0 while the run stops.
    fn take(&mut self, choice: Choice, count: usize) -> usize {
        if self.divergence.is_some() {
            return 0;
        }
        let n = self.next + 1;
        let asked = format!("{} among {count}", choice.name());
        match self.decisions.get(self.next) {
            Some(d) if d.choice == choice && d.count == count as u64 => {
                self.next += 1;
                d.chosen as usize
            }
            Some(d) => {
                let had = format!("{} among {}", d.choice.name(), d.count);
                self.divergence =
                    Some(format!("decision {n}: the run asks for {asked}, the schedule has {had}"));
                0
            }
            None => {
                let len = self.decisions.len();
                self.divergence = Some(format!(
                    "decision {n}: the run asks for {asked}, the schedule ends after {len} decisions"
                ));
                0
            }
        }
    }
}

/// Takes the directives of a schedule being minimised where their anchors come and still
/// fit (the party is runnable, the option exists), and the default everywhere else: a
/// run near the recorded one with fewer deviations. It never diverges.
#[derive(Debug)]
pub(crate) struct Keeping {
    directives: BTreeMap<Anchor, u64>,
}

impl Keeping {
    pub(crate) fn new(keep: Vec<Directive>) -> Keeping {
        Keeping { directives: keep.into_iter().map(|d| (d.anchor, d.value)).collect() }
    }

    pub(crate) fn party(&self, anchor: Anchor, runnable: &[ThreadId], default: usize) -> usize {
        let kept =
            self.directives.get(&anchor).and_then(|&p| runnable.iter().position(|r| u64::from(r.0) == p));
        kept.unwrap_or(default)
    }

    pub(crate) fn value(&self, anchor: Anchor, count: usize, default: usize) -> usize {
        match self.directives.get(&anchor) {
            Some(&v) if v < count as u64 => v as usize,
            _ => default,
        }
    }
}

impl Scheduler for Replay {
    fn next_party(&mut self, runnable: &[ThreadId], _last: ThreadId, _yielding: bool) -> usize {
        self.take(Choice::Run, runnable.len())
    }

    fn next_value(&mut self, choice: Choice, count: usize) -> usize {
        self.take(choice, count)
    }

    fn divergence(&self) -> Option<&str> {
        self.divergence.as_deref()
    }

    fn finish(&mut self) {
        if self.divergence.is_none() && self.next < self.decisions.len() {
            let (used, len) = (self.next, self.decisions.len());
            self.divergence = Some(format!("the run ended after {used} of the schedule's {len} decisions"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule() -> Schedule {
        let d = |choice, chosen, count| Decision { choice, count, chosen };
        let mut decisions =
            vec![d(Choice::Run, 1, 3), d(Choice::Latency, 51234, 100_001), d(Choice::CutAt, 0, 2)];
        decisions.extend((0..20).map(|i| d(Choice::Wake, i % 2, 2)));
        let latency = Latency { min_ns: 3, max_ns: 1777 };
        let swarm = Some(SwarmSettings {
            strategy: super::super::Strategy::pct(3).over(812),
            latency,
            cut_odds: 8,
            pend_odds: 0,
            faults: None,
        });
        Schedule { seed: 17, strategy: "pct:3:812".into(), swarm, decisions }
    }

    #[test]
    fn a_schedule_reads_back_what_it_writes() {
        let s = schedule();
        let text = s.to_string();
        assert!(
            text.starts_with("wsasim schedule 1\nseed 17\nstrategy pct:3:812\nswarm latency_ns=3..1777 cut_odds=8 pend_odds=0\nrun=1/3 latency=51234/100001")
        );
        assert_eq!(text.parse::<Schedule>(), Ok(s));
    }

    #[test]
    fn the_faults_a_seed_drew_read_back_too() {
        let mut s = schedule();
        let chance = |ppm| Chance::from_ppm(ppm).expect("at most a million");
        let faults =
            LinkFaults { loss: chance(1), duplicate: chance(0), reorder: chance(250_000), reset: chance(7) };
        s.swarm.as_mut().expect("drawn").faults = Some(faults);
        let text = s.to_string();
        assert!(
            text.contains(" pend_odds=0 loss_ppm=1 duplicate_ppm=0 reorder_ppm=250000 reset_ppm=7\n"),
            "{text}"
        );
        assert_eq!(text.parse::<Schedule>(), Ok(s));
        let over = text.replace("reset_ppm=7", "reset_ppm=1000001");
        assert!(over.parse::<Schedule>().is_err(), "a chance over a million is refused");
        for junk in [" pend_odds=0 junk\n", " pend_odds=0 loss_ppm=1\n"] {
            let bad = schedule().to_string().replace(" pend_odds=0\n", junk);
            assert!(bad.parse::<Schedule>().is_err(), "{junk:?} is refused");
        }
    }

    #[test]
    fn a_bad_file_is_refused_at_its_line_and_column() {
        let bad = "wsasim schedule 1\nseed 1\nstrategy random\n# a comment\nrun=0/2 run=2/2\n";
        assert_eq!(
            bad.parse::<Schedule>(),
            Err("5:9: expected choice=chosen/options, such as run=1/3, found \"run=2/2\"".into())
        );
        assert!("wsasim schedule 2\n".parse::<Schedule>().unwrap_err().starts_with("1:1:"));
        assert!("wsasim schedule 1\nseed x\n".parse::<Schedule>().unwrap_err().starts_with("2:6:"));
    }

    #[test]
    fn a_replay_that_stops_fitting_names_the_decision() {
        let mut r = Replay::new(schedule().decisions);
        assert_eq!(r.next_party(&[ThreadId(0); 3], ThreadId(0), false), 1);
        assert_eq!(r.next_value(Choice::Latency, 100_000), 0);
        assert_eq!(
            r.divergence(),
            Some("decision 2: the run asks for latency among 100000, the schedule has latency among 100001")
        );
        let mut short = Replay::new(vec![]);
        short.next_value(Choice::Pend, 2);
        assert_eq!(
            short.divergence(),
            Some("decision 1: the run asks for pend among 2, the schedule ends after 0 decisions")
        );
        let mut unused = Replay::new(schedule().decisions);
        unused.finish();
        assert_eq!(unused.divergence(), Some("the run ended after 0 of the schedule's 23 decisions"));
    }
}
