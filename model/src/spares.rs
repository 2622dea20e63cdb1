//! Buffers kept for reuse: a run allocates the same few kinds of buffer over and over (a
//! segment's payload, an operation's buffer list, its guard), and taking back one that an
//! earlier use left saves the allocation, in a sweep of many seeds most of all.

use std::cell::RefCell;

/// The spares of one kind, to be held in a `thread_local!`. Values go back empty; what is
/// taken is handed out as it was given back.
#[derive(Debug)]
pub struct Spares<T> {
    kept: RefCell<Vec<T>>,
}

impl<T> Spares<T> {
    /// The spares kept at most: more in use at once than this is not the common case,
    /// and the values beyond it are dropped.
    pub const KEPT_MAX: usize = 64;

    pub const fn new() -> Spares<T> {
        Spares { kept: RefCell::new(Vec::new()) }
    }

    /// A spare, if one was given back.
    pub fn take(&self) -> Option<T> {
        self.kept.borrow_mut().pop()
    }

    /// Gives `value` back, emptied by the caller, for a later `take`.
    pub fn give(&self, value: T) {
        let mut kept = self.kept.borrow_mut();
        if kept.len() < Self::KEPT_MAX {
            kept.push(value);
        }
    }
}

impl<T> Default for Spares<T> {
    fn default() -> Spares<T> {
        Spares::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_given_back_is_taken_again_up_to_the_most_kept() {
        let spares = Spares::<Vec<u8>>::new();
        assert_eq!(spares.take(), None);
        spares.give(Vec::with_capacity(8));
        assert_eq!(spares.take().map(|v| v.capacity() >= 8), Some(true));
        (0..Spares::<Vec<u8>>::KEPT_MAX + 5).for_each(|_| spares.give(Vec::new()));
        assert_eq!(std::iter::from_fn(|| spares.take()).count(), Spares::<Vec<u8>>::KEPT_MAX);
    }
}
