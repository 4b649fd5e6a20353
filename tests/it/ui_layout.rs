//! The Notifications page at the default window size: one section at a
//! time, chosen from a list that says each channel's state; a delivery log
//! that folds to one line; good news as toasts that float and leave; errors
//! in one banner. Driven through the accessibility tree, as elsewhere.

use crate::support::endpoint::{Behaviour, Endpoint};
use crate::support::require_secret_service;
use crate::ui_support::{Window, runtime};
use egui_kittest::kittest::{NodeT, Queryable};
use farmhook::engine::service::{EngineOptions, EngineUpdate, NoticeLevel};

/// Each entry of the list, and a label only its section shows.
const SECTIONS: [(&str, &str); 5] = [
    ("Discord", "Discord webhook URL"),
    ("Custom webhook 💎", "Endpoint URL"),
    ("Test", "Test Discord"),
    ("Virtual farm", "Start the farm"),
    ("Troubleshooting", "Nothing arrives? Check these"),
];

/// The state line of the list entry `name`, as a screen reader hears it.
fn entry_state(w: &Window, name: &str) -> String {
    w.harness
        .get_by_role_and_label(egui::Role::Tab, name)
        .accesskit_node()
        .description()
        .unwrap_or_default()
}

/// Where the top of the widget labelled `label` is drawn.
#[track_caller]
fn top_of(w: &Window, label: &str) -> f32 {
    w.harness.get_by_label(label).rect().min.y
}

/// Is there a widget labelled exactly `label`?
fn has(w: &Window, label: &str) -> bool {
    w.harness.query_by_label(label).is_some()
}

/// Feeds the window a notice as the engine sends one.
fn notice(w: &mut Window, level: NoticeLevel, text: &str) {
    let now = w.harness.ctx.input(|i| i.time);
    w.harness
        .state_mut()
        .apply_update(EngineUpdate::Notice(level, text.to_string()), now);
}

#[test]
fn each_list_entry_shows_only_its_section_and_says_how_the_channel_is() {
    require_secret_service();
    let mut w = Window::open("sections");
    w.click("Configure");
    // Discord is where the page opens.
    assert!(has(&w, "Discord webhook URL"));
    for (name, marker) in SECTIONS {
        w.open_section(name);
        for (other, other_marker) in SECTIONS {
            assert_eq!(
                has(&w, other_marker),
                other == name,
                "with {name} chosen, {other}'s “{other_marker}” is shown: {}",
                other == name
            );
        }
        assert!(has(&w, marker));
        let tab = w.harness.get_by_role_and_label(egui::Role::Tab, name);
        assert_eq!(tab.accesskit_node().is_selected(), Some(true), "{name}");
    }
    // The channels' state at a glance.
    assert_eq!(entry_state(&w, "Discord"), "not set up");
    assert_eq!(entry_state(&w, "Custom webhook 💎"), "🔒 needs Commercial");
    assert_eq!(entry_state(&w, "Virtual farm"), "stopped");
    w.harness.check_accessibility();

    // Leaving the page and coming back keeps the section the user was on.
    w.click("‹ Back to Account");
    w.click("Commercial 💎");
    w.click("Configure");
    assert!(has(&w, "Nothing arrives? Check these"));
    assert_eq!(entry_state(&w, "Custom webhook 💎"), "not set up");
}

