//! The message farmhook posts to a Discord webhook: one embed per event, in
//! the operator's words, always within Discord's size limits and never
//! pinging anyone.
//!
//! Names, reasons and HMS messages come from printers and users, so any of
//! them may be empty, huge or full of markdown and `@everyone`. They are sent
//! as text: `allowed_mentions` keeps mentions silent, and every text is cut
//! to Discord's limits here, so a long job name can never turn a delivery
//! into a 400.

use serde_json::{Map, Value, json};

use super::super::event_text::{EventText, or_placeholder, truncate_chars};
use crate::core::payload::{Event, rfc3339_millis};
use crate::core::summary::Summary;

/// Discord accepts at most 10 embeds per message.
pub const MAX_EMBEDS_PER_MESSAGE: usize = 10;

// Discord's limits. Lengths are in characters as Discord counts them: Unicode
// code points (its API measures strings with Python's `len`), which is what
// Rust's `chars()` yields.

/// Longest embed title.
pub const TITLE_MAX_CHARS: usize = 256;
/// Longest embed description.
pub const DESCRIPTION_MAX_CHARS: usize = 4096;
/// Longest field name.
pub const FIELD_NAME_MAX_CHARS: usize = 256;
/// Longest field value.
pub const FIELD_VALUE_MAX_CHARS: usize = 1024;
/// Most fields one embed may have.
pub const MAX_FIELDS_PER_EMBED: usize = 25;
/// Longest footer text.
pub const FOOTER_TEXT_MAX_CHARS: usize = 2048;
/// Longest author name (farmhook sets no author; the checker still counts it).
pub const AUTHOR_NAME_MAX_CHARS: usize = 256;
/// Most characters of titles, descriptions, field names and values, footer
/// texts and author names together, across all embeds of one message.
pub const MESSAGE_EMBED_TEXT_MAX_CHARS: usize = 6000;
/// Longest message `content` (farmhook sends none; the checker still counts it).
pub const CONTENT_MAX_CHARS: usize = 2000;
/// Longest webhook username override.
pub const USERNAME_MAX_CHARS: usize = 80;

/// The name the messages are posted under.
pub const USERNAME: &str = "farmhook";

/// The summary embed's colour: grey, news about news.
const SUMMARY_COLOUR: u32 = 0x95A5A6;

/// Builds the execute-webhook body for up to [`MAX_EMBEDS_PER_MESSAGE`]
/// events (extra events are ignored; the caller batches).
///
/// With no events the body has no embeds, which Discord refuses: send
/// nothing instead.
pub fn discord_message(events: &[Event]) -> Value {
    discord_message_with_summary(events, None)
}

/// Like [`discord_message`], with one more embed at the end saying how many
/// events were summarised rather than sent ("and 37 more events (…)"). The
/// summary takes the place of the tenth event, so the caller batches at most
/// nine events with it.
pub fn discord_message_with_summary(events: &[Event], summary: Option<&Summary>) -> Value {
    let summary = summary.filter(|s| !s.is_empty());
    let mut embeds: Vec<EmbedText> = events
        .iter()
        .take(MAX_EMBEDS_PER_MESSAGE - usize::from(summary.is_some()))
        .map(EmbedText::for_event)
        .collect();
    if let Some(summary) = summary {
        embeds.push(EmbedText::for_summary(summary));
    }
    fit_total(&mut embeds, MESSAGE_EMBED_TEXT_MAX_CHARS);
    json!({
        "username": USERNAME,
        "embeds": embeds.iter().map(EmbedText::to_json).collect::<Vec<_>>(),
        "allowed_mentions": {"parse": []},
    })
}

/// One embed before it becomes JSON: the texts are kept apart so the
/// message-wide limit can shorten them together.
struct EmbedText {
    title: String,
    description: Option<String>,
    fields: Vec<Field>,
    footer: String,
    colour: u32,
    timestamp: Option<String>,
}

struct Field {
    name: String,
    value: String,
    inline: bool,
}

impl Field {
    fn new(name: &str, value: &str, inline: bool) -> Field {
        Field {
            name: truncate_chars(or_placeholder(name), FIELD_NAME_MAX_CHARS),
            value: truncate_chars(or_placeholder(value), FIELD_VALUE_MAX_CHARS),
            inline,
        }
    }
}

