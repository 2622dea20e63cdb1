//! The script syntax of a scenario thread: one statement per line, each a call that reads
//! like the C call, optionally bound to a name and followed by what it must give:
//!
//! ```text
//! ev = WSACreateEvent()
//! WSARecv(s, buf(16), ov(ev)) == SOCKET_ERROR, WSA_IO_PENDING
//! WSAGetOverlappedResult(s, ov, FALSE) == TRUE, bytes 5, data "hello"
//! ```
//!
//! This module only parses; what names and calls mean is checked by `check`.

use super::Pos;
use std::fmt;

/// One line of a script.
#[derive(Debug, Clone)]
pub struct Statement {
    pub pos: Pos,
    /// `name = ...`: the name the call's result is bound to.
    pub bind: Option<Word>,
    pub call: Call,
    /// The alternatives after `==`, any one of which may hold; `None`: unchecked.
    pub expect: Option<Vec<Expectation>>,
}

/// An identifier where it was written: a handle name or a constant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    pub pos: Pos,
}

#[derive(Debug, Clone)]
pub struct Call {
    pub name: Word,
    pub args: Vec<Arg>,
    /// Where the argument list closes, for "too few arguments".
    pub close: Pos,
}

#[derive(Debug, Clone)]
pub struct Arg {
    pub pos: Pos,
    pub kind: ArgKind,
}

#[derive(Debug, Clone)]
pub enum ArgKind {
    Int(i64),
    /// A name or a constant; constants joined by `|` are several.
    Words(Vec<Word>),
    Str(Vec<u8>),
    List(Vec<Arg>),
    Call(Call),
    /// `_`: any value.
    Any,
}

/// One alternative: the return value, then clauses on the last error and outputs.
#[derive(Debug, Clone)]
pub struct Expectation {
    pub value: Arg,
    pub clauses: Vec<Clause>,
}

#[derive(Debug, Clone)]
pub struct Clause {
    pub pos: Pos,
    pub kind: ClauseKind,
}

#[derive(Debug, Clone)]
pub enum ClauseKind {
    /// The last error: `error X`, or `X` alone.
    Error(Arg),
    /// Bytes transferred.
    Bytes(Arg),
    /// The bytes the buffers hold after the call.
    Data(Vec<u8>),
    /// Flags given back (`lpFlags`, `lpdwFlags`, a completion routine's `dwFlags`).
    Flags(Arg),
    /// `lNetworkEvents` of `WSAEnumNetworkEvents`.
    NetworkEvents(Arg),
    /// `iErrorCode[FD_X_BIT]` of `WSAEnumNetworkEvents`.
    ErrorCode { bit: Word, code: Arg },
    /// The peer's address (`accept`, `recvfrom`, `WSARecvFrom`).
    From(Arg),
    /// The value an out-parameter was given (`ioctlsocket`, `getsockopt`).
    Out(Arg),
}

/// A syntax error at a position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub pos: Pos,
    pub message: String,
}

/// A line of a script that is not blank.
#[derive(Debug, Clone)]
pub enum Line {
    Statement(Statement),
    /// `repeat`: the lines up to the matching `until` run again and again...
    Repeat(Pos),
    /// `until call == expectation`: ...until this call gives what it expects.
    Until(Statement),
}

/// Parses one script line; `at` gives where each of its bytes is in the file, and one past
/// its end. A blank line or a comment (`#` to the end of the line) gives
/// `None`.
pub fn parse_line(text: &str, at: &[Pos]) -> Result<Option<Line>, SyntaxError> {
    let tokens = lex(text, at)?;
    if tokens.len() == 1 {
        return Ok(None);
    }
    let mut p = Parser { tokens, at: 0, depth: 0 };
    let line = match p.peek() {
        Tok::Word(w) if w == "repeat" => Line::Repeat(p.next().1),
        Tok::Word(w) if w == "until" => {
            let at = p.next().1;
            let mut statement = p.statement()?;
            statement.pos = at;
            if statement.expect.is_none() {
                return Err(p.unexpected("`==` and what the call must give to end the loop"));
            }
            Line::Until(statement)
        }
        _ => Line::Statement(p.statement()?),
    };
    p.expect(&Tok::End, "the end of the line")?;
    Ok(Some(line))
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Int(i64),
    Str(Vec<u8>),
    Punct(&'static str),
    End,
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Word(w) => write!(f, "`{w}`"),
            Tok::Int(i) => write!(f, "the number {i}"),
            Tok::Str(_) => write!(f, "a string"),
            Tok::Punct(p) => write!(f, "`{p}`"),
            Tok::End => write!(f, "the end of the line"),
        }
    }
}

