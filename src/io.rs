//! Sending and receiving: `send`, `recv`, `sendto`, `recvfrom`, `WSASend`, `WSASendTo`,
//! `WSARecv`, `WSARecvFrom` (what follows an overlapped one is `overlapped`'s).
//!
//! Every call of the family is one [`transfer`]: an overlapped call (an OVERLAPPED on an
//! overlapped socket) returns 0 when done at once, or `WSA_IO_PENDING` (Doc: WSARecv, Doc:
//! WSASend); a nonblocking one returns at once or `WSAEWOULDBLOCK`; a blocking one waits,
//! alertably (Wine sock.c test_WSARecv, test_accept), for an operation of its own, as
//! Windows' blocking calls do.

use crate::addr::{read_sockaddr, show};
use crate::call::{Call, enter};
use crate::memory::{self, Access};
use crate::socket::lookup;
use std::net::SocketAddrV4;
use windows_sys::Win32::Foundation::ERROR_IO_PENDING;
use windows_sys::Win32::Networking::WinSock::*;
use windows_sys::Win32::System::IO::OVERLAPPED;
use windows_sys::core::{PCSTR, PSTR};
use wsasim_model::{Proto, Status};
use wsasim_sim::names::Meaning;
use wsasim_sim::{Blocker, Buffer, FromSlot, Notify, Op, SocketId, Start, Value, Wake, overlapped};

/// How a blocking call's wait ended.
pub(crate) enum Blocked {
    Completed(Status),
    TimedOut,
}

/// Waits in a blocking Winsock call until the operation that uses `ov` completes,
/// running APCs meanwhile (Wine sock.c test_WSARecv: an APC queued to a thread in a
/// blocking WSARecv runs and the call then returns its data). An operation still pending
/// when the wait ends (its deadline, or the call unwinding) is taken back from the
/// transport, which must not write to the call's memory afterwards.
pub(crate) fn block_on(
    call: Call,
    args: &[Value],
    socket: SocketId,
    ov: *mut OVERLAPPED,
    deadline_ns: Option<u64>,
) -> Blocked {
    struct Withdraw(SocketId, *mut OVERLAPPED);
    impl Drop for Withdraw {
        fn drop(&mut self) {
            if completion(self.1).is_some() {
                return;
            }
            let Withdraw(socket, ov) = *self;
            wsasim_sim::runtime::with_world("block_on", |w| w.withdraw(socket, ov as usize));
        }
    }
    let _withdraw = Withdraw(socket, ov);
    let handle = call.with(|w| w.socket(socket).handle);
    loop {
        if let Some(status) = completion(ov) {
            return Blocked::Completed(status);
        }
        if call.cx.run_apcs() > 0 {
            continue;
        }
        match call.cx.block(call.name, args, Blocker::Io { socket: handle }, deadline_ns) {
            Wake::Io | Wake::Apc => continue,
            // The operation may have completed in the step its deadline passed.
            Wake::Timeout => return completion(ov).map_or(Blocked::TimedOut, Blocked::Completed),
            other => unreachable!("a blocking call woken by {other:?}"),
        }
    }
}

/// The status of the operation using `ov`, or `None` while it pends.
fn completion(ov: *mut OVERLAPPED) -> Option<Status> {
    // SAFETY: `ov` is the blocking call's, alive for the whole call.
    let status = unsafe { overlapped::status(ov) };
    (status != Status::PENDING).then_some(status)
}

/// Which way bytes go.
#[derive(Clone, Copy)]
enum Direction {
    /// `to`: the destination of `sendto` or `WSASendTo` as read, `Ok(None)` when the call
    /// has none or it is NULL.
    Send {
        to: Result<Option<SocketAddrV4>, u32>,
    },
    Receive {
        from: Option<FromSlot>,
    },
}

/// What one call of the family asks, as the program passed it: each argument read, or the
/// error it gets. [`transfer`] checks them in one order for the whole family.
struct Request {
    socket: SOCKET,
    direction: Direction,
    buffers: Result<Vec<Buffer>, u32>,
    /// `Err` for a NULL byte count without an OVERLAPPED.
    count: Result<(), u32>,
    /// `Err` for a NULL `lpFlags`.
    flags: Result<u32, u32>,
    overlapped: *mut OVERLAPPED,
    routine: LPWSAOVERLAPPED_COMPLETION_ROUTINE,
}

