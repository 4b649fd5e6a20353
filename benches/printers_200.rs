//! 200 Bambu printers watched at once (issue 13's budget for `farmhook
//! watch`: ≤ 40 MB RSS, < 1 % CPU idle), side by side with the Python
//! client the anchors use (`bambulabs-api`, one `Printer` per printer, all
//! in one process), in the same run, against the same broker.
//!
//! - One real mosquitto over TLS plays the 200 printers' brokers: its TLS
//!   listener is on port 8883 (bambulabs-api cannot use another) of a
//!   loopback address of its own; one certificate serves every serial,
//!   pinned by its fingerprint for each printer (`printers add bambu …
//!   --fingerprint … --no-check`). This process publishes every printer's
//!   reports on the broker's plain listener and answers each `pushall`
//!   with the printer's whole state.
//! - Idle: each printer sends a small `push_status` delta (temperatures,
//!   Wi-Fi signal) once a second, spread evenly: 200 reports a second.
//! - Burst: every printer starts a job (RUNNING), and a second later half
//!   of them finish (FINISH) and half fail (FAILED with an error code,
//!   which is also an HMS error by the rules): 400 reports, 500 events.
//! - farmhook: the release binary's `watch`, delivering through the custom
//!   webhook to a loopback endpoint in this process that answers 204 at
//!   once; latency runs from just before the report is handed to the MQTT
//!   client here to the request's arrival at the endpoint. Python: to the
//!   moment its callback sees the report (it delivers nothing), measured
//!   on the wall clock from a stamp in the report; so the comparison is
//!   fair in farmhook's disfavour.
//!
//! Run with `bash scripts/bench-printers.sh` (it makes the Python venv and
//! the private Secret Service this needs). Nothing is asserted.

#[path = "../tests/it/support/mod.rs"]
#[allow(unused_imports)]
mod support;

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::{Value, json};
use support::endpoint::{Behaviour, Endpoint};
use support::mosquitto::{Mosquitto, free_ports};

const PRINTERS: usize = 200;
const ACCESS_CODE: &str = "31415926";
/// The port Bambu printers (and so bambulabs-api) use.
const BAMBU_PORT: u16 = 8883;
/// Each printer's idle report rate.
const REPORT_EVERY: Duration = Duration::from_secs(1);
/// How long idle is measured (`FARMHOOK_BENCH_IDLE_SECONDS`).
const IDLE_SECONDS: u64 = 20;
/// How long the burst is measured, from its first report.
const BURST_WINDOW: Duration = Duration::from_secs(10);
/// How long to wait for every client to connect, or every event to land.
const DEADLINE: Duration = Duration::from_secs(120);
/// An error code that is not a cancel (0x05008030), as in the tests.
const FAILURE_CODE: u64 = 83_918_896;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run());
}

/// One printer as this process plays it.
#[derive(Clone)]
struct Played {
    name: String,
    serial: String,
    /// `gcode_state`, task id and job name, for the answers to `pushall`.
    state: &'static str,
    task: Option<(String, String)>,
}

