//! What a printer's tracker observed, whatever its kind, and how that
//! becomes a catalogue [`Event`].

use time::OffsetDateTime;

use super::config::PrinterConfig;
use crate::core::events::{EventType, Severity};
use crate::core::payload::{Event, Hms, Job, PAYLOAD_SCHEMA_VERSION, Printer};

/// A print job as a tracker knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct JobInfo {
    /// The printer's own id for it (Bambu `task_id`, Moonraker history
    /// `job_id`, else the file name).
    pub id: String,
    /// What the operator calls it: the file or task name.
    pub name: String,
    /// When it started, or when farmhook first saw it running.
    pub started_at: OffsetDateTime,
    /// 0.0 to 1.0.
    pub progress: f64,
}

/// Something a printer did that may be worth a notification.
#[derive(Debug, Clone, PartialEq)]
pub enum PrinterNews {
    JobStarted {
        job: JobInfo,
    },
    JobSucceeded {
        job: JobInfo,
    },
    JobFailed {
        job: JobInfo,
        reason: String,
    },
    JobCancelled {
        job: JobInfo,
        reason: Option<String>,
    },
    /// A fault or warning. `code` is `AAAA_BBBB_CCCC_DDDD` (the payload's
    /// form); `severity` is [`Severity::Error`] or [`Severity::Warning`].
    Hms {
        code: String,
        severity: Severity,
        message: String,
    },
    /// The printer is unreachable (told once, after the debounce).
    Offline {
        why: String,
    },
    /// The printer is back after an [`PrinterNews::Offline`].
    Online,
}

impl PrinterNews {
    /// The catalogue event this news becomes.
    pub fn event_type(&self) -> EventType {
        let id = match self {
            PrinterNews::JobStarted { .. } => "job.started",
            PrinterNews::JobSucceeded { .. } => "job.succeeded",
            PrinterNews::JobFailed { .. } => "job.failed",
            PrinterNews::JobCancelled { .. } => "job.cancelled",
            PrinterNews::Hms {
                severity: Severity::Error,
                ..
            } => "printer.hms_error",
            PrinterNews::Hms { .. } => "printer.hms_warning",
            PrinterNews::Offline { .. } => "printer.offline",
            PrinterNews::Online => "printer.online",
        };
        // Every id above is a catalogue row (checked by a test).
        EventType::from_id(id).expect("printer news maps to catalogue ids")
    }

    /// One line in words, for the Printers page's "last event".
    pub fn words(&self) -> String {
        match self {
            PrinterNews::JobStarted { job } => format!("started {}", job.name),
            PrinterNews::JobSucceeded { job } => format!("finished {}", job.name),
            PrinterNews::JobFailed { job, reason } => format!("{} failed: {reason}", job.name),
            PrinterNews::JobCancelled { job, reason } => match reason {
                Some(r) => format!("{} cancelled: {r}", job.name),
                None => format!("{} cancelled", job.name),
            },
            PrinterNews::Hms { message, .. } => message.clone(),
            PrinterNews::Offline { why } => format!("offline: {why}"),
            PrinterNews::Online => "back online".into(),
        }
    }
}

/// A printer's live state, for the Printers page and `printers list`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PrinterSnapshot {
    /// In words: `connecting`, `offline`, `idle`, `printing`, `paused`…
    pub state: String,
    /// The current (or last) job's name.
    pub job: Option<String>,
    /// 0.0 to 1.0, while a job runs.
    pub progress: Option<f64>,
    /// Seconds the printer expects the job still needs.
    pub remaining_s: Option<u64>,
    /// The last news told, and when.
    pub last_news: Option<(OffsetDateTime, PrinterNews)>,
}

