//! An event as farmhook sends it: the schema-version-1 JSON body of the
//! custom webhook (see `assets/payload.schema.json`), and sample events for
//! test deliveries and the preview.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::events::{EventType, Severity, Subject};

/// The payload schema this build sends.
pub const PAYLOAD_SCHEMA_VERSION: u32 = 1;

/// One event, ready to be sent anywhere.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// `evt_` + 24 random characters; the `webhook-id` of every attempt.
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub schema_version: u32,
    #[serde(with = "rfc3339_millis")]
    pub occurred_at: OffsetDateTime,
    /// True for deliveries fired from the Test button or `test-fire`.
    pub test: bool,
    /// The printer the event is about; absent only on order events that no
    /// printer has taken yet.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub printer: Option<Printer>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub job: Option<Job>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub hms: Option<Hms>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub order: Option<Order>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub maintenance: Option<Maintenance>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub material: Option<Material>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Printer {
    pub id: String,
    pub name: String,
    pub model: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: String,
    pub name: String,
    #[serde(with = "rfc3339_millis")]
    pub started_at: OffsetDateTime,
    #[serde(
        with = "rfc3339_millis::option",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub ended_at: Option<OffsetDateTime>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub duration_s: Option<u64>,
    /// 0.0 to 1.0.
    pub progress: f64,
    /// Why a job failed or was cancelled.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hms {
    /// Like `0700_2000_0002_0001`.
    pub code: String,
    pub severity: Severity,
    pub message: String,
}

/// A customer order, on `order.*` events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub id: String,
    /// The number the operator sees, like `#1042`.
    pub number: String,
    /// Where it came from: `manual` or `retail` (a shop integration).
    pub source: String,
    /// How many items (prints) it holds.
    pub items: u32,
    /// Why it was cancelled, when it was.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reason: Option<String>,
}

/// A printer's maintenance, on `maintenance.*` events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Maintenance {
    /// What is due (`Lubricate the carbon rods`); absent for mode changes.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub task: Option<String>,
    /// Print hours since this task was last done.
    pub print_hours: f64,
    /// Print hours at which the task falls due.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub due_at_print_hours: Option<f64>,
    /// Who or what switched maintenance mode, or a note.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub note: Option<String>,
}

/// Filament used by a finished job, on `material.usage_recorded`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Material {
    /// The filament, like `PLA Basic`.
    pub filament: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub colour: Option<String>,
    pub grams: f64,
    /// The job that used it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub job_id: Option<String>,
}

impl Event {
    /// The name of the printer, or "" when there is none.
    pub fn printer_name(&self) -> &str {
        self.printer.as_ref().map_or("", |p| p.name.as_str())
    }

