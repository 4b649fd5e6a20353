//! Moonraker (Klipper) over its JSON-RPC websocket: the subscribe reply's
//! `status` is the baseline, `notify_status_update` deltas move
//! `print_stats.state`, and the Klippy and history notifications fill in.
//!
//! - standby/complete/cancelled/error → printing is a start, unless that
//!   file's job is still open (the history announced it first); paused →
//!   printing is never one.
//! - → complete succeeds, → cancelled cancels, → error fails (with
//!   `print_stats.message`); from idle, a start is told first. History's
//!   `finished` ends the job too; whichever comes first is told.
//! - `notify_klippy_shutdown` is an HMS error, and fails a running job;
//!   `notify_klippy_disconnected` fails a running job and takes the printer
//!   down; `notify_klippy_ready` brings it back. After either, the source
//!   subscribes again and the reply is a new baseline.

use serde_json::{Map, Value, json};
use time::{Duration, OffsetDateTime};

use super::PrinterTracker;
use super::json::{f64_of, merge, short, text};
use super::liveness::Liveness;
use super::news::{JobInfo, PrinterNews, PrinterSnapshot};
use crate::core::events::Severity;

/// The HMS code farmhook gives a Klipper shutdown (`FFFF`: not Bambu's;
/// level 1).
pub const KLIPPY_SHUTDOWN_CODE: &str = "FFFF_0001_0001_0001";
/// The printer objects farmhook subscribes to.
pub const SUBSCRIBED_OBJECTS: [&str; 3] = ["print_stats", "virtual_sdcard", "webhooks"];
/// `server.connection.identify` wants a homepage; farmhook has none yet
/// (`.invalid` never resolves).
const CLIENT_URL: &str = "https://farmhook.invalid";
/// `print_stats.state`s with no job running.
const IDLE: [&str; 4] = ["standby", "complete", "cancelled", "error"];

/// `printer.objects.subscribe` for [`SUBSCRIBED_OBJECTS`]; the reply holds
/// the whole state (the baseline).
pub fn subscribe_request(id: u64) -> String {
    let objects: Map<String, Value> = SUBSCRIBED_OBJECTS
        .iter()
        .map(|o| (o.to_string(), Value::Null))
        .collect();
    json!({"jsonrpc": "2.0", "method": "printer.objects.subscribe", "params": {"objects": objects}, "id": id})
        .to_string()
}

/// `server.connection.identify`, with the API key when one is set. The
/// text carries the key: never log it.
pub fn identify_request(id: u64, api_key: Option<&str>) -> String {
    let mut params = json!({
        "client_name": "farmhook",
        "version": env!("CARGO_PKG_VERSION"),
        "type": "other",
        "url": CLIENT_URL,
    });
    if let (Some(key), Some(map)) = (api_key, params.as_object_mut()) {
        map.insert("api_key".into(), key.into());
    }
    json!({"jsonrpc": "2.0", "method": "server.connection.identify", "params": params, "id": id})
        .to_string()
}

/// `server.info`: is Klippy ready?
pub fn server_info_request(id: u64) -> String {
    json!({"jsonrpc": "2.0", "method": "server.info", "id": id}).to_string()
}

#[derive(Debug, Clone, PartialEq)]
struct TrackedJob {
    filename: String,
    info: JobInfo,
    ended: bool,
}

/// One Moonraker server's messages, read as news.
#[derive(Debug, Clone)]
pub struct MoonrakerTracker {
    /// `print_stats`, `virtual_sdcard` and `webhooks`, deltas merged in.
    status: Map<String, Value>,
    baseline_pending: bool,
    klippy_up: bool,
    state: Option<String>,
    filename: String,
    total_duration: f64,
    job: Option<TrackedJob>,
    liveness: Liveness,
    last_news: Option<(OffsetDateTime, PrinterNews)>,
}

impl Default for MoonrakerTracker {
    fn default() -> Self {
        MoonrakerTracker::new()
    }
}

impl MoonrakerTracker {
    pub fn new() -> MoonrakerTracker {
        MoonrakerTracker {
            status: Map::new(),
            baseline_pending: true,
            klippy_up: false,
            state: None,
            filename: String::new(),
            total_duration: 0.0,
            job: None,
            liveness: Liveness::default(),
            last_news: None,
        }
    }

