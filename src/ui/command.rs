//! What panels ask the app for, and the pages of the window. Panels push
//! [`UiCommand`]s while drawing; the app runs them after the frame. These
//! live below the app, so no panel imports the app.

use crate::core::settings::Channel;
use crate::engine::service::{EngineCommand, SettingsChange};

/// The pages of the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// Settings › Account: the plan and the Notifications tile.
    Account,
    /// Settings › Account › Notifications: everything the tile configures.
    Notifications,
}

/// The parts of the Notifications page, one shown at a time: each channel,
/// then what all channels share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// One channel's settings (URL or key, Enable, Verify, Resume) and
    /// its own events.
    Channel(Channel),
    Printers,
    Test,
    VirtualFarm,
    Troubleshooting,
}

impl Default for Section {
    fn default() -> Self {
        SECTIONS[0].0
    }
}

/// The list on the left of the Notifications page, top to bottom, with each
/// entry's name (also its name for screen readers). A new channel is one
/// row here.
pub const SECTIONS: [(Section, &str); 9] = [
    (Section::Channel(Channel::Discord), "Discord"),
    (Section::Channel(Channel::Slack), "Slack"),
    (Section::Channel(Channel::Telegram), "Telegram"),
    (Section::Channel(Channel::Pushover), "Pushover"),
    (Section::Channel(Channel::Webhook), "Custom webhook 💎"),
    (Section::Printers, "Printers"),
    (Section::Test, "Test"),
    (Section::VirtualFarm, "Virtual farm"),
    (Section::Troubleshooting, "Troubleshooting"),
];

impl Section {
    /// The section's name in the list.
    pub fn label(self) -> &'static str {
        SECTIONS
            .iter()
            .find(|(section, _)| *section == self)
            .map_or("", |(_, label)| label)
    }
}

/// What a panel asks for; the app runs these after drawing.
#[must_use]
#[derive(Debug)]
pub enum UiCommand {
    /// Send to the engine (pending settings are saved first, so the engine
    /// acts on what the user sees).
    Engine(EngineCommand),
    /// The user changed a setting (the working copy shows it already); the
    /// engine, the only writer of settings, applies it and answers.
    Change(SettingsChange),
    Open(Page),
    /// Opens the Notifications page at one section.
    OpenSection(Section),
    DismissNotice(u64),
    /// Forget the window's copy of the log too.
    ClearLog,
}
