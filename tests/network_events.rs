//! `WSAEventSelect` and `WSAEnumNetworkEvents` (Doc: WSAEventSelect, Doc:
//! WSAEnumNetworkEvents), as event sequences: a call, then exactly the events and codes
//! `WSAEnumNetworkEvents` reports. Each test follows the Wine test of the same name in
//! event mode (Wine sock.c), on one host over loopback, as those tests run.

use crate::harness::net::*;
use crate::harness::run;
use std::ptr::null_mut;
use wsasim::Win32::Foundation::*;
use wsasim::Win32::Networking::WinSock::*;
use wsasim::Win32::System::Threading::*;

fn event() -> WSAEVENT {
    unsafe { WSACreateEvent() }
}

fn select_events(s: SOCKET, ev: WSAEVENT, mask: u32) {
    assert_eq!(unsafe { WSAEventSelect(s, ev, mask as i32) }, 0, "WSAEventSelect");
}

fn signaled(ev: WSAEVENT) -> bool {
    unsafe { WaitForSingleObject(ev as HANDLE, 0) == WAIT_OBJECT_0 }
}

/// What `WSAEnumNetworkEvents` reports, as (FD_ bit, code) pairs, lowest first. The entries
/// it does not report must keep what was there (Wine sock.c test_WSAEnumNetworkEvents fills
/// them with 0xAB first), and the event is reset.
fn enumerate(s: SOCKET, ev: WSAEVENT) -> Vec<(u32, i32)> {
    let filler = i32::from_ne_bytes([0xab; 4]);
    let mut ne = WSANETWORKEVENTS { lNetworkEvents: 0, iErrorCode: [filler; 10] };
    assert_eq!(unsafe { WSAEnumNetworkEvents(s, ev, &mut ne) }, 0, "WSAEnumNetworkEvents");
    if ev != 0 {
        assert!(!signaled(ev), "enumeration resets the event (Doc: WSAEnumNetworkEvents)");
    }
    let mut found = Vec::new();
    for bit in 0..FD_MAX_EVENTS {
        let code = ne.iErrorCode[bit as usize];
        if ne.lNetworkEvents as u32 & (1 << bit) != 0 {
            found.push((1 << bit, code));
        } else {
            assert_eq!(code, filler, "entry {bit} is not reported and must be left alone");
        }
    }
    found
}

/// A listener on 127.0.0.1:`port`, a client connected to it, and the accepted socket.
fn loopback_pair(port: u16) -> (SOCKET, SOCKET, SOCKET) {
    let l = listener(&format!("127.0.0.1:{port}"));
    let c = connected(&format!("127.0.0.1:{port}"));
    let s = accept_one(l);
    (l, c, s)
}

fn send_bytes(s: SOCKET, data: &[u8]) -> Result<usize, u32> {
    match unsafe { send(s, data.as_ptr(), data.len() as i32, 0) } {
        SOCKET_ERROR => Err(last_error()),
        n => Ok(n as usize),
    }
}

