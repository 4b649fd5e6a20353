//! One Bambu report as the rules read it. Of the `print` object only the
//! fields the rules use are kept, each as the printer sent it (a P1 may
//! send a number as a string); the rest (temperatures, fans, Wi-Fi, AMS,
//! lights…) is skipped while parsing, never built. A farm's printers each
//! send a report a second or so, which makes this `watch`'s hot path.

use std::fmt;

use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;

/// One message from `device/<serial>/report`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BambuReport {
    /// Its `print` object, when it has one (answers to other requests,
    /// like `info` or `system`, carry none).
    pub print: Option<PrintFields>,
}

/// What the rules read of a `print` object. A field is `None` when the
/// report leaves it out; sent as `null` it is `Some(Value::Null)`, which
/// replaces the value kept.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct PrintFields {
    #[serde(deserialize_with = "sent")]
    pub gcode_state: Option<Value>,
    #[serde(deserialize_with = "sent")]
    pub print_error: Option<Value>,
    #[serde(deserialize_with = "sent")]
    pub hms: Option<Value>,
    #[serde(deserialize_with = "sent")]
    pub task_id: Option<Value>,
    #[serde(deserialize_with = "sent")]
    pub subtask_id: Option<Value>,
    #[serde(deserialize_with = "sent")]
    pub subtask_name: Option<Value>,
    #[serde(deserialize_with = "sent")]
    pub gcode_file: Option<Value>,
    #[serde(deserialize_with = "sent")]
    pub gcode_start_time: Option<Value>,
    #[serde(deserialize_with = "sent")]
    pub mc_percent: Option<Value>,
    #[serde(deserialize_with = "sent")]
    pub mc_remaining_time: Option<Value>,
}

impl BambuReport {
    /// Reads a report's bytes; `None` when they are not JSON (then it is
    /// no report at all).
    pub fn parse(bytes: &[u8]) -> Option<BambuReport> {
        serde_json::from_slice(bytes).ok().or_else(|| {
            // The shapes the quick reader refuses (a report that is not an
            // object, a `print` that is not one, a key sent twice) are read
            // as any JSON, as they always were.
            let json: Value = serde_json::from_slice(bytes).ok()?;
            Some(BambuReport::from_value(&json))
        })
    }

    /// The report in a JSON value already parsed.
    pub fn from_value(json: &Value) -> BambuReport {
        BambuReport {
            print: json
                .get("print")
                .filter(|print| print.is_object())
                // An object always reads: every field takes any value.
                .and_then(|print| PrintFields::deserialize(print).ok()),
        }
    }

    /// Whether it carries the printer's state (as the answer to `pushall`
    /// does).
    pub fn carries_state(&self) -> bool {
        self.print.as_ref().is_some_and(|p| p.gcode_state.is_some())
    }
}

impl PrintFields {
    /// Takes what `delta` carries; the rest stays as it was (P1 and A1
    /// send only what changed).
    pub fn merge(&mut self, delta: PrintFields) {
        fn take(kept: &mut Option<Value>, sent: Option<Value>) {
            if sent.is_some() {
                *kept = sent;
            }
        }
        take(&mut self.gcode_state, delta.gcode_state);
        take(&mut self.print_error, delta.print_error);
        take(&mut self.hms, delta.hms);
        take(&mut self.task_id, delta.task_id);
        take(&mut self.subtask_id, delta.subtask_id);
        take(&mut self.subtask_name, delta.subtask_name);
        take(&mut self.gcode_file, delta.gcode_file);
        take(&mut self.gcode_start_time, delta.gcode_start_time);
        take(&mut self.mc_percent, delta.mc_percent);
        take(&mut self.mc_remaining_time, delta.mc_remaining_time);
    }
}

/// A field that is there, `null` included.
fn sent<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

impl<'de> Deserialize<'de> for BambuReport {
    /// Only an object is a report here, and only its `print` is read (the
    /// last one, should it come twice).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Report;
        impl<'de> Visitor<'de> for Report {
            type Value = BambuReport;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<BambuReport, A::Error> {
                #[derive(Deserialize)]
                #[serde(field_identifier, rename_all = "lowercase")]
                enum Key {
                    Print,
                    #[serde(other)]
                    Other,
                }
                let mut print = None;
                while let Some(key) = map.next_key()? {
                    match key {
                        Key::Print => print = map.next_value::<Option<PrintFields>>()?,
                        Key::Other => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(BambuReport { print })
            }
        }
        d.deserialize_map(Report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn both(text: &str) -> (Option<BambuReport>, Option<BambuReport>) {
        let slow = serde_json::from_str::<Value>(text)
            .ok()
            .map(|v| BambuReport::from_value(&v));
        (BambuReport::parse(text.as_bytes()), slow)
    }

    #[test]
    fn only_the_fields_the_rules_read_are_kept_as_sent() {
        let text = r#"{"print":{"command":"push_status","nozzle_temper":24.5,
            "gcode_state":"RUNNING","mc_percent":"42","hms":[{"attr":1,"code":2}],
            "task_id":null,"lights_report":[{"node":"chamber_light","mode":"on"}]},
            "bench":{"sent_ns":1}}"#;
        let (quick, slow) = both(text);
        let print = quick.clone().unwrap().print.unwrap();
        assert_eq!(print.gcode_state, Some(json!("RUNNING")));
        assert_eq!(print.mc_percent, Some(json!("42")));
        assert_eq!(print.hms, Some(json!([{"attr":1,"code":2}])));
        // Sent as null: there, and it replaces what was kept.
        assert_eq!(print.task_id, Some(Value::Null));
        assert_eq!(print.subtask_name, None);
        assert_eq!(quick, slow);
    }

    #[test]
    fn odd_shapes_read_as_they_did_from_any_json() {
        for text in [
            r#"{"info":{"command":"get_version"}}"#,
            r#"{"print":"not an object"}"#,
            r#"{"print":null}"#,
            r#"[{"gcode_state":"RUNNING"}]"#,
            r#"42"#,
            r#"{"print":{"gcode_state":"IDLE"},"print":{"gcode_state":"RUNNING"}}"#,
            r#"{"print":{"gcode_state":"IDLE","gcode_state":"FINISH"}}"#,
        ] {
            let (quick, slow) = both(text);
            assert_eq!(quick, slow, "{text}");
            assert!(quick.is_some(), "{text}");
        }
        let (quick, _) =
            both(r#"{"print":{"gcode_state":"IDLE"},"print":{"gcode_state":"RUNNING"}}"#);
        assert!(quick.unwrap().carries_state());
        assert_eq!(BambuReport::parse(b"not json"), None);
        assert_eq!(BambuReport::parse(br#"{"print":{}} trailing"#), None);
    }

    #[test]
    fn a_delta_replaces_only_what_it_carries() {
        let mut kept = BambuReport::parse(
            br#"{"print":{"gcode_state":"RUNNING","mc_percent":10,"task_id":"7"}}"#,
        )
        .unwrap()
        .print
        .unwrap();
        let delta = BambuReport::parse(br#"{"print":{"mc_percent":"11","task_id":null}}"#)
            .unwrap()
            .print
            .unwrap();
        kept.merge(delta);
        assert_eq!(kept.gcode_state, Some(json!("RUNNING")));
        assert_eq!(kept.mc_percent, Some(json!("11")));
        assert_eq!(kept.task_id, Some(Value::Null));
    }
}
