//! Network faults: loss, duplication, reordering and partitions, as UDP shows them and as
//! TCP hides them (until its retransmissions run out).

use crate::echo_workload::Echo;
use crate::harness::net::*;
use std::time::Duration;
use wsasim::Win32::Networking::WinSock::*;
use wsasim::{Check, Schedule, Sim, Swarm};

/// Every fault at 10 % on every link.
fn faulty(sim: &mut Sim) {
    sim.loss(0.1).duplicate(0.1).reorder(0.1);
}

/// TCP hides loss, duplication and reordering from the echo, but for what Windows' TCP
/// cannot hide either: at 10 % loss, a segment and its five retransmissions are all lost
/// one time in a million (TcpMaxDataRetransmissions), and the echo's 1,000 seeds send some
/// 800,000 segments. Every seed passes, or fails because its connection was given up on.
#[test]
fn the_overlapped_echo_passes_over_1000_seeds_with_10_percent_faults_but_where_tcp_gives_up() {
    let mut given_up = Vec::new();
    for seed in 0..1000 {
        let mut sim = Sim::new(seed);
        Echo::ISSUE.setup(&mut sim);
        faulty(&mut sim);
        if let Err(f) = sim.run() {
            let trace = f.trace_text();
            assert!(
                trace.contains(" gives up after 18900 ms") && trace.contains("WSAECONNABORTED"),
                "{f}\n{trace}"
            );
            given_up.push(seed);
        }
    }
    assert!(given_up.len() <= 3, "seeds given up on: {given_up:?}");
}

#[test]
fn the_overlapped_echo_passes_over_1000_seeds_with_10_percent_duplication_and_reordering() {
    wsasim::check(0..1000, |sim| {
        Echo::ISSUE.setup(sim);
        sim.duplicate(0.1).reorder(0.1);
    });
}

#[test]
fn tcp_hides_a_lost_segment_behind_a_retransmission_300_ms_later() {
    // Every packet between the hosts is lost from 5 ms, so the data sent at 10 ms is too;
    // the partition heals at 105 ms, before its first retransmission.
    let mut sim = two_hosts(|| {
        let s = connected("192.0.2.2:7");
        // SAFETY: a plain value.
        unsafe { wsasim::Win32::System::Threading::Sleep(10) };
        send_all(s, b"hello");
        assert_eq!(recv_exact(s, 5), b"hello");
        close(s);
    });
    sim.partition(Duration::from_millis(5), Duration::from_millis(105), &["a"], &["b"]);
    let outcome = sim.run().unwrap_or_else(|f| panic!("{f}\n{}", f.trace_text()));
    let trace = outcome.trace_text();
    assert!(trace.contains("fault: data 192.0.2.1:"), "{trace}");
    assert!(trace.contains(" bytes lost, resent after 300 ms"), "{trace}");
    let elapsed = outcome.elapsed();
    assert!(elapsed > Duration::from_millis(310) && elapsed < Duration::from_millis(311), "{elapsed:?}");
}

/// A client on host `a` and an echo server on host `b` (`192.0.2.2:7`) that serves one
/// connection, both started together.
fn two_hosts(client: impl FnOnce() + 'static) -> Sim {
    let mut sim = Sim::new(0);
    sim.start_spread(Duration::ZERO);
    sim.host("b", "192.0.2.2", || {
        startup();
        let l = listener("0.0.0.0:7");
        let s = accept_one(l);
        while let Ok(data) = recv_some(s, 100) {
            if data.is_empty() {
                break;
            }
            send_all(s, &data);
        }
    });
    sim.client("a", "192.0.2.1", move || {
        startup();
        client();
    });
    sim
}

