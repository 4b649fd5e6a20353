//! What the window asks the engine for ([`EngineCommand`]) and what the
//! engine reports back ([`EngineUpdate`]): the messages between a front end
//! and the engine, apart from the loop that handles them (`service.rs`).

use std::path::PathBuf;

use secrecy::SecretString;

use super::clipboard::SecretToCopy;
use super::delivery::health::ChannelHealth;
use super::delivery::log::DeliveryRecord;
use super::printers::PrinterView;
use super::profile::SecretsView;
use super::secret_store::SecretKind;
use super::verify::Facts;
use crate::core::channels::telegram::FoundChat;
use crate::core::events::EventType;
use crate::core::payload::Event;
use crate::core::printers::PrinterConfig;
use crate::core::settings::{Channel, Plan, Settings};
use crate::engine::simulation::{SimulationSettings, SimulationView};

/// What the window asks for.
#[derive(Debug, Clone)]
pub enum EngineCommand {
    /// Read settings and secrets again.
    Reload,
    /// The window just copied this secret: clear it from the clipboard
    /// after 30 s if it is still there.
    ClearCopiedSecret(SecretToCopy, SecretString),
    /// One change the user made to the settings. The engine is their only
    /// writer: it applies the change onto the file as it is now (under the
    /// profile's lock), with the same rules as the command line (enabling
    /// the custom webhook generates its key, say), then answers `Loaded`
    /// when the settings changed and `Saved` in every case; a change it
    /// refuses gets an error notice and the settings as they are.
    Change(SettingsChange),
    /// One of a channel's secrets as the user gave it (a webhook URL, a
    /// token, the endpoint: `Debug` never shows it), for the keyring.
    /// Answered with `Answered(ticket, …)`.
    SetSecret(Ticket, SecretKind, SecretString),
    /// Forget where a channel sends (its URL, token or endpoint) and turn
    /// it off.
    ClearChannel(Channel),
    GenerateApiKey,
    /// A custom key as typed (a secret: `Debug` never shows it). Answered
    /// with `Answered(ticket, …)`.
    SetApiKey(Ticket, SecretString),
    ClearApiKey,
    GenerateSigningSecret,
    ClearSigningSecret,
    /// Ask the channel's service what its saved secret points at
    /// (nothing is posted). Answered with `Verified`.
    Verify(Channel),
    /// Add a printer to watch (`replacing: None`), or change the one named
    /// `replacing`. A Bambu printer is connected to once first; when its
    /// certificate is not Bambu Lab's and `printer.fingerprint` does not
    /// name it, the answer is `PrinterTrust` (send it again with that
    /// fingerprint to trust it). Otherwise answered with
    /// `Answered(ticket, …)`.
    SavePrinter {
        ticket: Ticket,
        replacing: Option<String>,
        printer: PrinterConfig,
        /// Its access code or API key (`Debug` never shows it); `None`
        /// keeps the saved one when changing a printer.
        secret: Option<SecretString>,
    },
    /// Stop watching a printer and forget its secret.
    RemovePrinter(String),
    /// List the chats that wrote to the Telegram bot (posts nothing).
    /// Answered with `FoundChats`.
    FindChats,
    /// Send a sample event now, whether or not the destination is enabled
    /// or the event ticked.
    /// Answered with `Answered(ticket, …)`: Ok once the delivery is
    /// queued (its record follows), or why it could not start.
    TestFire {
        ticket: Ticket,
        event: EventType,
        to: Channel,
    },
    /// A real (or simulated) event: sent where enabled and ticked,
    /// recorded as filtered elsewhere.
    Send(Box<Event>),
    Resume(Channel),
    /// Ask for a file with the native save dialog, then export to it.
    ExportLogWithDialog,
    ExportLogTo(PathBuf),
    ClearLog,
    /// Start the virtual farm; its events go through `Send`.
    StartSimulation(SimulationSettings),
    StopSimulation,
    Shutdown,
}

/// Names one command, so its answer reaches the part of the window that
/// sent it (the field that stays filled until the keyring has the value).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ticket(pub u64);

impl Ticket {
    /// A ticket no other command of this process has.
    pub fn next() -> Ticket {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        Ticket(NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
    }
}

/// A change to the settings, as the user makes it in the window (the
/// command line makes the same ones through the same profile operations).
#[derive(Debug, Clone, PartialEq)]
pub enum SettingsChange {
    Plan(Plan),
    /// A channel's Enable.
    Enabled(Channel, bool),
    /// Tick (`on`) or untick `events` for `channels`.
    Events {
        channels: Vec<Channel>,
        events: Vec<EventType>,
        on: bool,
    },
    /// Telegram's chat (an id or `@channel`; `None` forgets it).
    Chat(Option<String>),
    /// After how many seconds without news a printer is told offline.
    OfflineAfter(u32),
}

/// Whether a message is good news or a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeLevel {
    Info,
    Error,
}

/// What the engine reports.
#[derive(Debug, Clone)]
pub enum EngineUpdate {
    Loaded {
        /// Boxed: five channels' settings make it the largest update.
        settings: Box<Settings>,
        secrets: SecretsView,
        /// A problem with the settings file, in words.
        notice: Option<String>,
    },
    Secrets(SecretsView),
    Saved,
    /// How the command with this ticket ended: done, or why not in words
    /// (the same words also come as an error notice).
    Answered(Ticket, Result<(), String>),
    Notice(NoticeLevel, String),
    /// A delivery record, shared with the engine's log (not a copy).
    Delivery(std::sync::Arc<DeliveryRecord>),
    Health(Channel, ChannelHealth),
    Verified(Channel, Result<Facts, String>),
    /// Every watched printer's link and state (sent when one changes).
    Printers(Vec<PrinterView>),
    /// The Bambu printer of `SavePrinter` `ticket` answered with a
    /// certificate not signed by Bambu Lab: its SHA-256, 64 lowercase hex
    /// digits, for the user to trust or not.
    PrinterTrust {
        ticket: Ticket,
        fingerprint: String,
    },
    /// The chats that wrote to the Telegram bot, newest first, or why not.
    FoundChats(Result<Vec<FoundChat>, String>),
    /// The path and the number of records, or why not.
    Exported(Result<(PathBuf, usize), String>),
    /// Destinations that will get the same event twice (two profiles on
    /// one destination).
    DuplicateWarnings(Vec<String>),
    /// The virtual farm after a tick (about ten times a second while running).
    Simulation(SimulationView),
    Stopped,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::channels::discord::URL_SECRET;

    #[test]
    fn debug_of_an_engine_command_never_shows_a_secret() {
        let token = "Ab-cd_EF0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWX";
        let url = format!("https://discord.com/api/webhooks/123456789012345678/{token}");
        let key = "k3yK3yk3yK3yk3yK3yk3yK3yk3yK3yk3yK3y";
        for command in [
            EngineCommand::SetSecret(Ticket(1), &URL_SECRET, url.as_str().into()),
            EngineCommand::SetApiKey(Ticket(2), key.into()),
        ] {
            let shown = format!("{command:?} {command:#?} {:?}", command.clone());
            assert!(!shown.contains(token) && !shown.contains(key), "{shown}");
        }
    }
}
