//! The loopback stand-ins for Discord and customers' endpoints behave as
//! specified, proved with plain reqwest before the engine is tested on them.

use std::time::{Duration, Instant};

use crate::support::discord_stand_in::{DiscordStandIn, StandInConfig};
use crate::support::endpoint::{Behaviour, Endpoint, refused_url};
use crate::support::tls::TlsEndpoint;
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

fn client() -> Client {
    farmhook::engine::crypto::install();
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(1))
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client builds")
}

async fn post_json(client: &Client, url: &str, body: &Value) -> Response {
    client
        .post(url)
        .header("content-type", "application/json")
        .body(serde_json::to_vec(body).unwrap())
        .send()
        .await
        .expect("request answered")
}

async fn json_of(response: Response) -> Value {
    let bytes = response.bytes().await.expect("body read");
    serde_json::from_slice(&bytes).expect("body is JSON")
}

fn header<'a>(response: &'a Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("response has {name}"))
        .to_str()
        .unwrap()
}

fn float_header(response: &Response, name: &str) -> f64 {
    header(response, name).parse().expect("a float")
}

fn message() -> Value {
    json!({
        "embeds": [{
            "title": "Job failed",
            "description": "benchy.3mf on X1C-07",
            "color": 0xE74C3C,
            "timestamp": "2026-11-26T18:49:59.123Z",
            "fields": [{"name": "Printer", "value": "X1C-07", "inline": true}],
        }],
        "allowed_mentions": {"parse": []},
    })
}

// --- Discord stand-in ------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn discord_accepts_five_then_rate_limits_the_sixth() {
    let discord = DiscordStandIn::start().await;
    let webhook = discord.webhook_url();
    assert!(webhook.starts_with("https://discord.com/api/webhooks/"));
    let url = discord.api_url(&webhook);
    assert!(url.starts_with(&format!("{}/v10/webhooks/", discord.api_base())));
    let client = client();

    for remaining in (0..5).rev() {
        let response = post_json(&client, &url, &message()).await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        assert_eq!(header(&response, "x-ratelimit-limit"), "5");
        assert_eq!(
            header(&response, "x-ratelimit-remaining"),
            remaining.to_string()
        );
        let reset_after = float_header(&response, "x-ratelimit-reset-after");
        assert!(reset_after > 0.0 && reset_after <= 2.0, "{reset_after}");
        assert!(float_header(&response, "x-ratelimit-reset") > 1.7e9);
        assert!(!header(&response, "x-ratelimit-bucket").is_empty());
    }

    let response = post_json(&client, &url, &message()).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&response, "x-ratelimit-remaining"), "0");
    assert_eq!(header(&response, "x-ratelimit-scope"), "user");
    let retry_after_header: u64 = header(&response, "retry-after").parse().unwrap();
    assert!((1..=2).contains(&retry_after_header));
    let body = json_of(response).await;
    assert_eq!(body["message"], "You are being rate limited.");
    assert_eq!(body["global"], false);
    let retry_after = body["retry_after"]
        .as_f64()
        .expect("retry_after is a number");
    assert!(retry_after > 0.0 && retry_after <= 2.0, "{retry_after}");
    assert_eq!(retry_after.ceil() as u64, retry_after_header);

    assert_eq!(discord.received().len(), 5);
    assert_eq!(discord.requests().len(), 6);
    assert_eq!(discord.count_429(), 1);
    let first = &discord.received()[0];
    assert_eq!(first.body, message());
    assert_eq!(first.header("content-type"), Some("application/json"));
    assert!(url.contains(&format!("/{}/", first.webhook_id)));
}

