//! OctoPrint over its push socket (`/sockjs/websocket`): `event` messages
//! read as news, `current`/`history` state messages as liveness, progress
//! and the baseline.
//!
//! - The first state message after connecting is the baseline.
//! - PrintStarted starts a job unless that same job is still going (a
//!   resume is not a start).
//! - One terminal event per job: PrintDone succeeds; PrintCancelled and
//!   PrintFailed with `reason: cancelled` are one cancel, whichever comes
//!   first; PrintFailed with any other reason fails.
//! - Error is an HMS error (told once per text in [`ERROR_REPEAT`]);
//!   Disconnected and a state of Offline/Closed take the printer down,
//!   Connected and an operational state bring it back.

use serde_json::Value;
use time::{Duration, OffsetDateTime};

use super::PrinterTracker;
use super::json::{f64_of, flag, short, text, u64_of};
use super::liveness::Liveness;
use super::news::{JobInfo, PrinterNews, PrinterSnapshot};
use crate::core::events::Severity;

/// The HMS code farmhook gives OctoPrint's Error event (the payload wants
/// `AAAA_BBBB_CCCC_DDDD`; `FFFF` marks a code that is not Bambu's, level 1).
pub const ERROR_CODE: &str = "FFFF_0002_0001_0001";
/// The same error text within this long is told once.
pub const ERROR_REPEAT: Duration = Duration::seconds(30);
/// Longest error text quoted in a message.
const MAX_TEXT: usize = 300;

/// The auth message the push socket wants after `POST /api/login`
/// (`{"auth":"name:session"}`). It carries a session: never log it.
pub fn auth_message(user: &str, session: &str) -> String {
    serde_json::json!({ "auth": format!("{user}:{session}") }).to_string()
}

#[derive(Debug, Clone, PartialEq)]
struct TrackedJob {
    path: String,
    info: JobInfo,
    ended: bool,
}

/// One OctoPrint server's push messages, read as news.
#[derive(Debug, Clone)]
pub struct OctoPrintTracker {
    baseline_pending: bool,
    job: Option<TrackedJob>,
    state_text: Option<String>,
    active: bool,
    progress: Option<f64>,
    remaining_s: Option<u64>,
    last_error: Option<(String, OffsetDateTime)>,
    liveness: Liveness,
    last_news: Option<(OffsetDateTime, PrinterNews)>,
}

impl Default for OctoPrintTracker {
    fn default() -> Self {
        OctoPrintTracker::new()
    }
}

impl OctoPrintTracker {
    pub fn new() -> OctoPrintTracker {
        OctoPrintTracker {
            baseline_pending: true,
            job: None,
            state_text: None,
            active: false,
            progress: None,
            remaining_s: None,
            last_error: None,
            liveness: Liveness::default(),
            last_news: None,
        }
    }

    fn state_message(&mut self, current: &Value, now: OffsetDateTime, news: &mut Vec<PrinterNews>) {
        let state = current.get("state").unwrap_or(&Value::Null);
        let flags = state.get("flags").unwrap_or(&Value::Null);
        let state_text = text(state, "text");
        let word = state_text.as_deref().unwrap_or("").to_ascii_lowercase();
        let printing = [
            "printing",
            "paused",
            "pausing",
            "cancelling",
            "resuming",
            "finishing",
        ]
        .iter()
        .any(|f| flag(flags, f));
        let operational = flag(flags, "operational")
            || printing
            || (!flag(flags, "closedOrError")
                && !word.is_empty()
                && !word.starts_with("offline")
                && !word.starts_with("closed"));
        if operational {
            news.extend(self.liveness.heard(now));
        } else {
            let shown = state_text.as_deref().unwrap_or("offline");
            self.liveness.lost(
                now,
                &format!("OctoPrint reports the printer as {}", short(shown, 80)),
            );
        }
        self.state_text = state_text;
        self.active = printing;
        let progress = current.get("progress").unwrap_or(&Value::Null);
        self.progress = progress
            .get("completion")
            .and_then(f64_of)
            .map(|p| (p / 100.0).clamp(0.0, 1.0));
        self.remaining_s = progress.get("printTimeLeft").and_then(u64_of);
        let file = current
            .get("job")
            .and_then(|j| j.get("file"))
            .unwrap_or(&Value::Null);
        if self.baseline_pending {
            self.baseline_pending = false;
            let path = text(file, "path").or_else(|| text(file, "name"));
            self.job = match (printing, path) {
                (true, Some(path)) => {
                    let name = text(file, "display")
                        .or_else(|| text(file, "name"))
                        .unwrap_or_else(|| path.clone());
                    Some(self.new_job(path, name, now, None))
                }
                // Whatever ran before ended unseen.
                _ => self.job.take().map(|j| TrackedJob { ended: true, ..j }),
            };
        }
        if let (Some(p), Some(job)) = (self.progress, self.job.as_mut().filter(|j| !j.ended)) {
            job.info.progress = p;
        }
    }

