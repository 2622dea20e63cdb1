//! The `wsasim` command: `run`, `replay` and `check` of scenario files.
//!
//! Exit codes: 0 when everything passed, 1 when a scenario failed, 2 for bad usage or a bad
//! scenario file (nothing runs then).

use super::report::{self, Entry};
use super::shard::Shard;
use super::{Registry, Scenario};
use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::BTreeSet;
use std::ffi::OsString;
use std::io::IsTerminal;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use wsasim_sim::{
    Budget, Confirmed, Exploration, Job, Minimised, Replay, RunAs, Runner, Schedule, SeedResult, Strategy,
    TraceKept, Watchdog, measure,
};

/// wsasim: a deterministic simulator of Windows Sockets 2 overlapped I/O.
///
/// Runs scenario files (docs/scenarios.md): hosts whose threads make Win32 calls with
/// expected results, over many seeds of the scheduler; a failing seed replays exactly.
#[derive(Debug, Parser)]
#[command(name = "wsasim", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run scenario files over their seeds (folders are searched for *.toml).
    Run(RunArgs),
    /// Run one seed of a scenario and print its trace.
    Replay(ReplayArgs),
    /// Parse and check scenario files without running them.
    Check {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Run seeds 0 to N-1 of every scenario, instead of each file's own.
    #[arg(long, value_name = "N", conflicts_with_all = ["seed", "from"])]
    seeds: Option<u64>,
    /// Run this seed only.
    #[arg(long, value_name = "S", conflicts_with = "from")]
    seed: Option<u64>,
    /// Run seeds A to B, both included (with --to).
    #[arg(long, value_name = "A", requires = "to")]
    from: Option<u64>,
    #[arg(long, value_name = "B", requires = "from")]
    to: Option<u64>,
    /// Run the Kth of every N seeds, so N machines share one sweep (K from 1).
    #[arg(long, value_name = "K/N", value_parser = Shard::parse)]
    shard: Option<Shard>,
    /// OS threads to run seeds on (default: one per core).
    #[arg(long, value_name = "N", value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    jobs: Option<usize>,
    /// Succeed when a scenario is left no seeds to run (`--seeds 0`, or a shard of fewer
    /// seeds than shards), which is otherwise an error.
    #[arg(long)]
    allow_no_seeds: bool,
    /// Write a report: junit=PATH (JUnit XML) or json=PATH (every seed's result).
    #[arg(long, value_name = "KIND=PATH", value_parser = parse_report)]
    report: Vec<(ReportKind, PathBuf)>,
    /// Write the trace of each failing scenario's smallest failing seed into this folder,
    /// as <file path, `/` as `__`>-seed<S>.trace.
    #[arg(long, value_name = "DIR")]
    trace: Option<PathBuf>,
    /// Write the schedule of each failing scenario's smallest failing seed into this
    /// folder, as <file path, `/` as `__`>-seed<S>.schedule.
    #[arg(long, value_name = "DIR", default_value = "target/wsasim")]
    schedules: PathBuf,
    #[command(flatten)]
    explore: ExploreArgs,
    /// Report each failing seed's own schedule instead of minimising it.
    #[arg(long)]
    no_shrink: bool,
}

/// How seeds decide, over what the scenario files say.
#[derive(Debug, Clone, clap::Args)]
struct ExploreArgs {
    /// random, pct:DEPTH[:STEPS] or pb:MAX[:STEPS], for every scenario.
    #[arg(long, value_name = "S", value_parser = |s: &str| s.parse::<Strategy>())]
    strategy: Option<Strategy>,
    /// Draw each seed's strategy, latencies, segment cuts and pending from the seed.
    #[arg(long)]
    swarm: bool,
    /// The run length PCT and bounded preemption draw their points over (default: the
    /// decisions of each scenario's first seed).
    #[arg(long, value_name = "N")]
    run_length: Option<u64>,
}

impl ExploreArgs {
    fn over(&self, file: Exploration) -> Exploration {
        Exploration {
            strategy: self.strategy.unwrap_or(file.strategy),
            swarm: if self.swarm { Some(file.swarm.unwrap_or_default()) } else { file.swarm },
            run_length: self.run_length.unwrap_or(file.run_length),
        }
    }
}