    /// True until a subscribe reply arrived since the connection opened or
    /// Klippy came back: the source sends [`subscribe_request`] then.
    pub fn wants_subscribe(&self) -> bool {
        self.baseline_pending
    }

    fn print_stats(&self, key: &str) -> Option<&Value> {
        self.status.get("print_stats").and_then(|p| p.get(key))
    }

    fn stats_text(&self, key: &str) -> Option<String> {
        self.status.get("print_stats").and_then(|p| text(p, key))
    }

    fn progress(&self) -> Option<f64> {
        self.status
            .get("virtual_sdcard")
            .and_then(|v| v.get("progress"))
            .and_then(f64_of)
            .map(|p| p.clamp(0.0, 1.0))
    }

    fn seed(&mut self, now: OffsetDateTime) {
        self.baseline_pending = false;
        self.state = self.stats_text("state");
        self.filename = self.stats_text("filename").unwrap_or_default();
        self.total_duration = self
            .print_stats("total_duration")
            .and_then(f64_of)
            .unwrap_or(0.0);
        let running = matches!(self.state.as_deref(), Some("printing" | "paused"));
        match self.job.as_mut() {
            Some(job) if running && job.filename == self.filename && !job.ended => {}
            _ if running => {
                let took = self.total_duration;
                self.job = Some(self.new_job(None, now, Some(took)));
            }
            Some(job) => job.ended = true,
            None => {}
        }
    }

    fn status_changed(&mut self, now: OffsetDateTime, news: &mut Vec<PrinterNews>) {
        let new_state = self.stats_text("state");
        let filename = self.stats_text("filename").unwrap_or_default();
        let total = self
            .print_stats("total_duration")
            .and_then(f64_of)
            .unwrap_or(0.0);
        if let (Some(p), Some(job)) = (self.progress(), self.job.as_mut().filter(|j| !j.ended)) {
            job.info.progress = p;
        }
        if let Some(new) = new_state.as_deref()
            && self.state.as_deref() != Some(new)
        {
            let prev = self.state.clone().unwrap_or_default();
            let prev_idle = IDLE.contains(&prev.as_str());
            let job_open = self
                .job
                .as_ref()
                .is_some_and(|j| !j.ended && j.filename == filename);
            match new {
                // The same file still open (announced by the history, or
                // resuming) is not a new start.
                "printing" if prev_idle && !job_open => {
                    self.start(filename.clone(), now, news);
                }
                "complete" | "cancelled" | "error" => {
                    if self.job.as_ref().is_none_or(|j| j.ended) && prev_idle {
                        // Printed between two updates: start first.
                        self.filename = filename.clone();
                        self.start(filename.clone(), now, news);
                    }
                    let message = self.stats_text("message");
                    self.end(new, message, news);
                }
                "standby" if !prev_idle => {
                    self.end("cancelled", Some("the print was reset".into()), news);
                }
                _ => {}
            }
        }
        if new_state.is_some() {
            self.state = new_state;
        }
        self.filename = filename;
        self.total_duration = total;
    }

    fn start(&mut self, filename: String, now: OffsetDateTime, news: &mut Vec<PrinterNews>) {
        let mut job = self.new_job(Some(filename), now, None);
        job.info.progress = 0.0;
        news.push(PrinterNews::JobStarted {
            job: job.info.clone(),
        });
        self.job = Some(job);
    }

    /// Tells the open job's end, once. `status` is a `print_stats.state`
    /// or a history `job.status`.
    fn end(&mut self, status: &str, message: Option<String>, news: &mut Vec<PrinterNews>) {
        let Some(job) = self.job.as_mut().filter(|j| !j.ended) else {
            return;
        };
        job.ended = true;
        let info = job.info.clone();
        let message = message.filter(|m| !m.is_empty()).map(|m| short(&m, 300));
        news.push(match status {
            "complete" | "completed" => PrinterNews::JobSucceeded {
                job: JobInfo {
                    progress: 1.0,
                    ..info
                },
            },
            "cancelled" => PrinterNews::JobCancelled {
                job: info,
                reason: message.or_else(|| Some("cancelled in Klipper".into())),
            },
            "klippy_shutdown" => PrinterNews::JobFailed {
                job: info,
                reason: "Klipper shut down mid-print".into(),
            },
            "klippy_disconnect" => PrinterNews::JobFailed {
                job: info,
                reason: "Klipper disconnected mid-print".into(),
            },
            "interrupted" => PrinterNews::JobFailed {
                job: info,
                reason: "the print was interrupted (Moonraker restarted mid-print)".into(),
            },
            _ => PrinterNews::JobFailed {
                job: info,
                reason: message.unwrap_or_else(|| "Klipper reported an error".into()),
            },
        });
    }

