//! The window's settings, walked as an operator would through the
//! accessibility tree: the real app, the real engine, a temp config dir and
//! the real Secret Service (run with `bash scripts/test.sh`).

use crate::support::{all_file_bytes, contains, require_secret_service};
use crate::ui_support::Window;
use egui_kittest::kittest::Queryable;
use farmhook::core::channels::webhook::api_key::ApiKey;
use farmhook::core::events::EventType;
use farmhook::core::settings::Channel;
use farmhook::core::settings::Plan;

const TOKEN: &str = "Zx9-Ab_cdEFghIJklMNopQRstUVwxYZ0123456789abcdefghijklmnopqrstuvwxy";

fn discord_url() -> String {
    format!("https://discord.com/api/webhooks/112233445566778899/{TOKEN}")
}

#[test]
fn pasted_discord_url_is_checked_in_words_then_kept_only_in_the_keyring() {
    require_secret_service();
    let mut w = Window::open("discord-url");
    assert!(w.shows("Not set up: no Discord webhook URL is saved yet"));
    w.harness.check_accessibility();
    w.click("Configure");
    w.harness.check_accessibility();

    // Half a URL: the reason is shown under the field, in words.
    w.type_into(
        "Discord webhook URL",
        "https://discord.com/api/webhooks/112233445566778899",
    );
    assert!(
        w.shows("the token is missing (the part after the id): copy the whole URL"),
        "the missing token is explained"
    );
    assert!(w.is_disabled("Save URL"));
    w.retype(&format!("https://discord.gg/api/webhooks/1/{TOKEN}"));
    assert!(w.shows("the host is 'discord.gg', not discord.com"));

    // The whole URL, pasted: accepted, masked until Show URL, and Enter
    // keeps it in the keyring.
    w.paste(&format!("  {}  ", discord_url()));
    assert!(w.shows("a Discord webhook URL (webhook 112233445566778899)"));
    assert!(!w.value_of("Discord webhook URL").contains(TOKEN));
    w.click("Show URL");
    assert!(w.value_of("Discord webhook URL").contains(TOKEN));
    w.click("Show URL");
    w.click("Discord webhook URL");
    assert!(!w.is_disabled("Save URL"));
    w.press_enter();
    w.step_until("the URL to be stored", |w| {
        w.app().state().secrets.discord_url().is_some()
    });
    w.wait_for_text("https://discord.com/api/v10/webhooks/112233445566778899/••••••");
    // The field was emptied once the keyring had the URL.
    let field = w.harness.get_by_label("Discord webhook URL");
    assert_eq!(field.value().unwrap_or_default(), "");

    let entry =
        keyring::Entry::new("farmhook", &format!("{}/discord-webhook-url", w.profile)).unwrap();
    assert_eq!(
        entry.get_password().unwrap(),
        format!("https://discord.com/api/v10/webhooks/112233445566778899/{TOKEN}")
    );

    // Enable, and untick one event: the engine writes both to the file.
    assert!(w.shows("Discord is off"));
    w.click("Enable Discord notifications");
    // Discord's own events are under its settings; the webhook keeps its own.
    w.click("Printer online");
    w.wait_saved();
    let settings = w.app().settings().unwrap().clone();
    assert!(settings.channels[Channel::Discord].enabled);
    let online = EventType::from_id("printer.online").unwrap();
    assert!(!settings.channels[Channel::Discord].events.contains(online));
    assert!(settings.channels[Channel::Webhook].events.contains(online));
    let file = std::fs::read_to_string(
        w.config_dir
            .path()
            .join("profiles")
            .join(format!("{}.json", w.profile)),
    )
    .unwrap();
    let json: serde_json::Value = serde_json::from_str(&file).unwrap();
    assert_eq!(json["discord"]["enabled"], true, "{file}");
    let discord_events = json["discord"]["events"].as_array().unwrap();
    assert!(
        !discord_events.contains(&serde_json::json!("printer.online")),
        "{file}"
    );
    assert!(!contains(&all_file_bytes(w.config_dir.path()), TOKEN));

    // Back on the Account page the tile says what is configured.
    w.click("‹ Back to Account");
    w.wait_for_text("On, webhook 112233445566778899");
    assert!(w.shows("8 of 19 events"));
    w.harness.check_accessibility();
}

