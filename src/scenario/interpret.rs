//! Runs a checked script on simulated threads: each step calls the simulated Win32
//! function, then compares what it gave with the step's expectations. A step that gives
//! none of its alternatives panics, which fails the run with the step's `file:line:col`.
//!
//! Buffers and `OVERLAPPED`s a script makes live as long as the run: the transport may
//! still write into them after the thread that made them has finished. So that a loop
//! that makes one each time cannot fill the machine's memory, a host's scripts may make
//! [`MADE_BYTES_MAX`] of them in one run.

use super::calls::{self, F};
use super::check::{Action, Expect, HostPlan, Step, Val};
use std::cell::{Cell, RefCell, UnsafeCell};
use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::rc::Rc;
use std::sync::Arc;
use windows_sys::Win32::Foundation::HANDLE;
use windows_sys::Win32::Networking::WinSock::{
    AF_INET, IN_ADDR, IN_ADDR_0, SOCKADDR, SOCKADDR_IN, SOCKET, WSABUF, WSADATA, WSANETWORKEVENTS,
};
use windows_sys::Win32::System::IO::OVERLAPPED;
use wsasim_model::Handle;
use wsasim_sim::runtime;

use crate::Win32::Foundation as foundation;
use crate::Win32::Networking::WinSock as ws;
use crate::Win32::System::IO as io;
use crate::Win32::System::Threading as threading;

/// The memory a host's scripts may make in one run (buffers and `OVERLAPPED`s): 256 MiB.
pub const MADE_BYTES_MAX: usize = 256 << 20;

/// What one host's scripts share: the values of their names, and everything they made.
#[derive(Debug, Default)]
pub struct HostState {
    slots: RefCell<Vec<Option<Value>>>,
    made: RefCell<Vec<Value>>,
    /// The memory of what they made.
    made_bytes: Cell<usize>,
}

#[derive(Debug, Clone)]
enum Value {
    Int(i64),
    Buffer(Rc<Buffer>),
    Ov(Rc<Op>),
}

/// A buffer a script made: bytes up to a capacity. A receive appends to what it holds; a
/// send sends what it holds. The transport writes into it through raw pointers, hence the
/// cells.
#[derive(Debug)]
struct Buffer {
    bytes: Box<[Cell<u8>]>,
    /// How many bytes it holds.
    len: Cell<usize>,
}

impl Buffer {
    /// `buf("text")`: holding `bytes`, full.
    fn holding(bytes: &[u8]) -> Buffer {
        Buffer { bytes: bytes.iter().map(|b| Cell::new(*b)).collect(), len: Cell::new(bytes.len()) }
    }

    /// `buf(16)`: empty, with room for `capacity` bytes.
    fn empty(capacity: usize) -> Buffer {
        Buffer { bytes: (0..capacity).map(|_| Cell::new(0)).collect(), len: Cell::new(0) }
    }

    fn contents(&self) -> Vec<u8> {
        self.bytes[..self.len.get()].iter().map(Cell::get).collect()
    }

    /// What a send sends (all it holds) or a receive fills (the room after it).
    fn wsabuf(&self, for_send: bool) -> WSABUF {
        let len = self.len.get();
        let (start, n) = if for_send { (0, len) } else { (len, self.bytes.len() - len) };
        WSABUF { len: n as u32, buf: self.bytes[start..].as_ptr() as *mut u8 }
    }

    /// Appends what fits of `data`; gives the rest.
    fn append<'d>(&self, data: &'d [u8]) -> &'d [u8] {
        let len = self.len.get();
        let k = data.len().min(self.bytes.len() - len);
        self.bytes[len..len + k].iter().zip(data).for_each(|(cell, b)| cell.set(*b));
        self.len.set(len + k);
        &data[k..]
    }
}