#[test]
fn test_accept_events() {
    // Wine sock.c test_accept_events.
    run(|| unsafe {
        startup();
        let ev = event();
        let l = listener("127.0.0.1:7");
        select_events(l, ev, FD_ACCEPT);
        let c1 = connected("127.0.0.1:7");
        settle();
        assert_eq!(enumerate(l, ev), [(FD_ACCEPT, 0)]);
        select_events(l, ev, FD_ACCEPT);
        assert_eq!(enumerate(l, ev), [], "re-selecting does not report it again");

        // A new connection records FD_ACCEPT again without an accept (Windows; todo_wine).
        let c2 = connected("127.0.0.1:7");
        settle();
        assert_eq!(enumerate(l, ev), [(FD_ACCEPT, 0)]);
        let a1 = accept_one(l);
        assert!(signaled(ev), "accept with a connection still waiting records FD_ACCEPT");
        assert_eq!(enumerate(l, ev), [(FD_ACCEPT, 0)]);
        let a2 = accept_one(l);
        assert_eq!(enumerate(l, ev), [], "accepting the last records nothing");
        assert_eq!(accept(l, null_mut(), null_mut()), INVALID_SOCKET, "the listener is nonblocking");
        assert_eq!(last_error(), WSAEWOULDBLOCK as u32);

        // Connect and then select: the event is set at once.
        select_events(l, ev, 0);
        let c3 = connected("127.0.0.1:7");
        settle();
        select_events(l, ev, FD_ACCEPT);
        assert!(signaled(ev));
        assert_eq!(enumerate(l, ev), [(FD_ACCEPT, 0)]);

        // Accept before selecting: nothing.
        select_events(l, ev, 0);
        let _a3 = accept_one(l);
        select_events(l, ev, FD_ACCEPT);
        assert_eq!(enumerate(l, ev), []);

        // A subset without FD_ACCEPT first: the event stays as it was, and the record waits.
        select_events(l, ev, FD_READ);
        let c4 = connected("127.0.0.1:7");
        settle();
        assert!(!signaled(ev));
        select_events(l, ev, FD_READ | FD_ACCEPT);
        assert!(signaled(ev));
        select_events(l, ev, FD_READ);
        assert!(signaled(ev), "selecting never resets the event (Doc: WSAEventSelect)");
        WSAResetEvent(ev);
        select_events(l, ev, FD_READ | FD_ACCEPT);
        assert!(signaled(ev), "still recorded, so selecting it sets the event again");

        // The accepted socket inherits the selection: the event, the mask and nonblocking
        // mode, and it reports FD_WRITE, never FD_CONNECT (Wine afd.c test_event_select).
        select_events(l, ev, FD_ACCEPT | FD_WRITE | FD_CONNECT | FD_READ);
        assert_eq!(enumerate(l, ev), [(FD_ACCEPT, 0)], "a listener has no FD_WRITE");
        let a4 = accept_one(l);
        assert!(signaled(ev));
        assert_eq!(enumerate(a4, ev), [(FD_WRITE, 0)]);
        assert_eq!(recv_some(a4, 10), Err(WSAEWOULDBLOCK as u32));
        for s in [c1, c2, c3, c4, a1, a2, a4, l] {
            close(s);
        }
    });
}

#[test]
fn test_connect_events() {
    // Wine sock.c test_connect_events; Wine afd.c test_get_events.
    run(|| unsafe {
        startup();
        let ev = event();
        let l = listener("127.0.0.1:7");
        let c = tcp();
        select_events(c, ev, FD_CONNECT | FD_WRITE | FD_READ | FD_CLOSE);
        assert_eq!(try_connect(c, "127.0.0.1:7"), Err(WSAEWOULDBLOCK as u32), "selected: nonblocking");
        assert_eq!(WaitForSingleObject(ev as HANDLE, 1000), WAIT_OBJECT_0);
        assert_eq!(enumerate(c, ev), [(FD_WRITE, 0), (FD_CONNECT, 0)]);
        select_events(c, ev, FD_CONNECT | FD_WRITE);
        assert_eq!(enumerate(c, ev), [], "once only");

        // A subset without FD_CONNECT first: FD_WRITE, then FD_CONNECT alone.
        let c2 = tcp();
        select_events(c2, ev, FD_WRITE);
        assert_eq!(try_connect(c2, "127.0.0.1:7"), Err(WSAEWOULDBLOCK as u32));
        settle();
        assert_eq!(enumerate(c2, ev), [(FD_WRITE, 0)]);
        select_events(c2, ev, FD_CONNECT | FD_WRITE);
        assert_eq!(enumerate(c2, ev), [(FD_CONNECT, 0)]);

        // Refused: FD_CONNECT alone, with WSAECONNREFUSED, and once.
        let c3 = tcp();
        select_events(c3, ev, FD_CONNECT | FD_WRITE);
        assert_eq!(try_connect(c3, "127.0.0.1:9"), Err(WSAEWOULDBLOCK as u32));
        settle();
        assert_eq!(enumerate(c3, ev), [(FD_CONNECT, WSAECONNREFUSED)]);
        select_events(c3, ev, FD_CONNECT | FD_WRITE);
        assert_eq!(enumerate(c3, ev), []);

        // A bound, unconnected TCP socket reports nothing (Wine sock.c
        // test_WSAEnumNetworkEvents).
        let idle = tcp();
        bind_to(idle, "127.0.0.1:0");
        select_events(idle, ev, FD_ALL);
        assert_eq!(enumerate(idle, ev), []);
        for s in [c, c2, c3, idle, l] {
            close(s);
        }
    });
}

