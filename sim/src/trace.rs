//! The trace: every call with its arguments and result, every block and wake-up, every
//! choice the strategy made, with virtual time and thread.
//!
//! A run keeps what it was asked to ([`TraceKept`]): its entries, from which the hash is
//! computed when someone asks for it; only the hash, folded in as each entry is made; or
//! nothing, for the seeds of a sweep whose traces nobody will read. Text columns, one entry
//! per line:
//!
//! ```text
//! <seconds.nanoseconds>  <thread>  <entry>
//! 0.000003000  a/main  WSAWaitForMultipleEvents(1, [0x100], FALSE, 1000, FALSE) = WAIT_OBJECT_0
//! 0.000004000  a/main  WaitForSingleObject(0x104, INFINITE) blocks
//! 0.000005000  a/t1    ~ run a/t1 of [a/main a/t1]
//! ```
//!
//! Entry forms: `Call(args) = result`, with `error N` appended when the call failed and set
//! the last error; `Call(args) blocks` when a call parks its thread (its `= result` line
//! follows when it returns); `~ <what> <chosen> of [<options>]` for a choice the strategy
//! made among two or more options; `exit` and `panic: <message>` for a thread's
//! life; `apc(<argument>)` when a queued APC runs, its argument shown as `NULL` or `&`. JSON lines carry the same
//! fields: `t_ns`, `thread`, `kind`, and the kind's own fields.

use crate::ThreadId;
use crate::names::{Meaning, Shown, errors_of};
use serde::Serialize;
use std::cell::RefCell;
use std::fmt::{self, Write as _};
use std::hash::{Hash, Hasher};
use std::net::SocketAddrV4;
use wsasim_model::Handle;

/// An argument or result as the trace shows it. Pointers appear only as `NULL` or `&`, so
/// no address reaches the trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Int(i64),
    Hex(u64),
    /// A Win32 `BOOL`: `TRUE`, `FALSE`, or the number when it is neither.
    Bool(i32),
    /// A timeout in milliseconds, `INFINITE` for `u32::MAX`.
    Ms(u32),
    /// A `WAIT_EVENT` result, by name.
    Wait(u32),
    List(Vec<u64>),
    Ptr(bool),
    Str(&'static str),
    Text(String),
    /// A number whose meaning is known, shown by its name (`AF_INET`, `FIONBIO`).
    Const(Meaning, i64),
    /// A call that returns nothing.
    Void,
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(n) => write!(f, "{n}"),
            Value::Hex(n) => write!(f, "{n:#x}"),
            Value::Bool(0) => f.write_str("FALSE"),
            Value::Bool(1) => f.write_str("TRUE"),
            Value::Bool(n) => write!(f, "{n}"),
            Value::Ms(u32::MAX) => f.write_str("INFINITE"),
            Value::Ms(n) => write!(f, "{n}"),
            Value::Wait(w) => match *w {
                0 => f.write_str("WAIT_OBJECT_0"),
                i @ 1..0x80 => write!(f, "WAIT_OBJECT_0+{i}"),
                0xC0 => f.write_str("WAIT_IO_COMPLETION"),
                0x102 => f.write_str("WAIT_TIMEOUT"),
                u32::MAX => f.write_str("WAIT_FAILED"),
                other => write!(f, "{other:#x}"),
            },
            Value::List(items) => {
                f.write_str("[")?;
                for (i, n) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{n:#x}")?;
                }
                f.write_str("]")
            }
            Value::Ptr(false) => f.write_str("NULL"),
            Value::Ptr(true) => f.write_str("&"),
            Value::Str(s) => f.write_str(s),
            Value::Text(s) => f.write_str(s),
            Value::Const(meaning, n) => meaning.write(*n, f),
            Value::Void => f.write_str("()"),
        }
    }
}

/// One word per scalar (its variant's key mixed into it), a length before a list or
/// text: a trace hashes a few words per argument.
impl Hash for Value {
    #[inline(always)]
    fn hash<H: Hasher>(&self, h: &mut H) {
        /// A distinct 64-bit key per variant (splitmix64 of the variant's number).
        const fn key(variant: u64) -> u64 {
            let mut z = variant.wrapping_add(1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }
        match self {
            Value::Int(n) => h.write_u64(key(0) ^ *n as u64),
            Value::Hex(n) => h.write_u64(key(1) ^ n),
            Value::Bool(n) => h.write_u64(key(2) ^ u64::from(*n as u32)),
            Value::Ms(n) => h.write_u64(key(3) ^ u64::from(*n)),
            Value::Wait(n) => h.write_u64(key(4) ^ u64::from(*n)),
            Value::List(items) => {
                h.write_u64(key(5) ^ items.len() as u64);
                items.iter().for_each(|n| h.write_u64(*n));
            }
            Value::Ptr(p) => h.write_u64(key(6) ^ u64::from(*p)),
            Value::Str(t) => {
                h.write_u64(key(7) ^ t.len() as u64);
                h.write(t.as_bytes());
            }
            Value::Text(t) => {
                h.write_u64(key(8) ^ t.len() as u64);
                h.write(t.as_bytes());
            }
            Value::Void => h.write_u64(key(9)),
            Value::Const(meaning, n) => h.write_u64(key(10 + *meaning as u64) ^ *n as u64),
        }
    }
}

/// Where an entry's arguments, options, list items or text are in its `Records`: kept
/// side by side in one array per kind, so that keeping an entry allocates nothing of its
/// own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Span {
    start: u32,
    len: u32,
}

