//! Scenario files and the `wsasim` command: every file in `scenarios/` passes and keeps its
//! seed-0 trace; malformed files are refused with their position; shards, reports, replay
//! commands and registered programs work as documented in docs/scenarios.md.

use crate::echo_workload::Echo;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use wsasim::TraceKept;
use wsasim::scenario::{Params, Registry};

/// The `wsasim` binary, as the replay commands it prints name it.
const BIN: &str = env!("CARGO_BIN_EXE_wsasim");

/// Runs the `wsasim` binary: exit code, standard output, standard error.
fn wsasim(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN).args(args).output().expect("wsasim runs");
    let text = |b: Vec<u8>| String::from_utf8(b).expect("UTF-8 output");
    (out.status.code().expect("exited"), text(out.stdout), text(out.stderr))
}

/// A fresh folder for one test's files, removed when the test ends, failed or not.
struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn scratch(test: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("wsasim-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    Scratch(dir)
}

/// The `*.toml` files under `dir`, sorted, as paths relative to the package.
fn files(dir: &str) -> Vec<String> {
    fn walk(dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("a folder") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "toml") {
                out.push(path.to_str().expect("UTF-8 path").to_owned());
            }
        }
    }
    let mut out = Vec::new();
    walk(Path::new(dir), &mut out);
    out.sort();
    out
}

fn registry() -> Registry {
    let mut registry = Registry::new();
    registry.add("echo", |params: &Params, sim| {
        let echo = Echo {
            clients: params.get("clients", 2)?,
            rounds: params.get("rounds", 3)?,
            message: params.get("message", 64)?,
            one_receive_per_message: params.get("one_receive_per_message", false)?,
        };
        if echo.clients == 0 || echo.clients > 200 {
            return Err(format!("parameter `clients`: expected 1 to 200, found {}", echo.clients));
        }
        echo.setup(sim);
        Ok(())
    });
    registry
}

#[test]
fn the_scenarios_folder_passes() {
    let (code, out, err) = wsasim(&["run", "scenarios/"]);
    assert_eq!(code, 0, "{out}{err}");
    let last = out.lines().last().expect("a summary line");
    let passed: usize = last.strip_suffix(" passed, 0 failed").expect("all passed").parse().expect("a count");
    assert!(passed >= 15, "{passed} scenarios");
    assert_eq!(passed, files("scenarios").len());
}

#[test]
fn every_scenario_keeps_its_seed_0_trace_and_replays_it() {
    let registry = registry();
    for path in files("scenarios") {
        let scenario = registry.load(Path::new(&path)).unwrap_or_else(|e| panic!("{path}: {e:?}"));
        let first = scenario
            .run(&registry, run_as(0, TraceKept::Records), "-")
            .unwrap_or_else(|f| panic!("{path}: {f}"));
        let again = scenario
            .run(&registry, run_as(0, TraceKept::Hash), "-")
            .unwrap_or_else(|f| panic!("{path}: {f}"));
        assert_eq!(first.trace_hash(), again.trace_hash(), "{path}: seed 0 twice gave two traces");
        let name = path.trim_start_matches("scenarios/").trim_end_matches(".toml").replace('/', "__");
        insta::assert_snapshot!(name, first.trace_text());
    }
}

#[test]
fn malformed_files_are_refused_with_their_position() {
    let bad = files("tests/scenarios/bad");
    assert!(bad.len() >= 10);
    let mut messages = String::new();
    for path in &bad {
        let (code, out, err) = wsasim(&["check", path]);
        assert_eq!(code, 2, "{path}: {out}{err}");
        let first = err.lines().next().expect("a message");
        let position = first.strip_prefix(&format!("{path}:")).expect("the file first");
        let mut fields = position.splitn(3, ':');
        for what in ["line", "column"] {
            let n: u32 = fields
                .next()
                .and_then(|f| f.parse().ok())
                .unwrap_or_else(|| panic!("{path}: no {what}: {first}"));
            assert!(n >= 1);
        }
        messages += first;
        messages.push('\n');
    }
    insta::assert_snapshot!(messages);
}

#[test]
fn check_of_valid_files_exits_0() {
    let (code, out, err) = wsasim(&["check", "scenarios"]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, _, err) = wsasim(&["check", "no/such/folder"]);
    assert_eq!((code, err.trim()), (2, "wsasim: no/such/folder: no such file or folder"));
}