async fn run() {
    let python = std::env::var("FARMHOOK_BENCH_PYTHON").expect(
        "FARMHOOK_BENCH_PYTHON names the venv's python (scripts/bench-printers.sh sets it)",
    );
    let idle_seconds: u64 = std::env::var("FARMHOOK_BENCH_IDLE_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(IDLE_SECONDS);
    // Another build of the binary (an older one, say) with the same harness.
    let bin: &'static str = match std::env::var("FARMHOOK_BENCH_BIN") {
        Ok(other) => Box::leak(other.into_boxed_str()),
        Err(_) => env!("CARGO_BIN_EXE_farmhook"),
    };
    let hz = clock_ticks();

    let host = broker_host();
    let (_, plain_port) = free_ports(host);
    let serials: Vec<String> = (0..PRINTERS)
        .map(|i| format!("01S00C{:09}", 100 + i))
        .collect();
    let broker = Mosquitto::start_at(host, BAMBU_PORT, plain_port, &serials[0], ACCESS_CODE);
    note_pid(broker.pid());
    let endpoint = Endpoint::start(Behaviour::Status(204)).await;
    let played: Arc<Mutex<Vec<Played>>> = Arc::new(Mutex::new(
        serials
            .iter()
            .enumerate()
            .map(|(i, serial)| Played {
                name: format!("bench-{i:03}"),
                serial: serial.clone(),
                state: "IDLE",
                task: None,
            })
            .collect(),
    ));

    // farmhook's profile: the custom webhook to the endpoint, 200 printers.
    let dir = tempfile::tempdir().expect("temp dir");
    let fh = Cli {
        bin,
        dir: dir.path().to_path_buf(),
    };
    fh.ok(&["plan", "commercial"], "");
    fh.ok(&["webhook", "key", "generate"], "");
    fh.ok(&["webhook", "set-url", &endpoint.url()], "");
    fh.ok(&["webhook", "enable"], "");
    fh.ok(
        &[
            "events",
            "enable",
            "job.started",
            "job.succeeded",
            "job.failed",
            "printer.hms_error",
            "--to",
            "webhook",
        ],
        "",
    );
    let address = format!("{host}:{BAMBU_PORT}");
    let adding = Instant::now();
    for (i, serial) in serials.iter().enumerate() {
        let name = format!("bench-{i:03}");
        fh.ok(
            &[
                "printers",
                "add",
                "bambu",
                "--name",
                &name,
                "--host",
                &address,
                "--serial",
                serial,
                "--fingerprint",
                &broker.fingerprint,
                "--access-code",
                "-",
                "--no-check",
            ],
            ACCESS_CODE,
        );
    }
    let add_seconds = adding.elapsed().as_secs_f64();
    eprintln!("added {PRINTERS} printers one by one in {add_seconds:.1} s");

    // The printers' side: answers pushall, sends the idle reports.
    let printer_side = PrinterSide::start(host, plain_port, played.clone()).await;

    // A profiler's command line to run watch under (`heaptrack -o FILE`,
    // say); the figures are then the profiler's, only its report counts.
    let prefix = std::env::var("FARMHOOK_BENCH_WATCH_PREFIX").unwrap_or_default();
    let mut argv: Vec<&str> = prefix.split_whitespace().collect();
    argv.push(bin);
    let mut watch = Guard::new(
        Command::new(argv[0])
            .args(&argv[1..])
            .args(["--profile", "bench-printers", "--config-dir"])
            .arg(dir.path())
            .args(["watch", "--json"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("farmhook watch starts"),
    );
    let links = Arc::new(Mutex::new(HashMap::<String, String>::new()));
    {
        let stdout = watch.0.stdout.take().expect("piped");
        let links = links.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let Ok(v) = serde_json::from_str::<Value>(&line) else {
                    continue;
                };
                if let (Some(p), Some(l)) = (v["printer"].as_str(), v["link"].as_str()) {
                    lock(&links).insert(p.to_string(), l.to_string());
                }
            }
        });
    }
    let connected = || {
        lock(&links)
            .values()
            .filter(|l| l.as_str() == "connected")
            .count()
    };
    let started = Instant::now();
    while connected() < PRINTERS {
        assert!(
            started.elapsed() < DEADLINE,
            "only {} of {PRINTERS} printers connected to farmhook watch: {:?}",
            connected(),
            lock(&links)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let watch_connect_s = started.elapsed().as_secs_f64();
    eprintln!("farmhook watch: {PRINTERS} printers connected in {watch_connect_s:.1} s");

    let mut py = Guard::new(
        Command::new(&python)
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/benches/printers_200_client.py"
            ))
            .arg(host)
            .arg(ACCESS_CODE)
            .args(&serials)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the Python client starts"),
    );
    let mut py_out = BufReader::new(py.0.stdout.take().expect("piped"));
    let started = Instant::now();
    let ready = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        py_out.read_line(&mut line).ok();
        (line, py_out)
    });
    let (line, mut py_out) = ready.await.expect("reader");
    assert_eq!(line.trim(), "ready", "the Python client: {line}");
    let py_connect_s = started.elapsed().as_secs_f64();
    eprintln!("bambulabs-api: {PRINTERS} printers connected in {py_connect_s:.1} s");

    // Settle, then idle.
    tokio::time::sleep(Duration::from_secs(5)).await;
    // The broker too, for scale: it does the TLS work for both clients.
    let procs = [
        Proc::new(watch.0.id(), hz),
        Proc::new(py.0.id(), hz),
        Proc::new(broker.pid().unwrap_or(0), hz),
    ];
    eprintln!("idle: {idle_seconds} s, {PRINTERS} reports a second");
    let idle = measure(&procs, Duration::from_secs(idle_seconds), async {}).await;

    // The burst.
    let sent = Arc::new(Mutex::new(HashMap::<String, (Instant, u64)>::new()));
    eprintln!("burst: {PRINTERS} starts, then {PRINTERS} ends");
    let burst = measure(
        &procs,
        BURST_WINDOW,
        burst_reports(&printer_side, &played, &sent),
    )
    .await;

    // Every event that should reach the endpoint, by printer and type.
    let expected: usize = PRINTERS + PRINTERS + PRINTERS / 2;
    let wait = Instant::now();
    while endpoint.hits() < expected && wait.elapsed() < DEADLINE {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Room for a duplicate to show up.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let sent = lock(&sent).clone();
    let mut fh_latencies = Vec::new();
    let mut fh_seen: BTreeMap<String, usize> = BTreeMap::new();
    for request in endpoint.requests() {
        let body = request.body_json();
        let (Some(kind), Some(name)) = (body["type"].as_str(), body["printer"]["name"].as_str())
        else {
            continue;
        };
        let report = match kind {
            "job.started" => "RUNNING",
            "job.succeeded" => "FINISH",
            "job.failed" | "printer.hms_error" => "FAILED",
            _ => continue,
        };
        *fh_seen.entry(format!("{name} {kind}")).or_default() += 1;
        if let Some((at, _)) = sent.get(&format!("{name} {report}")) {
            fh_latencies.push(request.at.saturating_duration_since(*at));
        }
    }

    let stdin = py.0.stdin.as_mut().expect("piped");
    stdin.write_all(b"dump\n").expect("the Python client reads");
    stdin.flush().ok();
    let dump = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        py_out.read_line(&mut line).ok();
        line
    })
    .await
    .expect("reader");
    let py_records: Vec<(String, i64)> = serde_json::from_str(&dump).unwrap_or_default();
    let mut py_seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut py_latencies = Vec::new();
    for (report, ns) in py_records {
        *py_seen.entry(report).or_default() += 1;
        py_latencies.push(Duration::from_nanos(ns.max(0) as u64));
    }

    stop(&mut py.0, false);
    stop(&mut watch.0, true);
    drop(printer_side);
    drop(broker);
    // All ended: nothing is left for scripts/bench-printers.sh to end.
    if let Ok(path) = std::env::var("FARMHOOK_BENCH_PIDS") {
        std::fs::remove_file(path).ok();
    }

    let fh_count = count(&fh_seen, expected);
    let py_count = count(&py_seen, 2 * PRINTERS);
    let machine = machine();
    println!();
    println!("machine: {machine}");
    println!(
        "setup: {PRINTERS} Bambu printers on one mosquitto over TLS, one report a second each while idle ({PRINTERS}/s in all); `printers add` ×{PRINTERS}, one by one: {add_seconds:.1} s; all connected: farmhook {watch_connect_s:.1} s, Python {py_connect_s:.1} s"
    );
    println!(
        "burst: {PRINTERS} RUNNING, then {} FINISH + {} FAILED with an error code, over about 3 s (farmhook: {expected} events = 200 job.started + 100 job.succeeded + 100 job.failed + 100 printer.hms_error; Python: the {} reports)",
        PRINTERS / 2,
        PRINTERS / 2,
        2 * PRINTERS
    );
    println!(
        "| figure | farmhook watch (release) | Python bambulabs-api 2.6.6 (one process, 200 Printer clients) |"
    );
    println!("|---|---|---|");
    println!(
        "| idle, {idle_seconds} s: RSS / peak (VmHWM) | {} | {} |",
        idle[0].rss_words(),
        idle[1].rss_words()
    );
    println!(
        "| idle, {idle_seconds} s: CPU (one core = 100 %) | {:.2} % | {:.2} % |",
        idle[0].cpu, idle[1].cpu
    );
    println!(
        "| burst, {} s from its first report: RSS / peak (VmHWM) | {} | {} |",
        BURST_WINDOW.as_secs(),
        burst[0].rss_words(),
        burst[1].rss_words()
    );
    println!(
        "| burst, {} s from its first report: CPU | {:.2} % | {:.2} % |",
        BURST_WINDOW.as_secs(),
        burst[0].cpu,
        burst[1].cpu
    );
    println!(
        "| latency p50 / p99 / max | {} (report published → webhook request at the endpoint) | {} (report published → its callback only; no delivery) |",
        percentiles(&mut fh_latencies),
        percentiles(&mut py_latencies)
    );
    println!("| events received / expected; lost; twice | {fh_count} | {py_count} |");
    println!(
        "for scale, the broker (mosquitto: {PRINTERS} reports a second in, each out to both clients over TLS): CPU {:.2} % idle, {:.2} % in the burst; RSS {} kB",
        idle[2].cpu, burst[2].cpu, idle[2].rss_kb
    );
}

