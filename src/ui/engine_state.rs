//! What the engine has told the window: secrets (as redacting types),
//! destination health, the Verify answer, notices and the deliveries. The
//! panels read it; only [`EngineState::apply`] changes it.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::core::api_base::ApiBaseOverride;
use crate::core::channel::PerChannel;
use crate::core::channels::telegram::FoundChat;
use crate::core::settings::{Channel, Settings};
use crate::engine::delivery::health::ChannelHealth;
use crate::engine::delivery::log::{DEFAULT_LOG_CAPACITY, DeliveryId, DeliveryRecord, Outcome};
use crate::engine::printers::PrinterView;
use crate::engine::service::{EngineUpdate, NoticeLevel, SecretsView, Ticket};
use crate::engine::simulation::SimulationView;
use crate::engine::verify::Facts;

/// Answers kept for the panels waiting on them: far more than can be
/// waiting at once.
const MAX_ANSWERS_KEPT: usize = 32;

/// How long a good-news notice stays up, in seconds.
pub const INFO_NOTICE_SECONDS: f64 = 8.0;
/// How many good-news notices are kept (and shown as toasts) at once.
pub const MAX_INFO_NOTICES: usize = 3;
/// How many error notices are kept until dismissed; older ones make way.
pub const MAX_ERROR_NOTICES: usize = 50;
/// How long a Test button shows its spinner without hearing back, in seconds.
const TEST_REQUEST_TIMEOUT_SECONDS: f64 = 10.0;

/// Where a channel's Verify button stands.
#[derive(Debug, Clone, Default)]
pub enum Verify {
    #[default]
    NotAsked,
    Asking,
    Answered(Result<Facts, String>),
}

/// Where Telegram's Find chat stands.
#[derive(Debug, Clone, Default)]
pub enum FindChats {
    #[default]
    NotAsked,
    Asking,
    Answered(Result<Vec<FoundChat>, String>),
}

/// A message from the engine: good news as a short-lived toast, an error in
/// the error banner until dismissed.
#[derive(Debug, Clone)]
pub struct Notice {
    pub id: u64,
    pub level: NoticeLevel,
    pub text: String,
    /// `egui` time when it arrived.
    pub at: f64,
}

/// The window's copy of the engine state.
#[derive(Debug)]
pub struct EngineState {
    pub profile: String,
    /// The `FARMHOOK_*_API_BASE` overrides in force: each channel whose
    /// traffic goes to a stand-in gets a banner.
    pub stand_ins: Vec<ApiBaseOverride>,
    /// `FARMHOOK_*_API_BASE` variables that are set but not used, and why.
    pub refused_api_bases: Vec<String>,
    /// False until the settings and secrets were read the first time.
    pub loaded: bool,
    pub secrets: SecretsView,
    /// A problem with the settings file (moved aside, newer version).
    pub settings_notice: Option<String>,
    pub health: PerChannel<ChannelHealth>,
    pub verify: PerChannel<Verify>,
    /// Telegram's Find chat: asking, or its answer.
    pub found_chats: FindChats,
    /// The watched printers, live.
    pub printers: Vec<PrinterView>,
    /// A Bambu printer's certificate to trust or not: the `SavePrinter`
    /// ticket it answers, and its SHA-256 (64 lowercase hex digits).
    pub printer_trust: Option<(Ticket, String)>,
    pub deliveries: Deliveries,
    pub notices: Vec<Notice>,
    next_notice: u64,
    /// The latest answers to commands that carried a ticket, newest last.
    answers: VecDeque<(Ticket, Result<(), String>)>,
    /// When a Test button was pressed and no delivery has appeared yet.
    pub test_requested: PerChannel<Option<(f64, Ticket)>>,
    /// Settings have been written at least once since the window opened.
    pub saved: bool,
    /// Saves sent to the engine and not yet answered.
    pub saves_in_flight: u32,
    /// The virtual farm as of its last tick, once started.
    pub simulation: Option<SimulationView>,
    /// The engine has stopped (after Shutdown, or because it could not start).
    pub stopped: bool,
    /// Destinations that will get the same event twice, in words.
    pub duplicate_warnings: Vec<String>,
}

