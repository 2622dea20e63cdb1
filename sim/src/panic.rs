//! Telling a simulated thread's panic from the engine's own.
//!
//! A panic inside a simulated thread is an outcome of the run: it is caught, its message and
//! location are kept for the failure report, and nothing is printed (a sweep may see
//! thousands). Any other panic is printed by the hook that was installed before ours.

use std::cell::{Cell, RefCell};
use std::panic::PanicHookInfo;
use std::sync::Once;

/// The payload that unwinds a simulated thread at the end of a run. It is not a failure.
pub(crate) struct Teardown;

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
/// which must not reach a trace.
pub(crate) fn take_message() -> (String, String) {
    MESSAGE.take().unwrap_or_else(|| ("panicked (no message)".to_owned(), String::new()))
}

fn describe(info: &PanicHookInfo<'_>) -> (String, String) {
    let payload = info.payload();
    let text = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("Box<dyn Any>");
    let location =
        info.location().map_or_else(String::new, |l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
    (text.to_owned(), location)
}