/// An `OVERLAPPED` a script made, with what its latest operation uses: the transport
/// writes the `OVERLAPPED`, the buffers and the source address after the call returns.
#[repr(C)]
struct Op {
    /// First, so that a completion routine's `lpOverlapped` is the `Op`'s address.
    overlapped: UnsafeCell<OVERLAPPED>,
    buffers: RefCell<Vec<Rc<Buffer>>>,
    wsabufs: RefCell<Vec<WSABUF>>,
    from: UnsafeCell<SOCKADDR_IN>,
    from_len: UnsafeCell<i32>,
    /// `(dwError, cbTransferred, dwFlags)` of the completion routine's run.
    completion: Cell<Option<(u32, u32, u32)>>,
    /// What a receive put in the buffers, once its byte count is known.
    received: RefCell<Option<Vec<u8>>>,
    direction: Cell<Direction>,
}

/// Which way the latest operation on an `Op` moves bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Send,
    Receive,
    /// A receive that also learns the sender's address (`WSARecvFrom`).
    ReceiveFrom,
}

impl std::fmt::Debug for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Op").field("buffers", &self.buffers.borrow().len()).finish_non_exhaustive()
    }
}

impl Op {
    fn new(event: HANDLE) -> Op {
        // SAFETY: OVERLAPPED and SOCKADDR_IN are plain C structs; all zeros is valid.
        let (mut overlapped, from): (OVERLAPPED, SOCKADDR_IN) = unsafe { std::mem::zeroed() };
        overlapped.hEvent = event;
        Op {
            overlapped: UnsafeCell::new(overlapped),
            buffers: RefCell::default(),
            wsabufs: RefCell::default(),
            from: UnsafeCell::new(from),
            from_len: UnsafeCell::new(0),
            completion: Cell::new(None),
            received: RefCell::new(None),
            direction: Cell::new(Direction::Send),
        }
    }

    /// The `OVERLAPPED`, as a pointer to the whole `Op` (its first field), so that the
    /// completion routine may reach the rest; every field is a cell, so writes through it
    /// are allowed.
    fn overlapped(&self) -> *mut OVERLAPPED {
        (self as *const Op).cast_mut().cast::<OVERLAPPED>()
    }

    /// Whether the latest operation has ended: its status is no longer `STATUS_PENDING`.
    fn ended(&self) -> bool {
        // SAFETY: a read of the OVERLAPPED's status word, which only the transport writes,
        // and not while a script runs.
        unsafe { wsasim_sim::overlapped::status(self.overlapped()) != wsasim_model::Status::PENDING }
    }

    /// What a receive that ended with `bytes` gave: the bytes (added to its buffers the
    /// first time), and the sender for `WSARecvFrom`. Nothing for a send.
    fn received(&self, bytes: u32, got: &mut Got) {
        if self.direction.get() == Direction::Send {
            return;
        }
        got.data = Some(self.settle(bytes));
        if self.direction.get() == Direction::ReceiveFrom {
            // SAFETY: written by the transport when the receive ended.
            got.from = Some(from_sockaddr(unsafe { &*self.from.get() }));
        }
    }

    /// Takes on a new operation's buffers. Its WSABUF array stays here as long as the
    /// operation may run.
    fn start(&self, buffers: &[Rc<Buffer>], direction: Direction) -> (*const WSABUF, u32) {
        // SAFETY: no operation of this OVERLAPPED is in flight while a script starts another
        // one on it (reusing one in flight is the program's error, as on Windows).
        unsafe {
            let o = &mut *self.overlapped();
            o.Internal = 0;
            o.InternalHigh = 0;
            *self.from_len.get() = size_of::<SOCKADDR_IN>() as i32;
        }
        self.completion.set(None);
        self.direction.set(direction);
        *self.received.borrow_mut() = None;
        *self.buffers.borrow_mut() = buffers.to_vec();
        let for_send = direction == Direction::Send;
        *self.wsabufs.borrow_mut() = buffers.iter().map(|b| b.wsabuf(for_send)).collect();
        let w = self.wsabufs.borrow();
        (w.as_ptr(), w.len() as u32)
    }
}

/// The completion routine `routine` names: records what it was given in its `Op`.
unsafe extern "system" fn routine(error: u32, bytes: u32, overlapped: *mut OVERLAPPED, flags: u32) {
    // SAFETY: scripts pass `routine` only with `Op::overlapped`, a pointer to the whole Op, and
    // every Op lives as long as the run.
    let op = unsafe { &*(overlapped as *const Op) };
    op.completion.set(Some((error, bytes, flags)));
}

