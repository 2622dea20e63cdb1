//! A single-threaded `WSAEventSelect` echo server: a listener and every connection in one
//! `WSAWaitForMultipleEvents` call, each socket with its own event. Its clients check
//! every echo. Three flaws can be planted in the server, each a classic bug of such
//! servers, which wsasim must expose:
//!
//! - waiting for FD_WRITE before each send: FD_WRITE comes once, then only after a send
//!   failed with WSAEWOULDBLOCK (Wine sock.c test_write_events), so the server hangs;
//! - closing at FD_CLOSE without reading what is left: FD_CLOSE is recorded as the FIN
//!   arrives, before the data is read (Wine sock.c test_close_events), so the last bytes
//!   are lost;
//! - serving only the lowest signalled index: a busy connection there starves the rest.

use crate::harness::net::*;
use std::ptr::null_mut;
use wsasim::Sim;
use wsasim::Win32::Foundation::*;
use wsasim::Win32::Networking::WinSock::*;
use wsasim::Win32::System::SystemInformation::GetTickCount64;
use wsasim::thread;

const SERVER: &str = "192.0.2.10:7";

/// A bug planted in the server, or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flaw {
    None,
    /// Sends only after an FD_WRITE, one send per FD_WRITE.
    WaitsForWrite,
    /// Closes a connection as soon as FD_CLOSE is reported.
    ClosesAtFdClose,
    /// After each wait, serves the returned index only.
    LowestIndexOnly,
}

/// One echo run: `clients` clients of `rounds` messages of `message` bytes each; the last
/// is sent with the close.
#[derive(Debug, Clone, Copy)]
pub struct SelectEcho {
    pub clients: usize,
    pub rounds: usize,
    pub message: usize,
    pub flaw: Flaw,
}

impl SelectEcho {
    pub const ISSUE: SelectEcho = SelectEcho { clients: 20, rounds: 5, message: 64, flaw: Flaw::None };

    pub fn setup(self, sim: &mut Sim) {
        // The server is up first, as these programs expect (see `Sim::start_spread`).
        sim.start_spread(std::time::Duration::ZERO);
        let (clients, flaw) = (self.clients, self.flaw);
        sim.host("srv", "192.0.2.10", move || server(clients, flaw));
        for c in 0..self.clients {
            sim.client(&format!("c{c}"), &format!("192.0.2.{}", 20 + c), move || self.client(c));
        }
    }

    fn message(self, c: usize, round: usize) -> Vec<u8> {
        (0..self.message).map(|k| (c * 31 + round * 7 + k) as u8).collect()
    }

    /// Blocking calls: an echo per message, then the last message and `shutdown(SD_SEND)`,
    /// whose echo must still come back whole before the end of the stream.
    fn client(self, c: usize) {
        startup();
        let s = connect_retrying();
        for round in 0..self.rounds {
            let message = self.message(c, round);
            send_all(s, &message);
            assert_eq!(recv_exact(s, self.message), message, "echo of message {round} of client {c}");
        }
        let last = self.message(c, self.rounds);
        send_all(s, &last);
        unsafe { shutdown(s, SD_SEND) };
        let mut echoed = Vec::new();
        loop {
            match recv_some(s, 4096) {
                Ok(part) if part.is_empty() => break,
                Ok(part) => echoed.extend(part),
                Err(e) => panic!("client {c}: the server reset the connection ({e}) before echoing it all"),
            }
        }
        assert_eq!(echoed, last, "client {c}: the echo of the message sent with the close");
        close(s);
    }
}

/// A connection to the server, which may not be listening yet: the clients start with it,
/// and a refused connect is tried again a millisecond later.
fn connect_retrying() -> SOCKET {
    loop {
        let s = tcp();
        match try_connect(s, SERVER) {
            Ok(()) => return s,
            Err(e) => {
                assert_eq!(e, WSAECONNREFUSED as u32, "connect");
                close(s);
                unsafe { wsasim::Win32::System::Threading::Sleep(1) };
            }
        }
    }
}

