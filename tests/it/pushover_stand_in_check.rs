//! The Pushover stand-in behaves like Pushover for farmhook, proved with
//! plain reqwest before the engine is tested on it: messages taken as JSON
//! or a form, Pushover's refusals in its words, the monthly quota in the
//! `X-Limit-App-*` headers running out into 429, scripted failures and
//! "gone" modes, and Verify's device list.

use std::time::Duration;

use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

use crate::support::pushover_stand_in::{Failure, Gone, PushoverConfig, PushoverStandIn};

const TOKEN: &str = "azGDORePK8gMaC0QOYAMyEEuzJnyUi";
const USER: &str = "uQiRzpo4DXghDmr9QzzfQu27cmVRsG";
const OTHER: &str = "Zz9Zz9Zz9Zz9Zz9Zz9Zz9Zz9Zz9Zz9";

fn client() -> Client {
    farmhook::engine::crypto::install();
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(1))
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client builds")
}

async fn post_json(url: &str, body: &Value) -> Response {
    client()
        .post(url)
        .header("content-type", "application/json")
        .body(serde_json::to_vec(body).unwrap())
        .send()
        .await
        .expect("request answered")
}

async fn post_form(url: &str, pairs: &[(&str, &str)]) -> Response {
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    client()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("request answered")
}

fn header(response: &Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("response has {name}"))
        .to_str()
        .unwrap()
        .to_string()
}

async fn json_of(response: Response) -> Value {
    let bytes = response.bytes().await.expect("body read");
    serde_json::from_slice(&bytes).expect("body is JSON")
}