/// Publishes the burst: every printer's start, spread over a second; a
/// second later every printer's end, spread the same way.
async fn burst_reports(
    side: &PrinterSide,
    played: &Mutex<Vec<Played>>,
    sent: &Mutex<HashMap<String, (Instant, u64)>>,
) {
    let spread = Duration::from_secs(1) / PRINTERS as u32;
    for phase in ["RUNNING", "END"] {
        let mut tick = tokio::time::interval(spread);
        for i in 0..PRINTERS {
            tick.tick().await;
            let (name, serial, state, task) = {
                let mut all = lock(played);
                let p = &mut all[i];
                let state = match phase {
                    "RUNNING" => "RUNNING",
                    _ if i % 2 == 0 => "FINISH",
                    _ => "FAILED",
                };
                if phase == "RUNNING" {
                    p.task = Some((format!("{}", 9_000_000 + i), format!("Bench part {i}")));
                }
                p.state = state;
                (p.name.clone(), p.serial.clone(), state, p.task.clone())
            };
            let (task_id, job) = task.unwrap_or_default();
            let report = format!("{name} {state}");
            let at = Instant::now();
            let wall = wall_ns();
            let mut print = json!({
                "command": "push_status",
                "gcode_state": state,
                "task_id": task_id,
                "subtask_name": job,
                "mc_percent": if state == "FINISH" { 100 } else { 0 },
                "print_error": if state == "FAILED" { FAILURE_CODE } else { 0 },
                "hms": [],
            });
            if state == "FAILED" {
                print["mc_percent"] = json!(37);
            }
            let body = json!({"print": print, "bench": {"report": report, "sent_ns": wall}});
            lock(sent).insert(report, (at, wall));
            side.publish(&serial, body.to_string()).await;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// This process's side of the printers, on the broker's plain listener.
struct PrinterSide {
    client: AsyncClient,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl PrinterSide {
    async fn start(host: &'static str, port: u16, played: Arc<Mutex<Vec<Played>>>) -> PrinterSide {
        let mut options = MqttOptions::new("bench-printers", host, port);
        options
            .set_credentials("bblp", ACCESS_CODE)
            .set_keep_alive(Duration::from_secs(30))
            .set_max_packet_size(1024 * 1024, 1024 * 1024);
        let (client, mut events) = AsyncClient::new(options, 4096);
        let (subscribed_tx, subscribed) = tokio::sync::oneshot::channel();
        let mut subscribed_tx = Some(subscribed_tx);
        let answerer = client.clone();
        let by_serial: HashMap<String, usize> = lock(&played)
            .iter()
            .enumerate()
            .map(|(i, p)| (p.serial.clone(), i))
            .collect();
        let answers = played.clone();
        let loop_task = tokio::spawn(async move {
            loop {
                match events.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        answerer
                            .subscribe("device/+/request", QoS::AtMostOnce)
                            .await
                            .ok();
                    }
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        if let Some(tx) = subscribed_tx.take() {
                            tx.send(()).ok();
                        }
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        let serial = p.topic.split('/').nth(1).unwrap_or_default();
                        let asks_all = String::from_utf8_lossy(&p.payload).contains("pushall");
                        if let (true, Some(i)) = (asks_all, by_serial.get(serial)) {
                            let printer = lock(&answers)[*i].clone();
                            // From the loop itself: never wait on our own queue.
                            answerer
                                .try_publish(
                                    format!("device/{}/report", printer.serial),
                                    QoS::AtMostOnce,
                                    false,
                                    whole_state(&printer),
                                )
                                .ok();
                        }
                    }
                    Ok(_) => {}
                    Err(e) => panic!("the printers' side lost the broker: {e}"),
                }
            }
        });
        subscribed.await.expect("the printers' side subscribes");
        let idle_client = client.clone();
        let serials: Vec<String> = lock(&played).iter().map(|p| p.serial.clone()).collect();
        let idle_task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(REPORT_EVERY / PRINTERS as u32);
            let mut n: u64 = 0;
            loop {
                for serial in &serials {
                    tick.tick().await;
                    n += 1;
                    idle_client
                        .publish(
                            format!("device/{serial}/report"),
                            QoS::AtMostOnce,
                            false,
                            idle_delta(n),
                        )
                        .await
                        .ok();
                }
            }
        });
        PrinterSide {
            client,
            tasks: vec![loop_task, idle_task],
        }
    }

    async fn publish(&self, serial: &str, body: String) {
        self.client
            .publish(
                format!("device/{serial}/report"),
                QoS::AtMostOnce,
                false,
                body,
            )
            .await
            .expect("the report is queued");
    }
}

