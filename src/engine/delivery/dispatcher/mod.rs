//! The dispatcher: bounded queues per destination, Discord batching and
//! pacing, paused destinations, the shared log, and an orderly stop.
//!
//! Every event handed to [`Dispatcher::submit`] ends in the log as delivered,
//! failed (with the reason), filtered or summarised: nothing is dropped
//! silently, also when a burst overflows a queue or the app closes
//! mid-retry. A pause ends what is queued for the destination at once.

mod health_reporting;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use time::OffsetDateTime;
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{Semaphore, mpsc, oneshot, watch};

use super::deliver::{self, DeliveryContext, Ending, Target};
use super::discord::RateLimitState;
use super::health::{ChannelHealth, HealthBook, HealthEntry, now_ms};
use super::health_journal::HealthJournal;
use super::http::{self, HttpConfig};
use super::log::{DEFAULT_LOG_CAPACITY, DeliveryId, DeliveryLog, DeliveryRecord, Outcome};
use super::retry::RetryPolicy;
use super::target::Queueing;
use crate::core::payload::Event;
use crate::core::redact::{Scrubber, Scrubbers};
use crate::core::settings::Channel;
use crate::core::summary::Summary;

/// How long the first event after a quiet spell waits for others to join
/// its chat message (Discord, Slack, Telegram, Pushover): a quarter of a
/// second on one event, a message (and up to a rate-limit window) saved
/// on a burst.
const FIRST_GATHER: std::time::Duration = std::time::Duration::from_millis(250);

/// Events waiting for one chat destination. Discord takes 5 messages per
/// 2 s of at most 10 embeds, so 200 events are 8 s of sending at full
/// speed (Slack and Telegram, one message a second of 10 events: 20 s):
/// anything behind that is old news in a chat channel, better told as "and
/// 37 more events" than posted a minute late, and a dead webhook does not
/// pile up memory.
pub const CHAT_QUEUE_CAPACITY: usize = 200;
/// Events waiting for a free custom-webhook slot. With 8 deliveries in
/// flight, a healthy endpoint (tens of ms each) works 1,000 events off in
/// seconds; a backlog beyond that means the endpoint is slow or down, and
/// each waiting event costs about a kilobyte.
pub const WEBHOOK_QUEUE_CAPACITY: usize = 1_000;

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
    /// Events one chat destination's queue holds (a Discord webhook, a
    /// Slack webhook, a Telegram chat…: [`CHAT_QUEUE_CAPACITY`]).
    pub chat_queue: usize,
    /// Events the custom webhook's queue holds ([`WEBHOOK_QUEUE_CAPACITY`]).
    pub webhook_queue: usize,
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
            chat_queue: CHAT_QUEUE_CAPACITY,
            webhook_queue: WEBHOOK_QUEUE_CAPACITY,
        }
    }
}

/// What the dispatcher reports as it works.
#[derive(Debug, Clone)]
pub enum DispatchUpdate {
    /// A record was created or changed (attempt ended, waiting, finished).
    Record(Arc<DeliveryRecord>),
    /// An ended record left the newest `DETAIL_KEPT` of the log: the same
    /// record without its detail, to be kept in place of the one with it
    /// (nothing about the delivery changed).
    DetailLetGo(Arc<DeliveryRecord>),
    /// A destination's health changed (paused, resumed, a delivery ended).
    Health(Channel, ChannelHealth),
}

type Listener = Arc<dyn Fn(DispatchUpdate) + Send + Sync>;

struct Job {
    target: Target,
    event: Event,
    done: Option<oneshot::Sender<DeliveryRecord>>,
    /// Counts the job as not finished until it is dropped.
    _pending: PendingGuard,
}

/// Keeps a job in the count of unfinished ones (see [`Dispatcher::idle`])
/// from its submission until it is dropped, whichever way it ends.
struct PendingGuard(Arc<watch::Sender<usize>>);

