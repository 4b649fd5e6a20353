//! Troubleshooting: the questions to ask when nothing arrives, each answered
//! from what farmhook knows where it can be.

use eframe::egui;

use super::engine_state::{EngineState, Verify};
use super::widgets;
use crate::core::settings::{Channel, Plan, Settings};
use crate::engine::delivery::log::Outcome;

/// One question: `Some(true)` answered yes, `Some(false)` no, `None` unknown.
fn check(ui: &mut egui::Ui, answer: Option<bool>, text: &str, help: &str) {
    ui.horizontal_wrapped(|ui| {
        let (mark, colour) = match answer {
            Some(true) => ("✔", widgets::ok_colour(ui)),
            Some(false) => ("✖", ui.visuals().error_fg_color),
            None => ("•", ui.visuals().weak_text_color()),
        };
        ui.colored_label(colour, mark);
        ui.label(egui::RichText::new(text).strong());
        widgets::hint(ui, help);
    });
}

pub fn ui(ui: &mut egui::Ui, settings: &Settings, state: &EngineState) {
    widgets::section(ui, "Troubleshooting", |ui| {
        egui::CollapsingHeader::new("Nothing arrives? Check these")
            .id_salt("troubleshooting")
            .default_open(false)
            .show(ui, |ui| checks_ui(ui, settings, state));
    });
}

fn checks_ui(ui: &mut egui::Ui, settings: &Settings, state: &EngineState) {
    let discord_url = state.secrets.discord_url().is_some();
    check(
        ui,
        Some(discord_url),
        "Discord URL correct?",
        "Paste it again from Edit Channel › Integrations › Webhooks; the check under the field says what is wrong.",
    );
    let still_active = match &state.verify[Channel::Discord] {
        Verify::Answered(Ok(_)) => Some(true),
        Verify::Answered(Err(_)) => Some(false),
        _ => None,
    };
    check(
        ui,
        still_active,
        "Webhook still active?",
        "Press Verify: a webhook deleted in Discord answers 404 and must be created again.",
    );
    let enabled = Channel::ALL
        .into_iter()
        .any(|c| state.secrets.send_blocker(c, settings).is_none());
    let ticked = Channel::ALL
        .into_iter()
        .any(|c| !settings.channels[c].events.is_empty());
    check(
        ui,
        Some(enabled && ticked),
        "Events enabled?",
        "Enable the destination and tick the events; Test sends regardless, printers do not.",
    );
    if settings.plan == Plan::Commercial && state.secrets.endpoint().is_some() {
        let last = state.deliveries.last_ended(Channel::Webhook);
        check(
            ui,
            last.map(|r| r.outcome == Outcome::Delivered),
            "Endpoint answering 2xx?",
            "Only a 2xx counts as delivered; redirects are not followed. The log shows the exact answer.",
        );
        let rejected = last.and_then(|r| r.status()).map(|s| s != 401 && s != 403);
        check(
            ui,
            rejected,
            "Key matching?",
            "A 401 or 403 usually means the receiver has a different X-API-Key: Copy the key again.",
        );
    }
    for destination in Channel::ALL {
        if let Some(reason) = &state.health[destination].paused {
            check(
                ui,
                Some(false),
                &format!("{} paused", destination.label()),
                &format!("{reason}. Fix the cause, then press Resume."),
            );
        }
    }
}