#[test]
fn custom_webhook_is_locked_on_free_and_its_key_is_generated_copied_and_customised() {
    require_secret_service();
    let mut w = Window::open("webhook-key");
    w.click("Configure");
    w.open_section("Test");
    assert!(w.is_disabled("Test custom webhook"));
    w.open_section("Custom webhook 💎");
    assert!(w.shows("Custom webhooks need the Commercial plan"));
    assert!(w.is_disabled("Endpoint URL"));
    assert!(w.is_disabled("Enable the custom webhook"));

    // Switch the plan on the Account page; Configure comes back to the
    // section the user was on.
    w.click("Go to Account");
    w.click("Commercial 💎");
    w.click("Configure");
    assert!(!w.shows("Custom webhooks need the Commercial plan"));
    assert!(!w.is_disabled("Endpoint URL"));

    // A plain-http endpoint elsewhere is refused; on loopback it is fine.
    w.type_into("Endpoint URL", "http://example.com/hook");
    assert!(w.shows("the URL must use https://"));
    let endpoint = "http://127.0.0.1:9/farmhook/ha-token-0123456789";
    w.retype(endpoint);
    assert!(w.shows("a valid endpoint (this machine: fine for testing)"));
    // Masked as typed, like the Discord URL: the path may be a token.
    assert!(!w.value_of("Endpoint URL").contains("ha-token"));
    w.click("Show endpoint");
    assert!(w.value_of("Endpoint URL").contains("ha-token"));
    w.click("Show endpoint");
    w.click("Endpoint URL");
    w.press_enter();
    w.step_until("the endpoint to be stored", |w| {
        w.app().state().secrets.endpoint().is_some()
    });
    w.wait_for_text("http://127.0.0.1:9/…");
    let entry =
        keyring::Entry::new("farmhook", &format!("{}/webhook-endpoint-url", w.profile)).unwrap();
    assert_eq!(entry.get_password().unwrap(), endpoint);

    // Enabling generates the key.
    w.click("Enable the custom webhook");
    w.step_until("an API key to be generated", |w| {
        w.app().state().secrets.api_key().is_some()
    });
    let key = w.app().state().secrets.api_key().clone().unwrap();
    assert_eq!(key.expose().len(), 48);
    w.wait_for_text("48 characters, strong");
    // Masked until Show, and masked again after leaving the page.
    assert!(!w.value_of("API key").contains(key.expose()));
    w.click("Show key");
    assert!(w.value_of("API key").contains(key.expose()));
    w.click("‹ Back to Account");
    w.click("Configure");
    assert!(!w.value_of("API key").contains(key.expose()));

    assert_eq!(w.click_and_copy("Copy key"), key.expose());
    w.harness.step();
    assert!(w.shows("copied to the clipboard"));
    assert!(w.shows("it is cleared from the clipboard in 30 s"));

    // A short custom key says why it cannot be saved.
    w.click("Customize…");
    w.type_into("Custom API key", "too-short-key");
    assert!(w.shows("the key is 13 characters long; it needs at least 32"));
    assert!(w.is_disabled("Save key"));
    w.retype("has a space in it and is long enough to pass");
    assert!(w.shows("character 4 of the key is a space or tab"));
    let custom = "correct-Horse-battery-staple-0123456789-xyz";
    w.retype(custom);
    assert!(w.shows("valid, strength:"));
    w.click("Save key");
    w.step_until("the custom key to be stored", |w| {
        w.app()
            .state()
            .secrets
            .api_key()
            .as_ref()
            .map(ApiKey::expose)
            == Some(custom)
    });
    w.harness.step();
    assert!(
        w.harness.query_by_label("Custom API key").is_none(),
        "the editor closed"
    );

    // Regenerate asks first.
    w.click("Regenerate…");
    assert!(w.shows("Regenerate the API key?"));
    w.click("Regenerate the key");
    w.step_until("a new key", |w| {
        w.app()
            .state()
            .secrets
            .api_key()
            .as_ref()
            .is_some_and(|k| k.expose() != custom)
    });
    w.wait_saved();
    let settings = w.app().settings().unwrap();
    assert_eq!(settings.plan, Plan::Commercial);
    assert!(settings.channels[Channel::Webhook].enabled);
    let disk = all_file_bytes(w.config_dir.path());
    let new_key = w.app().state().secrets.api_key().clone().unwrap();
    assert!(!contains(&disk, new_key.expose()));
    assert!(!contains(&disk, custom));
    assert!(!contains(&disk, "ha-token"));
    w.harness.check_accessibility();
}

