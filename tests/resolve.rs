//! Name resolution over the run's hosts table (Doc: getaddrinfo, getnameinfo,
//! gethostbyname, gethostbyaddr, gethostname, inet_ntop, inet_ntoa, getservbyname,
//! getprotobyname; Wine protocol.c test_getaddrinfo, test_GetAddrInfoW, test_dns,
//! test_gethostname, test_addr_to_print, test_inet_pton, test_getservbyname,
//! test_getprotobyname).

use crate::harness::distinct_traces;
use crate::harness::net::{read, sockaddr, startup};
use std::mem::offset_of;
use std::net::SocketAddrV4;
use std::ptr::{null, null_mut};
use wsasim::Sim;
use wsasim::Win32::Foundation::*;
use wsasim::Win32::Networking::WinSock::*;

/// Runs `main` on host "client" (192.0.2.1), with "server" (192.0.2.2) beside it.
fn on_client(main: impl FnOnce() + 'static) -> wsasim::Outcome {
    let mut sim = Sim::new(0);
    sim.host("server", "192.0.2.2", || unsafe { wsasim::Win32::System::Threading::Sleep(u32::MAX) });
    sim.client("client", "192.0.2.1", main);
    sim.run().unwrap_or_else(|f| panic!("{f}\n{}", f.trace_text()))
}

/// `getaddrinfo` with hints, as (return, the one address, the entry's socktype and protocol).
fn resolve(
    node: Option<&str>,
    service: Option<&str>,
    hints: Option<ADDRINFOA>,
) -> Result<(SocketAddrV4, i32, i32), i32> {
    let node = node.map(|n| std::ffi::CString::new(n).unwrap());
    let service = service.map(|s| std::ffi::CString::new(s).unwrap());
    let as_ptr = |c: &Option<std::ffi::CString>| c.as_ref().map_or(null(), |c| c.as_ptr().cast());
    let hints_ptr = hints.as_ref().map_or(null(), |h| h as *const ADDRINFOA);
    let mut result = 0xdead_beef as *mut ADDRINFOA;
    unsafe { WSASetLastError(0x0bad) };
    let ret = unsafe { getaddrinfo(as_ptr(&node), as_ptr(&service), hints_ptr, &mut result) };
    assert_eq!(unsafe { WSAGetLastError() }, ret, "the last error is the result (Wine test_getaddrinfo)");
    if ret != 0 {
        assert!(result.is_null(), "a failure leaves NULL");
        return Err(ret);
    }
    let entry = unsafe { &*result };
    assert!(entry.ai_next.is_null(), "one address a name");
    assert_eq!(entry.ai_family, i32::from(AF_INET));
    assert_eq!(entry.ai_flags, 0);
    assert_eq!(entry.ai_addrlen, size_of::<SOCKADDR_IN>());
    let addr = read(unsafe { &*entry.ai_addr.cast::<SOCKADDR_IN>() });
    let out = (addr, entry.ai_socktype, entry.ai_protocol);
    unsafe { freeaddrinfo(result) };
    Ok(out)
}

fn hints(flags: u32, family: u16, socktype: i32, protocol: i32) -> ADDRINFOA {
    ADDRINFOA {
        ai_flags: flags as i32,
        ai_family: family.into(),
        ai_socktype: socktype,
        ai_protocol: protocol,
        ai_addrlen: 0,
        ai_canonname: null_mut(),
        ai_addr: null_mut(),
        ai_next: null_mut(),
    }
}

fn addr(text: &str) -> SocketAddrV4 {
    text.parse().unwrap()
}

