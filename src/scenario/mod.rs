//! Scenario files: runs described in TOML, each either hosts whose threads run scripts of
//! Win32 calls with expectations, or a Rust program a binary registered by name
//! ([`Registry`]) with parameters. `docs/scenarios.md` describes the format; the `wsasim`
//! command runs, replays and checks them.

mod calls;
mod check;
mod cli;
mod faults;
mod file;
mod interpret;
mod report;
mod script;
mod shard;

use check::Plan;
use file::Role;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::Path;
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;
use wsasim_sim::{Exploration, Failure, Misuse, Outcome, RunAs, Sim, Strategy, Swarm};

pub use file::Seeds;

/// The largest latency a file may ask for, in µs.
const LATENCY_MAX_US: u64 = 3_600_000_000;

/// A line and a column in a scenario file, both from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

/// A problem in a scenario file, where it is: `file:line:col: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub path: String,
    pub pos: Pos,
    pub message: String,
}

impl Diagnostic {
    /// A message is one line whatever the file held: control characters a value brought
    /// in (a newline, an escape sequence) are shown escaped, never written to a terminal.
    fn new(path: &str, pos: Pos, message: String) -> Diagnostic {
        let message = message.trim_end();
        let message = if message.contains(char::is_control) {
            message
                .chars()
                .map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() })
                .collect()
        } else {
            message.to_owned()
        };
        Diagnostic { path: path.to_owned(), pos, message }
    }

    fn location(&self) -> String {
        format!("{}:{}:{}", self.path, self.pos.line, self.pos.col)
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location(), self.message)
    }
}

/// A program's parameters: the `[params]` table of its scenario file.
#[derive(Debug, Clone, Default)]
pub struct Params(toml::Table);

impl Params {
    /// The parameter `key` as a `T`, or `default` when the file leaves it out; an `Err`
    /// names the key and what it should have been.
    pub fn get<T: serde::de::DeserializeOwned>(&self, key: &str, default: T) -> Result<T, String> {
        match self.0.get(key) {
            None => Ok(default),
            Some(v) => v
                .clone()
                .try_into()
                .map_err(|e: toml::de::Error| format!("parameter `{key}`: {}", e.message().trim_end())),
        }
    }
}

/// Sets a run up from parameters: adds hosts to the [`Sim`], or says what is wrong with
/// the parameters.
type Setup = dyn Fn(&Params, &mut Sim) -> Result<(), String> + Send + Sync;

/// Rust programs that scenario files may name (`program = "name"`), each a setup function.
/// A test or bench binary registers its programs and hands its command line to
/// [`Registry::main`], which is the `wsasim` command with those programs known.
#[derive(Default)]
pub struct Registry {
    programs: BTreeMap<String, Box<Setup>>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.programs.keys()).finish()
    }
}

impl Registry {
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Registers `setup` under `name`. It is called once per seed, and once by `check` on a
    /// throwaway [`Sim`] to validate the parameters.
    pub fn add(
        &mut self,
        name: &str,
        setup: impl Fn(&Params, &mut Sim) -> Result<(), String> + Send + Sync + 'static,
    ) -> &mut Registry {
        self.programs.insert(name.to_owned(), Box::new(setup));
        self
    }

    /// The `wsasim` command on this process's arguments.
    pub fn main(&self) -> ExitCode {
        self.command(std::env::args_os())
    }

    /// The `wsasim` command on `args` (the first is the program's name).
    pub fn command(&self, args: impl IntoIterator<Item = std::ffi::OsString>) -> ExitCode {
        cli::main(self, args, &mut std::io::stdout())
    }

    /// The `wsasim` command on `args`, printing to `output` instead of standard output
    /// (messages about bad input still go to standard error).
    pub fn command_to(
        &self,
        args: impl IntoIterator<Item = std::ffi::OsString>,
        output: &mut dyn std::io::Write,
    ) -> ExitCode {
        cli::main(self, args, output)
    }

    /// Reads and checks a scenario file.
    pub fn load(&self, path: &Path) -> Result<Scenario, Vec<Diagnostic>> {
        // `./a//b.toml` is shown as `a/b.toml`: failure messages, and so traces, name it
        // the same however it was typed.
        let shown = path.components().collect::<std::path::PathBuf>().display().to_string();
        let source = std::fs::read_to_string(path).map_err(|e| {
            vec![Diagnostic::new(&shown, Pos { line: 1, col: 1 }, format!("cannot read the file: {e}"))]
        })?;
        self.parse(&shown, &source)
    }

