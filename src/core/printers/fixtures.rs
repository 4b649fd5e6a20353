//! Recorded-style sequences (`tests/fixtures/printers/*.jsonl`) replayed
//! through each tracker, and every tracker fed arbitrary JSON.
//!
//! A fixture line is `{"t": seconds, "msg": {…}}` (a message from the
//! printer) or `{"t": seconds, "do": "link_up" | "link_down" | "poll",
//! "why": "…"}`, with `"expect": ["job.started", …]`: the events that step
//! must yield, in order (none when absent).

use proptest::prelude::*;
use serde_json::Value;
use time::OffsetDateTime;

use super::news::to_event;
use super::{PrinterConfig, PrinterKind, PrinterNews, tracker_for};
use crate::core::events::Severity;

const FIXTURES: &[(&str, &str)] = &[
    (
        "bambu_whole_job",
        include_str!("../../../tests/fixtures/printers/bambu_whole_job.jsonl"),
    ),
    (
        "bambu_cancel",
        include_str!("../../../tests/fixtures/printers/bambu_cancel.jsonl"),
    ),
    (
        "bambu_p1_deltas",
        include_str!("../../../tests/fixtures/printers/bambu_p1_deltas.jsonl"),
    ),
    (
        "bambu_hms_flapping",
        include_str!("../../../tests/fixtures/printers/bambu_hms_flapping.jsonl"),
    ),
    (
        "bambu_offline",
        include_str!("../../../tests/fixtures/printers/bambu_offline.jsonl"),
    ),
    (
        "octoprint_cancel_cancelled_first",
        include_str!("../../../tests/fixtures/printers/octoprint_cancel_cancelled_first.jsonl"),
    ),
    (
        "octoprint_cancel_failed_first",
        include_str!("../../../tests/fixtures/printers/octoprint_cancel_failed_first.jsonl"),
    ),
    (
        "octoprint_pause_resume",
        include_str!("../../../tests/fixtures/printers/octoprint_pause_resume.jsonl"),
    ),
    (
        "moonraker_resume",
        include_str!("../../../tests/fixtures/printers/moonraker_resume.jsonl"),
    ),
    (
        "moonraker_klippy_shutdown",
        include_str!("../../../tests/fixtures/printers/moonraker_klippy_shutdown.jsonl"),
    ),
];

fn at(s: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_795_719_000 + s).unwrap()
}

fn config(kind: PrinterKind) -> PrinterConfig {
    match kind {
        PrinterKind::Bambu => PrinterConfig::new(
            "X1C-01",
            kind,
            "192.168.1.40",
            Some("01S00C123456789"),
            None,
        ),
        PrinterKind::OctoPrint => PrinterConfig::new("Ender", kind, "http://octopi", None, None),
        PrinterKind::Moonraker => PrinterConfig::new("Voron", kind, "http://voron", None, None),
    }
    .unwrap()
}

/// Replays one fixture; returns every news with the step it came from.
fn replay(name: &str, text: &str) -> Vec<PrinterNews> {
    let kind = PrinterKind::from_id(name.split('_').next().unwrap()).unwrap();
    let mut tracker = tracker_for(kind);
    let mut all = Vec::new();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let step: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{name}:{n}: {e}"));
        for key in step.as_object().unwrap().keys() {
            assert!(
                ["t", "msg", "do", "why", "expect"].contains(&key.as_str()),
                "{name}:{}: unknown key {key}",
                n + 1
            );
        }
        let now = at(step["t"].as_i64().unwrap());
        let news = match (step.get("msg"), step["do"].as_str()) {
            (Some(msg), None) => tracker.report(msg, now),
            (None, Some("link_up")) => {
                tracker.link_up(now);
                Vec::new()
            }
            (None, Some("link_down")) => {
                tracker.link_down(now, step["why"].as_str().unwrap_or("dropped"));
                Vec::new()
            }
            (None, Some("poll")) => tracker.poll(now),
            other => panic!("{name}:{}: what is {other:?}?", n + 1),
        };
        let got: Vec<&str> = news.iter().map(|n| n.event_type().id()).collect();
        let want: Vec<&str> = step["expect"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        assert_eq!(got, want, "{name}, line {}: {news:?}", n + 1);
        for news in &news {
            let event = to_event(news, &config(kind), "", now, "evt_fixture".into());
            assert_eq!(event.event_type, news.event_type());
        }
        all.extend(news);
    }
    all
}

