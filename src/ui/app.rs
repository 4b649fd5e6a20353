//! The app: owns the engine handle, takes in the engine's updates at the
//! start of each frame, draws the pages, and runs the commands the panels
//! asked for at the end of the frame.

use std::time::Duration;

use eframe::egui;

use super::banners::Banners;
use super::command::{Page, Section, UiCommand};
use super::delivery_log_panel::DeliveryLogPanel;
use super::engine_state::{EngineState, FindChats, Verify};
use super::notification_settings_page::NotificationSettingsPage;
use super::{account_page, toasts};
use crate::core::settings::Settings;
use crate::core::settings_merge::merge_settings;
use crate::engine::profile::Profile;
use crate::engine::profile::channel_of;
use crate::engine::service::{self, EngineCommand, EngineHandle, EngineOptions, EngineUpdate};
use crate::engine::updates::UpdateReceiver;

/// The running window: engine handle, engine state, working settings and
/// the panels' own state.
pub struct FarmhookApp {
    engine: EngineHandle,
    updates: UpdateReceiver,
    runtime: tokio::runtime::Handle,
    state: EngineState,
    /// The settings as the user edits them; `None` until loaded.
    settings: Option<Settings>,
    /// The settings as the engine last reported them: the changes still on
    /// their way to the engine are what differs from these.
    base: Option<Settings>,
    page: Page,
    notifications: NotificationSettingsPage,
    log: DeliveryLogPanel,
    banners: Banners,
    commands: Vec<UiCommand>,
    shut_down: bool,
}

impl FarmhookApp {
    /// Starts the engine for `profile` on `runtime`. `notify` runs whenever
    /// the engine has news (the window passes a repaint request).
    pub fn new(
        runtime: tokio::runtime::Handle,
        profile: Profile,
        options: EngineOptions,
        notify: impl Fn() + Send + Sync + 'static,
    ) -> Self {
        let mut state = EngineState::new(
            profile.name().to_string(),
            options.api_bases.in_force.clone(),
        );
        state.refused_api_bases = options.refused_api_bases.clone();
        let (engine, updates) = service::start(&runtime, profile, options, notify);
        FarmhookApp {
            engine,
            updates,
            runtime,
            state,
            settings: None,
            base: None,
            page: Page::Account,
            notifications: NotificationSettingsPage::default(),
            log: DeliveryLogPanel::default(),
            banners: Banners::default(),
            commands: Vec::new(),
            shut_down: false,
        }
    }

    /// The engine state as the window sees it (for tests and benchmarks).
    pub fn state(&self) -> &EngineState {
        &self.state
    }

    /// The settings being edited, once loaded.
    pub fn settings(&self) -> Option<&Settings> {
        self.settings.as_ref()
    }

    /// True while the engine has not yet confirmed a change.
    pub fn is_saving(&self) -> bool {
        self.state.saves_in_flight > 0
    }

    /// Shows `page` (as the Configure and Back buttons do).
    pub fn open(&mut self, page: Page) {
        self.page = page;
    }

    /// Shows the Notifications page at `section`.
    pub fn open_section(&mut self, section: Section) {
        self.page = Page::Notifications;
        self.notifications.open(section);
    }

    /// The section the Notifications page shows.
    pub fn section(&self) -> Section {
        self.notifications.section()
    }

    /// Feeds an update as if the engine had sent it (benchmarks fill the
    /// log this way without a network).
    pub fn apply_update(&mut self, update: EngineUpdate, now: f64) {
        if let Some(incoming) = self.state.apply(update, now) {
            // New settings from the engine (a change applied, or one another
            // process made): take them, keeping on top the changes still on
            // their way to the engine.
            let working = match (self.base.take(), self.settings.take()) {
                (Some(base), Some(working)) if working != base => {
                    merge_settings(&base, &working, &incoming).unwrap_or(working)
                }
                _ => incoming.clone(),
            };
            self.settings = Some(working);
            self.base = Some(incoming);
        }
        // Every change answered: show exactly what the engine has (a change
        // it refused does not linger on screen).
        if self.state.saves_in_flight == 0
            && let Some(base) = &self.base
            && self.settings.as_ref() != Some(base)
        {
            self.settings = Some(base.clone());
        }
    }

    /// Draws one frame.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        let now = ui.input(|i| i.time);
        while let Ok(update) = self.updates.try_recv() {
            self.apply_update(update, now);
        }
        if let Some(wait) = self.state.expire(now) {
            ui.ctx()
                .request_repaint_after(Duration::from_secs_f64(wait + 0.05));
        }

