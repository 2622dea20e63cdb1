//! TCP keep-alive (`SO_KEEPALIVE`, `SIO_KEEPALIVE_VALS`): an idle connection whose peer is
//! gone is found out, one whose peer is alive is not disturbed (Doc: SO_KEEPALIVE; Doc:
//! SIO_KEEPALIVE_VALS; Doc: Windows Sockets Error Codes).

use crate::harness::net::*;
use std::ffi::c_void;
use std::ptr::null_mut;
use std::time::Duration;
use wsasim::Sim;
use wsasim::Win32::Networking::WinSock::*;
use wsasim::Win32::System::Threading::Sleep;

const MS: fn(u64) -> Duration = Duration::from_millis;

/// `SIO_KEEPALIVE_VALS` on `s`: on, with these times in ms.
fn keep_alive(s: SOCKET, idle_ms: u32, interval_ms: u32) {
    let k = tcp_keepalive { onoff: 1, keepalivetime: idle_ms, keepaliveinterval: interval_ms };
    let mut size = 0;
    let input = (&raw const k).cast::<c_void>();
    let len = size_of::<tcp_keepalive>() as u32;
    let r =
        unsafe { WSAIoctl(s, SIO_KEEPALIVE_VALS, input, len, null_mut(), 0, &mut size, null_mut(), None) };
    assert_eq!(r, 0, "error {}", last_error());
}

/// A server that accepts one connection and waits on it for good.
fn quiet_server() {
    startup();
    let l = listener("0.0.0.0:7");
    let s = accept_one(l);
    let _ = recv_some(s, 1);
}

/// A run of `server` on 192.0.2.2 and a client that connects to it, turns keep-alive on
/// (1 s idle, probes 100 ms apart) and goes on with `then`.
fn probing(server: impl FnOnce() + 'static, then: impl FnOnce(SOCKET) + 'static) -> Sim {
    let mut sim = Sim::new(0);
    sim.start_spread(Duration::ZERO);
    sim.host("srv", "192.0.2.2", server);
    sim.client("cli", "192.0.2.1", move || {
        startup();
        let s = connected("192.0.2.2:7");
        keep_alive(s, 1000, 100);
        then(s);
    });
    sim
}

/// A client that waits in a receive, which gives `expect`; then a send gives `then`.
fn waits(expect: Result<Vec<u8>, u32>, then: i32) -> impl FnOnce(SOCKET) {
    move |s| {
        assert_eq!(recv_some(s, 4), expect);
        let sent = unsafe { send(s, b"late".as_ptr(), 4, 0) };
        assert_eq!(if sent < 0 { last_error() as i32 } else { sent }, then);
        close(s);
    }
}

#[test]
fn a_peer_whose_host_went_down_is_found_out_after_the_idle_time_and_ten_probes() {
    // Probes at 1.0, 1.1, ... 1.9 s, unanswered: the connection is dropped at 2.0 s. The
    // receive in progress fails with WSAETIMEDOUT (STATUS_IO_TIMEOUT), a later send with
    // WSAECONNRESET (Doc: Windows Sockets Error Codes, WSAECONNRESET).
    let mut sim = probing(quiet_server, waits(Err(WSAETIMEDOUT as u32), WSAECONNRESET));
    sim.crash("srv", MS(50));
    let outcome = sim.run().unwrap_or_else(|f| panic!("{f}\n{}", f.trace_text()));
    let trace = outcome.trace_text();
    assert_eq!(trace.matches("fault: keep-alive 192.0.2.1:").count(), 10, "{trace}");
    assert!(trace.contains("keep-alive gave up 192.0.2.1:"), "{trace}");
    let elapsed = outcome.elapsed();
    assert!(elapsed > MS(2000) && elapsed < MS(2001), "{elapsed:?}");
    assert!(outcome.conservation().holds());
}

#[test]
fn a_peer_whose_host_restarted_answers_the_first_probe_with_a_reset() {
    let mut sim = probing(quiet_server, waits(Err(WSAECONNRESET as u32), WSAECONNRESET));
    sim.crash("srv", MS(50)).restart("srv", MS(500), quiet_server);
    let outcome = sim.run().unwrap_or_else(|f| panic!("{f}\n{}", f.trace_text()));
    let trace = outcome.trace_text();
    assert_eq!(trace.matches("  keep-alive 192.0.2.1:").count(), 1, "{trace}");
    assert!(trace.contains("  rst 192.0.2.2:7 > 192.0.2.1:"), "{trace}");
    assert!(outcome.elapsed() < MS(1001), "{:?}", outcome.elapsed());
}