#[derive(Debug, clap::Args)]
struct ReplayArgs {
    file: PathBuf,
    #[arg(long, value_name = "S", required_unless_present = "schedule", conflicts_with = "schedule")]
    seed: Option<u64>,
    /// Replay this schedule file (its seed, its every decision) instead of a seed; the
    /// trace marks each choice that deviates from the default schedule.
    #[arg(long, value_name = "PATH")]
    schedule: Option<PathBuf>,
    /// Leave the scheduler's choices and packet arrivals out of the text trace.
    #[arg(long)]
    calls_only: bool,
    #[command(flatten)]
    explore: ExploreArgs,
    /// Write the trace to this file instead of standard output.
    #[arg(long, value_name = "PATH")]
    trace: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReportKind {
    Junit,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Jsonl,
}

fn parse_report(s: &str) -> Result<(ReportKind, PathBuf), String> {
    match s.split_once('=') {
        Some(("junit", p)) if !p.is_empty() => Ok((ReportKind::Junit, p.into())),
        Some(("json", p)) if !p.is_empty() => Ok((ReportKind::Json, p.into())),
        _ => Err(format!("{s:?}: expected junit=PATH or json=PATH")),
    }
}

/// Where the command prints (standard output, or a test's buffer), such that a closed pipe
/// cannot stop it (`wsasim run scenarios/ | head -1`): once a write fails, the rest is
/// dropped, and the command goes on to write its reports and give its exit code.
struct Out<'a> {
    to: &'a mut dyn std::io::Write,
    lost: bool,
}

impl Out<'_> {
    fn text(&mut self, text: &str) {
        if !self.lost {
            self.lost = self.to.write_all(text.as_bytes()).and_then(|()| self.to.flush()).is_err();
        }
    }

    fn line(&mut self, line: std::fmt::Arguments) {
        self.text(&format!("{line}\n"));
    }
}

/// `println!` to an [`Out`].
macro_rules! say {
    ($out:expr, $($arg:tt)*) => {
        $out.line(format_args!($($arg)*))
    };
}

/// The most seeds one `run` takes (none is listed or kept unless it fails: memory does not
/// grow with the count).
const SEEDS_MAX: u64 = 1 << 30;

const PASSED: u8 = 0;
const FAILED: u8 = 1;
const BAD_INPUT: u8 = 2;
/// A run stopped by an interrupt (SIGINT), as shells count it: 128 + 2.
const INTERRUPTED: u8 = 130;

/// Set by the first interrupt of a `run`; the second ends the process as usual.
static INTERRUPT: AtomicBool = AtomicBool::new(false);

extern "C" fn on_interrupt(_: libc::c_int) {
    INTERRUPT.store(true, Ordering::Relaxed);
    // SAFETY: signal() is async-signal-safe; the default action is restored.
    unsafe { libc::signal(libc::SIGINT, libc::SIG_DFL) };
}

/// While it lives, the first interrupt stops the sweep at its next seed instead of ending
/// the process: the seeds that finished are printed and reported. The handler the process
/// had is put back when it drops.
struct StopAtInterrupt {
    previous: libc::sighandler_t,
}

impl StopAtInterrupt {
    fn install() -> StopAtInterrupt {
        INTERRUPT.store(false, Ordering::Relaxed);
        let handler = on_interrupt as extern "C" fn(libc::c_int);
        // SAFETY: installs a handler that only stores to an atomic and calls signal().
        let previous = unsafe { libc::signal(libc::SIGINT, handler as libc::sighandler_t) };
        StopAtInterrupt { previous }
    }
}

impl Drop for StopAtInterrupt {
    fn drop(&mut self) {
        // SAFETY: puts back the handler signal() returned.
        unsafe { libc::signal(libc::SIGINT, self.previous) };
    }
}

pub fn main(
    registry: &Registry,
    args: impl IntoIterator<Item = OsString>,
    output: &mut dyn std::io::Write,
) -> ExitCode {
    let mut args: Vec<OsString> = args.into_iter().collect();
    let program = args.first().map(|a| command_name(Path::new(a))).unwrap_or_else(|| "wsasim".into());
    if args.is_empty() {
        args.push(program.clone().into());
    }
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { BAD_INPUT } else { PASSED });
        }
    };
    let out = &mut Out { to: output, lost: false };
    let code = match cli.command {
        Command::Check { paths } => check(registry, &paths, out),
        Command::Run(args) => run(registry, &program, &args, out),
        Command::Replay(args) => replay(registry, &program, &args, out),
    };
    ExitCode::from(code)
}

