//! The dispatcher: queues per destination, Discord batching and pacing,
//! paused destinations, the shared log, and an orderly stop.
//!
//! Every event handed to [`Dispatcher::submit`] ends in the log as delivered,
//! failed (with the reason) or filtered: nothing is dropped silently, also
//! when the app closes mid-retry.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use time::OffsetDateTime;
use tokio::sync::{Semaphore, mpsc, oneshot, watch};

use super::deliver::{self, DeliveryContext, Ending, Target};
use super::discord::RateLimitState;
use super::health::{DestinationHealth, HealthBook, HealthEntry, now_ms};
use super::health_journal::HealthJournal;
use super::http::{self, HttpConfig};
use super::log::{DEFAULT_LOG_CAPACITY, DeliveryId, DeliveryLog, DeliveryRecord, Outcome};
use super::retry::RetryPolicy;
use crate::core::discord_message::MAX_EMBEDS_PER_MESSAGE;
use crate::core::payload::Event;
use crate::core::redact::Scrubber;
use crate::core::settings::Destination;

/// How deliveries are made. Tests shorten the waits.
#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    pub http: HttpConfig,
    pub retry: RetryPolicy,
    /// Failed deliveries in a row after which a destination is paused.
    pub pause_after: u32,
    /// Custom-webhook deliveries in flight at once.
    pub webhook_concurrency: usize,
    pub log_capacity: usize,
    /// Where health is kept between runs; `None` keeps it in memory only.
    pub health_journal: Option<HealthJournal>,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            http: HttpConfig::default(),
            retry: RetryPolicy::default(),
            pause_after: 5,
            webhook_concurrency: 8,
            log_capacity: DEFAULT_LOG_CAPACITY,
            health_journal: None,
        }
    }
}

/// What the dispatcher reports as it works.
#[derive(Debug, Clone)]
pub enum DispatchUpdate {
    /// A record was created or changed (attempt ended, waiting, finished).
    Record(Arc<DeliveryRecord>),
    /// A destination's health changed (paused, resumed, a delivery ended).
    Health(Destination, DestinationHealth),
}

type Listener = Arc<dyn Fn(DispatchUpdate) + Send + Sync>;

/// How often health figures are reported while deliveries end.
const HEALTH_REPORT_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

struct Job {
    target: Target,
    event: Event,
    done: Option<oneshot::Sender<DeliveryRecord>>,
}

struct Shared {
    client: reqwest::Client,
    config: DeliveryConfig,
    next_id: AtomicU64,
    log: Mutex<DeliveryLog>,
    health: Mutex<HealthBook>,
    listener: Listener,
    cancel: watch::Sender<bool>,
    webhook_slots: Arc<Semaphore>,
    /// One queue per Discord webhook (by id), so batching and the rate
    /// limit are per webhook, as Discord counts them.
    discord_queues: Mutex<HashMap<u64, mpsc::UnboundedSender<Job>>>,
    /// Deliveries waiting to retry: when, per destination.
    waiting: Mutex<HashMap<DeliveryId, (Destination, OffsetDateTime)>>,
    /// The custom webhook's queue (one worker starts deliveries as slots free).
    webhook_queue: Mutex<Option<mpsc::UnboundedSender<Job>>>,
    /// Entries for the health journal, written in order by one task.
    journal: Mutex<Option<mpsc::UnboundedSender<Vec<HealthEntry>>>>,
    journal_writer: Mutex<Option<tokio::task::JoinHandle<()>>>,
    tasks: Mutex<tokio::task::JoinSet<()>>,
    /// Destinations whose health changed since the last report.
    health_dirty: Mutex<Vec<Destination>>,
    /// Every known secret of the profile, scrubbed out of answers.
    scrub: Mutex<Arc<Scrubber>>,
    health_changed: Arc<tokio::sync::Notify>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        // Wakes the health reporter so it sees the dispatcher is gone.
        self.health_changed.notify_one();
    }
}

/// Sends events; cheap to clone.
#[derive(Clone)]
pub struct Dispatcher {
    shared: Arc<Shared>,
}

/// Poison would only follow a panic inside a short critical section that
/// does no I/O; keep going with the data as it is.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// The health figures plus how soon the next retry is due.
fn health_of(shared: &Shared, destination: Destination) -> DestinationHealth {
    let mut health = lock(&shared.health).get(destination, now_ms());
    health.next_retry_at = lock(&shared.waiting)
        .values()
        .filter(|(d, _)| *d == destination)
        .map(|(_, at)| *at)
        .min();
    health
}

