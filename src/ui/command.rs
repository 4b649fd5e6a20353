//! What panels ask the app for, and the pages of the window. Panels push
//! [`UiCommand`]s while drawing; the app runs them after the frame. These
//! live below the app, so no panel imports the app.

use crate::engine::service::EngineCommand;

/// The pages of the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// Settings › Account: the plan and the Notifications tile.
    Account,
    /// Settings › Account › Notifications: everything the tile configures.
    Notifications,
}

/// What a panel asks for; the app runs these after drawing.
#[must_use]
#[derive(Debug)]
pub enum UiCommand {
    /// Send to the engine (pending settings are saved first, so the engine
    /// acts on what the user sees).
    Engine(EngineCommand),
    /// The working copy of the settings was edited: save it soon.
    SettingsEdited,
    Open(Page),
    DismissNotice(u64),
    /// Forget the window's copy of the log too.
    ClearLog,
}
