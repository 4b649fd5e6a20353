//! Bambu's HMS (health management system) codes: decoding, severity, and
//! which ones to tell (new, not flapping, not a cancel echo, not told
//! twice through `print_error` and `hms`).

use std::collections::BTreeMap;

use time::{Duration, OffsetDateTime};

use crate::core::events::Severity;

/// `print_error` for "the task was canceled" (0x0300400C).
pub const CANCEL_PRINT_ERROR: u32 = 0x0300_400C;
/// Short codes the firmware raises while a user cancels: echoes, not faults.
pub const CANCEL_ECHOES: [&str; 2] = ["0300_400C", "0500_400E"];
/// "MQTT command verification failed": fatal-level, but it only means
/// control commands are refused; reports still flow.
pub const MQTT_VERIFY_FAILED: &str = "0500_0500_0001_0007";
/// A code that cleared stays "seen" this long, so a flapping code is told
/// once.
pub const SEEN_FOR: Duration = Duration::seconds(30);

/// One HMS code, as the printer's `hms: [{attr, code}]` carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HmsCode {
    pub attr: u32,
    pub code: u32,
    /// True when it came from `print_error` rather than the `hms` list.
    pub from_print_error: bool,
}

impl HmsCode {
    pub fn new(attr: u32, code: u32) -> HmsCode {
        HmsCode {
            attr,
            code,
            from_print_error: false,
        }
    }

    /// A non-zero `print_error` (`MMMM_EEEE`) as a code of level 1:
    /// `MMMM_0000_0001_EEEE`.
    pub fn from_print_error(print_error: u32) -> HmsCode {
        HmsCode {
            attr: print_error & 0xFFFF_0000,
            code: (1 << 16) | (print_error & 0xFFFF),
            from_print_error: true,
        }
    }

    /// `AAAA_BBBB_CCCC_DDDD`, the payload's form.
    pub fn full(&self) -> String {
        format!(
            "{:04X}_{:04X}_{:04X}_{:04X}",
            self.attr >> 16,
            self.attr & 0xFFFF,
            self.code >> 16,
            self.code & 0xFFFF
        )
    }

    /// `AAAA_DDDD`: module and error, the form `print_error` and Bambu's
    /// short codes use.
    pub fn short(&self) -> String {
        format!("{:04X}_{:04X}", self.attr >> 16, self.code & 0xFFFF)
    }

    /// Bambu's level, `code >> 16`: 1 fatal, 2 serious, 3 common, 4 info.
    pub fn level(&self) -> u32 {
        self.code >> 16
    }

    /// Error for levels 1–2, warning for 3; `None` (not told) otherwise.
    pub fn severity(&self) -> Option<Severity> {
        match self.level() {
            1 | 2 => Some(Severity::Error),
            3 => Some(Severity::Warning),
            _ => None,
        }
    }

    /// Codes never told: the MQTT verification failure and cancel echoes.
    pub fn is_suppressed(&self) -> bool {
        self.full() == MQTT_VERIFY_FAILED || CANCEL_ECHOES.contains(&self.short().as_str())
    }

    /// What the notification says: the fault in words when farmhook
    /// knows it, the code, and for a code of the `hms` list the address of
    /// Bambu's own page on it (what it means, what to do). `print_error`
    /// codes have no page of their own there.
    pub fn message(&self) -> String {
        let level = match self.level() {
            1 => "fatal",
            2 => "serious",
            3 => "common",
            _ => "info",
        };
        if self.from_print_error {
            let print_error = (self.attr & 0xFFFF_0000) | (self.code & 0xFFFF);
            match print_error_words(print_error) {
                Some(words) => format!("{words} (printer error {})", self.short()),
                None => format!(
                    "The printer reports error {} (print_error; HMS_{})",
                    self.short(),
                    self.full()
                ),
            }
        } else {
            let said = match known_message(&self.full()) {
                Some(text) => format!("{text} (HMS_{}, {level})", self.full()),
                None => format!("The printer reports HMS_{} ({level})", self.full()),
            };
            format!("{said}. Bambu's page on it: {}", self.wiki_url())
        }
    }

    /// Bambu's page on this code (the address Bambu Studio and Handy open;
    /// the `x1` in it serves every model).
    pub fn wiki_url(&self) -> String {
        format!("{HMS_WIKI}{}", self.full())
    }
}