    fn event(&mut self, event: &Value, now: OffsetDateTime, news: &mut Vec<PrinterNews>) {
        let kind = text(event, "type").unwrap_or_default();
        let payload = event.get("payload").unwrap_or(&Value::Null);
        match kind.as_str() {
            "Disconnected" => {
                self.liveness
                    .lost(now, "OctoPrint lost its connection to the printer");
                return;
            }
            "Connected" => {
                news.extend(self.liveness.heard(now));
                return;
            }
            "Error" => {
                let error = text(payload, "error").unwrap_or_else(|| "unknown error".into());
                let repeated = self
                    .last_error
                    .as_ref()
                    .is_some_and(|(e, at)| *e == error && now < *at + ERROR_REPEAT);
                self.last_error = Some((error.clone(), now));
                if !repeated {
                    news.push(PrinterNews::Hms {
                        code: ERROR_CODE.into(),
                        severity: Severity::Error,
                        message: format!("OctoPrint reports an error: {}", short(&error, MAX_TEXT)),
                    });
                }
                return;
            }
            _ => {}
        }
        // Job events before the baseline belong to a state not yet known.
        if self.baseline_pending {
            return;
        }
        let path = text(payload, "path").or_else(|| text(payload, "name"));
        match kind.as_str() {
            "PrintStarted" => {
                let path = path.unwrap_or_default();
                let continues = self
                    .job
                    .as_ref()
                    .is_some_and(|j| !j.ended && j.path == path);
                if !continues {
                    let name = text(payload, "name").unwrap_or_else(|| path.clone());
                    let job = self.new_job(path, name, now, None);
                    news.push(PrinterNews::JobStarted {
                        job: job.info.clone(),
                    });
                    self.job = Some(job);
                }
                self.active = true;
            }
            "PrintResumed" | "PrintPaused" => {
                if self.job.as_ref().is_none_or(|j| j.ended)
                    && let Some(path) = path
                {
                    // Started before farmhook watched: known, not told.
                    let name = text(payload, "name").unwrap_or_else(|| path.clone());
                    self.job = Some(self.new_job(path, name, now, None));
                }
                self.active = true;
            }
            "PrintDone" => self.end(payload, path, now, news, |job| PrinterNews::JobSucceeded {
                job: JobInfo {
                    progress: 1.0,
                    ..job
                },
            }),
            "PrintCancelled" => {
                self.end(payload, path, now, news, |job| PrinterNews::JobCancelled {
                    job,
                    reason: Some("cancelled in OctoPrint".into()),
                })
            }
            "PrintFailed" => {
                let reason = text(payload, "reason").unwrap_or_default();
                if reason == "cancelled" {
                    self.end(payload, path, now, news, |job| PrinterNews::JobCancelled {
                        job,
                        reason: Some("cancelled in OctoPrint".into()),
                    });
                } else {
                    let why = match text(payload, "error") {
                        Some(e) => format!("OctoPrint reports an error: {}", short(&e, MAX_TEXT)),
                        None => "OctoPrint reports the print failed".into(),
                    };
                    self.end(payload, path, now, news, |job| PrinterNews::JobFailed {
                        job,
                        reason: why,
                    });
                }
            }
            _ => {}
        }
    }

    /// Tells a job's end once: the job it names ends, unless it already did
    /// (the second of PrintCancelled and PrintFailed).
    fn end(
        &mut self,
        payload: &Value,
        path: Option<String>,
        now: OffsetDateTime,
        news: &mut Vec<PrinterNews>,
        make: impl FnOnce(JobInfo) -> PrinterNews,
    ) {
        self.active = false;
        let same = |j: &TrackedJob| path.as_ref().is_none_or(|p| *p == j.path);
        match self.job.as_mut() {
            Some(job) if same(job) && job.ended => {}
            Some(job) if same(job) => {
                job.ended = true;
                news.push(make(job.info.clone()));
            }
            _ => {
                // A job farmhook did not see start: told from the event.
                let path = path.unwrap_or_default();
                let name = text(payload, "name").unwrap_or_else(|| path.clone());
                let took = payload
                    .get("time")
                    .and_then(f64_of)
                    .filter(|s| *s >= 0.0 && *s < 1e9);
                let mut job = self.new_job(path, name, now, took);
                job.ended = true;
                news.push(make(job.info.clone()));
                self.job = Some(job);
            }
        }
    }

