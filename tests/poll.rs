//! `select` and `WSAPoll` on simulated sockets (Doc: select function, Doc: WSAPoll
//! function; Wine sock.c test_select, test_WSAPoll, test_tcp_reset).

use crate::harness::net::*;
use crate::harness::{run, run_allowing};
use std::cell::Cell;
use std::ptr::{null, null_mut};
use wsasim::Win32::Foundation::*;
use wsasim::Win32::Networking::WinSock::*;
use wsasim::Win32::System::SystemInformation::GetTickCount64;
use wsasim::Win32::System::Threading::*;
use wsasim::thread;

fn set_of(sockets: &[SOCKET]) -> FD_SET {
    let mut set = FD_SET::default();
    set.fd_array[..sockets.len()].copy_from_slice(sockets);
    set.fd_count = sockets.len() as u32;
    set
}

fn members(set: &FD_SET) -> Vec<SOCKET> {
    set.fd_array[..set.fd_count as usize].to_vec()
}

const NOW: TIMEVAL = TIMEVAL { tv_sec: 0, tv_usec: 0 };

/// `select` on `s` in all three sets: the result and which sets kept it.
fn select_all(s: SOCKET, timeout: Option<TIMEVAL>) -> (i32, [bool; 3]) {
    let (mut r, mut w, mut e) = (set_of(&[s]), set_of(&[s]), set_of(&[s]));
    let t = timeout.as_ref().map_or(null(), |t| t as *const TIMEVAL);
    let n = unsafe { select(0, &mut r, &mut w, &mut e, t) };
    (n, [r.fd_count == 1, w.fd_count == 1, e.fd_count == 1])
}

/// `WSAPoll` on one entry: the result and its `revents`.
fn poll_one(s: SOCKET, events: i16, timeout: i32) -> (i32, i16) {
    let mut fd = WSAPOLLFD { fd: s, events, revents: 0 };
    let n = unsafe { WSAPoll(&mut fd, 1, timeout) };
    (n, fd.revents)
}

const POLL_ALL: i16 = POLLRDNORM | POLLRDBAND | POLLWRNORM;

#[test]
fn select_reports_each_state_in_its_set() {
    // Wine sock.c test_select and test_tcp_reset.
    run(|| unsafe {
        startup();
        let idle = tcp();
        assert_eq!(select_all(idle, Some(NOW)), (0, [false; 3]), "an unconnected socket: nothing");

        let l = listener("127.0.0.1:7");
        assert_eq!(select_all(l, Some(NOW)), (0, [false; 3]));
        let c = connected("127.0.0.1:7");
        settle();
        assert_eq!(select_all(l, Some(NOW)), (1, [true, false, false]), "a connection to accept");
        let s = accept_one(l);
        assert_eq!(select_all(c, Some(NOW)), (1, [false, true, false]), "connected and idle");
        send_all(s, b"data");
        settle();
        assert_eq!(select_all(c, Some(NOW)), (2, [true, true, false]), "data: counted once per set");

        // A socket listed twice comes back once.
        let mut r = set_of(&[c, c]);
        assert_eq!(select(0, &mut r, null_mut(), null_mut(), &NOW), 1);
        assert_eq!(members(&r), [c]);
        recv_exact(c, 4);

        // The peer closes: readable, and recv returns 0.
        close(s);
        settle();
        assert!(select_all(c, Some(NOW)).1[0]);
        assert_eq!(recv_some(c, 4), Ok(Vec::new()));
        close(c);

        // A reset: readable and writable, never exceptional.
        let c = connected("127.0.0.1:7");
        let s = accept_one(l);
        reset(s);
        settle();
        assert_eq!(select_all(c, Some(NOW)), (2, [true, true, false]));
        close(c);

        // A nonblocking connect: writable once done; refused, exceptional only, with
        // SO_ERROR set, and reading it does not clear it (Wine sock.c test_select).
        let mut on = 1u32;
        let c = tcp();
        ioctlsocket(c, FIONBIO, &mut on);
        assert_eq!(try_connect(c, "127.0.0.1:7"), Err(WSAEWOULDBLOCK as u32));
        assert_eq!(select_all(c, None), (1, [false, true, false]));
        let refused = tcp();
        ioctlsocket(refused, FIONBIO, &mut on);
        assert_eq!(try_connect(refused, "127.0.0.1:9"), Err(WSAEWOULDBLOCK as u32));
        assert_eq!(select_all(refused, None), (1, [false, false, true]));
        for _ in 0..2 {
            let (mut error, mut len) = (0u32, 4);
            getsockopt(refused, SOL_SOCKET, SO_ERROR, (&raw mut error).cast(), &mut len);
            assert_eq!(error, WSAECONNREFUSED as u32);
        }

        // UDP, even unbound, is writable.
        let u = udp();
        assert_eq!(select_all(u, Some(NOW)), (1, [false, true, false]));
        for s in [idle, l, c, refused, u] {
            close(s);
        }
    });
}

