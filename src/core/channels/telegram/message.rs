//! The `sendMessage` body farmhook posts to a Telegram chat: the events of a
//! batch in HTML (a bold title, the why, the facts as `Name: value` lines),
//! always within Telegram's 4096-character limit and never mentioning anyone.
//!
//! Names, reasons and HMS messages come from printers and users, so they are
//! escaped for Telegram's HTML (`&`, `<`, `>`) and an `@` in them is kept
//! from becoming a mention. Texts are cut before escaping, so a cut never
//! splits an entity or a tag.

use serde_json::{Value, json};

use super::super::event_text::{EventText, truncate_chars};
use super::chat_id::ChatId;
use crate::core::payload::Event;
use crate::core::summary::Summary;

/// Events told in one message; the engine batches a burst into messages of
/// this many.
pub const MAX_EVENTS_PER_MESSAGE: usize = 10;

/// Longest message text Telegram accepts, after entity parsing. Telegram
/// counts UTF-16 code units; farmhook keeps the HTML *source* within this
/// many UTF-16 code units, which is never less than the visible text in
/// either code units or characters.
pub const TEXT_MAX_UTF16: usize = 4096;

/// Keeps a `@name` in user text from becoming a mention (which would notify
/// that user): a word joiner after the `@` is invisible but ends the name.
const MENTION_BREAK: &str = "@\u{2060}";

/// The `sendMessage` JSON body for up to [`MAX_EVENTS_PER_MESSAGE`] events
/// (extra events are ignored; the caller batches), with the summary of
/// events counted instead of sent as the last line when given.
///
/// With no events and no summary the text is empty, which Telegram refuses:
/// send nothing instead.
pub fn message(events: &[Event], summary: Option<&Summary>, chat: &ChatId) -> Value {
    json!({
        "chat_id": chat.to_json(),
        "text": message_text(events, summary),
        "parse_mode": "HTML",
        "link_preview_options": {"is_disabled": true},
    })
}

/// The HTML text of [`message`]: every user text cut to one common length,
/// the largest at which the whole source fits [`TEXT_MAX_UTF16`].
pub fn message_text(events: &[Event], summary: Option<&Summary>) -> String {
    let texts: Vec<EventText> = events
        .iter()
        .take(MAX_EVENTS_PER_MESSAGE)
        .map(EventText::for_event)
        .collect();
    let summary = summary.filter(|s| !s.is_empty()).map(Summary::text);
    let render = |cap: usize| render(&texts, summary.as_deref(), cap);
    let whole = render(usize::MAX);
    if utf16_len(&whole) <= TEXT_MAX_UTF16 {
        return whole;
    }
    // The length of the rendering only grows with the cap (a longer cut
    // keeps more of each text), so a binary search finds the largest cap
    // that fits. A cap of 1 always fits: ten events of about fifteen texts,
    // each at most six code units once escaped, and fixed words of a few
    // hundred.
    let longest = texts
        .iter()
        .flat_map(user_texts)
        .map(|t| t.chars().count())
        .max()
        .unwrap_or(1);
    let (mut fits, mut too_long) = (1, longest);
    while too_long - fits > 1 {
        let middle = fits + (too_long - fits) / 2;
        if utf16_len(&render(middle)) <= TEXT_MAX_UTF16 {
            fits = middle;
        } else {
            too_long = middle;
        }
    }
    render(fits)
}

/// Every text of an event that came from a printer or a user.
fn user_texts(text: &EventText) -> impl Iterator<Item = &str> {
    std::iter::once(text.headline.as_str())
        .chain(text.description.as_deref())
        .chain(text.fields.iter().map(|f| f.value.as_str()))
}

/// The message with every user text cut to `cap` characters.
fn render(texts: &[EventText], summary: Option<&str>, cap: usize) -> String {
    let cut = |text: &str| escape(&truncate_chars(text, cap));
    let mut blocks: Vec<String> = texts
        .iter()
        .map(|text| {
            let mut title = text.title();
            // The title is the prefix ([TEST], emoji) and the headline; cut
            // only the headline, so the marks stay whole.
            if let Some(prefix) = title.strip_suffix(text.headline.as_str()) {
                title = format!("{}{}", escape(prefix), cut(&text.headline));
            } else {
                title = cut(&title);
            }
            let mut lines = vec![format!("<b>{title}</b>")];
            if let Some(description) = &text.description {
                lines.push(cut(description));
            }
            for field in &text.fields {
                lines.push(format!("{}: {}", escape(field.name), cut(&field.value)));
            }
            lines.join("\n")
        })
        .collect();
    // The summary is farmhook's own words, a few hundred characters at
    // most (one count per event type): it stays whole.
    if let Some(summary) = summary {
        blocks.push(format!("<i>… {}</i>", escape(summary)));
    }
    blocks.join("\n\n")
}