/// No continuous repaint: once settled, an idle window asks for no frame
/// until something happens (CPU near 0 % with the window open).
#[test]
fn an_idle_window_asks_for_no_more_frames() {
    require_secret_service();
    let mut w = Window::open("idle");
    let idle = |w: &mut Window| {
        w.settle();
        w.harness.step();
        w.harness.output().viewport_output[&egui::ViewportId::ROOT].repaint_delay
    };
    assert_eq!(idle(&mut w), std::time::Duration::MAX, "Account page");
    w.click("Configure");
    assert_eq!(idle(&mut w), std::time::Duration::MAX, "Notifications page");
    for section in [
        "Custom webhook 💎",
        "Test",
        "Virtual farm",
        "Troubleshooting",
    ] {
        w.open_section(section);
        assert_eq!(idle(&mut w), std::time::Duration::MAX, "{section}");
    }
}

#[test]
fn a_discord_or_slack_url_is_refused_as_the_custom_endpoint() {
    require_secret_service();
    let mut w = Window::open("chat-endpoint");
    w.click("Commercial 💎");
    w.click("Configure");
    w.open_section("Custom webhook 💎");
    w.type_into(
        "Endpoint URL",
        "https://discord.com/api/webhooks/112233445566778899/Abc-def_123",
    );
    assert!(
        w.shows("this is a Discord URL: the custom webhook would post your API key to Discord")
    );
    assert!(w.shows("set it up under the Discord channel instead"));
    assert!(w.is_disabled("Save endpoint"));
    w.retype("https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXX");
    assert!(w.shows("this is a Slack URL"));
    w.press_enter();
    w.settle();
    assert!(
        w.app().state().secrets.endpoint().is_none(),
        "nothing was stored"
    );
}

#[test]
fn about_shows_the_version_and_revision() {
    require_secret_service();
    let mut w = Window::open("about");
    w.click("About");
    assert!(w.shows(&format!("Version {}", farmhook::build_info::VERSION_LINE)));
}

/// The command line changes the settings file and the keyring while the
/// window is open: the window shows both within seconds, an edit the user
/// has not saved yet survives, and the window's saves keep what the command
/// line did.
#[test]
fn changes_made_by_the_command_line_show_in_the_open_window_and_survive_its_edits() {
    require_secret_service();
    let mut w = Window::open("outside-changes");
    let cli = crate::support::Farmhook {
        config_dir: w.config_dir.path().to_path_buf(),
        profile: w.profile.clone(),
        envs: Vec::new(),
    };
    w.wait_for_text("9 of 19 events");

    // A settings-file change and a keyring change, made outside the window.
    cli.ok(&["events", "disable", "job.failed"]);
    cli.run_with_stdin(&["discord", "set-url", "-"], &discord_url());
    w.wait_for_text("8 of 19 events");
    w.wait_for_text("webhook 112233445566778899");

    // A change from the window on its way to the engine while the plan
    // changes outside: the window shows the new plan and keeps the unticked
    // event, whichever reaches the file first (both go through the lock).
    w.click("Configure");
    w.open_section("Discord");
    w.click("Printer online");
    cli.ok(&["plan", "commercial"]);
    std::thread::sleep(farmhook::engine::service::WATCH_FILE_EVERY * 2);
    w.step_until("the plan switched by the command line", |w| {
        w.app()
            .settings()
            .is_some_and(|s| s.plan == Plan::Commercial)
    });
    w.wait_saved();
    let online = EventType::from_id("printer.online").unwrap();
    let failed = EventType::from_id("job.failed").unwrap();
    let settings = w.app().settings().unwrap();
    assert!(!settings.channels[Channel::Discord].events.contains(online));
    assert!(!settings.channels[Channel::Discord].events.contains(failed));

    // On disk: the window's edit and every change the command line made.
    let status: serde_json::Value =
        serde_json::from_str(&cli.ok(&["status", "--json"]).stdout).unwrap();
    assert_eq!(status["plan"], "commercial");
    let discord = status["discord"]["events"].as_array().unwrap();
    assert_eq!(discord.len(), 7, "{discord:?}");
    assert!(!discord.contains(&serde_json::json!("job.failed")));
    assert!(!discord.contains(&serde_json::json!("printer.online")));
    assert!(status["discord"]["url"].is_string());

    // A later edit in the window does not undo them either.
    w.open_section("Discord");
    w.click("Enable Discord notifications");
    w.wait_saved();
    let status: serde_json::Value =
        serde_json::from_str(&cli.ok(&["status", "--json"]).stdout).unwrap();
    assert_eq!(status["discord"]["enabled"], true);
    assert_eq!(status["plan"], "commercial");
    assert_eq!(status["discord"]["events"].as_array().unwrap().len(), 7);
}

