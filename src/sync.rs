//! Locks and condition variables for simulated threads, mirroring `std::sync`.
//!
//! Locking, unlocking, waiting and notifying are scheduling points. Which waiter gets a
//! released mutex, and which waiter `notify_one` wakes, is the strategy's choice: `std`
//! promises no order, so a program must not depend on one. The data sits in a
//! `std::sync::Mutex`, which also gives poisoning its std meaning.

use crate::call::enter;
use std::ops::{Deref, DerefMut};
use std::sync::{LockResult, PoisonError, TryLockError, TryLockResult};
use std::time::Duration;
use wsasim_sim::runtime::{self, Cx};
use wsasim_sim::{Blocker, SyncCell, SyncId, Value, Wake};

/// A mutual exclusion lock, as `std::sync::Mutex`.
#[derive(Debug, Default)]
pub struct Mutex<T: ?Sized> {
    cell: SyncCell,
    data: std::sync::Mutex<T>,
}

impl<T> Mutex<T> {
    pub const fn new(value: T) -> Mutex<T> {
        Mutex { cell: SyncCell::new(), data: std::sync::Mutex::new(value) }
    }

    pub fn into_inner(self) -> LockResult<T> {
        self.data.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Takes the lock, parking while another thread holds it.
    pub fn lock(&self) -> LockResult<MutexGuard<'_, T>> {
        let call = enter("Mutex::lock");
        let id = self.id(call.cx);
        if let Err(owner) = call.with(|w| w.try_lock(id)) {
            // std: "might panic or deadlock"; a panic names the bug at once.
            assert_ne!(
                owner,
                call.with(|w| w.current()),
                "wsasim: a Mutex locked twice by one thread would deadlock"
            );
            let wake = call.cx.block(call.name, &[sync_arg(id)], Blocker::Lock(id), None);
            assert!(matches!(wake, Wake::Acquired | Wake::Timeout), "a lock woken by {wake:?}");
        }
        call.done(&[sync_arg(id)], Value::Void, None);
        self.guard(id)
    }

    /// Takes the lock if it is free.
    pub fn try_lock(&self) -> TryLockResult<MutexGuard<'_, T>> {
        let call = enter("Mutex::try_lock");
        let id = self.id(call.cx);
        let taken = call.with(|w| w.try_lock(id)).is_ok();
        call.done(&[sync_arg(id)], Value::Bool(taken.into()), None);
        if !taken {
            return Err(TryLockError::WouldBlock);
        }
        self.guard(id).map_err(TryLockError::Poisoned)
    }

    pub fn is_poisoned(&self) -> bool {
        self.data.is_poisoned()
    }

    pub fn get_mut(&mut self) -> LockResult<&mut T> {
        self.data.get_mut()
    }

    fn id(&self, cx: Cx) -> SyncId {
        cx.with(|w| w.sync_id(&self.cell, true))
    }

    /// The guard of a lock this thread now holds.
    fn guard(&self, id: SyncId) -> LockResult<MutexGuard<'_, T>> {
        let wrap = |inner| MutexGuard { mutex: self, id, inner: Some(inner) };
        match self.data.try_lock() {
            Ok(inner) => Ok(wrap(inner)),
            Err(TryLockError::Poisoned(p)) => Err(PoisonError::new(wrap(p.into_inner()))),
            Err(TryLockError::WouldBlock) => {
                panic!(
                    "wsasim: a Mutex is held by a thread that was torn down; it cannot be taken while the run ends"
                )
            }
        }
    }
}

/// The holder's access to a [`Mutex`]'s data. Dropping it releases the lock.
#[derive(Debug)]
pub struct MutexGuard<'a, T: ?Sized> {
    mutex: &'a Mutex<T>,
    id: SyncId,
    /// `None` only while a [`Condvar`] wait has released the lock.
    inner: Option<std::sync::MutexGuard<'a, T>>,
}

impl<T: ?Sized> MutexGuard<'_, T> {
    /// Releases the lock: a scheduling point, except while unwinding, when no thread may
    /// switch.
    fn release(&mut self) {
        self.inner = None;
        if std::thread::panicking() {
            runtime::with_world("Mutex::unlock", |w| w.unlock(self.id));
        } else {
            let call = enter("Mutex::unlock");
            call.with(|w| w.unlock(self.id));
            call.done(&[sync_arg(self.id)], Value::Void, None);
        }
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.inner.as_ref().expect("a guard holds its lock")
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.inner.as_mut().expect("a guard holds its lock")
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        if self.inner.is_some() && runtime::in_simulation() {
            self.release();
        }
    }
}

