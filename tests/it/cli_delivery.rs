//! `farmhook test-fire`, `discord verify` and `receive`, as a user runs them:
//! the real binary, a real Secret Service, the Discord stand-in and
//! farmhook's own receiver on loopback.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use crate::support::discord_stand_in::DiscordStandIn;
use crate::support::{Farmhook, require_secret_service};

/// `farmhook receive --port 0` in the background; killed on drop.
struct Receiver {
    child: std::process::Child,
    url: String,
    stdout: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Receiver {
    fn start(fh: &Farmhook) -> Receiver {
        let mut child = fh
            .command(&["receive", "--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        // The note that an API-base override is in force may come first.
        while !first.contains("receiving on") {
            first.clear();
            assert!(stderr.read_line(&mut first).unwrap() > 0, "no address");
        }
        // Keep reading so the receiver never writes into a closed pipe.
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                eprintln!("receiver: {line}");
            }
        });
        let url = first
            .split_whitespace()
            .find(|w| w.starts_with("http://127.0.0.1:"))
            .unwrap_or_else(|| panic!("no URL in {first:?}"))
            .to_string();
        let stdout = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let sink = stdout.clone();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        Receiver { child, url, stdout }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn test_fire_to_all_delivers_to_discord_and_the_receiver_one_json_line_each() {
    require_secret_service();
    let stand_in = DiscordStandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    let fh =
        Farmhook::new(dir.path(), "fire").env("FARMHOOK_DISCORD_API_BASE", &stand_in.api_base());
    let discord_url = stand_in.webhook_url();
    let token = discord_url.rsplit('/').next().unwrap().to_string();
    assert_eq!(
        fh.run_with_stdin(&["discord", "set-url", "-"], &discord_url)
            .code,
        0
    );
    fh.ok(&["plan", "commercial"]);
    fh.ok(&["webhook", "key", "generate"]);
    fh.ok(&["webhook", "signing", "generate"]);
    let receiver = Receiver::start(&fh);
    fh.ok(&["webhook", "set-url", &receiver.url]);

    let fire = tokio::task::spawn_blocking({
        let fh = fh.clone();
        move || fh.run(&["test-fire", "job.failed", "--to", "all", "--json"])
    })
    .await
    .unwrap();
    assert_eq!(fire.code, 0, "{}\n{}", fire.stdout, fire.stderr);
    let lines: Vec<serde_json::Value> = fire
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{}", fire.stdout);
    let mut destinations: Vec<_> = lines
        .iter()
        .map(|l| l["destination"].as_str().unwrap().to_string())
        .collect();
    destinations.sort();
    assert_eq!(destinations, ["discord", "webhook"]);
    for line in &lines {
        assert_eq!(line["event"], "job.failed");
        assert_eq!(line["outcome"], "delivered");
        assert_eq!(line["attempts"], 1);
        assert!(line["event_id"].as_str().unwrap().starts_with("evt_"));
        assert!(line["latency_ms"].is_u64());
        assert!(line["error"].is_null());
        for key in [
            "destination",
            "event",
            "event_id",
            "outcome",
            "status",
            "attempts",
            "latency_ms",
            "error",
        ] {
            assert!(line.get(key).is_some(), "missing {key}");
        }
    }
    let webhook_line = lines
        .iter()
        .find(|l| l["destination"] == "webhook")
        .unwrap();
    assert_eq!(webhook_line["status"], 200);
    assert_eq!(
        lines
            .iter()
            .find(|l| l["destination"] == "discord")
            .unwrap()["status"],
        204
    );
    assert_eq!(stand_in.received().len(), 1);

    // The receiver checked the key and the signature.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let out = receiver.stdout.lock().unwrap().clone();
        if out.contains("accepted") {
            assert!(out.contains("key ok, signature ok"), "{out}");
            assert!(out.contains(webhook_line["event_id"].as_str().unwrap()));
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the receiver printed nothing: {out}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // No secret in anything printed.
    let key = fh
        .ok(&["webhook", "key", "show", "--reveal"])
        .stdout
        .trim()
        .to_string();
    let printed = format!(
        "{}{}{}",
        fire.stdout,
        fire.stderr,
        receiver.stdout.lock().unwrap()
    );
    assert!(!printed.contains(&key) && !printed.contains(&token));
}

#[tokio::test(flavor = "multi_thread")]
async fn test_fire_says_what_is_missing_and_a_deleted_webhook_exits_1() {
    require_secret_service();
    let stand_in = DiscordStandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    let fh = Farmhook::new(dir.path(), "fire-bad")
        .env("FARMHOOK_DISCORD_API_BASE", &stand_in.api_base());

    let nothing = fh.run(&["test-fire"]);
    assert_eq!(nothing.code, 2);
    assert!(
        nothing.stderr.contains("nothing to test"),
        "{}",
        nothing.stderr
    );

    fh.ok(&["webhook", "set-url", "https://hooks.example.com/in"]);
    let free = fh.run(&["test-fire", "--to", "webhook"]);
    assert_eq!(free.code, 2);
    assert!(free.stderr.contains("Commercial"), "{}", free.stderr);
    let unknown = fh.run(&["test-fire", "job.exploded"]);
    assert_eq!(unknown.code, 2);

    let url = stand_in.webhook_url();
    assert_eq!(
        fh.run_with_stdin(&["discord", "set-url", "-"], &url).code,
        0
    );
    let fh2 = fh.clone();
    let verify = tokio::task::spawn_blocking(move || fh2.run(&["discord", "verify"]))
        .await
        .unwrap();
    assert_eq!(verify.code, 0, "{}", verify.stderr);
    assert!(
        verify.stdout.contains("name:") && verify.stdout.contains("channel:"),
        "{}",
        verify.stdout
    );

    stand_in.delete_webhook(&url);
    let fh3 = fh.clone();
    let (fire, verify) = tokio::task::spawn_blocking(move || {
        (
            fh3.run(&["test-fire", "--to", "discord", "--json"]),
            fh3.run(&["discord", "verify"]),
        )
    })
    .await
    .unwrap();
    assert_eq!(fire.code, 1, "{}{}", fire.stdout, fire.stderr);
    let line: serde_json::Value = serde_json::from_str(fire.stdout.trim()).unwrap();
    assert_eq!(line["outcome"], "failed");
    assert_eq!(line["status"], 404);
    assert!(line["error"].as_str().unwrap().contains("deleted"));
    assert_eq!(verify.code, 1);
    assert!(verify.stderr.contains("deleted"), "{}", verify.stderr);
    // The pause outlives the process: status shows it.
    let status = fh.ok(&["status"]).stdout;
    assert!(status.contains("paused"), "{status}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_endpoint_that_echoes_the_key_gets_nothing_written_down() {
    use crate::support::endpoint::{Behaviour, Endpoint};
    require_secret_service();
    let endpoint = Endpoint::start(Behaviour::EchoSecrets { status: 401 }).await;
    let dir = tempfile::tempdir().unwrap();
    let fh = Farmhook::new(dir.path(), "echo");
    fh.ok(&["plan", "commercial"]);
    fh.ok(&["webhook", "key", "generate"]);
    fh.ok(&["webhook", "signing", "generate"]);
    let url = format!(
        "{}/ha-token-0123456789?token=query-secret-987654",
        endpoint.url()
    );
    let set = fh.run_with_stdin(&["webhook", "set-url", "-"], &url);
    assert_eq!(set.code, 0, "{}", set.stderr);
    let key = fh
        .ok(&["webhook", "key", "show", "--reveal"])
        .stdout
        .trim()
        .to_string();
    let signing = fh
        .ok(&["webhook", "signing", "show", "--reveal"])
        .stdout
        .trim()
        .to_string();

    let fh2 = fh.clone();
    let fire = tokio::task::spawn_blocking(move || {
        fh2.run(&["test-fire", "job.failed", "--to", "webhook", "--json"])
    })
    .await
    .unwrap();
    assert_eq!(fire.code, 1, "{}{}", fire.stdout, fire.stderr);
    let line: serde_json::Value = serde_json::from_str(fire.stdout.trim()).unwrap();
    assert_eq!(line["status"], 401);
    assert!(
        line["error"].as_str().unwrap().contains("API key"),
        "{line}"
    );
    // The endpoint got the key and repeated it back...
    assert_eq!(
        endpoint.requests()[0].header("x-api-key"),
        Some(key.as_str())
    );
    // ...yet neither the answer, the health journal, nor status holds it.
    let status = fh.ok(&["status", "--json"]).stdout;
    let json: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(
        json["webhook"]["url"],
        format!("{}/…", endpoint.url().trim_end_matches("/hook"))
    );
    let files = crate::support::all_file_bytes(dir.path());
    assert!(!files.is_empty(), "the health journal was written");
    let printed = format!("{}{}{status}", fire.stdout, fire.stderr);
    for secret in [
        key.as_str(),
        signing.as_str(),
        "ha-token-0123456789",
        "query-secret-987654",
    ] {
        assert!(!printed.contains(secret), "printed: {}…", &secret[..6]);
        assert!(
            !crate::support::contains(&files, secret),
            "on disk: {}…",
            &secret[..6]
        );
    }
}

/// A "proxy" on loopback that only counts who connects to it and what they
/// asked for first (`CONNECT host:443 …` or `POST http://…`), then refuses.
struct CountingProxy {
    url: String,
    first_lines: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    _task: tokio::task::JoinHandle<()>,
}

impl CountingProxy {
    async fn start() -> CountingProxy {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let first_lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = first_lines.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let seen = seen.clone();
                tokio::spawn(async move {
                    let mut stream = tokio::io::BufReader::new(stream);
                    let mut line = String::new();
                    stream.read_line(&mut line).await.ok();
                    seen.lock().unwrap().push(line.trim().to_string());
                    stream
                        .get_mut()
                        .write_all(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                        .await
                        .ok();
                });
            }
        });
        CountingProxy {
            url,
            first_lines,
            _task: task,
        }
    }

    fn first_lines(&self) -> Vec<String> {
        self.first_lines.lock().unwrap().clone()
    }

    /// Every variable a proxy is taken from, pointing here.
    fn env(&self, fh: Farmhook) -> Farmhook {
        [
            "http_proxy",
            "HTTP_PROXY",
            "https_proxy",
            "HTTPS_PROXY",
            "all_proxy",
            "ALL_PROXY",
        ]
        .into_iter()
        .fold(fh, |fh, name| fh.env(name, &self.url))
        .env("no_proxy", "")
        .env("NO_PROXY", "")
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_loopback_delivery_never_goes_through_the_proxy_in_the_environment() {
    require_secret_service();
    let proxy = CountingProxy::start().await;
    let endpoint =
        crate::support::endpoint::Endpoint::start(crate::support::endpoint::Behaviour::Status(200))
            .await;
    let dir = tempfile::tempdir().unwrap();
    let fh = proxy.env(Farmhook::new(dir.path(), "proxy"));
    fh.ok(&["plan", "commercial"]);
    fh.ok(&["webhook", "key", "generate"]);
    fh.ok(&["webhook", "set-url", &endpoint.url()]);
    let fh2 = fh.clone();
    let fire = tokio::task::spawn_blocking(move || {
        fh2.run(&["test-fire", "job.failed", "--to", "webhook", "--json"])
    })
    .await
    .unwrap();
    assert_eq!(fire.code, 0, "{}\n{}", fire.stdout, fire.stderr);
    assert_eq!(endpoint.hits(), 1, "the endpoint got the delivery directly");
    assert_eq!(
        proxy.first_lines(),
        Vec::<String>::new(),
        "the proxy saw a loopback delivery"
    );

    // A destination on the internet still goes through the proxy: Verify
    // asks discord.com, and the proxy is asked to connect there (and
    // refuses, so nothing leaves this machine).
    let stand_in = DiscordStandIn::start().await;
    assert_eq!(
        fh.run_with_stdin(&["discord", "set-url", "-"], &stand_in.webhook_url())
            .code,
        0
    );
    let fh3 = fh.clone();
    let verify = tokio::task::spawn_blocking(move || fh3.run(&["discord", "verify"]))
        .await
        .unwrap();
    assert_eq!(verify.code, 1, "{}\n{}", verify.stdout, verify.stderr);
    let lines = proxy.first_lines();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("CONNECT discord.com:443")),
        "{lines:?}"
    );
    assert!(stand_in.requests().is_empty());
}