/// The window's engine while nothing changes: it looks at the file and the
/// keyring, but sends the window nothing (so asks for no frame); a change
/// from the command line is sent once.
#[test]
fn the_engine_stays_quiet_until_something_changes_outside() {
    use farmhook::engine::service::{self, EngineOptions, EngineUpdate};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;
    require_secret_service();
    let runtime = crate::ui_support::runtime();
    let dir = tempfile::tempdir().unwrap();
    let cli = crate::support::Farmhook::new(dir.path(), "quiet");
    let store = farmhook::engine::config_store::ConfigStore::locate(
        Some(dir.path().to_path_buf()),
        farmhook::core::profile::ProfileName::parse(&cli.profile).unwrap(),
    )
    .unwrap();
    let notified = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = notified.clone();
    let (engine, mut updates) = service::start(
        runtime.handle(),
        farmhook::engine::profile::Profile::new(store),
        EngineOptions::from_env(),
        move || {
            counter.fetch_add(1, Ordering::SeqCst);
        },
    );
    let next = |updates: &mut farmhook::engine::updates::UpdateReceiver| {
        runtime
            .block_on(async {
                tokio::time::timeout(crate::ui_support::DEADLINE, updates.recv()).await
            })
            .expect("an update within the deadline")
            .expect("the engine runs")
    };
    // What the first load reports ends with the health of every channel.
    let mut healths = 0;
    while healths < Channel::ALL.len() {
        if let EngineUpdate::Health(..) = next(&mut updates) {
            healths += 1;
        }
    }
    // The callback runs just after each update is queued: let the last one
    // finish before counting.
    std::thread::sleep(Duration::from_millis(200));
    let after_load = notified.load(Ordering::SeqCst);
    // Long enough for several looks at the file and at least one at the
    // keyring; a slower machine only makes fewer looks.
    std::thread::sleep(Duration::from_millis(2500));
    assert!(
        updates.try_recv().is_err(),
        "nothing changed, nothing is sent"
    );
    assert_eq!(notified.load(Ordering::SeqCst), after_load);

    cli.ok(&["events", "disable", "job.failed"]);
    let failed = EventType::from_id("job.failed").unwrap();
    match next(&mut updates) {
        EngineUpdate::Loaded { settings, .. } => {
            assert!(!settings.channels[Channel::Discord].events.contains(failed));
        }
        other => panic!("expected the new settings, got {other:?}"),
    }
    cli.run_with_stdin(&["discord", "set-url", "-"], &discord_url());
    loop {
        if let EngineUpdate::Secrets(secrets) = next(&mut updates) {
            assert!(secrets.discord_url().is_some());
            break;
        }
    }
    engine.send(service::EngineCommand::Shutdown);
}

/// Each channel has its own events, under its own settings; the tile counts
/// them per channel.
#[test]
fn each_channel_has_its_own_events_in_the_window() {
    require_secret_service();
    let mut w = Window::open("per-channel-events");
    w.click("Commercial 💎");
    w.click("Configure");
    w.open_section("Custom webhook 💎");
    w.click("All orders");
    w.click("Job started");
    w.wait_saved();
    let settings = w.app().settings().unwrap();
    let started = EventType::from_id("job.started").unwrap();
    let closed = EventType::from_id("order.closed").unwrap();
    assert!(!settings.channels[Channel::Webhook].events.contains(started));
    assert!(settings.channels[Channel::Discord].events.contains(started));
    assert!(settings.channels[Channel::Webhook].events.contains(closed));
    assert!(!settings.channels[Channel::Discord].events.contains(closed));
    w.click("‹ Back to Account");
    assert!(w.shows("Discord: 9 of 19 events"));
    assert!(w.shows("Custom webhook: 13 of 19 events"));
}
