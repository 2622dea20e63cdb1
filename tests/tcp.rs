//! TCP: connecting, accepting, the byte stream, close, shutdown and reset (Doc: WSARecv,
//! Doc: connect, Doc: shutdown, and the Wine sock.c tests each test names), with the errors
//! of each call in the wrong state.

use crate::harness::net::*;
use crate::harness::{run, run_allowing};
use std::ptr::null_mut;
use wsasim::Sim;
use wsasim::Win32::Foundation::*;
use wsasim::Win32::Networking::WinSock::*;
use wsasim::Win32::System::IO::GetOverlappedResult;
use wsasim::Win32::System::SystemInformation::GetTickCount64;
use wsasim::Win32::System::Threading::*;

/// Runs a server host `srv` (192.0.2.10) and a client host `cli` (192.0.2.20).
fn pair(seed: u64, server: impl FnOnce() + 'static, client: impl FnOnce() + 'static) -> wsasim::Outcome {
    pair_allowing(seed, None, server, client)
}

/// As [`pair`], for a test of what Windows does on a misuse it makes on purpose.
fn pair_allowing(
    seed: u64,
    misuse: Option<wsasim::Misuse>,
    server: impl FnOnce() + 'static,
    client: impl FnOnce() + 'static,
) -> wsasim::Outcome {
    let mut sim = Sim::new(seed);
    // The server is up first, as these programs expect (see `Sim::start_spread`).
    sim.start_spread(std::time::Duration::ZERO);
    sim.host("srv", "192.0.2.10", server).client("cli", "192.0.2.20", client);
    if let Some(m) = misuse {
        sim.allow(m);
    }
    sim.run().unwrap_or_else(|f| panic!("{f}\n{}", f.trace_text()))
}

/// A server that accepts one connection on port 7 and then sleeps.
fn accepting_server() {
    startup();
    let _s = accept_one(listener("0.0.0.0:7"));
    unsafe { Sleep(INFINITE) };
}

#[test]
fn a_blocking_echo_moves_bytes_in_order() {
    for seed in 0..20 {
        pair(
            seed,
            || {
                startup();
                let l = listener("0.0.0.0:7");
                let s = accept_one(l);
                loop {
                    let data = recv_some(s, 100).unwrap();
                    if data.is_empty() {
                        break;
                    }
                    send_all(s, &data);
                }
                close(s);
            },
            || {
                startup();
                let s = connected("192.0.2.10:7");
                let message: Vec<u8> = (0..=255).collect();
                send_all(s, &message);
                assert_eq!(recv_exact(s, 256), message);
                close(s);
            },
        );
    }
}

#[test]
fn calls_before_startup_fail_with_wsanotinitialised_and_bad_sockets_with_wsaenotsock() {
    // Wine sock.c test_WithoutWSAStartup, test_WithWSAStartup (a cleanup with a socket
    // open, a misuse made here on purpose).
    run_allowing(0, Some(wsasim::Misuse::CleanupWithSocketsOpen), || unsafe {
        assert_eq!(socket(AF_INET.into(), SOCK_STREAM, 0), INVALID_SOCKET);
        assert_eq!(GetLastError(), WSANOTINITIALISED as u32);
        assert_eq!(WSACleanup(), SOCKET_ERROR);
        assert_eq!(GetLastError(), WSANOTINITIALISED as u32);
        startup();
        let s = tcp();
        let ev = WSACreateEvent();
        assert_eq!(closesocket(ev as SOCKET), SOCKET_ERROR);
        assert_eq!(GetLastError(), WSAENOTSOCK as u32);
        assert_eq!(WSACleanup(), 0);
        assert_eq!(closesocket(s), SOCKET_ERROR, "cleanup closed it");
        assert_eq!(GetLastError(), WSANOTINITIALISED as u32);
        startup();
        assert_eq!(closesocket(s), SOCKET_ERROR);
        assert_eq!(GetLastError(), WSAENOTSOCK as u32, "cleanup destroyed the socket");
    });
}