#[tokio::test(flavor = "multi_thread")]
async fn discord_bucket_refills_after_the_window() {
    let discord = DiscordStandIn::start_with(StandInConfig {
        bucket_size: 2,
        bucket_window: Duration::from_millis(400),
        ..StandInConfig::default()
    })
    .await;
    let url = discord.api_url(&discord.webhook_url());
    let other = discord.api_url(&discord.webhook_url());
    let client = client();

    for _ in 0..2 {
        let response = post_json(&client, &url, &message()).await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
    }
    let limited = post_json(&client, &url, &message()).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    // Buckets are per webhook.
    let response = post_json(&client, &other, &message()).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);

    // This test is about time passing: wait out the window it announced.
    let wait = float_header(&limited, "x-ratelimit-reset-after");
    tokio::time::sleep(Duration::from_secs_f64(wait) + Duration::from_millis(20)).await;
    let response = post_json(&client, &url, &message()).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(header(&response, "x-ratelimit-remaining"), "1");
    assert_eq!(discord.received().len(), 4);
    assert_eq!(discord.count_429(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn discord_deleted_wrong_token_and_unknown_webhooks() {
    let discord = DiscordStandIn::start().await;
    let webhook = discord.webhook_url();
    let url = discord.api_url(&webhook);
    let client = client();

    let (base, token) = url.rsplit_once('/').unwrap();
    let wrong = format!("{base}/{}", "x".repeat(token.len()));
    let response = post_json(&client, &wrong, &message()).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        json_of(response).await,
        json!({"message": "Invalid Webhook Token", "code": 50027})
    );

    let unknown = format!("{}/v10/webhooks/1/{token}", discord.api_base());
    let response = post_json(&client, &unknown, &message()).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(json_of(response).await["code"], 10015);

    discord.delete_webhook(&webhook);
    let response = post_json(&client, &url, &message()).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(response.headers().contains_key("x-ratelimit-remaining"));
    assert_eq!(
        json_of(response).await,
        json!({"message": "Unknown Webhook", "code": 10015})
    );
    let response = client.get(&url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(json_of(response).await["code"], 10015);

    // Only /api/v10 is served.
    let unversioned = url.replace("/api/v10/", "/api/");
    let response = post_json(&client, &unversioned, &message()).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    assert!(discord.received().is_empty());
    // No token in what a test could print.
    let seen = format!("{:?}{:?}", discord.requests(), discord.received());
    assert!(!seen.contains(token), "the token leaked: {seen}");
    assert!(
        discord
            .requests()
            .iter()
            .all(|r| r.path_without_token.ends_with("/<token>"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn discord_get_describes_the_webhook() {
    let discord = DiscordStandIn::start().await;
    let webhook = discord.webhook_url();
    let response = client()
        .get(discord.api_url(&webhook))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let info = json_of(response).await;
    let (_, token) = webhook.rsplit_once('/').unwrap();
    assert_eq!(info["token"], token);
    assert_eq!(info["type"], 1);
    assert_eq!(info["name"], "Farm alerts");
    assert!(webhook.contains(info["id"].as_str().unwrap()));
    assert!(info["channel_id"].as_str().is_some());
    assert!(info["guild_id"].as_str().is_some());
    assert!(info["application_id"].is_null());
    assert!(info["avatar"].is_null());
    // Two webhooks are distinct.
    assert_ne!(discord.webhook_url(), webhook);
}

#[tokio::test(flavor = "multi_thread")]
async fn discord_enforces_message_limits() {
    let discord = DiscordStandIn::start_with(StandInConfig {
        bucket_size: 100,
        ..StandInConfig::default()
    })
    .await;
    let url = discord.api_url(&discord.webhook_url());
    let client = client();

    let check = |body: Value, path: &'static [&'static str]| {
        let client = client.clone();
        let url = url.clone();
        async move {
            let response = post_json(&client, &url, &body).await;
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
            let answer = json_of(response).await;
            assert_eq!(answer["code"], 50035, "{answer}");
            assert_eq!(answer["message"], "Invalid Form Body");
            let mut node = &answer["errors"];
            for segment in path {
                node = &node[*segment];
            }
            assert!(node["_errors"].is_array(), "no error at {path:?}: {answer}");
        }
    };
    check(
        json!({"embeds": [{"title": "t".repeat(257)}]}),
        &["embeds", "0", "title"],
    )
    .await;
    check(
        json!({"embeds": [{"description": "d".repeat(4097)}]}),
        &["embeds", "0", "description"],
    )
    .await;
    let fields: Vec<Value> = (0..26)
        .map(|_| json!({"name": "n", "value": "v"}))
        .collect();
    check(
        json!({"embeds": [{"title": "t", "fields": fields}]}),
        &["embeds", "0", "fields"],
    )
    .await;
    check(
        json!({"embeds": [{"fields": [{"name": "n", "value": "v".repeat(1025)}]}]}),
        &["embeds", "0", "fields", "0", "value"],
    )
    .await;
    let big: Vec<Value> = (0..2)
        .map(|_| json!({"title": "t", "description": "d".repeat(3500)}))
        .collect();
    check(json!({"embeds": big}), &["embeds"]).await;
    let eleven: Vec<Value> = (0..11).map(|_| json!({"title": "t"})).collect();
    check(json!({"embeds": eleven}), &["embeds"]).await;

    // Empty, or not JSON.
    let response = post_json(&client, &url, &json!({"embeds": []})).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        json_of(response).await,
        json!({"message": "Cannot send an empty message", "code": 50006})
    );
    let response = client.post(&url).body("hello").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json_of(response).await["code"], 50006);

    // Exactly at the limits is fine; ?wait=true answers with the message.
    let at_limits = json!({"content": "c".repeat(2000), "embeds": [{
        "title": "t".repeat(256),
        "description": "d".repeat(4096),
        "fields": (0..25).map(|_| json!({"name": "n", "value": "v".repeat(40)})).collect::<Vec<_>>(),
    }]});
    let response = post_json(&client, &format!("{url}?wait=true"), &at_limits).await;
    assert_eq!(response.status(), StatusCode::OK);
    let answer = json_of(response).await;
    assert_eq!(answer["embeds"], at_limits["embeds"]);
    assert!(answer["id"].as_str().is_some());

    assert_eq!(discord.received().len(), 1);
    assert_eq!(discord.received()[0].body, at_limits);
    assert!(
        discord
            .requests()
            .last()
            .unwrap()
            .path_without_token
            .ends_with("/<token>?wait=true")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn discord_forced_answer() {
    let discord = DiscordStandIn::start_with(StandInConfig {
        answer: Some(500),
        ..StandInConfig::default()
    })
    .await;
    let url = discord.api_url(&discord.webhook_url());
    let client = client();
    let response = post_json(&client, &url, &message()).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(response.headers().contains_key("x-ratelimit-limit"));

    discord.set_answer(Some(429));
    let response = post_json(&client, &url, &message()).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&response, "retry-after"), "2");

    discord.set_answer(Some(200));
    let response = post_json(&client, &url, &message()).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(discord.received().len(), 1);

    discord.set_answer(None);
    let response = post_json(&client, &url, &message()).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    discord.wait_for_received(2).await;
    let statuses: Vec<u16> = discord.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [500, 429, 200, 204]);
}

// --- Custom-webhook endpoints ----------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn endpoint_status_records_raw_headers_and_body() {
    let endpoint = Endpoint::start(Behaviour::Status(201)).await;
    assert!(endpoint.url().starts_with("http://127.0.0.1:"));
    assert!(endpoint.url().ends_with("/hook"));
    let client = client();
    let body = br#"{"id":"evt_1","type":"job.failed"}"#;
    for _ in 0..2 {
        let response = client
            .post(endpoint.url())
            .header("Content-Type", "application/json")
            .header("User-Agent", "farmhook/0.1.0")
            .header("X-API-Key", "  key With Spaces-inside ")
            .header("webhook-id", "evt_1")
            .header("webhook-timestamp", "1796064599")
            .header(
                "webhook-signature",
                "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
            )
            .body(&body[..])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        assert_eq!(json_of(response).await, json!({"ok": true}));
    }
    assert_eq!(endpoint.hits(), 2);
    for request in endpoint.requests() {
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/hook");
        assert_eq!(request.body, body);
        assert_eq!(request.header("x-api-key"), Some("key With Spaces-inside"));
        assert_eq!(request.header("webhook-id"), Some("evt_1"));
        assert_eq!(request.header("webhook-timestamp"), Some("1796064599"));
        assert_eq!(
            request.header("webhook-signature"),
            Some("v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=")
        );
        assert_eq!(request.header("content-type"), Some("application/json"));
        assert_eq!(request.header("user-agent"), Some("farmhook/0.1.0"));
        assert!(request.headers.iter().all(|(k, _)| *k == k.to_lowercase()));
        assert_eq!(request.body_json()["type"], "job.failed");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn endpoint_sequence_then_repeats_the_last() {
    let endpoint = Endpoint::start(Behaviour::Sequence(vec![503, 500, 200])).await;
    let client = client();
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(
            post_json(&client, &endpoint.url(), &json!({}))
                .await
                .status()
                .as_u16(),
        );
    }
    assert_eq!(statuses, [503, 500, 200, 200]);
    assert_eq!(endpoint.hits(), 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn endpoint_retry_after_and_redirect() {
    let endpoint = Endpoint::start(Behaviour::RetryAfter {
        status: 429,
        seconds: 7,
    })
    .await;
    let client = client();
    let response = post_json(&client, &endpoint.url(), &json!({})).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&response, "retry-after"), "7");

    let target = Endpoint::start(Behaviour::Status(200)).await;
    for status in [307, 308] {
        let redirect = Endpoint::start(Behaviour::Redirect {
            status,
            location: target.url(),
        })
        .await;
        let response = post_json(&client, &redirect.url(), &json!({})).await;
        assert_eq!(response.status().as_u16(), status);
        assert_eq!(header(&response, "location"), target.url());
        assert_eq!(redirect.hits(), 1);
    }
    assert_eq!(target.hits(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn endpoint_huge_body_streams() {
    const SIZE: u64 = 64 * 1024 * 1024;
    let endpoint = Endpoint::start(Behaviour::HugeBody { bytes: SIZE }).await;
    let mut response = post_json(&client(), &endpoint.url(), &json!({})).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.content_length(), Some(SIZE));
    let mut read = 0;
    while read < 64 * 1024 {
        let chunk = response.chunk().await.unwrap().expect("more body");
        read += chunk.len();
    }
    drop(response);
    assert_eq!(endpoint.hits(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn endpoint_never_answer_times_out() {
    let endpoint = Endpoint::start(Behaviour::NeverAnswer).await;
    farmhook::engine::crypto::install();
    let client = Client::builder()
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let started = Instant::now();
    let error = client
        .post(endpoint.url())
        .body("{}")
        .send()
        .await
        .expect_err("no answer");
    assert!(error.is_timeout(), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(endpoint.hits(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn endpoint_slow_drip_trickles() {
    let endpoint = Endpoint::start(Behaviour::SlowDrip { bytes_per_sec: 100 }).await;
    farmhook::engine::crypto::install();
    let client = Client::builder()
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let mut response = client.post(endpoint.url()).body("{}").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let mut read = 0;
    let error = loop {
        match response.chunk().await {
            Ok(Some(chunk)) => read += chunk.len(),
            Ok(None) => panic!("the drip ended"),
            Err(error) => break error,
        }
    };
    assert!(error.is_timeout(), "{error:?}");
    assert!(
        read > 0 && read < 1000,
        "{read} bytes in about 1 s at 100 B/s"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn endpoint_close_immediately_and_refused() {
    let endpoint = Endpoint::start(Behaviour::CloseImmediately).await;
    let client = client();
    let error = client
        .post(endpoint.url())
        .body("{}")
        .send()
        .await
        .expect_err("the connection is reset");
    assert!(!error.is_timeout(), "{error:?}");
    assert_eq!(endpoint.hits(), 1);

    let error = client
        .post(refused_url())
        .body("{}")
        .send()
        .await
        .expect_err("nothing listens");
    assert!(error.is_connect(), "{error:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn endpoint_stops_when_dropped() {
    // A status no other stand-in answers: every test shares this process,
    // so a server another test starts may take the freed port.
    let endpoint = Endpoint::start(Behaviour::Status(207)).await;
    let url = endpoint.url();
    let client = client();
    assert_eq!(post_json(&client, &url, &json!({})).await.status(), 207);
    drop(endpoint);
    // The pooled keep-alive connection is gone too, not only the listener.
    // Dropping aborts the server's tasks, which end at their next step: a
    // request racing that step may still be answered, so ask until it is
    // not (at once, nearly always; a loaded machine may take a moment).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match client.post(&url).body("{}").send().await {
            Err(error) => {
                assert!(!error.is_timeout(), "{error:?}");
                break;
            }
            Ok(answer) if answer.status() != 207 => break,
            Ok(_) => assert!(
                std::time::Instant::now() < deadline,
                "the dropped endpoint still answers after 10 s"
            ),
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

// --- TLS ---------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn tls_endpoint_needs_its_certificate_trusted() {
    let endpoint = TlsEndpoint::start().await;
    assert!(endpoint.url().starts_with("https://localhost:"));

    let error = client()
        .post(endpoint.url())
        .body("{}")
        .send()
        .await
        .expect_err("self-signed certificate is not trusted by default");
    assert!(error.is_connect(), "{error:?}");
    assert!(format!("{error:?}").contains("UnknownIssuer"), "{error:?}");
    assert_eq!(endpoint.hits(), 0);

    let ca = reqwest::Certificate::from_pem(endpoint.ca_pem().as_bytes()).unwrap();
    farmhook::engine::crypto::install();
    let trusting = Client::builder()
        .tls_certs_only([ca])
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let response = trusting
        .post(endpoint.url())
        .header("x-api-key", "k")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(json_of(response).await, json!({"ok": true}));
    assert_eq!(endpoint.hits(), 1);
    assert_eq!(endpoint.requests()[0].header("x-api-key"), Some("k"));
}
