//! Hosts that crash and restart (`Sim::crash`, `Sim::restart`): what their peers see, and a
//! client that reconnects through a partition and a server's restart (planted twin).

use crate::harness::net::*;
use std::time::Duration;
use wsasim::Sim;
use wsasim::Win32::Networking::WinSock::*;
use wsasim::Win32::System::Threading::Sleep;

const MS: fn(u64) -> Duration = Duration::from_millis;

/// Requests and replies of 8 bytes.
const REQUEST: usize = 8;

/// A request-reply server on `192.0.2.2:7`: each request is answered with its own bytes,
/// one connection at a time; a connection that fails or ends is closed, and the next one
/// accepted.
fn server() {
    startup();
    let l = listener("0.0.0.0:7");
    loop {
        let s = accept_one(l);
        while let Ok(request) = receive(s, REQUEST) {
            if try_send(s, &request).is_err() {
                break;
            }
        }
        // SAFETY: a plain value.
        unsafe { closesocket(s) };
    }
}

/// `send` of all of `data`, or the error.
fn try_send(s: SOCKET, data: &[u8]) -> Result<(), u32> {
    // SAFETY: a live slice of the length given.
    match unsafe { send(s, data.as_ptr(), data.len() as i32, 0) } {
        n if n == data.len() as i32 => Ok(()),
        _ => Err(last_error()),
    }
}

/// Exactly `len` bytes, or the error (`0` for the end of the stream).
fn receive(s: SOCKET, len: usize) -> Result<Vec<u8>, u32> {
    let mut out = Vec::new();
    while out.len() < len {
        let part = recv_some(s, len - out.len())?;
        if part.is_empty() {
            return Err(0);
        }
        out.extend(part);
    }
    Ok(out)
}

/// One request and its reply.
fn exchange(s: SOCKET, request: &[u8]) -> Result<(), u32> {
    try_send(s, request)?;
    assert_eq!(receive(s, request.len())?, request, "the reply is the request");
    Ok(())
}

/// A client that makes 30 requests, 100 ms apart, each reply awaited for at most 5 s (a
/// server that crashes between a request and its reply sends nothing more, and a client
/// that waits for ever on Windows would too). When `reconnects`, a request that fails (the
/// connection reset, given up on, refused, or no reply in time) is made again on a new
/// connection; otherwise the failure ends the client with a panic.
fn client(reconnects: bool) -> impl FnOnce() {
    move || {
        startup();
        let mut connection = None;
        for i in 0..30u8 {
            let request = [i; REQUEST];
            loop {
                let s = match connection {
                    Some(s) => s,
                    None => {
                        let s = tcp();
                        let timeout = 5000u32;
                        let size = size_of::<u32>() as i32;
                        // SAFETY: a live local of the size given.
                        let set = unsafe {
                            setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, (&raw const timeout).cast(), size)
                        };
                        assert_eq!(set, 0);
                        if let Err(e) = try_connect(s, "192.0.2.2:7") {
                            assert!(reconnects, "request {i}: connect failed, error {e}");
                            close(s);
                            // SAFETY: a plain value.
                            unsafe { Sleep(200) };
                            continue;
                        }
                        s
                    }
                };
                connection = Some(s);
                match exchange(s, &request) {
                    Ok(()) => break,
                    Err(e) => {
                        assert!(reconnects, "request {i} failed, error {e}");
                        close(s);
                        connection = None;
                    }
                }
            }
            // SAFETY: a plain value.
            unsafe { Sleep(100) };
        }
        if let Some(s) = connection {
            close(s);
        }
    }
}

/// The client and the server, cut apart from 500 ms to 2.5 s; the server crashes at 3 s
/// and is up again at 4 s.
fn troubled(sim: &mut Sim, reconnects: bool) {
    sim.host("srv", "192.0.2.2", server);
    sim.client("cli", "192.0.2.1", client(reconnects));
    sim.partition(MS(500), MS(2500), &["cli"], &["srv"]);
    sim.crash("srv", MS(3000)).restart("srv", MS(4000), server);
}

#[test]
fn a_client_that_reconnects_survives_a_partition_that_heals_and_a_server_restart() {
    wsasim::check(0..1000, |sim| troubled(sim, true));
}

#[test]
fn a_client_that_does_not_reconnect_is_caught_when_the_server_restarts() {
    let message = crate::runner::failure_of(|| wsasim::check(0..50, |sim| troubled(sim, false)));
    // The first request after the restart reaches a host that forgot the connection.
    assert!(message.contains(&format!("failed, error {WSAECONNRESET}")), "{message}");
}

