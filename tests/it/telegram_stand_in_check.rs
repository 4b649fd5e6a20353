//! The Telegram stand-in behaves like Telegram's Bot API for farmhook,
//! proved with plain reqwest (and farmhook's own pure Telegram rules reading
//! its answers) before the engine is tested on it.

use std::time::{Duration, Instant};

use farmhook::core::channels::telegram::{self, BotToken, ChatId};
use farmhook::core::events::EventType;
use farmhook::core::payload::Event;
use reqwest::{Client, Response};
use serde_json::{Value, json};

use crate::support::telegram_stand_in::{
    BOT_USERNAME, CHANNEL_CHAT, Failure, GROUP_CHAT, PRIVATE_CHAT, TelegramStandIn,
    TelegramStandInConfig, parse_html,
};

fn client() -> Client {
    farmhook::engine::crypto::install();
    Client::builder()
        .connect_timeout(Duration::from_secs(1))
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client builds")
}

async fn post_json(url: &str, body: &Value) -> (u16, Value) {
    let response = client()
        .post(url)
        .header("content-type", "application/json")
        .body(serde_json::to_vec(body).unwrap())
        .send()
        .await
        .expect("request answered");
    answer(response).await
}

async fn answer(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let bytes = response.bytes().await.expect("body read");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn text_message(chat: i64, text: &str) -> Value {
    json!({"chat_id": chat, "text": text, "parse_mode": "HTML"})
}

fn sample(id: &str) -> Event {
    Event::sample(
        EventType::from_id(id).unwrap(),
        "evt_check".into(),
        time::OffsetDateTime::now_utc(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn telegram_accepts_farmhooks_message_and_records_it_without_the_token() {
    let telegram = TelegramStandIn::start().await;
    let token = BotToken::parse(&telegram.token()).unwrap();
    let url = telegram::method_url(&telegram.base(), &token, "sendMessage");
    let mut event = sample("job.failed");
    event.printer.as_mut().unwrap().name = "<b>Voron</b> & @everyone".into();
    let body = telegram::message(&[event], None, &ChatId::Id(GROUP_CHAT));

    let (status, answer) = post_json(&url, &body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["ok"], true);
    assert_eq!(answer["result"]["chat"]["id"], GROUP_CHAT);
    assert_eq!(answer["result"]["from"]["username"], BOT_USERNAME);
    telegram.wait_for_received(1).await;

    let received = telegram.received();
    assert_eq!(received[0].chat_id, GROUP_CHAT);
    assert_eq!(received[0].parse_mode.as_deref(), Some("HTML"));
    assert!(
        received[0]
            .visible_text
            .starts_with("[TEST] ❌ Job failed · <b>Voron</b> & @\u{2060}everyone"),
        "{}",
        received[0].visible_text
    );
    assert_eq!(
        received[0].params["link_preview_options"]["is_disabled"],
        true
    );
    let seen = telegram.requests();
    assert_eq!(seen[0].path_without_token, "/bot<token>/sendMessage");
    assert_eq!(seen[0].api_method, "sendMessage");
    let secret = token.expose_secret_part();
    assert!(!format!("{seen:?}{received:?}").contains(secret));
}

#[tokio::test(flavor = "multi_thread")]
async fn telegram_takes_form_and_query_parameters_and_channel_usernames() {
    let telegram = TelegramStandIn::start().await;
    let response = client()
        .post(telegram.method_url("sendMessage"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            "chat_id=%40farmalerts&text=%3Cb%3EHello%3C%2Fb%3E&parse_mode=HTML\
             &link_preview_options=%7B%22is_disabled%22%3Atrue%7D",
        )
        .send()
        .await
        .unwrap();
    let (status, answer) = answer(response).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["result"]["text"], "Hello");
    let response = client()
        .get(format!(
            "{}?chat_id={PRIVATE_CHAT}&text=plain%20%3C%20text",
            telegram.method_url("sendmessage")
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(answer_status(response).await, 200);
    let received = telegram.received();
    assert_eq!(received[0].chat_id, CHANNEL_CHAT);
    assert_eq!(received[1].chat_id, PRIVATE_CHAT);
    assert_eq!(received[1].visible_text, "plain < text");
    assert_eq!(received[1].parse_mode, None);
}

async fn answer_status(response: Response) -> u16 {
    answer(response).await.0
}

#[tokio::test(flavor = "multi_thread")]
async fn telegram_refuses_bad_html_and_long_text_in_its_words() {
    let telegram = TelegramStandIn::start().await;
    let url = telegram.method_url("sendMessage");
    let cases = [
        (
            "<b>bold".to_string(),
            "can't parse entities: Can't find end tag corresponding to start tag \"b\"",
        ),
        (
            "a < b".into(),
            "can't parse entities: Unsupported start tag \"\" at byte offset 2",
        ),
        (
            "<blink>x</blink>".into(),
            "Unsupported start tag \"blink\" at byte offset 0",
        ),
        (
            "<b>x</i>".into(),
            "Unmatched end tag at byte offset 4, expected \"</b>\", found \"</i>\"",
        ),
        ("R&D".into(), "Character '&' at byte offset 1"),
        ("x".repeat(4097), "Bad Request: message is too long"),
        ("🦀".repeat(2049), "Bad Request: message is too long"),
        ("<b> </b>".into(), "Bad Request: message text is empty"),
    ];
    for (text, words) in cases {
        let (status, answer) = post_json(&url, &text_message(PRIVATE_CHAT, &text)).await;
        assert_eq!(status, 400, "{text}: {answer}");
        assert_eq!(answer["ok"], false);
        assert_eq!(answer["error_code"], 400);
        let description = answer["description"].as_str().unwrap();
        assert!(description.contains(words), "{description}");
        assert!(description.starts_with("Bad Request: "), "{description}");
    }
    let (status, _) = post_json(&url, &json!({"text": "no chat"})).await;
    assert_eq!(status, 400);
    // Refusals use no rate-limit allowance: the longest text still fits.
    let (status, answer) = post_json(&url, &text_message(PRIVATE_CHAT, &"x".repeat(4096))).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        parse_html("a &lt;b&gt; &amp; &#x1F980; &quot;").unwrap(),
        "a <b> & 🦀 \""
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn telegram_wrong_tokens_unknown_chats_and_methods() {
    let telegram = TelegramStandIn::start().await;
    let wrong = format!(
        "{}/bot7012345678:{}/sendMessage",
        telegram.base(),
        "Z".repeat(35)
    );
    let (status, answer) = post_json(&wrong, &text_message(PRIVATE_CHAT, "x")).await;
    assert_eq!(
        (status, answer["description"].as_str()),
        (401, Some("Unauthorized"))
    );
    let words = telegram::answer_words(401, &[], answer.to_string().as_bytes()).unwrap();
    assert!(
        words.contains("the bot token is wrong or was revoked"),
        "{words}"
    );
    let malformed = format!("{}/botnot-a-token/getMe", telegram.base());
    assert_eq!(
        answer_status(client().get(malformed).send().await.unwrap()).await,
        404
    );
    let (status, answer) =
        post_json(&telegram.method_url("sendMessage"), &text_message(42, "x")).await;
    assert_eq!(status, 400);
    assert_eq!(answer["description"], "Bad Request: chat not found");
    assert!(telegram::pause_reason(400, &[], answer.to_string().as_bytes()).is_some());
    let (status, _) = post_json(&telegram.method_url("sendPhoto"), &json!({})).await;
    assert_eq!(status, 404);
    assert!(telegram.received().is_empty());
    assert!(
        telegram
            .requests()
            .iter()
            .all(|r| !r.path_without_token.contains("ZZZZ")),
        "{:?}",
        telegram.requests()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn telegram_answers_scripted_failures_then_recovers() {
    let telegram = TelegramStandIn::start().await;
    let url = telegram.method_url("sendMessage");
    telegram.fail_next(1, Failure::ServerError(502));
    telegram.fail_next(1, Failure::TooManyRequests { retry_after: 3 });
    telegram.fail_next(1, Failure::Migrated(-1009876543210));

    let (status, _) = post_json(&url, &text_message(PRIVATE_CHAT, "1")).await;
    assert_eq!(status, 502);
    let (status, answer) = post_json(&url, &text_message(PRIVATE_CHAT, "2")).await;
    assert_eq!(status, 429);
    assert_eq!(answer["parameters"]["retry_after"], 3);
    let body = answer.to_string();
    assert_eq!(telegram::asked_wait(429, &[], body.as_bytes()), Some(3.0));
    let (status, answer) = post_json(&url, &text_message(PRIVATE_CHAT, "3")).await;
    assert_eq!(status, 400);
    let reason = telegram::pause_reason(400, &[], answer.to_string().as_bytes()).unwrap();
    assert!(reason.contains("-1009876543210"), "{reason}");
    let (status, _) = post_json(&url, &text_message(PRIVATE_CHAT, "4")).await;
    assert_eq!(status, 200);
    assert_eq!(telegram.received().len(), 1);
    assert_eq!(telegram.count_429(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn telegram_gone_mode_answers_every_message_until_cleared() {
    let telegram = TelegramStandIn::start().await;
    let url = telegram.method_url("sendMessage");
    for (failure, status, words) in [
        (
            Failure::Blocked,
            403,
            "Forbidden: bot was blocked by the user",
        ),
        (
            Failure::Kicked,
            403,
            "Forbidden: bot was kicked from the group chat",
        ),
        (
            Failure::NotMember,
            403,
            "Forbidden: bot is not a member of the channel chat",
        ),
        (Failure::ChatNotFound, 400, "Bad Request: chat not found"),
        (Failure::Unauthorized, 401, "Unauthorized"),
    ] {
        telegram.set_gone(Some(failure));
        for _ in 0..2 {
            let (got, answer) = post_json(&url, &text_message(GROUP_CHAT, "x")).await;
            assert_eq!((got, answer["description"].as_str()), (status, Some(words)));
            let reason = telegram::pause_reason(got, &[], answer.to_string().as_bytes());
            assert!(
                reason.is_some_and(|r| r.ends_with("then press Resume")),
                "{words}"
            );
        }
    }
    telegram.set_gone(None);
    let (status, _) = post_json(&url, &text_message(GROUP_CHAT, "back")).await;
    assert_eq!(status, 200);
    telegram.forget_chat(GROUP_CHAT);
    let (status, _) = post_json(&url, &text_message(GROUP_CHAT, "gone")).await;
    assert_eq!(status, 400);
}

#[tokio::test(flavor = "multi_thread")]
async fn telegram_rate_limits_each_chat_per_window() {
    let telegram = TelegramStandIn::start_with(TelegramStandInConfig {
        per_chat_limit: 2,
        window: Duration::from_secs(30),
        ..TelegramStandInConfig::default()
    })
    .await;
    let url = telegram.method_url("sendMessage");
    for n in 0..2 {
        let (status, _) = post_json(&url, &text_message(PRIVATE_CHAT, &n.to_string())).await;
        assert_eq!(status, 200);
    }
    let (status, answer) = post_json(&url, &text_message(PRIVATE_CHAT, "third")).await;
    assert_eq!(status, 429);
    let retry_after = answer["parameters"]["retry_after"].as_u64().unwrap();
    assert!((1..=30).contains(&retry_after), "{answer}");
    assert_eq!(
        answer["description"],
        format!("Too Many Requests: retry after {retry_after}")
    );
    // Another chat has its own allowance.
    let (status, _) = post_json(&url, &text_message(GROUP_CHAT, "other chat")).await;
    assert_eq!(status, 200);
    assert_eq!(telegram.count_429(), 1);
    assert_eq!(telegram.received().len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn telegram_allowance_comes_back_after_the_window() {
    let telegram = TelegramStandIn::start_with(TelegramStandInConfig {
        window: Duration::from_millis(300),
        ..TelegramStandInConfig::default()
    })
    .await;
    let url = telegram.method_url("sendMessage");
    let (status, _) = post_json(&url, &text_message(PRIVATE_CHAT, "first")).await;
    assert_eq!(status, 200);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, _) = post_json(&url, &text_message(PRIVATE_CHAT, "again")).await;
        if status == 200 {
            break;
        }
        assert_eq!(status, 429);
        assert!(Instant::now() < deadline, "the window never ended");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(telegram.received().len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn telegram_verify_and_find_chat_read_by_farmhooks_rules() {
    let telegram = TelegramStandIn::start().await;
    let client = client();
    let bytes = |response: Response| async move { response.bytes().await.unwrap() };

    let me = bytes(
        client
            .get(telegram.method_url("getMe"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let bot = telegram::parse_get_me(&me).unwrap();
    assert_eq!(bot.username, BOT_USERNAME);

    let chat = client
        .post(telegram.method_url("getChat"))
        .header("content-type", "application/json")
        .body(json!({"chat_id": "@farmalerts"}).to_string())
        .send()
        .await
        .unwrap();
    let chat = telegram::parse_get_chat(&bytes(chat).await).unwrap();
    assert_eq!(
        (chat.id, chat.display().as_str()),
        (CHANNEL_CHAT, "Farm alerts (channel)")
    );
    let missing = client
        .get(format!("{}?chat_id=42", telegram.method_url("getChat")))
        .send()
        .await
        .unwrap();
    let err = telegram::parse_get_chat(&bytes(missing).await).unwrap_err();
    assert!(err.to_string().contains("cannot find the chat"), "{err}");

    let updates_url = telegram.method_url("getUpdates");
    let none = bytes(client.get(&updates_url).send().await.unwrap()).await;
    assert!(telegram::parse_updates(&none).unwrap().is_empty());
    telegram.push_update(PRIVATE_CHAT, "/start");
    telegram.push_added_to(GROUP_CHAT);
    telegram.push_update(CHANNEL_CHAT, "hello");
    telegram.push_update(PRIVATE_CHAT, "/start");
    let raw = bytes(client.get(&updates_url).send().await.unwrap()).await;
    let found = telegram::parse_updates(&raw).unwrap();
    let mut ids: Vec<String> = found.iter().map(|f| f.chat_id.to_string()).collect();
    ids.sort();
    let mut expected = [PRIVATE_CHAT, GROUP_CHAT, CHANNEL_CHAT].map(|id| id.to_string());
    expected.sort();
    assert_eq!(ids, expected);

    // Confirming with an offset makes Telegram forget the updates.
    let raw: Value = serde_json::from_slice(&raw).unwrap();
    let last = raw["result"].as_array().unwrap().last().unwrap()["update_id"]
        .as_i64()
        .unwrap();
    let after = client
        .post(&updates_url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("offset={}", last + 1))
        .send()
        .await
        .unwrap();
    assert!(
        telegram::parse_updates(&bytes(after).await)
            .unwrap()
            .is_empty()
    );

    telegram.set_webhook_active(true);
    let conflict = bytes(client.get(&updates_url).send().await.unwrap()).await;
    let err = telegram::parse_updates(&conflict).unwrap_err().to_string();
    assert!(err.contains("webhook"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn telegram_accepts_every_message_farmhook_builds_however_wild_the_texts() {
    let telegram = TelegramStandIn::start_with(TelegramStandInConfig {
        per_chat_limit: 100,
        ..TelegramStandInConfig::default()
    })
    .await;
    let url = telegram.method_url("sendMessage");
    let wild = [
        "<b>",
        "&amp;",
        "</i>",
        "@everyone",
        "🦀",
        "<a href=\"x\">",
        "&",
        "é\u{301}",
    ];
    let types: Vec<EventType> = EventType::all().collect();
    let events: Vec<Event> = types
        .iter()
        .copied()
        .cycle()
        .take(50)
        .enumerate()
        .map(|(n, event_type)| {
            let mut event = Event::sample(
                event_type,
                format!("evt_{n}"),
                time::OffsetDateTime::now_utc(),
            );
            let text = wild[n % wild.len()].repeat(1 + n * 97);
            if let Some(printer) = event.printer.as_mut() {
                printer.name = text.clone();
            }
            if let Some(job) = event.job.as_mut() {
                job.reason = Some(text.repeat(3));
            }
            event
        })
        .collect();
    let mut summary = farmhook::core::summary::Summary::default();
    summary.add(EventType::from_id("job.failed").unwrap());
    let batches: Vec<&[Event]> = events.chunks(telegram::MAX_EVENTS_PER_MESSAGE).collect();
    for (i, batch) in batches.iter().enumerate() {
        let summary = (i + 1 == batches.len()).then_some(&summary);
        let body = telegram::message(batch, summary, &ChatId::Username("farmalerts".into()));
        let (status, answer) = post_json(&url, &body).await;
        assert_eq!(status, 200, "batch {i}: {answer}");
    }
    let received = telegram.received();
    assert_eq!(received.len(), 5);
    let told: usize = received
        .iter()
        .map(|m| m.visible_text.matches("[TEST] ").count())
        .sum();
    assert_eq!(told, 50);
    assert!(
        received[4]
            .visible_text
            .ends_with("… and 1 more event (job.failed ×1)")
    );
}
