//! Helpers shared by the test modules.

use wsasim::Win32::Foundation::HANDLE;
use wsasim::{Outcome, Sim};

/// Runs `main` as the only client of a one-host simulation with seed 0, and returns its
/// outcome; a failure fails the test with its report.
pub fn run(main: impl FnOnce() + 'static) -> Outcome {
    run_seed(0, main)
}

pub fn run_seed(seed: u64, main: impl FnOnce() + 'static) -> Outcome {
    run_allowing(seed, None, main)
}

/// As [`run_seed`], for a test of what Windows does on a misuse it makes on purpose.
pub fn run_allowing(seed: u64, misuse: Option<wsasim::Misuse>, main: impl FnOnce() + 'static) -> Outcome {
    let mut sim = Sim::new(seed);
    sim.client("a", "192.0.2.1", main);
    if let Some(m) = misuse {
        sim.allow(m);
    }
    sim.run().unwrap_or_else(|f| panic!("{f}\n{}", f.trace_text()))
}

/// Runs each seed twice, asserting that both runs give the same trace, hash and text;
/// returns how many distinct traces the seeds gave.
pub fn distinct_traces(seeds: std::ops::Range<u64>, setup: impl Fn(&mut Sim)) -> usize {
    let run = |seed| {
        let mut sim = Sim::new(seed);
        setup(&mut sim);
        sim.run().unwrap_or_else(|f| panic!("{f}\n{}", f.trace_text()))
    };
    let mut hashes = std::collections::BTreeSet::new();
    for seed in seeds {
        let (a, b) = (run(seed), run(seed));
        assert_eq!(a.trace_hash(), b.trace_hash(), "seed {seed}");
        assert_eq!(a.trace_text(), b.trace_text(), "seed {seed}");
        hashes.insert(a.trace_hash());
    }
    hashes.len()
}

/// A `HANDLE` that was never given out.
pub const BOGUS: HANDLE = 0x7770 as HANDLE;

pub mod net {
    //! Socket helpers for tests: each asserts the call succeeded, so a test reads as its
    //! scenario.

    use std::net::SocketAddrV4;
    use wsasim::Win32::Foundation::*;
    use wsasim::Win32::Networking::WinSock::*;
    use wsasim::Win32::System::IO::OVERLAPPED;

    /// Lets the packets in flight arrive (the default latency is at most 150 µs).
    pub fn settle() {
        // SAFETY: a plain value.
        unsafe { wsasim::Win32::System::Threading::Sleep(2) };
    }

    pub fn startup() {
        let mut data = WSADATA::default();
        // SAFETY: a live local.
        assert_eq!(unsafe { WSAStartup(0x0202, &mut data) }, 0);
    }

    pub fn sockaddr(text: &str) -> SOCKADDR_IN {
        let a: SocketAddrV4 = text.parse().expect("an ip:port");
        SOCKADDR_IN {
            sin_family: AF_INET,
            sin_port: a.port().to_be(),
            sin_addr: IN_ADDR { S_un: IN_ADDR_0 { S_addr: u32::from(*a.ip()).to_be() } },
            sin_zero: [0; 8],
        }
    }

    pub fn read(sin: &SOCKADDR_IN) -> SocketAddrV4 {
        // SAFETY: every bit pattern of the union is a u32.
        let ip = u32::from_be(unsafe { sin.sin_addr.S_un.S_addr });
        SocketAddrV4::new(ip.into(), u16::from_be(sin.sin_port))
    }

    pub const LEN: i32 = size_of::<SOCKADDR_IN>() as i32;

    pub fn tcp() -> SOCKET {
        // SAFETY: plain values.
        let s = unsafe { socket(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP) };
        assert_ne!(s, INVALID_SOCKET);
        s
    }

    pub fn udp() -> SOCKET {
        // SAFETY: plain values.
        let s = unsafe { socket(AF_INET.into(), SOCK_DGRAM, IPPROTO_UDP) };
        assert_ne!(s, INVALID_SOCKET);
        s
    }

    pub fn bind_to(s: SOCKET, addr: &str) {
        let a = sockaddr(addr);
        // SAFETY: a live local of the size given.
        assert_eq!(unsafe { bind(s, (&raw const a).cast(), LEN) }, 0, "bind {addr}");
    }