impl EmbedText {
    fn for_event(event: &Event) -> EmbedText {
        let text = EventText::for_event(event);
        let mut fields: Vec<Field> = text
            .fields
            .iter()
            .map(|f| Field::new(f.name, &f.value, f.inline))
            .collect();
        fields.truncate(MAX_FIELDS_PER_EMBED);
        EmbedText {
            title: truncate_chars(&text.title(), TITLE_MAX_CHARS),
            description: text
                .description
                .as_deref()
                .map(|d| truncate_chars(d, DESCRIPTION_MAX_CHARS)),
            fields,
            footer: truncate_chars(&format!("farmhook · {}", event.id), FOOTER_TEXT_MAX_CHARS),
            colour: event.event_type.info().discord_colour,
            timestamp: Some(rfc3339_millis::format(&event.occurred_at)),
        }
    }

    /// The "and 37 more events" embed of a burst.
    fn for_summary(summary: &Summary) -> EmbedText {
        EmbedText {
            title: truncate_chars(&format!("… {}", summary.text()), TITLE_MAX_CHARS),
            description: Some(
                "More events arrived than Discord lets farmhook post, so these were counted \
                 instead of sent one by one; each is in farmhook's delivery log as summarised."
                    .into(),
            ),
            fields: Vec::new(),
            footer: "farmhook".into(),
            colour: SUMMARY_COLOUR,
            timestamp: None,
        }
    }

    /// Every text that counts towards the message-wide limit.
    fn texts_mut(&mut self) -> impl Iterator<Item = &mut String> {
        let EmbedText {
            title,
            description,
            fields,
            footer,
            ..
        } = self;
        std::iter::once(title)
            .chain(description.as_mut())
            .chain(
                fields
                    .iter_mut()
                    .flat_map(|field| [&mut field.name, &mut field.value]),
            )
            .chain(std::iter::once(footer))
    }

    fn to_json(&self) -> Value {
        let mut embed = Map::new();
        embed.insert("title".into(), json!(self.title));
        if let Some(description) = &self.description {
            embed.insert("description".into(), json!(description));
        }
        embed.insert("color".into(), json!(self.colour));
        embed.insert(
            "fields".into(),
            self.fields
                .iter()
                .map(|f| json!({"name": f.name, "value": f.value, "inline": f.inline}))
                .collect(),
        );
        if let Some(timestamp) = &self.timestamp {
            embed.insert("timestamp".into(), json!(timestamp));
        }
        embed.insert("footer".into(), json!({"text": self.footer}));
        Value::Object(embed)
    }
}

/// Keeps the texts of all embeds within `budget` characters together by
/// cutting every text longer than one common length to that length, the
/// largest that fits. Short texts (field names, codes, footers) stay whole;
/// the long ones share what is left evenly, so every event keeps some of its
/// story rather than the last ones losing all of it.
fn fit_total(embeds: &mut [EmbedText], budget: usize) {
    let lengths: Vec<usize> = embeds
        .iter_mut()
        .flat_map(EmbedText::texts_mut)
        .map(|text| text.chars().count())
        .collect();
    let total_with_cap = |cap: usize| lengths.iter().map(|&len| len.min(cap)).sum::<usize>();
    let longest = lengths.iter().copied().max().unwrap_or(0);
    if total_with_cap(longest) <= budget {
        return;
    }
    // Binary search for the largest cap that fits: a cap of 0 always fits,
    // `longest` does not.
    let (mut fits, mut too_long) = (0, longest);
    while too_long - fits > 1 {
        let middle = fits + (too_long - fits) / 2;
        if total_with_cap(middle) <= budget {
            fits = middle;
        } else {
            too_long = middle;
        }
    }
    // A message has at most 10 embeds of 3 + 2 × 25 texts, 530 in all, so a
    // cap of 1 always fits in 6000 and `fits` is never 0 here; the `max`
    // only guards against ever emptying a text Discord requires.
    let cap = fits.max(1);
    for text in embeds.iter_mut().flat_map(EmbedText::texts_mut) {
        if text.chars().nth(cap).is_some() {
            *text = truncate_chars(text, cap);
        }
    }
}

