//! A bare eframe window, built with farmhook's own eframe features and
//! release profile and opened the same way (same size, glow), showing one
//! line of text. `scripts/bench.sh` measures its RSS beside farmhook's, so
//! farmhook's own share of memory is what the window costs above this.
//!
//!   cargo build --release --example bare_window

use eframe::egui;

fn main() -> eframe::Result {
    let started = std::time::Instant::now();
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("bare eframe window")
            .with_inner_size([960.0, 720.0]),
        ..Default::default()
    };
    eframe::run_native(
        "bare-window",
        options,
        Box::new(move |_| {
            Ok(Box::new(Bare {
                started: Some(started),
            }))
        }),
    )
}

struct Bare {
    started: Option<std::time::Instant>,
}

impl eframe::App for Bare {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        ui.label("A bare eframe window.");
        if let Some(started) = self.started.take() {
            eprintln!(
                "bare window: first frame built {:.1} ms after start",
                started.elapsed().as_secs_f64() * 1000.0
            );
        }
    }
}