/// Every event this simulator can record.
const FD_ALL: u32 = FD_READ | FD_WRITE | FD_OOB | FD_ACCEPT | FD_CONNECT | FD_CLOSE;

#[test]
fn udp_is_writable_once_bound_and_connect_records_connect_and_write() {
    // Wine sock.c test_WSAEnumNetworkEvents (bound UDP: FD_WRITE on the
    // first of five rounds only), test_connect_events (unbound: nothing; connect:
    // FD_CONNECT|FD_WRITE, todo_wine).
    run(|| {
        startup();
        let ev = event();
        let u = udp();
        select_events(u, ev, FD_ALL);
        assert_eq!(enumerate(u, ev), [], "unbound");
        bind_to(u, "127.0.0.1:0");
        for round in 0..5 {
            select_events(u, ev, FD_READ | FD_WRITE);
            let expected: &[(u32, i32)] = if round == 0 { &[(FD_WRITE, 0)] } else { &[] };
            assert_eq!(enumerate(u, ev), expected, "round {round}");
        }
        let v = udp();
        select_events(v, ev, FD_ALL);
        assert_eq!(try_connect(v, "127.0.0.1:9"), Ok(()));
        assert_eq!(enumerate(v, ev), [(FD_WRITE, 0), (FD_CONNECT, 0)]);
        close(u);
        close(v);
    });
}

#[test]
fn test_read_events() {
    // Wine sock.c test_read_events.
    run(|| unsafe {
        startup();
        let ev = event();
        let (l, c, s) = loopback_pair(7);
        select_events(s, ev, FD_READ);
        assert_eq!(enumerate(s, ev), [], "FD_WRITE is recorded but not selected");
        send_all(c, b"a");
        settle();
        assert_eq!(enumerate(s, ev), [(FD_READ, 0)]);
        select_events(s, ev, FD_READ);
        assert_eq!(enumerate(s, ev), []);
        // More data without a recv records FD_READ again (Windows; todo_wine).
        send_all(c, b"b");
        settle();
        assert_eq!(enumerate(s, ev), [(FD_READ, 0)]);
        // A partial read records it again; the read that takes the last byte does not.
        assert_eq!(recv_some(s, 1), Ok(b"a".to_vec()));
        assert_eq!(enumerate(s, ev), [(FD_READ, 0)]);
        assert_eq!(recv_some(s, 1), Ok(b"b".to_vec()));
        assert_eq!(enumerate(s, ev), []);

        // Byte by byte: 8 bytes give FD_READ seven times, then nothing.
        send_all(c, b"12345678");
        settle();
        assert_eq!(enumerate(s, ev), [(FD_READ, 0)]);
        for i in 0..8 {
            assert_eq!(recv_some(s, 1).unwrap().len(), 1);
            let expected: &[(u32, i32)] = if i < 7 { &[(FD_READ, 0)] } else { &[] };
            assert_eq!(enumerate(s, ev), expected, "after read {i}");
        }

        // A failed receive re-enables nothing in event mode.
        send_all(c, b"xy");
        settle();
        assert_eq!(enumerate(s, ev), [(FD_READ, 0)]);
        let mut buf = [0u8; 4];
        assert_eq!(recv(s, buf.as_mut_ptr(), -1, 0), SOCKET_ERROR);
        assert_eq!(last_error(), WSAEFAULT as u32);
        assert_eq!(enumerate(s, ev), []);
        assert_eq!(recv_some(s, 4), Ok(b"xy".to_vec()));
        assert_eq!(enumerate(s, ev), []);

        // Data that arrives and is read while unselected leaves nothing behind.
        select_events(s, ev, 0);
        send_all(c, b"z");
        settle();
        assert_eq!(recv_some(s, 4), Ok(b"z".to_vec()));
        select_events(s, ev, FD_READ);
        assert_eq!(enumerate(s, ev), []);

        // Enumeration does not clear what is not selected: FD_WRITE, never selected so
        // far, is reported with FD_READ.
        send_all(c, b"w");
        settle();
        select_events(s, ev, FD_READ | FD_WRITE);
        assert_eq!(enumerate(s, ev), [(FD_READ, 0), (FD_WRITE, 0)]);
        assert_eq!(recv_some(s, 4), Ok(b"w".to_vec()));

        // A pending WSARecv takes arriving data: no FD_READ (Wine sock.c test_read_events).
        let rev = event();
        let mut ov = overlapped(rev as HANDLE);
        let mut data = [0u8; 1];
        let b = wsabuf(&mut data);
        let (mut n, mut flags) = (0, 0);
        assert_eq!(WSARecv(s, &b, 1, &mut n, &mut flags, &mut *ov, None), SOCKET_ERROR);
        assert_eq!(last_error(), WSA_IO_PENDING as u32);
        send_all(c, b"p");
        assert_eq!(WaitForSingleObject(rev as HANDLE, 1000), WAIT_OBJECT_0);
        assert_eq!(data, *b"p");
        assert_eq!(enumerate(s, ev), []);
        // A second byte, with no receive pending, does.
        send_all(c, b"q");
        settle();
        assert_eq!(enumerate(s, ev), [(FD_READ, 0)]);
        for s in [c, s, l] {
            close(s);
        }
    });
}

