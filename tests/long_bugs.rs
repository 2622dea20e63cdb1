//! Failing programs that run long, shared by the shrinking tests and the exploration
//! benchmark. Most are two periodic tasks, one every 3 ms and one every 5 ms, whose racy
//! steps meet only when their periods do (every 15 ms, and at the start), amid calls that
//! have nothing to do with the race: a random run fails late, after a long trace, while
//! the same turns taken when the tasks first meet fail it at once. Each fails as soon as
//! its bug shows, naming the round; each has a fixed twin that never fails.

#![allow(dead_code, clippy::undocumented_unsafe_blocks)]

use crate::planted_bugs::{LEN, listener, pair, sockaddr, startup};
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

pub const LONG_BUGS: [LongBug; 8] = [
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
        name: "config_not_ready",
        what: "a worker checks an event that its updater resets, then sets after a call",
        setup: config_not_ready,
    },
    LongBug {
        name: "recycle_races_receive",
        what: "a connection is recycled between a check that no request is out and its close",
        setup: recycle_races_receive,
    },
    LongBug {
        name: "connect_during_restart",
        what: "a client connects while the server restarts its listener, closed for a call",
        setup: connect_during_restart,
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

/// A thread that ticks every millisecond for `ticks`, releasing each task (an auto-reset
/// event) on the ticks its period divides: the tasks meet exactly every 15 ms.
fn ticker(ticks: u32) -> (thread::JoinHandle<()>, [usize; 2]) {
    let events = TASKS.map(|_| unsafe { CreateEventW(null(), FALSE, FALSE, null()) } as usize);
    let ticker = thread::spawn(move || {
        for tick in 0..ticks {
            for ((period, _), event) in TASKS.into_iter().zip(events) {
                if tick % period == 0 {
                    unsafe { SetEvent(event as HANDLE) };
                }
            }
            unsafe { Sleep(1) };
        }
    });
    (ticker, events)
}

/// Ticks of the ticked programs: 200 rounds of the 3 ms task.
const TICKS: u32 = 600;

fn await_tick(event: usize) {
    assert_eq!(unsafe { WaitForSingleObject(event as HANDLE, INFINITE) }, WAIT_OBJECT_0);
}

/// Each task's update reads the counter, makes a call, and writes it back; after each of
/// its own, the main thread's task checks that the counter holds every update made. The
/// fixed twin updates under a lock.
fn lost_update_rounds(sim: &mut Sim, fixed: bool) {
    sim.client("a", "192.0.2.1", move || {
        let (counter, updates) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
        let guard = lock();
        let update = move |counter: &Cell<u32>, updates: &Cell<u32>| {
            if fixed {
                acquire(guard);
            }
            let read = counter.get();
            unsafe { GetCurrentThreadId() };
            counter.set(read + 1);
            updates.set(updates.get() + 1);
            if fixed {
                release(guard);
            }
        };
        let (ticker, events) = ticker(TICKS);
        let (c, u) = (counter.clone(), updates.clone());
        let task = thread::spawn(move || {
            for _ in 0..TICKS / TASKS[0].0 {
                await_tick(events[0]);
                busy(TASKS[0].1);
                update(&c, &u);
            }
        });
        for round in 0..TICKS / TASKS[1].0 {
            await_tick(events[1]);
            busy(TASKS[1].1);
            update(&counter, &updates);
            assert_eq!(counter.get(), updates.get(), "round {round}: an update was lost");
        }
        join(vec![task, ticker]);
    });
}

/// The writer task sets both halves of a pair to its round, one at a time with a call
/// between; the reader task (the main thread) must see equal halves. The fixed twin
/// writes and reads under a lock.
fn torn_read_rounds(sim: &mut Sim, fixed: bool) {
    sim.client("a", "192.0.2.1", move || {
        let pair = Rc::new((Cell::new(0), Cell::new(0)));
        let guard = lock();
        let (ticker, events) = ticker(TICKS);
        let written = pair.clone();
        let writer = thread::spawn(move || {
            for round in 1..=TICKS / TASKS[0].0 {
                await_tick(events[0]);
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
            }
        });
        for round in 0..TICKS / TASKS[1].0 {
            await_tick(events[1]);
            busy(TASKS[1].1);
            if fixed {
                acquire(guard);
            }
            let (a, b) = (pair.0.get(), pair.1.get());
            assert_eq!(a, b, "read {round}: the pair was half written");
            if fixed {
                release(guard);
            }
        }
        join(vec![writer, ticker]);
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

/// Two sender tasks send a byte each round on one connection; the receiver posts an
/// overlapped receive for each and, when one pends, the buggy receiver resets the
/// receive's event, losing the signal of a completion that came in between (as it may
/// when both tasks send at once). The fixed twin resets the event before
/// posting.
fn lost_completion(sim: &mut Sim, fixed: bool) {
    sim.link_latency("a", "a", Duration::ZERO, Duration::ZERO);
    sim.client("a", "192.0.2.1", move || unsafe {
        startup();
        let (c, s) = pair();
        let (ticker, events) = ticker(TICKS);
        let senders: Vec<_> = TASKS
            .into_iter()
            .zip(events)
            .map(|((period, calls), event)| {
                thread::spawn(move || {
                    for _ in 0..TICKS / period {
                        await_tick(event);
                        busy(calls);
                        assert_eq!(send(c, b"!".as_ptr(), 1, 0), 1);
                    }
                })
            })
            .collect();
        let ev = WSACreateEvent();
        let mut buf = [0u8; 1];
        let total: u32 = TASKS.iter().map(|(period, _)| TICKS / period).sum();
        let (mut received, mut round) = (0, 0);
        while received < total {
            let mut ov = OVERLAPPED { hEvent: ev as HANDLE, ..OVERLAPPED::default() };
            let b = WSABUF { len: 1, buf: buf.as_mut_ptr() };
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
        let mut tasks = senders;
        tasks.push(ticker);
        join(tasks);
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

/// The updater task resets a manual-reset "ready" event, changes the configuration (a
/// call), and sets it again; the worker task (the main thread) checks, without waiting,
/// that the configuration is ready. The fixed twin's worker waits for it.
fn config_not_ready(sim: &mut Sim, fixed: bool) {
    sim.client("a", "192.0.2.1", move || unsafe {
        let ready = CreateEventW(null(), TRUE, TRUE, null()) as usize;
        let (ticker, events) = ticker(TICKS);
        let updater = thread::spawn(move || {
            for _ in 0..TICKS / TASKS[1].0 {
                await_tick(events[1]);
                busy(TASKS[1].1);
                ResetEvent(ready as HANDLE);
                GetCurrentThreadId();
                SetEvent(ready as HANDLE);
            }
        });
        for round in 0..TICKS / TASKS[0].0 {
            await_tick(events[0]);
            busy(TASKS[0].1);
            let wait = if fixed { INFINITE } else { 0 };
            let state = WaitForSingleObject(ready as HANDLE, wait);
            assert_eq!(state, WAIT_OBJECT_0, "round {round}: the configuration was not ready");
        }
        join(vec![updater, ticker]);
    });
}

/// The request task (the main thread) sends a request and waits for its reply on the
/// current connection; the recycler task replaces the connection with a spare one when no
/// request is out, but checks, makes a call, then closes, so that a request posted in
/// between is cut off. The fixed twin checks and closes under a lock the request task
/// holds while its request is out.
fn recycle_races_receive(sim: &mut Sim, fixed: bool) {
    // The server is up first, as the program expects (see `Sim::start_spread`).
    sim.start_spread(Duration::ZERO);
    sim.host("srv", "192.0.2.10", || unsafe {
        startup();
        let l = listener(7);
        loop {
            let s = accept(l, null_mut(), null_mut());
            assert_ne!(s, INVALID_SOCKET);
            thread::spawn(move || {
                let mut buf = [0u8; 4];
                loop {
                    let n = recv(s, buf.as_mut_ptr(), 4, 0);
                    if n <= 0 || send(s, buf.as_ptr(), n, 0) != n {
                        break;
                    }
                }
                closesocket(s);
            });
        }
    });
    sim.client("cli", "192.0.2.20", move || unsafe {
        startup();
        let connect_new = || {
            let s = socket(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP);
            let addr = sockaddr([192, 0, 2, 10], 7);
            assert_eq!(connect(s, (&raw const addr).cast(), LEN), 0);
            s
        };
        let current = Rc::new(Cell::new(connect_new()));
        let out = Rc::new(Cell::new(false));
        let guard = lock();
        let (ticker, events) = ticker(TICKS);
        let (conn, request_out) = (current.clone(), out.clone());
        let recycler = thread::spawn(move || {
            let mut spare = connect_new();
            for _ in 0..TICKS / TASKS[1].0 {
                await_tick(events[1]);
                busy(TASKS[1].1);
                if fixed {
                    acquire(guard);
                }
                let recycled = !request_out.get();
                if recycled {
                    GetCurrentThreadId();
                    closesocket(conn.replace(spare));
                }
                if fixed {
                    release(guard);
                }
                if recycled {
                    spare = connect_new();
                }
            }
            closesocket(spare);
        });
        let ev = WSACreateEvent();
        for round in 0..TICKS / TASKS[0].0 {
            await_tick(events[0]);
            busy(TASKS[0].1);
            if fixed {
                acquire(guard);
            }
            out.set(true);
            let s = current.get();
            let sent = send(s, b"req!".as_ptr(), 4, 0);
            assert_eq!(sent, 4, "round {round}: the request's send failed with {}", WSAGetLastError());
            let mut reply = [0u8; 4];
            let b = WSABUF { len: 4, buf: reply.as_mut_ptr() };
            let mut ov = OVERLAPPED { hEvent: ev as HANDLE, ..OVERLAPPED::default() };
            let (mut n, mut flags) = (0, 0);
            if WSARecv(s, &b, 1, &mut n, &mut flags, &mut ov, None) == SOCKET_ERROR {
                assert_eq!(WSAGetLastError(), WSA_IO_PENDING);
                WaitForSingleObject(ev as HANDLE, INFINITE);
                let ok = WSAGetOverlappedResult(s, &ov, &mut n, FALSE, &mut flags);
                assert_eq!(ok, TRUE, "round {round}: the reply's receive failed with {}", WSAGetLastError());
            }
            let mut got = n as usize;
            while got < reply.len() {
                let n = recv(s, reply[got..].as_mut_ptr(), (reply.len() - got) as i32, 0);
                assert!(n > 0, "round {round}: the reply's receive failed with {}", WSAGetLastError());
                got += n as usize;
            }
            WSAResetEvent(ev);
            out.set(false);
            if fixed {
                release(guard);
            }
        }
        join(vec![recycler, ticker]);
    });
}

/// The server restarts its listener every 5 ms, closed for the length of a call; the
/// client connects every 3 ms and takes a refusal for a failure, as it is unless its
/// connection request arrives just while the listener is closed. The fixed twin's client
/// retries a refused connect.
fn connect_during_restart(sim: &mut Sim, fixed: bool) {
    // The server is up first, as the program expects (see `Sim::start_spread`).
    sim.start_spread(Duration::ZERO);
    sim.host("srv", "192.0.2.10", move || unsafe {
        startup();
        let mut l = listener(7);
        let (ticker, events) = ticker(TICKS);
        for _ in 0..TICKS / TASKS[1].0 {
            await_tick(events[1]);
            // Long enough for the client's request, a packet latency after its own turn,
            // to come as the listener closes.
            busy(TASKS[0].1 + 100);
            closesocket(l);
            GetCurrentThreadId();
            l = listener(7);
        }
        join(vec![ticker]);
        // The listener stays open for the client's last connect, however late it comes.
        Sleep(INFINITE);
    });
    sim.client("cli", "192.0.2.20", move || unsafe {
        startup();
        let (ticker, events) = ticker(TICKS);
        let addr = sockaddr([192, 0, 2, 10], 7);
        for round in 0..TICKS / TASKS[0].0 {
            await_tick(events[0]);
            busy(TASKS[0].1);
            loop {
                let s = socket(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP);
                let connected = connect(s, (&raw const addr).cast(), LEN) == 0;
                let error = WSAGetLastError();
                closesocket(s);
                if connected {
                    break;
                }
                assert!(fixed, "round {round}: connect failed with {error}");
            }
        }
        join(vec![ticker]);
    });
}
