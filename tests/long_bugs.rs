//! Failing programs that run long, shared by the shrinking tests and the exploration
//! benchmark. Most are two periodic tasks, one every 3 ms and one every 5 ms, whose racy
//! steps meet only when their periods do (every 15 ms, and at the start), amid calls that
//! have nothing to do with the race: a random run fails late, after a long trace, while
//! the same turns taken when the tasks first meet fail it at once. Each fails as soon as
//! its bug shows, naming the round; each has a fixed twin that never fails.

#![allow(dead_code, clippy::undocumented_unsafe_blocks)]

use std::cell::Cell;
use std::ptr::{null, null_mut};
use std::rc::Rc;
use std::time::Duration;
use wsasim::Sim;
use wsasim::Win32::Foundation::*;
use wsasim::Win32::Networking::WinSock::*;
use wsasim::Win32::System::IO::OVERLAPPED;
use wsasim::Win32::System::SystemInformation::GetTickCount;
use wsasim::Win32::System::Threading::*;
use wsasim::thread;

/// One long program.
#[derive(Clone, Copy)]
pub struct LongBug {
    pub name: &'static str,
    pub what: &'static str,
    /// Sets the run up, with the bug (`fixed` false) or mended.
    pub setup: fn(&mut Sim, bool),
}

pub const LONG_BUGS: [LongBug; 5] = [
    LongBug {
        name: "lost_update_rounds",
        what: "two workers add to a counter, reading it, then writing it back after a call",
        setup: lost_update_rounds,
    },
    LongBug {
        name: "torn_read_rounds",
        what: "a reader sees a pair its writer updates one half at a time",
        setup: torn_read_rounds,
    },
    LongBug {
        name: "lock_order_deadlock",
        what: "two workers take the same two locks in opposite orders",
        setup: lock_order_deadlock,
    },
    LongBug {
        name: "lost_completion",
        what: "a receive completes between its WSARecv and a WSAResetEvent of its event",
        setup: lost_completion,
    },
    LongBug {
        name: "split_length_prefix",
        what: "a receiver assumes a message's 4-byte length prefix never arrives split",
        setup: split_length_prefix,
    },
];

const ROUNDS: u32 = 100;
/// Each task's period in milliseconds, and the calls of its rounds that touch nothing
/// shared, made before its racy step: the tasks' racy steps meet only when the random
/// walk runs the second task that much less than the first.
const TASKS: [(u32, u32); 2] = [(3, 30), (5, 18)];

/// Calls a worker makes between its rounds that touch nothing shared.
fn busy(calls: u32) {
    for _ in 0..calls {
        unsafe { GetTickCount() };
    }
}

/// Joins `workers`, going on with the first one's panic, so that the run fails with its
/// message (`unwrap` would say only that a thread panicked).
fn join(workers: Vec<thread::JoinHandle<()>>) {
    for w in workers {
        if let Err(panic) = w.join() {
            std::panic::resume_unwind(panic);
        }
    }
}

fn startup() {
    let mut data = WSADATA::default();
    assert_eq!(unsafe { WSAStartup(0x0202, &mut data) }, 0);
}

/// An auto-reset event held as a lock (set: free).
fn lock() -> usize {
    let lock = unsafe { CreateEventW(null(), FALSE, TRUE, null()) };
    lock as usize
}

fn acquire(lock: usize) {
    assert_eq!(unsafe { WaitForSingleObject(lock as HANDLE, INFINITE) }, WAIT_OBJECT_0);
}

fn release(lock: usize) {
    unsafe { SetEvent(lock as HANDLE) };
}

fn sockaddr(ip: [u8; 4], port: u16) -> SOCKADDR_IN {
    SOCKADDR_IN {
        sin_family: AF_INET,
        sin_port: port.to_be(),
        sin_addr: IN_ADDR { S_un: IN_ADDR_0 { S_addr: u32::from_ne_bytes(ip) } },
        sin_zero: [0; 8],
    }
}

const LEN: i32 = size_of::<SOCKADDR_IN>() as i32;

/// A connected loopback pair: (client, accepted).
fn pair() -> (SOCKET, SOCKET) {
    unsafe {
        let l = socket(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP);
        let addr = sockaddr([127, 0, 0, 1], 7000);
        assert_eq!(bind(l, (&raw const addr).cast(), LEN), 0);
        assert_eq!(listen(l, 5), 0);
        let c = socket(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP);
        assert_eq!(connect(c, (&raw const addr).cast(), LEN), 0);
        let s = accept(l, null_mut(), null_mut());
        assert_ne!(s, INVALID_SOCKET);
        (c, s)
    }
}

/// Each task's update reads the counter, makes a call, and writes it back; after it, the
/// counter must equal the updates made. The fixed twin updates under a lock.
fn lost_update_rounds(sim: &mut Sim, fixed: bool) {
    sim.client("a", "192.0.2.1", move || {
        let (counter, updates) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
        let guard = lock();
        let tasks: Vec<_> = TASKS
            .into_iter()
            .map(|(period, calls)| {
                let (counter, updates) = (counter.clone(), updates.clone());
                thread::spawn(move || {
                    for round in 0..ROUNDS {
                        busy(calls);
                        if fixed {
                            acquire(guard);
                        }
                        let read = counter.get();
                        unsafe { GetCurrentThreadId() };
                        counter.set(read + 1);
                        updates.set(updates.get() + 1);
                        assert_eq!(counter.get(), updates.get(), "round {round}: an update was lost");
                        if fixed {
                            release(guard);
                        }
                        unsafe { Sleep(period) };
                    }
                })
            })
            .collect();
        join(tasks);
    });
}