#[test]
fn test_write_events() {
    // Wine sock.c test_write_events ("Despite the documentation ... calling send()
    // doesn't clear the FD_WRITE bit"; fill, then drain, gives FD_WRITE again).
    run(|| {
        startup();
        let ev = event();
        let (l, c, s) = loopback_pair(7);
        select_events(c, ev, FD_WRITE);
        assert_eq!(enumerate(c, ev), [(FD_WRITE, 0)]);
        select_events(c, ev, FD_WRITE);
        assert_eq!(enumerate(c, ev), [], "once");
        assert_eq!(send_bytes(c, b"hello"), Ok(5));
        settle();
        assert_eq!(enumerate(c, ev), [], "a send that succeeds records nothing");
        recv_exact(s, 5);

        // Fill the send buffer until a send would block; the peer drains it: FD_WRITE.
        let chunk = vec![7u8; 65536];
        let mut sent = 0;
        loop {
            match send_bytes(c, &chunk) {
                Ok(n) => sent += n,
                Err(e) => {
                    assert_eq!(e, WSAEWOULDBLOCK as u32);
                    break;
                }
            }
            settle();
        }
        assert_eq!(enumerate(c, ev), []);
        recv_exact(s, sent);
        settle();
        assert_eq!(enumerate(c, ev), [(FD_WRITE, 0)]);

        // A send does not clear an FD_WRITE not yet enumerated.
        let mut sent = 0;
        while let Ok(n) = send_bytes(c, &chunk) {
            sent += n;
            settle();
        }
        recv_exact(s, sent);
        settle();
        assert!(signaled(ev));
        assert_eq!(send_bytes(c, b"x"), Ok(1));
        assert_eq!(enumerate(c, ev), [(FD_WRITE, 0)]);
        for s in [c, s, l] {
            close(s);
        }
    });
}

