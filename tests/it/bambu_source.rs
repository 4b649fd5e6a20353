//! The Bambu source against a real mosquitto broker standing in for the
//! printer: TLS 1.2 with a certificate whose CN is the serial (no SAN),
//! user `bblp` with the access code, and the test publishing the printer's
//! reports. The operator's day: add the printer, pin its certificate, watch
//! a job start and finish once, see a cancel as a cancel, a wrong access
//! code or a strange certificate stop the source with words, and the
//! printer drop off the network and come back.

use std::time::Duration;

use farmhook::core::printers::config::format_fingerprint;
use farmhook::core::printers::{PrinterConfig, PrinterKind, PrinterNews, PrinterSnapshot, Timing};
use farmhook::engine::printers::bambu::{probe, run};
use farmhook::engine::printers::{LinkState, SourceContext, SourceReport, SourceUpdate};
use secrecy::SecretString;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::support::mosquitto::Mosquitto;

const SERIAL: &str = "01S00C123456789";
const CODE: &str = "12345678";
/// Generous: every wait ends as soon as its condition holds.
const WAIT: Duration = Duration::from_secs(15);

fn config(broker: &Mosquitto, pin: Option<&str>) -> PrinterConfig {
    PrinterConfig::new(
        "X1C-01",
        PrinterKind::Bambu,
        &broker.address(),
        Some(SERIAL),
        pin,
    )
    .expect("a valid Bambu printer")
}

/// A running source and everything it said.
struct Watched {
    updates: mpsc::Receiver<SourceUpdate>,
    seen: Vec<SourceReport>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Watched {
    fn start(config: PrinterConfig, code: &str) -> Watched {
        Watched::start_timed(config, code, Default::default())
    }

    /// The same with its own silence and offline debounce.
    fn start_timed(config: PrinterConfig, code: &str, timing: Timing) -> Watched {
        let (tx, updates) = mpsc::channel(256);
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(run(SourceContext {
            config,
            secret: Some(SecretString::from(code.to_string())),
            updates: tx,
            stop: stop_rx,
            timing,
            last_known: None,
        }));
        Watched {
            updates,
            seen: Vec::new(),
            stop,
            task,
        }
    }

    /// Reads updates until one matches; panics with everything seen if
    /// none does within [`WAIT`].
    async fn until(&mut self, what: &str, pred: impl Fn(&SourceReport) -> bool) -> SourceReport {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.updates.recv()).await {
                Ok(Some(update)) => {
                    assert_eq!(update.printer, "X1C-01");
                    self.seen.push(update.what.clone());
                    if pred(&update.what) {
                        return update.what;
                    }
                }
                Ok(None) => panic!("the source ended before {what}: {:#?}", self.seen),
                Err(_) => panic!("no {what} within {WAIT:?}: {:#?}", self.seen),
            }
        }
    }

    async fn until_link(&mut self, what: &str, pred: impl Fn(&LinkState) -> bool) -> LinkState {
        match self
            .until(what, |r| matches!(r, SourceReport::Link(l) if pred(l)))
            .await
        {
            SourceReport::Link(l) => l,
            _ => unreachable!(),
        }
    }

    async fn until_state(&mut self, state: &str) -> PrinterSnapshot {
        match self
            .until(
                &format!("a snapshot saying {state}"),
                |r| matches!(r, SourceReport::Snapshot(s) if s.state == state),
            )
            .await
        {
            SourceReport::Snapshot(s) => s,
            _ => unreachable!(),
        }
    }

    /// The catalogue ids of every news seen so far.
    fn news(&self) -> Vec<&'static str> {
        self.seen
            .iter()
            .filter_map(|r| match r {
                SourceReport::News(n) => Some(n.event_type().id()),
                _ => None,
            })
            .collect()
    }

    fn links(&self) -> Vec<LinkState> {
        self.seen
            .iter()
            .filter_map(|r| match r {
                SourceReport::Link(l) => Some(l.clone()),
                _ => None,
            })
            .collect()
    }

    /// The source must end by itself (it was refused): no retry loop.
    async fn ends_by_itself(self) -> Vec<SourceReport> {
        let Watched {
            mut updates,
            mut seen,
            stop,
            task,
        } = self;
        tokio::time::timeout(WAIT, task)
            .await
            .expect("the source ends by itself, without retrying")
            .expect("the source does not panic");
        while let Ok(update) = updates.try_recv() {
            seen.push(update.what);
        }
        drop(stop);
        seen
    }

    async fn stop(self) {
        self.stop.send(true).ok();
        tokio::time::timeout(WAIT, self.task)
            .await
            .expect("the source stops when asked")
            .expect("the source does not panic");
    }
}