/// What a call gave: its value and last error, and any outputs it has.
#[derive(Default)]
struct Got {
    value: i64,
    error: u32,
    /// The call set the last error (to what it was before, maybe): if not, the error is an
    /// earlier call's.
    set_error: bool,
    bytes: Option<u32>,
    data: Option<Vec<u8>>,
    flags: Option<u32>,
    events: Option<WSANETWORKEVENTS>,
    from: Option<SocketAddrV4>,
    out: Option<i64>,
}

/// The main thread of a script host: starts the host's other threads, runs its own script,
/// then waits for the others, so that a client host finishes only when all its scripts
/// have.
pub fn host_main(plan: Arc<HostPlan>, state: Rc<HostState>) -> impl FnOnce() + 'static {
    move || {
        state.slots.borrow_mut().resize(plan.slots.len(), None);
        let others: Vec<_> = (1..plan.threads.len())
            .map(|i| {
                let (plan, state) = (Arc::clone(&plan), Rc::clone(&state));
                crate::thread::spawn(move || run_thread(&plan, i, &state))
            })
            .collect();
        run_thread(&plan, 0, &state);
        for thread in others {
            if let Err(panic) = thread.join() {
                std::panic::resume_unwind(panic);
            }
        }
    }
}

fn run_thread(host: &HostPlan, me: usize, state: &HostState) {
    run_actions(&Thread { host, me, state }, &host.threads[me].actions);
}

/// A script thread at work.
struct Thread<'a> {
    host: &'a HostPlan,
    /// Its index in the host's threads.
    me: usize,
    state: &'a HostState,
}

fn run_actions(t: &Thread, actions: &[Action]) {
    for action in actions {
        match action {
            Action::Step(step) => {
                let got = run_step(t, step);
                let Some(alternatives) = &step.expect else { continue };
                if !alternatives.iter().any(|x| holds(x, &got)) {
                    let named = t.host.threads[t.me]
                        .name
                        .as_ref()
                        .map_or_else(String::new, |n| format!(" (thread {n})"));
                    fail(format!("{}: `{}` gave {}{named}", step.at, step.source, describe(step.f, &got)));
                }
            }
            Action::Repeat { body, until } => loop {
                run_actions(t, body);
                // A loop of probes alone still counts towards the step limit.
                runtime::local("repeat");
                let got = run_step(t, until);
                if until.expect.iter().flatten().any(|x| holds(x, &got)) {
                    break;
                }
            },
        }
    }
}

/// Fails the run with `message`, whichever thread of the host this is.
fn fail(message: String) -> ! {
    runtime::fail_run(message)
}

fn holds(x: &Expect, got: &Got) -> bool {
    let events = got.events.as_ref();
    x.value.is_none_or(|v| v == got.value)
        && x.error.is_none_or(|e| e == i64::from(got.error))
        && x.bytes.is_none_or(|b| got.bytes.map(i64::from) == Some(b))
        && x.data.as_ref().is_none_or(|d| got.data.as_ref() == Some(d))
        && x.flags.is_none_or(|f| got.flags.map(i64::from) == Some(f))
        && x.events.is_none_or(|e| events.map(|n| i64::from(n.lNetworkEvents)) == Some(e))
        && x.codes.iter().all(|(bit, code)| events.map(|n| i64::from(n.iErrorCode[*bit])) == Some(*code))
        && x.from.is_none_or(|a| got.from == Some(a))
        && x.out.is_none_or(|o| got.out == Some(o))
}

