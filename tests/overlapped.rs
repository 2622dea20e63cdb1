//! The overlapped call protocol (Doc: WSARecv, Doc: WSASend, Doc: WSAGetOverlappedResult):
//! what the call returns, what the OVERLAPPED holds, which notification fires, and what the
//! result calls read. Each test runs on one host over loopback, as Wine's tests do.

use crate::harness::net::*;
use crate::harness::{run, run_allowing, run_seed};
use std::ptr::{null, null_mut};
use wsasim::Win32::Foundation::*;
use wsasim::Win32::Networking::WinSock::*;
use wsasim::Win32::System::IO::*;
use wsasim::Win32::System::Threading::*;

fn signaled(h: HANDLE) -> bool {
    unsafe { WaitForSingleObject(h, 0) == WAIT_OBJECT_0 }
}

/// Posts an overlapped receive of `buf` on `s`; returns the call's result and last error.
fn post_recv(s: SOCKET, buf: &mut [u8], ov: &mut OVERLAPPED) -> (i32, u32) {
    let b = wsabuf(buf);
    let (mut bytes, mut flags) = (0xdead_beef_u32, 0);
    let r = unsafe { WSARecv(s, &b, 1, &mut bytes, &mut flags, ov, None) };
    (r, last_error())
}

#[test]
fn a_receive_with_data_queued_completes_at_once_and_still_signals_its_event() {
    // Wine sock.c test_nonblocking_async_recv ("with data already queued, the event
    // becomes signaled"), test_completion_port.
    run(|| unsafe {
        let (c, s) = tcp_pair();
        send_all(c, b"hello");
        // Let the segment arrive.
        Sleep(10);
        let ev = WSACreateEvent() as HANDLE;
        let mut ov = overlapped(ev);
        let mut buf = [0u8; 16];
        let b = wsabuf(&mut buf);
        let (mut bytes, mut flags) = (0, 0);
        assert_eq!(WSARecv(s, &b, 1, &mut bytes, &mut flags, &mut *ov, None), 0);
        assert_eq!(GetLastError(), 0, "success sets the last error to 0 (Wine sock.c test_WSARecv)");
        assert_eq!((bytes, &buf[..5]), (5, &b"hello"[..]));
        assert!(signaled(ev), "an immediate completion signals the event");
        assert_eq!((ov.Internal, ov.InternalHigh), (STATUS_SUCCESS as usize, 5));
    });
}

#[test]
fn a_pending_receive_leaves_the_counts_alone_and_holds_status_pending() {
    // Wine sock.c test_nonblocking_async_recv (Internal == STATUS_PENDING,
    // InternalHigh untouched).
    run(|| unsafe {
        let (c, s) = tcp_pair();
        let ev = WSACreateEvent() as HANDLE;
        WSASetEvent(ev as WSAEVENT);
        let mut ov = overlapped(ev);
        ov.InternalHigh = 0xdead_beef;
        let mut buf = [0u8; 16];
        let b = wsabuf(&mut buf);
        let (mut bytes, mut flags) = (0xdead_beef_u32, 0);
        assert_eq!(WSARecv(s, &b, 1, &mut bytes, &mut flags, &mut *ov, None), SOCKET_ERROR);
        assert_eq!(GetLastError(), WSA_IO_PENDING as u32);
        assert_eq!(bytes, 0xdead_beef, "the count is not touched");
        assert_eq!(ov.Internal, STATUS_PENDING as usize);
        assert_eq!(ov.InternalHigh, 0xdead_beef);
        assert!(!signaled(ev), "starting the operation reset the event (Doc: WSAGetOverlappedResult)");
        let mut got = 0;
        assert_eq!(WSAGetOverlappedResult(s, &*ov, &mut got, FALSE, &mut flags), FALSE);
        assert_eq!(GetLastError(), WSA_IO_INCOMPLETE as u32, "pending (Doc: WSAGetOverlappedResult)");
        send_all(c, b"abc");
        assert_eq!(WaitForSingleObject(ev, 1000), WAIT_OBJECT_0);
        assert_eq!((ov.Internal, ov.InternalHigh), (STATUS_SUCCESS as usize, 3));
        assert_eq!(WSAGetOverlappedResult(s, &*ov, &mut got, FALSE, &mut flags), TRUE);
        assert_eq!(got, 3);
        assert!(signaled(ev), "WSAGetOverlappedResult does not reset the event");
    });
}