#[test]
fn wsastartup_gives_back_the_version_windows_does() {
    // ReactOS apitest WSAStartup (its table, as Windows answers): the version asked up to
    // 1.1 or 2.2, a higher minor cut to those, a higher major 2.2; major 0 refused with the
    // data still filled in; the version checked before the pointer; lpVendorInfo untouched.
    run(|| unsafe {
        let cases = [
            (0x0000, WSAVERNOTSUPPORTED, 0x0202),
            (0x0900, WSAVERNOTSUPPORTED, 0x0202),
            (0x0001, 0, 0x0001),
            (0x0101, 0, 0x0101),
            (0x0201, 0, 0x0101),
            (0xff01, 0, 0x0101),
            (0x0002, 0, 0x0002),
            (0x0102, 0, 0x0102),
            (0x0302, 0, 0x0202),
            (0x0003, 0, 0x0202),
            (0xffff, 0, 0x0202),
        ];
        for (asked, result, version) in cases {
            let mut data: WSADATA = std::mem::zeroed();
            data.lpVendorInfo = 0x5555 as *mut _;
            assert_eq!(WSAStartup(asked, &mut data), result, "{asked:#06x}");
            assert_eq!((data.wVersion, data.wHighVersion), (version, 0x0202), "{asked:#06x}");
            let legacy = version & 0xff < 2;
            assert_eq!((data.iMaxSockets, data.iMaxUdpDg), if legacy { (32767, 65467) } else { (0, 0) });
            assert_eq!(data.lpVendorInfo as usize, 0x5555);
            let description: Vec<u8> =
                data.szDescription.iter().take_while(|c| **c != 0).map(|c| *c as u8).collect();
            assert_eq!(description, b"WinSock 2.0");
            if result == 0 {
                assert_eq!(WSACleanup(), 0);
            }
        }
        assert_eq!(WSAStartup(0, null_mut()), WSAVERNOTSUPPORTED, "the version first");
        assert_eq!(WSAStartup(0x0202, null_mut()), WSAEFAULT);
        assert_eq!(socket(AF_INET.into(), SOCK_STREAM, 0), INVALID_SOCKET, "neither started anything");
        assert_eq!(GetLastError(), WSANOTINITIALISED as u32);
    });
}

#[test]
fn an_unknown_option_is_wsaenoprotoopt_and_an_unknown_level_wsaeinval() {
    // Wine sock.c test_sockopt_validity (optname -1 at IPPROTO_IP: WSAENOPROTOOPT);
    // test_set_getsockopt and test_extendedSocketOptions (levels 0xffffffff and 0x8000:
    // WSAEINVAL, for setsockopt and getsockopt alike).
    run(|| unsafe {
        startup();
        let s = tcp();
        let (mut value, mut len) = (1u32, 4);
        let set = |level: i32, name: i32| {
            let r = setsockopt(s, level, name, (&raw const value).cast(), 4);
            (r, last_error())
        };
        let failed = |e: i32| (SOCKET_ERROR, e as u32);
        assert_eq!(set(IPPROTO_IP, -1), failed(WSAENOPROTOOPT));
        assert_eq!(set(SOL_SOCKET, 0x7777), failed(WSAENOPROTOOPT));
        assert_eq!(set(-1, SO_RCVTIMEO), failed(WSAEINVAL));
        assert_eq!(set(0x8000, SO_RCVTIMEO), failed(WSAEINVAL));
        for level in [-1, 0x1234_ffff, 0x8000_ffffu32 as i32, 0x8000, 0x800] {
            let r = getsockopt(s, level, SO_RCVTIMEO, (&raw mut value).cast(), &mut len);
            assert_eq!((r, last_error()), failed(WSAEINVAL), "level {level:#x}");
        }
        assert_eq!(getsockopt(s, SOL_SOCKET, SO_RCVTIMEO, (&raw mut value).cast(), &mut len), 0);
    });
}

#[test]
fn a_connect_with_no_listener_is_refused_after_a_round_trip() {
    // Wine sock.c test_errors; Doc: connect (WSAECONNREFUSED).
    pair(0, startup, || unsafe {
        startup();
        let s = tcp();
        let before = GetTickCount64();
        assert_eq!(try_connect(s, "192.0.2.10:9"), Err(WSAECONNREFUSED as u32));
        assert!(GetTickCount64() - before < 1, "a round trip of well under a millisecond");
        let (mut err, mut len) = (0u32, 4);
        assert_eq!(getsockopt(s, SOL_SOCKET, SO_ERROR, (&raw mut err).cast(), &mut len), 0);
        assert_eq!(err, WSAECONNREFUSED as u32);
        // "connect may be called again after a failure": again refused.
        assert_eq!(try_connect(s, "192.0.2.10:9"), Err(WSAECONNREFUSED as u32));
    });
}

