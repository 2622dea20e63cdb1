//! `GetTickCount` and `GetTickCount64`, on the virtual clock.
//!
//! The count starts at 0 when the run starts and has a 1 ms resolution; Windows counts
//! from boot with a resolution of 10 to 16 ms (Doc: GetTickCount function). A program that
//! only subtracts tick counts cannot tell.

use crate::call::enter;
use wsasim_sim::Value;

/// `GetTickCount`: milliseconds of virtual time, wrapping at 2^32 like Windows' after 49.7
/// days.
pub unsafe fn GetTickCount() -> u32 {
    let call = enter("GetTickCount");
    let ms = call.with(|w| w.now_ns() / 1_000_000) as u32;
    call.done(&[], Value::Int(ms.into()), None);
    ms
}

/// `GetTickCount64`: milliseconds of virtual time.
pub unsafe fn GetTickCount64() -> u64 {
    let call = enter("GetTickCount64");
    let ms = call.with(|w| w.now_ns() / 1_000_000);
    call.done(&[], Value::Int(ms as i64), None);
    ms
}