impl Request {
    /// A call of `send`, `recv`, `sendto` or `recvfrom`: one buffer, flags by value, no
    /// OVERLAPPED.
    fn plain(socket: SOCKET, direction: Direction, buf: *mut u8, len: i32, flags: i32) -> Request {
        let (count, flags) = (Ok(()), Ok(flags as u32));
        let access = match direction {
            Direction::Send { .. } => Access::Read,
            Direction::Receive { .. } => Access::Write,
        };
        Request {
            socket,
            direction,
            buffers: single(buf, len, access),
            count,
            flags,
            overlapped: null(),
            routine: None,
        }
    }
}

/// How a call of the family ended.
enum Transferred {
    /// Done in the call: the byte count and receive flags.
    Now { bytes: usize, flags: u32 },
    /// An overlapped operation pends.
    Pending,
}

/// Runs one send or receive as its mode says, after checking its arguments in one order
/// for the whole family: the socket first, so a bad handle is `WSAENOTSOCK` whatever else
/// is wrong (Wine sock.c test_WSASendTo: `WSASendTo(INVALID_SOCKET, ..., NULL count, ...,
/// NULL, NULL)` is WSAENOTSOCK, the same call on a socket WSAEFAULT; test_valid_handle:
/// likewise for WSASend); then the
/// pointers in the order the call takes them (buffers, byte count, flags, address), the
/// address only on a datagram socket, since a stream ignores it (Wine sock.c
/// test_tcp_sendto_recvfrom); then the flags' values and the event; then the socket's state.
fn transfer(call: Call, args: &[Value], r: Request) -> Result<Transferred, u32> {
    let id = lookup(call, r.socket)?;
    let (overlapped_socket, nonblocking, timeout_ms, proto) = call.with(|w| {
        let s = w.socket(id);
        (s.overlapped, s.options.nonblocking, s.options.receive_timeout_ms, s.proto)
    });
    let buffers = r.buffers?;
    r.count?;
    let flags = r.flags?;
    let kind = r.direction;
    let to = match kind {
        Direction::Send { to } if proto == Proto::Udp => to?,
        Direction::Receive { from: Some(from) } if proto == Proto::Udp => {
            // SAFETY: the caller's `lpFromlen`, valid when not NULL (Doc: WSARecvFrom).
            if !from.addr.is_null() && !unsafe { from.holds_an_address() } {
                // Doc: recvfrom: WSAEFAULT, "the fromlen parameter is too small"; the
                // datagram stays queued (Wine sock.c test_UDP).
                return Err(WSAEFAULT as u32);
            }
            None
        }
        _ => None,
    };
    check_flags(kind, flags, proto)?;
    let overlapped = !r.overlapped.is_null() && overlapped_socket;
    // A blocking call, or a non-overlapped socket given an OVERLAPPED (it blocks, and fills
    // the OVERLAPPED: Wine sock.c test_nonblocking_async_recv), waits on an OVERLAPPED of
    // its own or that one.
    let mut own = OVERLAPPED::default();
    let ov = if r.overlapped.is_null() { &raw mut own } else { r.overlapped };
    let may_pend = overlapped || !(nonblocking && r.overlapped.is_null());
    let start = call.with(|w| {
        let notify = match overlapped {
            // SAFETY: the caller's OVERLAPPED, valid until the operation completes (Doc:
            // WSARecv, Doc: WSASend).
            true => unsafe { w.notify_for(id, r.overlapped, r.routine) }?,
            false => Notify::Waiter,
        };
        // Not told by its `Internal`, which a program that reuses an OVERLAPPED often
        // zeroes first.
        if !r.overlapped.is_null() {
            w.overlapped_given(id, r.overlapped as usize, call.name);
        }
        let op = Op {
            call: call.name,
            thread: w.current(),
            buffers,
            flags,
            overlapped: ov,
            notify,
            from: match kind {
                Direction::Receive { from } => from,
                Direction::Send { .. } => None,
            },
            taken: 0,
            saved: None,
            in_use: false,
        };
        Ok::<_, u32>(match kind {
            Direction::Send { .. } => w.start_send(id, op, to, may_pend),
            Direction::Receive { .. } => w.start_receive(id, op, may_pend),
        })
    })?;
    match start {
        Start::Failed(e) => Err(e),
        // A warning status (a datagram cut short) is reported as pending; the completion,
        // already delivered, carries it, as Windows does for a receive whose control data
        // is cut short (Wine sock.c test_ip_pktinfo, "And with an APC": ERROR_IO_PENDING,
        // then WSAEMSGSIZE); its data cut short is untested (a README difference).
        Start::Done { status, .. } if overlapped && status != Status::SUCCESS => Err(ERROR_IO_PENDING),
        Start::Done { status, bytes } => match status.wsa_result() {
            Ok(_) => Ok(Transferred::Now { bytes, flags: 0 }),
            Err(e) => Err(e),
        },
        Start::Pending if overlapped => Ok(Transferred::Pending),
        Start::Pending => {
            // SO_RCVTIMEO bounds a blocking receive (Wine sock.c test_timeout).
            let timed = matches!(kind, Direction::Receive { .. }) && timeout_ms > 0;
            let deadline = timed.then(|| call.with(|w| w.now_ns()) + u64::from(timeout_ms) * 1_000_000);
            match block_on(call, args, id, ov, deadline) {
                Blocked::Completed(status) => {
                    // SAFETY: as above.
                    let (bytes, flags) = unsafe { (overlapped::bytes(ov), overlapped::flags(ov)) };
                    match status.wsa_result() {
                        Ok(_) => Ok(Transferred::Now { bytes, flags }),
                        // Doc: closesocket: blocking calls cut off by it fail with WSAEINTR.
                        Err(e) if e == WSA_OPERATION_ABORTED as u32 => Err(WSAEINTR as u32),
                        Err(e) => Err(e),
                    }
                }
                Blocked::TimedOut => Err(WSAETIMEDOUT as u32),
            }
        }
    }
}