/// A connection of the server.
struct Conn {
    s: SOCKET,
    ev: WSAEVENT,
    /// Echo bytes not yet taken by a send.
    out: Vec<u8>,
    /// The peer has closed: close once everything is echoed.
    closing: bool,
    /// For `Flaw::WaitsForWrite`: an FD_WRITE not yet used by a send.
    write_allowed: bool,
}

/// Reads at most this much per FD_READ: a partial read records FD_READ again (Wine sock.c
/// test_read_events).
const READ_SIZE: usize = 64;

fn server(clients: usize, flaw: Flaw) {
    startup();
    let l = listener("0.0.0.0:7");
    unsafe {
        let ev = WSACreateEvent();
        assert_eq!(WSAEventSelect(l, ev, FD_ACCEPT as i32), 0);
        let mut events = vec![ev as HANDLE];
        let mut conns: Vec<Conn> = Vec::new();
        let mut finished = 0;
        while finished < clients {
            let r =
                WSAWaitForMultipleEvents(events.len() as u32, events.as_ptr(), FALSE, WSA_INFINITE, FALSE);
            let first = r.wrapping_sub(WAIT_OBJECT_0) as usize;
            assert!(first < events.len(), "WSAWaitForMultipleEvents: {r:#x}");
            // A fair server looks at every socket from the first signalled one on: the
            // wait returns the lowest index, and the others may be signalled too.
            let last = if flaw == Flaw::LowestIndexOnly { first } else { events.len() - 1 };
            let mut done = Vec::new();
            for i in first..=last {
                if i == 0 {
                    accept_all(l, ev, &mut conns, &mut events);
                } else if serve(&mut conns[i - 1], flaw) {
                    done.push(i);
                }
            }
            for i in done.into_iter().rev() {
                conns.remove(i - 1);
                events.remove(i);
                finished += 1;
            }
        }
        closesocket(l);
        WSACloseEvent(ev);
    }
}

fn enumerate(s: SOCKET, ev: WSAEVENT) -> u32 {
    let mut ne = WSANETWORKEVENTS::default();
    assert_eq!(unsafe { WSAEnumNetworkEvents(s, ev, &mut ne) }, 0, "WSAEnumNetworkEvents");
    ne.lNetworkEvents as u32
}

/// Accepts every waiting connection; each inherits the listener's selection (Doc:
/// WSAEventSelect) and is given its own event and events.
unsafe fn accept_all(l: SOCKET, ev: WSAEVENT, conns: &mut Vec<Conn>, events: &mut Vec<HANDLE>) {
    if enumerate(l, ev) & FD_ACCEPT == 0 {
        return;
    }
    unsafe {
        loop {
            let s = accept(l, null_mut(), null_mut());
            if s == INVALID_SOCKET {
                assert_eq!(WSAGetLastError(), WSAEWOULDBLOCK);
                return;
            }
            let ev = WSACreateEvent();
            assert_eq!(WSAEventSelect(s, ev, (FD_READ | FD_WRITE | FD_CLOSE) as i32), 0);
            conns.push(Conn { s, ev, out: Vec::new(), closing: false, write_allowed: false });
            events.push(ev as HANDLE);
        }
    }
}

