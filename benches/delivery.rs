//! Delivery benchmarks (figures go in the README; nothing is asserted):
//!
//! 1. Throughput of the engine to a loopback endpoint against a bare reqwest
//!    loop with the same concurrency, in the same run (ratio). The engine
//!    is used as the window and `watch` use it: events submitted, outcomes
//!    learnt from the listener (the log's records), no waiter per event.
//! 2. A burst of 50 events to the Discord stand-in (5 requests per 2 s):
//!    events lost, 429s received, and the time against the floor.
//!
//! Run: `cargo bench --bench delivery` (a release build; takes a while the
//! first time).

#[path = "../tests/it/support/mod.rs"]
#[allow(unused_imports)]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use farmhook::core::channels::discord::url::DiscordWebhookUrl;
use farmhook::core::channels::webhook::api_key::ApiKey;
use farmhook::core::channels::webhook::endpoint_url::EndpointUrl;
use farmhook::core::events::EventType;
use farmhook::engine::delivery::deliver::Target;
use farmhook::engine::delivery::discord::DiscordTarget;
use farmhook::engine::delivery::dispatcher::{DeliveryConfig, DispatchUpdate, Dispatcher};
use farmhook::engine::delivery::log::Outcome;
use farmhook::engine::delivery::webhook::WebhookTarget;
use farmhook::engine::service::sample_event;
use support::discord_stand_in::DiscordStandIn;
use support::endpoint::{Behaviour, Endpoint};

/// Deliveries per round: long enough (about 0.3 s) that the start of a
/// round (a fresh dispatcher and connection pool, eight connects) does not
/// weigh; 2,000-delivery rounds of 0.06 s put the ratio anywhere from 0.67
/// to 1.09 on this shared machine.
const DELIVERIES: usize = 10_000;
const CONCURRENCY: usize = 8;
/// Rounds of each side, alternating; the median is reported.
const ROUNDS: usize = 5;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        println!("machine: {}", machine());
        throughput().await;
        if only().is_none() {
            burst().await;
        }
    });
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

