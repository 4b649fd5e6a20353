//! The message farmhook posts to a Slack incoming webhook: a short `text`
//! (the notification and fallback) plus Block Kit blocks, one group per
//! event, always within Slack's limits and never pinging anyone.
//!
//! Names, reasons and HMS messages come from printers and users, so any of
//! them may be empty, huge or full of `<!channel>`. Slack reads `<…>` as a
//! mention or link, so every such text has `&`, `<` and `>` escaped as
//! `&amp;`, `&lt;` and `&gt;` (Slack shows them as the characters) and is
//! cut to the limit after escaping, never inside an entity.

use serde_json::{Value, json};

use super::super::event_text::{ELLIPSIS, EventText, or_placeholder};
use crate::core::payload::{Event, rfc3339_millis};
use crate::core::summary::Summary;

// Slack's Block Kit limits, in characters (Slack counts code points, which
// is what Rust's `chars()` yields).

/// Most blocks one message may have.
pub const MAX_BLOCKS_PER_MESSAGE: usize = 50;
/// Longest header block text (plain text).
pub const HEADER_TEXT_MAX_CHARS: usize = 150;
/// Longest section block text.
pub const SECTION_TEXT_MAX_CHARS: usize = 3000;
/// Most fields one section block may have.
pub const MAX_FIELDS_PER_SECTION: usize = 10;
/// Longest text of one section field.
pub const FIELD_TEXT_MAX_CHARS: usize = 2000;
/// Longest text of one context element (Slack's text-object limit is 3000;
/// the id and time farmhook puts there are far shorter).
pub const CONTEXT_TEXT_MAX_CHARS: usize = 2000;
/// Longest top-level `text` Slack keeps; it cuts longer ones.
pub const TEXT_LIMIT_CHARS: usize = 40_000;
/// Longest top-level `text` farmhook sends: it is the notification line
/// and the fallback for clients without blocks, so it stays short.
pub const FALLBACK_TEXT_MAX_CHARS: usize = 3000;

/// Field sections one event may use (10 fields each).
const MAX_FIELD_SECTIONS_PER_EVENT: usize = 2;
/// Header, description, field sections, context, and the divider before it.
const MAX_BLOCKS_PER_EVENT: usize = 1 + 1 + MAX_FIELD_SECTIONS_PER_EVENT + 1 + 1;

/// Most events one message carries: the engine batches a burst into
/// messages of this many. With the divider before it and its summary
/// section, a full batch still fits Slack's 50 blocks.
pub const MAX_EVENTS_PER_MESSAGE: usize = 8;

const _: () = assert!(MAX_EVENTS_PER_MESSAGE * MAX_BLOCKS_PER_EVENT + 2 <= MAX_BLOCKS_PER_MESSAGE);

/// Builds the incoming-webhook body for up to [`MAX_EVENTS_PER_MESSAGE`]
/// events (extra events are ignored; the caller batches), with a section
/// at the end saying how many events were summarised rather than sent
/// ("and 37 more events (…)") when `summary` is given and not empty.
///
/// With no events and no summary the body has an empty `text`, which Slack
/// refuses (`no_text`): send nothing instead.
pub fn message(events: &[Event], summary: Option<&Summary>) -> Value {
    let summary = summary.filter(|s| !s.is_empty());
    let events = &events[..events.len().min(MAX_EVENTS_PER_MESSAGE)];
    let mut blocks = Vec::new();
    let mut lines = Vec::new();
    for (i, event) in events.iter().enumerate() {
        if i > 0 {
            blocks.push(json!({"type": "divider"}));
        }
        let text = EventText::for_event(event);
        lines.push(text.title());
        event_blocks(event, &text, &mut blocks);
    }
    if let Some(summary) = summary {
        if !blocks.is_empty() {
            blocks.push(json!({"type": "divider"}));
        }
        let line = format!("… {}", summary.text());
        blocks.push(json!({
            "type": "section",
            "text": plain_text(&format!(
                "{line}. More events arrived than Slack lets farmhook post, so these were \
                 counted instead of sent one by one; each is in farmhook's delivery log as \
                 summarised."
            ), SECTION_TEXT_MAX_CHARS),
        }));
        lines.push(line);
    }
    json!({
        "text": escape_cut(&lines.join("\n"), FALLBACK_TEXT_MAX_CHARS),
        "blocks": blocks,
    })
}

