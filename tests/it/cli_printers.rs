//! `farmhook printers …` and `farmhook watch` through the real binary: what
//! is refused and why, what lands in the settings file (never a secret),
//! and a watch that stops cleanly on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::moonraker_stand_in::MoonrakerStandIn;
use crate::support::{Farmhook, all_file_bytes, contains, require_secret_service};

const CODE: &str = "31415926";
const KEY: &str = "OctoKey0123456789abcdefABCDEF";

#[test]
fn printers_are_checked_as_added_listed_and_removed_with_their_secrets_only_in_the_keyring() {
    require_secret_service();
    let dir = tempfile::tempdir().unwrap();
    let fh = Farmhook::new(dir.path(), "printers");
    for (args, stdin, words) in [
        (
            vec![
                "printers",
                "add",
                "bambu",
                "--name",
                "X1",
                "--host",
                "10.0.0.5",
                "--serial",
                "01S00C123456789",
                "--no-check",
            ],
            "",
            "LAN access code",
        ),
        (
            vec![
                "printers",
                "add",
                "bambu",
                "--name",
                "X1",
                "--host",
                "10.0.0.5",
                "--serial",
                "x1",
                "--access-code",
                "-",
                "--no-check",
            ],
            CODE,
            "the serial must be",
        ),
        (
            vec![
                "printers",
                "add",
                "bambu",
                "--name",
                "X1",
                "--host",
                "10.0.0.5",
                "--serial",
                "01S00C123456789",
                "--access-code",
                CODE,
                "--no-check",
            ],
            "",
            "on stdin",
        ),
        (
            vec![
                "printers",
                "add",
                "octoprint",
                "--name",
                "P",
                "--url",
                "ftp://octopi",
                "--api-key",
                "-",
                "--no-check",
            ],
            KEY,
            "http:// or https://",
        ),
        (
            vec![
                "printers",
                "add",
                "octoprint",
                "--name",
                "P",
                "--url",
                "http://octopi.local",
                "--no-check",
            ],
            "",
            "API key",
        ),
        (
            vec!["printers", "add", "prusa", "--name", "P"],
            "",
            "bambu, octoprint and moonraker",
        ),
        (
            vec!["printers", "remove", "nobody"],
            "",
            "no printer is named",
        ),
        (
            vec![
                "printers",
                "add",
                "bambu",
                "--name",
                "X1",
                "--host",
                "10.0.0.5",
                "--serial",
                "01S00C123456789",
                "--fingerprint",
                "AB:CD:zz",
                "--access-code",
                "-",
                "--no-check",
            ],
            CODE,
            "not a hexadecimal digit",
        ),
    ] {
        let run = fh.run_with_stdin(&args, stdin);
        assert_eq!(run.code, 2, "{args:?}: {}{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(words), "{args:?}: {}", run.stderr);
        assert!(!run.stderr.contains(CODE) && !run.stderr.contains(KEY));
    }

    // A fingerprint given by the operator is pinned as the settings keep
    // it: 64 lowercase hex digits.
    let pin = "AB:".repeat(31) + "AB";
    let pinned = fh.run_with_stdin(
        &[
            "printers",
            "add",
            "bambu",
            "--name",
            "X1E",
            "--host",
            "10.0.0.6",
            "--serial",
            "01S00C123456780",
            "--fingerprint",
            &pin,
            "--access-code",
            "-",
            "--no-check",
        ],
        CODE,
    );
    assert_eq!(pinned.code, 0, "{}", pinned.stderr);
    let list = fh.ok(&["printers", "list", "--json"]);
    assert!(list.stdout.contains(&"ab".repeat(32)), "{}", list.stdout);
    fh.ok(&["printers", "remove", "X1E"]);

    let added = fh.run_with_stdin(
        &[
            "printers",
            "add",
            "bambu",
            "--name",
            "X1 Carbon",
            "--host",
            "10.0.0.5",
            "--serial",
            "01s00c123456789",
            "--access-code",
            "-",
            "--no-check",
        ],
        CODE,
    );
    assert_eq!(added.code, 0, "{}", added.stderr);
    fh.run_with_stdin(
        &[
            "printers",
            "add",
            "octoprint",
            "--name",
            "Prusa",
            "--url",
            "http://127.0.0.1:9/",
            "--api-key",
            "-",
            "--no-check",
        ],
        KEY,
    );
    let again = fh.run_with_stdin(
        &[
            "printers",
            "add",
            "moonraker",
            "--name",
            "Prusa",
            "--url",
            "http://127.0.0.1:9",
            "--no-check",
        ],
        "",
    );
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("already watched"), "{}", again.stderr);

    let list = fh.ok(&["printers", "list", "--json"]);
    let lines: Vec<serde_json::Value> = list
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{}", list.stdout);
    assert_eq!(lines[0]["name"], "X1 Carbon");
    assert_eq!(lines[0]["kind"], "bambu");
    // Normalised as added: the serial in capitals.
    assert_eq!(lines[0]["serial"], "01S00C123456789");
    assert_eq!(lines[1]["address"], "http://127.0.0.1:9");
    assert!(lines[1]["live"].is_null());
    let text = fh.ok(&["printers", "list"]);
    assert!(text.stdout.contains("never watched yet"), "{}", text.stdout);

    let files = all_file_bytes(dir.path());
    assert!(!contains(&files, CODE) && !contains(&files, KEY));
    assert!(contains(&files, "01S00C123456789"));

    fh.ok(&["printers", "remove", "X1 Carbon"]);
    let list = fh.ok(&["printers", "list", "--json"]);
    assert_eq!(list.stdout.lines().count(), 1, "{}", list.stdout);
}

