//! The list on the left of the Notifications page: choose a channel (or one
//! of the shared sections) and see each channel's state at a glance. Drawn
//! from [`SECTIONS`], so a new channel is one row there.

use eframe::egui::{self, Color32, Sense};

use super::command::{SECTIONS, Section};
use super::engine_state::EngineState;
use super::widgets;
use crate::core::channel::Blocker;
use crate::core::settings::{Channel, Settings};

/// Width of the list, in points.
pub const LIST_WIDTH: f32 = 210.0;
/// Size of an entry's state line: smaller than its name, still readable.
const STATE_TEXT_SIZE: f32 = 11.5;

/// How an entry's state line reads: words and whether they are good news.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tone {
    Good,
    Quiet,
    Warning,
    Error,
}

/// Draws the list; returns the section the user chose this frame, if any.
pub fn ui(
    ui: &mut egui::Ui,
    selected: Section,
    settings: &Settings,
    state: &EngineState,
) -> Option<Section> {
    let mut chosen = None;
    for (section, label) in SECTIONS {
        let (words, tone) = section_state(section, settings, state);
        if entry_ui(ui, section == selected, label, &words, tone).clicked() {
            chosen = Some(section);
        }
    }
    chosen
}

/// One entry: the name in strong text, its state in a small coloured line
/// under it. For screen readers it is a tab named for the section, with the
/// state as its description.
fn entry_ui(
    ui: &mut egui::Ui,
    selected: bool,
    label: &str,
    words: &str,
    tone: Tone,
) -> egui::Response {
    let padding = egui::vec2(8.0, 5.0);
    let name_height = ui.text_style_height(&egui::TextStyle::Body);
    let small = egui::FontId::proportional(STATE_TEXT_SIZE);
    let small_height = ui.ctx().fonts_mut(|f| f.row_height(&small));
    let height = padding.y * 2.0
        + name_height
        + if words.is_empty() {
            0.0
        } else {
            small_height + 2.0
        };
    let (rect, response) =
        ui.allocate_exact_size(egui::vec2(ui.available_width(), height), Sense::click());
    response.widget_info(|| egui::WidgetInfo::selected(egui::Role::Tab, true, selected, label));
    let description = words.to_string();
    ui.ctx().accesskit_node_builder(response.id, |node| {
        node.set_selected(selected);
        if !description.is_empty() {
            node.set_description(description);
        }
    });
    if ui.is_rect_visible(rect) {
        let visuals = ui.visuals();
        let fill = if selected {
            visuals.selection.bg_fill
        } else if response.hovered() {
            visuals.widgets.hovered.weak_bg_fill
        } else {
            Color32::TRANSPARENT
        };
        ui.painter().rect_filled(rect, 4.0, fill);
        let text_colour = if selected {
            visuals.selection.stroke.color
        } else {
            visuals.strong_text_color()
        };
        let top_left = rect.min + padding;
        ui.painter().text(
            top_left,
            egui::Align2::LEFT_TOP,
            label,
            egui::TextStyle::Body.resolve(ui.style()),
            text_colour,
        );
        if !words.is_empty() {
            let colour = match tone {
                Tone::Good => widgets::ok_colour(ui),
                // On the selected entry's fill the weak colour is too faint.
                Tone::Quiet if selected => text_colour.gamma_multiply(0.8),
                Tone::Quiet => visuals.weak_text_color(),
                Tone::Warning => visuals.warn_fg_color,
                Tone::Error => visuals.error_fg_color,
            };
            ui.painter().text(
                top_left + egui::vec2(0.0, name_height + 2.0),
                egui::Align2::LEFT_TOP,
                words,
                small,
                colour,
            );
        }
    }
    response.on_hover_cursor(egui::CursorIcon::PointingHand)
}

/// The state line of an entry (empty for sections with nothing to say).
fn section_state(section: Section, settings: &Settings, state: &EngineState) -> (String, Tone) {
    match section {
        Section::Channel(destination) => channel_state(destination, settings, state),
        Section::Test => {
            if Channel::ALL.into_iter().any(|d| state.testing(d)) {
                ("sending…".to_string(), Tone::Quiet)
            } else {
                (String::new(), Tone::Quiet)
            }
        }
        Section::VirtualFarm => {
            if state.simulation.as_ref().is_some_and(|v| v.running) {
                ("running".to_string(), Tone::Good)
            } else {
                ("stopped".to_string(), Tone::Quiet)
            }
        }
        Section::Troubleshooting => (String::new(), Tone::Quiet),
        Section::Printers => printers_state(state),
    }
}

/// The printers at a glance: how many are connected.
fn printers_state(state: &EngineState) -> (String, Tone) {
    let all = state.printers.len();
    let connected = state.printers.iter().filter(|p| p.connected).count();
    match (all, connected) {
        (0, _) => ("none yet".to_string(), Tone::Quiet),
        (all, connected) if connected == all => (format!("✔ {all} connected"), Tone::Good),
        (all, connected) => (format!("⚠ {connected} of {all} connected"), Tone::Warning),
    }
}

/// A channel at a glance: locked, not set up, paused, on or off.
fn channel_state(destination: Channel, settings: &Settings, state: &EngineState) -> (String, Tone) {
    if !state.loaded {
        return ("reading…".to_string(), Tone::Quiet);
    }
    // The one can-it-send rule decides, as for Test and for real events.
    let words = |s: &str| s.to_string();
    match state.secrets.test_blocker(destination, settings) {
        Some(Blocker::NeedsPlan) => return (words("🔒 needs Commercial"), Tone::Quiet),
        Some(Blocker::NotSetUp) => return (words("not set up"), Tone::Quiet),
        Some(Blocker::Keyring(_)) => return (words("✖ keyring unreachable"), Tone::Error),
        _ => {}
    }
    if state.health[destination].paused.is_some() {
        return (words("⏸ paused"), Tone::Error);
    }
    match state.secrets.send_blocker(destination, settings) {
        None => (words("✔ on"), Tone::Good),
        Some(Blocker::Off) => (words("⚠ off"), Tone::Warning),
        Some(_) => (words("⚠ incomplete"), Tone::Warning),
    }
}
