//! Test deliveries from the window against real HTTP servers on loopback: a
//! Discord stand-in and a custom-webhook endpoint. Each delivery must show
//! up in the live log with Discord's or the endpoint's answer.

use crate::support::discord_stand_in::DiscordStandIn;
use crate::support::endpoint::{Behaviour, Endpoint};
use crate::support::require_secret_service;
use crate::ui_support::{Window, runtime};
use egui_kittest::kittest::{NodeT, Queryable};
use farmhook::core::api_base::ApiBases;
use farmhook::core::events::EventType;
use farmhook::core::settings::Channel;
use farmhook::engine::delivery::dispatcher::DeliveryConfig;
use farmhook::engine::delivery::log::{DETAIL_KEPT, Outcome};
use farmhook::engine::service::{EngineOptions, EngineUpdate};
use farmhook::ui::delivery_log_panel::row_label;

#[test]
fn discord_test_delivery_reaches_the_stand_in_and_shows_204_in_the_log() {
    require_secret_service();
    let rt = runtime();
    let stand_in = rt.block_on(DiscordStandIn::start());
    let url = stand_in.webhook_url();
    let options = EngineOptions::from_env().with_stand_in("discord", &stand_in.api_base());
    let mut w = Window::open_with("discord-test", rt, options);
    assert!(w.shows(&format!(
        "Discord stand-in: FARMHOOK_DISCORD_API_BASE is set, so Discord deliveries go to {}",
        stand_in.api_base()
    )));

    // Paste the URL, keep it, enable Discord, and only tick Job failed.
    w.click("Configure");
    w.type_into("Discord webhook URL", &url);
    w.press_enter();
    w.step_until("the URL to be stored", |w| {
        w.app().state().secrets.discord_url().is_some()
    });
    w.click("Enable Discord notifications");
    w.open_section("Discord");
    w.click("None");
    w.click("Job failed");
    w.wait_saved();
    let job_failed = EventType::from_id("job.failed").unwrap();
    let settings = w.app().settings().unwrap();
    assert!(settings.channels[Channel::Discord].enabled);
    assert_eq!(
        settings.channels[Channel::Discord]
            .events
            .iter()
            .collect::<Vec<_>>(),
        [job_failed]
    );

    // Verify names the webhook and its channel.
    w.open_section("Discord");
    w.click("Verify");
    w.wait_for_text("posts as “Farm alerts” in channel 1100000000000000001");

    // Test: the delivery appears in the log with Discord's 204.
    w.open_section("Test");
    w.click("Test Discord");
    w.wait_for_text("Discord, Job failed (test), delivered, HTTP 204");
    let received = stand_in.received();
    assert_eq!(received.len(), 1);
    let embed = &received[0].body["embeds"][0];
    assert!(
        embed["title"]
            .as_str()
            .unwrap_or_default()
            .contains("Job failed"),
        "{embed}"
    );
    w.wait_for_text("last test: delivered to Discord");

    // The row opens the detail: the attempt and what Discord answered.
    w.click_containing("delivered, HTTP 204");
    w.wait_for_text("Attempt 1: HTTP 204");
    assert!(w.shows("Request headers (secrets masked)"));
    // The token is shown nowhere in the window.
    let token = url.rsplit('/').next().unwrap();
    assert!(!w.shows(token));
    // Once a thousand newer deliveries have come, the engine hands the
    // window the record without its detail (as it keeps it): the attempt
    // stays, and the window says where the rest went.
    let slim = w
        .app()
        .state()
        .deliveries
        .newest(0)
        .unwrap()
        .without_detail();
    w.harness
        .state_mut()
        .apply_update(EngineUpdate::Delivery(std::sync::Arc::new(slim)), 0.0);
    w.wait_for_text(&format!(
        "The request body, the headers and the answers are kept for the newest {DETAIL_KEPT} deliveries; this one's were let go to save memory."
    ));
    assert!(w.shows("Attempt 1: HTTP 204"));
    assert!(!w.shows("Request headers (secrets masked)"));

    // The tile sums it up.
    w.click("‹ Back to Account");
    w.wait_for_text("delivered to Discord at");
    assert!(w.shows("(HTTP 204"));
    assert!(w.shows("1 of 19 events"));
    w.harness.check_accessibility();
}

#[test]
fn custom_webhook_test_sends_the_copied_key_and_shows_200_in_the_log() {
    require_secret_service();
    let rt = runtime();
    let endpoint = rt.block_on(Endpoint::start(Behaviour::Status(200)));
    let mut w = Window::open_with("webhook-test", rt, EngineOptions::from_env());

    w.click("Commercial 💎");
    w.click("Configure");
    w.save_endpoint(&endpoint.url());
    w.click("Enable the custom webhook");
    w.step_until("an API key to be generated", |w| {
        w.app().state().secrets.api_key().is_some()
    });
    let copied = w.click_and_copy("Copy key");
    assert_eq!(copied.len(), 48);

    w.open_section("Test");
    w.click("Test custom webhook");
    w.wait_for_text("Custom webhook, Job failed (test), delivered, HTTP 200");
    let requests = endpoint.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].header("x-api-key"), Some(copied.as_str()));
    let body = requests[0].body_json();
    assert_eq!(body["type"], "job.failed");
    assert_eq!(body["test"], true);
    assert_eq!(body["schema_version"], 1);
    w.wait_for_text("last test: delivered to Custom webhook");

    // The request as sent is in the detail, with the key masked.
    w.click_containing("delivered, HTTP 200");
    w.wait_for_text("Attempt 1: HTTP 200");
    assert!(!w.shows(&copied));
    w.harness.check_accessibility();
}