/// A printer's secret as the keyring has it (through the library: the
/// command line never shows one).
fn printer_secret(fh: &Farmhook, name: &str) -> Option<String> {
    let store = farmhook::engine::config_store::ConfigStore::locate(
        Some(fh.config_dir.clone()),
        farmhook::core::profile::ProfileName::parse(&fh.profile).unwrap(),
    )
    .unwrap();
    let profile = farmhook::engine::profile::Profile::new(store);
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(profile.secrets().printer_secret(name))
        .unwrap()
}

#[test]
fn a_printer_is_edited_in_place_its_key_kept_or_replaced_and_wrong_flags_refused() {
    require_secret_service();
    let dir = tempfile::tempdir().unwrap();
    let fh = Farmhook::new(dir.path(), "printers-edit");
    for (name, url) in [
        ("Prusa", "http://127.0.0.1:9"),
        ("Voron", "http://127.0.0.1:10"),
    ] {
        let added = fh.run_with_stdin(
            &[
                "printers",
                "add",
                "octoprint",
                "--name",
                name,
                "--url",
                url,
                "--api-key",
                "-",
                "--no-check",
            ],
            KEY,
        );
        assert_eq!(added.code, 0, "{}", added.stderr);
    }
    for (args, words) in [
        (
            vec!["printers", "edit", "Prusa", "--host", "10.0.0.5"],
            "--host is not for OctoPrint",
        ),
        (
            vec!["printers", "edit", "Prusa", "--serial", "01S00C123456789"],
            "--serial is not for OctoPrint",
        ),
        (
            vec!["printers", "edit", "Prusa", "--url", "ftp://x"],
            "http:// or https://",
        ),
        (
            vec!["printers", "edit", "Prusa", "--name", "Voron"],
            "already watched",
        ),
        (
            vec!["printers", "edit", "Nope", "--name", "X"],
            "no printer is named 'Nope'",
        ),
    ] {
        let run = fh.run(&[args.as_slice(), &["--no-check"]].concat());
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(words), "{args:?}: {}", run.stderr);
    }
    // Renamed and moved: the key follows it in the keyring; the order of
    // the list stays.
    fh.ok(&[
        "printers",
        "edit",
        "Prusa",
        "--name",
        "Prusa MK4",
        "--url",
        "http://127.0.0.1:11",
        "--no-check",
    ]);
    let list = fh.ok(&["printers", "list", "--json"]);
    let lines: Vec<serde_json::Value> = list
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["name"], "Prusa MK4", "{}", list.stdout);
    assert_eq!(lines[0]["address"], "http://127.0.0.1:11");
    assert_eq!(lines[1]["name"], "Voron");
    assert_eq!(printer_secret(&fh, "Prusa MK4").as_deref(), Some(KEY));
    assert_eq!(printer_secret(&fh, "Prusa"), None, "the old entry is gone");
    // A new key replaces the old one, from stdin only.
    let refused = fh.run(&[
        "printers",
        "edit",
        "Voron",
        "--api-key",
        "NewKey",
        "--no-check",
    ]);
    assert_eq!(refused.code, 2);
    assert!(refused.stderr.contains("stdin"), "{}", refused.stderr);
    let new_key = "NewOctoKey0123456789abcdefABC";
    let edited = fh.run_with_stdin(
        &["printers", "edit", "Voron", "--api-key", "-", "--no-check"],
        new_key,
    );
    assert_eq!(edited.code, 0, "{}", edited.stderr);
    assert_eq!(printer_secret(&fh, "Voron").as_deref(), Some(new_key));
    let status = fh.ok(&["status"]);
    assert!(
        status
            .stdout
            .contains("printers: 2 (2 octoprint), told offline after 60 s"),
        "{}",
        status.stdout
    );
    let files = all_file_bytes(dir.path());
    assert!(!contains(&files, KEY) && !contains(&files, new_key));
}

