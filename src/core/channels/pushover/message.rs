//! The notification farmhook posts to Pushover's `messages.json`: a title,
//! a plain-text message, a priority by severity, the newest event's time
//! and a sound, always within Pushover's limits.
//!
//! Names, reasons and HMS messages come from printers and users, so any of
//! them may be empty, huge or full of markup. The message is sent as plain
//! text (farmhook never sets `html=1`), so nothing in it can turn into
//! markup or a link with other words; control characters are replaced by
//! spaces, and every text is cut here so a long job name can never turn a
//! delivery into a 400.

use serde_json::{Value, json};

use super::keys::{AppToken, UserKey};
use crate::core::channels::event_text::{
    EventText, PLACEHOLDER, is_blank, severity_emoji, truncate_chars,
};
use crate::core::events::Severity;
use crate::core::payload::Event;
use crate::core::summary::Summary;

/// Events told in one notification; the engine batches a burst into
/// messages of at most this many.
pub const MAX_EVENTS_PER_MESSAGE: usize = 10;

// Pushover's limits, in characters (Unicode code points) as its API
// documentation counts them.

/// Longest title.
pub const TITLE_MAX_CHARS: usize = 250;
/// Longest message.
pub const MESSAGE_MAX_CHARS: usize = 1024;

/// The priority of a notification with an error in it: "high", shown in
/// red and past the user's quiet hours. Emergency (2) is never used: it
/// repeats until acknowledged and needs `retry` and `expire`.
pub const PRIORITY_ERROR: i8 = 1;
/// The priority of every other notification: "normal".
pub const PRIORITY_NORMAL: i8 = 0;

/// The sound of a notification with an error in it: Pushover's built-in
/// "falling", a short alarm-like sound distinct from the default, so a
/// failed print is told apart without looking.
pub const SOUND_ERROR: &str = "falling";
/// The sound of every other notification: Pushover's own default sound,
/// "pushover", so routine news sounds like routine news.
pub const SOUND_NORMAL: &str = "pushover";

/// Builds the `messages.json` body (JSON; Pushover accepts JSON posts) for
/// up to [`MAX_EVENTS_PER_MESSAGE`] events (extra events are left out: the
/// caller batches), with the summary of events counted instead of sent as
/// the message's last line.
///
/// One event gets its title, its why and its facts; several get a title
/// like `❌ 3 events · 2 errors` and one line per event. With neither events
/// nor summary the message is a placeholder: send nothing instead.
pub fn message(
    events: &[Event],
    summary: Option<&Summary>,
    token: &AppToken,
    user: &UserKey,
) -> Value {
    let events = &events[..events.len().min(MAX_EVENTS_PER_MESSAGE)];
    let summary = summary.filter(|s| !s.is_empty());
    let texts: Vec<EventText> = events.iter().map(EventText::for_event).collect();
    let any_error = texts.iter().any(|t| t.severity == Severity::Error);

    // One event keeps its own title; with a summary the title counts all.
    let title = match (texts.as_slice(), summary) {
        ([one], None) => one_line(&one.title()),
        _ => batch_title(&texts, summary),
    };
    let mut parts = match texts.as_slice() {
        [one] => one_event_parts(one),
        _ => texts.iter().map(event_line).collect(),
    };
    if let Some(summary) = summary {
        parts.push(format!("… {}", summary.text()));
    }
    let mut text = fit_parts(parts, MESSAGE_MAX_CHARS);
    if is_blank(&text) {
        // Pushover refuses a blank message.
        text = PLACEHOLDER.to_string();
    }

    let mut body = json!({
        "token": token.expose_token(),
        "user": user.expose_key(),
        "title": truncate_chars(&title, TITLE_MAX_CHARS),
        "message": text,
        "priority": if any_error { PRIORITY_ERROR } else { PRIORITY_NORMAL },
        "sound": if any_error { SOUND_ERROR } else { SOUND_NORMAL },
    });
    if let Some(newest) = events.iter().map(|e| e.occurred_at).max() {
        body["timestamp"] = json!(newest.unix_timestamp());
    }
    body
}

