//! Slack end to end, as a user meets it: the real `farmhook` binary and the
//! real window, a real Secret Service, and the Slack stand-in on loopback
//! (`FARMHOOK_SLACK_API_BASE`). Paste the webhook URL (bad ones are refused
//! in words, the good one lands only in the keyring), test-fire, ride out a
//! 429, see an archived channel pause Slack and Resume lift it, and send a
//! 50-event burst that arrives whole in a few messages.

use std::time::{Duration, Instant};

use egui_kittest::kittest::{NodeT, Queryable};
use farmhook::core::api_base::ApiBases;
use farmhook::core::channels::slack::{self, SlackWebhookUrl};
use farmhook::core::events::EventType;
use farmhook::core::settings::{Channel, Settings};
use farmhook::engine::delivery::deliver::Target;
use farmhook::engine::delivery::dispatcher::{DeliveryConfig, Dispatcher};
use farmhook::engine::delivery::log::{DeliveryRecord, Outcome};
use farmhook::engine::delivery::slack::SlackTarget;
use farmhook::engine::profile::SecretsView;
use farmhook::engine::routing::route_event;
use farmhook::engine::service::{EngineOptions, sample_event};

use crate::support::slack_stand_in::{Failure, SlackStandIn, TEAM_ID};
use crate::support::{Farmhook, Run, all_file_bytes, contains, require_secret_service};
use crate::ui_support::{Window, runtime};

/// A well-formed URL that no stand-in made, for the command-line checks.
const SECRET: &str = "q8Zr3XkT0vLm5NwB2yHc7JdA";

fn url_with(secret: &str) -> String {
    format!("https://hooks.slack.com/services/{TEAM_ID}/B0000000042/{secret}")
}

/// The webhook's secret: the last part of its URL.
fn secret_of(url: &str) -> &str {
    url.rsplit('/').next().unwrap()
}

/// The webhook's `B…` id, which may be shown.
fn webhook_id_of(url: &str) -> &str {
    url.split('/').find(|s| s.starts_with('B')).unwrap()
}

/// The binary with Slack traffic sent to `stand_in`.
fn farmhook(dir: &std::path::Path, tag: &str, stand_in: &SlackStandIn) -> Farmhook {
    Farmhook::new(dir, tag).env("FARMHOOK_SLACK_API_BASE", &stand_in.base())
}

/// Runs the binary off the runtime's threads, so the stand-in keeps serving.
async fn run(fh: &Farmhook, args: &[&str]) -> Run {
    let fh = fh.clone();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        fh.run(&args)
    })
    .await
    .unwrap()
}

fn set_url(fh: &Farmhook, url: &str) {
    let set = fh.run_with_stdin(&["slack", "set-url", "-"], &format!("{url}\n"));
    assert_eq!(set.code, 0, "{}\n{}", set.stdout, set.stderr);
}

/// The one `--json` line of a test-fire to Slack.
fn one_line(fire: &Run) -> serde_json::Value {
    let lines: Vec<&str> = fire.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{}\n{}", fire.stdout, fire.stderr);
    serde_json::from_str(lines[0]).unwrap()
}

