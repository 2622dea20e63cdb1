//! What the simulator can check of the memory a program passes: that a range is mapped for
//! reading, and for writing where a call fills it in, when the call is made. Windows probes a
//! buffer the same way before it uses it and fails the call with WSAEFAULT instead of
//! faulting (Doc: send, WSAEFAULT: "The buf parameter is not completely contained in a valid
//! part of the user address space"; Wine sock.c test_read_events: `recv(s, buf, -1, 0)`
//! fails with WSAEFAULT).
//!
//! What neither can tell is memory that is mapped but belongs to something else: a length
//! that runs past a buffer into the next object of the heap or stack is read or written as
//! Windows would, silently.
//!
//! The probe asks the kernel to copy one byte of every 4 KiB page of the range
//! (`process_vm_readv` on this process, and `process_vm_writev` of the same byte back for a
//! range to be written), which fails for a page that is not mapped so, rather than touching
//! it. Pages found good are remembered, so a program that reuses its buffers makes no
//! system call after the first. Where the kernel refuses the probe itself (a sandbox that
//! forbids these calls), every range counts as good, as it did before probing.

use std::cell::Cell;

/// The granule probed: the smallest page size of the platforms wsasim runs on.
const PAGE: usize = 4096;

/// How many good pages are remembered (a power of two), each in the slot its hashed page
/// number picks: enough that a program's buffers, stacks and arrays rarely push each
/// other out, for 32 KiB an OS thread.
const REMEMBERED_BITS: u32 = 12;

/// The low addresses no program has.
const NULL_PARTITION: usize = 0x1_0000;

/// How many pages one system call probes.
const PER_CALL: usize = 64;

thread_local! {
    /// Good pages, each as `(page + 1) << 1 | writable`; 0 for none.
    static KNOWN: [Cell<u64>; 1 << REMEMBERED_BITS] = const { [const { Cell::new(0) }; 1 << REMEMBERED_BITS] };
}

/// Which way a call uses memory: reads it (a send's buffers), or fills it in as well (a
/// receive's buffers, a set `select` rewrites).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    Read,
    Write,
}

/// Whether the `len` bytes at `ptr` can be used as `access` says.
pub(crate) fn usable(ptr: *const u8, len: usize, access: Access) -> bool {
    probe(ptr as usize, len, access == Access::Write)
}

fn probe(start: usize, len: usize, write: bool) -> bool {
    if len == 0 {
        return true;
    }
    let Some(last) = start.checked_add(len - 1) else { return false };
    // The first 64 KiB are never mapped, on Windows (Microsoft KB Q92764, "Non-Addressable
    // Range in Address Space": 0x00000000 to 0x0000FFFF) and Linux alike (vm.mmap_min_addr):
    // NULL is refused without asking the kernel, so also where the kernel refuses the probe.
    if start < NULL_PARTITION {
        return false;
    }
    let (first, last) = (start / PAGE, last / PAGE);
    // The common case, a buffer within a page used before: no system call.
    if first == last && known(first, write) {
        return true;
    }
    // Pages are probed in batches, in order, so a bad range costs the pages up to its first
    // bad one, however long it says it is.
    let mut unknown = (first..=last).filter(|page| !known(*page, write)).peekable();
    let mut batch = [0; PER_CALL];
    while unknown.peek().is_some() {
        let mut n = 0;
        for page in unknown.by_ref().take(PER_CALL) {
            batch[n] = (page * PAGE).max(start);
            n += 1;
        }
        if !kernel_probe(&batch[..n], write) {
            return false;
        }
        for address in &batch[..n] {
            remember(address / PAGE, write);
        }
    }
    true
}

fn slot(page: usize) -> usize {
    ((page as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - REMEMBERED_BITS)) as usize
}

fn known(page: usize, write: bool) -> bool {
    let entry = KNOWN.with(|k| k[slot(page)].get());
    let good = (page as u64 + 1) << 1;
    entry == good | 1 || (!write && entry == good)
}

fn remember(page: usize, writable: bool) {
    KNOWN.with(|k| k[slot(page)].set((page as u64 + 1) << 1 | u64::from(writable)));
}

