//! The object table of one run: which handle names which object, on which host, and
//! whether it is still open.
//!
//! A closed handle keeps its slot, with the object's last state, for two reasons: a wait
//! already in progress goes on waiting on the object (the kernel holds its own reference;
//! closing a handle under a wait is undefined per Doc: WSAWaitForMultipleEvents, and this is
//! the least surprising reading), and the value is never given out again (see [`handle`]).
//!
//! [`handle`]: crate::handle

use crate::{Event, Handle, HostId, Win32Error};
use windows_sys::Win32::Foundation::ERROR_INVALID_HANDLE;

/// A kernel object behind a handle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Object {
    Event(Event),
    /// A simulated thread: signaled once it has ended (Doc: WaitForSingleObject, "Thread").
    Thread {
        exited: bool,
    },
    /// A socket: `id` indexes the transport's own table. The handle is a file handle, so it
    /// can be waited on: an operation with no event resets it when it starts and signals it
    /// when it completes (Wine sock.c test_nonblocking_async_recv).
    Socket {
        id: u32,
        signaled: bool,
    },
}

impl Object {
    /// Whether a wait on this object alone would be satisfied now.
    pub fn is_signaled(&self) -> bool {
        match self {
            Object::Event(e) => e.is_signaled(),
            Object::Thread { exited } => *exited,
            Object::Socket { signaled, .. } => *signaled,
        }
    }

    /// Sets or resets an object an I/O completion or a network event signals: an event, or
    /// a socket used as one (Doc: WSAGetOverlappedResult; Wine sock.c
    /// test_nonblocking_async_recv).
    pub fn set_signaled(&mut self, on: bool) {
        match self {
            Object::Event(e) if on => e.set(),
            Object::Event(e) => e.reset(),
            Object::Socket { signaled, .. } => *signaled = on,
            Object::Thread { .. } => unreachable!("only the thread's end signals a thread object"),
        }
    }

    /// The side effect of a satisfied wait (Doc: WaitForMultipleObjectsEx; Wine kernel32
    /// sync.c test_WaitForMultipleObjects): only auto-reset events change.
    pub fn satisfy(&mut self) {
        match self {
            Object::Event(e) => e.satisfy(),
            Object::Thread { exited } => assert!(*exited, "a wait was satisfied by a live thread"),
            // A file object is a notification object: a wait consumes nothing.
            Object::Socket { .. } => {}
        }
    }
}

/// One slot of the table, with what a leak report needs to name the object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub host: HostId,
    pub open: bool,
    pub object: Object,
    /// The engine's index of the thread that created the object.
    pub created_by: u32,
    /// Virtual time of the creation, in nanoseconds.
    pub created_ns: u64,
}

/// Every object created in a run, indexed by [`Handle::index`].
#[derive(Debug, Default)]
pub struct Kernel {
    slots: Vec<ObjectInfo>,
}

impl Kernel {
    pub fn new() -> Kernel {
        Kernel::default()
    }

    /// Puts a new object in the table and gives out the next handle value.
    pub fn insert(&mut self, host: HostId, object: Object, created_by: u32, created_ns: u64) -> Handle {
        let handle = Handle::from_index(self.slots.len());
        self.slots.push(ObjectInfo { host, open: true, object, created_by, created_ns });
        handle
    }

    /// The object behind an open handle of `host`. Any other value (never given out,
    /// closed, or another host's) is `ERROR_INVALID_HANDLE`, as Windows reports it.
    pub fn get(&self, host: HostId, handle: Handle) -> Result<&Object, Win32Error> {
        match self.slot(handle) {
            Some(s) if s.open && s.host == host => Ok(&s.object),
            _ => Err(ERROR_INVALID_HANDLE),
        }
    }

    /// The event behind an open handle of `host`. A handle to another kind of object is
    /// `ERROR_INVALID_HANDLE` too (NT's STATUS_OBJECT_TYPE_MISMATCH maps to it).
    pub fn event_mut(&mut self, host: HostId, handle: Handle) -> Result<&mut Event, Win32Error> {
        match self.slot_mut(handle) {
            Some(ObjectInfo { open: true, host: h, object: Object::Event(e), .. }) if *h == host => Ok(e),
            _ => Err(ERROR_INVALID_HANDLE),
        }
    }

