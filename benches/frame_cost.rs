//! What one frame of the window costs (egui layout + tessellation, no GPU)
//! with the settings page and the delivery log open, for a log of 100 and
//! of 100,000 records. Run: `cargo bench --bench frame_cost` (add
//! `--profile dev` for a quick, unoptimised figure). The results are written
//! down in the README; nothing here asserts a time.
//!
//! It also says what one delivery record costs in memory, heap included:
//! 100,000 real deliveries to a loopback custom webhook, counted by a
//! counting global allocator, kept by the engine's log and then handed to
//! the window's log as the engine hands them (shared, not copied).

#[path = "../tests/it/support/mod.rs"]
#[allow(unused_imports)]
mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use farmhook::core::channels::webhook::api_key::ApiKey;
use farmhook::core::channels::webhook::endpoint_url::EndpointUrl;
use farmhook::core::events::EventType;
use farmhook::core::profile::ProfileName;
use farmhook::core::settings::Channel;
use farmhook::engine::config_store::ConfigStore;
use farmhook::engine::delivery::deliver::Target;
use farmhook::engine::delivery::dispatcher::{DeliveryConfig, DispatchUpdate, Dispatcher};
use farmhook::engine::delivery::log::{
    AttemptDetail, AttemptRecord, DETAIL_KEPT, DeliveryId, DeliveryRecord, Detail, EventRef,
    Outcome,
};
use farmhook::engine::delivery::webhook::WebhookTarget;
use farmhook::engine::profile::Profile;
use farmhook::engine::service::sample_event;
use farmhook::engine::service::{EngineOptions, EngineUpdate};
use farmhook::ui::FarmhookApp;
use farmhook::ui::command::Page;
use support::endpoint::{Behaviour, Endpoint};
use time::OffsetDateTime;

const FRAMES: u32 = 300;
/// Records measured for the memory figure: as many as the logs keep.
const MEMORY_RECORDS: usize = 100_000;

/// The system allocator, counting the bytes in use: as asked for, and as
/// glibc's malloc takes them (an 8-byte header, 16-byte steps, at least 32).
struct Counting;

static IN_USE: AtomicIsize = AtomicIsize::new(0);
static IN_CHUNKS: AtomicIsize = AtomicIsize::new(0);

fn chunk(size: usize) -> isize {
    ((size + 8).div_ceil(16) * 16).max(32) as isize
}

// SAFETY: every call goes to the system allocator unchanged; only a counter
// is kept beside it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        IN_USE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        IN_CHUNKS.fetch_add(chunk(layout.size()), Ordering::Relaxed);
        // SAFETY: the caller's layout, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        IN_USE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        IN_CHUNKS.fetch_sub(chunk(layout.size()), Ordering::Relaxed);
        // SAFETY: a pointer this allocator gave out, with its layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        IN_USE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        IN_CHUNKS.fetch_add(chunk(layout.size()), Ordering::Relaxed);
        // SAFETY: the caller's layout, passed on.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        IN_USE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        IN_CHUNKS.fetch_add(chunk(new_size) - chunk(layout.size()), Ordering::Relaxed);
        // SAFETY: a pointer this allocator gave out, with its layout.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Bytes in use: as asked for and as the allocator takes them.
fn in_use() -> (isize, isize) {
    (
        IN_USE.load(Ordering::Relaxed),
        IN_CHUNKS.load(Ordering::Relaxed),
    )
}

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
        }]
        .into(),
        test: id.is_multiple_of(7),
        started_at,
        outcome: if delivered {
            Outcome::Delivered
        } else {
            Outcome::Failed
        },
        target: "https://discord.com/api/v10/webhooks/1234567890/••••••".into(),
        attempts: Arc::new([AttemptRecord {
            number: 1,
            started_at,
            waited_ms: 0,
            status: Some(if delivered { 204 } else { 500 }),
            latency_ms: 80 + id % 200,
            error: (!delivered).then(|| "the server answered 500".to_string()),
        }]),
        error: (!delivered).then(|| "the server answered 500".to_string()),
        total_ms: Some(120),
        next_attempt_at: None,
        detail: Some(Arc::new(Detail {
            request_body: r#"{"embeds":[{"title":"Job failed"}]}"#.into(),
            attempts: vec![AttemptDetail {
                request_headers: vec![("content-type".into(), "application/json".into())],
                response_headers: vec![("x-ratelimit-remaining".into(), "4".into())],
                ..AttemptDetail::default()
            }],
        })),
    }
}

/// A window with its engine (the window drives it by drawing frames).
fn window(runtime: &tokio::runtime::Runtime) -> (FarmhookApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = ConfigStore::locate(
        Some(dir.path().to_path_buf()),
        ProfileName::parse("bench").expect("profile name"),
    )
    .expect("config store");
    let app = FarmhookApp::new(
        runtime.handle().clone(),
        Profile::new(store),
        EngineOptions::from_env(),
        || {},
    );
    (app, dir)
}