#[test]
fn a_rejected_key_shows_as_failed_with_the_endpoint_answer() {
    require_secret_service();
    let rt = runtime();
    let endpoint = rt.block_on(Endpoint::start(Behaviour::Status(401)));
    let mut w = Window::open_with("webhook-401", rt, EngineOptions::from_env());
    w.click("Commercial 💎");
    w.click("Configure");
    w.save_endpoint(&endpoint.url());
    w.click("Generate key");
    w.step_until("an API key", |w| {
        w.app().state().secrets.api_key().is_some()
    });
    w.open_section("Test");
    w.click("Test custom webhook");
    w.wait_for_text("Custom webhook, Job failed (test), failed, HTTP 401");
    assert!(w.shows("last test: failed for Custom webhook"));
    assert_eq!(endpoint.hits(), 1, "a 401 is final: no retry");

    // The log's filters: only delivered → nothing; only failed → the 401.
    w.pick("Outcome", "delivered");
    w.wait_for_text("0 of 1 deliveries");
    assert!(!w.shows("failed, HTTP 401"));
    w.pick("Outcome", "failed");
    w.wait_for_text("1 of 1 deliveries");
    assert!(w.shows("Custom webhook, Job failed (test), failed, HTTP 401"));

    // Troubleshooting points at the key.
    w.open_section("Troubleshooting");
    w.click("Nothing arrives? Check these");
    assert!(w.shows("Key matching?"));
    assert!(w.shows("A 401 or 403 usually means the receiver has a different X-API-Key"));

    // Clear empties the log (the window's copy and the engine's).
    w.click("Clear");
    w.wait_for_text("No deliveries yet");
}

#[test]
fn a_deleted_discord_webhook_pauses_discord_with_the_reason_and_resume_lifts_it() {
    require_secret_service();
    let rt = runtime();
    let stand_in = rt.block_on(DiscordStandIn::start());
    let url = stand_in.webhook_url();
    let options = EngineOptions::from_env().with_stand_in("discord", &stand_in.api_base());
    let mut w = Window::open_with("discord-deleted", rt, options);
    w.click("Configure");
    w.type_into("Discord webhook URL", &url);
    w.press_enter();
    w.step_until("the URL to be stored", |w| {
        w.app().state().secrets.discord_url().is_some()
    });
    stand_in.delete_webhook(&url);

    w.click("Verify");
    w.wait_for_text("this webhook was deleted in Discord");
    w.open_section("Test");
    w.click("Test Discord");
    w.wait_for_text("Discord, Job failed (test), failed, HTTP 404");
    // The list says so at a glance; the channel says why and offers Resume.
    w.step_until("the list to show Discord paused", |w| {
        discord_tab_says(w, "⏸ paused")
    });
    w.open_section("Discord");
    w.wait_for_text("⏸ Paused:");
    w.click("Resume Discord");
    w.step_until("the pause to be lifted", |w| !w.shows("⏸ Paused:"));
    assert!(discord_tab_says(&w, "✔ on") || discord_tab_says(&w, "⚠ off"));
}

/// Does the Discord entry of the section list describe Discord as `state`?
fn discord_tab_says(w: &Window, state: &str) -> bool {
    w.harness
        .get_by_role_and_label(egui::Role::Tab, "Discord")
        .accesskit_node()
        .description()
        .is_some_and(|d| d == state)
}

#[test]
fn closing_the_window_mid_delivery_records_it_as_cut_short() {
    require_secret_service();
    let rt = runtime();
    let endpoint = rt.block_on(Endpoint::start(Behaviour::NeverAnswer));
    let mut w = Window::open_with("webhook-close", rt, EngineOptions::from_env());
    w.click("Commercial 💎");
    w.click("Configure");
    w.save_endpoint(&endpoint.url());
    w.click("Generate key");
    w.step_until("an API key", |w| {
        w.app().state().secrets.api_key().is_some()
    });
    w.open_section("Test");
    w.click("Test custom webhook");
    w.wait_for_text("Custom webhook, Job failed (test), sending");
    assert!(w.shows("sending…"), "the Test button shows its spinner");

    // What eframe's on_exit does when the window closes.
    w.harness
        .state_mut()
        .shut_down(std::time::Duration::from_secs(5));
    let state = w.app().state();
    assert!(state.stopped);
    let record = state.deliveries.newest(0).expect("the delivery is logged");
    assert_eq!(record.outcome.words(), "failed");
    let error = record.error.clone().unwrap_or_default();
    assert!(error.contains("cut short"), "{error}");
}