#[test]
fn a_live_peer_answers_every_probe_and_the_connection_stays() {
    // The server speaks after 5 s: by then the client has probed it every second. (Any
    // fault turns probes on: a duplicated segment is discarded, and probes are not
    // duplicated.)
    let server = || {
        startup();
        let l = listener("0.0.0.0:7");
        let s = accept_one(l);
        unsafe { Sleep(5000) };
        send_all(s, b"ping");
        assert_eq!(recv_some(s, 4), Ok(b"late".to_vec()));
    };
    let mut sim = probing(server, waits(Ok(b"ping".to_vec()), 4));
    sim.duplicate(0.5);
    let outcome = sim.run().unwrap_or_else(|f| panic!("{f}\n{}", f.trace_text()));
    let trace = outcome.trace_text();
    assert_eq!(trace.matches("  keep-alive ack 192.0.2.2:7").count(), 4, "{trace}");
    assert!(!trace.contains("keep-alive gave up"), "{trace}");
}

#[test]
fn so_keepalive_is_off_by_default_and_refused_on_a_datagram_socket() {
    crate::harness::run(|| {
        startup();
        let t = unsafe { socket(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP) };
        let get = |s| {
            let (mut v, mut len) = (7u32, 4i32);
            let r = unsafe { getsockopt(s, SOL_SOCKET, SO_KEEPALIVE, (&raw mut v).cast(), &mut len) };
            if r == 0 { Ok(v) } else { Err(last_error()) }
        };
        let set = |s, v: u32| unsafe { setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, (&raw const v).cast(), 4) };
        assert_eq!(get(t), Ok(0));
        assert_eq!(set(t, 1), 0);
        assert_eq!(get(t), Ok(1));
        keep_alive(t, 1000, 1000);
        assert_eq!(get(t), Ok(1), "SIO_KEEPALIVE_VALS turns it on too");
        let u = unsafe { socket(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP) };
        assert_eq!(set(u, 1), SOCKET_ERROR);
        assert_eq!(last_error(), WSAENOPROTOOPT as u32);
        assert_eq!(get(u), Err(WSAENOPROTOOPT as u32));
    });
}

#[test]
fn with_windows_defaults_a_dead_peer_is_found_out_two_hours_and_ten_seconds_on() {
    let mut sim = Sim::new(0);
    sim.start_spread(Duration::ZERO).time_max(Duration::from_secs(3 * 3600));
    sim.host("srv", "192.0.2.2", quiet_server);
    sim.client("cli", "192.0.2.1", || {
        startup();
        let s = connected("192.0.2.2:7");
        let on = 1u32;
        assert_eq!(unsafe { setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, (&raw const on).cast(), 4) }, 0);
        assert_eq!(recv_some(s, 4), Err(WSAETIMEDOUT as u32));
    });
    sim.crash("srv", MS(50));
    let outcome = sim.run().unwrap_or_else(|f| panic!("{f}\n{}", f.trace_text()));
    let elapsed = outcome.elapsed();
    assert!(elapsed > MS(7_210_000) && elapsed < MS(7_210_001), "{elapsed:?}");
}

#[test]
fn keep_alive_replays_with_its_seed() {
    // Under loss the handshake may fail, or reach the restarted host, whose probes may go
    // unanswered ten times in a row, or not: the receive fails one way or another.
    let distinct = crate::harness::distinct_traces(0..50, |sim| {
        sim.start_spread(Duration::ZERO);
        sim.host("srv", "192.0.2.2", quiet_server);
        sim.client("cli", "192.0.2.1", || {
            startup();
            let s = tcp();
            if try_connect(s, "192.0.2.2:7").is_err() {
                return;
            }
            keep_alive(s, 1000, 100);
            // A reset, probes unanswered, or the receive's own timeout, whichever first.
            let timeout = 20_000u32;
            assert_eq!(unsafe { setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, (&raw const timeout).cast(), 4) }, 0);
            let e = recv_some(s, 4).expect_err("the peer never speaks");
            assert!([WSAECONNRESET, WSAETIMEDOUT].contains(&(e as i32)), "{e}");
        });
        sim.loss(0.3);
        sim.crash("srv", MS(50)).restart("srv", MS(500), quiet_server);
    });
    assert!(distinct > 40, "{distinct} distinct traces");
}

