//! Bambu Lab printers over LAN MQTT: the `device/<serial>/report` messages
//! merged into one state (P1 and A1 send only what changed) and read as
//! news.
//!
//! - The first report with a `gcode_state` after (re)connecting is the
//!   baseline: remembered, never told.
//! - A start is a move from anything but PREPARE/SLICING/RUNNING/PAUSE into
//!   PREPARE, SLICING or RUNNING (so PAUSE → RUNNING is not one).
//! - Each job ends once: FINISH is a success; a cancel is `print_error`
//!   turning 0x0300400C or a running job going back to IDLE, and the FAILED
//!   that follows is swallowed; any other FAILED is a failure. A FAILED
//!   without an error code is held [`FAILURE_HOLD`] in case the cancel
//!   marker comes just after it.
//! - HMS codes and non-cancel `print_error`s are told as errors (levels
//!   1–2) or warnings (3), once each (see [`super::bambu_hms`]).

use serde_json::Value;
use time::{Duration, OffsetDateTime};

use super::PrinterTracker;
use super::bambu_hms::{CANCEL_PRINT_ERROR, HmsCode, HmsWatch, print_error_words};
use super::bambu_report::{BambuReport, PrintFields};
use super::json::{f64_of, text_of, u64_of};
use super::liveness::Liveness;
use super::news::{JobInfo, PrinterNews, PrinterSnapshot};

/// How long a FAILED with no error code waits for a cancel marker.
pub const FAILURE_HOLD: Duration = Duration::seconds(5);
/// A P1P copes with `pushall` no more than once in this long.
pub const MIN_PUSHALL_INTERVAL: Duration = Duration::minutes(5);

/// States in which a job is on the printer.
const ACTIVE: [&str; 4] = ["PREPARE", "SLICING", "RUNNING", "PAUSE"];
/// States a job starts in.
const STARTING: [&str; 3] = ["PREPARE", "SLICING", "RUNNING"];

/// The message that asks the printer for its whole state.
pub fn pushall_request() -> String {
    r#"{"pushing":{"sequence_id":"0","command":"pushall","version":1,"push_target":1}}"#.into()
}

/// The topic the printer publishes its reports on.
pub fn report_topic(serial: &str) -> String {
    format!("device/{serial}/report")
}

/// The topic the printer takes requests on.
pub fn request_topic(serial: &str) -> String {
    format!("device/{serial}/request")
}

#[derive(Debug, Clone, PartialEq)]
struct TrackedJob {
    /// `task_id`, else `subtask_id`, else the names: what tells jobs apart.
    key: String,
    info: JobInfo,
    /// Its one terminal event was told (or it ended unseen).
    ended: bool,
}

/// One Bambu printer's reports, read as news.
#[derive(Debug, Clone)]
pub struct BambuTracker {
    /// What the rules read of the `print` object, with every delta
    /// merged in.
    state: PrintFields,
    /// The kept `gcode_state` in capitals, as read at every report.
    reported_state: Option<String>,
    baseline_pending: bool,
    /// The state the rules last acted on.
    gcode_state: Option<String>,
    print_error: u32,
    job: Option<TrackedJob>,
    /// A FAILED waiting for a cancel marker: until when, and its reason.
    held_failure: Option<(OffsetDateTime, String)>,
    hms: HmsWatch,
    liveness: Liveness,
    last_news: Option<(OffsetDateTime, PrinterNews)>,
}

impl Default for BambuTracker {
    fn default() -> Self {
        BambuTracker::new()
    }
}

impl BambuTracker {
    pub fn new() -> BambuTracker {
        BambuTracker {
            state: PrintFields::default(),
            reported_state: None,
            baseline_pending: true,
            gcode_state: None,
            print_error: 0,
            job: None,
            held_failure: None,
            hms: HmsWatch::default(),
            liveness: Liveness::default(),
            last_news: None,
        }
    }

    /// The connection was made again: the next report with a
    /// `gcode_state` (the answer to `pushall`) is a baseline. The job seen
    /// before is kept, so an echoed FINISH is not told again.
    pub fn reconnected(&mut self) {
        self.baseline_pending = true;
    }

    /// Reads one report (any JSON from the report topic).
    pub fn report(&mut self, json: &Value, now: OffsetDateTime) -> Vec<PrinterNews> {
        self.read(BambuReport::from_value(json), now)
    }