/// Only `idle()` waits on the count, and only for zero: the count changes
/// twice per delivery, but only reaching zero wakes anyone.
impl PendingGuard {
    fn new(count: &Arc<watch::Sender<usize>>) -> Self {
        count.send_if_modified(|n| {
            *n += 1;
            false
        });
        PendingGuard(count.clone())
    }
}

impl Drop for PendingGuard {
    fn drop(&mut self) {
        self.0.send_if_modified(|n| {
            *n = n.saturating_sub(1);
            *n == 0
        });
    }
}

/// A destination's bounded queue, and the events that did not fit in it.
#[derive(Clone)]
struct Queue {
    jobs: mpsc::Sender<Job>,
    capacity: usize,
    /// Real events that found the queue full since the last summary went
    /// out (Discord tells them in its next message).
    summary: Arc<Mutex<Summary>>,
}

/// How a chat destination's messages are paced (from its `Queueing`).
struct Pace {
    max_events: usize,
    min_gap: std::time::Duration,
}

struct Shared {
    client: http::HttpClient,
    config: DeliveryConfig,
    next_id: AtomicU64,
    log: Mutex<DeliveryLog>,
    health: Mutex<HealthBook>,
    listener: Listener,
    cancel: watch::Sender<bool>,
    webhook_slots: Arc<Semaphore>,
    /// One queue per chat destination (a Discord webhook, a Telegram chat…,
    /// by its `Queueing::Batched` key), so batching and the rate limit are
    /// per destination, as the services count them.
    batched_queues: Mutex<HashMap<String, Queue>>,
    /// Deliveries waiting to retry: when, per destination.
    waiting: Mutex<HashMap<DeliveryId, (Channel, OffsetDateTime)>>,
    /// The custom webhook's queue (one worker starts deliveries as slots free).
    webhook_queue: Mutex<Option<Queue>>,
    /// Each destination's pause reason while paused, watched by deliveries
    /// waiting to retry so that a pause ends them at once.
    pauses: HashMap<Channel, watch::Sender<Option<String>>>,
    /// Jobs submitted and not yet finished.
    pending: Arc<watch::Sender<usize>>,
    /// Entries for the health journal, written in order by one task.
    journal: Mutex<Option<mpsc::UnboundedSender<Vec<HealthEntry>>>>,
    journal_writer: Mutex<Option<tokio::task::JoinHandle<()>>>,
    tasks: Mutex<tokio::task::JoinSet<()>>,
    /// Destinations whose health changed since the last report.
    health_dirty: Mutex<Vec<Channel>>,
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
        let pauses = Channel::ALL
            .iter()
            .map(|d| (*d, watch::channel(health.paused_reason(*d)).0))
            .collect();
        let dispatcher = Dispatcher {
            shared: Arc::new(Shared {
                pauses,
                pending: Arc::new(watch::channel(0).0),
                client,
                next_id: AtomicU64::new(1),
                log: Mutex::new(DeliveryLog::new(config.log_capacity)),
                health: Mutex::new(health),
                journal: Mutex::new(journal),
                journal_writer: Mutex::new(journal_writer),
                listener: Arc::new(listener),
                cancel,
                webhook_slots: Arc::new(Semaphore::new(config.webhook_concurrency.max(1))),
                batched_queues: Mutex::new(HashMap::new()),
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

    /// Sets the profile's secrets to scrub out of every answer before it is
    /// recorded (a delivery also scrubs its own target's secrets).
    pub fn set_scrubber(&self, scrub: Scrubber) {
        *lock(&self.shared.scrub) = Arc::new(scrub);
    }

    pub fn client(&self) -> &http::HttpClient {
        &self.shared.client
    }

    pub fn config(&self) -> &DeliveryConfig {
        &self.shared.config
    }

    /// Sends `event` to `target`. The returned receiver yields the final
    /// record (it may cover several events when Discord batched them). When
    /// the destination's queue is full the event is not sent on its own: it
    /// ends as summarised (a test, which the user waits for, as failed).
    pub fn submit(&self, target: Target, event: Event) -> oneshot::Receiver<DeliveryRecord> {
        let (done, rx) = oneshot::channel();
        let job = Job {
            target,
            event,
            done: Some(done),
            _pending: PendingGuard::new(&self.shared.pending),
        };
        if *self.shared.cancel.borrow() {
            self.finish_unsent(job, "not sent: farmhook is closing");
            return rx;
        }
        let Some(job) = self.unless_paused(job) else {
            return rx;
        };
        let queue = self.queue_for(&job.target);
        match queue.jobs.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(job)) => self.shed(job, &queue),
            Err(TrySendError::Closed(job)) => {
                self.finish_unsent(job, "not sent: farmhook is closing")
            }
        }
        rx
    }

    /// The queue for `target`, started with its worker on first use.
    fn queue_for(&self, target: &Target) -> Queue {
        let start = |capacity: usize| {
            let capacity = capacity.max(1);
            let (jobs, rx) = mpsc::channel(capacity);
            let queue = Queue {
                jobs,
                capacity,
                summary: Arc::new(Mutex::new(Summary::default())),
            };
            (queue, rx)
        };
        match target.queueing() {
            Queueing::Batched {
                key,
                max_events,
                min_gap,
            } => {
                let mut queues = lock(&self.shared.batched_queues);
                queues
                    .entry(key)
                    .or_insert_with(|| {
                        let (queue, rx) = start(self.shared.config.chat_queue);
                        let (this, summary) = (self.clone(), queue.summary.clone());
                        let pace = Pace {
                            max_events,
                            min_gap,
                        };
                        self.spawn(async move { this.batched_worker(rx, summary, pace).await });
                        queue
                    })
                    .clone()
            }
            Queueing::Parallel => {
                let mut queue = lock(&self.shared.webhook_queue);
                queue
                    .get_or_insert_with(|| {
                        let (queue, rx) = start(self.shared.config.webhook_queue);
                        let this = self.clone();
                        self.spawn(async move { this.webhook_worker(rx).await });
                        queue
                    })
                    .clone()
            }
        }
    }

    /// Ends a job that found its queue full: counted in the next Discord
    /// message's summary, or (custom webhook) recorded as summarised with
    /// the reason. A test fails instead, so the user knows it did not go.
    fn shed(&self, job: Job, queue: &Queue) {
        let capacity = queue.capacity;
        if job.event.test {
            let words = format!(
                "not sent: {capacity} events are already waiting for {}; try again once they have gone out",
                job.target.destination().label()
            );
            self.finish_unsent(job, &words);
            return;
        }
        let label = job.target.destination().label();
        let words = match job.target.queueing() {
            Queueing::Batched { .. } => {
                lock(&queue.summary).add(job.event.event_type);
                format!(
                    "summarised: {capacity} events were already waiting for {label}, so this one is \
                     counted in the “and … more events” line of the next {label} message instead of \
                     being posted on its own"
                )
            }
            // Payload schema v1 has no summary event, and inventing one
            // would break receivers that check the schema: the log says it.
            Queueing::Parallel => format!(
                "summarised: {capacity} events were already waiting for the custom webhook (it is \
                 slow or down), so this one was not sent; the log is the only place it is counted"
            ),
        };
        self.finish(job, Outcome::Summarised, words);
    }

    /// The job back, unless it is a real event for a paused destination:
    /// then it ends now as not sent, with the pause's reason.
    fn unless_paused(&self, job: Job) -> Option<Job> {
        if job.event.test {
            return Some(job);
        }
        let destination = job.target.destination();
        let paused = lock(&self.shared.health).paused_reason(destination);
        match paused {
            None => Some(job),
            Some(reason) => {
                let words = format!(
                    "not sent: {} is paused ({reason}); press Resume",
                    destination.label()
                );
                self.finish_unsent(job, &words);
                None
            }
        }
    }

    /// Tells deliveries waiting to retry whether `destination` is paused.
    fn sync_pause(&self, destination: Channel) {
        let reason = lock(&self.shared.health).paused_reason(destination);
        if let Some(pause) = self.shared.pauses.get(&destination) {
            pause.send_if_modified(|now| {
                let changed = *now != reason;
                *now = reason;
                changed
            });
        }
    }

    /// Returns once every submitted event has ended in the log (at once
    /// when nothing is queued, in flight or waiting to retry).
    pub async fn idle(&self) {
        let mut pending = self.shared.pending.subscribe();
        pending.wait_for(|n| *n == 0).await.ok();
    }

    /// Records an event that was not sent: `Filtered` when the settings
    /// say so, `Failed` when it should have gone but could not (a missing
    /// key, say).
    pub fn record_not_sent(
        &self,
        destination: Channel,
        target_shown: String,
        event: &Event,
        outcome: Outcome,
        reason: String,
    ) -> DeliveryRecord {
        let record = DeliveryRecord {
            id: self.next_id(),
            destination,
            events: Arc::new([super::log::EventRef {
                event_type: event.event_type,
                id: event.id.clone(),
                printer: event.printer.as_ref().map(|p| p.name.clone()),
            }]),
            test: event.test,
            started_at: now(),
            outcome,
            target: target_shown.into(),
            attempts: Arc::new([]),
            error: Some(reason),
            total_ms: Some(0),
            next_attempt_at: None,
            detail: None,
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
                // Nearly always nothing waits: no need to hash the id.
                _ => !waiting.is_empty() && waiting.remove(&record.id).is_some(),
            }
        };
        if waiting_changed {
            self.health_changed(record.destination);
        }
        // One copy per change, shared by the log and every listener; its
        // large parts (events, body, attempts) are shared, not copied.
        let shared = Arc::new(record.clone());
        let let_go = lock(&self.shared.log).upsert(shared.clone());
        (self.shared.listener)(DispatchUpdate::Record(shared));
        if let Some(slim) = let_go {
            (self.shared.listener)(DispatchUpdate::DetailLetGo(slim));
        }
    }

