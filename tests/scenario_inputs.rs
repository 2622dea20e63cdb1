//! Scenario files as a careless editor or a fuzzer writes them: deep nesting, long lines,
//! many hosts and names, control characters, and 100,000 mutations of the shipped files.
//! Whatever the input, `Registry::parse` answers in time linear in it, never crashes, and
//! every message is one line at a position inside the file.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use wsasim::scenario::{Diagnostic, Registry};

/// Parses `source`, checking every message it gives: one line, no control character, at
/// a line and column the file has.
fn parse(source: &str) -> Result<(), Vec<Diagnostic>> {
    let result = Registry::new().parse("t.toml", source).map(drop);
    if let Err(errors) = &result {
        // A line ends at `\n` or `\r\n`; a lone `\r` is a character of its line.
        let lines: Vec<&str> = source
            .split_inclusive('\n')
            .chain((source.is_empty() || source.ends_with('\n')).then_some(""))
            .collect();
        for e in errors {
            assert!(!e.message.contains(char::is_control), "a control character in {:?}", e.message);
            let line =
                lines.get(e.pos.line as usize - 1).unwrap_or_else(|| panic!("{e}: past the last line"));
            let line = line.strip_suffix("\r\n").or_else(|| line.strip_suffix('\n')).unwrap_or(line);
            assert!(
                (1..=line.chars().count() as u32 + 1).contains(&e.pos.col),
                "{e}: past the end of line {:?}",
                line
            );
        }
    }
    result
}

fn one_host(script: &str) -> String {
    format!("[[host]]\nname = \"a\"\naddress = \"192.0.2.1\"\n[[host.thread]]\nscript = '''\n{script}\n'''\n")
}

fn first_message(source: &str) -> String {
    parse(source).expect_err("refused")[0].to_string()
}

#[test]
fn deep_nesting_is_refused_where_it_goes_too_deep() {
    for (open, close) in [("held([", "])"), ("buf(", ")"), ("[", "]")] {
        let script = format!("x = WSASend(s, {}1{})", open.repeat(20_000), close.repeat(20_000));
        let message = first_message(&one_host(&script));
        assert!(message.contains("nest more than 32 deep"), "{message}");
        assert!(message.starts_with("t.toml:6:"), "{message}");
    }
}

#[test]
fn a_megabyte_line_is_read_once() {
    // 200,000 buffers on one line, the last one unknown: found, at its column.
    let args = vec!["\"é\""; 200_000].join(", ");
    let script = format!("s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP)\nsend(s, [{args}, nobody])");
    let message = first_message(&one_host(&script));
    let col = "send(s, [".len() + args.chars().count() + ", ".len() + 1;
    assert!(
        message.starts_with(&format!("t.toml:7:{col}: ")),
        "{}",
        message.chars().take(80).collect::<String>()
    );
}

#[test]
fn thirty_thousand_hosts_and_sixty_thousand_names_are_checked_in_linear_time() {
    let mut file = String::new();
    for i in 0..30_000u32 {
        let (hi, lo) = (i / 256, i % 256);
        file += &format!(
            "[[host]]\nname = \"h{i}\"\naddress = \"10.0.{hi}.{lo}\"\n[[host.thread]]\nscript = 'Sleep(1)'\n"
        );
    }
    file += "[[host]]\nname = \"h7\"\naddress = \"10.0.0.7\"\n[[host.thread]]\nscript = 'Sleep(1)'\n";
    let errors = parse(&file).expect_err("a name and an address twice");
    let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "t.toml:150002:8: a second host named \"h7\"",
            "t.toml:150003:11: host \"h7\" has the address of host \"h7\"",
        ]
    );
    let names: String =
        (0..60_000).map(|i| format!("e{i} = WSACreateEvent()\nWSASetEvent(e{i})\n")).collect();
    parse(&one_host(&names)).expect("valid");
}