impl Span {
    fn of<T>(items: &[T], len: usize) -> Span {
        Span { start: items.len() as u32, len: len as u32 }
    }

    fn range(self) -> std::ops::Range<usize> {
        self.start as usize..(self.start + self.len) as usize
    }
}

/// A [`Value`] as records keep it: one fixed-size word, a list's items and a text kept in
/// the records' arrays, so that keeping an entry copies words and dropping the records
/// frees nothing entry by entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kept {
    Int(i64),
    Hex(u64),
    Bool(i32),
    Ms(u32),
    Wait(u32),
    List(Span),
    Ptr(bool),
    Str(&'static str),
    Text(Span),
    Const(Meaning, i64),
    Void,
}

/// What a fault did to a packet (see `net::faults`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Fault {
    /// It never arrives.
    Lost,
    /// Lost `times` times, it is sent again and arrives; the last copy leaves `after_ns`
    /// after the first.
    Resent { times: u32, after_ns: u64 },
    /// Every retransmission is lost: the sender gives up `after_ns` after the first.
    GivesUp { after_ns: u64 },
    /// A copy follows it (a TCP receiver discards it).
    Duplicated,
    /// Held back `ns`, so that later packets may overtake it.
    Held { ns: u64 },
    /// A middlebox resets its connection: each end gets a reset, and the segment comes
    /// after it to be discarded.
    Reset,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = |ns: u64| ns as f64 / 1e6;
        match *self {
            Fault::Lost => f.write_str("lost"),
            Fault::Resent { times: 1, after_ns } => write!(f, "lost, resent after {} ms", ms(after_ns)),
            Fault::Resent { times, after_ns } => {
                write!(f, "lost {times} times, resent after {} ms", ms(after_ns))
            }
            Fault::GivesUp { after_ns } => {
                write!(f, "lost every time: the sender gives up after {} ms", ms(after_ns))
            }
            Fault::Duplicated => f.write_str("duplicated"),
            Fault::Held { ns } => write!(f, "held back {} µs", ns as f64 / 1e3),
            Fault::Reset => f.write_str("resets its connection: a reset reaches each end ahead of it"),
        }
    }
}

