//! Misuses of the overlapped API that a run names (wsasim_sim `misuse`): each misusing
//! program is reported with its kind, call, thread, object and trace line on every seed,
//! its correct twin never; a program may allow a misuse it makes on purpose.

use crate::harness::net::*;
use wsasim::Win32::Foundation::*;
use wsasim::Win32::Networking::WinSock::*;
use wsasim::Win32::System::IO::OVERLAPPED;
use wsasim::Win32::System::Threading::*;
use wsasim::{Failure, FailureKind, Finding, Misuse, Sim};

fn run(seed: u64, allow: Option<Misuse>, main: impl FnOnce() + 'static) -> Result<wsasim::Outcome, Failure> {
    let mut sim = Sim::new(seed);
    sim.client("a", "192.0.2.1", main);
    if let Some(m) = allow {
        sim.allow(m);
    }
    sim.run()
}

/// Posts an overlapped receive of 4 bytes; it pends on a pair nobody writes to.
fn post(s: SOCKET, ov: *mut OVERLAPPED) {
    let buf: &'static mut [u8] = Box::leak(Box::new([0u8; 4]));
    let b = WSABUF { len: 4, buf: buf.as_mut_ptr() };
    let (mut n, mut flags) = (0, 0);
    let r = unsafe { WSARecv(s, &b, 1, &mut n, &mut flags, ov, None) };
    assert_eq!((r, last_error()), (SOCKET_ERROR, WSA_IO_PENDING as u32));
}

fn leaked_overlapped() -> *mut OVERLAPPED {
    let ov = Box::leak(Box::new(OVERLAPPED::default()));
    ov.hEvent = unsafe { WSACreateEvent() } as HANDLE;
    ov
}

/// The finding of a failure, and the trace line it names.
fn finding(f: &Failure) -> (Finding, String) {
    let FailureKind::Misuse(found) = f.kind() else { panic!("not a misuse: {f}") };
    let line = f
        .trace_text()
        .lines()
        .nth(found.trace_line.expect("the trace was kept") - 1)
        .unwrap_or("")
        .to_owned();
    (found.clone(), line)
}

fn overlapped_reused(twin: bool) {
    let (_c, s) = tcp_pair();
    let ov = leaked_overlapped();
    post(s, ov);
    post(s, if twin { leaked_overlapped() } else { ov });
    unsafe { Sleep(1) };
}

#[test]
fn an_overlapped_reused_while_pending_is_named() {
    for seed in 0..50 {
        let f = run(seed, None, || overlapped_reused(false)).expect_err("a misuse");
        let (found, line) = finding(&f);
        assert_eq!(found.misuse, Misuse::OverlappedInUse);
        assert_eq!((found.call, found.thread.as_str()), ("WSARecv", "a/main"));
        assert!(
            found.object.starts_with("the OVERLAPPED of a WSARecv still pending on socket 0x"),
            "{}",
            found.object
        );
        assert!(line.contains("WSARecv("), "trace line {:?}: {line}", found.trace_line);
    }
    for seed in 0..1000 {
        run(seed, None, || overlapped_reused(true)).unwrap_or_else(|f| panic!("the twin: {f}"));
    }
    run(0, Some(Misuse::OverlappedInUse), || overlapped_reused(false)).expect("allowed");
}

fn event_closed_under_a_receive(twin: bool) {
    let (c, s) = tcp_pair();
    let ov = leaked_overlapped();
    post(s, ov);
    if twin {
        send_all(c, b"data");
        unsafe { WaitForSingleObject((*ov).hEvent, INFINITE) };
    }
    unsafe { WSACloseEvent((*ov).hEvent as WSAEVENT) };
}

fn event_closed_under_a_wait(twin: bool) {
    startup();
    let ev = unsafe { WSACreateEvent() } as usize;
    let waiter = wsasim::thread::spawn(move || unsafe { WaitForSingleObject(ev as HANDLE, 100) });
    if twin {
        unsafe { SetEvent(ev as HANDLE) };
        waiter.join().unwrap();
    }
    unsafe { CloseHandle(ev as HANDLE) };
    unsafe { Sleep(200) };
}

#[test]
fn an_event_closed_while_in_use_is_named() {
    for seed in 0..50 {
        let (found, line) =
            finding(&run(seed, None, || event_closed_under_a_receive(false)).expect_err("a misuse"));
        assert_eq!((found.misuse, found.call), (Misuse::EventClosedInUse, "WSACloseEvent"));
        assert!(found.object.contains(", which a WSARecv pending on socket 0x"), "{}", found.object);
        assert!(found.object.ends_with(" will signal"), "{}", found.object);
        assert!(line.contains("WSACloseEvent("), "{line}");
    }
    // A close races the waiter's wait: named on every seed where the wait came first.
    let mut named = 0;
    for seed in 0..200 {
        if let Err(f) = run(seed, None, || event_closed_under_a_wait(false)) {
            let (found, _) = finding(&f);
            assert_eq!((found.misuse, found.call), (Misuse::EventClosedInUse, "CloseHandle"));
            assert!(found.object.ends_with(", which a/t1 waits on"), "{}", found.object);
            named += 1;
        }
    }
    assert!(named > 20, "{named} of 200");
    for seed in 0..1000 {
        run(seed, None, || event_closed_under_a_receive(true)).unwrap_or_else(|f| panic!("the twin: {f}"));
        run(seed, None, || event_closed_under_a_wait(true)).unwrap_or_else(|f| panic!("the twin: {f}"));
    }
}