    fn new_job(
        &self,
        filename: Option<String>,
        now: OffsetDateTime,
        took_s: Option<f64>,
    ) -> TrackedJob {
        let filename = filename.unwrap_or_else(|| self.filename.clone());
        let name = if filename.is_empty() {
            "print job".to_string()
        } else {
            filename.clone()
        };
        let started_at = took_s
            .filter(|s| *s > 0.0 && *s < 1e9)
            .map_or(now, |s| now - Duration::seconds_f64(s));
        TrackedJob {
            info: JobInfo {
                id: name.clone(),
                name,
                started_at,
                progress: self.progress().unwrap_or(0.0),
            },
            filename,
            ended: false,
        }
    }

    fn history(&mut self, params: &Value, now: OffsetDateTime, news: &mut Vec<PrinterNews>) {
        let change = params.get(0).unwrap_or(params);
        let action = text(change, "action").unwrap_or_default();
        let job = change.get("job").unwrap_or(&Value::Null);
        let filename = text(job, "filename").unwrap_or_default();
        let job_id = text(job, "job_id");
        let ours = self
            .job
            .as_ref()
            .is_some_and(|j| j.filename == filename || filename.is_empty());
        match action.as_str() {
            "added" => {
                let open = ours && self.job.as_ref().is_some_and(|j| !j.ended);
                if !open && !self.baseline_pending {
                    self.start(filename, now, news);
                }
            }
            "finished" if ours => {
                let status = text(job, "status").unwrap_or_default();
                self.end(&status, None, news);
            }
            _ => {}
        }
        if let (Some(id), Some(j)) = (job_id, self.job.as_mut())
            && (j.filename == text(job, "filename").unwrap_or_default())
        {
            j.info.id = id;
        }
    }

    fn told(&mut self, news: Vec<PrinterNews>, now: OffsetDateTime) -> Vec<PrinterNews> {
        if let Some(last) = news.last() {
            self.last_news = Some((now, last.clone()));
        }
        news
    }
}

impl PrinterTracker for MoonrakerTracker {
    fn link_up(&mut self, _now: OffsetDateTime) {
        self.baseline_pending = true;
        self.klippy_up = false;
    }

    fn link_down(&mut self, now: OffsetDateTime, why: &str) {
        self.klippy_up = false;
        self.liveness.lost(now, why);
    }