#[test]
fn a_nonblocking_connect_would_block_then_completes_and_a_second_is_already_under_way() {
    // WSAEWOULDBLOCK, then WSAEALREADY while in progress, WSAEISCONN once connected,
    // WSAENOTCONN for send and recv meanwhile (Wine sock.c test_connecting_socket).
    pair(0, accepting_server, || unsafe {
        startup();
        let s = tcp();
        let mut on = 1;
        assert_eq!(ioctlsocket(s, FIONBIO, &mut on), 0);
        assert_eq!(try_connect(s, "192.0.2.10:7"), Err(WSAEWOULDBLOCK as u32));
        assert_eq!(try_connect(s, "192.0.2.10:7"), Err(WSAEALREADY as u32));
        assert_eq!(send(s, b"x".as_ptr(), 1, 0), SOCKET_ERROR);
        assert_eq!(GetLastError(), WSAENOTCONN as u32);
        Sleep(5);
        assert_eq!(try_connect(s, "192.0.2.10:7"), Err(WSAEISCONN as u32));
        let l = listener("0.0.0.0:8");
        assert_eq!(try_connect(l, "192.0.2.10:7"), Err(WSAEINVAL as u32), "a listening socket");
    });
}

#[test]
fn a_socket_whose_connect_is_under_way_has_its_names_but_cannot_send_or_receive() {
    // Wine sock.c test_connecting_socket, a nonblocking socket bound to 0.0.0.0:0 connecting
    // to an address nobody answers:
    //     ok(WSAGetLastError() == WSAEWOULDBLOCK, ...);  then, connecting again,
    //     ok(WSAGetLastError() == WSAEALREADY, ...);
    //     ret = getsockname(client, ...); ok(!ret, ...); ok(addr.sin_port, "expected nonzero port\n");
    //     ret = getpeername(client, ...); ok(!ret, "got error %u\n", WSAGetLastError());
    //     ret = recv(client, ...); todo_wine ok(WSAGetLastError() == WSAENOTCONN, ...);
    //     ret = send(client, ...); todo_wine ok(WSAGetLastError() == WSAENOTCONN, ...);
    run(|| unsafe {
        startup();
        let s = tcp();
        bind_to(s, "0.0.0.0:0");
        let mut on = 1;
        assert_eq!(ioctlsocket(s, FIONBIO, &mut on), 0);
        assert_eq!(try_connect(s, "192.0.2.0:65280"), Err(WSAEWOULDBLOCK as u32));
        assert_eq!(try_connect(s, "192.0.2.0:65280"), Err(WSAEALREADY as u32));
        let (mut name, mut len) = (sockaddr("0.0.0.0:0"), LEN);
        assert_eq!(getsockname(s, (&raw mut name).cast(), &mut len), 0);
        assert_ne!(read(&name).port(), 0);
        let (mut peer, mut len) = (sockaddr("0.0.0.0:0"), LEN);
        assert_eq!(getpeername(s, (&raw mut peer).cast(), &mut len), 0, "error {}", last_error());
        assert_eq!(read(&peer).to_string(), "192.0.2.0:65280", "the address connect was given");
        let mut buf = [0u8; 4];
        assert_eq!(recv(s, buf.as_mut_ptr(), 4, 0), SOCKET_ERROR);
        assert_eq!(last_error(), WSAENOTCONN as u32);
        assert_eq!(send(s, c"data".as_ptr().cast(), 5, 0), SOCKET_ERROR);
        assert_eq!(last_error(), WSAENOTCONN as u32);
        close(s);
    });
}

#[test]
fn a_refused_connect_leaves_no_peer() {
    // Doc: getpeername: WSAENOTCONN, "the socket is not connected"; a refused socket may
    // connect again (Wine sock.c test_connect), so it is not connected meanwhile.
    pair(0, startup, || unsafe {
        startup();
        let s = tcp();
        assert_eq!(try_connect(s, "192.0.2.10:9"), Err(WSAECONNREFUSED as u32));
        let (mut peer, mut len) = (sockaddr("0.0.0.0:0"), LEN);
        assert_eq!(getpeername(s, (&raw mut peer).cast(), &mut len), SOCKET_ERROR);
        assert_eq!(last_error(), WSAENOTCONN as u32);
    });
}

