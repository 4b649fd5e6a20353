//! The command line when things around it are careless or hostile, as a
//! user meets it: an API-base override that would send in the clear to
//! another host, a stdout nobody reads, and clients that try to tie up
//! `farmhook receive`. The real binary, the real Secret Service, loopback
//! stand-ins.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::discord_stand_in::DiscordStandIn;
use crate::support::{Farmhook, Run, require_secret_service};
use farmhook::engine::receiver::ReceiverLimits;

/// How long a condition may take before the test fails.
const DEADLINE: Duration = Duration::from_secs(30);

/// Not loopback, and never resolvable (RFC 6761), so even a regression
/// could not send anything anywhere.
const UNSAFE_BASE: &str = "http://farmhook-stand-in.invalid/api";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// The same profile and config dir with other environment variables.
fn with_envs(fh: &Farmhook, envs: &[(&str, &str)]) -> Farmhook {
    Farmhook {
        config_dir: fh.config_dir.clone(),
        profile: fh.profile.clone(),
        envs: envs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

/// Lines of stderr that announce an override.
fn override_notes(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.contains("traffic goes to"))
        .collect()
}

#[test]
fn an_unsafe_api_base_stops_every_command_with_the_reason_and_sends_nothing() {
    require_secret_service();
    let rt = runtime();
    let stand_in = rt.block_on(DiscordStandIn::start());
    let dir = tempfile::tempdir().unwrap();
    let fh = Farmhook::new(dir.path(), "unsafe-base");
    let set = fh.run_with_stdin(&["discord", "set-url", "-"], &stand_in.webhook_url());
    assert_eq!(set.code, 0, "{}", set.stderr);

    let unsafe_discord = with_envs(&fh, &[("FARMHOOK_DISCORD_API_BASE", UNSAFE_BASE)]);
    for args in [
        &["test-fire", "--to", "discord"][..],
        &["discord", "verify"],
        &["status"],
        &["events", "list"],
    ] {
        let run = unsafe_discord.run(args);
        assert_eq!(run.code, 2, "{args:?}: {}{}", run.stdout, run.stderr);
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
        assert!(
            run.stderr.contains(
                "FARMHOOK_DISCORD_API_BASE cannot be used: plain http:// is allowed only to this machine (127.0.0.1, ::1, localhost), and farmhook-stand-in.invalid is not"
            ),
            "{args:?}: {}",
            run.stderr
        );
    }
    // A variable for a channel that has no sender yet is checked the same way.
    let unsafe_slack = with_envs(&fh, &[("FARMHOOK_SLACK_API_BASE", "http://10.1.2.3")]);
    let run = unsafe_slack.run(&["status"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("FARMHOOK_SLACK_API_BASE cannot be used"),
        "{}",
        run.stderr
    );

    // Nothing was attempted: no delivery in the health figures, none at the stand-in.
    let status = fh.ok(&["status"]).stdout;
    assert!(
        status.contains("Discord: no deliveries in the last hour"),
        "{status}"
    );
    assert!(stand_in.requests().is_empty());
}

#[test]
fn a_loopback_api_base_is_announced_in_exactly_one_stderr_line() {
    require_secret_service();
    let rt = runtime();
    let stand_in = rt.block_on(DiscordStandIn::start());
    let dir = tempfile::tempdir().unwrap();
    let fh = Farmhook::new(dir.path(), "loopback-base");
    let base = stand_in.api_base();
    let stood_in = with_envs(&fh, &[("FARMHOOK_DISCORD_API_BASE", &format!("{base}/"))]);
    let expected =
        format!("farmhook: note: Discord traffic goes to {base} (FARMHOOK_DISCORD_API_BASE)");

    let set = stood_in.run_with_stdin(&["discord", "set-url", "-"], &stand_in.webhook_url());
    assert_eq!(set.code, 0, "{}", set.stderr);
    assert_eq!(override_notes(&set.stderr), [expected.as_str()]);
    for args in [
        &["status"][..],
        &["events", "list"],
        &["test-fire", "--to", "discord", "--json"],
    ] {
        let run = stood_in.ok(args);
        assert_eq!(
            override_notes(&run.stderr),
            [expected.as_str()],
            "{args:?}: {}",
            run.stderr
        );
        assert!(!run.stdout.contains("traffic goes to"));
    }
    assert_eq!(stand_in.received().len(), 1);

    // Unset, nothing is said.
    for args in [&["status"][..], &["events", "list"]] {
        let run = fh.ok(args);
        assert!(override_notes(&run.stderr).is_empty(), "{}", run.stderr);
    }
}

/// Runs with stdout a pipe whose reader is already gone: every write to it
/// fails with EPIPE, as after `| head -0`.
fn run_with_closed_stdout(fh: &Farmhook, args: &[&str]) -> Run {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let out = fh
        .command(args)
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("farmhook runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::new(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[track_caller]
fn assert_ended_quietly(run: &Run, args: &[&str]) {
    assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{args:?}: {}", run.stderr);
}

#[test]
fn a_closed_stdout_ends_every_command_quietly() {
    require_secret_service();
    let rt = runtime();
    let stand_in = rt.block_on(DiscordStandIn::start());
    let dir = tempfile::tempdir().unwrap();
    let fh = Farmhook::new(dir.path(), "closed-stdout")
        .env("FARMHOOK_DISCORD_API_BASE", &stand_in.api_base());
    let set = fh.run_with_stdin(&["discord", "set-url", "-"], &stand_in.webhook_url());
    assert_eq!(set.code, 0, "{}", set.stderr);
    fh.ok(&["plan", "commercial"]);
    fh.ok(&["webhook", "key", "generate"]);
    fh.ok(&["webhook", "signing", "generate"]);

    for args in [
        &["status"][..],
        &["status", "--json"],
        &["events", "list"],
        &["events", "enable", "all"],
        &["plan", "commercial"],
        &["discord", "enable"],
        &["discord", "verify"],
        &["webhook", "key", "show"],
        &["webhook", "key", "show", "--reveal"],
        &["webhook", "signing", "show", "--reveal"],
        &["test-fire", "--to", "discord"],
        &["test-fire", "--to", "discord", "--json"],
        &[
            "simulate",
            "--printers",
            "3",
            "--speed",
            "100",
            "--duration",
            "2",
            "--json",
        ],
    ] {
        assert_ended_quietly(&run_with_closed_stdout(&fh, args), args);
    }
    // The test deliveries were made all the same.
    assert!(stand_in.received().len() >= 2);

    // `>&-`: no stdout at all.
    let closed = fh
        .command(&[])
        .get_args()
        .map(|a| a.to_os_string())
        .collect::<Vec<_>>();
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(r#"exec "$0" "$@" status >&-"#)
        .arg(env!("CARGO_BIN_EXE_farmhook"))
        .args(&closed)
        .env("FARMHOOK_DISCORD_API_BASE", stand_in.api_base())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    // `receive` ends quietly once a delivery finds nobody reading its report.
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let mut receiver = Receiver::start_with_stdout(&fh, writer.into());
    fh.ok(&["webhook", "set-url", &receiver.url]);
    fh.ok(&["test-fire", "--to", "webhook"]);
    let code = receiver.wait_for_exit();
    assert_eq!(code, Some(0), "{}", receiver.stderr());
    assert!(
        !receiver.stderr().contains("panicked"),
        "{}",
        receiver.stderr()
    );
}

/// `farmhook receive --port 0` in the background; killed on drop.
struct Receiver {
    child: Child,
    url: String,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
}

impl Receiver {
    fn start(fh: &Farmhook) -> Receiver {
        Self::start_with_stdout(fh, Stdio::piped())
    }

    fn start_with_stdout(fh: &Farmhook, stdout: Stdio) -> Receiver {
        let mut child = fh
            .command(&["receive", "--port", "0"])
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut first = String::new();
        // The override note, if any, comes first.
        while !first.contains("receiving on") {
            first.clear();
            assert!(stderr.read_line(&mut first).unwrap() > 0, "no address");
        }
        let url = first
            .split_whitespace()
            .find(|w| w.starts_with("http://127.0.0.1:"))
            .unwrap_or_else(|| panic!("no URL in {first:?}"))
            .to_string();
        let err_sink = Arc::new(Mutex::new(String::new()));
        let sink = err_sink.clone();
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        let out_sink = Arc::new(Mutex::new(String::new()));
        if let Some(out) = child.stdout.take() {
            let sink = out_sink.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    let mut s = sink.lock().unwrap();
                    s.push_str(&line);
                    s.push('\n');
                }
            });
        }
        Receiver {
            child,
            url,
            stdout: out_sink,
            stderr: err_sink,
        }
    }

    fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    fn addr(&self) -> String {
        self.url
            .trim_start_matches("http://")
            .trim_end_matches("/hook")
            .to_string()
    }

    /// Steps until the report on stdout holds `text`.
    #[track_caller]
    fn wait_for_stdout(&self, text: &str) {
        let start = Instant::now();
        while !self.stdout().contains(text) {
            assert!(
                start.elapsed() < DEADLINE,
                "the receiver never printed {text:?}: {}\n{}",
                self.stdout(),
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the receiver to end by itself; its exit code.
    fn wait_for_exit(&mut self) -> Option<i32> {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            assert!(
                start.elapsed() < DEADLINE,
                "the receiver is still running: {}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// A profile with a key, ready for `receive`.
fn receiving_profile(tag: &str, dir: &std::path::Path) -> Farmhook {
    let fh = Farmhook::new(dir, tag);
    fh.ok(&["plan", "commercial"]);
    fh.ok(&["webhook", "key", "generate"]);
    fh
}

#[test]
fn a_client_that_never_finishes_its_headers_is_cut_off() {
    require_secret_service();
    let dir = tempfile::tempdir().unwrap();
    let fh = receiving_profile("slowloris", dir.path());
    let mut receiver = Receiver::start(&fh);

    let mut slow = TcpStream::connect(receiver.addr()).unwrap();
    slow.write_all(b"POST /hook HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        .unwrap();
    slow.set_read_timeout(Some(DEADLINE)).unwrap();
    let start = Instant::now();
    let mut answer = Vec::new();
    // Whatever the server says, it must then close: EOF or a reset, never our timeout.
    let ended = loop {
        let mut buf = [0u8; 512];
        match slow.read(&mut buf) {
            Ok(0) => break true,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break true,
            Err(_) => break false,
        }
    };
    assert!(
        ended,
        "still open after {:?}; got {:?}",
        start.elapsed(),
        String::from_utf8_lossy(&answer)
    );
    assert!(
        start.elapsed() >= ReceiverLimits::default().header_read_timeout / 2,
        "cut off before the header timeout"
    );
    // The receiver goes on working.
    fh.ok(&["webhook", "set-url", &receiver.url]);
    fh.ok(&["test-fire", "--to", "webhook"]);
    receiver.wait_for_stdout("accepted");
    assert!(receiver.is_running());
    assert!(!receiver.stderr().contains("panicked"));
}

#[test]
fn idle_connections_beyond_the_limit_do_not_keep_a_delivery_out() {
    require_secret_service();
    let dir = tempfile::tempdir().unwrap();
    let fh = receiving_profile("idle-flood", dir.path());
    let receiver = Receiver::start(&fh);
    fh.ok(&["webhook", "set-url", &receiver.url]);

    let limit = ReceiverLimits::default().max_connections;
    let idle: Vec<TcpStream> = (0..limit + 8)
        .map(|_| TcpStream::connect(receiver.addr()).unwrap())
        .collect();
    let fire = fh.run(&["test-fire", "--to", "webhook", "--json"]);
    assert_eq!(fire.code, 0, "{}{}", fire.stdout, fire.stderr);
    let line: serde_json::Value = serde_json::from_str(fire.stdout.trim()).unwrap();
    assert_eq!(line["outcome"], "delivered");
    assert_eq!(line["attempts"], 1, "{line}");
    receiver.wait_for_stdout("accepted");
    drop(idle);
}

#[test]
fn an_extreme_signature_timestamp_is_refused_without_a_panic() {
    require_secret_service();
    let dir = tempfile::tempdir().unwrap();
    let fh = receiving_profile("extreme-ts", dir.path());
    fh.ok(&["webhook", "signing", "generate"]);
    let key = fh
        .ok(&["webhook", "key", "show", "--reveal"])
        .stdout
        .trim()
        .to_string();
    let mut receiver = Receiver::start(&fh);

    let body = r#"{"type":"job.failed"}"#;
    let request = format!(
        "POST /hook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         X-API-Key: {key}\r\nwebhook-id: evt_1\r\nwebhook-timestamp: {}\r\n\
         webhook-signature: v1,AAAA\r\nContent-Length: {}\r\n\r\n{body}",
        i64::MIN,
        body.len()
    );
    let mut client = TcpStream::connect(receiver.addr()).unwrap();
    client.set_read_timeout(Some(DEADLINE)).unwrap();
    client.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    client.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(answer.contains("stale"), "{answer}");
    receiver.wait_for_stdout("REFUSED");
    assert!(receiver.is_running());
    assert!(
        !receiver.stderr().contains("panicked"),
        "{}",
        receiver.stderr()
    );
}

#[test]
fn hints_show_the_stdin_form_for_urls_that_carry_a_secret() {
    require_secret_service();
    let dir = tempfile::tempdir().unwrap();
    let fh = Farmhook::new(dir.path(), "hints");
    for (args, form) in [
        (&["discord", "enable"][..], "`farmhook discord set-url -`"),
        (&["discord", "verify"], "`farmhook discord set-url -`"),
        (&["test-fire"], "`farmhook discord set-url -`"),
        (&["webhook", "enable"], "`farmhook webhook set-url -`"),
    ] {
        let run = fh.run(args);
        assert_eq!(run.code, 2, "{args:?}");
        assert!(run.stderr.contains(form), "{args:?}: {}", run.stderr);
        assert!(!run.stderr.contains("<URL>"), "{args:?}: {}", run.stderr);
    }
    // The form the hint shows works for the endpoint too.
    let set = fh.run_with_stdin(
        &["webhook", "set-url", "-"],
        "https://hooks.example.com/in?token=s3cr3t\n",
    );
    assert_eq!(set.code, 0, "{}", set.stderr);
    assert!(!set.stdout.contains("s3cr3t"), "{}", set.stdout);
}
