//! UDP: message boundaries, truncation (Doc: WSARecvFrom), addresses, connected sockets and
//! the implicit bind.

use crate::harness::net::*;
use crate::harness::run;
use wsasim::Sim;
use wsasim::Win32::Foundation::*;
use wsasim::Win32::Networking::WinSock::*;
use wsasim::Win32::System::Threading::*;

fn send_to(s: SOCKET, data: &[u8], to: &str) -> i32 {
    let a = sockaddr(to);
    unsafe { sendto(s, data.as_ptr(), data.len() as i32, 0, (&raw const a).cast(), LEN) }
}

/// One `recvfrom` into `len` bytes: the count (or error) and the sender.
fn recv_from(s: SOCKET, len: usize) -> (Result<Vec<u8>, u32>, String) {
    let mut buf = vec![0u8; len];
    let mut from = sockaddr("0.0.0.0:0");
    let mut from_len = LEN;
    let n = unsafe { recvfrom(s, buf.as_mut_ptr(), len as i32, 0, (&raw mut from).cast(), &mut from_len) };
    let sender = read(&from).to_string();
    if n < 0 {
        return (Err(last_error()), sender);
    }
    buf.truncate(n as usize);
    (Ok(buf), sender)
}

#[test]
fn datagrams_keep_their_boundaries_and_name_their_sender() {
    let mut sim = Sim::new(0);
    sim.host("srv", "192.0.2.10", || {
        startup();
        let s = udp();
        bind_to(s, "0.0.0.0:53");
        loop {
            let (data, from) = recv_from(s, 100);
            send_to(s, &data.unwrap(), &from);
        }
    });
    sim.client("cli", "192.0.2.20", || {
        startup();
        let s = udp();
        // An implicit bind on the first send (Doc: sendto).
        assert_eq!(send_to(s, b"one", "192.0.2.10:53"), 3);
        assert_eq!(send_to(s, b"three", "192.0.2.10:53"), 5);
        let mut name = sockaddr("0.0.0.0:0");
        let mut len = LEN;
        unsafe { assert_eq!(getsockname(s, (&raw mut name).cast(), &mut len), 0) };
        assert!(read(&name).port() >= 49152);
        let (a, from) = recv_from(s, 100);
        let (b, _) = recv_from(s, 100);
        let mut got = [a.unwrap(), b.unwrap()];
        got.sort();
        assert_eq!(got, [b"one".to_vec(), b"three".to_vec()], "one datagram per receive");
        assert_eq!(from, "192.0.2.10:53");
    });
    sim.run().unwrap_or_else(|f| panic!("{f}"));
}

#[test]
fn a_datagram_too_big_for_the_buffer_is_cut_and_the_rest_discarded() {
    // Wine sock.c test_icmp (synchronous: WSAEMSGSIZE, the next recv gets the next
    // datagram); Wine afd.c test_recv ("short read of a UDP datagram": 9 bytes into 2 + 4
    // give STATUS_BUFFER_OVERFLOW, 6 bytes, "mo" | "reda").
    run(|| unsafe {
        startup();
        let r = udp();
        bind_to(r, "127.0.0.1:9000");
        let s = udp();
        send_to(s, b"moredata!", "127.0.0.1:9000");
        send_to(s, b"next", "127.0.0.1:9000");
        send_to(s, b"moredata!", "127.0.0.1:9000");
        Sleep(10);
        assert_eq!(recv_from(r, 4).0, Err(WSAEMSGSIZE as u32));
        assert_eq!(recv_from(r, 100).0, Ok(b"next".to_vec()), "the cut datagram is gone");
        let (mut x, mut y) = ([0u8; 2], [0u8; 4]);
        let bufs = [wsabuf(&mut x), wsabuf(&mut y)];
        let ev = WSACreateEvent() as HANDLE;
        let mut ov = overlapped(ev);
        let (mut n, mut flags) = (0, 0);
        let ret = WSARecv(r, bufs.as_ptr(), 2, &mut n, &mut flags, &mut *ov, None);
        // A warning status is reported as pending, and the completion carries it (Wine
        // sock.c test_ip_pktinfo, "And with an APC").
        assert_eq!((ret, GetLastError()), (SOCKET_ERROR, WSA_IO_PENDING as u32));
        assert_eq!(WaitForSingleObject(ev, 0), WAIT_OBJECT_0);
        assert_eq!((ov.Internal as u32 as i32, ov.InternalHigh), (STATUS_BUFFER_OVERFLOW, 6));
        assert_eq!((&x, &y), (b"mo", b"reda"));
        assert_eq!(WSAGetOverlappedResult(r, &*ov, &mut n, FALSE, &mut flags), FALSE);
        // The count is written on failure too (Wine sock.c test_ip_pktinfo).
        assert_eq!((GetLastError(), n), (WSAEMSGSIZE as u32, 6), "the truncated size");
    });
}