    fn finish_unsent(&self, job: Job, words: &str) {
        self.finish(job, Outcome::Failed, words.to_string());
    }

    /// Ends a job that was not sent, recording why.
    fn finish(&self, mut job: Job, outcome: Outcome, words: String) {
        let record = self.record_not_sent(
            job.target.destination(),
            job.target.redacted(),
            &job.event,
            outcome,
            words,
        );
        if let Some(done) = job.done.take() {
            done.send(record).ok();
        }
    }

    /// Starts custom-webhook deliveries as slots free up, so at most
    /// `webhook_concurrency` run at once and waiting events cost only a
    /// queue entry.
    async fn webhook_worker(&self, mut queue: mpsc::Receiver<Job>) {
        while let Some(job) = queue.recv().await {
            // A paused destination's queue ends at once, without a slot.
            let Some(job) = self.unless_paused(job) else {
                continue;
            };
            let Ok(slot) = self.shared.webhook_slots.clone().acquire_owned().await else {
                return;
            };
            // The wait for a slot may have outlasted the destination's health.
            let Some(job) = self.unless_paused(job) else {
                continue;
            };
            let this = self.clone();
            self.spawn(async move {
                this.deliver_jobs(vec![job], None, None).await;
                drop(slot);
            });
        }
    }

    /// Sends a chat destination's events one message at a time, as many
    /// as fit in one message, paced by the service's limits.
    async fn batched_worker(
        &self,
        mut queue: mpsc::Receiver<Job>,
        summary: Arc<Mutex<Summary>>,
        pace: Pace,
    ) {
        let mut rate_limit = RateLimitState::default();
        while let Some(first) = queue.recv().await {
            let Some(first) = self.unless_paused(first) else {
                continue;
            };
            let mut batch = vec![first];
            // Wait out the rate limit first: events arriving meanwhile join
            // this message instead of queueing behind the limit. An event
            // alone in the queue waits a moment too: a burst (a farm's
            // printers dropping off together) then starts with a full
            // message, not a lone event that uses up one of the service's
            // messages and holds the rest back. With more already waiting
            // there is nothing to gather.
            let mut wait = rate_limit.wait_needed(std::time::Instant::now());
            if wait.is_zero() && queue.is_empty() {
                wait = FIRST_GATHER;
            }
            if !wait.is_zero() {
                let mut cancelled = self.shared.cancel.subscribe();
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = cancelled.wait_for(|c| *c) => {}
                }
            }
            // Events that found the queue full are told in this message, in
            // place of its tenth event.
            let mut told = Some(std::mem::take(&mut *lock(&summary))).filter(|s| !s.is_empty());
            let room = pace.max_events.max(2) - usize::from(told.is_some());
            while batch.len() < room {
                match queue.try_recv() {
                    Ok(job) => {
                        let Some(job) = self.unless_paused(job) else {
                            continue;
                        };
                        if job.event.test == batch[0].event.test {
                            batch.push(job);
                        } else {
                            // Tests and real events are not mixed in one message.
                            let ready = std::mem::replace(&mut batch, vec![job]);
                            self.deliver_batch(
                                ready,
                                &mut rate_limit,
                                told.take(),
                                &summary,
                                &pace,
                            )
                            .await;
                        }
                    }
                    Err(_) => break,
                }
            }
            self.deliver_batch(batch, &mut rate_limit, told, &summary, &pace)
                .await;
        }
    }

    /// Sends one chat message, unless its destination was paused while
    /// it waited: then its events end as not sent, and its summary waits
    /// for the first message after Resume. The next message waits at least
    /// the service's gap.
    async fn deliver_batch(
        &self,
        batch: Vec<Job>,
        rate_limit: &mut RateLimitState,
        told: Option<Summary>,
        summary: &Mutex<Summary>,
        pace: &Pace,
    ) {
        let batch: Vec<Job> = batch
            .into_iter()
            .filter_map(|job| self.unless_paused(job))
            .collect();
        if batch.is_empty() {
            if let Some(told) = told {
                lock(summary).merge(told);
            }
            return;
        }
        self.deliver_jobs(batch, Some(&mut *rate_limit), told).await;
        if !pace.min_gap.is_zero() {
            rate_limit.block_for(std::time::Instant::now(), pace.min_gap);
        }
    }

    async fn deliver_jobs(
        &self,
        jobs: Vec<Job>,
        rate_limit: Option<&mut RateLimitState>,
        told: Option<Summary>,
    ) {
        let Some(first) = jobs.first() else { return };
        let target = first.target.clone();
        let destination = target.destination();
        // The events move out of their jobs (no copy); each job's waiter and
        // its place in the count of unfinished ones stay until the end.
        let mut events = Vec::with_capacity(jobs.len());
        let mut waiting = Vec::with_capacity(jobs.len());
        for job in jobs {
            events.push(job.event);
            waiting.push((job.done, job._pending));
        }
        // Told once it waits or has been sending for a moment, or at its end.
        let mut record = deliver::new_record(self.next_id(), &target, &events, now());
        // A pause does not stop a test: it is how the user checks a fix.
        let paused = (!record.test)
            .then(|| self.shared.pauses.get(&destination).map(|p| p.subscribe()))
            .flatten();
        let this = self.clone();
        let on_change = move |r: &DeliveryRecord| this.publish(r);
        let cancelled = self.shared.cancel.subscribe();
        let profile_secrets = lock(&self.shared.scrub).clone();
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
                scrub: Scrubbers::new(&profile_secrets, target.scrubber()),
                summary: told.as_ref(),
                paused,
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
        self.sync_pause(destination);
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
        // The jobs count as unfinished until their waiters have the record:
        // the last job's count goes after every waiter has been sent it.
        let last = waiting.iter().rposition(|(done, _)| done.is_some());
        let mut record = Some(record);
        for (at, (done, _pending)) in waiting.into_iter().enumerate() {
            let Some(done) = done else { continue };
            let sent = if Some(at) == last {
                record.take()
            } else {
                record.clone()
            };
            if let Some(sent) = sent {
                done.send(sent).ok();
            }
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
        lock(&self.shared.batched_queues).clear();
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
