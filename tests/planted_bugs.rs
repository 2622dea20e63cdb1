//! Planted bugs of depth 1, 2 and 3, each with a fixed twin, shared by the exploration
//! tests and the exploration benchmark.
//!
//! A bug's depth is the number of orderings between the steps of its parties that make
//! it fail (Burckhardt et al., ASPLOS 2010, section 2): depth 1, one step before
//! another; depth 2, a step of one party between two steps of another; depth 3, three
//! such orderings. Each program is as small as its bug allows, so that its run length,
//! which PCT's guarantee is in terms of, stays small. The fixed twin of each is the
//! same program with the bug mended as a Winsock programmer would mend it; it never
//! fails, under any strategy.

#![allow(dead_code, clippy::undocumented_unsafe_blocks)]

use std::cell::{Cell, RefCell};
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

/// One planted bug.
#[derive(Clone, Copy)]
pub struct Bug {
    pub name: &'static str,
    pub depth: u32,
    /// The parties that compete: simulated threads, and the network when packets race
    /// the threads.
    pub parties: u32,
    pub what: &'static str,
    /// Sets the run up, with the bug (`fixed` false) or mended.
    pub setup: fn(&mut Sim, bool),
}

pub const BUGS: [Bug; 8] = [
    Bug {
        name: "signal_after_spawn",
        depth: 1,
        parties: 2,
        what: "a worker checks an event that its creator sets only after spawning it",
        setup: signal_after_spawn,
    },
    Bug {
        name: "connect_before_listen",
        depth: 1,
        parties: 3,
        what: "a client's connection request arrives before the server listens",
        setup: connect_before_listen,
    },
    Bug {
        name: "wrong_waiter",
        depth: 1,
        parties: 3,
        what: "an auto-reset event meant for one worker is consumed by the other",
        setup: wrong_waiter,
    },
    Bug {
        name: "lost_update",
        depth: 2,
        parties: 3,
        what: "two workers read, then write back, a counter with a call between",
        setup: lost_update,
    },
    Bug {
        name: "completion_before_reset",
        depth: 2,
        parties: 3,
        what: "a receive completes between its WSARecv and a WSAResetEvent of its event",
        setup: completion_before_reset,
    },
    Bug {
        name: "close_races_receive",
        depth: 2,
        parties: 3,
        what: "another thread closes the socket between the receive's post and its data",
        setup: close_races_receive,
    },
    Bug {
        name: "torn_sequence",
        depth: 3,
        parties: 3,
        what: "a reader sees both halves of a writer's two-step update, one at a time",
        setup: torn_sequence,
    },
    Bug {
        name: "reversed_registration",
        depth: 3,
        parties: 5,
        what: "four workers register in exactly the reverse of their spawn order",
        setup: reversed_registration,
    },
];

pub fn startup() {
    let mut data = WSADATA::default();
    assert_eq!(unsafe { WSAStartup(0x0202, &mut data) }, 0);
}

fn event(manual: bool) -> HANDLE {
    unsafe { CreateEventW(null(), manual.into(), FALSE, null()) }
}

pub fn sockaddr(ip: [u8; 4], port: u16) -> SOCKADDR_IN {
    SOCKADDR_IN {
        sin_family: AF_INET,
        sin_port: port.to_be(),
        sin_addr: IN_ADDR { S_un: IN_ADDR_0 { S_addr: u32::from_ne_bytes(ip) } },
        sin_zero: [0; 8],
    }
}

pub const LEN: i32 = size_of::<SOCKADDR_IN>() as i32;

/// A TCP socket listening on `port` of every address.
pub fn listener(port: u16) -> SOCKET {
    unsafe {
        let l = socket(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP);
        let addr = sockaddr([0, 0, 0, 0], port);
        assert_eq!(bind(l, (&raw const addr).cast(), LEN), 0);
        assert_eq!(listen(l, 5), 0);
        l
    }
}