/// `[TEST] ❌ 3 events · 2 errors`: what a batch holds, worst first.
fn batch_title(texts: &[EventText], summary: Option<&Summary>) -> String {
    let count = texts.len() as u64 + summary.map_or(0, Summary::total);
    let errors = texts
        .iter()
        .filter(|t| t.severity == Severity::Error)
        .count();
    let worst = texts
        .iter()
        .map(|t| t.severity)
        .max_by_key(|s| severity_rank(*s))
        .unwrap_or(Severity::Info);
    let all_tests = !texts.is_empty() && texts.iter().all(|t| t.test);
    let mut title = format!(
        "{}{} {count} event{}",
        if all_tests { "[TEST] " } else { "" },
        severity_emoji(worst),
        if count == 1 { "" } else { "s" },
    );
    match errors {
        0 => {}
        1 => title.push_str(" · 1 error"),
        n => title.push_str(&format!(" · {n} errors")),
    }
    title
}

fn severity_rank(severity: Severity) -> u8 {
    match severity {
        Severity::Info => 0,
        Severity::Success => 1,
        Severity::Warning => 2,
        Severity::Error => 3,
    }
}

/// One event alone: why it happened, then its facts one per line.
fn one_event_parts(text: &EventText) -> Vec<String> {
    let mut parts = Vec::new();
    if let Some(description) = &text.description {
        parts.push(plain(description));
    }
    parts.extend(
        text.fields
            .iter()
            .map(|f| one_line(&format!("{}: {}", f.name, f.value))),
    );
    parts
}

/// One event of several, on one line: `❌ Job failed · Voron-02 — why`.
fn event_line(text: &EventText) -> String {
    match &text.description {
        Some(why) => one_line(&format!("{} — {why}", text.title())),
        None => one_line(&text.title()),
    }
}

/// `text` without control characters: line breaks are kept (a message may
/// have several lines), every other control character becomes a space.
fn plain(text: &str) -> String {
    text.replace("\r\n", "\n")
        .chars()
        .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
        .collect()
}

/// `text` on one line: every control character, line breaks included,
/// becomes a space.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The parts joined by line breaks in at most `budget` characters. When
/// they are too long together, every part longer than one common length is
/// cut to that length (the largest that fits), so the short facts stay whole
/// and every event keeps some of its story rather than the last ones losing
/// all of it.
fn fit_parts(mut parts: Vec<String>, budget: usize) -> String {
    // Keep one character per part at least, with its line break.
    let max_parts = budget.div_ceil(2);
    if parts.len() > max_parts {
        parts.truncate(max_parts);
    }
    let separators = parts.len().saturating_sub(1);
    let room = budget.saturating_sub(separators);
    let lengths: Vec<usize> = parts.iter().map(|p| p.chars().count()).collect();
    let total_with_cap = |cap: usize| lengths.iter().map(|&len| len.min(cap)).sum::<usize>();
    let longest = lengths.iter().copied().max().unwrap_or(0);
    if total_with_cap(longest) > room {
        // Binary search for the largest cap that fits: 1 always does (at
        // most `room` parts of one character), `longest` does not.
        let (mut fits, mut too_long) = (1, longest);
        while too_long - fits > 1 {
            let middle = fits + (too_long - fits) / 2;
            if total_with_cap(middle) <= room {
                fits = middle;
            } else {
                too_long = middle;
            }
        }
        for part in &mut parts {
            *part = truncate_chars(part, fits);
        }
    }
    parts.join("\n")
}

#[cfg(test)]
mod tests {
    use time::OffsetDateTime;
    use time::macros::datetime;

    use super::*;
    use crate::core::events::EventType;

    const TOKEN: &str = "azGDORePK8gMaC0QOYAMyEEuzJnyUi";
    const USER: &str = "uQiRzpo4DXghDmr9QzzfQu27cmVRsG";

    fn now() -> OffsetDateTime {
        datetime!(2026-11-26 18:50:00 UTC)
    }

    fn sample(kind: &str) -> Event {
        Event::sample(EventType::from_id(kind).unwrap(), "evt_1".into(), now())
    }

