//! The argument checks of the send and receive family, in the one order Windows makes
//! them: the socket, then the pointers as the call takes them, the address only on a
//! datagram socket, then the flags and the socket's state.

use crate::harness::net::*;
use crate::harness::run;
use std::ptr::{null, null_mut};
use wsasim::Win32::Networking::WinSock::*;
use wsasim::Win32::System::IO::OVERLAPPED;

/// Every call of the family on `s`, with every other argument wrong too (NULL buffers
/// and counts, a bad flag, an address of no family and too short): each call's error.
fn all_wrong(s: SOCKET) -> Vec<(&'static str, u32)> {
    let bad = [0xfeu8; 4];
    let bad_addr: *const SOCKADDR = bad.as_ptr().cast();
    let flag = 0x4000_0000;
    let mut from_len = 1;
    let mut buf = [0u8; 4];
    let failed = |name: &'static str, r: i32| {
        assert_eq!(r, SOCKET_ERROR, "{name}");
        (name, last_error())
    };
    let from = bad.as_ptr().cast_mut().cast();
    unsafe {
        vec![
            failed("send", send(s, null(), 4, flag)),
            failed("recv", recv(s, null_mut(), -1, flag)),
            failed("sendto", sendto(s, null(), 4, flag, bad_addr, 2)),
            failed("recvfrom", recvfrom(s, buf.as_mut_ptr(), 4, flag, from, &mut from_len)),
            failed("WSASend", WSASend(s, null(), 1, null_mut(), flag as u32, null_mut(), None)),
            failed(
                "WSASendTo",
                WSASendTo(s, null(), 1, null_mut(), flag as u32, bad_addr, 2, null_mut(), None),
            ),
            failed("WSARecv", WSARecv(s, null(), 0, null_mut(), null_mut(), null_mut(), None)),
            failed(
                "WSARecvFrom",
                WSARecvFrom(s, null(), 0, null_mut(), null_mut(), null_mut(), null_mut(), null_mut(), None),
            ),
        ]
    }
}

#[test]
fn a_bad_socket_is_wsaenotsock_whatever_else_is_wrong() {
    // Wine sock.c test_WSASendTo:
    //     ret = WSASendTo(INVALID_SOCKET, &data_buf, 1, NULL, 0, (struct sockaddr*)&addr, sizeof(addr), NULL, NULL);
    //     ok(ret == SOCKET_ERROR && WSAGetLastError() == WSAENOTSOCK, ...);
    // Wine sock.c test_valid_handle: WSASend(INVALID_SOCKET, ..., NULL count, ..., NULL,
    // NULL) and the same on an event's handle are WSAENOTSOCK, on a socket WSAEFAULT.
    run(|| unsafe {
        startup();
        for s in [INVALID_SOCKET, WSACreateEvent() as SOCKET] {
            for (name, error) in all_wrong(s) {
                assert_eq!(error, WSAENOTSOCK as u32, "{name} on {s:#x}");
            }
        }
        WSACleanup();
        for (name, error) in all_wrong(INVALID_SOCKET) {
            assert_eq!(error, WSANOTINITIALISED as u32, "{name} before WSAStartup");
        }
    });
}

