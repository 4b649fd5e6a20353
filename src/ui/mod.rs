//! The window. It sends commands to the engine and draws what comes back;
//! it never waits on the network, the keyring or the disk.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::build_info;

/// Opens the window and runs until it is closed.
pub fn run(profile: String, config_dir: Option<PathBuf>) -> ExitCode {
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
    let result = eframe::run_native(
        "farmhook",
        options,
        Box::new(move |_cc| {
            Ok(Box::new(PlaceholderApp {
                profile,
                _config_dir: config_dir,
            }))
        }),
    );
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("farmhook: could not open the window: {e}");
            ExitCode::from(2)
        }
    }
}

struct PlaceholderApp {
    profile: String,
    _config_dir: Option<PathBuf>,
}

impl eframe::App for PlaceholderApp {
    fn ui(&mut self, ui: &mut eframe::egui::Ui, _frame: &mut eframe::Frame) {
        eframe::egui::CentralPanel::default().show(ui, |ui| {
            ui.heading("Settings › Account › Notifications");
            ui.label(format!("Profile: {}", self.profile));
        });
    }
}