impl Drop for PrinterSide {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// An idle printer's once-a-second report: only what changed, as a P1
/// sends it (about 150 bytes).
fn idle_delta(n: u64) -> String {
    json!({"print": {
        "command": "push_status",
        "sequence_id": n.to_string(),
        "nozzle_temper": 24.0 + (n % 7) as f64 / 8.0,
        "bed_temper": 23.5 + (n % 5) as f64 / 8.0,
        "wifi_signal": format!("-{}dBm", 40 + n % 9),
    }})
    .to_string()
}

/// The answer to `pushall`: the printer's whole state.
fn whole_state(p: &Played) -> String {
    let (task_id, job) = p.task.clone().unwrap_or_default();
    json!({"print": {
        "command": "push_status",
        "sequence_id": "0",
        "gcode_state": p.state,
        "print_type": "idle",
        "mc_percent": 0,
        "mc_remaining_time": 0,
        "print_error": 0,
        "hms": [],
        "task_id": task_id,
        "subtask_name": job,
        "gcode_file": "",
        "layer_num": 0,
        "total_layer_num": 0,
        "nozzle_temper": 24.0,
        "nozzle_target_temper": 0.0,
        "bed_temper": 23.5,
        "bed_target_temper": 0.0,
        "chamber_temper": 22.0,
        "wifi_signal": "-44dBm",
        "spd_lvl": 2,
        "lights_report": [{"node": "chamber_light", "mode": "on"}],
    }})
    .to_string()
}

/// A process's memory and CPU time, from /proc.
struct Proc {
    pid: u32,
    hz: f64,
}

#[derive(Debug, Default, Clone, Copy)]
struct Figures {
    cpu: f64,
    rss_kb: u64,
    hwm_kb: u64,
}

impl Figures {
    fn rss_words(&self) -> String {
        format!(
            "{} kB ({:.1} MB) / {} kB ({:.1} MB)",
            self.rss_kb,
            self.rss_kb as f64 / 1024.0,
            self.hwm_kb,
            self.hwm_kb as f64 / 1024.0
        )
    }
}

impl Proc {
    fn new(pid: u32, hz: f64) -> Proc {
        Proc { pid, hz }
    }