/// One entry of the trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Entry {
    Call {
        name: &'static str,
        args: Span,
        ret: Kept,
        error: Option<u32>,
    },
    Blocks {
        name: &'static str,
        args: Span,
    },
    Choice {
        what: &'static str,
        chosen: ThreadId,
        options: Span,
    },
    Exit,
    Panic {
        message: Span,
    },
    Apc {
        argument: Kept,
    },
    /// A packet arrives (traced in the network's name).
    Packet {
        what: &'static str,
        from: SocketAddrV4,
        to: SocketAddrV4,
        bytes: u64,
    },
    /// The network made a fault of a packet sent now (see `net::faults`).
    Fault {
        what: &'static str,
        from: SocketAddrV4,
        to: SocketAddrV4,
        bytes: u32,
        fault: Fault,
    },
    /// An error injected into the record's thread's call, which fails with it next
    /// (`Sim::inject`).
    Injected {
        call: &'static str,
        error: u32,
    },
    /// The host of the record's thread crashes (`Sim::crash`).
    Crash,
    /// The host restarts, the record's thread its new main thread (`Sim::restart`).
    Restart,
    /// An overlapped operation of thread `by` on `socket` completes.
    Complete {
        call: &'static str,
        socket: Handle,
        status: i32,
        bytes: u64,
        by: ThreadId,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Record {
    pub(crate) time_ns: u64,
    pub(crate) thread: ThreadId,
    pub(crate) entry: Entry,
}

/// The arrays records keep their entries in.
#[derive(Debug, Default)]
struct Arrays {
    entries: Vec<Record>,
    values: Vec<Kept>,
    words: Vec<u64>,
    text: String,
    parties: Vec<ThreadId>,
    /// The run went on past these entries without keeping more (`Sim::trace_bytes_max`).
    cut: bool,
}

impl Arrays {
    const EMPTY: Arrays = Arrays {
        entries: Vec::new(),
        values: Vec::new(),
        words: Vec::new(),
        text: String::new(),
        parties: Vec::new(),
        cut: false,
    };

    fn clear(&mut self) {
        self.entries.clear();
        self.values.clear();
        self.words.clear();
        self.text.clear();
        self.parties.clear();
        self.cut = false;
    }
}

/// The kept entries of a trace, with the arguments, options and texts they refer to.
#[derive(Debug, Default)]
pub(crate) struct Records(Arrays);

thread_local! {
    /// The arrays of the largest records dropped on this OS thread, emptied, for the next
    /// run's: a sweep's seeds then keep their traces without growing them again and again.
    static SPARE: RefCell<Arrays> = const { RefCell::new(Arrays::EMPTY) };
}

impl Drop for Records {
    fn drop(&mut self) {
        let mut arrays = std::mem::take(&mut self.0);
        arrays.clear();
        // At the OS thread's end there may be no spare any more: the arrays just go.
        let _ = SPARE.try_with(|spare| {
            let mut spare = spare.borrow_mut();
            if arrays.entries.capacity() > spare.entries.capacity() {
                *spare = arrays;
            }
        });
    }
}

/// The records of a run that kept none.
pub(crate) static NO_RECORDS: Records = Records(Arrays::EMPTY);

impl Records {
    /// Empty records, in the spare arrays of an earlier run when this OS thread has some.
    fn new() -> Records {
        Records(SPARE.with(|spare| std::mem::take(&mut *spare.borrow_mut())))
    }

    pub(crate) fn len(&self) -> usize {
        self.0.entries.len()
    }

    /// The memory the entries take, counted as their arrays' lengths.
    fn bytes(&self) -> usize {
        let a = &self.0;
        a.entries.len() * size_of::<Record>()
            + a.values.len() * size_of::<Kept>()
            + a.words.len() * size_of::<u64>()
            + a.text.len()
            + a.parties.len() * size_of::<ThreadId>()
    }

    fn iter(&self) -> std::slice::Iter<'_, Record> {
        self.0.entries.iter()
    }

    /// A kept value as it was given.
    fn value(&self, kept: Kept) -> Value {
        match kept {
            Kept::Int(n) => Value::Int(n),
            Kept::Hex(n) => Value::Hex(n),
            Kept::Bool(n) => Value::Bool(n),
            Kept::Ms(n) => Value::Ms(n),
            Kept::Wait(n) => Value::Wait(n),
            Kept::List(span) => Value::List(self.0.words[span.range()].to_vec()),
            Kept::Ptr(p) => Value::Ptr(p),
            Kept::Str(s) => Value::Str(s),
            Kept::Text(span) => Value::Text(self.text(span).to_owned()),
            Kept::Const(meaning, n) => Value::Const(meaning, n),
            Kept::Void => Value::Void,
        }
    }

    fn values(&self, span: Span) -> Vec<Value> {
        self.0.values[span.range()].iter().map(|k| self.value(*k)).collect()
    }

    fn text(&self, span: Span) -> &str {
        &self.0.text[span.range()]
    }

    fn parties(&self, span: Span) -> &[ThreadId] {
        &self.0.parties[span.range()]
    }

    /// The hash a run that kept only its hash computes for these entries. It rebuilds each
    /// entry's values to hash them as that run did, which allocates: it is asked for once
    /// per run at most, by a report, a test or the determinism check.
    pub(crate) fn hash(&self) -> u64 {
        self.fold().finish()
    }

    /// The hasher of a run that kept only its hash, as it stands after these entries.
    fn fold(&self) -> TraceHasher {
        let mut h = TraceHasher::default();
        for r in self.iter() {
            let (time_ns, thread) = (r.time_ns, r.thread);
            match r.entry {
                Entry::Call { name, args, ret, error } => {
                    h.call(time_ns, thread, name, &self.values(args), &self.value(ret), error);
                }
                Entry::Blocks { name, args } => h.blocks(time_ns, thread, name, &self.values(args)),
                Entry::Choice { what, chosen, options } => {
                    h.choice(time_ns, thread, what, chosen, self.parties(options));
                }
                Entry::Panic { message } => h.panic(time_ns, thread, self.text(message)),
                Entry::Apc { argument } => h.apc(time_ns, thread, &self.value(argument)),
                Entry::Exit
                | Entry::Injected { .. }
                | Entry::Crash
                | Entry::Restart
                | Entry::Packet { .. }
                | Entry::Fault { .. }
                | Entry::Complete { .. } => h.other(r),
            }
        }
        h
    }

    fn keep(&mut self, value: &Value) -> Kept {
        keep(&mut self.0.words, &mut self.0.text, value)
    }

    fn keep_values(&mut self, values: &[Value]) -> Span {
        let Arrays { values: kept, words, text, .. } = &mut self.0;
        let span = Span::of(kept, values.len());
        kept.extend(values.iter().map(|v| keep(words, text, v)));
        span
    }

    fn keep_text(&mut self, text: &str) -> Span {
        keep_text(&mut self.0.text, text)
    }

    fn keep_parties(&mut self, parties: &[ThreadId]) -> Span {
        let span = Span::of(&self.0.parties, parties.len());
        self.0.parties.extend_from_slice(parties);
        span
    }

    fn push(&mut self, time_ns: u64, thread: ThreadId, entry: Entry) {
        self.0.entries.push(Record { time_ns, thread, entry });
    }
}

