//! Memory the simulated system gives the program: what `getaddrinfo` returns until
//! `freeaddrinfo`, and the per-thread buffers of `gethostbyname`, `inet_ntoa` and their kin,
//! which each call on the same thread overwrites (Doc: gethostbyname, "allocated by Windows
//! Sockets... only one copy of this structure is allocated per thread").
//!
//! All of it belongs to the run: what the program never frees is freed when the run ends,
//! so no seed leaks into the next.

use crate::ThreadId;
use std::any::{Any, TypeId};
use std::collections::BTreeMap;

#[derive(Debug, Default)]
pub(crate) struct Given {
    /// Blocks given until the program hands them back, by address.
    lent: BTreeMap<usize, Box<dyn Any>>,
    /// One buffer of each kind per thread, by the thread and the buffer's type.
    per_thread: BTreeMap<(ThreadId, TypeId), Box<dyn Any>>,
}

impl Given {
    pub(crate) fn lend<T: Any>(&mut self, value: T) -> *mut T {
        let mut block = Box::new(value);
        let at: *mut T = &mut *block;
        self.lent.insert(at as usize, block);
        at
    }

    /// The block lent at `at`, if one of type `T` was and is still out.
    pub(crate) fn take_back<T: Any>(&mut self, at: *const T) -> Option<T> {
        let key = at as usize;
        if !self.lent.get(&key).is_some_and(|b| b.is::<T>()) {
            return None;
        }
        let block = self.lent.remove(&key).expect("just looked").downcast::<T>().expect("just checked");
        Some(*block)
    }

    /// `thread`'s buffer of type `T`, made the first time it is asked for. It stays where
    /// it is for the run, so a pointer into it given earlier sees what the last call wrote.
    pub(crate) fn per_thread<T: Any + Default>(&mut self, thread: ThreadId) -> &mut T {
        let block =
            self.per_thread.entry((thread, TypeId::of::<T>())).or_insert_with(|| Box::new(T::default()));
        block.downcast_mut::<T>().expect("one type per key")
    }
}
