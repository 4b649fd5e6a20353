//! The Moonraker source against a websocket stand-in that plays Klipper's
//! documented JSON-RPC messages: a print from start to finish, a pause and
//! resume, a cancel, Klipper shutting down mid-print, a wrong API key, a
//! dropped connection, and `printers test`.

use std::time::Duration;

use farmhook::core::printers::{PrinterConfig, PrinterKind, PrinterNews};
use farmhook::engine::printers::LinkState;
use farmhook::engine::printers::moonraker::{probe, run};
use secrecy::SecretString;
use serde_json::json;

use crate::support::moonraker_stand_in::MoonrakerStandIn;
use crate::support::source_run::SourceRun;

const KEY: &str = "0f3c2a9be5d84c71a6b0e2f4d8c19a7e";

fn config(stand_in: &MoonrakerStandIn) -> PrinterConfig {
    PrinterConfig::new(
        "Voron 2.4",
        PrinterKind::Moonraker,
        &stand_in.base,
        None,
        None,
    )
    .expect("a valid Moonraker config")
}

/// A source watching `stand_in`, past its baseline.
async fn watching(stand_in: &MoonrakerStandIn, key: Option<&str>, state: &str) -> SourceRun {
    let mut source = SourceRun::start(run, config(stand_in), key);
    source
        .link("connected", |l| *l == LinkState::Connected)
        .await;
    source.snapshot_state(state).await;
    source
}

fn printing(file: &str) -> serde_json::Value {
    json!({"print_stats": {"state": "printing", "filename": file, "total_duration": 0.4, "message": ""},
           "virtual_sdcard": {"progress": 0.0, "is_active": true}})
}

#[tokio::test]
async fn a_print_with_history_alongside_is_started_then_succeeded_once() {
    let stand_in = MoonrakerStandIn::start(Some(KEY)).await;
    let mut source = watching(&stand_in, Some(KEY), "idle").await;
    // The key went on the upgrade and in identify.
    assert_eq!(stand_in.upgrade_keys(), [Some(KEY.to_string())]);
    assert_eq!(
        stand_in.requests("server.connection.identify")[0]["params"]["api_key"],
        KEY
    );
    stand_in.notify(
        "notify_history_changed",
        Some(json!([{"action": "added", "job": {"job_id": "000042", "filename": "benchy.gcode", "status": "in_progress"}}])),
    );
    stand_in.update(printing("benchy.gcode"));
    let PrinterNews::JobStarted { job } = source.news("job.started").await else {
        unreachable!()
    };
    assert_eq!(job.name, "benchy.gcode");
    stand_in.update(json!({"virtual_sdcard": {"progress": 0.5},
                           "print_stats": {"total_duration": 60.0, "print_duration": 50.0}}));
    source
        .until("half-way progress", |r| {
            matches!(r, farmhook::engine::printers::SourceReport::Snapshot(s) if s.progress == Some(0.5))
        })
        .await;
    stand_in
        .update(json!({"print_stats": {"state": "complete"}, "virtual_sdcard": {"progress": 1.0}}));
    stand_in.notify(
        "notify_history_changed",
        Some(json!([{"action": "finished", "job": {"job_id": "000042", "filename": "benchy.gcode", "status": "completed"}}])),
    );
    let PrinterNews::JobSucceeded { job } = source.news("job.succeeded").await else {
        unreachable!()
    };
    assert_eq!(job.id, "000042");
    source.snapshot_state("complete").await;
    let seen = source.stop().await;
    let kinds: Vec<_> = seen
        .iter()
        .filter_map(|r| match r {
            farmhook::engine::printers::SourceReport::News(n) => Some(n.event_type().id()),
            _ => None,
        })
        .collect();
    assert_eq!(kinds, ["job.started", "job.succeeded"]);
}

#[tokio::test]
async fn pause_and_resume_is_not_a_start_and_a_cancel_is_a_cancel() {
    let stand_in = MoonrakerStandIn::start(None).await;
    let mut source = watching(&stand_in, None, "idle").await;
    stand_in.update(printing("bracket.gcode"));
    source.news("job.started").await;
    stand_in.update(json!({"print_stats": {"state": "paused", "total_duration": 40.0}}));
    source.snapshot_state("paused").await;
    stand_in.update(json!({"print_stats": {"state": "printing", "total_duration": 45.0}}));
    source.snapshot_state("printing").await;
    stand_in.update(json!({"print_stats": {"state": "cancelled"}}));
    let PrinterNews::JobCancelled { job, .. } = source.news("job.cancelled").await else {
        unreachable!()
    };
    assert_eq!(job.name, "bracket.gcode");
    stand_in.update(json!({"print_stats": {"state": "standby"}}));
    source.snapshot_state("idle").await;
    assert_eq!(source.news_kinds(), ["job.started", "job.cancelled"]);
    // No API key configured: none sent.
    assert_eq!(stand_in.upgrade_keys(), [None]);
    source.stop().await;
}