#[test]
fn a_graceful_close_ends_the_stream_after_the_data_and_every_later_receive_reads_zero() {
    // Doc: WSARecv (0 bytes: graceful closure); Wine sock.c test_shutdown, Wine afd.c
    // test_recv (a pending receive completes with 0 bytes when the peer closes).
    pair(
        1,
        || unsafe {
            startup();
            let l = listener("0.0.0.0:7");
            let s = accept_one(l);
            let ev = WSACreateEvent() as HANDLE;
            let mut ov = overlapped(ev);
            let mut buf = [0u8; 0x10000];
            let mut got = 0;
            loop {
                let b = wsabuf(&mut buf);
                let (mut n, mut flags) = (0, 0);
                if WSARecv(s, &b, 1, &mut n, &mut flags, &mut *ov, None) == SOCKET_ERROR {
                    assert_eq!(GetLastError(), WSA_IO_PENDING as u32);
                    assert_eq!(WSAGetOverlappedResult(s, &*ov, &mut n, TRUE, &mut flags), TRUE);
                }
                if n == 0 {
                    break;
                }
                got += n;
            }
            assert_eq!(got, 100_000, "every byte sent before the close arrives first");
            assert_eq!(recv_some(s, 10), Ok(vec![]));
            assert_eq!(recv_some(s, 10), Ok(vec![]));
            close(s);
        },
        || {
            startup();
            let s = connected("192.0.2.10:7");
            send_all(s, &vec![7u8; 100_000]);
            close(s);
        },
    );
}

#[test]
fn shutdown_follows_the_rules_of_each_direction() {
    // Wine sock.c test_shutdown; Doc: shutdown.
    pair(
        0,
        || {
            startup();
            let l = listener("0.0.0.0:7");
            let s = accept_one(l);
            assert_eq!(recv_exact(s, 2), b"hi");
            assert_eq!(recv_some(s, 10), Ok(vec![]), "end of stream after SD_SEND");
            send_all(s, b"back");
            unsafe { Sleep(INFINITE) };
        },
        || unsafe {
            startup();
            let s = tcp();
            assert_eq!(shutdown(s, SD_SEND), SOCKET_ERROR);
            assert_eq!(GetLastError(), WSAENOTCONN as u32, "not connected");
            try_connect(s, "192.0.2.10:7").unwrap();
            assert_eq!(shutdown(s, 7), SOCKET_ERROR);
            assert_eq!(GetLastError(), WSAEINVAL as u32);
            send_all(s, b"hi");
            assert_eq!(shutdown(s, SD_SEND), 0);
            assert_eq!(shutdown(s, SD_SEND), 0, "repeating SD_SEND succeeds");
            assert_eq!(send(s, b"x".as_ptr(), 1, 0), SOCKET_ERROR);
            assert_eq!(GetLastError(), WSAESHUTDOWN as u32);
            assert_eq!(recv_exact(s, 4), b"back", "the other direction still works");
            assert_eq!(shutdown(s, SD_RECEIVE), 0);
            assert_eq!(recv_some(s, 4), Err(WSAESHUTDOWN as u32));
            let mut buf = [0u8; 4];
            let mut ov = overlapped(WSACreateEvent() as HANDLE);
            let b = wsabuf(&mut buf);
            let (mut n, mut flags) = (0, 0);
            assert_eq!(WSARecv(s, &b, 1, &mut n, &mut flags, &mut *ov, None), SOCKET_ERROR);
            assert_eq!(GetLastError(), WSAESHUTDOWN as u32, "an overlapped receive fails at once too");
            assert_eq!(try_connect(s, "192.0.2.10:7"), Err(WSAEISCONN as u32));
            let u = udp();
            assert_eq!(shutdown(u, SD_SEND), 0, "UDP: succeeds even unconnected");
            let to = sockaddr("192.0.2.10:9");
            assert_eq!(sendto(u, b"x".as_ptr(), 1, 0, (&raw const to).cast(), LEN), SOCKET_ERROR);
            assert_eq!(GetLastError(), WSAESHUTDOWN as u32);
        },
    );
}

