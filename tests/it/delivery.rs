//! The delivery engine against real HTTP servers on loopback: a Discord
//! stand-in and friendly and hostile custom-webhook endpoints.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::discord_stand_in::DiscordStandIn;
use crate::support::endpoint::{Behaviour, Endpoint, refused_url};
use farmhook::core::api_base::ApiBases;
use farmhook::core::channels::discord::url::DiscordWebhookUrl;
use farmhook::core::channels::webhook::api_key::{ApiKey, SigningSecret};
use farmhook::core::channels::webhook::endpoint_url::EndpointUrl;
use farmhook::core::events::EventType;
use farmhook::core::settings::Channel;
use farmhook::engine::delivery::deliver::Target;
use farmhook::engine::delivery::discord::DiscordTarget;
use farmhook::engine::delivery::dispatcher::{DeliveryConfig, DispatchUpdate, Dispatcher};
use farmhook::engine::delivery::http::HttpConfig;
use farmhook::engine::delivery::log::{DETAIL_KEPT, DeliveryRecord, Outcome};
use farmhook::engine::delivery::retry::RetryPolicy;
use farmhook::engine::delivery::webhook::WebhookTarget;
use farmhook::engine::service::sample_event;

/// Short waits so the suite stays fast; the rules are the same.
fn fast_config() -> DeliveryConfig {
    DeliveryConfig {
        http: HttpConfig {
            connect_timeout: Duration::from_secs(2),
            total_timeout: Duration::from_secs(2),
            ..HttpConfig::default()
        },
        retry: RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(50),
            max_delay: Duration::from_millis(200),
            max_server_wait: Duration::from_secs(3),
        },
        pause_after: 3,
        ..DeliveryConfig::default()
    }
}

/// A dispatcher that keeps every update it reports, for the secrets check.
fn dispatcher(config: DeliveryConfig) -> (Dispatcher, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let d = Dispatcher::new(config, move |u| {
        let text = match u {
            DispatchUpdate::Record(r) | DispatchUpdate::DetailLetGo(r) => {
                serde_json::to_string(&*r).unwrap()
            }
            DispatchUpdate::Health(d, h) => format!("{d:?} {}", serde_json::to_string(&h).unwrap()),
        };
        sink.lock().unwrap().push(text);
    })
    .unwrap();
    (d, seen)
}

fn key() -> ApiKey {
    ApiKey::parse("TestKey0123456789abcdefghijklmnopqrstuvwxyzAB").unwrap()
}

fn webhook(url: &str, signing: Option<SigningSecret>) -> Target {
    Target::new(WebhookTarget {
        url: EndpointUrl::parse(url).unwrap(),
        key: key(),
        signing,
    })
}

fn discord(stand_in: &DiscordStandIn, url: &str) -> Target {
    Target::new(DiscordTarget {
        url: DiscordWebhookUrl::parse(url).unwrap(),
        api_base: stand_in.api_base(),
    })
}

fn event(id: &str) -> farmhook::core::payload::Event {
    sample_event(EventType::from_id(id).unwrap())
}

