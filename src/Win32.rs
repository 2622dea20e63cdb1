//! The `windows-sys` module tree. Each module re-exports `windows-sys`'s own, types and
//! constants included, and puts wsasim's functions in place of the functions it simulates.
//! A function wsasim does not simulate still resolves to `windows-sys`'s declaration, which
//! cannot link on Linux: using it fails the build with an undefined reference to its name.

pub mod Foundation {
    pub use crate::error::{GetLastError, SetLastError};
    pub use crate::handle::CloseHandle;
    pub use windows_sys::Win32::Foundation::*;
}

pub mod Networking {
    pub mod WinSock {
        pub use crate::addr::{
            InetNtopW, InetPtonW, htonl, htons, inet_addr, inet_ntoa, inet_ntop, inet_pton, ntohl, ntohs,
        };
        pub use crate::error::{WSAGetLastError, WSASetLastError};
        pub use crate::event::{WSACloseEvent, WSACreateEvent, WSAResetEvent, WSASetEvent};
        pub use crate::io::{WSARecv, WSARecvFrom, WSASend, WSASendTo, recv, recvfrom, send, sendto};
        pub use crate::ioctl::{WSAIoctl, ioctlsocket};
        pub use crate::overlapped::WSAGetOverlappedResult;
        pub use crate::readiness::{__WSAFDIsSet, WSAEnumNetworkEvents, WSAEventSelect, WSAPoll, select};
        pub use crate::resolve::{
            FreeAddrInfoW, GetAddrInfoW, GetHostNameW, GetNameInfoW, freeaddrinfo, getaddrinfo,
            gethostbyaddr, gethostbyname, gethostname, getnameinfo,
        };
        pub use crate::services::{getprotobyname, getprotobynumber, getservbyname, getservbyport};
        pub use crate::socket::{
            WSACleanup, WSAConnect, WSASocketA, WSASocketW, WSAStartup, accept, bind, closesocket, connect,
            getpeername, getsockname, getsockopt, listen, setsockopt, shutdown, socket,
        };
        pub use crate::wait::WSAWaitForMultipleEvents;
        pub use windows_sys::Win32::Networking::WinSock::*;
    }
}

pub mod Security {
    pub use windows_sys::Win32::Security::*;
}

pub mod System {
    pub mod IO {
        pub use crate::overlapped::{CancelIo, CancelIoEx, GetOverlappedResult};
        pub use windows_sys::Win32::System::IO::*;
    }

    pub mod SystemInformation {
        pub use crate::tick::{GetTickCount, GetTickCount64};
        pub use windows_sys::Win32::System::SystemInformation::*;
    }

    pub mod Threading {
        pub use crate::apc::{GetCurrentThread, GetCurrentThreadId, QueueUserAPC};
        pub use crate::event::{CreateEventA, CreateEventW, ResetEvent, SetEvent};
        pub use crate::wait::{
            Sleep, SleepEx, WaitForMultipleObjects, WaitForMultipleObjectsEx, WaitForSingleObject,
            WaitForSingleObjectEx,
        };
        pub use crate::win32_thread::{CreateThread, ExitThread, GetExitCodeThread, ResumeThread};
        pub use windows_sys::Win32::System::Threading::*;
    }
}