#[test]
fn a_partition_that_heals_is_invisible_to_the_client_but_for_the_delay() {
    let mut sim = Sim::new(3);
    sim.host("srv", "192.0.2.2", server);
    sim.client("cli", "192.0.2.1", client(false));
    sim.partition(MS(500), MS(2500), &["cli"], &["srv"]);
    let outcome = sim.run().unwrap_or_else(|f| panic!("{f}\n{}", f.trace_text()));
    assert!(outcome.elapsed() > MS(5000), "30 requests 100 ms apart, and 2 s stalled");
}

/// A client that sends one request, waits `pause`, and sends another; what the second
/// exchange gives.
fn second_request_after(sim: &mut Sim, pause: Duration, expect: Result<(), u32>) {
    sim.start_spread(Duration::ZERO);
    sim.host("srv", "192.0.2.2", server);
    sim.client("cli", "192.0.2.1", move || {
        startup();
        let s = connected("192.0.2.2:7");
        assert_eq!(exchange(s, &[1; REQUEST]), Ok(()));
        // SAFETY: a plain value.
        unsafe { Sleep(pause.as_millis() as u32) };
        assert_eq!(exchange(s, &[2; REQUEST]), expect);
        close(s);
    });
}

#[test]
fn a_peer_of_a_host_that_stays_down_gives_up_after_its_retransmissions() {
    // No FIN, no reset: the request sent at 100 ms goes into a host that is down, and the
    // client's TCP gives up 18.9 s later (TcpMaxDataRetransmissions, 5).
    let mut sim = Sim::new(0);
    second_request_after(&mut sim, MS(100), Err(WSAECONNABORTED as u32));
    sim.crash("srv", MS(50));
    let outcome = sim.run().unwrap_or_else(|f| panic!("{f}\n{}", f.trace_text()));
    let trace = outcome.trace_text();
    assert!(trace.contains("srv/main  crash: host srv goes down"), "{trace}");
    assert!(trace.contains("lost every time: the sender gives up after 18900 ms"), "{trace}");
    let elapsed = outcome.elapsed();
    assert!(elapsed > MS(19_000) && elapsed < MS(19_010), "{elapsed:?}");
    assert!(outcome.conservation().holds());
}

#[test]
fn a_peer_of_a_host_that_restarted_is_reset_by_its_next_segment() {
    // RFC 793, 3.4: the restarted host has no such connection, and answers with a reset.
    let mut sim = Sim::new(0);
    second_request_after(&mut sim, MS(300), Err(WSAECONNRESET as u32));
    sim.crash("srv", MS(50)).restart("srv", MS(200), server);
    let outcome = sim.run().unwrap_or_else(|f| panic!("{f}\n{}", f.trace_text()));
    let trace = outcome.trace_text();
    assert!(trace.contains("restart: host srv is up again"), "{trace}");
    let elapsed = outcome.elapsed();
    assert!(elapsed < MS(310), "no retransmission: the host is up: {elapsed:?}");
}

#[test]
fn a_segment_on_the_wire_when_its_host_goes_down_is_sent_again() {
    // The second request leaves at ~100 ms; the host goes down before it arrives, 10 ms
    // later, so it is dropped there and sent again, lost as the host is still down, then
    // 300 ms later (lost: still down), then 600 ms after that, when it gets through to the
    // host, up again, which answers with a reset.
    let mut sim = Sim::new(0);
    sim.latency(MS(10), MS(10));
    second_request_after(&mut sim, MS(60), Err(WSAECONNRESET as u32));
    sim.crash("srv", MS(105)).restart("srv", MS(500), server);
    let outcome = sim.run().unwrap_or_else(|f| panic!("{f}\n{}", f.trace_text()));
    let trace = outcome.trace_text();
    assert!(trace.contains("down host drops 192.0.2.1:"), "{trace}");
    assert!(trace.contains("8 bytes lost 2 times, resent after 900 ms"), "{trace}");
    assert!(outcome.conservation().holds(), "{:?}", outcome.conservation());
}

#[test]
fn a_restarted_host_starts_afresh_and_its_crashed_threads_run_no_more() {
    let mut sim = Sim::new(0);
    sim.start_spread(Duration::ZERO);
    sim.host("srv", "192.0.2.2", || {
        startup();
        let _l = listener("0.0.0.0:7");
        wsasim::thread::spawn(|| {
            loop {
                // SAFETY: a plain value.
                unsafe { Sleep(10) };
            }
        });
        // SAFETY: a plain value.
        unsafe { Sleep(u32::MAX - 1) };
        unreachable!("a crashed thread runs no more");
    });
    sim.restart("srv", MS(100), || {
        // Nothing of the host's life before: no WSAStartup, and the port is free again.
        assert_eq!(unsafe { socket(AF_INET as i32, SOCK_STREAM, IPPROTO_TCP) }, INVALID_SOCKET);
        assert_eq!(last_error(), WSANOTINITIALISED as u32);
        startup();
        let l = listener("0.0.0.0:7");
        close(l);
    });
    sim.client("cli", "192.0.2.1", || unsafe { Sleep(200) });
    let outcome = sim.run().unwrap_or_else(|f| panic!("{f}\n{}", f.trace_text()));
    let trace = outcome.trace_text();
    let after: Vec<&str> = trace.lines().skip_while(|l| !l.contains("crash:")).collect();
    assert!(after.len() > 2, "{trace}");
    assert!(!after.iter().any(|l| l.contains("srv/t1  Sleep")), "{trace}");
}

