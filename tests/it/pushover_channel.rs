//! Pushover end to end, as a user meets it: the real binary and the real
//! window, a real Secret Service, and the Pushover stand-in on loopback.
//! Set up (and refused input), a test notification, Verify, the monthly
//! quota's 429 waited out, a deleted application pausing the channel until
//! Resume, and a 50-event burst batched into a few notifications.

use std::time::{Duration, Instant};

use crate::support::pushover_stand_in::{Failure, Gone, PushoverConfig, PushoverStandIn};
use crate::support::{Farmhook, all_file_bytes, contains, require_secret_service};
use crate::ui_support::{Window, runtime};
use egui_kittest::kittest::{NodeT, Queryable};
use farmhook::core::channels::pushover::{AppToken, UserKey};
use farmhook::core::events::EventType;
use farmhook::core::settings::Channel;
use farmhook::engine::delivery::deliver::Target;
use farmhook::engine::delivery::dispatcher::{DeliveryConfig, Dispatcher};
use farmhook::engine::delivery::log::{DeliveryRecord, Outcome};
use farmhook::engine::delivery::pushover::PushoverTarget;
use farmhook::engine::service::{EngineOptions, sample_event};

/// The application token and user key the stand-in knows.
const TOKEN: &str = "azGDORePK8gMaC0QOYAMyEEuzJnyUi";
const USER: &str = "uQiRzpo4DXghDmr9QzzfQu27cmVRsG";
/// How farmhook shows them: the first four characters.
const TOKEN_SHOWN: &str = "azGD••••••";
const USER_SHOWN: &str = "uQiR••••••";

/// The binary with its own config dir, talking to `stand_in`.
fn farmhook(dir: &std::path::Path, tag: &str, stand_in: &PushoverStandIn) -> Farmhook {
    Farmhook::new(dir, tag).env("FARMHOOK_PUSHOVER_API_BASE", &stand_in.base())
}

/// Stores both keys through stdin, as the README says.
fn set_keys(fh: &Farmhook) {
    let token = fh.run_with_stdin(&["pushover", "set-token", "-"], TOKEN);
    assert_eq!(token.code, 0, "{}{}", token.stdout, token.stderr);
    let user = fh.run_with_stdin(&["pushover", "set-user", "-"], USER);
    assert_eq!(user.code, 0, "{}{}", user.stdout, user.stderr);
}

/// Runs the binary off the async runtime (the stand-in lives on it).
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

/// `test-fire job.failed --to pushover --json`: its one JSON line.
async fn fire(fh: &Farmhook) -> (crate::support::Run, serde_json::Value) {
    let fired = run(
        fh,
        &["test-fire", "job.failed", "--to", "pushover", "--json"],
    )
    .await;
    let line: serde_json::Value = serde_json::from_str(fired.stdout.trim())
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", fired.stdout, fired.stderr));
    assert_eq!(line["destination"], "pushover", "{line}");
    assert_eq!(line["event"], "job.failed", "{line}");
    (fired, line)
}