#[test]
fn a_connection_whose_retransmissions_run_out_fails_with_wsaeconnaborted() {
    let mut sim = two_hosts(|| {
        let s = connected("192.0.2.2:7");
        // SAFETY: a plain value.
        unsafe { wsasim::Win32::System::Threading::Sleep(10) };
        send_all(s, b"hello");
        // The receive pends while the segment is sent again, five times, then fails.
        assert_eq!(recv_some(s, 5), Err(WSAECONNABORTED as u32));
        let mut byte = 0u8;
        // SAFETY: a live local of the length given.
        assert_eq!(unsafe { send(s, &raw mut byte, 1, 0) }, SOCKET_ERROR, "later sends fail too");
        assert_eq!(last_error(), WSAECONNABORTED as u32);
        close(s);
    });
    sim.partition(Duration::from_millis(5), Duration::MAX, &["a"], &["b"]);
    let outcome = sim.run().unwrap_or_else(|f| panic!("{f}\n{}", f.trace_text()));
    // Sent at 10 ms, given up 0.3 × (1 + 2 + 4 + 8 + 16 + 32) = 18.9 s later.
    let elapsed = outcome.elapsed();
    assert!(
        elapsed > Duration::from_millis(18_910) && elapsed < Duration::from_millis(18_920),
        "{elapsed:?}"
    );
    let trace = outcome.trace_text();
    assert!(trace.contains("lost every time: the sender gives up after 18900 ms"), "{trace}");
    assert!(trace.contains("gave up 192.0.2.1:"), "{trace}");
    let c = outcome.conservation();
    assert_eq!((c.tcp_accepted, c.tcp_discarded), (5, 5), "the bytes given up on are counted");
    assert!(c.holds());
}

#[test]
fn a_connect_into_a_partition_fails_with_wsaetimedout_after_21_seconds() {
    let mut sim = two_hosts(|| {
        let s = tcp();
        assert_eq!(try_connect(s, "192.0.2.2:7"), Err(WSAETIMEDOUT as u32));
        close(s);
    });
    sim.partition(Duration::ZERO, Duration::MAX, &["a"], &["b"]);
    let outcome = sim.run().unwrap_or_else(|f| panic!("{f}\n{}", f.trace_text()));
    let elapsed = outcome.elapsed();
    assert!(elapsed >= Duration::from_secs(21) && elapsed < Duration::from_millis(21_010), "{elapsed:?}");
    assert!(outcome.trace_text().contains("fault: syn 192.0.2.1:"));
}

#[test]
fn the_peer_of_a_connection_given_up_on_is_reset_when_its_data_reaches_the_host_that_forgot_it() {
    // The client gives up during the partition; once it heals, the server's next data
    // reaches a host that no longer knows the connection, which answers with a reset.
    let mut sim = Sim::new(0);
    sim.start_spread(Duration::ZERO);
    sim.client("b", "192.0.2.2", || {
        startup();
        let l = listener("0.0.0.0:7");
        let s = accept_one(l);
        // SAFETY: a plain value.
        unsafe { wsasim::Win32::System::Threading::Sleep(40_000) };
        send_all(s, b"late");
        assert_eq!(recv_some(s, 10), Err(WSAECONNRESET as u32));
        close(s);
        close(l);
    });
    sim.client("a", "192.0.2.1", || {
        startup();
        let s = connected("192.0.2.2:7");
        // SAFETY: a plain value.
        unsafe { wsasim::Win32::System::Threading::Sleep(10) };
        send_all(s, b"hello");
        assert_eq!(recv_some(s, 5), Err(WSAECONNABORTED as u32));
        close(s);
    });
    sim.partition(Duration::from_millis(5), Duration::from_secs(30), &["a"], &["b"]);
    let outcome = sim.run().unwrap_or_else(|f| panic!("{f}\n{}", f.trace_text()));
    assert!(outcome.trace_text().contains("rst 192.0.2.1:"), "{}", outcome.trace_text());
    assert!(outcome.conservation().holds());
}

