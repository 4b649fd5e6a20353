//! The virtual farm: simulated printers whose events go through the real
//! settings (enabled destinations, ticked events), to see a shift's worth
//! of notifications without a printer.

use eframe::egui;

use super::command::UiCommand;
use super::engine_state::EngineState;
use super::widgets;
use crate::core::simulator::{MAX_PRINTERS, MAX_SPEED, Scenario};
use crate::engine::service::EngineCommand;
use crate::engine::simulation::SimulationSettings;

#[derive(Default)]
pub struct SimulationPanel {
    settings: SimulationSettings,
}

impl SimulationPanel {
    pub fn ui(&mut self, ui: &mut egui::Ui, state: &EngineState, commands: &mut Vec<UiCommand>) {
        widgets::section(ui, "Virtual farm", |ui| {
            widgets::hint(
                ui,
                "Simulated printers send events like real ones: only to enabled destinations, only the ticked events. Deliveries are real.",
            );
            let running = state.simulation.as_ref().is_some_and(|v| v.running);
            ui.add_enabled_ui(!running, |ui| self.settings_ui(ui));
            ui.horizontal(|ui| {
                if running {
                    if ui.button("Stop the farm").clicked() {
                        commands.push(UiCommand::Engine(EngineCommand::StopSimulation));
                    }
                } else if ui.button("Start the farm").clicked() {
                    commands.push(UiCommand::Engine(EngineCommand::StartSimulation(
                        self.settings.clone(),
                    )));
                }
                if let Some(view) = &state.simulation {
                    let minutes = view.elapsed_s / 60.0;
                    ui.label(format!(
                        "{}: {}, {minutes:.0} min simulated, {} event{}",
                        if view.running { "Running" } else { "Stopped" },
                        view.scenario.label(),
                        view.events,
                        if view.events == 1 { "" } else { "s" }
                    ));
                }
            });
            if let Some(view) = &state.simulation
                && !view.printers.is_empty()
            {
                egui::CollapsingHeader::new(format!("Printers ({})", view.printers.len()))
                    .id_salt("simulated_printers")
                    .show(ui, |ui| {
                        let row_height = ui.text_style_height(&egui::TextStyle::Body);
                        egui::ScrollArea::vertical()
                            .id_salt("simulated_printers_scroll")
                            .max_height(180.0)
                            .show_rows(ui, row_height, view.printers.len(), |ui, rows| {
                                for printer in &view.printers[rows] {
                                    ui.label(format!(
                                        "{} ({}): {}",
                                        printer.name,
                                        printer.model,
                                        printer.state.words()
                                    ));
                                }
                            });
                    });
            }
        });
    }

    fn settings_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal_wrapped(|ui| {
            let printers = ui.label("Printers");
            ui.add(egui::DragValue::new(&mut self.settings.printers).range(1..=MAX_PRINTERS))
                .labelled_by(printers.id);
            let speed = ui.label("Speed (× real time)");
            ui.add(
                egui::DragValue::new(&mut self.settings.speed)
                    .range(0.1..=MAX_SPEED)
                    .speed(0.1),
            )
            .labelled_by(speed.id);
            let scenario = ui.label("Scenario");
            egui::ComboBox::from_id_salt("simulation_scenario")
                .selected_text(self.settings.scenario.label())
                .show_ui(ui, |ui| {
                    for s in Scenario::ALL {
                        ui.selectable_value(&mut self.settings.scenario, s, s.label());
                    }
                })
                .response
                .labelled_by(scenario.id);
        });
    }
}
