//! Doc: WSAWaitForMultipleEvents, "Example Code": an echo server on one overlapped receive,
//! ported as it stands, bugs and all. It echoes the whole 4,096-byte buffer rather than
//! the bytes that arrived, and it never posts another receive: what it sends after the
//! first completion is that buffer again, each time the event is set.

use crate::VERSION_2_2;
use crate::Win32::Foundation::{FALSE, HANDLE};
use crate::Win32::Networking::WinSock::*;
use crate::Win32::System::IO::OVERLAPPED;
use std::ptr::null_mut;

pub(crate) const DATA_BUFSIZE: usize = 4096;

pub fn main() -> i32 {
    // SAFETY: as in the sample, every pointer is to a live local.
    unsafe {
        let mut wsa_data = WSADATA::default();
        let mut data_buf = WSABUF::default();
        let mut buffer = [0u8; DATA_BUFSIZE];
        let mut event_total = 0usize;
        let (mut recv_bytes, mut flags, mut bytes_transferred) = (0u32, 0u32, 0u32);
        let mut event_array: [HANDLE; WSA_MAXIMUM_WAIT_EVENTS as usize] =
            [null_mut(); WSA_MAXIMUM_WAIT_EVENTS as usize];

        let i_result = WSAStartup(VERSION_2_2, &mut wsa_data);
        if i_result != 0 {
            println!("WSAStartup failed: {i_result}");
            return 1;
        }
        let listen_socket = socket(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP);
        if listen_socket == INVALID_SOCKET {
            println!("socket failed with error = {}", WSAGetLastError());
            WSACleanup();
            return 1;
        }

        let port: u16 = 27015;
        let mut service =
            SOCKADDR_IN { sin_family: AF_INET, sin_port: htons(port), ..SOCKADDR_IN::default() };
        let this_host = gethostbyname(c"".as_ptr().cast());
        if this_host.is_null() {
            println!("gethostbyname failed with error = {}", WSAGetLastError());
            closesocket(listen_socket);
            WSACleanup();
            return 1;
        }
        let ip = inet_ntoa((*(*this_host).h_addr_list).cast::<IN_ADDR>().read_unaligned());
        service.sin_addr.S_un.S_addr = inet_addr(ip);

        let i_result = bind(listen_socket, (&raw const service).cast(), size_of::<SOCKADDR>() as i32);
        if i_result != 0 {
            println!("bind failed with error = {}", WSAGetLastError());
            closesocket(listen_socket);
            WSACleanup();
            return 1;
        }
        let i_result = listen(listen_socket, 1);
        if i_result != 0 {
            println!("listen failed with error = {}", WSAGetLastError());
            closesocket(listen_socket);
            WSACleanup();
            return 1;
        }
        println!("Listening...");

        let accept_socket = accept(listen_socket, null_mut(), null_mut());
        if accept_socket == INVALID_SOCKET {
            println!("accept failed with error = {}", WSAGetLastError());
            closesocket(listen_socket);
            WSACleanup();
            return 1;
        }
        println!("Client Accepted...");

        event_array[event_total] = WSACreateEvent() as HANDLE;
        if event_array[event_total] as WSAEVENT == WSA_INVALID_EVENT {
            println!("WSACreateEvent failed with error = {}", WSAGetLastError());
            closesocket(accept_socket);
            closesocket(listen_socket);
            WSACleanup();
            return 1;
        }
        let mut accept_overlapped = OVERLAPPED { hEvent: event_array[event_total], ..OVERLAPPED::default() };
        data_buf.len = DATA_BUFSIZE as u32;
        data_buf.buf = buffer.as_mut_ptr();
        event_total += 1;

        if WSARecv(accept_socket, &data_buf, 1, &mut recv_bytes, &mut flags, &mut accept_overlapped, None)
            == SOCKET_ERROR
        {
            let i_result = WSAGetLastError();
            if i_result != WSA_IO_PENDING {
                println!("WSARecv failed with error = {i_result}");
            }
        }

        loop {
            let index = WSAWaitForMultipleEvents(
                event_total as u32,
                event_array.as_ptr(),
                FALSE,
                WSA_INFINITE,
                FALSE,
            );
            let signaled = event_array[(index - WSA_WAIT_EVENT_0 as u32) as usize];
            if WSAResetEvent(signaled as WSAEVENT) == FALSE {
                println!("WSAResetEvent failed with error = {}", WSAGetLastError());
            }
            if WSAGetOverlappedResult(
                accept_socket,
                &accept_overlapped,
                &mut bytes_transferred,
                FALSE,
                &mut flags,
            ) == FALSE
            {
                println!("WSAGetOverlappedResult failed with error = {}", WSAGetLastError());
            }
            if bytes_transferred == 0 {
                println!("Closing accept Socket {accept_socket}");
                closesocket(listen_socket);
                closesocket(accept_socket);
                WSACloseEvent(signaled as WSAEVENT);
                WSACleanup();
                return 1;
            }
            let i_result =
                WSASend(accept_socket, &data_buf, 1, &mut recv_bytes, flags, &mut accept_overlapped, None);
            if i_result != 0 {
                println!("WSASend failed with error = {}", WSAGetLastError());
            }
            flags = 0;
            accept_overlapped = OVERLAPPED { hEvent: signaled, ..OVERLAPPED::default() };
            data_buf.len = DATA_BUFSIZE as u32;
            data_buf.buf = buffer.as_mut_ptr();
        }
    }
}