/// The flags of a send or receive. One that neither Doc: recv nor Doc: send names is
/// `WSAEINVAL` ("an unknown flag was specified"), as is a flag word AFD refuses (Wine afd.c
/// test_recv: STATUS_INVALID_PARAMETER); `MSG_OOB` on a datagram socket is
/// `WSAEOPNOTSUPP`, and so is a partial send, which "transports that do not support
/// partial message transmissions" refuse (Doc: WSASend; TCP and UDP do not: Wine
/// protocol.c test_service_flags has no XP1_PARTIAL_MESSAGE). A receive's `MSG_PARTIAL`
/// is for message-oriented sockets only (Doc: WSARecv) and is ignored. Of the receive
/// flags the pages name, `MSG_WAITALL` and `MSG_PUSH_IMMEDIATE` are not simulated and are
/// `WSAEOPNOTSUPP` too (a README difference); `MSG_DONTROUTE`, which one network has no
/// use for, is taken.
fn check_flags(kind: Direction, flags: u32, proto: Proto) -> Result<(), u32> {
    let (named, simulated) = match kind {
        Direction::Receive { .. } => {
            let simulated = MSG_PEEK as u32 | MSG_OOB as u32 | MSG_PARTIAL;
            (simulated | MSG_WAITALL as u32 | MSG_PUSH_IMMEDIATE as u32, simulated)
        }
        Direction::Send { .. } => {
            let simulated = MSG_DONTROUTE as u32 | MSG_OOB as u32;
            (simulated | MSG_PARTIAL, simulated)
        }
    };
    if flags & !named != 0 {
        return Err(WSAEINVAL as u32);
    }
    if flags & !simulated != 0 || (flags & MSG_OOB as u32 != 0 && proto == Proto::Udp) {
        return Err(WSAEOPNOTSUPP as u32);
    }
    Ok(())
}

/// Copies a WSABUF array (the provider captures it during the call: Doc: WSARecv), after
/// probing it and each buffer it lists: WSAEFAULT for memory the program does not have.
///
/// # Safety
/// `buffers` must point to `count` WSABUFs when not NULL.
unsafe fn capture(buffers: *const WSABUF, count: u32, access: Access) -> Result<Vec<Buffer>, u32> {
    if count == 0 {
        // Wine sock.c test_empty_recv, "dwBufferCount = 0" fails whatever lpBuffers is.
        return Err(WSAEINVAL as u32);
    }
    let array_len = count as usize * size_of::<WSABUF>();
    if buffers.is_null() || !memory::usable(buffers.cast(), array_len, Access::Read) {
        return Err(WSAEFAULT as u32);
    }
    // SAFETY: the caller's contract, the array probed.
    let list = unsafe { std::slice::from_raw_parts(buffers, count as usize) };
    if list.iter().any(|b| !memory::usable(b.buf, b.len as usize, access)) {
        return Err(WSAEFAULT as u32);
    }
    let mut captured = wsasim_sim::buffer_list();
    captured.extend(list.iter().map(|b| Buffer { ptr: b.buf, len: b.len as usize }));
    Ok(captured)
}