impl EngineState {
    pub fn new(profile: String, stand_ins: Vec<ApiBaseOverride>) -> Self {
        EngineState {
            profile,
            stand_ins,
            refused_api_bases: Vec::new(),
            loaded: false,
            secrets: SecretsView::default(),
            settings_notice: None,
            health: Default::default(),
            verify: PerChannel::default(),
            found_chats: FindChats::NotAsked,
            printers: Vec::new(),
            printer_trust: None,
            deliveries: Deliveries::new(DEFAULT_LOG_CAPACITY),
            notices: Vec::new(),
            next_notice: 0,
            answers: VecDeque::new(),
            test_requested: PerChannel::default(),
            saved: false,
            saves_in_flight: 0,
            simulation: None,
            stopped: false,
            duplicate_warnings: Vec::new(),
        }
    }

    /// True when secrets can be read and written.
    pub fn keyring_ok(&self) -> bool {
        self.loaded && self.secrets.keyring_error.is_none()
    }

    /// Takes in one update. Returns the settings when they were (re)loaded,
    /// for the app to take as its working copy.
    pub fn apply(&mut self, update: EngineUpdate, now: f64) -> Option<Settings> {
        match update {
            EngineUpdate::Loaded {
                settings,
                secrets,
                notice,
            } => {
                self.loaded = true;
                self.secrets = secrets;
                self.settings_notice = notice;
                return Some(*settings);
            }
            EngineUpdate::Secrets(secrets) => self.secrets = secrets,
            EngineUpdate::DuplicateWarnings(warnings) => self.duplicate_warnings = warnings,
            EngineUpdate::Saved => {
                self.saved = true;
                self.saves_in_flight = self.saves_in_flight.saturating_sub(1);
            }
            EngineUpdate::Answered(ticket, result) => {
                // A Test that could not start stops its spinner (the notice
                // says why); one that started waits for its record.
                if result.is_err() {
                    for requested in self.test_requested.values_mut() {
                        if requested.is_some_and(|(_, t)| t == ticket) {
                            *requested = None;
                        }
                    }
                }
                if self.answers.len() == MAX_ANSWERS_KEPT {
                    self.answers.pop_front();
                }
                self.answers.push_back((ticket, result));
            }
            EngineUpdate::Notice(level, text) => {
                self.push_notice(level, text, now);
            }
            EngineUpdate::Delivery(record) => {
                if record.test {
                    self.test_requested[record.destination] = None;
                }
                self.deliveries.upsert(record);
            }
            EngineUpdate::Health(destination, health) => {
                self.health[destination] = health;
            }
            EngineUpdate::FoundChats(result) => self.found_chats = FindChats::Answered(result),
            EngineUpdate::Printers(printers) => self.printers = printers,
            EngineUpdate::PrinterTrust {
                ticket,
                fingerprint,
            } => self.printer_trust = Some((ticket, fingerprint)),
            EngineUpdate::Verified(channel, result) => {
                self.verify[channel] = Verify::Answered(result)
            }
            EngineUpdate::Exported(result) => match result {
                Ok((path, n)) => self.push_notice(
                    NoticeLevel::Info,
                    format!(
                        "exported {n} deliver{} to {}",
                        if n == 1 { "y" } else { "ies" },
                        path.display()
                    ),
                    now,
                ),
                Err(e) => {
                    self.push_notice(NoticeLevel::Error, format!("export failed: {e}"), now);
                }
            },
            EngineUpdate::Simulation(view) => self.simulation = Some(view),
            EngineUpdate::Stopped => self.stopped = true,
        }
        None
    }

    pub fn push_notice(&mut self, level: NoticeLevel, text: String, now: f64) {
        // The same sentence twice in a row is one notice, refreshed.
        if let Some(last) = self.notices.last_mut()
            && last.level == level
            && last.text == text
        {
            last.at = now;
            return;
        }
        self.next_notice += 1;
        self.notices.push(Notice {
            id: self.next_notice,
            level,
            text,
            at: now,
        });
        // Good news is shown as a few short-lived toasts: the oldest makes
        // way. Errors stay until dismissed, within a bound.
        let limit = match level {
            NoticeLevel::Info => MAX_INFO_NOTICES,
            NoticeLevel::Error => MAX_ERROR_NOTICES,
        };
        if self.notices.iter().filter(|n| n.level == level).count() > limit
            && let Some(oldest) = self.notices.iter().position(|n| n.level == level)
        {
            self.notices.remove(oldest);
        }
    }