#[test]
fn an_abortive_close_resets_the_peer() {
    // Wine sock.c test_tcp_reset: a pending receive fails with
    // STATUS_CONNECTION_RESET (ERROR_NETNAME_DELETED / WSAECONNRESET), later calls at once
    // with WSAECONNRESET, and SO_ERROR stays 0.
    pair(
        0,
        || unsafe {
            startup();
            let l = listener("0.0.0.0:7");
            let s = accept_one(l);
            Sleep(1);
            reset(s);
            Sleep(INFINITE);
        },
        || unsafe {
            startup();
            let s = connected("192.0.2.10:7");
            let ev = WSACreateEvent() as HANDLE;
            let mut ov = overlapped(ev);
            let mut buf = [0u8; 8];
            let b = wsabuf(&mut buf);
            let (mut n, mut flags) = (0xdead_beef_u32, 0);
            assert_eq!(WSARecv(s, &b, 1, &mut n, &mut flags, &mut *ov, None), SOCKET_ERROR);
            assert_eq!(WaitForSingleObject(ev, INFINITE), WAIT_OBJECT_0);
            assert_eq!(ov.Internal as u32 as i32, STATUS_CONNECTION_RESET);
            assert_eq!(GetOverlappedResult(s as HANDLE, &*ov, &mut n, FALSE), FALSE);
            assert_eq!(GetLastError(), ERROR_NETNAME_DELETED);
            assert_eq!(WSAGetOverlappedResult(s, &*ov, &mut n, FALSE, &mut flags), FALSE);
            assert_eq!(GetLastError(), WSAECONNRESET as u32);
            assert_eq!(n, 0);
            WSASetEvent(ev as WSAEVENT);
            n = 0xdead_beef;
            assert_eq!(WSARecv(s, &b, 1, &mut n, &mut flags, &mut *ov, None), SOCKET_ERROR);
            assert_eq!(GetLastError(), WSAECONNRESET as u32);
            assert_eq!(n, 0xdead_beef, "no count, and no completion (Wine sock.c test_completion_port)");
            assert_eq!(WaitForSingleObject(ev, 0), WAIT_OBJECT_0, "the event was not reset");
            assert_eq!(send(s, b"x".as_ptr(), 1, 0), SOCKET_ERROR);
            assert_eq!(GetLastError(), WSAECONNRESET as u32);
            let (mut err, mut len) = (7u32, 4);
            assert_eq!(getsockopt(s, SOL_SOCKET, SO_ERROR, (&raw mut err).cast(), &mut len), 0);
            assert_eq!(err, 0, "SO_ERROR stays 0 after a reset");
        },
    );
}

#[test]
fn a_send_pends_while_the_peer_does_not_read_and_completes_with_the_full_count() {
    // Wine sock.c test_send (SO_SNDBUF 0 and 1 MB).
    pair(
        0,
        || unsafe {
            startup();
            let l = listener("0.0.0.0:7");
            let s = accept_one(l);
            Sleep(50);
            let got = recv_exact(s, 1 << 20);
            assert!(got.iter().all(|b| *b == 0x5a));
            Sleep(INFINITE);
        },
        || unsafe {
            startup();
            let s = connected("192.0.2.10:7");
            let zero = 0u32;
            assert_eq!(setsockopt(s, SOL_SOCKET, SO_SNDBUF, (&raw const zero).cast(), 4), 0);
            let mut data = vec![0x5au8; 1 << 20];
            let b = wsabuf(&mut data);
            let ev = WSACreateEvent() as HANDLE;
            let mut ov = overlapped(ev);
            let mut n = 0;
            assert_eq!(WSASend(s, &b, 1, &mut n, 0, &mut *ov, None), SOCKET_ERROR);
            assert_eq!(GetLastError(), WSA_IO_PENDING as u32);
            assert_eq!(WaitForSingleObject(ev, 10), WAIT_TIMEOUT, "the peer does not read yet");
            let mut flags = 0;
            assert_eq!(WSAGetOverlappedResult(s, &*ov, &mut n, TRUE, &mut flags), TRUE);
            assert_eq!(n, 1 << 20, "the full count");
        },
    );
}

