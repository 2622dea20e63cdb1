//! Checks a scenario file before anything runs, and turns it into the plan the interpreter
//! follows: every call known and given the right number and kinds of arguments, every name
//! bound somewhere on its host, every constant and address valid, every clause one its call
//! gives.

use super::calls::{self, F, Kind, Ret, Signature, clause};
use super::file::{self, File, Role};
use super::script::{self, Arg, ArgKind, Call, ClauseKind, Line, Statement, Word};
use super::{Diagnostic, Pos};
use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::Arc;

/// The largest buffer a script may make: 16 MiB.
const BUF_MAX: i64 = 1 << 24;

/// A checked script scenario: what each host's threads do.
#[derive(Debug, Clone)]
pub struct Plan {
    pub hosts: Vec<Arc<HostPlan>>,
}

#[derive(Debug, Clone)]
pub struct HostPlan {
    pub name: String,
    pub address: String,
    pub role: Role,
    /// The names the host's scripts bind, indexed by [`Val::Slot`], each with the thread
    /// that binds it.
    pub slots: Vec<(String, usize)>,
    pub threads: Vec<ThreadPlan>,
}

#[derive(Debug, Clone)]
pub struct ThreadPlan {
    /// The script's own name for the thread, if it gave one.
    pub name: Option<String>,
    pub actions: Vec<Action>,
}

#[derive(Debug, Clone)]
pub enum Action {
    Step(Step),
    /// `repeat` ... `until`: `body`, then `until`, again until `until` gives what it expects.
    Repeat {
        body: Vec<Action>,
        until: Step,
    },
}

/// One statement, resolved.
#[derive(Debug, Clone)]
pub struct Step {
    /// `file:line:col` of the statement.
    pub at: String,
    pub source: String,
    pub f: F,
    pub args: Vec<Val>,
    pub bind: Option<usize>,
    pub expect: Option<Vec<Expect>>,
}

/// An argument, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Val {
    Int(i64),
    /// A named handle, buffer or overlapped.
    Slot(usize),
    Bytes(Vec<u8>),
    Addr(SocketAddrV4),
    List(Vec<Val>),
    /// `buf(..)`, `ov(..)` or a string given as a buffer: made when the call runs, and
    /// bound to the slot named after it (`buf`, `ov`) if any.
    New {
        f: F,
        args: Vec<Val>,
        slot: Option<usize>,
    },
    Routine,
}

/// One alternative of what a call must give; `None` fields are not checked.
#[derive(Debug, Clone, Default)]
pub struct Expect {
    pub value: Option<i64>,
    pub error: Option<i64>,
    pub bytes: Option<i64>,
    pub data: Option<Vec<u8>>,
    pub flags: Option<i64>,
    pub events: Option<i64>,
    /// `iErrorCode[bit] == code`.
    pub codes: Vec<(usize, i64)>,
    pub from: Option<SocketAddrV4>,
    pub out: Option<i64>,
}

/// Checks every host of a script scenario; all problems are reported, not only the first.
pub fn plan(path: &str, source: &str, file: &File) -> Result<Plan, Vec<Diagnostic>> {
    let mut c = Checker { path, map: file::SourceMap::new(source), errors: Vec::new() };
    let mut hosts = Vec::new();
    let (mut names, mut addresses) = (BTreeSet::new(), BTreeMap::new());
    for host in &file.host {
        let name = host.name.get_ref();
        let name_at = c.at(host.name.span().start);
        if name.is_empty() || !name.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_') {
            c.error(name_at, format!("host name {name:?}: expected letters, digits, `-` or `_`"));
        } else if name.len() > 63 {
            // `Sim::host`'s bound: a DNS label's (RFC 1035 2.3.4).
            c.error(name_at, format!("host name {name:?}: expected at most 63 characters"));
        }
        let address_at = c.at(host.address.span().start);
        let address = match host.address.get_ref().parse::<Ipv4Addr>() {
            Ok(a) if a.is_loopback() || a.is_unspecified() || a.is_broadcast() || a.is_multicast() => {
                c.error(address_at, format!("host address {a}: expected a unicast address, not loopback, unspecified, broadcast or multicast"));
                None
            }
            Ok(a) => Some(a),
            Err(_) => {
                c.error(
                    address_at,
                    format!(
                        "host address {:?}: expected an IPv4 address such as \"192.0.2.1\"",
                        host.address.get_ref()
                    ),
                );
                None
            }
        };
        if !names.insert(name) {
            c.error(name_at, format!("a second host named {name:?}"));
        }
        if let Some(a) = address {
            match addresses.get(&a) {
                Some(other) => {
                    c.error(address_at, format!("host {name:?} has the address of host {other:?}"))
                }
                None => _ = addresses.insert(a, name),
            }
        }
        if host.thread.is_empty() {
            c.error(name_at, format!("host {name:?} has no thread: expected at least one [[host.thread]]"));
        }
        hosts.push(Arc::new(c.host(host)));
    }
    if !file.host.is_empty() && file.host.iter().all(|h| h.role == Role::Server) {
        c.error(c.at(file.host[0].name.span().start), "no host is a client: expected at least one host with role = \"client\", whose threads must finish".into());
    }
    if c.errors.is_empty() { Ok(Plan { hosts }) } else { Err(c.errors) }
}