    /// Reads one report, parsed with [`BambuReport::parse`].
    pub fn read(&mut self, report: BambuReport, now: OffsetDateTime) -> Vec<PrinterNews> {
        let mut news: Vec<PrinterNews> = self.liveness.heard(now).into_iter().collect();
        let Some(print) = report.print else {
            return self.told(news, now);
        };
        let carries_state = print.gcode_state.is_some();
        self.state.merge(print);
        if carries_state {
            self.reported_state = text(&self.state.gcode_state).map(|s| s.to_ascii_uppercase());
        }
        if self.baseline_pending {
            if carries_state {
                self.seed(now);
            }
            return self.told(news, now);
        }
        self.resolve_hold(now, &mut news);
        let pe = self.current_print_error();
        // Faults first, as they usually explain the job's end.
        let present = self.present_codes(pe);
        for code in self.hms.update(&present, now, false) {
            // A level-less code is never returned by `update`.
            let severity = code
                .severity()
                .unwrap_or(crate::core::events::Severity::Error);
            news.push(PrinterNews::Hms {
                code: code.full(),
                severity,
                message: code.message(),
            });
        }
        self.update_progress();
        if pe == CANCEL_PRINT_ERROR && self.print_error != CANCEL_PRINT_ERROR {
            self.cancel(
                "cancelled (the printer reported 0300_400C, task cancelled)",
                &mut news,
            );
        }
        self.print_error = pe;
        if let Some(new_state) = self.current_state()
            && self.gcode_state.as_deref() != Some(new_state)
        {
            let new_state = new_state.to_string();
            self.transition(&new_state, pe, now, &mut news);
            self.gcode_state = Some(new_state);
        }
        self.told(news, now)
    }

    /// Remembers the baseline without telling anything.
    fn seed(&mut self, now: OffsetDateTime) {
        self.baseline_pending = false;
        let pe = self.current_print_error();
        let present = self.present_codes(pe);
        self.hms.update(&present, now, true);
        self.print_error = pe;
        let state = self.current_state().map(str::to_string);
        let key = self.job_key();
        let active = state.as_deref().is_some_and(|s| ACTIVE.contains(&s));
        let same = self.job.as_ref().is_some_and(|j| j.key == key);
        if active {
            match self.job.as_mut() {
                Some(job) if same => job.ended = false,
                _ => self.job = Some(self.new_job(key, now)),
            }
        } else if !(same && self.held_failure.is_some()) {
            if !same && matches!(state.as_deref(), Some("FINISH" | "FAILED")) {
                self.job = Some(self.new_job(key, now));
            }
            // A job that was running before the reconnect may have ended
            // unseen; it is not told (the baseline rule), and its echoes
            // are not either. (A FAILED already held is still told.)
            if let Some(job) = &mut self.job {
                job.ended = true;
            }
        }
        self.gcode_state = state;
        self.update_progress();
    }

    fn transition(
        &mut self,
        new_state: &str,
        pe: u32,
        now: OffsetDateTime,
        news: &mut Vec<PrinterNews>,
    ) {
        let was_active = self
            .gcode_state
            .as_deref()
            .is_some_and(|s| ACTIVE.contains(&s));
        if STARTING.contains(&new_state) && !was_active {
            let key = self.job_key();
            let continues = self.job.as_ref().is_some_and(|j| !j.ended && j.key == key);
            if !continues {
                // A held failure of the last job is told before the new start.
                if let Some((_, reason)) = self.held_failure.take() {
                    self.fail(reason, news);
                }
                let mut job = self.new_job(key, now);
                // The last job's 100 % may linger in the state until the
                // printer's next delta.
                job.info.progress = 0.0;
                news.push(PrinterNews::JobStarted {
                    job: job.info.clone(),
                });
                self.job = Some(job);
            }
            return;
        }
        if self.job.as_ref().is_none_or(|j| j.ended) {
            return;
        }
        match new_state {
            "FINISH" => {
                if let Some(job) = self.job.as_mut() {
                    job.ended = true;
                    job.info.progress = 1.0;
                    news.push(PrinterNews::JobSucceeded {
                        job: job.info.clone(),
                    });
                }
            }
            "FAILED" if pe != 0 => {
                let code = HmsCode::from_print_error(pe).short();
                let reason = match print_error_words(pe) {
                    Some(words) => {
                        format!("the printer reported error {code}: {}", lower_first(words))
                    }
                    None => format!("the printer reported error {code}"),
                };
                self.fail(reason, news);
            }
            "FAILED" => {
                self.held_failure =
                    Some((now + FAILURE_HOLD, "the printer reported FAILED".into()));
            }
            "IDLE" if was_active => {
                self.cancel("stopped: the printer went back to idle", news);
            }
            _ => {}
        }
    }