#[test]
fn windows_x64_layouts() {
    assert_eq!(size_of::<ADDRINFOA>(), 48);
    let offsets = [
        offset_of!(ADDRINFOA, ai_flags),
        offset_of!(ADDRINFOA, ai_family),
        offset_of!(ADDRINFOA, ai_socktype),
        offset_of!(ADDRINFOA, ai_protocol),
        offset_of!(ADDRINFOA, ai_addrlen),
        offset_of!(ADDRINFOA, ai_canonname),
        offset_of!(ADDRINFOA, ai_addr),
        offset_of!(ADDRINFOA, ai_next),
    ];
    assert_eq!(offsets, [0, 4, 8, 12, 16, 24, 32, 40]);
    assert_eq!(size_of::<ADDRINFOW>(), 48);
    assert_eq!(
        (offset_of!(ADDRINFOW, ai_canonname), offset_of!(ADDRINFOW, ai_addr), offset_of!(ADDRINFOW, ai_next)),
        (24, 32, 40)
    );
    assert_eq!(size_of::<HOSTENT>(), 32);
    let hostent = [
        offset_of!(HOSTENT, h_name),
        offset_of!(HOSTENT, h_aliases),
        offset_of!(HOSTENT, h_addrtype),
        offset_of!(HOSTENT, h_length),
        offset_of!(HOSTENT, h_addr_list),
    ];
    assert_eq!(hostent, [0, 8, 16, 18, 24]);
    // On x64 s_proto comes before s_port (Wine include/winsock2.h).
    assert_eq!(
        (offset_of!(SERVENT, s_proto), offset_of!(SERVENT, s_port), size_of::<SERVENT>()),
        (16, 24, 32)
    );
    assert_eq!(
        (offset_of!(PROTOENT, p_aliases), offset_of!(PROTOENT, p_proto), size_of::<PROTOENT>()),
        (8, 16, 24)
    );
}

#[test]
fn getaddrinfo_resolves_the_hosts_table_localhost_the_empty_name_and_numbers() {
    on_client(|| {
        startup();
        assert_eq!(resolve(Some("server"), Some("27015"), None), Ok((addr("192.0.2.2:27015"), 0, 0)));
        assert_eq!(
            resolve(Some("SERVER"), None, None).map(|r| r.0),
            Ok(addr("192.0.2.2:0")),
            "names ignore case"
        );
        assert_eq!(resolve(Some("client"), Some(""), None).map(|r| r.0), Ok(addr("192.0.2.1:0")));
        assert_eq!(
            resolve(Some(""), Some("0"), None).map(|r| r.0),
            Ok(addr("192.0.2.1:0")),
            "the host's own"
        );
        assert_eq!(resolve(Some("localhost"), Some("80"), None).map(|r| r.0), Ok(addr("127.0.0.1:80")));
        assert_eq!(resolve(Some("198.51.100.7"), None, None).map(|r| r.0), Ok(addr("198.51.100.7:0")));
        assert_eq!(resolve(Some("nxdomain"), None, None), Err(WSAHOST_NOT_FOUND));
        assert_eq!(resolve(None, None, None), Err(WSAHOST_NOT_FOUND));
        assert_eq!(
            resolve(None, Some("7"), None).map(|r| r.0),
            Ok(addr("127.0.0.1:7")),
            "NULL node: loopback"
        );
        let passive = hints(AI_PASSIVE, AF_INET, SOCK_STREAM, IPPROTO_TCP);
        assert_eq!(
            resolve(None, Some("27015"), Some(passive)),
            Ok((addr("0.0.0.0:27015"), SOCK_STREAM, IPPROTO_TCP))
        );
        assert_eq!(resolve(Some("server"), Some("http"), None).map(|r| r.0), Ok(addr("192.0.2.2:80")));
        assert_eq!(resolve(None, Some("nonexistentservice"), None), Err(WSATYPE_NOT_FOUND));
    });
}