/// `(file, seed, passed, trace hash if kept)` of every seed of a JSON report.
fn seeds_of(report: &Path) -> Vec<(String, u64, bool, Option<String>)> {
    let text = std::fs::read_to_string(report).expect("a report");
    let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let mut seeds = Vec::new();
    for s in json["scenarios"].as_array().expect("scenarios") {
        for r in s["results"].as_array().expect("results") {
            let path = s["path"].as_str().expect("path").to_owned();
            let hash = r["trace_hash"].as_str().map(str::to_owned);
            seeds.push((
                path,
                r["seed"].as_u64().expect("seed"),
                r["passed"].as_bool().expect("passed"),
                hash,
            ));
        }
    }
    seeds.sort();
    seeds
}

#[test]
fn shards_together_run_exactly_the_unsharded_seeds() {
    let dir = scratch("shards");
    let files = ["scenarios/tcp/echo.toml", "tests/scenarios/failing.toml"];
    let run = |extra: &[&str], report: &Path| {
        let report_arg = format!("json={}", report.display());
        let mut args = vec!["run", files[0], files[1], "--seeds", "31", "--report", &report_arg];
        args.extend_from_slice(extra);
        let (code, out, err) = wsasim(&args);
        assert_eq!(code, 1, "failing.toml fails: {out}{err}");
    };
    let whole = dir.join("whole.json");
    run(&[], &whole);
    let mut union = Vec::new();
    for k in 1..=3 {
        let part = dir.join(format!("{k}.json"));
        run(&["--shard", &format!("{k}/3"), "--jobs", "1"], &part);
        let seeds = seeds_of(&part);
        assert!((20..=22).contains(&seeds.len()), "shard {k}/3 of 62 seeds ran {}", seeds.len());
        union.extend(seeds);
    }
    union.sort();
    let whole = seeds_of(&whole);
    assert_eq!(whole.len(), 62);
    assert_eq!(union, whole, "the shards' seeds, results and traces are the unsharded run's");
}

