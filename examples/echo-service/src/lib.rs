//! An echo service written as a Windows developer writes one: names resolved with
//! `getaddrinfo`, a thread per connection made with `CreateThread`, and overlapped
//! `WSARecv` / `WSASend` completed on event objects.
//!
//! The Win32 surface is reached through one path, [`Win32`]: `windows-sys`'s on Windows,
//! wsasim's with the `sim` feature, so that the same code is tested on any machine with
//! `cargo test --features sim`.

use std::ffi::{CStr, CString, c_void};
use std::ptr::{null, null_mut};

#[cfg(not(feature = "sim"))]
pub use windows_sys::Win32;
#[cfg(feature = "sim")]
pub use wsasim::Win32;

use Win32::Foundation::{CloseHandle, FALSE, HANDLE, TRUE};
use Win32::Networking::WinSock::*;
use Win32::System::IO::OVERLAPPED;
use Win32::System::Threading::{
    CreateThread, GetExitCodeThread, INFINITE, Sleep, WaitForMultipleObjects, WaitForSingleObject,
};

/// The service's port.
pub const PORT: &CStr = c"27015";

/// How many times a client tries to connect before it gives up: the server may not be
/// listening yet when it starts.
const CONNECT_TRIES: u32 = 50;

/// A Winsock error code.
pub type Error = i32;

/// `WSAStartup` for Winsock 2.2.
pub fn startup() -> Result<(), Error> {
    let mut data = WSADATA::default();
    // SAFETY: a live local.
    match unsafe { WSAStartup(0x0202, &mut data) } {
        0 => Ok(()),
        e => Err(e),
    }
}

/// Serves `connections` clients, one thread each, and returns once all have closed.
pub fn serve(connections: usize) -> Result<(), Error> {
    // SAFETY: every pointer is to a live local or a list getaddrinfo returned.
    unsafe {
        let address = resolve(None, PORT, AI_PASSIVE)?;
        let listener = socket(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP);
        if listener == INVALID_SOCKET {
            return Err(WSAGetLastError());
        }
        let len = size_of::<SOCKADDR_IN>() as i32;
        if bind(listener, (&raw const address).cast(), len) != 0 || listen(listener, SOMAXCONN as i32) != 0 {
            return Err(WSAGetLastError());
        }
        let mut threads: Vec<HANDLE> = Vec::new();
        for _ in 0..connections {
            let client = accept(listener, null_mut(), null_mut());
            if client == INVALID_SOCKET {
                return Err(WSAGetLastError());
            }
            let thread = CreateThread(null(), 0, Some(serve_client), client as *const c_void, 0, null_mut());
            if thread.is_null() {
                return Err(WSAGetLastError());
            }
            threads.push(thread);
        }
        closesocket(listener);
        WaitForMultipleObjects(threads.len() as u32, threads.as_ptr(), TRUE, INFINITE);
        let mut result = Ok(());
        for thread in threads {
            let mut code = 0;
            GetExitCodeThread(thread, &mut code);
            if code != 0 && result.is_ok() {
                result = Err(code as Error);
            }
            CloseHandle(thread);
        }
        result
    }
}

/// A connection's thread: echoes until the client closes; its exit code is 0 or the error.
unsafe extern "system" fn serve_client(parameter: *mut c_void) -> u32 {
    let client = parameter as SOCKET;
    let result = echo_until_closed(client);
    // SAFETY: the thread's own socket.
    unsafe { closesocket(client) };
    result.err().unwrap_or(0) as u32
}

fn echo_until_closed(s: SOCKET) -> Result<(), Error> {
    let mut buffer = [0u8; 4096];
    loop {
        let received = overlapped(s, Direction::Receive, &mut buffer)?;
        if received == 0 {
            return Ok(());
        }
        send_all(s, &mut buffer[..received])?;
    }
}

/// Connects to the service on `host`, sends `message`, and returns what comes back: as
/// many bytes as were sent.
pub fn echo_once(host: &str, message: &[u8]) -> Result<Vec<u8>, Error> {
    let host = CString::new(host).map_err(|_| WSAEINVAL)?;
    // SAFETY: every pointer is to a live local.
    unsafe {
        let address = resolve(Some(&host), PORT, 0)?;
        let s = WSASocketW(AF_INET.into(), SOCK_STREAM, IPPROTO_TCP, null(), 0, WSA_FLAG_OVERLAPPED);
        if s == INVALID_SOCKET {
            return Err(WSAGetLastError());
        }
        let result = connect_with_retries(s, &address).and_then(|()| {
            send_all(s, &mut message.to_vec())?;
            let mut echoed = vec![0u8; message.len()];
            let mut got = 0;
            while got < echoed.len() {
                match overlapped(s, Direction::Receive, &mut echoed[got..])? {
                    0 => return Err(WSAECONNRESET),
                    n => got += n,
                }
            }
            Ok(echoed)
        });
        closesocket(s);
        result
    }
}