/// `value` as records keep it, its list items put in `words` and its text in `text`.
#[inline]
fn keep(words: &mut Vec<u64>, text: &mut String, value: &Value) -> Kept {
    match value {
        Value::Int(n) => Kept::Int(*n),
        Value::Hex(n) => Kept::Hex(*n),
        Value::Bool(n) => Kept::Bool(*n),
        Value::Ms(n) => Kept::Ms(*n),
        Value::Wait(n) => Kept::Wait(*n),
        Value::List(items) => {
            let span = Span::of(words, items.len());
            words.extend_from_slice(items);
            Kept::List(span)
        }
        Value::Ptr(p) => Kept::Ptr(*p),
        Value::Str(s) => Kept::Str(s),
        Value::Text(t) => Kept::Text(keep_text(text, t)),
        Value::Const(meaning, n) => Kept::Const(*meaning, *n),
        Value::Void => Kept::Void,
    }
}

fn keep_text(text: &mut String, t: &str) -> Span {
    let span = Span::of(text.as_bytes(), t.len());
    text.push_str(t);
    span
}

/// What a run keeps of its trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TraceKept {
    /// Every entry, for the trace's text; the hash is computed from them when asked for.
    #[default]
    Records,
    /// The hash alone, folded in as each entry is made.
    Hash,
    /// Neither: the cheapest run, for a seed whose trace nobody will ask for.
    Nothing,
}

/// The trace of one run.
#[derive(Debug)]
pub(crate) struct Trace {
    hasher: Option<TraceHasher>,
    records: Option<Records>,
    /// The memory kept records may take: past it, they are cut and the hash folded in
    /// from then on, so the run goes on exactly as one that keeps only its hash.
    bytes_max: usize,
}

impl Trace {
    pub(crate) fn new(kept: TraceKept, bytes_max: usize) -> Trace {
        Trace {
            hasher: (kept == TraceKept::Hash).then(TraceHasher::default),
            records: (kept == TraceKept::Records).then(Records::new),
            bytes_max,
        }
    }

    /// The hash, when the run folded it in (see [`Records::hash`] for one that kept its
    /// entries).
    pub(crate) fn hash(&self) -> Option<u64> {
        self.hasher.map(|h| h.finish())
    }

    /// Entries kept so far (none when the trace is not kept).
    pub(crate) fn kept(&self) -> Option<usize> {
        self.records.as_ref().map(Records::len)
    }

    /// Whether the run keeps nothing, so that recording an entry is nothing but this test,
    /// inlined where the entry is made: for the entries of every step (calls, blocks,
    /// choices); the others are rare.
    #[inline(always)]
    fn keeps_nothing(&self) -> bool {
        self.hasher.is_none() && self.records.is_none()
    }

    /// Records an entry as the run keeps its trace. `args` are borrowed so that a run that
    /// keeps nothing copies nothing.
    #[inline]
    pub(crate) fn call(
        &mut self,
        time_ns: u64,
        thread: ThreadId,
        name: &'static str,
        args: &[Value],
        ret: Value,
        error: Option<u32>,
    ) {
        if !self.keeps_nothing() {
            self.keep_call(time_ns, thread, name, args, ret, error);
        }
    }

    /// `call` for a run that keeps something, out of line: inlining it where every call
    /// is recorded costs 100 instructions per echo round trip (measured).
    fn keep_call(
        &mut self,
        time_ns: u64,
        thread: ThreadId,
        name: &'static str,
        args: &[Value],
        ret: Value,
        error: Option<u32>,
    ) {
        self.record(
            time_ns,
            thread,
            |h| h.call(time_ns, thread, name, args, &ret, error),
            |r| Entry::Call { name, args: r.keep_values(args), ret: r.keep(&ret), error },
        );
    }

    #[inline]
    pub(crate) fn blocks(&mut self, time_ns: u64, thread: ThreadId, name: &'static str, args: &[Value]) {
        if !self.keeps_nothing() {
            self.record(
                time_ns,
                thread,
                |h| h.blocks(time_ns, thread, name, args),
                |r| Entry::Blocks { name, args: r.keep_values(args) },
            );
        }
    }

    #[inline]
    pub(crate) fn choice(
        &mut self,
        time_ns: u64,
        thread: ThreadId,
        what: &'static str,
        chosen: ThreadId,
        options: &[ThreadId],
    ) {
        if !self.keeps_nothing() {
            self.record(
                time_ns,
                thread,
                |h| h.choice(time_ns, thread, what, chosen, options),
                |r| Entry::Choice { what, chosen, options: r.keep_parties(options) },
            );
        }
    }