#[test]
fn an_immediate_failure_delivers_no_completion() {
    // Doc: WSARecv (return value); Wine sock.c test_completion_port (WSARecv on an
    // unconnected socket fails with WSAENOTCONN and nothing is queued).
    run(|| unsafe {
        startup();
        let s = tcp();
        let ev = WSACreateEvent() as HANDLE;
        WSASetEvent(ev as WSAEVENT);
        let mut ov = overlapped(ev);
        let mut buf = [0u8; 4];
        assert_eq!(post_recv(s, &mut buf, &mut ov), (SOCKET_ERROR, WSAENOTCONN as u32));
        assert!(signaled(ev), "a call that never started leaves the event alone");
        assert_eq!(ov.Internal, 0);
    });
}

#[test]
fn a_null_event_makes_the_socket_handle_the_signal() {
    // Wine sock.c test_nonblocking_async_recv ("Overlapped, with a NULL event").
    run(|| unsafe {
        let (c, s) = tcp_pair();
        let mut ov = overlapped(null_mut());
        let mut buf = [0u8; 8];
        assert_eq!(post_recv(s, &mut buf, &mut ov), (SOCKET_ERROR, WSA_IO_PENDING as u32));
        assert_eq!(WaitForSingleObject(s as HANDLE, 0), WAIT_TIMEOUT, "unsignaled while pending");
        send_all(c, b"x");
        assert_eq!(WaitForSingleObject(s as HANDLE, 1000), WAIT_OBJECT_0);
        let (mut got, mut flags) = (0, 0);
        assert_eq!(WSAGetOverlappedResult(s, &*ov, &mut got, TRUE, &mut flags), TRUE);
        assert_eq!(got, 1);
    });
}

#[test]
fn pending_receives_are_filled_in_the_order_posted() {
    // Wine sock.c test_simultaneous_async_recv (two pending 16-byte receives, one 32-byte
    // send), over seeds that cut the stream differently.
    for seed in 0..40 {
        run_seed(seed, || unsafe {
            let (c, s) = tcp_pair();
            let (mut a, mut b) = ([0u8; 16], [0u8; 16]);
            let (ev_a, ev_b) = (WSACreateEvent() as HANDLE, WSACreateEvent() as HANDLE);
            let (mut ov_a, mut ov_b) = (overlapped(ev_a), overlapped(ev_b));
            assert_eq!(post_recv(s, &mut a, &mut ov_a).1, WSA_IO_PENDING as u32);
            assert_eq!(post_recv(s, &mut b, &mut ov_b).1, WSA_IO_PENDING as u32);
            let data: Vec<u8> = (0..32).collect();
            send_all(c, &data);
            let both = [ev_a, ev_b];
            assert_eq!(WaitForMultipleObjects(2, both.as_ptr(), TRUE, 1000), WAIT_OBJECT_0);
            // However the stream was cut, the first receive got the first bytes.
            let (na, nb) = (ov_a.InternalHigh, ov_b.InternalHigh);
            assert_eq!(&a[..na], &data[..na]);
            assert_eq!(&b[..nb], &data[na..na + nb]);
        });
    }
}

#[test]
fn a_receive_fills_scattered_buffers_in_order_with_no_gaps() {
    // Wine sock.c test_WSARecv: 9 bytes into buffers of 4 and 5 give "dead" | "beefs".
    let mut whole = 0;
    for seed in 0..40 {
        let counts = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let seen = counts.clone();
        run_seed(seed, move || unsafe {
            let (c, s) = tcp_pair();
            send_all(c, b"deadbeefs");
            let mut got = Vec::new();
            while got.len() < 9 {
                let (mut x, mut y) = ([0u8; 4], [0u8; 5]);
                let bufs = [wsabuf(&mut x), wsabuf(&mut y)];
                let (mut bytes, mut flags) = (0, 0);
                assert_eq!(WSARecv(s, bufs.as_ptr(), 2, &mut bytes, &mut flags, null_mut(), None), 0);
                let n = bytes as usize;
                got.extend_from_slice(&x[..n.min(4)]);
                got.extend_from_slice(&y[..n.saturating_sub(4)]);
                seen.borrow_mut().push(n);
            }
            assert_eq!(got, b"deadbeefs");
        });
        whole += usize::from(counts.borrow()[0] == 9);
    }
    assert!(whole > 10, "most seeds deliver the nine bytes in one segment ({whole} of 40)");
}