#[tokio::test]
async fn klipper_shutting_down_mid_print_fails_the_job_once_with_an_hms_error_and_resubscribes() {
    let stand_in = MoonrakerStandIn::start(None).await;
    let mut source = watching(&stand_in, None, "idle").await;
    stand_in.update(printing("tower.gcode"));
    source.news("job.started").await;
    stand_in.set_klippy_state("shutdown");
    stand_in.set_status(json!({"webhooks": {"state": "shutdown", "state_message": "MCU 'mcu' shutdown: Timer too close"}}));
    stand_in.notify("notify_klippy_shutdown", None);
    let PrinterNews::Hms { message, .. } = source.news("printer.hms_error").await else {
        unreachable!()
    };
    assert!(message.contains("Klipper shut down"), "{message}");
    let PrinterNews::JobFailed { reason, .. } = source.news("job.failed").await else {
        unreachable!()
    };
    assert!(reason.contains("shut down"), "{reason}");
    stand_in.update(json!({"print_stats": {"state": "error", "message": "MCU 'mcu' shutdown: Timer too close"}}));
    // After the shutdown the source subscribes again: a new baseline.
    source.snapshot_state("error").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while stand_in.requests("printer.objects.subscribe").len() < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no second subscribe"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Klipper restarts: ready, standby, and no new events.
    stand_in.set_klippy_state("ready");
    stand_in.set_status(json!({"print_stats": {"state": "standby", "message": ""}}));
    stand_in.notify("notify_klippy_ready", None);
    source.snapshot_state("idle").await;
    assert_eq!(
        source.news_kinds(),
        ["job.started", "printer.hms_error", "job.failed"]
    );
    source.stop().await;
}

#[tokio::test]
async fn a_wrong_api_key_stops_the_source_with_words() {
    let stand_in = MoonrakerStandIn::start(Some(KEY)).await;
    let mut source = SourceRun::start(
        run,
        config(&stand_in),
        Some("wrong-key-wrong-key-wrong-key-00"),
    );
    let LinkState::Stopped(why) = source
        .link("stopped", |l| matches!(l, LinkState::Stopped(_)))
        .await
    else {
        unreachable!()
    };
    assert!(why.contains("refused the API key"), "{why}");
    assert!(!why.contains("wrong-key"), "no secret in words: {why}");
    source.wait_end().await;
    // No key at all: Moonraker wants one.
    let mut source = SourceRun::start(run, config(&stand_in), None);
    let LinkState::Stopped(why) = source
        .link("stopped", |l| matches!(l, LinkState::Stopped(_)))
        .await
    else {
        unreachable!()
    };
    assert!(why.contains("wants an API key"), "{why}");
    source.wait_end().await;
    let wrong = SecretString::from("wrong-key-wrong-key-wrong-key-00".to_string());
    let err = probe(&config(&stand_in), Some(&wrong), Duration::from_secs(5))
        .await
        .expect_err("a wrong key does not probe");
    assert!(err.contains("refused the API key"), "{err}");
}

#[tokio::test]
async fn a_dropped_connection_reconnects_with_a_fresh_baseline_and_no_events() {
    let stand_in = MoonrakerStandIn::start(None).await;
    stand_in.set_status(printing("long.gcode"));
    let mut source = watching(&stand_in, None, "printing").await;
    stand_in.drop_connections();
    let LinkState::Retrying { in_s, .. } = source
        .link("retrying", |l| matches!(l, LinkState::Retrying { .. }))
        .await
    else {
        unreachable!()
    };
    assert_eq!(in_s, 1, "the first retry waits 1 s");
    source
        .link("connected again", |l| *l == LinkState::Connected)
        .await;
    source.snapshot_state("printing").await;
    // The job ran on while farmhook was away: it ends once.
    stand_in.update(json!({"print_stats": {"state": "complete"}}));
    source.news("job.succeeded").await;
    assert_eq!(source.news_kinds(), ["job.succeeded"]);
    assert_eq!(stand_in.requests("printer.objects.subscribe").len(), 2);
    source.stop().await;
}

#[tokio::test]
async fn probe_reads_one_status_or_says_klipper_is_not_ready() {
    let stand_in = MoonrakerStandIn::start(None).await;
    stand_in.set_status(
        json!({"print_stats": {"state": "printing", "filename": "gear.gcode",
                                               "print_duration": 100.0, "total_duration": 110.0},
                               "virtual_sdcard": {"progress": 0.25}}),
    );
    let p = probe(&config(&stand_in), None, Duration::from_secs(5))
        .await
        .expect("probe reads the status");
    assert_eq!(p.snapshot.state, "printing");
    assert_eq!(p.snapshot.job.as_deref(), Some("gear.gcode"));
    assert_eq!(p.snapshot.progress, Some(0.25));
    assert_eq!(p.snapshot.remaining_s, Some(300));
    stand_in.set_klippy_state("startup");
    let p = probe(&config(&stand_in), None, Duration::from_secs(5))
        .await
        .expect("probe reads the status");
    assert_eq!(p.snapshot.state, "klipper startup");
    // Nothing listening: unreachable, in words.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let gone = PrinterConfig::new(
        "Gone",
        PrinterKind::Moonraker,
        &format!("http://127.0.0.1:{port}"),
        None,
        None,
    )
    .expect("valid");
    let err = probe(&gone, None, Duration::from_secs(5))
        .await
        .expect_err("nothing listens");
    assert!(err.contains("unreachable"), "{err}");
}