    fn new_job(
        &self,
        path: String,
        name: String,
        now: OffsetDateTime,
        took_s: Option<f64>,
    ) -> TrackedJob {
        TrackedJob {
            info: JobInfo {
                id: path.clone(),
                name,
                started_at: took_s.map_or(now, |s| now - Duration::seconds_f64(s)),
                progress: self.progress.unwrap_or(0.0),
            },
            path,
            ended: false,
        }
    }

    fn told(&mut self, news: Vec<PrinterNews>, now: OffsetDateTime) -> Vec<PrinterNews> {
        if let Some(last) = news.last() {
            self.last_news = Some((now, last.clone()));
        }
        news
    }
}

impl PrinterTracker for OctoPrintTracker {
    fn link_up(&mut self, _now: OffsetDateTime) {
        self.baseline_pending = true;
    }

    fn link_down(&mut self, now: OffsetDateTime, why: &str) {
        self.liveness.lost(now, why);
    }

    fn report(&mut self, message: &Value, now: OffsetDateTime) -> Vec<PrinterNews> {
        let mut news = Vec::new();
        for key in ["history", "current"] {
            if let Some(state) = message.get(key).filter(|v| v.is_object()) {
                self.state_message(state, now, &mut news);
            }
        }
        if let Some(event) = message.get("event").filter(|v| v.is_object()) {
            self.event(event, now, &mut news);
        }
        self.told(news, now)
    }

    fn poll(&mut self, now: OffsetDateTime) -> Vec<PrinterNews> {
        let news = self.liveness.poll(now).into_iter().collect();
        self.told(news, now)
    }

    fn is_silent(&self, now: OffsetDateTime) -> bool {
        self.liveness.is_silent(now)
    }

    fn next_deadline(&self) -> Option<OffsetDateTime> {
        self.liveness.next_deadline()
    }

    fn set_timing(&mut self, timing: super::liveness::Timing) {
        self.liveness.set_timing(timing);
    }

    fn carry_over(&mut self, last: super::liveness::LastKnown, now: OffsetDateTime) {
        self.liveness.carry_over(last, now);
    }

    fn snapshot(&self) -> PrinterSnapshot {
        let state = match (self.liveness.state_word(), self.state_text.as_deref()) {
            (Some(word), _) => word.to_string(),
            (None, Some(t)) if t.eq_ignore_ascii_case("operational") => "idle".into(),
            (None, Some(t)) => t.to_ascii_lowercase(),
            (None, None) => "connecting".into(),
        };
        PrinterSnapshot {
            state,
            job: self.job.as_ref().map(|j| j.info.name.clone()),
            progress: self.active.then_some(self.progress).flatten(),
            remaining_s: self.active.then_some(self.remaining_s).flatten(),
            last_news: self.last_news.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t(s: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_795_719_000 + s).unwrap()
    }

    fn kinds(news: &[PrinterNews]) -> Vec<&'static str> {
        news.iter().map(|n| n.event_type().id()).collect()
    }

    fn ev(kind: &str, payload: Value) -> Value {
        json!({"event": {"type": kind, "payload": payload}})
    }

    fn state(text: &str, printing: bool, completion: Option<f64>) -> Value {
        json!({"current": {
            "state": {"text": text, "flags": {"operational": text != "Offline", "printing": printing, "closedOrError": text == "Offline"}},
            "job": {"file": {"name": "whistle_v2.gcode", "path": "whistle_v2.gcode"}},
            "progress": {"completion": completion, "printTimeLeft": 120}
        }})
    }

    fn whistle() -> Value {
        json!({"name":"whistle_v2.gcode","path":"whistle_v2.gcode","origin":"local","time":276.1})
    }

    fn watching() -> OctoPrintTracker {
        let mut tr = OctoPrintTracker::new();
        tr.link_up(t(0));
        assert!(
            tr.report(&state("Operational", false, None), t(0))
                .is_empty()
        );
        tr
    }

    fn run(tr: &mut OctoPrintTracker, messages: &[Value]) -> Vec<PrinterNews> {
        messages
            .iter()
            .enumerate()
            .flat_map(|(i, m)| tr.report(m, t(1 + i as i64)))
            .collect()
    }