    fn report(&mut self, message: &Value, now: OffsetDateTime) -> Vec<PrinterNews> {
        let mut news = Vec::new();
        let method = text(message, "method").unwrap_or_default();
        let params = message.get("params").unwrap_or(&Value::Null);
        match method.as_str() {
            "notify_status_update" => {
                if let Some(delta) = params.get(0).and_then(Value::as_object) {
                    merge(&mut self.status, delta);
                    if !self.baseline_pending {
                        self.status_changed(now, &mut news);
                    }
                }
            }
            "notify_klippy_ready" => {
                self.klippy_up = true;
                self.baseline_pending = true;
            }
            "notify_klippy_shutdown" => {
                let detail = self
                    .status
                    .get("webhooks")
                    .and_then(|w| text(w, "state_message"));
                news.push(PrinterNews::Hms {
                    code: KLIPPY_SHUTDOWN_CODE.into(),
                    severity: Severity::Error,
                    message: match detail {
                        Some(d) => format!("Klipper shut down: {}", short(&d, 300)),
                        None => "Klipper shut down".into(),
                    },
                });
                self.end("klippy_shutdown", None, &mut news);
                self.baseline_pending = true;
            }
            "notify_klippy_disconnected" => {
                self.end("klippy_disconnect", None, &mut news);
                self.klippy_up = false;
                self.baseline_pending = true;
                self.liveness
                    .lost(now, "Klipper disconnected from Moonraker");
            }
            "notify_history_changed" => self.history(params, now, &mut news),
            "" => {
                // A reply: the subscribe (or query) reply carries the state.
                if let Some(status) = message
                    .get("result")
                    .and_then(|r| r.get("status"))
                    .and_then(Value::as_object)
                {
                    merge(&mut self.status, status);
                    self.klippy_up = true;
                    if self.baseline_pending {
                        self.seed(now);
                    } else {
                        self.status_changed(now, &mut news);
                    }
                }
            }
            _ => {}
        }
        if self.klippy_up {
            let mut back: Vec<PrinterNews> = self.liveness.heard(now).into_iter().collect();
            back.append(&mut news);
            news = back;
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
        let state = match (self.liveness.state_word(), self.state.as_deref()) {
            (Some(word), _) => word.to_string(),
            (None, _) if !self.klippy_up => "klipper not ready".into(),
            (None, Some("standby")) => "idle".into(),
            (None, Some(s)) => s.to_string(),
            (None, None) => "connecting".into(),
        };
        let running = matches!(self.state.as_deref(), Some("printing" | "paused"));
        let progress = running.then(|| self.progress()).flatten();
        let spent = self.print_stats("print_duration").and_then(f64_of);
        let remaining_s = match (progress, spent) {
            (Some(p), Some(s)) if p > 0.01 && s > 0.0 => Some((s / p - s).max(0.0) as u64),
            _ => None,
        };
        PrinterSnapshot {
            state,
            job: self.job.as_ref().map(|j| j.info.name.clone()),
            progress,
            remaining_s,
            last_news: self.last_news.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_795_719_000 + s).unwrap()
    }

    fn kinds(news: &[PrinterNews]) -> Vec<&'static str> {
        news.iter().map(|n| n.event_type().id()).collect()
    }

    fn update(delta: Value) -> Value {
        json!({"jsonrpc":"2.0","method":"notify_status_update","params":[delta, 578243.57]})
    }

    fn reply(state: &str) -> Value {
        json!({"jsonrpc":"2.0","result":{"eventtime":578240.1,"status":{
            "print_stats":{"state":state,"filename":"cube.gcode","total_duration":0.0,"print_duration":0.0,"message":""},
            "virtual_sdcard":{"progress":0.0},
            "webhooks":{"state":"ready","state_message":"Printer is ready"}}},"id":1})
    }

    fn watching(state: &str) -> MoonrakerTracker {
        let mut tr = MoonrakerTracker::new();
        tr.link_up(t(0));
        assert!(tr.report(&reply(state), t(0)).is_empty());
        tr
    }

    fn run(tr: &mut MoonrakerTracker, messages: &[Value]) -> Vec<PrinterNews> {
        messages
            .iter()
            .enumerate()
            .flat_map(|(i, m)| tr.report(m, t(1 + i as i64)))
            .collect()
    }

    #[test]
    fn a_job_starts_and_completes_once_with_history_alongside() {
        let mut tr = watching("standby");
        let news = run(
            &mut tr,
            &[
                json!({"jsonrpc":"2.0","method":"notify_history_changed","params":[{"action":"added","job":{"job_id":"000012","filename":"cube.gcode","status":"in_progress"}}]}),
                update(json!({"print_stats":{"state":"printing","total_duration":0.5}})),
                update(
                    json!({"virtual_sdcard":{"progress":0.5},"print_stats":{"total_duration":30.0,"print_duration":20.0}}),
                ),
                update(json!({"print_stats":{"state":"complete"}})),
                json!({"jsonrpc":"2.0","method":"notify_history_changed","params":[{"action":"finished","job":{"job_id":"000012","filename":"cube.gcode","status":"completed"}}]}),
            ],
        );
        assert_eq!(kinds(&news), ["job.started", "job.succeeded"]);
        let PrinterNews::JobSucceeded { job } = &news[1] else {
            panic!()
        };
        assert_eq!(job.id, "000012");
    }

    #[test]
    fn pause_and_resume_is_not_a_start_and_cancel_is_a_cancel() {
        let mut tr = watching("standby");
        let news = run(
            &mut tr,
            &[
                update(json!({"print_stats":{"state":"printing"}})),
                update(json!({"print_stats":{"state":"paused","total_duration":40.0}})),
                update(json!({"print_stats":{"state":"printing","total_duration":45.0}})),
                update(json!({"print_stats":{"state":"cancelled"}})),
                update(json!({"print_stats":{"state":"standby"}})),
            ],
        );
        assert_eq!(kinds(&news), ["job.started", "job.cancelled"]);
    }