#[test]
fn getaddrinfo_hints_as_windows_takes_them() {
    on_client(|| {
        startup();
        // Any protocol is returned as given with the socket type (Wine hinttests).
        let odd = hints(0, AF_UNSPEC, SOCK_STREAM, IPPROTO_UDP);
        assert_eq!(
            resolve(Some("server"), None, Some(odd)).map(|r| (r.1, r.2)),
            Ok((SOCK_STREAM, IPPROTO_UDP))
        );
        let any = hints(0, AF_INET, SOCK_DGRAM, 999);
        assert_eq!(resolve(Some("server"), None, Some(any)).map(|r| (r.1, r.2)), Ok((SOCK_DGRAM, 999)));
        assert_eq!(
            resolve(Some("server"), None, Some(hints(0, AF_INET, 999, IPPROTO_TCP))),
            Err(WSAESOCKTNOSUPPORT)
        );
        assert_eq!(resolve(Some("server"), None, Some(hints(0, 999, 0, 0))), Err(WSAEAFNOSUPPORT));
        assert_eq!(resolve(Some("server"), None, Some(hints(0, AF_INET6, 0, 0))), Err(WSANO_DATA));
        let numeric = hints(AI_NUMERICHOST, AF_UNSPEC, 0, 0);
        assert_eq!(resolve(Some("localhost"), Some("80"), Some(numeric)), Err(WSAHOST_NOT_FOUND));
        assert_eq!(resolve(Some("192.168.1.253:1024"), None, Some(numeric)), Err(WSAHOST_NOT_FOUND));
        assert_eq!(
            resolve(Some("192.168.1.253"), None, Some(numeric)).map(|r| r.0),
            Ok(addr("192.168.1.253:0"))
        );
        let numeric_service = hints(AI_NUMERICSERV, AF_UNSPEC, 0, 0);
        assert_eq!(resolve(Some("server"), Some("http"), Some(numeric_service)), Err(WSAHOST_NOT_FOUND));
        let mut dirty = hints(0, AF_INET, 0, 0);
        dirty.ai_addrlen = 16;
        assert_eq!(resolve(Some("server"), None, Some(dirty)), Err(WSANO_RECOVERY));
        assert_eq!(resolve(None, Some("80"), Some(hints(AI_CANONNAME, AF_INET, 0, 0))), Err(WSANO_RECOVERY));
        assert_eq!(resolve(Some("server"), None, Some(hints(0x4000_0000, AF_INET, 0, 0))), Err(WSAEINVAL));
        assert_eq!(resolve(Some("[beef::cafe]"), None, None), Err(WSAHOST_NOT_FOUND), "no IPv6");
    });
}

#[test]
fn getaddrinfo_canonical_names_wide_text_and_startup() {
    on_client(|| unsafe {
        let mut result = null_mut();
        assert_eq!(getaddrinfo(c"server".as_ptr().cast(), null(), null(), &mut result), WSANOTINITIALISED);
        startup();
        let canon = hints(AI_CANONNAME, AF_INET, SOCK_STREAM, IPPROTO_TCP);
        assert_eq!(getaddrinfo(c"Server".as_ptr().cast(), null(), &canon, &mut result), 0);
        assert_eq!(std::ffi::CStr::from_ptr((*result).ai_canonname.cast()), c"server");
        freeaddrinfo(result);
        let node: Vec<u16> = "server\0".encode_utf16().collect();
        let service: Vec<u16> = "domain\0".encode_utf16().collect();
        let mut wide: *mut ADDRINFOW = null_mut();
        assert_eq!(GetAddrInfoW(node.as_ptr(), service.as_ptr(), null(), &mut wide), 0);
        assert_eq!(read(&*(*wide).ai_addr.cast::<SOCKADDR_IN>()), addr("192.0.2.2:53"));
        assert!((*wide).ai_canonname.is_null(), "no AI_CANONNAME, no name");
        FreeAddrInfoW(wide);
        freeaddrinfo(null());
        assert_eq!(getaddrinfo(c"server".as_ptr().cast(), null(), null(), null_mut()), WSAEFAULT);
        assert_eq!(WSAGetLastError(), WSAEFAULT);
    });
}

#[test]
fn a_list_freed_twice_ends_the_run() {
    let mut sim = Sim::new(0);
    sim.client("client", "192.0.2.1", || unsafe {
        startup();
        let mut result = null_mut();
        assert_eq!(getaddrinfo(c"localhost".as_ptr().cast(), null(), null(), &mut result), 0);
        freeaddrinfo(result);
        freeaddrinfo(result);
    });
    let failure = sim.run().expect_err("a double free");
    assert!(
        failure.to_string().contains("is not a list getaddrinfo returned, or it was freed already"),
        "{failure}"
    );
}