#[test]
fn a_connected_udp_socket_sends_to_its_peer_and_hears_only_from_it() {
    run(|| unsafe {
        startup();
        let a = udp();
        bind_to(a, "127.0.0.1:7000");
        let b = udp();
        bind_to(b, "127.0.0.1:7001");
        let stranger = udp();
        try_connect(b, "127.0.0.1:7000").unwrap();
        assert_eq!(send(b, b"hi".as_ptr(), 2, 0), 2);
        assert_eq!(recv_from(a, 10), (Ok(b"hi".to_vec()), "127.0.0.1:7001".to_owned()));
        send_to(stranger, b"noise", "127.0.0.1:7001");
        send_to(a, b"reply", "127.0.0.1:7001");
        assert_eq!(recv_from(b, 10).0, Ok(b"reply".to_vec()), "the stranger's datagram was dropped");
        let c = udp();
        assert_eq!(send(c, b"x".as_ptr(), 1, 0), SOCKET_ERROR);
        assert_eq!(GetLastError(), WSAENOTCONN as u32, "send on an unconnected UDP socket");
        let mut buf = [0u8; 4];
        assert_eq!(recv(c, buf.as_mut_ptr(), 4, 0), SOCKET_ERROR);
        assert_eq!(GetLastError(), WSAEINVAL as u32, "Doc: recvfrom: an unbound socket");
    });
}

#[test]
fn an_overlapped_receive_from_writes_the_sender_at_completion() {
    // Doc: WSARecvFrom: lpFrom and lpFromlen are written when the operation completes.
    run(|| unsafe {
        startup();
        let r = udp();
        bind_to(r, "127.0.0.1:9100");
        let mut buf = [0u8; 16];
        let b = wsabuf(&mut buf);
        let mut from = sockaddr("0.0.0.0:0");
        let mut from_len = LEN;
        let ev = WSACreateEvent() as HANDLE;
        let mut ov = overlapped(ev);
        let (mut n, mut flags) = (0, 0);
        let ret =
            WSARecvFrom(r, &b, 1, &mut n, &mut flags, (&raw mut from).cast(), &mut from_len, &mut *ov, None);
        assert_eq!((ret, GetLastError()), (SOCKET_ERROR, WSA_IO_PENDING as u32));
        let s = udp();
        bind_to(s, "127.0.0.1:9101");
        let data = *b"ping";
        let wb = WSABUF { len: 4, buf: data.as_ptr().cast_mut() };
        let to = sockaddr("127.0.0.1:9100");
        let mut sent = 0;
        assert_eq!(
            WSASendTo(s, &wb, 1, &mut sent, 0, (&raw const to).cast(), LEN, std::ptr::null_mut(), None),
            0
        );
        assert_eq!(sent, 4);
        assert_eq!(WaitForSingleObject(ev, 1000), WAIT_OBJECT_0);
        assert_eq!(WSAGetOverlappedResult(r, &*ov, &mut n, FALSE, &mut flags), TRUE);
        assert_eq!((n, &buf[..4]), (4, &b"ping"[..]));
        assert_eq!(read(&from).to_string(), "127.0.0.1:9101");
    });
}