fn result_of_another_socket(twin: bool) {
    let (c, s) = tcp_pair();
    let ov = leaked_overlapped();
    post(s, ov);
    send_all(c, b"data");
    unsafe { WaitForSingleObject((*ov).hEvent, INFINITE) };
    let (mut n, mut flags) = (0, 0);
    unsafe { WSAGetOverlappedResult(if twin { s } else { c }, ov, &mut n, FALSE, &mut flags) };
}

#[test]
fn a_result_asked_of_a_socket_that_did_not_use_the_overlapped_is_named() {
    for seed in 0..50 {
        let (found, line) =
            finding(&run(seed, None, || result_of_another_socket(false)).expect_err("a misuse"));
        assert_eq!((found.misuse, found.call), (Misuse::ForeignOverlapped, "WSAGetOverlappedResult"));
        assert!(found.object.starts_with("an OVERLAPPED that no operation on socket 0x"), "{}", found.object);
        assert!(line.contains("WSAGetOverlappedResult("), "{line}");
    }
    for seed in 0..1000 {
        run(seed, None, || result_of_another_socket(true)).unwrap_or_else(|f| panic!("the twin: {f}"));
    }
}

fn socket_closed_under_a_blocked_receive(twin: bool) {
    let (c, s) = tcp_pair();
    let reader = wsasim::thread::spawn(move || {
        let mut buf = [0u8; 4];
        unsafe { recv(s, buf.as_mut_ptr(), 4, 0) }
    });
    unsafe { Sleep(1) };
    if twin {
        send_all(c, b"data");
        reader.join().unwrap();
    }
    close(s);
    unsafe { Sleep(1) };
}

fn cleanup_with_a_socket_open(twin: bool) {
    startup();
    let s = udp();
    if twin {
        close(s);
    }
    unsafe { WSACleanup() };
}

fn thread_ends_with_a_receive_pending(twin: bool) {
    let (c, s) = tcp_pair();
    let worker = wsasim::thread::spawn(move || {
        let ov = leaked_overlapped();
        post(s, ov);
        if twin {
            unsafe { WaitForSingleObject((*ov).hEvent, INFINITE) };
        }
    });
    unsafe { Sleep(1) };
    send_all(c, b"data");
    worker.join().unwrap();
}

/// A misuse, the call that makes it, how its object reads, and the program (or its twin).
type Case = (Misuse, &'static str, &'static str, fn(bool));

#[test]
fn a_socket_closed_under_a_blocked_call_a_cleanup_with_sockets_open_and_a_thread_ending_with_io_are_named() {
    let cases: [Case; 3] = [
        (
            Misuse::SocketClosedInUse,
            "closesocket",
            ", which a/t1 is blocked in recv on",
            socket_closed_under_a_blocked_receive,
        ),
        (Misuse::CleanupWithSocketsOpen, "WSACleanup", "sockets open: 1", cleanup_with_a_socket_open),
        (
            Misuse::ThreadEndedWithIo,
            "exit",
            "operations pending: 1, completion routines queued: 0",
            thread_ends_with_a_receive_pending,
        ),
    ];
    for (misuse, call, object, program) in cases {
        for seed in 0..50 {
            let (found, _) = finding(&run(seed, None, move || program(false)).expect_err("a misuse"));
            assert_eq!((found.misuse, found.call), (misuse, call), "seed {seed}");
            assert!(found.object.ends_with(object), "{}", found.object);
        }
        for seed in 0..1000 {
            run(seed, None, move || program(true)).unwrap_or_else(|f| panic!("the twin of {misuse}: {f}"));
        }
        run(0, Some(misuse), move || program(false)).expect("allowed");
    }
}

#[test]
fn each_misuse_reads_as_a_sentence_with_its_page() {
    let messages: Vec<String> = [
        run(0, None, || overlapped_reused(false)),
        run(0, None, || event_closed_under_a_receive(false)),
        run(0, None, || result_of_another_socket(false)),
        run(0, None, || socket_closed_under_a_blocked_receive(false)),
        run(0, None, || cleanup_with_a_socket_open(false)),
        run(0, None, || thread_ends_with_a_receive_pending(false)),
        run(0, None, || send_from_a_touched_buffer(true)),
        run(0, None, || _ = receive_into_a_touched_buffer(true)),
    ]
    .into_iter()
    .map(|r| r.expect_err("a misuse").kind().to_string())
    .collect();
    insta::assert_snapshot!(messages.join("\n"));
}

