//! Is a printer there? Offline is told once, on the connected →
//! disconnected edge, after a debounce that a quick reconnect cancels;
//! online is told only after an offline was. What was known when farmhook
//! last watched ([`LastKnown`]) carries the edges across a restart.

use time::{Duration, OffsetDateTime};

use super::news::PrinterNews;

/// A printer that says nothing for this long counts as gone (P1S firmware
/// can stop publishing while its TCP connection stays up).
pub const SILENCE: Duration = Duration::seconds(60);
/// How long a printer must stay gone before `printer.offline` is told.
pub const OFFLINE_DEBOUNCE: Duration = Duration::seconds(60);

/// How quickly a gone printer is told offline: the silence after which
/// it counts as gone, and how long it must stay gone. Both 60 s unless the
/// operator asks for quicker news (`farmhook watch --offline-after`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    pub silence: Duration,
    pub offline_after: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            silence: SILENCE,
            offline_after: OFFLINE_DEBOUNCE,
        }
    }
}

impl Timing {
    /// Both at `seconds` (at least one).
    pub fn seconds(seconds: u32) -> Timing {
        let d = Duration::seconds(i64::from(seconds.max(1)));
        Timing {
            silence: d,
            offline_after: d,
        }
    }
}

/// What farmhook last knew of a printer when it last watched it (kept in
/// the printers' state file), so a restart keeps the rules' edges: a
/// printer that was up and does not come back is told offline, and one
/// already told offline is not told again but told online when it is back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LastKnown {
    Up,
    Offline,
}