/// Serves one connection's events; `true` once it is closed.
unsafe fn serve(conn: &mut Conn, flaw: Flaw) -> bool {
    let events = enumerate(conn.s, conn.ev);
    if events & FD_CLOSE != 0 && flaw == Flaw::ClosesAtFdClose {
        return unsafe { finish(conn) };
    }
    if events & FD_WRITE != 0 {
        conn.write_allowed = true;
    }
    if events & FD_READ != 0 {
        read(conn, READ_SIZE);
    }
    if events & FD_CLOSE != 0 {
        // What came before the close is still to be read (Wine sock.c test_close_events).
        while read(conn, 4096) {}
        conn.closing = true;
    }
    if !conn.out.is_empty() && (flaw != Flaw::WaitsForWrite || std::mem::take(&mut conn.write_allowed)) {
        let n = unsafe { send(conn.s, conn.out.as_ptr(), conn.out.len() as i32, 0) };
        match n {
            // A nonblocking stream send is all or nothing (Wine sock.c test_write_events).
            SOCKET_ERROR => assert_eq!(unsafe { WSAGetLastError() }, WSAEWOULDBLOCK, "send"),
            n => drop(conn.out.drain(..n as usize)),
        }
    }
    conn.closing && conn.out.is_empty() && unsafe { finish(conn) }
}

/// One nonblocking receive of at most `max` bytes into the echo; `false` when nothing came.
fn read(conn: &mut Conn, max: usize) -> bool {
    match recv_some(conn.s, max) {
        Ok(data) if !data.is_empty() => {
            conn.out.extend(data);
            true
        }
        Ok(_) => false,
        Err(e) => {
            assert_eq!(e, WSAEWOULDBLOCK as u32, "recv");
            false
        }
    }
}

unsafe fn finish(conn: &Conn) -> bool {
    close(conn.s);
    unsafe { WSACloseEvent(conn.ev) };
    true
}

/// The starvation workload: a greedy client streams `GREEDY_MESSAGES` messages without
/// waiting for their echoes (a thread of its own reads them), while polite clients each
/// send one message and need its echo within `DEADLINE_MS`.
pub fn starvation(sim: &mut Sim, flaw: Flaw) {
    const POLITE: usize = 3;
    sim.host("srv", "192.0.2.10", move || server(POLITE + 1, flaw));
    sim.client("greedy", "192.0.2.20", greedy);
    for c in 0..POLITE {
        sim.client(&format!("polite{c}"), &format!("192.0.2.{}", 21 + c), move || polite(c));
    }
}

const GREEDY_MESSAGES: usize = 2000;
pub const DEADLINE_MS: u64 = 5;

fn greedy() {
    startup();
    let s = connect_retrying();
    let total = GREEDY_MESSAGES * 64;
    let reader = thread::spawn(move || recv_exact(s, total).len());
    for m in 0..GREEDY_MESSAGES {
        send_all(s, &[m as u8; 64]);
    }
    assert_eq!(reader.join().unwrap(), total);
    unsafe { shutdown(s, SD_SEND) };
    assert_eq!(recv_some(s, 1), Ok(Vec::new()));
    close(s);
}

fn polite(c: usize) {
    startup();
    let s = connect_retrying();
    let start = unsafe { GetTickCount64() };
    send_all(s, b"are you there?");
    assert_eq!(recv_exact(s, 14), b"are you there?");
    let waited = unsafe { GetTickCount64() } - start;
    assert!(waited <= DEADLINE_MS, "polite{c} was not served within {DEADLINE_MS} ms: it waited {waited} ms");
    unsafe { shutdown(s, SD_SEND) };
    assert_eq!(recv_some(s, 1), Ok(Vec::new()));
    close(s);
}

#[test]
fn the_event_select_echo_passes_over_500_seeds() {
    wsasim::check(0..500, |sim| SelectEcho::ISSUE.setup(sim));
}

#[test]
fn the_same_seed_gives_the_same_trace() {
    let distinct = crate::harness::distinct_traces(0..10, |sim| SelectEcho::ISSUE.setup(sim));
    assert_eq!(distinct, 10, "every seed takes its own path");
}

#[test]
fn a_small_event_select_echo_trace() {
    let mut sim = Sim::new(0);
    SelectEcho { clients: 2, rounds: 1, message: 8, flaw: Flaw::None }.setup(&mut sim);
    let outcome = sim.run().unwrap_or_else(|f| panic!("{f}"));
    insta::assert_snapshot!(outcome.trace_text());
}