fn name_info(sa: &SOCKADDR_IN, flags: u32, host_len: u32, serv_len: u32) -> Result<(String, String), i32> {
    let (mut host, mut serv) = ([0u8; 64], [0u8; 32]);
    let len = size_of::<SOCKADDR_IN>() as i32;
    let ret = unsafe {
        getnameinfo(
            (sa as *const SOCKADDR_IN).cast(),
            len,
            host.as_mut_ptr(),
            host_len,
            serv.as_mut_ptr(),
            serv_len,
            flags as i32,
        )
    };
    assert_eq!(unsafe { WSAGetLastError() }, ret);
    let text = |b: &[u8]| std::ffi::CStr::from_bytes_until_nul(b).unwrap().to_string_lossy().into_owned();
    if ret == 0 { Ok((text(&host), text(&serv))) } else { Err(ret) }
}

#[test]
fn getnameinfo_names_hosts_and_services_or_gives_their_numbers() {
    on_client(|| unsafe {
        startup();
        let server = sockaddr("192.0.2.2:80");
        assert_eq!(name_info(&server, 0, 64, 32), Ok(("server".into(), "http".into())));
        assert_eq!(
            name_info(&server, NI_NUMERICHOST | NI_NUMERICSERV, 64, 32),
            Ok(("192.0.2.2".into(), "80".into()))
        );
        let stranger = sockaddr("198.51.100.9:40000");
        assert_eq!(name_info(&stranger, 0, 64, 32), Ok(("198.51.100.9".into(), "40000".into())));
        assert_eq!(name_info(&stranger, NI_NAMEREQD, 64, 32), Err(WSAHOST_NOT_FOUND));
        assert_eq!(
            name_info(&sockaddr("127.0.0.1:53"), NI_DGRAM, 64, 32),
            Ok(("localhost".into(), "domain".into()))
        );
        assert_eq!(name_info(&server, 0, 0, 32), Err(WSAEINVAL), "a host asked for with no room");
        assert_eq!(name_info(&server, 0, 6, 32), Err(WSAEFAULT), "no room for the NUL");
        assert_eq!(name_info(&server, 0, 7, 32), Ok(("server".into(), "http".into())));
        let len = size_of::<SOCKADDR_IN>() as i32;
        let sa = (&raw const server).cast();
        assert_eq!(getnameinfo(sa, len, null_mut(), 0, null_mut(), 0, 0), WSAHOST_NOT_FOUND);
        assert_eq!(getnameinfo(null(), len, null_mut(), 0, null_mut(), 0, 0), WSAEFAULT);
        assert_eq!(getnameinfo(sa, 8, null_mut(), 0, null_mut(), 0, 0), WSAEFAULT);
        let mut wide = [0u16; 16];
        assert_eq!(GetNameInfoW(sa, len, wide.as_mut_ptr(), 16, null_mut(), 0, 0), 0);
        assert_eq!(String::from_utf16_lossy(&wide[..6]), "server");
        assert_eq!(wide[6], 0);
    });
}

#[test]
fn gethostname_and_its_buffer() {
    on_client(|| unsafe {
        let mut name = [0x55u8; 16];
        assert_eq!(gethostname(name.as_mut_ptr(), 16), SOCKET_ERROR);
        assert_eq!(WSAGetLastError(), WSANOTINITIALISED);
        startup();
        assert_eq!(gethostname(name.as_mut_ptr(), 16), 0);
        assert_eq!(&name[..7], b"client\0");
        // No room for the NUL: WSAEFAULT, the buffer untouched (Wine test_gethostname).
        let mut short = [0x55u8; 6];
        assert_eq!(gethostname(short.as_mut_ptr(), 6), SOCKET_ERROR);
        assert_eq!(WSAGetLastError(), WSAEFAULT);
        assert_eq!(short, [0x55; 6]);
        assert_eq!(gethostname(null_mut(), 16), SOCKET_ERROR);
        assert_eq!(WSAGetLastError(), WSAEFAULT);
        let mut wide = [0u16; 16];
        assert_eq!(GetHostNameW(wide.as_mut_ptr(), 16), 0);
        assert_eq!(String::from_utf16_lossy(&wide[..7]), "client\0");
    });
}

