//! The window. It sends commands to the engine and draws what comes back;
//! it never waits on the network, the keyring or the disk.
//!
//! [`app::FarmhookApp`] owns the engine handle and runs the frame; each file
//! beside it draws one part of the window and is named for what it shows.

pub mod account_page;
pub mod api_key_panel;
pub mod app;
pub mod banners;
pub mod channel_controls;
mod channel_health;
pub mod command;
pub mod delivery_detail_panel;
pub mod delivery_log_panel;
pub mod discord_panel;
pub mod engine_state;
pub mod events_panel;
pub mod notification_settings_page;
pub mod notifications_tile;
pub mod payload_preview;
pub mod printers_panel;
pub mod pushover_panel;
pub mod record_words;
mod secret_url_field;
pub mod section_list;
pub mod simulation_panel;
pub mod slack_panel;
pub mod telegram_panel;
pub mod test_panel;
pub mod toasts;
pub mod troubleshooting_panel;
pub mod webhook_panel;
mod widgets;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

pub use app::FarmhookApp;

use crate::build_info;
use crate::core::profile::ProfileName;
use crate::engine::config_store::ConfigStore;
use crate::engine::profile::Profile;
use crate::engine::service::EngineOptions;

/// The user's UTC offset, learned once at start-up (see [`learn_local_offset`]).
static LOCAL_OFFSET: std::sync::OnceLock<time::UtcOffset> = std::sync::OnceLock::new();

/// Learns the local time zone's offset. Must run while the process has one
/// thread (first thing in `main`): the `time` crate refuses to read it later,
/// since another thread could be changing the environment meanwhile.
pub fn learn_local_offset() {
    if let Ok(offset) = time::UtcOffset::current_local_offset() {
        LOCAL_OFFSET.set(offset).ok();
    }
}

/// The offset the window shows times in: local, or UTC when unknown.
pub fn local_offset() -> time::UtcOffset {
    LOCAL_OFFSET.get().copied().unwrap_or(time::UtcOffset::UTC)
}

/// How long closing the window waits for the engine to record deliveries it
/// had to cut short.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// Set to have the time to the first frame printed on stderr (benchmarks).
const STARTUP_REPORT_ENV: &str = "FARMHOOK_STARTUP_REPORT";

/// Opens the window and runs until it is closed.
pub fn run(profile: String, config_dir: Option<PathBuf>) -> ExitCode {
    let started = std::time::Instant::now();
    let profile = match ProfileName::parse(&profile)
        .map_err(|e| e.to_string())
        .and_then(|name| ConfigStore::locate(config_dir, name).map_err(|e| e.to_string()))
    {
        Ok(config) => Profile::new(config),
        Err(e) => {
            eprintln!("farmhook: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match crate::engine::new_runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("farmhook: {e}");
            return ExitCode::from(2);
        }
    };
    let icon = eframe::egui::IconData {
        rgba: build_info::ICON_RGBA.to_vec(),
        width: build_info::ICON_SIZE,
        height: build_info::ICON_SIZE,
    };
    let options = eframe::NativeOptions {
        viewport: eframe::egui::ViewportBuilder::default()
            .with_title("farmhook")
            .with_app_id("farmhook")
            .with_icon(icon)
            .with_inner_size([960.0, 720.0])
            .with_min_inner_size([520.0, 400.0]),
        ..Default::default()
    };
    let handle = runtime.handle().clone();
    let result = eframe::run_native(
        "farmhook",
        options,
        Box::new(move |cc| {
            let ctx = cc.egui_ctx.clone();
            let app = FarmhookApp::new(handle, profile, EngineOptions::from_env(), move || {
                ctx.request_repaint()
            });
            Ok(Box::new(WindowApp {
                app,
                startup_report: std::env::var_os(STARTUP_REPORT_ENV).map(|_| started),
            }))
        }),
    );
    // The engine has recorded what it cut short (see `on_exit`); what is
    // left are keyring calls on the blocking pool, which may not return.
    runtime.shutdown_timeout(Duration::from_secs(1));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("farmhook: could not open the window: {e}");
            ExitCode::from(2)
        }
    }
}

/// The app as eframe runs it.
struct WindowApp {
    app: FarmhookApp,
    /// When set, the first frame reports how long the start took.
    startup_report: Option<std::time::Instant>,
}

impl eframe::App for WindowApp {
    fn ui(&mut self, ui: &mut eframe::egui::Ui, _frame: &mut eframe::Frame) {
        self.app.ui(ui);
        if let Some(started) = self.startup_report.take() {
            eprintln!(
                "farmhook: first frame built {:.1} ms after start",
                started.elapsed().as_secs_f64() * 1000.0
            );
        }
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        self.app.shut_down(SHUTDOWN_GRACE);
    }
}