#[test]
fn a_nonblocking_send_is_all_or_nothing() {
    // Wine sock.c test_write_events ("Windows will never send less than
    // buffer_size bytes here").
    pair(0, accepting_server, || unsafe {
        startup();
        let s = connected("192.0.2.10:7");
        let mut on = 1;
        assert_eq!(ioctlsocket(s, FIONBIO, &mut on), 0);
        let data = vec![1u8; 300_000];
        let mut total = 0;
        loop {
            let n = send(s, data.as_ptr(), data.len() as i32, 0);
            if n == SOCKET_ERROR {
                assert_eq!(GetLastError(), WSAEWOULDBLOCK as u32);
                break;
            }
            assert_eq!(n, data.len() as i32, "never a short count");
            total += n;
        }
        assert!(total >= 300_000, "the first send is taken whole");
        // With no data, a nonblocking receive would block but an overlapped one pends (Wine
        // sock.c test_nonblocking_async_recv).
        assert_eq!(recv_some(s, 10), Err(WSAEWOULDBLOCK as u32), "no data, nonblocking");
        let mut buf = [0u8; 4];
        let mut ov = overlapped(WSACreateEvent() as HANDLE);
        let b = wsabuf(&mut buf);
        let (mut n, mut flags) = (0, 0);
        assert_eq!(WSARecv(s, &b, 1, &mut n, &mut flags, &mut *ov, None), SOCKET_ERROR);
        assert_eq!(GetLastError(), WSA_IO_PENDING as u32, "an overlapped receive pends");
    });
}

#[test]
fn a_blocking_receive_times_out_with_so_rcvtimeo_and_runs_apcs_while_it_waits() {
    // Wine sock.c test_timeout; Wine sock.c test_WSARecv (an APC queued to a thread in a
    // blocking receive runs in it).
    static RAN: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    unsafe extern "system" fn apc(_: usize) {
        RAN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    pair(
        0,
        || {
            startup();
            let l = listener("0.0.0.0:7");
            let s = accept_one(l);
            unsafe { Sleep(300) };
            send_all(s, b"late");
            unsafe { Sleep(INFINITE) };
        },
        || unsafe {
            startup();
            let s = connected("192.0.2.10:7");
            let timeout = 100u32;
            assert_eq!(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, (&raw const timeout).cast(), 4), 0);
            let before = GetTickCount64();
            assert_eq!(recv_some(s, 4), Err(WSAETIMEDOUT as u32));
            assert!(GetTickCount64() - before >= 100);
            let timeout = 0u32;
            assert_eq!(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, (&raw const timeout).cast(), 4), 0);
            RAN.store(0, std::sync::atomic::Ordering::Relaxed);
            let receiver = wsasim::thread::spawn(move || recv_exact(s, 4));
            Sleep(20);
            assert_ne!(QueueUserAPC(Some(apc), receiver.as_raw_handle(), 0), 0);
            assert_eq!(receiver.join().unwrap(), b"late", "the receive went on after the APC");
            assert_eq!(RAN.load(std::sync::atomic::Ordering::Relaxed), 1, "the APC ran in the receive");
        },
    );
}

#[test]
fn names_ports_and_bind_errors() {
    // Doc: bind (WSAEADDRINUSE, WSAEADDRNOTAVAIL, WSAEINVAL), getsockname, getpeername;
    // dynamic ports 49152-65535 (Doc: "Using SO_REUSEADDR and SO_EXCLUSIVEADDRUSE").
    pair(0, accepting_server, || unsafe {
        startup();
        let s = tcp();
        let mut name = sockaddr("0.0.0.0:0");
        let mut len = LEN;
        assert_eq!(getsockname(s, (&raw mut name).cast(), &mut len), SOCKET_ERROR);
        assert_eq!(GetLastError(), WSAEINVAL as u32, "unbound");
        bind_to(s, "0.0.0.0:0");
        assert_eq!(getsockname(s, (&raw mut name).cast(), &mut len), 0);
        assert!(read(&name).port() >= 49152);
        let again = sockaddr("0.0.0.0:5000");
        assert_eq!(bind(s, (&raw const again).cast(), LEN), SOCKET_ERROR);
        assert_eq!(GetLastError(), WSAEINVAL as u32, "already bound");
        let t = tcp();
        bind_to(t, "192.0.2.20:5000");
        let u = tcp();
        let clash = sockaddr("192.0.2.20:5000");
        assert_eq!(bind(u, (&raw const clash).cast(), LEN), SOCKET_ERROR);
        assert_eq!(GetLastError(), WSAEADDRINUSE as u32);
        let foreign = sockaddr("192.0.2.10:5001");
        assert_eq!(bind(u, (&raw const foreign).cast(), LEN), SOCKET_ERROR);
        assert_eq!(GetLastError(), WSAEADDRNOTAVAIL as u32);
        assert_eq!(getpeername(s, (&raw mut name).cast(), &mut len), SOCKET_ERROR);
        assert_eq!(GetLastError(), WSAENOTCONN as u32);
        try_connect(s, "192.0.2.10:7").unwrap();
        assert_eq!(getpeername(s, (&raw mut name).cast(), &mut len), 0);
        assert_eq!(read(&name).to_string(), "192.0.2.10:7");
        assert_eq!(getsockname(s, (&raw mut name).cast(), &mut len), 0);
        assert_eq!(*read(&name).ip(), std::net::Ipv4Addr::new(192, 0, 2, 20));
        let mut short = 4;
        assert_eq!(getsockname(s, (&raw mut name).cast(), &mut short), SOCKET_ERROR);
        assert_eq!(GetLastError(), WSAEFAULT as u32);
    });
}

