//! Shared by the integration tests: run the real `farmhook` binary against a
//! temp config dir and the real Secret Service that scripts/test.sh starts.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Fails with a clear sentence when the tests run outside scripts/test.sh.
pub fn require_secret_service() {
    assert!(
        std::env::var_os("FARMHOOK_TEST_SECRET_SERVICE").is_some(),
        "these tests use a real Secret Service: run them with `bash scripts/test.sh` \
         (it starts a private D-Bus session with gnome-keyring)"
    );
}

/// A profile name no other test uses, so tests can share one keyring.
pub fn unique_profile(tag: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// The binary with a given config dir and profile.
#[derive(Clone)]
pub struct Farmhook {
    pub config_dir: PathBuf,
    pub profile: String,
    pub envs: Vec<(String, String)>,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Farmhook {
    pub fn new(config_dir: &Path, tag: &str) -> Self {
        Farmhook {
            config_dir: config_dir.to_path_buf(),
            profile: unique_profile(tag),
            envs: Vec::new(),
        }
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.envs.push((key.into(), value.into()));
        self
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_farmhook"));
        cmd.arg("--profile")
            .arg(&self.profile)
            .arg("--config-dir")
            .arg(&self.config_dir)
            .args(args)
            .env_remove("FARMHOOK_DISCORD_API_BASE");
        for (k, v) in &self.envs {
            cmd.env(k, v);
        }
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with_stdin(args, "")
    }

    pub fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Run {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the farmhook binary starts");
        child
            .stdin
            .take()
            .expect("stdin is piped")
            .write_all(stdin.as_bytes())
            .expect("stdin accepts the value");
        let Output {
            status,
            stdout,
            stderr,
        } = child.wait_with_output().expect("farmhook finishes");
        Run {
            code: status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        }
    }

    /// Runs and insists on exit code 0.
    pub fn ok(&self, args: &[&str]) -> Run {
        let run = self.run(args);
        assert_eq!(
            run.code, 0,
            "farmhook {args:?} failed:\n{}\n{}",
            run.stdout, run.stderr
        );
        run
    }
}

/// Every file under `dir`, read as bytes, joined: for "no secret on disk".
pub fn all_file_bytes(dir: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                out.extend(bytes);
            }
        }
    }
    out
}

pub fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// A private D-Bus session bus that offers no services at all (no
/// activation directories), so the Secret Service is absent from it.
pub struct BareBus {
    child: std::process::Child,
    _dir: tempfile::TempDir,
    pub address: String,
}

impl BareBus {
    pub fn start() -> BareBus {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = dir.path().join("bus.conf");
        std::fs::write(
            &config,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={}</listen>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>"#,
                dir.path().display()
            ),
        )
        .expect("bus config written");
        let mut child = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .arg("--nofork")
            .arg("--print-address=1")
            .stdout(Stdio::piped())
            .spawn()
            .expect("dbus-daemon starts (apt-get install dbus)");
        let mut line = String::new();
        use std::io::BufRead;
        std::io::BufReader::new(child.stdout.take().expect("stdout piped"))
            .read_line(&mut line)
            .expect("dbus-daemon prints its address");
        BareBus {
            child,
            _dir: dir,
            address: line.trim().to_string(),
        }
    }
}

impl Drop for BareBus {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

pub mod discord_stand_in;
pub mod endpoint;
pub mod moonraker_stand_in;
pub mod mosquitto;
pub mod octoprint;
pub mod pushover_stand_in;
pub mod slack_stand_in;
pub mod source_run;
pub mod telegram_stand_in;
pub mod tls;
