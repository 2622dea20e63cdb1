//! A socket's life and settings: `WSAStartup`, `WSACleanup`, `socket`, `WSASocketW`,
//! `bind`, `listen`, `accept`, `connect`, `closesocket`, `shutdown`, `ioctlsocket`,
//! `setsockopt`, `getsockopt`, `getsockname`, `getpeername`. The transport's rules are
//! `wsasim_sim::net`'s; here are the arguments, the errors of bad ones, and the blocking.

use crate::addr::{read_peer_name, read_sockaddr, show, write_sockaddr};
use crate::call::{Call, enter};
use crate::io::{Blocked, block_on};
use crate::memory::{self, Access};
use std::net::SocketAddrV4;
use windows_sys::Win32::Foundation::STATUS_PENDING;
use windows_sys::Win32::Networking::WinSock::*;
use windows_sys::Win32::System::IO::OVERLAPPED;
use windows_sys::core::{PCSTR, PSTR};
use wsasim_model::{Proto, Status, Tcp};
use wsasim_sim::names::Meaning;
use wsasim_sim::{Notify, Op, SocketId, Value, World};

/// `WSAStartup` (Doc: WSAStartup function): it always offers version 2.2; a request for
/// major version 0 is `WSAVERNOTSUPPORTED`. It returns its error rather than setting it.
pub unsafe fn WSAStartup(wversionrequested: u16, lpwsadata: *mut WSADATA) -> i32 {
    let call = enter("WSAStartup");
    let args = [Value::Hex(wversionrequested.into()), Value::Ptr(!lpwsadata.is_null())];
    let [major, minor] = wversionrequested.to_le_bytes();
    // The version given back (ReactOS apitest WSAStartup, as Windows answers it): 1.0, 1.1,
    // 2.0, 2.1 and 2.2 as asked, a higher 1.x as 1.1, anything higher as 2.2; major 0 is
    // refused, with the WSADATA filled in as for 2.2. The version is checked first:
    // `WSAStartup(0, NULL)` is WSAVERNOTSUPPORTED, `WSAStartup(0x0202, NULL)` WSAEFAULT.
    let (r, version) = match (major, minor) {
        (0, _) => (WSAVERNOTSUPPORTED, 0x0202),
        (1, 0..=1) | (2, 0..=2) => (0, wversionrequested),
        (1, _) => (0, 0x0101),
        _ => (0, 0x0202),
    };
    let writable =
        !lpwsadata.is_null() && memory::usable(lpwsadata.cast(), size_of::<WSADATA>(), Access::Write);
    let r = if r == 0 && !writable { WSAEFAULT } else { r };
    if writable {
        // SAFETY: the caller's WSADATA, probed; `lpVendorInfo` and the text buffers past
        // their strings are left as they were, as Windows leaves them (the apitest's fill).
        unsafe { fill_wsadata(&mut *lpwsadata, version) };
    }
    if r == 0 {
        call.with(World::net_startup);
    }
    call.done(&args, Value::Int(r.into()), None);
    r
}

/// What `WSAStartup` writes of a WSADATA for `version`: 1.x reports the old limits on
/// sockets and datagram sizes, 2.x zeros (ReactOS apitest WSAStartup).
fn fill_wsadata(data: &mut WSADATA, version: u16) {
    data.wVersion = version;
    data.wHighVersion = 0x0202;
    let legacy = version & 0xff < 2;
    (data.iMaxSockets, data.iMaxUdpDg) = if legacy { (32767, 65467) } else { (0, 0) };
    for (field, text) in
        [(&mut data.szDescription[..], &b"WinSock 2.0\0"[..]), (&mut data.szSystemStatus[..], b"Running\0")]
    {
        for (d, s) in field.iter_mut().zip(text) {
            *d = *s as i8;
        }
    }
}

/// `WSACleanup` (Wine sock.c test_WithWSAStartup): the last call closes the host's sockets.
pub unsafe fn WSACleanup() -> i32 {
    let call = enter("WSACleanup");
    let r = call.with(World::net_cleanup);
    call.winsock(&[], r.map(|()| 0))
}