#[test]
fn a_hosts_loopback_makes_no_fault() {
    let mut sim = Sim::new(0);
    sim.loss(1.0).duplicate(1.0).reorder(1.0);
    sim.client("a", "192.0.2.1", || {
        let (c, s) = tcp_pair();
        send_all(c, b"ping");
        assert_eq!(recv_exact(s, 4), b"ping");
        close(c);
        close(s);
    });
    let outcome = sim.run().unwrap_or_else(|f| panic!("{f}\n{}", f.trace_text()));
    assert!(!outcome.trace_text().contains("fault:"));
}

/// A UDP echo: the server returns each datagram to its sender; the client sends numbered
/// requests and waits for each answer, sending again after 100 ms without one when
/// `retry`, and ignoring answers to earlier requests (late or duplicated).
fn udp_echo(sim: &mut Sim, retry: bool) {
    sim.start_spread(Duration::ZERO);
    sim.host("srv", "192.0.2.2", || {
        startup();
        let s = udp();
        bind_to(s, "0.0.0.0:7");
        let mut buf = [0u8; 16];
        loop {
            let mut from = sockaddr("0.0.0.0:0");
            let mut len = size_of::<SOCKADDR_IN>() as i32;
            // SAFETY: live locals of the sizes given.
            let n = unsafe { recvfrom(s, buf.as_mut_ptr(), 16, 0, (&raw mut from).cast(), &mut len) };
            assert!(n > 0);
            // SAFETY: as above.
            unsafe { sendto(s, buf.as_ptr(), n, 0, (&raw const from).cast(), len) };
        }
    });
    sim.client("c", "192.0.2.1", move || {
        startup();
        let s = udp();
        if retry {
            let timeout = 100u32;
            let size = size_of::<u32>() as i32;
            // SAFETY: a live local of the size given.
            assert_eq!(
                unsafe { setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, (&raw const timeout).cast(), size) },
                0
            );
        }
        let to = sockaddr("192.0.2.2:7");
        let len = size_of::<SOCKADDR_IN>() as i32;
        for seq in 0..20u8 {
            'sent: loop {
                // SAFETY: live locals of the sizes given.
                assert_eq!(unsafe { sendto(s, &raw const seq, 1, 0, (&raw const to).cast(), len) }, 1);
                loop {
                    match recv_some(s, 16) {
                        Ok(answer) if answer == [seq] => break 'sent,
                        Ok(_) => continue,
                        // A timeout, or the port unreachable of a datagram that came
                        // before the server bound its port.
                        Err(e) => {
                            assert!(e == WSAETIMEDOUT as u32 || e == WSAECONNRESET as u32, "{e}");
                            continue 'sent;
                        }
                    }
                }
            }
        }
        close(s);
    });
}

#[test]
fn a_udp_echo_without_retries_is_caught_under_loss() {
    let message = crate::runner::failure_of(|| {
        wsasim::check(0..100, |sim| {
            udp_echo(sim, false);
            faulty(sim);
        })
    });
    assert!(message.contains("deadlock") || message.contains("blocked"), "{message}");
}

#[test]
fn a_udp_echo_that_sends_again_passes_under_loss_duplication_and_reordering() {
    wsasim::check(0..300, |sim| {
        udp_echo(sim, true);
        faulty(sim);
    });
}

/// Swarm settings that draw each seed's faults, up to 20 % of each kind but resets.
fn faulty_swarm() -> Swarm {
    Swarm::default().faults(0.2, 0.2, 0.2, 0.0)
}

