//! `ioctlsocket` and `WSAIoctl` (Doc: WSAIoctl; Wine sock.c test_fionbio,
//! test_fionread_siocatmark, test_keepalive_vals, test_unsupported_ioctls,
//! test_get_extension_func).

use crate::harness::net::*;
use std::ffi::c_void;
use std::ptr::{null, null_mut};
use wsasim::Sim;
use wsasim::Win32::Foundation::*;
use wsasim::Win32::Networking::WinSock::*;
use wsasim::Win32::System::Threading::{INFINITE, Sleep};

/// `WSAIoctl` without an OVERLAPPED: the result, the last error, the count written.
fn ioctl(s: SOCKET, code: u32, input: &[u8], output: &mut [u8]) -> (i32, u32, u32) {
    let mut size = 0xdead_beef_u32;
    unsafe { WSASetLastError(0) };
    let (inp, outp) = (input.as_ptr().cast::<c_void>(), output.as_mut_ptr().cast::<c_void>());
    let r = unsafe {
        WSAIoctl(s, code, inp, input.len() as u32, outp, output.len() as u32, &mut size, null_mut(), None)
    };
    (r, unsafe { WSAGetLastError() } as u32, size)
}

#[test]
fn fionbio_and_fionread_as_wine_tests_them() {
    crate::harness::run(|| {
        let (c, a) = tcp_pair();
        let one = 1u32.to_ne_bytes();
        // No count pointer, or an input too short: WSAEFAULT (test_fionbio).
        let r = unsafe {
            WSAIoctl(c, FIONBIO as u32, one.as_ptr().cast(), 4, null_mut(), 0, null_mut(), null_mut(), None)
        };
        assert_eq!((r, unsafe { WSAGetLastError() }), (SOCKET_ERROR, WSAEFAULT));
        assert_eq!(
            ioctl(c, FIONBIO as u32, &one[..3], &mut []),
            (SOCKET_ERROR, WSAEFAULT as u32, 0xdead_beef)
        );
        assert_eq!(ioctl(c, FIONBIO as u32, &one, &mut []), (0, 0, 0));
        assert_eq!(recv_some(c, 4), Err(WSAEWOULDBLOCK as u32), "nonblocking now");
        send_all(a, b"data\0");
        settle();
        let mut value = [0u8; 4];
        assert_eq!(
            ioctl(c, FIONREAD as u32, &[], &mut value[..3]),
            (SOCKET_ERROR, WSAEFAULT as u32, 0xdead_beef)
        );
        assert_eq!(ioctl(c, FIONREAD as u32, &[], &mut value), (0, 0, 4));
        assert_eq!(u32::from_ne_bytes(value), 5);
        // ioctlsocket refuses an argument it cannot use (test_fionbio: `(u_long *)1`).
        assert_eq!(
            unsafe { ioctlsocket(c, FIONBIO, std::ptr::without_provenance_mut::<u32>(1)) },
            SOCKET_ERROR
        );
        assert_eq!(unsafe { WSAGetLastError() }, WSAEFAULT);
    });
}

#[test]
fn keepalive_values_are_taken_on_tcp_and_refused_on_udp() {
    crate::harness::run(|| {
        startup();
        let t = tcp();
        let k = tcp_keepalive { onoff: 1, keepalivetime: 1000, keepaliveinterval: 1000 };
        let bytes: [u8; 12] = unsafe { std::mem::transmute(k) };
        assert_eq!(ioctl(t, SIO_KEEPALIVE_VALS, &bytes, &mut []), (0, 0, 0));
        assert_eq!(ioctl(t, SIO_KEEPALIVE_VALS, &[], &mut []).1, WSAEFAULT as u32, "no input");
        assert_eq!(ioctl(t, SIO_KEEPALIVE_VALS, &bytes[..11], &mut []).1, WSAEFAULT as u32);
        let u = udp();
        assert_eq!(ioctl(u, SIO_KEEPALIVE_VALS, &bytes, &mut []).1, WSAENOPROTOOPT as u32);
    });
}

#[test]
fn unknown_codes_are_wsaeopnotsupp_or_complete_with_status_not_supported() {
    crate::harness::run(|| unsafe {
        startup();
        let s = tcp();
        assert_eq!(ioctl(s, 0xdead_beef, &[], &mut []), (SOCKET_ERROR, WSAEOPNOTSUPP as u32, 0));
        let guid = [0u8; 16];
        let mut f = [0u8; 8];
        assert_eq!(
            ioctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &guid, &mut f).1,
            WSAEINVAL as u32,
            "no extension simulated"
        );
        let event = WSACreateEvent();
        let mut ov = overlapped(event as HANDLE);
        let mut size = 0xdead_beef_u32;
        let r = WSAIoctl(s, 0xdead_beef, null(), 0, null_mut(), 0, &mut size, &mut *ov, None);
        assert_eq!((r, WSAGetLastError(), size), (SOCKET_ERROR, WSA_IO_PENDING, 0xdead_beef));
        assert_eq!(ov.Internal, STATUS_NOT_SUPPORTED as u32 as usize);
        assert_eq!(WSAWaitForMultipleEvents(1, &(event as HANDLE), TRUE, 0, FALSE), WSA_WAIT_EVENT_0 as u32);
        let (mut bytes, mut flags) = (0, 0);
        assert_eq!(WSAGetOverlappedResult(s, &*ov, &mut bytes, FALSE, &mut flags), FALSE);
        assert_eq!(WSAGetLastError(), WSAEOPNOTSUPP);
        // A supported control with an OVERLAPPED completes in the call.
        let mut value = 7u32;
        WSAResetEvent(event);
        let r =
            WSAIoctl(s, FIONREAD as u32, null(), 0, (&raw mut value).cast(), 4, &mut size, &mut *ov, None);
        assert_eq!((r, size, value), (0, 4, 0));
        assert_eq!((ov.Internal, ov.InternalHigh), (0, 0));
        assert_eq!(WSAWaitForMultipleEvents(1, &(event as HANDLE), TRUE, 0, FALSE), WSA_WAIT_EVENT_0 as u32);
    });
}

#[test]
fn sio_udp_connreset_off_stops_the_port_unreachable_reports() {
    let mut sim = Sim::new(0);
    sim.host("srv", "192.0.2.10", || unsafe { Sleep(INFINITE) });
    sim.client("cli", "192.0.2.20", || {
        startup();
        let s = udp();
        bind_to(s, "0.0.0.0:9000");
        let off = 0u32.to_ne_bytes();
        assert_eq!(ioctl(s, SIO_UDP_CONNRESET, &off, &mut []), (0, 0, 0));
        let to = sockaddr("192.0.2.10:7");
        assert_eq!(unsafe { sendto(s, b"x".as_ptr(), 1, 0, (&raw const to).cast(), LEN) }, 1);
        settle();
        let mut on = 1u32;
        unsafe { assert_eq!(ioctlsocket(s, FIONBIO, &mut on), 0) };
        assert_eq!(recv_some(s, 8), Err(WSAEWOULDBLOCK as u32), "not reported");
    });
    sim.run().unwrap_or_else(|f| panic!("{f}"));
}