/// What `f` gave, as a message shows it: a wait's result by name, a handle in hex as the
/// trace shows it, the error by the name its family of functions gives it.
fn describe(f: F, got: &Got) -> String {
    let signature = calls::signature_of(f);
    let waits = matches!(
        f,
        F::WSAWaitForMultipleEvents
            | F::WaitForSingleObject
            | F::WaitForSingleObjectEx
            | F::WaitForMultipleObjects
            | F::WaitForMultipleObjectsEx
    );
    let value = match u32::try_from(got.value) {
        Ok(v) if waits => format!("{} ({v})", wsasim_sim::Value::Wait(v)),
        _ if matches!(signature.ret, calls::Ret::Socket | calls::Ret::Event) => format!("{:#x}", got.value),
        _ => got.value.to_string(),
    };
    let error = wsasim_sim::names::errors_of(signature.name).describe(got.error.into());
    let mut s = if !got.set_error && got.error != 0 {
        format!("{value}, last error {error} (left by an earlier call)")
    } else {
        format!("{value}, error {error}")
    };
    if let Some(b) = got.bytes {
        let _ = write!(s, ", bytes {b}");
    }
    if let Some(d) = &got.data {
        let _ = write!(s, ", data \"{}\"", d.escape_ascii());
    }
    if let Some(f) = got.flags {
        let _ = write!(s, ", flags {f:#x}");
    }
    if let Some(e) = &got.events {
        let _ = write!(s, ", lNetworkEvents {:#x}, iErrorCode {:?}", e.lNetworkEvents, e.iErrorCode);
    }
    if let Some(a) = got.from {
        let _ = write!(s, ", from \"{a}\"");
    }
    if let Some(o) = got.out {
        let _ = write!(s, ", out {o}");
    }
    s
}

/// Arguments, evaluated: names read, buffers and `OVERLAPPED`s made.
struct Args<'a> {
    thread: &'a Thread<'a>,
    step: &'a Step,
}

impl Args<'_> {
    fn eval(&self, val: &Val) -> Value {
        match val {
            Val::Int(i) => Value::Int(*i),
            Val::Slot(slot) => self.bound(*slot),
            Val::New { f, args, slot } => {
                let value = match f {
                    F::Buf => Value::Buffer(Rc::new(match &args[0] {
                        Val::Bytes(b) => Buffer::holding(b),
                        Val::Int(n) => Buffer::empty((*n).max(0) as usize),
                        other => unreachable!("checked: buf({other:?})"),
                    })),
                    _ => {
                        let event = args.first().map_or(std::ptr::null_mut(), |e| self.handle(&self.eval(e)));
                        Value::Ov(Rc::new(Op::new(event)))
                    }
                };
                let state = self.thread.state;
                let bytes = match &value {
                    Value::Buffer(b) => size_of::<Buffer>() + b.bytes.len(),
                    _ => size_of::<Op>(),
                };
                state.made_bytes.set(state.made_bytes.get() + bytes);
                if state.made_bytes.get() > MADE_BYTES_MAX {
                    fail(format!(
                        "{}: this host's scripts made more than {} MiB of buffers and OVERLAPPEDs, which live until the run ends: make one before a loop and use it in the loop",
                        self.step.at,
                        MADE_BYTES_MAX >> 20
                    ));
                }
                state.made.borrow_mut().push(value.clone());
                if let Some(slot) = slot {
                    state.slots.borrow_mut()[*slot] = Some(value.clone());
                }
                value
            }
            Val::Bytes(_) | Val::Addr(_) | Val::List(_) | Val::Routine => {
                unreachable!("read by the call that takes it")
            }
        }
    }

    /// The value of a name. A name another thread binds is waited for, a millisecond of
    /// virtual time at a time: that thread either binds it or fails the run.
    fn bound(&self, slot: usize) -> Value {
        let Thread { host, me, state } = self.thread;
        let (name, binder) = &host.slots[slot];
        loop {
            if let Some(value) = &state.slots.borrow()[slot] {
                return value.clone();
            }
            if binder == me {
                fail(format!(
                    "{}: `{name}` is not bound yet: the statement that binds it has not run",
                    self.step.at
                ));
            }
            // SAFETY: no pointer arguments.
            unsafe { threading::Sleep(1) };
        }
    }

    fn arg(&self, i: usize) -> Value {
        self.eval(&self.step.args[i])
    }

    fn int(&self, i: usize) -> i64 {
        match self.arg(i) {
            Value::Int(v) => v,
            other => unreachable!("checked: a number, not {other:?}"),
        }
    }

    /// An optional argument (flags), 0 when left off.
    fn opt_int(&self, i: usize) -> i64 {
        if i < self.step.args.len() { self.int(i) } else { 0 }
    }

    fn u32(&self, i: usize) -> u32 {
        self.int(i) as u32
    }

    fn socket(&self, i: usize) -> SOCKET {
        self.int(i) as SOCKET
    }

    fn handle(&self, v: &Value) -> HANDLE {
        match v {
            Value::Int(i) => *i as usize as HANDLE,
            other => unreachable!("checked: a handle, not {other:?}"),
        }
    }

    /// A `WSAEVENT`, which `windows-sys` types as an integer.
    fn event(&self, i: usize) -> ws::WSAEVENT {
        self.handle(&self.arg(i)) as ws::WSAEVENT
    }

    fn handles(&self, i: usize) -> Vec<HANDLE> {
        match &self.step.args[i] {
            Val::List(items) => items.iter().map(|v| self.handle(&self.eval(v))).collect(),
            other => unreachable!("checked: a list, not {other:?}"),
        }
    }

    fn buffers(&self, i: usize) -> Vec<Rc<Buffer>> {
        let one = |v: &Val| match self.eval(v) {
            Value::Buffer(b) => b,
            other => unreachable!("checked: a buffer, not {other:?}"),
        };
        match &self.step.args[i] {
            Val::List(items) => items.iter().map(one).collect(),
            v => vec![one(v)],
        }
    }

    fn op(&self, i: usize) -> Option<Rc<Op>> {
        match self.arg(i) {
            Value::Ov(op) => Some(op),
            Value::Int(0) => None,
            other => unreachable!("checked: an overlapped, not {other:?}"),
        }
    }

    fn addr(&self, i: usize) -> SOCKADDR_IN {
        match &self.step.args[i] {
            Val::Addr(a) => sockaddr(*a),
            other => unreachable!("checked: an address, not {other:?}"),
        }
    }

    fn routine(&self, i: usize) -> ws::LPWSAOVERLAPPED_COMPLETION_ROUTINE {
        match self.step.args.get(i) {
            Some(Val::Routine) => Some(routine),
            _ => None,
        }
    }
}

