//! Telegram end to end: the real binary and the real window against the
//! Telegram stand-in on loopback, through a real Secret Service (run with
//! `bash scripts/test.sh`). Set-up and bad input, delivery, Verify, Find
//! chat, the 429 wait, gone → paused → Resume, a 50-event burst, and the
//! window's own set-up.

use std::time::{Duration, Instant};

use crate::support::telegram_stand_in::{
    CHANNEL_CHAT, Failure, GROUP_CHAT, PRIVATE_CHAT, TelegramStandIn,
};
use crate::support::{Farmhook, all_file_bytes, contains, require_secret_service};
use crate::ui_support::{Window, runtime};
use farmhook::core::api_base::ApiBases;
use farmhook::core::channels::telegram;
use farmhook::core::events::EventType;
use farmhook::core::settings::{Channel, Settings};
use farmhook::engine::delivery::dispatcher::{DeliveryConfig, Dispatcher};
use farmhook::engine::delivery::log::{DeliveryRecord, Outcome};
use farmhook::engine::service::{EngineOptions, SecretsView, route_event, sample_event};
use serde_json::Value;

/// The binary on a fresh config dir, its Telegram traffic going to `stand_in`.
fn farmhook(dir: &std::path::Path, stand_in: &TelegramStandIn, tag: &str) -> Farmhook {
    Farmhook::new(dir, tag).env("FARMHOOK_TELEGRAM_API_BASE", &stand_in.base())
}

/// The part of the token after the colon: what must never be shown.
fn token_secret(stand_in: &TelegramStandIn) -> String {
    stand_in.token().split_once(':').unwrap().1.to_string()
}

/// Saves the stand-in's token from stdin, chooses `chat` and enables Telegram.
fn set_up(fh: &Farmhook, stand_in: &TelegramStandIn, chat: Option<i64>) {
    let saved = fh.run_with_stdin(&["telegram", "set-token", "-"], &stand_in.token());
    assert_eq!(saved.code, 0, "{}\n{}", saved.stdout, saved.stderr);
    if let Some(chat) = chat {
        fh.ok(&["telegram", "set-chat", &chat.to_string()]);
    }
    fh.ok(&["telegram", "enable"]);
}

/// `test-fire EVENT --to telegram --json`, on a blocking thread so the
/// stand-in keeps answering; its one JSON line.
async fn fire_json(fh: &Farmhook, event: &str) -> (crate::support::Run, Option<Value>) {
    let fh = fh.clone();
    let event = event.to_string();
    let run = tokio::task::spawn_blocking(move || {
        fh.run(&["test-fire", &event, "--to", "telegram", "--json"])
    })
    .await
    .unwrap();
    let line = run
        .stdout
        .lines()
        .next()
        .map(|l| serde_json::from_str(l).expect("one JSON line"));
    (run, line)
}

/// Runs the binary on a blocking thread (for anything that talks to the stand-in).
async fn run(fh: &Farmhook, args: &[&str]) -> crate::support::Run {
    let fh = fh.clone();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        fh.run(&args)
    })
    .await
    .unwrap()
}

