//! The window's settings, walked as an operator would through the
//! accessibility tree: the real app, the real engine, a temp config dir and
//! the real Secret Service (run with `bash scripts/test.sh`).

mod support;
mod ui_support;

use egui_kittest::kittest::Queryable;
use farmhook::core::api_key::ApiKey;
use farmhook::core::events::EventType;
use farmhook::core::settings::Plan;
use support::{all_file_bytes, contains, require_secret_service};
use ui_support::Window;

const TOKEN: &str = "Zx9-Ab_cdEFghIJklMNopQRstUVwxYZ0123456789abcdefghijklmnopqrstuvwxy";

fn discord_url() -> String {
    format!("https://discord.com/api/webhooks/112233445566778899/{TOKEN}")
}

#[test]
fn pasted_discord_url_is_checked_in_words_then_kept_only_in_the_keyring() {
    require_secret_service();
    let mut w = Window::open("discord-url");
    assert!(w.shows("Not set up: no webhook URL yet"));
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
        w.app().state().secrets.discord_url.is_some()
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

    // Enable, and untick one event: saved, debounced, to the settings file.
    assert!(w.shows("Discord is off"));
    w.click("Enable Discord notifications");
    w.click("Printer online");
    w.wait_saved();
    let settings = w.app().settings().unwrap().clone();
    assert!(settings.discord.enabled);
    let online = EventType::from_id("printer.online").unwrap();
    assert!(!settings.discord.events.contains(online));
    assert!(!settings.webhook.events.contains(online));
    let file = std::fs::read_to_string(
        w.config_dir
            .path()
            .join("profiles")
            .join(format!("{}.json", w.profile)),
    )
    .unwrap();
    assert!(file.contains("\"enabled\": true"), "{file}");
    assert!(!file.contains("printer.online"), "{file}");
    assert!(!contains(&all_file_bytes(w.config_dir.path()), TOKEN));

    // Back on the Account page the tile says what is configured.
    w.click("‹ Back to Account");
    w.wait_for_text("On, webhook 112233445566778899");
    assert!(w.shows("7 of 8 events"));
    w.harness.check_accessibility();
}

#[test]
fn custom_webhook_is_locked_on_free_and_its_key_is_generated_copied_and_customised() {
    require_secret_service();
    let mut w = Window::open("webhook-key");
    w.click("Configure");
    assert!(w.shows("Custom webhooks need the Commercial plan"));
    assert!(w.is_disabled("Endpoint URL"));
    assert!(w.is_disabled("Enable the custom webhook"));
    assert!(w.is_disabled("Test custom webhook"));

    // Switch the plan on the Account page.
    w.click("Go to Account");
    w.click("Commercial 💎");
    w.click("Configure");
    assert!(!w.shows("Custom webhooks need the Commercial plan"));
    assert!(!w.is_disabled("Endpoint URL"));

    // A plain-http endpoint elsewhere is refused; on loopback it is fine.
    w.type_into("Endpoint URL", "http://example.com/hook");
    assert!(w.shows("the URL must use https://"));
    w.retype("http://127.0.0.1:9/farmhook");
    w.press_enter();
    w.wait_for_text("saved: http://127.0.0.1:9/farmhook (this machine: fine for testing)");

    // Enabling generates the key.
    w.click("Enable the custom webhook");
    w.step_until("an API key to be generated", |w| {
        w.app().state().secrets.api_key.is_some()
    });
    let key = w.app().state().secrets.api_key.clone().unwrap();
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
        w.app().state().secrets.api_key.as_ref().map(ApiKey::expose) == Some(custom)
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
            .api_key
            .as_ref()
            .is_some_and(|k| k.expose() != custom)
    });
    w.wait_saved();
    let settings = w.app().settings().unwrap();
    assert_eq!(settings.plan, Plan::Commercial);
    assert!(settings.webhook.enabled);
    let disk = all_file_bytes(w.config_dir.path());
    let new_key = w.app().state().secrets.api_key.clone().unwrap();
    assert!(!contains(&disk, new_key.expose()));
    assert!(!contains(&disk, custom));
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
}

#[test]
fn a_custom_webhook_that_is_a_discord_url_is_flagged_in_the_tile() {
    require_secret_service();
    let mut w = Window::open("dup-warning");
    w.click("Commercial 💎");
    w.click("Configure");
    w.type_into(
        "Endpoint URL",
        "https://discord.com/api/webhooks/112233445566778899/Abc-def_123",
    );
    w.press_enter();
    w.wait_for_text("saved: https://discord.com/api/webhooks/112233445566778899/Abc-def_123");
    w.click("‹ Back to Account");
    w.step_until("the duplicate warning", |w| {
        w.shows("Sent twice: the custom webhook URL is a Discord webhook URL")
    });
}

#[test]
fn about_shows_the_version_and_revision() {
    require_secret_service();
    let mut w = Window::open("about");
    w.click("About");
    assert!(w.shows(&format!("Version {}", farmhook::build_info::VERSION_LINE)));
}
