//! Real printers as event sources: the pure rules that turn what a Bambu
//! Lab, OctoPrint or Moonraker printer reports into catalogue events.
//!
//! A network source (in the engine) owns one tracker per printer and feeds
//! it: [`PrinterTracker::link_up`] when the connection opens,
//! [`PrinterTracker::report`] for every message, [`PrinterTracker::link_down`]
//! when it drops, and [`PrinterTracker::poll`] about once a second for the
//! timers. Each returns [`PrinterNews`], which [`to_event`] turns into the
//! [`Event`](crate::core::payload::Event) the dispatcher sends. No I/O and no
//! clock here: `now` is always passed in.
//!
//! The rules every tracker keeps (see `PRINTERS.md` §5): the first report
//! after connecting is a baseline, not an event; one terminal event per
//! job; a resume is not a start; a cancel is `job.cancelled`, never also
//! `job.failed`; offline only after the link was lost for a while, online
//! only after an offline.

pub mod bambu;
pub mod bambu_hms;
pub mod bambu_report;
pub mod config;
mod json;
pub mod liveness;
pub mod moonraker;
pub mod news;
pub mod octoprint;

use serde_json::Value;
use time::OffsetDateTime;

pub use bambu::BambuTracker;
pub use bambu_report::BambuReport;
pub use config::{PrinterConfig, PrinterConfigError, PrinterKind};
pub use liveness::{Liveness, Timing};
pub use moonraker::MoonrakerTracker;
pub use news::{JobInfo, PrinterNews, PrinterSnapshot, to_event};
pub use octoprint::OctoPrintTracker;

/// After how many seconds without news a printer is told offline, unless
/// the operator chooses (the settings' `printer_offline_after_s`).
pub const OFFLINE_AFTER_DEFAULT_S: u32 = 60;
/// What may be chosen: quicker than 5 s would tell every Wi-Fi hiccup,
/// calmer than an hour would hide a dead printer for a whole night.
pub const OFFLINE_AFTER_RANGE_S: std::ops::RangeInclusive<u32> = 5..=3600;

/// What every printer's tracker offers its network source.
pub trait PrinterTracker {
    /// The connection is open (MQTT CONNACK accepted, websocket open). The
    /// next state report is a baseline.
    fn link_up(&mut self, now: OffsetDateTime);
    /// The connection dropped or was refused; `why` in words, for the
    /// offline news.
    fn link_down(&mut self, now: OffsetDateTime, why: &str);
    /// One message from the printer (any JSON; anything unexpected is
    /// ignored).
    fn report(&mut self, message: &Value, now: OffsetDateTime) -> Vec<PrinterNews>;
    /// Timers: offline after the debounce, a held failure. Call it about
    /// once a second (or at [`PrinterTracker::next_deadline`]).
    fn poll(&mut self, now: OffsetDateTime) -> Vec<PrinterNews>;
    /// When `poll` next has something to decide, if ever.
    fn next_deadline(&self) -> Option<OffsetDateTime>;
    /// True when the printer has said nothing for [`liveness::SILENCE`]
    /// although the link looks up: the source should reconnect (for Bambu,
    /// the reconnect's `pushall` answer then cancels the pending offline).
    fn is_silent(&self, now: OffsetDateTime) -> bool;
    /// What the Printers page and `printers list` show.
    fn snapshot(&self) -> PrinterSnapshot;
    /// How quickly a gone printer is told offline (before the first report).
    fn set_timing(&mut self, timing: liveness::Timing);
    /// Starts from what farmhook knew when it last watched (before the
    /// first report).
    fn carry_over(&mut self, last: liveness::LastKnown, now: OffsetDateTime);
}

/// A tracker for `kind`, boxed, for sources that hold printers of every
/// kind in one list.
pub fn tracker_for(kind: PrinterKind) -> Box<dyn PrinterTracker + Send> {
    match kind {
        PrinterKind::Bambu => Box::new(BambuTracker::new()),
        PrinterKind::OctoPrint => Box::new(OctoPrintTracker::new()),
        PrinterKind::Moonraker => Box::new(MoonrakerTracker::new()),
    }
}

#[cfg(test)]
mod fixtures;