#[test]
fn every_recorded_sequence_yields_exactly_its_expected_events() {
    for (name, text) in FIXTURES {
        replay(name, text);
    }
}

#[test]
fn every_event_made_from_printer_news_fits_the_payload_schema() {
    let schema: Value =
        serde_json::from_str(include_str!("../../../assets/payload.schema.json")).unwrap();
    let validator = jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for (name, text) in FIXTURES {
        let kind = PrinterKind::from_id(name.split('_').next().unwrap()).unwrap();
        for news in replay(name, text) {
            let event = to_event(
                &news,
                &config(kind),
                "",
                at(9999),
                "evt_4Jc9T2mQx7LpA0bZ5nKd8Rw1".into(),
            );
            let body: Value = serde_json::from_slice(&event.to_json()).unwrap();
            let errors: Vec<String> = validator
                .iter_errors(&body)
                .map(|e| e.to_string())
                .collect();
            assert!(errors.is_empty(), "{name}: {body}: {errors:?}");
            seen.insert(event.event_type.id());
        }
    }
    // The fixtures cover every event a printer can raise.
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        [
            "job.cancelled",
            "job.failed",
            "job.started",
            "job.succeeded",
            "printer.hms_error",
            "printer.hms_warning",
            "printer.offline",
            "printer.online",
        ]
    );
}

#[test]
fn a_whole_bambu_job_is_one_start_and_one_success_with_its_name_and_task() {
    let news = replay(FIXTURES[0].0, FIXTURES[0].1);
    let PrinterNews::JobSucceeded { job } = &news[1] else {
        panic!("{news:?}")
    };
    assert_eq!(job.name, "Number 10 House Numbers_plate_1");
    assert_eq!(job.id, "690732215");
    assert_eq!(job.started_at, at(5));
    let event = to_event(
        &news[1],
        &config(PrinterKind::Bambu),
        "H2D",
        at(960),
        "evt_1".into(),
    );
    let j = event.job.unwrap();
    assert_eq!((j.duration_s, j.progress), (Some(955), 1.0));
}

#[test]
fn a_bambu_cancel_says_why_and_is_never_also_a_failure() {
    let news = replay(FIXTURES[1].0, FIXTURES[1].1);
    assert!(
        news.iter()
            .all(|n| !matches!(n, PrinterNews::JobFailed { .. })),
        "{news:?}"
    );
    let PrinterNews::JobCancelled { job, reason } = &news[0] else {
        panic!("{news:?}")
    };
    assert_eq!(job.name, "lid");
    assert_eq!(job.progress, 0.42);
    assert!(reason.as_deref().unwrap().contains("0300_400C"));
}

#[test]
fn hms_news_carry_codes_in_the_payload_form() {
    let news = replay(FIXTURES[3].0, FIXTURES[3].1);
    let codes: Vec<(&str, Severity)> = news
        .iter()
        .filter_map(|n| match n {
            PrinterNews::Hms { code, severity, .. } => Some((code.as_str(), *severity)),
            _ => None,
        })
        .collect();
    assert_eq!(
        codes,
        [
            ("0300_A700_0003_0001", Severity::Warning),
            ("0300_0100_0001_0007", Severity::Error),
            ("0300_A700_0003_0001", Severity::Warning),
        ]
    );
}