#[test]
fn on_a_socket_the_pointers_come_next_in_the_order_the_call_takes_them() {
    // Wine sock.c test_WSASendTo, on a socket: the NULL count is WSAEFAULT, and with a
    // count the same call succeeds and binds the socket:
    //     ret = WSASendTo(s, &data_buf, 1, NULL, 0, (struct sockaddr*)&addr, sizeof(addr), NULL, NULL);
    //     ok(ret == SOCKET_ERROR && WSAGetLastError() == WSAEFAULT, ...);
    //     ret = WSASendTo(s, &data_buf, 1, &bytesSent, 0, (struct sockaddr *)&addr, sizeof(addr), NULL, NULL);
    //     ok(!ret, "expected success\n");
    // Wine sock.c test_empty_recv: a buffer count of 0 is WSAEINVAL, before the count
    // pointer; test_recv: recv of length -1 is WSAEFAULT.
    run(|| unsafe {
        startup();
        let u = udp();
        let expected = [
            ("send", WSAEFAULT),
            ("recv", WSAEFAULT),
            ("sendto", WSAEFAULT),
            ("recvfrom", WSAEFAULT),
            ("WSASend", WSAEFAULT),
            ("WSASendTo", WSAEFAULT),
            ("WSARecv", WSAEINVAL),
            ("WSARecvFrom", WSAEINVAL),
        ];
        let got = all_wrong(u);
        assert_eq!(got, expected.map(|(n, e)| (n, e as u32)));

        let to = sockaddr("127.0.0.1:139");
        let mut data = *b"data";
        let b = wsabuf(&mut data);
        let mut sent = 0;
        assert_eq!(
            WSASendTo(u, &b, 1, null_mut(), 0, (&raw const to).cast(), LEN, null_mut(), None),
            SOCKET_ERROR
        );
        assert_eq!(last_error(), WSAEFAULT as u32);
        assert_eq!(WSASendTo(u, &b, 1, &mut sent, 0, (&raw const to).cast(), LEN, null_mut(), None), 0);
        assert_eq!(sent, 4);
        let (mut name, mut len) = (sockaddr("0.0.0.0:0"), LEN);
        assert_eq!(getsockname(u, (&raw mut name).cast(), &mut len), 0);
        assert_ne!(read(&name).port(), 0, "the send bound the socket");

        // Then the flags pointer of a receive, then the address of a datagram socket.
        let mut buf = [0u8; 4];
        let b = wsabuf(&mut buf);
        let mut n = 0;
        assert_eq!(WSARecv(u, &b, 1, &mut n, null_mut(), null_mut(), None), SOCKET_ERROR);
        assert_eq!(last_error(), WSAEFAULT as u32, "a NULL lpFlags");
        assert_eq!(
            WSASendTo(u, &b, 1, &mut n, 0, (&raw const to).cast(), LEN - 1, null_mut(), None),
            SOCKET_ERROR
        );
        assert_eq!(last_error(), WSAEFAULT as u32, "an address too short");
        let mut v6 = to;
        v6.sin_family = AF_INET6;
        assert_eq!(
            WSASendTo(u, &b, 1, &mut n, 0, (&raw const v6).cast(), LEN, null_mut(), None),
            SOCKET_ERROR
        );
        assert_eq!(last_error(), WSAEAFNOSUPPORT as u32);
        // And the flags' values only after all of those.
        assert_eq!(
            WSASendTo(u, &b, 1, &mut n, 0x4000_0000, (&raw const to).cast(), LEN, null_mut(), None),
            SOCKET_ERROR
        );
        assert_eq!(last_error(), WSAEINVAL as u32);
    });
}

#[test]
fn an_unknown_flag_is_wsaeinval_and_one_the_transport_lacks_wsaeopnotsupp() {
    // Doc: recv, Doc: send: WSAEINVAL, "an unknown flag was specified"; WSAEOPNOTSUPP,
    // "MSG_OOB was specified, but the socket is not stream-style". Wine afd.c test_recv: a
    // flag word AFD does not know is STATUS_INVALID_PARAMETER (WSAEINVAL).
    run(|| unsafe {
        let (c, s) = tcp_pair();
        let u = udp();
        bind_to(u, "127.0.0.1:0");
        let mut buf = [0u8; 4];
        let mut on = 1;
        assert_eq!(ioctlsocket(s, FIONBIO, &mut on), 0);
        let cases = [
            (s, 0x4000_0000, WSAEINVAL),
            (s, MSG_DONTROUTE, WSAEINVAL),
            (s, MSG_WAITALL, WSAEOPNOTSUPP),
            (s, MSG_PUSH_IMMEDIATE, WSAEOPNOTSUPP),
            (u, MSG_OOB, WSAEOPNOTSUPP),
            (s, MSG_PEEK, WSAEWOULDBLOCK),
        ];
        for (socket, flags, error) in cases {
            assert_eq!(recv(socket, buf.as_mut_ptr(), 4, flags), SOCKET_ERROR, "{flags:#x}");
            assert_eq!(last_error(), error as u32, "recv with {flags:#x}");
        }
        assert_eq!(send(c, buf.as_ptr(), 4, MSG_PEEK), SOCKET_ERROR);
        assert_eq!(last_error(), WSAEINVAL as u32, "MSG_PEEK is no send flag");
        assert_eq!(send(c, buf.as_ptr(), 4, MSG_PARTIAL as i32), SOCKET_ERROR);
        assert_eq!(last_error(), WSAEOPNOTSUPP as u32, "Doc: WSASend: no partial messages on TCP");
        assert_eq!(send(c, buf.as_ptr(), 4, MSG_DONTROUTE), 4);
        settle();
        assert_eq!(recv(s, buf.as_mut_ptr(), 4, MSG_PARTIAL as i32), 4, "ignored on a receive");
    });
}