#[test]
fn gethostbyname_fills_one_hostent_a_thread_laid_out_as_windows_does() {
    on_client(|| unsafe {
        startup();
        let h = gethostbyname(c"server".as_ptr().cast());
        assert!(!h.is_null());
        let e = &*h;
        assert_eq!(std::ffi::CStr::from_ptr(e.h_name.cast()), c"server");
        assert_eq!((e.h_addrtype, e.h_length), (AF_INET as i16, 4));
        // h_aliases right after the struct, h_addr_list after the aliases' NULL, the address
        // after the list's NULL (Wine protocol.c test_dns).
        assert_eq!(e.h_aliases.cast::<u8>(), h.add(1).cast::<u8>());
        assert!((*e.h_aliases).is_null(), "no aliases");
        assert_eq!(e.h_addr_list, e.h_aliases.add(1));
        assert_eq!(*e.h_addr_list, e.h_addr_list.add(2).cast::<i8>());
        assert_eq!(*(*e.h_addr_list).cast::<[u8; 4]>(), [192, 0, 2, 2]);
        assert!((*e.h_addr_list.add(1)).is_null());
        let again = gethostbyname(c"1.2.3.4".as_ptr().cast());
        assert_eq!(again, h, "one HOSTENT a thread");
        assert_eq!(std::ffi::CStr::from_ptr((*h).h_name.cast()), c"1.2.3.4");
        assert_eq!(*(*(*h).h_addr_list).cast::<[u8; 4]>(), [1, 2, 3, 4]);
        let own = gethostbyname(null());
        assert_eq!(std::ffi::CStr::from_ptr((*own).h_name.cast()), c"client");
        assert!(gethostbyname(c"nxdomain".as_ptr().cast()).is_null());
        assert_eq!(WSAGetLastError(), WSAHOST_NOT_FOUND);
        let by_addr = gethostbyaddr([192u8, 0, 2, 2].as_ptr(), 4, AF_INET.into());
        assert_eq!(std::ffi::CStr::from_ptr((*by_addr).h_name.cast()), c"server");
        assert!(gethostbyaddr([198u8, 51, 100, 1].as_ptr(), 4, AF_INET.into()).is_null());
        assert_eq!(WSAGetLastError(), WSAHOST_NOT_FOUND);
        assert!(gethostbyaddr([0u8; 4].as_ptr(), 4, 999).is_null());
        assert_eq!(WSAGetLastError(), WSAEAFNOSUPPORT);
        assert!(gethostbyaddr([0u8; 4].as_ptr(), 2, AF_INET.into()).is_null());
        assert_eq!(WSAGetLastError(), WSAEFAULT);
    });
}

#[test]
fn address_text_both_ways() {
    on_client(|| unsafe {
        startup();
        let a = IN_ADDR { S_un: IN_ADDR_0 { S_addr: 0x2020_1015 } };
        let text = inet_ntoa(a);
        assert_eq!(std::ffi::CStr::from_ptr(text.cast()), c"21.16.32.32");
        let other = wsasim::thread::spawn(|| {
            let t = inet_ntoa(IN_ADDR { S_un: IN_ADDR_0 { S_addr: 0 } });
            std::ffi::CStr::from_ptr(t.cast()).to_owned()
        });
        assert_eq!(other.join().unwrap().as_c_str(), c"0.0.0.0");
        assert_eq!(
            std::ffi::CStr::from_ptr(text.cast()),
            c"21.16.32.32",
            "another thread has its own buffer"
        );
        let bytes = 0x2020_1015u32;
        let mut buf = [0u8; 16];
        let p = (&raw const bytes).cast();
        assert_eq!(inet_ntop(AF_INET.into(), p, buf.as_mut_ptr(), 16), buf.as_ptr());
        assert_eq!(std::ffi::CStr::from_bytes_until_nul(&buf).unwrap(), c"21.16.32.32");
        assert!(inet_ntop(AF_INET.into(), p, buf.as_mut_ptr(), 6).is_null());
        assert_eq!(GetLastError(), STATUS_INVALID_PARAMETER as u32);
        assert!(inet_ntop(1, p, buf.as_mut_ptr(), 16).is_null());
        assert_eq!(GetLastError(), WSAEAFNOSUPPORT as u32);
        let v6: [u8; 16] = "::fffe:cc98:bd74".parse::<std::net::Ipv6Addr>().unwrap().octets();
        let mut wide = [0u16; 18];
        assert!(InetNtopW(AF_INET6.into(), v6.as_ptr().cast(), wide.as_mut_ptr(), 16).is_null());
        assert_eq!(InetNtopW(AF_INET6.into(), v6.as_ptr().cast(), wide.as_mut_ptr(), 18), wide.as_ptr());
        assert_eq!(String::from_utf16_lossy(&wide[..16]), "::fffe:cc98:bd74");
        let mut out = 0u32;
        let text: Vec<u16> = "10.0.0.1\0".encode_utf16().collect();
        assert_eq!(InetPtonW(AF_INET.into(), text.as_ptr(), (&raw mut out).cast()), 1);
        assert_eq!(out.to_ne_bytes(), [10, 0, 0, 1]);
        let bad: Vec<u16> = "1.2.3\0".encode_utf16().collect();
        WSASetLastError(0);
        assert_eq!(InetPtonW(AF_INET.into(), bad.as_ptr(), (&raw mut out).cast()), 0);
        assert_eq!(WSAGetLastError(), WSAEINVAL, "InetPtonW sets WSAEINVAL on 0 (Wine test_inet_pton)");
        WSASetLastError(0);
        assert_eq!(inet_pton(AF_INET.into(), c"1.2.3".as_ptr().cast(), (&raw mut out).cast()), 0);
        assert_eq!(WSAGetLastError(), 0, "inet_pton leaves it");
    });
}

