//! Errors injected into calls (`Sim::inject`): they fail the call as Windows fails it,
//! only where the call would otherwise have gone ahead, and a program that ignores
//! `WSAENOBUFS` from `WSASend` is caught while its twin that retries passes.

#![allow(clippy::undocumented_unsafe_blocks)]

use crate::harness::net::*;
use std::time::Duration;
use wsasim::Sim;
use wsasim::Win32::Foundation::*;
use wsasim::Win32::Networking::WinSock::*;
use wsasim::Win32::System::Threading::Sleep;

/// A run on one host over loopback, with `setup` given the `Sim` first.
fn run_with(setup: impl FnOnce(&mut Sim), main: impl FnOnce() + 'static) -> wsasim::Outcome {
    let mut sim = Sim::new(0);
    setup(&mut sim);
    sim.client("a", "192.0.2.1", main);
    sim.run().unwrap_or_else(|f| panic!("{f}\n{}", f.trace_text()))
}

#[test]
fn an_injected_wsasend_failure_is_immediate_queues_no_completion_and_sets_the_last_error() {
    // Doc: WSASend: on an immediate failure "the completion ... will not occur".
    let outcome = run_with(
        |sim| _ = sim.inject("WSASend", WSAENOBUFS as u32, 1.0),
        || unsafe {
            let (c, s) = tcp_pair();
            let ev = WSACreateEvent() as HANDLE;
            let mut ov = overlapped(ev);
            let mut data = *b"hello";
            let b = wsabuf(&mut data);
            let mut sent = 0;
            assert_eq!(WSASend(c, &b, 1, &mut sent, 0, &mut *ov, None), SOCKET_ERROR);
            assert_eq!(WSAGetLastError(), WSAENOBUFS);
            assert_eq!(
                WSAWaitForMultipleEvents(1, &ev, FALSE, 100, FALSE),
                WSA_WAIT_TIMEOUT,
                "no completion"
            );
            assert_eq!(ioctl_fionread(s), 0, "nothing was sent");
            close(c);
            close(s);
            WSACloseEvent(ev as WSAEVENT);
        },
    );
    let trace = outcome.trace_text();
    let at = trace.find("injected: WSASend fails with WSAENOBUFS").expect(&trace);
    let next = trace[at..].lines().nth(1).expect("the call's own line");
    assert!(next.contains("WSASend(") && next.ends_with("= -1, error WSAENOBUFS"), "{next}");
}

fn ioctl_fionread(s: SOCKET) -> u32 {
    let mut n = 0u32;
    assert_eq!(unsafe { ioctlsocket(s, FIONREAD, &mut n) }, 0);
    n
}

#[test]
fn a_call_that_fails_on_its_own_fails_so_whatever_is_injected() {
    run_with(
        |sim| _ = sim.inject("WSASend", WSAENOBUFS as u32, 1.0).inject("socket", WSAEMFILE as u32, 1.0),
        || unsafe {
            // Before WSAStartup, and on a handle that is no socket: the call's own errors.
            assert_eq!(socket(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP), INVALID_SOCKET);
            assert_eq!(WSAGetLastError(), WSANOTINITIALISED);
            startup();
            assert_eq!(socket(AF_INET as i32, SOCK_STREAM, 99), INVALID_SOCKET);
            assert_eq!(WSAGetLastError(), WSAEPROTONOSUPPORT);
            assert_eq!(socket(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP), INVALID_SOCKET);
            assert_eq!(WSAGetLastError(), WSAEMFILE, "a socket that could be made is not");
        },
    );
}

#[test]
fn an_accept_that_fails_for_want_of_descriptors_leaves_the_connection_queued() {
    // Doc: accept, WSAEMFILE: "The queue is nonempty upon entry to accept and there are
    // no descriptors available".
    run_with(
        // Drawn once per accept that would succeed: the first fails, the second not.
        |sim| _ = sim.inject("accept", WSAEMFILE as u32, 1.0),
        || unsafe {
            startup();
            let l = listener("127.0.0.1:7");
            let c = connected("127.0.0.1:7");
            assert_eq!(accept(l, std::ptr::null_mut(), std::ptr::null_mut()), INVALID_SOCKET);
            assert_eq!(WSAGetLastError(), WSAEMFILE);
            let mut readable = FD_SET { fd_count: 1, fd_array: [0; 64] };
            readable.fd_array[0] = l;
            let zero = TIMEVAL { tv_sec: 0, tv_usec: 0 };
            assert_eq!(select(0, &mut readable, std::ptr::null_mut(), std::ptr::null_mut(), &zero), 1);
            close(c);
            close(l);
        },
    );
}