    /// utime + stime, in seconds.
    fn cpu_seconds(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid)).unwrap_or_default();
        // The fields after the command name, which may hold spaces.
        let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        // utime and stime are fields 14 and 15 of stat: 12 and 13 here.
        (ticks(11) + ticks(12)) / self.hz
    }

    fn kb(&self, field: &str) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.pid))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with(field))?
                    .split_whitespace()
                    .nth(1)?
                    .parse()
                    .ok()
            })
            .unwrap_or(0)
    }
}

/// CPU over `window` (while `work` runs in it), then RSS and VmHWM.
async fn measure(
    procs: &[Proc; 3],
    window: Duration,
    work: impl Future<Output = ()>,
) -> [Figures; 3] {
    let start = Instant::now();
    let before = procs.each_ref().map(Proc::cpu_seconds);
    work.await;
    tokio::time::sleep(window.saturating_sub(start.elapsed())).await;
    let wall = start.elapsed().as_secs_f64();
    let mut out = [Figures::default(); 3];
    for (i, p) in procs.iter().enumerate() {
        out[i] = Figures {
            cpu: (p.cpu_seconds() - before[i]) / wall * 100.0,
            rss_kb: p.kb("VmRSS:"),
            hwm_kb: p.kb("VmHWM:"),
        };
    }
    out
}

