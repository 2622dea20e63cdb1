//! Doc: WSARecv, "Example Code": overlapped `WSARecv` until the peer closes.

use crate::VERSION_2_2;
use crate::Win32::Foundation::HANDLE;
use crate::Win32::Networking::WinSock::*;
use crate::Win32::System::IO::OVERLAPPED;
use std::ffi::CString;
use std::ptr::null_mut;

const DATA_BUFSIZE: usize = 4096;

/// `argv` as the sample takes it: the program's name and the server's. Returns the exit
/// code and the bytes read in all (the sample prints each count).
pub fn main(argv: &[&str]) -> (i32, u64) {
    let mut total = 0u64;
    // SAFETY: as in the sample, every pointer is to a live local.
    unsafe {
        let mut wsd = WSADATA::default();
        let mut result: *mut ADDRINFOA = null_mut();
        let mut conn_socket = INVALID_SOCKET;
        let mut recv_overlapped = OVERLAPPED::default();
        let mut data_buf = WSABUF::default();
        let mut recv_bytes = 0u32;
        let mut flags: u32;
        let mut buffer = [0u8; DATA_BUFSIZE];

        if argv.len() != 2 {
            println!("usage: {} server-name", argv[0]);
            return (1, total);
        }
        let rc = WSAStartup(VERSION_2_2, &mut wsd);
        if rc != 0 {
            println!("Unable to load Winsock: {rc}");
            return (1, total);
        }
        let hints = ADDRINFOA {
            ai_family: AF_INET.into(),
            ai_socktype: SOCK_STREAM,
            ai_protocol: IPPROTO_TCP,
            ..ADDRINFOA::default()
        };
        let server = CString::new(argv[1]).unwrap();
        let rc = getaddrinfo(server.as_ptr().cast(), c"27015".as_ptr().cast(), &hints, &mut result);
        if rc != 0 {
            println!("getaddrinfo failed with error: {rc}");
            return (1, total);
        }

        let mut ptr = result;
        while !ptr.is_null() {
            conn_socket = socket((*ptr).ai_family, (*ptr).ai_socktype, (*ptr).ai_protocol);
            if conn_socket == INVALID_SOCKET {
                println!("socket failed with error: {}", WSAGetLastError());
                freeaddrinfo(result);
                return (1, total);
            }
            let rc = connect(conn_socket, (*ptr).ai_addr, (*ptr).ai_addrlen as i32);
            if rc == SOCKET_ERROR {
                let err = WSAGetLastError();
                if err == WSAECONNREFUSED {
                    closesocket(conn_socket);
                    conn_socket = INVALID_SOCKET;
                    ptr = (*ptr).ai_next;
                    continue;
                }
                println!("connect failed with error: {err}");
                freeaddrinfo(result);
                closesocket(conn_socket);
                return (1, total);
            }
            break;
        }
        if conn_socket == INVALID_SOCKET {
            println!("Unable to establish connection with the server!");
            freeaddrinfo(result);
            return (1, total);
        }
        println!("Client connected...");

        recv_overlapped.hEvent = WSACreateEvent() as _;
        if recv_overlapped.hEvent.is_null() {
            println!("WSACreateEvent failed: {}", WSAGetLastError());
            freeaddrinfo(result);
            closesocket(conn_socket);
            return (1, total);
        }
        data_buf.len = DATA_BUFSIZE as u32;
        data_buf.buf = buffer.as_mut_ptr();

        loop {
            flags = 0;
            let rc =
                WSARecv(conn_socket, &data_buf, 1, &mut recv_bytes, &mut flags, &mut recv_overlapped, None);
            if rc == SOCKET_ERROR {
                let err = WSAGetLastError();
                if err != WSA_IO_PENDING {
                    println!("WSARecv failed with error: {err}");
                    break;
                }
            }
            let event = recv_overlapped.hEvent as WSAEVENT;
            let rc = WSAWaitForMultipleEvents(1, &(event as HANDLE), 1, WSA_INFINITE, 1);
            if rc == WSA_WAIT_FAILED {
                println!("WSAWaitForMultipleEvents failed with error: {}", WSAGetLastError());
                break;
            }
            let rc = WSAGetOverlappedResult(conn_socket, &recv_overlapped, &mut recv_bytes, 0, &mut flags);
            if rc == 0 {
                println!("WSARecv operation failed with error: {}", WSAGetLastError());
                break;
            }
            println!("Read {recv_bytes} bytes");
            total += u64::from(recv_bytes);
            WSAResetEvent(event);
            if recv_bytes == 0 {
                break;
            }
        }

        WSACloseEvent(recv_overlapped.hEvent as WSAEVENT);
        closesocket(conn_socket);
        freeaddrinfo(result);
        WSACleanup();
        (0, total)
    }
}