#[test]
fn the_junit_report_has_the_required_structure() {
    use quick_xml::events::Event;
    let dir = scratch("junit");
    let report = dir.join("junit.xml");
    let arg = format!("junit={}", report.display());
    let (code, out, err) = wsasim(&[
        "run",
        "scenarios/tcp/echo.toml",
        "tests/scenarios/failing.toml",
        "--seeds",
        "3",
        "--report",
        &arg,
    ]);
    assert_eq!(code, 1, "{out}{err}");
    let xml = std::fs::read_to_string(&report).expect("a report");
    let mut reader = quick_xml::Reader::from_str(&xml);
    let mut path: Vec<String> = Vec::new();
    let (mut cases, mut totals) = (Vec::new(), Vec::new());
    let mut failures: Vec<(String, String)> = Vec::new();
    loop {
        let event = reader.read_event().unwrap_or_else(|e| panic!("not well-formed XML: {e}\n{xml}"));
        let (element, empty) = match &event {
            Event::Start(e) => (Some(e.clone()), false),
            Event::Empty(e) => (Some(e.clone()), true),
            Event::End(_) => {
                path.pop();
                continue;
            }
            Event::Text(t) if path.last().is_some_and(|p| p == "failure") => {
                if let Some((_, text)) = failures.last_mut() {
                    text.push_str(&t.decode().expect("text"));
                }
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        let e = element.expect("an element");
        let name = String::from_utf8(e.name().as_ref().to_vec()).expect("a name");
        let attr = |key: &str| {
            e.try_get_attribute(key)
                .expect("attributes parse")
                .map(|a| a.unescape_value().expect("a value").into_owned())
                .unwrap_or_else(|| panic!("<{name}> lacks the required attribute {key}"))
        };
        let parent = path.last().map(String::as_str);
        match (name.as_str(), parent) {
            ("testsuites", None) => {}
            ("testsuite", Some("testsuites")) => {
                let number = |k: &str| attr(k).parse::<usize>().unwrap_or_else(|_| panic!("{k} is a count"));
                totals.push((number("tests"), number("failures"), number("errors")));
                attr("name");
                attr("time").parse::<f64>().expect("time in seconds");
            }
            ("testcase", Some("testsuite")) => cases.push((attr("name"), attr("classname"))),
            ("failure", Some("testcase")) => failures.push((attr("message"), String::new())),
            (other, parent) => panic!("<{other}> inside {parent:?} is not in the JUnit layout"),
        }
        if !empty {
            path.push(name);
        }
    }
    assert_eq!(totals, [(2, 1, 0)], "one suite counting its test cases and failures");
    assert_eq!(
        cases,
        [
            ("tcp-echo".to_owned(), "scenarios/tcp/echo.toml".to_owned()),
            ("failing".to_owned(), "tests/scenarios/failing.toml".to_owned())
        ]
    );
    let [(message, text)] = &failures[..] else { panic!("one failure: {failures:?}") };
    assert!(message.starts_with("3 of 3 seeds failed; seed 0: "), "{message}");
    assert!(text.contains(&format!("replay: {BIN} replay tests/scenarios/failing.toml --seed 2")), "{text}");
}

#[test]
fn a_failure_names_its_seed_and_the_command_that_replays_it() {
    let (code, out, _) = wsasim(&["run", "tests/scenarios/failing.toml", "--seed", "4"]);
    assert_eq!(code, 1);
    let replay = format!("{BIN} replay tests/scenarios/failing.toml --seed 4");
    assert!(out.contains("  seed 4: thread a/main panicked: tests/scenarios/failing.toml:18:1: "), "{out}");
    assert!(out.contains(&format!("    replay: {replay}")), "{out}");
    assert!(out.ends_with("0 passed, 1 failed\n"), "{out}");

    let args: Vec<&str> = replay.split(' ').skip(1).collect();
    let (code, trace, err) = wsasim(&args);
    assert_eq!(code, 1, "{err}");
    assert!(err.starts_with("wsasim: seed 4 failed at "), "{err}");
    assert!(err.trim_end().ends_with(&format!("replay: {replay}")), "{err}");
    assert!(trace.contains("WSAGetOverlappedResult("), "{trace}");

    let (_, jsonl, _) = wsasim(&[&args[..], &["--format", "jsonl"]].concat());
    for line in jsonl.lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    }
}

#[test]
fn run_writes_the_trace_of_a_failing_seed() {
    let dir = scratch("trace");
    let (code, out, _) = wsasim(&["run", "tests/scenarios/failing.toml", "--trace", dir.to_str().unwrap()]);
    assert_eq!(code, 1);
    let written = dir.join("tests__scenarios__failing-seed0.trace");
    assert!(out.contains(&format!("    trace: {}", written.display())), "{out}");
    let (_, replayed, _) = wsasim(&["replay", "tests/scenarios/failing.toml", "--seed", "0"]);
    assert_eq!(std::fs::read_to_string(written).expect("a trace"), replayed);
}

#[test]
fn registered_programs_run_from_scenario_files_with_parameters() {
    let registry = registry();
    let run = |file: &str| {
        let mut out = Vec::new();
        let code =
            registry.command_to(["wsasim-tests", "run", file, "--jobs", "1"].map(Into::into), &mut out);
        (code, String::from_utf8(out).expect("UTF-8"))
    };
    let (code, out) = run("tests/scenarios/echo-program.toml");
    assert_eq!((code, out.ends_with("1 passed, 0 failed\n")), (ExitCode::SUCCESS, true), "{out}");
    // The planted bug: a client takes one receive for a whole message, which TCP may split.
    let (code, out) = run("tests/scenarios/echo-program-bug.toml");
    assert_eq!(code, ExitCode::from(1), "{out}");
    assert!(out.contains("FAIL  tests/scenarios/echo-program-bug.toml (20 of 20 seeds failed)"), "{out}");

    let source = "program = \"echo\"\n[params]\nclients = \"two\"\n";
    let errors = registry.parse("inline.toml", source).expect_err("a text is not a count");
    assert_eq!(errors.len(), 1);
    let message = errors[0].to_string();
    assert!(message.starts_with("inline.toml:1:11: program \"echo\": parameter `clients`: "), "{message}");

    let (code, _, err) = wsasim(&["check", "tests/scenarios/echo-program.toml"]);
    assert_eq!(code, 2, "the wsasim binary registers no program");
    assert!(err.contains("unknown program \"echo\""), "{err}");
}

/// A one-host scenario from its threads' scripts.
fn one_host(threads: &[&str]) -> String {
    let mut file = String::from("[[host]]\nname = \"a\"\naddress = \"192.0.2.1\"\n");
    for script in threads {
        file += &format!("\n[[host.thread]]\nscript = '''\n{script}\n'''\n");
    }
    file
}

#[test]
fn a_thread_waits_for_a_name_another_thread_binds() {
    let registry = registry();
    let late = one_host(&[
        "Sleep(20)\nev = WSACreateEvent()\nWSASetEvent(ev) == TRUE",
        "WaitForSingleObject(ev, 1000) == 0",
    ]);
    let outcome = registry
        .parse("late.toml", &late)
        .expect("valid")
        .run(&registry, run_as(0, TraceKept::Records), "-")
        .expect("passes");
    let trace = outcome.trace_text();
    assert!(trace.lines().any(|l| l.contains(" a/t1 ") && l.contains(" Sleep(1)")), "{trace}");
}

#[test]
fn a_failure_in_any_thread_ends_the_run_at_once() {
    let registry = registry();
    let source = one_host(&["Sleep(5000)", "ev = WSACreateEvent()\nWSASetEvent(ev) == FALSE"]);
    let failure = registry
        .parse("t.toml", &source)
        .expect("valid")
        .run(&registry, run_as(0, TraceKept::Nothing), "-")
        .expect_err("fails");
    assert_eq!(
        failure.kind(),
        &wsasim::FailureKind::Panic {
            thread: "a/t1".into(),
            message: "t.toml:13:1: `WSASetEvent(ev) == FALSE` gave 1, error 0".into()
        }
    );
    assert!(failure.elapsed() < std::time::Duration::from_millis(1), "{:?}", failure.elapsed());
}

#[test]
fn sends_leave_their_buffers_as_they_were() {
    let registry = registry();
    let source = one_host(&[r#"WSAStartup() == 0
s = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP)
bind(s, "192.0.2.1:9") == 0
ev = WSACreateEvent()
tx = buf("ping")
WSASendTo(s, tx, "192.0.2.1:9", ov(ev)) == 0 or SOCKET_ERROR, WSA_IO_PENDING
WSAWaitForMultipleEvents([ev], FALSE, 1000) == WSA_WAIT_EVENT_0
WSAGetOverlappedResult(s, ov, FALSE) == TRUE, bytes 4
held(tx) == 4, data "ping"
rx = buf(8)
recvfrom(s, rx) == 4, data "ping", from "192.0.2.1:9"
held(rx) == 4, data "ping""#]);
    let scenario = registry.parse("send.toml", &source).expect("valid");
    for seed in 0..20 {
        scenario.run(&registry, run_as(seed, TraceKept::Nothing), "-").unwrap_or_else(|f| panic!("{f}"));
    }
}

fn run_as(seed: u64, kept: TraceKept) -> wsasim_sim::RunAs {
    wsasim_sim::RunAs::seed(seed, kept, Default::default())
}

/// `failing.toml` with a second thread, so that its runs make decisions.
fn failing_with_decisions(dir: &Path) -> PathBuf {
    let source = std::fs::read_to_string("tests/scenarios/failing.toml").unwrap();
    let file = dir.join("failing.toml");
    std::fs::write(&file, format!("{source}\n[[host.thread]]\nscript = \"Sleep(0)\\nSleep(0)\"\n")).unwrap();
    file
}

#[test]
fn run_takes_a_strategy_writes_the_failing_schedule_and_replay_reproduces_it() {
    let dir = scratch("schedules");
    let file = failing_with_decisions(&dir);
    let file = file.to_str().unwrap();
    let schedules = dir.join("s");
    let report = dir.join("report.json");
    let (code, out, _) = wsasim(&[
        "run",
        file,
        "--strategy",
        "pct:2",
        "--no-shrink",
        "--schedules",
        schedules.to_str().unwrap(),
        "--report",
        &format!("json={}", report.display()),
    ]);
    assert_eq!(code, 1, "{out}");
    let replay = out.lines().find_map(|l| l.trim().strip_prefix("replay: ")).expect("a replay line");
    assert!(replay.starts_with(&format!("{BIN} replay {file} --seed 0 --strategy pct:2:")), "{out}");
    let name = file.trim_end_matches(".toml").replace('/', "__");
    let written = schedules.join(format!("{name}-seed0.schedule"));
    assert!(out.contains(&format!("    schedule: {}", written.display())), "{out}");
    let by_schedule = format!("{BIN} replay {file} --schedule {}", written.display());
    assert!(out.contains(&format!("    replay the schedule: {by_schedule}")), "{out}");
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(json["scenarios"][0]["results"][0]["schedule"], written.display().to_string());

    let args: Vec<&str> = replay.split(' ').skip(1).collect();
    let (code, by_seed, _) = wsasim(&args);
    assert_eq!(code, 1);
    let args: Vec<&str> = by_schedule.split(' ').skip(1).collect();
    let (code, replayed, err) = wsasim(&args);
    assert_eq!(code, 1, "{err}");
    // The same trace, with the choices that deviate from the default marked.
    assert!(replayed.contains("  <- deviation 1 of "), "{replayed}");
    let unmarked: Vec<&str> = replayed.lines().map(|l| l.split("  <- deviation ").next().unwrap()).collect();
    assert_eq!(unmarked, by_seed.lines().collect::<Vec<_>>(), "the schedule and the seed give one trace");

    // A schedule edited so that it no longer fits is refused, naming the decision.
    let text = std::fs::read_to_string(&written).unwrap();
    assert!(text.contains("run=") && text.contains("/2"), "{text}");
    let edited = dir.join("edited.schedule");
    std::fs::write(&edited, text.replacen("/2", "/3", 1)).unwrap();
    let (code, _, err) = wsasim(&["replay", file, "--schedule", edited.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("the schedule does not fit the run: decision "), "{err}");
    assert!(err.contains("among 2, the schedule has ") && err.contains(" among 3"), "{err}");
    std::fs::write(&edited, "wsasim schedule 1\nseed 0\nstrategy random\nrun=x\n").unwrap();
    let (code, _, err) = wsasim(&["replay", file, "--schedule", edited.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        err.starts_with(&format!("wsasim: {}:4:1: expected choice=chosen/options", edited.display())),
        "{err}"
    );
}

#[test]
fn swarm_and_file_strategies_reach_the_replay_command_and_bad_ones_are_refused() {
    let dir = scratch("swarm");
    let (code, out, _) =
        wsasim(&["run", "tests/scenarios/failing.toml", "--swarm", "--schedules", dir.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        out.contains(&format!(
            "replay: {BIN} replay tests/scenarios/failing.toml --seed 0 --swarm --run-length "
        )),
        "{out}"
    );
    assert!(out.contains("\n    swarm: strategy "), "the failure names what the seed drew: {out}");
    let file = dir.join("bad.toml");
    let source = std::fs::read_to_string("tests/scenarios/failing.toml").unwrap();
    std::fs::write(&file, source.replace("seeds = 5", "seeds = 5\nstrategy = \"pct:0\"")).unwrap();
    let (code, _, err) = wsasim(&["check", file.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains(":6:12: strategy = \"pct:0\": PCT's depth goes from 1 to 10"), "{err}");
}

#[test]
fn run_hands_back_a_minimised_schedule_that_fails_the_same_way() {
    let dir = scratch("minimised");
    let file = failing_with_decisions(&dir);
    let file = file.to_str().unwrap();
    let schedules = dir.join("s");
    let (code, out, _) = wsasim(&[
        "run",
        file,
        "--seed",
        "3",
        "--strategy",
        "pb:2",
        "--schedules",
        schedules.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{out}");
    let line = out.lines().find_map(|l| l.trim().strip_prefix("minimised: ")).expect("a minimised line");
    let written =
        schedules.join(format!("{}-seed3.schedule", file.trim_end_matches(".toml").replace('/', "__")));
    assert_eq!(line, format!("{BIN} replay {file} --schedule {}", written.display()));
    assert!(out.contains(" deviations from the default schedule of "), "{out}");
    let schedule: wsasim::Schedule = std::fs::read_to_string(&written).unwrap().parse().unwrap();
    assert_eq!(schedule.seed, 3);
    let args: Vec<&str> = line.split(' ').skip(1).collect();
    let (code, _, err) = wsasim(&args);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("`WSAGetOverlappedResult(s, ov, FALSE) == TRUE, bytes 8` gave 0"),
        "the same failure: {err}"
    );
}

#[test]
fn a_closed_output_pipe_stops_the_printing_not_the_run() {
    // `wsasim run scenarios/ | head -0`: the reader is gone before anything is written.
    let dir = scratch("pipe");
    let report = dir.join("r.json");
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let status = Command::new(env!("CARGO_BIN_EXE_wsasim"))
        .args(["run", "scenarios/tcp/echo.toml", "--report", &format!("json={}", report.display())])
        .stdout(writer)
        .status()
        .expect("wsasim runs");
    assert_eq!(status.code(), Some(0), "passed, whatever became of its output");
    assert_eq!(seeds_of(&report).len(), 100, "the report is written");
}

#[test]
fn an_interrupt_stops_the_sweep_and_reports_what_finished() {
    let dir = scratch("interrupt");
    let report = dir.join("r.json");
    let child = Command::new(env!("CARGO_BIN_EXE_wsasim"))
        .args(["run", "scenarios/tcp/echo.toml", "--seeds", "2000000", "--jobs", "1"])
        .args(["--report", &format!("json={}", report.display())])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("wsasim runs");
    std::thread::sleep(std::time::Duration::from_millis(700));
    // SAFETY: signals a child of this test.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let out = child.wait_with_output().expect("it ends");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(130), "{stdout}{stderr}");
    let ran = seeds_of(&report).len();
    assert!(ran > 0 && ran < 2_000_000, "{ran} seeds reported");
    assert!(stderr.contains(&format!("wsasim: interrupted: {ran} of 2000000 seeds ran")), "{stderr}");
    assert!(stdout.contains(&format!("wsasim: {ran} seeds in ")), "{stdout}");
}

#[test]
fn reports_that_cannot_be_written_are_refused_before_anything_runs() {
    let dir = scratch("reports");
    let at = |name: &str| dir.join(name).display().to_string();
    let (code, out, err) = wsasim(&[
        "run",
        "scenarios/tcp/echo.toml",
        "--report",
        &format!("json={}", at("no/such/dir/r.json")),
    ]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.starts_with("wsasim: cannot write the report "), "{err}");
    assert!(out.is_empty(), "nothing ran: {out}");
    let (json, junit) = (format!("json={}", at("r")), format!("junit={}/./r", dir.display()));
    let (code, _, err) = wsasim(&["run", "scenarios/tcp/echo.toml", "--report", &json, "--report", &junit]);
    assert_eq!((code, err.trim_end().ends_with("two reports at one path")), (2, true), "{err}");
    let (second, up) = (format!("json={}", at("s")), format!("junit={}/d/../r", dir.display()));
    std::fs::create_dir(dir.join("d")).unwrap();
    let (code, _, err) = wsasim(&["run", "scenarios/tcp/echo.toml", "--report", &json, "--report", &second]);
    assert_eq!((code, err.trim_end().ends_with("a second report of one kind")), (2, true), "{err}");
    let (code, _, err) = wsasim(&["run", "scenarios/tcp/echo.toml", "--report", &json, "--report", &up]);
    assert_eq!((code, err.trim_end().ends_with("two reports at one path")), (2, true), "{err}");
    assert!(!dir.join("r").exists() && !dir.join("s").exists(), "nothing is left behind");
}

#[test]
fn a_file_named_twice_or_reached_twice_runs_once() {
    let dir = scratch("twice");
    std::os::unix::fs::symlink(std::fs::canonicalize("scenarios/udp").unwrap(), dir.join("udp")).unwrap();
    // A cycle: a link to the folder that holds it.
    std::os::unix::fs::symlink(&*dir, dir.join("again")).unwrap();
    let d = dir.display().to_string();
    let paths =
        ["scenarios/udp/truncation.toml", "./scenarios/udp//truncation.toml", &d, &format!("{d}/udp")];
    let (code, out, err) = wsasim(&[&["run"], &paths[..], &["--seeds", "2"]].concat());
    assert_eq!(code, 0, "{out}{err}");
    let ran: Vec<&str> = out.lines().filter(|l| l.starts_with("ok ")).collect();
    assert_eq!(ran.len(), 2, "truncation.toml and sendto_recvfrom.toml, once each: {ran:?}");
}

#[test]
fn a_script_that_makes_a_buffer_in_a_loop_is_stopped_with_where() {
    let registry = registry();
    let source =
        one_host(&["ev = WSACreateEvent()\nrepeat\nx = buf(16777216)\nuntil WSASetEvent(ev) == FALSE"]);
    let failure = registry
        .parse("loop.toml", &source)
        .expect("valid")
        .run(&registry, run_as(0, TraceKept::Nothing), "-")
        .expect_err("stopped");
    let wsasim::FailureKind::Panic { message, .. } = failure.kind() else { panic!("{failure}") };
    assert!(message.starts_with("loop.toml:9:1: this host's scripts made more than 256 MiB"), "{message}");
}

#[test]
fn zero_seeds_is_an_error_unless_asked_for_and_counts_read_as_english() {
    let (code, _, err) = wsasim(&["run", "scenarios/tcp/echo.toml", "--seeds", "0"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("no seeds to run for scenarios/tcp/echo.toml (--seeds 0); pass --allow-no-seeds"),
        "{err}"
    );
    let (code, out, _) = wsasim(&["run", "scenarios/tcp/echo.toml", "--seeds", "0", "--allow-no-seeds"]);
    assert_eq!(code, 0);
    assert!(out.contains("ok    scenarios/tcp/echo.toml (0 seeds)"), "{out}");

    let (code, _, err) = wsasim(&["run", "scenarios/tcp/echo.toml", "--shard", "3/3", "--seeds", "1"]);
    assert_eq!(code, 2);
    assert!(err.contains("(shard 3/3 gets none of their seeds)"), "{err}");
    let (code, _, _) =
        wsasim(&["run", "scenarios/tcp/echo.toml", "--shard", "3/3", "--seeds", "1", "--allow-no-seeds"]);
    assert_eq!(code, 0);

    let (code, _, err) = wsasim(&["run", "scenarios/tcp/echo.toml", "--jobs", "0"]);
    assert_eq!(code, 2);
    assert!(err.contains("--jobs <N>"), "{err}");

    let (code, out, _) = wsasim(&["run", "scenarios/tcp/echo.toml", "--seed", "3", "--jobs", "1"]);
    assert_eq!(code, 0);
    assert!(out.contains("ok    scenarios/tcp/echo.toml (1 seed)\n"), "{out}");
    assert!(out.contains("wsasim: 1 seed in ") && out.contains(" seeds/s, 1 job)"), "{out}");
    let (code, out, _) = wsasim(&["run", "tests/scenarios/failing.toml", "--seed", "4"]);
    assert_eq!(code, 1);
    assert!(out.contains("FAIL  tests/scenarios/failing.toml (1 of 1 seed failed)"), "{out}");
}

#[test]
fn a_failure_names_a_waits_result_and_an_error_left_by_an_earlier_call() {
    let dir = scratch("named");
    let file = dir.join("timeout.toml");
    let source = std::fs::read_to_string("tests/scenarios/failing.toml").unwrap();
    let source = source.replace(
        "WSAGetOverlappedResult(s, ov, FALSE) == TRUE, bytes 8",
        "WSAWaitForMultipleEvents([ev], FALSE, 10) == WSA_WAIT_EVENT_0",
    );
    std::fs::write(&file, source).unwrap();
    let (code, out, _) = wsasim(&["run", file.to_str().unwrap(), "--seed", "0"]);
    assert_eq!(code, 1);
    assert!(
        out.contains("gave WAIT_TIMEOUT (258), last error WSA_IO_PENDING (997) (left by an earlier call)"),
        "{out}"
    );
    let source = std::fs::read_to_string("tests/scenarios/failing.toml").unwrap();
    let source =
        source.replace("ev = WSACreateEvent()", "ev = WSACreateEvent()\nclosesocket(s) == SOCKET_ERROR");
    std::fs::write(&file, source).unwrap();
    let (code, out, _) = wsasim(&["run", file.to_str().unwrap(), "--seed", "0"]);
    assert_eq!(code, 1);
    assert!(out.contains("`closesocket(s) == SOCKET_ERROR` gave 0, error 0"), "{out}");
    // A call that sets the error it had already is not blamed on an earlier one.
    let source = std::fs::read_to_string("tests/scenarios/failing.toml").unwrap();
    let source = source.replace(
        "WSAGetOverlappedResult(s, ov, FALSE) == TRUE, bytes 8",
        "ev2 = WSACreateEvent()\nWSARecvFrom(s, buf(8), ov(ev2)) == 0",
    );
    std::fs::write(&file, source).unwrap();
    let (code, out, _) = wsasim(&["run", file.to_str().unwrap(), "--seed", "0"]);
    assert_eq!(code, 1);
    assert!(out.contains("gave -1, error WSA_IO_PENDING (997)"), "{out}");
}