#[test]
fn the_offline_time_is_chosen_once_for_watch_and_the_window_and_checked() {
    require_secret_service();
    let dir = tempfile::tempdir().unwrap();
    let fh = Farmhook::new(dir.path(), "offline-after");
    let low = fh.run(&["printers", "offline-after", "2"]);
    assert_eq!(low.code, 2, "{}", low.stderr);
    assert!(
        low.stderr.contains("5..=3600") || low.stderr.contains("5"),
        "{}",
        low.stderr
    );
    fh.ok(&["printers", "offline-after", "20"]);
    let status: serde_json::Value =
        serde_json::from_str(&fh.ok(&["status", "--json"]).stdout).unwrap();
    assert_eq!(status["printers"]["offline_after_s"], 20, "{status}");
    assert_eq!(status["printers"]["count"], 0, "{status}");
    let files = all_file_bytes(dir.path());
    assert!(contains(&files, "\"printer_offline_after_s\": 20"));
}

/// Started with no printer, `watch` waits and takes one added meanwhile;
/// a second `watch` of the same profile waits rather than deliver every
/// event twice, and takes over when the first stops.
#[test]
fn watch_waits_for_printers_takes_new_ones_and_only_one_watch_watches() {
    require_secret_service();
    let dir = tempfile::tempdir().unwrap();
    let fh = Farmhook::new(dir.path(), "watch-none");
    let spawn = || {
        let mut child = fh
            .command(&["watch", "--json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = lines_of(child.stdout.take().unwrap());
        let notes = lines_of(child.stderr.take().unwrap());
        (child, lines, notes)
    };
    let (mut first, first_lines, first_notes) = spawn();
    wait_for_line(&first_notes, "printers add");
    add_unreachable_octoprint(&fh);
    // Should it not come (it failed so twice in about thirty loaded runs,
    // not reproduced since), what the watch said on stderr tells why.
    let line = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        wait_for_line(&first_lines, "\"printer\":\"Prusa\"")
    }))
    .unwrap_or_else(|_| {
        let notes: Vec<String> = first_notes.try_iter().collect();
        panic!(
            "the first watch did not take the new printer: {:?}; its notes: {notes:#?}",
            first.try_wait()
        )
    });
    assert!(line.contains("\"link\""), "{line}");

    let (mut second, second_lines, second_notes) = spawn();
    wait_for_line(&second_notes, "waiting, to take over");
    assert!(
        second_lines.recv_timeout(Duration::from_secs(2)).is_err(),
        "the second watch must not watch too"
    );
    stop(&mut first);
    let took_over = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        wait_for_line(&second_lines, "\"printer\":\"Prusa\"")
    }));
    let Ok(line) = took_over else {
        let notes: Vec<String> = second_notes.try_iter().collect();
        let state = std::fs::read_to_string(
            dir.path()
                .join("profiles")
                .join(format!("{}.printers.json", fh.profile)),
        );
        panic!(
            "the second watch did not take over: {:?}; its notes: {notes:#?}; state: {state:?}",
            second.try_wait()
        );
    };
    assert!(line.contains("\"link\""), "{line}");
    stop(&mut second);
}