    /// The transport's id of the socket behind an open handle of `host`, or `None` when the
    /// handle is not an open socket of that host (Winsock's `WSAENOTSOCK`).
    pub fn socket(&self, host: HostId, handle: Handle) -> Option<u32> {
        match self.get(host, handle) {
            Ok(Object::Socket { id, .. }) => Some(*id),
            _ => None,
        }
    }

    /// `CloseHandle`: the handle becomes invalid; the object keeps its last state for waits
    /// already in progress.
    pub fn close(&mut self, host: HostId, handle: Handle) -> Result<(), Win32Error> {
        self.get(host, handle)?;
        self.slot_mut(handle).expect("checked by get").open = false;
        Ok(())
    }

    /// Whether the object behind `handle` is signaled, its handle open or closed; `false`
    /// for a handle never given out.
    pub fn is_signaled(&self, handle: Handle) -> bool {
        self.slot(handle).is_some_and(|s| s.object.is_signaled())
    }

    /// The object a value was given out for, open or closed. For the engine, which resolves
    /// handles once when a wait starts and then follows the objects.
    pub fn object(&self, handle: Handle) -> &Object {
        &self.slot(handle).unwrap_or_else(|| panic!("handle {handle} was never given out")).object
    }

    pub fn object_mut(&mut self, handle: Handle) -> &mut Object {
        &mut self.slot_mut(handle).unwrap_or_else(|| panic!("handle {handle} was never given out")).object
    }

    /// Marks a thread object as ended, which signals it for good.
    pub fn thread_exited(&mut self, handle: Handle) {
        match self.object_mut(handle) {
            Object::Thread { exited } => {
                assert!(!*exited, "thread {handle} ended twice");
                *exited = true;
            }
            other => unreachable!("{handle} is not a thread: {other:?}"),
        }
    }

    /// The handles still open, in the order they were given out.
    pub fn open_handles(&self) -> impl Iterator<Item = (Handle, &ObjectInfo)> {
        self.slots.iter().enumerate().filter(|(_, s)| s.open).map(|(i, s)| (Handle::from_index(i), s))
    }

    fn slot(&self, handle: Handle) -> Option<&ObjectInfo> {
        self.slots.get(handle.index()?)
    }

    fn slot_mut(&mut self, handle: Handle) -> Option<&mut ObjectInfo> {
        self.slots.get_mut(handle.index()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Reset;

    fn event() -> Object {
        Object::Event(Event::new(Reset::Manual, false))
    }

    #[test]
    fn handles_are_never_reused_and_closed_ones_are_invalid() {
        let mut k = Kernel::new();
        let a = k.insert(0, event(), 0, 0);
        k.close(0, a).unwrap();
        let b = k.insert(0, event(), 0, 0);
        assert_ne!(a, b);
        assert_eq!(k.get(0, a), Err(ERROR_INVALID_HANDLE));
        assert_eq!(k.close(0, a), Err(ERROR_INVALID_HANDLE));
        assert!(k.get(0, b).is_ok());
    }

    #[test]
    fn a_handle_is_invalid_on_another_host() {
        let mut k = Kernel::new();
        let a = k.insert(0, event(), 0, 0);
        assert_eq!(k.get(1, a), Err(ERROR_INVALID_HANDLE));
        assert_eq!(k.event_mut(1, a), Err(ERROR_INVALID_HANDLE));
    }

    #[test]
    fn a_thread_handle_is_not_an_event() {
        let mut k = Kernel::new();
        let t = k.insert(0, Object::Thread { exited: false }, 0, 0);
        assert_eq!(k.event_mut(0, t), Err(ERROR_INVALID_HANDLE));
    }

    #[test]
    fn values_never_given_out_are_invalid() {
        let k = Kernel::new();
        for v in [0, 1, 0x100, 0x103, usize::MAX] {
            assert_eq!(k.get(0, Handle(v)), Err(ERROR_INVALID_HANDLE), "{v:#x}");
        }
    }

    #[test]
    fn open_handles_lists_only_open_ones_in_order() {
        let mut k = Kernel::new();
        let a = k.insert(0, event(), 0, 0);
        let b = k.insert(0, event(), 0, 0);
        let c = k.insert(1, event(), 0, 0);
        k.close(0, b).unwrap();
        let open: Vec<Handle> = k.open_handles().map(|(h, _)| h).collect();
        assert_eq!(open, vec![a, c]);
    }
}