static ROUTINE_CALLS: std::sync::Mutex<Vec<(u32, u32)>> = std::sync::Mutex::new(Vec::new());

unsafe extern "system" fn routine(error: u32, bytes: u32, _ov: *mut OVERLAPPED, flags: u32) {
    assert_eq!(flags, 0);
    ROUTINE_CALLS.lock().unwrap().push((error, bytes));
}

#[test]
fn a_completion_routine_runs_only_in_an_alertable_wait_and_the_event_is_not_signaled() {
    // Wine sock.c test_WSARecv: with a routine and an event, SleepEx returns
    // WAIT_IO_COMPLETION, the routine ran once, and the event stays unsignaled.
    run(|| unsafe {
        ROUTINE_CALLS.lock().unwrap().clear();
        let (c, s) = tcp_pair();
        send_all(c, b"data");
        Sleep(10);
        let ev = CreateEventW(null(), FALSE, FALSE, null());
        let mut ov = overlapped(ev);
        let mut buf = [0u8; 8];
        let b = wsabuf(&mut buf);
        let (mut bytes, mut flags) = (0, 0);
        assert_eq!(WSARecv(s, &b, 1, &mut bytes, &mut flags, &mut *ov, Some(routine)), 0);
        assert_eq!(bytes, 4);
        assert!(ROUTINE_CALLS.lock().unwrap().is_empty(), "not before an alertable wait");
        assert_eq!(SleepEx(0, FALSE), 0);
        assert!(ROUTINE_CALLS.lock().unwrap().is_empty(), "not in a non-alertable one");
        assert_eq!(SleepEx(1000, TRUE), WAIT_IO_COMPLETION);
        assert_eq!(*ROUTINE_CALLS.lock().unwrap(), vec![(0, 4)]);
        assert_eq!(WaitForSingleObject(ev, 1), WAIT_TIMEOUT, "the event is not signaled");

        // A pending one runs once it completes, in the issuing thread's alertable wait.
        assert_eq!(WSARecv(s, &b, 1, &mut bytes, &mut flags, &mut *ov, Some(routine)), SOCKET_ERROR);
        assert_eq!(GetLastError(), WSA_IO_PENDING as u32);
        send_all(c, b"xy");
        assert_eq!(SleepEx(INFINITE, TRUE), WAIT_IO_COMPLETION);
        assert_eq!(ROUTINE_CALLS.lock().unwrap()[1], (0, 2));
    });
}

#[test]
fn get_overlapped_result_waits_and_reads_the_kernel32_codes() {
    // Doc: GetOverlappedResult: fWait waits on the event; a pending operation is
    // ERROR_IO_INCOMPLETE (kernel32's code, not Winsock's).
    run(|| unsafe {
        let (c, s) = tcp_pair();
        let ev = WSACreateEvent() as HANDLE;
        let mut ov = overlapped(ev);
        let mut buf = [0u8; 8];
        assert_eq!(post_recv(s, &mut buf, &mut ov).1, WSA_IO_PENDING as u32);
        let mut n = 0;
        assert_eq!(GetOverlappedResult(s as HANDLE, &*ov, &mut n, FALSE), FALSE);
        assert_eq!(GetLastError(), ERROR_IO_INCOMPLETE);
        let sender = wsasim::thread::spawn(move || send_all(c, b"late"));
        assert_eq!(GetOverlappedResult(s as HANDLE, &*ov, &mut n, TRUE), TRUE);
        assert_eq!(n, 4);
        sender.join().unwrap();
        assert_eq!(GetOverlappedResult(ev, &*ov, &mut n, FALSE), FALSE, "an event is not a socket");
        assert_eq!(GetLastError(), ERROR_INVALID_HANDLE);
    });
}

#[test]
fn wsa_get_overlapped_result_refuses_what_is_not_a_socket() {
    // Wine sock.c test_WSAGetOverlappedResult.
    run(|| unsafe {
        startup();
        let ov = OVERLAPPED::default();
        let (mut n, mut flags) = (0, 0);
        let ev = WSACreateEvent();
        assert_eq!(WSAGetOverlappedResult(ev as SOCKET, &ov, &mut n, FALSE, &mut flags), FALSE);
        assert_eq!(GetLastError(), WSAENOTSOCK as u32);
    });
}