fn sockaddr(a: SocketAddrV4) -> SOCKADDR_IN {
    SOCKADDR_IN {
        sin_family: AF_INET,
        sin_port: a.port().to_be(),
        sin_addr: IN_ADDR { S_un: IN_ADDR_0 { S_addr: u32::from_ne_bytes(a.ip().octets()) } },
        sin_zero: [0; 8],
    }
}

fn from_sockaddr(a: &SOCKADDR_IN) -> SocketAddrV4 {
    // SAFETY: every variant of IN_ADDR_0 is the same four bytes.
    let ip = unsafe { a.sin_addr.S_un.S_addr };
    SocketAddrV4::new(Ipv4Addr::from(ip.to_ne_bytes()), u16::from_be(a.sin_port))
}

impl Op {
    /// The bytes the latest operation received, `bytes` of them, added to its buffers'
    /// contents the first time this is asked.
    fn settle(&self, bytes: u32) -> Vec<u8> {
        let mut received = self.received.borrow_mut();
        received
            .get_or_insert_with(|| {
                let mut rest = bytes as usize;
                let mut data = Vec::with_capacity(rest);
                for (b, w) in self.buffers.borrow().iter().zip(self.wsabufs.borrow().iter()) {
                    let k = rest.min(w.len as usize);
                    // SAFETY: `w` points into `b`, which the receive wrote `k` bytes of.
                    data.extend_from_slice(unsafe { std::slice::from_raw_parts(w.buf, k) });
                    b.len.set(b.len.get() + k);
                    rest -= k;
                }
                data
            })
            .clone()
    }
}

