//! How a program learns that a socket is ready: `WSAEventSelect` and
//! `WSAEnumNetworkEvents` (network events on an event object), and `select` and `WSAPoll`
//! (readiness looked up, waiting for it if need be). The record's rules are
//! `wsasim_model::NetworkEvents`'s, and what is ready is the transport's to say; here are
//! the arguments, their errors, and the waiting.

use crate::call::{Call, enter};
use crate::event::is_event;
use crate::memory::{self, Access};
use crate::socket::lookup;
use windows_sys::Win32::Networking::WinSock::*;
use wsasim_model::{Enumerated, Handle};
use wsasim_sim::names::{Meaning, NETWORK_EVENTS};
use wsasim_sim::{Blocker, Readiness, SocketId, Value, Wake, World};

/// Every FD_ bit (`FD_ALL_EVENTS`, which `windows-sys` does not export; Doc: WSAEventSelect).
const FD_ALL_EVENTS: u32 = (1 << FD_MAX_EVENTS) - 1;

/// `WSAEventSelect` (Doc: WSAEventSelect function): the socket's one selection, replaced
/// whole; the socket becomes nonblocking. A NULL or invalid event with a nonzero mask, or
/// bits beyond `FD_ALL_EVENTS`, are `WSAEINVAL` [inferred for the invalid event: the page
/// gives WSAEINVAL for "one of the specified parameters"].
pub unsafe fn WSAEventSelect(s: SOCKET, heventobject: WSAEVENT, lnetworkevents: i32) -> i32 {
    let call = enter("WSAEventSelect");
    let mask = lnetworkevents as u32;
    let args = [
        Value::Hex(s as u64),
        Value::Hex(heventobject as u64),
        Value::Const(Meaning::NetworkEvents, mask.into()),
    ];
    let r = lookup(call, s).and_then(|id| {
        let event = event_handle(heventobject);
        call.with(|w| {
            if mask & !FD_ALL_EVENTS != 0 || (mask != 0 && !event.is_some_and(|h| is_event(w, h))) {
                return Err(WSAEINVAL as u32);
            }
            w.event_select(id, event, mask);
            Ok(0)
        })
    });
    call.winsock(&args, r)
}

/// `WSAEnumNetworkEvents` (Doc: WSAEnumNetworkEvents function): the recorded events in the
/// mask, with a code written for each of them only; the event, when given, is reset in the
/// same step. A failure clears nothing.
pub unsafe fn WSAEnumNetworkEvents(
    s: SOCKET,
    heventobject: WSAEVENT,
    lpnetworkevents: *mut WSANETWORKEVENTS,
) -> i32 {
    let call = enter("WSAEnumNetworkEvents");
    let mut args = vec![Value::Hex(s as u64), Value::Hex(heventobject as u64)];
    let r = lookup(call, s).and_then(|id| {
        if lpnetworkevents.is_null() {
            return Err(WSAEFAULT as u32);
        }
        let event = event_handle(heventobject);
        call.with(|w| {
            if event.is_some_and(|h| !is_event(w, h)) {
                return Err(WSAEINVAL as u32);
            }
            Ok(w.enumerate_events(id, event))
        })
    });
    let r = r.map(|found| {
        // SAFETY: the caller passes a WSANETWORKEVENTS to fill, as for Windows.
        let out = unsafe { &mut *lpnetworkevents };
        out.lNetworkEvents = found.events as i32;
        for (bit, code) in found.entries() {
            out.iErrorCode[bit as usize] = code as i32;
        }
        args.push(Value::Text(show_found(&found)));
        0
    });
    call.winsock(&args, r)
}

fn event_handle(h: WSAEVENT) -> Option<Handle> {
    (h != 0).then_some(Handle(h as usize))
}

/// `{FD_READ, FD_CLOSE 10053}`: the events found, each with its code when not 0.
fn show_found(found: &Enumerated) -> String {
    let items: Vec<String> = found
        .entries()
        .map(|(bit, code)| match code {
            0 => NETWORK_EVENTS[bit as usize].0.to_owned(),
            code => format!("{} {code}", NETWORK_EVENTS[bit as usize].0),
        })
        .collect();
    format!("{{{}}}", items.join(", "))
}