const IDLE: &str = r#"{"print":{"command":"push_status","gcode_state":"IDLE","print_type":"idle","mc_percent":0,"mc_remaining_time":0,"print_error":0,"subtask_name":"","gcode_file":"","hms":[],"task_id":"0"}}"#;

/// Starts a pinned source with `timing` and waits until it is connected
/// and has asked the printer for its whole state (not answered yet).
async fn asking_for_pushall(
    broker: &Mosquitto,
    timing: Timing,
) -> (Watched, crate::support::mosquitto::TestPrinter) {
    let mut printer = broker.printer().await;
    let mut source = Watched::start_timed(config(broker, Some(&broker.fingerprint)), CODE, timing);
    source
        .until_link("Connected", |l| *l == LinkState::Connected)
        .await;
    let request = printer
        .next_request(WAIT)
        .await
        .expect("the source asks for the whole state on connecting");
    assert!(request.contains(r#""command":"pushall""#), "{request}");
    (source, printer)
}

/// Starts a pinned source and takes the printer's pushall answer (an idle
/// printer) as the baseline.
async fn connected_idle(broker: &Mosquitto) -> (Watched, crate::support::mosquitto::TestPrinter) {
    let (mut source, printer) = asking_for_pushall(broker, Timing::default()).await;
    printer.report(IDLE).await;
    source.until_state("idle").await;
    assert!(source.news().is_empty(), "the baseline is not news");
    (source, printer)
}

#[tokio::test]
async fn a_whole_job_is_one_start_and_one_success_even_when_finish_is_echoed() {
    let mut broker = Mosquitto::start(SERIAL, CODE);
    let (mut source, mut printer) = connected_idle(&broker).await;
    for report in [
        r#"{"print":{"command":"push_status","gcode_state":"PREPARE","subtask_name":"Number 10 House Numbers_plate_1","gcode_file":"Number 10.gcode.3mf","task_id":"690732215","mc_percent":0}}"#,
        r#"{"print":{"command":"push_status","gcode_state":"RUNNING","mc_percent":0,"mc_remaining_time":115,"subtask_name":"Number 10 House Numbers_plate_1","print_error":0,"hms":[],"task_id":"690732215"}}"#,
        r#"{"print":{"command":"push_status","mc_percent":"12","mc_remaining_time":"101","layer_num":3}}"#,
        r#"{"info":{"command":"get_version","module":[]}}"#,
        "not json at all",
        r#"{"print":{"command":"push_status","gcode_state":"FINISH","print_type":"idle","mc_percent":100,"mc_remaining_time":0,"print_error":0,"layer_num":25,"total_layer_num":25,"hms":[]}}"#,
        r#"{"print":{"command":"push_status","gcode_state":"FINISH","mc_percent":100,"print_error":0,"subtask_name":"Number 10 House Numbers_plate_1","task_id":"690732215","hms":[]}}"#,
    ] {
        printer.report(report).await;
    }
    let done = source.until_state("finished").await;
    assert_eq!(done.job.as_deref(), Some("Number 10 House Numbers_plate_1"));

    // The printer drops off and comes back; its pushall answer echoes FINISH.
    broker.kill();
    source
        .until_link("Retrying", |l| matches!(l, LinkState::Retrying { .. }))
        .await;
    broker.restart();
    printer.wait_subscribed(2).await;
    source
        .until_link("Connected again", |l| *l == LinkState::Connected)
        .await;
    let echo = r#"{"print":{"command":"push_status","gcode_state":"FINISH","mc_percent":100,"print_error":0,"subtask_name":"Number 10 House Numbers_plate_1","task_id":"690732215","hms":[]}}"#;
    // The source may still be subscribing: repeat the echo until it is heard.
    loop {
        printer.report(echo).await;
        let heard =
            tokio::time::timeout(Duration::from_millis(500), source.until_state("finished"));
        if heard.await.is_ok() {
            break;
        }
    }
    // A marker: once idle is seen, everything before it was read.
    printer.report(r#"{"print":{"gcode_state":"IDLE"}}"#).await;
    source.until_state("idle").await;
    assert_eq!(source.news(), ["job.started", "job.succeeded"]);
    let SourceReport::News(PrinterNews::JobSucceeded { job }) = source
        .seen
        .iter()
        .find(|r| matches!(r, SourceReport::News(PrinterNews::JobSucceeded { .. })))
        .expect("a success")
    else {
        unreachable!()
    };
    assert_eq!((job.id.as_str(), job.progress), ("690732215", 1.0));
    source.stop().await;
}

#[tokio::test]
async fn a_cancel_is_told_as_cancelled_only() {
    let broker = Mosquitto::start(SERIAL, CODE);
    let mut printer = broker.printer().await;
    let mut source = Watched::start(config(&broker, Some(&broker.fingerprint)), CODE);
    source
        .until_link("Connected", |l| *l == LinkState::Connected)
        .await;
    printer.next_request(WAIT).await.expect("pushall");
    // Connected mid-print: the running job is the baseline.
    printer
        .report(r#"{"print":{"command":"push_status","gcode_state":"RUNNING","mc_percent":41,"mc_remaining_time":50,"print_error":0,"subtask_name":"lid","task_id":"5551","hms":[]}}"#)
        .await;
    let running = source.until_state("printing").await;
    assert_eq!(running.progress, Some(0.41));
    assert_eq!(running.remaining_s, Some(3000));
    for report in [
        r#"{"print":{"command":"push_status","mc_percent":42}}"#,
        r#"{"print":{"print_error":50348044}}"#,
        r#"{"print":{"hms":[{"attr":50331648,"code":81932},{"attr":83886080,"code":81934}]}}"#,
        r#"{"print":{"print_error":0}}"#,
        r#"{"print":{"command":"push_status","gcode_state":"FAILED","hms":[]}}"#,
        r#"{"print":{"command":"push_status","gcode_state":"IDLE"}}"#,
    ] {
        printer.report(report).await;
    }
    source.until_state("idle").await;
    assert_eq!(source.news(), ["job.cancelled"]);
    source.stop().await;
    // Stopping says goodbye (MQTT DISCONNECT) rather than dropping the socket.
    let deadline = std::time::Instant::now() + WAIT;
    while !broker
        .log()
        .lines()
        .any(|l| l.contains("Client farmhook-") && l.ends_with(" disconnected."))
    {
        assert!(std::time::Instant::now() < deadline, "{}", broker.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The source wakes by itself when the tracker has something to decide,
/// not only when the printer speaks: a FAILED without an error code, held
/// in case a cancel marker follows, is told once the hold is over although
/// the printer says nothing more.
#[tokio::test]
async fn a_failure_without_a_code_is_told_after_the_hold_with_no_further_report() {
    let broker = Mosquitto::start(SERIAL, CODE);
    let (mut source, printer) = connected_idle(&broker).await;
    printer
        .report(r#"{"print":{"command":"push_status","gcode_state":"RUNNING","subtask_name":"hinge","task_id":"4242","print_error":0,"hms":[]}}"#)
        .await;
    source.until_state("printing").await;
    printer
        .report(r#"{"print":{"command":"push_status","gcode_state":"FAILED","print_error":0,"hms":[]}}"#)
        .await;
    source
        .until("the held failure", |r| {
            matches!(r, SourceReport::News(PrinterNews::JobFailed { .. }))
        })
        .await;
    assert_eq!(source.news(), ["job.started", "job.failed"]);
    source.stop().await;
}

/// A printer whose link stays up but which says nothing for the silence
/// (P1S firmware can) is reconnected and asked for its whole state again.
#[tokio::test]
async fn a_silent_printer_is_reconnected_and_asked_again() {
    let broker = Mosquitto::start(SERIAL, CODE);
    let (mut source, mut printer) = asking_for_pushall(&broker, Timing::seconds(2)).await;
    printer.report(IDLE).await;
    source.until_state("idle").await;
    // Silence from here on.
    source
        .until_link(
            "Retrying after the silence",
            |l| matches!(l, LinkState::Retrying { why, .. } if why.starts_with("no report for")),
        )
        .await;
    let again = printer
        .next_request(WAIT)
        .await
        .expect("a pushall on the new connection");
    assert!(again.contains("pushall"), "{again}");
    source.stop().await;
}

/// A printer whose broker takes the connection but which never answers
/// (not even the first pushall) is not left "connected" for ever: after
/// the silence it is reconnected and asked again, and the link says why.
#[tokio::test]
async fn a_printer_that_never_answers_after_connecting_is_reconnected_and_asked_again() {
    let broker = Mosquitto::start(SERIAL, CODE);
    let (mut source, mut printer) = asking_for_pushall(&broker, Timing::seconds(2)).await;
    // No answer.
    let LinkState::Retrying { why, .. } = source
        .until_link("Retrying after no answer", |l| {
            matches!(l, LinkState::Retrying { .. })
        })
        .await
    else {
        unreachable!()
    };
    assert_eq!(why, "connected, but no report in 2 s");
    let again = printer
        .next_request(WAIT)
        .await
        .expect("a pushall on the new connection");
    assert!(again.contains("pushall"), "{again}");
    // Once it answers, it is watched as any printer.
    printer.report(IDLE).await;
    source.until_state("idle").await;
    assert!(source.news().is_empty(), "the baseline is not news");
    source.stop().await;
}

#[tokio::test]
async fn a_wrong_access_code_stops_the_source_with_words_and_no_retry() {
    let broker = Mosquitto::start(SERIAL, CODE);
    let source = Watched::start(config(&broker, Some(&broker.fingerprint)), "87654321");
    let seen = source.ends_by_itself().await;
    let links: Vec<&LinkState> = seen
        .iter()
        .filter_map(|r| match r {
            SourceReport::Link(l) => Some(l),
            _ => None,
        })
        .collect();
    let [LinkState::Connecting, LinkState::Stopped(why)] = links.as_slice() else {
        panic!("{links:#?}")
    };
    assert!(
        why.starts_with("the printer refused the access code: "),
        "{why}"
    );
    assert!(!why.contains("87654321"), "no secret in words: {why}");

    let err = probe(
        &config(&broker, None),
        Some(&SecretString::from("87654321".to_string())),
        WAIT,
    )
    .await
    .expect_err("the probe is refused");
    assert!(err.contains("refused the access code"), "{err}");
}

#[tokio::test]
async fn an_unpinned_self_signed_printer_is_refused_with_its_fingerprint_then_pinned() {
    let broker = Mosquitto::start(SERIAL, CODE);
    let shown = format_fingerprint(&broker.fingerprint);

    let seen = Watched::start(config(&broker, None), CODE)
        .ends_by_itself()
        .await;
    let Some(SourceReport::Link(LinkState::Stopped(why))) = seen.last() else {
        panic!("{seen:#?}")
    };
    assert!(
        why.contains("does not chain to Bambu Lab's CAs")
            && why.contains(&format!("(SHA-256 {shown})"))
            && why.contains("add it again to pin it"),
        "{why}"
    );
    // Refused before the access code went out: the broker saw no login.
    assert!(!broker.log().contains("as farmhook-"), "{}", broker.log());

    // A pin of another certificate is refused too.
    let other = "ab".repeat(32);
    let seen = Watched::start(config(&broker, Some(&other)), CODE)
        .ends_by_itself()
        .await;
    let Some(SourceReport::Link(LinkState::Stopped(why))) = seen.last() else {
        panic!("{seen:#?}")
    };
    assert!(
        why.contains("is not the pinned one") && why.contains(&shown),
        "{why}"
    );

    // Pinned (as `printers add` does after showing the fingerprint), it connects.
    let (source, _printer) = connected_idle(&broker).await;
    assert!(
        source
            .links()
            .iter()
            .all(|l| !matches!(l, LinkState::Stopped(_)))
    );
    source.stop().await;
}

#[tokio::test]
async fn the_printer_dropping_off_shows_retrying_then_it_is_back() {
    let mut broker = Mosquitto::start(SERIAL, CODE);
    let (mut source, mut printer) = connected_idle(&broker).await;
    broker.kill();
    let LinkState::Retrying { in_s, why } = source
        .until_link("Retrying", |l| matches!(l, LinkState::Retrying { .. }))
        .await
    else {
        unreachable!()
    };
    assert_eq!(in_s, 1, "{why}");
    assert!(why.contains("closed the connection"), "{why}");
    assert!(
        source
            .seen
            .iter()
            .any(|r| matches!(r, SourceReport::Snapshot(s) if s.state == "reconnecting")),
        "{:#?}",
        source.seen
    );
    // The broker stays away a little: the source keeps trying, backing off.
    source
        .until_link("a second Retrying", |l| {
            matches!(l, LinkState::Retrying { in_s: 2, .. })
        })
        .await;
    broker.restart();
    printer.wait_subscribed(2).await;
    source
        .until_link("Connected again", |l| *l == LinkState::Connected)
        .await;
    loop {
        printer.report(IDLE).await;
        let heard = tokio::time::timeout(Duration::from_millis(500), source.until_state("idle"));
        if heard.await.is_ok() {
            break;
        }
    }
    // Back within the offline debounce (60 s): nothing to tell.
    assert!(source.news().is_empty(), "{:?}", source.news());
    source.stop().await;
}

#[tokio::test]
async fn probe_returns_the_first_status_and_the_certificate_fingerprint() {
    let broker = Mosquitto::start(SERIAL, CODE);
    let mut printer = broker.printer().await;
    let cfg = config(&broker, None);
    let probing = tokio::spawn(async move {
        probe(&cfg, Some(&SecretString::from(CODE.to_string())), WAIT).await
    });
    let request = printer
        .next_request(WAIT)
        .await
        .expect("the probe asks for the whole state");
    assert!(request.contains("pushall"), "{request}");
    printer
        .report(r#"{"print":{"command":"push_status","gcode_state":"RUNNING","mc_percent":"42","mc_remaining_time":"30","subtask_name":"gear","task_id":"901"}}"#)
        .await;
    let found = probing
        .await
        .expect("the probe does not panic")
        .expect("the probe reads a status");
    assert_eq!(found.snapshot.state, "printing");
    assert_eq!(found.snapshot.job.as_deref(), Some("gear"));
    assert_eq!(found.snapshot.progress, Some(0.42));
    assert_eq!(
        found.fingerprint.as_deref(),
        Some(format_fingerprint(&broker.fingerprint).as_str())
    );
    assert!(!found.chained_to_bambu);

    // With a pin of another certificate, the probe refuses before logging in.
    let err = probe(
        &config(&broker, Some(&"cd".repeat(32))),
        Some(&SecretString::from(CODE.to_string())),
        WAIT,
    )
    .await
    .expect_err("a mismatching pin is refused");
    assert!(err.contains("is not the pinned one"), "{err}");
    // Nothing listening: words, not a hang.
    broker_gone_probe().await;
}

async fn broker_gone_probe() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let cfg = PrinterConfig::new(
        "X1C-01",
        PrinterKind::Bambu,
        &format!("127.0.0.1:{port}"),
        Some(SERIAL),
        None,
    )
    .expect("valid");
    let err = probe(&cfg, Some(&SecretString::from(CODE.to_string())), WAIT)
        .await
        .expect_err("nothing answers");
    assert!(err.contains("connection refused"), "{err}");
}

#[tokio::test]
async fn a_printer_reached_by_ipv6_is_watched_too() {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        eprintln!("SKIPPED: this machine has no IPv6 loopback (::1)");
        return;
    }
    let broker = Mosquitto::start_on("::1", SERIAL, CODE);
    assert!(broker.address().starts_with("[::1]:"));
    let (source, _printer) = connected_idle(&broker).await;
    source.stop().await;
}
