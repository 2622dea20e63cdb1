//! Telling a simulated thread's panic from the engine's own.
//!
//! A panic inside a simulated thread is an outcome of the run: it is caught, its message and
//! location are kept for the failure report, and nothing is printed (a sweep may see
//! thousands). Any other panic is printed by the hook that was installed before ours.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::panic::PanicHookInfo;
use std::sync::Once;

/// The payload that unwinds a simulated thread at the end of a run. It is not a failure.
pub(crate) struct Teardown;

/// The payload of [`crate::runtime::fail_run`]: a failure of the whole run, from any thread.
pub(crate) struct RunFailure(pub(crate) String);

thread_local! {
    static IN_SIMULATED_THREAD: Cell<bool> = const { Cell::new(false) };
    static MESSAGE: RefCell<Option<(String, String)>> = const { RefCell::new(None) };
}

pub(crate) fn install_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if IN_SIMULATED_THREAD.get() {
                MESSAGE.set(Some(describe(info)));
            } else {
                previous(info);
            }
        }));
    });
}

/// Marks whether the code running on this OS thread is a simulated thread's.
pub(crate) fn set_in_simulated_thread(yes: bool) {
    IN_SIMULATED_THREAD.set(yes);
}

/// The message and the location of the last panic of a simulated thread on this OS thread.
/// The location is kept apart because its path depends on where the sources were built,
/// which must not reach a trace. A panic raised by `std::panic::resume_unwind` skips the
/// hook: its message is its payload's, with no location.
pub(crate) fn take_message(payload: &(dyn Any + Send)) -> (String, String) {
    let hooked = MESSAGE.take();
    if let Some(f) = payload.downcast_ref::<RunFailure>() {
        return (f.0.clone(), String::new());
    }
    hooked.unwrap_or_else(|| {
        let text = payload_text(payload).unwrap_or("panicked (no message)");
        (text.to_owned(), String::new())
    })
}

fn payload_text(payload: &(dyn Any + Send)) -> Option<&str> {
    payload.downcast_ref::<&str>().copied().or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}

fn describe(info: &PanicHookInfo<'_>) -> (String, String) {
    let text = payload_text(info.payload()).unwrap_or("Box<dyn Any>");
    let location =
        info.location().map_or_else(String::new, |l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
    (text.to_owned(), location)
}