#[test]
fn select_refuses_bad_arguments_and_leaves_the_sets_alone() {
    // Doc: select (WSAEINVAL for a bad timeout or no descriptors, WSAENOTSOCK); Wine sock.c
    // test_select (a closed socket in the sets: WSAENOTSOCK, fd_count unchanged).
    run(|| unsafe {
        startup();
        assert_eq!(select(0, null_mut(), null_mut(), null_mut(), &NOW), SOCKET_ERROR);
        assert_eq!(last_error(), WSAEINVAL as u32);
        let (mut r, mut w) = (FD_SET::default(), FD_SET::default());
        assert_eq!(select(0, &mut r, &mut w, null_mut(), &NOW), SOCKET_ERROR, "empty sets");
        assert_eq!(last_error(), WSAEINVAL as u32);
        let u = udp();
        let mut w = set_of(&[u]);
        let negative = TIMEVAL { tv_sec: -1, tv_usec: 0 };
        assert_eq!(select(0, null_mut(), &mut w, null_mut(), &negative), SOCKET_ERROR);
        assert_eq!(last_error(), WSAEINVAL as u32);
        let gone = udp();
        close(gone);
        let mut w = set_of(&[u, gone]);
        assert_eq!(select(0, null_mut(), &mut w, null_mut(), &NOW), SOCKET_ERROR);
        assert_eq!(last_error(), WSAENOTSOCK as u32);
        assert_eq!(members(&w), [u, gone], "the sets are left as they were");
        assert_eq!(__WSAFDIsSet(u, &mut w), 1);
        assert_eq!(__WSAFDIsSet(0x7770, &mut w), 0);
    });
}

thread_local! {
    static APCS: Cell<u32> = const { Cell::new(0) };
}

unsafe extern "system" fn count_apc(_: usize) {
    APCS.set(APCS.get() + 1);
}

#[test]
fn select_waits_alertably_until_ready_or_the_timeout() {
    // Doc: select (the timeout); an APC runs inside select, which goes on waiting (Wine
    // sock.c test_select).
    run(|| unsafe {
        startup();
        let l = listener("127.0.0.1:7");
        let c = connected("127.0.0.1:7");
        let s = accept_one(l);
        let start = GetTickCount64();
        let wait = TIMEVAL { tv_sec: 0, tv_usec: 300_000 };
        let mut r = set_of(&[s]);
        assert_eq!(select(0, &mut r, null_mut(), null_mut(), &wait), 0, "nothing to read");
        assert_eq!(r.fd_count, 0, "the set is emptied");
        assert!(GetTickCount64() - start >= 300);

        let waiter = thread::spawn(move || {
            let start = GetTickCount64();
            let mut r = set_of(&[s]);
            assert_eq!(select(0, &mut r, null_mut(), null_mut(), null()), 1);
            assert_eq!(members(&r), [s]);
            (GetTickCount64() - start, APCS.get())
        });
        Sleep(50);
        assert_ne!(QueueUserAPC(Some(count_apc), waiter.as_raw_handle(), 0), 0);
        Sleep(50);
        send_all(c, b"x");
        let (waited, apcs) = waiter.join().unwrap();
        assert!(waited >= 100, "it went on waiting for the data after the APC");
        assert_eq!(apcs, 1, "the APC ran inside select");
    });
}

/// Closes `s` from another thread, 10 ms from now.
fn close_later(s: SOCKET) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        unsafe { Sleep(10) };
        close(s);
    })
}

#[test]
fn a_socket_closed_by_another_thread_during_select() {
    // Wine sock.c test_select: a listener closed meanwhile is readable; a socket only in
    // exceptfds fails the call with WSAENOTSOCK. A misuse, made here on purpose.
    run_allowing(0, Some(wsasim::Misuse::SocketClosedInUse), || unsafe {
        startup();
        let l = listener("127.0.0.1:7");
        let closer = close_later(l);
        let mut r = set_of(&[l]);
        assert_eq!(select(0, &mut r, null_mut(), null_mut(), null()), 1);
        assert_eq!(members(&r), [l]);
        closer.join().unwrap();

        let u = udp();
        let closer = close_later(u);
        let mut e = set_of(&[u]);
        assert_eq!(select(0, null_mut(), null_mut(), &mut e, null()), SOCKET_ERROR);
        assert_eq!(last_error(), WSAENOTSOCK as u32);
        closer.join().unwrap();
    });
}