#[test]
fn test_close_events() {
    // Wine sock.c test_close_events.
    run(|| unsafe {
        startup();
        let ev = event();

        // The peer closes: FD_CLOSE with 0, once; a recv of 0 afterwards records nothing.
        let (l, c, s) = loopback_pair(7);
        select_events(s, ev, FD_ALL);
        assert_eq!(enumerate(s, ev), [(FD_WRITE, 0)]);
        close(c);
        settle();
        assert_eq!(enumerate(s, ev), [(FD_CLOSE, 0)]);
        select_events(s, ev, FD_ALL);
        assert_eq!(enumerate(s, ev), []);
        assert_eq!(recv_some(s, 4), Ok(Vec::new()));
        assert_eq!(enumerate(s, ev), []);
        close(s);

        // shutdown(SD_SEND) by the peer is a close; SD_RECEIVE, and a local SD_BOTH, are not.
        let c = connected("127.0.0.1:7");
        let s = accept_one(l);
        select_events(s, ev, FD_ALL);
        enumerate(s, ev);
        shutdown(c, SD_RECEIVE);
        shutdown(s, SD_BOTH);
        settle();
        assert_eq!(enumerate(s, ev), []);
        shutdown(c, SD_SEND);
        settle();
        assert_eq!(enumerate(s, ev), [(FD_CLOSE, 0)]);
        close(c);
        close(s);

        // Data, then the close: FD_READ and FD_CLOSE together, before the data is read,
        // which stays readable (Windows; todo_wine).
        let c = connected("127.0.0.1:7");
        let s = accept_one(l);
        select_events(s, ev, FD_ALL);
        enumerate(s, ev);
        send_all(c, b"data");
        close(c);
        settle();
        assert_eq!(enumerate(s, ev), [(FD_READ, 0), (FD_CLOSE, 0)]);
        assert_eq!(recv_some(s, 2), Ok(b"da".to_vec()));
        assert_eq!(enumerate(s, ev), [(FD_READ, 0)], "a partial read records FD_READ again");
        assert_eq!(recv_some(s, 2), Ok(b"ta".to_vec()));
        assert_eq!(recv_some(s, 2), Ok(Vec::new()));
        assert_eq!(enumerate(s, ev), []);
        close(s);

        // Closed before the select: FD_CLOSE at once.
        let c = connected("127.0.0.1:7");
        let s = accept_one(l);
        close(c);
        settle();
        select_events(s, ev, FD_CLOSE);
        assert!(signaled(ev));
        assert_eq!(enumerate(s, ev), [(FD_CLOSE, 0)]);
        close(s);

        // A reset: FD_CLOSE with WSAECONNABORTED, not the documented WSAECONNRESET.
        let c = connected("127.0.0.1:7");
        let s = accept_one(l);
        select_events(s, ev, FD_ALL);
        enumerate(s, ev);
        reset(c);
        settle();
        assert_eq!(enumerate(s, ev), [(FD_CLOSE, WSAECONNABORTED)]);
        close(s);
        close(l);
    });
}

#[test]
fn selecting_makes_the_socket_nonblocking_until_the_selection_is_cancelled() {
    // Wine sock.c test_fionbio; Doc: WSAEventSelect, Doc: WSAEnumNetworkEvents: the errors
    // of both calls.
    run(|| unsafe {
        startup();
        let ev = event();
        let s = tcp();
        let mut off = 0u32;
        let mut on = 1u32;
        select_events(s, ev, FD_READ);
        assert_eq!(ioctlsocket(s, FIONBIO, &mut off), SOCKET_ERROR);
        assert_eq!(last_error(), WSAEINVAL as u32);
        assert_eq!(ioctlsocket(s, FIONBIO, &mut on), 0);
        select_events(s, 0, 0);
        assert_eq!(ioctlsocket(s, FIONBIO, &mut off), 0);

        assert_eq!(WSAEventSelect(s, 0, FD_READ as i32), SOCKET_ERROR, "NULL event, nonzero mask");
        assert_eq!(last_error(), WSAEINVAL as u32);
        assert_eq!(WSAEventSelect(s, 0x7770, FD_READ as i32), SOCKET_ERROR, "not an event");
        assert_eq!(last_error(), WSAEINVAL as u32);
        assert_eq!(WSAEventSelect(0x7770, ev, FD_READ as i32), SOCKET_ERROR);
        assert_eq!(last_error(), WSAENOTSOCK as u32);
        assert_eq!(WSAEnumNetworkEvents(s, ev, null_mut()), SOCKET_ERROR);
        assert_eq!(last_error(), WSAEFAULT as u32);
        assert_eq!(WSAEnumNetworkEvents(0x7770, ev, &mut WSANETWORKEVENTS::default()), SOCKET_ERROR);
        assert_eq!(last_error(), WSAENOTSOCK as u32);
    });
}