#[test]
fn a_connect_to_port_0_succeeds_and_one_to_no_address_disconnects() {
    // Wine sock.c test_connect_events, "Test with UDP sockets" (`addr` is 127.0.0.1, port 0):
    //     ret = connect(client, (struct sockaddr *)&addr, sizeof(addr));
    //     ok(!ret, "got error %lu\n", GetLastError());
    //     ... check_events_todo(ctx, FD_CONNECT, FD_WRITE, 200);
    // Wine sock.c test_UDP, "Test sending to port 0":
    //     ok(ret == sizeof(buf), "got ret %d, error %u.\n", ret, WSAGetLastError());
    // Wine sock.c test_connect_udp, an all-zero name of family AF_UNSPEC:
    //     ret = connect(client, (struct sockaddr *)&addr, sizeof(addr));
    //     ok(!ret, "got error %lu\n", GetLastError());
    //     ret = getpeername(client, (struct sockaddr *)&ret_addr, &len);
    //     ok(GetLastError() == WSAENOTCONN, "got error %lu\n", GetLastError());
    // Doc: connect: "If the address member of the structure specified by name is filled
    // with zeros, the socket will be disconnected"; send then fails with WSAENOTCONN.
    let outcome = run(|| unsafe {
        startup();
        let ev = WSACreateEvent();
        let s = udp();
        assert_eq!(WSAEventSelect(s, ev, (FD_CONNECT | FD_WRITE) as i32), 0);
        assert_eq!(try_connect(s, "127.0.0.1:0"), Ok(()));
        let mut events = WSANETWORKEVENTS::default();
        assert_eq!(WSAEnumNetworkEvents(s, ev, &mut events), 0);
        assert_eq!(events.lNetworkEvents, (FD_CONNECT | FD_WRITE) as i32);
        let (mut peer, mut len) = (sockaddr("0.0.0.0:0"), LEN);
        assert_eq!(getpeername(s, (&raw mut peer).cast(), &mut len), 0);
        assert_eq!(read(&peer).to_string(), "127.0.0.1:0");
        assert_eq!(send(s, b"lost".as_ptr(), 4, 0), 4, "sent, and taken by nobody");
        assert_eq!(send_to(s, b"gone", "127.0.0.1:0"), 4);

        let unspecified = [0u8; size_of::<SOCKADDR_IN>()];
        assert_eq!(connect(s, unspecified.as_ptr().cast(), LEN), 0, "error {}", last_error());
        assert_eq!(getpeername(s, (&raw mut peer).cast(), &mut len), SOCKET_ERROR);
        assert_eq!(last_error(), WSAENOTCONN as u32);
        assert_eq!(send(s, b"x".as_ptr(), 1, 0), SOCKET_ERROR);
        assert_eq!(last_error(), WSAENOTCONN as u32);
        assert_eq!(try_connect(s, "127.0.0.1:9"), Ok(()), "and it may connect again");
        assert_eq!(try_connect(s, "0.0.0.0:0"), Ok(()), "0.0.0.0 disconnects too");
        assert_eq!(getpeername(s, (&raw mut peer).cast(), &mut len), SOCKET_ERROR);
        assert_eq!(send_to(s, b"x", "0.0.0.0:9"), SOCKET_ERROR);
        assert_eq!(last_error(), WSAEADDRNOTAVAIL as u32, "Doc: sendto: not to ADDR_ANY");

        let t = tcp();
        assert_eq!(try_connect(t, "0.0.0.0:7"), Err(WSAEADDRNOTAVAIL as u32), "Doc: connect: ADDR_ANY");
        WSACloseEvent(ev);
        settle();
    });
    assert_eq!(outcome.conservation().udp_discarded, 8, "both datagrams to port 0 were dropped");
}

/// Two hosts: `cli` runs `main`; `srv` (192.0.2.10) binds nothing.
fn with_a_silent_host(seed: u64, main: impl FnOnce() + 'static) -> wsasim::Outcome {
    let mut sim = Sim::new(seed);
    sim.host("srv", "192.0.2.10", || unsafe { Sleep(INFINITE) });
    sim.client("cli", "192.0.2.20", main);
    sim.run().unwrap_or_else(|f| panic!("{f}\n{}", f.trace_text()))
}