#[test]
fn values_with_newlines_and_escapes_are_shown_escaped_on_one_line() {
    let source = "[run]\nstrategy = \"pct:\\u001b[31m\\nred\"\n[[host]]\nname = \"a\"\naddress = \"192.0.2.1\"\n[[host.thread]]\nscript = 'Sleep(1)'\n";
    let message = first_message(source);
    assert!(message.starts_with("t.toml:2:12: "), "{message}");
    assert!(message.contains("\\u{1b}[31m\\nred"), "{message}");
    // A program's parameter that does not fit: one line, whatever TOML's message ends with.
    let mut registry = Registry::new();
    registry.add("p", |params, _| params.get::<u32>("n", 1).map(drop));
    let errors = registry.parse("p.toml", "program = \"p\"\n[params]\nn = \"two\"\n").expect_err("a text");
    assert_eq!(
        errors[0].to_string(),
        "p.toml:1:11: program \"p\": parameter `n`: invalid type: string \"two\", expected u32"
    );
}

/// Text a careless edit leaves in a scenario file.
const FRAGMENTS: &[&str] = &[
    "[",
    "]",
    "(",
    ")",
    "\"",
    "'''",
    "\"\"\"",
    "\\",
    "\\u00e9",
    "\\x1b",
    "\\n",
    "\n",
    "\r\n",
    "é",
    "\u{1b}",
    "\0",
    "\t",
    "=",
    "==",
    ",",
    "#",
    "buf(",
    "held(",
    "ov(",
    "INFINITE",
    "-1",
    "99999999999999999999",
    "0x",
    "repeat\n",
    "until ",
    "[[host]]\n",
    "[[host.thread]]\n",
    "script = \"",
    "script = '''\n",
    "name = ",
    "address = ",
    "seeds = ",
    "strategy = \"pct:",
    "program = \"echo\"\n",
    "[params]\n",
    "_",
    "|",
    " s",
    "ev",
    " or ",
    "error ",
    "data ",
    "iErrorCode[",
];

/// `source` with one to four random edits.
fn mutate(rng: &mut ChaCha8Rng, source: &str) -> String {
    let mut text = source.to_owned();
    let boundary = |text: &str, mut i: usize| {
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    for _ in 0..rng.random_range(1..=4) {
        let at = boundary(&text, rng.random_range(0..=text.len()));
        let end = boundary(&text, rng.random_range(at..=text.len().min(at + 64)));
        match rng.random_range(0..4) {
            0 => text.insert_str(at, FRAGMENTS[rng.random_range(0..FRAGMENTS.len())]),
            1 => text.replace_range(at..end, ""),
            2 => {
                let copies = text[at..end].repeat(rng.random_range(1..20));
                text.insert_str(at, &copies);
            }
            _ => {
                let c = char::from_u32(rng.random_range(0..0x80)).expect("ASCII");
                let next = text[at..].chars().next().map_or(0, char::len_utf8);
                text.replace_range(at..at + next, c.encode_utf8(&mut [0; 4]));
            }
        }
    }
    text
}

#[test]
fn a_hundred_thousand_mutated_files_are_answered_in_place() {
    let mut sources = Vec::new();
    for dir in ["scenarios", "tests/scenarios"] {
        let mut stack = vec![std::path::PathBuf::from(dir)];
        while let Some(path) = stack.pop() {
            if path.is_dir() {
                stack
                    .extend(std::fs::read_dir(&path).expect("a folder").map(|e| e.expect("an entry").path()));
            } else if path.extension().is_some_and(|e| e == "toml") {
                sources.push(std::fs::read_to_string(&path).expect("a file"));
            }
        }
    }
    sources.sort();
    let mut rng = ChaCha8Rng::seed_from_u64(20);
    let (mut valid, mut refused) = (0, 0);
    for _ in 0..100_000 {
        let source = &sources[rng.random_range(0..sources.len())];
        match parse(&mutate(&mut rng, source)) {
            Ok(()) => valid += 1,
            Err(_) => refused += 1,
        }
    }
    // Both kinds are reached: the edits are neither all harmless nor all fatal.
    assert!(valid > 5_000 && refused > 5_000, "{valid} valid, {refused} refused");
}