#[test]
fn a_stream_ignores_the_address_of_sendto_and_recvfrom() {
    // Wine sock.c test_tcp_sendto_recvfrom (an address of 0xfe bytes, a length of
    // 0xc0ffee11):
    //     ok(ret == sizeof(serverMsg), "Incorrect return value from sendto: %d (%d)\n", ...);
    //     ok(!memcmp(&bad_addr, &bad_addr_copy, sizeof(bad_addr)), "Provided address modified by sendto\n");
    //     ok(ret == sizeof(serverMsg), "Incorrect return value from recvfrom: %d (%d)\n", ...);
    //     ok(to_len == 0xc0ffee11, "Provided size modified by recvfrom\n");
    run(|| unsafe {
        let (c, s) = tcp_pair();
        let mut bad = [0xfeu8; 16];
        let mut len = 0xc0ffee11_u32 as i32;
        assert_eq!(sendto(s, b"msg".as_ptr(), 3, 0, bad.as_ptr().cast(), len), 3);
        settle();
        let mut buf = [0u8; 8];
        assert_eq!(recvfrom(c, buf.as_mut_ptr(), 8, 0, bad.as_mut_ptr().cast(), &mut len), 3);
        assert_eq!((&buf[..3], bad, len), (&b"msg"[..], [0xfe; 16], 0xc0ffee11_u32 as i32));
    });
}

#[test]
fn a_from_length_too_small_fails_the_datagram_receive_and_leaves_the_datagram() {
    // Wine sock.c test_UDP, "a too small fromlen for recvfrom() shouldn't write
    // unnecessary data": the call fails (todo_wine), the address is untouched, and a
    // retry with room receives the datagram:
    //     todo_wine ok ( n_recv == SOCKET_ERROR, "UDP: recvfrom() succeeded\n" );
    //     ok ( sockaddr_buf[0] == 'A', "UDP: marker got overwritten\n" );
    // Doc: recvfrom: WSAEFAULT when "the fromlen parameter is too small".
    run(|| unsafe {
        startup();
        let (a, b) = (udp(), udp());
        bind_to(a, "127.0.0.1:7000");
        let to = sockaddr("127.0.0.1:7000");
        assert_eq!(sendto(b, b"dgram".as_ptr(), 5, 0, (&raw const to).cast(), LEN), 5);
        settle();
        let mut buf = [0u8; 8];
        let (mut from, mut from_len) = (sockaddr("0.0.0.0:0"), 1);
        assert_eq!(recvfrom(a, buf.as_mut_ptr(), 8, 0, (&raw mut from).cast(), &mut from_len), SOCKET_ERROR);
        assert_eq!(last_error(), WSAEFAULT as u32);
        assert_eq!((read(&from).to_string(), from_len), ("0.0.0.0:0".to_owned(), 1), "nothing written");
        let mut ov = OVERLAPPED::default();
        let b2 = wsabuf(&mut buf);
        let (mut n, mut flags) = (0, 0);
        let r = WSARecvFrom(a, &b2, 1, &mut n, &mut flags, (&raw mut from).cast(), null_mut(), &mut ov, None);
        assert_eq!((r, last_error()), (SOCKET_ERROR, WSAEFAULT as u32), "an lpFrom with no lpFromlen");
        from_len = LEN;
        assert_eq!(recvfrom(a, buf.as_mut_ptr(), 8, 0, (&raw mut from).cast(), &mut from_len), 5);
        assert_eq!(&buf[..5], b"dgram");
    });
}