/// Draws frames until the engine has said its first word.
fn wait_for_engine(app: &mut FarmhookApp, mut frame: impl FnMut(&mut FarmhookApp)) {
    let start = Instant::now();
    while app.settings().is_none() && start.elapsed() < Duration::from_secs(10) {
        frame(app);
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// What records cost in memory, per record.
struct RecordMemory {
    /// In the engine's log, heap included: as asked for, and with the
    /// allocator's rounding.
    engine: (f64, f64),
    /// Added by the window's log holding the same records.
    window: (f64, f64),
    /// The request body of the records that keep their detail.
    body: f64,
    /// How many records keep their detail.
    detailed: usize,
}

/// What 100,000 real deliveries leave in the engine's log and then in the
/// window's, which is handed every update as the engine hands them.
fn record_memory(runtime: &tokio::runtime::Runtime) -> RecordMemory {
    let (mut app, _dir) = window(runtime);
    let ctx = egui::Context::default();
    wait_for_engine(&mut app, |app| {
        // Nothing is drawn: the frame only lets the window read its updates.
        drop(ctx.run_ui(egui::RawInput::default(), |ui| app.ui(ui)));
    });
    let before = in_use();
    let latest = runtime.block_on(async {
        let endpoint = Endpoint::start(Behaviour::Status(200)).await;
        let target = Target::new(WebhookTarget {
            url: EndpointUrl::parse(&endpoint.url()).expect("url"),
            key: ApiKey::generate().expect("key"),
            signing: None,
        });
        let config = DeliveryConfig {
            webhook_queue: MEMORY_RECORDS,
            ..DeliveryConfig::default()
        };
        // What the window would hold: each record's latest version (the
        // window's log keeps one per id), slot i for delivery i + 1.
        let latest: Arc<Mutex<Vec<Option<Arc<DeliveryRecord>>>>> =
            Arc::new(Mutex::new(vec![None; MEMORY_RECORDS]));
        let seen = latest.clone();
        let dispatcher = Dispatcher::new(config, move |update| {
            if let DispatchUpdate::Record(r) | DispatchUpdate::DetailLetGo(r) = update
                && r.outcome != Outcome::InProgress
                && let Some(slot) = seen
                    .lock()
                    .expect("not poisoned")
                    .get_mut(r.id.0 as usize - 1)
            {
                *slot = Some(r);
            }
        })
        .expect("dispatcher");
        let kinds: Vec<EventType> = EventType::all().collect();
        let waiting: Vec<_> = (0..MEMORY_RECORDS)
            .map(|i| {
                let mut event = sample_event(kinds[i % kinds.len()]);
                event.test = false;
                dispatcher.submit(target.clone(), event)
            })
            .collect();
        for w in waiting {
            w.await.ok();
        }
        dispatcher.idle().await;
        // The endpoint keeps every request it read: not the engine's.
        drop(endpoint);
        tokio::time::sleep(Duration::from_millis(200)).await;
        (dispatcher, latest)
    });
    let (dispatcher, latest) = latest;
    let latest: Vec<Arc<DeliveryRecord>> =
        std::mem::take(&mut *latest.lock().expect("not poisoned"))
            .into_iter()
            .map(|r| r.expect("every delivery ended"))
            .collect();
    let detailed = latest.iter().filter(|r| r.detail.is_some()).count();
    let bodies: usize = latest
        .iter()
        .filter_map(|r| r.request_body())
        .map(|b| b.len())
        .sum();
    // The vector of pointers is the bench's, not the engine's.
    let pointers = latest.capacity() * std::mem::size_of::<Arc<DeliveryRecord>>();
    let with_engine = in_use();
    for record in latest {
        app.apply_update(EngineUpdate::Delivery(record), 0.0);
    }
    let with_window = in_use();
    drop(dispatcher);
    let n = MEMORY_RECORDS as f64;
    let per = |bytes: isize| bytes as f64 / n;
    let p = pointers as isize;
    RecordMemory {
        engine: (
            per(with_engine.0 - before.0 - p),
            per(with_engine.1 - before.1 - chunk(pointers)),
        ),
        window: (
            per(with_window.0 - with_engine.0 + p),
            per(with_window.1 - with_engine.1 + chunk(pointers)),
        ),
        body: bodies as f64 / detailed.max(1) as f64,
        detailed,
    }
}

/// Milliseconds per frame: median and 99th percentile over FRAMES frames.
fn measure(records: u64, runtime: &tokio::runtime::Runtime) -> (f64, f64) {
    let (mut app, _dir) = window(runtime);
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
    wait_for_engine(&mut app, |app| {
        frame(app, 0.0);
    });
    for id in 1..=records {
        app.apply_update(EngineUpdate::Delivery(Arc::new(record(id))), 0.0);
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
    let m = record_memory(&runtime);
    let total_mb = |(engine, window): (f64, f64)| (engine + window) * MEMORY_RECORDS as f64 / 1e6;
    println!(
        "| one delivery record (custom webhook, delivered; heap included) | {:.0} B in the engine's log + {:.0} B more in the window's (shared); {:.0} B and {:.0} B with malloc's rounding: {:.1} MB for 100,000 ({} of them with their detail, request body {:.0} B each) | ≤ 60 MB for 100,000 |",
        m.engine.0,
        m.window.0,
        m.engine.1,
        m.window.1,
        total_mb((m.engine.1, m.window.1)),
        m.detailed,
        m.body,
    );
    assert!(m.detailed <= DETAIL_KEPT, "the detail is let go");
}
