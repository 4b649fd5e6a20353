//! Peak memory of `farmhook simulate --printers 500 --speed 50` while both
//! destinations are slow: a Discord stand-in and a custom webhook that each
//! answer after 2 s. Events arrive far faster than they can be sent, so this
//! shows whether the queues are bounded (nothing is asserted; the figure
//! goes in the README).
//!
//! Run inside a Secret Service session (scripts/bench.sh does):
//! `cargo bench --bench burst_memory`. `FARMHOOK_BENCH_BIN` measures
//! another build of the binary (an older one, say) with the same harness.

#[path = "../tests/it/support/mod.rs"]
#[allow(unused_imports)]
mod support;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::endpoint::{Behaviour, Endpoint};

/// How long the farm runs (`FARMHOOK_BENCH_SECONDS` to change it); peak
/// memory is read 5 s after it ends.
const FARM_SECONDS: u64 = 60;
const SLOW: Duration = Duration::from_secs(2);

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        // One slow server plays both: it answers any path after 2 s.
        let slow = Endpoint::start(Behaviour::Slow {
            status: 204,
            delay: SLOW,
        })
        .await;
        let farm_seconds: u64 = std::env::var("FARMHOOK_BENCH_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(FARM_SECONDS);
        let bin = std::env::var("FARMHOOK_BENCH_BIN")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_farmhook").to_string());
        let dir = tempfile::tempdir().expect("temp dir");
        let api_base = slow.url().replace("/hook", "/api");
        let run = |args: &[&str], stdin: &str| {
            let mut child = Command::new(&bin)
                .args(["--profile", "bench-burst", "--config-dir"])
                .arg(dir.path())
                .args(args)
                .env("FARMHOOK_DISCORD_API_BASE", &api_base)
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("farmhook starts");
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(stdin.as_bytes())
                .ok();
            assert!(child.wait().expect("farmhook ends").success(), "{args:?}");
        };
        let token = "T".repeat(68);
        let discord = format!("https://discord.com/api/webhooks/1234567890123456789/{token}");
        run(&["discord", "set-url", "-"], &discord);
        run(&["discord", "enable"], "");
        run(&["plan", "commercial"], "");
        run(&["webhook", "key", "generate"], "");
        run(&["webhook", "set-url", &slow.url()], "");
        run(&["webhook", "enable"], "");
        run(&["events", "enable", "all"], "");

        let mut child = Command::new(&bin)
            .args(["--profile", "bench-burst", "--config-dir"])
            .arg(dir.path())
            .args(["simulate", "--printers", "500", "--speed", "50"])
            .arg("--duration")
            .arg(farm_seconds.to_string())
            .env("FARMHOOK_DISCORD_API_BASE", &api_base)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("simulate starts");
        let status = format!("/proc/{}/status", child.id());
        let started = Instant::now();
        let mut samples = Vec::new();
        while started.elapsed() < Duration::from_secs(farm_seconds + 5) {
            tokio::time::sleep(Duration::from_millis(500)).await;
            if let Some(rss) = kb(&status, "VmRSS:") {
                samples.push(rss);
            }
        }
        let peak = kb(&status, "VmHWM:").unwrap_or(0);
        child.kill().ok();
        child.wait().ok();
        // Samples are 0.5 s apart: RSS after 10 s and at the half-way mark
        // show whether memory keeps growing with the backlog.
        let mb = |i: usize| samples.get(i).copied().unwrap_or(0) as f64 / 1024.0;
        let half = farm_seconds as usize;
        println!(
            "burst memory: peak RSS {:.1} MB (RSS {:.1} MB after 10 s, {:.1} MB after {} s); simulate --printers 500 --speed 50 for {farm_seconds} s, Discord and custom webhook both answering after {} s, {} requests answered",
            peak as f64 / 1024.0,
            mb(19),
            mb(half - 1),
            half / 2,
            SLOW.as_secs(),
            slow.hits()
        );
    });
}

/// A `kB` figure from /proc/<pid>/status.
fn kb(status: &str, field: &str) -> Option<u64> {
    std::fs::read_to_string(status)
        .ok()?
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}