#[test]
fn wsapoll_reports_each_state_as_windows_does() {
    // Wine sock.c test_WSAPoll and test_tcp_reset.
    run(|| unsafe {
        startup();
        let l = listener("127.0.0.1:7");
        assert_eq!(poll_one(l, POLLIN, 0), (0, 0));
        let c = connected("127.0.0.1:7");
        settle();
        assert_eq!(poll_one(l, POLLIN, 0), (1, POLLRDNORM));
        assert_eq!(poll_one(l, POLLRDBAND | POLLWRNORM, 0), (0, 0));
        let s = accept_one(l);
        assert_eq!(poll_one(c, POLL_ALL, 0), (1, POLLWRNORM));
        send_all(s, b"data");
        settle();
        assert_eq!(poll_one(c, POLL_ALL, 0), (1, POLLRDNORM | POLLWRNORM));
        recv_exact(c, 4);

        // The peer closes: POLLHUP, asked or not, and no POLLRDNORM.
        close(s);
        settle();
        assert_eq!(poll_one(c, 0, 0), (1, POLLHUP));
        assert_eq!(poll_one(c, POLL_ALL, 0), (1, POLLWRNORM | POLLHUP));
        close(c);

        // A reset: POLLERR|POLLHUP|POLLWRNORM.
        let c = connected("127.0.0.1:7");
        let s = accept_one(l);
        reset(s);
        settle();
        assert_eq!(poll_one(c, POLL_ALL, 0), (1, POLLERR | POLLHUP | POLLWRNORM));
        close(c);

        // A refused nonblocking connect: POLLWRNORM|POLLHUP|POLLERR (Windows; todo_wine).
        let mut on = 1u32;
        let refused = tcp();
        ioctlsocket(refused, FIONBIO, &mut on);
        assert_eq!(try_connect(refused, "127.0.0.1:9"), Err(WSAEWOULDBLOCK as u32));
        assert_eq!(poll_one(refused, POLL_ALL, -1), (1, POLLWRNORM | POLLHUP | POLLERR));

        // UDP: writable, unbound or bound; readable once a datagram is queued.
        let u = udp();
        assert_eq!(poll_one(u, POLL_ALL, 0), (1, POLLWRNORM));
        bind_to(u, "127.0.0.1:5000");
        let to = sockaddr("127.0.0.1:5000");
        sendto(u, b"d".as_ptr(), 1, 0, (&raw const to).cast(), LEN);
        settle();
        assert_eq!(poll_one(u, POLL_ALL, 0), (1, POLLRDNORM | POLLWRNORM));
        for s in [l, refused, u] {
            close(s);
        }
    });
}

#[test]
fn wsapoll_refuses_bad_arguments_and_marks_what_is_not_a_socket() {
    // Wine sock.c test_WSAPoll: (NULL, 0) WSAEINVAL, (NULL, 1) WSAEFAULT; any event bit
    // beyond POLLRDNORM|POLLRDBAND|POLLWRNORM is WSAEINVAL (Windows; todo_wine); a bad
    // entry beside a good one gets POLLNVAL and is not counted; bad entries only give
    // WSAENOTSOCK.
    run(|| unsafe {
        startup();
        assert_eq!(WSAPoll(null_mut(), 0, 0), SOCKET_ERROR);
        assert_eq!(last_error(), WSAEINVAL as u32);
        assert_eq!(WSAPoll(null_mut(), 1, 0), SOCKET_ERROR);
        assert_eq!(last_error(), WSAEFAULT as u32);
        let l = listener("127.0.0.1:7");
        for bad in [POLLERR, POLLHUP, POLLNVAL, POLLPRI, POLLWRBAND] {
            assert_eq!(poll_one(l, POLLIN | bad, 0).0, SOCKET_ERROR, "events {bad:#x}");
            assert_eq!(last_error(), WSAEINVAL as u32);
        }
        let mut fds = [
            WSAPOLLFD { fd: l, events: POLLIN, revents: 0 },
            WSAPOLLFD { fd: 0x7770, events: POLLIN, revents: 0 },
        ];
        assert_eq!(WSAPoll(fds.as_mut_ptr(), 2, 0), 0);
        assert_eq!([fds[0].revents, fds[1].revents], [0, POLLNVAL]);
        let mut fds = [
            WSAPOLLFD { fd: INVALID_SOCKET, events: POLLIN, revents: 0 },
            WSAPOLLFD { fd: 0x7770, events: POLLIN, revents: 0 },
        ];
        assert_eq!(WSAPoll(fds.as_mut_ptr(), 2, 0), SOCKET_ERROR);
        assert_eq!(last_error(), WSAENOTSOCK as u32);
        assert_eq!([fds[0].revents, fds[1].revents], [POLLNVAL, POLLNVAL]);
    });
}