    /// A thread's panic, with its message.
    pub(crate) fn panic(&mut self, time_ns: u64, thread: ThreadId, message: &str) {
        self.record(
            time_ns,
            thread,
            |h| h.panic(time_ns, thread, message),
            |r| Entry::Panic { message: r.keep_text(message) },
        );
    }

    /// An APC that runs, with its argument as the trace shows it.
    pub(crate) fn apc(&mut self, time_ns: u64, thread: ThreadId, argument: &Value) {
        self.record(
            time_ns,
            thread,
            |h| h.apc(time_ns, thread, argument),
            |r| Entry::Apc { argument: r.keep(argument) },
        );
    }

    /// Any other entry (an exit, a packet, a completion), which refers to nothing kept
    /// apart.
    pub(crate) fn push(&mut self, record: Record) {
        debug_assert!(matches!(
            record.entry,
            Entry::Exit
                | Entry::Injected { .. }
                | Entry::Crash
                | Entry::Restart
                | Entry::Packet { .. }
                | Entry::Fault { .. }
                | Entry::Complete { .. }
        ));
        self.record(record.time_ns, record.thread, |h| h.other(&record), |_| record.entry);
    }

    /// Folds an entry into the hash with `hash`, and keeps the one `keep` makes, as the
    /// run keeps its trace.
    #[inline(always)]
    fn record(
        &mut self,
        time_ns: u64,
        thread: ThreadId,
        hash: impl FnOnce(&mut TraceHasher),
        keep: impl FnOnce(&mut Records) -> Entry,
    ) {
        if let Some(h) = &mut self.hasher {
            hash(h);
        }
        if let Some(records) = self.records.as_mut().filter(|r| !r.0.cut) {
            let entry = keep(records);
            records.push(time_ns, thread, entry);
            // Measured every 1,024 entries: the bound is passed by a few at most.
            if records.len() % 1024 == 0 && records.bytes() > self.bytes_max {
                self.hasher = Some(records.fold());
                records.0.cut = true;
            }
        }
    }

    /// The hash folded in, and the entries kept, as the run kept them.
    pub(crate) fn into_parts(mut self) -> (Option<u64>, Option<Records>) {
        (self.hash(), self.records.take())
    }

    #[cfg(test)]
    fn records(&self) -> &Records {
        self.records.as_ref().expect("a trace that keeps its records")
    }
}

/// Renders kept records as text, one per line, with thread names from `names`.
pub(crate) fn render_text(records: &Records, names: &[String]) -> String {
    render_text_as(records, names, View::default())
}

/// What a text trace shows beyond its entries, or leaves out.
#[derive(Debug, Default)]
pub(crate) struct View {
    /// Leave out the scheduler's choices (`~` lines) and packet arrivals.
    pub(crate) calls_only: bool,
    /// For the n-th choice entry, `Some((k, of))`: it is deviation k of `of`.
    pub(crate) marks: Vec<Option<(usize, usize)>>,
}

pub(crate) fn render_text_as(records: &Records, names: &[String], view: View) -> String {
    let width = names.iter().map(String::len).max().unwrap_or(0);
    let mut out = String::new();
    let mut choices = 0;
    for r in records.iter() {
        let mark = match r.entry {
            Entry::Choice { .. } => {
                choices += 1;
                view.marks.get(choices - 1).copied().flatten()
            }
            _ => None,
        };
        let scheduling = matches!(r.entry, Entry::Choice { .. } | Entry::Packet { .. } | Entry::Fault { .. });
        if view.calls_only && scheduling {
            continue;
        }
        let name = name(names, r.thread);
        let (s, ns) = (r.time_ns / 1_000_000_000, r.time_ns % 1_000_000_000);
        let _ = write!(out, "{s}.{ns:09}  {name:<width$}  ");
        render_entry(&mut out, records, r, names);
        if let Some((k, of)) = mark {
            let _ = write!(out, "  <- deviation {k} of {of}");
        }
        out.push('\n');
    }
    if records.0.cut {
        out.push_str("(the trace is cut here: it reached Sim::trace_bytes_max; the run went on, and its hash covers every entry)\n");
    }
    out
}

