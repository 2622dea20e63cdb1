//! Text a program passes and is given: NUL-terminated strings of `char` (the ANSI
//! functions) or `WCHAR` (the wide ones).

use crate::memory;
use windows_sys::Win32::Networking::WinSock::WSAEFAULT;
use wsasim_sim::Value;

/// The longest string read (NI_MAXHOST, 1025 with its NUL).
const MAX: usize = 1024;

/// A character: `u8` for the ANSI functions, `u16` for the wide ones.
pub(crate) trait Unit: Copy + Default + PartialEq + 'static {
    fn encode(text: &str) -> Vec<Self>;
    fn decode(units: &[Self]) -> String;
}

impl Unit for u8 {
    fn encode(text: &str) -> Vec<u8> {
        text.as_bytes().to_vec()
    }
    fn decode(units: &[u8]) -> String {
        String::from_utf8_lossy(units).into_owned()
    }
}

impl Unit for u16 {
    fn encode(text: &str) -> Vec<u16> {
        text.encode_utf16().collect()
    }
    fn decode(units: &[u16]) -> String {
        String::from_utf16_lossy(units)
    }
}

/// A string argument: `Ok(None)` for NULL, `Err(WSAEFAULT)` for memory that cannot be read.
///
/// # Safety
/// The caller's pointer, as the program promised Windows.
pub(crate) unsafe fn read<C: Unit>(p: *const C) -> Result<Option<String>, u32> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: the caller's promise.
    let units = unsafe { memory::text(p, MAX) }.ok_or(WSAEFAULT as u32)?;
    Ok(Some(C::decode(&units)))
}

/// Writes `text` and its NUL at `at`.
///
/// # Safety
/// `at` holds `text.len() + 1` units.
pub(crate) unsafe fn write<C: Unit>(text: &[C], at: *mut C) {
    // SAFETY: the caller's promise.
    unsafe {
        std::ptr::copy_nonoverlapping(text.as_ptr(), at, text.len());
        at.add(text.len()).write(C::default());
    }
}

/// How the trace shows a string argument.
pub(crate) fn show(text: &Result<Option<String>, u32>) -> Value {
    match text {
        Ok(Some(t)) => Value::Text(format!("{t:?}")),
        Ok(None) => Value::Ptr(false),
        Err(_) => Value::Ptr(true),
    }
}