    #[test]
    fn a_reset_mid_print_is_a_cancel_and_the_next_print_a_new_start() {
        let mut tr = watching("printing");
        let news = run(
            &mut tr,
            &[
                update(json!({"print_stats":{"total_duration":100.0}})),
                update(json!({"print_stats":{"state":"standby","total_duration":100.0}})),
            ],
        );
        assert_eq!(kinds(&news), ["job.cancelled"]);
        // After that cancel, printing again is a new job.
        let news = run(
            &mut tr,
            &[update(
                json!({"print_stats":{"state":"printing","total_duration":0.2}}),
            )],
        );
        assert_eq!(kinds(&news), ["job.started"]);
    }

    #[test]
    fn a_klippy_shutdown_mid_print_fails_the_job_with_an_hms_error_once() {
        let mut tr = watching("printing");
        let news = run(
            &mut tr,
            &[
                json!({"jsonrpc":"2.0","method":"notify_klippy_shutdown"}),
                update(
                    json!({"print_stats":{"state":"error","message":"MCU 'mcu' shutdown: Timer too close"}}),
                ),
                json!({"jsonrpc":"2.0","result":{"status":{"print_stats":{"state":"error"}}},"id":3}),
            ],
        );
        assert_eq!(kinds(&news), ["printer.hms_error", "job.failed"]);
        let PrinterNews::JobFailed { reason, .. } = &news[1] else {
            panic!()
        };
        assert!(reason.contains("shut down"), "{reason}");
    }

    #[test]
    fn an_error_state_fails_with_klippers_message_and_idle_to_terminal_starts_first() {
        let mut tr = watching("standby");
        let news = run(
            &mut tr,
            &[update(
                json!({"print_stats":{"state":"error","message":"Heater extruder not heating at expected rate"}}),
            )],
        );
        assert_eq!(kinds(&news), ["job.started", "job.failed"]);
        let PrinterNews::JobFailed { reason, .. } = &news[1] else {
            panic!()
        };
        assert!(reason.contains("not heating"));
    }

    #[test]
    fn klippy_disconnect_is_offline_after_the_debounce_and_ready_brings_it_back() {
        let mut tr = watching("printing");
        let news = run(
            &mut tr,
            &[json!({"jsonrpc":"2.0","method":"notify_klippy_disconnected"})],
        );
        assert_eq!(kinds(&news), ["job.failed"]);
        // Moonraker's own messages do not count while Klippy is away.
        tr.report(
            &json!({"jsonrpc":"2.0","method":"notify_proc_stat_update","params":[{}]}),
            t(30),
        );
        assert!(tr.poll(t(60)).is_empty());
        assert_eq!(kinds(&tr.poll(t(61))), ["printer.offline"]);
        assert_eq!(tr.snapshot().state, "offline");
        assert_eq!(
            kinds(&tr.report(
                &json!({"jsonrpc":"2.0","method":"notify_klippy_ready"}),
                t(90)
            )),
            ["printer.online"]
        );
        // The new subscribe reply is a baseline: no events.
        assert!(tr.report(&reply("complete"), t(91)).is_empty());
        assert!(!tr.wants_subscribe());
        assert_eq!(tr.snapshot().state, "complete");
    }

    #[test]
    fn requests_are_json_rpc_and_identify_carries_the_key_only_when_given() {
        let s: Value = serde_json::from_str(&subscribe_request(7)).unwrap();
        assert_eq!(s["method"], "printer.objects.subscribe");
        assert_eq!(s["id"], 7);
        assert!(s["params"]["objects"]["print_stats"].is_null());
        assert!(s["params"]["objects"].get("webhooks").is_some());
        let i: Value = serde_json::from_str(&identify_request(8, Some("k3y"))).unwrap();
        assert_eq!(i["params"]["api_key"], "k3y");
        assert_eq!(i["params"]["client_name"], "farmhook");
        let i: Value = serde_json::from_str(&identify_request(9, None)).unwrap();
        assert!(i["params"].get("api_key").is_none());
        let v: Value = serde_json::from_str(&server_info_request(1)).unwrap();
        assert_eq!(v["method"], "server.info");
    }
}