    fn cancel(&mut self, reason: &str, news: &mut Vec<PrinterNews>) {
        self.held_failure = None;
        if let Some(job) = self.job.as_mut().filter(|j| !j.ended) {
            job.ended = true;
            news.push(PrinterNews::JobCancelled {
                job: job.info.clone(),
                reason: Some(reason.into()),
            });
        }
    }

    fn fail(&mut self, reason: String, news: &mut Vec<PrinterNews>) {
        self.held_failure = None;
        if let Some(job) = self.job.as_mut().filter(|j| !j.ended) {
            job.ended = true;
            news.push(PrinterNews::JobFailed {
                job: job.info.clone(),
                reason,
            });
        }
    }

    /// A held FAILED whose wait is over becomes a failure.
    fn resolve_hold(&mut self, now: OffsetDateTime, news: &mut Vec<PrinterNews>) {
        if let Some((until, reason)) = &self.held_failure
            && now >= *until
        {
            let reason = reason.clone();
            self.fail(reason, news);
        }
    }

    fn current_state(&self) -> Option<&str> {
        self.reported_state.as_deref()
    }

    fn current_print_error(&self) -> u32 {
        self.state
            .print_error
            .as_ref()
            .and_then(u64_of)
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0)
    }

    /// The `hms` list, then the `print_error` as a code.
    fn present_codes(&self, print_error: u32) -> Vec<HmsCode> {
        let mut codes: Vec<HmsCode> = self
            .state
            .hms
            .as_ref()
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(|entry| {
                        let attr = u32::try_from(entry.get("attr").and_then(u64_of)?).ok()?;
                        let code = u32::try_from(entry.get("code").and_then(u64_of)?).ok()?;
                        Some(HmsCode::new(attr, code))
                    })
                    .collect()
            })
            .unwrap_or_default();
        if print_error != 0 {
            codes.push(HmsCode::from_print_error(print_error));
        }
        codes
    }

    /// The job's id: `task_id`, else `subtask_id` (`0` is none).
    fn job_id(&self) -> Option<String> {
        let id = |v: &Option<Value>| text(v).filter(|v| v != "0");
        id(&self.state.task_id).or_else(|| id(&self.state.subtask_id))
    }

    fn job_key(&self) -> String {
        self.job_id().unwrap_or_else(|| {
            format!(
                "{}|{}",
                text(&self.state.subtask_name).unwrap_or_default(),
                text(&self.state.gcode_file).unwrap_or_default()
            )
        })
    }

    fn new_job(&self, key: String, now: OffsetDateTime) -> TrackedJob {
        let name = text(&self.state.subtask_name)
            .or_else(|| text(&self.state.gcode_file))
            .unwrap_or_else(|| "print job".into());
        let id = self.job_id().unwrap_or_else(|| name.clone());
        // X1 reports carry the start time; others are "first seen".
        let started_at = self
            .state
            .gcode_start_time
            .as_ref()
            .and_then(u64_of)
            .and_then(|s| i64::try_from(s).ok())
            .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
            .filter(|t| *t <= now && *t > now - Duration::days(30))
            .unwrap_or(now);
        TrackedJob {
            key,
            info: JobInfo {
                id,
                name,
                started_at,
                progress: self.progress().unwrap_or(0.0),
            },
            ended: false,
        }
    }

    fn progress(&self) -> Option<f64> {
        self.state
            .mc_percent
            .as_ref()
            .and_then(f64_of)
            .map(|p| (p / 100.0).clamp(0.0, 1.0))
    }

    /// Keeps the open job's progress current, and its name and id too:
    /// P1 deltas may name the job a report after the state says PREPARE.
    fn update_progress(&mut self) {
        let progress = self.progress();
        let active = self.current_state().is_some_and(|s| ACTIVE.contains(&s));
        let fresh = active.then(|| {
            (
                self.job_key(),
                self.new_job(String::new(), OffsetDateTime::UNIX_EPOCH),
            )
        });
        if let Some(job) = self.job.as_mut().filter(|j| !j.ended) {
            if let Some(p) = progress {
                job.info.progress = p;
            }
            if let Some((key, named)) = fresh
                && key != job.key
                && self
                    .gcode_state
                    .as_deref()
                    .is_some_and(|s| ACTIVE.contains(&s))
            {
                job.key = key;
                job.info.name = named.info.name;
                job.info.id = named.info.id;
            }
        }
    }

    fn told(&mut self, news: Vec<PrinterNews>, now: OffsetDateTime) -> Vec<PrinterNews> {
        if let Some(last) = news.last() {
            self.last_news = Some((now, last.clone()));
        }
        news
    }
}