/// One event's blocks: header with the title, section with why it happened,
/// sections of facts, and a context line with the event's id and time.
fn event_blocks(event: &Event, text: &EventText, blocks: &mut Vec<Value>) {
    blocks.push(json!({
        "type": "header",
        "text": plain_text(&text.title(), HEADER_TEXT_MAX_CHARS),
    }));
    if let Some(description) = &text.description {
        blocks.push(json!({
            "type": "section",
            "text": plain_text(description, SECTION_TEXT_MAX_CHARS),
        }));
    }
    let fields: Vec<Value> = text
        .fields
        .iter()
        .take(MAX_FIELD_SECTIONS_PER_EVENT * MAX_FIELDS_PER_SECTION)
        .map(|field| {
            // The name is farmhook's own word; only the value needs escaping.
            let name = format!("*{}*\n", field.name);
            let room = FIELD_TEXT_MAX_CHARS - name.chars().count();
            json!({
                "type": "mrkdwn",
                "text": format!("{name}{}", escape_cut(or_placeholder(&field.value), room)),
            })
        })
        .collect();
    for chunk in fields.chunks(MAX_FIELDS_PER_SECTION) {
        blocks.push(json!({"type": "section", "fields": chunk}));
    }
    let context = format!(
        "farmhook · {} · {}",
        or_placeholder(&event.id),
        rfc3339_millis::format(&event.occurred_at)
    );
    blocks.push(json!({
        "type": "context",
        "elements": [plain_text(&context, CONTEXT_TEXT_MAX_CHARS)],
    }));
}

/// A plain-text object, escaped and cut to `max` characters.
fn plain_text(text: &str, max: usize) -> Value {
    json!({"type": "plain_text", "text": escape_cut(or_placeholder(text), max), "emoji": true})
}

/// The Slack entity for a character that must be escaped.
fn entity(c: char) -> Option<&'static str> {
    match c {
        '&' => Some("&amp;"),
        '<' => Some("&lt;"),
        '>' => Some("&gt;"),
        _ => None,
    }
}

/// `text` with `&`, `<` and `>` escaped, so Slack can never read a mention
/// (`<!channel>`, `<@U…>`) or a link in it.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match entity(c) {
            Some(e) => out.push_str(e),
            None => out.push(c),
        }
    }
    out
}

/// `text` escaped and cut to at most `max` characters after escaping,
/// ending in "…" when it was cut. Cuts between characters and entities,
/// never inside either.
pub fn escape_cut(text: &str, max: usize) -> String {
    let escaped = escape(text);
    if escaped.chars().nth(max).is_none() {
        return escaped;
    }
    let room = max.saturating_sub(1);
    let mut out = String::new();
    let mut len = 0;
    for c in text.chars() {
        let piece_len = entity(c).map_or(1, str::len);
        if len + piece_len > room {
            break;
        }
        len += piece_len;
        match entity(c) {
            Some(e) => out.push_str(e),
            None => out.push(c),
        }
    }
    out.push(ELLIPSIS);
    out
}

/// The checker of Slack's limits, from Slack's Block Kit reference rather
/// than from the builder above, so the tests hold the builder to it (the
/// Slack stand-in in `tests/` has its own, as Slack does).
#[cfg(test)]
mod limits {
    use super::*;
    use crate::core::channels::event_text::is_blank;