    /// A TCP listener on `addr`.
    pub fn listener(addr: &str) -> SOCKET {
        let s = tcp();
        bind_to(s, addr);
        // SAFETY: plain values.
        assert_eq!(unsafe { listen(s, SOMAXCONN as i32) }, 0);
        s
    }

    /// `connect`, returning its result and error.
    pub fn try_connect(s: SOCKET, addr: &str) -> Result<(), u32> {
        let a = sockaddr(addr);
        // SAFETY: a live local of the size given.
        match unsafe { connect(s, (&raw const a).cast(), LEN) } {
            0 => Ok(()),
            // SAFETY: no arguments.
            _ => Err(unsafe { GetLastError() }),
        }
    }

    /// A TCP socket connected to `addr`.
    pub fn connected(addr: &str) -> SOCKET {
        let s = tcp();
        try_connect(s, addr).expect("connect");
        s
    }

    /// A connected TCP pair on loopback, as Wine's tests make it: (client, accepted).
    pub fn tcp_pair() -> (SOCKET, SOCKET) {
        startup();
        let l = listener("127.0.0.1:0");
        let mut name = sockaddr("0.0.0.0:0");
        let mut len = LEN;
        // SAFETY: live locals of the sizes given.
        unsafe { assert_eq!(getsockname(l, (&raw mut name).cast(), &mut len), 0) };
        let c = connected(&read(&name).to_string());
        (c, accept_one(l))
    }

    pub fn accept_one(l: SOCKET) -> SOCKET {
        // SAFETY: NULL address and length are allowed.
        let s = unsafe { accept(l, std::ptr::null_mut(), std::ptr::null_mut()) };
        assert_ne!(s, INVALID_SOCKET, "accept");
        s
    }

    /// Sends all of `data` with blocking `send`.
    pub fn send_all(s: SOCKET, data: &[u8]) {
        // SAFETY: a live slice of the length given.
        let n = unsafe { send(s, data.as_ptr(), data.len() as i32, 0) };
        assert_eq!(n, data.len() as i32, "send");
    }

    /// One blocking `recv` of at most `max` bytes; `Err` with the last error on failure.
    pub fn recv_some(s: SOCKET, max: usize) -> Result<Vec<u8>, u32> {
        let mut buf = vec![0u8; max];
        // SAFETY: a live buffer of the length given.
        let n = unsafe { recv(s, buf.as_mut_ptr(), max as i32, 0) };
        if n < 0 {
            // SAFETY: no arguments.
            return Err(unsafe { GetLastError() });
        }
        buf.truncate(n as usize);
        Ok(buf)
    }

    /// Receives exactly `len` bytes, however the stream cuts them.
    pub fn recv_exact(s: SOCKET, len: usize) -> Vec<u8> {
        let mut out = Vec::new();
        while out.len() < len {
            let part = recv_some(s, len - out.len()).expect("recv");
            assert!(!part.is_empty(), "end of stream after {} of {len} bytes", out.len());
            out.extend(part);
        }
        out
    }

    pub fn close(s: SOCKET) {
        // SAFETY: a plain value.
        assert_eq!(unsafe { closesocket(s) }, 0);
    }

    /// An abortive close: `SO_LINGER` {1, 0}, then `closesocket`, which resets the
    /// connection (Doc: closesocket).
    pub fn reset(s: SOCKET) {
        let linger = LINGER { l_onoff: 1, l_linger: 0 };
        let len = size_of::<LINGER>() as i32;
        // SAFETY: a live local of the size given.
        assert_eq!(unsafe { setsockopt(s, SOL_SOCKET, SO_LINGER, (&raw const linger).cast(), len) }, 0);
        close(s);
    }

    /// An OVERLAPPED with `event` as its hEvent.
    pub fn overlapped(event: HANDLE) -> Box<OVERLAPPED> {
        Box::new(OVERLAPPED { hEvent: event, ..OVERLAPPED::default() })
    }

    pub fn wsabuf(buf: &mut [u8]) -> WSABUF {
        WSABUF { len: buf.len() as u32, buf: buf.as_mut_ptr() }
    }

    pub fn last_error() -> u32 {
        // SAFETY: no arguments.
        unsafe { GetLastError() }
    }
}