    /// Good-news notices, newest first.
    pub fn info_notices(&self) -> impl Iterator<Item = &Notice> {
        self.notices
            .iter()
            .rev()
            .filter(|n| n.level == NoticeLevel::Info)
    }

    /// Error notices, newest first.
    pub fn error_notices(&self) -> impl Iterator<Item = &Notice> {
        self.notices
            .iter()
            .rev()
            .filter(|n| n.level == NoticeLevel::Error)
    }

    pub fn dismiss_notice(&mut self, id: u64) {
        self.notices.retain(|n| n.id != id);
    }

    /// Drops good news that has been up long enough; returns how long until
    /// the next one expires, so the app can ask for a frame then.
    pub fn expire(&mut self, now: f64) -> Option<f64> {
        self.notices
            .retain(|n| n.level == NoticeLevel::Error || now - n.at < INFO_NOTICE_SECONDS);
        for requested in self.test_requested.values_mut() {
            if requested.is_some_and(|(at, _)| now - at > TEST_REQUEST_TIMEOUT_SECONDS) {
                *requested = None;
            }
        }
        let notices = self
            .notices
            .iter()
            .filter(|n| n.level == NoticeLevel::Info)
            .map(|n| n.at + INFO_NOTICE_SECONDS - now);
        let tests = self
            .test_requested
            .values()
            .flatten()
            .map(|(at, _)| at + TEST_REQUEST_TIMEOUT_SECONDS - now);
        notices.chain(tests).map(|s| s.max(0.0)).reduce(f64::min)
    }

    /// How the command with `ticket` ended, once the engine has said.
    pub fn answer(&self, ticket: Ticket) -> Option<&Result<(), String>> {
        self.answers
            .iter()
            .rev()
            .find(|(t, _)| *t == ticket)
            .map(|(_, result)| result)
    }

    /// A test delivery to `destination` is on its way (spinner).
    pub fn testing(&self, destination: Channel) -> bool {
        self.test_requested[destination].is_some() || self.deliveries.in_progress(destination) > 0
    }
}

/// The window's delivery log, oldest first, upserted by id. The records
/// are the engine's own, shared rather than copied.
#[derive(Debug)]
pub struct Deliveries {
    records: VecDeque<Arc<DeliveryRecord>>,
    capacity: usize,
    in_progress: PerChannel<usize>,
    /// The newest delivery per destination that ended (delivered or failed).
    last_ended: PerChannel<Option<DeliveryId>>,
    /// The newest test delivery per destination.
    last_test: PerChannel<Option<DeliveryId>>,
    /// Changes whenever a record is added, changed or removed.
    generation: u64,
}

impl Deliveries {
    pub fn new(capacity: usize) -> Self {
        Deliveries {
            records: VecDeque::new(),
            capacity: capacity.max(1),
            in_progress: PerChannel::default(),
            last_ended: PerChannel::default(),
            last_test: PerChannel::default(),
            generation: 0,
        }
    }