#[test]
fn an_accept_that_fails_reenables_fd_accept_all_the_same() {
    // Doc: WSAEventSelect: "any call to the reenabling routine, even one that fails,
    // results in reenabling of recording and signaling"; the connection still waits.
    run_with(
        |sim| _ = sim.inject("accept", WSAEMFILE as u32, 1.0),
        || unsafe {
            startup();
            let l = listener("127.0.0.1:7");
            let ev = WSACreateEvent();
            assert_eq!(WSAEventSelect(l, ev, FD_ACCEPT as i32), 0);
            let c = connected("127.0.0.1:7");
            let mut events = std::mem::zeroed::<WSANETWORKEVENTS>();
            assert_eq!(WSAEnumNetworkEvents(l, ev, &mut events), 0);
            assert_eq!(events.lNetworkEvents, FD_ACCEPT as i32);
            assert_eq!(accept(l, std::ptr::null_mut(), std::ptr::null_mut()), INVALID_SOCKET);
            assert_eq!(WSAGetLastError(), WSAEMFILE);
            let handles = [ev as HANDLE];
            let waited = WSAWaitForMultipleEvents(1, handles.as_ptr(), 1, 0, 0);
            assert_eq!(waited, WSA_WAIT_EVENT_0 as u32, "FD_ACCEPT again");
            assert_eq!(WSAEnumNetworkEvents(l, ev, &mut events), 0);
            assert_eq!(events.lNetworkEvents, FD_ACCEPT as i32);
            close(c);
            close(l);
        },
    );
}

#[test]
fn a_connect_refused_buffers_can_connect_again() {
    run_with(
        |sim| _ = sim.inject("connect", WSAENOBUFS as u32, 1.0),
        || unsafe {
            startup();
            let l = listener("127.0.0.1:7");
            let s = tcp();
            assert_eq!(try_connect(s, "127.0.0.1:7"), Err(WSAENOBUFS as u32));
            let mut error = -1i32;
            let mut len = 4;
            assert_eq!(getsockopt(s, SOL_SOCKET, SO_ERROR, (&raw mut error).cast(), &mut len), 0);
            assert_eq!(error, 0, "an immediate failure leaves no pending error");
            close(s);
            close(l);
        },
    );
}

#[test]
#[should_panic(expected = "WSARecv")]
fn an_error_that_says_what_became_of_a_connection_is_refused() {
    Sim::new(0).inject("WSARecv", WSAECONNRESET as u32, 0.1);
}

#[test]
#[should_panic(expected = "WSASend cannot be made to fail with WSAEMFILE")]
fn an_error_the_calls_page_does_not_list_is_refused() {
    Sim::new(0).inject("WSASend", WSAEMFILE as u32, 0.1);
}

/// A client that sends 20 messages of 16 bytes to an echo server with overlapped
/// `WSASend`, reading each echo back. When `retries`, a `WSAENOBUFS` is met with a pause
/// and the same send again; the planted bug takes any failure for a pending send, and
/// waits for its completion.
fn echo_under_nobufs(sim: &mut Sim, retries: bool) {
    sim.start_spread(Duration::ZERO);
    sim.inject("WSASend", WSAENOBUFS as u32, 0.05);
    sim.host("srv", "192.0.2.2", || {
        startup();
        let l = listener("0.0.0.0:7");
        let s = accept_one(l);
        loop {
            match recv_some(s, 64) {
                Ok(d) if !d.is_empty() => send_all(s, &d),
                _ => break,
            }
        }
    });
    sim.client("cli", "192.0.2.1", move || unsafe {
        startup();
        let s = connected("192.0.2.2:7");
        let ev = WSACreateEvent() as HANDLE;
        for i in 0..20u8 {
            let mut message = [i; 16];
            loop {
                let mut ov = overlapped(ev);
                let b = wsabuf(&mut message);
                let mut sent = 0;
                let r = WSASend(s, &b, 1, &mut sent, 0, &mut *ov, None);
                if r == SOCKET_ERROR && WSAGetLastError() == WSAENOBUFS && retries {
                    Sleep(1);
                    continue;
                }
                if r == SOCKET_ERROR {
                    // The bug: every failure taken for WSA_IO_PENDING.
                    WSAWaitForMultipleEvents(1, &ev, FALSE, WSA_INFINITE, FALSE);
                }
                WSAResetEvent(ev as WSAEVENT);
                break;
            }
            assert_eq!(recv_exact(s, 16), [i; 16]);
        }
        close(s);
        WSACloseEvent(ev as WSAEVENT);
    });
}

#[test]
fn a_program_that_ignores_wsaenobufs_from_wsasend_is_caught() {
    let message = crate::runner::failure_of(|| wsasim::check(0..100, |sim| echo_under_nobufs(sim, false)));
    assert!(message.contains("cli/main blocked in WSAWaitForMultipleEvents"), "{message}");
    let seed: u64 =
        message["wsasim: seed ".len()..].split(' ').next().and_then(|s| s.parse().ok()).expect(&message);
    let mut sim = Sim::new(seed);
    echo_under_nobufs(&mut sim, false);
    let trace = sim.run().expect_err("the seed fails again").trace_text();
    assert!(trace.contains("injected: WSASend fails with WSAENOBUFS"), "{trace}");
}

#[test]
fn its_twin_that_retries_passes() {
    wsasim::check(0..1000, |sim| echo_under_nobufs(sim, true));
}

#[test]
fn injected_errors_replay_with_their_seed() {
    let distinct = crate::harness::distinct_traces(0..200, |sim| echo_under_nobufs(sim, true));
    assert!(distinct > 190, "{distinct} distinct traces");
}