#[test]
fn wsa_get_overlapped_result_takes_a_null_flags_pointer() {
    // The page says lpdwFlags "cannot be a NULL pointer", but Windows takes one and still
    // writes the byte count: Wine sock.c test_ip_pktinfo calls
    // `WSAGetOverlappedResult(s1, &ov, &dwSize, FALSE, NULL)` and checks the size, a test
    // that passes on Windows.
    run(|| unsafe {
        let (c, s) = tcp_pair();
        let mut ov = overlapped(WSACreateEvent() as HANDLE);
        let mut buf = [0u8; 8];
        assert_eq!(post_recv(s, &mut buf, &mut ov).1, WSA_IO_PENDING as u32);
        send_all(c, b"four");
        let mut n = 0;
        assert_eq!(WSAGetOverlappedResult(s, &*ov, &mut n, TRUE, null_mut()), TRUE);
        assert_eq!(n, 4);
    });
}

#[test]
fn a_zero_length_receive_pends_until_data_and_consumes_nothing() {
    // Wine sock.c test_empty_recv.
    run(|| unsafe {
        let (c, s) = tcp_pair();
        let (mut bytes, mut flags) = (0, 0);
        assert_eq!(WSARecv(s, null(), 0, &mut bytes, &mut flags, null_mut(), None), SOCKET_ERROR);
        assert_eq!(GetLastError(), WSAEINVAL as u32, "dwBufferCount 0 fails whatever lpBuffers is");
        let mut empty = [0u8; 0];
        let mut ov = overlapped(WSACreateEvent() as HANDLE);
        assert_eq!(post_recv(s, &mut empty, &mut ov).1, WSA_IO_PENDING as u32);
        send_all(c, b"data");
        assert_eq!(WSAGetOverlappedResult(s, &*ov, &mut bytes, TRUE, &mut flags), TRUE);
        assert_eq!(bytes, 0);
        assert_eq!(recv(s, null_mut(), 0, 0), 0, "recv(s, NULL, 0, 0) returns 0");
        assert_eq!(recv_exact(s, 4), b"data", "the data was not consumed");
    });
}

#[test]
fn the_byte_count_may_be_null_only_with_an_overlapped() {
    // Doc: WSARecv (parameters); Wine sock.c test_WSASendTo, test_WSARecv.
    run(|| unsafe {
        let (c, s) = tcp_pair();
        let mut buf = *b"abc";
        let b = wsabuf(&mut buf);
        assert_eq!(WSASend(c, &b, 1, null_mut(), 0, null_mut(), None), SOCKET_ERROR);
        assert_eq!(GetLastError(), WSAEFAULT as u32);
        let mut ov = overlapped(WSACreateEvent() as HANDLE);
        assert_eq!(WSASend(c, &b, 1, null_mut(), 0, &mut *ov, None), 0);
        assert_eq!(recv_exact(s, 3), b"abc");
    });
}

#[test]
fn cancel_io_ex_aborts_a_pending_receive_and_reports_when_nothing_matched() {
    // Doc: CancelIoEx; Wine sock.c test_send_buffering (nothing pending: FALSE,
    // ERROR_NOT_FOUND; CancelIo: TRUE).
    run(|| unsafe {
        let (_c, s) = tcp_pair();
        let mut ov = overlapped(WSACreateEvent() as HANDLE);
        let mut buf = [0u8; 8];
        assert_eq!(post_recv(s, &mut buf, &mut ov).1, WSA_IO_PENDING as u32);
        let other = OVERLAPPED::default();
        assert_eq!(CancelIoEx(s as HANDLE, &other), FALSE);
        assert_eq!(GetLastError(), ERROR_NOT_FOUND);
        assert_eq!(CancelIoEx(s as HANDLE, &*ov), TRUE);
        let (mut n, mut flags) = (7, 0);
        assert_eq!(WSAGetOverlappedResult(s, &*ov, &mut n, TRUE, &mut flags), FALSE);
        assert_eq!(GetLastError(), WSA_OPERATION_ABORTED as u32);
        assert_eq!(n, 0, "the count is written on failure too (Wine sock.c test_ip_pktinfo)");
        assert_eq!(GetOverlappedResult(s as HANDLE, &*ov, &mut n, FALSE), FALSE);
        assert_eq!(GetLastError(), ERROR_OPERATION_ABORTED);
        assert_eq!(CancelIoEx(s as HANDLE, null()), FALSE);
        assert_eq!(GetLastError(), ERROR_NOT_FOUND);
        assert_eq!(CancelIo(s as HANDLE), TRUE, "CancelIo succeeds with nothing pending");
    });
}

