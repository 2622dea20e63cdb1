//! An overlapped operation in progress: what the program gave (buffers, OVERLAPPED,
//! notification), and how its completion reaches the program.
//!
//! The WSABUF array is copied when the call is made (Doc: WSARecv, "the Winsock
//! service provider's responsibility to capture the WSABUF structures"); the buffers it
//! points to are read or written only when the transport takes or delivers bytes, as on
//! Windows, so a program that touches them while the operation pends sees what it would
//! see there.

use super::effects::{Effect, NetCx, Routine};
use super::overlapped;
use crate::ThreadId;
use crate::trace::Entry;
use windows_sys::Win32::Networking::WinSock::{LPWSAOVERLAPPED_COMPLETION_ROUTINE, SOCKADDR, SOCKADDR_IN};
use windows_sys::Win32::System::IO::OVERLAPPED;
use wsasim_model::{Handle, Spares, Status};

/// One buffer of the program's, from its WSABUF array.
#[derive(Debug, Clone, Copy)]
pub struct Buffer {
    pub ptr: *mut u8,
    pub len: usize,
}

/// How a completion is made known.
#[derive(Debug, Clone, Copy)]
pub enum Notify {
    /// Signal this object: the OVERLAPPED's `hEvent`, or the socket itself when it is NULL
    /// (Wine sock.c test_nonblocking_async_recv). The kernel holds the object from the
    /// start, so closing the handle meanwhile does not stop the signal.
    Object(Handle),
    /// Queue the completion routine to the issuing thread, and signal nothing (Doc: WSARecv;
    /// Wine sock.c test_WSARecv).
    Routine(LPWSAOVERLAPPED_COMPLETION_ROUTINE),
    /// Wake the issuing thread, blocked in a Winsock call that waits for this operation.
    Waiter,
}

/// Where a receive from a datagram socket writes the sender's address at completion
/// (Doc: WSARecvFrom: `lpFrom` and `lpFromlen` must stay valid until then).
#[derive(Debug, Clone, Copy)]
pub struct FromSlot {
    pub addr: *mut SOCKADDR,
    pub len: *mut i32,
}

/// An operation the transport holds until it can complete it.
#[derive(Debug)]
pub struct Op {
    /// The call that issued it, for the trace.
    pub call: &'static str,
    pub thread: ThreadId,
    pub buffers: Vec<Buffer>,
    /// `MSG_PEEK` and the like, for receives.
    pub flags: u32,
    /// Never NULL: a blocking call passes one of its own.
    pub overlapped: *mut OVERLAPPED,
    pub notify: Notify,
    pub from: Option<FromSlot>,
    /// Bytes a send has handed to the transport so far.
    pub taken: usize,
    /// While the operation pends, what its buffers held (see [`Op::guard`]).
    pub saved: Option<Box<Guard>>,
    /// Counted among the OVERLAPPEDs in use (see [`InUse`]): an overlapped operation
    /// that pends, until it completes.
    pub in_use: bool,
}

/// Which OVERLAPPEDs pending operations hold, as counts in a small table by address:
/// a slot at 0 says no pending operation holds any OVERLAPPED there, so the search for
/// one still in use (a misuse) is needed only when a slot says otherwise.
#[derive(Debug)]
pub(crate) struct InUse([u32; 256]);

impl Default for InUse {
    fn default() -> InUse {
        InUse([0; 256])
    }
}