/// Where Bambu's pages on HMS codes live; the code follows.
pub const HMS_WIKI: &str = "https://wiki.bambulab.com/en/x1/troubleshooting/hmscode/";

/// The few codes whose meaning farmhook knows without Bambu's tables.
fn known_message(full: &str) -> Option<&'static str> {
    match full {
        "0300_0100_0001_0007" => Some("The heatbed temperature is abnormal"),
        _ => None,
    }
}

/// A `print_error` in words, for the faults a farm meets most (in our
/// words; Bambu's own texts are longer and per model). A print that fails
/// with one of these says why in the failure's reason and its HMS error.
pub fn print_error_words(print_error: u32) -> Option<&'static str> {
    Some(match print_error {
        0x0300_4000 => "Homing the Z axis failed; the print was stopped",
        0x0300_4002 => "Auto bed levelling failed; the print was stopped",
        0x0300_4005 | 0x0300_8010 => "The hotend's cooling fan is not turning at its speed",
        0x0300_4006 | 0x0300_8016 => "The nozzle is clogged",
        0x0300_4008 => "The AMS could not change the filament",
        0x0300_4009 => "Homing the X and Y axes failed",
        0x0300_400D => "Resuming after a power cut failed",
        0x0300_400E => "The motors' self-check failed",
        0x0300_8001 => "Paused by a pause command in the print file",
        0x0300_8004 => "The filament ran out; load new filament",
        0x0300_8005 => "The toolhead's front cover came off",
        0x0300_8007 => "The power went out during a print",
        0x0300_8008 => "The nozzle temperature is not under control",
        0x0300_8009 => "The heatbed temperature is not under control",
        0x0300_800B => "The filament cutter is stuck",
        0x0300_800C => "The motors skipped steps; check the print for a layer shift",
        0x0300_800D => "The extruder is not extruding as it should",
        0x0300_800E => "The print file cannot be read; was the storage card taken out?",
        0x0300_800F => "The door is open, so the print was paused",
        0x0300_8013 => "Paused by someone at the printer",
        0x0300_8014 => {
            "Filament is stuck around the nozzle, or the build plate is not seated right"
        }
        0x0300_8017 => "Something is lying on the heatbed",
        0x0300_8018 => "The chamber temperature is not under control",
        0x0300_8019 => "There is no build plate on the heatbed",
        0x0500_4003 => "The printer could not read the print file; send it again",
        0x0500_4006 | 0x0500_4015 => "There is not enough free storage for the print file",
        0x0500_400C => "There is no storage card in the printer",
        0x0500_C010 => "The storage card cannot be read or written; put it in again or replace it",
        _ => return None,
    })
}

#[derive(Debug, Clone, PartialEq)]
struct Seen {
    short: String,
    /// When it left the printer's list; `None` while present.
    cleared_at: Option<OffsetDateTime>,
}

/// The codes a printer shows or showed lately, to tell each once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HmsWatch {
    seen: BTreeMap<String, Seen>,
}