/// The `farmhook · <event id> · <time>` lines of every message received.
fn context_lines(stand_in: &SlackStandIn) -> Vec<String> {
    stand_in
        .received()
        .iter()
        .flat_map(|m| m.blocks.clone())
        .filter(|b| b["type"] == "context")
        .map(|b| b["elements"][0]["text"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn slack_set_url_refuses_bad_urls_in_words_and_keeps_a_good_one_only_in_the_keyring() {
    require_secret_service();
    let dir = tempfile::tempdir().unwrap();
    let fh = Farmhook::new(dir.path(), "slack-setup");

    // Each mistake a user makes when copying the URL, and the words for it.
    let cases = [
        (
            format!("https://discord.com/api/webhooks/123456789012345678/{SECRET}"),
            "this is a Discord webhook URL",
        ),
        (
            url_with(SECRET).replace("https://", "http://"),
            "must start with https://",
        ),
        (
            url_with(SECRET).replace("hooks.slack.com", "hooks.slack.co"),
            "not hooks.slack.com",
        ),
        (url_with("q8Zr3XkT0v"), "shorter than Slack's 24"),
        (url_with(&format!("{SECRET}!")), "only letters and digits"),
        (
            format!("{}/more", url_with(SECRET)),
            "more after the secret",
        ),
        (
            format!("{}?x=1", url_with(SECRET)),
            "remove everything from '?'",
        ),
        (String::new(), "the URL is empty"),
    ];
    for (bad, words) in &cases {
        let refused = fh.run_with_stdin(&["slack", "set-url", "-"], bad);
        assert_eq!(refused.code, 2, "{bad}: {}", refused.stderr);
        assert!(refused.stderr.contains(words), "{bad}: {}", refused.stderr);
        let printed = format!("{}{}", refused.stdout, refused.stderr);
        assert!(!printed.contains(SECRET), "{bad} echoed: {printed}");
    }
    // As an argument too (a URL may be given either way), same words.
    let refused = fh.run(&["slack", "set-url", &url_with("short")]);
    assert_eq!(refused.code, 2);
    assert!(refused.stderr.contains("shorter than Slack's 24"));
    assert!(
        fh.ok(&["status"])
            .stdout
            .contains("Slack webhook URL not set")
    );

    // The good one (with the newline a paste brings) is saved, shown redacted.
    let url = url_with(SECRET);
    let set = fh.run_with_stdin(&["slack", "set-url", "-"], &format!("{url}\n"));
    assert_eq!(set.code, 0, "{}", set.stderr);
    assert!(
        set.stdout
            .contains("Slack webhook URL saved in the keyring"),
        "{}",
        set.stdout
    );
    assert!(set.stdout.contains("B0000000042"), "{}", set.stdout);
    assert!(!set.stdout.contains(SECRET), "{}", set.stdout);

    let status = fh.ok(&["status"]).stdout;
    let line = status
        .lines()
        .find(|l| l.starts_with("slack:"))
        .unwrap_or_else(|| panic!("no slack line in {status}"));
    assert!(
        line.contains(&format!("hooks.slack.com/services/{TEAM_ID}/B0000000042/")),
        "{line}"
    );
    assert!(!status.contains(SECRET), "{status}");

    let json = fh.ok(&["status", "--json"]).stdout;
    assert!(!json.contains(SECRET), "{json}");
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let shown = value["slack"]["url"]
        .as_str()
        .unwrap_or_else(|| panic!("no slack url in {json}"));
    assert!(shown.contains("B0000000042"), "{shown}");

    // Nothing under the config dir holds the secret, in any form.
    let bytes = all_file_bytes(dir.path());
    assert!(!contains(&bytes, SECRET));
    assert!(!contains(&bytes, &url));

    // Slack's own event selection.
    fh.ok(&["events", "disable", "all", "--to", "slack"]);
    fh.ok(&[
        "events",
        "enable",
        "job.failed",
        "printers",
        "--to",
        "slack",
    ]);
    let value: serde_json::Value =
        serde_json::from_str(&fh.ok(&["status", "--json"]).stdout).unwrap();
    let events = value["slack"]["events"].as_array().unwrap();
    assert_eq!(events.len(), 6, "{events:?}");
    assert!(events.contains(&serde_json::json!("job.failed")));
    assert!(!events.contains(&serde_json::json!("job.started")));
    assert_eq!(
        value["discord"]["events"].as_array().unwrap().len(),
        9,
        "other channels keep theirs"
    );

    // Clear forgets it.
    fh.ok(&["slack", "clear"]);
    assert!(
        fh.ok(&["status"])
            .stdout
            .contains("Slack webhook URL not set")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn test_fire_to_slack_posts_one_block_kit_message_naming_the_event() {
    require_secret_service();
    let stand_in = SlackStandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    let fh = farmhook(dir.path(), "slack-fire", &stand_in);

    // Nothing set up at all: the words name Slack's command too.
    let none = run(&fh, &["test-fire"]).await;
    assert_eq!(none.code, 2);
    assert!(
        none.stderr.contains("nothing to test")
            && none.stderr.contains("`farmhook slack set-url -`"),
        "{}",
        none.stderr
    );
    // Nothing saved yet: the words say how to set it up.
    let nothing = run(&fh, &["test-fire", "--to", "slack"]).await;
    assert_eq!(nothing.code, 2);
    assert!(
        nothing.stderr.contains("no Slack webhook URL is saved yet"),
        "{}",
        nothing.stderr
    );

    let url = stand_in.webhook_url();
    set_url(&fh, &url);
    let fire = run(&fh, &["test-fire", "job.failed", "--to", "slack", "--json"]).await;
    assert_eq!(fire.code, 0, "{}\n{}", fire.stdout, fire.stderr);
    // The override is said on stderr.
    assert!(
        fire.stderr.contains("FARMHOOK_SLACK_API_BASE"),
        "{}",
        fire.stderr
    );
    let line = one_line(&fire);
    assert_eq!(line["destination"], "slack");
    assert_eq!(line["event"], "job.failed");
    assert_eq!(line["outcome"], "delivered");
    assert_eq!(line["status"], 200);
    assert_eq!(line["attempts"], 1);
    assert!(line["error"].is_null());

    let received = stand_in.received();
    assert_eq!(received.len(), 1);
    let message = &received[0];
    assert_eq!(
        message.webhook,
        format!("{TEAM_ID}/{}", webhook_id_of(&url))
    );
    assert!(
        message
            .header("content-type")
            .unwrap_or_default()
            .starts_with("application/json")
    );
    assert!(message.text.contains("Job failed"), "{}", message.text);
    let headers = message.header_texts();
    assert_eq!(headers.len(), 1, "{headers:?}");
    assert!(headers[0].contains("Job failed"), "{headers:?}");
    let event_id = line["event_id"].as_str().unwrap();
    assert!(
        context_lines(&stand_in)
            .iter()
            .any(|c| c.contains(event_id)),
        "{:?}",
        context_lines(&stand_in)
    );
    assert!(stand_in.pings().is_empty());

    // The secret is in nothing printed, nor on disk.
    let printed = format!("{}{}", fire.stdout, fire.stderr);
    assert!(!printed.contains(secret_of(&url)), "{printed}");
    assert!(!contains(&all_file_bytes(dir.path()), secret_of(&url)));

    // Without --to, every channel set up is tested: here Slack alone.
    let all = run(&fh, &["test-fire", "printer.offline", "--json"]).await;
    assert_eq!(all.code, 0, "{}\n{}", all.stdout, all.stderr);
    let line = one_line(&all);
    assert_eq!(line["destination"], "slack");
    assert_eq!(line["event"], "printer.offline");
    assert_eq!(stand_in.received().len(), 2);
    assert!(stand_in.received()[1].header_texts()[0].contains("offline"));
}

#[tokio::test(flavor = "multi_thread")]
async fn slack_verify_says_slack_cannot_be_asked_without_posting() {
    require_secret_service();
    let stand_in = SlackStandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    let fh = farmhook(dir.path(), "slack-verify", &stand_in);

    // Whether or not a URL is saved, the answer is the same: use Test.
    let unset = run(&fh, &["slack", "verify"]).await;
    assert_eq!(unset.code, 2, "{}", unset.stderr);
    assert!(
        unset
            .stderr
            .contains("Slack cannot be asked without sending: run `farmhook test-fire --to slack`"),
        "{}",
        unset.stderr
    );

    let url = stand_in.webhook_url();
    set_url(&fh, &url);
    let verify = run(&fh, &["slack", "verify"]).await;
    assert_eq!(verify.code, 2, "{}\n{}", verify.stdout, verify.stderr);
    assert_eq!(verify.stderr, unset.stderr);
    assert!(!verify.stderr.contains(secret_of(&url)));
    // Nothing was posted to find out.
    assert!(stand_in.requests().is_empty(), "{:?}", stand_in.requests());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_429_from_slack_is_waited_out_and_the_delivery_succeeds() {
    require_secret_service();
    let stand_in = SlackStandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    let fh = farmhook(dir.path(), "slack-429", &stand_in);
    let url = stand_in.webhook_url();
    set_url(&fh, &url);

    // --json: one line, delivered on the second attempt.
    stand_in.fail_next(1, Failure::rate_limited(1));
    let fire = run(&fh, &["test-fire", "--to", "slack", "--json"]).await;
    assert_eq!(fire.code, 0, "{}\n{}", fire.stdout, fire.stderr);
    let line = one_line(&fire);
    assert_eq!(line["outcome"], "delivered");
    assert_eq!(line["attempts"], 2, "{line}");
    assert_eq!(line["status"], 200);
    let seen = stand_in.requests();
    let statuses: Vec<u16> = seen.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [429, 200]);
    // Slack asked for a second; farmhook waited at least that.
    let gap = seen[1].at.duration_since(seen[0].at);
    assert!(gap >= Duration::from_millis(900), "retried after {gap:?}");

    // The words: the 429 attempt, then the success.
    stand_in.fail_next(1, Failure::rate_limited(1));
    let fire = run(&fh, &["test-fire", "--to", "slack"]).await;
    assert_eq!(fire.code, 0, "{}\n{}", fire.stdout, fire.stderr);
    assert!(
        fire.stderr
            .contains("Slack attempt 1: Slack rate limit (429 rate_limited): asked to wait 1 s"),
        "{}",
        fire.stderr
    );
    assert!(
        fire.stdout
            .contains("Slack: delivered job.failed (HTTP 200,")
            && fire.stdout.contains("2 attempts"),
        "{}",
        fire.stdout
    );
    assert_eq!(stand_in.count_429(), 2);
    assert_eq!(stand_in.received().len(), 2);

    // The log's record (what the window shows): the 429 attempt, then 200.
    stand_in.fail_next(1, Failure::rate_limited(1));
    let d = dispatcher();
    let record = d
        .submit(target(&stand_in, &url), sample_event(job_failed()))
        .await
        .unwrap();
    assert_eq!(record.outcome, Outcome::Delivered, "{:?}", record.error);
    assert_eq!(record.attempts.len(), 2);
    assert_eq!(record.attempts[0].status, Some(429));
    assert!(
        record.attempts[0]
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("asked to wait 1 s"),
        "{:?}",
        record.attempts[0]
    );
    assert_eq!(record.attempts[1].status, Some(200));
    assert!(
        record.attempts[1].waited_ms >= 900,
        "{:?}",
        record.attempts[1]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_archived_slack_channel_pauses_slack_until_it_is_unarchived_and_resumed() {
    require_secret_service();
    let stand_in = SlackStandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    let fh = farmhook(dir.path(), "slack-gone", &stand_in);
    let url = stand_in.webhook_url();
    set_url(&fh, &url);
    fh.ok(&["slack", "enable"]);

    stand_in.archive_channel(&url);
    let fire = run(&fh, &["test-fire", "--to", "slack", "--json"]).await;
    assert_eq!(fire.code, 1, "{}\n{}", fire.stdout, fire.stderr);
    let line = one_line(&fire);
    assert_eq!(line["outcome"], "failed");
    assert_eq!(line["status"], 410);
    assert_eq!(line["attempts"], 1, "a gone webhook is not retried");
    let error = line["error"].as_str().unwrap();
    assert!(
        error.contains("Slack says the webhook's channel is archived"),
        "{error}"
    );

    // The pause outlives the process: status says so, and why.
    let status = fh.ok(&["status"]).stdout;
    let health = status
        .lines()
        .find(|l| l.contains("Slack:") && l.contains("paused"))
        .unwrap_or_else(|| panic!("Slack is not shown paused in {status}"));
    assert!(health.contains("unarchive the channel"), "{health}");
    let json = fh.ok(&["status", "--json"]).stdout;
    assert!(json.contains("unarchive the channel"), "{json}");
    assert!(!format!("{status}{json}").contains(secret_of(&url)));

    // Unarchived in Slack and resumed here: a new delivery goes through.
    stand_in.unarchive_channel(&url);
    let resume = run(&fh, &["slack", "resume"]).await;
    assert_eq!(resume.code, 0, "{}", resume.stderr);
    assert!(
        resume.stdout.contains("Slack: resumed"),
        "{}",
        resume.stdout
    );
    let status = fh.ok(&["status"]).stdout;
    assert!(
        !status
            .lines()
            .any(|l| l.contains("Slack:") && l.contains("paused")),
        "{status}"
    );
    let fire = run(&fh, &["test-fire", "--to", "slack", "--json"]).await;
    assert_eq!(fire.code, 0, "{}\n{}", fire.stdout, fire.stderr);
    assert_eq!(one_line(&fire)["outcome"], "delivered");
    assert_eq!(stand_in.received().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_removed_slack_webhook_stops_at_once_with_slacks_words() {
    let stand_in = SlackStandIn::start().await;
    let url = stand_in.webhook_url();
    stand_in.delete_webhook(&url);
    let d = dispatcher();
    let record = d
        .submit(target(&stand_in, &url), sample_event(job_failed()))
        .await
        .unwrap();
    assert_eq!(record.outcome, Outcome::Failed);
    assert_eq!(record.attempts.len(), 1);
    assert_eq!(record.status(), Some(404));
    let error = record.error.as_deref().unwrap();
    assert!(
        error.contains("Slack says this webhook no longer exists"),
        "{error}"
    );
    let paused = d.health(Channel::Slack).paused.expect("Slack is paused");
    assert!(
        paused.contains("paste a new webhook URL, then press Resume"),
        "{paused}"
    );
    assert!(!paused.contains(secret_of(&url)) && !error.contains(secret_of(&url)));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_burst_of_fifty_events_reaches_slack_whole_in_a_few_messages() {
    let stand_in = SlackStandIn::start().await;
    let url = stand_in.webhook_url();
    let d = dispatcher();
    let mut settings = Settings::default();
    settings.channels[Channel::Slack].enabled = true;
    let secrets = SecretsView::from_values([(&slack::URL_SECRET, url.clone())]);
    let bases = ApiBases::default()
        .with_override("slack", &stand_in.base())
        .unwrap();

    let started = Instant::now();
    let mut ids = Vec::new();
    let mut waiting = Vec::new();
    for i in 0..50 {
        let mut event = sample_event(
            EventType::from_id(["job.failed", "printer.offline", "job.started"][i % 3]).unwrap(),
        );
        event.test = false;
        ids.push(event.id.clone());
        let routed = route_event(&d, &settings, &secrets, &bases, event);
        assert_eq!(routed.len(), 1, "Slack is the one channel set up");
        waiting.extend(routed);
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

    // None lost, none summarised: each delivered, each in exactly one message.
    assert!(
        records.iter().all(|r| r.outcome == Outcome::Delivered),
        "{:?}",
        records
            .iter()
            .map(|r| (r.outcome, r.error.clone()))
            .collect::<Vec<_>>()
    );
    let contexts = context_lines(&stand_in);
    assert_eq!(contexts.len(), 50, "{contexts:?}");
    for id in &ids {
        assert_eq!(
            contexts.iter().filter(|c| c.contains(id.as_str())).count(),
            1,
            "{id}"
        );
    }
    // Batched into few messages, at most one 429, no ping.
    let messages = stand_in.received().len();
    assert!(messages <= 10, "{messages} messages");
    assert!(
        stand_in
            .received()
            .iter()
            .all(|m| m.header_texts().len() <= slack::MAX_EVENTS_PER_MESSAGE)
    );
    assert!(stand_in.count_429() <= 1, "{} 429s", stand_in.count_429());
    assert!(stand_in.pings().is_empty());
    eprintln!(
        "slack burst: 50 events in {messages} messages, {} requests, {} answered 429, {took:?}",
        stand_in.requests().len(),
        stand_in.count_429()
    );
}

#[test]
fn slack_is_set_up_in_the_window_and_its_test_shows_200_in_the_log() {
    require_secret_service();
    let rt = runtime();
    let stand_in = rt.block_on(SlackStandIn::start());
    let url = stand_in.webhook_url();
    let options = EngineOptions::from_env().with_stand_in("slack", &stand_in.base());
    let mut w = Window::open_with("slack-window", rt, options);
    // The window says where Slack traffic goes while the override is set.
    assert!(
        w.shows(&format!(
            "Slack stand-in: FARMHOOK_SLACK_API_BASE is set, so Slack deliveries go to {}",
            stand_in.base()
        )),
        "no stand-in banner for Slack"
    );

    // Paste the URL into Slack's section and save it.
    w.click("Configure");
    w.open_section("Slack");
    assert!(
        w.is_disabled("Enable Slack notifications"),
        "nothing saved yet"
    );
    // A URL copied wrong is refused as typed, in words, and cannot be saved.
    w.type_into("Slack webhook URL", "");
    w.paste(&url.replace("https://", "http://"));
    w.wait_for_text("the URL must start with https://");
    assert!(w.is_disabled("Save Slack URL"));
    w.paste(&format!("{url}/extra"));
    w.wait_for_text("there is more after the secret");
    assert!(!w.shows(secret_of(&url)));
    w.paste(&url);
    w.wait_for_text("a Slack webhook URL (workspace T0FARMHOOK");
    w.click("Save Slack URL");
    w.step_until("the URL to be stored", |w| {
        w.app().state().secrets.holds(slack::URL_SECRET.entry)
    });
    w.click("Enable Slack notifications");
    w.wait_saved();
    assert!(w.app().settings().unwrap().channels[Channel::Slack].enabled);
    // Slack has no Verify: nothing to press that would pretend to check.
    assert!(
        w.harness
            .query_by_role_and_label(egui::Role::Button, "Verify")
            .is_none()
    );
    assert!(
        w.shows(webhook_id_of(&url)),
        "the saved URL is shown redacted"
    );

    // Test: delivered, and the log says so with Slack's 200.
    w.open_section("Test");
    w.click("Test Slack");
    w.wait_for_text("Slack, Job failed (test), delivered, HTTP 200");
    let received = stand_in.received();
    assert_eq!(received.len(), 1);
    assert!(
        received[0].header_texts()[0].contains("Job failed"),
        "{:?}",
        received[0].header_texts()
    );
    w.wait_for_text("last test: delivered to Slack");
    w.click_containing("delivered, HTTP 200");
    w.wait_for_text("Attempt 1: HTTP 200");

    // The secret is shown nowhere in the window.
    assert!(!w.shows(secret_of(&url)));
    w.open_section("Slack");
    assert!(!w.shows(secret_of(&url)));
    assert!(!w.shows(&url));

    // The tile sums it up.
    w.click("‹ Back to Account");
    w.wait_for_text("delivered to Slack at");
    assert!(w.shows("(HTTP 200"));
    assert!(!w.shows(secret_of(&url)));
}

#[test]
fn the_window_shows_an_archived_slack_channel_paused_and_resume_sends_again() {
    require_secret_service();
    let rt = runtime();
    let stand_in = rt.block_on(SlackStandIn::start());
    let url = stand_in.webhook_url();
    let options = EngineOptions::from_env().with_stand_in("slack", &stand_in.base());
    let mut w = Window::open_with("slack-paused", rt, options);
    w.click("Configure");
    w.open_section("Slack");
    w.type_into("Slack webhook URL", &url);
    w.press_enter();
    w.step_until("the URL to be stored", |w| {
        w.app().state().secrets.holds(slack::URL_SECRET.entry)
    });
    stand_in.archive_channel(&url);

    w.open_section("Test");
    w.click("Test Slack");
    w.wait_for_text("Slack, Job failed (test), failed, HTTP 410");
    w.step_until("the list to show Slack paused", |w| {
        slack_tab_says(w, "⏸ paused")
    });
    w.open_section("Slack");
    w.wait_for_text("⏸ Paused:");
    assert!(w.shows("unarchive the channel or paste a new webhook URL"));

    stand_in.unarchive_channel(&url);
    w.click("Resume Slack");
    w.step_until("the pause to be lifted", |w| !w.shows("⏸ Paused:"));
    assert!(!slack_tab_says(&w, "⏸ paused"));

    // Sending again, Slack first asks to wait a second: the log shows the
    // 429 attempt, then the delivery.
    stand_in.fail_next(1, Failure::rate_limited(1));
    w.open_section("Test");
    w.click("Test Slack");
    w.wait_for_text("Slack, Job failed (test), delivered, HTTP 200");
    assert_eq!(stand_in.received().len(), 1);
    w.click_containing("delivered, HTTP 200");
    w.wait_for_text("Attempt 1: HTTP 429");
    assert!(w.shows("Attempt 2: HTTP 200"));
    assert!(!w.shows(secret_of(&url)));
}

/// Does the Slack entry of the section list describe Slack as `state`?
fn slack_tab_says(w: &Window, state: &str) -> bool {
    w.harness
        .get_by_role_and_label(egui::Role::Tab, "Slack")
        .accesskit_node()
        .description()
        .is_some_and(|d| d.contains(state))
}

fn job_failed() -> EventType {
    EventType::from_id("job.failed").unwrap()
}

/// The engine's own delivery settings (Slack's pace is the sender's).
fn dispatcher() -> Dispatcher {
    Dispatcher::new(DeliveryConfig::default(), |_| {}).unwrap()
}

fn target(stand_in: &SlackStandIn, url: &str) -> Target {
    Target::new(SlackTarget {
        url: SlackWebhookUrl::parse(url).unwrap(),
        api_base: stand_in.base(),
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_simulated_network_outage_reaches_slack_with_every_event_accounted_for() {
    require_secret_service();
    let stand_in = SlackStandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    let fh = farmhook(dir.path(), "slack-sim", &stand_in);
    set_url(&fh, &stand_in.webhook_url());
    fh.ok(&["slack", "enable"]);
    fh.ok(&["events", "enable", "all", "--to", "slack"]);
    fh.ok(&["events", "disable", "job.started", "--to", "slack"]);

    let sim = run(
        &fh,
        &[
            "simulate",
            "--printers",
            "50",
            "--scenario",
            "network-outage",
            "--speed",
            "10",
            "--duration",
            "2",
            "--json",
        ],
    )
    .await;
    assert_eq!(sim.code, 0, "{}\n{}", sim.stdout, sim.stderr);
    let lines: Vec<serde_json::Value> = sim
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let summary = &lines.last().unwrap()["summary"];
    assert_eq!(summary["failed"], 0, "{summary}");
    assert!(summary["responses_429"].as_u64().unwrap() <= 1, "{summary}");
    let events_of = |outcome: &str| -> Vec<(String, String)> {
        lines
            .iter()
            .filter(|l| l["destination"] == "slack" && l["outcome"] == outcome)
            .flat_map(|l| l["events"].as_array().unwrap().clone())
            .map(|e| {
                (
                    e["type"].as_str().unwrap().to_string(),
                    e["id"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let delivered = events_of("delivered");
    assert!(
        delivered.iter().any(|(t, _)| t == "printer.offline"),
        "{delivered:?}"
    );
    assert!(delivered.iter().all(|(t, _)| t != "job.started"));
    assert!(
        events_of("filtered")
            .iter()
            .all(|(t, _)| t == "job.started")
    );
    // Each delivered event is in exactly one Slack message.
    let contexts = context_lines(&stand_in);
    assert_eq!(contexts.len(), delivered.len());
    for (_, id) in &delivered {
        assert_eq!(
            contexts.iter().filter(|c| c.contains(id.as_str())).count(),
            1,
            "{id}"
        );
    }
    assert!(stand_in.count_429() <= 1, "{} 429s", stand_in.count_429());
    assert!(stand_in.pings().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_printer_named_to_ping_the_channel_pings_nobody_in_slack() {
    let stand_in = SlackStandIn::start().await;
    let url = stand_in.webhook_url();
    let d = dispatcher();
    let mut event = sample_event(job_failed());
    let printer = event.printer.as_mut().expect("the sample names a printer");
    printer.name = "<!channel> X1C & <@U024BE7LH>".into();
    let job = event.job.as_mut().expect("the sample has a job");
    job.name = "<!here|here> benchy.3mf".into();
    let record = d.submit(target(&stand_in, &url), event).await.unwrap();
    assert_eq!(record.outcome, Outcome::Delivered, "{:?}", record.error);
    assert!(stand_in.pings().is_empty(), "{:?}", stand_in.pings());
    // The names arrive escaped, so Slack shows them as typed.
    let body = stand_in.received()[0].body.to_string();
    assert!(
        body.contains("&lt;!channel&gt; X1C &amp; &lt;@U024BE7LH&gt;"),
        "{body}"
    );
    assert!(body.contains("&lt;!here|here&gt; benchy.3mf"), "{body}");
}

/// The command line saves the URL and enables Slack while the window is
/// open: the window shows both, redacted.
#[test]
fn a_slack_url_saved_by_the_command_line_shows_in_the_open_window() {
    require_secret_service();
    let rt = runtime();
    let stand_in = rt.block_on(SlackStandIn::start());
    let url = stand_in.webhook_url();
    let options = EngineOptions::from_env().with_stand_in("slack", &stand_in.base());
    let mut w = Window::open_with("slack-outside", rt, options);
    let cli = Farmhook {
        config_dir: w.config_dir.path().to_path_buf(),
        profile: w.profile.clone(),
        envs: Vec::new(),
    };
    set_url(&cli, &url);
    cli.ok(&["slack", "enable"]);
    w.step_until("the URL saved outside to show", |w| {
        w.app().state().secrets.holds(slack::URL_SECRET.entry)
            && w.app()
                .settings()
                .is_some_and(|s| s.channels[Channel::Slack].enabled)
    });
    w.click("Configure");
    w.open_section("Slack");
    w.wait_for_text(webhook_id_of(&url));
    assert!(!w.shows(secret_of(&url)));
    w.open_section("Test");
    w.click("Test Slack");
    w.wait_for_text("Slack, Job failed (test), delivered, HTTP 200");
    assert_eq!(stand_in.received().len(), 1);
}
