//! Watching real printers: one network source per printer (Bambu Lab over
//! LAN MQTT, OctoPrint's push socket, Moonraker's JSON-RPC websocket), each
//! feeding its `core::printers` tracker and reporting what it learns to the
//! watcher (`farmhook watch`, or the window's engine), which turns news into
//! catalogue events and routes them like any other event.
//!
//! Every source follows the same contract: connect, report `Link`
//! changes, feed every message to the tracker and report its news and a
//! fresh snapshot, call the tracker's `poll` about once a second (Bambu:
//! at the tracker's next deadline, which a farm's CPU notices), reconnect
//! with backoff (1 s doubling to 30 s) after a drop or when the tracker says
//! the printer went silent, and stop for good (`LinkState::Stopped`, with
//! the reason) when the printer refuses the access code or key, which
//! retrying cannot fix. It ends when `stop` turns true. No secret ever
//! appears in an update. `watch` runs the sources on a paced thread of
//! their own (`engine::PacedThread`), the window on its engine's runtime.

pub mod bambu;
pub mod moonraker;
pub mod octoprint;
mod socket;
pub mod watcher;
pub mod watching;

use std::time::Duration;

use secrecy::SecretString;
use tokio::sync::{mpsc, watch};

use crate::core::printers::liveness::LastKnown;
use crate::core::printers::{PrinterConfig, PrinterNews, PrinterSnapshot, Timing};

/// What a source tells the watcher, about the printer named `printer`.
#[derive(Debug, Clone)]
pub struct SourceUpdate {
    pub printer: String,
    pub what: SourceReport,
}

#[derive(Debug, Clone)]
pub enum SourceReport {
    Link(LinkState),
    /// News to deliver (the watcher makes the event).
    News(PrinterNews),
    /// What the printer is doing now, after every message that changed it.
    Snapshot(PrinterSnapshot),
}

/// The state of a source's connection, in the operator's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkState {
    Connecting,
    Connected,
    /// Lost or refused; trying again in `in_s` seconds.
    Retrying {
        in_s: u64,
        why: String,
    },
    /// Given up: the printer refused the access code or key, its
    /// certificate does not match the pinned one, or the source was
    /// stopped. Retrying cannot help until the user acts.
    Stopped(String),
}

/// A watched printer as the window shows it: its settings, its link and
/// what it is doing.
#[derive(Debug, Clone, PartialEq)]
pub struct PrinterView {
    pub config: PrinterConfig,
    /// The link in words (`connected`, `trying again in 4 s (…)`…).
    pub link: String,
    pub connected: bool,
    pub snapshot: PrinterSnapshot,
}

/// The link in words, for the window, `watch` and `printers list`.
pub fn link_words(link: &LinkState) -> String {
    match link {
        LinkState::Connecting => "connecting".into(),
        LinkState::Connected => "connected".into(),
        LinkState::Retrying { in_s, why } => format!("trying again in {in_s} s ({why})"),
        LinkState::Stopped(why) => format!("stopped: {why}"),
    }
}

/// A printer's live state as `watch` and the window keep it for
/// `printers list` (in `<profile>.printers.json`; no secret in it).
pub fn state_json(
    link: &str,
    snapshot: &PrinterSnapshot,
    at: time::OffsetDateTime,
) -> serde_json::Value {
    serde_json::json!({
        "link": link,
        "state": snapshot.state,
        "job": snapshot.job,
        "progress": snapshot.progress,
        "remaining_s": snapshot.remaining_s,
        "last_news": snapshot.last_news.as_ref().map(|(_, news)| news.words()),
        "updated_at": at.unix_timestamp(),
    })
}

/// The first wait before a source reconnects; it doubles up to
/// [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: Duration = Duration::from_secs(1);
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The wait before the next reconnect: 1 s doubling to 30 s, back to 1 s
/// after a connection that worked.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            next: FIRST_BACKOFF,
        }
    }
}

impl Backoff {
    pub fn take(&mut self) -> Duration {
        let now = self.next;
        self.next = (self.next * 2).min(MAX_BACKOFF);
        now
    }

    pub fn reset(&mut self) {
        self.next = FIRST_BACKOFF;
    }
}

/// Everything a source needs to run.
pub struct SourceContext {
    pub config: PrinterConfig,
    /// The access code (Bambu) or API key (OctoPrint, Moonraker), from the
    /// keyring; `None` when the printer needs none.
    pub secret: Option<SecretString>,
    pub updates: mpsc::Sender<SourceUpdate>,
    /// Turns true when the source must end (watch stopping, printer removed).
    pub stop: watch::Receiver<bool>,
    /// How quickly a gone printer is told offline.
    pub timing: Timing,
    /// What was known of the printer when farmhook last watched it.
    pub last_known: Option<LastKnown>,
}

/// What `printers test` (and adding a Bambu printer) learns from one
/// connection: the first status, and for Bambu the certificate.
#[derive(Debug, Clone)]
pub struct Probe {
    pub snapshot: PrinterSnapshot,
    /// The printer's certificate's SHA-256 fingerprint (Bambu), as
    /// `core::printers::config::format_fingerprint` writes it.
    pub fingerprint: Option<String>,
    /// Whether the certificate chains to Bambu's CAs (then no pin is needed).
    pub chained_to_bambu: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_one_second_to_thirty_and_resets_after_a_good_connection() {
        let mut b = Backoff::default();
        let waits: Vec<u64> = (0..7).map(|_| b.take().as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 30, 30]);
        b.reset();
        assert_eq!(b.take(), FIRST_BACKOFF);
        assert_eq!(b.take().as_secs(), 2);
    }
}
