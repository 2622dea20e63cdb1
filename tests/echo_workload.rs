//! The overlapped echo workload, shared by the tests and the benchmark: one server that
//! serves every connection with overlapped receives and sends and learns of completions
//! through event objects and `WSAWaitForMultipleEvents`; clients on hosts of their own that
//! send fixed-size messages and read each echo back.

#![allow(dead_code, clippy::undocumented_unsafe_blocks)]

use wsasim::Sim;
use wsasim::Win32::Foundation::*;
use wsasim::Win32::Networking::WinSock::*;
use wsasim::Win32::System::IO::OVERLAPPED;

pub const SERVER: &str = "192.0.2.10:7";

/// The shape of a run.
#[derive(Debug, Clone, Copy)]
pub struct Echo {
    pub clients: usize,
    pub rounds: usize,
    pub message: usize,
    /// The planted bug: clients take one receive for a whole message.
    pub one_receive_per_message: bool,
}

impl Echo {
    pub const ISSUE: Echo = Echo { clients: 4, rounds: 100, message: 64, one_receive_per_message: false };

    pub fn setup(self, sim: &mut Sim) {
        // The server is up first, as these programs expect (see `Sim::start_spread`).
        sim.start_spread(std::time::Duration::ZERO);
        let clients = self.clients;
        sim.host("srv", "192.0.2.10", move || server(clients));
        for c in 0..self.clients {
            sim.client(&format!("c{c}"), &format!("192.0.2.{}", 20 + c), move || self.client(c));
        }
    }

    /// The bytes of message `round` of client `c`: different in every message.
    fn message(self, c: usize, round: usize) -> Vec<u8> {
        (0..self.message).map(|k| (c * 31 + round * 7 + k) as u8).collect()
    }

