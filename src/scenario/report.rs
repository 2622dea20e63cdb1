//! Reports of a `wsasim run`: JUnit XML for CI systems, one test case per scenario, and
//! JSON with every seed's result.
//!
//! The JUnit layout is the one CI systems read (Jenkins' and GitLab's JUnit parsers, the
//! Ant JUnit schema): `<testsuites>` holding one `<testsuite>` with `name`, `tests`,
//! `failures`, `errors`, `skipped` and `time`, holding `<testcase name classname time>`
//! elements, each failed one with a `<failure message type>` whose text is the full
//! failure.

use super::Scenario;
use serde::Serialize;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use wsasim_sim::{Exploration, JobResult, SeedResult};

/// How a failing seed replays: the scenario, its exploration and the seed give the command.
pub type Replay<'a> = &'a dyn Fn(&Scenario, &Exploration, u64) -> String;

/// One scenario's results, with how to replay each failure.
pub struct Entry<'a> {
    pub scenario: &'a Scenario,
    pub result: &'a JobResult,
    pub replay: Replay<'a>,
    /// The schedule file of the smallest failing seed, when one was written.
    pub schedule: Option<String>,
}

impl Entry<'_> {
    fn replay(&self, seed: u64) -> String {
        (self.replay)(self.scenario, &self.result.exploration, seed)
    }
}

pub fn junit(entries: &[Entry]) -> String {
    let failed = entries.iter().filter(|e| !e.result.failures.is_empty()).count();
    let time: f64 = entries.iter().map(|e| e.result.wall.as_secs_f64()).sum();
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let counts = format!("tests=\"{}\" failures=\"{failed}\" errors=\"0\"", entries.len());
    let _ = writeln!(x, "<testsuites name=\"wsasim\" {counts} time=\"{time:.3}\">");
    let _ = writeln!(x, "  <testsuite name=\"wsasim\" {counts} skipped=\"0\" time=\"{time:.3}\">");
    for e in entries {
        let (name, path) = (escape(e.scenario.name()), escape(e.scenario.path()));
        let seeds = e.result.seeds_run;
        let time = e.result.wall.as_secs_f64();
        let _ = write!(x, "    <testcase name=\"{name}\" classname=\"{path}\" time=\"{time:.3}\"");
        let failures = &e.result.failures;
        let Some(first) = failures.first() else {
            let _ = writeln!(x, "/>");
            continue;
        };
        let why = first.failure.as_deref().unwrap_or_default();
        let message = format!(
            "{} of {} failed; seed {}: {}",
            failures.len(),
            super::cli::count(seeds, "seed"),
            first.seed,
            why.lines().next().unwrap_or_default()
        );
        let mut text = String::new();
        for f in failures {
            let _ = writeln!(
                text,
                "seed {}: {}\nreplay: {}\n",
                f.seed,
                f.failure.as_deref().unwrap_or_default(),
                e.replay(f.seed)
            );
        }
        if let Some(path) = &e.schedule {
            let _ = writeln!(text, "schedule of seed {}: {path}", first.seed);
        }
        let _ = writeln!(x, ">");
        let _ = writeln!(
            x,
            "      <failure message=\"{}\" type=\"wsasim\">{}</failure>",
            escape(&message),
            escape(&text)
        );
        let _ = writeln!(x, "    </testcase>");
    }
    x.push_str("  </testsuite>\n</testsuites>\n");
    x
}

/// Text as XML character data or attribute value: the five special characters escaped,
/// and characters XML 1.0 cannot hold at all dropped.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

#[derive(Serialize)]
struct JsonSeed<'a> {
    seed: u64,
    passed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    steps: Option<u64>,
    virtual_time_ns: u64,
    /// Kept for the failing seeds and those run twice (see `wsasim_sim::sweep`).
    #[serde(skip_serializing_if = "Option::is_none")]
    trace_hash: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    replay: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    schedule: Option<&'a str>,
    /// What a failing seed drew, under swarm settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    swarm: Option<String>,
}

impl JsonSeed<'_> {
    fn of(s: &SeedResult) -> JsonSeed<'_> {
        JsonSeed {
            seed: s.seed,
            passed: s.failure.is_none(),
            steps: s.steps,
            virtual_time_ns: u64::try_from(s.virtual_time.as_nanos()).unwrap_or(u64::MAX),
            trace_hash: s.trace_hash.map(|h| format!("{h:016x}")),
            failure: s.failure.as_deref(),
            replay: None,
            schedule: None,
            swarm: s.swarm.map(|d| d.to_string()),
        }
    }
}

