//! `wsasim::check` and its builder [`Check`]: a seed sweep for `#[test]`s, on the runner.
//!
//! A failure panics with the smallest failing seed's report, minimises its schedule to the
//! fewest deviations that fail the same way (`shrink`), writes that schedule under
//! `target/wsasim/`, and names the commands that replay it, by seed and by schedule.
//! The environment steers one run of the tests:
//!
//! | variable | effect |
//! |---|---|
//! | `WSASIM_SEED=<n>` | run seed `n` only, and print its trace |
//! | `WSASIM_SCHEDULE=<file>` | replay a schedule file, and print its trace |
//! | `WSASIM_STRATEGY=<s>` | `random`, `pct:DEPTH[:STEPS]`, `pb:MAX[:STEPS]`, over the test's |
//! | `WSASIM_SWARM=1` | draw a configuration per seed (`0` turns a test's swarm off) |
//! | `WSASIM_RUN_LENGTH=<n>` | the run length PCT and bounded preemption draw over |
//! | `WSASIM_SHRINK=0` | report the failing seed's own schedule, not a minimised one |

use crate::sweep::{Confirmed, Exploration, Job, RunAs, Runner, Seeds, Watchdog, measure, watchdog_after};
use crate::{Budget, Schedule, Sim, Strategy, Swarm, TraceKept};
use std::path::PathBuf;

/// Runs one seed only, and prints its trace.
pub const SEED_VAR: &str = "WSASIM_SEED";
/// Replays a schedule file, and prints its trace.
pub const SCHEDULE_VAR: &str = "WSASIM_SCHEDULE";
pub const STRATEGY_VAR: &str = "WSASIM_STRATEGY";
pub const SWARM_VAR: &str = "WSASIM_SWARM";
pub const RUN_LENGTH_VAR: &str = "WSASIM_RUN_LENGTH";
/// `0` turns minimising off.
pub const SHRINK_VAR: &str = "WSASIM_SHRINK";

/// Runs `setup`'s simulation once per seed, in parallel on every core, under the random
/// walk, and panics with the failure of the smallest failing seed, which names the
/// commands that replay it. See [`Check`] for strategies and swarm settings, and the
/// module's table for the environment.
pub fn check(seeds: impl IntoIterator<Item = u64>, setup: impl Fn(&mut Sim) + Sync) {
    Check::new(seeds).run(setup);
}

/// A seed sweep for a `#[test]`, with the strategy and settings it explores under.
///
/// ```no_run
/// use wsasim_sim::{Check, Strategy};
/// Check::new(0..1000).strategy(Strategy::pct(3)).swarm(true).run(|sim| {
///     sim.client("a", "192.0.2.1", || { /* the program under test */ });
/// });
/// ```
#[derive(Debug, Clone)]
pub struct Check {
    seeds: Vec<u64>,
    exploration: Exploration,
    shrink: Option<Budget>,
}

impl Check {
    pub fn new(seeds: impl IntoIterator<Item = u64>) -> Check {
        Check {
            seeds: seeds.into_iter().collect(),
            exploration: Exploration::default(),
            shrink: Some(Budget::default()),
        }
    }

    /// Minimises a failure within `budget` before reporting it (default
    /// [`Budget::default`]); `None` reports the failing seed's own schedule.
    pub fn shrink(mut self, budget: Option<Budget>) -> Check {
        self.shrink = budget;
        self
    }

    /// How each seed decides which party runs (default [`Strategy::RandomWalk`]).
    pub fn strategy(mut self, strategy: Strategy) -> Check {
        self.exploration.strategy = strategy;
        self
    }

    /// Draws each seed's configuration within [`Swarm::default`]'s bounds.
    pub fn swarm(mut self, on: bool) -> Check {
        self.exploration.swarm = on.then(Swarm::default);
        self
    }

    /// Draws each seed's configuration within `bounds`.
    pub fn swarm_within(mut self, bounds: Swarm) -> Check {
        self.exploration.swarm = Some(bounds);
        self
    }

    /// Runs the sweep; panics with the smallest failing seed's failure.
    pub fn run(self, setup: impl Fn(&mut Sim) + Sync) {
        let test = std::thread::current().name().map(str::to_owned);
        let exploration = from_env(self.exploration);
        let prepare = |run: RunAs| {
            let mut sim = Sim::new(run.seed);
            setup(&mut sim);
            run.apply(&mut sim);
            sim.replay_command(replay_command(Some((run.seed, test.as_deref())), &run.exploration));
            sim
        };
        if let Some(path) = std::env::var_os(SCHEDULE_VAR) {
            let path = PathBuf::from(path);
            let schedule = read_schedule(&path);
            let mut sim = prepare(RunAs::seed(schedule.seed, TraceKept::Records, exploration));
            return print_one(sim.replay_schedule(schedule));
        }
        if let Some(seed) = seed_from_env() {
            let exploration = measure(exploration, &|r| prepare(r).run());
            return print_one(&mut prepare(RunAs::seed(seed, TraceKept::Records, exploration)));
        }
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
        let shrink = self.shrink.filter(|_| std::env::var(SHRINK_VAR).map_or(true, |v| v.trim() != "0"));
        let replay = |_, seed| replay_command(Some((seed, test.as_deref())), &exploration);
        let watchdog = watchdog_after().map(|after| Watchdog { after, replay: &replay });
        let runner = Runner { workers, stop_at_failure: true, shrink, stop: None, watchdog };
        let job = Job { seeds: Seeds::List(self.seeds), exploration };
        let Some(result) = runner.run(&[job], &|_, run| prepare(run).run(), &|_, _| {}).pop() else { return };
        match result.confirmed {
            None => {}
            Some(Confirmed::Differs { why }) => panic!("wsasim: {why}"),
            Some(Confirmed::Same(failure)) => {
                // The schedule to hand back: the minimised one, when there is one.
                let (schedule, summary) = match &result.minimised {
                    Some(m) => (m.failure.schedule(), minimised_summary(&failure, m)),
                    None => (failure.schedule(), String::new()),
                };
                match schedule.map(|s| write_schedule(test.as_deref(), s)) {
                    Some(Ok(path)) => panic!(
                        "{failure}{summary}\nschedule: {}\nreplay the schedule: {SCHEDULE_VAR}={} {}",
                        path.display(),
                        path.display(),
                        cargo_test(test.as_deref())
                    ),
                    Some(Err(e)) => panic!("{failure}{summary}\n(the schedule could not be written: {e})"),
                    None => panic!("{failure}"),
                }
            }
        }
    }
}