fn run_step(thread: &Thread, step: &Step) -> Got {
    let a = Args { thread, step };
    let state = thread.state;
    let sets_before = last_error_sets();
    let mut got = Got::default();
    // SAFETY: every pointer passed below is to memory this function or the host's state
    // owns for as long as the callee, or the transport after it, may use it.
    let value: i64 = unsafe {
        match step.f {
            F::WSAStartup => {
                let mut data: WSADATA = std::mem::zeroed();
                ws::WSAStartup(0x0202, &mut data).into()
            }
            F::WSACleanup => ws::WSACleanup().into(),
            F::WSACreateEvent => ws::WSACreateEvent() as usize as i64,
            F::CreateEvent => {
                let (manual, initial) = (a.int(0) as i32, a.int(1) as i32);
                threading::CreateEventW(std::ptr::null(), manual, initial, std::ptr::null()) as usize as i64
            }
            F::WSASetEvent => ws::WSASetEvent(a.event(0)).into(),
            F::WSAResetEvent => ws::WSAResetEvent(a.event(0)).into(),
            F::WSACloseEvent => ws::WSACloseEvent(a.event(0)).into(),
            F::SetEvent => threading::SetEvent(a.handle(&a.arg(0))).into(),
            F::ResetEvent => threading::ResetEvent(a.handle(&a.arg(0))).into(),
            F::CloseHandle => foundation::CloseHandle(a.handle(&a.arg(0))).into(),
            F::WSAWaitForMultipleEvents => {
                let h = a.handles(0);
                ws::WSAWaitForMultipleEvents(
                    h.len() as u32,
                    h.as_ptr(),
                    a.int(1) as i32,
                    a.u32(2),
                    a.opt_int(3) as i32,
                )
                .into()
            }
            F::WaitForSingleObject => threading::WaitForSingleObject(a.handle(&a.arg(0)), a.u32(1)).into(),
            F::WaitForSingleObjectEx => {
                threading::WaitForSingleObjectEx(a.handle(&a.arg(0)), a.u32(1), a.int(2) as i32).into()
            }
            F::WaitForMultipleObjects => {
                let h = a.handles(0);
                threading::WaitForMultipleObjects(h.len() as u32, h.as_ptr(), a.int(1) as i32, a.u32(2))
                    .into()
            }
            F::WaitForMultipleObjectsEx => {
                let h = a.handles(0);
                threading::WaitForMultipleObjectsEx(
                    h.len() as u32,
                    h.as_ptr(),
                    a.int(1) as i32,
                    a.u32(2),
                    a.int(3) as i32,
                )
                .into()
            }
            F::Sleep => {
                threading::Sleep(a.u32(0));
                0
            }
            F::SleepEx => threading::SleepEx(a.u32(0), a.int(1) as i32).into(),
            F::GetLastError => foundation::GetLastError().into(),
            F::WSAGetLastError => ws::WSAGetLastError().into(),
            F::Socket => ws::socket(a.int(0) as i32, a.int(1) as i32, a.int(2) as i32) as i64,
            F::WSASocket => ws::WSASocketW(
                a.int(0) as i32,
                a.int(1) as i32,
                a.int(2) as i32,
                std::ptr::null(),
                0,
                a.u32(3),
            ) as i64,
            F::Bind | F::Connect => {
                let addr = a.addr(1);
                let (p, len) =
                    (&addr as *const SOCKADDR_IN as *const SOCKADDR, size_of::<SOCKADDR_IN>() as i32);
                if step.f == F::Bind {
                    ws::bind(a.socket(0), p, len)
                } else {
                    ws::connect(a.socket(0), p, len)
                }
                .into()
            }
            F::Listen => ws::listen(a.socket(0), a.int(1) as i32).into(),
            F::Accept => {
                let mut from: SOCKADDR_IN = std::mem::zeroed();
                let mut len = size_of::<SOCKADDR_IN>() as i32;
                let s = ws::accept(a.socket(0), &mut from as *mut SOCKADDR_IN as *mut SOCKADDR, &mut len);
                if s != ws::INVALID_SOCKET {
                    got.from = Some(from_sockaddr(&from));
                }
                s as i64
            }
            F::Closesocket => ws::closesocket(a.socket(0)).into(),
            F::Shutdown => ws::shutdown(a.socket(0), a.int(1) as i32).into(),
            F::Ioctlsocket => {
                let mut arg = a.u32(2);
                let r = ws::ioctlsocket(a.socket(0), a.int(1) as i32, &mut arg);
                got.out = Some(arg.into());
                r.into()
            }
            F::Setsockopt => {
                let value = (a.int(3) as i32).to_ne_bytes();
                ws::setsockopt(a.socket(0), a.int(1) as i32, a.int(2) as i32, value.as_ptr(), 4).into()
            }
            F::Getsockopt => {
                let (mut value, mut len) = ([0u8; 4], 4);
                let r = ws::getsockopt(
                    a.socket(0),
                    a.int(1) as i32,
                    a.int(2) as i32,
                    value.as_mut_ptr(),
                    &mut len,
                );
                got.out = Some(i32::from_ne_bytes(value).into());
                r.into()
            }
            F::Send | F::Sendto => {
                let data: Vec<u8> = a.buffers(1).iter().flat_map(|b| b.contents()).collect();
                let (s, len) = (a.socket(0), data.len() as i32);
                if step.f == F::Send {
                    ws::send(s, data.as_ptr(), len, a.opt_int(2) as i32)
                } else {
                    let to = a.addr(2);
                    let to_ptr = &to as *const SOCKADDR_IN as *const SOCKADDR;
                    ws::sendto(
                        s,
                        data.as_ptr(),
                        len,
                        a.opt_int(3) as i32,
                        to_ptr,
                        size_of::<SOCKADDR_IN>() as i32,
                    )
                }
                .into()
            }
            F::Recv | F::Recvfrom => {
                let buffers = a.buffers(1);
                let room = buffers.iter().map(|b| b.bytes.len() - b.len.get()).sum();
                let mut data = vec![0u8; room];
                let (s, len, flags) = (a.socket(0), data.len() as i32, a.opt_int(2) as i32);
                let n = if step.f == F::Recv {
                    ws::recv(s, data.as_mut_ptr(), len, flags)
                } else {
                    let mut from: SOCKADDR_IN = std::mem::zeroed();
                    let mut from_len = size_of::<SOCKADDR_IN>() as i32;
                    let from_ptr = &mut from as *mut SOCKADDR_IN as *mut SOCKADDR;
                    let n = ws::recvfrom(s, data.as_mut_ptr(), len, flags, from_ptr, &mut from_len);
                    if n >= 0 {
                        got.from = Some(from_sockaddr(&from));
                    }
                    n
                };
                // A datagram too long for the buffers fills them, then fails (Doc: recv, WSAEMSGSIZE).
                let truncated = n < 0 && last_error() == ws::WSAEMSGSIZE as u32;
                if n >= 0 || truncated {
                    data.truncate(if truncated { room } else { n as usize });
                    buffers.iter().fold(&data[..], |rest, b| b.append(rest));
                    got.data = Some(data);
                }
                n.into()
            }
            F::WSASend | F::WSASendTo | F::WSARecv | F::WSARecvFrom => overlapped_io(&a, &mut got),
            F::WSAGetOverlappedResult => {
                let op = a.op(1);
                let ov = op.as_ref().map_or(std::ptr::null_mut(), |o| o.overlapped());
                let (mut bytes, mut flags) = (0, 0);
                let r = ws::WSAGetOverlappedResult(a.socket(0), ov, &mut bytes, a.int(2) as i32, &mut flags);
                // The count is written on failure too (Wine sock.c test_ip_pktinfo: FALSE, WSAEMSGSIZE, 6 bytes).
                (got.bytes, got.flags) = (Some(bytes), Some(flags));
                if let Some(op) = op.filter(|op| op.ended()) {
                    op.received(bytes, &mut got);
                }
                r.into()
            }
            F::CancelIo => io::CancelIo(a.socket(0) as HANDLE).into(),
            F::CancelIoEx => {
                let ov = a.op(1).map_or(std::ptr::null_mut(), |o| o.overlapped());
                io::CancelIoEx(a.socket(0) as HANDLE, ov).into()
            }
            F::WSAEventSelect => ws::WSAEventSelect(a.socket(0), a.event(1), a.int(2) as i32).into(),
            F::WSAEnumNetworkEvents => {
                let mut events: WSANETWORKEVENTS = std::mem::zeroed();
                let r = ws::WSAEnumNetworkEvents(a.socket(0), a.event(1), &mut events);
                if r == 0 {
                    got.events = Some(events);
                }
                r.into()
            }
            F::Buf | F::Ov => {
                let value = a.eval(&Val::New { f: step.f, args: step.args.clone(), slot: None });
                bind(step, state, value);
                return got;
            }
            F::Signaled => signaled(a.handle(&a.arg(0))),
            F::Held => {
                let data: Vec<u8> = a.buffers(0).iter().flat_map(|b| b.contents()).collect();
                let held = data.len() as i64;
                got.data = Some(data);
                held
            }
            F::Completion => {
                let op = a.op(0).unwrap_or_else(|| fail(format!("{}: completion(NULL)", step.at)));
                match op.completion.get() {
                    Some((error, bytes, flags)) => {
                        (got.bytes, got.flags) = (Some(bytes), Some(flags));
                        op.received(bytes, &mut got);
                        error.into()
                    }
                    None => -1,
                }
            }
        }
    };
    got.value = value;
    got.error = last_error();
    got.set_error = last_error_sets() != sets_before;
    bind(step, state, Value::Int(value));
    got
}