#[test]
fn crashes_and_restarts_replay_with_their_seed() {
    let distinct = crate::harness::distinct_traces(0..200, |sim| {
        troubled(sim, true);
        sim.loss(0.05);
    });
    assert!(distinct > 190, "{distinct} distinct traces");
}

#[test]
fn a_syn_ack_that_reaches_a_client_host_restarted_meanwhile_draws_a_reset() {
    // The SYN reaches the server at 10 ms; its answer reaches the client's host at 20 ms,
    // which crashed at 12 ms and is up again at 15 ms, knowing nothing of the connection
    // (RFC 793, 3.4): the server's accepted socket is reset.
    let mut sim = Sim::new(0);
    sim.start_spread(Duration::ZERO).latency(MS(10), MS(10));
    sim.host("srv", "192.0.2.2", || {
        startup();
        let s = accept_one(listener("0.0.0.0:7"));
        assert_eq!(receive(s, 1), Err(WSAECONNRESET as u32));
    });
    sim.host("c2", "192.0.2.3", || {
        startup();
        let _ = try_connect(tcp(), "192.0.2.2:7");
    });
    sim.crash("c2", MS(12)).restart("c2", MS(15), || unsafe { Sleep(10) });
    sim.client("cli", "192.0.2.1", || unsafe { Sleep(100) });
    let outcome = sim.run().unwrap_or_else(|f| panic!("{f}\n{}", f.trace_text()));
    assert!(outcome.trace_text().contains("  rst 192.0.2.3:"), "{}", outcome.trace_text());
}

#[test]
fn a_fin_that_reaches_a_restarted_host_draws_a_reset_too() {
    // RFC 793, 3.4: any segment for a connection the host does not have, data or not.
    let mut sim = Sim::new(0);
    sim.start_spread(Duration::ZERO);
    sim.host("srv", "192.0.2.2", server);
    sim.client("cli", "192.0.2.1", || {
        startup();
        let s = connected("192.0.2.2:7");
        assert_eq!(exchange(s, &[1; REQUEST]), Ok(()));
        unsafe { Sleep(300) };
        assert_eq!(unsafe { shutdown(s, SD_SEND) }, 0);
        assert_eq!(receive(s, 1), Err(WSAECONNRESET as u32));
        close(s);
    });
    sim.crash("srv", MS(50)).restart("srv", MS(200), server);
    sim.run().unwrap_or_else(|f| panic!("{f}\n{}", f.trace_text()));
}

#[test]
fn a_retransmission_a_crashed_host_had_still_to_send_never_arrives() {
    // The reply, sent at 150 ms into a partition, is lost, and lost again at 450 ms, and
    // due again at 1050 ms, once the partition has healed; but the server crashed at 400
    // ms (up again at 600 ms, knowing nothing of it), so that one never goes, and the
    // client's receive times out.
    let mut sim = Sim::new(0);
    sim.start_spread(Duration::ZERO);
    sim.host("srv", "192.0.2.2", || {
        startup();
        let s = accept_one(listener("0.0.0.0:7"));
        let request = receive(s, REQUEST).expect("the request");
        unsafe { Sleep(150) };
        assert_eq!(try_send(s, &request), Ok(()));
        let _ = receive(s, 1);
    });
    sim.client("cli", "192.0.2.1", || {
        startup();
        let s = connected("192.0.2.2:7");
        let timeout = 3000u32;
        assert_eq!(unsafe { setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, (&raw const timeout).cast(), 4) }, 0);
        assert_eq!(try_send(s, &[1; REQUEST]), Ok(()));
        assert_eq!(receive(s, REQUEST), Err(WSAETIMEDOUT as u32));
    });
    sim.partition(MS(100), MS(1000), &["cli"], &["srv"]);
    sim.crash("srv", MS(400)).restart("srv", MS(600), || unsafe { Sleep(10) });
    let outcome = sim.run().unwrap_or_else(|f| panic!("{f}\n{}", f.trace_text()));
    let trace = outcome.trace_text();
    assert!(trace.contains("never sent 192.0.2.2:7 > 192.0.2.1:"), "{trace}");
    assert!(outcome.conservation().holds(), "{:?}", outcome.conservation());
}