/// Waits, alertably (Wine sock.c test_select: an APC runs inside `select`), until `ready`
/// finds something or `deadline_ns` passes. `None` is a timeout; a zero timeout
/// (`deadline_ns` now) only looks.
fn wait_ready<T>(
    call: Call,
    args: &[Value],
    sockets: &[SocketId],
    deadline_ns: Option<u64>,
    mut ready: impl FnMut(&World) -> Option<T>,
) -> Option<T> {
    let handles: Vec<Handle> = call.with(|w| sockets.iter().map(|s| w.socket(*s).handle).collect());
    loop {
        if let Some(found) = call.with(|w| ready(w)) {
            return Some(found);
        }
        if call.cx.run_apcs() > 0 {
            continue;
        }
        if deadline_ns.is_some_and(|d| d <= call.with(|w| w.now_ns())) {
            return None;
        }
        let on = Blocker::Poll { sockets: handles.clone() };
        match call.cx.block(call.name, args, on, deadline_ns) {
            Wake::Io | Wake::Apc => continue,
            Wake::Timeout => return call.with(|w| ready(w)),
            other => unreachable!("a poll woken by {other:?}"),
        }
    }
}

/// One `fd_set` argument of `select`: where it is, and the sockets it named.
struct Set {
    ptr: *mut FD_SET,
    sockets: Vec<(SOCKET, SocketId)>,
}

/// Which of `select`'s three sets, and what puts a socket in it.
#[derive(Clone, Copy)]
enum Kind {
    Read,
    Write,
    Except,
}

impl Kind {
    /// Wine sock.c test_select and test_tcp_reset: readable with data, a connection to
    /// accept, the peer's close or a reset (and a socket closed meanwhile by another
    /// thread); writable when a send would be taken, a reset included; exceptional when a
    /// nonblocking connect failed or an urgent byte waits out of line.
    fn holds(self, r: Readiness, closed: bool) -> bool {
        match self {
            Kind::Read => closed || r.data || r.peer_closed || r.reset,
            Kind::Write => !closed && r.writable,
            Kind::Except => !closed && (r.connect_failed || r.urgent),
        }
    }
}

/// `select` (Doc: select function): `nfds` is ignored; a NULL timeout waits for ever and
/// {0, 0} only looks; the sets are rewritten in place with the ready sockets, each once
/// (Wine sock.c test_select: a socket listed twice comes back once), and the result is
/// their total. Every set NULL or empty, or a negative timeout, is `WSAEINVAL`; a handle
/// that is not a socket is `WSAENOTSOCK`, and the sets are then left as they were.
pub unsafe fn select(
    nfds: i32,
    readfds: *mut FD_SET,
    writefds: *mut FD_SET,
    exceptfds: *mut FD_SET,
    timeout: *const TIMEVAL,
) -> i32 {
    let call = enter("select");
    // SAFETY: the caller passes valid sets when not NULL, as for Windows; each is probed.
    let read = unsafe { [readfds, writefds, exceptfds].map(|set| read_set(set, Access::Write)) };
    // SAFETY: as above, for the timeout.
    let timeout = (!timeout.is_null()).then(|| unsafe { *timeout });
    let mut args = vec![Value::Int(nfds.into())];
    args.extend(read.iter().map(|set| match set {
        Ok(Some(list)) => Value::List(sockets_shown(list)),
        Ok(None) => Value::Ptr(false),
        Err(_) => Value::Ptr(true),
    }));
    let lists = match read {
        [Ok(r), Ok(w), Ok(e)] => Ok([r, w, e]),
        _ => Err(WSAEFAULT as u32),
    };
    args.push(timeout.map_or(Value::Ptr(false), |t| Value::Text(format!("{{{}, {}}}", t.tv_sec, t.tv_usec))));
    let r = select_sets(call, &args, [readfds, writefds, exceptfds], lists, timeout);
    if let Ok(n) = &r {
        // SAFETY: as above.
        let shown = unsafe {
            [readfds, writefds, exceptfds]
                .map(|p| read_set(p, Access::Read).map_or(0, |l| l.map_or(0, |l| l.len())))
        };
        args.push(Value::Text(format!("{n} ready: {}/{}/{}", shown[0], shown[1], shown[2])));
    }
    call.winsock(&args, r)
}

/// The sockets of a set, `None` for NULL; WSAEFAULT for a set whose `fd_count` entries are
/// not the program's memory. Windows reads exactly `fd_count` entries, more than
/// `FD_SETSIZE` too (Wine sock.c test_select: 200 sockets in one set; a set whose second
/// entry is on a PAGE_NOACCESS page, with `fd_count` 1, succeeds).
///
/// # Safety
/// `set` must be a valid `FD_SET` when not NULL.
unsafe fn read_set(set: *mut FD_SET, access: Access) -> Result<Option<Vec<SOCKET>>, u32> {
    if set.is_null() {
        return Ok(None);
    }
    let usable = |len: usize| memory::usable(set.cast(), len, access);
    let header = std::mem::offset_of!(FD_SET, fd_array);
    if !usable(header) {
        return Err(WSAEFAULT as u32);
    }
    // SAFETY: the count was probed.
    let count = unsafe { (*set).fd_count } as usize;
    if !usable(header + count * size_of::<SOCKET>()) {
        return Err(WSAEFAULT as u32);
    }
    // SAFETY: the caller's set, its `count` entries probed.
    Ok(Some(
        unsafe { std::slice::from_raw_parts((&raw const (*set).fd_array).cast::<SOCKET>(), count) }.to_vec(),
    ))
}