fn jitter() -> f64 {
    use rand::RngExt;
    rand::rng().random::<f64>()
}

impl Dispatcher {
    /// Must be called inside a tokio runtime.
    pub fn new(
        config: DeliveryConfig,
        listener: impl Fn(DispatchUpdate) + Send + Sync + 'static,
    ) -> Result<Self, String> {
        let client = http::build_client(&config.http)?;
        let (cancel, _) = watch::channel(false);
        let mut health = HealthBook::default();
        let mut journal_writer = None;
        let journal = config.health_journal.clone().map(|journal| {
            journal.load(now_ms()).iter().for_each(|e| health.apply(e));
            let (tx, mut rx) = mpsc::unbounded_channel::<Vec<HealthEntry>>();
            journal_writer = Some(tokio::spawn(async move {
                while let Some(entries) = rx.recv().await {
                    let journal = journal.clone();
                    let path = journal.path().display().to_string();
                    let written =
                        tokio::task::spawn_blocking(move || journal.append(&entries)).await;
                    if let Ok(Err(e)) = written {
                        eprintln!("farmhook: could not write delivery health to {path}: {e}");
                    }
                }
            }));
            tx
        });
        let dispatcher = Dispatcher {
            shared: Arc::new(Shared {
                client,
                next_id: AtomicU64::new(1),
                log: Mutex::new(DeliveryLog::new(config.log_capacity)),
                health: Mutex::new(health),
                journal: Mutex::new(journal),
                journal_writer: Mutex::new(journal_writer),
                listener: Arc::new(listener),
                cancel,
                webhook_slots: Arc::new(Semaphore::new(config.webhook_concurrency.max(1))),
                discord_queues: Mutex::new(HashMap::new()),
                webhook_queue: Mutex::new(None),
                waiting: Mutex::new(HashMap::new()),
                tasks: Mutex::new(tokio::task::JoinSet::new()),
                health_changed: Arc::new(tokio::sync::Notify::new()),
                health_dirty: Mutex::new(Vec::new()),
                scrub: Mutex::new(Arc::default()),
                config,
            }),
        };
        dispatcher.spawn_health_reporter();
        Ok(dispatcher)
    }

