//! Drives the real window (the real engine, a temp config dir, the real
//! Secret Service) through its accessibility tree with egui_kittest.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use farmhook::core::profile::ProfileName;
use farmhook::engine::config_store::ConfigStore;
use farmhook::engine::profile::Profile;
use farmhook::engine::service::EngineOptions;
use farmhook::ui::FarmhookApp;

use crate::support::unique_profile;

/// How long a condition may take before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// The window, the runtime its engine runs on, and its config dir.
pub struct Window {
    pub harness: Harness<'static, FarmhookApp>,
    pub config_dir: tempfile::TempDir,
    pub profile: String,
    // Dropped last: the app's engine runs on it.
    pub runtime: tokio::runtime::Runtime,
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

impl Window {
    /// Opens the window on a fresh profile with the engine's default options.
    pub fn open(tag: &str) -> Window {
        Window::open_with(tag, runtime(), EngineOptions::from_env())
    }

    /// Opens the window with `options` (e.g. a Discord stand-in), on
    /// `runtime` (which may already run test servers).
    pub fn open_with(
        tag: &str,
        runtime: tokio::runtime::Runtime,
        options: EngineOptions,
    ) -> Window {
        let config_dir = tempfile::tempdir().expect("temp dir");
        let profile = unique_profile(tag);
        let store = ConfigStore::locate(
            Some(config_dir.path().to_path_buf()),
            ProfileName::parse(&profile).expect("a valid profile name"),
        )
        .expect("config store");
        let app = FarmhookApp::new(
            runtime.handle().clone(),
            Profile::new(store),
            options,
            || {},
        );
        let harness = Harness::builder()
            // The default window size (and the screen under Xvfb): one
            // section at a time and the log fit on it, so every widget a
            // test clicks with the pointer is on screen.
            .with_size([1280.0, 800.0])
            .build_ui_state(|ui, app: &mut FarmhookApp| app.ui(ui), app);
        let mut window = Window {
            harness,
            config_dir,
            profile,
            runtime,
        };
        window.step_until("the settings and secrets are loaded", |w| {
            w.app().state().loaded
        });
        window
    }

    pub fn app(&self) -> &FarmhookApp {
        self.harness.state()
    }

    /// Runs frames until `done` holds, failing after [`DEADLINE`].
    #[track_caller]
    pub fn step_until(&mut self, what: &str, done: impl Fn(&Window) -> bool) {
        let start = Instant::now();
        loop {
            self.harness.step();
            if done(self) {
                return;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "waited {DEADLINE:?} for {what}; notices: {:?}",
                self.app().state().notices
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Is there a node whose label contains `text`?
    pub fn shows(&self, text: &str) -> bool {
        self.harness
            .query_all_by_label_contains(text)
            .next()
            .is_some()
    }

    /// Steps until a node whose label contains `text` appears.
    #[track_caller]
    pub fn wait_for_text(&mut self, text: &str) {
        let owned = text.to_string();
        self.step_until(&format!("“{text}” to appear"), move |w| w.shows(&owned));
    }

    /// Runs frames until the layout has settled (egui may take a frame or
    /// two to place things after a change), so clicks land where widgets are.
    pub fn settle(&mut self) {
        self.harness.run_ok();
    }

    /// Clicks the one widget labelled exactly `label` (through the
    /// accessibility tree, as a screen reader does, so a notice that arrives
    /// from the engine in the same frame and moves the page cannot make the
    /// click land elsewhere), then lets the app act on it.
    #[track_caller]
    pub fn click(&mut self, label: &str) {
        self.settle();
        self.harness.get_by_label(label).click_accesskit();
        self.harness.step();
        self.harness.step();
    }

    /// Shows the Notifications page's section named `name` (a channel, or
    /// Events, Test, Virtual farm, Troubleshooting), chosen from the list
    /// on the left as the user does.
    #[track_caller]
    pub fn open_section(&mut self, name: &str) {
        self.settle();
        self.harness
            .get_by_role_and_label(egui::Role::Tab, name)
            .click_accesskit();
        self.harness.step();
        self.harness.step();
    }

    /// Opens the custom webhook's section, types `url` as its endpoint,
    /// presses Enter and waits until the keyring holds it.
    #[track_caller]
    pub fn save_endpoint(&mut self, url: &str) {
        self.open_section("Custom webhook 💎");
        self.type_into("Endpoint URL", url);
        self.press_enter();
        self.step_until("the endpoint to be stored", |w| {
            w.app().state().secrets.endpoint().is_some()
        });
    }

    /// Opens the drop-down labelled `combo` and picks `item`, with the
    /// pointer (a drop-down closes on a pointer click, as a user makes).
    #[track_caller]
    pub fn pick(&mut self, combo: &str, item: &str) {
        self.settle();
        self.harness.get_by_label(combo).click();
        self.harness.step();
        self.settle();
        self.harness.get_by_label(item).click();
        self.harness.step();
        self.harness.step();
    }

    /// Clicks the one widget whose label contains `text`.
    #[track_caller]
    pub fn click_containing(&mut self, text: &str) {
        self.settle();
        self.harness.get_by_label_contains(text).click_accesskit();
        self.harness.step();
        self.harness.step();
    }

    /// Clicks into the field labelled `label` and types `text` into it.
    #[track_caller]
    pub fn type_into(&mut self, label: &str, text: &str) {
        self.settle();
        self.harness.get_by_label(label).click();
        self.harness.step();
        self.harness.get_by_label(label).type_text(text);
        self.harness.step();
    }

    /// Replaces everything in the focused field with `text`.
    pub fn retype(&mut self, text: &str) {
        self.harness
            .key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
        self.harness.step();
        self.harness.event(egui::Event::Text(text.to_string()));
        self.harness.step();
    }

    /// Replaces everything in the focused field with a paste of `text`
    /// (what Ctrl+V delivers).
    pub fn paste(&mut self, text: &str) {
        self.harness
            .key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
        self.harness.step();
        self.harness.event(egui::Event::Paste(text.to_string()));
        self.harness.step();
    }

    /// The accessible value of the field labelled `label` (masked fields
    /// give no secret away).
    #[track_caller]
    pub fn value_of(&self, label: &str) -> String {
        self.harness.get_by_label(label).value().unwrap_or_default()
    }

    pub fn press_enter(&mut self) {
        self.harness.key_press(egui::Key::Enter);
        self.harness.step();
    }

    /// True when the widget labelled `label` cannot be used.
    #[track_caller]
    pub fn is_disabled(&self, label: &str) -> bool {
        self.harness
            .get_by_label(label)
            .accesskit_node()
            .is_disabled()
    }

    /// Waits until the debounced settings save has gone to the engine and
    /// the engine confirmed a save.
    #[track_caller]
    pub fn wait_saved(&mut self) {
        self.step_until("the settings to be saved", |w| {
            !w.app().is_saving() && w.app().state().saved
        });
    }

    /// The text last put on the clipboard in the last frame, if any.
    pub fn copied_text(&self) -> Option<String> {
        self.harness
            .output()
            .platform_output
            .commands
            .iter()
            .find_map(|c| match c {
                egui::OutputCommand::CopyText(text) => Some(text.clone()),
                _ => None,
            })
    }

    /// Clicks `label` and returns what that click copied.
    #[track_caller]
    pub fn click_and_copy(&mut self, label: &str) -> String {
        self.settle();
        self.harness.get_by_label(label).click();
        // One frame per queued event; the click lands on the last.
        self.harness.step();
        self.copied_text()
            .unwrap_or_else(|| panic!("pressing {label} put nothing on the clipboard"))
    }
}