#[test]
fn fionread_counts_what_a_receive_could_take_and_accept_would_block_when_nonblocking() {
    // Doc: ioctlsocket (FIONREAD, FIONBIO); Doc: accept (WSAEWOULDBLOCK).
    pair(
        0,
        || unsafe {
            startup();
            let l = listener("0.0.0.0:7");
            let mut on = 1;
            assert_eq!(ioctlsocket(l, FIONBIO, &mut on), 0);
            assert_eq!(accept(l, null_mut(), null_mut()), INVALID_SOCKET);
            assert_eq!(GetLastError(), WSAEWOULDBLOCK as u32);
            Sleep(5);
            let mut peer = sockaddr("0.0.0.0:0");
            let mut len = LEN;
            let s = accept(l, (&raw mut peer).cast(), &mut len);
            assert_ne!(s, INVALID_SOCKET);
            assert_eq!(*read(&peer).ip(), std::net::Ipv4Addr::new(192, 0, 2, 20));
            Sleep(5);
            let mut n = 0;
            assert_eq!(ioctlsocket(s, FIONREAD, &mut n), 0);
            assert_eq!(n, 10);
            assert_eq!(ioctlsocket(s, 0x1234, &mut n), SOCKET_ERROR);
            assert_eq!(GetLastError(), WSAEINVAL as u32);
            Sleep(INFINITE);
        },
        || {
            startup();
            let s = connected("192.0.2.10:7");
            send_all(s, &[3; 10]);
            unsafe { Sleep(100) };
        },
    );
}

#[test]
fn each_host_reaches_itself_on_loopback() {
    run(|| {
        startup();
        let l = listener("127.0.0.1:7");
        let c = connected("127.0.0.1:7");
        let s = accept_one(l);
        send_all(c, b"self");
        assert_eq!(recv_exact(s, 4), b"self");
    });
}

#[test]
fn a_full_backlog_refuses_further_connections() {
    // Doc: listen: connections beyond the backlog are refused (WSAECONNREFUSED).
    let mut sim = Sim::new(0);
    sim.host("srv", "192.0.2.10", || unsafe {
        startup();
        let l = tcp();
        bind_to(l, "0.0.0.0:7");
        assert_eq!(listen(l, 1), 0);
        Sleep(INFINITE);
    });
    sim.client("c1", "192.0.2.20", || {
        startup();
        let _s = connected("192.0.2.10:7");
    });
    sim.client("c2", "192.0.2.21", || {
        startup();
        unsafe { Sleep(1) };
        assert_eq!(try_connect(tcp(), "192.0.2.10:7"), Err(WSAECONNREFUSED as u32));
    });
    sim.run().unwrap_or_else(|f| panic!("{f}\n{}", f.trace_text()));
}

#[test]
fn a_pending_send_takes_its_bytes_when_the_transport_does() {
    // Doc: WSASend ("the system owns these buffers"): a send pending on a full buffer
    // (SO_SNDBUF 0: Wine sock.c test_send) takes its bytes as space comes back, so a
    // program that refills its buffer meanwhile sends the new bytes, as on Windows (a
    // misuse, made here on purpose).
    pair_allowing(
        0,
        Some(wsasim::Misuse::SendBufferTouched),
        || unsafe {
            startup();
            let l = listener("0.0.0.0:7");
            let s = accept_one(l);
            Sleep(20);
            let got = recv_exact(s, 200_000);
            assert!(got[..65536].iter().all(|b| *b == 1), "what fit at once went first");
            assert!(got[150_000..].iter().all(|b| *b == 2), "the rest was taken after the refill");
            Sleep(INFINITE);
        },
        || unsafe {
            startup();
            let s = connected("192.0.2.10:7");
            let zero = 0u32;
            assert_eq!(setsockopt(s, SOL_SOCKET, SO_SNDBUF, (&raw const zero).cast(), 4), 0);
            let mut data = vec![1u8; 200_000];
            let b = wsabuf(&mut data);
            let ev = WSACreateEvent() as HANDLE;
            let mut ov = overlapped(ev);
            let mut n = 0;
            assert_eq!(WSASend(s, &b, 1, &mut n, 0, &mut *ov, None), SOCKET_ERROR);
            // The bug under test: the buffer is reused while the send pends.
            data.fill(2);
            let mut flags = 0;
            assert_eq!(WSAGetOverlappedResult(s, &*ov, &mut n, TRUE, &mut flags), TRUE);
            assert_eq!(n, 200_000);
        },
    );
}