#[test]
fn a_failed_enumeration_clears_nothing_and_a_null_event_is_allowed() {
    // Doc: WSAEnumNetworkEvents; Wine sock.c test_WSAEnumNetworkEvents (NULL event).
    run(|| unsafe {
        startup();
        let ev = event();
        let u = udp();
        select_events(u, ev, FD_WRITE);
        bind_to(u, "127.0.0.1:0");
        assert!(signaled(ev));
        assert_eq!(WSAEnumNetworkEvents(u, 0x7770, &mut WSANETWORKEVENTS::default()), SOCKET_ERROR);
        assert_eq!(last_error(), WSAEINVAL as u32);
        assert!(signaled(ev), "a failure does not reset the event");
        assert_eq!(enumerate(u, 0), [(FD_WRITE, 0)], "nothing was cleared");
        assert!(signaled(ev), "a NULL event resets nothing");
    });
}

fn send_oob(s: SOCKET, data: &[u8]) {
    assert_eq!(unsafe { send(s, data.as_ptr(), data.len() as i32, MSG_OOB) }, data.len() as i32, "send OOB");
}

fn recv_oob(s: SOCKET) -> Result<Vec<u8>, u32> {
    let mut buf = [0u8; 8];
    match unsafe { recv(s, buf.as_mut_ptr(), 8, MSG_OOB) } {
        SOCKET_ERROR => Err(last_error()),
        n => Ok(buf[..n as usize].to_vec()),
    }
}

fn fionread(s: SOCKET) -> u32 {
    let mut n = 0u32;
    assert_eq!(unsafe { ioctlsocket(s, FIONREAD, &mut n) }, 0);
    n
}

#[test]
fn test_oob_events() {
    // Wine sock.c test_oob_events, test_fionread_siocatmark (the
    // urgent byte is not counted by FIONREAD, a second one is kept), test_select (OOB
    // part: with SO_OOBINLINE, recv(MSG_OOB) is WSAEINVAL and the byte is read in line).
    run(|| {
        startup();
        let ev = event();
        let (l, c, s) = loopback_pair(7);
        select_events(s, ev, FD_OOB | FD_READ);
        assert_eq!(enumerate(s, ev), []);
        send_oob(c, b"a");
        settle();
        assert_eq!(enumerate(s, ev), [(FD_OOB, 0)], "no FD_READ for urgent data");
        // A second urgent byte records FD_OOB again (Windows; todo_wine).
        send_oob(c, b"b");
        settle();
        assert_eq!(enumerate(s, ev), [(FD_OOB, 0)]);
        assert_eq!(fionread(s), 0);
        assert_eq!(recv_oob(s), Ok(b"a".to_vec()));
        assert_eq!(enumerate(s, ev), [(FD_OOB, 0)], "another urgent byte waits");
        assert_eq!(recv_oob(s), Ok(b"b".to_vec()));
        assert_eq!(enumerate(s, ev), []);
        assert_eq!(recv_oob(s), Err(WSAEWOULDBLOCK as u32));

        // The last byte of a send is the urgent one; the rest is normal data.
        send_all(c, b"12345");
        send_oob(c, b"67x");
        settle();
        assert_eq!(enumerate(s, ev), [(FD_READ, 0), (FD_OOB, 0)]);
        assert_eq!(fionread(s), 7);
        assert_eq!(recv_oob(s), Ok(b"x".to_vec()));
        assert_eq!(recv_some(s, 100), Ok(b"1234567".to_vec()));

        // Urgent data sent while unselected is reported once selected.
        select_events(s, ev, 0);
        send_oob(c, b"u");
        settle();
        select_events(s, ev, FD_OOB);
        assert_eq!(enumerate(s, ev), [(FD_OOB, 0)]);
        assert_eq!(recv_oob(s), Ok(b"u".to_vec()));

        // SO_OOBINLINE: in line, as FD_READ, and recv(MSG_OOB) is refused.
        let on = 1u32;
        unsafe { setsockopt(s, SOL_SOCKET, SO_OOBINLINE, (&raw const on).cast(), 4) };
        select_events(s, ev, FD_OOB | FD_READ);
        send_oob(c, b"i");
        settle();
        assert_eq!(enumerate(s, ev), [(FD_READ, 0)]);
        assert_eq!(recv_oob(s), Err(WSAEINVAL as u32));
        assert_eq!(recv_some(s, 100), Ok(b"i".to_vec()));

        // Only streams have urgent data (Doc: send, Doc: recv: WSAEOPNOTSUPP).
        let u = udp();
        bind_to(u, "127.0.0.1:0");
        assert_eq!(recv_oob(u), Err(WSAEOPNOTSUPP as u32));
        for s in [c, s, l, u] {
            close(s);
        }
    });
}