#[test]
fn a_datagram_to_an_unbound_port_fails_the_senders_next_receives_with_wsaeconnreset() {
    let outcome = with_a_silent_host(0, || {
        startup();
        let s = udp();
        bind_to(s, "0.0.0.0:9000");
        // Sends go on succeeding (Wine sock.c test_UDP).
        assert_eq!(send_to(s, b"one", "192.0.2.10:7"), 3);
        assert_eq!(send_to(s, b"two", "192.0.2.10:7"), 3);
        settle();
        // Readable, as select says (Microsoft KB 263823).
        let mut reads = FD_SET { fd_count: 1, fd_array: [0; 64] };
        reads.fd_array[0] = s;
        let zero = TIMEVAL { tv_sec: 0, tv_usec: 0 };
        let ready = unsafe { select(0, &mut reads, std::ptr::null_mut(), std::ptr::null_mut(), &zero) };
        assert_eq!(ready, 1);
        // One receive for each message (Doc: recvfrom, WSAECONNRESET).
        assert_eq!(recv_from(s, 8).0, Err(WSAECONNRESET as u32));
        assert_eq!(recv_from(s, 8).0, Err(WSAECONNRESET as u32));
        let mut on = 1u32;
        unsafe { assert_eq!(ioctlsocket(s, FIONBIO, &mut on), 0) };
        assert_eq!(recv_from(s, 8).0, Err(WSAEWOULDBLOCK as u32), "both reported");
        // To a bound port, none: the datagram comes back.
        assert_eq!(send_to(s, b"self", "127.0.0.1:9000"), 4);
        settle();
        assert_eq!(recv_from(s, 8).0, Ok(b"self".to_vec()));
    });
    let trace = outcome.trace_text();
    assert!(trace.contains("port unreachable 192.0.2.10:7 > 192.0.2.20:9000"), "{trace}");
    let c = outcome.conservation();
    assert_eq!(
        (c.udp_sent, c.udp_read, c.udp_discarded),
        (10, 4, 6),
        "the datagrams are still dropped, and counted"
    );
    assert!(c.holds());
}

#[test]
fn a_pending_overlapped_receive_completes_with_the_port_unreachable() {
    with_a_silent_host(0, || unsafe {
        startup();
        let s = udp();
        bind_to(s, "0.0.0.0:9000");
        let event = WSACreateEvent();
        let mut ov = overlapped(event as HANDLE);
        let mut buf = [0u8; 8];
        let wsabuf = WSABUF { len: 8, buf: buf.as_mut_ptr() };
        let mut flags = 0;
        let r = WSARecvFrom(
            s,
            &wsabuf,
            1,
            std::ptr::null_mut(),
            &mut flags,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            &mut *ov,
            None,
        );
        assert_eq!((r, WSAGetLastError()), (SOCKET_ERROR, WSA_IO_PENDING));
        assert_eq!(send_to(s, b"x", "192.0.2.10:7"), 1);
        assert_eq!(
            WSAWaitForMultipleEvents(1, &(event as HANDLE), TRUE, 1000, FALSE),
            WSA_WAIT_EVENT_0 as u32
        );
        let mut bytes = 0;
        assert_eq!(WSAGetOverlappedResult(s, &*ov, &mut bytes, FALSE, &mut flags), FALSE);
        assert_eq!(WSAGetLastError(), WSAECONNRESET);
        // kernel32 reads the same status as ERROR_PORT_UNREACHABLE.
        assert_eq!(
            wsasim::Win32::System::IO::GetOverlappedResult(s as HANDLE, &*ov, &mut bytes, FALSE),
            FALSE
        );
        assert_eq!(GetLastError(), ERROR_PORT_UNREACHABLE);
    });
}

#[test]
fn port_unreachables_replay_with_their_seed() {
    let distinct = crate::harness::distinct_traces(0..10, |sim| {
        sim.host("srv", "192.0.2.10", || unsafe { Sleep(INFINITE) });
        sim.client("cli", "192.0.2.20", || {
            startup();
            let s = udp();
            bind_to(s, "0.0.0.0:9000");
            send_to(s, b"x", "192.0.2.10:7");
            assert_eq!(recv_from(s, 8).0, Err(WSAECONNRESET as u32));
        });
    });
    assert!(distinct > 1);
}