fn message() -> Value {
    json!({
        "token": TOKEN,
        "user": USER,
        "title": "❌ Job failed · X1C-07",
        "message": "Nozzle clog\nPrinter: X1C-07",
        "priority": 1,
        "sound": "falling",
        "timestamp": 1_796_083_200u64,
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn pushover_takes_json_and_form_messages_and_counts_them_down() {
    let pushover = PushoverStandIn::start(TOKEN, USER).await;
    let response = post_json(&pushover.messages_url(), &message()).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "x-limit-app-limit"), "10000");
    assert_eq!(header(&response, "x-limit-app-remaining"), "9999");
    assert!(
        header(&response, "x-limit-app-reset")
            .parse::<i64>()
            .is_ok()
    );
    let body = json_of(response).await;
    assert_eq!(body["status"], 1);
    assert!(body["request"].as_str().is_some_and(|r| r.len() == 36));

    let response = post_form(
        &pushover.messages_url(),
        &[
            ("token", TOKEN),
            ("user", USER),
            ("message", "plain & <b>not bold</b>"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "x-limit-app-remaining"), "9998");

    pushover.wait_for_received(2).await;
    let received = pushover.received();
    assert_eq!(received[0].title.as_deref(), Some("❌ Job failed · X1C-07"));
    assert_eq!(received[0].message, "Nozzle clog\nPrinter: X1C-07");
    assert_eq!(received[0].priority, 1);
    assert_eq!(received[0].sound.as_deref(), Some("falling"));
    assert_eq!(received[0].timestamp, Some(1_796_083_200));
    assert!(!received[0].html);
    assert_eq!(received[0].params["token"], "<token>");
    assert_eq!(received[0].params["user"], "<user>");
    assert_eq!(received[1].message, "plain & <b>not bold</b>");
    assert_eq!(received[1].priority, 0);
    assert_eq!(pushover.remaining(), 9998);
    let seen = format!("{:?}", pushover.requests());
    assert!(!seen.contains(TOKEN) && !seen.contains(USER), "{seen}");
}

#[tokio::test(flavor = "multi_thread")]
async fn pushover_refuses_wrong_keys_and_broken_messages_in_its_words() {
    let pushover = PushoverStandIn::start(TOKEN, USER).await;
    let url = pushover.messages_url();
    let cases = [
        (
            json!({"token": OTHER}),
            "token",
            "application token is invalid",
        ),
        (json!({"user": OTHER}), "user", "user key is invalid"),
        (
            json!({"user": "not-a-key"}),
            "user",
            "user identifier is not a valid user, group, or subscribed user key",
        ),
        (
            json!({"message": " "}),
            "message",
            "message cannot be blank",
        ),
        (
            json!({"message": "m".repeat(1025)}),
            "message",
            "message cannot be longer than 1024 characters",
        ),
        (
            json!({"title": "🦀".repeat(251)}),
            "title",
            "title cannot be longer than 250 characters",
        ),
        (json!({"priority": 3}), "priority", "priority is invalid"),
        (json!({"priority": 2}), "retry", "retry is required"),
        (json!({"sound": "kazoo"}), "sound", "sound is invalid"),
        (
            json!({"timestamp": "soon"}),
            "timestamp",
            "timestamp is invalid",
        ),
    ];
    for (change, field, error) in cases {
        let mut body = message();
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let response = post_json(&url, &body).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{change}");
        assert_eq!(header(&response, "x-limit-app-remaining"), "10000");
        let answer = json_of(response).await;
        assert_eq!(answer["status"], 0, "{answer}");
        assert_eq!(answer[field], "invalid", "{answer}");
        let errors = answer["errors"].to_string();
        assert!(errors.contains(error), "{change}: {errors}");
    }
    // Exactly at the limits is fine.
    let mut body = message();
    body["title"] = json!("🦀".repeat(250));
    body["message"] = json!("é".repeat(1024));
    assert_eq!(post_json(&url, &body).await.status(), StatusCode::OK);
    assert_eq!(pushover.received().len(), 1);
    let seen = pushover.requests();
    assert_eq!(seen[0].params["token"], "<other>");
    assert_eq!(seen[1].params["token"], "<token>");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_exhausted_monthly_quota_answers_429_until_it_is_topped_up() {
    let mut config = PushoverConfig::new(TOKEN, USER);
    config.monthly_limit = 3;
    config.remaining = 2;
    config.reset_unix = Some(1_796_083_200);
    let pushover = PushoverStandIn::start_with(config).await;
    let url = pushover.messages_url();
    for left in ["1", "0"] {
        let response = post_json(&url, &message()).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(header(&response, "x-limit-app-remaining"), left);
    }
    let response = post_json(&url, &message()).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&response, "x-limit-app-limit"), "3");
    assert_eq!(header(&response, "x-limit-app-remaining"), "0");
    assert_eq!(header(&response, "x-limit-app-reset"), "1796083200");
    let answer = json_of(response).await;
    assert_eq!(answer["status"], 0);
    assert!(
        answer["errors"]
            .to_string()
            .contains("monthly message limit")
    );
    assert_eq!(pushover.count_429(), 1);
    assert_eq!(pushover.received().len(), 2);

    pushover.set_remaining(3);
    assert_eq!(post_json(&url, &message()).await.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn scripted_failures_come_first_then_gone_mode_holds_until_cleared() {
    let pushover = PushoverStandIn::start(TOKEN, USER).await;
    let url = pushover.messages_url();
    pushover.fail_next(1, Failure::Server(503));
    pushover.fail_next(1, Failure::OverQuota);
    pushover.fail_next(1, Failure::InvalidUser);
    let response = post_json(&url, &message()).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let response = post_json(&url, &message()).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let response = post_json(&url, &message()).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json_of(response).await["errors"][0], "user key is invalid");
    assert_eq!(post_json(&url, &message()).await.status(), StatusCode::OK);
    assert_eq!(pushover.received().len(), 1);
    // Scripted failures leave the quota alone.
    assert_eq!(pushover.remaining(), 9999);

    pushover.set_gone(Some(Gone::Token));
    for _ in 0..2 {
        let response = post_json(&url, &message()).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let answer = json_of(response).await;
        assert_eq!(answer["token"], "invalid");
        assert_eq!(answer["errors"][0], "application token is invalid");
    }
    pushover.set_gone(None);
    assert_eq!(post_json(&url, &message()).await.status(), StatusCode::OK);
    assert_eq!(pushover.received().len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn validate_lists_the_devices_of_the_known_user_and_refuses_others() {
    let pushover = PushoverStandIn::start(TOKEN, USER).await;
    let url = pushover.validate_url();
    let response = post_form(&url, &[("token", TOKEN), ("user", USER)]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "x-limit-app-remaining"), "10000");
    let answer = json_of(response).await;
    assert_eq!(answer["status"], 1);
    assert_eq!(answer["group"], 0);
    assert_eq!(answer["devices"], json!(["iphone", "pixel8"]));

    let answer = json_of(post_json(&url, &json!({"token": TOKEN, "user": OTHER})).await).await;
    assert_eq!(answer["status"], 0);
    assert_eq!(answer["errors"][0], "user key is invalid");
    let response = post_json(&url, &json!({"token": OTHER, "user": USER})).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(pushover.received().is_empty(), "validate delivers nothing");

    let mut config = PushoverConfig::new(TOKEN, USER);
    config.is_group = true;
    let group = PushoverStandIn::start_with(config).await;
    let answer = json_of(
        post_json(
            &group.validate_url(),
            &json!({"token": TOKEN, "user": USER}),
        )
        .await,
    )
    .await;
    assert_eq!(answer["group"], 1);
    assert_eq!(answer["devices"], json!([]));

    let response = client().get(pushover.messages_url()).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test(flavor = "multi_thread")]
async fn pushover_takes_every_body_farmhook_builds_even_for_huge_bursts() {
    use farmhook::core::channels::pushover::{self, AppToken, UserKey};
    use farmhook::core::events::EventType;
    use farmhook::core::payload::Event;
    use farmhook::core::summary::Summary;

    let pushover_stand_in = PushoverStandIn::start(TOKEN, USER).await;
    let (token, user) = (
        AppToken::parse(TOKEN).unwrap(),
        UserKey::parse(USER).unwrap(),
    );
    let now = time::OffsetDateTime::now_utc();
    let mut events: Vec<Event> = EventType::all()
        .map(|t| Event::sample(t, "evt_1".into(), now))
        .collect();
    for event in &events {
        let body = pushover::message(std::slice::from_ref(event), None, &token, &user);
        let response = post_json(&pushover::messages_url(&pushover_stand_in.base()), &body).await;
        assert_eq!(response.status(), StatusCode::OK, "{}", event.event_type);
    }
    for event in &mut events {
        if let Some(printer) = event.printer.as_mut() {
            printer.name = "<b>@everyone</b> 🦀".repeat(400);
        }
        if let Some(job) = event.job.as_mut() {
            job.reason = Some("é\r\n".repeat(4000));
        }
    }
    let mut summary = Summary::default();
    for event in &events {
        summary.add(event.event_type);
    }
    for batch in events.chunks(pushover::MAX_EVENTS_PER_MESSAGE) {
        let body = pushover::message(batch, Some(&summary), &token, &user);
        let response = post_json(&pushover::messages_url(&pushover_stand_in.base()), &body).await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    let received = pushover_stand_in.received();
    assert_eq!(received.len(), EventType::all().count() + 2);
    assert!(received.iter().all(|m| !m.html));
}