/// One buffer of `send`, `recv`, `sendto`, `recvfrom`; WSAEFAULT for a negative length or
/// memory the program does not have (Wine sock.c test_read_events: `recv(s, buf, -1, 0)`).
fn single(buf: *mut u8, len: i32, access: Access) -> Result<Vec<Buffer>, u32> {
    match usize::try_from(len) {
        Ok(len) if memory::usable(buf, len, access) => {
            let mut captured = wsasim_sim::buffer_list();
            captured.push(Buffer { ptr: buf, len });
            Ok(captured)
        }
        _ => Err(WSAEFAULT as u32),
    }
}

fn total(buffers: &Result<Vec<Buffer>, u32>) -> Value {
    Value::Int(buffers.as_ref().map_or(0, |b| b.iter().map(|b| b.len as i64).sum()))
}

/// `send` (Doc: send function).
pub unsafe fn send(s: SOCKET, buf: PCSTR, len: i32, flags: SEND_RECV_FLAGS) -> i32 {
    let call = enter("send");
    let args =
        [Value::Hex(s as u64), Value::Int(len.into()), Value::Const(Meaning::MessageFlags, flags.into())];
    let request = Request::plain(s, Direction::Send { to: Ok(None) }, buf.cast_mut(), len, flags);
    call.winsock(&args, count(transfer(call, &args, request)))
}

/// `sendto` (Doc: sendto function): `to` is ignored on a TCP socket.
pub unsafe fn sendto(s: SOCKET, buf: PCSTR, len: i32, flags: i32, to: *const SOCKADDR, tolen: i32) -> i32 {
    let call = enter("sendto");
    // SAFETY: the caller passes `tolen` bytes at `to` when it is not NULL.
    let dst = (!to.is_null()).then(|| unsafe { read_sockaddr(to, tolen) }).transpose();
    let shown = dst.map_or(Value::Ptr(true), |d| d.map_or(Value::Ptr(false), show));
    let args = [
        Value::Hex(s as u64),
        Value::Int(len.into()),
        Value::Const(Meaning::MessageFlags, flags.into()),
        shown,
    ];
    let request = Request::plain(s, Direction::Send { to: dst }, buf.cast_mut(), len, flags);
    call.winsock(&args, count(transfer(call, &args, request)))
}

/// `recv` (Doc: recv function): 0 at the end of a stream.
pub unsafe fn recv(s: SOCKET, buf: PSTR, len: i32, flags: SEND_RECV_FLAGS) -> i32 {
    let call = enter("recv");
    let args =
        [Value::Hex(s as u64), Value::Int(len.into()), Value::Const(Meaning::MessageFlags, flags.into())];
    let request = Request::plain(s, Direction::Receive { from: None }, buf, len, flags);
    call.winsock(&args, count(transfer(call, &args, request)))
}

/// `recvfrom` (Doc: recvfrom function).
pub unsafe fn recvfrom(
    s: SOCKET,
    buf: PSTR,
    len: i32,
    flags: i32,
    from: *mut SOCKADDR,
    fromlen: *mut i32,
) -> i32 {
    let call = enter("recvfrom");
    let args = [
        Value::Hex(s as u64),
        Value::Int(len.into()),
        Value::Const(Meaning::MessageFlags, flags.into()),
        Value::Ptr(!from.is_null()),
    ];
    let direction = Direction::Receive { from: Some(FromSlot { addr: from, len: fromlen }) };
    let request = Request::plain(s, direction, buf, len, flags);
    call.winsock(&args, count(transfer(call, &args, request)))
}

fn null() -> *mut OVERLAPPED {
    std::ptr::null_mut()
}

/// The `int` a non-overlapped call returns: the byte count.
fn count(r: Result<Transferred, u32>) -> Result<i32, u32> {
    match r? {
        Transferred::Now { bytes, .. } => Ok(i32::try_from(bytes).unwrap_or(i32::MAX)),
        Transferred::Pending => unreachable!("a call without an OVERLAPPED does not pend"),
    }
}