impl HmsWatch {
    /// Takes the codes present now (the `hms` list first, then the
    /// `print_error` code, if any) and returns those to tell: new, of level
    /// 1–3, not suppressed, and not the same fault (same short code) as one
    /// already seen. On a `baseline` everything present is only remembered.
    pub fn update(
        &mut self,
        present: &[HmsCode],
        now: OffsetDateTime,
        baseline: bool,
    ) -> Vec<HmsCode> {
        let present_full: Vec<String> = present.iter().map(HmsCode::full).collect();
        for (full, seen) in self.seen.iter_mut() {
            if !present_full.contains(full) && seen.cleared_at.is_none() {
                seen.cleared_at = Some(now);
            }
        }
        self.seen
            .retain(|_, s| s.cleared_at.is_none_or(|at| now < at + SEEN_FOR));
        let mut tell = Vec::new();
        for code in present {
            let full = code.full();
            if let Some(seen) = self.seen.get_mut(&full) {
                seen.cleared_at = None;
                continue;
            }
            let short = code.short();
            let same_fault = self.seen.values().any(|s| s.short == short);
            self.seen.insert(
                full,
                Seen {
                    short,
                    cleared_at: None,
                },
            );
            if !baseline && !same_fault && !code.is_suppressed() && code.severity().is_some() {
                tell.push(*code);
            }
        }
        tell
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_795_719_000 + s).unwrap()
    }

    #[test]
    fn codes_decode_as_bambu_formats_them() {
        let warn = HmsCode::new(50374400, 196609);
        assert_eq!(warn.full(), "0300_A700_0003_0001");
        assert_eq!(warn.level(), 3);
        assert_eq!(warn.severity(), Some(Severity::Warning));
        let fatal = HmsCode::new(50331904, 65543);
        assert_eq!(fatal.full(), "0300_0100_0001_0007");
        assert_eq!(fatal.severity(), Some(Severity::Error));
        assert!(fatal.message().contains("heatbed"), "{}", fatal.message());
        assert!(
            fatal.message().ends_with(
                "Bambu's page on it: https://wiki.bambulab.com/en/x1/troubleshooting/hmscode/0300_0100_0001_0007"
            ),
            "{}",
            fatal.message()
        );
        assert_eq!(HmsCode::new(0, 4 << 16).severity(), None);
        let cancel = HmsCode::from_print_error(CANCEL_PRINT_ERROR);
        assert_eq!(cancel.short(), "0300_400C");
        assert!(cancel.is_suppressed());
        let verify = HmsCode::new(0x0500_0500, 0x0001_0007);
        assert_eq!(verify.full(), MQTT_VERIFY_FAILED);
        assert!(verify.is_suppressed());
        let pe = HmsCode::from_print_error(0x0700_8011);
        assert_eq!(pe.full(), "0700_0000_0001_8011");
        assert_eq!(pe.severity(), Some(Severity::Error));
    }

    #[test]
    fn a_print_error_is_told_in_words_when_known_and_by_its_code_always() {
        let clogged = HmsCode::from_print_error(0x0300_4006);
        assert_eq!(
            clogged.message(),
            "The nozzle is clogged (printer error 0300_4006)"
        );
        // No page of its own on Bambu's wiki: no address.
        assert!(!clogged.message().contains("http"));
        let unknown = HmsCode::from_print_error(0x0700_8011);
        assert_eq!(
            unknown.message(),
            "The printer reports error 0700_8011 (print_error; HMS_0700_0000_0001_8011)"
        );
        // A code of the hms list that farmhook has no words for still
        // names itself and where to read about it.
        let warn = HmsCode::new(50374400, 196609);
        assert_eq!(
            warn.message(),
            "The printer reports HMS_0300_A700_0003_0001 (common). Bambu's page on it: \
             https://wiki.bambulab.com/en/x1/troubleshooting/hmscode/0300_A700_0003_0001"
        );
        assert_eq!(print_error_words(CANCEL_PRINT_ERROR), None);
    }

    #[test]
    fn a_flapping_code_is_told_once_and_again_after_thirty_quiet_seconds() {
        let mut w = HmsWatch::default();
        let warn = HmsCode::new(50374400, 196609);
        assert_eq!(w.update(&[warn], t(0), false), [warn]);
        for s in 1..20 {
            let present: &[HmsCode] = if s % 2 == 0 { &[warn] } else { &[] };
            assert!(w.update(present, t(s * 3), false).is_empty(), "at {s}");
        }
        assert!(w.update(&[], t(60), false).is_empty());
        assert!(w.update(&[], t(89), false).is_empty());
        assert_eq!(w.update(&[warn], t(91), false), [warn]);
    }

    #[test]
    fn a_fault_in_both_print_error_and_hms_is_told_once() {
        let mut w = HmsWatch::default();
        let hms = HmsCode::new(0x0700_2000, 0x0002_8011);
        let pe = HmsCode::from_print_error(0x0700_8011);
        assert_eq!(w.update(&[hms, pe], t(0), false), [hms]);
        let mut w = HmsWatch::default();
        assert_eq!(w.update(&[pe], t(0), false), [pe]);
        assert!(w.update(&[pe, hms], t(1), false).is_empty());
    }

    #[test]
    fn the_baseline_remembers_without_telling() {
        let mut w = HmsWatch::default();
        let fatal = HmsCode::new(50331904, 65543);
        assert!(w.update(&[fatal], t(0), true).is_empty());
        assert!(w.update(&[fatal], t(1), false).is_empty());
    }
}