    /// The JSON body the custom webhook receives.
    pub fn to_json(&self) -> Vec<u8> {
        // Room for a typical event at once, rather than growing five times.
        let mut out = Vec::with_capacity(1024);
        serde_json::to_writer(&mut out, self).expect("events always serialize");
        out
    }

    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).expect("events always serialize")
    }

    /// A realistic sample of `event_type`, as the Test button sends it and
    /// the preview shows it. `id` and `now` come from the caller (no clock
    /// or randomness here).
    pub fn sample(event_type: EventType, id: String, now: OffsetDateTime) -> Event {
        let printer = Printer {
            id: "prn_x1c_07".into(),
            name: "X1C-07".into(),
            model: "X1 Carbon".into(),
        };
        let started = now - time::Duration::seconds(3600);
        let job = |progress: f64, ended: bool, reason: Option<&str>| Job {
            id: "job_benchy_0412".into(),
            name: "benchy.3mf".into(),
            started_at: started,
            ended_at: ended.then_some(now),
            duration_s: ended.then_some(3600),
            progress,
            reason: reason.map(String::from),
        };
        let hms = |error: bool| Hms {
            code: if error {
                "0700_2000_0002_0001".into()
            } else {
                "0300_0100_0001_0007".into()
            },
            severity: event_type.info().severity,
            message: if error {
                "AMS slot 1 filament has run out.".into()
            } else {
                "The heatbed temperature is abnormal; the sensor may have an open circuit.".into()
            },
        };
        let order = |source: &str, reason: Option<&str>| Order {
            id: "ord_1042".into(),
            number: "#1042".into(),
            source: source.into(),
            items: 3,
            reason: reason.map(String::from),
        };
        let maintenance = |task: Option<&str>, hours: f64, note: Option<&str>| Maintenance {
            task: task.map(String::from),
            print_hours: hours,
            due_at_print_hours: task.map(|_| 200.0),
            note: note.map(String::from),
        };
        let mut event = Event {
            id,
            event_type,
            schema_version: PAYLOAD_SCHEMA_VERSION,
            occurred_at: now,
            test: true,
            printer: Some(printer),
            job: None,
            hms: None,
            order: None,
            maintenance: None,
            material: None,
        };
        match event_type.id() {
            "job.started" => event.job = Some(job(0.0, false, None)),
            "job.succeeded" => event.job = Some(job(1.0, true, None)),
            "job.cancelled" => {
                event.job = Some(job(0.41, true, Some("Cancelled from the farm dashboard")));
            }
            "job.failed" => {
                event.job = Some(job(
                    0.62,
                    true,
                    Some("Spaghetti detected: first-layer adhesion lost"),
                ));
            }
            "printer.hms_error" => event.hms = Some(hms(true)),
            "printer.hms_warning" => event.hms = Some(hms(false)),
            "order.created_manual" => {
                event.printer = None;
                event.order = Some(order("manual", None));
            }
            "order.created_retail" | "order.closed" => {
                event.printer = None;
                event.order = Some(order("retail", None));
            }
            "order.cancelled" => {
                event.printer = None;
                event.order = Some(order("retail", Some("The customer cancelled")));
            }
            "order.auto_printed" => {
                event.order = Some(order("retail", None));
                event.job = Some(job(0.0, false, None));
            }
            "maintenance.mode_on" => {
                event.maintenance = Some(maintenance(None, 187.5, Some("Nozzle swap")));
            }
            "maintenance.mode_off" => {
                event.maintenance = Some(maintenance(None, 0.0, Some("Nozzle swap done")));
            }
            "maintenance.due_soon" => {
                event.maintenance =
                    Some(maintenance(Some("Lubricate the carbon rods"), 190.0, None));
            }
            "maintenance.overdue" => {
                event.maintenance =
                    Some(maintenance(Some("Lubricate the carbon rods"), 212.0, None));
            }
            "material.usage_recorded" => {
                event.material = Some(Material {
                    filament: "PLA Basic".into(),
                    colour: Some("Jade White".into()),
                    grams: 41.7,
                    job_id: Some("job_benchy_0412".into()),
                });
            }
            // Printer state changes carry only the printer; an event added
            // to the catalogue without a sample gets that much too.
            _ if event_type.info().subject == Subject::Job => {
                event.job = Some(job(0.5, false, None));
            }
            _ => {}
        }
        event
    }
}

/// A fresh event id from `random` (24 characters of `[A-Za-z0-9]`).
pub fn event_id(random: &str) -> String {
    format!("evt_{random}")
}

/// RFC 3339 with milliseconds and `Z`, as the payload contract shows.
pub mod rfc3339_millis {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;

