//! Simulated threads, mirroring `std::thread`.
//!
//! Every function here is a scheduling point. A thread's handle is a Win32 thread object:
//! [`JoinHandle::as_raw_handle`] gives it, as std's `JoinHandle` does on Windows, and a
//! wait on it is satisfied once the thread has ended.

use crate::call::enter;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;
use windows_sys::Win32::Foundation::HANDLE;
use wsasim_model::{Handle, WaitSpec};
use wsasim_sim::runtime::{self, Cx};
use wsasim_sim::{Blocker, ThreadId, Value, Wake};

/// A simulated thread, as [`current`] or [`JoinHandle::thread`] gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thread {
    id: ThreadId,
    name: String,
}

impl Thread {
    pub fn id(&self) -> ThreadId {
        self.id
    }

    /// `host/main` for a host's main thread, `host/tN` for the Nth thread of a host.
    pub fn name(&self) -> Option<&str> {
        Some(&self.name)
    }
}

/// Spawns a simulated thread on the calling thread's host. Unlike `std::thread::spawn`,
/// `f` need not be `Send`: every simulated thread runs on one OS thread.
pub fn spawn<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + 'static,
    T: 'static,
{
    let call = enter("thread::spawn");
    let result = Rc::new(RefCell::new(None));
    let slot = Rc::clone(&result);
    let (id, handle) = call
        .cx
        .spawn(Box::new(move || *slot.borrow_mut() = Some(f())));
    let name = call.with(|w| w.thread_name(id).to_owned());
    call.done(&[], Value::Text(name.clone()), None);
    JoinHandle {
        thread: Thread { id, name },
        handle,
        result,
    }
}

/// An owned permission to join a simulated thread. Dropping it closes the thread's handle
/// and detaches the thread, as std's does.
#[derive(Debug)]
pub struct JoinHandle<T> {
    thread: Thread,
    handle: Handle,
    result: Rc<RefCell<Option<T>>>,
}

impl<T> JoinHandle<T> {
    /// Waits for the thread to end: its value, or the payload of its panic.
    pub fn join(self) -> std::thread::Result<T> {
        let call = enter("JoinHandle::join");
        wait_for(call.cx, "JoinHandle::join", self.handle);
        let value = self.result.borrow_mut().take();
        let r = value.ok_or_else(|| {
            call.cx
                .take_panic(self.thread.id)
                .expect("an ended thread returned or panicked")
        });
        let ret = if r.is_ok() { "Ok" } else { "Err" };
        call.done(
            &[Value::Text(self.thread.name.clone())],
            Value::Str(ret),
            None,
        );
        r
    }

    pub fn thread(&self) -> &Thread {
        &self.thread
    }

    pub fn is_finished(&self) -> bool {
        let cx = enter("JoinHandle::is_finished").cx;
        cx.with(|w| w.kernel().object(self.handle).is_signaled())
    }

    /// The thread's Win32 handle, valid until this `JoinHandle` drops.
    pub fn as_raw_handle(&self) -> HANDLE {
        self.handle.0 as HANDLE
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        if runtime::in_simulation() {
            runtime::with_world("JoinHandle::drop", |w| {
                let host = w.host();
                // The program may have closed it through `CloseHandle` already.
                let _ = w.kernel_mut().close(host, self.handle);
            });
        }
    }
}

/// Parks until a thread object is signaled.
fn wait_for(cx: Cx, name: &'static str, thread: Handle) {
    let handles = [thread];
    let spec = WaitSpec {
        handles: &handles,
        all: false,
    };
    if cx.with(|w| w.kernel_mut().satisfy(spec)).is_some() {
        return;
    }
    let on = Blocker::Objects {
        handles: handles.to_vec(),
        all: false,
        alertable: false,
    };
    let wake = cx.block(name, &[Value::Hex(thread.0 as u64)], on, None);
    assert!(
        matches!(wake, Wake::Object(0) | Wake::Timeout),
        "a join woken by {wake:?}"
    );
}

/// The calling simulated thread.
pub fn current() -> Thread {
    runtime::with_world("thread::current", |w| {
        let id = w.current();
        Thread {
            id,
            name: w.thread_name(id).to_owned(),
        }
    })
}

/// Parks the calling thread for `dur` of virtual time.
pub fn sleep(dur: Duration) {
    let call = enter("thread::sleep");
    crate::wait::sleep_ns(
        call.cx,
        call.name,
        u64::try_from(dur.as_nanos()).unwrap_or(u64::MAX),
    );
    call.done(&[Value::Text(format!("{dur:?}"))], Value::Void, None);
}

/// A scheduling point and nothing else.
pub fn yield_now() {
    enter("thread::yield_now");
}