    /// Health figures are reported at most every HEALTH_REPORT_EVERY per
    /// destination, not after every delivery: computing the percentiles
    /// over an hour of deliveries costs more than a delivery to a fast
    /// endpoint. Asleep while nothing changes.
    fn spawn_health_reporter(&self) {
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

    fn health_changed(&self, destination: Destination) {
        let mut dirty = lock(&self.shared.health_dirty);
        if !dirty.contains(&destination) {
            dirty.push(destination);
        }
        self.shared.health_changed.notify_one();
    }

    /// Sets the profile's secrets to scrub out of every answer before it is
    /// recorded (a delivery also scrubs its own target's secrets).
    pub fn set_scrubber(&self, scrub: Scrubber) {
        *lock(&self.shared.scrub) = Arc::new(scrub);
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.shared.client
    }

    pub fn config(&self) -> &DeliveryConfig {
        &self.shared.config
    }

    /// Sends `event` to `target`. The returned receiver yields the final
    /// record (it may cover several events when Discord batched them).
    pub fn submit(&self, target: Target, event: Event) -> oneshot::Receiver<DeliveryRecord> {
        let (done, rx) = oneshot::channel();
        let job = Job {
            target,
            event,
            done: Some(done),
        };
        if *self.shared.cancel.borrow() {
            self.finish_unsent(job, "not sent: farmhook is closing");
            return rx;
        }
        let destination = job.target.destination();
        if !job.event.test
            && let Some(reason) = lock(&self.shared.health).paused_reason(destination)
        {
            let words = format!(
                "not sent: {} is paused ({reason}); press Resume",
                destination.label()
            );
            self.finish_unsent(job, &words);
            return rx;
        }
        match &job.target {
            Target::Discord { url, .. } => {
                let id = url.id();
                let mut queues = lock(&self.shared.discord_queues);
                let sender = queues.entry(id).or_insert_with(|| {
                    let (tx, rx) = mpsc::unbounded_channel();
                    let this = self.clone();
                    self.spawn(async move { this.discord_worker(rx).await });
                    tx
                });
                if let Err(mpsc::error::SendError(job)) = sender.send(job) {
                    drop(queues);
                    self.finish_unsent(job, "not sent: farmhook is closing");
                }
            }
            Target::Webhook { .. } => {
                let mut queue = lock(&self.shared.webhook_queue);
                let sender = queue.get_or_insert_with(|| {
                    let (tx, rx) = mpsc::unbounded_channel();
                    let this = self.clone();
                    self.spawn(async move { this.webhook_worker(rx).await });
                    tx
                });
                if let Err(mpsc::error::SendError(job)) = sender.send(job) {
                    drop(queue);
                    self.finish_unsent(job, "not sent: farmhook is closing");
                }
            }
        }
        rx
    }

    /// Records an event that was not sent: `Filtered` when the settings
    /// say so, `Failed` when it should have gone but could not (a missing
    /// key, say).
    pub fn record_not_sent(
        &self,
        destination: Destination,
        target_shown: String,
        event: &Event,
        outcome: Outcome,
        reason: String,
    ) -> DeliveryRecord {
        let record = DeliveryRecord {
            id: self.next_id(),
            destination,
            events: vec![super::log::EventRef {
                event_type: event.event_type,
                id: event.id.clone(),
            }],
            test: event.test,
            started_at: now(),
            outcome,
            target: target_shown,
            request_body: String::new(),
            attempts: Vec::new(),
            error: Some(reason),
            total_ms: Some(0),
            next_attempt_at: None,
        };
        self.publish(&record);
        record
    }

    fn next_id(&self) -> DeliveryId {
        DeliveryId(self.shared.next_id.fetch_add(1, Ordering::Relaxed))
    }

    fn spawn(&self, task: impl std::future::Future<Output = ()> + Send + 'static) {
        let mut tasks = lock(&self.shared.tasks);
        // Forget finished tasks so the set does not grow with every event.
        while tasks.try_join_next().is_some() {}
        tasks.spawn(task);
    }

    fn publish(&self, record: &DeliveryRecord) {
        // Keep track of deliveries waiting to retry, for "next retry in".
        let waiting_changed = {
            let mut waiting = lock(&self.shared.waiting);
            match record.next_attempt_at {
                Some(at) if record.outcome == Outcome::InProgress => {
                    waiting.insert(record.id, (record.destination, at))
                        != Some((record.destination, at))
                }
                _ => waiting.remove(&record.id).is_some(),
            }
        };
        if waiting_changed {
            self.health_changed(record.destination);
        }
        let shared = Arc::new(record.clone());
        lock(&self.shared.log).upsert(shared.clone());
        (self.shared.listener)(DispatchUpdate::Record(shared));
    }

    fn finish_unsent(&self, mut job: Job, words: &str) {
        let record = self.record_not_sent(
            job.target.destination(),
            job.target.redacted(),
            &job.event,
            Outcome::Failed,
            words.to_string(),
        );
        if let Some(done) = job.done.take() {
            done.send(record).ok();
        }
    }

    /// Starts custom-webhook deliveries as slots free up, so at most
    /// `webhook_concurrency` run at once and waiting events cost only a
    /// queue entry.
    async fn webhook_worker(&self, mut queue: mpsc::UnboundedReceiver<Job>) {
        while let Some(job) = queue.recv().await {
            let Ok(slot) = self.shared.webhook_slots.clone().acquire_owned().await else {
                return;
            };
            let this = self.clone();
            self.spawn(async move {
                this.deliver_jobs(vec![job], None).await;
                drop(slot);
            });
        }
    }

    async fn discord_worker(&self, mut queue: mpsc::UnboundedReceiver<Job>) {
        let mut rate_limit = RateLimitState::default();
        while let Some(first) = queue.recv().await {
            let mut batch = vec![first];
            // Wait out the rate limit first: events arriving meanwhile join
            // this message instead of queueing behind the limit.
            let wait = rate_limit.wait_needed(std::time::Instant::now());
            if !wait.is_zero() {
                let mut cancelled = self.shared.cancel.subscribe();
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = cancelled.wait_for(|c| *c) => {}
                }
            }
            while batch.len() < MAX_EMBEDS_PER_MESSAGE {
                match queue.try_recv() {
                    Ok(job) if job.event.test == batch[0].event.test => batch.push(job),
                    Ok(job) => {
                        // Tests and real events are not mixed in one message.
                        self.deliver_jobs(
                            std::mem::replace(&mut batch, vec![job]),
                            Some(&mut rate_limit),
                        )
                        .await;
                    }
                    Err(_) => break,
                }
            }
            self.deliver_jobs(batch, Some(&mut rate_limit)).await;
        }
    }

