//! A real OctoPrint (from PyPI, with its virtual printer) on a loopback
//! port, started once per test binary by `scripts/octoprint.sh` (which
//! caches its venv under target/tmp), and driven through its own REST API
//! as an operator would: upload and print, cancel, disconnect, connect.
//! Tests take [`exclusive`] so only one of them drives the printer at a
//! time; the server ends with the test binary (it watches its stdin).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use serde_json::{Value, json};

/// The API key the test user has (OctoPrint accepts any string we set).
pub const API_KEY: &str = "FarmhookTestKey0123456789abcdefghijklmnopqrstuvwx";
pub const USER: &str = "farm";
/// First start: OctoPrint is Operational about 5 s after it starts.
const START_LIMIT: Duration = Duration::from_secs(60);
/// Prints, cancels and reconnects settle well within this.
const SETTLE_LIMIT: Duration = Duration::from_secs(20);

pub struct OctoPrint {
    /// `http://127.0.0.1:<port>`
    pub base: String,
    pub basedir: PathBuf,
    _server: Mutex<Child>,
}

fn cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("farmhook-test")
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/octoprint.sh")
}

/// Removes basedirs left by test binaries that are gone.
fn sweep_old_basedirs() {
    for entry in std::fs::read_dir(cache_dir())
        .into_iter()
        .flatten()
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(pid) = name.strip_prefix("octoprint-base-")
            && !PathBuf::from(format!("/proc/{pid}")).exists()
        {
            std::fs::remove_dir_all(entry.path()).ok();
        }
    }
}

fn start() -> OctoPrint {
    let ensure = Command::new("bash")
        .arg(script())
        .arg("ensure")
        .env("FARMHOOK_TEST_CACHE", cache_dir())
        .stderr(Stdio::inherit())
        .output()
        .expect("bash runs scripts/octoprint.sh");
    assert!(
        ensure.status.success(),
        "scripts/octoprint.sh could not install OctoPrint (python3-venv and PyPI needed)"
    );
    sweep_old_basedirs();
    let basedir = cache_dir().join(format!("octoprint-base-{}", std::process::id()));
    std::fs::remove_dir_all(&basedir).ok();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port();
    let server = Command::new("bash")
        .arg(script())
        .arg("serve")
        .arg(&basedir)
        .arg(port.to_string())
        .arg(USER)
        .arg(API_KEY)
        .env("FARMHOOK_TEST_CACHE", cache_dir())
        // Held open for the binary's life: when it closes, OctoPrint ends.
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("scripts/octoprint.sh serve starts");
    OctoPrint {
        base: format!("http://127.0.0.1:{port}"),
        basedir,
        _server: Mutex::new(server),
    }
}

/// The shared server (started on first use).
pub fn shared() -> &'static OctoPrint {
    static SERVER: OnceLock<OctoPrint> = OnceLock::new();
    SERVER.get_or_init(start)
}

/// The shared server, for this test alone, connected and idle.
pub async fn exclusive() -> (tokio::sync::MutexGuard<'static, ()>, &'static OctoPrint) {
    static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let turn = TURN.lock().await;
    let server = tokio::task::spawn_blocking(shared)
        .await
        .expect("the OctoPrint server starts");
    server.until_idle(START_LIMIT).await;
    (turn, server)
}

fn client() -> reqwest::Client {
    farmhook::engine::crypto::install();
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("a client")
}

impl OctoPrint {
    /// `GET path` with the API key: status and JSON (Null when none).
    pub async fn get(&self, path: &str) -> (u16, Value) {
        match client()
            .get(format!("{}{path}", self.base))
            .header("X-Api-Key", API_KEY)
            .send()
            .await
        {
            Ok(r) => {
                let status = r.status().as_u16();
                let body = r.bytes().await.unwrap_or_default();
                (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
            }
            Err(_) => (0, Value::Null),
        }
    }

    /// `POST path` with a JSON body and the API key; the status.
    pub async fn post(&self, path: &str, body: Value) -> u16 {
        client()
            .post(format!("{}{path}", self.base))
            .header("X-Api-Key", API_KEY)
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    }

    /// Uploads `gcode` as `name` and prints it at once (`select`, `print`).
    pub async fn print(&self, name: &str, gcode: &str) {
        let boundary = "farmhook-test-boundary-7d3f";
        let mut body = String::new();
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n{gcode}\r\n"
        ));
        for field in ["select", "print"] {
            body.push_str(&format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"\r\n\r\ntrue\r\n"
            ));
        }
        body.push_str(&format!("--{boundary}--\r\n"));
        let status = client()
            .post(format!("{}/api/files/local", self.base))
            .header("X-Api-Key", API_KEY)
            .header(
                "Content-Type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0);
        assert_eq!(status, 201, "OctoPrint took the upload");
    }

    pub async fn cancel(&self) {
        assert_eq!(
            self.post("/api/job", json!({"command": "cancel"})).await,
            204
        );
    }

    /// Sends one G-code line to the printer, as the terminal tab would.
    pub async fn gcode(&self, line: &str) {
        assert_eq!(
            self.post("/api/printer/command", json!({"command": line}))
                .await,
            204
        );
    }

    pub async fn disconnect(&self) {
        assert_eq!(
            self.post("/api/connection", json!({"command": "disconnect"}))
                .await,
            204
        );
    }

    pub async fn connect(&self) {
        assert_eq!(
            self.post(
                "/api/connection",
                json!({"command": "connect", "port": "VIRTUAL", "autoconnect": true})
            )
            .await,
            204
        );
    }

    /// Waits until the printer is connected and neither printing nor
    /// cancelling, putting it there if a failed test left it otherwise.
    pub async fn until_idle(&self, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        let mut last = Value::Null;
        while tokio::time::Instant::now() < deadline {
            let (status, printer) = self.get("/api/printer").await;
            let flag = |f: &str| printer["state"]["flags"][f].as_bool() == Some(true);
            match status {
                200 if flag("operational")
                    && !flag("printing")
                    && !flag("paused")
                    && !flag("cancelling")
                    && !flag("pausing") =>
                {
                    return;
                }
                200 if flag("printing") || flag("paused") => {
                    self.post("/api/job", json!({"command": "cancel"})).await;
                }
                409 => {
                    // Autoconnect runs once at start-up; after a test's
                    // disconnect, connect again.
                    let (_, conn) = self.get("/api/connection").await;
                    if conn["current"]["state"].as_str() == Some("Closed") {
                        self.post(
                            "/api/connection",
                            json!({"command": "connect", "port": "VIRTUAL"}),
                        )
                        .await;
                    }
                }
                _ => {}
            }
            last = printer;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!(
            "OctoPrint at {} was not idle within {} s: {last}; its log is {}",
            self.base,
            limit.as_secs(),
            self.basedir.join("serve.log").display()
        );
    }

    /// Waits until the printer is idle after a print or a cancel.
    pub async fn settle(&self) {
        self.until_idle(SETTLE_LIMIT).await;
    }
}