fn percentiles(samples: &mut [Duration]) -> String {
    if samples.is_empty() {
        return "no samples".into();
    }
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    format!(
        "{:.1} / {:.1} / {:.1} ms",
        ms(at(0.5)),
        ms(at(0.99)),
        ms(samples[samples.len() - 1])
    )
}

/// "received / expected; lost; twice" from how often each key arrived.
fn count(seen: &BTreeMap<String, usize>, expected: usize) -> String {
    let distinct = seen.len();
    let twice = seen.values().filter(|n| **n > 1).count();
    let received: usize = seen.values().sum();
    format!(
        "{received} / {expected}; {} lost; {twice} twice",
        expected.saturating_sub(distinct)
    )
}

/// A child process that is killed when the bench ends, even by a panic.
struct Guard(Child);

impl Guard {
    fn new(child: Child) -> Guard {
        note_pid(Some(child.id()));
        Guard(child)
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

/// Writes a child's id down for scripts/bench-printers.sh, which ends it
/// should this process be killed before it could.
fn note_pid(pid: Option<u32>) {
    let (Some(pid), Ok(path)) = (pid, std::env::var("FARMHOOK_BENCH_PIDS")) else {
        return;
    };
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        writeln!(file, "{pid}").ok();
    }
}

fn stop(child: &mut Child, term: bool) {
    if term {
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .ok();
    } else {
        drop(child.stdin.take());
    }
    let end = Instant::now() + Duration::from_secs(30);
    while matches!(child.try_wait(), Ok(None)) && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().ok();
    child.wait().ok();
}

/// A loopback address of this run's own with port 8883 free on it, so
/// two runs (or anything on 127.0.0.1:8883) do not collide.
fn broker_host() -> &'static str {
    for _ in 0..50 {
        let host = format!("127.0.83.{}", 2 + rand_byte() % 250);
        if std::net::TcpListener::bind((host.as_str(), BAMBU_PORT)).is_ok() {
            return Box::leak(host.into_boxed_str());
        }
    }
    panic!("port {BAMBU_PORT} is taken on every 127.0.83.x tried");
}

fn rand_byte() -> u8 {
    (wall_ns() % 251) as u8 ^ (std::process::id() % 256) as u8
}

fn wall_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// Clock ticks per second of /proc/PID/stat.
fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!(
        "{cpu}, {} cores",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    )
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The real binary, on the bench's profile and config dir.
struct Cli {
    bin: &'static str,
    dir: std::path::PathBuf,
}

impl Cli {
    fn ok(&self, args: &[&str], stdin: &str) {
        let mut child = Command::new(self.bin)
            .args(["--profile", "bench-printers", "--config-dir"])
            .arg(&self.dir)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("farmhook starts");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stdin.as_bytes())
            .ok();
        let out = child.wait_with_output().expect("farmhook ends");
        assert!(
            out.status.success(),
            "farmhook {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