/// A connected loopback pair: (client, accepted).
pub fn pair() -> (SOCKET, SOCKET) {
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

/// Depth 1: the worker's check must come before the creator's `SetEvent`.
fn signal_after_spawn(sim: &mut Sim, fixed: bool) {
    sim.client("a", "192.0.2.1", move || unsafe {
        let ready = event(true) as usize;
        if fixed {
            SetEvent(ready as HANDLE);
        }
        let worker = thread::spawn(move || {
            assert_eq!(
                WaitForSingleObject(ready as HANDLE, 0),
                WAIT_OBJECT_0,
                "the configuration is not ready"
            );
        });
        if !fixed {
            SetEvent(ready as HANDLE);
        }
        worker.join().unwrap();
    });
}

/// Depth 1: the connection request must be delivered before the server's `listen` (with
/// no latency, so that the race is between the parties alone). The
/// fixed client retries a refused connect, as a client of a server that may start late
/// must.
fn connect_before_listen(sim: &mut Sim, fixed: bool) {
    // The race is the scheduler's, over a network of no latency: the hosts start together,
    // so that what the exploration measures is the strategies' (tests/start_order.rs runs
    // it with the defaults).
    sim.latency(Duration::ZERO, Duration::ZERO).start_spread(Duration::ZERO);
    sim.host("srv", "192.0.2.10", || unsafe {
        startup();
        let l = listener(7);
        let s = accept(l, null_mut(), null_mut());
        assert_ne!(s, INVALID_SOCKET);
        Sleep(INFINITE);
    });
    sim.client("cli", "192.0.2.20", move || unsafe {
        startup();
        let addr = sockaddr([192, 0, 2, 10], 7);
        loop {
            let s = socket(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP);
            if connect(s, (&raw const addr).cast(), LEN) == 0 {
                break;
            }
            assert!(fixed, "connect failed with {}", GetLastError());
            closesocket(s);
            Sleep(1);
        }
    });
}

/// Depth 1: the second worker must take the event first. The fixed twin gives each
/// worker an event of its own.
fn wrong_waiter(sim: &mut Sim, fixed: bool) {
    sim.client("a", "192.0.2.1", move || unsafe {
        let events = [event(false) as usize, event(false) as usize];
        let for_worker = Rc::new(Cell::new(usize::MAX));
        let workers: Vec<_> = (0..2)
            .map(|k| {
                let for_worker = for_worker.clone();
                let ev = if fixed { events[k] } else { events[0] };
                thread::spawn(move || {
                    assert_eq!(
                        WaitForSingleObject(ev as HANDLE, 100),
                        WAIT_OBJECT_0,
                        "worker {k} was never woken"
                    );
                    assert_eq!(for_worker.get(), k, "worker {k} took another worker's message");
                })
            })
            .collect();
        for (k, ev) in events.iter().enumerate() {
            for_worker.set(k);
            SetEvent(if fixed { *ev } else { events[0] } as HANDLE);
            // The message is taken before the next is posted.
            while WaitForSingleObject(if fixed { *ev } else { events[0] } as HANDLE, 0) == WAIT_OBJECT_0 {
                SetEvent(if fixed { *ev } else { events[0] } as HANDLE);
                Sleep(1);
            }
            Sleep(1);
        }
        workers.into_iter().for_each(|w| w.join().unwrap());
    });
}

/// Depth 2: one worker's read-then-write must straddle the other's read. The fixed twin
/// holds an auto-reset event as a lock around it.
fn lost_update(sim: &mut Sim, fixed: bool) {
    sim.client("a", "192.0.2.1", move || unsafe {
        let counter = Rc::new(Cell::new(0));
        let lock = event(false) as usize;
        SetEvent(lock as HANDLE);
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let counter = counter.clone();
                thread::spawn(move || {
                    if fixed {
                        WaitForSingleObject(lock as HANDLE, INFINITE);
                    }
                    let read = counter.get();
                    GetTickCount();
                    counter.set(read + 1);
                    if fixed {
                        SetEvent(lock as HANDLE);
                    }
                })
            })
            .collect();
        workers.into_iter().for_each(|w| w.join().unwrap());
        assert_eq!(counter.get(), 2, "an update was lost");
    });
}

/// Depth 2: the data must arrive after the receive is posted and before the event is
/// reset. The fixed twin does not reset an event that an operation it started owns.
fn completion_before_reset(sim: &mut Sim, fixed: bool) {
    sim.link_latency("a", "a", Duration::ZERO, Duration::ZERO);
    sim.client("a", "192.0.2.1", move || unsafe {
        startup();
        let (c, s) = pair();
        let sender = thread::spawn(move || {
            assert_eq!(send(c, b"ping".as_ptr(), 4, 0), 4);
        });
        let ev = WSACreateEvent();
        let mut ov = OVERLAPPED { hEvent: ev as HANDLE, ..OVERLAPPED::default() };
        let mut buf = [0u8; 4];
        let b = WSABUF { len: 4, buf: buf.as_mut_ptr() };
        let (mut n, mut flags) = (0, 0);
        if WSARecv(s, &b, 1, &mut n, &mut flags, &mut ov, None) == SOCKET_ERROR {
            assert_eq!(WSAGetLastError(), WSA_IO_PENDING);
            if !fixed {
                WSAResetEvent(ev);
            }
            assert_eq!(
                WaitForSingleObject(ev as HANDLE, 100),
                WAIT_OBJECT_0,
                "the completion's signal was lost"
            );
        }
        sender.join().unwrap();
    });
}

