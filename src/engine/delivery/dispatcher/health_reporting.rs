//! How the dispatcher reports each channel's health: figures at most every
//! [`HEALTH_REPORT_EVERY`] while deliveries end, a pause at once, and every
//! change of health into the journal, in order. Apart from the queues and
//! workers in `mod.rs`.

use super::*;

/// How often health figures are reported while deliveries end.
const HEALTH_REPORT_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// The health figures plus how soon the next retry is due.
pub(super) fn health_of(shared: &Shared, destination: Channel) -> ChannelHealth {
    let mut health = lock(&shared.health).get(destination, now_ms());
    health.next_retry_at = lock(&shared.waiting)
        .values()
        .filter(|(d, _)| *d == destination)
        .map(|(_, at)| *at)
        .min();
    health
}

impl Dispatcher {
    /// Health figures are reported at most every HEALTH_REPORT_EVERY per
    /// destination, not after every delivery: computing the percentiles
    /// over an hour of deliveries costs more than a delivery to a fast
    /// endpoint. Asleep while nothing changes.
    pub(super) fn spawn_health_reporter(&self) {
        let shared = Arc::downgrade(&self.shared);
        let changed = self.shared.health_changed.clone();
        tokio::spawn(async move {
            loop {
                // Only a weak reference is held while waiting: when the
                // dispatcher is dropped (which notifies), this task ends.
                changed.notified().await;
                tokio::time::sleep(HEALTH_REPORT_EVERY).await;
                let Some(shared) = shared.upgrade() else {
                    return;
                };
                let dirty = std::mem::take(&mut *lock(&shared.health_dirty));
                for destination in dirty {
                    let health = health_of(&shared, destination);
                    (shared.listener)(DispatchUpdate::Health(destination, health));
                }
            }
        });
    }

    pub(super) fn health_changed(&self, destination: Channel) {
        let mut dirty = lock(&self.shared.health_dirty);
        if !dirty.contains(&destination) {
            dirty.push(destination);
        }
        self.shared.health_changed.notify_one();
    }

    /// Lifts a pause; the next events are sent again.
    pub fn resume(&self, destination: Channel) {
        let entry = lock(&self.shared.health).resume(destination, now_ms());
        self.sync_pause(destination);
        let health = self.health(destination);
        self.journal(vec![entry]);
        (self.shared.listener)(DispatchUpdate::Health(destination, health));
    }

    pub fn health(&self, destination: Channel) -> ChannelHealth {
        health_of(&self.shared, destination)
    }

    pub(super) fn journal(&self, entries: Vec<HealthEntry>) {
        if let Some(journal) = lock(&self.shared.journal).as_ref()
            && !entries.is_empty()
        {
            journal.send(entries).ok();
        }
    }
}