#[test]
fn memory_the_program_does_not_have_is_wsaefault_not_a_crash() {
    // Doc: send: WSAEFAULT, "The buf parameter is not completely contained in a valid part
    // of the user address space"; Wine sock.c test_read_events: recv of length -1 is
    // WSAEFAULT. Windows probes the whole range before it uses it; so does wsasim.
    run(|| unsafe {
        startup();
        let (a, b) = tcp_pair();
        let one = [b'x'; 1];
        assert_eq!(send(a, one.as_ptr(), i32::MAX, 0), SOCKET_ERROR, "a length far past the buffer");
        assert_eq!(last_error(), WSAEFAULT as u32);
        let huge = WSABUF { len: u32::MAX, buf: one.as_ptr().cast_mut() };
        let mut sent = 0;
        assert_eq!(WSASend(a, &huge, 1, &mut sent, 0, null_mut(), None), SOCKET_ERROR);
        assert_eq!(last_error(), WSAEFAULT as u32);
        let lone = WSABUF { len: 1, buf: one.as_ptr().cast_mut() };
        assert_eq!(
            WSASend(a, &lone, u32::MAX, &mut sent, 0, null_mut(), None),
            SOCKET_ERROR,
            "a WSABUF count far past the array"
        );
        assert_eq!(last_error(), WSAEFAULT as u32);
        assert_eq!(
            send(a, std::ptr::dangling::<u8>(), 1, 0),
            SOCKET_ERROR,
            "an address nothing is mapped at"
        );
        assert_eq!(last_error(), WSAEFAULT as u32);
        // A receive fills its buffer in: a constant cannot be one.
        static CONSTANT: [u8; 8] = [0; 8];
        assert_eq!(send(a, b"data".as_ptr(), 4, 0), 4);
        settle();
        assert_eq!(recv(b, CONSTANT.as_ptr().cast_mut(), 8, 0), SOCKET_ERROR);
        assert_eq!(last_error(), WSAEFAULT as u32);
        assert_eq!(recv_exact(b, 4), b"data", "the failed receive took nothing");
        assert_eq!(send(a, b"more".as_ptr(), 4, 0), 4, "a constant can be sent from");
        // select's sets are read for `fd_count` entries, WSAPoll's array for `fds`.
        let mut set = FD_SET { fd_count: u32::MAX, fd_array: [0; 64] };
        assert_eq!(select(0, &mut set, null_mut(), null_mut(), null()), SOCKET_ERROR);
        assert_eq!(last_error(), WSAEFAULT as u32);
        let mut poll = WSAPOLLFD { fd: a, events: POLLWRNORM, revents: 0 };
        assert_eq!(WSAPoll(&mut poll, u32::MAX, 0), SOCKET_ERROR);
        assert_eq!(last_error(), WSAEFAULT as u32);
        assert_eq!(WSAPoll(&mut poll, 1, 0), 1, "the same entry, counted right");
    });
}

#[test]
fn select_before_wsastartup_is_wsanotinitialised() {
    // Doc: select: WSANOTINITIALISED, "A successful WSAStartup call must occur before using
    // this function", whatever the sets hold.
    run(|| unsafe {
        let mut set = FD_SET { fd_count: 0, fd_array: [0; 64] };
        assert_eq!(select(0, &mut set, null_mut(), null_mut(), null()), SOCKET_ERROR);
        assert_eq!(last_error(), WSANOTINITIALISED as u32);
        startup();
        assert_eq!(select(0, &mut set, null_mut(), null_mut(), null()), SOCKET_ERROR);
        assert_eq!(last_error(), WSAEINVAL as u32, "empty sets, once started");
    });
}
