//! [`crate::wait_echo_server`] mended as its bugs ask: it echoes the bytes that arrived,
//! waits for that send to complete before the buffer and the OVERLAPPED are used again,
//! posts the next receive, and closes once the client has closed, with nothing unread.

use crate::VERSION_2_2;
use crate::Win32::Foundation::{FALSE, HANDLE, TRUE};
use crate::Win32::Networking::WinSock::*;
use crate::Win32::System::IO::OVERLAPPED;
use crate::wait_echo_server::DATA_BUFSIZE;
use std::ptr::null_mut;

pub fn main() -> i32 {
    // SAFETY: every pointer is to a live local.
    unsafe {
        let mut wsa_data = WSADATA::default();
        let mut buffer = [0u8; DATA_BUFSIZE];
        let (mut recv_bytes, mut flags, mut bytes_transferred) = (0u32, 0u32, 0u32);

        if WSAStartup(VERSION_2_2, &mut wsa_data) != 0 {
            return 1;
        }
        let listen_socket = socket(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP);
        let this_host = gethostbyname(c"".as_ptr().cast());
        if listen_socket == INVALID_SOCKET || this_host.is_null() {
            println!("socket or gethostbyname failed with error = {}", WSAGetLastError());
            return 1;
        }
        let mut service =
            SOCKADDR_IN { sin_family: AF_INET, sin_port: htons(27015), ..SOCKADDR_IN::default() };
        service.sin_addr.S_un.S_addr = (*(*this_host).h_addr_list).cast::<u32>().read_unaligned();
        if bind(listen_socket, (&raw const service).cast(), size_of::<SOCKADDR_IN>() as i32) != 0
            || listen(listen_socket, 1) != 0
        {
            println!("bind or listen failed with error = {}", WSAGetLastError());
            return 1;
        }
        let accept_socket = accept(listen_socket, null_mut(), null_mut());
        if accept_socket == INVALID_SOCKET {
            println!("accept failed with error = {}", WSAGetLastError());
            return 1;
        }
        let event: HANDLE = WSACreateEvent() as HANDLE;
        let mut overlapped = OVERLAPPED { hEvent: event, ..OVERLAPPED::default() };
        let mut data_buf = WSABUF { len: DATA_BUFSIZE as u32, buf: buffer.as_mut_ptr() };

        let posted = |ret: i32| ret == 0 || WSAGetLastError() == WSA_IO_PENDING;
        let mut code = 0;
        if !posted(WSARecv(accept_socket, &data_buf, 1, &mut recv_bytes, &mut flags, &mut overlapped, None)) {
            code = 1;
        }
        while code == 0 {
            WSAWaitForMultipleEvents(1, &event, FALSE, WSA_INFINITE, FALSE);
            WSAResetEvent(event as WSAEVENT);
            if WSAGetOverlappedResult(accept_socket, &overlapped, &mut bytes_transferred, FALSE, &mut flags)
                == FALSE
            {
                println!("WSARecv failed with error = {}", WSAGetLastError());
                code = 1;
                break;
            }
            if bytes_transferred == 0 {
                break;
            }
            // What arrived, not the whole buffer.
            data_buf.len = bytes_transferred;
            overlapped = OVERLAPPED { hEvent: event, ..OVERLAPPED::default() };
            if !posted(WSASend(accept_socket, &data_buf, 1, &mut recv_bytes, 0, &mut overlapped, None)) {
                code = 1;
                break;
            }
            // The send owns the buffer and the OVERLAPPED until it completes.
            WSAWaitForMultipleEvents(1, &event, TRUE, WSA_INFINITE, FALSE);
            WSAResetEvent(event as WSAEVENT);
            if WSAGetOverlappedResult(accept_socket, &overlapped, &mut bytes_transferred, FALSE, &mut flags)
                == FALSE
            {
                println!("WSASend failed with error = {}", WSAGetLastError());
                code = 1;
                break;
            }
            // The next receive.
            flags = 0;
            data_buf.len = DATA_BUFSIZE as u32;
            overlapped = OVERLAPPED { hEvent: event, ..OVERLAPPED::default() };
            if !posted(WSARecv(
                accept_socket,
                &data_buf,
                1,
                &mut recv_bytes,
                &mut flags,
                &mut overlapped,
                None,
            )) {
                code = 1;
            }
        }
        WSACloseEvent(event as WSAEVENT);
        closesocket(accept_socket);
        closesocket(listen_socket);
        WSACleanup();
        code
    }
}