fn render_entry(out: &mut String, records: &Records, record: &Record, names: &[String]) {
    let thread = record.thread;
    match &record.entry {
        Entry::Call { name, args, ret, error } => {
            render_call(out, name, &records.values(*args));
            let _ = write!(out, " = {}", records.value(*ret));
            if let Some(e) = error {
                let _ = write!(out, ", error {}", Shown(errors_of(name), i64::from(*e)));
            }
        }
        Entry::Blocks { name, args } => {
            render_call(out, name, &records.values(*args));
            out.push_str(" blocks");
        }
        Entry::Choice { what, chosen, options } => {
            let _ = write!(out, "~ {what} {} of [", name(names, *chosen));
            for (i, o) in records.parties(*options).iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(name(names, *o));
            }
            out.push(']');
        }
        Entry::Exit => out.push_str("exit"),
        Entry::Injected { call, error } => {
            let _ = write!(out, "injected: {call} fails with {}", Shown(errors_of(call), i64::from(*error)));
        }
        Entry::Crash => {
            let host = host_of(name(names, thread));
            let _ = write!(out, "crash: host {host} goes down: its threads end, its sockets are gone");
        }
        Entry::Restart => {
            let _ = write!(
                out,
                "restart: host {} is up again, with a new main thread",
                host_of(name(names, thread))
            );
        }
        Entry::Panic { message } => {
            let _ = write!(out, "panic: {}", records.text(*message).replace('\n', " | "));
        }
        Entry::Apc { argument } => {
            let _ = write!(out, "apc({})", records.value(*argument));
        }
        Entry::Packet { what, from, to, bytes } => {
            let _ = write!(out, "{what} {from} > {to}");
            if *bytes > 0 {
                let _ = write!(out, " {bytes} bytes");
            }
        }
        Entry::Fault { what, from, to, bytes, fault } => {
            let _ = write!(out, "fault: {what} {from} > {to}");
            if *bytes > 0 {
                let _ = write!(out, " {bytes} bytes");
            }
            let _ = write!(out, " {fault}");
        }
        Entry::Complete { call, socket, status, bytes, by } => {
            let (by, status) = (name(names, *by), status_name(*status));
            let _ = write!(out, "complete {call} on {socket} of {by}: {status}, {bytes} bytes");
        }
    }
}

/// The host of a thread, by the thread's name (`host/main`).
fn host_of(thread: &str) -> &str {
    thread.split('/').next().unwrap_or(thread)
}

/// A thread's name, or `net` for the network.
fn name(names: &[String], thread: ThreadId) -> &str {
    if thread == ThreadId::NET { "net" } else { &names[thread.index()] }
}

/// An NTSTATUS as the trace shows it: by name for the statuses the transport gives.
pub(crate) fn status_name(status: i32) -> String {
    use windows_sys::Win32::Foundation::*;
    let known = [
        (STATUS_SUCCESS, "STATUS_SUCCESS"),
        (STATUS_PENDING, "STATUS_PENDING"),
        (STATUS_BUFFER_OVERFLOW, "STATUS_BUFFER_OVERFLOW"),
        (STATUS_CANCELLED, "STATUS_CANCELLED"),
        (STATUS_CONNECTION_RESET, "STATUS_CONNECTION_RESET"),
        (STATUS_CONNECTION_ABORTED, "STATUS_CONNECTION_ABORTED"),
        (STATUS_CONNECTION_REFUSED, "STATUS_CONNECTION_REFUSED"),
        (STATUS_IO_TIMEOUT, "STATUS_IO_TIMEOUT"),
    ];
    match known.iter().find(|(s, _)| *s == status) {
        Some((_, name)) => (*name).to_owned(),
        None => format!("{:#x}", status as u32),
    }
}

fn render_call(out: &mut String, name: &str, args: &[Value]) {
    let _ = write!(out, "{name}(");
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "{a}");
    }
    out.push(')');
}