#[test]
fn wsapoll_waits_and_does_not_signal_a_selected_event() {
    // Wine sock.c test_select_after_WSAEventSelect: an auto-reset event consumed by a wait
    // is not signaled again by WSAPoll. Doc: WSAPoll: a negative timeout waits for ever, a
    // positive one that long.
    run(|| unsafe {
        startup();
        let l = listener("127.0.0.1:7");
        let c = connected("127.0.0.1:7");
        let s = accept_one(l);
        let ev = CreateEventW(null(), FALSE, FALSE, null());
        assert_eq!(WSAEventSelect(s, ev as WSAEVENT, FD_READ as i32), 0);
        let start = GetTickCount64();
        assert_eq!(poll_one(s, POLLIN, 50), (0, 0));
        assert!(GetTickCount64() - start >= 50);
        let writer = thread::spawn(move || {
            Sleep(20);
            send_all(c, b"x");
        });
        let start = GetTickCount64();
        assert_eq!(poll_one(s, POLLIN, -1), (1, POLLRDNORM), "woken by the arrival");
        assert!(GetTickCount64() - start >= 20);
        assert_eq!(WaitForSingleObject(ev, 0), WAIT_OBJECT_0, "FD_READ set it");
        assert_eq!(poll_one(s, POLLIN, -1), (1, POLLRDNORM));
        assert_eq!(WaitForSingleObject(ev, 0), WAIT_TIMEOUT, "WSAPoll did not set it again");
        writer.join().unwrap();
    });
}

#[test]
fn urgent_data_is_exceptional_for_select_and_rdband_for_wsapoll() {
    // Wine sock.c test_select (OOB part) and test_WSAPoll: out of line, exceptfds only and
    // POLLRDBAND; with SO_OOBINLINE, readfds and POLLRDNORM.
    run(|| unsafe {
        startup();
        let l = listener("127.0.0.1:7");
        let c = connected("127.0.0.1:7");
        let s = accept_one(l);
        assert_eq!(send(c, b"o".as_ptr(), 1, MSG_OOB), 1);
        settle();
        assert_eq!(select_all(s, Some(NOW)), (2, [false, true, true]));
        assert_eq!(poll_one(s, POLL_ALL, 0), (1, POLLRDBAND | POLLWRNORM));
        let mut b = [0u8; 1];
        assert_eq!(recv(s, b.as_mut_ptr(), 1, MSG_OOB), 1);
        let on = 1u32;
        setsockopt(s, SOL_SOCKET, SO_OOBINLINE, (&raw const on).cast(), 4);
        assert_eq!(send(c, b"i".as_ptr(), 1, MSG_OOB), 1);
        settle();
        assert_eq!(select_all(s, Some(NOW)), (2, [true, true, false]));
        assert_eq!(poll_one(s, POLL_ALL, 0), (1, POLLRDNORM | POLLWRNORM));
    });
}

/// Three writers on other hosts send to one reader that waits in `select` and `WSAPoll` in
/// turn.
fn three_writers(sim: &mut wsasim::Sim) {
    sim.host("srv", "192.0.2.10", || unsafe {
        startup();
        let l = listener("0.0.0.0:7");
        let mut conns: Vec<SOCKET> = (0..3).map(|_| accept_one(l)).collect();
        let mut got = 0;
        while !conns.is_empty() {
            let mut r = set_of(&conns);
            assert!(select(0, &mut r, null_mut(), null_mut(), null()) > 0);
            let mut fds: Vec<WSAPOLLFD> =
                members(&r).iter().map(|s| WSAPOLLFD { fd: *s, events: POLLIN, revents: 0 }).collect();
            assert!(WSAPoll(fds.as_mut_ptr(), fds.len() as u32, -1) > 0);
            for fd in &fds {
                match recv_some(fd.fd, 100).unwrap().len() {
                    0 => {
                        close(fd.fd);
                        conns.retain(|s| *s != fd.fd);
                    }
                    n => got += n,
                }
            }
        }
        assert_eq!(got, 3 * 4);
    });
    for c in 0..3 {
        sim.client(&format!("c{c}"), &format!("192.0.2.{}", 20 + c), || unsafe {
            startup();
            Sleep(1);
            let s = connected("192.0.2.10:7");
            for _ in 0..4 {
                send_all(s, b"x");
                Sleep(1);
            }
            close(s);
        });
    }
}

#[test]
fn select_and_wsapoll_give_the_same_trace_for_the_same_seed() {
    let distinct = crate::harness::distinct_traces(0..10, three_writers);
    assert!(distinct > 5, "only {distinct} distinct traces");
}
