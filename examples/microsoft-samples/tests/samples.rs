//! Microsoft's samples under wsasim: the WSASend / WSARecv pair works; the
//! WSAWaitForMultipleEvents echo server's bugs are found, each with the seeds it fails on,
//! and its corrected twin passes.
#![cfg(feature = "sim")]

use microsoft_samples::Win32::Networking::WinSock::*;
use microsoft_samples::Win32::System::Threading::Sleep;
use microsoft_samples::{wait_echo_server, wait_echo_server_fixed, wsarecv_client, wsasend_server};
use std::ptr::null_mut;
use wsasim::Sim;

fn pair(sim: &mut Sim) {
    sim.client("server", "192.0.2.10", || assert_eq!(wsasend_server::main(), 0));
    sim.client("client", "192.0.2.20", || {
        assert_eq!(wsarecv_client::main(&["wsarecv", "server"]), (0, 10 * 4096));
    });
}

#[test]
fn the_wsasend_server_and_the_wsarecv_client_make_a_pair() {
    // As the samples are run: the server first, the client once it is up.
    wsasim::check(0..200, |sim| {
        sim.start_spread(std::time::Duration::ZERO);
        pair(sim);
    });
}

/// The client tries the server's address once: started before the server listens, it is
/// refused and gives up, as the sample does on Windows.
#[test]
fn the_wsarecv_client_gives_up_when_it_starts_before_the_server() {
    let refused = (0..50)
        .filter(|&seed| {
            let mut sim = Sim::new(seed);
            pair(&mut sim);
            sim.run().err().is_some_and(|f| f.to_string().contains("left: (1, 0)"))
        })
        .count();
    assert!(refused > 5, "{refused} of 50 seeds");
}

/// A client of the echo server: sends each message in turn and reads its echo back, then
/// says it is done (`shutdown`) and reads to the end of the stream; panics with what went
/// wrong.
fn echo_client(messages: &'static [&'static [u8]]) {
    // SAFETY: every pointer is to a live local.
    unsafe {
        let mut data = WSADATA::default();
        assert_eq!(WSAStartup(0x0202, &mut data), 0);
        let mut list = null_mut();
        assert_eq!(
            getaddrinfo(c"server".as_ptr().cast(), c"27015".as_ptr().cast(), std::ptr::null(), &mut list),
            0
        );
        let s = socket(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP);
        while connect(s, (*list).ai_addr, (*list).ai_addrlen as i32) != 0 {
            assert_eq!(WSAGetLastError(), WSAECONNREFUSED);
            Sleep(1);
        }
        freeaddrinfo(list);
        let read = |len: usize| {
            let mut got = vec![0u8; len];
            let mut n = 0;
            while n < len {
                let r = recv(s, got[n..].as_mut_ptr(), (len - n) as i32, 0);
                assert!(
                    r > 0,
                    "the stream ended (recv gave {r}, error {}) after {n} of {len} bytes",
                    WSAGetLastError()
                );
                n += r as usize;
            }
            got
        };
        for (i, message) in messages.iter().enumerate() {
            assert_eq!(send(s, message.as_ptr(), message.len() as i32, 0), message.len() as i32);
            let echoed = read(message.len());
            assert!(echoed == *message, "message {i} came back as {:?}", String::from_utf8_lossy(&echoed));
        }
        assert_eq!(shutdown(s, SD_SEND), 0);
        let mut extra = [0u8; 8192];
        let mut more = 0usize;
        loop {
            let r = recv(s, extra.as_mut_ptr(), extra.len() as i32, 0);
            assert!(r >= 0, "recv failed with {} after the echoes", WSAGetLastError());
            if r == 0 {
                break;
            }
            more += r as usize;
            assert!(more < 100_000, "the server keeps sending: {more} bytes past the echoes so far");
        }
        assert_eq!(more, 0, "the server sent {more} bytes more than it was sent");
        closesocket(s);
    }
}

fn setup(sim: &mut Sim, fixed: bool, messages: &'static [&'static [u8]]) {
    if fixed {
        sim.client("server", "192.0.2.10", || assert_eq!(wait_echo_server_fixed::main(), 0));
    } else {
        // The sample's loop may never end: a host that need not return.
        sim.host("server", "192.0.2.10", || {
            wait_echo_server::main();
        });
    }
    sim.client("client", "192.0.2.20", move || echo_client(messages));
}

/// Each seed of `seeds` that fails, with how it failed.
fn failures(
    seeds: std::ops::Range<u64>,
    fixed: bool,
    messages: &'static [&'static [u8]],
) -> Vec<(u64, String)> {
    seeds
        .filter_map(|seed| {
            let mut sim = Sim::new(seed);
            setup(&mut sim, fixed, messages);
            let failure = sim.run().err()?;
            Some((seed, failure.kind().to_string()))
        })
        .collect()
}

const ONE: &[&[u8]] = &[b"Hello, echo"];
const TWO: &[&[u8]] = &[b"first", b"second"];

/// The sample's bugs, each with the seeds that show it: with one message or two, every
/// seed fails, as one bug or the other.
#[test]
fn the_samples_bugs_are_found_each_with_its_seeds() {
    let (mut whole_buffer, mut one_receive) = (Vec::new(), Vec::new());
    for (name, messages) in [("one message", ONE), ("two messages", TWO)] {
        let found = failures(0..20, false, messages);
        assert_eq!(found.len(), 20, "{name}: every seed fails: {found:?}");
        for (seed, why) in found {
            if why.contains("4096 bytes") || why.contains("bytes more than it was sent") {
                // The echo of the first receive is all 4,096 bytes of the buffer.
                whole_buffer.push((name, seed));
            } else if why.contains(r"\0") {
                // Bytes that arrived after the first receive completed were never read: the
                // client gets the buffer's zeros in their place.
                one_receive.push((name, seed));
            } else {
                panic!("{name}, seed {seed}: an unexpected failure: {why}");
            }
        }
    }
    println!("it echoes its whole buffer instead of what arrived: {whole_buffer:?}");
    println!("it never posts another receive: {one_receive:?}");
    assert!(!whole_buffer.is_empty() && !one_receive.is_empty());
}

#[test]
fn the_corrected_twin_passes() {
    wsasim::check(0..300, |sim| setup(sim, true, TWO));
    wsasim::check(0..100, |sim| setup(sim, true, ONE));
}