/// Adds "Prusa", an OctoPrint on port 9 where nothing listens: watch must
/// report it unreachable and keep trying, not die of it.
fn add_unreachable_octoprint(fh: &Farmhook) {
    let added = fh.run_with_stdin(
        &[
            "printers",
            "add",
            "octoprint",
            "--name",
            "Prusa",
            "--url",
            "http://127.0.0.1:9",
            "--api-key",
            "-",
            "--no-check",
        ],
        KEY,
    );
    assert_eq!(added.code, 0, "{}", added.stderr);
}

/// Each line a child writes, as it comes.
fn lines_of(pipe: impl std::io::Read + Send + 'static) -> std::sync::mpsc::Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn wait_for_line(lines: &std::sync::mpsc::Receiver<String>, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match lines.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return line,
            Ok(line) => seen.push(line),
            Err(_) => break,
        }
    }
    panic!("no line with {needle:?}; saw: {seen:#?}");
}

/// SIGTERM, and the clean exit that must follow.
fn stop(child: &mut std::process::Child) {
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{status:?}");
            return;
        }
        assert!(
            Instant::now() < deadline,
            "watch did not stop after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn watch_reports_each_printer_and_stops_cleanly_on_sigterm() {
    require_secret_service();
    let dir = tempfile::tempdir().unwrap();
    let fh = Farmhook::new(dir.path(), "watch-term");
    add_unreachable_octoprint(&fh);
    let mut child = fh
        .command(&["watch", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let line: serde_json::Value = serde_json::from_str(&first).unwrap();
    assert_eq!(line["printer"], "Prusa", "{first}");
    assert!(line["link"].is_string(), "{first}");
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "watch did not stop after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(status.success(), "{status:?}: {stderr}");
    assert!(stderr.contains("stopping"), "{stderr}");
    // What `printers list` shows once nobody watches.
    let list = fh.ok(&["printers", "list"]);
    assert!(list.stdout.contains("not watched"), "{}", list.stdout);
    assert!(!contains(&all_file_bytes(dir.path()), KEY));
}

/// Moonraker behind TLS (`https://`, so `wss://` for its websocket), as
/// behind a reverse proxy: a certificate this computer does not trust is
/// refused in words that say what to do, and nothing is added; once its CA
/// is trusted (here through SSL_CERT_FILE, as the system's certificates
/// would) the printer is checked over `wss://`, added and tested.
#[test]
fn moonraker_over_wss_is_checked_with_the_systems_trust_and_an_untrusted_certificate_is_explained()
{
    require_secret_service();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let stand_in = runtime.block_on(MoonrakerStandIn::start_tls(None));
    assert!(stand_in.base.starts_with("https://"), "{}", stand_in.base);
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("proxy-ca.pem");
    std::fs::write(&ca, stand_in.ca_pem.as_deref().unwrap()).unwrap();
    // A trust store of its own holding only some other authority, so the
    // machine's own certificates cannot matter either way.
    let other = {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["other.example".into()]).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Some other authority");
        params.self_signed(&key).unwrap()
    };
    let other_ca = dir.path().join("other-ca.pem");
    std::fs::write(&other_ca, other.pem()).unwrap();
    let fh = Farmhook::new(dir.path(), "printers-wss");
    let add = [
        "printers",
        "add",
        "moonraker",
        "--name",
        "Voron TLS",
        "--url",
        &stand_in.base,
    ];

    let refused = fh
        .clone()
        .env("SSL_CERT_FILE", other_ca.to_str().unwrap())
        .run(&add);
    assert_ne!(refused.code, 0, "{}", refused.stdout);
    assert!(
        refused
            .stderr
            .contains("not signed by an authority this computer trusts"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("SSL_CERT_FILE"),
        "{}",
        refused.stderr
    );
    let list = fh.ok(&["printers", "list", "--json"]);
    assert_eq!(list.stdout.trim(), "", "nothing added: {}", list.stdout);

    let trusting = fh.clone().env("SSL_CERT_FILE", ca.to_str().unwrap());
    let added = trusting.run(&add);
    assert_eq!(added.code, 0, "{}\n{}", added.stdout, added.stderr);
    assert!(
        !stand_in.requests("printer.objects.subscribe").is_empty(),
        "the check subscribed over wss"
    );
    let tested = trusting.run(&["printers", "test", "Voron TLS"]);
    assert_eq!(tested.code, 0, "{}\n{}", tested.stdout, tested.stderr);
    assert!(tested.stdout.contains("idle"), "{}", tested.stdout);
    drop(stand_in);
    drop(runtime);
}