/// How a failure names this command: as it was run (`wsasim` through the `PATH`,
/// `target/release/wsasim` after `cargo build`, a test binary's path), so that the replay
/// commands it prints work as given from where it ran.
fn command_name(argv0: &Path) -> String {
    argv0.display().to_string()
}

/// Every scenario file the paths name, in order, each once however it is reached (`a`,
/// `./a`, through a symlink): folders searched for `*.toml`, sorted, each folder once, so a
/// symlink cycle ends.
fn files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    struct Found {
        files: Vec<PathBuf>,
        seen: BTreeSet<PathBuf>,
    }
    impl Found {
        /// Whether `path` is seen for the first time.
        fn first(&mut self, path: &Path) -> std::io::Result<bool> {
            Ok(self.seen.insert(std::fs::canonicalize(path)?))
        }
        fn walk(&mut self, dir: &Path) -> std::io::Result<()> {
            let mut entries: Vec<PathBuf> =
                std::fs::read_dir(dir)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
            entries.sort();
            for p in entries {
                if p.is_dir() {
                    if self.first(&p)? {
                        self.walk(&p)?;
                    }
                } else if p.extension().is_some_and(|e| e == "toml") && self.first(&p)? {
                    self.files.push(p);
                }
            }
            Ok(())
        }
    }
    let mut found = Found { files: Vec::new(), seen: BTreeSet::new() };
    for p in paths {
        let first = found.first(p).map_err(|_| format!("{}: no such file or folder", p.display()))?;
        if p.is_dir() {
            if first {
                found.walk(p).map_err(|e| format!("{}: {e}", p.display()))?;
            }
        } else if first {
            found.files.push(p.clone());
        }
    }
    if found.files.is_empty() {
        return Err("no scenario files (*.toml) in the paths given".into());
    }
    Ok(found.files)
}

/// Refuses reports that could not be written, before anything runs: a kind given twice, two
/// at one path (however it is spelled), or a path that cannot be written. Nothing is left
/// behind: a file made to try the path is removed.
fn check_reports(reports: &[(ReportKind, PathBuf)]) -> Result<(), String> {
    let mut seen = Vec::new();
    for (i, (kind, path)) in reports.iter().enumerate() {
        if reports[..i].iter().any(|(other, _)| other == kind) {
            return Err(format!("{}: a second report of one kind", path.display()));
        }
        let existed = path.exists();
        std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .map_err(|e| format!("cannot write the report {}: {e}", path.display()))?;
        let real = std::fs::canonicalize(path).map_err(|e| format!("{}: {e}", path.display()));
        if !existed {
            let _ = std::fs::remove_file(path);
        }
        let real = real?;
        if seen.contains(&real) {
            return Err(format!("{}: two reports at one path", path.display()));
        }
        seen.push(real);
    }
    Ok(())
}

/// Loads every file; on any problem prints them all and gives `None`.
fn load_all(registry: &Registry, paths: &[PathBuf]) -> Option<Vec<Scenario>> {
    let files = match files(paths) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("wsasim: {e}");
            return None;
        }
    };
    let mut scenarios = Vec::new();
    let mut bad = 0;
    for f in &files {
        match registry.load(f) {
            Ok(s) => scenarios.push(s),
            Err(diagnostics) => {
                bad += 1;
                diagnostics.iter().for_each(|d| eprintln!("{d}"));
            }
        }
    }
    if bad > 0 {
        eprintln!("wsasim: {bad} of {} scenario file(s) are invalid; nothing was run", files.len());
        return None;
    }
    Some(scenarios)
}

fn check(registry: &Registry, paths: &[PathBuf], out: &mut Out<'_>) -> u8 {
    match load_all(registry, paths) {
        Some(s) => {
            say!(out, "wsasim: {} scenario file(s) are valid", s.len());
            PASSED
        }
        None => BAD_INPUT,
    }
}

