//! The stream of updates from the engine to the window, bounded so that a
//! slow (or stalled) window never makes the engine's memory grow without
//! limit. Updates that describe a state rather than an event are kept once
//! each, the latest replacing older ones still waiting: a delivery record
//! per delivery id, health per destination, the virtual farm, the loaded
//! settings and secrets. The window still gets every record's final state.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;
use tokio::sync::mpsc::error::TryRecvError;

use super::delivery::health::ChannelHealth;
use super::delivery::log::{DEFAULT_LOG_CAPACITY, DeliveryId, DeliveryRecord};
use super::service::EngineUpdate;
use crate::core::settings::Channel;
use crate::engine::simulation::SimulationView;

/// Delivery records waiting for the window. The window keeps the newest
/// [`DEFAULT_LOG_CAPACITY`] records, so a record with that many newer ones
/// behind it would leave the window's log as soon as they arrive: dropping
/// it here instead loses nothing the window would show. The records are
/// shared with the engine's own log, so each waiting one costs a pointer.
pub const MAX_WAITING_RECORDS: usize = DEFAULT_LOG_CAPACITY;
/// Other updates waiting for the window (notices, answers to its
/// commands). They come from what the window asks for, so a window that
/// does not read also stops asking; the bound is for safety, and only
/// notices are dropped at it (with a line on stderr).
pub const MAX_WAITING_MESSAGES: usize = 1_024;

/// One waiting update, in the order the window should see it. Keyed kinds
/// keep their first place in the line; their latest value is in a map.
#[derive(Debug)]
enum Slot {
    Message(Box<EngineUpdate>),
    Record(DeliveryId),
    Health(Channel),
    Simulation,
    Loaded,
    Secrets,
    DuplicateWarnings,
    Printers,
}

#[derive(Default)]
struct Waiting {
    line: VecDeque<Slot>,
    messages: usize,
    records: HashMap<DeliveryId, Arc<DeliveryRecord>>,
    health: HashMap<Channel, ChannelHealth>,
    simulation: Option<SimulationView>,
    loaded: Option<EngineUpdate>,
    secrets: Option<EngineUpdate>,
    duplicate_warnings: Option<EngineUpdate>,
    printers: Option<EngineUpdate>,
}

impl Waiting {
    /// Puts a keyed value in its place: in line once, the latest value wins.
    fn keyed<T>(line: &mut VecDeque<Slot>, place: &mut Option<T>, value: T, slot: Slot) {
        if place.replace(value).is_none() {
            line.push_back(slot);
        }
    }

    fn push(&mut self, update: EngineUpdate) {
        match update {
            EngineUpdate::Delivery(record) => self.push_record(record),
            EngineUpdate::Health(destination, health) => {
                if self.health.insert(destination, health).is_none() {
                    self.line.push_back(Slot::Health(destination));
                }
            }
            EngineUpdate::Simulation(view) => {
                Self::keyed(&mut self.line, &mut self.simulation, view, Slot::Simulation)
            }
            update @ EngineUpdate::Loaded { .. } => {
                Self::keyed(&mut self.line, &mut self.loaded, update, Slot::Loaded)
            }
            update @ EngineUpdate::Secrets(_) => {
                Self::keyed(&mut self.line, &mut self.secrets, update, Slot::Secrets)
            }
            update @ EngineUpdate::DuplicateWarnings(_) => Self::keyed(
                &mut self.line,
                &mut self.duplicate_warnings,
                update,
                Slot::DuplicateWarnings,
            ),
            update @ EngineUpdate::Printers(_) => {
                Self::keyed(&mut self.line, &mut self.printers, update, Slot::Printers)
            }
            message => {
                if self.messages >= MAX_WAITING_MESSAGES {
                    self.drop_oldest_notice();
                }
                self.messages += 1;
                self.line.push_back(Slot::Message(Box::new(message)));
            }
        }
    }

    fn push_record(&mut self, record: Arc<DeliveryRecord>) {
        let id = record.id;
        if self.records.insert(id, record).is_some() {
            return;
        }
        if self.records.len() > MAX_WAITING_RECORDS {
            // The oldest waiting record is nearly always at the front.
            if let Some(i) = self.line.iter().position(|s| matches!(s, Slot::Record(_)))
                && let Some(Slot::Record(oldest)) = self.line.remove(i)
            {
                self.records.remove(&oldest);
            }
        }
        self.line.push_back(Slot::Record(id));
    }