const PUNCTS: [&str; 9] = ["==", "(", ")", "[", "]", ",", "|", "=", "_"];

fn lex(text: &str, at: &[Pos]) -> Result<Vec<(Tok, Pos)>, SyntaxError> {
    let mut tokens = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let pos = at[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'#' {
            break;
        } else if c.is_ascii_alphabetic() || (c == b'_' && bytes.get(i + 1).is_some_and(|b| is_word(*b))) {
            let end = i + bytes[i..].iter().take_while(|b| is_word(**b)).count();
            tokens.push((Tok::Word(text[i..end].to_owned()), pos));
            i = end;
        } else if c.is_ascii_digit() || (c == b'-' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            let end = i + 1 + bytes[i + 1..].iter().take_while(|b| b.is_ascii_alphanumeric()).count();
            let number = &text[i..end];
            let (negative, digits) = number.strip_prefix('-').map_or((false, number), |d| (true, d));
            let parsed = match digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
                Some(hex) => i64::from_str_radix(hex, 16),
                None => digits.parse::<i64>(),
            };
            let value = parsed.map_err(|_| SyntaxError {
                pos,
                message: format!("`{number}` is not a number (decimal, or hexadecimal after 0x)"),
            })?;
            tokens.push((Tok::Int(if negative { -value } else { value }), pos));
            i = end;
        } else if c == b'"' {
            let (s, end) = string(text, i, at)?;
            tokens.push((Tok::Str(s), pos));
            i = end;
        } else if let Some(p) = PUNCTS.iter().find(|p| text[i..].starts_with(**p)) {
            tokens.push((Tok::Punct(p), pos));
            i += p.len();
        } else {
            let found = text[i..].chars().next().expect("i is inside the text");
            return Err(SyntaxError { pos, message: format!("unexpected character `{found}`") });
        }
    }
    tokens.push((Tok::End, at[text.len()]));
    Ok(tokens)
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// A string literal starting at the quote at `i`: its bytes and the index after it.
/// Escapes: `\\`, `\"`, `\n`, `\r`, `\t`, `\0`, `\xNN`.
fn string(text: &str, i: usize, at: &[Pos]) -> Result<(Vec<u8>, usize), SyntaxError> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut j = i + 1;
    loop {
        match bytes.get(j) {
            None => {
                return Err(SyntaxError { pos: at[i], message: "this string has no closing `\"`".into() });
            }
            Some(b'"') => return Ok((out, j + 1)),
            Some(b'\\') => {
                let escaped = match bytes.get(j + 1) {
                    Some(b'\\') => b'\\',
                    Some(b'"') => b'"',
                    Some(b'n') => b'\n',
                    Some(b'r') => b'\r',
                    Some(b't') => b'\t',
                    Some(b'0') => 0,
                    Some(b'x') => {
                        let hex = text
                            .get(j + 2..j + 4)
                            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
                            .and_then(|h| u8::from_str_radix(h, 16).ok());
                        let byte = hex.ok_or_else(|| SyntaxError {
                            pos: at[j],
                            message: "`\\x` needs two hexadecimal digits".into(),
                        })?;
                        out.push(byte);
                        j += 4;
                        continue;
                    }
                    _ => {
                        return Err(SyntaxError {
                            pos: at[j],
                            message: "unknown escape (expected \\\\, \\\", \\n, \\r, \\t, \\0 or \\xNN)"
                                .into(),
                        });
                    }
                };
                out.push(escaped);
                j += 2;
            }
            Some(_) => {
                let c = text[j..].chars().next().expect("j is inside the text");
                out.extend_from_slice(c.to_string().as_bytes());
                j += c.len_utf8();
            }
        }
    }
}

