//! The Slack stand-in behaves like Slack's incoming webhooks, proved with
//! plain reqwest before the engine is tested on it: it posts farmhook's own
//! messages, paces each webhook, answers with Slack's plain-text codes, and
//! refuses what Slack would (or what would ping someone).

use std::time::{Duration, Instant};

use farmhook::core::channels::slack;
use farmhook::core::events::EventType;
use farmhook::core::payload::Event;
use farmhook::core::summary::Summary;
use reqwest::{Client, Response};
use serde_json::{Value, json};

use crate::support::endpoint::WAIT_LIMIT;
use crate::support::slack_stand_in::{Failure, SlackStandIn, StandInConfig};

fn client() -> Client {
    farmhook::engine::crypto::install();
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(1))
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client builds")
}

/// A stand-in that never rate-limits, for tests about other things.
async fn unpaced() -> SlackStandIn {
    SlackStandIn::start_with(StandInConfig {
        per_second: 1000.0,
        burst: 1000,
    })
    .await
}

/// Slack's answer: status, lower-case headers, body.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    async fn of(response: Response) -> Answer {
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        let body = response.text().await.expect("body read");
        Answer {
            status,
            headers,
            body,
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn pause_reason(&self) -> Option<String> {
        slack::pause_reason(self.status, &self.headers, self.body.as_bytes())
    }
}

async fn post_json(client: &Client, url: &str, body: &Value) -> Answer {
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .body(serde_json::to_vec(body).unwrap())
        .send()
        .await
        .expect("request answered");
    Answer::of(response).await
}

fn simple() -> Value {
    json!({"text": "Job failed · X1C-07"})
}