    /// Adds a record or replaces the one with its id.
    pub fn upsert(&mut self, record: Arc<DeliveryRecord>) {
        let (s, id, outcome, test) = (record.destination, record.id, record.outcome, record.test);
        let full = self.records.len() == self.capacity;
        // Ids only grow, so a new record nearly always goes at the back.
        if self.records.back().is_none_or(|r| r.id < id) {
            if full && let Some(old) = self.records.pop_front() {
                self.forget(&old);
            }
            self.records.push_back(record);
        } else {
            match self.records.binary_search_by_key(&id, |r| r.id) {
                // An ended record changes only by letting its detail go.
                // The engine tells that from the thread that pushed the
                // record out of the newest, and the last version from the
                // one that ended it: should they cross, the last version
                // must not bring the detail back.
                Ok(i)
                    if self.records[i].detail.is_none()
                        && self.records[i].outcome != Outcome::InProgress
                        && record.detail.is_some() =>
                {
                    return;
                }
                Ok(i) => {
                    let old = std::mem::replace(&mut self.records[i], record);
                    self.forget(&old);
                }
                // Older than everything kept in a full log: it was dropped.
                Err(0) if full => return,
                Err(i) => {
                    self.records.insert(i, record);
                    if full && let Some(old) = self.records.pop_front() {
                        self.forget(&old);
                    }
                }
            }
        }
        self.generation += 1;
        if outcome == Outcome::InProgress {
            self.in_progress[s] += 1;
        }
        if matches!(outcome, Outcome::Delivered | Outcome::Failed)
            && self.last_ended[s].is_none_or(|last| last <= id)
        {
            self.last_ended[s] = Some(id);
        }
        if test && self.last_test[s].is_none_or(|last| last <= id) {
            self.last_test[s] = Some(id);
        }
    }

    /// Undoes the in-progress count of a record that left.
    fn forget(&mut self, old: &DeliveryRecord) {
        if old.outcome == Outcome::InProgress {
            let s = old.destination;
            self.in_progress[s] = self.in_progress[s].saturating_sub(1);
        }
    }