/// `socket` (Doc: socket function): AF_INET stream (TCP) or datagram (UDP) sockets, with
/// the overlapped attribute the page says `socket` gives by default.
pub unsafe fn socket(af: i32, r#type: WINSOCK_SOCKET_TYPE, protocol: i32) -> SOCKET {
    let call = enter("socket");
    open(call, af, r#type, protocol, true, &[])
}

/// `WSASocketW` (Doc: WSASocketW function): as `socket`, overlapped only with
/// `WSA_FLAG_OVERLAPPED`. Protocol info and groups are not simulated: they must be NULL and 0.
pub unsafe fn WSASocketW(
    af: i32,
    r#type: i32,
    protocol: i32,
    lpprotocolinfo: *const WSAPROTOCOL_INFOW,
    g: u32,
    dwflags: u32,
) -> SOCKET {
    wsa_socket(enter("WSASocketW"), af, r#type, protocol, !lpprotocolinfo.is_null(), g, dwflags)
}

/// `WSASocketA` (Doc: WSASocketA function): [`WSASocketW`] with ANSI protocol info, which
/// is not simulated either.
pub unsafe fn WSASocketA(
    af: i32,
    r#type: i32,
    protocol: i32,
    lpprotocolinfo: *const WSAPROTOCOL_INFOA,
    g: u32,
    dwflags: u32,
) -> SOCKET {
    wsa_socket(enter("WSASocketA"), af, r#type, protocol, !lpprotocolinfo.is_null(), g, dwflags)
}

fn wsa_socket(call: Call, af: i32, kind: i32, protocol: i32, info: bool, g: u32, flags: u32) -> SOCKET {
    let extra = [Value::Ptr(info), Value::Int(g.into()), Value::Hex(flags.into())];
    if info || g != 0 {
        return refuse(
            call,
            &[Value::Const(Meaning::Family, af.into()), Value::Const(Meaning::SocketType, kind.into())],
            WSAEINVAL as u32,
        );
    }
    open(call, af, kind, protocol, flags & WSA_FLAG_OVERLAPPED != 0, &extra)
}

fn open(call: Call, af: i32, kind: i32, protocol: i32, overlapped: bool, extra: &[Value]) -> SOCKET {
    let mut args = vec![
        Value::Const(Meaning::Family, af.into()),
        Value::Const(Meaning::SocketType, kind.into()),
        Value::Const(Meaning::Protocol, protocol.into()),
    ];
    args.extend_from_slice(extra);
    let proto = match (kind, protocol) {
        (SOCK_STREAM, 0 | IPPROTO_TCP) => Ok(Proto::Tcp),
        (SOCK_DGRAM, 0 | IPPROTO_UDP) => Ok(Proto::Udp),
        (SOCK_STREAM | SOCK_DGRAM, _) => Err(WSAEPROTONOSUPPORT),
        _ => Err(WSAESOCKTNOSUPPORT),
    };
    let r = call.with(|w| {
        if !w.net_started() {
            return Err(WSANOTINITIALISED as u32);
        }
        if af != i32::from(AF_INET) {
            // Only IPv4 is simulated (a README deviation).
            return Err(WSAEAFNOSUPPORT as u32);
        }
        let proto = proto.map_err(|e| e as u32)?;
        if let Some(e) = w.injected(call.name) {
            return Err(e);
        }
        w.set_last_error(0);
        Ok(w.open_socket(proto, overlapped))
    });
    match r {
        Ok(s) => {
            let h = call.with(|w| w.socket(s).handle);
            call.done(&args, Value::Hex(h.0 as u64), None);
            h.0
        }
        Err(e) => refuse(call, &args, e),
    }
}

fn refuse(call: Call, args: &[Value], e: u32) -> SOCKET {
    call.done(args, Value::Str("INVALID_SOCKET"), Some(e));
    INVALID_SOCKET
}

/// The socket behind `s` on this host, or the error Winsock gives.
pub(crate) fn lookup(call: Call, s: SOCKET) -> Result<SocketId, u32> {
    call.with(|w| w.socket_id(s))
}

/// `bind` (Doc: bind function): port 0 takes a free dynamic port (49152–65535).
pub unsafe fn bind(s: SOCKET, name: *const SOCKADDR, namelen: i32) -> i32 {
    let call = enter("bind");
    // SAFETY: the caller passes `namelen` bytes at `name`, as for Windows.
    let addr = unsafe { read_sockaddr(name, namelen) };
    let args =
        [Value::Hex(s as u64), addr.map_or(Value::Ptr(!name.is_null()), show), Value::Int(namelen.into())];
    let r = lookup(call, s).and_then(|id| call.with(|w| w.bind(id, addr?)));
    call.winsock(&args, r.map(|()| 0))
}

/// `listen` (Doc: listen function).
pub unsafe fn listen(s: SOCKET, backlog: i32) -> i32 {
    let call = enter("listen");
    let args = [Value::Hex(s as u64), Value::Int(backlog.into())];
    let r = lookup(call, s).and_then(|id| call.with(|w| w.listen(id, backlog)));
    call.winsock(&args, r.map(|()| 0))
}

/// `accept` (Doc: accept function): the next connection, waiting for one (alertably: Wine
/// sock.c test_accept) unless the socket is nonblocking (`WSAEWOULDBLOCK`).
pub unsafe fn accept(s: SOCKET, addr: *mut SOCKADDR, addrlen: *mut i32) -> SOCKET {
    let call = enter("accept");
    let args = [Value::Hex(s as u64), Value::Ptr(!addr.is_null()), Value::Ptr(!addrlen.is_null())];
    // SAFETY: the caller passes a length to read when it is not NULL, as for Windows.
    let room = (!addrlen.is_null()).then(|| unsafe { *addrlen });
    let r = lookup(call, s).and_then(|id| {
        if !addr.is_null() && room.is_none_or(|n| usize::try_from(n).unwrap_or(0) < size_of::<SOCKADDR_IN>())
        {
            // Doc: accept: WSAEFAULT, "addrlen is too small or addr is not valid".
            return Err(WSAEFAULT as u32);
        }
        loop {
            match call.with(|w| w.accept(id))? {
                Some(new) => break Ok(new),
                None if call.with(|w| w.socket(id).options.nonblocking) => break Err(WSAEWOULDBLOCK as u32),
                None => wait_for_state(call, &args, id)?,
            }
        }
    });
    let r = r.and_then(|new| {
        let peer = call.with(|w| w.socket(new).peer).expect("an accepted socket has a peer");
        if !addr.is_null() {
            // SAFETY: the caller passes room for the address, as for Windows.
            unsafe { write_sockaddr(addr, addrlen, peer) }?;
        }
        Ok(new)
    });
    match r {
        Ok(new) => {
            let h = call.with(|w| {
                w.set_last_error(0);
                w.socket(new).handle
            });
            call.done(&args, Value::Hex(h.0 as u64), None);
            h.0
        }
        Err(e) => refuse(call, &args, e),
    }
}

/// Waits, alertably, until the socket's state changes (a connection arrives, a connect
/// ends). A wait cut off by `closesocket` is `WSAEINTR` (Doc: closesocket, blocking calls
/// "canceled").
fn wait_for_state(call: Call, args: &[Value], id: SocketId) -> Result<(), u32> {
    let mut ov = OVERLAPPED { Internal: STATUS_PENDING as usize, ..OVERLAPPED::default() };
    let ov: *mut OVERLAPPED = &mut ov;
    call.with(|w| {
        let thread = w.current();
        let op = Op {
            call: call.name,
            thread,
            buffers: Vec::new(),
            flags: 0,
            overlapped: ov,
            notify: Notify::Waiter,
            from: None,
            taken: 0,
            saved: None,
            in_use: false,
        };
        w.wait_for_state(id, op);
    });
    match block_on(call, args, id, ov, None) {
        Blocked::Completed(Status::SUCCESS) => Ok(()),
        Blocked::Completed(other) if other != Status::CANCELLED => {
            Err(other.wsa_result().err().unwrap_or(WSAEINVAL as u32))
        }
        // Cut off by `closesocket`, or by the end of the run.
        Blocked::Completed(_) | Blocked::TimedOut => Err(WSAEINTR as u32),
    }
}

/// `connect` (Doc: connect function; Wine sock.c test_errors): a TCP connect waits for the
/// handshake unless the socket is nonblocking (`WSAEWOULDBLOCK`); refused, it fails with
/// `WSAECONNREFUSED` after the round trip. A UDP connect sets the default peer.
pub unsafe fn connect(s: SOCKET, name: *const SOCKADDR, namelen: i32) -> i32 {
    // SAFETY: the caller's address, as for Windows.
    unsafe { connect_as(enter("connect"), s, name, namelen, &[], Ok(())) }
}

/// `WSAConnect` (Doc: WSAConnect function): [`connect`], where connect data and flow specs
/// are not simulated: TCP carries no connect data, so `lpCalleeData`'s length is set to 0
/// (Doc: WSAConnect, "if no user data is passed back, ... len ... set to 0"), and caller
/// data or a QOS fails with `WSAEOPNOTSUPP`.
pub unsafe fn WSAConnect(
    s: SOCKET,
    name: *const SOCKADDR,
    namelen: i32,
    lpcallerdata: *const WSABUF,
    lpcalleedata: *mut WSABUF,
    lpsqos: *const QOS,
    lpgqos: *const QOS,
) -> i32 {
    let call = enter("WSAConnect");
    let extra = [lpcallerdata.is_null(), lpcalleedata.is_null(), lpsqos.is_null(), lpgqos.is_null()]
        .map(|n| Value::Ptr(!n));
    let callee =
        !lpcalleedata.is_null() && memory::usable(lpcalleedata.cast(), size_of::<WSABUF>(), Access::Write);
    let supported = if !lpcallerdata.is_null() || !lpsqos.is_null() || !lpgqos.is_null() {
        Err(WSAEOPNOTSUPP as u32)
    } else if !lpcalleedata.is_null() && !callee {
        Err(WSAEFAULT as u32)
    } else {
        Ok(())
    };
    // SAFETY: the caller's address, as for Windows.
    let r = unsafe { connect_as(call, s, name, namelen, &extra, supported) };
    if r == 0 && callee {
        // SAFETY: writable, checked above.
        unsafe { (*lpcalleedata).len = 0 };
    }
    r
}

/// # Safety
/// `name` holds `namelen` bytes when it is not NULL.
unsafe fn connect_as(
    call: Call,
    s: SOCKET,
    name: *const SOCKADDR,
    namelen: i32,
    extra: &[Value],
    supported: Result<(), u32>,
) -> i32 {
    // SAFETY: the caller passes `namelen` bytes at `name`, as for Windows.
    let addr = unsafe { read_peer_name(name, namelen) };
    let mut args = vec![
        Value::Hex(s as u64),
        addr.map_or(Value::Ptr(!name.is_null()), show),
        Value::Int(namelen.into()),
    ];
    args.extend_from_slice(extra);
    let r = lookup(call, s).and_then(|id| {
        supported?;
        if call.with(|w| w.connect(id, addr?, call.name))? {
            return Ok(());
        }
        if call.with(|w| w.socket(id).options.nonblocking) {
            return Err(WSAEWOULDBLOCK as u32);
        }
        loop {
            match call.with(|w| (w.socket(id).tcp, w.socket(id).error)) {
                (Tcp::Connecting, _) => wait_for_state(call, &args, id)?,
                (Tcp::Connected { .. } | Tcp::Reset { .. }, _) => return Ok(()),
                // Another thread made the socket listen meanwhile.
                (_, 0) => return Err(WSAEINVAL as u32),
                (_, error) => return Err(error),
            }
        }
    });
    call.winsock(&args, r.map(|()| 0))
}

/// `closesocket` (Doc: closesocket function; Wine sock.c test_iocp; Wine afd.c test_recv).
pub unsafe fn closesocket(s: SOCKET) -> i32 {
    let call = enter("closesocket");
    let r = lookup(call, s).map(|id| call.with(|w| w.close_socket(id)));
    call.winsock(&[Value::Hex(s as u64)], r.map(|()| 0))
}

/// `shutdown` (Doc: shutdown function; Wine sock.c test_shutdown).
pub unsafe fn shutdown(s: SOCKET, how: WINSOCK_SHUTDOWN_HOW) -> i32 {
    let call = enter("shutdown");
    let r = lookup(call, s).and_then(|id| call.with(|w| w.shutdown(id, how)));
    call.winsock(&[Value::Hex(s as u64), Value::Const(Meaning::Shutdown, how.into())], r.map(|()| 0))
}

/// An option's value, as `setsockopt` and `getsockopt` pass it.
enum OptionValue {
    Int(u32),
    Linger(LINGER),
}

/// `setsockopt` (Doc: setsockopt function): `SO_SNDBUF`, `SO_RCVBUF`, `SO_LINGER`,
/// `SO_REUSEADDR`, `SO_RCVTIMEO`, `SO_OOBINLINE`, `SO_KEEPALIVE`, `TCP_NODELAY`; others
/// are `WSAENOPROTOOPT`.
pub unsafe fn setsockopt(s: SOCKET, level: i32, optname: i32, optval: PCSTR, optlen: i32) -> i32 {
    let call = enter("setsockopt");
    let mut args = vec![Value::Hex(s as u64), level_arg(level), option_arg(level, optname)];
    let value = read_option(optname, optval, optlen);
    args.push(match &value {
        Ok(OptionValue::Int(v)) => Value::Int((*v).into()),
        Ok(OptionValue::Linger(l)) => Value::Text(format!("{{{}, {}}}", l.l_onoff, l.l_linger)),
        Err(_) => Value::Ptr(!optval.is_null()),
    });
    args.push(Value::Int(optlen.into()));
    let r = lookup(call, s).and_then(|id| {
        let value = value?;
        call.with(|w| {
            // Doc: SO_KEEPALIVE: WSAENOPROTOOPT on a datagram socket.
            let tcp = w.socket(id).proto == Proto::Tcp;
            let o = &mut w.socket_mut(id).options;
            match (level, optname, value) {
                (SOL_SOCKET, SO_SNDBUF, OptionValue::Int(v)) => o.send_buffer = v as usize,
                (SOL_SOCKET, SO_RCVBUF, OptionValue::Int(v)) => o.receive_buffer = v as usize,
                (SOL_SOCKET, SO_LINGER, OptionValue::Linger(l)) => {
                    o.linger = (l.l_onoff != 0).then_some(l.l_linger);
                }
                (SOL_SOCKET, SO_REUSEADDR, OptionValue::Int(v)) => o.reuse_addr = v != 0,
                (SOL_SOCKET, SO_RCVTIMEO, OptionValue::Int(v)) => o.receive_timeout_ms = v,
                (IPPROTO_TCP, TCP_NODELAY, OptionValue::Int(v)) => o.no_delay = v != 0,
                (SOL_SOCKET, SO_OOBINLINE, OptionValue::Int(v)) => o.oob_inline = v != 0,
                (SOL_SOCKET, SO_KEEPALIVE, OptionValue::Int(v)) if tcp => o.keep_alive = v != 0,
                _ => return Err(unknown_option(level)),
            }
            w.apply_options(id);
            Ok(())
        })
    });
    call.winsock(&args, r.map(|()| 0))
}

/// The error for an option wsasim does not know: WSAENOPROTOOPT at a level Windows has
/// (Wine sock.c test_sockopt_validity: optname -1 at IPPROTO_IP), WSAEINVAL at any other
/// (Wine sock.c test_set_getsockopt, test_extendedSocketOptions: levels 0xffffffff and
/// 0x8000; Doc: setsockopt, "The level parameter is not valid").
fn unknown_option(level: i32) -> u32 {
    const LEVELS: [i32; 5] = [SOL_SOCKET, IPPROTO_IP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_IPV6];
    if LEVELS.contains(&level) { WSAENOPROTOOPT as u32 } else { WSAEINVAL as u32 }
}

fn read_option(optname: i32, optval: PCSTR, optlen: i32) -> Result<OptionValue, u32> {
    let len = usize::try_from(optlen).unwrap_or(0);
    if optname == SO_LINGER {
        if optval.is_null() || len < size_of::<LINGER>() {
            return Err(WSAEFAULT as u32);
        }
        // SAFETY: the caller passes `optlen` bytes at `optval`, as for Windows.
        return Ok(OptionValue::Linger(unsafe { optval.cast::<LINGER>().read_unaligned() }));
    }
    // Windows takes a BOOL option from a single byte too (Wine sock.c test_set_getsockopt).
    match len {
        _ if optval.is_null() => Err(WSAEFAULT as u32),
        // SAFETY: as above.
        1..4 => Ok(OptionValue::Int(unsafe { *optval }.into())),
        // SAFETY: as above.
        4.. => Ok(OptionValue::Int(unsafe { optval.cast::<u32>().read_unaligned() })),
        _ => Err(WSAEFAULT as u32),
    }
}

/// `getsockopt` (Doc: getsockopt function): the options `setsockopt` takes, `SO_ERROR`
/// (reading it does not clear it: Wine sock.c test_select) and `SO_TYPE`.
pub unsafe fn getsockopt(s: SOCKET, level: i32, optname: i32, optval: PSTR, optlen: *mut i32) -> i32 {
    let call = enter("getsockopt");
    let args = [Value::Hex(s as u64), level_arg(level), option_arg(level, optname)];
    let r = lookup(call, s).and_then(|id| {
        let value = call.with(|w| {
            let socket = w.socket(id);
            let o = socket.options;
            Ok(match (level, optname) {
                (SOL_SOCKET, SO_SNDBUF) => OptionValue::Int(o.send_buffer as u32),
                (SOL_SOCKET, SO_RCVBUF) => OptionValue::Int(o.receive_buffer as u32),
                (SOL_SOCKET, SO_LINGER) => OptionValue::Linger(LINGER {
                    l_onoff: o.linger.is_some().into(),
                    l_linger: o.linger.unwrap_or(0),
                }),
                (SOL_SOCKET, SO_REUSEADDR) => OptionValue::Int(o.reuse_addr.into()),
                (SOL_SOCKET, SO_RCVTIMEO) => OptionValue::Int(o.receive_timeout_ms),
                (SOL_SOCKET, SO_ERROR) => OptionValue::Int(socket.error),
                (SOL_SOCKET, SO_TYPE) => {
                    OptionValue::Int(if socket.proto == Proto::Tcp { SOCK_STREAM } else { SOCK_DGRAM } as u32)
                }
                (IPPROTO_TCP, TCP_NODELAY) => OptionValue::Int(o.no_delay.into()),
                (SOL_SOCKET, SO_OOBINLINE) => OptionValue::Int(o.oob_inline.into()),
                (SOL_SOCKET, SO_KEEPALIVE) if socket.proto == Proto::Tcp => {
                    OptionValue::Int(o.keep_alive.into())
                }
                _ => return Err(unknown_option(level)),
            })
        })?;
        if optval.is_null() || optlen.is_null() {
            return Err(WSAEFAULT as u32);
        }
        // SAFETY: the caller passes `*optlen` bytes at `optval`, as for Windows.
        unsafe {
            let room = usize::try_from(*optlen).unwrap_or(0);
            match value {
                OptionValue::Int(v) if room >= 4 => {
                    optval.cast::<u32>().write_unaligned(v);
                    *optlen = 4;
                }
                OptionValue::Linger(l) if room >= size_of::<LINGER>() => {
                    optval.cast::<LINGER>().write_unaligned(l);
                    *optlen = size_of::<LINGER>() as i32;
                }
                _ => return Err(WSAEFAULT as u32),
            }
        }
        Ok(())
    });
    call.winsock(&args, r.map(|()| 0))
}

/// `getsockname` (Doc: getsockname function): an unbound socket is `WSAEINVAL`.
pub unsafe fn getsockname(s: SOCKET, name: *mut SOCKADDR, namelen: *mut i32) -> i32 {
    let call = enter("getsockname");
    let r = name_of(call, s, name, namelen, |w, id| w.local_name(id).ok_or(WSAEINVAL as u32));
    call.winsock(&[Value::Hex(s as u64)], r)
}

/// `getpeername` (Doc: getpeername function): a socket with no peer is `WSAENOTCONN`. A
/// TCP socket has its peer from the moment its connect starts, before the connection is
/// made (Wine sock.c test_connecting_socket), and loses it if the connect fails.
pub unsafe fn getpeername(s: SOCKET, name: *mut SOCKADDR, namelen: *mut i32) -> i32 {
    let call = enter("getpeername");
    let peer = |w: &mut World, id| {
        let socket = w.socket(id);
        let known = socket.proto == Proto::Udp || socket.end.is_some() || socket.tcp == Tcp::Connecting;
        socket.peer.filter(|_| known).ok_or(WSAENOTCONN as u32)
    };
    let r = name_of(call, s, name, namelen, peer);
    call.winsock(&[Value::Hex(s as u64)], r)
}

fn name_of(
    call: Call,
    s: SOCKET,
    name: *mut SOCKADDR,
    namelen: *mut i32,
    pick: impl FnOnce(&mut World, SocketId) -> Result<SocketAddrV4, u32>,
) -> Result<i32, u32> {
    let id = lookup(call, s)?;
    let addr = call.with(|w| pick(w, id))?;
    // SAFETY: the caller passes room for the address, as for Windows.
    unsafe { write_sockaddr(name, namelen, addr) }?;
    Ok(0)
}

/// How the trace shows an option's level.
fn level_arg(level: i32) -> Value {
    Value::Const(Meaning::Level, level.into())
}

/// How the trace shows an option: by its name at its level.
fn option_arg(level: i32, optname: i32) -> Value {
    match level {
        SOL_SOCKET => Value::Const(Meaning::SocketOption, optname.into()),
        IPPROTO_TCP => Value::Const(Meaning::TcpOption, optname.into()),
        _ => Value::Int(optname.into()),
    }
}