/// The catalogue event for `news` about `printer` (of model `model`, like
/// `X1 Carbon`, or "" when unknown), at `now`, with the event id `id`
/// (`evt_…`, from [`crate::core::payload::event_id`]). Built as the
/// simulator builds its events; `test` is false.
pub fn to_event(
    news: &PrinterNews,
    printer: &PrinterConfig,
    model: &str,
    now: OffsetDateTime,
    id: String,
) -> Event {
    let job = |job: &JobInfo, ended: bool, reason: Option<String>| Job {
        id: job.id.clone(),
        name: job.name.clone(),
        started_at: job.started_at,
        ended_at: ended.then_some(now),
        duration_s: ended.then(|| (now - job.started_at).whole_seconds().max(0) as u64),
        progress: (job.progress.clamp(0.0, 1.0) * 1000.0).round() / 1000.0,
        reason,
    };
    let mut event = Event {
        id,
        event_type: news.event_type(),
        schema_version: PAYLOAD_SCHEMA_VERSION,
        occurred_at: now,
        test: false,
        printer: Some(Printer {
            id: printer.payload_id(),
            name: printer.name.clone(),
            model: if model.is_empty() {
                printer.kind.label().to_string()
            } else {
                model.to_string()
            },
        }),
        job: None,
        hms: None,
        order: None,
        maintenance: None,
        material: None,
    };
    match news {
        PrinterNews::JobStarted { job: j } => event.job = Some(job(j, false, None)),
        PrinterNews::JobSucceeded { job: j } => {
            let mut done = job(j, true, None);
            done.progress = 1.0;
            event.job = Some(done);
        }
        PrinterNews::JobFailed { job: j, reason } => {
            event.job = Some(job(j, true, Some(reason.clone())));
        }
        PrinterNews::JobCancelled { job: j, reason } => {
            event.job = Some(job(j, true, reason.clone()));
        }
        PrinterNews::Hms {
            code,
            severity,
            message,
        } => {
            event.hms = Some(Hms {
                code: code.clone(),
                severity: *severity,
                message: message.clone(),
            });
        }
        // The payload's printer events carry only the printer; the reason
        // for an offline shows in the snapshot and the log.
        PrinterNews::Offline { .. } | PrinterNews::Online => {}
    }
    event
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::printers::config::PrinterKind;

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_795_719_000).unwrap()
    }

    fn x1c() -> PrinterConfig {
        PrinterConfig::new(
            "X1C-01",
            PrinterKind::Bambu,
            "192.168.1.40",
            Some("01S00C123456789"),
            None,
        )
        .unwrap()
    }

    fn job() -> JobInfo {
        JobInfo {
            id: "690732215".into(),
            name: "benchy".into(),
            started_at: now() - time::Duration::seconds(600),
            progress: 0.4,
        }
    }

    #[test]
    fn each_news_becomes_its_catalogue_event_with_the_printer_filled() {
        let all = [
            (PrinterNews::JobStarted { job: job() }, "job.started"),
            (PrinterNews::JobSucceeded { job: job() }, "job.succeeded"),
            (
                PrinterNews::JobFailed {
                    job: job(),
                    reason: "nozzle clog".into(),
                },
                "job.failed",
            ),
            (
                PrinterNews::JobCancelled {
                    job: job(),
                    reason: None,
                },
                "job.cancelled",
            ),
            (
                PrinterNews::Hms {
                    code: "0300_0100_0001_0007".into(),
                    severity: Severity::Error,
                    message: "heatbed".into(),
                },
                "printer.hms_error",
            ),
            (
                PrinterNews::Hms {
                    code: "0300_A700_0003_0001".into(),
                    severity: Severity::Warning,
                    message: "warn".into(),
                },
                "printer.hms_warning",
            ),
            (
                PrinterNews::Offline {
                    why: "silent".into(),
                },
                "printer.offline",
            ),
            (PrinterNews::Online, "printer.online"),
        ];
        for (news, id) in all {
            let e = to_event(&news, &x1c(), "X1 Carbon", now(), "evt_1".into());
            assert_eq!(e.event_type.id(), id);
            assert_eq!(e.id, "evt_1");
            assert!(!e.test);
            let p = e.printer.as_ref().unwrap();
            assert_eq!(
                (p.id.as_str(), p.name.as_str(), p.model.as_str()),
                ("prn_01s00c123456789", "X1C-01", "X1 Carbon")
            );
            assert_eq!(e.job.is_some(), id.starts_with("job."), "{id}");
            assert_eq!(e.hms.is_some(), id.starts_with("printer.hms_"), "{id}");
            assert!(!news.words().is_empty());
        }
    }

    #[test]
    fn a_finished_job_has_its_end_duration_and_reason() {
        let e = to_event(
            &PrinterNews::JobFailed {
                job: job(),
                reason: "nozzle clog".into(),
            },
            &x1c(),
            "",
            now(),
            "evt_2".into(),
        );
        let j = e.job.unwrap();
        assert_eq!(j.ended_at, Some(now()));
        assert_eq!(j.duration_s, Some(600));
        assert_eq!(j.progress, 0.4);
        assert_eq!(j.reason.as_deref(), Some("nozzle clog"));
        assert_eq!(e.printer.unwrap().model, "Bambu Lab");
        let e = to_event(
            &PrinterNews::JobSucceeded { job: job() },
            &x1c(),
            "",
            now(),
            "evt_3".into(),
        );
        assert_eq!(e.job.unwrap().progress, 1.0);
        let e = to_event(
            &PrinterNews::JobStarted { job: job() },
            &x1c(),
            "",
            now(),
            "evt_4".into(),
        );
        let j = e.job.unwrap();
        assert_eq!((j.ended_at, j.duration_s), (None, None));
    }
}
