//! A UDP socket's state for `shutdown`: each direction on until turned off, for good.
//!
//! Wine sock.c test_shutdown: on UDP, `shutdown` succeeds, even unconnected, and a
//! direction turned off fails with `WSAESHUTDOWN` from then on.

use crate::Win32Error;
use windows_sys::Win32::Networking::WinSock::{SD_BOTH, SD_RECEIVE, SD_SEND, WSAEINVAL, WSAESHUTDOWN};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Udp {
    send_off: bool,
    receive_off: bool,
}

impl Udp {
    /// `shutdown(how)`: `WSAEINVAL` for a `how` that is none of `SD_RECEIVE`, `SD_SEND`,
    /// `SD_BOTH` (Doc: shutdown).
    pub fn shutdown(&mut self, how: i32) -> Result<(), Win32Error> {
        match how {
            SD_RECEIVE => self.receive_off = true,
            SD_SEND => self.send_off = true,
            SD_BOTH => (self.send_off, self.receive_off) = (true, true),
            _ => return Err(WSAEINVAL as Win32Error),
        }
        Ok(())
    }

    pub fn may_send(&self) -> Result<(), Win32Error> {
        if self.send_off { Err(WSAESHUTDOWN as Win32Error) } else { Ok(()) }
    }

    pub fn may_receive(&self) -> Result<(), Win32Error> {
        if self.receive_off { Err(WSAESHUTDOWN as Win32Error) } else { Ok(()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_direction_turns_off_for_good_and_a_bad_how_changes_nothing() {
        let mut u = Udp::default();
        assert_eq!(u.shutdown(7), Err(WSAEINVAL as Win32Error));
        assert_eq!((u.may_send(), u.may_receive()), (Ok(()), Ok(())));
        u.shutdown(SD_RECEIVE).unwrap();
        assert_eq!((u.may_send(), u.may_receive()), (Ok(()), Err(WSAESHUTDOWN as Win32Error)));
        u.shutdown(SD_SEND).unwrap();
        assert_eq!(u.may_send(), Err(WSAESHUTDOWN as Win32Error));
        let mut both = Udp::default();
        both.shutdown(SD_BOTH).unwrap();
        assert_eq!(both, u);
    }
}