/// `words` as the rest of a sentence: its first letter small.
fn lower_first(words: &str) -> String {
    let mut chars = words.chars();
    chars
        .next()
        .map(|first| first.to_lowercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A kept field as text, when it is one.
fn text(field: &Option<Value>) -> Option<String> {
    field.as_ref().and_then(text_of)
}

impl PrinterTracker for BambuTracker {
    fn link_up(&mut self, _now: OffsetDateTime) {
        self.reconnected();
    }

    fn link_down(&mut self, now: OffsetDateTime, why: &str) {
        self.liveness.lost(now, why);
    }

    fn report(&mut self, message: &Value, now: OffsetDateTime) -> Vec<PrinterNews> {
        BambuTracker::report(self, message, now)
    }

    fn poll(&mut self, now: OffsetDateTime) -> Vec<PrinterNews> {
        let mut news = Vec::new();
        self.resolve_hold(now, &mut news);
        news.extend(self.liveness.poll(now));
        self.told(news, now)
    }

    fn is_silent(&self, now: OffsetDateTime) -> bool {
        self.liveness.is_silent(now)
    }

    fn next_deadline(&self) -> Option<OffsetDateTime> {
        let hold = self.held_failure.as_ref().map(|(t, _)| *t);
        match (hold, self.liveness.next_deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn set_timing(&mut self, timing: super::liveness::Timing) {
        self.liveness.set_timing(timing);
    }

    fn carry_over(&mut self, last: super::liveness::LastKnown, now: OffsetDateTime) {
        self.liveness.carry_over(last, now);
    }

    fn snapshot(&self) -> PrinterSnapshot {
        let state = match (self.liveness.state_word(), self.gcode_state.as_deref()) {
            (Some(word), _) => word.to_string(),
            (None, None) => "connecting".into(),
            (None, Some(s)) => match s {
                "IDLE" => "idle".into(),
                "PREPARE" => "preparing".into(),
                "SLICING" => "slicing".into(),
                "RUNNING" => "printing".into(),
                "PAUSE" => "paused".into(),
                "FINISH" => "finished".into(),
                "FAILED" => "failed".into(),
                other => other.to_ascii_lowercase(),
            },
        };
        let active = self
            .gcode_state
            .as_deref()
            .is_some_and(|s| ACTIVE.contains(&s));
        PrinterSnapshot {
            state,
            job: self.job.as_ref().map(|j| j.info.name.clone()),
            progress: active.then(|| self.progress()).flatten(),
            remaining_s: active
                .then(|| self.state.mc_remaining_time.as_ref().and_then(u64_of))
                .flatten()
                .map(|m| m.saturating_mul(60)),
            last_news: self.last_news.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::events::Severity;
    use serde_json::json;

    fn t(s: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_795_719_000 + s).unwrap()
    }

    /// Feeds reports one second apart from `start`; returns every news.
    fn feed(tracker: &mut BambuTracker, start: i64, reports: &[Value]) -> Vec<PrinterNews> {
        reports
            .iter()
            .enumerate()
            .flat_map(|(i, r)| tracker.report(r, t(start + i as i64)))
            .collect()
    }

    fn kinds(news: &[PrinterNews]) -> Vec<&'static str> {
        news.iter().map(|n| n.event_type().id()).collect()
    }

    fn p(print: Value) -> Value {
        json!({ "print": print })
    }

    fn idle_baseline() -> BambuTracker {
        let mut tr = BambuTracker::new();
        tr.link_up(t(0));
        assert!(
            tr.report(
                &p(json!({"command":"push_status","gcode_state":"IDLE","print_error":0,"hms":[],"mc_percent":0})),
                t(0)
            )
            .is_empty()
        );
        tr
    }

    #[test]
    fn the_first_report_is_a_baseline_even_mid_print_or_finished() {
        for state in ["RUNNING", "FINISH", "FAILED", "PAUSE", "IDLE"] {
            let mut tr = BambuTracker::new();
            let news = tr.report(
                &p(json!({"gcode_state": state, "print_error": 0, "hms":[{"attr":50331904,"code":65543}], "task_id":"1"})),
                t(0),
            );
            assert!(news.is_empty(), "{state}: {news:?}");
        }
        // A P1 delta without gcode_state does not complete the baseline.
        let mut tr = BambuTracker::new();
        assert!(
            tr.report(&p(json!({"wifi_signal":"-40dBm"})), t(0))
                .is_empty()
        );
        assert!(
            tr.report(&p(json!({"gcode_state":"RUNNING"})), t(1))
                .is_empty()
        );
        assert_eq!(
            kinds(&tr.report(&p(json!({"gcode_state":"FINISH"})), t(2))),
            ["job.succeeded"]
        );
    }

    #[test]
    fn pause_and_resume_is_not_a_start_and_prepare_already_is() {
        let mut tr = idle_baseline();
        let news = feed(
            &mut tr,
            1,
            &[
                p(json!({"gcode_state":"PREPARE","subtask_name":"bracket","task_id":"77"})),
                p(json!({"gcode_state":"RUNNING"})),
                p(json!({"gcode_state":"PAUSE"})),
                p(json!({"gcode_state":"RUNNING"})),
                p(json!({"gcode_state":"FINISH","mc_percent":100})),
            ],
        );
        assert_eq!(kinds(&news), ["job.started", "job.succeeded"]);
    }

    #[test]
    fn a_job_named_a_delta_after_it_started_ends_under_its_own_name() {
        let mut tr = idle_baseline();
        feed(
            &mut tr,
            1,
            &[
                p(json!({"gcode_state":"FINISH","mc_percent":100})),
                p(json!({"gcode_state":"IDLE"})),
            ],
        );
        let news = feed(
            &mut tr,
            10,
            &[
                p(json!({"gcode_state":"PREPARE"})),
                p(json!({"subtask_name":"gear","task_id":"901","mc_percent":0})),
                p(json!({"gcode_state":"RUNNING","mc_percent":50})),
                p(json!({"gcode_state":"FINISH","mc_percent":100})),
            ],
        );
        assert_eq!(kinds(&news), ["job.started", "job.succeeded"]);
        let (PrinterNews::JobStarted { job: started }, PrinterNews::JobSucceeded { job: done }) =
            (&news[0], &news[1])
        else {
            panic!("{news:?}")
        };
        assert_eq!(started.progress, 0.0);
        assert_eq!((done.name.as_str(), done.id.as_str()), ("gear", "901"));
    }

    #[test]
    fn a_running_job_going_back_to_idle_is_a_cancel() {
        let mut tr = idle_baseline();
        let news = feed(
            &mut tr,
            1,
            &[
                p(json!({"gcode_state":"RUNNING","subtask_name":"lid"})),
                p(json!({"gcode_state":"IDLE"})),
                p(json!({"gcode_state":"FAILED"})),
            ],
        );
        assert_eq!(kinds(&news), ["job.started", "job.cancelled"]);
    }

    #[test]
    fn a_failed_with_an_error_code_fails_at_once_with_an_hms_error() {
        let mut tr = idle_baseline();
        let news = feed(
            &mut tr,
            1,
            &[
                p(json!({"gcode_state":"RUNNING","subtask_name":"lid"})),
                p(json!({"gcode_state":"FAILED","print_error":"117473297"})),
            ],
        );
        assert_eq!(
            kinds(&news),
            ["job.started", "printer.hms_error", "job.failed"]
        );
        let PrinterNews::JobFailed { reason, .. } = &news[2] else {
            panic!()
        };
        assert!(reason.contains("0700_8011"), "{reason}");
        // A fault farmhook knows is told in words, in the reason and the
        // HMS error alike.
        let mut tr = idle_baseline();
        let news = feed(
            &mut tr,
            1,
            &[
                p(json!({"gcode_state":"RUNNING","subtask_name":"lid"})),
                p(json!({"gcode_state":"FAILED","print_error":0x0300_4006})),
            ],
        );
        let (PrinterNews::Hms { message, .. }, PrinterNews::JobFailed { reason, .. }) =
            (&news[1], &news[2])
        else {
            panic!("{news:?}")
        };
        assert_eq!(message, "The nozzle is clogged (printer error 0300_4006)");
        assert_eq!(
            reason,
            "the printer reported error 0300_4006: the nozzle is clogged"
        );
        // The P1S case: print_error alone (hms empty) is an error, told once.
        let mut tr = idle_baseline();
        let news = feed(
            &mut tr,
            1,
            &[
                p(json!({"print_error":117473297,"hms":[]})),
                p(json!({"print_error":117473297})),
                p(json!({"hms":[{"attr":0x0700_2000u32,"code":0x0002_8011u32}]})),
            ],
        );
        assert_eq!(kinds(&news), ["printer.hms_error"]);
    }

    #[test]
    fn a_failed_without_a_code_is_held_five_seconds_for_a_cancel_marker() {
        let mut tr = idle_baseline();
        feed(&mut tr, 1, &[p(json!({"gcode_state":"RUNNING"}))]);
        assert!(
            tr.report(&p(json!({"gcode_state":"FAILED"})), t(10))
                .is_empty()
        );
        assert_eq!(tr.next_deadline(), Some(t(15)));
        assert!(tr.poll(t(14)).is_empty());
        assert_eq!(kinds(&tr.poll(t(15))), ["job.failed"]);
        assert!(
            tr.report(&p(json!({"print_error":50348044})), t(16))
                .is_empty()
        );
        // And when the marker comes within the hold, it is a cancel.
        let mut tr = idle_baseline();
        feed(&mut tr, 1, &[p(json!({"gcode_state":"RUNNING"}))]);
        assert!(
            tr.report(&p(json!({"gcode_state":"FAILED"})), t(10))
                .is_empty()
        );
        let news = tr.report(&p(json!({"print_error":50348044})), t(12));
        assert_eq!(kinds(&news), ["job.cancelled"]);
        assert!(tr.poll(t(30)).is_empty());
    }

    #[test]
    fn hms_warnings_and_errors_follow_code_shifted_by_sixteen() {
        let mut tr = idle_baseline();
        let news = feed(
            &mut tr,
            1,
            &[
                p(json!({"hms":[{"attr":50374400,"code":196609}]})),
                p(
                    json!({"hms":[{"attr":"50331904","code":"65543"}, {"attr":50374400,"code":196609}]}),
                ),
                p(json!({"hms":[{"attr":0x0500_0500u32,"code":0x0001_0007u32}]})),
                p(json!({"hms":[{"attr":0x0300_0100u32,"code":0x0004_0001u32}]})),
            ],
        );
        let hms: Vec<(String, Severity)> = news
            .iter()
            .filter_map(|n| match n {
                PrinterNews::Hms { code, severity, .. } => Some((code.clone(), *severity)),
                _ => None,
            })
            .collect();
        assert_eq!(
            hms,
            [
                ("0300_A700_0003_0001".into(), Severity::Warning),
                ("0300_0100_0001_0007".into(), Severity::Error),
            ]
        );
    }

    #[test]
    fn the_snapshot_shows_state_job_progress_and_remaining_time() {
        let mut tr = BambuTracker::new();
        assert_eq!(tr.snapshot().state, "connecting");
        tr.report(
            &p(json!({"gcode_state":"RUNNING","mc_percent":"42","mc_remaining_time":"30","subtask_name":"gear"})),
            t(0),
        );
        let s = tr.snapshot();
        assert_eq!(s.state, "printing");
        assert_eq!(s.job.as_deref(), Some("gear"));
        assert_eq!(s.progress, Some(0.42));
        assert_eq!(s.remaining_s, Some(1800));
        tr.link_down(t(1), "connection reset");
        assert_eq!(tr.snapshot().state, "reconnecting");
        assert_eq!(kinds(&tr.poll(t(61))), ["printer.offline"]);
        assert_eq!(tr.snapshot().state, "offline");
        tr.link_up(t(70));
        assert_eq!(
            kinds(&tr.report(&p(json!({"gcode_state":"RUNNING"})), t(71))),
            ["printer.online"]
        );
        assert!(matches!(
            tr.snapshot().last_news,
            Some((_, PrinterNews::Online))
        ));
    }

    #[test]
    fn request_strings_are_what_the_printer_expects() {
        let v: Value = serde_json::from_str(&pushall_request()).unwrap();
        assert_eq!(v["pushing"]["command"], "pushall");
        assert_eq!(v["pushing"]["push_target"], 1);
        assert_eq!(report_topic("01S00C1"), "device/01S00C1/report");
        assert_eq!(request_topic("01S00C1"), "device/01S00C1/request");
    }
}