fn sockets_shown(list: &[SOCKET]) -> Vec<u64> {
    list.iter().map(|s| *s as u64).collect()
}

fn select_sets(
    call: Call,
    args: &[Value],
    ptrs: [*mut FD_SET; 3],
    lists: Result<[Option<Vec<SOCKET>>; 3], u32>,
    timeout: Option<TIMEVAL>,
) -> Result<i32, u32> {
    // Doc: select: WSANOTINITIALISED before anything else.
    if !call.with(|w| w.net_started()) {
        return Err(WSANOTINITIALISED as u32);
    }
    let lists = lists?;
    if lists.iter().all(|l| l.as_ref().is_none_or(Vec::is_empty)) {
        return Err(WSAEINVAL as u32);
    }
    let deadline_ns = match timeout {
        None => None,
        Some(t) if t.tv_sec < 0 || t.tv_usec < 0 => return Err(WSAEINVAL as u32),
        Some(t) => {
            let ns = t.tv_sec as u64 * 1_000_000_000 + t.tv_usec as u64 * 1_000;
            Some(call.with(|w| w.now_ns()) + ns)
        }
    };
    let mut sets = Vec::new();
    for (ptr, list) in ptrs.into_iter().zip(lists) {
        let mut sockets: Vec<(SOCKET, SocketId)> = Vec::new();
        for s in list.unwrap_or_default() {
            let id = lookup(call, s)?;
            if !sockets.iter().any(|(seen, _)| *seen == s) {
                sockets.push((s, id));
            }
        }
        sets.push(Set { ptr, sockets });
    }
    let watched: Vec<SocketId> = sets.iter().flat_map(|set| set.sockets.iter().map(|(_, id)| *id)).collect();
    let kinds = [Kind::Read, Kind::Write, Kind::Except];
    let ready = |w: &World| {
        // A socket closed meanwhile by another thread is readable; in the other sets only,
        // it fails the call (Wine sock.c test_select: exceptfds alone gives WSAENOTSOCK).
        let closed = |id: &SocketId| w.socket(*id).closed;
        let found: Vec<Vec<SOCKET>> = sets
            .iter()
            .zip(kinds)
            .map(|(set, kind)| {
                let holds = |id: SocketId| kind.holds(w.readiness(id), closed(&id));
                set.sockets.iter().filter(|(_, id)| holds(*id)).map(|(s, _)| *s).collect()
            })
            .collect();
        if found.iter().any(|f| !f.is_empty()) {
            return Some(Ok(found));
        }
        watched.iter().any(closed).then_some(Err(WSAENOTSOCK as u32))
    };
    let found = wait_ready(call, args, &watched, deadline_ns, ready).transpose()?;
    let found = found.unwrap_or_else(|| vec![Vec::new(); 3]);
    let mut total = 0;
    for (set, ready) in sets.iter().zip(found) {
        if set.ptr.is_null() {
            continue;
        }
        total += ready.len();
        // SAFETY: the caller's set, which `select` rewrites in place (Doc: select).
        unsafe {
            (*set.ptr).fd_count = ready.len() as u32;
            let array = (&raw mut (*set.ptr).fd_array).cast::<SOCKET>();
            for (i, s) in ready.into_iter().enumerate() {
                array.add(i).write(s);
            }
        }
    }
    Ok(total as i32)
}

/// `__WSAFDIsSet`, behind the `FD_ISSET` macro: whether `fd` is in the set. It touches no
/// state, so it is not a scheduling point.
pub unsafe fn __WSAFDIsSet(fd: SOCKET, param1: *mut FD_SET) -> i32 {
    // SAFETY: the caller passes a valid set, as for Windows.
    let list = unsafe { read_set(param1, Access::Read) }.unwrap_or_default().unwrap_or_default();
    list.contains(&fd).into()
}

/// The `events` bits a program may ask for (Wine sock.c test_WSAPoll: any other bit is
/// `WSAEINVAL` on Windows, todo_wine).
const POLL_REQUESTS: i16 = POLLRDNORM | POLLRDBAND | POLLWRNORM;