impl LastKnown {
    /// From the state word the printer last showed (`printers list`'s
    /// "state", which may end in " when watching stopped"): `None` for a
    /// printer never heard from.
    pub fn from_state(state: &str) -> Option<LastKnown> {
        if state.is_empty() || state.starts_with("connecting") {
            None
        } else if state.starts_with("offline") {
            Some(LastKnown::Offline)
        } else {
            // Up, or reconnecting: it was up, and its drop not told yet.
            Some(LastKnown::Up)
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Link {
    /// Not heard from since farmhook started watching.
    Never,
    Up {
        last_heard: OffsetDateTime,
    },
    Down {
        since: OffsetDateTime,
        why: String,
    },
}

/// One printer's liveness. Pure: time is passed in.
#[derive(Debug, Clone, PartialEq)]
pub struct Liveness {
    link: Link,
    /// Silence after which a printer counts as gone; `None` for sources
    /// whose link has its own heartbeat.
    silence: Option<Duration>,
    offline_after: Duration,
    offline_told: bool,
}

impl Default for Liveness {
    fn default() -> Self {
        Liveness::new(Some(SILENCE))
    }
}

impl Liveness {
    pub fn new(silence: Option<Duration>) -> Liveness {
        Liveness {
            link: Link::Never,
            silence,
            offline_after: OFFLINE_DEBOUNCE,
            offline_told: false,
        }
    }

    /// Uses `timing` instead of the defaults (a source without a silence
    /// rule keeps none).
    pub fn set_timing(&mut self, timing: Timing) {
        if self.silence.is_some() {
            self.silence = Some(timing.silence);
        }
        self.offline_after = timing.offline_after;
    }

    /// Starts from what was known when farmhook last watched (before
    /// anything is heard now).
    pub fn carry_over(&mut self, last: LastKnown, now: OffsetDateTime) {
        match last {
            LastKnown::Up => self.link = Link::Up { last_heard: now },
            LastKnown::Offline => {
                self.link = Link::Down {
                    since: now,
                    why: "offline when farmhook last watched".into(),
                };
                self.offline_told = true;
            }
        }
    }

    /// The printer spoke: it is up. `Online` when an offline was told.
    pub fn heard(&mut self, now: OffsetDateTime) -> Option<PrinterNews> {
        self.link = Link::Up { last_heard: now };
        std::mem::take(&mut self.offline_told).then_some(PrinterNews::Online)
    }

    /// The link dropped (or the printer behind it did). Only a printer that
    /// was up starts the debounce; a later `lost` keeps the first time.
    pub fn lost(&mut self, now: OffsetDateTime, why: &str) {
        match &mut self.link {
            Link::Up { .. } => {
                self.link = Link::Down {
                    since: now,
                    why: why.to_string(),
                }
            }
            Link::Down { why: old, .. } => *old = why.to_string(),
            Link::Never => {}
        }
    }

    /// Timers: silence makes an up printer gone; a printer gone for the
    /// debounce is told `Offline`, once.
    pub fn poll(&mut self, now: OffsetDateTime) -> Option<PrinterNews> {
        if let (Link::Up { last_heard }, Some(silence)) = (&self.link, self.silence)
            && now >= *last_heard + silence
        {
            self.link = Link::Down {
                since: *last_heard + silence,
                why: format!("no report for {} s", silence.whole_seconds()),
            };
        }
        match &self.link {
            Link::Down { since, why }
                if !self.offline_told && now >= *since + self.offline_after =>
            {
                self.offline_told = true;
                Some(PrinterNews::Offline { why: why.clone() })
            }
            _ => None,
        }
    }

    /// When `poll` next has something to decide.
    pub fn next_deadline(&self) -> Option<OffsetDateTime> {
        match &self.link {
            Link::Up { last_heard } => self.silence.map(|s| *last_heard + s),
            Link::Down { since, .. } if !self.offline_told => Some(*since + self.offline_after),
            _ => None,
        }
    }

    /// True while the printer is heard from.
    pub fn is_up(&self) -> bool {
        matches!(self.link, Link::Up { .. })
    }

    /// True once the printer was heard from at least once.
    pub fn ever_up(&self) -> bool {
        self.link != Link::Never
    }

    /// True when the silence rule applies now: the source should reconnect.
    pub fn is_silent(&self, now: OffsetDateTime) -> bool {
        matches!((&self.link, self.silence), (Link::Up { last_heard }, Some(s)) if now >= *last_heard + s)
    }

    /// Why the printer is down, while it is.
    pub fn down_why(&self) -> Option<&str> {
        match &self.link {
            Link::Down { why, .. } => Some(why),
            _ => None,
        }
    }

    /// The state word for a snapshot when the printer is not up.
    pub fn state_word(&self) -> Option<&'static str> {
        match &self.link {
            Link::Never => Some("connecting"),
            Link::Down { .. } if self.offline_told => Some("offline"),
            Link::Down { .. } => Some("reconnecting"),
            Link::Up { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_795_719_000 + s).unwrap()
    }

    #[test]
    fn what_was_last_known_keeps_the_edges_across_a_restart() {
        assert_eq!(LastKnown::from_state(""), None);
        assert_eq!(
            LastKnown::from_state("connecting when watching stopped"),
            None
        );
        assert_eq!(LastKnown::from_state("printing"), Some(LastKnown::Up));
        assert_eq!(
            LastKnown::from_state("reconnecting when watching stopped"),
            Some(LastKnown::Up)
        );
        assert_eq!(
            LastKnown::from_state("offline when watching stopped"),
            Some(LastKnown::Offline)
        );
        // Up before: not coming back is told offline, once.
        let mut l = Liveness::default();
        l.carry_over(LastKnown::Up, t(0));
        l.lost(t(1), "connection refused");
        assert_eq!(
            l.poll(t(61)),
            Some(PrinterNews::Offline {
                why: "connection refused".into()
            })
        );
        assert_eq!(l.poll(t(200)), None);
        // Up before and back at once: nothing to tell.
        let mut l = Liveness::default();
        l.carry_over(LastKnown::Up, t(0));
        assert_eq!(l.heard(t(2)), None);
        // Told offline before: not again, and online once it is heard.
        let mut l = Liveness::default();
        l.carry_over(LastKnown::Offline, t(0));
        assert_eq!(l.state_word(), Some("offline"));
        l.lost(t(1), "connection refused");
        assert_eq!(l.poll(t(500)), None);
        assert_eq!(l.heard(t(501)), Some(PrinterNews::Online));
        // Never heard, as before: nothing is told.
        let mut l = Liveness::default();
        l.lost(t(1), "connection refused");
        assert_eq!(l.poll(t(500)), None);
    }

    #[test]
    fn a_drop_is_told_once_after_sixty_seconds_and_online_follows_it() {
        let mut l = Liveness::default();
        assert_eq!(l.heard(t(0)), None);
        l.lost(t(10), "TLS connection reset");
        assert_eq!(l.next_deadline(), Some(t(70)));
        assert_eq!(l.poll(t(69)), None);
        assert_eq!(
            l.poll(t(70)),
            Some(PrinterNews::Offline {
                why: "TLS connection reset".into()
            })
        );
        assert_eq!(l.poll(t(200)), None);
        l.lost(t(201), "refused");
        assert_eq!(l.poll(t(400)), None);
        assert_eq!(l.state_word(), Some("offline"));
        assert_eq!(l.heard(t(401)), Some(PrinterNews::Online));
        assert_eq!(l.heard(t(402)), None);
    }

    #[test]
    fn a_reconnect_within_the_debounce_tells_nothing() {
        let mut l = Liveness::default();
        l.heard(t(0));
        l.lost(t(1), "reset");
        assert_eq!(l.poll(t(30)), None);
        assert_eq!(l.heard(t(59)), None);
        assert_eq!(l.poll(t(100)), None);
        assert!(l.is_up());
    }

    #[test]
    fn silence_counts_as_gone_and_a_never_reached_printer_is_not_offline() {
        let mut l = Liveness::default();
        l.lost(t(0), "refused");
        assert_eq!(l.poll(t(1000)), None);
        assert_eq!(l.state_word(), Some("connecting"));
        l.heard(t(1000));
        assert!(!l.is_silent(t(1059)));
        assert!(l.is_silent(t(1060)));
        assert_eq!(l.poll(t(1060)), None);
        assert_eq!(l.state_word(), Some("reconnecting"));
        assert_eq!(
            l.poll(t(1120)),
            Some(PrinterNews::Offline {
                why: "no report for 60 s".into()
            })
        );
        // A silent printer that answers the reconnect in time is not told.
        let mut quiet = Liveness::default();
        quiet.heard(t(0));
        assert_eq!(quiet.poll(t(61)), None);
        assert_eq!(quiet.heard(t(63)), None);
        assert_eq!(quiet.poll(t(120)), None);
        // Polled late, the offline is still told once.
        let mut late = Liveness::default();
        late.heard(t(0));
        assert!(matches!(
            late.poll(t(500)),
            Some(PrinterNews::Offline { .. })
        ));
        assert_eq!(late.poll(t(501)), None);
        // A source with its own heartbeat never goes silent.
        let mut ws = Liveness::new(None);
        ws.heard(t(0));
        assert_eq!(ws.poll(t(10_000)), None);
        assert_eq!(ws.next_deadline(), None);
    }
}