/// JSON shaped like what printers send: their keys and state words, with
/// wrong types and odd numbers mixed in.
fn printer_json() -> impl Strategy<Value = Value> {
    const WORDS: &[&str] = &[
        "IDLE",
        "PREPARE",
        "SLICING",
        "RUNNING",
        "PAUSE",
        "FINISH",
        "FAILED",
        "INIT",
        "standby",
        "printing",
        "paused",
        "complete",
        "cancelled",
        "error",
        "Operational",
        "Printing",
        "Offline",
        "PrintStarted",
        "PrintDone",
        "PrintFailed",
        "PrintCancelled",
        "PrintPaused",
        "PrintResumed",
        "Connected",
        "Disconnected",
        "Error",
        "added",
        "finished",
        "completed",
        "klippy_shutdown",
        "notify_status_update",
        "notify_klippy_ready",
        "notify_klippy_shutdown",
        "notify_klippy_disconnected",
        "notify_history_changed",
        "50348044",
        "0x0300400C",
        "a.gcode",
        "",
    ];
    const KEYS: &[&str] = &[
        "print",
        "gcode_state",
        "print_error",
        "hms",
        "attr",
        "code",
        "mc_percent",
        "mc_remaining_time",
        "task_id",
        "subtask_name",
        "gcode_file",
        "gcode_start_time",
        "event",
        "type",
        "payload",
        "reason",
        "path",
        "name",
        "time",
        "current",
        "history",
        "state",
        "flags",
        "text",
        "printing",
        "operational",
        "progress",
        "completion",
        "printTimeLeft",
        "job",
        "file",
        "method",
        "params",
        "result",
        "status",
        "print_stats",
        "virtual_sdcard",
        "webhooks",
        "filename",
        "total_duration",
        "print_duration",
        "message",
        "action",
        "job_id",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop::sample::select(WORDS).prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..6).prop_map(|kv| {
                Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

#[derive(Debug, Clone)]
enum Step {
    Report(Value),
    LinkUp,
    LinkDown,
    Poll,
}

fn steps() -> impl Strategy<Value = Vec<(u16, Step)>> {
    let step = prop_oneof![
        6 => printer_json().prop_map(Step::Report),
        1 => Just(Step::LinkUp),
        1 => Just(Step::LinkDown),
        2 => Just(Step::Poll),
    ];
    prop::collection::vec((0u16..200, step), 0..40)
}

/// Feeds `steps` to a fresh tracker of `kind`; checks what must always
/// hold: no panic, online only after offline, and every news a valid
/// event.
fn survives(kind: PrinterKind, steps: &[(u16, Step)]) -> Result<(), TestCaseError> {
    let mut tracker = tracker_for(kind);
    let mut now = at(0);
    let mut offline = false;
    let code = |c: &str| {
        c.len() == 19
            && c.split('_').count() == 4
            && c.split('_').all(|g| {
                g.len() == 4
                    && g.chars()
                        .all(|ch| ch.is_ascii_hexdigit() && !ch.is_ascii_lowercase())
            })
    };
    for (dt, step) in steps {
        now += time::Duration::seconds(i64::from(*dt));
        let news = match step {
            Step::Report(v) => tracker.report(v, now),
            Step::LinkUp => {
                tracker.link_up(now);
                Vec::new()
            }
            Step::LinkDown => {
                tracker.link_down(now, "dropped");
                Vec::new()
            }
            Step::Poll => tracker.poll(now),
        };
        for n in &news {
            match n {
                PrinterNews::Offline { .. } => {
                    prop_assert!(!offline, "offline twice");
                    offline = true;
                }
                PrinterNews::Online => {
                    prop_assert!(offline, "online without offline");
                    offline = false;
                }
                PrinterNews::Hms { code: c, .. } => prop_assert!(code(c), "bad code {c}"),
                _ => {}
            }
            let event = to_event(n, &config(kind), "", now, "evt_p".into());
            if let Some(job) = &event.job {
                prop_assert!((0.0..=1.0).contains(&job.progress));
            }
            serde_json::to_vec(&event).map_err(|e| TestCaseError::fail(e.to_string()))?;
        }
        let snapshot = tracker.snapshot();
        prop_assert!(!snapshot.state.is_empty());
        if let Some(p) = snapshot.progress {
            prop_assert!((0.0..=1.0).contains(&p));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn bambu_survives_any_json(steps in steps()) {
        survives(PrinterKind::Bambu, &steps)?;
    }

    #[test]
    fn octoprint_survives_any_json(steps in steps()) {
        survives(PrinterKind::OctoPrint, &steps)?;
    }

    #[test]
    fn moonraker_survives_any_json(steps in steps()) {
        survives(PrinterKind::Moonraker, &steps)?;
    }

    #[test]
    fn settings_parsing_never_panics(name in ".{0,50}", address in ".{0,80}", serial in ".{0,24}") {
        for kind in PrinterKind::ALL {
            if let Ok(p) = PrinterConfig::new(&name, kind, &address, Some(&serial), None) {
                prop_assert!(p.validate().is_ok());
                p.websocket_url();
            }
        }
    }
}