/// The checker of Discord's limits, from Discord's documentation rather
/// than from the builder above, so the tests hold the builder to it. Used
/// only by the tests (the Discord stand-in in `tests/` has its own, as
/// Discord does).
#[cfg(test)]
mod limits {
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;

    use super::*;
    use crate::core::channels::event_text::is_blank;

    /// Every way `message` breaks a Discord limit, in words; empty when Discord
    /// will accept its size and shape.
    pub fn limit_violations(message: &Value) -> Vec<String> {
        let mut check = LimitCheck::default();
        check.text(
            "content".into(),
            message.get("content"),
            CONTENT_MAX_CHARS,
            false,
        );
        check.text(
            "username".into(),
            message.get("username"),
            USERNAME_MAX_CHARS,
            false,
        );
        if message.get("allowed_mentions") != Some(&json!({"parse": []})) {
            check.problem(format!(
                "allowed_mentions is {}, not {{\"parse\": []}}",
                message.get("allowed_mentions").unwrap_or(&Value::Null)
            ));
        }
        let embeds: &[Value] = match message.get("embeds") {
            None => &[],
            Some(Value::Array(embeds)) => embeds,
            Some(other) => {
                check.problem(format!("embeds is {other}, not an array"));
                return check.problems;
            }
        };
        if embeds.len() > MAX_EMBEDS_PER_MESSAGE {
            check.problem(format!(
                "{} embeds, more than {MAX_EMBEDS_PER_MESSAGE}",
                embeds.len()
            ));
        }
        if embeds.is_empty() && message.get("content").is_none() {
            check.problem("the message has neither content nor embeds".into());
        }
        for (i, embed) in embeds.iter().enumerate() {
            check.embed(i, embed);
        }
        if check.embed_text_total > MESSAGE_EMBED_TEXT_MAX_CHARS {
            check.problem(format!(
                "the embeds' texts total {} characters, more than {MESSAGE_EMBED_TEXT_MAX_CHARS}",
                check.embed_text_total
            ));
        }
        check.problems
    }

    #[derive(Default)]
    struct LimitCheck {
        problems: Vec<String>,
        embed_text_total: usize,
    }

    impl LimitCheck {
        fn problem(&mut self, problem: String) {
            self.problems.push(problem);
        }

        /// Checks one text and returns its length in characters (0 when absent).
        fn text(&mut self, at: String, value: Option<&Value>, max: usize, required: bool) -> usize {
            let text = match value {
                None if required => {
                    self.problem(format!("{at} is missing"));
                    return 0;
                }
                None => return 0,
                Some(Value::String(text)) => text,
                Some(other) => {
                    self.problem(format!("{at} is {other}, not a string"));
                    return 0;
                }
            };
            let len = text.chars().count();
            if is_blank(text) {
                self.problem(format!("{at} is empty or blank"));
            }
            if len > max {
                self.problem(format!("{at} has {len} characters, more than {max}"));
            }
            len
        }

        fn embed_text(&mut self, at: String, value: Option<&Value>, max: usize, required: bool) {
            self.embed_text_total += self.text(at, value, max, required);
        }