#[test]
fn data_on_its_way_is_left_to_the_retransmissions() {
    // RFC 1122, 4.2.3.6: the connection is not idle while a segment is unacknowledged,
    // so it is given up on after its retransmissions (18.9 s), not after ten probes.
    let mut sim = probing(quiet_server, |s| {
        unsafe { Sleep(100) };
        send_all(s, b"ping");
        assert_eq!(recv_some(s, 4), Err(WSAECONNABORTED as u32));
    });
    sim.crash("srv", MS(50));
    let outcome = sim.run().unwrap_or_else(|f| panic!("{f}\n{}", f.trace_text()));
    let trace = outcome.trace_text();
    assert!(!trace.contains("keep-alive"), "{trace}");
    assert!(outcome.elapsed() > MS(19_000), "{:?}", outcome.elapsed());
}

#[test]
fn without_faults_no_probe_goes_and_a_deadlock_is_reported_as_one() {
    // Every probe would be answered: keep-alive could change nothing, and a run whose
    // threads all wait on each other is a deadlock, keep-alive or not.
    let mut sim = probing(quiet_server, |s| _ = recv_some(s, 4));
    let failure = sim.run().expect_err("both wait for good");
    assert!(failure.to_string().contains("deadlock"), "{failure}");
    assert!(!failure.trace_text().contains("keep-alive"));
}

#[test]
fn a_shorter_idle_time_set_after_so_keepalive_takes_effect_at_once() {
    // SO_KEEPALIVE sets a timer 2 hours out; SIO_KEEPALIVE_VALS's 1 s comes first.
    let mut sim = Sim::new(0);
    sim.start_spread(Duration::ZERO);
    sim.host("srv", "192.0.2.2", quiet_server);
    sim.client("cli", "192.0.2.1", || {
        startup();
        let s = connected("192.0.2.2:7");
        let on = 1u32;
        assert_eq!(unsafe { setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, (&raw const on).cast(), 4) }, 0);
        keep_alive(s, 1000, 100);
        assert_eq!(recv_some(s, 4), Err(WSAETIMEDOUT as u32));
    });
    sim.crash("srv", MS(50));
    let outcome = sim.run().unwrap_or_else(|f| panic!("{f}\n{}", f.trace_text()));
    assert!(outcome.elapsed() < MS(2001), "{:?}", outcome.elapsed());
}

#[test]
fn unsent_bytes_of_a_connection_keep_alive_drops_are_counted_as_discarded() {
    // The client fills the server's window and more; the server never reads and goes
    // down. The client's probes wait for its segments in flight to be given up on or
    // delivered: here the window is full, so nothing is in flight and probes go.
    let server = || {
        startup();
        let l = listener("0.0.0.0:7");
        let _s = accept_one(l);
        unsafe { Sleep(u32::MAX) };
    };
    let mut sim = probing(server, |s| {
        let data = vec![7u8; 100_000];
        assert_eq!(unsafe { send(s, data.as_ptr(), data.len() as i32, 0) }, 100_000);
        assert_eq!(recv_some(s, 4), Err(WSAETIMEDOUT as u32));
    });
    sim.crash("srv", MS(500));
    let outcome = sim.run().unwrap_or_else(|f| panic!("{f}\n{}", f.trace_text()));
    let c = outcome.conservation();
    assert!(c.holds(), "{c:?}");
    assert_eq!(c.tcp_pending, 0, "{c:?}");
}

#[test]
fn the_peer_of_an_end_keep_alive_drops_sends_on_into_the_silence() {
    // The client never reads; the server's bytes wait for window. Keep-alive drops the
    // client's end in a partition, which throws its unread bytes away: the server's TCP
    // sends on, into the partition, and gives up in its turn.
    let server = || {
        startup();
        let l = listener("0.0.0.0:7");
        let s = accept_one(l);
        let data = vec![7u8; 200_000];
        // Taken whole (less than SO_SNDBUF was buffered: Wine sock.c test_send).
        assert_eq!(unsafe { send(s, data.as_ptr(), data.len() as i32, 0) }, 200_000);
        assert_eq!(recv_some(s, 4), Err(WSAECONNABORTED as u32));
    };
    let mut sim = probing(server, |s| {
        unsafe { Sleep(60_000) };
        assert_eq!(recv_some(s, 4), Err(WSAECONNRESET as u32));
    });
    sim.partition(MS(100), Duration::MAX, &["cli"], &["srv"]);
    let outcome = sim.run().unwrap_or_else(|f| panic!("{f}\n{}", f.trace_text()));
    assert!(outcome.conservation().holds(), "{:?}", outcome.conservation());
}