#[test]
fn latency_is_set_per_link_and_drawn_within_its_range() {
    let round_trip = |min_ms: u64, max_ms: u64, seed: u64| {
        let mut sim = Sim::new(seed);
        let ms = std::time::Duration::from_millis;
        sim.link_latency("srv", "cli", ms(min_ms), ms(max_ms));
        let took = std::rc::Rc::new(std::cell::Cell::new(0));
        let out = took.clone();
        sim.host("srv", "192.0.2.10", accepting_server);
        sim.client("cli", "192.0.2.20", move || unsafe {
            startup();
            let s = tcp();
            let before = GetTickCount64();
            try_connect(s, "192.0.2.10:7").unwrap();
            out.set(GetTickCount64() - before);
        });
        sim.run().unwrap_or_else(|f| panic!("{f}"));
        took.get()
    };
    assert_eq!(round_trip(10, 10, 0), 20, "a fixed 10 ms each way");
    let drawn: std::collections::BTreeSet<u64> = (0..20).map(|seed| round_trip(10, 30, seed)).collect();
    assert!(drawn.iter().all(|t| (20..=60).contains(t)), "{drawn:?}");
    assert!(drawn.len() > 5, "the seed draws the latency: {drawn:?}");
}

#[test]
fn sends_while_a_reset_is_on_its_way_are_taken_then_fail_with_wsaeconnreset() {
    // Wine sock.c test_tcp_reset: once the reset arrives, sends fail at once; before it,
    // they are taken (and their bytes counted as thrown away).
    for seed in 0..20 {
        let outcome = pair(
            seed,
            || unsafe {
                startup();
                let s = accept_one(listener("0.0.0.0:7"));
                reset(s);
                Sleep(INFINITE);
            },
            || unsafe {
                startup();
                let s = connected("192.0.2.10:7");
                loop {
                    if send(s, [9u8; 100].as_ptr(), 100, 0) == SOCKET_ERROR {
                        assert_eq!(GetLastError(), WSAECONNRESET as u32);
                        break;
                    }
                }
            },
        );
        let c = outcome.conservation();
        assert!(c.holds() && c.tcp_read == 0 && c.tcp_discarded == c.tcp_accepted, "{c:?}");
    }
}

#[test]
fn wsasocketa_and_wsaconnect_connect_as_socket_and_connect_do_without_connect_data() {
    pair(0, accepting_server, || unsafe {
        startup();
        let s =
            WSASocketA(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP, std::ptr::null(), 0, WSA_FLAG_OVERLAPPED);
        assert_ne!(s, INVALID_SOCKET);
        let to = sockaddr("192.0.2.10:7");
        let mut data = [0u8; 4];
        let caller = WSABUF { len: 4, buf: data.as_mut_ptr() };
        let refused = WSAConnect(
            s,
            (&raw const to).cast(),
            LEN,
            &caller,
            null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        );
        assert_eq!((refused, WSAGetLastError()), (SOCKET_ERROR, WSAEOPNOTSUPP), "TCP has no connect data");
        let mut callee = WSABUF { len: 4, buf: data.as_mut_ptr() };
        let r = WSAConnect(
            s,
            (&raw const to).cast(),
            LEN,
            std::ptr::null(),
            &mut callee,
            std::ptr::null(),
            std::ptr::null(),
        );
        assert_eq!(r, 0);
        assert_eq!(callee.len, 0, "no data came back");
        let mut peer = sockaddr("0.0.0.0:0");
        let mut len = LEN;
        assert_eq!(getpeername(s, (&raw mut peer).cast(), &mut len), 0);
        assert_eq!(read(&peer).to_string(), "192.0.2.10:7");
        close(s);
    });
}