    /// Checks a scenario given as text; `path` names it in messages.
    pub fn parse(&self, path: &str, source: &str) -> Result<Scenario, Vec<Diagnostic>> {
        let file = file::parse(path, source).map_err(|d| vec![d])?;
        let error = |offset: usize, message: String| {
            vec![Diagnostic::new(path, file::SourceMap::new(source).position(offset), message)]
        };
        let hosts: Vec<String>;
        let body = match (&file.program, file.host.is_empty()) {
            (Some(p), true) => {
                let Some(setup) = self.programs.get(p.get_ref()) else {
                    let known: Vec<_> = self.programs.keys().map(String::as_str).collect();
                    return Err(error(
                        p.span().start,
                        format!(
                            "unknown program {:?}: expected one this binary registers ({})",
                            p.get_ref(),
                            if known.is_empty() { "it registers none".to_owned() } else { known.join(", ") }
                        ),
                    ));
                };
                let params = Params(file.params.clone());
                let mut probe = Sim::new(0);
                setup(&params, &mut probe)
                    .map_err(|m| error(p.span().start, format!("program {:?}: {m}", p.get_ref())))?;
                hosts = probe.host_names().map(str::to_owned).collect();
                Body::Program { name: p.get_ref().clone(), params }
            }
            (Some(p), false) => {
                return Err(error(
                    p.span().start,
                    "a scenario has either `program` or `[[host]]`s, not both".into(),
                ));
            }
            (None, true) => {
                return Err(error(0, "no `[[host]]` and no `program`: expected one or the other".into()));
            }
            (None, false) => {
                hosts = file.host.iter().map(|h| h.name.get_ref().clone()).collect();
                Body::Script(Arc::new(check::plan(path, source, &file)?))
            }
        };
        let scripted = file.program.is_none();
        let faults = file
            .faults
            .check(&|name| hosts.iter().any(|h| h == name), scripted)
            .map_err(|(at, m)| error(at, m))?;
        if let Some(l) = &file.network.latency_us {
            let [min, max] = *l.get_ref();
            if min > max || max > LATENCY_MAX_US {
                let expected = format!("min <= max <= {LATENCY_MAX_US} (an hour)");
                return Err(error(
                    l.span().start,
                    format!("latency_us = [{min}, {max}]: expected {expected}"),
                ));
            }
        }
        if let Some(s) = &file.network.start_spread_us
            && *s.get_ref() > LATENCY_MAX_US
        {
            let expected = format!("at most {LATENCY_MAX_US} (an hour)");
            return Err(error(
                s.span().start,
                format!("start_spread_us = {}: expected {expected}", s.get_ref()),
            ));
        }
        let misuse = |key: &str, name: &toml::Spanned<String>| {
            Misuse::from_name(name.get_ref()).ok_or_else(|| {
                let known = Misuse::ALL.map(Misuse::name).join(", ");
                error(name.span().start, format!("{key} = {:?}: expected one of {known}", name.get_ref()))
            })
        };
        let allowed = file.run.allow.iter().map(|n| misuse("allow", n)).collect::<Result<Vec<_>, _>>()?;
        let expected_misuse =
            file.run.expect_misuse.as_ref().map(|n| misuse("expect_misuse", n)).transpose()?;
        let strategy = match &file.run.strategy {
            Some(s) => {
                s.get_ref().parse().map_err(|why| error(s.span().start, format!("strategy = {why}")))?
            }
            None => Strategy::RandomWalk,
        };
        let swarm = match &file.run.swarm_faults {
            Some(p) if !(0.0..=1.0).contains(p.get_ref()) => {
                let message = format!("swarm_faults = {}: expected a probability from 0 to 1", p.get_ref());
                return Err(error(p.span().start, message));
            }
            Some(p) if !file.run.swarm => {
                return Err(error(
                    p.span().start,
                    "swarm_faults: drawn by swarm settings: expected `swarm = true` too".into(),
                ));
            }
            Some(p) => Swarm::default().faults(*p.get_ref(), *p.get_ref(), *p.get_ref(), 0.0),
            None => Swarm::default(),
        };
        if !file.params.is_empty() && file.program.is_none() {
            return Err(error(
                0,
                "`[params]` without `program`: parameters are for a registered program".into(),
            ));
        }
        let stem =
            Path::new(path).file_stem().map_or_else(|| path.to_owned(), |s| s.to_string_lossy().into_owned());
        Ok(Scenario {
            path: path.to_owned(),
            name: file.name.clone().unwrap_or(stem),
            description: file.description.clone(),
            seeds: file.run.seeds.unwrap_or_default().0,
            settings: Settings {
                steps_max: file.run.steps_max,
                time_max: file.run.time_max_ms.map(Duration::from_millis),
                pend_immediate: file.run.pend_immediate,
                fail_on_leaks: file.run.fail_on_leaks,
                allowed,
                expected_misuse,
                latency: file.network.latency_us.as_ref().map(|l| l.get_ref().map(Duration::from_micros)),
                start_spread: file
                    .network
                    .start_spread_us
                    .as_ref()
                    .map(|s| Duration::from_micros(*s.get_ref())),
                faults,
            },
            exploration: Exploration { strategy, swarm: file.run.swarm.then_some(swarm), run_length: 0 },
            body,
        })
    }
}