fn run(registry: &Registry, program: &str, args: &RunArgs, out: &mut Out<'_>) -> u8 {
    if let Err(e) = check_reports(&args.report) {
        eprintln!("wsasim: {e}");
        return BAD_INPUT;
    }
    let Some(scenarios) = load_all(registry, &args.paths) else { return BAD_INPUT };
    let chosen = match (args.seed, args.seeds, args.from.zip(args.to)) {
        (Some(seed), _, _) => seed.checked_add(1).map(|end| Some(seed..end)),
        (_, Some(n), _) => Some(Some(0..n)),
        (_, _, Some((a, b))) if a <= b => b.checked_add(1).map(|end| Some(a..end)),
        (_, _, Some((a, b))) => {
            eprintln!("wsasim: --from {a} --to {b}: expected A <= B");
            return BAD_INPUT;
        }
        _ => Some(None),
    };
    let Some(chosen) = chosen else {
        eprintln!("wsasim: seeds go up to {}", u64::MAX - 1);
        return BAD_INPUT;
    };
    let ranges: Vec<Range<u64>> =
        scenarios.iter().map(|s| chosen.clone().unwrap_or_else(|| s.seeds())).collect();
    let total: u64 = ranges.iter().map(|r| r.end - r.start).fold(0, u64::saturating_add);
    if total > SEEDS_MAX {
        eprintln!(
            "wsasim: {total} seeds in one run: expected at most {SEEDS_MAX} (use --shard or smaller ranges)"
        );
        return BAD_INPUT;
    }
    let shard = args.shard.unwrap_or(Shard::ALL);
    let jobs: Vec<Job> = scenarios
        .iter()
        .zip(ranges)
        .map(|(s, r)| Job { seeds: shard.seeds(r), exploration: args.explore.over(s.exploration()) })
        .collect();
    if !args.allow_no_seeds {
        let empty = scenarios.iter().zip(&jobs).filter(|(_, j)| j.seeds.is_empty());
        let names: Vec<String> = empty.map(|(s, _)| s.path().to_string()).collect();
        if !names.is_empty() {
            let why = match args.shard {
                _ if args.seeds == Some(0) => "--seeds 0".to_owned(),
                Some(sh) => format!("shard {}/{} gets none of their seeds", sh.k, sh.n),
                None => "no seeds chosen".to_owned(),
            };
            eprintln!(
                "wsasim: no seeds to run for {} ({why}); pass --allow-no-seeds to accept that",
                names.join(", ")
            );
            return BAD_INPUT;
        }
    }
    let total: u64 = jobs.iter().map(|j| j.seeds.len()).sum();
    let workers = args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let bar = if std::io::stderr().is_terminal() { ProgressBar::new(total) } else { ProgressBar::hidden() };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} seeds {per_sec} eta {eta}")
            .expect("a valid template"),
    );
    let replay = |s: &Scenario, e: &Exploration, seed: u64| replay_command(program, s, e, seed);
    let started = std::time::Instant::now();
    let shrink = (!args.no_shrink).then(Budget::default);
    let replay_job = |j: usize, seed| replay(&scenarios[j], &jobs[j].exploration, seed);
    let watchdog = wsasim_sim::watchdog_after().map(|after| Watchdog { after, replay: &replay_job });
    let runner = Runner { workers, stop_at_failure: false, shrink, stop: Some(&INTERRUPT), watchdog };
    let _interrupt = StopAtInterrupt::install();
    let run_seed = |j: usize, run: RunAs| {
        let s = &scenarios[j];
        let command = replay(s, &run.exploration, run.seed);
        s.run(registry, run, &command)
    };
    let json = args.report.iter().find(|(kind, _)| *kind == ReportKind::Json).map(|(_, path)| path);
    let json = match json.map(|path| report::JsonReport::create(path)).transpose() {
        Ok(json) => Mutex::new(json.map(|j| (j, Ok(())))),
        Err(e) => {
            eprintln!("wsasim: cannot write the report: {e}");
            return BAD_INPUT;
        }
    };
    let each = |j: usize, result: &SeedResult| {
        bar.inc(1);
        if let Some((report, written)) = &mut *json.lock().expect("no worker panics holding it") {
            if written.is_ok() {
                *written = report.seed(j, result);
            }
        }
    };
    let results = runner.run(&jobs, &run_seed, &each);
    bar.finish_and_clear();
    let wall = started.elapsed();

    let mut failed = 0;
    let mut code = PASSED;
    let mut schedules = Vec::new();
    for (scenario, result) in scenarios.iter().zip(&results) {
        let failures = &result.failures;
        let n = result.seeds_run;
        schedules.push(None);
        if failures.is_empty() {
            say!(out, "ok    {} ({})", scenario.path(), count(n, "seed"));
            continue;
        }
        failed += 1;
        code = FAILED;
        say!(out, "FAIL  {} ({} of {} failed)", scenario.path(), failures.len(), count(n, "seed"));
        const SHOWN: usize = 10;
        for f in failures.iter().take(SHOWN) {
            let why = f.failure.as_deref().unwrap_or_default().replace('\n', "\n        ");
            say!(
                out,
                "  seed {}: {why}\n    replay: {}",
                f.seed,
                replay(scenario, &result.exploration, f.seed)
            );
            if let Some(drawn) = &f.swarm {
                say!(out, "    swarm: {drawn}");
            }
        }
        if failures.len() > SHOWN {
            say!(out, "  ... and {} more failing seeds (see --report json=PATH)", failures.len() - SHOWN);
        }
        match &result.confirmed {
            Some(Confirmed::Same(failure)) => {
                match keep(program, scenario, failure, result.minimised.as_ref(), args, out) {
                    Ok(schedule) => *schedules.last_mut().expect("pushed above") = schedule,
                    Err(e) => say!(out, "  {e}"),
                }
            }
            Some(Confirmed::Differs { why }) => {
                say!(out, "  {why}")
            }
            None => unreachable!("a scenario with failures has its smallest confirmed"),
        }
    }
    let entries: Vec<Entry> = scenarios
        .iter()
        .zip(&results)
        .zip(&schedules)
        .map(|((scenario, result), schedule)| Entry {
            scenario,
            result,
            replay: &replay,
            schedule: schedule.clone(),
        })
        .collect();
    for (kind, path) in &args.report {
        let written = match kind {
            ReportKind::Junit => std::fs::write(path, report::junit(&entries)),
            ReportKind::Json => {
                let (report, spooled) = json.lock().expect("the sweep is over").take().expect("made above");
                spooled.and_then(|()| report.finish(&entries))
            }
        };
        if let Err(e) = written {
            eprintln!("wsasim: cannot write the report {}: {e}", path.display());
            code = BAD_INPUT;
        }
    }
    let ran: u64 = results.iter().map(|r| r.seeds_run).sum();
    let rate = ran as f64 / wall.as_secs_f64().max(1e-9);
    say!(
        out,
        "wsasim: {} in {:.2} s ({rate:.0} seeds/s, {})",
        count(ran, "seed"),
        wall.as_secs_f64(),
        count(workers as u64, "job")
    );
    say!(out, "{} passed, {failed} failed", scenarios.len() - failed);
    if INTERRUPT.load(Ordering::Relaxed) && code != BAD_INPUT {
        eprintln!(
            "wsasim: interrupted: {ran} of {total} seeds ran; the results and reports above are theirs"
        );
        return INTERRUPTED;
    }
    code
}

