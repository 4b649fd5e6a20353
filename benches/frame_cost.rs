//! What one frame of the window costs (egui layout + tessellation, no GPU)
//! with the settings page and the delivery log open, for a log of 100 and
//! of 100,000 records. Run: `cargo bench --bench frame_cost` (add
//! `--profile dev` for a quick, unoptimised figure). The results are written
//! down in the README; nothing here asserts a time.

use std::time::{Duration, Instant};

use farmhook::core::events::EventType;
use farmhook::core::profile::ProfileName;
use farmhook::core::settings::Channel;
use farmhook::engine::config_store::ConfigStore;
use farmhook::engine::delivery::log::{
    AttemptRecord, DeliveryId, DeliveryRecord, EventRef, Outcome,
};
use farmhook::engine::profile::Profile;
use farmhook::engine::service::{EngineOptions, EngineUpdate};
use farmhook::ui::FarmhookApp;
use farmhook::ui::command::Page;
use time::OffsetDateTime;

const FRAMES: u32 = 300;

fn record(id: u64) -> DeliveryRecord {
    let events: Vec<EventType> = EventType::all().collect();
    let event_type = events[id as usize % events.len()];
    let destination = if id.is_multiple_of(3) {
        Channel::Webhook
    } else {
        Channel::Discord
    };
    let delivered = !id.is_multiple_of(10);
    let started_at =
        OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(1_790_000_000 + id as i64);
    DeliveryRecord {
        id: DeliveryId(id),
        destination,
        events: vec![EventRef {
            event_type,
            id: format!("evt_{id:024}"),
            printer: Some(format!("Printer {:02}", id % 40)),
        }],
        test: id.is_multiple_of(7),
        started_at,
        outcome: if delivered {
            Outcome::Delivered
        } else {
            Outcome::Failed
        },
        target: "https://discord.com/api/v10/webhooks/1234567890/••••••".into(),
        request_body: r#"{"embeds":[{"title":"Job failed"}]}"#.into(),
        attempts: vec![AttemptRecord {
            number: 1,
            started_at,
            waited_ms: 0,
            status: Some(if delivered { 204 } else { 500 }),
            latency_ms: 80 + id % 200,
            error: (!delivered).then(|| "the server answered 500".to_string()),
            request_headers: vec![("content-type".into(), "application/json".into())],
            response_headers: vec![("x-ratelimit-remaining".into(), "4".into())],
            response_excerpt: String::new(),
            response_truncated: false,
        }],
        error: (!delivered).then(|| "the server answered 500".to_string()),
        total_ms: Some(120),
        next_attempt_at: None,
    }
}

/// Milliseconds per frame: median and 99th percentile over FRAMES frames.
fn measure(records: u64, runtime: &tokio::runtime::Runtime) -> (f64, f64) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = ConfigStore::locate(
        Some(dir.path().to_path_buf()),
        ProfileName::parse("bench").expect("profile name"),
    )
    .expect("config store");
    let mut app = FarmhookApp::new(
        runtime.handle().clone(),
        Profile::new(store),
        EngineOptions::from_env(),
        || {},
    );
    let ctx = egui::Context::default();
    let frame = |app: &mut FarmhookApp, t: f64| {
        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(960.0, 720.0),
            )),
            time: Some(t),
            ..Default::default()
        };
        let mut output = ctx.run_ui(input, |ui| app.ui(ui));
        // No GPU here: font atlas uploads are dropped.
        output.textures_delta.clear();
        ctx.tessellate(output.shapes, output.pixels_per_point)
    };
    // Wait for the engine's first word, then fill the log.
    let start = Instant::now();
    while app.settings().is_none() && start.elapsed() < Duration::from_secs(10) {
        frame(&mut app, 0.0);
        std::thread::sleep(Duration::from_millis(5));
    }
    for id in 1..=records {
        app.apply_update(EngineUpdate::Delivery(Box::new(record(id))), 0.0);
    }
    app.open(Page::Notifications);
    for i in 0..10 {
        frame(&mut app, 0.1 * f64::from(i));
    }
    let mut times: Vec<f64> = (0..FRAMES)
        .map(|i| {
            let t0 = Instant::now();
            std::hint::black_box(frame(&mut app, 1.0 + f64::from(i) / 60.0));
            t0.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    (at(0.5), at(0.99))
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    println!("frame cost of settings page + delivery log, 960×720, {FRAMES} frames");
    let mut medians = Vec::new();
    for records in [100, 100_000] {
        let (p50, p99) = measure(records, &runtime);
        medians.push(p50);
        println!(
            "| frame, {records} log records | median {p50:.3} ms, p99 {p99:.3} ms | ≤ 1 ms median |"
        );
    }
    println!(
        "| frame at 100,000 records ÷ at 100 | {:.2}× | ≤ 1.2× |",
        medians[1] / medians[0]
    );
}
