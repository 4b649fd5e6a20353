//! The OctoPrint source against a real OctoPrint with its virtual printer
//! (scripts/octoprint.sh): the operator prints, cancels, unplugs the
//! printer, mistypes the API key, and presses Test; farmhook reports each
//! as `farmhook watch` would see it.

use std::time::Duration;

use farmhook::core::printers::{PrinterConfig, PrinterKind, PrinterNews};
use farmhook::engine::printers::octoprint::{probe, run};
use farmhook::engine::printers::{LinkState, SourceReport};
use secrecy::SecretString;

use crate::support::octoprint::{API_KEY, OctoPrint, exclusive};
use crate::support::source_run::SourceRun;

const SHORT_PRINT: &str = "G28\nG1 X10 Y10 Z0.2 F3000\nG1 X20 Y20 E1\nM400\n";

fn config(server: &OctoPrint) -> PrinterConfig {
    PrinterConfig::new(
        "Prusa in the corner",
        PrinterKind::OctoPrint,
        &server.base,
        None,
        None,
    )
    .expect("a valid OctoPrint config")
}

/// A source watching `server`, past its baseline (connected, idle).
async fn watching(server: &OctoPrint) -> SourceRun {
    let mut source = SourceRun::start(run, config(server), Some(API_KEY));
    source
        .link("connected", |l| *l == LinkState::Connected)
        .await;
    source.snapshot_state("idle").await;
    source
}

fn long_print(seconds: usize) -> String {
    let mut g = String::from("G28\n");
    for _ in 0..seconds {
        g.push_str("G4 S1\n");
    }
    g
}

#[tokio::test]
async fn a_short_print_is_told_started_then_succeeded_once() {
    let (_turn, server) = exclusive().await;
    let mut source = watching(server).await;
    server.print("whistle_v2.gcode", SHORT_PRINT).await;
    let started = source.news("job.started").await;
    let PrinterNews::JobStarted { job } = started else {
        unreachable!()
    };
    assert_eq!(job.name, "whistle_v2.gcode");
    let PrinterNews::JobSucceeded { job } = source.news("job.succeeded").await else {
        unreachable!()
    };
    assert_eq!(job.progress, 1.0);
    server.settle().await;
    source.snapshot_state("idle").await;
    let seen = source.stop().await;
    let kinds: Vec<_> = seen
        .iter()
        .filter_map(|r| match r {
            SourceReport::News(n) => Some(n.event_type().id()),
            _ => None,
        })
        .collect();
    assert_eq!(kinds, ["job.started", "job.succeeded"]);
    assert!(
        matches!(seen.last(), Some(SourceReport::Link(LinkState::Stopped(_)))),
        "a stopped source says so last: {seen:#?}"
    );
}

#[tokio::test]
async fn a_cancelled_print_is_cancelled_only_never_also_failed() {
    let (_turn, server) = exclusive().await;
    let mut source = watching(server).await;
    server.print("long_bracket.gcode", &long_print(60)).await;
    source.news("job.started").await;
    source.snapshot_state("printing").await;
    server.cancel().await;
    let PrinterNews::JobCancelled { job, .. } = source.news("job.cancelled").await else {
        unreachable!()
    };
    assert_eq!(job.name, "long_bracket.gcode");
    // OctoPrint sends PrintCancelled and PrintFailed(reason=cancelled),
    // then goes back to Operational: once idle, both have arrived.
    server.settle().await;
    source.snapshot_state("idle").await;
    assert_eq!(source.news_kinds(), ["job.started", "job.cancelled"]);
    source.stop().await;
}

#[tokio::test]
async fn unplugging_the_printer_is_a_blip_not_an_event_and_it_comes_back() {
    let (_turn, server) = exclusive().await;
    let mut source = watching(server).await;
    server.disconnect().await;
    // OctoPrint lost its printer: the tracker starts the offline debounce
    // (60 s, longer than a test) and says so in the snapshot.
    source.snapshot_state("reconnecting").await;
    server.connect().await;
    source.snapshot_state("idle").await;
    server.settle().await;
    // A blip shorter than the debounce tells nothing.
    assert!(source.news_kinds().is_empty(), "{:#?}", source.seen);
    source.stop().await;
}

#[tokio::test]
async fn a_wrong_api_key_stops_the_source_with_words_and_probe_says_the_same() {
    let (_turn, server) = exclusive().await;
    let mut source = SourceRun::start(
        run,
        config(server),
        Some("not-the-key-at-all-0000000000000"),
    );
    let LinkState::Stopped(why) = source
        .link("stopped", |l| matches!(l, LinkState::Stopped(_)))
        .await
    else {
        unreachable!()
    };
    assert!(why.contains("refused the API key"), "{why}");
    assert!(!why.contains("not-the-key"), "no secret in words: {why}");
    source.wait_end().await;
    assert!(source.ended());
    let wrong = SecretString::from("not-the-key-at-all-0000000000000".to_string());
    let err = probe(&config(server), Some(&wrong), Duration::from_secs(10))
        .await
        .expect_err("a wrong key does not probe");
    assert!(err.contains("refused the API key"), "{err}");
}