/// Renders kept records as JSON lines.
pub(crate) fn render_jsonl(records: &Records, names: &[String]) -> String {
    #[derive(Serialize)]
    struct Line<'a> {
        t_ns: u64,
        thread: &'a str,
        kind: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        name: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        args: Option<Vec<String>>,
        /// Beside `args`, which keep the numbers: the name of each that has one.
        #[serde(skip_serializing_if = "Option::is_none")]
        arg_names: Option<Vec<Option<String>>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        ret: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<u32>,
        #[serde(skip_serializing_if = "Option::is_none")]
        error_name: Option<&'static str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        options: Option<Vec<&'a str>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    }
    let strings = |args: &[Value]| {
        let number = |v: &Value| match v {
            Value::Const(meaning, n) if *meaning == Meaning::Ioctl => format!("{:#x}", *n as u32),
            Value::Const(_, n) => n.to_string(),
            other => other.to_string(),
        };
        Some(args.iter().map(number).collect())
    };
    let names_of = |args: &[Value]| {
        let named = |v: &Value| matches!(v, Value::Const(..)).then(|| v.to_string());
        let names: Vec<Option<String>> = args.iter().map(named).collect();
        names.iter().any(Option::is_some).then_some(names)
    };
    let mut out = String::new();
    for r in records.iter() {
        let mut line = Line {
            t_ns: r.time_ns,
            thread: name(names, r.thread),
            kind: "",
            name: None,
            args: None,
            arg_names: None,
            ret: None,
            error: None,
            error_name: None,
            options: None,
            message: None,
        };
        match &r.entry {
            Entry::Call { name, args, ret, error } => {
                let args = records.values(*args);
                (line.kind, line.name, line.args, line.arg_names) =
                    ("call", Some(*name), strings(&args), names_of(&args));
                (line.ret, line.error) = (Some(records.value(*ret).to_string()), *error);
                line.error_name = error.and_then(|e| errors_of(name).name(i64::from(e)));
            }
            Entry::Blocks { name, args } => {
                (line.kind, line.name, line.args) = ("blocks", Some(*name), strings(&records.values(*args)))
            }
            Entry::Choice { what, chosen, options } => {
                (line.kind, line.name) = ("choice", Some(*what));
                line.ret = Some(name(names, *chosen).to_owned());
                line.options = Some(records.parties(*options).iter().map(|o| name(names, *o)).collect());
            }
            Entry::Exit => line.kind = "exit",
            Entry::Injected { call, error } => {
                (line.kind, line.name) = ("injected", Some(*call));
                line.ret = Some(Shown(errors_of(call), i64::from(*error)).to_string());
            }
            Entry::Crash => line.kind = "crash",
            Entry::Restart => line.kind = "restart",
            Entry::Panic { message } => {
                (line.kind, line.message) = ("panic", Some(records.text(*message).to_owned()));
            }
            Entry::Apc { argument } => {
                (line.kind, line.args) = ("apc", Some(vec![records.value(*argument).to_string()]));
            }
            Entry::Packet { what, from, to, bytes } => {
                (line.kind, line.name) = ("packet", Some(*what));
                line.args = Some(vec![from.to_string(), to.to_string(), bytes.to_string()]);
            }
            Entry::Fault { what, from, to, bytes, fault } => {
                (line.kind, line.name) = ("fault", Some(*what));
                line.args =
                    Some(vec![from.to_string(), to.to_string(), bytes.to_string(), fault.to_string()]);
            }
            Entry::Complete { call, socket, status, bytes, by } => {
                (line.kind, line.name) = ("complete", Some(*call));
                line.args = Some(vec![socket.to_string(), name(names, *by).to_owned(), bytes.to_string()]);
                line.ret = Some(status_name(*status));
            }
        }
        out.push_str(&serde_json::to_string(&line).expect("a trace line always serializes"));
        out.push('\n');
    }
    out
}

/// A fast 64-bit hasher with fixed constants, so a trace hash is the same on every run and
/// every machine for one build (std's `DefaultHasher` promises no stability at all).
#[derive(Debug, Clone, Copy)]
struct TraceHasher(u64);