    fn drop_oldest_notice(&mut self) {
        let notice = self
            .line
            .iter()
            .position(|s| matches!(s, Slot::Message(m) if matches!(**m, EngineUpdate::Notice(..))));
        if let Some(i) = notice
            && let Some(Slot::Message(message)) = self.line.remove(i)
            && let EngineUpdate::Notice(_, text) = *message
        {
            self.messages -= 1;
            eprintln!("farmhook: the window is not keeping up; a notice it did not show: {text}");
        }
    }

    fn pop(&mut self) -> Option<EngineUpdate> {
        loop {
            let update = match self.line.pop_front()? {
                Slot::Message(update) => {
                    self.messages -= 1;
                    Some(*update)
                }
                Slot::Record(id) => self.records.remove(&id).map(EngineUpdate::Delivery),
                Slot::Health(d) => self.health.remove(&d).map(|h| EngineUpdate::Health(d, h)),
                Slot::Simulation => self.simulation.take().map(EngineUpdate::Simulation),
                Slot::Loaded => self.loaded.take(),
                Slot::Secrets => self.secrets.take(),
                Slot::Printers => self.printers.take(),
                Slot::DuplicateWarnings => self.duplicate_warnings.take(),
            };
            if update.is_some() {
                return update;
            }
        }
    }

    fn len(&self) -> usize {
        self.line.len()
    }
}

struct Shared {
    waiting: Mutex<Waiting>,
    ready: Notify,
    senders: AtomicUsize,
    receiver_alive: AtomicBool,
}

fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, Waiting> {
    // Poison would only follow a panic in the short sections above, which do
    // no I/O; the data is still consistent enough to keep going.
    shared.waiting.lock().unwrap_or_else(|p| p.into_inner())
}

/// The engine's end: never blocks, never grows without limit.
pub struct UpdateSender {
    shared: Arc<Shared>,
}

/// The window's end, read like a tokio receiver.
pub struct UpdateReceiver {
    shared: Arc<Shared>,
}

/// A new bounded, coalescing update stream.
pub fn channel() -> (UpdateSender, UpdateReceiver) {
    let shared = Arc::new(Shared {
        waiting: Mutex::new(Waiting::default()),
        ready: Notify::new(),
        senders: AtomicUsize::new(1),
        receiver_alive: AtomicBool::new(true),
    });
    (
        UpdateSender {
            shared: shared.clone(),
        },
        UpdateReceiver { shared },
    )
}

impl UpdateSender {
    /// Queues an update; false when the window has gone.
    pub fn send(&self, update: EngineUpdate) -> bool {
        if !self.shared.receiver_alive.load(Ordering::Acquire) {
            return false;
        }
        lock(&self.shared).push(update);
        self.shared.ready.notify_one();
        true
    }

    /// Queues a delivery record without copying it (it is shared with the
    /// engine's log); false when the window has gone.
    pub fn send_record(&self, record: Arc<DeliveryRecord>) -> bool {
        if !self.shared.receiver_alive.load(Ordering::Acquire) {
            return false;
        }
        lock(&self.shared).push_record(record);
        self.shared.ready.notify_one();
        true
    }
}

impl Clone for UpdateSender {
    fn clone(&self) -> Self {
        self.shared.senders.fetch_add(1, Ordering::AcqRel);
        UpdateSender {
            shared: self.shared.clone(),
        }
    }
}

impl Drop for UpdateSender {
    fn drop(&mut self) {
        if self.shared.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.shared.ready.notify_one();
        }
    }
}

impl UpdateReceiver {
    /// The next update if one is waiting.
    pub fn try_recv(&mut self) -> Result<EngineUpdate, TryRecvError> {
        if let Some(update) = lock(&self.shared).pop() {
            return Ok(update);
        }
        if self.shared.senders.load(Ordering::Acquire) == 0 {
            Err(TryRecvError::Disconnected)
        } else {
            Err(TryRecvError::Empty)
        }
    }