        fn embed(&mut self, i: usize, embed: &Value) {
            let at = |name: &str| format!("embeds[{i}].{name}");
            if !embed.is_object() {
                self.problem(format!("{} is not an object", at("")));
                return;
            }
            if embed.get("title").is_none() && embed.get("description").is_none() {
                self.problem(format!("{} has neither title nor description", at("")));
            }
            self.embed_text(at("title"), embed.get("title"), TITLE_MAX_CHARS, false);
            self.embed_text(
                at("description"),
                embed.get("description"),
                DESCRIPTION_MAX_CHARS,
                false,
            );
            if let Some(footer) = embed.get("footer") {
                self.embed_text(
                    at("footer.text"),
                    footer.get("text"),
                    FOOTER_TEXT_MAX_CHARS,
                    true,
                );
            }
            if let Some(author) = embed.get("author") {
                self.embed_text(
                    at("author.name"),
                    author.get("name"),
                    AUTHOR_NAME_MAX_CHARS,
                    true,
                );
            }
            if let Some(colour) = embed.get("color")
                && colour.as_u64().is_none_or(|c| c > 0xFF_FFFF)
            {
                self.problem(format!("{} is {colour}, not 0 to 0xFFFFFF", at("color")));
            }
            if let Some(timestamp) = embed.get("timestamp")
                && timestamp
                    .as_str()
                    .is_none_or(|t| OffsetDateTime::parse(t, &Rfc3339).is_err())
            {
                self.problem(format!("{} is {timestamp}, not ISO 8601", at("timestamp")));
            }
            let fields: &[Value] = match embed.get("fields") {
                None => &[],
                Some(Value::Array(fields)) => fields,
                Some(other) => {
                    self.problem(format!("{} is {other}, not an array", at("fields")));
                    return;
                }
            };
            if fields.len() > MAX_FIELDS_PER_EMBED {
                self.problem(format!(
                    "{} has {} fields, more than {MAX_FIELDS_PER_EMBED}",
                    at(""),
                    fields.len()
                ));
            }
            for (j, field) in fields.iter().enumerate() {
                self.embed_text(
                    at(&format!("fields[{j}].name")),
                    field.get("name"),
                    FIELD_NAME_MAX_CHARS,
                    true,
                );
                self.embed_text(
                    at(&format!("fields[{j}].value")),
                    field.get("value"),
                    FIELD_VALUE_MAX_CHARS,
                    true,
                );
            }
        }
    }

    /// Asserts that `message` keeps every Discord limit, naming each one it
    /// breaks.
    #[track_caller]
    pub fn check_limits(message: &Value) {
        let problems = limit_violations(message);
        assert!(
            problems.is_empty(),
            "the message breaks Discord's limits:\n{}",
            problems.join("\n")
        );
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use time::OffsetDateTime;

    use super::limits::{check_limits, limit_violations};
    use super::*;
    use crate::core::events::{EventType, Subject};

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(1_795_719_000_123_000_000).unwrap()
    }

    fn sample(id: &str) -> Event {
        Event::sample(EventType::from_id(id).unwrap(), "evt_x".into(), now())
    }

    fn embeds(message: &Value) -> &Vec<Value> {
        message["embeds"].as_array().unwrap()
    }

