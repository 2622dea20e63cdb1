//! The TOML layout of a scenario file, and where in the file each part was written.

use super::{Diagnostic, Pos};
use serde::Deserialize;
use std::fmt;
use std::ops::Range;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    pub name: Option<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub run: RunSettings,
    #[serde(default)]
    pub network: Network,
    #[serde(default)]
    pub faults: super::faults::FaultsTable,
    #[serde(default)]
    pub host: Vec<Host>,
    pub program: Option<Spanned<String>>,
    #[serde(default)]
    pub params: toml::Table,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSettings {
    pub seeds: Option<Seeds>,
    pub steps_max: Option<u64>,
    pub time_max_ms: Option<u64>,
    #[serde(default)]
    pub pend_immediate: bool,
    #[serde(default)]
    pub fail_on_leaks: bool,
    /// `random`, `pct:DEPTH[:STEPS]` or `pb:MAX[:STEPS]`.
    pub strategy: Option<Spanned<String>>,
    /// Draw each seed's configuration (`Sim::swarm`).
    #[serde(default)]
    pub swarm: bool,
    /// Under swarm settings, the loss, duplication and reordering each seed draws on
    /// every link, each up to this probability (`Swarm::faults`).
    pub swarm_faults: Option<Spanned<f64>>,
    /// Misuses the scenario makes on purpose (`Sim::allow`), by name.
    #[serde(default)]
    pub allow: Vec<Spanned<String>>,
    /// The misuse every seed must make (`Sim::expect_misuse`), by name.
    pub expect_misuse: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// The latency of every link, `[min, max]` in microseconds.
    pub latency_us: Option<Spanned<[u64; 2]>>,
    /// How far apart the hosts start, in microseconds (`Sim::start_spread`; 0: together).
    pub start_spread_us: Option<Spanned<u64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Host {
    pub name: Spanned<String>,
    pub address: Spanned<String>,
    #[serde(default)]
    pub role: Role,
    #[serde(default)]
    pub thread: Vec<Thread>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Its main thread must return.
    #[default]
    Client,
    /// Stopped once every client has finished.
    Server,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thread {
    pub name: Option<Spanned<String>>,
    pub script: Spanned<String>,
}

/// The seeds a scenario runs: `seeds = 100` (0 to 99) or `seeds = "10..20"` (10 to 19).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seeds(pub Range<u64>);

impl Default for Seeds {
    fn default() -> Seeds {
        Seeds(0..100)
    }
}

impl<'de> Deserialize<'de> for Seeds {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Seeds, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Seeds;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "a count of seeds (such as 100) or a range (such as \"10..20\")")
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Seeds, E> {
                match u64::try_from(n) {
                    Ok(n) if n > 0 => Ok(Seeds(0..n)),
                    _ => Err(E::invalid_value(serde::de::Unexpected::Signed(n), &self)),
                }
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Seeds, E> {
                parse_range(s).ok_or_else(|| E::invalid_value(serde::de::Unexpected::Str(s), &self))
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// `"A..B"`, with `A < B`.
pub fn parse_range(s: &str) -> Option<Seeds> {
    let (a, b) = s.split_once("..")?;
    let (a, b): (u64, u64) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
    (a < b).then_some(Seeds(a..b))
}

/// Reads the TOML layout, or says where and why it is not one.
pub fn parse(path: &str, source: &str) -> Result<File, Diagnostic> {
    toml::from_str(source).map_err(|e| {
        let pos = e.span().map_or(Pos { line: 1, col: 1 }, |s| SourceMap::new(source).position(s.start));
        Diagnostic::new(path, pos, e.message().trim_end().to_owned())
    })
}

/// Turns byte offsets of a file into lines and columns. Made once per file, so that a
/// position costs a search and at most a block of counting, however many hosts ask.
#[derive(Debug)]
pub struct SourceMap<'a> {
    source: &'a str,
    /// The offset of each line's first byte.
    line_starts: Vec<usize>,
    /// The characters before each block of `BLOCK` bytes.
    block_chars: Vec<u32>,
}

const BLOCK: usize = 256;

impl<'a> SourceMap<'a> {
    pub fn new(source: &'a str) -> SourceMap<'a> {
        let bytes = source.as_bytes();
        let line_starts = std::iter::once(0)
            .chain(bytes.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| i + 1))
            .collect();
        let mut block_chars = vec![0];
        for block in bytes.chunks(BLOCK) {
            block_chars.push(block_chars.last().expect("starts with one") + chars_in(block));
        }
        SourceMap { source, line_starts, block_chars }
    }

    /// The line and column of a byte offset (the end of the file for one past it). The
    /// `\n` of a `\r\n` is where the line ends, as its `\r` is.
    pub fn position(&self, offset: usize) -> Pos {
        let mut offset = offset.min(self.source.len());
        if self.source[..offset].ends_with('\r') && self.source[offset..].starts_with('\n') {
            offset -= 1;
        }
        let line = self.line_starts.partition_point(|start| *start <= offset);
        let col = self.chars_before(offset) - self.chars_before(self.line_starts[line - 1]) + 1;
        Pos { line: line as u32, col }
    }

    /// The positions of offsets that never decrease, counted on from one to the next.
    pub fn positions(&self, offsets: &[usize]) -> Vec<Pos> {
        let mut at = Vec::with_capacity(offsets.len());
        let Some(&first) = offsets.first() else { return at };
        let (mut pos, mut was) = (self.position(first), first);
        for &offset in offsets {
            let between = &self.source[was..offset];
            match between.rfind('\n') {
                Some(nl) => {
                    pos.line += between.matches('\n').count() as u32;
                    pos.col = chars_in(&between.as_bytes()[nl + 1..]) + 1;
                }
                None => pos.col += chars_in(between.as_bytes()),
            }
            at.push(pos);
            was = offset;
        }
        at
    }

    fn chars_before(&self, offset: usize) -> u32 {
        let block = offset / BLOCK;
        self.block_chars[block] + chars_in(&self.source.as_bytes()[block * BLOCK..offset])
    }
}

/// The characters that start in `bytes` (UTF-8: every byte but a continuation byte).
fn chars_in(bytes: &[u8]) -> u32 {
    bytes.iter().filter(|b| (**b & 0xC0) != 0x80).count() as u32
}

/// The lines of a script string value, each with where each of its bytes is in the file and
/// one past its end (what [`super::script::parse_line`] takes). A basic string's escapes
/// (`\n`, `\u00e9`, a line-ending backslash) are followed, so every position is where its
/// character was written.
pub fn script_lines<'s>(map: &SourceMap, script: &'s Spanned<String>) -> Vec<(&'s str, Vec<Pos>)> {
    let span = script.span();
    let value = script.get_ref();
    let offsets = value_offsets(map.source, span, value);
    let mut lines = Vec::new();
    let mut start = 0;
    for line in value.split_inclusive('\n') {
        let text = line.strip_suffix('\n').unwrap_or(line);
        let text = text.strip_suffix('\r').unwrap_or(text);
        lines.push((text, map.positions(&offsets[start..=start + text.len()])));
        start += line.len();
    }
    lines
}

/// The offset in `source` of each byte of a string value written at `span`, and one past
/// its end. Should the value read differently from what its source gives (it cannot, for
/// the TOML this crate reads), every byte is placed at the string's start.
fn value_offsets(source: &str, span: Range<usize>, value: &str) -> Vec<usize> {
    let raw = &source[span.clone()];
    let quote = ["'''", "\"\"\"", "'", "\""].into_iter().find(|q| raw.starts_with(q)).unwrap_or("");
    let (mut j, end) = (span.start + quote.len(), span.end - quote.len());
    // A newline right after a multi-line string's opening quotes is not part of it.
    if quote.len() == 3 {
        j += ["\r\n", "\n"].into_iter().find(|nl| source[j..].starts_with(nl)).map_or(0, str::len);
    }
    let mut offsets = Vec::with_capacity(value.len() + 1);
    let basic = quote.starts_with('"');
    while j < end {
        let c = source[j..].chars().next().expect("j is inside the string");
        if !(basic && c == '\\') {
            offsets.extend(std::iter::repeat_n(j, c.len_utf8()));
            j += c.len_utf8();
            continue;
        }
        // TOML's escapes: \uXXXX, \UXXXXXXXX, \xXX, a backslash ending a line (which eats
        // the whitespace and newlines after it), and one character for the rest.
        let escape = source[j + 1..].chars().next().unwrap_or(' ');
        let (written, digits) = match escape {
            'u' => (6, 4),
            'U' => (10, 8),
            'x' => (4, 2),
            ' ' | '\t' | '\r' | '\n' => {
                let rest = &source[j + 1..end];
                j += 1 + rest.len() - rest.trim_start_matches([' ', '\t', '\r', '\n']).len();
                continue;
            }
            _ => (2, 0),
        };
        let decoded = match digits {
            0 => 1,
            _ => source
                .get(j + 2..j + 2 + digits)
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .and_then(char::from_u32)
                .map_or(1, char::len_utf8),
        };
        offsets.extend(std::iter::repeat_n(j, decoded));
        j += written;
    }
    offsets.push(end);
    if offsets.len() != value.len() + 1 {
        offsets = vec![span.start; value.len() + 1];
    }
    offsets
}
