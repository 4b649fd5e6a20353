//! `farmhook printers …` and `farmhook watch` through the real binary: what
//! is refused and why, what lands in the settings file (never a secret),
//! and a watch that stops cleanly on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

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

#[test]
fn watch_without_printers_says_how_to_add_one() {
    require_secret_service();
    let dir = tempfile::tempdir().unwrap();
    let fh = Farmhook::new(dir.path(), "watch-none");
    let run = fh.run(&["watch"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("printers add"), "{}", run.stderr);
}

#[test]
fn watch_reports_each_printer_and_stops_cleanly_on_sigterm() {
    require_secret_service();
    let dir = tempfile::tempdir().unwrap();
    let fh = Farmhook::new(dir.path(), "watch-term");
    // Nothing listens on port 9: the printer is unreachable, which watch
    // must report and keep trying, not die of.
    fh.run_with_stdin(
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