/// `FARMHOOK_BENCH_ONLY=engine` (or `bare`) runs one side of the
/// throughput comparison once, with `FARMHOOK_BENCH_DELIVERIES` deliveries
/// (default 10,000), and nothing else: for counting instructions per
/// delivery under `valgrind --tool=callgrind`, where the difference between
/// two runs of different sizes is the cost of the extra deliveries.
fn only() -> Option<(String, usize)> {
    let side = std::env::var("FARMHOOK_BENCH_ONLY").ok()?;
    let n = std::env::var("FARMHOOK_BENCH_DELIVERIES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(DELIVERIES);
    Some((side, n))
}

async fn throughput() {
    let endpoint = Endpoint::start(Behaviour::Status(200)).await;
    let key = ApiKey::generate().expect("key");
    let target = Target::new(WebhookTarget {
        url: EndpointUrl::parse(&endpoint.url()).expect("url"),
        key: key.clone(),
        signing: None,
    });
    if let Some((side, n)) = only() {
        let rate = match side.as_str() {
            "engine" => engine_round(&target, n).await,
            _ => bare_round(&endpoint, &key, n).await,
        };
        println!("only {side}: {n} deliveries, {rate:.0}/s");
        return;
    }
    let mut engine_rates = Vec::new();
    let mut bare_rates = Vec::new();
    for _ in 0..ROUNDS {
        engine_rates.push(engine_round(&target, DELIVERIES).await);
        bare_rates.push(bare_round(&endpoint, &key, DELIVERIES).await);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let engine = median(&mut engine_rates);
    let bare = median(&mut bare_rates);
    println!(
        "throughput: engine {engine:.0}/s, bare reqwest {bare:.0}/s, ratio {:.2} ({DELIVERIES} deliveries × {ROUNDS} rounds, concurrency {CONCURRENCY}, median)",
        engine / bare
    );
}

/// The engine as the window and `watch` use it: submit every event and
/// learn the outcomes from the listener (no one waits on each event), then
/// wait until every one has ended. Deliveries per second.
async fn engine_round(target: &Target, deliveries: usize) -> f64 {
    let config = DeliveryConfig {
        webhook_concurrency: CONCURRENCY,
        // All of them are submitted at once: measure sending, not shedding.
        webhook_queue: deliveries,
        ..DeliveryConfig::default()
    };
    let delivered = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = delivered.clone();
    let dispatcher = Dispatcher::new(config, move |update| {
        if let DispatchUpdate::Record(r) = update
            && r.outcome == Outcome::Delivered
        {
            counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    })
    .expect("dispatcher");
    let event = sample_event(EventType::from_id("job.failed").expect("id"));
    let start = Instant::now();
    for _ in 0..deliveries {
        drop(dispatcher.submit(target.clone(), event.clone()));
    }
    dispatcher.idle().await;
    let engine = start.elapsed();
    let delivered = delivered.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(delivered, deliveries, "the engine lost deliveries");
    dispatcher.shutdown().await;
    deliveries as f64 / engine.as_secs_f64()
}

/// Bare reqwest: the same request, the same concurrency. Deliveries per second.
async fn bare_round(endpoint: &Endpoint, key: &ApiKey, deliveries: usize) -> f64 {
    // The same safety settings as the engine's client.
    farmhook::engine::crypto::install();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(15))
        .build()
        .expect("client");
    let event = sample_event(EventType::from_id("job.failed").expect("id"));
    let body = event.to_json();
    let slots = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..deliveries {
        let permit = slots.clone().acquire_owned().await.expect("semaphore");
        let request = client
            .post(endpoint.url())
            .header("content-type", "application/json")
            .header("x-api-key", key.expose())
            .header("webhook-id", event.id.clone())
            .header("webhook-timestamp", "1800000000")
            .body(body.clone());
        tasks.spawn(async move {
            // Read the answer too, as any real sender must.
            let ok = match request.send().await {
                Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                Err(_) => false,
            };
            drop(permit);
            ok
        });
    }
    let mut ok = 0;
    while let Some(r) = tasks.join_next().await {
        ok += usize::from(r.unwrap_or(false));
    }
    assert_eq!(ok, deliveries);
    deliveries as f64 / start.elapsed().as_secs_f64()
}

async fn burst() {
    let stand_in = DiscordStandIn::start().await;
    let url = stand_in.webhook_url();
    let target = Target::new(DiscordTarget {
        url: DiscordWebhookUrl::parse(&url).expect("url"),
        api_base: stand_in.api_base(),
    });
    let dispatcher = Dispatcher::new(DeliveryConfig::default(), |_| {}).expect("dispatcher");
    let start = Instant::now();
    let waiting: Vec<_> = (0..50)
        .map(|i| {
            let mut e = sample_event(
                EventType::from_id(["printer.offline", "job.failed"][i % 2]).expect("id"),
            );
            e.test = false;
            dispatcher.submit(target.clone(), e)
        })
        .collect();
    for w in waiting {
        w.await.ok();
    }
    let elapsed = start.elapsed();
    let embeds: usize = stand_in
        .received()
        .iter()
        .map(|m| m.body["embeds"].as_array().map_or(0, Vec::len))
        .sum();
    // One message per event at 5 per 2 s would need 9 full windows after the first.
    let floor = Duration::from_secs(2) * 9;
    println!(
        "burst: 50 events → {} messages, {embeds} embeds delivered, {} lost, {} × 429, {:.2} s (one message per event would need at least {:.0} s)",
        stand_in.received().len(),
        50usize.saturating_sub(embeds),
        stand_in.count_429(),
        elapsed.as_secs_f64(),
        floor.as_secs_f64()
    );
    dispatcher.shutdown().await;
}