/// The thread's last error, read without a call of its own in the trace.
fn last_error() -> u32 {
    runtime::with_world("scenario", |w| w.last_error())
}

fn last_error_sets() -> u32 {
    runtime::with_world("scenario", |w| w.last_error_sets())
}

fn bind(step: &Step, state: &HostState, value: Value) {
    if let Some(slot) = step.bind {
        state.slots.borrow_mut()[slot] = Some(value);
    }
}

/// `WSASend`, `WSASendTo`, `WSARecv`, `WSARecvFrom`: overlapped, or blocking with `NULL`.
///
/// SAFETY: as `run_step`.
unsafe fn overlapped_io(a: &Args, got: &mut Got) -> i64 {
    let f = a.step.f;
    let direction = match f {
        F::WSASend | F::WSASendTo => Direction::Send,
        F::WSARecv => Direction::Receive,
        _ => Direction::ReceiveFrom,
    };
    let ov_at = if f == F::WSASendTo { 3 } else { 2 };
    let (buffers, op) = (a.buffers(1), a.op(ov_at));
    let (flags_in, routine) = (a.opt_int(ov_at + 1) as u32, a.routine(ov_at + 2));
    // A blocking call's operation lives on this frame; an overlapped one's in its Op.
    let local = Op::new(std::ptr::null_mut());
    let target = op.as_deref().unwrap_or(&local);
    let (wsabufs, count) = target.start(&buffers, direction);
    let ov = op.as_ref().map_or(std::ptr::null_mut(), |o| o.overlapped());
    let (mut bytes, mut flags) = (0u32, flags_in);
    let s = a.socket(0);
    // SAFETY: the caller's contract; the WSABUFs, buffers and address live in `target`.
    let r = unsafe {
        match f {
            F::WSASend => ws::WSASend(s, wsabufs, count, &mut bytes, flags_in, ov, routine),
            F::WSARecv => ws::WSARecv(s, wsabufs, count, &mut bytes, &mut flags, ov, routine),
            F::WSASendTo => {
                let to = a.addr(2);
                let to_ptr = &to as *const SOCKADDR_IN as *const SOCKADDR;
                let len = size_of::<SOCKADDR_IN>() as i32;
                ws::WSASendTo(s, wsabufs, count, &mut bytes, flags_in, to_ptr, len, ov, routine)
            }
            _ => {
                let from = target.from.get() as *mut SOCKADDR;
                ws::WSARecvFrom(
                    s,
                    wsabufs,
                    count,
                    &mut bytes,
                    &mut flags,
                    from,
                    target.from_len.get(),
                    ov,
                    routine,
                )
            }
        }
    };
    if r == 0 {
        got.bytes = Some(bytes);
        if direction != Direction::Send {
            got.flags = Some(flags);
        }
        target.received(bytes, got);
    }
    r.into()
}

/// Whether the object behind `h` is signaled, read without waiting on it (a wait would
/// consume an auto-reset event); `-1` for a handle that is not open on this host.
fn signaled(h: HANDLE) -> i64 {
    runtime::with_world("signaled", |w| {
        w.kernel().get(w.host(), Handle(h as usize)).map_or(-1, |o| i64::from(o.is_signaled()))
    })
}