        let mut commands = std::mem::take(&mut self.commands);
        egui::Panel::top("farmhook_top").show(ui, |ui| {
            self.top_bar_ui(ui, &mut commands);
            self.banners.ui(ui, &self.state, &mut commands);
        });
        self.log.panel_ui(ui, &self.state, &mut commands);
        let page = egui::CentralPanel::default().show(ui, |ui| {
            let Some(settings) = self.settings.as_mut() else {
                if !self.state.stopped {
                    ui.horizontal(|ui| {
                        ui.spinner();
                        ui.label("Reading the settings and the keyring…");
                    });
                }
                return;
            };
            match self.page {
                Page::Account => {
                    egui::ScrollArea::vertical()
                        .id_salt("account_page")
                        .auto_shrink([false, false])
                        .show(ui, |ui| {
                            ui.set_max_width(760.0_f32.min(ui.available_width()));
                            account_page::ui(ui, settings, &self.state, &mut commands);
                        });
                }
                // The page has its own list and scroll area.
                Page::Notifications => {
                    self.notifications
                        .ui(ui, settings, &self.state, &mut commands)
                }
            }
        });
        toasts::ui(ui.ctx(), page.response.rect, &self.state);
        self.run_commands(commands, now);
    }

    fn top_bar_ui(&mut self, ui: &mut egui::Ui, commands: &mut Vec<UiCommand>) {
        ui.add_space(4.0);
        ui.horizontal(|ui| {
            ui.label(egui::RichText::new("farmhook").strong().size(16.0));
            ui.separator();
            ui.label("Settings ›");
            let account = ui.add_enabled(
                self.page != Page::Account,
                egui::Button::new("Account").frame(false),
            );
            if account.clicked() {
                commands.push(UiCommand::Open(Page::Account));
            }
            if self.page == Page::Notifications {
                ui.label("›");
                ui.label(egui::RichText::new("Notifications").strong());
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                ui.menu_button("About", |ui| {
                    ui.label(egui::RichText::new("farmhook").strong());
                    ui.label(format!("Version {}", crate::build_info::VERSION_LINE));
                    ui.label("Discord and webhook notifications for 3D-print farms.");
                    ui.weak("Secrets live in the OS keyring only.");
                });
                ui.separator();
                ui.label(format!("Profile: {}", self.state.profile));
                ui.separator();
                let saving = if self.is_saving() {
                    "Saving…"
                } else if self.state.saved {
                    "All changes saved"
                } else {
                    ""
                };
                ui.weak(saving);
            });
        });
        ui.add_space(2.0);
    }

    fn run_commands(&mut self, commands: Vec<UiCommand>, now: f64) {
        for command in commands {
            match command {
                UiCommand::Engine(command) => self.send(command, now),
                UiCommand::Change(change) => {
                    self.state.saves_in_flight += 1;
                    self.engine.send(EngineCommand::Change(change));
                }
                UiCommand::Open(page) => {
                    if page != self.page {
                        self.notifications.hide_secrets();
                    }
                    self.page = page;
                }
                UiCommand::OpenSection(section) => self.open_section(section),
                UiCommand::DismissNotice(id) => self.state.dismiss_notice(id),
                UiCommand::ClearLog => {
                    self.state.deliveries.clear();
                    self.send(EngineCommand::ClearLog, now);
                }
            }
        }
    }

    /// Sends a command. Changes go first in the same queue, so a Test right
    /// after switching the plan sees the new plan.
    fn send(&mut self, command: EngineCommand, now: f64) {
        match &command {
            EngineCommand::TestFire { ticket, to, .. } => {
                self.state.test_requested[*to] = Some((now, *ticket));
            }
            EngineCommand::Verify(channel) => self.state.verify[*channel] = Verify::Asking,
            EngineCommand::FindChats => self.state.found_chats = FindChats::Asking,
            EngineCommand::SetSecret(_, kind, _) => {
                if let Some(channel) = channel_of(kind) {
                    self.state.verify[channel] = Verify::NotAsked;
                }
            }
            EngineCommand::ClearChannel(channel) => {
                self.state.verify[*channel] = Verify::NotAsked;
            }
            _ => {}
        }
        self.engine.send(command);
    }

    /// Stops the engine (after the changes already sent) and waits up to `grace` for it
    /// to record what it had to cut short. Called once, as the window closes.
    pub fn shut_down(&mut self, grace: Duration) {
        if std::mem::replace(&mut self.shut_down, true) {
            return;
        }
        self.engine.send(EngineCommand::Shutdown);
        let (updates, state) = (&mut self.updates, &mut self.state);
        // The window is closing: a bounded wait here delays nothing the user
        // can still see. What arrives meanwhile (deliveries recorded as cut
        // short) still goes into the window's copy of the log.
        self.runtime.block_on(async {
            tokio::time::timeout(grace, async {
                while let Some(update) = updates.recv().await {
                    let stopped = matches!(update, EngineUpdate::Stopped);
                    state.apply(update, 0.0);
                    if stopped {
                        break;
                    }
                }
            })
            .await
            .ok();
        });
        self.state.stopped = true;
    }
}

impl Drop for FarmhookApp {
    fn drop(&mut self) {
        // Tests drop the app without closing a window; the engine still
        // stops in order (without waiting for it here).
        if !self.shut_down {
            self.engine.send(EngineCommand::Shutdown);
        }
    }
}