/// The JSON report of a sweep, written as it goes: a passing seed's result is spooled to a
/// file beside the report the moment it is handed on, not kept, and [`JsonReport::finish`]
/// merges those with the failures (kept, with their replay commands and the schedule) into
/// the report. A sweep of any size thus holds only its failures in memory.
#[derive(Debug)]
pub struct JsonReport {
    path: PathBuf,
    spool_path: PathBuf,
    spool: BufWriter<File>,
}

impl JsonReport {
    pub fn create(path: &Path) -> io::Result<JsonReport> {
        let mut spool_path = path.as_os_str().to_owned();
        spool_path.push(".part");
        let spool_path = PathBuf::from(spool_path);
        let spool = BufWriter::new(File::create(&spool_path)?);
        Ok(JsonReport { path: path.to_owned(), spool_path, spool })
    }

    /// One seed of job `j`, in the sweep's order; a failing one waits for `finish`.
    pub fn seed(&mut self, j: usize, s: &SeedResult) -> io::Result<()> {
        if s.failure.is_some() {
            return Ok(());
        }
        let json = serde_json::to_string(&JsonSeed::of(s)).expect("a result serializes");
        writeln!(self.spool, "{j} {} {json}", s.seed)
    }

    /// Writes the report: each scenario with its counts, then its seeds' results in seed
    /// order, one a line.
    pub fn finish(mut self, entries: &[Entry]) -> io::Result<()> {
        self.spool.flush()?;
        drop(self.spool);
        let mut passing = BufReader::new(File::open(&self.spool_path)?).lines().peekable();
        let mut out = BufWriter::new(File::create(&self.path)?);
        let text = |s: &str| serde_json::to_string(s).expect("a string serializes");
        write!(out, "{{\"wsasim\": {}, \"scenarios\": [", text(env!("CARGO_PKG_VERSION")))?;
        for (j, e) in entries.iter().enumerate() {
            let failed = e.result.failures.len();
            write!(
                out,
                "{}\n{{\"path\": {}, \"name\": {}, \"passed\": {}, \"seeds_run\": {}, \"seeds_failed\": {failed}, \"results\": [",
                if j == 0 { "" } else { "," },
                text(e.scenario.path()),
                text(e.scenario.name()),
                failed == 0,
                e.result.seeds_run,
            )?;
            let mut failures = e.result.failures.iter().peekable();
            let mut first = true;
            loop {
                // The next passing seed of this job, if any, as (seed, its JSON).
                let pass = match passing.peek() {
                    Some(Ok(line)) => parse_spooled(line)
                        .filter(|(job, _, _)| *job == j)
                        .map(|(_, seed, json)| (seed, json.to_owned())),
                    Some(Err(_)) => return Err(passing.next().expect("peeked").expect_err("an error")),
                    None => None,
                };
                let pass_first = match (&pass, failures.peek()) {
                    (Some((seed, _)), Some(f)) => *seed < f.seed,
                    (pass, _) => pass.is_some(),
                };
                let line = if let (true, Some((_, json))) = (pass_first, pass) {
                    passing.next();
                    json
                } else if let Some(f) = failures.next() {
                    let mut json = JsonSeed::of(f);
                    json.replay = Some(e.replay(f.seed));
                    json.schedule = e.schedule.as_deref().filter(|_| Some(f.seed) == first_failure(e));
                    serde_json::to_string(&json).expect("a result serializes")
                } else {
                    break;
                };
                write!(out, "{}\n  {line}", if first { "" } else { "," })?;
                first = false;
            }
            write!(out, "]}}")?;
        }
        writeln!(out, "\n]}}")?;
        out.flush()?;
        std::fs::remove_file(&self.spool_path)
    }
}

/// A spooled line: the job, the seed, the result's JSON.
fn parse_spooled(line: &str) -> Option<(usize, u64, &str)> {
    let (job, rest) = line.split_once(' ')?;
    let (seed, json) = rest.split_once(' ')?;
    Some((job.parse().ok()?, seed.parse().ok()?, json))
}

fn first_failure(e: &Entry) -> Option<u64> {
    e.result.failures.first().map(|f| f.seed)
}
