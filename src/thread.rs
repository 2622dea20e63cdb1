//! Simulated threads, mirroring `std::thread`.
//!
//! Every function here is a scheduling point. A thread's handle is a Win32 thread object:
//! [`JoinHandle::as_raw_handle`] gives it, as std's `JoinHandle` does on Windows, and a
//! wait on it is satisfied once the thread has ended.

use crate::call::enter;
use std::any::Any;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;
use windows_sys::Win32::Foundation::HANDLE;
use windows_sys::Win32::Foundation::WAIT_OBJECT_0;
use windows_sys::Win32::System::Threading::INFINITE;
use wsasim_model::Handle;
use wsasim_sim::runtime;
use wsasim_sim::{ThreadId, Value};

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
    let (id, handle) = call.cx.spawn(Box::new(move || *slot.borrow_mut() = Some(f())));
    let name = call.with(|w| w.thread_name(id).to_owned());
    call.done(&[], Value::Text(name.clone()), None);
    JoinHandle { thread: Thread { id, name }, handle, result }
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
    /// Waits for the thread to end: its value, or the payload of its panic. A join left
    /// waiting when the run ends (in a destructor, while threads unwind) gives an `Err`.
    pub fn join(self) -> std::thread::Result<T> {
        let call = enter("JoinHandle::join");
        let args = [Value::Text(self.thread.name.clone())];
        // The wait follows the thread object, so a handle closed through `CloseHandle` does
        // not stop the join, as the pseudo-handle does not stop a thread's own waits.
        let wait = crate::wait::satisfy_or_park(call, &args, &[self.handle], false, INFINITE, false);
        let ended = wait == WAIT_OBJECT_0;
        let value = self.result.borrow_mut().take();
        let r = match value {
            Some(v) => Ok(v),
            // Neither returned nor panicked: it called `ExitThread`.
            None if ended => Err(call.cx.take_panic(self.thread.id).unwrap_or_else(|| {
                Box::new("wsasim: the thread ended by ExitThread, with no result") as Box<dyn Any + Send>
            })),
            None => {
                Err(Box::new("wsasim: the run ended before the joined thread did") as Box<dyn Any + Send>)
            }
        };
        call.done(&args, Value::Str(if r.is_ok() { "Ok" } else { "Err" }), None);
        r
    }

    pub fn thread(&self) -> &Thread {
        &self.thread
    }

    pub fn is_finished(&self) -> bool {
        let call = enter("JoinHandle::is_finished");
        let finished = call.with(|w| w.kernel().object(self.handle).is_signaled());
        call.done(&[Value::Text(self.thread.name.clone())], Value::Bool(finished.into()), None);
        finished
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

/// The calling simulated thread.
pub fn current() -> Thread {
    runtime::with_world("thread::current", |w| {
        let id = w.current();
        Thread { id, name: w.thread_name(id).to_owned() }
    })
}

/// Parks the calling thread for `dur` of virtual time.
pub fn sleep(dur: Duration) {
    let call = enter("thread::sleep");
    let args = [Value::Text(format!("{dur:?}"))];
    crate::wait::sleep_ns(call, &args, u64::try_from(dur.as_nanos()).unwrap_or(u64::MAX));
    call.done(&args, Value::Void, None);
}

/// A scheduling point at which the thread gives its step up, and nothing else.
pub fn yield_now() {
    crate::call::enter_yielding("thread::yield_now");
}