/// A checked scenario, ready to run any seed.
#[derive(Debug)]
pub struct Scenario {
    path: String,
    name: String,
    description: String,
    seeds: Range<u64>,
    settings: Settings,
    exploration: Exploration,
    body: Body,
}

#[derive(Debug)]
struct Settings {
    steps_max: Option<u64>,
    time_max: Option<Duration>,
    pend_immediate: bool,
    fail_on_leaks: bool,
    allowed: Vec<Misuse>,
    expected_misuse: Option<Misuse>,
    latency: Option<[Duration; 2]>,
    start_spread: Option<Duration>,
    faults: faults::Faults,
}

#[derive(Debug)]
enum Body {
    Script(Arc<Plan>),
    Program { name: String, params: Params },
}

impl Scenario {
    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn description(&self) -> &str {
        &self.description
    }

    /// The seeds the file asks for (`[run] seeds`, by default 0 to 99).
    pub fn seeds(&self) -> Range<u64> {
        self.seeds.clone()
    }

    /// The strategy and swarm settings the file asks for (`[run] strategy`, `swarm`).
    pub fn exploration(&self) -> Exploration {
        self.exploration
    }

    /// Runs one seed as the runner asks (or replays what it asks). `replay` is the
    /// command a failure prints.
    pub fn run(&self, registry: &Registry, run: RunAs, replay: &str) -> Result<Outcome, Failure> {
        let mut sim = Sim::new(run.seed);
        let s = &self.settings;
        if let Some(steps) = s.steps_max {
            sim.steps_max(steps);
        }
        if let Some(time) = s.time_max {
            sim.time_max(time);
        }
        if let Some([min, max]) = s.latency {
            sim.latency(min, max);
        }
        if let Some(spread) = s.start_spread {
            sim.start_spread(spread);
        }
        sim.pend_immediate(s.pend_immediate).fail_on_leaks(s.fail_on_leaks);
        s.faults.apply(&mut sim);
        s.allowed.iter().for_each(|m| _ = sim.allow(*m));
        if let Some(m) = s.expected_misuse {
            sim.expect_misuse(m);
        }
        run.apply(&mut sim);
        sim.replay_command(replay);
        // The scripts' buffers and OVERLAPPEDs outlive every thread: the transport may write
        // into them until the run ends.
        let mut states = Vec::new();
        match &self.body {
            Body::Script(plan) => {
                for host in &plan.hosts {
                    let state = Rc::new(interpret::HostState::default());
                    states.push(Rc::clone(&state));
                    let main = interpret::host_main(Arc::clone(host), state);
                    match host.role {
                        Role::Client => sim.client(&host.name, &host.address, main),
                        Role::Server => sim.host(&host.name, &host.address, main),
                    };
                    for (_, at, restart) in s.faults.crashes().iter().filter(|(name, ..)| *name == host.name)
                    {
                        sim.crash(&host.name, *at);
                        if let Some(restart) = restart {
                            // A fresh process: the scripts' names bound anew.
                            let state = Rc::new(interpret::HostState::default());
                            states.push(Rc::clone(&state));
                            sim.restart(&host.name, *restart, interpret::host_main(Arc::clone(host), state));
                        }
                    }
                }
            }
            Body::Program { name, params } => {
                let setup = &self.registry_program(registry, name);
                setup(params, &mut sim).expect("checked when the scenario was loaded");
                for (host, at, _) in s.faults.crashes() {
                    sim.crash(host, *at);
                }
            }
        }
        let result = sim.run();
        drop(states);
        result
    }

    fn registry_program<'r>(&self, registry: &'r Registry, name: &str) -> &'r Setup {
        registry.programs.get(name).map(Box::as_ref).unwrap_or_else(|| {
            panic!("wsasim: scenario {} names program {name:?}, which this registry lacks", self.path)
        })
    }
}
