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
use wsasim_sim::{Exploration, JobResult};

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
    let failed = entries.iter().filter(|e| e.result.failures().next().is_some()).count();
    let time: f64 = entries.iter().map(|e| e.result.wall.as_secs_f64()).sum();
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let counts = format!("tests=\"{}\" failures=\"{failed}\" errors=\"0\"", entries.len());
    let _ = writeln!(x, "<testsuites name=\"wsasim\" {counts} time=\"{time:.3}\">");
    let _ = writeln!(x, "  <testsuite name=\"wsasim\" {counts} skipped=\"0\" time=\"{time:.3}\">");
    for e in entries {
        let (name, path) = (escape(e.scenario.name()), escape(e.scenario.path()));
        let seeds = e.result.seeds.len();
        let time = e.result.wall.as_secs_f64();
        let _ = write!(x, "    <testcase name=\"{name}\" classname=\"{path}\" time=\"{time:.3}\"");
        let failures: Vec<_> = e.result.failures().collect();
        let Some(first) = failures.first() else {
            let _ = writeln!(x, "/>");
            continue;
        };
        let why = first.failure.as_deref().unwrap_or_default();
        let message = format!(
            "{} of {seeds} seeds failed; seed {}: {}",
            failures.len(),
            first.seed,
            why.lines().next().unwrap_or_default()
        );
        let mut text = String::new();
        for f in &failures {
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
struct JsonReport<'a> {
    wsasim: &'static str,
    scenarios: Vec<JsonScenario<'a>>,
}

#[derive(Serialize)]
struct JsonScenario<'a> {
    path: &'a str,
    name: &'a str,
    passed: bool,
    seeds_run: usize,
    seeds_failed: usize,
    results: Vec<JsonSeed<'a>>,
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

fn first_failure(e: &Entry) -> Option<u64> {
    e.result.failures().next().map(|f| f.seed)
}

pub fn json(entries: &[Entry]) -> String {
    let scenarios = entries
        .iter()
        .map(|e| {
            let failed = e.result.failures().count();
            JsonScenario {
                path: e.scenario.path(),
                name: e.scenario.name(),
                passed: failed == 0,
                seeds_run: e.result.seeds.len(),
                seeds_failed: failed,
                results: e
                    .result
                    .seeds
                    .iter()
                    .map(|s| JsonSeed {
                        seed: s.seed,
                        passed: s.failure.is_none(),
                        steps: s.steps,
                        virtual_time_ns: u64::try_from(s.virtual_time.as_nanos()).unwrap_or(u64::MAX),
                        trace_hash: s.trace_hash.map(|h| format!("{h:016x}")),
                        failure: s.failure.as_deref(),
                        replay: s.failure.as_ref().map(|_| e.replay(s.seed)),
                        schedule: e.schedule.as_deref().filter(|_| Some(s.seed) == first_failure(e)),
                        swarm: s.swarm.map(|d| d.to_string()),
                    })
                    .collect(),
            }
        })
        .collect();
    let report = JsonReport { wsasim: env!("CARGO_PKG_VERSION"), scenarios };
    serde_json::to_string_pretty(&report).expect("a report serializes") + "\n"
}
