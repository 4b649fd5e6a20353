//! The payload schema in `assets/` against the serializer: every event farmhook
//! can send must validate, and the schema must be strict enough that a body
//! the contract does not allow (or a field the serializer grew without the
//! schema) fails.

use farmhook::core::events::{EventType, Subject};
use farmhook::core::payload::Event;
use serde_json::{Value, json};
use time::OffsetDateTime;

const SCHEMA: &str = include_str!("../../assets/payload.schema.json");

fn schema() -> Value {
    serde_json::from_str(SCHEMA).expect("assets/payload.schema.json is JSON")
}

fn validator() -> jsonschema::Validator {
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&schema())
        .expect("the payload schema compiles")
}

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(1_795_719_000_123_000_000).unwrap()
}

fn body(id: &str) -> Value {
    let event = Event::sample(
        EventType::from_id(id).unwrap(),
        "evt_4Jc9T2mQx7LpA0bZ5nKd8Rw1".into(),
        now(),
    );
    serde_json::from_slice(&event.to_json()).unwrap()
}

#[track_caller]
fn assert_valid(validator: &jsonschema::Validator, instance: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{instance}\n{}", errors.join("\n"));
}

#[track_caller]
fn assert_invalid(validator: &jsonschema::Validator, instance: &Value, why: &str) {
    assert!(
        !validator.is_valid(instance),
        "accepted a body with {why}: {instance}"
    );
}

#[test]
fn the_schema_is_valid_draft_2020_12() {
    let schema = schema();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    if let Err(e) = jsonschema::draft202012::meta::validate(&schema) {
        panic!("the schema breaks the draft 2020-12 meta-schema: {e}");
    }
}

#[test]
fn every_sample_event_validates() {
    let validator = validator();
    for event_type in EventType::all() {
        let mut event = Event::sample(event_type, "evt_x".into(), now());
        for test in [true, false] {
            event.test = test;
            let instance: Value = serde_json::from_slice(&event.to_json()).unwrap();
            assert_valid(&validator, &instance);
        }
    }
}

#[test]
fn the_type_enum_is_the_event_catalogue() {
    let schema = schema();
    let in_schema: Vec<&str> = schema["properties"]["type"]["enum"]
        .as_array()
        .expect("properties.type.enum is a list")
        .iter()
        .map(|id| id.as_str().expect("event ids are strings"))
        .collect();
    let in_catalogue: Vec<&str> = EventType::all().map(EventType::id).collect();
    assert_eq!(
        in_schema, in_catalogue,
        "assets/payload.schema.json lists other events than the catalogue"
    );
}

/// The section each event type carries besides `printer`, and which it may
/// not carry.
const SECTIONS: &[(&str, &str)] = &[
    ("job", "job.failed"),
    ("hms", "printer.hms_error"),
    ("order", "order.created_retail"),
    ("maintenance", "maintenance.overdue"),
    ("material", "material.usage_recorded"),
];

#[test]
fn every_section_follows_the_event_type() {
    let validator = validator();
    for event_type in EventType::all() {
        let id = event_type.id();
        let complete = body(id);
        assert_valid(&validator, &complete);
        let own: Vec<&str> = match event_type.info().subject {
            Subject::Job => vec!["job"],
            Subject::Hms => vec!["hms"],
            Subject::Printer => vec![],
            Subject::Order if id == "order.auto_printed" => vec!["order", "job"],
            Subject::Order => vec!["order"],
            Subject::Maintenance => vec!["maintenance"],
            Subject::Material => vec!["material"],
        };
        for &(section, donor) in SECTIONS {
            if own.contains(&section) {
                let mut without = complete.clone();
                without.as_object_mut().unwrap().remove(section);
                assert_invalid(&validator, &without, &format!("{id} without {section}"));
            } else {
                let mut with = complete.clone();
                with[section] = body(donor)[section].clone();
                assert_invalid(&validator, &with, &format!("{id} with {section}"));
            }
        }
        // Only orders no printer has taken may come without a printer.
        let mut without_printer = complete.clone();
        without_printer.as_object_mut().unwrap().remove("printer");
        let may_lack_printer = matches!(
            id,
            "order.created_manual" | "order.created_retail" | "order.cancelled" | "order.closed"
        );
        assert_eq!(
            validator.is_valid(&without_printer),
            may_lack_printer,
            "{id} without a printer"
        );
    }
}