/// What minimising achieved, as a line of a failure's report.
fn minimised_summary(original: &crate::Failure, m: &crate::Minimised) -> String {
    let (after, before) = (m.failure.deviations(), m.deviations_before);
    let lines = (m.failure.trace_len(), original.trace_len());
    let stopped = m.budget_hit.as_ref().map_or(String::new(), |b| format!("; stopped at {b}"));
    format!(
        "\nminimised: {after} deviations from the default schedule (of {before}), {} trace lines (of {}), in {} runs{stopped}",
        lines.0, lines.1, m.runs
    )
}

fn print_one(sim: &mut Sim) {
    let seed = sim.seed();
    match sim.run() {
        Ok(outcome) => eprintln!(
            "{}wsasim: seed {seed} passed (trace hash {:016x})",
            outcome.trace_text(),
            outcome.trace_hash()
        ),
        Err(failure) => {
            eprintln!("{}", failure.trace_text());
            panic!("{failure}");
        }
    }
}

/// The test's exploration, as the environment overrides it.
fn from_env(mut e: Exploration) -> Exploration {
    let var = |name: &str| std::env::var(name).ok().map(|v| v.trim().to_owned());
    if let Some(s) = var(STRATEGY_VAR) {
        e.strategy = s.parse().unwrap_or_else(|why| panic!("wsasim: {STRATEGY_VAR}: {why}"));
    }
    match var(SWARM_VAR).as_deref() {
        None => {}
        Some("0") => e.swarm = None,
        Some("1") => e.swarm = Some(e.swarm.unwrap_or_default()),
        Some(other) => panic!("wsasim: {SWARM_VAR}={other:?}: expected 1 (on) or 0 (off)"),
    }
    if let Some(n) = var(RUN_LENGTH_VAR) {
        e.run_length = n.parse().unwrap_or_else(|_| panic!("wsasim: {RUN_LENGTH_VAR}={n:?} is not a number"));
    }
    e
}

fn seed_from_env() -> Option<u64> {
    let value = std::env::var(SEED_VAR).ok()?;
    let seed = value
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("wsasim: {SEED_VAR}={value:?} is not a seed (a number from 0 to 2^64-1)"));
    Some(seed)
}

fn read_schedule(path: &std::path::Path) -> Schedule {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("wsasim: {SCHEDULE_VAR}: cannot read {}: {e}", path.display()));
    text.parse().unwrap_or_else(|e| panic!("wsasim: {}:{e}", path.display()))
}

/// Writes a failing seed's schedule under the build's target folder (`CARGO_TARGET_DIR`,
/// or the `target` folder the test binary is in), in `wsasim/`.
fn write_schedule(test: Option<&str>, schedule: &Schedule) -> std::io::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let beside = || exe.ancestors().find(|p| p.file_name().is_some_and(|n| n == "target")).map(PathBuf::from);
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).or_else(beside);
    let dir = target.unwrap_or_else(std::env::temp_dir).join("wsasim");
    std::fs::create_dir_all(&dir)?;
    let name = test.unwrap_or("check").replace("::", "-");
    let path = dir.join(format!("{name}-seed{}.schedule", schedule.seed));
    std::fs::write(&path, schedule.to_string())?;
    Ok(path)
}

/// The command that runs this test again: with `WSASIM_SEED` (and the exploration, when
/// it is not the default) when a sweep found the seed, without when the seed is written in
/// the test. `test` is libtest's thread name, which is the test's path.
pub(crate) fn replay_command(sweep: Option<(u64, Option<&str>)>, exploration: &Exploration) -> String {
    let test = match sweep {
        Some((_, name)) => name.map(str::to_owned),
        None => std::thread::current().name().map(str::to_owned),
    };
    let cargo = cargo_test(test.as_deref());
    let Some((seed, _)) = sweep else { return cargo };
    let mut vars = format!("{SEED_VAR}={seed}");
    if exploration.strategy != Strategy::RandomWalk && exploration.swarm.is_none() {
        vars += &format!(" {STRATEGY_VAR}={}", exploration.strategy.over(exploration.run_length));
    }
    if exploration.swarm.is_some() {
        vars += &format!(" {SWARM_VAR}=1 {RUN_LENGTH_VAR}={}", exploration.run_length);
    }
    format!("{vars} {cargo}")
}

fn cargo_test(test: Option<&str>) -> String {
    match test {
        Some(name) if name != "main" => format!("cargo test {name} -- --exact --nocapture"),
        _ => "cargo test".to_owned(),
    }
}