fn sample_events() -> Vec<Event> {
    let now = time::OffsetDateTime::now_utc();
    EventType::all()
        .enumerate()
        .map(|(n, t)| Event::sample(t, format!("evt_{n}"), now))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn slack_posts_farmhooks_messages_for_every_event_type() {
    let slack_ = unpaced().await;
    let webhook = slack_.webhook_url();
    assert!(webhook.starts_with(&format!(
        "https://hooks.slack.com/services/{}/B",
        crate::support::slack_stand_in::TEAM_ID
    )));
    let parsed = slack::SlackWebhookUrl::parse(&webhook).expect("farmhook accepts the URL");
    let url = parsed.expose_api_url(&slack_.base());
    assert_eq!(url, slack_.api_url(&webhook));
    let client = client();

    let events = sample_events();
    let mut summary = Summary::default();
    summary.add(events[0].event_type);
    let batches: Vec<&[Event]> = events.chunks(slack::MAX_EVENTS_PER_MESSAGE).collect();
    for batch in &batches {
        let answer = post_json(&client, &url, &slack::message(batch, Some(&summary))).await;
        assert_eq!((answer.status, answer.body.as_str()), (200, "ok"));
    }
    slack_.wait_for_received(batches.len()).await;
    let received = slack_.received();
    let titles: Vec<String> = received.iter().flat_map(|m| m.header_texts()).collect();
    assert_eq!(titles.len(), events.len());
    assert!(
        titles.iter().all(|t| t.starts_with("[TEST] ")),
        "{titles:?}"
    );
    assert!(received[0].text.starts_with("[TEST] "));
    assert_eq!(received[0].header("content-type"), Some("application/json"));
    assert_eq!(
        received[0].webhook,
        format!("{}/{}", parsed.team_id(), parsed.webhook_id())
    );
    assert!(slack_.pings().is_empty());

    let seen = slack_.requests();
    let expected_path = format!(
        "/services/{}/{}/<token>",
        parsed.team_id(),
        parsed.webhook_id()
    );
    assert!(seen.iter().all(|r| r.path_without_secret == expected_path));
    assert!(!format!("{seen:?}").contains(parsed.expose_secret()));
}

#[tokio::test(flavor = "multi_thread")]
async fn slack_paces_each_webhook_and_answers_429_with_retry_after() {
    let slack_ = SlackStandIn::start().await;
    let (first, second) = (slack_.webhook_url(), slack_.webhook_url());
    let (url, other) = (slack_.api_url(&first), slack_.api_url(&second));
    let client = client();

    // The burst of 3 goes through at once; the fourth waits its turn.
    for _ in 0..3 {
        assert_eq!(post_json(&client, &url, &simple()).await.status, 200);
    }
    let answer = post_json(&client, &url, &simple()).await;
    assert_eq!((answer.status, answer.body.as_str()), (429, "rate_limited"));
    assert_eq!(answer.header("retry-after"), Some("1"));
    assert_eq!(
        slack::asked_wait(answer.status, &answer.headers, answer.body.as_bytes()),
        Some(1.0)
    );
    assert_eq!(answer.pause_reason(), None);
    assert_eq!(slack_.count_429(), 1);

    // Another webhook has its own pace.
    assert_eq!(post_json(&client, &other, &simple()).await.status, 200);

    // About a second later the first may post again.
    let deadline = Instant::now() + WAIT_LIMIT;
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if post_json(&client, &url, &simple()).await.status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "the webhook never refilled");
    }
    assert_eq!(slack_.received().len(), 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn slack_scripted_failures_come_in_order_then_it_serves_again() {
    let slack_ = unpaced().await;
    let url = slack_.api_url(&slack_.webhook_url());
    let client = client();
    slack_.fail_next(1, Failure::server_error());
    slack_.fail_next(2, Failure::rate_limited(7));
    slack_.fail_next(1, Failure::action_prohibited());
    slack_.fail_next(1, Failure::no_service());
    slack_.fail_next(1, Failure::channel_is_archived());

    let answer = post_json(&client, &url, &simple()).await;
    assert_eq!((answer.status, answer.body.as_str()), (500, "rollup_error"));
    assert_eq!(answer.pause_reason(), None);
    for _ in 0..2 {
        let answer = post_json(&client, &url, &simple()).await;
        assert_eq!((answer.status, answer.body.as_str()), (429, "rate_limited"));
        assert_eq!(answer.header("retry-after"), Some("7"));
    }
    for (status, code) in [
        (403, "action_prohibited"),
        (404, "no_service"),
        (410, "channel_is_archived"),
    ] {
        let answer = post_json(&client, &url, &simple()).await;
        assert_eq!((answer.status, answer.body.as_str()), (status, code));
        let reason = answer.pause_reason().expect("a gone answer pauses");
        assert!(
            reason.contains(code) && reason.ends_with("press Resume"),
            "{reason}"
        );
    }
    let answer = post_json(&client, &url, &simple()).await;
    assert_eq!((answer.status, answer.body.as_str()), (200, "ok"));
    assert_eq!(slack_.received().len(), 1);
    assert_eq!(slack_.count_429(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn slack_archived_deleted_wrong_secret_and_unknown_webhooks() {
    let slack_ = unpaced().await;
    let webhook = slack_.webhook_url();
    let url = slack_.api_url(&webhook);
    let client = client();

    slack_.archive_channel(&webhook);
    let answer = post_json(&client, &url, &simple()).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (410, "channel_is_archived")
    );
    slack_.unarchive_channel(&webhook);
    assert_eq!(post_json(&client, &url, &simple()).await.status, 200);

    let (secret_start, _) = url.rsplit_once('/').unwrap();
    let wrong_secret = format!("{secret_start}/AAAAAAAAAAAAAAAAAAAAAAAA");
    let answer = post_json(&client, &wrong_secret, &simple()).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (403, "invalid_token")
    );

    let unknown = format!(
        "{}/services/T0FARMHOOK/B999/AAAAAAAAAAAAAAAAAAAAAAAA",
        slack_.base()
    );
    let answer = post_json(&client, &unknown, &simple()).await;
    assert_eq!((answer.status, answer.body.as_str()), (404, "no_service"));

    let get = client.get(&url).send().await.expect("answered");
    assert_eq!(get.status().as_u16(), 405);

    slack_.delete_webhook(&webhook);
    let answer = post_json(&client, &url, &simple()).await;
    assert_eq!((answer.status, answer.body.as_str()), (404, "no_service"));
    let reason = answer.pause_reason().unwrap();
    assert!(
        reason.starts_with("Slack says this webhook no longer exists (404 no_service)"),
        "{reason}"
    );
    assert_eq!(slack_.received().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn slack_refuses_what_it_cannot_read_or_lay_out() {
    let slack_ = unpaced().await;
    let url = slack_.api_url(&slack_.webhook_url());
    let client = client();

    let not_json = client
        .post(&url)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("answered");
    let answer = Answer::of(not_json).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (400, "invalid_payload")
    );

    let answer = post_json(&client, &url, &json!({"text": " "})).await;
    assert_eq!((answer.status, answer.body.as_str()), (400, "no_text"));

    let too_many = json!({"text": "t", "blocks": vec![json!({"type": "divider"}); 51]});
    let answer = post_json(&client, &url, &too_many).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (400, "invalid_blocks")
    );

    let long_header = json!({"text": "t", "blocks": [
        {"type": "header", "text": {"type": "plain_text", "text": "h".repeat(151)}},
        {"type": "section", "fields": vec![json!({"type": "mrkdwn", "text": "f", "emoji": true}); 11]},
    ]});
    let answer = post_json(&client, &url, &long_header).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (400, "invalid_blocks")
    );
    let problems = slack_.requests().last().unwrap().problems.join("\n");
    for said in [
        "blocks[0].text.text has 151",
        "11 items",
        "emoji is only allowed",
    ] {
        assert!(problems.contains(said), "{said}: {problems}");
    }
    assert!(
        slack::answer_words(answer.status, &answer.headers, answer.body.as_bytes())
            .unwrap()
            .contains("(400 invalid_blocks)")
    );

    // Slack also takes the JSON as a `payload` form field.
    let form = client
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            url::form_urlencoded::Serializer::new(String::new())
                .append_pair("payload", &simple().to_string())
                .finish(),
        )
        .send()
        .await
        .expect("answered");
    assert_eq!(Answer::of(form).await.status, 200);
    assert_eq!(slack_.received().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn slack_refuses_and_records_anything_that_would_ping() {
    let slack_ = unpaced().await;
    let url = slack_.api_url(&slack_.webhook_url());
    let client = client();

    let ping = json!({"text": "Job failed", "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": "benchy <!channel>"}},
    ]});
    let answer = post_json(&client, &url, &ping).await;
    assert_eq!(answer.status, 400);
    let answer = post_json(&client, &url, &json!({"text": "hi <@U024BE7LD>"})).await;
    assert_eq!(answer.status, 400);
    assert_eq!(slack_.pings(), ["benchy <!channel>", "hi <@U024BE7LD>"]);

    // farmhook's own message for the same names is escaped and posted.
    let mut event = sample_events().remove(0);
    event.printer.as_mut().unwrap().name = "<!channel> <@U024BE7LD>".into();
    let answer = post_json(&client, &url, &slack::message(&[event], None)).await;
    assert_eq!(answer.status, 200);
    assert_eq!(slack_.pings().len(), 2);
    let title = &slack_.received()[0].header_texts()[0];
    assert!(
        title.contains("&lt;!channel&gt; &lt;@U024BE7LD&gt;"),
        "{title}"
    );
}