/// `n` things, in the singular for one.
pub(crate) fn count(n: u64, thing: &str) -> String {
    if n == 1 { format!("1 {thing}") } else { format!("{n} {thing}s") }
}

/// The command that replays `seed` of `scenario` as it ran: the strategy (with the run
/// length it drew over) or the swarm settings, when they are not the default.
fn replay_command(program: &str, scenario: &Scenario, e: &Exploration, seed: u64) -> String {
    let mut command = format!("{program} replay {} --seed {seed}", scenario.path());
    if e.swarm.is_some() {
        command += &format!(" --swarm --run-length {}", e.run_length);
    } else if e.strategy != Strategy::RandomWalk {
        command += &format!(" --strategy {}", e.strategy.over(e.run_length));
    }
    command
}

/// Writes a confirmed failure's trace to `--trace`'s folder and its schedule, minimised
/// when it was, to `--schedules`'; returns the schedule's path.
fn keep(
    program: &str,
    scenario: &Scenario,
    failure: &wsasim_sim::Failure,
    minimised: Option<&Minimised>,
    args: &RunArgs,
    out: &mut Out<'_>,
) -> Result<Option<String>, String> {
    // The file's path, less `.toml`, with `/` as `__`: unique per file.
    let name = scenario.path().trim_end_matches(".toml").replace(['/', '\\'], "__");
    let seed = failure.seed();
    let write = |dir: &Path, ext: &str, text: String| {
        let path = dir.join(format!("{name}-seed{seed}.{ext}"));
        std::fs::create_dir_all(dir)
            .and_then(|()| std::fs::write(&path, text))
            .map(|()| path.display().to_string())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    if let Some(dir) = &args.trace {
        say!(out, "    trace: {}", write(dir, "trace", failure.trace_text())?);
    }
    let Some(schedule) = minimised.map_or(failure.schedule(), |m| m.failure.schedule()) else {
        return Ok(None);
    };
    let path = write(&args.schedules, "schedule", schedule.to_string())?;
    let replay = format!("{program} replay {} --schedule {path}", scenario.path());
    match minimised {
        Some(m) => say!(
            out,
            "    minimised: {replay}\n      ({} deviations from the default schedule of {}, {} trace lines of {}, in {} runs{})",
            m.failure.deviations(),
            m.deviations_before,
            m.failure.trace_len(),
            failure.trace_len(),
            m.runs,
            m.budget_hit.as_ref().map_or(String::new(), |b| format!("; stopped at {b}"))
        ),
        None => say!(out, "    schedule: {path}\n    replay the schedule: {replay}"),
    }
    Ok(Some(path))
}

fn replay(registry: &Registry, program: &str, args: &ReplayArgs, out: &mut Out<'_>) -> u8 {
    let scenario = match registry.load(&args.file) {
        Ok(s) => s,
        Err(diagnostics) => {
            diagnostics.iter().for_each(|d| eprintln!("{d}"));
            return BAD_INPUT;
        }
    };
    let schedule = match &args.schedule {
        Some(path) => match std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read it: {e}"))
            .and_then(|t| t.parse::<Schedule>())
        {
            Ok(s) => Some(s),
            Err(e) => {
                eprintln!("wsasim: {}:{e}", path.display());
                return BAD_INPUT;
            }
        },
        None => None,
    };
    let seed =
        schedule.as_ref().map_or_else(|| args.seed.expect("clap requires --seed or --schedule"), |s| s.seed);
    let exploration = args.explore.over(scenario.exploration());
    // A schedule decides everything itself: nothing to measure.
    let exploration = if schedule.is_some() {
        exploration
    } else {
        measure(exploration, &|r| scenario.run(registry, r, "-"))
    };
    let command = match &args.schedule {
        Some(path) => format!("{program} replay {} --schedule {}", scenario.path(), path.display()),
        None => replay_command(program, &scenario, &exploration, seed),
    };
    // A replayed schedule shows where it deviates from the default schedule.
    let marked = args.schedule.is_some() || args.calls_only;
    let replay = schedule.map(|schedule| Replay { schedule, keep: None });
    let result = scenario.run(
        registry,
        RunAs { replay, ..RunAs::seed(seed, TraceKept::Records, exploration) },
        &command,
    );
    let (trace, summary, code) = match &result {
        Ok(o) => {
            let trace = match args.format {
                Format::Text if marked => o.trace_text_marked(args.calls_only),
                Format::Text => o.trace_text(),
                Format::Jsonl => o.trace_jsonl(),
            };
            (trace, format!("wsasim: seed {seed} passed (trace hash {:016x})", o.trace_hash()), PASSED)
        }
        Err(f) => {
            let trace = match args.format {
                Format::Text if marked => f.trace_text_marked(args.calls_only),
                Format::Text => f.trace_text(),
                Format::Jsonl => f.trace_jsonl(),
            };
            (trace, f.to_string(), FAILED)
        }
    };
    match &args.trace {
        Some(path) => {
            if let Err(e) = std::fs::write(path, trace) {
                eprintln!("wsasim: cannot write the trace {}: {e}", path.display());
                return BAD_INPUT;
            }
        }
        None => out.text(&trace),
    }
    eprintln!("{summary}");
    code
}