fn waits_for_write(sim: &mut Sim) {
    SelectEcho { flaw: Flaw::WaitsForWrite, ..SelectEcho::ISSUE }.setup(sim);
}

fn closes_at_fd_close(sim: &mut Sim) {
    SelectEcho { flaw: Flaw::ClosesAtFdClose, ..SelectEcho::ISSUE }.setup(sim);
}

/// The sweep of `planted` over 200 seeds fails; its message names the replay command of
/// `test`, and the replay, run through this binary's `target`, fails with the same trace.
fn found_and_replayed(planted: fn(&mut Sim), test: &str, target: &str) -> String {
    let message = crate::runner::failure_of(|| wsasim::check(0..200, planted));
    let seed = crate::runner::seed_of(&message);
    let replay = format!("replay: WSASIM_SEED={seed} cargo test {test} -- --exact --nocapture");
    assert!(message.contains(&replay), "{message}");
    let stderr = crate::runner::replay_through_this_binary(target, seed);
    let mut sim = Sim::new(seed);
    planted(&mut sim);
    let trace = sim.run().unwrap_err().trace_text();
    assert!(stderr.contains(&trace), "the replay prints the seed's trace");
    message
}

#[test]
fn a_server_that_waits_for_fd_write_before_each_send_hangs() {
    let message = found_and_replayed(
        waits_for_write,
        "select_echo::a_server_that_waits_for_fd_write_before_each_send_hangs",
        "select_echo::waits_for_write_replay_target",
    );
    assert!(message.contains("deadlock: no thread can run and nothing is due"), "{message}");
    assert!(message.contains("srv/main blocked in WSAWaitForMultipleEvents"), "{message}");
    assert!(message.contains("blocked in recv, waiting on socket"), "{message}");
}

#[test]
#[ignore = "run by a_server_that_waits_for_fd_write_before_each_send_hangs"]
fn waits_for_write_replay_target() {
    wsasim::check(0..200, waits_for_write);
}

#[test]
fn a_server_that_closes_at_fd_close_loses_the_last_bytes() {
    let message = found_and_replayed(
        closes_at_fd_close,
        "select_echo::a_server_that_closes_at_fd_close_loses_the_last_bytes",
        "select_echo::closes_at_fd_close_replay_target",
    );
    assert!(
        message.contains("before echoing it all") || message.contains("sent with the close"),
        "{message}"
    );
}

#[test]
#[ignore = "run by a_server_that_closes_at_fd_close_loses_the_last_bytes"]
fn closes_at_fd_close_replay_target() {
    wsasim::check(0..200, closes_at_fd_close);
}

#[test]
fn serving_only_the_lowest_signalled_index_starves_the_others() {
    let run = |seed, flaw| {
        let mut sim = Sim::new(seed);
        starvation(&mut sim, flaw);
        sim.run()
    };
    let mut starved = Vec::new();
    for seed in 0..20 {
        run(seed, Flaw::None).unwrap_or_else(|f| panic!("the fair server, seed {seed}: {f}"));
        if let Err(f) = run(seed, Flaw::LowestIndexOnly) {
            starved.push((seed, f));
        }
    }
    assert!(!starved.is_empty() && starved.len() < 20, "{} of 20 seeds starve", starved.len());
    let (seed, failure) = &starved[0];
    let report = failure.to_string();
    assert!(report.contains("was not served within 5 ms"), "seed {seed}: {report}");
    // The trace shows why: wait after wait returns the same index, the greedy client's.
    let trace = failure.trace_text();
    let waits: Vec<&str> = trace
        .lines()
        .filter(|l| l.contains("WSAWaitForMultipleEvents(") && l.contains(" = "))
        .map(|l| l.rsplit(" = ").next().unwrap())
        .collect();
    let longest = waits.chunk_by(|a, b| a == b).map(<[&str]>::len).max().unwrap_or(0);
    assert!(longest >= 100, "seed {seed}: the longest run of one index is {longest} waits");
}