#[test]
fn a_socket_left_open_is_reported_and_with_fail_on_leaks_fails_the_run() {
    let leaky = |close_it: bool| {
        let mut sim = Sim::new(0);
        sim.client("a", "192.0.2.1", move || {
            startup();
            let s = udp();
            if close_it {
                close(s);
            }
        });
        sim
    };
    let outcome = leaky(false).run().expect("a report, by default");
    let leak = &outcome.leaks()[0];
    assert_eq!((outcome.leaks().len(), leak.what, leak.thread.as_str()), (1, "socket", "a/main"));
    let f = leaky(false).fail_on_leaks(true).run().expect_err("a failure on request");
    assert!(f.to_string().contains("1 handle(s) left open (Sim::fail_on_leaks)\n  socket 0x"), "{f}");
    assert!(leaky(true).fail_on_leaks(true).run().expect("closed").leaks().is_empty());
}

/// A receive pends into `buf` (8 bytes, all 7); the program reads, and with `touch` writes,
/// the buffer meanwhile; 4 bytes arrive. Returns what the buffer held while pending and
/// after.
fn receive_into_a_touched_buffer(touch: bool) -> ([u8; 8], [u8; 8]) {
    let (c, s) = tcp_pair();
    let buf: &'static mut [u8; 8] = Box::leak(Box::new([7u8; 8]));
    let ov = leaked_overlapped();
    let b = WSABUF { len: 8, buf: buf.as_mut_ptr() };
    let (mut n, mut flags) = (0, 0);
    assert_eq!(unsafe { WSARecv(s, &b, 1, &mut n, &mut flags, ov, None) }, SOCKET_ERROR);
    let pending = *buf;
    if touch {
        buf[0] = 1;
    }
    send_all(c, b"data");
    unsafe { WaitForSingleObject((*ov).hEvent, INFINITE) };
    (pending, *buf)
}

/// A 4 KiB send pends behind a full 1 KiB receive buffer; with `touch` the program
/// rewrites its buffer meanwhile; the receiver then reads everything.
fn send_from_a_touched_buffer(touch: bool) {
    let (c, s) = tcp_pair();
    let set = |s: SOCKET, option: i32, value: i32| unsafe {
        setsockopt(s, SOL_SOCKET, option, (&raw const value).cast(), 4);
    };
    set(s, SO_RCVBUF, 1024);
    set(c, SO_SNDBUF, 0);
    let buf: &'static mut [u8] = Box::leak(vec![7u8; 4096].into_boxed_slice());
    let ov = leaked_overlapped();
    let b = WSABUF { len: 4096, buf: buf.as_mut_ptr() };
    let mut n = 0;
    assert_eq!(unsafe { WSASend(c, &b, 1, &mut n, 0, ov, None) }, SOCKET_ERROR);
    if touch {
        // Past the 1 KiB the receiver's window took at once, within the next 64 bytes
        // the send guards.
        buf[1030] = 1;
    }
    recv_exact(s, 4096);
}

#[test]
fn a_pending_operations_buffers_written_by_the_program_are_named_and_a_receives_are_poisoned() {
    for seed in 0..50 {
        let f = run(seed, None, || _ = receive_into_a_touched_buffer(true)).expect_err("a misuse");
        let (found, _) = finding(&f);
        assert_eq!(
            (found.misuse, found.call, found.thread.as_str()),
            (Misuse::ReceiveBufferTouched, "WSARecv", "a/main")
        );
        assert!(
            found.object.starts_with("the buffers of a WSARecv pending on socket 0x"),
            "{}",
            found.object
        );
        let f = run(seed, None, || send_from_a_touched_buffer(true)).expect_err("a misuse");
        let (found, _) = finding(&f);
        assert_eq!(
            (found.misuse, found.call, found.thread.as_str()),
            (Misuse::SendBufferTouched, "WSASend", "a/main")
        );
    }
    for seed in 0..1000 {
        run(seed, None, move || {
            let (pending, after) = receive_into_a_touched_buffer(false);
            assert_eq!(pending, [0xCD; 8], "poisoned while it pends");
            // Then what arrived (a stream may cut it), over what the buffer held.
            let k = after.iter().position(|b| *b == 7).expect("the rest kept");
            assert!(k > 0 && after[..k] == b"data"[..k] && after[k..].iter().all(|b| *b == 7), "{after:?}");
        })
        .unwrap_or_else(|f| panic!("the twin: {f}"));
        run(seed, None, || send_from_a_touched_buffer(false)).unwrap_or_else(|f| panic!("the twin: {f}"));
    }
}

#[test]
fn a_thread_that_panics_with_io_pending_is_reported_as_its_panic() {
    let f = run(0, None, || {
        let (_c, s) = tcp_pair();
        let worker = wsasim::thread::spawn(move || {
            post(s, leaked_overlapped());
            panic!("the worker's own bug");
        });
        assert!(worker.join().is_err());
        panic!("main saw the worker fail");
    })
    .expect_err("a panic");
    assert!(matches!(f.kind(), FailureKind::Panic { .. }), "{f}");
    // An APC of QueueUserAPC left queued is no completion routine lost.
    unsafe extern "system" fn nothing(_: usize) {}
    run(0, None, || {
        let worker = wsasim::thread::spawn(|| {
            unsafe { QueueUserAPC(Some(nothing), GetCurrentThread(), 0) };
        });
        worker.join().unwrap();
    })
    .unwrap_or_else(|f| panic!("{f}"));
}