#[test]
fn swarm_settings_draw_faults_that_catch_the_udp_echo_without_retries() {
    let message = crate::runner::failure_of(|| {
        Check::new(0..100).swarm_within(faulty_swarm()).run(|sim| udp_echo(sim, false));
    });
    assert!(message.contains("swarm: ") && message.contains(", loss "), "{message}");
    let failure = (0..100)
        .find_map(|seed| {
            let mut sim = Sim::new(seed);
            udp_echo(&mut sim, false);
            sim.swarm(Some(faulty_swarm())).run().err()
        })
        .expect("a seed fails");
    let drawn = failure.swarm().and_then(|s| s.faults).expect("the seed drew faults");
    assert!(drawn.loss.ppm() > 0, "a lost datagram or answer is what hangs the client: {drawn:?}");
    // Its schedule carries the faults drawn: a replay with no swarm fails alike.
    let schedule: Schedule = failure.schedule().expect("kept").to_string().parse().expect("reads back");
    let mut replay = Sim::new(schedule.seed + 1);
    udp_echo(&mut replay, false);
    let again = replay.replay_schedule(schedule).run().expect_err("the replay fails");
    assert_eq!(again.trace_text(), failure.trace_text());
}

#[test]
fn its_twin_that_sends_again_passes_every_fault_swarm_settings_draw() {
    Check::new(0..200).swarm_within(faulty_swarm()).run(|sim| udp_echo(sim, true));
}

#[test]
fn every_datagram_is_read_queued_or_counted_lost_or_copied() {
    let mut sim = Sim::new(1);
    udp_echo(&mut sim, true);
    faulty(&mut sim);
    let c = sim.run().unwrap_or_else(|f| panic!("{f}\n{}", f.trace_text())).conservation();
    assert!(c.udp_lost > 0 && c.udp_duplicated > 0, "{c:?}");
    assert!(c.holds(), "{c:?}");
}

#[test]
fn every_fault_replays_with_its_seed() {
    let distinct = crate::harness::distinct_traces(0..200, |sim| {
        Echo { clients: 2, rounds: 5, message: 64, one_receive_per_message: false }.setup(sim);
        faulty(sim);
        sim.partition(Duration::from_millis(1), Duration::from_millis(800), &["c0"], &["srv"]);
    });
    assert!(distinct > 190, "{distinct} distinct traces");
}

#[test]
fn a_connection_the_network_resets_fails_at_both_ends_with_wsaeconnreset() {
    let mut sim = Sim::new(0);
    sim.start_spread(Duration::ZERO);
    sim.host("b", "192.0.2.2", || {
        startup();
        let l = listener("0.0.0.0:7");
        let s = accept_one(l);
        // The reset comes first: the segment behind it is discarded.
        assert_eq!(recv_some(s, 5), Err(WSAECONNRESET as u32));
    });
    sim.client("a", "192.0.2.1", || {
        startup();
        let s = connected("192.0.2.2:7");
        // One byte: one segment, however the stream is cut.
        send_all(s, b"h");
        assert_eq!(recv_some(s, 5), Err(WSAECONNRESET as u32));
        close(s);
        // SAFETY: a plain value: the server's checks run before the run ends.
        unsafe { wsasim::Win32::System::Threading::Sleep(50) };
    });
    // Only data makes a reset: the handshake gets through.
    sim.link_reset("a", "b", 1.0);
    let outcome = sim.run().unwrap_or_else(|f| panic!("{f}\n{}", f.trace_text()));
    let trace = outcome.trace_text();
    assert!(trace.contains("resets its connection: a reset reaches each end ahead of it"), "{trace}");
    assert_eq!(trace.matches("  rst 192.0.2.").count(), 2, "{trace}");
    assert!(outcome.conservation().holds());
}

#[test]
#[should_panic(expected = "wsasim: Sim::partition: host \"a\" is on both sides")]
fn a_partition_with_a_host_on_both_sides_is_refused() {
    Sim::new(0).partition(Duration::ZERO, Duration::MAX, &["a", "b"], &["a"]);
}

#[test]
#[should_panic(expected = "wsasim: Sim::partition: it heals at 1s, not after it starts at 2s")]
fn a_partition_that_heals_before_it_starts_is_refused() {
    Sim::new(0).partition(Duration::from_secs(2), Duration::from_secs(1), &["a"], &["b"]);
}