    /// The next update; `None` once the engine has gone and all was read.
    pub async fn recv(&mut self) -> Option<EngineUpdate> {
        loop {
            match self.try_recv() {
                Ok(update) => return Some(update),
                Err(TryRecvError::Disconnected) => return None,
                Err(TryRecvError::Empty) => self.shared.ready.notified().await,
            }
        }
    }

    /// How many updates wait (after coalescing).
    pub fn len(&self) -> usize {
        lock(&self.shared).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Drop for UpdateReceiver {
    fn drop(&mut self) {
        self.shared.receiver_alive.store(false, Ordering::Release);
        // What waits will never be read.
        *lock(&self.shared) = Waiting::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::delivery::log::Outcome;
    use crate::engine::delivery::log::tests::record;
    use crate::engine::service::NoticeLevel;

    fn delivery(id: u64, outcome: Outcome) -> EngineUpdate {
        let mut r = record(id);
        r.outcome = outcome;
        EngineUpdate::Delivery(Arc::new(r))
    }

    #[test]
    fn the_window_gets_the_engines_own_record_not_a_copy() {
        let (tx, mut rx) = channel();
        let kept_by_the_engine = Arc::new(record(7));
        tx.send_record(kept_by_the_engine.clone());
        let Ok(EngineUpdate::Delivery(shown)) = rx.try_recv() else {
            panic!("a record");
        };
        assert!(Arc::ptr_eq(&shown, &kept_by_the_engine));
    }

    #[test]
    fn the_latest_state_of_a_record_replaces_the_waiting_one_in_its_place() {
        let (tx, mut rx) = channel();
        tx.send(delivery(1, Outcome::InProgress));
        tx.send(EngineUpdate::Saved);
        tx.send(delivery(2, Outcome::InProgress));
        tx.send(delivery(1, Outcome::Delivered));
        tx.send(EngineUpdate::Health(Channel::Discord, Default::default()));
        tx.send(EngineUpdate::Health(Channel::Discord, Default::default()));
        assert_eq!(rx.len(), 4);
        let Ok(EngineUpdate::Delivery(first)) = rx.try_recv() else {
            panic!("a record first");
        };
        assert_eq!((first.id.0, first.outcome), (1, Outcome::Delivered));
        assert!(matches!(rx.try_recv(), Ok(EngineUpdate::Saved)));
        assert!(matches!(rx.try_recv(), Ok(EngineUpdate::Delivery(r)) if r.id.0 == 2));
        assert!(matches!(rx.try_recv(), Ok(EngineUpdate::Health(..))));
        assert!(matches!(rx.try_recv(), Err(TryRecvError::Empty)));
        // Once read, a record's next state queues again.
        tx.send(delivery(2, Outcome::Failed));
        assert!(
            matches!(rx.try_recv(), Ok(EngineUpdate::Delivery(r)) if r.outcome == Outcome::Failed)
        );
        drop(tx);
        assert!(matches!(rx.try_recv(), Err(TryRecvError::Disconnected)));
    }

    #[test]
    fn a_window_that_never_reads_holds_a_bounded_backlog() {
        let (tx, rx) = channel();
        for id in 0..(MAX_WAITING_RECORDS as u64 + 500) {
            tx.send(delivery(id, Outcome::InProgress));
            tx.send(delivery(id, Outcome::Delivered));
        }
        for n in 0..(MAX_WAITING_MESSAGES + 10) {
            tx.send(EngineUpdate::Notice(
                NoticeLevel::Info,
                format!("notice {n}"),
            ));
        }
        assert_eq!(rx.len(), MAX_WAITING_RECORDS + MAX_WAITING_MESSAGES);
        drop(rx);
        assert!(!tx.send(EngineUpdate::Saved), "nobody reads any more");
    }

    #[tokio::test]
    async fn recv_waits_for_an_update_and_ends_with_the_engine() {
        let (tx, mut rx) = channel();
        let reader = tokio::spawn(async move {
            let mut seen = 0;
            while rx.recv().await.is_some() {
                seen += 1;
            }
            seen
        });
        tokio::task::yield_now().await;
        tx.send(EngineUpdate::Saved);
        tx.send(EngineUpdate::Stopped);
        drop(tx);
        assert_eq!(reader.await.unwrap(), 2);
    }
}
