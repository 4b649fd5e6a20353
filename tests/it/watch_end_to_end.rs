//! The whole promise of `farmhook watch`, through the real binary: a Bambu
//! printer (a real mosquitto broker over TLS playing it) added with
//! `printers add`, which pins its certificate; a print that starts and then
//! fails reaches Discord (its stand-in) once each, within the test's
//! deadline; SIGTERM ends the watch cleanly.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use crate::support::discord_stand_in::DiscordStandIn;
use crate::support::mosquitto::Mosquitto;
use crate::support::{Farmhook, all_file_bytes, contains, require_secret_service};

const SERIAL: &str = "01S00C987654321";
const CODE: &str = "27182818";
const DEADLINE: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_print_failing_reaches_discord_once_and_watch_stops_cleanly() {
    require_secret_service();
    let broker = Mosquitto::start(SERIAL, CODE);
    let discord = DiscordStandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    let fh = Farmhook::new(dir.path(), "watch-e2e")
        .env("FARMHOOK_DISCORD_API_BASE", &discord.api_base());
    let mut printer = broker.printer().await;

    // Added once: `printers add` connects and asks for the state, which
    // the printer answers; its certificate is not Bambu's, so it is pinned.
    let adder = fh.clone();
    let address = broker.address();
    let add = std::thread::spawn(move || {
        adder.run_with_stdin(
            &[
                "printers",
                "add",
                "bambu",
                "--name",
                "X1C bay 3",
                "--host",
                &address,
                "--serial",
                SERIAL,
                "--access-code",
                "-",
            ],
            CODE,
        )
    });
    let request = printer
        .next_request(DEADLINE)
        .await
        .expect("the probe's pushall");
    assert!(request.contains("pushall"), "{request}");
    printer.report(IDLE).await;
    let added = tokio::task::spawn_blocking(move || add.join().unwrap())
        .await
        .unwrap();
    assert_eq!(added.code, 0, "{}{}", added.stdout, added.stderr);
    assert!(added.stderr.contains("pinning it"), "{}", added.stderr);
    assert!(added.stdout.contains("idle"), "{}", added.stdout);
    let list = fh.ok(&["printers", "list", "--json"]);
    assert!(list.stdout.contains(&broker.fingerprint), "{}", list.stdout);
    fh.run_with_stdin(&["discord", "set-url", "-"], &discord.webhook_url());
    fh.ok(&["discord", "enable"]);

    let mut watch = Watch::start(&fh, &[]);
    watch.wait_for("connected link", &|v| v["link"] == "connected");
    // The printer answers the pushall with its state: idle (the baseline),
    // then prints and fails.
    let request = printer.next_request(DEADLINE).await.expect("a pushall");
    assert!(request.contains("pushall"), "{request}");
    printer.report(IDLE).await;
    printer
        .report(r#"{"print":{"command":"push_status","gcode_state":"RUNNING","subtask_name":"Bracket v4","task_id":"777","mc_percent":3,"print_error":0,"hms":[]}}"#)
        .await;
    watch.wait_for("the start", &|v| v["event"] == "job.started");
    printer
        .report(r#"{"print":{"command":"push_status","gcode_state":"FAILED","subtask_name":"Bracket v4","task_id":"777","print_error":50348038,"hms":[]}}"#)
        .await;
    let failed = watch.wait_for("the failure", &|v| v["event"] == "job.failed");
    assert_eq!(failed["printer"], "X1C bay 3");
    watch.wait_for("the failure delivered", &|v| {
        v["delivery"] == "discord"
            && v["outcome"] == "delivered"
            && v["events"]
                .as_array()
                .is_some_and(|e| e.iter().any(|id| id == "job.failed"))
    });

    // Once: Discord got one embed for the failure and one for the start.
    let bodies: Vec<String> = discord
        .received()
        .iter()
        .map(|m| m.body.to_string())
        .collect();
    let all = bodies.join("\n");
    assert_eq!(all.matches("Job failed").count(), 1, "{all}");
    assert_eq!(all.matches("Job started").count(), 1, "{all}");
    assert!(
        all.contains("X1C bay 3") && all.contains("Bracket v4"),
        "{all}"
    );
    // Why, in words: print_error 0x03004006 is a clogged nozzle.
    assert!(
        all.contains("the printer reported error 0300_4006: the nozzle is clogged"),
        "{all}"
    );

    let (status, _) = watch.stop();
    assert!(status.success(), "{status:?}");
    let files = all_file_bytes(dir.path());
    assert!(
        !contains(&files, CODE),
        "the access code is in the keyring only"
    );
}

/// The printer drops off the network (its broker killed) and comes back:
/// `watch --offline-after 5` tells Discord "offline" once, after the
/// debounce, and "online" once it is heard from again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_printer_that_drops_off_is_told_offline_then_online() {
    require_secret_service();
    const SERIAL2: &str = "01S00C111222333";
    let mut broker = Mosquitto::start(SERIAL2, CODE);
    let discord = DiscordStandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    let fh = Farmhook::new(dir.path(), "watch-offline")
        .env("FARMHOOK_DISCORD_API_BASE", &discord.api_base());
    let mut printer = broker.printer().await;
    add_pinned_with_discord(&fh, &broker, &discord, "P1S", SERIAL2);
    let mut watch = Watch::start(&fh, &["--offline-after", "5"]);
    // The test printer answers every pushall with its state, as a printer
    // does, on every connection.
    let end = Instant::now() + Duration::from_secs(60);
    let mut answered = false;
    let mut killed = false;
    let mut restarted = false;
    loop {
        assert!(
            Instant::now() < end,
            "no offline then online within 60 s: {:?}",
            watch.seen
        );
        if printer
            .next_request(Duration::from_millis(200))
            .await
            .is_some_and(|r| r.contains("pushall"))
        {
            printer.report(IDLE).await;
            answered = true;
        }
        watch.take();
        let seen = &watch.seen;
        let has = |event: &str| seen.iter().any(|v| v["event"] == event);
        // Only a printer that was heard from can be told offline: the
        // plug is pulled once its answer to pushall is out, not merely
        // once the link is up (the pushall can come after that line).
        if !killed && answered && seen.iter().any(|v| v["link"] == "connected") {
            // Let the baseline land, then pull the plug.
            tokio::time::sleep(Duration::from_millis(500)).await;
            broker.kill();
            killed = true;
        }
        if killed && !restarted && has("printer.offline") {
            broker.restart();
            restarted = true;
        }
        if restarted && has("printer.online") {
            break;
        }
    }
    let offline = watch
        .seen
        .iter()
        .filter(|v| v["event"] == "printer.offline")
        .count();
    assert_eq!(offline, 1, "offline told once: {:?}", watch.seen);
    discord_told_offline_then_online_once(&discord, "P1S").await;
    watch.stop();
}

/// The test printer's answer to pushall: an idle printer.
const IDLE: &str =
    r#"{"print":{"command":"push_status","gcode_state":"IDLE","print_error":0,"hms":[]}}"#;

/// Adds the broker's printer as `name`, its certificate pinned, and sends
/// Discord's events to its stand-in.
fn add_pinned_with_discord(
    fh: &Farmhook,
    broker: &Mosquitto,
    discord: &DiscordStandIn,
    name: &str,
    serial: &str,
) {
    let added = fh.run_with_stdin(
        &[
            "printers",
            "add",
            "bambu",
            "--name",
            name,
            "--host",
            &broker.address(),
            "--serial",
            serial,
            "--fingerprint",
            &broker.fingerprint,
            "--access-code",
            "-",
            "--no-check",
        ],
        CODE,
    );
    assert_eq!(added.code, 0, "{}", added.stderr);
    fh.run_with_stdin(&["discord", "set-url", "-"], &discord.webhook_url());
    fh.ok(&["discord", "enable"]);
}

/// Waits until Discord got "Printer offline" and "Printer online" for
/// `printer`, and checks each came once.
async fn discord_told_offline_then_online_once(discord: &DiscordStandIn, printer: &str) {
    let end = Instant::now() + DEADLINE;
    loop {
        let all: String = discord
            .received()
            .iter()
            .map(|m| m.body.to_string())
            .collect::<Vec<_>>()
            .join("\n");
        if all.contains("Printer offline") && all.contains("Printer online") {
            assert_eq!(all.matches("Printer offline").count(), 1, "{all}");
            assert_eq!(all.matches("Printer online").count(), 1, "{all}");
            assert!(all.contains(printer), "{all}");
            break;
        }
        assert!(Instant::now() < end, "Discord did not get both: {all}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A `watch` with its output read line by line as JSON.
struct Watch {
    child: std::process::Child,
    lines: std_mpsc::Receiver<serde_json::Value>,
    seen: Vec<serde_json::Value>,
}

impl Watch {
    /// `watch --json` with `extra` arguments (`--offline-after` takes 5
    /// at the least).
    fn start(fh: &Farmhook, extra: &[&str]) -> Watch {
        let mut child = fh
            .command(&[&["watch", "--json"], extra].concat())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let (tx, lines) = std_mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(value) = serde_json::from_str(&line) {
                    tx.send(value).ok();
                }
            }
        });
        Watch {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    fn take(&mut self) {
        while let Ok(v) = self.lines.try_recv() {
            self.seen.push(v);
        }
    }

    fn has(&mut self, pred: impl Fn(&serde_json::Value) -> bool) -> bool {
        self.take();
        self.seen.iter().any(pred)
    }

    /// The first line (seen or to come within [`DEADLINE`]) that `pred`
    /// accepts.
    fn wait_for(
        &mut self,
        what: &str,
        pred: &dyn Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let end = Instant::now() + DEADLINE;
        loop {
            if let Some(found) = self.seen.iter().find(|v| pred(v)) {
                return found.clone();
            }
            let left = end.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "no {what} within {DEADLINE:?}: {:?}",
                self.seen
            );
            if let Ok(v) = self
                .lines
                .recv_timeout(left.min(Duration::from_millis(200)))
            {
                self.seen.push(v);
            }
        }
    }

    /// SIGTERM, and waits for it to end (it writes the printers' state):
    /// how it ended, and every line it wrote.
    fn stop(mut self) -> (std::process::ExitStatus, Vec<serde_json::Value>) {
        let killed = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let end = Instant::now() + DEADLINE;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < end, "watch did not stop after SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        };
        self.take();
        (status, self.seen)
    }
}

/// A power cut at 3 a.m.: the box running `watch` restarts, and a printer
/// that was up before does not come back. It is told offline (it was up
/// when farmhook last watched), once: a further restart does not tell it
/// again, and it is told online when it is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_printer_that_does_not_come_back_after_a_restart_is_told_offline_once_then_online() {
    require_secret_service();
    const SERIAL3: &str = "01S00C444555666";
    let mut broker = Mosquitto::start(SERIAL3, CODE);
    let discord = DiscordStandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    let fh = Farmhook::new(dir.path(), "watch-restart")
        .env("FARMHOOK_DISCORD_API_BASE", &discord.api_base());
    let mut printer = broker.printer().await;
    add_pinned_with_discord(&fh, &broker, &discord, "A1 bay 7", SERIAL3);

    // Watched while it is up, then the box goes down.
    let first = Watch::start(&fh, &["--offline-after", "5"]);
    let end = Instant::now() + DEADLINE;
    loop {
        assert!(Instant::now() < end, "no pushall: {:?}", first.seen);
        if printer
            .next_request(Duration::from_millis(200))
            .await
            .is_some_and(|r| r.contains("pushall"))
        {
            printer.report(IDLE).await;
            break;
        }
    }
    // `printers list` shows what the watching process wrote down.
    let end = Instant::now() + DEADLINE;
    loop {
        let list = fh.ok(&["printers", "list", "--json"]).stdout;
        if list.contains(r#""state":"idle""#) {
            break;
        }
        assert!(Instant::now() < end, "never idle: {list}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    first.stop();
    let list = fh.ok(&["printers", "list", "--json"]).stdout;
    assert!(list.contains("idle when watching stopped"), "{list}");
    broker.kill();

    // Back up without the printer: offline, once, after the 5 s.
    let mut second = Watch::start(&fh, &["--offline-after", "5"]);
    let end = Instant::now() + DEADLINE;
    while !second.has(|v| v["event"] == "printer.offline") {
        assert!(Instant::now() < end, "not told offline: {:?}", second.seen);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, seen) = second.stop();
    assert!(
        !seen.iter().any(|v| v["event"] == "printer.online"),
        "{seen:?}"
    );

    // Restarted again while the printer is still away: not told again;
    // then it is back, and told online.
    let mut third = Watch::start(&fh, &["--offline-after", "5"]);
    tokio::time::sleep(Duration::from_secs(8)).await;
    assert!(
        !third.has(|v| v["event"] == "printer.offline"),
        "told offline twice: {:?}",
        third.seen
    );
    broker.restart();
    let end = Instant::now() + Duration::from_secs(60);
    while !third.has(|v| v["event"] == "printer.online") {
        assert!(Instant::now() < end, "not told online: {:?}", third.seen);
        if printer
            .next_request(Duration::from_millis(200))
            .await
            .is_some_and(|r| r.contains("pushall"))
        {
            printer.report(IDLE).await;
        }
    }
    third.stop();
    discord_told_offline_then_online_once(&discord, "A1 bay 7").await;
}