#[tokio::test]
async fn probe_reads_one_status_idle_or_printing() {
    let (_turn, server) = exclusive().await;
    let key = SecretString::from(API_KEY.to_string());
    let idle = probe(&config(server), Some(&key), Duration::from_secs(10))
        .await
        .expect("probe reads the status");
    assert_eq!(idle.snapshot.state, "idle");
    assert_eq!(idle.fingerprint, None);
    server.print("probe_me.gcode", &long_print(30)).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let printing = loop {
        let p = probe(&config(server), Some(&key), Duration::from_secs(10))
            .await
            .expect("probe reads the status");
        if p.snapshot.state == "printing" || tokio::time::Instant::now() > deadline {
            break p;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(printing.snapshot.state, "printing");
    assert_eq!(printing.snapshot.job.as_deref(), Some("probe_me.gcode"));
    server.cancel().await;
    server.settle().await;
    // Unreachable: a closed port, in words.
    let closed = PrinterConfig::new(
        "Gone",
        PrinterKind::OctoPrint,
        &format!("http://127.0.0.1:{}", closed_port()),
        None,
        None,
    )
    .expect("valid");
    let err = probe(&closed, Some(&key), Duration::from_secs(5))
        .await
        .expect_err("nothing listens");
    assert!(err.contains("unreachable"), "{err}");
}

fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

#[tokio::test]
async fn an_unreachable_octoprint_is_retried_with_a_growing_backoff_until_stopped() {
    let gone = PrinterConfig::new(
        "Ender in the shed",
        PrinterKind::OctoPrint,
        &format!("http://127.0.0.1:{}", closed_port()),
        None,
        None,
    )
    .expect("valid");
    let mut source = SourceRun::start(run, gone, Some(API_KEY));
    let mut waits = Vec::new();
    for _ in 0..2 {
        let LinkState::Retrying { in_s, why } = source
            .link("retrying", |l| matches!(l, LinkState::Retrying { .. }))
            .await
        else {
            unreachable!()
        };
        assert!(why.contains("unreachable"), "{why}");
        waits.push(in_s);
    }
    assert_eq!(waits, [1, 2], "1 s, then doubling");
    let seen = source.stop().await;
    assert!(
        matches!(seen.last(), Some(SourceReport::Link(LinkState::Stopped(_)))),
        "{seen:#?}"
    );
    assert!(!seen.iter().any(|r| matches!(r, SourceReport::News(_))));
}

#[tokio::test]
async fn a_firmware_error_mid_print_is_an_hms_error_and_a_failed_job_once_each() {
    let (_turn, server) = exclusive().await;
    let mut source = watching(server).await;
    server.print("overhang_test.gcode", &long_print(60)).await;
    source.news("job.started").await;
    source.snapshot_state("printing").await;
    // The virtual printer's firmware reports MINTEMP, a fatal error:
    // OctoPrint fails the print and closes the connection.
    server.gcode("!!DEBUG:mintemp_error").await;
    let PrinterNews::JobFailed { job, reason } = source.news("job.failed").await else {
        unreachable!()
    };
    assert_eq!(job.name, "overhang_test.gcode");
    assert!(reason.contains("OctoPrint"), "{reason}");
    let mut kinds = source.news_kinds();
    if !kinds.contains(&"printer.hms_error") {
        source.news("printer.hms_error").await;
        kinds = source.news_kinds();
    }
    kinds.sort_unstable();
    assert_eq!(kinds, ["job.failed", "job.started", "printer.hms_error"]);
    // The operator connects again; the printer is back without news.
    server.settle().await;
    source.snapshot_state("idle").await;
    assert_eq!(source.news_kinds().len(), 3, "{:#?}", source.seen);
    source.stop().await;
}

/// OctoPrint behind TLS with a certificate this computer does not trust:
/// the check says so, and what to do, instead of "unreachable".
#[tokio::test]
async fn an_untrusted_certificate_is_told_as_such_not_as_unreachable() {
    let endpoint = crate::support::tls::TlsEndpoint::start().await;
    let base = endpoint.url().trim_end_matches("/hook").to_string();
    let config = PrinterConfig::new("Prusa TLS", PrinterKind::OctoPrint, &base, None, None)
        .expect("a valid OctoPrint config");
    let key = SecretString::from(API_KEY);
    let err = probe(&config, Some(&key), Duration::from_secs(10))
        .await
        .expect_err("an untrusted certificate does not probe");
    assert!(
        err.contains("not signed by an authority this computer trusts"),
        "{err}"
    );
    assert!(!err.contains("unreachable"), "{err}");
    assert_eq!(endpoint.hits(), 0, "no request got through");
}
