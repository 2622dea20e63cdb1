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
    static MESSAGE: RefCell<Option<String>> = const { RefCell::new(None) };
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

/// The message of the last panic of a simulated thread on this OS thread.
pub(crate) fn take_message() -> String {
    MESSAGE
        .take()
        .unwrap_or_else(|| "panicked (no message)".to_owned())
}

fn describe(info: &PanicHookInfo<'_>) -> String {
    let payload = info.payload();
    let text = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("Box<dyn Any>");
    match info.location() {
        Some(l) => format!("{text} (at {}:{}:{})", l.file(), l.line(), l.column()),
        None => text.to_owned(),
    }
}