    async fn deliver_jobs(&self, mut jobs: Vec<Job>, rate_limit: Option<&mut RateLimitState>) {
        let Some(first) = jobs.first() else { return };
        let target = first.target.clone();
        let destination = target.destination();
        let events: Vec<Event> = jobs.iter().map(|j| j.event.clone()).collect();
        let mut record = deliver::new_record(self.next_id(), &target, &events, now());
        self.publish(&record);
        let this = self.clone();
        let on_change = move |r: &DeliveryRecord| this.publish(r);
        let cancelled = self.shared.cancel.subscribe();
        let scrub = lock(&self.shared.scrub).merged(&target.scrubber());
        let ending = deliver::deliver(
            DeliveryContext {
                client: &self.shared.client,
                http: &self.shared.config.http,
                retry: &self.shared.config.retry,
                rate_limit,
                on_change: &on_change,
                cancelled: &cancelled,
                now: &now,
                jitter: &jitter,
                scrub: &scrub,
            },
            &mut record,
            &target,
            &events,
        )
        .await;
        if ending == Ending::CutShort {
            eprintln!(
                "farmhook: {} delivery of {} cut short: {}",
                destination.label(),
                events
                    .iter()
                    .map(|e| e.event_type.id())
                    .collect::<Vec<_>>()
                    .join(", "),
                record.error.as_deref().unwrap_or("")
            );
        }
        let entries = lock(&self.shared.health).record(
            destination,
            &record,
            &ending,
            self.shared.config.pause_after,
            now_ms(),
        );
        // A pause is news the operator must see at once; figures can wait.
        let paused_now = entries
            .iter()
            .any(|e| matches!(e.kind, super::health::HealthEntryKind::Paused { .. }));
        self.journal(entries);
        if paused_now {
            let health = self.health(destination);
            (self.shared.listener)(DispatchUpdate::Health(destination, health));
        } else {
            self.health_changed(destination);
        }
        // The last waiter gets the record itself; copies only for a batch.
        let mut waiting: Vec<_> = jobs.iter_mut().filter_map(|j| j.done.take()).collect();
        if let Some(last) = waiting.pop() {
            for done in waiting {
                done.send(record.clone()).ok();
            }
            last.send(record).ok();
        }
    }

    /// Lifts a pause; the next events are sent again.
    pub fn resume(&self, destination: Destination) {
        let entry = lock(&self.shared.health).resume(destination, now_ms());
        let health = self.health(destination);
        self.journal(vec![entry]);
        (self.shared.listener)(DispatchUpdate::Health(destination, health));
    }

    pub fn health(&self, destination: Destination) -> DestinationHealth {
        health_of(&self.shared, destination)
    }

    fn journal(&self, entries: Vec<HealthEntry>) {
        if let Some(journal) = lock(&self.shared.journal).as_ref()
            && !entries.is_empty()
        {
            journal.send(entries).ok();
        }
    }

    /// The log, oldest first (the records are shared, not copied).
    pub fn log_snapshot(&self) -> Vec<Arc<DeliveryRecord>> {
        lock(&self.shared.log).snapshot()
    }

    pub fn clear_log(&self) {
        lock(&self.shared.log).clear();
    }

    /// Writes the log as JSON Lines (blocking I/O: call from a blocking task).
    /// The file is the user's alone (0600), even one that existed before.
    pub fn export_json_lines(&self, path: &std::path::Path) -> std::io::Result<usize> {
        let snapshot = self.log_snapshot();
        let file = crate::engine::private_files::file_options()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)?;
        crate::engine::private_files::tighten_file(&file)?;
        let mut out = std::io::BufWriter::new(file);
        let n = super::log::write_json_lines(snapshot.iter().map(|r| &**r), &mut out)?;
        std::io::Write::flush(&mut out)?;
        Ok(n)
    }

    /// Stops: waiting and in-flight deliveries end as failed with "cut
    /// short", queued ones as "not sent". Returns when all are recorded.
    pub async fn shutdown(&self) {
        self.shared.cancel.send_replace(true);
        lock(&self.shared.discord_queues).clear();
        lock(&self.shared.webhook_queue).take();
        // Workers finish what they hold (recording it as cut short); take
        // the set out of the lock so no guard is held across an await.
        loop {
            let mut tasks = std::mem::take(&mut *lock(&self.shared.tasks));
            if tasks.is_empty() {
                break;
            }
            while tasks.join_next().await.is_some() {}
        }
        // Let the journal writer finish what it was given, then stop it.
        lock(&self.shared.journal).take();
        let writer = lock(&self.shared.journal_writer).take();
        if let Some(writer) = writer {
            writer.await.ok();
        }
    }
}
