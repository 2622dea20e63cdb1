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
        let pos = e.span().map_or(Pos { line: 1, col: 1 }, |s| position(source, s.start));
        Diagnostic::new(path, pos, e.message().trim_end().to_owned())
    })
}

/// The line and column of a byte offset.
pub fn position(source: &str, offset: usize) -> Pos {
    let before = &source[..offset.min(source.len())];
    let line = before.matches('\n').count() as u32 + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Pos { line, col: before[line_start..].chars().count() as u32 + 1 }
}

/// The lines of a script string value, each with the position of its first character.
/// Exact for literal strings (`'''...'''`); in basic strings (`"""..."""`), an escape
/// before a point on its line shifts that point's column.
pub fn script_lines<'a>(source: &str, script: &'a Spanned<String>) -> Vec<(&'a str, Pos)> {
    let span = script.span();
    let raw = &source[span.clone()];
    let quote = ["'''", "\"\"\"", "'", "\""].into_iter().find(|q| raw.starts_with(q)).unwrap_or("");
    let mut content = span.start + quote.len();
    if quote.len() == 3 {
        if source[content..].starts_with("\r\n") {
            content += 2;
        } else if source[content..].starts_with('\n') {
            content += 1;
        }
    }
    let first = position(source, content);
    script
        .get_ref()
        .lines()
        .enumerate()
        .map(|(i, text)| {
            let col = if i == 0 { first.col } else { 1 };
            (text, Pos { line: first.line + i as u32, col })
        })
        .collect()
}