fn status_json(fh: &Farmhook) -> Value {
    serde_json::from_str(&fh.ok(&["status", "--json"]).stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_refuses_bad_tokens_in_words_and_keeps_a_good_one_only_in_the_keyring() {
    require_secret_service();
    let stand_in = TelegramStandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    let fh = farmhook(dir.path(), &stand_in, "tg-setup");
    let token = stand_in.token();
    let secret = token_secret(&stand_in);

    // As an argument: refused before anything is read, and not echoed.
    let argument = fh.run(&["telegram", "set-token", &token]);
    assert_eq!(argument.code, 2, "{}", argument.stderr);
    assert!(
        argument.stderr.contains("on stdin, not as an argument"),
        "{}",
        argument.stderr
    );
    assert!(!argument.stderr.contains(&secret) && !argument.stdout.contains(&secret));

    // Wrong shapes: exit 2, the reason in words, the text never echoed.
    let wrong_secret = "AAHwrong-secret_that_is_long_enough_0123";
    let cases: Vec<(String, &str)> = vec![
        (String::new(), "the bot token is empty"),
        (wrong_secret.into(), "has no ':'"),
        (format!("12ab:{wrong_secret}"), "must be the bot's number"),
        ("7012345678:AAHshort".into(), "at least 35"),
        (
            "7012345678:AAH wrong secret with spaces in it".into(),
            "space",
        ),
    ];
    for (typed, words) in &cases {
        let typed = typed.as_str();
        let run = fh.run_with_stdin(&["telegram", "set-token", "-"], typed);
        assert_eq!(run.code, 2, "{typed:?}: {}\n{}", run.stdout, run.stderr);
        assert!(run.stderr.contains("was not saved"), "{}", run.stderr);
        assert!(run.stderr.contains(words), "{typed:?}: {}", run.stderr);
        if !typed.is_empty() {
            let tail = typed.rsplit(':').next().unwrap();
            assert!(!run.stderr.contains(tail), "echoed: {}", run.stderr);
            assert!(!run.stdout.contains(tail), "echoed: {}", run.stdout);
        }
    }
    assert!(status_json(&fh)["telegram"]["token"].is_null());

    // A bad chat is refused with the reason.
    let chat = fh.run(&["telegram", "set-chat", "not a chat"]);
    assert_eq!(chat.code, 2, "{}", chat.stderr);
    assert!(
        chat.stderr.contains("that chat was not saved"),
        "{}",
        chat.stderr
    );

    // The good one, pasted with a line break as a terminal gives it.
    let saved = fh.run_with_stdin(&["telegram", "set-token", "-"], &format!("{token}\n"));
    assert_eq!(saved.code, 0, "{}\n{}", saved.stdout, saved.stderr);
    assert!(
        saved
            .stdout
            .contains("Telegram bot token saved in the keyring")
    );
    assert!(
        saved.stdout.contains("7012345678:••••••"),
        "{}",
        saved.stdout
    );
    assert!(!saved.stdout.contains(&secret) && !saved.stderr.contains(&secret));
    fh.ok(&["telegram", "set-chat", &GROUP_CHAT.to_string()]);

    let status = fh.ok(&["status"]);
    assert!(!status.stdout.contains(&secret), "{}", status.stdout);
    let line = status
        .stdout
        .lines()
        .find(|l| l.starts_with("telegram:"))
        .unwrap();
    assert!(line.contains("7012345678:••••••"), "{line}");
    assert!(line.contains(&format!("chat {GROUP_CHAT}")), "{line}");
    let json = status_json(&fh);
    assert_eq!(json["telegram"]["token"], "7012345678:••••••");
    assert_eq!(json["telegram"]["chat_id"], GROUP_CHAT.to_string());
    assert!(!json.to_string().contains(&secret));

    // Nothing under the config dir holds the secret part of the token.
    let bytes = all_file_bytes(dir.path());
    assert!(!bytes.is_empty(), "the settings file was written");
    assert!(!contains(&bytes, &secret), "the token is on disk");
    // No request reached the stand-in while setting up.
    assert!(stand_in.requests().is_empty());

    // Clear forgets the token and turns Telegram off.
    fh.ok(&["telegram", "enable"]);
    let cleared = fh.ok(&["telegram", "clear"]);
    assert!(
        cleared.stdout.contains("removed from the keyring"),
        "{}",
        cleared.stdout
    );
    let json = status_json(&fh);
    assert!(json["telegram"]["token"].is_null(), "{}", json["telegram"]);
    assert_eq!(json["telegram"]["enabled"], false);
}

#[tokio::test(flavor = "multi_thread")]
async fn test_fire_reaches_the_chat_and_without_a_chat_says_find_chat() {
    require_secret_service();
    let stand_in = TelegramStandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    let fh = farmhook(dir.path(), &stand_in, "tg-fire");
    set_up(&fh, &stand_in, None);

    // No chat yet: status says what is missing, test-fire exits 2 with
    // the Find chat words, nothing is sent.
    let json = status_json(&fh);
    assert_eq!(json["telegram"]["active"], false);
    let blocked = json["telegram"]["blocked"].as_str().unwrap_or_default();
    assert!(
        blocked.contains("Telegram needs a chat"),
        "{}",
        json["telegram"]
    );
    let (no_chat, _) = fire_json(&fh, "job.failed").await;
    assert_eq!(no_chat.code, 2, "{}\n{}", no_chat.stdout, no_chat.stderr);
    assert!(
        no_chat.stderr.contains("Telegram needs a chat"),
        "{}",
        no_chat.stderr
    );
    assert!(no_chat.stderr.contains("find-chat"), "{}", no_chat.stderr);
    assert!(stand_in.received().is_empty());

    fh.ok(&["telegram", "set-chat", &PRIVATE_CHAT.to_string()]);
    let (fire, line) = fire_json(&fh, "job.failed").await;
    assert_eq!(fire.code, 0, "{}\n{}", fire.stdout, fire.stderr);
    let line = line.unwrap();
    assert_eq!(line["destination"], "telegram");
    assert_eq!(line["event"], "job.failed");
    assert_eq!(line["outcome"], "delivered");
    assert_eq!(line["status"], 200);
    assert_eq!(line["attempts"], 1);
    assert!(line["error"].is_null());

    let received = stand_in.received();
    assert_eq!(received.len(), 1);
    let message = &received[0];
    assert_eq!(message.chat_id, PRIVATE_CHAT);
    assert_eq!(message.parse_mode.as_deref(), Some("HTML"));
    // Well-formed: the stand-in parsed its HTML; it names the event.
    assert!(
        message.visible_text.contains("Job failed"),
        "{}",
        message.text
    );
    let preview = &message.params["link_preview_options"];
    assert!(
        preview.to_string().contains("is_disabled"),
        "no link previews: {}",
        message.params
    );
    let secret = token_secret(&stand_in);
    assert!(!fire.stdout.contains(&secret) && !fire.stderr.contains(&secret));
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_verify_names_the_bot_and_chat_and_find_chat_lists_and_uses_one() {
    require_secret_service();
    let stand_in = TelegramStandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    let fh = farmhook(dir.path(), &stand_in, "tg-verify");

    // Before a token: Verify says how to set one up.
    let early = run(&fh, &["telegram", "verify"]).await;
    assert_eq!(early.code, 2, "{}", early.stderr);
    assert!(early.stderr.contains("set-token"), "{}", early.stderr);

    set_up(&fh, &stand_in, None);

    // Nobody wrote to the bot yet: Find chat says what to do.
    let none = run(&fh, &["telegram", "find-chat"]).await;
    assert_ne!(none.code, 0);
    assert!(
        none.stderr.contains("send /start to your bot"),
        "{}",
        none.stderr
    );

    stand_in.push_update(PRIVATE_CHAT, "/start");
    stand_in.push_added_to(GROUP_CHAT);
    let listed = run(&fh, &["telegram", "find-chat"]).await;
    assert_eq!(listed.code, 0, "{}\n{}", listed.stdout, listed.stderr);
    let lines: Vec<&str> = listed.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", listed.stdout);
    assert!(
        lines[0].trim_start().starts_with("1  "),
        "{}",
        listed.stdout
    );
    assert!(listed.stdout.contains("Ada"), "{}", listed.stdout);
    assert!(listed.stdout.contains("Print farm"), "{}", listed.stdout);
    assert!(listed.stdout.contains(&GROUP_CHAT.to_string()));
    assert!(listed.stderr.contains("--use N"), "{}", listed.stderr);
    // Listing chose nothing.
    assert!(status_json(&fh)["telegram"]["chat_id"].is_null());

    let out_of_range = run(&fh, &["telegram", "find-chat", "--use", "3"]).await;
    assert_eq!(out_of_range.code, 2, "{}", out_of_range.stderr);
    assert!(
        out_of_range.stderr.contains("from 1 to 2"),
        "{}",
        out_of_range.stderr
    );

    let first_line = lines[0].to_string();
    let used = run(&fh, &["telegram", "find-chat", "--use", "1"]).await;
    assert_eq!(used.code, 0, "{}\n{}", used.stdout, used.stderr);
    assert!(
        used.stdout.contains("Telegram: posts in"),
        "{}",
        used.stdout
    );
    let chosen = status_json(&fh)["telegram"]["chat_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        first_line.contains(&chosen),
        "the first listed chat ({first_line}) is the one used ({chosen})"
    );
    // getUpdates only: Find chat posts nothing.
    assert!(stand_in.received().is_empty());

    // Verify: the bot's name and the chat's, nothing posted.
    let verify = run(&fh, &["telegram", "verify"]).await;
    assert_eq!(verify.code, 0, "{}\n{}", verify.stdout, verify.stderr);
    assert!(
        verify.stdout.contains("farm_alerts_bot"),
        "{}",
        verify.stdout
    );
    let chosen_name = if chosen == GROUP_CHAT.to_string() {
        "Print farm"
    } else {
        "Ada"
    };
    assert!(verify.stdout.contains(chosen_name), "{}", verify.stdout);
    let methods: Vec<String> = stand_in
        .requests()
        .iter()
        .map(|r| r.api_method.to_ascii_lowercase())
        .collect();
    assert!(methods.contains(&"getme".to_string()), "{methods:?}");
    assert!(methods.contains(&"getchat".to_string()), "{methods:?}");
    assert!(stand_in.received().is_empty(), "Verify posted a message");

    // A chat the bot cannot see: Verify fails with Telegram's words.
    fh.ok(&["telegram", "set-chat", "-100999"]);
    let unseen = run(&fh, &["telegram", "verify"]).await;
    assert_eq!(unseen.code, 1, "{}\n{}", unseen.stdout, unseen.stderr);
    assert!(
        unseen.stderr.contains("chat not found"),
        "{}",
        unseen.stderr
    );
    let secret = token_secret(&stand_in);
    for r in [&listed, &used, &verify, &unseen] {
        assert!(!r.stdout.contains(&secret) && !r.stderr.contains(&secret));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_429_is_waited_out_and_the_delivery_then_succeeds() {
    require_secret_service();
    let stand_in = TelegramStandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    let fh = farmhook(dir.path(), &stand_in, "tg-429");
    set_up(&fh, &stand_in, Some(GROUP_CHAT));

    stand_in.fail_next(1, Failure::TooManyRequests { retry_after: 1 });
    let (fire, line) = fire_json(&fh, "printer.offline").await;
    assert_eq!(fire.code, 0, "{}\n{}", fire.stdout, fire.stderr);
    let line = line.unwrap();
    assert_eq!(line["outcome"], "delivered");
    assert_eq!(line["status"], 200);
    assert_eq!(line["attempts"], 2, "the 429 attempt, then the success");
    let sends: Vec<_> = stand_in
        .requests()
        .into_iter()
        .filter(|r| r.api_method == "sendMessage")
        .collect();
    assert_eq!(
        sends.iter().map(|r| r.status).collect::<Vec<_>>(),
        [429, 200]
    );
    let waited = sends[1].at.duration_since(sends[0].at);
    assert!(
        waited >= Duration::from_millis(900),
        "retried after {waited:?}, before Telegram's retry_after of 1 s"
    );

    // In words (not --json), the 429 attempt is told before the success.
    stand_in.fail_next(1, Failure::TooManyRequests { retry_after: 1 });
    let words = run(&fh, &["test-fire", "job.failed", "--to", "telegram"]).await;
    assert_eq!(words.code, 0, "{}\n{}", words.stdout, words.stderr);
    assert!(
        words.stderr.contains("Telegram attempt 1"),
        "{}",
        words.stderr
    );
    assert!(words.stderr.contains("429"), "{}", words.stderr);
    assert!(
        words
            .stdout
            .contains("Telegram: delivered job.failed (HTTP 200"),
        "{}",
        words.stdout
    );
    assert!(words.stdout.contains("2 attempts"), "{}", words.stdout);
    assert_eq!(stand_in.received().len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_blocked_bot_pauses_telegram_with_the_reason_until_resumed() {
    require_secret_service();
    let stand_in = TelegramStandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    let fh = farmhook(dir.path(), &stand_in, "tg-gone");
    set_up(&fh, &stand_in, Some(PRIVATE_CHAT));

    stand_in.set_gone(Some(Failure::Blocked));
    let (fire, line) = fire_json(&fh, "job.failed").await;
    assert_eq!(fire.code, 1, "{}\n{}", fire.stdout, fire.stderr);
    let line = line.unwrap();
    assert_eq!(line["outcome"], "failed");
    assert_eq!(line["status"], 403);
    let error = line["error"].as_str().unwrap();
    assert!(error.contains("blocked"), "{error}");
    // Final at once: no retry of a blocked bot.
    assert_eq!(line["attempts"], 1);

    // Paused, with the reason, in status (words and JSON).
    let json = status_json(&fh);
    let paused = json["health"]["telegram"]["paused"]
        .as_str()
        .unwrap_or_else(|| panic!("not paused: {}", json["health"]["telegram"]));
    assert!(paused.contains("blocked"), "{paused}");
    let status = fh.ok(&["status"]).stdout;
    assert!(status.contains("Telegram: paused:"), "{status}");

    // Recovered, resumed: a new delivery works.
    stand_in.set_gone(None);
    let resumed = fh.ok(&["telegram", "resume"]);
    assert!(
        resumed.stdout.contains("Telegram: resumed"),
        "{}",
        resumed.stdout
    );
    assert!(status_json(&fh)["health"]["telegram"]["paused"].is_null());
    let (fire, line) = fire_json(&fh, "job.failed").await;
    assert_eq!(fire.code, 0, "{}\n{}", fire.stdout, fire.stderr);
    assert_eq!(line.unwrap()["outcome"], "delivered");
    assert_eq!(stand_in.received().len(), 1);
}

/// The other answers after which sending cannot work until the user acts:
/// each fails at once with Telegram's words and pauses Telegram, and Resume
/// lifts the pause.
#[tokio::test(flavor = "multi_thread")]
async fn a_lost_chat_or_a_revoked_token_pauses_telegram_with_what_to_do() {
    require_secret_service();
    let stand_in = TelegramStandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    let fh = farmhook(dir.path(), &stand_in, "tg-pauses");
    set_up(&fh, &stand_in, Some(GROUP_CHAT));
    for (failure, status, words, reason) in [
        (
            Failure::ChatNotFound,
            400,
            "chat not found",
            "press Find chat, then press Resume",
        ),
        (
            Failure::Unauthorized,
            401,
            "Unauthorized",
            "the bot token is wrong or was revoked",
        ),
        (
            Failure::Migrated(-1009876543210),
            400,
            "upgraded to a supergroup",
            "set the chat id to -1009876543210",
        ),
    ] {
        stand_in.fail_next(1, failure.clone());
        let (fire, line) = fire_json(&fh, "job.failed").await;
        assert_eq!(
            fire.code, 1,
            "{failure:?}: {}\n{}",
            fire.stdout, fire.stderr
        );
        let line = line.unwrap();
        assert_eq!(line["status"], status, "{failure:?}");
        assert_eq!(line["attempts"], 1, "{failure:?}: not retried");
        let error = line["error"].as_str().unwrap();
        assert!(error.contains(words), "{failure:?}: {error}");
        let health = &status_json(&fh)["health"]["telegram"];
        let paused = health["paused"].as_str().unwrap_or_default();
        assert!(paused.contains(reason), "{failure:?}: {health}");
        fh.ok(&["telegram", "resume"]);
        assert!(status_json(&fh)["health"]["telegram"]["paused"].is_null());
    }
    // The token never shows in what was written down.
    assert!(!contains(
        &all_file_bytes(dir.path()),
        &token_secret(&stand_in)
    ));
    let (fire, _) = fire_json(&fh, "job.failed").await;
    assert_eq!(fire.code, 0, "{}\n{}", fire.stdout, fire.stderr);
    assert_eq!(stand_in.received().len(), 1);
}

/// While the bot has a webhook, Telegram keeps its updates: Find chat says
/// so rather than "nobody wrote".
#[tokio::test(flavor = "multi_thread")]
async fn find_chat_says_when_a_webhook_keeps_the_updates() {
    require_secret_service();
    let stand_in = TelegramStandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    let fh = farmhook(dir.path(), &stand_in, "tg-409");
    set_up(&fh, &stand_in, None);
    stand_in.push_update(PRIVATE_CHAT, "/start");
    stand_in.set_webhook_active(true);
    let find = run(&fh, &["telegram", "find-chat"]).await;
    assert_eq!(find.code, 1, "{}\n{}", find.stdout, find.stderr);
    assert!(find.stderr.contains("webhook"), "{}", find.stderr);
    assert!(
        !find.stderr.contains("no chat has written"),
        "{}",
        find.stderr
    );
    assert!(find.stdout.is_empty(), "{}", find.stdout);
    stand_in.set_webhook_active(false);
    let find = run(&fh, &["telegram", "find-chat", "--use", "1"]).await;
    assert_eq!(find.code, 0, "{}\n{}", find.stdout, find.stderr);
    assert_eq!(
        status_json(&fh)["telegram"]["chat_id"],
        PRIVATE_CHAT.to_string()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_burst_of_fifty_events_is_delivered_in_few_messages_with_at_most_one_429() {
    let stand_in = TelegramStandIn::start().await;
    let dispatcher = Dispatcher::new(DeliveryConfig::default(), |_| {}).unwrap();
    // Real events, routed as the engine routes a printer's: the one
    // can-it-send rule, Telegram's registration, the default queue.
    let mut settings = Settings::default();
    settings.channels[Channel::Telegram].enabled = true;
    settings.channels[Channel::Telegram].chat_id = Some(GROUP_CHAT.to_string());
    let secrets = SecretsView::from_values([(&telegram::TOKEN_SECRET, stand_in.token())]);
    let bases = ApiBases::default()
        .with_override("telegram", &stand_in.base())
        .unwrap();
    let started = Instant::now();
    let mut waiting = Vec::new();
    let mut ids = Vec::new();
    for i in 0..50 {
        let kind = ["printer.offline", "job.failed", "job.succeeded"][i % 3];
        let mut event = sample_event(EventType::from_id(kind).unwrap());
        event.test = false;
        ids.push(event.id.clone());
        let mut routed = route_event(&dispatcher, &settings, &secrets, &bases, event);
        assert_eq!(routed.len(), 1, "the event goes to Telegram only");
        waiting.push(routed.pop().unwrap());
    }
    let mut records: Vec<DeliveryRecord> = Vec::new();
    for w in waiting {
        let record = tokio::time::timeout(Duration::from_secs(60), w)
            .await
            .expect("every event ends in the log")
            .unwrap();
        records.push(record);
    }
    let took = started.elapsed();
    let outcomes: Vec<_> = records.iter().map(|r| r.outcome).collect();
    assert!(
        records.iter().all(|r| r.outcome == Outcome::Delivered),
        "{outcomes:?}"
    );
    assert!(records.iter().all(|r| r.destination == Channel::Telegram));

    // Each event is in exactly one delivered record.
    dispatcher.idle().await;
    let log = dispatcher.log_snapshot();
    let mut logged: Vec<&str> = log
        .iter()
        .filter(|r| r.outcome == Outcome::Delivered)
        .flat_map(|r| r.events.iter().map(|e| e.id.as_str()))
        .collect();
    logged.sort();
    let mut sent: Vec<&str> = ids.iter().map(String::as_str).collect();
    sent.sort();
    assert_eq!(logged, sent, "every event delivered once");

    let messages = stand_in.received();
    let n429 = stand_in.count_429();
    let per_message: Vec<usize> = log
        .iter()
        .filter(|r| r.outcome == Outcome::Delivered)
        .map(|r| r.events.len())
        .collect();
    eprintln!(
        "telegram burst: 50 events, {} messages ({per_message:?} events each), {n429} 429s, {took:?}",
        messages.len(),
    );
    assert_eq!(per_message.len(), messages.len(), "one record per message");
    assert!(messages.len() <= 10, "{} messages", messages.len());
    assert!(
        messages.len() >= 2,
        "the first goes at once, the rest batched"
    );
    assert!(n429 <= 1, "{n429} 429s");
    for m in &messages {
        assert_eq!(m.chat_id, GROUP_CHAT);
        assert!(m.visible_text.encode_utf16().count() <= 4096);
    }
    dispatcher.shutdown().await;
}

// ---- the window ----

/// Opens the window with Telegram's traffic going to `stand_in`.
fn window(tag: &str) -> (Window, TelegramStandIn) {
    let rt = runtime();
    let stand_in = rt.block_on(TelegramStandIn::start());
    let options = EngineOptions::from_env().with_stand_in("telegram", &stand_in.base());
    (Window::open_with(tag, rt, options), stand_in)
}

/// Configure → Telegram, paste the token, Save token, wait for the keyring.
fn save_token(w: &mut Window, token: &str) {
    w.click("Configure");
    w.open_section("Telegram");
    w.type_into("Telegram bot token", "x");
    w.paste(token);
    w.wait_for_text("a bot token (bot 7012345678)");
    w.click("Save token");
    w.step_until("the token to be stored", |w| {
        w.app().state().secrets.holds(telegram::TOKEN_SECRET.entry)
    });
}

#[test]
fn window_set_up_find_chat_enable_and_test_delivers() {
    require_secret_service();
    let (mut w, stand_in) = window("tg-window");
    let token = stand_in.token();
    let secret = token_secret(&stand_in);
    save_token(&mut w, &token);
    w.wait_for_text("7012345678:••••••");
    assert!(!w.shows(&secret), "the token is visible");

    // No chat yet: Test cannot send and says what to do.
    w.open_section("Test");
    w.wait_for_text("Telegram needs a chat");
    assert!(w.is_disabled("Test Telegram"));
    w.open_section("Telegram");

    // Find chat: nobody wrote yet, then the chat that sent /start.
    w.click("Find chat");
    w.wait_for_text("no chat has written to the bot yet");
    stand_in.push_update(PRIVATE_CHAT, "/start");
    stand_in.push_update(CHANNEL_CHAT, "hello");
    w.click("Find chat");
    w.wait_for_text("Use Ada");
    w.click_containing("Use Ada");
    w.wait_for_text(&format!("posts in chat {PRIVATE_CHAT}"));
    w.wait_saved();
    assert_eq!(
        w.app().settings().unwrap().channels[Channel::Telegram]
            .chat_id
            .as_deref(),
        Some(PRIVATE_CHAT.to_string().as_str())
    );

    // Enable, Verify (nothing posted), then Test.
    w.click("Enable Telegram notifications");
    w.wait_saved();
    assert!(w.app().settings().unwrap().channels[Channel::Telegram].enabled);
    w.click("Verify");
    w.wait_for_text("farm_alerts_bot");
    assert!(stand_in.received().is_empty(), "Verify posted");

    w.open_section("Test");
    w.click("Test Telegram");
    w.wait_for_text("Telegram, Job failed (test), delivered, HTTP 200");
    let received = stand_in.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].chat_id, PRIVATE_CHAT);
    assert!(received[0].visible_text.contains("Job failed"));
    w.wait_for_text("last test: delivered to Telegram");

    // The detail shows the request with the token masked.
    w.click_containing("delivered, HTTP 200");
    w.wait_for_text("Attempt 1: HTTP 200");
    // Where it went, redacted, in words the window's fonts can draw.
    w.wait_for_text(&format!(
        "/bot7012345678:••••••/sendMessage (chat {PRIVATE_CHAT})"
    ));
    assert!(!w.shows(&secret), "the token is visible in the window");
    assert!(!w.shows(&token));

    // The tile sums it up.
    w.click("‹ Back to Account");
    w.wait_for_text("delivered to Telegram at");
    assert!(!w.shows(&secret));
    w.harness.check_accessibility();
}

#[test]
fn window_verify_tells_a_chat_the_bot_cannot_see() {
    require_secret_service();
    let (mut w, stand_in) = window("tg-window-verify");
    save_token(&mut w, &stand_in.token());
    w.type_into("Chat", "-100999");
    w.click("Use chat");
    w.wait_for_text("posts in chat -100999");
    w.click("Verify");
    w.wait_for_text("chat not found");
    assert!(stand_in.received().is_empty());

    // A chat it can see; Telegram asks once to wait: the log shows the
    // 429 attempt, then the success.
    w.type_into("Chat", &GROUP_CHAT.to_string());
    w.click("Use chat");
    w.wait_for_text(&format!("posts in chat {GROUP_CHAT}"));
    stand_in.fail_next(1, Failure::TooManyRequests { retry_after: 1 });
    w.open_section("Test");
    w.click("Test Telegram");
    w.wait_for_text("Telegram, Job failed (test), delivered, HTTP 200");
    w.click_containing("delivered, HTTP 200");
    w.wait_for_text("Attempt 1: HTTP 429");
    assert!(w.shows("Attempt 2: HTTP 200"));
    assert_eq!(stand_in.count_429(), 1);
    assert_eq!(stand_in.received().len(), 1);
}

#[test]
fn window_shows_a_blocked_bot_paused_and_resume_lifts_it() {
    require_secret_service();
    let (mut w, stand_in) = window("tg-window-gone");
    save_token(&mut w, &stand_in.token());
    w.type_into("Chat", &GROUP_CHAT.to_string());
    w.click("Use chat");
    w.wait_for_text(&format!("posts in chat {GROUP_CHAT}"));
    w.click("Enable Telegram notifications");
    w.wait_saved();

    stand_in.set_gone(Some(Failure::Kicked));
    w.open_section("Test");
    w.click("Test Telegram");
    w.wait_for_text("Telegram, Job failed (test), failed, HTTP 403");
    w.open_section("Telegram");
    w.wait_for_text("⏸ Paused:");
    assert!(w.shows("kicked"), "the pause says why");

    stand_in.set_gone(None);
    w.click("Resume Telegram");
    w.step_until("the pause to be lifted", |w| !w.shows("⏸ Paused:"));
    w.open_section("Test");
    w.click("Test Telegram");
    w.wait_for_text("Telegram, Job failed (test), delivered, HTTP 200");
    assert_eq!(stand_in.received().len(), 1);
}

#[test]
fn window_refuses_a_malformed_token_and_pauses_on_a_revoked_one() {
    require_secret_service();
    let (mut w, stand_in) = window("tg-window-401");
    w.click("Configure");
    w.open_section("Telegram");
    // Checked as typed, with the reason; nothing to save.
    w.type_into("Telegram bot token", "x");
    w.paste("AAHfarmhookStandIn-token_0123456789abcdef");
    w.wait_for_text("the token has no ':'");
    assert!(w.is_disabled("Save token"));

    // Well-formed but not the bot's: Telegram's 401 pauses Telegram with
    // what to do, in words the window can draw.
    let revoked = "7012345678:AAHrevokedRevokedRevoked_0123456789abcdef";
    w.paste(revoked);
    w.wait_for_text("a bot token (bot 7012345678)");
    w.click("Save token");
    w.step_until("the token to be stored", |w| {
        w.app().state().secrets.holds(telegram::TOKEN_SECRET.entry)
    });
    w.type_into("Chat", &GROUP_CHAT.to_string());
    w.click("Use chat");
    w.wait_for_text(&format!("posts in chat {GROUP_CHAT}"));
    w.click("Verify");
    w.wait_for_text("the bot token is wrong or was revoked");
    w.open_section("Test");
    w.click("Test Telegram");
    w.wait_for_text("Telegram, Job failed (test), failed, HTTP 401");
    w.open_section("Telegram");
    w.wait_for_text("⏸ Paused:");
    assert!(w.shows("@BotFather"), "the pause says what to do");
    assert!(w.shows("Resume Telegram"));
    assert!(!w.shows("AAHrevokedRevokedRevoked"), "the token is visible");
    assert!(stand_in.received().is_empty());
}