#[test]
fn event_select_and_overlapped_operations_share_a_socket() {
    // Wine sock.c test_read_events, test_close_events: an overlapped receive pending on a
    // selected socket takes the data and records no FD_READ; the peer's close still records
    // FD_CLOSE and completes the next receive with 0 bytes; an overlapped send completes as
    // usual and records nothing.
    run(|| unsafe {
        startup();
        let ev = event();
        let (l, c, s) = loopback_pair(7);
        select_events(s, ev, FD_READ | FD_WRITE | FD_CLOSE);
        assert_eq!(enumerate(s, ev), [(FD_WRITE, 0)]);
        let io = event();
        let mut ov = overlapped(io as HANDLE);
        let mut data = *b"pong";
        let b = wsabuf(&mut data);
        let mut n = 0;
        assert_eq!(WSASend(s, &b, 1, &mut n, 0, &mut *ov, None), 0, "completes at once");
        assert_eq!(n, 4);
        assert_eq!(recv_exact(c, 4), b"pong");
        let mut buf = [0u8; 8];
        let b = wsabuf(&mut buf);
        let mut flags = 0;
        assert_eq!(WSARecv(s, &b, 1, &mut n, &mut flags, &mut *ov, None), SOCKET_ERROR);
        assert_eq!(last_error(), WSA_IO_PENDING as u32);
        send_all(c, b"ping");
        close(c);
        settle();
        assert_eq!(WSAGetOverlappedResult(s, &*ov, &mut n, FALSE, &mut flags), TRUE);
        assert_eq!((n, &buf[..4]), (4, &b"ping"[..]));
        assert_eq!(enumerate(s, ev), [(FD_CLOSE, 0)], "the data went to the receive");
        assert_eq!(WSARecv(s, &b, 1, &mut n, &mut flags, &mut *ov, None), 0);
        assert_eq!(n, 0, "the end of the stream");
        assert_eq!(enumerate(s, ev), []);
        close(s);
        close(l);
    });
}

#[test]
fn what_arrived_before_accept_is_recorded_on_the_accepted_socket() {
    // Wine sock.c test_accept_events, test_oob_events, test_close_events: data, an urgent
    // byte and the FIN that arrived while the connection waited in the backlog are the
    // accepted socket's events from the start, FD_CLOSE included although data is left to
    // read.
    run(|| {
        startup();
        let ev = event();
        let l = listener("127.0.0.1:7");
        let c = connected("127.0.0.1:7");
        send_all(c, b"early");
        send_oob(c, b"!");
        unsafe { shutdown(c, SD_SEND) };
        settle();
        select_events(l, ev, FD_ACCEPT | FD_READ | FD_WRITE | FD_OOB | FD_CLOSE);
        let s = accept_one(l);
        assert_eq!(enumerate(s, ev), [(FD_READ, 0), (FD_WRITE, 0), (FD_OOB, 0), (FD_CLOSE, 0)]);
        assert_eq!(recv_oob(s), Ok(b"!".to_vec()));
        assert_eq!(recv_some(s, 100), Ok(b"early".to_vec()));
        assert_eq!(recv_some(s, 100), Ok(Vec::new()));
        for s in [c, s, l] {
            close(s);
        }
    });
}