/// Depth 2: the close must come after the receive is posted and before its data
/// arrives. The fixed twin closes only once the receiver is done.
fn close_races_receive(sim: &mut Sim, fixed: bool) {
    sim.link_latency("a", "a", Duration::ZERO, Duration::ZERO);
    sim.client("a", "192.0.2.1", move || unsafe {
        startup();
        let (c, s) = pair();
        let done = event(true) as usize;
        let closer = thread::spawn(move || {
            if fixed {
                WaitForSingleObject(done as HANDLE, INFINITE);
            }
            closesocket(s);
        });
        let ev = WSACreateEvent();
        let mut ov = OVERLAPPED { hEvent: ev as HANDLE, ..OVERLAPPED::default() };
        let mut buf = [0u8; 4];
        let b = WSABUF { len: 4, buf: buf.as_mut_ptr() };
        let (mut n, mut flags) = (0, 0);
        let posted = WSARecv(s, &b, 1, &mut n, &mut flags, &mut ov, None);
        if posted == 0 || WSAGetLastError() == WSA_IO_PENDING {
            assert_eq!(send(c, b"data".as_ptr(), 4, 0), 4);
            WaitForSingleObject(ev as HANDLE, INFINITE);
            let ok = WSAGetOverlappedResult(s, &ov, &mut n, FALSE, &mut flags);
            assert_eq!(ok, TRUE, "the receive failed with {}", WSAGetLastError());
        }
        SetEvent(done as HANDLE);
        closer.join().unwrap();
    });
}

/// Depth 3: the reader's first read between the writer's two steps, and its second after
/// the writer's second (writer 1, reader 1, writer 2, reader 2). The fixed twin updates
/// and reads under a lock.
fn torn_sequence(sim: &mut Sim, fixed: bool) {
    sim.client("a", "192.0.2.1", move || unsafe {
        let state = Rc::new(Cell::new(0));
        let lock = event(false) as usize;
        SetEvent(lock as HANDLE);
        let locked = move |f: &dyn Fn()| {
            if fixed {
                WaitForSingleObject(lock as HANDLE, INFINITE);
            }
            f();
            if fixed {
                SetEvent(lock as HANDLE);
            }
        };
        let written = state.clone();
        let writer = thread::spawn(move || {
            locked(&|| {
                written.set(1);
                GetTickCount();
                written.set(2);
            });
        });
        let seen = Rc::new(RefCell::new(Vec::new()));
        let (read, log) = (state.clone(), seen.clone());
        let reader = thread::spawn(move || {
            locked(&|| {
                log.borrow_mut().push(read.get());
                GetTickCount();
                log.borrow_mut().push(read.get());
            });
        });
        writer.join().unwrap();
        reader.join().unwrap();
        assert_ne!(*seen.borrow(), [1, 2], "the reader saw the update half done, then done");
    });
}

/// Depth 3: worker 3 registers before worker 2, 2 before 1, and 1 before 0. The fixed
/// twin checks what it may: that every worker registered once.
fn reversed_registration(sim: &mut Sim, fixed: bool) {
    sim.client("a", "192.0.2.1", move || {
        let log = Rc::new(RefCell::new(Vec::new()));
        let workers: Vec<_> = (0..4)
            .map(|k| {
                let log = log.clone();
                thread::spawn(move || {
                    unsafe { GetTickCount() };
                    log.borrow_mut().push(k);
                })
            })
            .collect();
        workers.into_iter().for_each(|w| w.join().unwrap());
        let mut order = log.borrow().clone();
        if fixed {
            order.sort();
            assert_eq!(order, [0, 1, 2, 3]);
        } else {
            assert_ne!(order, [3, 2, 1, 0], "the workers registered in reverse");
        }
    });
}