    fn field<'a>(embed: &'a Value, name: &str) -> &'a Value {
        embed["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .unwrap_or_else(|| panic!("no field {name} in {embed}"))
    }

    fn field_names(embed: &Value) -> Vec<&str> {
        embed["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap())
            .collect()
    }

    #[test]
    fn a_summary_takes_the_last_embed_and_stays_within_the_limits() {
        let mut summary = Summary::default();
        for _ in 0..30 {
            summary.add(EventType::from_id("job.failed").unwrap());
        }
        summary.add(EventType::from_id("printer.offline").unwrap());
        let events: Vec<Event> = (0..12).map(|_| sample("job.failed")).collect();
        let message = discord_message_with_summary(&events, Some(&summary));
        check_limits(&message);
        let embeds = embeds(&message);
        assert_eq!(embeds.len(), MAX_EMBEDS_PER_MESSAGE);
        let last = embeds.last().unwrap();
        assert_eq!(
            last["title"],
            "… and 31 more events (job.failed ×30, printer.offline ×1)"
        );
        // A summary alone is a valid message too; an empty one adds nothing.
        check_limits(&discord_message_with_summary(&[], Some(&summary)));
        let plain = discord_message_with_summary(&events[..2], Some(&Summary::default()));
        assert_eq!(plain, discord_message(&events[..2]));
    }

    #[test]
    fn every_event_type_gives_one_embed_with_its_colour_and_fields() {
        for event_type in EventType::all() {
            let event = Event::sample(event_type, "evt_x".into(), now());
            let message = discord_message(std::slice::from_ref(&event));
            check_limits(&message);
            let [embed] = embeds(&message).as_slice() else {
                panic!("{event_type}: {message}");
            };
            let info = event_type.info();
            assert_eq!(embed["color"], info.discord_colour, "{event_type}");
            let title = embed["title"].as_str().unwrap();
            assert!(title.starts_with("[TEST] "), "{title}");
            assert!(title.contains(info.label), "{title}");
            if event.printer.is_some() {
                assert!(title.ends_with(" · X1C-07"), "{title}");
            } else {
                assert!(title.ends_with(" · #1042"), "{title}");
            }
            assert_eq!(embed["timestamp"], "2026-11-26T18:50:00.123Z");
            assert_eq!(embed["footer"]["text"], "farmhook · evt_x");
            let expected: &[&str] = match (info.subject, event.job.as_ref(), event_type.id()) {
                (Subject::Job, Some(job), _) if job.duration_s.is_some() => {
                    &["Printer", "Model", "Job", "Progress", "Duration"]
                }
                (Subject::Job, _, _) => &["Printer", "Model", "Job", "Progress"],
                (Subject::Hms, _, _) => &["Printer", "Model", "HMS code", "Severity"],
                (Subject::Printer, _, _) => &["Printer", "Model"],
                (Subject::Order, _, "order.auto_printed") => &[
                    "Printer", "Model", "Order", "Source", "Items", "Job", "Progress",
                ],
                (Subject::Order, _, _) => &["Order", "Source", "Items"],
                (Subject::Maintenance, _, id)
                    if id.ends_with("mode_on") || id.ends_with("mode_off") =>
                {
                    &["Printer", "Model", "Print hours"]
                }
                (Subject::Maintenance, _, _) => &["Printer", "Model", "Task", "Print hours"],
                (Subject::Material, _, _) => &["Printer", "Model", "Filament", "Used"],
            };
            assert_eq!(field_names(embed), expected, "{event_type}");
            if event.printer.is_some() {
                assert_eq!(field(embed, "Printer")["value"], "X1C-07");
                assert_eq!(field(embed, "Model")["value"], "X1 Carbon");
            }
        }
    }

    #[test]
    fn a_failed_job_reads_like_the_operator_would_say_it() {
        let mut event = sample("job.failed");
        event.test = false;
        let message = discord_message(&[event]);
        let embed = &embeds(&message)[0];
        assert_eq!(embed["title"], "❌ Job failed · X1C-07");
        assert_eq!(
            embed["description"],
            "Spaghetti detected: first-layer adhesion lost"
        );
        assert_eq!(field(embed, "Job")["value"], "benchy.3mf");
        assert_eq!(field(embed, "Job")["inline"], false);
        assert_eq!(field(embed, "Progress")["value"], "62%");
        assert_eq!(field(embed, "Progress")["inline"], true);
        assert_eq!(field(embed, "Duration")["value"], "1 h 00 min");
        assert_eq!(embed["color"], 0xE74C3C);
    }

    #[test]
    fn test_deliveries_are_marked_in_the_title() {
        let mut event = sample("printer.offline");
        assert_eq!(
            discord_message(std::slice::from_ref(&event))["embeds"][0]["title"],
            "[TEST] ⚠️ Printer offline · X1C-07"
        );
        event.test = false;
        assert_eq!(
            discord_message(&[event])["embeds"][0]["title"],
            "⚠️ Printer offline · X1C-07"
        );
    }

    #[test]
    fn an_hms_error_shows_the_printers_message_code_and_severity() {
        let message = discord_message(&[sample("printer.hms_error")]);
        let embed = &embeds(&message)[0];
        assert_eq!(embed["description"], "AMS slot 1 filament has run out.");
        assert_eq!(field(embed, "HMS code")["value"], "0700_2000_0002_0001");
        assert_eq!(field(embed, "Severity")["value"], "Error");
        assert!(embed.get("description").is_some());
    }

    #[test]
    fn events_without_a_story_have_no_description() {
        for id in ["job.started", "job.succeeded", "printer.online"] {
            let message = discord_message(&[sample(id)]);
            assert!(embeds(&message)[0].get("description").is_none(), "{id}");
        }
    }

    #[test]
    fn ten_events_give_ten_embeds_and_an_eleventh_waits_for_the_next_message() {
        let events: Vec<Event> = (0..11)
            .map(|n| {
                let mut event = sample("job.failed");
                event.id = format!("evt_{n}");
                event
            })
            .collect();
        let ten = discord_message(&events[..10]);
        check_limits(&ten);
        assert_eq!(embeds(&ten).len(), 10);
        let eleven = discord_message(&events);
        check_limits(&eleven);
        let footers: Vec<_> = embeds(&eleven)
            .iter()
            .map(|e| e["footer"]["text"].as_str().unwrap())
            .collect();
        let expected: Vec<_> = (0..10).map(|n| format!("farmhook · evt_{n}")).collect();
        assert_eq!(footers, expected);
    }

    #[test]
    fn mentions_never_ping_and_user_text_is_kept_as_written() {
        let mut event = sample("job.failed");
        event.printer.as_mut().unwrap().name = "@everyone".into();
        event.job.as_mut().unwrap().name = "**bold** <@123> @here `x`".into();
        let message = discord_message(&[event]);
        assert_eq!(message["allowed_mentions"], json!({"parse": []}));
        assert_eq!(message["username"], "farmhook");
        assert!(message.get("content").is_none());
        let embed = &embeds(&message)[0];
        assert_eq!(embed["title"], "[TEST] ❌ Job failed · @everyone");
        assert_eq!(field(embed, "Job")["value"], "**bold** <@123> @here `x`");
    }

    #[test]
    fn blank_texts_become_a_dash_and_never_an_empty_field() {
        let mut event = sample("printer.hms_warning");
        let printer = event.printer.as_mut().unwrap();
        printer.name = "  ".into();
        printer.model = String::new();
        event.id = String::new();
        let hms = event.hms.as_mut().unwrap();
        hms.code = String::new();
        hms.message = "\n\t ".into();
        let message = discord_message(&[event]);
        check_limits(&message);
        let embed = &embeds(&message)[0];
        assert_eq!(embed["title"], "[TEST] ⚠️ Printer HMS warning");
        assert!(embed.get("description").is_none());
        assert_eq!(field(embed, "Printer")["value"], "—");
        assert_eq!(field(embed, "Model")["value"], "—");
        assert_eq!(field(embed, "HMS code")["value"], "—");
    }

    fn huge_job(n: usize) -> Event {
        let mut event = sample("job.failed");
        event.id = format!("evt_{n}");
        let job = event.job.as_mut().unwrap();
        job.name = "j".repeat(10_000);
        job.reason = Some("r".repeat(50_000));
        event
    }

    fn huge_hms(n: usize) -> Event {
        let mut event = sample("printer.hms_error");
        event.id = format!("evt_{n}");
        event.printer.as_mut().unwrap().name = "🦀".repeat(10_000);
        event.hms.as_mut().unwrap().message = "é".repeat(50_000);
        event
    }

    #[test]
    fn one_huge_event_is_cut_to_each_limit_with_an_ellipsis() {
        let message = discord_message(&[huge_job(0)]);
        check_limits(&message);
        let embed = &embeds(&message)[0];
        let job = field(embed, "Job")["value"].as_str().unwrap();
        assert!(job.starts_with("jjj") && job.ends_with('…'), "{job}");
        let description = embed["description"].as_str().unwrap();
        assert!(description.starts_with("rrr") && description.ends_with('…'));
        // The short texts stay whole.
        assert_eq!(field(embed, "Progress")["value"], "62%");
        assert_eq!(embed["footer"]["text"], "farmhook · evt_0");

        let message = discord_message(&[huge_hms(0)]);
        check_limits(&message);
        let embed = &embeds(&message)[0];
        let title = embed["title"].as_str().unwrap();
        assert!(
            title.starts_with("[TEST] ❌ Printer HMS error · 🦀🦀"),
            "{title}"
        );
        assert!(title.ends_with("🦀…"), "{title}");
        assert_eq!(field(embed, "HMS code")["value"], "0700_2000_0002_0001");
    }

    #[test]
    fn ten_huge_events_share_the_6000_characters_and_each_keeps_its_story() {
        let events: Vec<Event> = (0..10)
            .map(|n| if n % 2 == 0 { huge_job(n) } else { huge_hms(n) })
            .collect();
        let message = discord_message(&events);
        check_limits(&message);
        for (n, embed) in embeds(&message).iter().enumerate() {
            assert_eq!(embed["footer"]["text"], format!("farmhook · evt_{n}"));
            let description = embed["description"].as_str().unwrap();
            assert!(description.chars().count() > 100, "{n}: {description}");
        }
    }

    #[test]
    fn the_limit_checker_names_what_is_broken() {
        assert!(limit_violations(&discord_message(&[sample("job.failed")])).is_empty());
        let broken = json!({
            "username": "farmhook",
            "embeds": [
                {"title": "t".repeat(257), "fields": [{"name": "Job", "value": " "}]},
                {"description": "d".repeat(4096)},
                {"description": "d".repeat(2000), "footer": {"text": "f"}},
            ],
        });
        let problems = limit_violations(&broken).join("\n");
        assert!(problems.contains("embeds[0].title has 257"), "{problems}");
        assert!(
            problems.contains("embeds[0].fields[0].value is empty"),
            "{problems}"
        );
        assert!(problems.contains("total 6358"), "{problems}");
        assert!(problems.contains("allowed_mentions"), "{problems}");
        let too_many = json!({
            "embeds": vec![json!({"title": "t"}); 11],
            "allowed_mentions": {"parse": []},
        });
        assert!(limit_violations(&too_many).join("\n").contains("11 embeds"));
    }

    /// Text as printers and users write it: any character, with emoji,
    /// accents, newlines, markdown and mentions more likely than chance, from
    /// empty to longer than any limit.
    fn wild_text() -> impl Strategy<Value = String> {
        // Long texts repeat a short random piece: generating thousands of
        // characters one by one would make each case slow without finding
        // anything new.
        (
            proptest::collection::vec(any::<u32>(), 0..40),
            prop_oneof![3 => Just(1usize), 1 => 1..300usize],
        )
            .prop_map(|(piece, times)| {
                piece
                    .into_iter()
                    .map(wild_char)
                    .collect::<String>()
                    .repeat(times)
            })
    }

    /// A character from a random number: a quarter of them the awkward ones
    /// real text brings (emoji, accents, joiners, newlines, markdown,
    /// mentions), a quarter plain letters, the rest any character at all.
    fn wild_char(n: u32) -> char {
        const AWKWARD: &[char] = &[
            ' ', '\n', '\r', '\t', '🦀', 'é', '@', '*', '_', '`', '\u{200D}', '\u{FE0F}', '\u{301}',
        ];
        let rest = n / 4;
        match n % 4 {
            0 => AWKWARD[rest as usize % AWKWARD.len()],
            1 => char::from(b'a' + (rest % 26) as u8),
            _ => char::from_u32(rest % 0x11_0000).unwrap_or('\u{FFFD}'),
        }
    }

    fn wild_event() -> impl Strategy<Value = Event> {
        (
            0..EventType::all().count(),
            any::<bool>(),
            wild_text(),
            wild_text(),
            wild_text(),
            proptest::option::of(wild_text()),
            wild_text(),
            any::<f64>(),
            proptest::option::of(any::<u64>()),
        )
            .prop_map(
                |(kind, test, printer, id, name, reason, message, progress, duration)| {
                    let event_type = EventType::all().nth(kind).unwrap();
                    let mut event = Event::sample(event_type, format!("evt_{id}"), now());
                    event.test = test;
                    if let Some(p) = event.printer.as_mut() {
                        p.name = printer.clone();
                        p.model = printer;
                    }
                    if let Some(hms) = event.hms.as_mut() {
                        hms.code = name.clone();
                        hms.message = message;
                    }
                    if let Some(job) = event.job.as_mut() {
                        job.name = name;
                        job.reason = reason;
                        job.progress = progress;
                        job.duration_s = duration;
                    }
                    event
                },
            )
    }

    proptest::proptest! {
        #[test]
        fn any_texts_in_any_number_of_events_stay_within_every_limit(
            events in proptest::collection::vec(wild_event(), 1..13)
        ) {
            let message = discord_message(&events);
            let problems = limit_violations(&message);
            prop_assert!(problems.is_empty(), "{}", problems.join("\n"));
            prop_assert_eq!(
                embeds(&message).len(),
                events.len().min(MAX_EMBEDS_PER_MESSAGE)
            );
        }
    }
}