/// Copies the byte at each address into a scratch buffer (and back, to check writing),
/// through the kernel, which reports a page it cannot reach instead of faulting.
fn kernel_probe(addresses: &[usize], write: bool) -> bool {
    let mut scratch = [0u8; PER_CALL];
    let local = [libc::iovec { iov_base: scratch.as_mut_ptr().cast(), iov_len: addresses.len() }];
    let mut remote = [libc::iovec { iov_base: std::ptr::null_mut(), iov_len: 1 }; PER_CALL];
    for (iov, a) in remote.iter_mut().zip(addresses) {
        iov.iov_base = *a as *mut libc::c_void;
    }
    let remote = &remote[..addresses.len()];
    // SAFETY: the kernel checks the remote ranges itself; the local one is `scratch`.
    let read = unsafe {
        libc::process_vm_readv(libc::getpid(), local.as_ptr(), 1, remote.as_ptr(), remote.len() as _, 0)
    };
    if read < 0 {
        return refused_probe();
    }
    if read as usize != addresses.len() {
        return false;
    }
    if !write {
        return true;
    }
    // SAFETY: as above; each byte is written back as it was just read.
    let written = unsafe {
        libc::process_vm_writev(libc::getpid(), local.as_ptr(), 1, remote.as_ptr(), remote.len() as _, 0)
    };
    if written < 0 { refused_probe() } else { written as usize == addresses.len() }
}

/// A probe that failed as a whole: a bad address (EFAULT) is a bad range; the kernel
/// refusing the call (EPERM, ENOSYS) leaves the range unchecked, taken as good.
fn refused_probe() -> bool {
    std::io::Error::last_os_error().raw_os_error() != Some(libc::EFAULT)
}

/// The NUL-terminated string of `T` units at `p` (`char` or `WCHAR`), without its NUL, if
/// every page it spans is mapped and it ends within `max` units; each page is probed before
/// it is read, so a string that runs into unmapped memory is refused, not followed.
///
/// # Safety
/// `p` is the caller's pointer to a string, as the program promised Windows.
pub(crate) unsafe fn text<T: Copy + Default + PartialEq>(p: *const T, max: usize) -> Option<Vec<T>> {
    let mut units = Vec::new();
    let mut next = p;
    while units.len() <= max {
        let at = next as usize;
        // The first unit, and each whose last byte is in a page not yet probed.
        let new_page = (at + size_of::<T>() - 1) % PAGE < size_of::<T>();
        if (units.is_empty() || new_page) && !usable(next.cast(), size_of::<T>(), Access::Read) {
            return None;
        }
        // SAFETY: the unit's page was just found mapped.
        let unit = unsafe { next.read_unaligned() };
        if unit == T::default() {
            return Some(units);
        }
        units.push(unit);
        next = next.wrapping_add(1);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapped_memory_is_good_and_the_rest_is_not() {
        let buffer = vec![7u8; 3 * PAGE];
        use Access::{Read, Write};
        assert!(usable(buffer.as_ptr(), buffer.len(), Read));
        let mut owned = buffer.clone();
        assert!(usable(owned.as_mut_ptr().cast_const(), owned.len(), Write));
        assert_eq!(owned, buffer, "writing back leaves the bytes as they were");
        assert!(!usable(std::ptr::dangling(), 1, Read), "address 1 is never mapped");
        assert!(!usable(buffer.as_ptr(), usize::MAX, Read), "a length past the end of the address space");
        assert!(!usable(buffer.as_ptr(), 1 << 46, Read), "a length past what is mapped");
        assert!(usable(std::ptr::null(), 0, Read));
        assert!(
            !usable(std::ptr::null(), 1, Read) && !usable(std::ptr::without_provenance(0xffff), 1, Read),
            "the first 64 KiB"
        );
        static TEXT: &str = "read-only";
        assert!(usable(TEXT.as_ptr(), TEXT.len(), Read));
        assert!(!usable(TEXT.as_ptr(), TEXT.len(), Write), "a constant cannot be written");
    }
}