/// The writer task sets both halves of a pair to its round, one at a time with a call
/// between; the reader (the main thread) must see equal halves. The fixed twin writes and
/// reads under a lock.
fn torn_read_rounds(sim: &mut Sim, fixed: bool) {
    sim.client("a", "192.0.2.1", move || {
        let pair = Rc::new((Cell::new(0), Cell::new(0)));
        let guard = lock();
        let written = pair.clone();
        let writer = thread::spawn(move || {
            for round in 1..=ROUNDS {
                busy(TASKS[0].1);
                if fixed {
                    acquire(guard);
                }
                written.0.set(round);
                unsafe { GetCurrentThreadId() };
                written.1.set(round);
                if fixed {
                    release(guard);
                }
                unsafe { Sleep(TASKS[0].0) };
            }
        });
        for round in 0..ROUNDS {
            busy(TASKS[1].1);
            if fixed {
                acquire(guard);
            }
            let (a, b) = (pair.0.get(), pair.1.get());
            assert_eq!(a, b, "read {round}: the pair was half written");
            if fixed {
                release(guard);
            }
            unsafe { Sleep(TASKS[1].0) };
        }
        join(vec![writer]);
    });
}

/// One task takes lock A then B, the other B then A, with a call between. The fixed twin
/// takes them in one order.
fn lock_order_deadlock(sim: &mut Sim, fixed: bool) {
    sim.client("a", "192.0.2.1", move || {
        let (a, b) = (lock(), lock());
        let orders = [(a, b), if fixed { (a, b) } else { (b, a) }];
        let tasks: Vec<_> = TASKS
            .into_iter()
            .zip(orders)
            .map(|((period, calls), (first, second))| {
                thread::spawn(move || {
                    for _ in 0..ROUNDS {
                        busy(calls);
                        acquire(first);
                        unsafe { GetCurrentThreadId() };
                        acquire(second);
                        release(second);
                        release(first);
                        unsafe { Sleep(period) };
                    }
                })
            })
            .collect();
        join(tasks);
    });
}

/// Two sender tasks send 4 bytes each round on one connection; the receiver posts
/// overlapped receives until it has them all and, when one pends, the buggy receiver resets the
/// receive's event, losing the signal of a completion that came in between. The fixed
/// twin resets the event before posting.
fn lost_completion(sim: &mut Sim, fixed: bool) {
    sim.link_latency("a", "a", Duration::ZERO, Duration::ZERO);
    sim.client("a", "192.0.2.1", move || unsafe {
        startup();
        let (c, s) = pair();
        let senders: Vec<_> = TASKS
            .into_iter()
            .map(|(period, calls)| {
                thread::spawn(move || {
                    for _ in 0..ROUNDS {
                        busy(calls);
                        assert_eq!(send(c, b"ping".as_ptr(), 4, 0), 4);
                        Sleep(period);
                    }
                })
            })
            .collect();
        let ev = WSACreateEvent();
        let mut buf = [0u8; 4];
        let (mut received, mut round) = (0, 0);
        while received < 2 * 4 * ROUNDS {
            let mut ov = OVERLAPPED { hEvent: ev as HANDLE, ..OVERLAPPED::default() };
            let b = WSABUF { len: 4, buf: buf.as_mut_ptr() };
            let (mut n, mut flags) = (0, 0);
            if fixed {
                WSAResetEvent(ev);
            }
            if WSARecv(s, &b, 1, &mut n, &mut flags, &mut ov, None) == SOCKET_ERROR {
                assert_eq!(WSAGetLastError(), WSA_IO_PENDING);
                if !fixed {
                    WSAResetEvent(ev);
                }
                let signalled = WaitForSingleObject(ev as HANDLE, 10);
                assert_eq!(signalled, WAIT_OBJECT_0, "receive {round}: the completion's signal was lost");
                assert_eq!(WSAGetOverlappedResult(s, &ov, &mut n, FALSE, &mut flags), TRUE);
            }
            assert!(n > 0, "receive {round}: the connection ended");
            (received, round) = (received + n, round + 1);
        }
        join(senders);
    });
}

/// Messages of a 4-byte length and a body, sent back to back; the buggy receiver reads
/// the length with one `recv` of 4 bytes and assumes it got all 4, as it does unless TCP
/// cuts a segment inside a prefix. The fixed twin reads until it has all 4.
fn split_length_prefix(sim: &mut Sim, fixed: bool) {
    sim.client("a", "192.0.2.1", move || unsafe {
        startup();
        let (c, s) = pair();
        let sender = thread::spawn(move || {
            let mut message = [7u8; 64];
            message[..4].copy_from_slice(&60u32.to_le_bytes());
            for _ in 0..ROUNDS {
                assert_eq!(send(c, message.as_ptr(), 64, 0), 64);
                Sleep(1);
            }
            closesocket(c);
        });
        let read = |buf: &mut [u8], all: bool| -> usize {
            let mut got = 0;
            loop {
                let n = recv(s, buf[got..].as_mut_ptr(), (buf.len() - got) as i32, 0);
                assert!(n > 0, "recv: {n}, error {}", WSAGetLastError());
                got += n as usize;
                if !all || got == buf.len() {
                    return got;
                }
            }
        };
        for round in 0..ROUNDS {
            let mut prefix = [0u8; 4];
            let got = read(&mut prefix, fixed);
            assert_eq!(got, 4, "message {round}: the length prefix came split");
            let mut body = vec![0u8; u32::from_le_bytes(prefix) as usize];
            read(&mut body, true);
        }
        join(vec![sender]);
    });
}