/// The end of an overlapped-capable call: 0 with the counts written when done at once,
/// `WSA_IO_PENDING` when it pends (the counts untouched: Doc: WSARecv, Doc: WSASend).
///
/// # Safety
/// `bytes` and `flags_out` must be valid when not NULL.
unsafe fn overlapped_result(
    r: Result<Transferred, u32>,
    bytes: *mut u32,
    flags_out: *mut u32,
) -> Result<i32, u32> {
    match r? {
        Transferred::Now { bytes: n, flags } => {
            // SAFETY: the caller's contract.
            unsafe {
                if !bytes.is_null() {
                    *bytes = n as u32;
                }
                if !flags_out.is_null() {
                    *flags_out = flags;
                }
            }
            Ok(0)
        }
        Transferred::Pending => Err(ERROR_IO_PENDING),
    }
}

/// The byte count may be NULL only with an OVERLAPPED (Doc: WSARecv, Doc: WSASend; Wine
/// sock.c test_WSASendTo).
fn check_counts(bytes: *mut u32, ov: *mut OVERLAPPED) -> Result<(), u32> {
    if bytes.is_null() && ov.is_null() { Err(WSAEFAULT as u32) } else { Ok(()) }
}

/// `WSASend` (Doc: WSASend function).
pub unsafe fn WSASend(
    s: SOCKET,
    lpbuffers: *const WSABUF,
    dwbuffercount: u32,
    lpnumberofbytessent: *mut u32,
    dwflags: u32,
    lpoverlapped: *mut OVERLAPPED,
    lpcompletionroutine: LPWSAOVERLAPPED_COMPLETION_ROUTINE,
) -> i32 {
    let call = enter("WSASend");
    // SAFETY: as for `send_overlapped`.
    unsafe {
        send_overlapped(
            call,
            s,
            (lpbuffers, dwbuffercount),
            lpnumberofbytessent,
            dwflags,
            None,
            lpoverlapped,
            lpcompletionroutine,
        )
    }
}

/// `WSASendTo` (Doc: WSASendTo function).
pub unsafe fn WSASendTo(
    s: SOCKET,
    lpbuffers: *const WSABUF,
    dwbuffercount: u32,
    lpnumberofbytessent: *mut u32,
    dwflags: u32,
    lpto: *const SOCKADDR,
    itolen: i32,
    lpoverlapped: *mut OVERLAPPED,
    lpcompletionroutine: LPWSAOVERLAPPED_COMPLETION_ROUTINE,
) -> i32 {
    let call = enter("WSASendTo");
    // SAFETY: the caller passes `itolen` bytes at `lpto` when it is not NULL.
    let dst = (!lpto.is_null()).then(|| unsafe { read_sockaddr(lpto, itolen) }).transpose();
    // SAFETY: as for `send_overlapped`.
    unsafe {
        send_overlapped(
            call,
            s,
            (lpbuffers, dwbuffercount),
            lpnumberofbytessent,
            dwflags,
            Some(dst),
            lpoverlapped,
            lpcompletionroutine,
        )
    }
}

/// `WSASend`, or `WSASendTo` when `to` is given: the destination as read, `Ok(None)` for
/// a NULL `lpTo`.
///
/// # Safety
/// The pointers must be valid as `WSASendTo` requires.
unsafe fn send_overlapped(
    call: Call,
    s: SOCKET,
    (lpbuffers, count): (*const WSABUF, u32),
    bytes: *mut u32,
    flags: u32,
    to: Option<Result<Option<SocketAddrV4>, u32>>,
    ov: *mut OVERLAPPED,
    routine: LPWSAOVERLAPPED_COMPLETION_ROUTINE,
) -> i32 {
    // SAFETY: the caller's contract.
    let buffers = unsafe { capture(lpbuffers, count, Access::Read) };
    let args = OverlappedArgs::new(
        [
            Value::Hex(s as u64),
            total(&buffers),
            Value::Int(count.into()),
            Value::Ptr(!bytes.is_null()),
            Value::Const(Meaning::MessageFlags, flags.into()),
        ],
        to.map(|dst| dst.map_or(Value::Ptr(true), |d| d.map_or(Value::Ptr(false), show))),
        ov,
        routine,
    );
    let args = args.as_slice();
    let request = Request {
        socket: s,
        direction: Direction::Send { to: to.unwrap_or(Ok(None)) },
        buffers,
        count: check_counts(bytes, ov),
        flags: Ok(flags),
        overlapped: ov,
        routine,
    };
    // SAFETY: the caller's contract.
    let r = unsafe { overlapped_result(transfer(call, args, request), bytes, std::ptr::null_mut()) };
    call.winsock(args, r)
}