    pub fn format(t: &OffsetDateTime) -> String {
        let mut buf = [0u8; 24];
        if let Some(text) = write(t, &mut buf) {
            return text.to_string();
        }
        let utc = t.to_offset(time::UtcOffset::UTC);
        let fmt = time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        );
        utc.format(&fmt)
            .unwrap_or_else(|_| utc.unix_timestamp().to_string())
    }

    /// `2026-11-27T06:33:32.123Z` written into `buf` without allocating
    /// (every event and record carries several; a request body is built
    /// per delivery); `None` for a year outside 0–9999.
    fn write<'b>(t: &OffsetDateTime, buf: &'b mut [u8; 24]) -> Option<&'b str> {
        let utc = t.to_offset(time::UtcOffset::UTC);
        let year = u32::try_from(utc.year()).ok().filter(|y| *y <= 9999)?;
        let fields: [(u32, usize); 7] = [
            (year, 4),
            (u8::from(utc.month()).into(), 2),
            (utc.day().into(), 2),
            (utc.hour().into(), 2),
            (utc.minute().into(), 2),
            (utc.second().into(), 2),
            (utc.millisecond().into(), 3),
        ];
        let mut at = 0;
        for (i, (value, width)) in fields.into_iter().enumerate() {
            let mut v = value;
            for slot in buf[at..at + width].iter_mut().rev() {
                *slot = b'0' + (v % 10) as u8;
                v /= 10;
            }
            at += width;
            buf[at] = b"--T::.Z"[i];
            at += 1;
        }
        std::str::from_utf8(&buf[..at]).ok()
    }

    pub fn serialize<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0u8; 24];
        match write(t, &mut buf) {
            Some(text) => s.serialize_str(text),
            None => s.serialize_str(&format(t)),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
        let text = String::deserialize(d)?;
        OffsetDateTime::parse(&text, &Rfc3339).map_err(serde::de::Error::custom)
    }

    pub mod option {
        use super::*;

        pub fn serialize<S: Serializer>(
            t: &Option<OffsetDateTime>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => super::serialize(t, s),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<OffsetDateTime>, D::Error> {
            Option::<String>::deserialize(d)?
                .map(|text| {
                    OffsetDateTime::parse(&text, &Rfc3339).map_err(serde::de::Error::custom)
                })
                .transpose()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(1_795_719_000_123_000_000).unwrap()
    }

    #[test]
    fn job_events_carry_a_job_and_hms_events_an_hms() {
        for e in EventType::all() {
            let ev = Event::sample(e, "evt_x".into(), now());
            let json: serde_json::Value = serde_json::from_slice(&ev.to_json()).unwrap();
            assert_eq!(json["type"], e.id());
            assert_eq!(json["schema_version"], 1);
            assert_eq!(json["test"], true);
            assert_eq!(
                json.get("printer").is_some(),
                !matches!(
                    e.id(),
                    "order.created_manual"
                        | "order.created_retail"
                        | "order.cancelled"
                        | "order.closed"
                ),
                "{e}"
            );
            assert_eq!(
                json.get("job").is_some(),
                e.id().starts_with("job.") || e.id() == "order.auto_printed",
                "{e}"
            );
            for (section, prefix) in [
                ("order", "order."),
                ("maintenance", "maintenance."),
                ("material", "material."),
            ] {
                assert_eq!(
                    json.get(section).is_some(),
                    e.id().starts_with(prefix),
                    "{e}"
                );
            }
            assert_eq!(
                json.get("hms").is_some(),
                e.id().starts_with("printer.hms_"),
                "{e}"
            );
        }
    }

    #[test]
    fn times_are_rfc3339_utc_with_milliseconds_and_round_trip() {
        let ev = Event::sample(
            EventType::from_id("job.failed").unwrap(),
            "evt_x".into(),
            now(),
        );
        let json: serde_json::Value = serde_json::from_slice(&ev.to_json()).unwrap();
        assert_eq!(json["occurred_at"], "2026-11-26T18:50:00.123Z");
        assert_eq!(json["job"]["duration_s"], 3600);
        let back: Event = serde_json::from_slice(&ev.to_json()).unwrap();
        assert_eq!(back, ev);
    }

    #[test]
    fn times_are_written_as_the_time_crate_writes_them() {
        let fmt = time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        );
        let offset = time::UtcOffset::from_hms(5, 30, 0).unwrap();
        for t in [
            OffsetDateTime::UNIX_EPOCH,
            now(),
            now().to_offset(offset),
            time::macros::datetime!(0001-01-01 00:00:00.0009 UTC),
            time::macros::datetime!(9999-12-31 23:59:59.999999 UTC),
        ] {
            let expected = t.to_offset(time::UtcOffset::UTC).format(&fmt).unwrap();
            assert_eq!(rfc3339_millis::format(&t), expected);
        }
    }
}