struct Checker<'a> {
    path: &'a str,
    map: file::SourceMap<'a>,
    errors: Vec<Diagnostic>,
}

/// A host's names: what each is bound to, and where first.
#[derive(Default)]
struct Names {
    /// What each name holds, where it is first bound, by which thread, and its slot.
    kinds: BTreeMap<String, (Ret, Pos, usize, usize)>,
    /// The names by slot.
    order: Vec<String>,
}

impl Names {
    fn slot(&self, name: &str) -> Option<usize> {
        self.kinds.get(name).map(|k| k.3)
    }
}

impl Checker<'_> {
    fn at(&self, offset: usize) -> Pos {
        self.map.position(offset)
    }

    fn error(&mut self, pos: Pos, message: String) {
        self.errors.push(Diagnostic::new(self.path, pos, message));
    }

    fn host(&mut self, host: &file::Host) -> HostPlan {
        let mut threads = Vec::new();
        for thread in &host.thread {
            let name = thread.name.as_ref().map(|n| n.get_ref().clone());
            let mut lines = Vec::new();
            for (text, at) in file::script_lines(&self.map, &thread.script) {
                match script::parse_line(text, &at) {
                    Ok(Some(line)) => lines.push((line, text.trim().to_owned())),
                    Ok(None) => {}
                    Err(e) => self.error(e.pos, e.message),
                }
            }
            threads.push((name, lines));
        }
        let mut names = Names::default();
        for (thread, (_, lines)) in threads.iter().enumerate() {
            for (line, _) in lines {
                if let Line::Statement(s) | Line::Until(s) = line {
                    self.bindings(s, thread, &mut names);
                }
            }
        }
        let threads = threads
            .into_iter()
            .map(|(name, lines)| ThreadPlan { name, actions: self.actions(&lines, &names) })
            .collect();
        HostPlan {
            name: host.name.get_ref().clone(),
            address: host.address.get_ref().clone(),
            role: host.role,
            slots: names.order.iter().map(|n| (n.clone(), names.kinds[n].2)).collect(),
            threads,
        }
    }

    /// The steps of a thread, with `repeat` ... `until` blocks nested.
    fn actions(&mut self, lines: &[(Line, String)], names: &Names) -> Vec<Action> {
        let mut open: Vec<(Pos, Vec<Action>)> = Vec::new();
        let mut actions = Vec::new();
        for (line, source) in lines {
            match line {
                Line::Statement(s) => {
                    if let Some(step) = self.step(s, source, names) {
                        open.last_mut().map_or(&mut actions, |(_, body)| body).push(Action::Step(step));
                    }
                }
                Line::Repeat(pos) => open.push((*pos, Vec::new())),
                Line::Until(s) => {
                    let Some((_, body)) = open.pop() else {
                        self.error(s.pos, "`until` without a `repeat` before it".into());
                        continue;
                    };
                    if let Some(until) = self.step(s, source, names) {
                        open.last_mut().map_or(&mut actions, |(_, b)| b).push(Action::Repeat { body, until });
                    }
                }
            }
        }
        for (pos, _) in open {
            self.error(
                pos,
                "this `repeat` has no `until`: expected a line `until call == ...` after its body".into(),
            );
        }
        actions
    }

    /// Records the names a statement binds: its own `name =`, and the `buf`/`ov` of calls in
    /// its arguments.
    fn bindings(&mut self, s: &Statement, thread: usize, names: &mut Names) {
        let mut bind = |c: &mut Checker, word: &Word, ret: Ret| {
            if calls::constant(&word.text).is_some() || word.text == calls::ROUTINE {
                return c.error(word.pos, format!("`{}` is a constant: expected a new name", word.text));
            }
            match names.kinds.get(&word.text) {
                // One binder per name: two threads rebinding a name (or an inline `ov`)
                // would race, each using the other's.
                Some((_, first, binder, _)) if *binder != thread => c.error(
                    word.pos,
                    format!(
                        "`{}` is bound by another thread of this host too (line {}): a name is bound by one thread; give each its own",
                        word.text, first.line
                    ),
                ),
                Some((kind, first, _, _)) if *kind != ret => c.error(
                    word.pos,
                    format!(
                        "`{}` was bound to {} at line {}: a name holds one kind of thing, not {}",
                        word.text,
                        kind.noun(),
                        first.line,
                        ret.noun()
                    ),
                ),
                Some(_) => {}
                None => {
                    names.kinds.insert(word.text.clone(), (ret, word.pos, thread, names.order.len()));
                    names.order.push(word.text.clone());
                }
            }
        };
        if let (Some(word), Some(sig)) = (&s.bind, calls::signature(&s.call.name.text)) {
            match sig.ret {
                Ret::Int | Ret::Void => self.error(
                    word.pos,
                    format!(
                        "`{}` gives {}: only handles, buffers and overlapped can be named",
                        sig.name,
                        sig.ret.noun()
                    ),
                ),
                ret => bind(self, word, ret),
            }
        }
        fn nested(c: &mut Checker, args: &[Arg], bind: &mut dyn FnMut(&mut Checker, &Word, Ret)) {
            for arg in args {
                match &arg.kind {
                    ArgKind::Call(call) => {
                        if let Some(sig) =
                            calls::signature(&call.name.text).filter(|s| matches!(s.f, F::Buf | F::Ov))
                        {
                            bind(c, &call.name, sig.ret);
                        }
                        nested(c, &call.args, bind);
                    }
                    ArgKind::List(items) => nested(c, items, bind),
                    _ => {}
                }
            }
        }
        nested(self, &s.call.args, &mut bind);
    }

    fn step(&mut self, s: &Statement, source: &str, names: &Names) -> Option<Step> {
        let before = self.errors.len();
        let (sig, args) = self.call(&s.call, names, true)?;
        let bind = s.bind.as_ref().and_then(|w| names.slot(&w.text));
        let expect = s.expect.as_ref().map(|alts| alts.iter().map(|e| self.expect(sig, e)).collect());
        (self.errors.len() == before).then(|| Step {
            at: Diagnostic::new(self.path, s.pos, String::new()).location(),
            source: source.to_owned(),
            f: sig.f,
            args,
            bind,
            expect,
        })
    }

    fn call(
        &mut self,
        call: &Call,
        names: &Names,
        statement: bool,
    ) -> Option<(&'static Signature, Vec<Val>)> {
        let Some(sig) = calls::signature(&call.name.text) else {
            self.error(
                call.name.pos,
                format!("unknown call `{}`: expected a call listed in docs/scenarios.md", call.name.text),
            );
            return None;
        };
        if !statement && !matches!(sig.f, F::Buf | F::Ov) {
            self.error(
                call.name.pos,
                format!("`{}` cannot be an argument: only `buf(..)` and `ov(..)` can", sig.name),
            );
            return None;
        }
        let given = call.args.len();
        if given < sig.required || given > sig.params.len() {
            let expected = if sig.required == sig.params.len() {
                format!("{}", sig.required)
            } else {
                format!("{} to {}", sig.required, sig.params.len())
            };
            let pos = call.args.get(sig.params.len()).map_or(call.close, |a| a.pos);
            self.error(pos, format!("`{}` takes {expected} argument(s), found {given}", sig.name));
            return None;
        }
        let args = sig
            .params
            .iter()
            .zip(&call.args)
            .map(|(kind, arg)| self.arg(*kind, arg, names))
            .collect::<Option<_>>()?;
        Some((sig, args))
    }

    fn arg(&mut self, kind: Kind, arg: &Arg, names: &Names) -> Option<Val> {
        let expected = match kind {
            Kind::Int => "a number or a constant",
            Kind::Socket => "a socket",
            Kind::Event => "an event or NULL",
            Kind::Handle => "an event or a socket",
            Kind::Handles => "a list of handles such as [ev]",
            Kind::Buffers => "a buffer: a buffer's name, buf(..), a string, or a list of those",
            Kind::Overlapped => "an overlapped: ov(..), an overlapped's name, or NULL",
            Kind::Addr => "an address such as \"192.0.2.1:7\"",
            Kind::Routine => "`routine` or NULL",
            Kind::BufInit => "a size or a string",
        };
        let val = match (&arg.kind, kind) {
            (ArgKind::Int(i), Kind::BufInit) => return self.buf_size(arg.pos, *i, &i.to_string()),
            (ArgKind::Int(i), Kind::Int | Kind::Socket | Kind::Event | Kind::Handle) => Some(Val::Int(*i)),
            (ArgKind::Str(s), Kind::BufInit) => Some(Val::Bytes(s.clone())),
            (ArgKind::Str(s), Kind::Buffers) => {
                Some(Val::New { f: F::Buf, args: vec![Val::Bytes(s.clone())], slot: None })
            }
            (ArgKind::Str(s), Kind::Addr) => {
                match std::str::from_utf8(s).ok().and_then(|t| t.parse().ok()) {
                    Some(a) => Some(Val::Addr(a)),
                    None => {
                        let text = String::from_utf8_lossy(s);
                        self.error(arg.pos, format!("bad address {text:?}: expected an IPv4 address and port such as \"192.0.2.1:7\""));
                        return None;
                    }
                }
            }
            (ArgKind::List(items), Kind::Handles) => Some(Val::List(
                items.iter().map(|i| self.arg(Kind::Handle, i, names)).collect::<Option<_>>()?,
            )),
            (ArgKind::List(items), Kind::Buffers) => {
                let vals: Vec<Val> =
                    items.iter().map(|i| self.arg(Kind::Buffers, i, names)).collect::<Option<_>>()?;
                if vals.iter().any(|v| matches!(v, Val::List(_))) {
                    self.error(arg.pos, "a list of buffers cannot hold a list".into());
                    return None;
                }
                Some(Val::List(vals))
            }
            (ArgKind::Call(call), Kind::Buffers | Kind::Overlapped) => {
                let (sig, args) = self.call(call, names, false)?;
                let fits = (sig.f == F::Buf) == (kind == Kind::Buffers);
                fits.then(|| Val::New { f: sig.f, args, slot: names.slot(sig.name) })
            }
            (ArgKind::Words(words), _) if words.len() == 1 => {
                return self.word(kind, &words[0], names, expected);
            }
            (ArgKind::Words(words), Kind::Int) => {
                let mut value = 0;
                for w in words {
                    match calls::constant(&w.text) {
                        Some(v) => value |= v,
                        None => {
                            self.error(
                                w.pos,
                                format!("`{}` is not a constant: expected a constant after `|`", w.text),
                            );
                            return None;
                        }
                    }
                }
                Some(Val::Int(value))
            }
            _ => None,
        };
        if val.is_none() {
            self.error(arg.pos, format!("expected {expected}, found {}", describe(arg)));
        }
        val
    }

    /// `buf(size)`, the size given as a number or a constant (`buf(INFINITE)` too).
    fn buf_size(&mut self, pos: Pos, size: i64, written: &str) -> Option<Val> {
        if (0..=BUF_MAX).contains(&size) {
            return Some(Val::Int(size));
        }
        let is = if written == size.to_string() { String::new() } else { format!(" is {size} bytes") };
        self.error(pos, format!("buf({written}){is}: expected a size from 0 to {BUF_MAX} bytes"));
        None
    }

    fn word(&mut self, kind: Kind, w: &Word, names: &Names, expected: &str) -> Option<Val> {
        if w.text == calls::ROUTINE && kind == Kind::Routine {
            return Some(Val::Routine);
        }
        if w.text == calls::NULL
            && matches!(kind, Kind::Event | Kind::Overlapped | Kind::Routine | Kind::Handle)
        {
            return Some(Val::Int(0));
        }
        if let Some(v) = calls::constant(&w.text) {
            if kind == Kind::BufInit {
                return self.buf_size(w.pos, v, &w.text);
            }
            if matches!(kind, Kind::Int | Kind::Socket | Kind::Event | Kind::Handle) {
                return Some(Val::Int(v));
            }
            self.error(w.pos, format!("expected {expected}, found the constant `{}`", w.text));
            return None;
        }
        if matches!(kind, Kind::Int | Kind::BufInit) {
            self.error(
                w.pos,
                format!("unknown constant `{}`: expected {expected} (see docs/scenarios.md)", w.text),
            );
            return None;
        }
        let Some((ret, ..)) = names.kinds.get(&w.text) else {
            self.error(
                w.pos,
                format!(
                    "unknown handle `{}`: no statement on this host binds it (`{} = ...`)",
                    w.text, w.text
                ),
            );
            return None;
        };
        let fits = match kind {
            Kind::Socket => *ret == Ret::Socket,
            Kind::Event => *ret == Ret::Event,
            Kind::Handle => matches!(ret, Ret::Event | Ret::Socket),
            Kind::Buffers => *ret == Ret::Buffer,
            Kind::Overlapped => *ret == Ret::Overlapped,
            _ => false,
        };
        if !fits {
            self.error(w.pos, format!("expected {expected}, found `{}`, which is {}", w.text, ret.noun()));
            return None;
        }
        Some(Val::Slot(names.slot(&w.text).expect("a bound name has a slot")))
    }

    fn expect(&mut self, sig: &Signature, e: &script::Expectation) -> Expect {
        let mut x = Expect::default();
        if sig.ret == Ret::Void {
            self.error(e.value.pos, format!("`{}` gives nothing to compare", sig.name));
        }
        x.value = self.value(&e.value);
        for c in &e.clauses {
            let needs = match &c.kind {
                ClauseKind::Error(_) => 0,
                ClauseKind::Bytes(_) => clause::BYTES,
                ClauseKind::Data(_) => clause::DATA,
                ClauseKind::Flags(_) => clause::FLAGS,
                ClauseKind::NetworkEvents(_) | ClauseKind::ErrorCode { .. } => clause::EVENTS,
                ClauseKind::From(_) => clause::FROM,
                ClauseKind::Out(_) => clause::OUT,
            };
            if needs != 0 && sig.clauses & needs == 0 {
                self.error(
                    c.pos,
                    format!("bad expectation: `{}` gives no `{}`", sig.name, calls::clause_name(needs)),
                );
                continue;
            }
            match &c.kind {
                ClauseKind::Error(a) => x.error = self.value(a),
                ClauseKind::Bytes(a) => x.bytes = self.value(a),
                ClauseKind::Data(d) => x.data = Some(d.clone()),
                ClauseKind::Flags(a) => x.flags = self.value(a),
                ClauseKind::NetworkEvents(a) => x.events = self.value(a),
                ClauseKind::ErrorCode { bit, code } => match calls::constant(&bit.text) {
                    Some(b) if bit.text.starts_with("FD_") && bit.text.ends_with("_BIT") => {
                        if let Some(v) = self.value(code) {
                            x.codes.push((b as usize, v));
                        }
                    }
                    _ => self.error(bit.pos, format!("expected an FD_*_BIT constant, found `{}`", bit.text)),
                },
                ClauseKind::From(a) => {
                    x.from = self.arg(Kind::Addr, a, &Names::default()).and_then(|v| match v {
                        Val::Addr(a) => Some(a),
                        _ => None,
                    })
                }
                ClauseKind::Out(a) => x.out = self.value(a),
            }
        }
        x
    }

    /// An expected number: a number, constants joined by `|`, or `_` (`None`: any).
    fn value(&mut self, arg: &Arg) -> Option<i64> {
        match &arg.kind {
            ArgKind::Any => None,
            _ => match self.arg(Kind::Int, arg, &Names::default()) {
                Some(Val::Int(v)) => Some(v),
                _ => None,
            },
        }
    }
}

fn describe(arg: &Arg) -> String {
    match &arg.kind {
        ArgKind::Int(i) => format!("the number {i}"),
        ArgKind::Words(w) => {
            format!("`{}`", w.iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" | "))
        }
        ArgKind::Str(_) => "a string".into(),
        ArgKind::List(_) => "a list".into(),
        ArgKind::Call(c) => format!("the call `{}(..)`", c.name.text),
        ArgKind::Any => "`_`".into(),
    }
}