/// The trace arguments of the overlapped family: five leading ones, the address
/// argument of `WSASendTo` and `WSARecvFrom` when there is one, then the OVERLAPPED and
/// the routine; kept in place, since every such call makes them.
struct OverlappedArgs {
    values: [Value; 8],
    len: usize,
}

impl OverlappedArgs {
    fn new(
        [a, b, c, d, e]: [Value; 5],
        address: Option<Value>,
        ov: *mut OVERLAPPED,
        routine: LPWSAOVERLAPPED_COMPLETION_ROUTINE,
    ) -> OverlappedArgs {
        let (ov, routine) = (Value::Ptr(!ov.is_null()), Value::Ptr(routine.is_some()));
        match address {
            Some(x) => OverlappedArgs { values: [a, b, c, d, e, x, ov, routine], len: 8 },
            None => OverlappedArgs { values: [a, b, c, d, e, ov, routine, Value::Void], len: 7 },
        }
    }

    fn as_slice(&self) -> &[Value] {
        &self.values[..self.len]
    }
}

/// `WSARecv` (Doc: WSARecv function).
pub unsafe fn WSARecv(
    s: SOCKET,
    lpbuffers: *const WSABUF,
    dwbuffercount: u32,
    lpnumberofbytesrecvd: *mut u32,
    lpflags: *mut u32,
    lpoverlapped: *mut OVERLAPPED,
    lpcompletionroutine: LPWSAOVERLAPPED_COMPLETION_ROUTINE,
) -> i32 {
    let call = enter("WSARecv");
    // SAFETY: as for `WSARecvFrom`.
    unsafe {
        receive(
            call,
            s,
            (lpbuffers, dwbuffercount),
            lpnumberofbytesrecvd,
            lpflags,
            None,
            lpoverlapped,
            lpcompletionroutine,
        )
    }
}

/// `WSARecvFrom` (Doc: WSARecvFrom function): `lpFrom` and `lpFromlen` are written at
/// completion.
pub unsafe fn WSARecvFrom(
    s: SOCKET,
    lpbuffers: *const WSABUF,
    dwbuffercount: u32,
    lpnumberofbytesrecvd: *mut u32,
    lpflags: *mut u32,
    lpfrom: *mut SOCKADDR,
    lpfromlen: *mut i32,
    lpoverlapped: *mut OVERLAPPED,
    lpcompletionroutine: LPWSAOVERLAPPED_COMPLETION_ROUTINE,
) -> i32 {
    let call = enter("WSARecvFrom");
    let from = Some(FromSlot { addr: lpfrom, len: lpfromlen });
    // SAFETY: the caller's pointers, as Windows takes them.
    unsafe {
        receive(
            call,
            s,
            (lpbuffers, dwbuffercount),
            lpnumberofbytesrecvd,
            lpflags,
            from,
            lpoverlapped,
            lpcompletionroutine,
        )
    }
}

/// # Safety
/// The pointers must be valid as `WSARecvFrom` requires.
unsafe fn receive(
    call: Call,
    s: SOCKET,
    (lpbuffers, count): (*const WSABUF, u32),
    bytes: *mut u32,
    lpflags: *mut u32,
    from: Option<FromSlot>,
    ov: *mut OVERLAPPED,
    routine: LPWSAOVERLAPPED_COMPLETION_ROUTINE,
) -> i32 {
    // SAFETY: the caller's contract.
    let buffers = unsafe { capture(lpbuffers, count, Access::Write) };
    // SAFETY: as above.
    let flags = (!lpflags.is_null()).then(|| unsafe { *lpflags });
    let args = OverlappedArgs::new(
        [
            Value::Hex(s as u64),
            total(&buffers),
            Value::Int(count.into()),
            Value::Ptr(!bytes.is_null()),
            flags.map_or(Value::Ptr(false), |f| Value::Int(f.into())),
        ],
        from.map(|f| Value::Ptr(!f.addr.is_null())),
        ov,
        routine,
    );
    let args = args.as_slice();
    let request = Request {
        socket: s,
        direction: Direction::Receive { from },
        buffers,
        count: check_counts(bytes, ov),
        flags: flags.ok_or(WSAEFAULT as u32),
        overlapped: ov,
        routine,
    };
    // SAFETY: the caller's contract.
    let r = unsafe { overlapped_result(transfer(call, args, request), bytes, lpflags) };
    call.winsock(args, r)
}