#[test]
fn urgent_data_odd_cases() {
    // An empty MSG_OOB send marks nothing; a peek leaves the urgent byte; an urgent send
    // that must wait for buffer space (SO_SNDBUF 0: Wine sock.c test_send) still marks its
    // last byte; and urgent bytes thrown away by a reset are counted (the run's
    // conservation check).
    run(|| unsafe {
        startup();
        let ev = event();
        let (l, c, s) = loopback_pair(7);
        select_events(s, ev, FD_OOB | FD_READ);
        send_all(c, b"a");
        settle();
        assert_eq!(send(c, b"".as_ptr(), 0, MSG_OOB), 0);
        send_all(c, b"b");
        settle();
        assert_eq!(enumerate(s, ev), [(FD_READ, 0)]);
        assert_eq!(recv_some(s, 10), Ok(b"ab".to_vec()));

        let mut b = [0u8; 1];
        send_oob(c, b"p");
        settle();
        assert_eq!(recv(s, b.as_mut_ptr(), 1, MSG_OOB | MSG_PEEK), 1);
        assert_eq!(recv_oob(s), Ok(b"p".to_vec()), "the peek left it");

        let mut zero = 0u32;
        select_events(s, 0, 0);
        assert_eq!(ioctlsocket(s, FIONBIO, &mut zero), 0, "blocking again");
        setsockopt(c, SOL_SOCKET, SO_SNDBUF, (&raw const zero).cast(), 4);
        let big = vec![1u8; 200_000];
        let mut last = big.clone();
        *last.last_mut().unwrap() = b'!';
        let blocker = wsasim::thread::spawn(move || {
            let n = send(c, last.as_ptr(), last.len() as i32, MSG_OOB);
            assert_eq!(n, 200_000, "the whole send, once the reader drains");
        });
        settle();
        let got = recv_exact(s, big.len() - 1);
        assert!(got.iter().all(|b| *b == 1));
        blocker.join().unwrap();
        settle();
        assert_eq!(recv_oob(s), Ok(b"!".to_vec()));

        send_oob(c, b"lost");
        settle();
        reset(s);
        for s in [c, l] {
            close(s);
        }
    });
}

#[test]
fn operations_pended_at_random_reenable_fd_read_as_immediate_ones_do() {
    // Wine sock.c test_read_events under Sim::pend_immediate: a 1-byte receive that pended
    // at random and leaves data behind records FD_READ again on every seed, as the receive
    // that completed in its call does.
    wsasim::check(0..30, |sim| {
        sim.pend_immediate(true);
        sim.client("a", "192.0.2.1", || unsafe {
            startup();
            let ev = event();
            let (l, c, s) = loopback_pair(7);
            select_events(s, ev, FD_READ);
            send_all(c, b"0123456789");
            settle();
            assert_eq!(enumerate(s, ev), [(FD_READ, 0)]);
            let io = event();
            let mut ov = overlapped(io as HANDLE);
            let mut buf = [0u8; 1];
            let b = wsabuf(&mut buf);
            let (mut n, mut flags) = (0, 0);
            let r = WSARecv(s, &b, 1, &mut n, &mut flags, &mut *ov, None);
            assert!(r == 0 || last_error() == WSA_IO_PENDING as u32);
            assert_eq!(WaitForSingleObject(io as HANDLE, 1000), WAIT_OBJECT_0);
            assert_eq!(enumerate(s, ev), [(FD_READ, 0)], "9 bytes are left");
            for s in [c, s, l] {
                close(s);
            }
        });
    });
}