    pub fn clear(&mut self) {
        self.records.clear();
        self.in_progress = PerChannel::default();
        self.last_ended = PerChannel::default();
        self.last_test = PerChannel::default();
        self.generation += 1;
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The `n`-th newest record (0 is the newest).
    pub fn newest(&self, n: usize) -> Option<&DeliveryRecord> {
        self.records
            .len()
            .checked_sub(n + 1)
            .map(|i| &*self.records[i])
    }

    pub fn get(&self, id: DeliveryId) -> Option<&DeliveryRecord> {
        self.records
            .binary_search_by_key(&id, |r| r.id)
            .ok()
            .map(|i| &*self.records[i])
    }

    /// Newest first.
    pub fn iter_newest_first(&self) -> impl Iterator<Item = &DeliveryRecord> {
        self.records.iter().rev().map(|r| &**r)
    }

    pub fn in_progress(&self, destination: Channel) -> usize {
        self.in_progress[destination]
    }

    /// The newest delivery to `destination` that was delivered or failed.
    pub fn last_ended(&self, destination: Channel) -> Option<&DeliveryRecord> {
        self.last_ended[destination].and_then(|id| self.get(id))
    }

    /// The newest test delivery to `destination`.
    pub fn last_test(&self, destination: Channel) -> Option<&DeliveryRecord> {
        self.last_test[destination].and_then(|id| self.get(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::events::EventType;
    use crate::engine::delivery::log::EventRef;
    use time::OffsetDateTime;

    fn record(id: u64, destination: Channel, outcome: Outcome) -> Arc<DeliveryRecord> {
        Arc::new(DeliveryRecord {
            id: DeliveryId(id),
            destination,
            events: vec![EventRef {
                event_type: EventType::from_id("job.failed").unwrap(),
                id: format!("evt_{id}"),
                printer: None,
            }]
            .into(),
            test: true,
            started_at: OffsetDateTime::UNIX_EPOCH,
            outcome,
            target: "".into(),
            attempts: Arc::new([]),
            error: None,
            total_ms: None,
            next_attempt_at: None,
            detail: None,
        })
    }

    #[test]
    fn a_last_version_told_after_the_detail_was_let_go_does_not_bring_it_back() {
        let mut log = Deliveries::new(10);
        let full = |id| {
            let mut r = (*record(id, Channel::Discord, Outcome::Delivered)).clone();
            r.detail = Some(Arc::default());
            Arc::new(r)
        };
        log.upsert(full(1));
        log.upsert(full(2));
        log.upsert(Arc::new(full(1).without_detail()));
        // The two tellings crossed: the full last version came second.
        log.upsert(full(1));
        assert!(log.get(DeliveryId(1)).unwrap().detail.is_none());
        // A record still being sent is replaced as it changes.
        log.upsert(record(3, Channel::Discord, Outcome::InProgress));
        log.upsert(full(3));
        assert!(log.get(DeliveryId(3)).unwrap().detail.is_some());
    }

    #[test]
    fn upserts_in_place_and_counts_what_is_in_flight() {
        let mut log = Deliveries::new(10);
        log.upsert(record(1, Channel::Discord, Outcome::InProgress));
        log.upsert(record(2, Channel::Webhook, Outcome::InProgress));
        assert_eq!(log.in_progress(Channel::Discord), 1);
        log.upsert(record(1, Channel::Discord, Outcome::Delivered));
        assert_eq!(log.len(), 2);
        assert_eq!(log.in_progress(Channel::Discord), 0);
        assert_eq!(log.in_progress(Channel::Webhook), 1);
        assert_eq!(log.newest(0).unwrap().id, DeliveryId(2));
        assert_eq!(
            log.last_ended(Channel::Discord).unwrap().outcome,
            Outcome::Delivered
        );
        assert!(log.last_ended(Channel::Webhook).is_none());
    }

    #[test]
    fn keeps_the_newest_when_full() {
        let mut log = Deliveries::new(3);
        for id in 1..=5 {
            log.upsert(record(id, Channel::Discord, Outcome::InProgress));
        }
        let ids: Vec<u64> = log.iter_newest_first().map(|r| r.id.0).collect();
        assert_eq!(ids, [5, 4, 3]);
        assert_eq!(log.in_progress(Channel::Discord), 3);
        // An update for a record already dropped is not brought back.
        log.upsert(record(2, Channel::Discord, Outcome::Failed));
        assert_eq!(log.len(), 3);
        assert!(log.get(DeliveryId(2)).is_none());
    }

    #[test]
    fn only_the_newest_good_news_is_kept_and_errors_are_not_pushed_out_by_it() {
        let mut state = EngineState::new("p".into(), Vec::new());
        state.push_notice(NoticeLevel::Error, "broken".into(), 0.0);
        for i in 0..10 {
            state.push_notice(NoticeLevel::Info, format!("news {i}"), 0.0);
        }
        let news: Vec<&str> = state.info_notices().map(|n| n.text.as_str()).collect();
        assert_eq!(news, ["news 9", "news 8", "news 7"]);
        assert_eq!(state.error_notices().count(), 1);
    }

    #[test]
    fn info_notices_expire_and_errors_stay() {
        let mut state = EngineState::new("p".into(), Vec::new());
        state.push_notice(NoticeLevel::Info, "saved".into(), 0.0);
        state.push_notice(NoticeLevel::Error, "broken".into(), 0.0);
        assert_eq!(state.expire(1.0), Some(INFO_NOTICE_SECONDS - 1.0));
        assert_eq!(state.expire(INFO_NOTICE_SECONDS + 1.0), None);
        assert_eq!(state.notices.len(), 1);
        assert_eq!(state.notices[0].text, "broken");
    }

    #[test]
    fn a_refused_test_stops_only_its_own_spinner_and_other_errors_stop_none() {
        let mut state = EngineState::new("p".into(), Vec::new());
        let (discord, webhook) = (Ticket(7), Ticket(8));
        state.test_requested[Channel::Discord] = Some((0.0, discord));
        state.test_requested[Channel::Webhook] = Some((0.0, webhook));
        state.apply(
            EngineUpdate::Notice(NoticeLevel::Error, "something else failed".into()),
            0.1,
        );
        assert!(state.testing(Channel::Discord) && state.testing(Channel::Webhook));
        state.apply(
            EngineUpdate::Answered(
                webhook,
                Err("custom webhooks need the Commercial plan".into()),
            ),
            0.2,
        );
        assert!(state.testing(Channel::Discord));
        assert!(!state.testing(Channel::Webhook));
        assert_eq!(
            state.answer(webhook),
            Some(&Err("custom webhooks need the Commercial plan".to_string()))
        );
        // A test that started keeps its spinner until its record arrives.
        state.apply(EngineUpdate::Answered(discord, Ok(())), 0.3);
        assert!(state.testing(Channel::Discord));
    }
}