#[test]
fn services_and_protocols() {
    on_client(|| unsafe {
        startup();
        let s = getservbyname(c"domain".as_ptr().cast(), c"udp".as_ptr().cast());
        assert_eq!(u16::from_be((*s).s_port as u16), 53);
        assert_eq!(std::ffi::CStr::from_ptr((*s).s_proto.cast()), c"udp");
        let t = getservbyname(c"telnet".as_ptr().cast(), c"tcp".as_ptr().cast());
        assert_eq!(t, s, "one SERVENT a thread (Wine test_getservbyname)");
        assert_eq!(std::ffi::CStr::from_ptr((*t).s_name.cast()), c"telnet");
        assert_eq!(u16::from_be((*t).s_port as u16), 23);
        let www = getservbyname(c"www".as_ptr().cast(), null());
        assert_eq!(std::ffi::CStr::from_ptr((*www).s_name.cast()), c"http", "an alias, any protocol");
        let by_port = getservbyport(i32::from(443u16.to_be()), null());
        assert_eq!(std::ffi::CStr::from_ptr((*by_port).s_name.cast()), c"https");
        assert!(getservbyname(c"nonexistent".as_ptr().cast(), null()).is_null());
        assert_eq!(WSAGetLastError(), WSANO_DATA);
        let p = getprotobyname(c"TCP".as_ptr().cast());
        assert_eq!((*p).p_proto, 6);
        assert_eq!(std::ffi::CStr::from_ptr((*p).p_name.cast()), c"tcp");
        assert_eq!(std::ffi::CStr::from_ptr((*(*p).p_aliases).cast()), c"TCP");
        let u = getprotobynumber(17);
        assert_eq!(std::ffi::CStr::from_ptr((*u).p_name.cast()), c"udp");
        assert!(getprotobynumber(2).is_null(), "2 is in no table (Wine test_getprotobynumber)");
        assert_eq!(WSAGetLastError(), WSANO_DATA);
        assert_eq!((*getprotobyname(c"IPv6-ICMP".as_ptr().cast())).p_proto, 58);
    });
}