    fn client(self, c: usize) {
        unsafe {
            let mut data = WSADATA::default();
            assert_eq!(WSAStartup(0x0202, &mut data), 0);
            let s = socket(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP);
            let addr = sockaddr(SERVER);
            // The server may not listen yet (swarm settings draw latencies near zero, and
            // found this), or every try of the handshake may be lost (`Sim::loss`): a
            // refused or timed-out connect is tried again, as a real client must.
            while connect(s, (&raw const addr).cast(), size_of::<SOCKADDR_IN>() as i32) != 0 {
                let error = WSAGetLastError();
                assert!(error == WSAECONNREFUSED || error == WSAETIMEDOUT, "connect: {error}");
                wsasim::Win32::System::Threading::Sleep(1);
            }
            let ev = WSACreateEvent() as HANDLE;
            let mut buf = vec![0u8; self.message];
            for round in 0..self.rounds {
                let mut message = self.message(c, round);
                let sent = overlapped_io(s, ev, &mut message, Io::Send);
                assert_eq!(sent, self.message, "a send completes with its full count");
                let mut got = 0;
                while got < self.message {
                    let n = overlapped_io(s, ev, &mut buf[got..], Io::Receive);
                    assert!(n > 0, "the server closed after {got} bytes of message {round}");
                    if self.one_receive_per_message {
                        assert_eq!(n, self.message, "one receive returns the whole message");
                    }
                    got += n;
                }
                assert_eq!(buf, message, "echo of message {round} of client {c}");
            }
            assert_eq!(closesocket(s), 0);
            assert_eq!(WSACloseEvent(ev as WSAEVENT), TRUE);
            assert_eq!(WSACleanup(), 0);
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Io {
    Send,
    Receive,
}

/// One overlapped send or receive on `buf`, waited for through `ev`; returns the count.
unsafe fn overlapped_io(s: SOCKET, ev: HANDLE, buf: &mut [u8], io: Io) -> usize {
    unsafe {
        let mut ov = OVERLAPPED { hEvent: ev, ..OVERLAPPED::default() };
        let wsabuf = WSABUF { len: buf.len() as u32, buf: buf.as_mut_ptr() };
        let (mut bytes, mut flags) = (0u32, 0u32);
        let r = match io {
            Io::Send => WSASend(s, &wsabuf, 1, &mut bytes, 0, &mut ov, None),
            Io::Receive => WSARecv(s, &wsabuf, 1, &mut bytes, &mut flags, &mut ov, None),
        };
        if r == SOCKET_ERROR {
            assert_eq!(WSAGetLastError(), WSA_IO_PENDING);
            assert_eq!(WSAWaitForMultipleEvents(1, &ev, FALSE, WSA_INFINITE, FALSE), WAIT_OBJECT_0);
        }
        assert_eq!(WSAGetOverlappedResult(s, &ov, &mut bytes, FALSE, &mut flags), TRUE);
        bytes as usize
    }
}

/// A connection of the server, with its receive in progress.
struct Conn {
    s: SOCKET,
    ov: Box<OVERLAPPED>,
    buf: Box<[u8; 4096]>,
}

impl Conn {
    /// Posts the next receive; it completes at once or later, signalling the event either
    /// way (Wine sock.c test_nonblocking_async_recv).
    unsafe fn post(&mut self) {
        unsafe {
            let wsabuf = WSABUF { len: self.buf.len() as u32, buf: self.buf.as_mut_ptr() };
            let mut flags = 0;
            let r = WSARecv(self.s, &wsabuf, 1, std::ptr::null_mut(), &mut flags, &mut *self.ov, None);
            assert!(r == 0 || WSAGetLastError() == WSA_IO_PENDING, "WSARecv: {}", WSAGetLastError());
        }
    }
}

fn server(clients: usize) {
    unsafe {
        let mut data = WSADATA::default();
        assert_eq!(WSAStartup(0x0202, &mut data), 0);
        let l = socket(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP);
        let addr = sockaddr("0.0.0.0:7");
        assert_eq!(bind(l, (&raw const addr).cast(), size_of::<SOCKADDR_IN>() as i32), 0);
        assert_eq!(listen(l, SOMAXCONN as i32), 0);
        let (mut conns, mut events) = (Vec::new(), Vec::new());
        for _ in 0..clients {
            let s = accept(l, std::ptr::null_mut(), std::ptr::null_mut());
            assert_ne!(s, INVALID_SOCKET);
            let ev = WSACreateEvent() as HANDLE;
            let mut conn = Conn {
                s,
                ov: Box::new(OVERLAPPED { hEvent: ev, ..OVERLAPPED::default() }),
                buf: Box::new([0; 4096]),
            };
            conn.post();
            conns.push(conn);
            events.push(ev);
        }
        let send_ev = WSACreateEvent() as HANDLE;
        while !conns.is_empty() {
            let r =
                WSAWaitForMultipleEvents(events.len() as u32, events.as_ptr(), FALSE, WSA_INFINITE, FALSE);
            let i = (r - WAIT_OBJECT_0) as usize;
            let conn = &mut conns[i];
            let (mut bytes, mut flags) = (0u32, 0u32);
            assert_eq!(WSAGetOverlappedResult(conn.s, &*conn.ov, &mut bytes, FALSE, &mut flags), TRUE);
            if bytes == 0 {
                closesocket(conn.s);
                WSACloseEvent(events[i] as WSAEVENT);
                conns.swap_remove(i);
                events.swap_remove(i);
                continue;
            }
            let echoed = overlapped_io(conn.s, send_ev, &mut conn.buf[..bytes as usize], Io::Send);
            assert_eq!(echoed, bytes as usize);
            conn.post();
        }
        WSACloseEvent(send_ev as WSAEVENT);
        closesocket(l);
    }
}

fn sockaddr(text: &str) -> SOCKADDR_IN {
    let a: std::net::SocketAddrV4 = text.parse().expect("an ip:port");
    SOCKADDR_IN {
        sin_family: AF_INET,
        sin_port: a.port().to_be(),
        sin_addr: IN_ADDR { S_un: IN_ADDR_0 { S_addr: u32::from(*a.ip()).to_be() } },
        sin_zero: [0; 8],
    }
}