/// `text` safe inside Telegram HTML text and attribute values: `&`, `<`,
/// `>` and `"` as entities, and no `@` that could start a mention.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '@' => out.push_str(MENTION_BREAK),
            c => out.push(c),
        }
    }
    out
}

/// Length as Telegram counts it.
pub fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}

#[cfg(test)]
mod tests {
    use time::OffsetDateTime;

    use super::*;
    use crate::core::events::EventType;

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(1_795_719_000_123_000_000).unwrap()
    }

    fn sample(id: &str) -> Event {
        Event::sample(EventType::from_id(id).unwrap(), "evt_x".into(), now())
    }

    fn chat() -> ChatId {
        ChatId::Id(-1001234567890)
    }

    fn text_of(message: &Value) -> &str {
        message["text"].as_str().unwrap()
    }

    /// The visible text as Telegram's HTML parser would leave it, or why it
    /// would refuse the source: a small parser of the subset farmhook uses
    /// (the stand-in in `tests/` has a fuller one).
    fn visible(source: &str) -> Result<String, String> {
        let mut out = String::new();
        let mut open: Vec<&str> = Vec::new();
        let mut rest = source;
        while let Some(c) = rest.chars().next() {
            if c == '<' {
                let end = rest.find('>').ok_or("unclosed tag")?;
                let tag = &rest[1..end];
                match tag.strip_prefix('/') {
                    Some(name) if open.pop() == Some(name) => {}
                    Some(name) => return Err(format!("unmatched </{name}>")),
                    None if ["b", "i"].contains(&tag) => open.push(tag),
                    None => return Err(format!("unsupported <{tag}>")),
                }
                rest = &rest[end + 1..];
            } else if c == '&' {
                let end = rest.find(';').ok_or("bare &")?;
                out.push(match &rest[..=end] {
                    "&amp;" => '&',
                    "&lt;" => '<',
                    "&gt;" => '>',
                    "&quot;" => '"',
                    other => return Err(format!("entity {other}")),
                });
                rest = &rest[end + 1..];
            } else {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
        if open.is_empty() {
            Ok(out)
        } else {
            Err(format!("unclosed <{}>", open.join(">, <")))
        }
    }

    fn check(message: &Value) -> String {
        assert_eq!(message["parse_mode"], "HTML");
        assert_eq!(
            message["link_preview_options"],
            json!({"is_disabled": true})
        );
        let source = text_of(message);
        assert!(utf16_len(source) <= TEXT_MAX_UTF16, "{}", utf16_len(source));
        let shown = visible(source).unwrap_or_else(|e| panic!("{e}: {source}"));
        assert!(!shown.trim().is_empty());
        shown
    }

    #[test]
    fn a_failed_job_reads_as_a_bold_title_the_why_and_the_facts() {
        let message = message(&[sample("job.failed")], None, &chat());
        assert_eq!(message["chat_id"], json!(-1001234567890i64));
        let text = text_of(&message);
        let first = text.lines().next().unwrap();
        assert!(
            first.starts_with("<b>[TEST] ❌ Job failed · X1C-07</b>"),
            "{text}"
        );
        assert!(text.contains("\nPrinter: X1C-07\n"), "{text}");
        assert!(text.contains("\nJob: benchy.3mf"), "{text}");
        check(&message);
    }

    #[test]
    fn every_event_type_renders_within_the_limit() {
        for event_type in EventType::all() {
            let event = Event::sample(event_type, "evt_all".into(), now());
            let message = message(&[event], None, &chat());
            let shown = check(&message);
            assert!(shown.contains(event_type.info().label), "{shown}");
            assert!(shown.starts_with("[TEST] "), "{shown}");
        }
        let all: Vec<Event> = EventType::all()
            .map(|t| Event::sample(t, "evt_all".into(), now()))
            .collect();
        let shown = check(&message(&all, None, &chat()));
        assert_eq!(shown.matches("[TEST] ").count(), MAX_EVENTS_PER_MESSAGE);
    }

    #[test]
    fn markup_and_mentions_in_user_text_are_escaped() {
        let mut event = sample("job.failed");
        event.printer.as_mut().unwrap().name = "<b>Vo&ron</b> @everyone".into();
        event.job.as_mut().unwrap().name = "<a href=\"tg://user?id=1\">x</a> &amp; @admin".into();
        let message = message(&[event], None, &chat());
        let text = text_of(&message);
        assert!(!text.contains("<a"), "{text}");
        assert!(!text.contains("<b>Vo"), "{text}");
        assert!(text.contains("&lt;b&gt;Vo&amp;ron&lt;/b&gt;"), "{text}");
        assert!(text.contains("&amp;amp;"), "{text}");
        let shown = check(&message);
        assert!(shown.contains("<b>Vo&ron</b> @\u{2060}everyone"), "{shown}");
        assert!(!shown.contains("@everyone") && !shown.contains("@admin"));
    }

    #[test]
    fn huge_texts_are_cut_with_an_ellipsis_and_every_event_keeps_its_title() {
        let events: Vec<Event> = (0..12)
            .map(|n| {
                let mut event = sample(if n % 2 == 0 {
                    "job.failed"
                } else {
                    "printer.hms_error"
                });
                event.id = format!("evt_{n}");
                event.printer.as_mut().unwrap().name = "🦀<&>".repeat(5_000);
                if let Some(job) = event.job.as_mut() {
                    job.reason = Some("r&".repeat(50_000));
                }
                if let Some(hms) = event.hms.as_mut() {
                    hms.message = "é\"".repeat(50_000);
                }
                event
            })
            .collect();
        let mut summary = Summary::default();
        summary.add(EventType::from_id("job.failed").unwrap());
        let message = message(&events, Some(&summary), &chat());
        let shown = check(&message);
        assert_eq!(shown.matches("[TEST] ").count(), MAX_EVENTS_PER_MESSAGE);
        assert!(shown.contains("…"), "{shown}");
        assert!(
            shown.ends_with("… and 1 more event (job.failed ×1)"),
            "{shown}"
        );
        // The budget is used, not wasted.
        assert!(utf16_len(text_of(&message)) > TEXT_MAX_UTF16 - 200);
    }

    #[test]
    fn the_summary_is_the_last_line() {
        let mut summary = Summary::default();
        for _ in 0..37 {
            summary.add(EventType::from_id("job.failed").unwrap());
        }
        let message = message(&[sample("job.started")], Some(&summary), &chat());
        let text = text_of(&message);
        assert!(
            text.ends_with("\n\n<i>… and 37 more events (job.failed ×37)</i>"),
            "{text}"
        );
        check(&message);
        let only_summary = super::message(&[], Some(&summary), &chat());
        check(&only_summary);
        assert_eq!(
            text_of(&super::message(&[], Some(&Summary::default()), &chat())),
            ""
        );
    }

    #[test]
    fn escape_covers_what_telegram_html_reserves() {
        assert_eq!(
            escape("a<b>&\"c\"@d"),
            "a&lt;b&gt;&amp;&quot;c&quot;@\u{2060}d"
        );
        assert_eq!(utf16_len("🦀é"), 3);
    }

    proptest::proptest! {
        #[test]
        fn any_text_stays_parseable_and_within_the_limit(
            name in "\\PC{0,300}",
            reason in "[<>&\"@a-z🦀 ]{0,40}",
            times in 1usize..400,
            count in 1usize..13,
        ) {
            let events: Vec<Event> = (0..count)
                .map(|n| {
                    let mut event = sample("job.failed");
                    event.id = format!("evt_{n}");
                    event.printer.as_mut().unwrap().name = name.clone();
                    event.job.as_mut().unwrap().reason = Some(reason.repeat(times));
                    event
                })
                .collect();
            let message = message(&events, None, &chat());
            let source = text_of(&message);
            proptest::prop_assert!(utf16_len(source) <= TEXT_MAX_UTF16);
            proptest::prop_assert!(visible(source).is_ok(), "{}", source);
        }
    }
}