/// Neither key appears in `text`.
#[track_caller]
fn no_secret_in(text: &str) {
    assert!(
        !text.contains(TOKEN) && !text.contains(USER),
        "a key was shown: {text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_are_checked_as_given_kept_off_disk_and_shown_masked() {
    require_secret_service();
    let stand_in = PushoverStandIn::start(TOKEN, USER).await;
    let dir = tempfile::tempdir().unwrap();
    let fh = farmhook(dir.path(), "po-setup", &stand_in);

    // Not set up: a test says what is missing.
    let nothing = run(&fh, &["test-fire", "--to", "pushover"]).await;
    assert_eq!(nothing.code, 2, "{}", nothing.stderr);
    assert!(
        nothing
            .stderr
            .contains("Pushover needs both its application token and your user key"),
        "{}",
        nothing.stderr
    );

    // A key as an argument would land in shell history: refused, not echoed.
    for (command, value) in [("set-token", TOKEN), ("set-user", USER)] {
        let argued = fh.run(&["pushover", command, value]);
        assert_eq!(argued.code, 2, "{command}: {}", argued.stderr);
        assert!(argued.stderr.contains("on stdin"), "{}", argued.stderr);
        no_secret_in(&format!("{}{}", argued.stdout, argued.stderr));
    }

    // Wrong keys: exit 2, the words say what is wrong, the key is not echoed.
    let short = &TOKEN[..29];
    let spaced = format!("{} {}", &USER[..10], &USER[11..]);
    let odd = format!("{}-", &TOKEN[..29]);
    for (command, value, words) in [
        (
            "set-token",
            short,
            "the application token has 29 characters",
        ),
        ("set-token", "", "the application token is empty"),
        (
            "set-token",
            odd.as_str(),
            "character 30 of the application token",
        ),
        (
            "set-user",
            spaced.as_str(),
            "the user key has a space or line break",
        ),
        ("set-user", &USER[..20], "the user key has 20 characters"),
    ] {
        let refused = fh.run_with_stdin(&["pushover", command, "-"], value);
        assert_eq!(refused.code, 2, "{command} {value:?}: {}", refused.stderr);
        assert!(refused.stderr.contains(words), "{}", refused.stderr);
        let printed = format!("{}{}", refused.stdout, refused.stderr);
        assert!(value.len() < 8 || !printed.contains(value), "{printed}");
    }
    assert!(!fh.ok(&["status"]).stdout.contains(TOKEN_SHOWN));

    // Good keys are kept, and shown masked.
    set_keys(&fh);
    let status = fh.ok(&["status"]);
    assert!(status.stdout.contains(TOKEN_SHOWN), "{}", status.stdout);
    assert!(status.stdout.contains(USER_SHOWN), "{}", status.stdout);
    no_secret_in(&status.stdout);
    let json = fh.ok(&["status", "--json"]);
    let parsed: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let pushover = parsed.to_string();
    assert!(pushover.contains(TOKEN_SHOWN), "{pushover}");
    assert!(pushover.contains(USER_SHOWN), "{pushover}");
    no_secret_in(&json.stdout);

    // Nothing under the config dir holds either key.
    fh.ok(&["pushover", "enable"]);
    let disk = all_file_bytes(dir.path());
    assert!(!disk.is_empty(), "the settings were saved");
    assert!(!contains(&disk, TOKEN) && !contains(&disk, USER));

    // Clear forgets both.
    fh.ok(&["pushover", "clear"]);
    assert!(!fh.ok(&["status"]).stdout.contains(TOKEN_SHOWN));
}

#[tokio::test(flavor = "multi_thread")]
async fn test_fire_posts_a_well_formed_notification_naming_the_event() {
    require_secret_service();
    let stand_in = PushoverStandIn::start(TOKEN, USER).await;
    let dir = tempfile::tempdir().unwrap();
    let fh = farmhook(dir.path(), "po-fire", &stand_in);
    set_keys(&fh);

    let (fired, line) = fire(&fh).await;
    assert_eq!(fired.code, 0, "{}\n{}", fired.stdout, fired.stderr);
    assert_eq!(line["outcome"], "delivered", "{line}");
    assert_eq!(line["status"], 200, "{line}");
    assert_eq!(line["attempts"], 1, "{line}");
    no_secret_in(&format!("{}{}", fired.stdout, fired.stderr));

    let received = stand_in.received();
    assert_eq!(received.len(), 1);
    let message = &received[0];
    let shown = format!(
        "{} {}",
        message.title.as_deref().unwrap_or_default(),
        message.message
    );
    assert!(shown.contains("Job failed"), "{shown}");
    // An error is a high-priority push, with a time and a sound.
    assert_eq!(message.priority, 1, "{:?}", message.params);
    assert!(message.timestamp.is_some_and(|t| t > 1_700_000_000));
    assert!(message.sound.is_some(), "{:?}", message.params);
    assert_eq!(message.params["token"], "<token>");
    assert_eq!(message.params["user"], "<user>");
    assert!(message.content_type.starts_with("application/json"));
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_lists_the_devices_and_names_a_refused_user_key() {
    require_secret_service();
    let stand_in = PushoverStandIn::start(TOKEN, USER).await;
    let dir = tempfile::tempdir().unwrap();
    let fh = farmhook(dir.path(), "po-verify", &stand_in);

    let unset = run(&fh, &["pushover", "verify"]).await;
    assert_ne!(unset.code, 0);
    assert!(
        unset.stderr.contains("Pushover needs both"),
        "{}",
        unset.stderr
    );

    set_keys(&fh);
    let verify = run(&fh, &["pushover", "verify"]).await;
    assert_eq!(verify.code, 0, "{}\n{}", verify.stdout, verify.stderr);
    assert!(
        verify
            .stdout
            .contains("a Pushover user with 2 devices (iphone, pixel8)"),
        "{}",
        verify.stdout
    );
    no_secret_in(&format!("{}{}", verify.stdout, verify.stderr));
    // Verify posts nothing.
    assert!(stand_in.received().is_empty());

    stand_in.set_gone(Some(Gone::User));
    let refused = run(&fh, &["pushover", "verify"]).await;
    assert_ne!(refused.code, 0, "{}", refused.stdout);
    assert!(refused.stderr.contains("user key"), "{}", refused.stderr);
    no_secret_in(&format!("{}{}", refused.stdout, refused.stderr));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_quota_429_is_waited_out_until_its_reset_then_delivered() {
    require_secret_service();
    // The month's quota resets in two seconds.
    let reset = time::OffsetDateTime::now_utc().unix_timestamp() + 2;
    let stand_in = PushoverStandIn::start_with(PushoverConfig {
        reset_unix: Some(reset),
        ..PushoverConfig::new(TOKEN, USER)
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let fh = farmhook(dir.path(), "po-429", &stand_in);
    set_keys(&fh);

    // In words: the 429 attempt is told, then the delivery.
    stand_in.fail_next(1, Failure::OverQuota);
    let said = run(&fh, &["test-fire", "job.failed", "--to", "pushover"]).await;
    assert_eq!(said.code, 0, "{}\n{}", said.stdout, said.stderr);
    assert!(
        said.stderr.contains("Pushover attempt 1") && said.stderr.contains("monthly message limit"),
        "{}",
        said.stderr
    );
    assert!(
        said.stdout
            .contains("Pushover: delivered job.failed (HTTP 200")
            && said.stdout.contains("2 attempts"),
        "{}",
        said.stdout
    );

    // As JSON: two attempts, the last a 200.
    let reset = time::OffsetDateTime::now_utc().unix_timestamp() + 2;
    drop(stand_in);
    let stand_in = PushoverStandIn::start_with(PushoverConfig {
        reset_unix: Some(reset),
        ..PushoverConfig::new(TOKEN, USER)
    })
    .await;
    let fh = fh.env("FARMHOOK_PUSHOVER_API_BASE", &stand_in.base());
    stand_in.fail_next(1, Failure::OverQuota);
    let started = Instant::now();
    let (fired, line) = fire(&fh).await;
    assert_eq!(fired.code, 0, "{}\n{}", fired.stdout, fired.stderr);
    assert_eq!(line["outcome"], "delivered", "{line}");
    assert_eq!(line["attempts"], 2, "{line}");
    assert_eq!(line["status"], 200, "{line}");
    let statuses: Vec<u16> = stand_in.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [429, 200]);
    // It waited for the reset rather than trying again at once.
    let requests = stand_in.requests();
    let gap = requests[1].at - requests[0].at;
    assert!(gap >= Duration::from_millis(500), "{gap:?}");
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(stand_in.received().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_application_pauses_pushover_until_resume() {
    require_secret_service();
    let stand_in = PushoverStandIn::start(TOKEN, USER).await;
    let dir = tempfile::tempdir().unwrap();
    let fh = farmhook(dir.path(), "po-gone", &stand_in);
    set_keys(&fh);
    fh.ok(&["pushover", "enable"]);

    stand_in.set_gone(Some(Gone::Token));
    let (fired, line) = fire(&fh).await;
    assert_eq!(fired.code, 1, "{}\n{}", fired.stdout, fired.stderr);
    assert_eq!(line["outcome"], "failed", "{line}");
    assert_eq!(line["status"], 400, "{line}");
    let error = line["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("Pushover says the application token is invalid"),
        "{error}"
    );
    // Gone is not retried.
    assert_eq!(stand_in.requests().len(), 1);

    // Status says it is paused, and why.
    let status = fh.ok(&["status"]);
    assert!(
        status.stdout.to_lowercase().contains("paused")
            && status.stdout.contains("application token is invalid"),
        "{}",
        status.stdout
    );
    let json = fh.ok(&["status", "--json"]).stdout;
    assert!(
        json.contains("paused") && json.contains("application token is invalid"),
        "{json}"
    );
    no_secret_in(&format!("{}{json}", status.stdout));

    // The user fixes it in Pushover and presses Resume: it sends again.
    stand_in.set_gone(None);
    let resumed = fh.ok(&["pushover", "resume"]);
    assert!(
        resumed.stdout.contains("Pushover: resumed"),
        "{}",
        resumed.stdout
    );
    let status = fh.ok(&["status"]).stdout;
    assert!(!status.contains("application token is invalid"), "{status}");
    let (fired, line) = fire(&fh).await;
    assert_eq!(fired.code, 0, "{}\n{}", fired.stdout, fired.stderr);
    assert_eq!(line["outcome"], "delivered", "{line}");
    assert_eq!(stand_in.received().len(), 1);
}

/// A real (not test) event, as a printer sends it.
fn real(id: &str) -> farmhook::core::payload::Event {
    let mut e = sample_event(EventType::from_id(id).unwrap());
    e.test = false;
    e
}

#[tokio::test(flavor = "multi_thread")]
async fn a_burst_of_fifty_events_is_batched_into_a_few_notifications_none_lost() {
    let stand_in = PushoverStandIn::start(TOKEN, USER).await;
    let target = Target::new(PushoverTarget {
        token: AppToken::parse(TOKEN).unwrap(),
        user: UserKey::parse(USER).unwrap(),
        api_base: stand_in.base(),
    });
    let dispatcher = Dispatcher::new(DeliveryConfig::default(), |_| {}).unwrap();
    let started = Instant::now();
    let mut ids = Vec::new();
    let waiting: Vec<_> = (0..50)
        .map(|i| {
            let e = real(["printer.offline", "job.failed"][i % 2]);
            ids.push(e.id.clone());
            dispatcher.submit(target.clone(), e)
        })
        .collect();
    let mut records: Vec<DeliveryRecord> = Vec::new();
    for w in waiting {
        let record = tokio::time::timeout(Duration::from_secs(60), w)
            .await
            .expect("every event ends in the log")
            .unwrap();
        records.push(record);
    }
    let took = started.elapsed();
    for r in &records {
        assert_eq!(r.outcome, Outcome::Delivered, "{:?}", r.error);
    }
    // Each event is in exactly one delivered notification.
    dispatcher.idle().await;
    let log = dispatcher.log_snapshot();
    let mut logged: Vec<&str> = log
        .iter()
        .filter(|r| r.destination == Channel::Pushover)
        .flat_map(|r| r.events.iter().map(|e| e.id.as_str()))
        .collect();
    logged.sort();
    let mut sent: Vec<&str> = ids.iter().map(String::as_str).collect();
    sent.sort();
    assert_eq!(logged, sent);
    assert!(log.iter().all(|r| r.outcome == Outcome::Delivered));

    let messages = stand_in.received();
    assert!(
        (5..=10).contains(&messages.len()),
        "{} notifications",
        messages.len()
    );
    // A second apart, as the pace says.
    for pair in messages.windows(2) {
        assert!(pair[1].at - pair[0].at >= Duration::from_millis(900));
    }
    assert!(stand_in.count_429() <= 1, "{} 429s", stand_in.count_429());
    eprintln!(
        "pushover burst: 50 events, {} notifications, {} × 429, {:.1} s",
        messages.len(),
        stand_in.count_429(),
        took.as_secs_f64()
    );
    dispatcher.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_months_last_message_holds_the_queue_until_the_quota_resets() {
    // One message left this month; the count starts again in four seconds.
    let reset = time::OffsetDateTime::now_utc().unix_timestamp() + 4;
    let stand_in = PushoverStandIn::start_with(PushoverConfig {
        remaining: 1,
        reset_unix: Some(reset),
        ..PushoverConfig::new(TOKEN, USER)
    })
    .await;
    let target = Target::new(PushoverTarget {
        token: AppToken::parse(TOKEN).unwrap(),
        user: UserKey::parse(USER).unwrap(),
        api_base: stand_in.base(),
    });
    let dispatcher = Dispatcher::new(DeliveryConfig::default(), |_| {}).unwrap();
    let first = dispatcher.submit(target.clone(), real("job.failed"));
    assert_eq!(first.await.unwrap().outcome, Outcome::Delivered);
    // Pushover's answer said 0 left: the next waits for the reset instead
    // of being refused (the stand-in has room again, as after a reset).
    stand_in.set_remaining(10);
    let second = dispatcher.submit(target, real("printer.offline"));
    let record = tokio::time::timeout(Duration::from_secs(30), second)
        .await
        .expect("the held event ends")
        .unwrap();
    assert_eq!(record.outcome, Outcome::Delivered, "{:?}", record.error);
    let messages = stand_in.received();
    assert_eq!(messages.len(), 2);
    let held = messages[1].at - messages[0].at;
    assert!(held >= Duration::from_millis(2500), "held only {held:?}");
    assert_eq!(stand_in.count_429(), 0);
    dispatcher.shutdown().await;
}

/// Clicks into the field labelled `label` and pastes `text` into it.
fn paste_into(w: &mut Window, label: &str, text: &str) {
    w.settle();
    w.harness.get_by_label(label).click();
    w.harness.step();
    w.paste(text);
}

#[test]
fn the_window_sets_up_verifies_tests_pauses_and_resumes_pushover() {
    require_secret_service();
    let rt = runtime();
    let stand_in = rt.block_on(PushoverStandIn::start(TOKEN, USER));
    let options = EngineOptions::from_env().with_stand_in("pushover", &stand_in.base());
    let mut w = Window::open_with("pushover-window", rt, options);

    // Paste both keys and keep them.
    w.click("Configure");
    w.open_section("Pushover");
    paste_into(&mut w, "Pushover application token", TOKEN);
    w.press_enter();
    w.step_until("the token to be stored", |w| {
        w.app().state().secrets.holds("pushover-app-token")
    });
    paste_into(&mut w, "Pushover user key", USER);
    w.press_enter();
    w.step_until("the user key to be stored", |w| {
        w.app().state().secrets.holds("pushover-user-key")
    });
    w.wait_for_text(&format!("token {TOKEN_SHOWN}, user {USER_SHOWN}"));
    w.click("Enable Pushover notifications");
    w.wait_saved();
    assert!(w.app().settings().unwrap().channels[Channel::Pushover].enabled);

    // Verify lists the devices.
    w.open_section("Pushover");
    w.click("Verify");
    w.wait_for_text("a Pushover user with 2 devices (iphone, pixel8)");
    assert!(stand_in.received().is_empty());

    // Test: delivered, with Pushover's 200.
    w.open_section("Test");
    w.click("Test Pushover");
    w.wait_for_text("Pushover, Job failed (test), delivered, HTTP 200");
    assert_eq!(stand_in.received().len(), 1);
    assert!(!w.shows(TOKEN) && !w.shows(USER));

    // The application is deleted: the next test fails with Pushover's
    // words, and Pushover is paused with the reason and a Resume button.
    stand_in.set_gone(Some(Gone::Token));
    w.click("Test Pushover");
    w.wait_for_text("Pushover, Job failed (test), failed");
    w.open_section("Pushover");
    w.wait_for_text("⏸ Paused: Pushover says the application token is invalid");
    stand_in.set_gone(None);
    w.click("Resume Pushover");
    w.step_until("Pushover to resume", |w| {
        w.app().state().health[Channel::Pushover].paused.is_none()
    });
    assert!(!w.shows("⏸ Paused"));
    w.open_section("Test");
    w.click("Test Pushover");
    w.step_until("a second notification", |_| stand_in.received().len() == 2);
    w.wait_for_text("last test: delivered to Pushover");

    // No key anywhere in the window's text, the log detail included.
    w.settle();
    w.harness
        .query_all_by_label_contains("Pushover, Job failed (test), delivered, HTTP 200")
        .next()
        .expect("a delivered row")
        .click_accesskit();
    w.harness.step();
    w.wait_for_text("Attempt 1: HTTP 200");
    assert!(!w.shows(TOKEN) && !w.shows(USER));
    let all_text: Vec<String> = w
        .harness
        .query_all_by_label_contains("")
        .filter_map(|n| n.accesskit_node().label())
        .collect();
    let all_text = all_text.join("\n");
    assert!(all_text.contains("Attempt 1: HTTP 200"), "{all_text}");
    no_secret_in(&all_text);
    w.harness.check_accessibility();
}