    fn build(events: &[Event], summary: Option<&Summary>) -> Value {
        message(
            events,
            summary,
            &AppToken::parse(TOKEN).unwrap(),
            &UserKey::parse(USER).unwrap(),
        )
    }

    fn text<'a>(body: &'a Value, name: &str) -> &'a str {
        body[name]
            .as_str()
            .unwrap_or_else(|| panic!("{name} is a string"))
    }

    /// Every way a body breaks Pushover's rules for `messages.json`.
    fn check_limits(body: &Value) {
        let title = text(body, "title");
        let message = text(body, "message");
        assert!(title.chars().count() <= TITLE_MAX_CHARS, "title: {title}");
        assert!(
            message.chars().count() <= MESSAGE_MAX_CHARS,
            "message has {} characters",
            message.chars().count()
        );
        assert!(!is_blank(message), "blank message");
        assert!(body.get("html").is_none(), "html must not be set");
        let priority = body["priority"].as_i64().unwrap();
        assert!(priority == 0 || priority == 1, "priority {priority}");
        assert_eq!(text(body, "token"), TOKEN);
        assert_eq!(text(body, "user"), USER);
        assert!(!title.chars().any(char::is_control), "{title:?}");
        assert!(
            !message.chars().any(|c| c.is_control() && c != '\n'),
            "{message:?}"
        );
    }

    #[test]
    fn every_event_type_renders_within_the_limits() {
        for event_type in EventType::all() {
            let mut event = Event::sample(event_type, "evt_1".into(), now());
            let body = build(std::slice::from_ref(&event), None);
            check_limits(&body);
            let title = text(&body, "title");
            assert!(title.starts_with("[TEST] ") == event.test, "{title}");
            assert!(title.contains(event_type.label()), "{title}");
            assert_eq!(body["timestamp"], json!(now().unix_timestamp()));
            let error = event_type.info().severity == Severity::Error;
            assert_eq!(body["priority"], json!(if error { 1 } else { 0 }));
            assert_eq!(
                body["sound"],
                json!(if error { "falling" } else { "pushover" })
            );
            event.test = true;
            let body = build(&[event], None);
            assert!(text(&body, "title").starts_with("[TEST] "));
        }
    }

    #[test]
    fn one_event_tells_its_why_and_its_facts() {
        let body = build(&[sample("job.failed")], None);
        assert!(text(&body, "title").contains("❌ Job failed · X1C-07"));
        let message = text(&body, "message");
        assert!(message.contains("Printer: X1C-07"), "{message}");
        assert!(message.contains("Job: benchy.3mf"), "{message}");
    }

    #[test]
    fn several_events_get_a_count_title_and_a_line_each_with_the_summary_last() {
        let mut events = vec![
            sample("job.failed"),
            sample("job.succeeded"),
            sample("printer.hms_error"),
        ];
        events[1].occurred_at = now() + time::Duration::seconds(5);
        // Test deliveries only: the title says so once.
        let body = build(&events, None);
        assert_eq!(text(&body, "title"), "[TEST] ❌ 3 events · 2 errors");
        for event in &mut events {
            event.test = false;
        }
        let mut summary = Summary::default();
        for _ in 0..37 {
            summary.add(EventType::from_id("job.failed").unwrap());
        }
        let body = build(&events, Some(&summary));
        check_limits(&body);
        assert_eq!(text(&body, "title"), "❌ 40 events · 2 errors");
        let message = text(&body, "message");
        let lines: Vec<&str> = message.lines().collect();
        assert_eq!(lines.len(), 4, "{message}");
        assert!(lines[0].starts_with("❌ Job failed · X1C-07"), "{message}");
        assert!(lines[1].starts_with("✅ Job succeeded"), "{message}");
        assert_eq!(lines[3], "… and 37 more events (job.failed ×37)");
        assert_eq!(body["priority"], 1);
        assert_eq!(
            body["timestamp"],
            json!((now() + time::Duration::seconds(5)).unix_timestamp())
        );

        let mut events = [sample("job.started"), sample("job.succeeded")];
        events[0].test = false;
        let body = build(&events, None);
        assert_eq!(text(&body, "title"), "✅ 2 events");
        assert_eq!(body["priority"], 0);
        assert_eq!(body["sound"], "pushover");
    }

    #[test]
    fn one_event_with_a_summary_keeps_its_facts_under_a_count_title() {
        let mut summary = Summary::default();
        summary.add(EventType::from_id("job.failed").unwrap());
        let body = build(&[sample("job.failed")], Some(&summary));
        check_limits(&body);
        assert_eq!(text(&body, "title"), "[TEST] ❌ 2 events · 1 error");
        let message = text(&body, "message");
        assert!(message.contains("Printer: X1C-07"), "{message}");
        assert!(
            message.ends_with("… and 1 more event (job.failed ×1)"),
            "{message}"
        );
    }

    #[test]
    fn more_than_ten_events_are_left_to_the_next_message() {
        let events: Vec<Event> = (0..15).map(|_| sample("job.started")).collect();
        let body = build(&events, None);
        assert_eq!(text(&body, "message").lines().count(), 10);
        assert!(text(&body, "title").contains("10 events"));
    }

    #[test]
    fn huge_markup_and_control_text_is_cut_and_stays_plain() {
        let mut event = sample("job.failed");
        event.printer.as_mut().unwrap().name = format!("<b>{}</b>\r\n\u{7}", "🦀".repeat(5000));
        let job = event.job.as_mut().unwrap();
        job.name = "<a href=\"https://evil.example\">click</a>".repeat(500);
        job.reason = Some(format!("line one\nline\ttwo {}", "r".repeat(50_000)));
        let body = build(std::slice::from_ref(&event), None);
        check_limits(&body);
        let title = text(&body, "title");
        assert!(title.ends_with('…') && title.contains("<b>🦀"), "{title}");
        let message = text(&body, "message");
        assert!(message.starts_with("line one\nline two rrr"), "{message}");
        assert!(message.contains("Progress: 62%"), "{message}");
        assert!(message.contains("Printer: <b>🦀"), "{message}");

        let events = vec![event; 12];
        let body = build(&events, Some(&Summary::default()));
        check_limits(&body);
        assert_eq!(text(&body, "message").lines().count(), 10);
    }

    #[test]
    fn a_summary_alone_or_nothing_still_makes_a_valid_body() {
        let mut summary = Summary::default();
        summary.add(EventType::from_id("printer.offline").unwrap());
        let body = build(&[], Some(&summary));
        check_limits(&body);
        assert_eq!(text(&body, "title"), "ℹ️ 1 event");
        assert_eq!(
            text(&body, "message"),
            "… and 1 more event (printer.offline ×1)"
        );
        assert!(body.get("timestamp").is_none());
        check_limits(&build(&[], None));
    }

    #[test]
    fn fitting_keeps_short_parts_whole_and_shares_the_rest() {
        let parts = vec!["a".repeat(2000), "short".into(), "b".repeat(2000)];
        let fitted = fit_parts(parts, 100);
        // Cut evenly, the two long lines leave at most one character unused.
        assert!((99..=100).contains(&fitted.chars().count()), "{fitted}");
        let lines: Vec<&str> = fitted.lines().collect();
        assert_eq!(lines[1], "short");
        assert!(lines[0].ends_with('…') && lines[2].ends_with('…'));
        let many = fit_parts(vec!["xyz".to_string(); 100], 10);
        assert!(many.chars().count() <= 10, "{many}");
    }

    proptest::proptest! {
        #[test]
        fn any_names_in_any_number_of_events_stay_within_the_limits(
            names in proptest::collection::vec("\\PC{0,300}", 1..13),
            repeat in 1usize..40,
        ) {
            let events: Vec<Event> = names
                .iter()
                .map(|name| {
                    let mut event = sample("job.failed");
                    event.printer.as_mut().unwrap().name = name.repeat(repeat);
                    event.job.as_mut().unwrap().reason = Some(name.repeat(repeat * 3));
                    event
                })
                .collect();
            check_limits(&build(&events, None));
        }
    }
}