#[test]
fn the_delivery_log_folds_to_one_line_and_opens_again() {
    require_secret_service();
    let rt = runtime();
    let endpoint = rt.block_on(Endpoint::start(Behaviour::Status(200)));
    let mut w = Window::open_with("log-fold", rt, EngineOptions::from_env());
    let height = w.harness.ctx.content_rect().height();

    // Empty, the log is its header and one line of help.
    w.click("Commercial 💎");
    w.click("Configure");
    w.settle();
    let empty_header = top_of(&w, "Delivery log");
    assert!(
        empty_header > height - 90.0,
        "the empty log starts at {empty_header} of {height}"
    );

    w.save_endpoint(&endpoint.url());
    w.click("Generate key");
    w.step_until("an API key", |w| {
        w.app().state().secrets.api_key().is_some()
    });
    w.open_section("Test");
    w.click("Test custom webhook");
    let row = "Custom webhook, Job failed (test), delivered, HTTP 200";
    w.wait_for_text(row);
    w.settle();
    let open_header = top_of(&w, "Delivery log");
    assert!(
        open_header < empty_header - 100.0,
        "with rows the log opens"
    );
    assert!(has(&w, "Export…"));

    // Folded: one line, which still says what happened last.
    w.open_section("Discord");
    assert!(!w.shows("last: delivered to Custom webhook"));
    w.click("Delivery log");
    w.settle();
    assert!(!has(&w, "Export…"));
    assert!(!w.shows(row));
    let folded_header = top_of(&w, "Delivery log");
    assert!(folded_header > height - 60.0, "folded at {folded_header}");
    assert!(w.shows("last: delivered to Custom webhook"));

    // Folded it stays, for the session, until opened again.
    w.click("‹ Back to Account");
    w.click("Configure");
    w.settle();
    assert!(!has(&w, "Export…"));
    w.click("Delivery log");
    w.settle();
    assert!(has(&w, "Export…"));
    assert_eq!(top_of(&w, "Delivery log"), open_header);
}

#[test]
fn ten_good_news_notices_do_not_move_the_settings_and_leave_on_their_own() {
    require_secret_service();
    let mut w = Window::open("toasts");
    w.click("Configure");
    w.settle();
    let field = top_of(&w, "Discord webhook URL");

    for i in 1..=10 {
        notice(&mut w, NoticeLevel::Info, &format!("good news number {i}"));
    }
    w.settle();
    assert_eq!(
        top_of(&w, "Discord webhook URL"),
        field,
        "the page stayed put"
    );
    let shown: Vec<String> = w
        .harness
        .query_all_by_label_contains("good news number")
        .filter_map(|n| n.accesskit_node().label().or_else(|| n.value()))
        .collect();
    assert_eq!(
        shown,
        [
            "ℹ good news number 10",
            "ℹ good news number 9",
            "ℹ good news number 8"
        ],
        "at most three, newest first"
    );
    // A toast does not take clicks meant for the page under it.
    w.click("Discord webhook URL");

    // They leave by themselves; the window asks for frames only until then.
    let mut steps = 0;
    while w.shows("good news number") {
        let delay = w.harness.output().viewport_output[&egui::ViewportId::ROOT].repaint_delay;
        assert!(delay < std::time::Duration::MAX, "a frame is asked for");
        w.harness.step();
        steps += 1;
        assert!(steps < 10_000, "the toasts stayed");
    }
    w.settle();
    w.harness.step();
    assert_eq!(
        w.harness.output().viewport_output[&egui::ViewportId::ROOT].repaint_delay,
        std::time::Duration::MAX,
        "idle again once they have gone"
    );
}

#[test]
fn errors_show_as_one_banner_with_and_n_more() {
    require_secret_service();
    let mut w = Window::open("errors");
    w.click("Configure");
    notice(&mut w, NoticeLevel::Error, "first problem");
    w.settle();
    let field = top_of(&w, "Discord webhook URL");
    notice(&mut w, NoticeLevel::Error, "second problem");
    notice(&mut w, NoticeLevel::Error, "third problem");
    w.settle();

    // The newest, and how many more: one banner's height, not three.
    assert!(w.shows("third problem"));
    assert!(!w.shows("first problem"));
    assert!(!w.shows("second problem"));
    assert!(has(&w, "and 2 more"));
    assert_eq!(w.harness.query_all_by_label("Dismiss").count(), 1);
    assert_eq!(top_of(&w, "Discord webhook URL"), field);

    // Errors stay until dismissed.
    for _ in 0..1200 {
        w.harness.step();
    }
    assert!(w.shows("third problem"));

    // "and 2 more" lists them all; Dismiss takes one away.
    w.click("and 2 more");
    assert!(w.shows("first problem") && w.shows("second problem"));
    assert_eq!(w.harness.query_all_by_label("Dismiss").count(), 3);
    w.harness
        .get_all_by_label("Dismiss")
        .next()
        .unwrap()
        .click_accesskit();
    w.harness.step();
    w.settle();
    assert!(!w.shows("third problem"));
    assert!(w.shows("second problem") && w.shows("first problem"));

    w.click("Dismiss all");
    w.settle();
    assert!(!w.shows("problem"));
    assert!(
        top_of(&w, "Discord webhook URL") < field,
        "the banner has gone"
    );
}