/// How deep arguments may nest (`[buf(16)]` is two deep): far past any real script, and
/// shallow enough that parsing, checking and running a script never exhaust the stack.
pub const NESTING_MAX: usize = 32;

struct Parser {
    tokens: Vec<(Tok, Pos)>,
    at: usize,
    /// How many arguments enclose the one being parsed.
    depth: usize,
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.tokens[self.at].0
    }

    fn pos(&self) -> Pos {
        self.tokens[self.at].1
    }

    fn next(&mut self) -> (Tok, Pos) {
        let t = self.tokens[self.at].clone();
        if t.0 != Tok::End {
            self.at += 1;
        }
        t
    }

    fn eat(&mut self, punct: &str) -> bool {
        let found = matches!(self.peek(), Tok::Punct(p) if *p == punct);
        if found {
            self.at += 1;
        }
        found
    }

    fn expect(&mut self, tok: &Tok, what: &str) -> Result<(), SyntaxError> {
        if self.peek() == tok {
            self.next();
            Ok(())
        } else {
            Err(self.unexpected(what))
        }
    }

    fn unexpected(&self, expected: &str) -> SyntaxError {
        SyntaxError { pos: self.pos(), message: format!("expected {expected}, found {}", self.peek()) }
    }

    fn word(&mut self, what: &str) -> Result<Word, SyntaxError> {
        match self.peek().clone() {
            Tok::Word(text) => {
                let pos = self.next().1;
                Ok(Word { text, pos })
            }
            _ => Err(self.unexpected(what)),
        }
    }

    fn statement(&mut self) -> Result<Statement, SyntaxError> {
        let pos = self.pos();
        let first = self.word("a call (such as `WSACreateEvent()`) or `name = call`")?;
        let (bind, name) =
            if self.eat("=") { (Some(first), self.word("a call after `=`")?) } else { (None, first) };
        let call = self.call(name)?;
        let expect = if self.eat("==") { Some(self.alternatives()?) } else { None };
        Ok(Statement { pos, bind, call, expect })
    }

    fn call(&mut self, name: Word) -> Result<Call, SyntaxError> {
        self.expect(&Tok::Punct("("), &format!("`(` after the call's name `{}`", name.text))?;
        let mut args = Vec::new();
        let close = loop {
            if matches!(self.peek(), Tok::Punct(")")) {
                break self.next().1;
            }
            args.push(self.arg()?);
            if !self.eat(",") {
                let close = self.pos();
                self.expect(&Tok::Punct(")"), "`,` or `)` in the argument list")?;
                break close;
            }
        };
        Ok(Call { name, args, close })
    }

    fn arg(&mut self) -> Result<Arg, SyntaxError> {
        if self.depth == NESTING_MAX {
            let message = format!(
                "arguments nest more than {NESTING_MAX} deep here: expected at most {NESTING_MAX} levels of lists and calls"
            );
            return Err(SyntaxError { pos: self.pos(), message });
        }
        self.depth += 1;
        let arg = self.arg_within();
        self.depth -= 1;
        arg
    }

    fn arg_within(&mut self) -> Result<Arg, SyntaxError> {
        let pos = self.pos();
        let kind = match self.peek().clone() {
            Tok::Int(i) => {
                self.next();
                ArgKind::Int(i)
            }
            Tok::Str(s) => {
                self.next();
                ArgKind::Str(s)
            }
            Tok::Punct("_") => {
                self.next();
                ArgKind::Any
            }
            Tok::Punct("[") => {
                self.next();
                let mut items = Vec::new();
                while !self.eat("]") {
                    items.push(self.arg()?);
                    if !self.eat(",") {
                        self.expect(&Tok::Punct("]"), "`,` or `]` in the list")?;
                        break;
                    }
                }
                ArgKind::List(items)
            }
            Tok::Word(_) => {
                let first = self.word("a name")?;
                if matches!(self.peek(), Tok::Punct("(")) {
                    ArgKind::Call(self.call(first)?)
                } else {
                    let mut words = vec![first];
                    while self.eat("|") {
                        words.push(self.word("a constant after `|`")?);
                    }
                    ArgKind::Words(words)
                }
            }
            _ => {
                return Err(self.unexpected("an argument (a number, a name, a constant, a string or a list)"));
            }
        };
        Ok(Arg { pos, kind })
    }

    fn alternatives(&mut self) -> Result<Vec<Expectation>, SyntaxError> {
        let mut alternatives = vec![self.expectation()?];
        while matches!(self.peek(), Tok::Word(w) if w == "or") {
            self.next();
            self.eat("==");
            alternatives.push(self.expectation()?);
        }
        Ok(alternatives)
    }

    fn expectation(&mut self) -> Result<Expectation, SyntaxError> {
        let value = self.arg()?;
        let mut clauses = Vec::new();
        while self.eat(",") {
            clauses.push(self.clause()?);
        }
        Ok(Expectation { value, clauses })
    }

    fn clause(&mut self) -> Result<Clause, SyntaxError> {
        let pos = self.pos();
        let keyword = match self.peek() {
            Tok::Word(w) => w.clone(),
            _ => String::new(),
        };
        let kind = match keyword.as_str() {
            "error" | "bytes" | "flags" | "lNetworkEvents" | "from" | "out" => {
                self.next();
                let arg = self.arg()?;
                match keyword.as_str() {
                    "error" => ClauseKind::Error(arg),
                    "bytes" => ClauseKind::Bytes(arg),
                    "flags" => ClauseKind::Flags(arg),
                    "lNetworkEvents" => ClauseKind::NetworkEvents(arg),
                    "from" => ClauseKind::From(arg),
                    _ => ClauseKind::Out(arg),
                }
            }
            "data" => {
                self.next();
                let Tok::Str(s) = self.peek().clone() else {
                    return Err(self.unexpected("a string after `data`"));
                };
                self.next();
                ClauseKind::Data(s)
            }
            "iErrorCode" => {
                self.next();
                self.expect(&Tok::Punct("["), "`[` after `iErrorCode`")?;
                let bit = self.word("an FD_*_BIT constant")?;
                self.expect(&Tok::Punct("]"), "`]`")?;
                ClauseKind::ErrorCode { bit, code: self.arg()? }
            }
            _ => ClauseKind::Error(self.arg().map_err(|_| {
                self.unexpected(
                    "a clause: an error code, `error`, `bytes`, `data`, `flags`, `lNetworkEvents`, \
                     `iErrorCode[..]`, `from` or `out`",
                )
            })?),
        };
        Ok(Clause { pos, kind })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where each byte of `text` is, and one past its end, for text that stands in its file as
    /// it is, its first character at `start`.
    fn columns(text: &str, start: Pos) -> Vec<Pos> {
        let mut col = start.col;
        let mut at = Vec::with_capacity(text.len() + 1);
        for c in text.chars() {
            at.extend(std::iter::repeat_n(Pos { line: start.line, col }, c.len_utf8()));
            col += 1;
        }
        at.push(Pos { line: start.line, col });
        at
    }

    fn parse(text: &str) -> Result<Option<Statement>, SyntaxError> {
        parse_line(text, &columns(text, Pos { line: 1, col: 1 })).map(|line| match line {
            Some(Line::Statement(s)) => Some(s),
            None => None,
            Some(other) => panic!("not a statement: {other:?}"),
        })
    }

    #[test]
    fn repeat_and_until() {
        let line = |text| parse_line(text, &columns(text, Pos { line: 1, col: 1 }));
        assert!(matches!(line("repeat  # again"), Ok(Some(Line::Repeat(_)))));
        assert!(matches!(line("until held(rx) == 5"), Ok(Some(Line::Until(_)))));
        let e = line("until held(rx)").unwrap_err();
        assert!(e.message.contains("`==`"), "{}", e.message);
    }

    #[test]
    fn parses_binding_call_and_alternatives() {
        let s = parse(
            r#"n = WSARecv(s, buf(16), ov(ev)) == 0, bytes 5, data "hi\n" or SOCKET_ERROR, WSA_IO_PENDING"#,
        )
        .unwrap()
        .unwrap();
        assert_eq!(s.bind.unwrap().text, "n");
        assert_eq!(s.call.name.text, "WSARecv");
        assert_eq!(s.call.args.len(), 3);
        assert!(matches!(&s.call.args[1].kind, ArgKind::Call(c) if c.name.text == "buf"));
        let alts = s.expect.unwrap();
        assert_eq!(alts.len(), 2);
        assert!(matches!(&alts[0].clauses[1].kind, ClauseKind::Data(d) if d == b"hi\n"));
        assert!(matches!(&alts[1].clauses[0].kind, ClauseKind::Error(_)));
    }

    #[test]
    fn comments_and_blank_lines_are_nothing() {
        assert!(parse("   # a comment").unwrap().is_none());
        assert!(parse("").unwrap().is_none());
    }

    #[test]
    fn errors_point_at_the_column() {
        let e = parse("WSASetEvent(ev,, 1)").unwrap_err();
        assert_eq!(e.pos.col, 16);
        assert!(e.message.contains("expected an argument"), "{}", e.message);
        let e = parse("x = \"open").unwrap_err();
        assert_eq!(e.pos.col, 5);
    }

    #[test]
    fn a_clause_keyword_needs_its_value() {
        let e = parse("WSARecv(s, rx, ov(ev)) == 0, data").unwrap_err();
        assert_eq!(
            (e.pos.col, e.message.as_str()),
            (34, "expected a string after `data`, found the end of the line")
        );
        assert!(parse(r#"WSASend(s, "\x+f", ov(ev))"#).is_err());
    }

    #[test]
    fn nesting_is_bounded_where_it_goes_too_deep() {
        let deep = |n: usize| format!("WSASend(s, {}{})", "[".repeat(n), "]".repeat(n));
        assert!(parse(&deep(NESTING_MAX)).is_ok());
        for n in [NESTING_MAX + 1, 100_000] {
            let e = parse(&deep(n)).unwrap_err();
            let col = "WSASend(s, ".len() + NESTING_MAX + 1;
            assert_eq!(e.pos.col as usize, col, "{}", e.message);
            assert!(e.message.contains("nest more than 32 deep"), "{}", e.message);
        }
        let e = parse(&format!("x = held({}1{})", "buf(".repeat(50), ")".repeat(50))).unwrap_err();
        assert!(e.message.contains("nest"), "{}", e.message);
    }

    #[test]
    fn positions_come_from_where_each_byte_is() {
        let line = "f(\"é\", @)";
        let e = lex(line, &columns(line, Pos { line: 3, col: 5 })).unwrap_err();
        assert_eq!(e.pos, Pos { line: 3, col: 12 });
        // A line whose bytes are elsewhere (a basic string's escapes): each token where its
        // first byte is, the end where the line ends.
        let line = "f(x)";
        let at: Vec<Pos> = (0..=line.len() as u32).map(|i| Pos { line: 2 + i, col: 7 * i + 1 }).collect();
        let tokens = lex(line, &at).unwrap();
        let cols: Vec<u32> = tokens.iter().map(|(_, p)| p.col).collect();
        assert_eq!(cols, [1, 8, 15, 22, 29]);
    }

    #[test]
    fn flags_and_hex_and_negative_numbers() {
        let s = parse("WSAEventSelect(s, ev, FD_READ | FD_CLOSE) == -1 or 0x10").unwrap().unwrap();
        assert!(matches!(&s.call.args[2].kind, ArgKind::Words(w) if w.len() == 2));
        let alts = s.expect.unwrap();
        assert!(matches!(alts[0].value.kind, ArgKind::Int(-1)));
        assert!(matches!(alts[1].value.kind, ArgKind::Int(16)));
    }
}