#[test]
fn each_call_is_in_the_trace_and_the_same_seed_gives_the_same_trace() {
    let outcome = on_client(|| {
        startup();
        resolve(Some("server"), Some("27015"), Some(hints(0, AF_INET, SOCK_STREAM, IPPROTO_TCP))).unwrap();
        resolve(Some("nxdomain"), None, None).unwrap_err();
    });
    let text = outcome.trace_text();
    assert!(
        text.contains(r#"getaddrinfo("server", "27015", {flags 0x0, AF_INET, SOCK_STREAM, IPPROTO_TCP}, &[192.0.2.2:27015]) = 0"#),
        "{text}"
    );
    assert!(text.contains(r#"getaddrinfo("nxdomain", NULL, NULL, &) = 11001"#), "{text}");
    let distinct = distinct_traces(0..10, |sim| {
        sim.host("server", "192.0.2.2", || unsafe { wsasim::Win32::System::Threading::Sleep(u32::MAX) });
        sim.client("client", "192.0.2.1", || {
            startup();
            let t = wsasim::thread::spawn(|| resolve(Some("server"), Some("80"), None).unwrap());
            resolve(Some("localhost"), None, None).unwrap();
            t.join().unwrap();
        });
    });
    assert!(distinct > 1, "{distinct}");
}

/// Two pages of which the second is unmapped, for strings and addresses that run into it.
fn edge_of_mapped_memory() -> *mut u8 {
    // SAFETY: a fresh anonymous mapping of two pages, the second then unmapped.
    unsafe {
        let two = libc::mmap(
            null_mut(),
            8192,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        assert_ne!(two, libc::MAP_FAILED);
        assert_eq!(libc::munmap(two.cast::<u8>().add(4096).cast(), 4096), 0);
        two.cast::<u8>().add(4096)
    }
}

#[test]
fn text_and_addresses_that_run_into_unmapped_memory_are_wsaefault_not_a_crash() {
    let edge = edge_of_mapped_memory() as usize;
    on_client(move || unsafe {
        startup();
        // A wide string whose last unit starts on the last byte of the mapped page.
        let odd = (edge - 3) as *mut u8;
        odd.write(b'a');
        odd.add(1).write(0);
        odd.add(2).write(b'b');
        let mut result = null_mut();
        assert_eq!(GetAddrInfoW(odd.cast(), null(), null(), &mut result), WSAEFAULT);
        let sa = (edge - 8) as *const SOCKADDR;
        let len = size_of::<SOCKADDR_IN>() as i32;
        let mut host = [0u8; 64];
        assert_eq!(getnameinfo(sa, len, host.as_mut_ptr(), 64, null_mut(), 0, 0), WSAEFAULT);
        let s = crate::harness::net::udp();
        assert_eq!(bind(s, sa, len), SOCKET_ERROR);
        assert_eq!(WSAGetLastError(), WSAEFAULT);
        let unreadable = (edge + 16) as *const u8;
        assert!(getservbyname(c"http".as_ptr().cast(), unreadable).is_null());
        assert_eq!(WSAGetLastError(), WSAEFAULT, "an unreadable protocol is not 'any'");
    });
}

#[test]
fn getnameinfo_needs_wsastartup() {
    on_client(|| unsafe {
        let sa = sockaddr("192.0.2.2:80");
        let mut host = [0u8; 64];
        let len = size_of::<SOCKADDR_IN>() as i32;
        assert_eq!(
            getnameinfo((&raw const sa).cast(), len, host.as_mut_ptr(), 64, null_mut(), 0, 0),
            WSANOTINITIALISED
        );
    });
}

unsafe extern "system" fn frees_twice(_: *mut std::ffi::c_void) -> u32 {
    unsafe {
        let mut result = null_mut();
        assert_eq!(getaddrinfo(c"localhost".as_ptr().cast(), null(), null(), &mut result), 0);
        freeaddrinfo(result);
        freeaddrinfo(result);
    }
    0
}

#[test]
fn a_double_free_in_a_thread_function_ends_the_run_the_same_way_every_time() {
    use wsasim::Win32::System::Threading::{CreateThread, INFINITE, WaitForSingleObject};
    let failure = || {
        let mut sim = Sim::new(0);
        sim.client("client", "192.0.2.1", || unsafe {
            startup();
            let t = CreateThread(null(), 0, Some(frees_twice), null(), 0, null_mut());
            WaitForSingleObject(t, INFINITE);
        });
        sim.run().expect_err("a double free").to_string()
    };
    let first = failure();
    assert!(first.contains("freeaddrinfo: the pointer is not a list getaddrinfo returned"), "{first}");
    assert_eq!(first, failure(), "no address in the message");
}