    /// Every way `message` breaks a Slack limit or could ping, in words;
    /// empty when Slack will accept it.
    pub fn limit_violations(message: &Value) -> Vec<String> {
        let mut problems = Vec::new();
        let mut problem = |p: String| problems.push(p);
        match message.get("text").and_then(Value::as_str) {
            None => problem("text is missing".into()),
            Some(t) if is_blank(t) => problem("text is blank".into()),
            Some(t) if t.chars().count() > FALLBACK_TEXT_MAX_CHARS => {
                problem(format!("text has {} characters", t.chars().count()))
            }
            Some(_) => {}
        }
        let blocks = message
            .get("blocks")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if blocks.len() > MAX_BLOCKS_PER_MESSAGE {
            problem(format!(
                "{} blocks, more than {MAX_BLOCKS_PER_MESSAGE}",
                blocks.len()
            ));
        }
        let text_ok = |at: &str, t: &Value, max: usize, kinds: &[&str]| -> Vec<String> {
            let mut out = Vec::new();
            let kind = t["type"].as_str().unwrap_or_default();
            if !kinds.contains(&kind) {
                out.push(format!("{at} is a {kind:?} text, not one of {kinds:?}"));
            }
            let text = t["text"].as_str().unwrap_or_default();
            let len = text.chars().count();
            if len == 0 || len > max {
                out.push(format!("{at} has {len} characters (1 to {max})"));
            }
            out
        };
        for (i, block) in blocks.iter().enumerate() {
            let at = |part: &str| format!("blocks[{i}]{part}");
            match block["type"].as_str().unwrap_or_default() {
                "header" => {
                    for p in text_ok(
                        &at(".text"),
                        &block["text"],
                        HEADER_TEXT_MAX_CHARS,
                        &["plain_text"],
                    ) {
                        problem(p);
                    }
                }
                "section" => {
                    if block.get("text").is_none() && block.get("fields").is_none() {
                        problem(format!("{} has neither text nor fields", at("")));
                    }
                    if let Some(t) = block.get("text") {
                        for p in text_ok(
                            &at(".text"),
                            t,
                            SECTION_TEXT_MAX_CHARS,
                            &["plain_text", "mrkdwn"],
                        ) {
                            problem(p);
                        }
                    }
                    if let Some(fields) = block.get("fields") {
                        let fields = fields.as_array().cloned().unwrap_or_default();
                        if fields.is_empty() || fields.len() > MAX_FIELDS_PER_SECTION {
                            problem(format!("{} has {} fields", at(""), fields.len()));
                        }
                        for (j, f) in fields.iter().enumerate() {
                            for p in text_ok(
                                &at(&format!(".fields[{j}]")),
                                f,
                                FIELD_TEXT_MAX_CHARS,
                                &["plain_text", "mrkdwn"],
                            ) {
                                problem(p);
                            }
                        }
                    }
                }
                "context" => {
                    let elements = block["elements"].as_array().cloned().unwrap_or_default();
                    if elements.is_empty() || elements.len() > 10 {
                        problem(format!("{} has {} elements", at(""), elements.len()));
                    }
                    for (j, e) in elements.iter().enumerate() {
                        for p in text_ok(
                            &at(&format!(".elements[{j}]")),
                            e,
                            CONTEXT_TEXT_MAX_CHARS,
                            &["plain_text", "mrkdwn"],
                        ) {
                            problem(p);
                        }
                    }
                }
                "divider" => {}
                other => problem(format!("{} has type {other:?}", at(""))),
            }
        }
        let mut strings = Vec::new();
        collect_strings(message, &mut strings);
        for s in strings {
            if s.contains('<') || s.contains('>') {
                problem(format!("unescaped < or > in {s:?}"));
            }
            let bare_ampersand = s.match_indices('&').any(|(i, _)| {
                !["&amp;", "&lt;", "&gt;"]
                    .iter()
                    .any(|e| s[i..].starts_with(e))
            });
            if bare_ampersand {
                problem(format!("unescaped & in {s:?}"));
            }
        }
        problems
    }