impl Default for TraceHasher {
    fn default() -> Self {
        TraceHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl TraceHasher {
    /// Starts an entry of `kind` (one per `Trace` method) named `name`.
    fn head(&mut self, time_ns: u64, thread: ThreadId, kind: u8, name: &str) {
        self.write_u64(time_ns);
        self.write_u64(u64::from(thread.0) | u64::from(kind) << 32);
        self.write(name.as_bytes());
    }

    /// A call's arguments, counted.
    fn args(&mut self, args: &[Value]) {
        self.write_usize(args.len());
        args.iter().for_each(|a| a.hash(self));
    }

    fn call(
        &mut self,
        time_ns: u64,
        thread: ThreadId,
        name: &str,
        args: &[Value],
        ret: &Value,
        error: Option<u32>,
    ) {
        // Hashed in a local, which stays in a register.
        let mut h = *self;
        h.head(time_ns, thread, 0, name);
        h.args(args);
        ret.hash(&mut h);
        h.write_u64(error.map_or(u64::MAX, u64::from));
        *self = h;
    }

    fn blocks(&mut self, time_ns: u64, thread: ThreadId, name: &str, args: &[Value]) {
        let mut h = *self;
        h.head(time_ns, thread, 1, name);
        h.args(args);
        *self = h;
    }

    fn choice(&mut self, time_ns: u64, thread: ThreadId, what: &str, chosen: ThreadId, options: &[ThreadId]) {
        let mut h = *self;
        h.head(time_ns, thread, 2, what);
        h.write_u64(u64::from(chosen.0) | (options.len() as u64) << 32);
        options.iter().for_each(|o| h.write_u32(o.0));
        *self = h;
    }

    fn panic(&mut self, time_ns: u64, thread: ThreadId, message: &str) {
        self.head(time_ns, thread, 3, "panic");
        self.write(message.as_bytes());
    }

    fn apc(&mut self, time_ns: u64, thread: ThreadId, argument: &Value) {
        self.head(time_ns, thread, 4, "apc");
        argument.hash(self);
    }

    /// An entry of another kind, which refers to nothing kept apart.
    fn other(&mut self, record: &Record) {
        (5u8, record).hash(self);
    }
}

impl Hasher for TraceHasher {
    fn finish(&self) -> u64 {
        // A final avalanche (from splitmix64), so that near traces give far hashes.
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.write_u64(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        // The tail is one word, its length just above its bytes; always written, so the
        // bytes end where the text does.
        let tail = chunks.remainder();
        let word = tail.iter().rev().fold(tail.len() as u64, |w, &b| w << 8 | u64::from(b));
        self.write_u64(word);
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x517c_c1b7_2722_0a95);
    }

    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        vec!["a/main".into(), "a/t1".into()]
    }

    #[test]
    fn text_has_the_documented_columns() {
        let mut t = Trace::new(TraceKept::Records, usize::MAX);
        let (main, t1) = (ThreadId(0), ThreadId(1));
        t.call(
            1_000,
            main,
            "WaitForSingleObject",
            &[Value::Hex(0x104), Value::Ms(u32::MAX)],
            Value::Wait(0),
            None,
        );
        t.blocks(2_000, t1, "Sleep", &[Value::Ms(5)]);
        t.choice(3_000, t1, "run", t1, &[main, t1]);
        t.call(1_000_000_000, main, "SetEvent", &[Value::Hex(0x7)], Value::Bool(0), Some(6));
        insta::assert_snapshot!(render_text(t.records(), &names()), @r"
        0.000001000  a/main  WaitForSingleObject(0x104, INFINITE) = WAIT_OBJECT_0
        0.000002000  a/t1    Sleep(5) blocks
        0.000003000  a/t1    ~ run a/t1 of [a/main a/t1]
        1.000000000  a/main  SetEvent(0x7) = FALSE, error ERROR_INVALID_HANDLE
        ");
    }

    #[test]
    fn jsonl_has_one_object_per_record() {
        let mut t = Trace::new(TraceKept::Records, usize::MAX);
        t.call(5, ThreadId(0), "SetEvent", &[Value::Hex(0x7)], Value::Bool(1), None);
        t.choice(6, ThreadId(1), "run", ThreadId(1), &[ThreadId(0), ThreadId(1)]);
        insta::assert_snapshot!(render_jsonl(t.records(), &names()), @r#"
        {"t_ns":5,"thread":"a/main","kind":"call","name":"SetEvent","args":["0x7"],"ret":"TRUE"}
        {"t_ns":6,"thread":"a/t1","kind":"choice","name":"run","ret":"a/t1","options":["a/main","a/t1"]}
        "#);
    }

    #[test]
    fn values_that_print_alike_or_split_text_differently_hash_apart() {
        let hash = |args: &[Value]| {
            let mut t = Trace::new(TraceKept::Hash, usize::MAX);
            t.call(1, ThreadId(0), "f", args, Value::Void, None);
            t.hash().expect("a hash kept")
        };
        let pairs = [
            (vec![Value::Int(5)], vec![Value::Hex(5)]),
            (vec![Value::Str("ab")], vec![Value::Text("ab".into())]),
            (vec![Value::Str("ab"), Value::Str("c")], vec![Value::Str("a"), Value::Str("bc")]),
            (vec![Value::List(vec![1, 2])], vec![Value::List(vec![1]), Value::Int(2)]),
            (vec![Value::Bool(0)], vec![Value::Ptr(false)]),
        ];
        for (a, b) in pairs {
            assert_ne!(hash(&a), hash(&b), "{a:?} and {b:?}");
        }
    }

    #[test]
    fn the_hash_computed_from_records_is_the_one_folded_in_and_depends_on_every_field() {
        let run = |kept: TraceKept, ms: u32| {
            let mut t = Trace::new(kept, usize::MAX);
            t.call(1, ThreadId(0), "Sleep", &[Value::Ms(ms)], Value::Void, None);
            t.blocks(2, ThreadId(1), "WaitForSingleObject", &[Value::Hex(0x104), Value::Ms(ms)]);
            t.choice(3, ThreadId(1), "run", ThreadId(0), &[ThreadId(0), ThreadId(1)]);
            t.push(Record { time_ns: 4, thread: ThreadId(0), entry: Entry::Exit });
            t.panic(5, ThreadId(1), "assertion failed\nat 3");
            t.apc(6, ThreadId(0), &Value::Ptr(true));
            t.call(
                7,
                ThreadId(0),
                "f",
                &[Value::List(vec![1, 2]), Value::Text("x".into())],
                Value::Void,
                None,
            );
            t.call(5, ThreadId(1), "SetEvent", &[Value::Hex(0x7)], Value::Bool(0), Some(6));
            match kept {
                TraceKept::Records => t.into_parts().1.map(|r| r.hash()),
                _ => t.hash(),
            }
        };
        let folded = run(TraceKept::Hash, 5).expect("a hash kept");
        assert_eq!(run(TraceKept::Records, 5), Some(folded));
        assert_ne!(run(TraceKept::Records, 6), Some(folded));
        assert_ne!(run(TraceKept::Hash, 6), Some(folded));
        assert_eq!(run(TraceKept::Nothing, 5), None);
    }
}