#[test]
fn closesocket_completes_a_pending_tcp_receive_as_aborted_and_a_udp_one_as_cancelled() {
    // Doc: closesocket; Wine sock.c test_iocp (TCP: connection aborted), Wine afd.c
    // test_recv (UDP: cancelled).
    run(|| unsafe {
        let (_c, s) = tcp_pair();
        let ev = WSACreateEvent() as HANDLE;
        let mut ov = overlapped(ev);
        let mut buf = [0u8; 8];
        assert_eq!(post_recv(s, &mut buf, &mut ov).1, WSA_IO_PENDING as u32);
        close(s);
        assert!(signaled(ev), "the completion is still delivered");
        assert_eq!(ov.Internal as u32 as i32, STATUS_CONNECTION_ABORTED);

        let u = udp();
        bind_to(u, "127.0.0.1:0");
        let mut ov = overlapped(ev);
        WSAResetEvent(ev as WSAEVENT);
        assert_eq!(post_recv(u, &mut buf, &mut ov).1, WSA_IO_PENDING as u32);
        close(u);
        assert!(signaled(ev));
        assert_eq!(ov.Internal as u32 as i32, STATUS_CANCELLED);
    });
}

#[test]
fn a_non_overlapped_socket_blocks_in_wsarecv_even_with_an_overlapped() {
    // Wine sock.c test_nonblocking_async_recv ("With a non-overlapped socket,
    // WSARecv() always blocks when passed an overlapped structure"), and fills it.
    run(|| unsafe {
        startup();
        let l = listener("127.0.0.1:7100");
        let s = WSASocketW(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP, null(), 0, 0);
        assert_ne!(s, INVALID_SOCKET);
        try_connect(s, "127.0.0.1:7100").unwrap();
        let peer = accept_one(l);
        let mut on = 1;
        assert_eq!(ioctlsocket(s, FIONBIO, &mut on), 0);
        let sender = wsasim::thread::spawn(move || {
            Sleep(50);
            send_all(peer, b"late");
        });
        let mut ov = overlapped(WSACreateEvent() as HANDLE);
        let mut buf = [0u8; 8];
        let before = wsasim::time::Instant::now();
        assert_eq!(post_recv(s, &mut buf, &mut ov).0, 0, "it blocked, then completed");
        assert!(before.elapsed() >= std::time::Duration::from_millis(50));
        assert_eq!((ov.Internal, ov.InternalHigh), (STATUS_SUCCESS as usize, 4));
        assert_eq!(&buf[..4], b"late");
        sender.join().unwrap();
    });
}

#[test]
fn a_thread_that_exits_cancels_its_pending_io() {
    // Doc: WSARecv: "all I/O initiated by a given thread is canceled when that
    // thread exits". The event is signaled; the OVERLAPPED is left alone (a README
    // deviation: the exited thread's memory may be gone). It is a misuse, made here on
    // purpose.
    run_allowing(0, Some(wsasim::Misuse::ThreadEndedWithIo), || unsafe {
        let (_c, s) = tcp_pair();
        let ev = WSACreateEvent() as HANDLE;
        let ov = Box::into_raw(overlapped(ev)) as usize;
        let buf = Box::into_raw(Box::new([0u8; 8])) as usize;
        let t = wsasim::thread::spawn(move || {
            let b = wsabuf(&mut *(buf as *mut [u8; 8]));
            let (mut n, mut flags) = (0, 0);
            let r = WSARecv(s, &b, 1, &mut n, &mut flags, ov as *mut OVERLAPPED, None);
            assert_eq!((r, GetLastError()), (SOCKET_ERROR, WSA_IO_PENDING as u32));
        });
        t.join().unwrap();
        assert_eq!(WaitForSingleObject(ev, 0), WAIT_OBJECT_0);
        let ov = Box::from_raw(ov as *mut OVERLAPPED);
        assert_eq!(ov.Internal as u32 as i32, STATUS_PENDING);
        let mut more = [0u8; 4];
        let mut again = overlapped(WSACreateEvent() as HANDLE);
        assert_eq!(post_recv(s, &mut more, &mut again).1, WSA_IO_PENDING as u32);
        assert_eq!(CancelIoEx(s as HANDLE, null()), TRUE, "only the new receive was left");
        drop(Box::from_raw(buf as *mut [u8; 8]));
    });
}
