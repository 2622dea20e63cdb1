//! Doc: WSASend, "Example Code": overlapped `WSASend` of ten buffers on one event.

use crate::VERSION_2_2;
use crate::Win32::Foundation::HANDLE;
use crate::Win32::Networking::WinSock::*;
use crate::Win32::System::IO::OVERLAPPED;
use std::ptr::null_mut;

const DATA_BUFSIZE: usize = 4096;
const SEND_COUNT: usize = 10;

pub fn main() -> i32 {
    // SAFETY: as in the sample, every pointer is to a live local.
    unsafe {
        let mut wsd = WSADATA::default();
        let mut result: *mut ADDRINFOA = null_mut();
        let mut send_overlapped = OVERLAPPED::default();
        let mut data_buf = WSABUF::default();
        let mut send_bytes = 0u32;
        let mut flags = 0u32;
        let mut buffer = [0u8; DATA_BUFSIZE];

        let rc = WSAStartup(VERSION_2_2, &mut wsd);
        if rc != 0 {
            println!("Unable to load Winsock: {rc}");
            return 1;
        }

        let hints = ADDRINFOA {
            ai_family: AF_INET.into(),
            ai_socktype: SOCK_STREAM,
            ai_protocol: IPPROTO_TCP,
            ai_flags: AI_PASSIVE as i32,
            ..ADDRINFOA::default()
        };
        let rc = getaddrinfo(null_mut(), c"27015".as_ptr().cast(), &hints, &mut result);
        if rc != 0 {
            println!("getaddrinfo failed with error: {rc}");
            return 1;
        }

        let listen_socket = socket((*result).ai_family, (*result).ai_socktype, (*result).ai_protocol);
        if listen_socket == INVALID_SOCKET {
            println!("socket failed with error: {}", WSAGetLastError());
            freeaddrinfo(result);
            return 1;
        }
        let rc = bind(listen_socket, (*result).ai_addr, (*result).ai_addrlen as i32);
        if rc == SOCKET_ERROR {
            println!("bind failed with error: {}", WSAGetLastError());
            freeaddrinfo(result);
            closesocket(listen_socket);
            return 1;
        }
        let rc = listen(listen_socket, 1);
        if rc == SOCKET_ERROR {
            println!("listen failed with error: {}", WSAGetLastError());
            freeaddrinfo(result);
            closesocket(listen_socket);
            return 1;
        }
        let accept_socket = accept(listen_socket, null_mut(), null_mut());
        if accept_socket == INVALID_SOCKET {
            println!("accept failed with error: {}", WSAGetLastError());
            freeaddrinfo(result);
            closesocket(listen_socket);
            return 1;
        }
        println!("Client Accepted...");

        send_overlapped.hEvent = WSACreateEvent() as _;
        if send_overlapped.hEvent.is_null() {
            println!("WSACreateEvent failed with error: {}", WSAGetLastError());
            freeaddrinfo(result);
            closesocket(listen_socket);
            closesocket(accept_socket);
            return 1;
        }

        data_buf.len = DATA_BUFSIZE as u32;
        data_buf.buf = buffer.as_mut_ptr();

        for _ in 0..SEND_COUNT {
            let rc = WSASend(accept_socket, &data_buf, 1, &mut send_bytes, 0, &mut send_overlapped, None);
            if rc == SOCKET_ERROR {
                let err = WSAGetLastError();
                if err != WSA_IO_PENDING {
                    println!("WSASend failed with error: {err}");
                    break;
                }
            }
            let event = send_overlapped.hEvent as WSAEVENT;
            let rc = WSAWaitForMultipleEvents(1, &(event as HANDLE), 1, WSA_INFINITE, 1);
            if rc == WSA_WAIT_FAILED {
                println!("WSAWaitForMultipleEvents failed with error: {}", WSAGetLastError());
                break;
            }
            let rc = WSAGetOverlappedResult(accept_socket, &send_overlapped, &mut send_bytes, 0, &mut flags);
            if rc == 0 {
                println!("WSASend failed with error: {}", WSAGetLastError());
                break;
            }
            println!("Wrote {send_bytes} bytes");
            WSAResetEvent(event);
        }

        WSACloseEvent(send_overlapped.hEvent as WSAEVENT);
        closesocket(accept_socket);
        closesocket(listen_socket);
        freeaddrinfo(result);
        WSACleanup();
        0
    }
}