fn header<'a>(headers: &'a [(impl AsRef<str>, impl AsRef<str>)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.as_ref().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_ref())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_custom_webhook_gets_the_payload_and_headers_of_the_contract() {
    let endpoint = Endpoint::start(Behaviour::Status(200)).await;
    let secret = SigningSecret::generate().unwrap();
    let (d, _) = dispatcher(fast_config());
    let ev = event("job.failed");
    let record = d
        .submit(webhook(&endpoint.url(), Some(secret.clone())), ev.clone())
        .await
        .unwrap();
    assert_eq!(record.outcome, Outcome::Delivered, "{record:?}");
    assert_eq!(record.status(), Some(200));
    assert_eq!(record.attempts.len(), 1);

    let requests = endpoint.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.method, "POST");
    assert_eq!(header(&r.headers, "x-api-key"), Some(key().expose()));
    assert_eq!(header(&r.headers, "webhook-id"), Some(ev.id.as_str()));
    assert_eq!(header(&r.headers, "content-type"), Some("application/json"));
    assert!(
        header(&r.headers, "user-agent")
            .unwrap()
            .starts_with("farmhook/")
    );
    let ts: i64 = header(&r.headers, "webhook-timestamp")
        .unwrap()
        .parse()
        .unwrap();
    let sig = header(&r.headers, "webhook-signature").unwrap();
    assert!(
        secret.verify(&ev.id, ts, &r.body, sig),
        "signature does not verify"
    );
    let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body["type"], "job.failed");
    assert_eq!(body["id"], ev.id);
    assert_eq!(body["schema_version"], 1);
    // The log shows the key masked, never whole.
    let sent = record.attempt_detail(0).unwrap();
    let shown = header(&sent.request_headers, "x-api-key").unwrap();
    assert!(
        shown.starts_with("••••…") && !shown.contains(&key().expose()[..10]),
        "{shown}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_503_is_retried_with_the_same_webhook_id_and_a_400_is_not() {
    let flaky = Endpoint::start(Behaviour::Sequence(vec![503, 200])).await;
    let (d, _) = dispatcher(fast_config());
    let record = d
        .submit(webhook(&flaky.url(), None), event("job.succeeded"))
        .await
        .unwrap();
    assert_eq!(record.outcome, Outcome::Delivered);
    assert_eq!(record.attempts.len(), 2);
    assert_eq!(record.attempts[0].status, Some(503));
    assert!(
        record.attempts[0]
            .error
            .as_deref()
            .unwrap()
            .contains("server had an error")
    );
    assert!(record.attempts[1].waited_ms > 0);
    let ids: Vec<_> = flaky
        .requests()
        .iter()
        .map(|r| header(&r.headers, "webhook-id").unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0], ids[1]);

    let strict = Endpoint::start(Behaviour::Status(400)).await;
    let record = d
        .submit(webhook(&strict.url(), None), event("job.succeeded"))
        .await
        .unwrap();
    assert_eq!(record.outcome, Outcome::Failed);
    assert_eq!(record.attempts.len(), 1);
    assert_eq!(strict.hits(), 1);
    assert!(
        record.error.as_deref().unwrap().contains("400"),
        "{:?}",
        record.error
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn retry_after_is_honoured() {
    let busy = Endpoint::start(Behaviour::RetryAfter {
        status: 429,
        seconds: 1,
    })
    .await;
    let mut config = fast_config();
    config.retry.max_attempts = 2;
    let (d, _) = dispatcher(config);
    let record = d
        .submit(webhook(&busy.url(), None), event("job.started"))
        .await
        .unwrap();
    assert_eq!(record.attempts.len(), 2);
    assert!(
        record.attempts[1].waited_ms >= 1000,
        "{}",
        record.attempts[1].waited_ms
    );
    assert!(
        record
            .error
            .as_deref()
            .unwrap()
            .contains("gave up after 2 attempts")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn redirects_are_never_followed_so_the_key_stays_home() {
    for status in [307, 308] {
        let elsewhere = Endpoint::start(Behaviour::Status(200)).await;
        let redirecting = Endpoint::start(Behaviour::Redirect {
            status,
            location: elsewhere.url(),
        })
        .await;
        let (d, _) = dispatcher(fast_config());
        let record = d
            .submit(webhook(&redirecting.url(), None), event("job.failed"))
            .await
            .unwrap();
        assert_eq!(record.outcome, Outcome::Failed);
        assert_eq!(record.status(), Some(status));
        assert_eq!(record.attempts.len(), 1);
        assert!(
            record
                .error
                .as_deref()
                .unwrap()
                .contains("never follows redirects")
        );
        assert_eq!(elsewhere.hits(), 0, "the second server received a request");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_huge_answer_is_read_only_up_to_the_cap() {
    let huge = Endpoint::start(Behaviour::HugeBody {
        bytes: 64 * 1024 * 1024,
    })
    .await;
    let (d, _) = dispatcher(fast_config());
    let record = d
        .submit(webhook(&huge.url(), None), event("job.failed"))
        .await
        .unwrap();
    assert_eq!(record.outcome, Outcome::Delivered);
    let attempt = record.attempt_detail(0).unwrap();
    assert!(attempt.response_truncated);
    assert!(attempt.response_excerpt.len() <= 4 * 1024);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_silent_endpoint_ends_within_the_timeout_and_a_closed_port_is_named() {
    let silent = Endpoint::start(Behaviour::NeverAnswer).await;
    let mut config = fast_config();
    config.retry.max_attempts = 2;
    config.http.total_timeout = Duration::from_millis(500);
    let (d, _) = dispatcher(config);
    let started = std::time::Instant::now();
    let record = d
        .submit(webhook(&silent.url(), None), event("job.failed"))
        .await
        .unwrap();
    assert_eq!(record.outcome, Outcome::Failed);
    assert_eq!(record.attempts.len(), 2);
    assert!(
        record
            .error
            .as_deref()
            .unwrap()
            .contains("no answer within"),
        "{:?}",
        record.error
    );
    // Two 0.5 s attempts and a short backoff: far from hanging.
    assert!(started.elapsed() < Duration::from_secs(10));

    let record = d
        .submit(webhook(&refused_url(), None), event("job.failed"))
        .await
        .unwrap();
    assert_eq!(record.outcome, Outcome::Failed);
    assert!(
        record
            .error
            .as_deref()
            .unwrap()
            .contains("connection refused"),
        "{:?}",
        record.error
    );
    assert_eq!(record.attempts[0].status, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_untrusted_certificate_fails_and_a_trusted_one_works() {
    let tls = crate::support::tls::TlsEndpoint::start().await;
    let (d, _) = dispatcher(fast_config());
    let record = d
        .submit(webhook(&tls.url(), None), event("job.failed"))
        .await
        .unwrap();
    assert_eq!(record.outcome, Outcome::Failed);
    assert!(
        record
            .error
            .as_deref()
            .unwrap()
            .contains("certificate is not trusted"),
        "{:?}",
        record.error
    );
    assert_eq!(tls.hits(), 0);

    let mut config = fast_config();
    config.http.only_trust_pem = Some(tls.ca_pem());
    let (trusting, _) = dispatcher(config);
    let record = trusting
        .submit(webhook(&tls.url(), None), event("job.failed"))
        .await
        .unwrap();
    assert_eq!(record.outcome, Outcome::Delivered, "{:?}", record.error);
    assert_eq!(tls.hits(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn discord_gets_an_embed_on_the_v10_url_and_verify_names_the_webhook() {
    let stand_in = DiscordStandIn::start().await;
    let url = stand_in.webhook_url();
    let (d, _) = dispatcher(fast_config());
    let record = d
        .submit(discord(&stand_in, &url), event("printer.hms_error"))
        .await
        .unwrap();
    assert_eq!(record.outcome, Outcome::Delivered, "{:?}", record.error);
    assert_eq!(record.status(), Some(204));
    let received = stand_in.received();
    assert_eq!(received.len(), 1);
    let body = &received[0].body;
    assert_eq!(body["allowed_mentions"], serde_json::json!({"parse": []}));
    assert_eq!(body["embeds"].as_array().unwrap().len(), 1);
    assert!(
        header(&received[0].headers, "user-agent")
            .unwrap()
            .starts_with("farmhook/")
    );
    // The log never shows the token.
    let token = url.rsplit('/').next().unwrap();
    assert!(!record.target.contains(token));

    let parsed = DiscordWebhookUrl::parse(&url).unwrap();
    let config = fast_config();
    let info = farmhook::engine::delivery::discord::verify(
        d.client(),
        &parsed,
        &stand_in.api_base(),
        &config.http,
    )
    .await
    .unwrap();
    assert!(!info.name.is_empty());
    stand_in.delete_webhook(&url);
    let gone = farmhook::engine::delivery::discord::verify(
        d.client(),
        &parsed,
        &stand_in.api_base(),
        &config.http,
    )
    .await;
    assert_eq!(
        gone,
        Err(farmhook::engine::delivery::discord::VerifyError::Deleted)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_discord_webhook_stops_at_once_and_pauses_discord() {
    let stand_in = DiscordStandIn::start().await;
    let url = stand_in.webhook_url();
    stand_in.delete_webhook(&url);
    let (d, _) = dispatcher(fast_config());
    let record = d
        .submit(discord(&stand_in, &url), event("job.failed"))
        .await
        .unwrap();
    assert_eq!(record.outcome, Outcome::Failed);
    assert_eq!(record.attempts.len(), 1, "a 404 must not be retried");
    assert!(record.error.as_deref().unwrap().contains("deleted"));
    let health = d.health(Channel::Discord);
    assert!(
        health.paused.as_deref().unwrap().contains("deleted"),
        "{health:?}"
    );

    // A real event is not sent while paused, and says why.
    let mut real = event("job.failed");
    real.test = false;
    let record = d.submit(discord(&stand_in, &url), real).await.unwrap();
    assert_eq!(record.outcome, Outcome::Failed);
    assert!(record.error.as_deref().unwrap().contains("paused"));
    assert!(record.attempts.is_empty());
    d.resume(Channel::Discord);
    assert_eq!(d.health(Channel::Discord).paused, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_burst_of_fifty_events_is_batched_and_paced_with_no_loss() {
    let stand_in = DiscordStandIn::start().await;
    let url = stand_in.webhook_url();
    let (d, _) = dispatcher(DeliveryConfig::default());
    let mut waiting = Vec::new();
    let mut ids = Vec::new();
    for i in 0..50 {
        let mut e = event(["printer.offline", "job.failed"][i % 2]);
        e.test = false;
        ids.push(e.id.clone());
        waiting.push(d.submit(discord(&stand_in, &url), e));
    }
    let mut records: Vec<DeliveryRecord> = Vec::new();
    for w in waiting {
        records.push(w.await.unwrap());
    }
    assert!(records.iter().all(|r| r.outcome == Outcome::Delivered));
    // Every event arrived, each exactly once, as an embed.
    let delivered: Vec<String> = stand_in
        .received()
        .iter()
        .flat_map(|m| m.body["embeds"].as_array().unwrap().clone())
        .map(|e| e["footer"]["text"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(delivered.len(), 50);
    for id in &ids {
        assert_eq!(
            delivered.iter().filter(|f| f.contains(id.as_str())).count(),
            1,
            "{id}"
        );
    }
    assert!(
        stand_in.received().len() <= 10,
        "{} messages",
        stand_in.received().len()
    );
    assert!(stand_in.count_429() <= 1, "{} 429s", stand_in.count_429());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_429_is_waited_out_and_retried() {
    let stand_in = DiscordStandIn::start_with(crate::support::discord_stand_in::StandInConfig {
        bucket_size: 1,
        bucket_window: Duration::from_millis(800),
        ..Default::default()
    })
    .await;
    let url = stand_in.webhook_url();
    // Two dispatchers share nothing, so the second one runs into the limit.
    let (a, _) = dispatcher(fast_config());
    let (b, _) = dispatcher(fast_config());
    let first = a
        .submit(discord(&stand_in, &url), event("job.failed"))
        .await
        .unwrap();
    let second = b
        .submit(discord(&stand_in, &url), event("job.failed"))
        .await
        .unwrap();
    assert_eq!(first.outcome, Outcome::Delivered);
    assert_eq!(second.outcome, Outcome::Delivered, "{:?}", second.error);
    assert_eq!(second.attempts[0].status, Some(429));
    assert!(
        second.attempts[1].waited_ms >= 300,
        "{:?}",
        second.attempts[1]
    );
    assert_eq!(stand_in.count_429(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn closing_mid_retry_records_what_was_cut_short() {
    let down = Endpoint::start(Behaviour::Status(503)).await;
    let mut config = fast_config();
    config.retry.base_delay = Duration::from_secs(30);
    config.retry.max_delay = Duration::from_secs(30);
    let (d, seen) = dispatcher(config);
    let waiting = d.submit(webhook(&down.url(), None), event("job.failed"));
    // Wait for the first attempt to be recorded, then close.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while down.hits() == 0 {
        assert!(std::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let closing = std::time::Instant::now();
    d.shutdown().await;
    assert!(closing.elapsed() < Duration::from_secs(5));
    let record = waiting.await.unwrap();
    assert_eq!(record.outcome, Outcome::Failed);
    assert!(
        record.error.as_deref().unwrap().contains("cut short"),
        "{:?}",
        record.error
    );
    assert!(seen.lock().unwrap().iter().any(|s| s.contains("cut short")));
    // Nothing submitted after closing is lost either.
    let late = d
        .submit(webhook(&down.url(), None), event("job.failed"))
        .await
        .unwrap();
    assert!(late.error.as_deref().unwrap().contains("closing"));
}

#[tokio::test(flavor = "multi_thread")]
async fn no_secret_appears_in_anything_the_engine_reported() {
    let stand_in = DiscordStandIn::start().await;
    let discord_url = stand_in.webhook_url();
    let token = discord_url.rsplit('/').next().unwrap().to_string();
    let endpoint = Endpoint::start(Behaviour::Sequence(vec![500, 401, 200])).await;
    let secret = SigningSecret::generate().unwrap();
    let (d, seen) = dispatcher(fast_config());
    d.submit(discord(&stand_in, &discord_url), event("job.failed"))
        .await
        .unwrap();
    d.submit(
        webhook(
            &format!("{}?token=querysecret", endpoint.url()),
            Some(secret.clone()),
        ),
        event("job.failed"),
    )
    .await
    .unwrap();
    d.submit(webhook(&refused_url(), None), event("job.failed"))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("log.jsonl");
    assert!(d.export_json_lines(&export).unwrap() >= 3);
    let mut everything = seen.lock().unwrap().join("\n");
    everything.push_str(&std::fs::read_to_string(&export).unwrap());
    for secret_text in [key().expose(), &token, secret.expose(), "querysecret"] {
        assert!(
            !everything.contains(secret_text),
            "a secret leaked: {}…",
            &secret_text[..4]
        );
    }
    assert!(
        everything.contains("••••…"),
        "the masked key should be shown"
    );
}

/// An exported log is the user's alone, whether the file is new or was
/// there before with more access.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn an_exported_log_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let endpoint = Endpoint::start(Behaviour::Status(204)).await;
    let (d, _) = dispatcher(fast_config());
    d.submit(webhook(&endpoint.url(), None), event("job.failed"))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let fresh = dir.path().join("fresh.jsonl");
    assert_eq!(d.export_json_lines(&fresh).unwrap(), 1);
    assert_eq!(mode(&fresh), 0o600);
    let old = dir.path().join("old.jsonl");
    std::fs::write(&old, "old").unwrap();
    std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o666)).unwrap();
    assert_eq!(d.export_json_lines(&old).unwrap(), 1);
    assert_eq!(mode(&old), 0o600);
    assert!(!std::fs::read_to_string(&old).unwrap().starts_with("old"));
}

#[tokio::test(flavor = "multi_thread")]
async fn only_the_newest_deliveries_keep_their_detail_and_listeners_are_told() {
    let endpoint = Endpoint::start(Behaviour::Status(200)).await;
    let n = DETAIL_KEPT + 3;
    let config = DeliveryConfig {
        webhook_queue: n,
        ..fast_config()
    };
    let let_go = Arc::new(Mutex::new(Vec::new()));
    let sink = let_go.clone();
    let d = Dispatcher::new(config, move |u| {
        if let DispatchUpdate::DetailLetGo(r) = u {
            sink.lock()
                .unwrap()
                .push((r.id.0, r.detail.is_none(), r.attempts.len()));
        }
    })
    .unwrap();
    let waiting: Vec<_> = (0..n)
        .map(|_| d.submit(webhook(&endpoint.url(), None), event("job.failed")))
        .collect();
    for w in waiting {
        assert_eq!(w.await.unwrap().outcome, Outcome::Delivered);
    }
    d.idle().await;
    let mut told = let_go.lock().unwrap().clone();
    told.sort();
    // The three oldest, each once, without detail but with their attempt.
    assert_eq!(told, [(1, true, 1), (2, true, 1), (3, true, 1)]);
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("log.jsonl");
    assert_eq!(d.export_json_lines(&export).unwrap(), n);
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&export)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kept = lines.iter().filter(|l| l["detail_kept"] == true).count();
    assert_eq!(kept, DETAIL_KEPT);
    assert!(lines[0].get("request_body").is_none());
    assert_eq!(lines[0]["attempts"][0]["status"], 200);
    assert!(
        lines[n - 1]["request_body"]
            .as_str()
            .unwrap()
            .contains("job.failed")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn health_says_when_a_waiting_delivery_retries() {
    let down = Endpoint::start(Behaviour::Status(503)).await;
    let mut config = fast_config();
    config.retry.base_delay = Duration::from_secs(20);
    config.retry.max_delay = Duration::from_secs(20);
    let (d, _) = dispatcher(config);
    let waiting = d.submit(webhook(&down.url(), None), event("job.failed"));
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let health = loop {
        let h = d.health(Channel::Webhook);
        if h.next_retry_at.is_some() {
            break h;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no retry time reported"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let due = health.next_retry_at.unwrap();
    let now = time::OffsetDateTime::now_utc();
    // Backoff with jitter: between half and all of the 20 s.
    assert!(
        due > now + time::Duration::seconds(8) && due <= now + time::Duration::seconds(21),
        "{due}"
    );
    assert!(
        health.summary().contains("next retry at"),
        "{}",
        health.summary()
    );
    d.shutdown().await;
    waiting.await.unwrap();
    assert_eq!(d.health(Channel::Webhook).next_retry_at, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_endpoint_that_echoes_every_secret_gets_none_of_them_recorded() {
    let endpoint = Endpoint::start(Behaviour::EchoSecrets { status: 401 }).await;
    let secret = SigningSecret::generate().unwrap();
    let url = format!(
        "{}/ha-token-0123456789?token=query-secret-987654",
        endpoint.url()
    );
    let (d, seen) = dispatcher(fast_config());
    // The profile's other secrets are scrubbed too (a Discord token here).
    let mut profile = farmhook::core::redact::Scrubber::default();
    profile.add("OtherProfileSecret-abcdefghij", "••••");
    d.set_scrubber(profile);
    let record = d
        .submit(webhook(&url, Some(secret.clone())), event("job.failed"))
        .await
        .unwrap();
    assert_eq!(record.outcome, Outcome::Failed);
    assert_eq!(record.status(), Some(401));
    // The endpoint really did echo the key: the test would catch a leak.
    let sent = endpoint.requests();
    assert_eq!(sent[0].header("x-api-key"), Some(key().expose()));
    let attempt = record.attempt_detail(0).unwrap();
    assert!(
        attempt
            .response_excerpt
            .text()
            .contains("invalid X-API-Key ••••…"),
        "{}",
        attempt.response_excerpt.text()
    );
    assert!(
        header(&attempt.response_headers, "x-echo-api-key").is_some_and(|v| v.starts_with("••••…"))
    );
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("log.jsonl");
    d.export_json_lines(&export).unwrap();
    let mut everything = seen.lock().unwrap().join("\n");
    everything.push_str(&std::fs::read_to_string(&export).unwrap());
    for secret_text in [
        key().expose(),
        secret.expose(),
        "ha-token-0123456789",
        "query-secret-987654",
    ] {
        assert!(
            !everything.contains(secret_text),
            "an echoed secret was recorded: {}…",
            &secret_text[..6]
        );
    }
    assert!(
        everything.contains("http://127.0.0.1:"),
        "the target is shown redacted"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_event_of_the_catalogue_reaches_discord_and_the_custom_webhook() {
    let stand_in = DiscordStandIn::start().await;
    let url = stand_in.webhook_url();
    let endpoint = Endpoint::start(Behaviour::Status(204)).await;
    let (d, _) = dispatcher(DeliveryConfig::default());
    let mut waiting = Vec::new();
    for event_type in EventType::all() {
        let e = sample_event(event_type);
        waiting.push(d.submit(discord(&stand_in, &url), e.clone()));
        waiting.push(d.submit(webhook(&endpoint.url(), None), e));
    }
    for w in waiting {
        let record = w.await.unwrap();
        assert_eq!(record.outcome, Outcome::Delivered, "{:?}", record.error);
    }
    let all: Vec<&str> = EventType::all().map(EventType::id).collect();
    assert_eq!(all.len(), 19);
    let mut at_endpoint: Vec<String> = endpoint
        .requests()
        .iter()
        .map(|r| r.body_json()["type"].as_str().unwrap().to_string())
        .collect();
    at_endpoint.sort();
    let mut expected: Vec<String> = all.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(at_endpoint, expected);
    // Discord got one embed per event, each titled with its label.
    let titles: Vec<String> = stand_in
        .received()
        .iter()
        .flat_map(|m| m.body["embeds"].as_array().unwrap().clone())
        .map(|e| e["title"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(titles.len(), 19);
    for event_type in EventType::all() {
        assert!(
            titles.iter().any(|t| t.contains(event_type.label())),
            "no embed for {event_type}"
        );
    }
}

/// A real (not test) event, as a printer or the simulator sends it.
fn real(id: &str) -> farmhook::core::payload::Event {
    let mut e = event(id);
    e.test = false;
    e
}

/// Every final record, waiting for each with a generous deadline.
async fn all_records(
    waiting: Vec<tokio::sync::oneshot::Receiver<DeliveryRecord>>,
) -> Vec<DeliveryRecord> {
    let mut records = Vec::new();
    for w in waiting {
        let record = tokio::time::timeout(Duration::from_secs(60), w)
            .await
            .expect("every event ends in the log")
            .unwrap();
        records.push(record);
    }
    records
}

#[tokio::test(flavor = "multi_thread")]
async fn a_burst_beyond_the_custom_webhook_queue_is_summarised_not_lost() {
    let slow = Endpoint::start(Behaviour::Slow {
        status: 200,
        delay: Duration::from_millis(200),
    })
    .await;
    let config = DeliveryConfig {
        webhook_queue: 10,
        webhook_concurrency: 2,
        ..fast_config()
    };
    let (d, _) = dispatcher(config);
    let events: Vec<_> = (0..200)
        .map(|i| real(["job.failed", "printer.offline"][i % 2]))
        .collect();
    let waiting = events
        .iter()
        .map(|e| d.submit(webhook(&slow.url(), None), e.clone()))
        .collect();
    let records = all_records(waiting).await;

    let delivered = records
        .iter()
        .filter(|r| r.outcome == Outcome::Delivered)
        .count();
    let summarised: Vec<_> = records
        .iter()
        .filter(|r| r.outcome == Outcome::Summarised)
        .collect();
    assert_eq!(
        delivered + summarised.len(),
        200,
        "every event is accounted for"
    );
    // Ten wait and two are in flight; more only as the slow endpoint
    // answers while the burst is still being submitted.
    assert!(delivered >= 10, "{delivered} delivered");
    assert!(summarised.len() >= 100, "{} summarised", summarised.len());
    assert_eq!(slow.hits(), delivered, "only delivered events were sent");
    for r in &summarised {
        let why = r.error.as_deref().unwrap();
        assert!(why.contains("10 events were already waiting"), "{why}");
        assert!(r.attempts.is_empty());
    }
    // The log holds each event once, and says the same.
    d.idle().await;
    let log = d.log_snapshot();
    let mut logged: Vec<&str> = log
        .iter()
        .flat_map(|r| r.events.iter().map(|e| e.id.as_str()))
        .collect();
    logged.sort();
    let mut sent: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
    sent.sort();
    assert_eq!(logged, sent);
    assert_eq!(
        log.iter()
            .filter(|r| r.outcome == Outcome::Summarised)
            .count(),
        summarised.len()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_burst_beyond_the_discord_queue_is_told_as_and_n_more_events() {
    let stand_in = DiscordStandIn::start().await;
    let url = stand_in.webhook_url();
    let config = DeliveryConfig {
        chat_queue: 20,
        ..fast_config()
    };
    let (d, _) = dispatcher(config);
    let waiting = (0..300)
        .map(|i| {
            d.submit(
                discord(&stand_in, &url),
                real(["job.failed", "printer.offline", "job.failed"][i % 3]),
            )
        })
        .collect();
    let records = all_records(waiting).await;

    let delivered: usize = records
        .iter()
        .filter(|r| r.outcome == Outcome::Delivered)
        .count();
    let summarised: Vec<_> = records
        .iter()
        .filter(|r| r.outcome == Outcome::Summarised)
        .collect();
    assert_eq!(delivered + summarised.len(), 300);
    assert!(summarised.len() >= 150, "{} summarised", summarised.len());
    assert!(
        summarised
            .iter()
            .all(|r| r.error.as_deref().unwrap().contains("and … more events")),
        "{:?}",
        summarised[0].error
    );
    // Discord got every delivered event as an embed, and summaries that
    // add up to every summarised one.
    let mut embeds_for_events = 0;
    let mut told = 0u64;
    for message in stand_in.received() {
        for embed in message.body["embeds"].as_array().unwrap() {
            let title = embed["title"].as_str().unwrap();
            if let Some(rest) = title.strip_prefix("… and ") {
                told += rest.split(' ').next().unwrap().parse::<u64>().unwrap();
                assert!(title.contains("job.failed ×"), "{title}");
            } else {
                embeds_for_events += 1;
            }
        }
    }
    assert_eq!(embeds_for_events, delivered);
    assert_eq!(
        told,
        summarised.len() as u64,
        "the summaries count every shed event"
    );
    assert!(stand_in.count_429() <= 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_test_that_finds_the_queue_full_fails_with_the_reason() {
    let silent = Endpoint::start(Behaviour::NeverAnswer).await;
    let mut config = DeliveryConfig {
        webhook_queue: 2,
        webhook_concurrency: 1,
        ..fast_config()
    };
    // The first delivery holds the one slot for the whole test, however
    // slow a loaded machine makes the rest of it (shutdown cuts it short).
    config.http.total_timeout = Duration::from_secs(120);
    let (d, _) = dispatcher(config);
    // One in flight, one taken by the worker waiting for a slot, two
    // queued: six real events fill the queue however fast the worker is.
    let _busy: Vec<_> = (0..6)
        .map(|_| d.submit(webhook(&silent.url(), None), real("job.failed")))
        .collect();
    // So one more real event and a test find it full.
    let mut extra = Vec::new();
    for _ in 0..2 {
        extra.push(d.submit(webhook(&silent.url(), None), real("job.failed")));
    }
    let test = d
        .submit(webhook(&silent.url(), None), event("job.failed"))
        .await
        .unwrap();
    assert_eq!(test.outcome, Outcome::Failed, "{:?}", test.error);
    assert!(
        test.error.as_deref().unwrap().contains("already waiting"),
        "{:?}",
        test.error
    );
    let extra = all_records(extra).await;
    assert!(extra.iter().any(|r| r.outcome == Outcome::Summarised));
    d.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pause_ends_the_queued_discord_events_without_another_request() {
    let stand_in = DiscordStandIn::start().await;
    let url = stand_in.webhook_url();
    stand_in.delete_webhook(&url);
    let (d, _) = dispatcher(fast_config());
    let waiting = (0..40)
        .map(|_| d.submit(discord(&stand_in, &url), real("job.failed")))
        .collect();
    let records = all_records(waiting).await;
    assert_eq!(
        stand_in.requests().len(),
        1,
        "one 404, then nothing more to a deleted webhook"
    );
    assert!(records.iter().all(|r| r.outcome == Outcome::Failed));
    let paused = records
        .iter()
        .filter(|r| r.error.as_deref().unwrap().contains("is paused"))
        .count();
    let deleted = records
        .iter()
        .filter(|r| r.error.as_deref().unwrap().contains("deleted (404"))
        .count();
    assert_eq!(paused + deleted, 40);
    assert!(paused >= 30, "{paused} ended by the pause");
    assert!(
        records
            .iter()
            .filter(|r| r.error.as_deref().unwrap().contains("is paused"))
            .all(|r| r.attempts.is_empty())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pause_ends_deliveries_waiting_to_retry_at_once() {
    // Seven deliveries get a 503 and would wait ten minutes to retry; the
    // eighth gets a 400, which pauses the custom webhook (pause after 1).
    let mut statuses = vec![503; 7];
    statuses.push(400);
    let endpoint = Endpoint::start(Behaviour::Sequence(statuses)).await;
    let mut config = fast_config();
    config.pause_after = 1;
    config.webhook_concurrency = 8;
    config.retry.base_delay = Duration::from_secs(600);
    config.retry.max_delay = Duration::from_secs(600);
    let (d, _) = dispatcher(config);
    let waiting = (0..20)
        .map(|_| d.submit(webhook(&endpoint.url(), None), real("job.failed")))
        .collect();
    let records = all_records(waiting).await;
    assert_eq!(endpoint.hits(), 8, "nothing is sent after the pause");
    assert!(records.iter().all(|r| r.outcome == Outcome::Failed));
    let words = |r: &DeliveryRecord| r.error.clone().unwrap_or_default();
    let waited = records
        .iter()
        .filter(|r| words(r).contains("paused while this waited to retry"))
        .count();
    let queued = records
        .iter()
        .filter(|r| words(r).contains("is paused") && r.attempts.is_empty())
        .count();
    assert_eq!(
        waited,
        7,
        "{:?}",
        records.iter().map(words).collect::<Vec<_>>()
    );
    assert_eq!(queued, 12);
    assert!(d.health(Channel::Webhook).paused.is_some());
    assert_eq!(d.health(Channel::Webhook).next_retry_at, None);
}

/// The one can-it-send rule decides for real events too: an enabled
/// channel whose secrets cannot be read is a failure in the log (not a
/// silent skip), one turned off is filtered, one never set up is left out.
#[tokio::test(flavor = "multi_thread")]
async fn real_events_follow_the_one_can_it_send_rule() {
    use farmhook::core::settings::{Plan, Settings};
    use farmhook::engine::service::{SecretsView, route_event};
    let (d, _) = dispatcher(fast_config());
    let mut settings = Settings {
        plan: Plan::Commercial,
        ..Settings::default()
    };
    settings.channels[Channel::Discord].enabled = true;
    let mut unreadable = SecretsView::default();
    unreadable.keyring_error = Some("no Secret Service is running".into());
    let started = route_event(
        &d,
        &settings,
        &unreadable,
        &ApiBases::default(),
        real("job.failed"),
    );
    assert!(started.is_empty());
    let log = d.log_snapshot();
    let by = |dest: Channel| log.iter().find(|r| r.destination == dest).cloned();
    let discord = by(Channel::Discord).expect("the enabled channel is in the log");
    assert_eq!(discord.outcome, Outcome::Failed);
    assert!(
        discord
            .error
            .as_deref()
            .unwrap()
            .contains("could not be read from the keyring"),
        "{:?}",
        discord.error
    );
    // The custom webhook is off: filtered, with the reason.
    let webhook = by(Channel::Webhook).expect("the webhook is in the log");
    assert_eq!(webhook.outcome, Outcome::Filtered);
    assert_eq!(
        webhook.error.as_deref(),
        Some("Custom webhook is turned off")
    );

    // Readable and nothing set up: nothing to record at all.
    let (d, _) = dispatcher(fast_config());
    route_event(
        &d,
        &settings,
        &SecretsView::default(),
        &ApiBases::default(),
        real("job.failed"),
    );
    assert!(d.log_snapshot().is_empty());
}