#[test]
fn the_virtual_farm_started_from_the_window_fills_the_log_and_honours_the_checkboxes() {
    require_secret_service();
    let rt = runtime();
    let stand_in = rt.block_on(DiscordStandIn::start());
    let url = stand_in.webhook_url();
    let options = EngineOptions::from_env().with_stand_in("discord", &stand_in.api_base());
    let mut w = Window::open_with("farm", rt, options);
    w.click("Configure");
    w.type_into("Discord webhook URL", &url);
    w.press_enter();
    w.step_until("the URL to be stored", |w| {
        w.app().state().secrets.discord_url().is_some()
    });
    w.click("Enable Discord notifications");
    // Job started unticked: the farm's first events are filtered, and say so.
    w.open_section("Discord");
    w.click("Job started");
    w.wait_saved();
    w.open_section("Virtual farm");
    w.click("Start the farm");
    w.wait_for_text("Discord, Job started, filtered");
    // Each row names the printer the event came from.
    let named = w
        .harness
        .query_all_by_label_contains("Discord, Job started, filtered")
        .any(|row| {
            row.accesskit_node()
                .label()
                .is_some_and(|l| l.contains(", from ") && l.contains('-'))
        });
    assert!(named, "a farm printer's row names it");
    assert!(stand_in.received().is_empty());
    w.click("Stop the farm");
    w.wait_for_text("Stopped:");

    // Ticked again: the farm's events reach Discord and the log shows 204.
    w.open_section("Discord");
    w.click("Job started");
    w.wait_saved();
    w.open_section("Virtual farm");
    w.click("Start the farm");
    w.wait_for_text(", delivered, HTTP 204");
    w.click("Stop the farm");
    assert!(!stand_in.received().is_empty());
    let embed = &stand_in.received()[0].body["embeds"][0];
    assert!(!embed["title"].as_str().unwrap().contains("[TEST]"));
}

#[test]
fn an_unsafe_discord_api_base_is_refused_in_a_banner_and_not_used() {
    require_secret_service();
    let bases = ApiBases::read(|name| {
        (name == "FARMHOOK_DISCORD_API_BASE").then(|| "http://farmhook-stand-in.invalid/api".into())
    });
    let options = EngineOptions::with_api_bases(&bases);
    assert_eq!(options.api_bases.base("discord"), "https://discord.com/api");
    let mut w = Window::open_with("unsafe-base", runtime(), options);
    w.wait_for_text(
        "FARMHOOK_DISCORD_API_BASE cannot be used: plain http:// is allowed only to this machine",
    );
    assert!(w.shows("farmhook-stand-in.invalid is not"));
    assert!(w.shows("farmhook ignores it and sends to the real service"));
    assert!(!w.shows("Discord stand-in:"));
    assert!(w.app().state().stand_ins.is_empty());
}

#[test]
fn a_farm_burst_beyond_the_queue_shows_as_summarised_with_the_reason() {
    require_secret_service();
    let rt = runtime();
    // An endpoint that takes 3 s per delivery, one at a time, with room
    // for two more: the farm's first ten job starts cannot all be queued.
    let endpoint = rt.block_on(Endpoint::start(Behaviour::Slow {
        status: 200,
        delay: std::time::Duration::from_secs(3),
    }));
    let options = EngineOptions {
        delivery: DeliveryConfig {
            webhook_queue: 2,
            webhook_concurrency: 1,
            ..DeliveryConfig::default()
        },
        ..EngineOptions::from_env()
    };
    let mut w = Window::open_with("burst", rt, options);
    w.click("Commercial 💎");
    w.click("Configure");
    w.save_endpoint(&endpoint.url());
    w.click("Enable the custom webhook");
    w.step_until("an API key", |w| {
        w.app().state().secrets.api_key().is_some()
    });
    w.wait_saved();
    w.open_section("Virtual farm");
    w.click("Start the farm");
    w.wait_for_text("Custom webhook, Job started, summarised");
    w.click("Stop the farm");

    // The outcome filter offers it, and the detail says why.
    w.pick("Outcome", "summarised");
    let summarised = |w: &Window| {
        w.app()
            .state()
            .deliveries
            .iter_newest_first()
            .filter(|r| r.outcome == Outcome::Summarised)
            .count()
    };
    w.step_until("only summarised rows to be listed", |w| {
        let total = w.app().state().deliveries.len();
        w.shows(&format!("{} of {total} deliveries", summarised(w)))
    });
    assert!(!w.shows(", delivered, HTTP 200"));
    let record = w
        .app()
        .state()
        .deliveries
        .iter_newest_first()
        .find(|r| r.outcome == Outcome::Summarised)
        .cloned()
        .unwrap();
    w.click(&row_label(&record));
    w.wait_for_text("2 events were already waiting for the custom webhook");
    assert!(record.attempts.is_empty());
}