#[test]
fn hand_broken_bodies_fail() {
    let validator = validator();
    let failed = body("job.failed");
    let hms = body("printer.hms_error");
    let online = body("printer.online");
    assert_valid(&validator, &failed);

    let mut cases: Vec<(&str, Value)> = Vec::new();
    let mut case = |why: &'static str, base: &Value, change: &dyn Fn(&mut Value)| {
        let mut broken = base.clone();
        change(&mut broken);
        cases.push((why, broken));
    };
    case("job missing on job.failed", &failed, &|b| {
        b.as_object_mut().unwrap().remove("job");
    });
    case("hms on printer.online", &online, &|b| {
        b["hms"] = hms["hms"].clone();
    });
    case("schema_version 2", &failed, &|b| {
        b["schema_version"] = json!(2)
    });
    case("an unknown top-level field", &failed, &|b| {
        b["priority"] = json!("high")
    });
    case("type job.exploded", &failed, &|b| {
        b["type"] = json!("job.exploded")
    });
    case("an id without evt_", &failed, &|b| {
        b["id"] = json!("4Jc9T2mQx7")
    });
    case("no printer", &online, &|b| {
        b.as_object_mut().unwrap().remove("printer");
    });
    case("an unknown printer field", &online, &|b| {
        b["printer"]["serial"] = json!("01S00C")
    });
    case("an unknown job field", &failed, &|b| {
        b["job"]["layer"] = json!(12)
    });
    case("an unknown hms field", &hms, &|b| {
        b["hms"]["url"] = json!("x")
    });
    case("a printer without a name", &online, &|b| {
        b["printer"].as_object_mut().unwrap().remove("name");
    });
    case("a job without started_at", &failed, &|b| {
        b["job"].as_object_mut().unwrap().remove("started_at");
    });
    case("progress above 1", &failed, &|b| {
        b["job"]["progress"] = json!(1.5)
    });
    case("a negative duration", &failed, &|b| {
        b["job"]["duration_s"] = json!(-1)
    });
    case("a fractional duration", &failed, &|b| {
        b["job"]["duration_s"] = json!(1.5)
    });
    case("a lowercase HMS code", &hms, &|b| {
        b["hms"]["code"] = json!("0700_2000_0002_000a")
    });
    case("an HMS severity of fatal", &hms, &|b| {
        b["hms"]["severity"] = json!("fatal")
    });
    case("a time that is not a date", &failed, &|b| {
        b["occurred_at"] = json!("yesterday")
    });
    case("a time in another offset", &failed, &|b| {
        b["occurred_at"] = json!("2026-11-26T19:50:00.123+01:00")
    });
    case("test as a string", &failed, &|b| b["test"] = json!("true"));
    case("a null reason", &failed, &|b| {
        b["job"]["reason"] = Value::Null
    });
    let order = body("order.cancelled");
    let overdue = body("maintenance.overdue");
    let material = body("material.usage_recorded");
    case("an order without a number", &order, &|b| {
        b["order"].as_object_mut().unwrap().remove("number");
    });
    case("an order with a fractional item count", &order, &|b| {
        b["order"]["items"] = json!(2.5)
    });
    case("an unknown order field", &order, &|b| {
        b["order"]["customer_email"] = json!("a@b.c")
    });
    case("negative print hours", &overdue, &|b| {
        b["maintenance"]["print_hours"] = json!(-3)
    });
    case("material without grams", &material, &|b| {
        b["material"].as_object_mut().unwrap().remove("grams");
    });
    case("grams as text", &material, &|b| {
        b["material"]["grams"] = json!("41 g")
    });

    for (why, broken) in &cases {
        assert_invalid(&validator, broken, why);
    }
}