/// Whether a timed wait on a [`Condvar`] ended by its timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitTimeoutResult(bool);

impl WaitTimeoutResult {
    pub fn timed_out(&self) -> bool {
        self.0
    }
}

/// A condition variable, as `std::sync::Condvar`. There are no spurious wake-ups.
#[derive(Debug, Default)]
pub struct Condvar {
    cell: SyncCell,
}

impl Condvar {
    pub const fn new() -> Condvar {
        Condvar { cell: SyncCell::new() }
    }

    /// Releases the guard's lock, parks until notified, and takes the lock again.
    pub fn wait<'a, T: ?Sized>(&self, guard: MutexGuard<'a, T>) -> LockResult<MutexGuard<'a, T>> {
        self.wait_until(guard, None).map(|(g, _)| g).map_err(|p| PoisonError::new(p.into_inner().0))
    }

    pub fn wait_while<'a, T: ?Sized, F>(
        &self,
        mut guard: MutexGuard<'a, T>,
        mut condition: F,
    ) -> LockResult<MutexGuard<'a, T>>
    where
        F: FnMut(&mut T) -> bool,
    {
        while condition(&mut *guard) {
            guard = self.wait(guard)?;
        }
        Ok(guard)
    }

    /// As [`Condvar::wait`], for at most `dur` of virtual time.
    pub fn wait_timeout<'a, T: ?Sized>(
        &self,
        guard: MutexGuard<'a, T>,
        dur: Duration,
    ) -> LockResult<(MutexGuard<'a, T>, WaitTimeoutResult)> {
        self.wait_until(guard, Some(u64::try_from(dur.as_nanos()).unwrap_or(u64::MAX)))
    }

    pub fn wait_timeout_while<'a, T: ?Sized, F>(
        &self,
        mut guard: MutexGuard<'a, T>,
        dur: Duration,
        mut condition: F,
    ) -> LockResult<(MutexGuard<'a, T>, WaitTimeoutResult)>
    where
        F: FnMut(&mut T) -> bool,
    {
        let end = crate::time::Instant::now() + dur;
        while condition(&mut *guard) {
            let left = end.saturating_duration_since(crate::time::Instant::now());
            if left.is_zero() {
                return Ok((guard, WaitTimeoutResult(true)));
            }
            guard = match self.wait_timeout(guard, left) {
                Ok((g, _)) => g,
                Err(p) => {
                    return Err(PoisonError::new((p.into_inner().0, WaitTimeoutResult(false))));
                }
            };
        }
        Ok((guard, WaitTimeoutResult(false)))
    }

    pub fn notify_one(&self) {
        self.notify("Condvar::notify_one", false);
    }

    pub fn notify_all(&self) {
        self.notify("Condvar::notify_all", true);
    }

    fn notify(&self, name: &'static str, all: bool) {
        let call = enter(name);
        let id = call.with(|w| w.sync_id(&self.cell, false));
        call.with(|w| w.notify(id, all));
        call.done(&[sync_arg(id)], Value::Void, None);
    }

    fn wait_until<'a, T: ?Sized>(
        &self,
        mut guard: MutexGuard<'a, T>,
        timeout_ns: Option<u64>,
    ) -> LockResult<(MutexGuard<'a, T>, WaitTimeoutResult)> {
        let call = enter("Condvar::wait");
        let id = call.with(|w| w.sync_id(&self.cell, false));
        let mutex = guard.mutex;
        guard.inner = None;
        call.with(|w| w.unlock(guard.id));
        std::mem::forget(guard);
        let deadline = timeout_ns.map(|t| call.with(|w| w.now_ns()).saturating_add(t));
        let wake = call.cx.block(call.name, &[sync_arg(id)], Blocker::Notify(id), deadline);
        let timed_out = match wake {
            Wake::Notified => false,
            Wake::Timeout => true,
            other => unreachable!("a condition variable wait woken by {other:?}"),
        };
        call.done(&[sync_arg(id)], Value::Str(if timed_out { "timed out" } else { "notified" }), None);
        match mutex.lock() {
            Ok(g) => Ok((g, WaitTimeoutResult(timed_out))),
            Err(p) => Err(PoisonError::new((p.into_inner(), WaitTimeoutResult(timed_out)))),
        }
    }
}

fn sync_arg(id: SyncId) -> Value {
    Value::Text(format!("#{}", id.0))
}