    fn collect_strings<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
        match value {
            Value::String(s) => out.push(s),
            Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out)),
            Value::Object(map) => map.values().for_each(|v| collect_strings(v, out)),
            _ => {}
        }
    }

    /// Asserts that `message` keeps every limit, naming each one it breaks.
    pub fn check_limits(message: &Value) {
        let problems = limit_violations(message);
        assert!(problems.is_empty(), "{}\n{message:#}", problems.join("\n"));
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use time::macros::datetime;

    use super::limits::{check_limits, limit_violations};
    use super::*;
    use crate::core::events::EventType;

    fn sample(id: &str) -> Event {
        let event_type = EventType::all()
            .find(|t| t.id() == id)
            .unwrap_or_else(|| panic!("{id} is in the catalogue"));
        Event::sample(event_type, "evt_01".into(), datetime!(2026-11-26 18:50 UTC))
    }

    fn blocks(message: &Value) -> &Vec<Value> {
        message["blocks"].as_array().unwrap()
    }

    #[test]
    fn every_event_type_renders_within_the_limits_alone_and_in_batches() {
        let events: Vec<Event> = EventType::all()
            .enumerate()
            .map(|(n, t)| Event::sample(t, format!("evt_{n}"), datetime!(2026-11-26 18:50 UTC)))
            .collect();
        assert_eq!(events.len(), 19);
        for event in &events {
            let m = message(std::slice::from_ref(event), None);
            check_limits(&m);
            let header = &blocks(&m)[0];
            assert_eq!(header["type"], "header");
            let title = header["text"]["text"].as_str().unwrap();
            assert!(title.starts_with("[TEST] "), "{title}");
            assert!(m["text"].as_str().unwrap().starts_with("[TEST] "));
        }
        let mut summary = Summary::default();
        summary.add(events[0].event_type);
        for batch in events.chunks(MAX_EVENTS_PER_MESSAGE) {
            check_limits(&message(batch, Some(&summary)));
        }
    }

    #[test]
    fn one_event_reads_as_header_why_facts_and_id() {
        let m = message(&[sample("job.failed")], None);
        let b = blocks(&m);
        let kinds: Vec<&str> = b.iter().map(|b| b["type"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["header", "section", "section", "context"]);
        assert_eq!(m["text"], b[0]["text"]["text"]);
        let fields = b[2]["fields"].as_array().unwrap();
        assert!(
            fields.iter().any(|f| f["text"] == "*Job*\nbenchy.3mf"),
            "{fields:?}"
        );
        assert!(fields.iter().all(|f| f["type"] == "mrkdwn"));
        let context = b[3]["elements"][0]["text"].as_str().unwrap();
        assert_eq!(context, "farmhook · evt_01 · 2026-11-26T18:50:00.000Z");
    }

    #[test]
    fn a_full_batch_with_its_summary_fits_fifty_blocks_and_more_events_are_left_to_the_caller() {
        let events: Vec<Event> = (0..MAX_EVENTS_PER_MESSAGE + 3)
            .map(|n| {
                let mut e = sample("job.failed");
                e.id = format!("evt_{n}");
                e
            })
            .collect();
        let mut summary = Summary::default();
        for _ in 0..37 {
            summary.add(sample("job.failed").event_type);
        }
        let m = message(&events, Some(&summary));
        check_limits(&m);
        let b = blocks(&m);
        let headers = b.iter().filter(|b| b["type"] == "header").count();
        assert_eq!(headers, MAX_EVENTS_PER_MESSAGE);
        let last = b.last().unwrap()["text"]["text"].as_str().unwrap();
        assert!(
            last.starts_with("… and 37 more events (job.failed ×37)"),
            "{last}"
        );
        let text = m["text"].as_str().unwrap();
        assert!(
            text.ends_with("… and 37 more events (job.failed ×37)"),
            "{text}"
        );
        assert_eq!(text.lines().count(), MAX_EVENTS_PER_MESSAGE + 1);
        // An empty summary adds nothing.
        let m = message(&events[..1], Some(&Summary::default()));
        assert_eq!(blocks(&m).len(), 4);
    }

    #[test]
    fn a_summary_alone_is_a_message_and_nothing_at_all_is_not() {
        let mut summary = Summary::default();
        summary.add(sample("printer.offline").event_type);
        let m = message(&[], Some(&summary));
        check_limits(&m);
        assert_eq!(blocks(&m).len(), 1);
        assert_eq!(m["text"], "… and 1 more event (printer.offline ×1)");
        // Slack refuses an empty text (no_text): the caller sends nothing.
        assert_eq!(message(&[], None), json!({"text": "", "blocks": []}));
    }

    #[test]
    fn mentions_links_and_ampersands_are_escaped_everywhere() {
        let mut event = sample("job.failed");
        let nasty =
            "<!channel> <!here|here> <@U024BE7LD> <#C01|general> <http://evil.tld|click> & &amp;";
        event.printer.as_mut().unwrap().name = nasty.into();
        event.job.as_mut().unwrap().name = nasty.into();
        event.job.as_mut().unwrap().reason = Some(nasty.into());
        event.id = nasty.into();
        let m = message(&[event], None);
        check_limits(&m);
        let all = m.to_string();
        assert!(!all.contains('<') && !all.contains('>'), "{all}");
        assert!(
            all.contains("&lt;!channel&gt; &lt;!here|here&gt; &lt;@U024BE7LD&gt;"),
            "{all}"
        );
        assert!(all.contains("&amp; &amp;amp;"), "{all}");
    }

    #[test]
    fn huge_texts_are_cut_with_an_ellipsis_and_never_inside_an_entity() {
        let mut event = sample("job.failed");
        event.printer.as_mut().unwrap().name = "<".repeat(10_000);
        event.job.as_mut().unwrap().name = "&".repeat(10_000);
        event.job.as_mut().unwrap().reason = Some("🦀".repeat(50_000));
        event.id = "i".repeat(5_000);
        let m = message(&[event], None);
        check_limits(&m);
        let b = blocks(&m);
        let title = b[0]["text"]["text"].as_str().unwrap();
        assert!(
            title.starts_with("[TEST] ❌ Job failed · &lt;&lt;"),
            "{title}"
        );
        assert!(title.ends_with("&lt;…"), "{title}");
        let why = b[1]["text"]["text"].as_str().unwrap();
        assert_eq!(why.chars().count(), SECTION_TEXT_MAX_CHARS);
        assert!(why.ends_with("🦀…"));
        let job = b[2]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find_map(|f| f["text"].as_str().filter(|t| t.starts_with("*Job*")))
            .unwrap();
        assert!(
            job.ends_with("&amp;…") && job.chars().count() <= FIELD_TEXT_MAX_CHARS,
            "{job}"
        );
    }

    #[test]
    fn escape_cut_keeps_entities_whole() {
        assert_eq!(escape_cut("a<b", 10), "a&lt;b");
        assert_eq!(escape_cut("a<b", 6), "a&lt;b");
        assert_eq!(escape_cut("a<bc", 6), "a&lt;…");
        assert_eq!(escape_cut("a<bc", 5), "a…");
        assert_eq!(escape_cut("<<<", 10), "&lt;&lt;…");
        assert_eq!(escape_cut("abc", 1), "…");
        assert_eq!(escape_cut("", 3), "");
    }

    #[test]
    fn the_limit_checker_names_what_is_broken() {
        assert!(limit_violations(&message(&[sample("job.failed")], None)).is_empty());
        let broken = json!({
            "text": "<!channel>",
            "blocks": [
                {"type": "header", "text": {"type": "mrkdwn", "text": "h".repeat(151)}},
                {"type": "section", "fields": vec![json!({"type": "mrkdwn", "text": "f"}); 11]},
                {"type": "video"},
            ],
        });
        let problems = limit_violations(&broken).join("\n");
        for words in [
            "blocks[0].text is a \"mrkdwn\"",
            "151 characters",
            "11 fields",
            "type \"video\"",
            "unescaped <",
        ] {
            assert!(problems.contains(words), "{words}: {problems}");
        }
    }

    fn wild_text() -> impl Strategy<Value = String> {
        (
            "[<>&!@#*_~`a-z 🦀é\\n]{0,30}|\\PC{0,30}",
            prop_oneof![3 => Just(1usize), 1 => 1..400usize],
        )
            .prop_map(|(piece, times)| piece.repeat(times))
    }

    fn wild_event() -> impl Strategy<Value = Event> {
        (
            0..19usize,
            any::<bool>(),
            wild_text(),
            wild_text(),
            proptest::option::of(wild_text()),
        )
            .prop_map(|(kind, test, printer, name, reason)| {
                let event_type = EventType::all().nth(kind).unwrap();
                let mut event = Event::sample(
                    event_type,
                    format!("evt_{name}"),
                    datetime!(2026-11-26 18:50 UTC),
                );
                event.test = test;
                if let Some(p) = event.printer.as_mut() {
                    p.name = printer.clone();
                    p.model = printer;
                }
                if let Some(hms) = event.hms.as_mut() {
                    hms.message = name.clone();
                }
                if let Some(job) = event.job.as_mut() {
                    job.name = name;
                    job.reason = reason;
                }
                event
            })
    }

    proptest::proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn any_texts_in_any_number_of_events_stay_within_every_limit(
            events in proptest::collection::vec(wild_event(), 1..12)
        ) {
            let m = message(&events, None);
            let problems = limit_violations(&m);
            prop_assert!(problems.is_empty(), "{}", problems.join("\n"));
            let headers = blocks(&m).iter().filter(|b| b["type"] == "header").count();
            prop_assert_eq!(headers, events.len().min(MAX_EVENTS_PER_MESSAGE));
        }
    }
}
