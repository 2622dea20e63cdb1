//! Byte order and address text (`wsasim_model::address` holds the table tests of the
//! parsing rules; these check the Win32 surface around them).

use crate::harness::run;
use std::ptr::{null, null_mut};
use wsasim::Win32::Networking::WinSock::*;

#[test]
fn byte_order_helpers_work_anywhere() {
    unsafe {
        assert_eq!(htons(0x1234).to_ne_bytes(), [0x12, 0x34]);
        assert_eq!(ntohs(htons(7000)), 7000);
        assert_eq!(htonl(0x0102_0304).to_ne_bytes(), [1, 2, 3, 4]);
        assert_eq!(ntohl(htonl(0xdead_beef)), 0xdead_beef);
        assert_eq!(inet_addr(c"192.0.2.1".as_ptr().cast()).to_ne_bytes(), [192, 0, 2, 1]);
        assert_eq!(inet_addr(c"".as_ptr().cast()), INADDR_NONE);
        assert_eq!(inet_addr(null()), INADDR_NONE);
    }
}

#[test]
fn inet_pton_fills_the_buffer_or_says_why_not() {
    // Doc: inet_pton function: 1, 0, or -1 with WSAEAFNOSUPPORT / WSAEFAULT.
    run(|| unsafe {
        let mut v4 = [0u8; 4];
        assert_eq!(inet_pton(AF_INET.into(), c"198.51.100.7".as_ptr().cast(), v4.as_mut_ptr().cast()), 1);
        assert_eq!(v4, [198, 51, 100, 7]);
        let mut v6 = [0u8; 16];
        assert_eq!(inet_pton(AF_INET6.into(), c"::1".as_ptr().cast(), v6.as_mut_ptr().cast()), 1);
        assert_eq!(v6[15], 1);
        assert_eq!(inet_pton(AF_INET.into(), c"127.1".as_ptr().cast(), v4.as_mut_ptr().cast()), 0);
        assert_eq!(v4, [198, 51, 100, 7], "a failed parse writes nothing");
        assert_eq!(inet_pton(99, c"1.2.3.4".as_ptr().cast(), v4.as_mut_ptr().cast()), -1);
        assert_eq!(WSAGetLastError(), WSAEAFNOSUPPORT);
        assert_eq!(inet_pton(AF_INET.into(), null(), v4.as_mut_ptr().cast()), -1);
        assert_eq!(WSAGetLastError(), WSAEFAULT);
        assert_eq!(inet_pton(AF_INET.into(), c"1.2.3.4".as_ptr().cast(), null_mut()), -1);
        assert_eq!(WSAGetLastError(), WSAEFAULT);
    });
}