    #[test]
    fn a_cancel_is_one_cancel_whichever_of_the_pair_comes_first() {
        let mut a = watching();
        let news = run(
            &mut a,
            &[
                ev("PrintStarted", whistle()),
                ev("PrintCancelled", whistle()),
                ev(
                    "PrintFailed",
                    json!({"path":"whistle_v2.gcode","reason":"cancelled"}),
                ),
            ],
        );
        assert_eq!(kinds(&news), ["job.started", "job.cancelled"]);
        let mut b = watching();
        let news = run(
            &mut b,
            &[
                ev("PrintStarted", whistle()),
                ev(
                    "PrintFailed",
                    json!({"path":"whistle_v2.gcode","reason":"cancelled"}),
                ),
                ev("PrintCancelled", whistle()),
            ],
        );
        assert_eq!(kinds(&news), ["job.started", "job.cancelled"]);
    }

    #[test]
    fn pause_and_resume_is_not_a_start_and_done_is_told_once() {
        let mut tr = watching();
        let news = run(
            &mut tr,
            &[
                ev("PrintStarted", whistle()),
                ev("PrintPaused", whistle()),
                ev("PrintResumed", whistle()),
                ev("PrintStarted", whistle()),
                ev("PrintDone", whistle()),
                ev("PrintDone", whistle()),
            ],
        );
        assert_eq!(kinds(&news), ["job.started", "job.succeeded"]);
    }

    #[test]
    fn a_failure_with_reason_error_fails_and_error_is_an_hms_error_told_once() {
        let mut tr = watching();
        let news = run(
            &mut tr,
            &[
                ev("PrintStarted", whistle()),
                ev("Error", json!({"error":"Thermal Runaway"})),
                ev("Error", json!({"error":"Thermal Runaway"})),
                ev(
                    "PrintFailed",
                    json!({"name":"whistle_v2.gcode","path":"whistle_v2.gcode","origin":"local","time":276.1,"reason":"error"}),
                ),
            ],
        );
        assert_eq!(
            kinds(&news),
            ["job.started", "printer.hms_error", "job.failed"]
        );
        let PrinterNews::Hms { code, message, .. } = &news[1] else {
            panic!()
        };
        assert_eq!(code, ERROR_CODE);
        assert!(message.contains("Thermal Runaway"));
    }

    #[test]
    fn the_first_state_message_is_a_baseline_and_an_unseen_job_still_ends_once() {
        let mut tr = OctoPrintTracker::new();
        tr.link_up(t(0));
        assert!(tr.report(&ev("PrintDone", whistle()), t(0)).is_empty());
        assert!(
            tr.report(&state("Printing", true, Some(40.0)), t(1))
                .is_empty()
        );
        let s = tr.snapshot();
        assert_eq!(
            (
                s.state.as_str(),
                s.job.as_deref(),
                s.progress,
                s.remaining_s
            ),
            ("printing", Some("whistle_v2.gcode"), Some(0.4), Some(120))
        );
        let news = run(&mut tr, &[ev("PrintDone", whistle())]);
        assert_eq!(kinds(&news), ["job.succeeded"]);
        // A job that finished with farmhook watching but never seen start.
        let mut tr = watching();
        let news = run(
            &mut tr,
            &[ev(
                "PrintFailed",
                json!({"path":"a.gcode","reason":"error","time":60}),
            )],
        );
        let PrinterNews::JobFailed { job, .. } = &news[0] else {
            panic!("{news:?}")
        };
        assert_eq!(job.started_at, t(1) - Duration::seconds(60));
    }

    #[test]
    fn disconnected_then_connected_is_offline_then_online_after_the_debounce() {
        let mut tr = watching();
        tr.report(&ev("Disconnected", json!({})), t(10));
        assert!(tr.poll(t(69)).is_empty());
        assert_eq!(kinds(&tr.poll(t(70))), ["printer.offline"]);
        // Offline state messages keep it down.
        assert!(tr.report(&state("Offline", false, None), t(71)).is_empty());
        assert_eq!(
            kinds(&tr.report(&ev("Connected", json!({"port":"VIRTUAL"})), t(80))),
            ["printer.online"]
        );
        // A quick blip tells nothing.
        tr.report(&ev("Disconnected", json!({})), t(100));
        tr.report(&state("Operational", false, None), t(110));
        assert!(tr.poll(t(165)).is_empty());
        assert!(auth_message("farm", "s3ss").contains("farm:s3ss"));
    }
}
