//! One writer per client record inside the server: a command is decided
//! and committed under its record's lock, so commands to one record never
//! race each other here (the conflict retry remains for writers in other
//! processes). Commands to different records never wait for each other.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

/// An async lock per record id, kept only while someone holds or waits
/// for it: the map never grows past the records being written at once.
#[derive(Debug, Default)]
pub(crate) struct RecordLocks {
    slots: Mutex<HashMap<String, Slot>>,
}

#[derive(Debug)]
struct Slot {
    lock: Arc<AsyncMutex<()>>,
    /// Holders and waiters: the slot is removed when the last one leaves.
    users: usize,
}

/// Holds a record's lock until dropped.
#[derive(Debug)]
pub(crate) struct RecordGuard<'a> {
    // Fields drop in order: the lock is released before the ticket leaves.
    _held: OwnedMutexGuard<()>,
    _ticket: Ticket<'a>,
}

/// A place in a record's slot; leaving it removes the slot when nobody
/// else holds or waits for it, also when the wait was cancelled.
#[derive(Debug)]
struct Ticket<'a> {
    locks: &'a RecordLocks,
    key: String,
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        let mut slots = self.locks.slots();
        if let Some(slot) = slots.get_mut(&self.key) {
            slot.users -= 1;
            if slot.users == 0 {
                slots.remove(&self.key);
            }
        }
    }
}

impl RecordLocks {
    fn slots(&self) -> MutexGuard<'_, HashMap<String, Slot>> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for `record`'s lock (first come, first served) and holds it
    /// until the guard is dropped.
    pub(crate) async fn lock(&self, record: &str) -> RecordGuard<'_> {
        let (ticket, lock) = {
            let mut slots = self.slots();
            let slot = slots.entry(record.to_owned()).or_insert_with(|| Slot {
                lock: Arc::new(AsyncMutex::new(())),
                users: 0,
            });
            slot.users += 1;
            let ticket = Ticket {
                locks: self,
                key: record.to_owned(),
            };
            (ticket, Arc::clone(&slot.lock))
        };
        let held = lock.lock_owned().await;
        RecordGuard {
            _held: held,
            _ticket: ticket,
        }
    }

    /// Records with a holder or a waiter.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.slots().len()
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Waker};

    use super::*;

    /// Polls `f` once: true while it cannot finish.
    fn pending<F: Future + Unpin>(f: &mut F) -> bool {
        let mut cx = Context::from_waker(Waker::noop());
        Pin::new(f).poll(&mut cx).is_pending()
    }

    #[tokio::test]
    async fn one_holder_per_record_and_no_slot_left_behind() {
        let locks = RecordLocks::default();
        let a = locks.lock("a").await;
        // Another record is not held up.
        let b = locks.lock("b").await;
        assert_eq!(locks.len(), 2);
        // A second writer of `a` waits...
        let mut waiting = Box::pin(locks.lock("a"));
        assert!(pending(&mut waiting), "a second holder of one record waits");
        // ...and gets it once the first lets go.
        drop(a);
        let again = waiting.await;
        drop(again);
        drop(b);
        assert_eq!(locks.len(), 0, "slots are removed when unused");
    }

    #[tokio::test]
    async fn a_cancelled_wait_leaves_no_slot() {
        let locks = RecordLocks::default();
        let held = locks.lock("a").await;
        let mut waiting = Box::pin(locks.lock("a"));
        assert!(pending(&mut waiting));
        drop(waiting);
        assert_eq!(locks.len(), 1, "the holder's slot");
        drop(held);
        assert_eq!(locks.len(), 0);
    }
}