/// `WSAPoll` (Doc: WSAPoll function; it neither reads nor sets network events: Wine sock.c
/// test_select_after_WSAEventSelect): each entry's `revents`, with `POLLHUP` and `POLLERR`
/// whether asked for or not; a negative timeout waits for ever, 0 only looks. The result is
/// the number of entries with `revents` set. An entry that is not a socket gets `POLLNVAL`
/// and is not counted, unless every entry is one: then `WSAENOTSOCK` (Wine sock.c
/// test_WSAPoll).
pub unsafe fn WSAPoll(fdarray: *mut WSAPOLLFD, fds: u32, timeout: i32) -> i32 {
    let call = enter("WSAPoll");
    // A NULL or unmapped array is WSAEFAULT (Wine sock.c test_WSAPoll: `WSAPoll(NULL, 1, 0)`;
    // Doc: WSAPoll, "an exception occurred while reading user input parameters"); NULL is
    // never mapped.
    let mapped = (fds as usize)
        .checked_mul(size_of::<WSAPOLLFD>())
        .is_some_and(|len| memory::usable(fdarray.cast(), len, Access::Write));
    let entries: &mut [WSAPOLLFD] = if fds == 0 || !mapped {
        &mut []
    } else {
        // SAFETY: the caller passes `fds` entries, as for Windows; they were probed.
        unsafe { std::slice::from_raw_parts_mut(fdarray, fds as usize) }
    };
    let mut args = vec![
        Value::Text(
            entries.iter().map(|e| format!("{:#x}:{:#x}", e.fd, e.events)).collect::<Vec<_>>().join(" "),
        ),
        Value::Int(fds.into()),
        Value::Int(timeout.into()),
    ];
    let r = if fds == 0 {
        Err(WSAEINVAL as u32)
    } else if !mapped {
        Err(WSAEFAULT as u32)
    } else {
        poll_entries(call, &args, entries, timeout)
    };
    if r.is_ok() {
        args.push(Value::Text(
            entries.iter().map(|e| format!("{:#x}", e.revents)).collect::<Vec<_>>().join(" "),
        ));
    }
    call.winsock(&args, r)
}

fn poll_entries(call: Call, args: &[Value], entries: &mut [WSAPOLLFD], timeout: i32) -> Result<i32, u32> {
    if entries.iter().any(|e| e.events & !POLL_REQUESTS != 0) {
        return Err(WSAEINVAL as u32);
    }
    let ids: Vec<Option<SocketId>> = entries.iter().map(|e| lookup(call, e.fd).ok()).collect();
    for (entry, id) in entries.iter_mut().zip(&ids) {
        entry.revents = if id.is_some() { 0 } else { POLLNVAL };
    }
    if ids.iter().all(Option::is_none) {
        return Err(WSAENOTSOCK as u32);
    }
    let watched: Vec<SocketId> = ids.iter().flatten().copied().collect();
    let deadline_ns = u64::try_from(timeout).ok().map(|ms| call.with(|w| w.now_ns()) + ms * 1_000_000);
    let requests: Vec<i16> = entries.iter().map(|e| e.events).collect();
    let ready = |w: &World| {
        let revents: Vec<i16> =
            ids.iter().zip(&requests).map(|(id, asked)| id.map_or(0, |id| revents(w, id, *asked))).collect();
        revents.iter().any(|r| *r != 0).then_some(revents)
    };
    let Some(found) = wait_ready(call, args, &watched, deadline_ns, ready) else {
        return Ok(0);
    };
    for (entry, r) in entries.iter_mut().zip(found) {
        if r != 0 {
            entry.revents = r;
        }
    }
    Ok(entries.iter().zip(&ids).filter(|(e, id)| id.is_some() && e.revents != 0).count() as i32)
}

/// One socket's `revents` (Wine sock.c test_WSAPoll, test_tcp_reset): the peer's close
/// is `POLLHUP` without `POLLRDNORM` unless data is left; a reset is
/// `POLLERR|POLLHUP|POLLWRNORM`; a refused connect `POLLWRNORM|POLLHUP|POLLERR`
/// (todo_wine); a socket closed meanwhile `POLLNVAL`.
fn revents(w: &World, id: SocketId, asked: i16) -> i16 {
    if w.socket(id).closed {
        return POLLNVAL;
    }
    let r = w.readiness(id);
    let flag = |on: bool, bits: i16| if on { bits } else { 0 };
    let offered = flag(r.data, POLLRDNORM)
        | flag(r.urgent, POLLRDBAND)
        | flag(r.writable || r.connect_failed, POLLWRNORM);
    let always = flag(r.peer_closed || r.reset || r.connect_failed, POLLHUP)
        | flag(r.reset || r.connect_failed, POLLERR);
    (offered & asked) | always
}