impl InUse {
    fn slot(overlapped: usize) -> usize {
        // Fibonacci hashing: OVERLAPPEDs a fixed stride apart (one in each of an array of
        // connection records) spread over the slots; the top 8 bits of the product.
        ((overlapped as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as usize
    }

    /// Whether a pending operation may hold the OVERLAPPED at `overlapped`.
    pub(crate) fn may_hold(&self, overlapped: usize) -> bool {
        self.0[InUse::slot(overlapped)] > 0
    }
}

/// What the guarded bytes of a pending operation's buffers held when it pended (see
/// [`GUARDED_BYTES_MAX`]), kept in place.
#[derive(Debug)]
pub struct Guard {
    /// A receive's, before they were poisoned: they get them back at the end; else the
    /// bytes a send is to hand over.
    receive: bool,
    /// Where in the operation's data the held bytes start: 0 for a receive; for a send,
    /// what it had taken when the guard was set, which moves on as it takes more.
    from: usize,
    len: usize,
    bytes: [u8; GUARDED_BYTES_MAX],
}

impl Guard {
    fn held(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// What a pending receive's buffers hold until it completes, so that a program reading
/// them early reads visible garbage, as it may on Windows while the system owns them.
pub const POISON: u8 = 0xCD;

/// How much of a pending operation's data the buffer checks guard: its first bytes, so
/// that a receive into a large buffer costs no more than one into a small one. A program
/// that writes further into them is not caught.
pub const GUARDED_BYTES_MAX: usize = 64;

impl Op {
    pub fn capacity(&self) -> usize {
        self.buffers.iter().map(|b| b.len).sum()
    }

    /// The operation pends: the first [`GUARDED_BYTES_MAX`] bytes of a receive's
    /// buffers are saved and poisoned, those of a send's saved, so that a program that
    /// writes them meanwhile is caught.
    ///
    /// # Safety
    /// The buffers must be valid, as the program promised for the operation.
    pub(crate) unsafe fn guard(&mut self, receive: bool) {
        let from = if receive { 0 } else { self.taken };
        let mut guard = spare_guard();
        (guard.receive, guard.from, guard.len) = (receive, from, 0);
        let mut skip = from;
        for b in &self.buffers {
            if skip >= b.len {
                skip -= b.len;
                continue;
            }
            let n = (b.len - skip).min(GUARDED_BYTES_MAX - guard.len);
            if n == 0 {
                break;
            }
            // SAFETY: the caller's contract; `skip + n` is within the buffer.
            let held = unsafe { std::slice::from_raw_parts_mut(b.ptr.add(skip), n) };
            skip = 0;
            guard.bytes[guard.len..guard.len + n].copy_from_slice(held);
            if receive {
                held.fill(POISON);
            }
            guard.len += n;
        }
        if let Some(old) = self.saved.replace(guard) {
            recycle_guard(old);
        }
    }

    /// A guarded receive ends: whether the program wrote its buffers meanwhile (they no
    /// longer hold the poison); they get back what they held, for the data to land in.
    ///
    /// # Safety
    /// As for [`Op::guard`].
    pub(crate) unsafe fn unguard_receive(&mut self) -> bool {
        let Some(guard) = self.saved.take() else { return false };
        if !guard.receive {
            recycle_guard(guard);
            return false;
        }
        let mut touched = false;
        let mut left = guard.held();
        for b in &self.buffers {
            let n = b.len.min(left.len());
            if n == 0 {
                continue;
            }
            // SAFETY: the caller's contract; `n` is within the buffer.
            let now = unsafe { std::slice::from_raw_parts_mut(b.ptr, n) };
            touched |= *now != [POISON; GUARDED_BYTES_MAX][..n];
            now.copy_from_slice(&left[..n]);
            left = &left[n..];
        }
        recycle_guard(guard);
        touched
    }

    /// Whether the bytes a guarded send hands over from `taken` differ, where they are
    /// guarded, from what its buffers held when the guard was set.
    pub(crate) fn send_touched(&self, data: &[u8]) -> bool {
        let Some(guard) = self.saved.as_ref().filter(|g| !g.receive) else { return false };
        let (start, end) =
            (self.taken.max(guard.from), (self.taken + data.len()).min(guard.from + guard.len));
        start < end
            && guard.bytes[start - guard.from..end - guard.from] != data[start - self.taken..end - self.taken]
    }

    /// A guarded send took bytes and still pends: once it has taken every guarded byte,
    /// the guard moves on to the next ones.
    ///
    /// # Safety
    /// As for [`Op::guard`].
    pub(crate) unsafe fn guard_on(&mut self) {
        if self.saved.as_ref().is_some_and(|g| !g.receive && self.taken >= g.from + g.len) {
            // SAFETY: the caller's contract.
            unsafe { self.guard(false) };
        }
    }
}

/// Copies `data` into `buffers` in array order, packed with no gaps (Wine sock.c
/// test_WSARecv; Wine afd.c test_recv).
///
/// # Safety
/// Each buffer must be valid for writes of its length.
pub unsafe fn scatter(buffers: &[Buffer], data: &[u8]) {
    // SAFETY: the caller's contract.
    unsafe { scatter_at(buffers, 0, data) }
}

/// Writes `data` into `buffers` from `skip` bytes in, as far as they reach.
///
/// # Safety
/// As for [`scatter`].
pub unsafe fn scatter_at(buffers: &[Buffer], mut skip: usize, mut data: &[u8]) {
    for b in buffers {
        if data.is_empty() {
            return;
        }
        if skip >= b.len {
            skip -= b.len;
            continue;
        }
        let n = (b.len - skip).min(data.len());
        // SAFETY: the caller's contract; `skip + n` is within the buffer.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), b.ptr.add(skip), n) };
        (data, skip) = (&data[n..], 0);
    }
}

thread_local! {
    /// The buffer lists of operations that completed, for the next ones' (`buffer_list`).
    static LISTS: Spares<Vec<Buffer>> = const { Spares::new() };
    /// The guards of operations that ended, for the next ones' (`spare_guard`).
    static GUARDS: Spares<Box<Guard>> = const { Spares::new() };
}

/// A guard to fill: one an ended operation left, when there is one.
fn spare_guard() -> Box<Guard> {
    let fresh = || Box::new(Guard { receive: false, from: 0, len: 0, bytes: [0; GUARDED_BYTES_MAX] });
    GUARDS.with(Spares::take).unwrap_or_else(fresh)
}

fn recycle_guard(guard: Box<Guard>) {
    GUARDS.with(|g| g.give(guard));
}

/// An empty list for an operation's buffers: one a completed operation left, when there
/// is one, so that an operation allocates none in a steady state.
pub fn buffer_list() -> Vec<Buffer> {
    LISTS.with(Spares::take).unwrap_or_default()
}

fn recycle(mut list: Vec<Buffer>) {
    list.clear();
    LISTS.with(|l| l.give(list));
}

/// Reads up to `max` bytes of `buffers`, starting `skip` bytes in.
///
/// # Safety
/// Each buffer must be valid for reads of its length.
pub unsafe fn gather(buffers: &[Buffer], skip: usize, max: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(max.min(1 << 16));
    // SAFETY: the caller's contract.
    unsafe { for_each_part(buffers, skip, max, |part| out.extend_from_slice(part)) };
    out
}

/// Hands `into` up to `max` bytes of `buffers`, starting `skip` bytes in, where they lie:
/// a part of a buffer at a time, nothing copied first.
///
/// # Safety
/// As for [`gather`].
pub unsafe fn for_each_part(
    buffers: &[Buffer],
    mut skip: usize,
    mut max: usize,
    mut into: impl FnMut(&[u8]),
) {
    for b in buffers {
        if max == 0 {
            break;
        }
        if skip >= b.len {
            skip -= b.len;
            continue;
        }
        let n = (b.len - skip).min(max);
        // SAFETY: the caller's contract; `skip + n` is within the buffer.
        into(unsafe { std::slice::from_raw_parts(b.ptr.add(skip), n) });
        (skip, max) = (0, max - n);
    }
}

impl FromSlot {
    /// Whether `lpFromlen` is there and has room for a SOCKADDR_IN.
    ///
    /// # Safety
    /// `len` must be valid when not NULL.
    pub unsafe fn holds_an_address(&self) -> bool {
        // SAFETY: the caller's contract.
        !self.len.is_null() && usize::try_from(unsafe { *self.len }).unwrap_or(0) >= size_of::<SOCKADDR_IN>()
    }
}

/// Writes an IPv4 address where a receive was told to (`lpFrom`, `lpFromlen`). A length
/// too small for a SOCKADDR_IN (refused when the call was made, unless the program changed
/// it since) gets nothing written.
///
/// # Safety
/// The pointers must be valid, as the program promised.
pub unsafe fn write_from(from: FromSlot, addr: std::net::SocketAddrV4) {
    // SAFETY: the caller's contract.
    unsafe {
        if from.addr.is_null() || !from.holds_an_address() {
            return;
        }
        from.addr.cast::<SOCKADDR_IN>().write_unaligned(crate::net::sockaddr(addr));
        *from.len = size_of::<SOCKADDR_IN>() as i32;
    }
}

impl Op {
    /// The operation starts: its OVERLAPPED says pending until it completes, and its
    /// event, or the socket when it has none, is reset (Wine sock.c
    /// test_nonblocking_async_recv; Doc: WSAGetOverlappedResult, "the function that
    /// started the operation resets the hEvent member").
    pub(crate) fn begin(&self, cx: &mut NetCx) {
        // SAFETY: the OVERLAPPED stays valid until the operation completes (Doc: WSARecv,
        // Doc: WSASend).
        unsafe { overlapped::begin(self.overlapped) };
        if let Notify::Object(h) = self.notify {
            cx.effect(Effect::Reset(h));
        }
    }

    /// The operation pends: an overlapped one's buffers are guarded and its OVERLAPPED
    /// counted in use until it completes (see `Op::guard`); a blocking call's belong to
    /// its thread, which is blocked.
    pub(crate) fn guard_while_pending(&mut self, cx: &mut NetCx, receive: bool) {
        if !matches!(self.notify, Notify::Waiter) {
            // SAFETY: the program's buffers, the system's while the operation pends (Doc:
            // WSARecv, Doc: WSASend).
            unsafe { self.guard(receive) };
            if !self.in_use {
                self.in_use = true;
                cx.in_use.0[InUse::slot(self.overlapped as usize)] += 1;
            }
        }
    }

    /// Completes the operation of `socket` with `status` and `bytes`: fills its OVERLAPPED as
    /// Windows does (Wine sock.c test_nonblocking_async_recv: `Internal` the status,
    /// `InternalHigh` the count; the receive flags, none for TCP and UDP, in `Offset`, where
    /// Winsock providers keep them for `WSAGetOverlappedResult`), then notifies. Once the
    /// run is over, its OVERLAPPED is not written: the program's memory may be gone.
    pub(crate) fn complete(self, cx: &mut NetCx, socket: Handle, status: Status, bytes: usize) {
        self.finish(cx, socket, status, bytes, true);
    }

    /// Completes the operation without writing its OVERLAPPED: its thread has exited, and a program
    /// that lets a thread exit with I/O pending has often freed that memory already
    /// (Windows writes it anyway). Its event is still signaled.
    pub(crate) fn abandon(self, cx: &mut NetCx, socket: Handle, status: Status) {
        self.finish(cx, socket, status, 0, false);
    }

    /// A guarded receive ends, before its data is written: a program that wrote its
    /// buffers meanwhile made a misuse.
    pub(crate) fn receive_guard_ends(&mut self, cx: &mut NetCx, socket: Handle) {
        // SAFETY: a pending receive's buffers are the system's until it completes (Doc:
        // WSARecv), which is now.
        if unsafe { self.unguard_receive() } {
            let (call, thread) = (self.call, self.thread);
            let object = format!("the buffers of a {call} pending on socket {socket}");
            cx.misuse(thread, crate::Misuse::ReceiveBufferTouched, call, object);
        }
    }

    fn finish(mut self, cx: &mut NetCx, socket: Handle, status: Status, bytes: usize, write: bool) {
        if self.in_use {
            cx.in_use.0[InUse::slot(self.overlapped as usize)] -= 1;
        }
        // An operation abandoned (its thread ended) or torn down leaves its buffers alone:
        // the program may have freed them.
        if write && !cx.tearing_down {
            self.receive_guard_ends(cx, socket);
        }
        recycle(std::mem::take(&mut self.buffers));
        if let Some(guard) = self.saved.take() {
            recycle_guard(guard);
        }
        let flags = 0;
        let entry = Entry::Complete {
            call: self.call,
            socket,
            status: status.0,
            bytes: bytes as u64,
            by: self.thread,
        };
        cx.record(entry);
        if cx.tearing_down {
            return;
        }
        if write {
            // SAFETY: the OVERLAPPED stays valid until the operation completes (Doc:
            // WSARecv), which is now.
            unsafe { overlapped::end(self.overlapped, status, bytes, Some(flags)) };
        }
        match self.notify {
            Notify::Object(h) => cx.effect(Effect::Signal(h)),
            Notify::Routine(routine) => {
                let routine = routine.expect("a routine notification has a routine");
                let error = status.wsa_result().err().unwrap_or(0);
                let ov = self.overlapped;
                // SAFETY: the program's completion routine, called on the issuing thread
                // inside an alertable wait, with the arguments Windows passes (Doc:
                // WSARecv; Wine sock.c test_ip_pktinfo).
                let run = Box::new(move || unsafe { routine(error, bytes as u32, ov, flags) });
                cx.effect(Effect::Apc { thread: self.thread, call: self.call, run: Routine(run) });
            }
            Notify::Waiter => cx.effect(Effect::Io(self.thread)),
        }
    }
}
