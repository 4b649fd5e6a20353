//! Test deliveries: pick an event, press Test for a destination, watch the
//! spinner; the result lands in the log (and is summed up here).

use eframe::egui;

use super::command::UiCommand;
use super::engine_state::EngineState;
use super::payload_preview::PayloadPreview;
use super::record_words::describe;
use super::widgets;
use crate::core::events::EventType;
use crate::core::settings::{Channel, Settings};
use crate::engine::delivery::log::Outcome;
use crate::engine::service::{EngineCommand, Ticket};

pub struct TestPanel {
    event: EventType,
    preview: PayloadPreview,
}

impl Default for TestPanel {
    fn default() -> Self {
        TestPanel {
            // The event an operator most wants to hear about.
            event: EventType::from_id("job.failed").unwrap_or_else(|_| first_event()),
            preview: PayloadPreview::default(),
        }
    }
}

fn first_event() -> EventType {
    EventType::all()
        .next()
        .expect("the event catalogue is never empty")
}

impl TestPanel {
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        settings: &Settings,
        state: &EngineState,
        commands: &mut Vec<UiCommand>,
    ) {
        widgets::section(ui, "Test", |ui| {
            widgets::hint(
                ui,
                "Sends a sample event now, even if the destination is off or the event is unticked. It is marked \"test\": true.",
            );
            ui.horizontal(|ui| {
                let label = ui.label("Event");
                egui::ComboBox::from_id_salt("test_event")
                    .selected_text(self.event.label())
                    .width(200.0)
                    .show_ui(ui, |ui| {
                        for event in EventType::all() {
                            ui.selectable_value(&mut self.event, event, event.label());
                        }
                    })
                    .response
                    .labelled_by(label.id);
            });
            ui.add_space(4.0);
            for destination in Channel::ALL {
                self.destination_ui(ui, destination, settings, state, commands);
            }
            ui.add_space(4.0);
            self.preview.ui(ui, self.event);
        });
    }

    fn destination_ui(
        &self,
        ui: &mut egui::Ui,
        destination: Channel,
        settings: &Settings,
        state: &EngineState,
        commands: &mut Vec<UiCommand>,
    ) {
        // The one can-it-send rule, the same the engine and the CLI use.
        let blocked = state
            .secrets
            .test_blocker(destination, settings)
            .map(|b| b.words(destination));
        ui.horizontal_wrapped(|ui| {
            let text = match destination {
                Channel::Webhook => "Test custom webhook".to_string(),
                channel => format!("Test {}", channel.label()),
            };
            let button = ui
                .add_enabled(
                    blocked.is_none(),
                    egui::Button::new(text).min_size([160.0, 0.0].into()),
                )
                .on_hover_text(format!(
                    "Send a sample “{}” to {} now",
                    self.event.label(),
                    destination.label()
                ));
            if let Some(reason) = &blocked {
                widgets::hint(ui, reason.as_str());
            }
            if button.clicked() {
                commands.push(UiCommand::Engine(EngineCommand::TestFire {
                    ticket: Ticket::next(),
                    event: self.event,
                    to: destination,
                }));
            }
            if state.testing(destination) {
                ui.spinner();
                ui.label("sending…");
            } else if blocked.is_none()
                && let Some(record) = state.deliveries.last_test(destination)
            {
                let colour = widgets::outcome_colour(ui, record.outcome);
                let prefix = if record.outcome == Outcome::Delivered {
                    "✔"
                } else {
                    "✖"
                };
                ui.add(
                    egui::Label::new(
                        egui::RichText::new(format!("{prefix} last test: {}", describe(record)))
                            .color(colour),
                    )
                    .wrap(),
                );
            }
        });
    }
}