/// `connect`, tried again while the server is not yet listening.
fn connect_with_retries(s: SOCKET, address: &SOCKADDR_IN) -> Result<(), Error> {
    let len = size_of::<SOCKADDR_IN>() as i32;
    for _ in 0..CONNECT_TRIES {
        // SAFETY: a live address of the length given.
        if unsafe { connect(s, (address as *const SOCKADDR_IN).cast(), len) } == 0 {
            return Ok(());
        }
        // SAFETY: no arguments.
        match unsafe { WSAGetLastError() } {
            // SAFETY: a plain value.
            WSAECONNREFUSED => unsafe { Sleep(10) },
            e => return Err(e),
        }
    }
    Err(WSAECONNREFUSED)
}

/// The IPv4 address of `node` (`None`: this host's, for a listener) and `port`, for TCP.
///
/// # Safety
/// Winsock must be started.
unsafe fn resolve(node: Option<&CStr>, port: &CStr, flags: u32) -> Result<SOCKADDR_IN, Error> {
    let hints = ADDRINFOA {
        ai_flags: flags as i32,
        ai_family: AF_INET.into(),
        ai_socktype: SOCK_STREAM,
        ai_protocol: IPPROTO_TCP,
        ai_addrlen: 0,
        ai_canonname: null_mut(),
        ai_addr: null_mut(),
        ai_next: null_mut(),
    };
    let mut list = null_mut();
    let node = node.map_or(null(), |n| n.as_ptr().cast());
    // SAFETY: live locals; the list is freed below.
    unsafe {
        let e = getaddrinfo(node, port.as_ptr().cast(), &hints, &mut list);
        if e != 0 {
            return Err(e);
        }
        let address = (*list).ai_addr.cast::<SOCKADDR_IN>().read_unaligned();
        freeaddrinfo(list);
        Ok(address)
    }
}

/// Sends all of `data`, however the sends are cut.
fn send_all(s: SOCKET, data: &mut [u8]) -> Result<(), Error> {
    let mut sent = 0;
    while sent < data.len() {
        sent += overlapped(s, Direction::Send, &mut data[sent..])?;
    }
    Ok(())
}

enum Direction {
    Send,
    Receive,
}

/// One overlapped send or receive on `buffer`, waited for on its own event: the bytes it
/// moved.
fn overlapped(s: SOCKET, direction: Direction, buffer: &mut [u8]) -> Result<usize, Error> {
    // SAFETY: the buffer, the WSABUF and the OVERLAPPED live until the operation is
    // complete, which this function waits for.
    unsafe {
        let event = WSACreateEvent() as HANDLE;
        let mut ov = OVERLAPPED { hEvent: event, ..OVERLAPPED::default() };
        let wsabuf = WSABUF { len: buffer.len() as u32, buf: buffer.as_mut_ptr() };
        let (mut bytes, mut flags) = (0u32, 0u32);
        let r = match direction {
            Direction::Send => WSASend(s, &wsabuf, 1, &mut bytes, 0, &mut ov, None),
            Direction::Receive => WSARecv(s, &wsabuf, 1, &mut bytes, &mut flags, &mut ov, None),
        };
        let result = if r == SOCKET_ERROR && WSAGetLastError() != WSA_IO_PENDING {
            Err(WSAGetLastError())
        } else {
            WaitForSingleObject(event, INFINITE);
            if WSAGetOverlappedResult(s, &ov, &mut bytes, FALSE, &mut flags) == TRUE {
                Ok(bytes as usize)
            } else {
                Err(WSAGetLastError())
            }
        };
        WSACloseEvent(event as WSAEVENT);
        result
    }
}

#[cfg(all(test, feature = "sim"))]
mod tests {
    use super::*;
    use wsasim::Sim;

    fn message(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7) as u8).collect()
    }

    #[test]
    fn two_clients_get_their_bytes_back_over_many_seeds() {
        wsasim::check(0..300, |sim| {
            sim.client("server", "192.0.2.10", || {
                startup().unwrap();
                serve(2).unwrap();
            });
            for (name, ip, len) in [("c1", "192.0.2.21", 100), ("c2", "192.0.2.22", 20_000)] {
                sim.client(name, ip, move || {
                    startup().unwrap();
                    assert_eq!(echo_once("server", &message(len)).unwrap(), message(len));
                });
            }
        });
    }

    #[test]
    fn an_unknown_host_and_a_host_without_the_service() {
        let mut sim = Sim::new(0);
        sim.client("lonely", "192.0.2.30", || {
            startup().unwrap();
            assert_eq!(echo_once("nowhere", b"x"), Err(WSAHOST_NOT_FOUND));
            assert_eq!(echo_once("lonely", b"x"), Err(WSAECONNREFUSED));
        });
        sim.run().unwrap_or_else(|f| panic!("{f}"));
    }
}
