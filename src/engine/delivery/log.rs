//! The delivery log: one [`DeliveryRecord`] per delivery with every attempt,
//! kept in a bounded ring buffer and exportable as JSON Lines. Records are
//! built from redacted values only; no secret can reach them.
//!
//! A record is written once and then shared: the engine's log, the health
//! figures, the window's log and whoever waits for it hold the same record
//! (`Arc`), and its large parts (events, attempts, detail) are shared
//! between the versions of one record as it changes, so publishing a change
//! copies a few pointers, not the bodies.
//!
//! Every record keeps what its row and attempt lines show; only the newest
//! [`DETAIL_KEPT`] also keep the bytes sent and received ([`Detail`]): the
//! log then holds 100,000 records in about 45 MB.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::io::Write;
use std::sync::Arc;

use hyper::body::Bytes;
use serde::Serialize;
use time::OffsetDateTime;

use crate::core::redact::Scrubbers;

use crate::core::events::EventType;
use crate::core::payload::rfc3339_millis;
use crate::core::settings::Channel;

/// How many records the log keeps before dropping the oldest.
pub const DEFAULT_LOG_CAPACITY: usize = 100_000;
/// How much of a response body a record keeps.
pub const RESPONSE_EXCERPT_BYTES: usize = 4 * 1024;
/// How much of a request body a record keeps.
pub const REQUEST_EXCERPT_BYTES: usize = 16 * 1024;

/// Identifies a delivery; increases by one per delivery in an engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct DeliveryId(pub u64);

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Queued, being sent or waiting for a retry.
    InProgress,
    Delivered,
    /// Ended without a 2xx; `error` says why.
    Failed,
    /// Not sent because the event is unticked or the destination is off.
    Filtered,
    /// Not sent on its own: a burst brought more events than the
    /// destination's queue holds, so it was counted in a summary ("and 37
    /// more events"); `error` says where.
    Summarised,
}

impl Outcome {
    pub fn words(self) -> &'static str {
        match self {
            Outcome::InProgress => "sending",
            Outcome::Delivered => "delivered",
            Outcome::Failed => "failed",
            Outcome::Filtered => "filtered",
            Outcome::Summarised => "summarised",
        }
    }
}

/// One event inside a delivery (a Discord message may carry several).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventRef {
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub id: String,
    /// The printer it is about, by name, when there is one (the log tells
    /// a printer's events apart by it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub printer: Option<String>,
}

/// A header as logged: a name and a value, each either a fixed text or one
/// of its own (most names and many values are fixed, and cost nothing).
pub type LoggedHeader = (Cow<'static, str>, Cow<'static, str>);

/// How many of the newest records keep their [`Detail`] (the request body,
/// the headers, the answers' first bytes). Older ones keep what the log's
/// rows and every attempt's line show: 100,000 records with their details
/// would take some 140 MB (a real Discord answer alone brings 1.5 KB of
/// headers), without them about 45 MB.
pub const DETAIL_KEPT: usize = 1_000;

/// One HTTP attempt of a delivery, as the log shows it for every record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttemptRecord {
    /// 1 for the first try.
    pub number: u32,
    #[serde(with = "rfc3339_millis")]
    pub started_at: OffsetDateTime,
    /// How long farmhook waited before this attempt (backoff, rate limit).
    pub waited_ms: u64,
    pub status: Option<u16>,
    pub latency_ms: u64,
    /// What went wrong, in words; `None` for a 2xx.
    pub error: Option<String>,
}

/// What one attempt sent and received, byte for byte (secrets masked).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AttemptDetail {
    /// Request headers with secrets masked.
    pub request_headers: Vec<LoggedHeader>,
    /// Response headers as received, with secrets masked.
    pub response_headers: Vec<(String, String)>,
    /// The first bytes of the answer (scrubbed), shown as text.
    pub response_excerpt: Excerpt,
    /// The answer was longer than the excerpt (or than what was read).
    pub response_truncated: bool,
}

/// What a delivery sent and received: kept while its record is among the
/// newest [`DETAIL_KEPT`] of the log, then let go.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Detail {
    /// The request body (no secrets in it), cut at REQUEST_EXCERPT_BYTES:
    /// the very bytes that were sent, unless a secret had to be masked.
    pub request_body: Excerpt,
    /// One per attempt, in the order of `DeliveryRecord::attempts`.
    pub attempts: Vec<AttemptDetail>,
}

/// One delivery: an event (or a batch, for Discord) to one destination.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryRecord {
    pub id: DeliveryId,
    pub destination: Channel,
    pub events: Arc<[EventRef]>,
    /// Fired by Test / test-fire rather than by a printer.
    pub test: bool,
    pub started_at: OffsetDateTime,
    pub outcome: Outcome,
    /// The redacted target URL.
    pub target: Arc<str>,
    /// Every attempt so far, oldest first.
    pub attempts: Arc<[AttemptRecord]>,
    /// Why the delivery failed or was filtered, in words.
    pub error: Option<String>,
    /// From the start to the end of the delivery, waits included.
    pub total_ms: Option<u64>,
    /// While waiting to retry (or for Discord's rate limit): when the next
    /// attempt is due.
    pub next_attempt_at: Option<OffsetDateTime>,
    /// The bytes sent and received; `None` once the record is older than
    /// the newest [`DETAIL_KEPT`] (and for records never sent).
    pub detail: Option<Arc<Detail>>,
}

impl DeliveryRecord {
    /// The last HTTP status received, if any.
    pub fn status(&self) -> Option<u16> {
        self.attempts.last().and_then(|a| a.status)
    }

    /// The latency of the last attempt.
    pub fn latency_ms(&self) -> Option<u64> {
        self.attempts.last().map(|a| a.latency_ms)
    }

    /// The first event's type (the one a test fired).
    pub fn first_event(&self) -> Option<&EventRef> {
        self.events.first()
    }

    /// The request body as kept, while the detail is.
    pub fn request_body(&self) -> Option<&Excerpt> {
        self.detail.as_ref().map(|d| &d.request_body)
    }

    /// What attempt `index` (from 0) sent and received, while kept.
    pub fn attempt_detail(&self, index: usize) -> Option<&AttemptDetail> {
        self.detail.as_ref().and_then(|d| d.attempts.get(index))
    }

    /// Adds an attempt and what it sent and received. The earlier versions
    /// of the record (already published) keep theirs untouched.
    pub fn push_attempt(&mut self, attempt: AttemptRecord, detail: AttemptDetail) {
        self.attempts = self.attempts.iter().cloned().chain([attempt]).collect();
        Arc::make_mut(self.detail.get_or_insert_default())
            .attempts
            .push(detail);
    }

    /// The record as kept once its detail is let go: everything the log's
    /// row and attempt lines show, the rest shared with this one.
    pub fn without_detail(&self) -> DeliveryRecord {
        DeliveryRecord {
            detail: None,
            ..self.clone()
        }
    }
}

/// A record as exported (JSON Lines) and shown by `--json`: the attempts
/// carry their headers and answers while the detail is kept, and
/// `detail_kept` says whether it is.
impl Serialize for DeliveryRecord {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct AttemptView<'a> {
            #[serde(flatten)]
            attempt: &'a AttemptRecord,
            #[serde(flatten)]
            detail: Option<&'a AttemptDetail>,
        }
        #[derive(Serialize)]
        struct RecordView<'a> {
            id: DeliveryId,
            destination: Channel,
            events: &'a [EventRef],
            test: bool,
            #[serde(with = "rfc3339_millis")]
            started_at: OffsetDateTime,
            outcome: Outcome,
            target: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            request_body: Option<&'a Excerpt>,
            attempts: Vec<AttemptView<'a>>,
            error: &'a Option<String>,
            total_ms: Option<u64>,
            #[serde(
                with = "rfc3339_millis::option",
                skip_serializing_if = "Option::is_none"
            )]
            next_attempt_at: Option<OffsetDateTime>,
            detail_kept: bool,
        }
        RecordView {
            id: self.id,
            destination: self.destination,
            events: &self.events,
            test: self.test,
            started_at: self.started_at,
            outcome: self.outcome,
            target: &self.target,
            request_body: self.request_body(),
            attempts: (self.attempts.iter().enumerate())
                .map(|(i, attempt)| AttemptView {
                    attempt,
                    detail: self.attempt_detail(i),
                })
                .collect(),
            error: &self.error,
            total_ms: self.total_ms,
            next_attempt_at: self.next_attempt_at,
            detail_kept: self.detail.is_some(),
        }
        .serialize(s)
    }
}

/// Text of at most `max` bytes, cut at a char boundary, with a marker.
pub fn excerpt(bytes: &[u8], max: usize) -> (String, bool) {
    let cut = bytes.len() > max;
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(max)]).into_owned();
    (text, cut)
}

/// The first bytes of a body as a record keeps them, turned into text only
/// when someone reads it. The bytes are shared by every copy of the record
/// (its versions, the engine's log, the window's); a body that echoed a
/// secret is kept scrubbed instead.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Excerpt(Bytes);

impl Excerpt {
    /// The first `max` bytes of a body farmhook made (the request it
    /// sends), kept without a copy, scrubbed of every secret `scrub` knows;
    /// true when the body was longer (then the first part is copied, so
    /// the record never holds more than `max` bytes of it).
    pub fn shared(body: &Bytes, max: usize, scrub: Scrubbers<'_>) -> (Excerpt, bool) {
        if body.len() > max {
            return (Excerpt::received(body, max, scrub).0, true);
        }
        (Excerpt(body.clone()).scrubbed(scrub), false)
    }

    /// The first `max` bytes of a body received, copied once: a slice of
    /// an answer would keep the connection's whole read buffer (8 KiB or
    /// more) alive for as long as the record lives.
    pub fn received(body: &[u8], max: usize, scrub: Scrubbers<'_>) -> (Excerpt, bool) {
        let cut = body.len() > max;
        let kept = Excerpt(Bytes::copy_from_slice(&body[..body.len().min(max)]));
        (kept.scrubbed(scrub), cut)
    }

    fn scrubbed(self, scrub: Scrubbers<'_>) -> Excerpt {
        match scrub.scrub(&self.text()) {
            Cow::Borrowed(_) => self,
            Cow::Owned(clean) => Excerpt(Bytes::from(clean)),
        }
    }

    /// The excerpt as text (bytes that are not UTF-8 become `�`).
    pub fn text(&self) -> Cow<'_, str> {
        // The quick check first: bodies are nearly always UTF-8 (JSON).
        match std::str::from_utf8(&self.0) {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(&self.0),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Its length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

/// For records made by hand (tests, benchmarks): text known to hold no secret.
impl From<&str> for Excerpt {
    fn from(text: &str) -> Self {
        Excerpt(Bytes::copy_from_slice(text.as_bytes()))
    }
}

impl std::fmt::Debug for Excerpt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.text(), f)
    }
}

impl Serialize for Excerpt {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text())
    }
}

/// The bounded log. Newest records are at the back. Records are shared
/// (`Arc`) with whoever listens, so publishing one does not copy it.
#[derive(Debug)]
pub struct DeliveryLog {
    records: VecDeque<Arc<DeliveryRecord>>,
    capacity: usize,
}

impl DeliveryLog {
    pub fn new(capacity: usize) -> Self {
        DeliveryLog {
            records: VecDeque::with_capacity(capacity.min(1024)),
            capacity: capacity.max(1),
        }
    }

    /// Adds a record or replaces the one with the same id. Returns the
    /// record whose detail this let go, if any (the one that just left the
    /// newest [`DETAIL_KEPT`], or this one if it ended that far back), for
    /// whoever shares the log's records to take in its place.
    pub fn upsert(&mut self, record: Arc<DeliveryRecord>) -> Option<Arc<DeliveryRecord>> {
        // The log is kept in id order, and ids only grow, so the record is
        // nearly always at a known offset from the front, or the newest.
        let front = self.records.front().map_or(0, |r| r.id.0);
        let at = record.id.0.wrapping_sub(front) as usize;
        if self.records.get(at).is_some_and(|r| r.id == record.id) {
            self.records[at] = record;
            return self.let_detail_go(at);
        }
        let at = match self.records.back() {
            // Deliveries run side by side: one made later may be told first.
            Some(newest) if record.id <= newest.id => {
                match self.records.binary_search_by_key(&record.id, |r| r.id) {
                    Ok(at) => {
                        self.records[at] = record;
                        return self.let_detail_go(at);
                    }
                    // Older than everything kept in a full log: dropped.
                    Err(0) if self.records.len() == self.capacity => return None,
                    Err(at) => at,
                }
            }
            // A new newest one, added without looking through the log.
            _ => self.records.len(),
        };
        self.records.insert(at, record);
        if self.records.len() > self.capacity {
            self.records.pop_front();
        }
        let leaving = self.records.len().checked_sub(DETAIL_KEPT + 1)?;
        self.let_detail_go(leaving)
    }

    /// Drops the detail of the record at `at` if it has ended and is not
    /// among the newest [`DETAIL_KEPT`]; returns the record as now kept.
    fn let_detail_go(&mut self, at: usize) -> Option<Arc<DeliveryRecord>> {
        let newest = self.records.len();
        let slot = &mut self.records[at];
        if at + DETAIL_KEPT >= newest
            || slot.detail.is_none()
            || slot.outcome == Outcome::InProgress
        {
            return None;
        }
        *slot = Arc::new(slot.without_detail());
        Some(slot.clone())
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    pub fn clear(&mut self) {
        self.records.clear();
    }

    /// Oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &DeliveryRecord> + ExactSizeIterator {
        self.records.iter().map(|r| &**r)
    }

    pub fn get(&self, id: DeliveryId) -> Option<&DeliveryRecord> {
        self.iter().rev().find(|r| r.id == id)
    }

    /// The records, oldest first, sharing them rather than copying.
    pub fn snapshot(&self) -> Vec<Arc<DeliveryRecord>> {
        self.records.iter().cloned().collect()
    }

    /// Writes every record as one JSON object per line, oldest first.
    pub fn write_json_lines(&self, out: &mut impl Write) -> std::io::Result<usize> {
        write_json_lines(self.iter(), out)
    }
}

/// Writes records as JSON Lines; returns how many.
pub fn write_json_lines<'a>(
    records: impl Iterator<Item = &'a DeliveryRecord>,
    out: &mut impl Write,
) -> std::io::Result<usize> {
    let mut n = 0;
    for record in records {
        serde_json::to_writer(&mut *out, record)?;
        out.write_all(b"\n")?;
        n += 1;
    }
    Ok(n)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn record(id: u64) -> DeliveryRecord {
        DeliveryRecord {
            id: DeliveryId(id),
            destination: Channel::Discord,
            events: vec![EventRef {
                event_type: EventType::from_id("job.failed").unwrap(),
                id: format!("evt_{id}"),
                printer: None,
            }]
            .into(),
            test: true,
            started_at: OffsetDateTime::UNIX_EPOCH,
            outcome: Outcome::InProgress,
            target: "https://discord.com/api/v10/webhooks/1/••••••".into(),
            attempts: Arc::new([]),
            error: None,
            total_ms: None,
            next_attempt_at: None,
            detail: Some(Arc::new(Detail {
                request_body: "{}".into(),
                attempts: vec![],
            })),
        }
    }

    #[test]
    fn ring_buffer_keeps_the_newest_and_upserts_in_place() {
        let mut log = DeliveryLog::new(3);
        for id in 0..5 {
            log.upsert(Arc::new(record(id)));
        }
        let ids: Vec<_> = log.iter().map(|r| r.id.0).collect();
        assert_eq!(ids, [2, 3, 4]);
        let mut done = record(3);
        done.outcome = Outcome::Delivered;
        log.upsert(Arc::new(done));
        assert_eq!(log.len(), 3);
        assert_eq!(log.get(DeliveryId(3)).unwrap().outcome, Outcome::Delivered);
    }

    #[test]
    fn a_record_published_out_of_order_is_added_once_and_replaced_in_place() {
        let mut log = DeliveryLog::new(10);
        for id in [1, 3, 2] {
            log.upsert(Arc::new(record(id)));
        }
        // Both the one told last and the one told before it are found
        // (the second once went in again, beside itself).
        for id in [2, 3] {
            let mut done = record(id);
            done.outcome = Outcome::Delivered;
            log.upsert(Arc::new(done));
        }
        let ids: Vec<_> = log.iter().map(|r| (r.id.0, r.outcome)).collect();
        assert_eq!(
            ids,
            [
                (1, Outcome::InProgress),
                (2, Outcome::Delivered),
                (3, Outcome::Delivered)
            ]
        );
        // Full, a record older than every one kept is not taken in.
        let mut full = DeliveryLog::new(2);
        for id in [5, 6, 4] {
            full.upsert(Arc::new(record(id)));
        }
        let ids: Vec<_> = full.iter().map(|r| r.id.0).collect();
        assert_eq!(ids, [5, 6]);
    }

    fn ended(id: u64) -> Arc<DeliveryRecord> {
        let mut r = record(id);
        r.outcome = Outcome::Delivered;
        r.push_attempt(
            AttemptRecord {
                number: 1,
                started_at: OffsetDateTime::UNIX_EPOCH,
                waited_ms: 0,
                status: Some(204),
                latency_ms: 3,
                error: None,
            },
            AttemptDetail {
                response_excerpt: "ok".into(),
                ..AttemptDetail::default()
            },
        );
        Arc::new(r)
    }

    #[test]
    fn only_the_newest_records_keep_their_detail_and_the_others_are_handed_back() {
        let mut log = DeliveryLog::new(DETAIL_KEPT + 10);
        // Record 1 is still being sent when it leaves the newest: it keeps
        // its detail until it ends.
        assert_eq!(log.upsert(Arc::new(record(1))), None);
        for id in 2..=(DETAIL_KEPT as u64 + 2) {
            let let_go = log.upsert(ended(id));
            if id == DETAIL_KEPT as u64 + 2 {
                // Record 2 just left the newest DETAIL_KEPT.
                let slim = let_go.expect("record 2 let go");
                assert_eq!(slim.id, DeliveryId(2));
                assert_eq!(slim.detail, None);
                assert_eq!(slim.attempts.len(), 1, "its attempts stay");
                assert_eq!(slim.status(), Some(204));
            } else {
                assert_eq!(let_go, None, "record {id}");
            }
        }
        assert!(log.get(DeliveryId(1)).unwrap().detail.is_some());
        assert!(log.get(DeliveryId(2)).unwrap().detail.is_none());
        assert!(log.get(DeliveryId(3)).unwrap().detail.is_some());
        // Record 1 ends that far back: kept without its detail at once.
        let slim = log.upsert(ended(1)).expect("record 1 let go as it ends");
        assert_eq!((slim.id, slim.detail.is_none()), (DeliveryId(1), true));
        assert_eq!(log.get(DeliveryId(1)).unwrap().outcome, Outcome::Delivered);
        let kept = log.iter().filter(|r| r.detail.is_some()).count();
        assert_eq!(kept, DETAIL_KEPT);
    }

    #[test]
    fn the_export_says_whether_the_detail_is_kept() {
        let full = ended(1);
        let json = serde_json::to_value(&*full).unwrap();
        assert_eq!(json["detail_kept"], true);
        assert_eq!(json["request_body"], "{}");
        assert_eq!(json["attempts"][0]["status"], 204);
        assert_eq!(json["attempts"][0]["response_excerpt"], "ok");
        let slim = serde_json::to_value(full.without_detail()).unwrap();
        assert_eq!(slim["detail_kept"], false);
        assert!(slim.get("request_body").is_none());
        assert_eq!(slim["attempts"][0]["status"], 204);
        assert!(slim["attempts"][0].get("response_excerpt").is_none());
    }

    #[test]
    fn exports_one_json_object_per_line() {
        let mut log = DeliveryLog::new(10);
        log.upsert(Arc::new(record(1)));
        log.upsert(Arc::new(record(2)));
        let mut out = Vec::new();
        assert_eq!(log.write_json_lines(&mut out).unwrap(), 2);
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1]["id"], 2);
        assert_eq!(lines[1]["events"][0]["type"], "job.failed");
        assert_eq!(lines[1]["outcome"], "in_progress");
    }

    #[test]
    fn excerpts_cut_at_the_limit_without_splitting_a_char() {
        let (text, cut) = excerpt("é".repeat(10).as_bytes(), 5);
        assert!(cut);
        assert!(text.starts_with("éé"));
        assert_eq!(excerpt(b"ok", 5), ("ok".to_string(), false));
    }

    #[test]
    fn an_excerpt_shares_the_body_unless_a_secret_is_masked() {
        let mut secrets = crate::core::redact::Scrubber::default();
        secrets.add("a-long-enough-secret", "••••");
        let none = crate::core::redact::Scrubber::default();
        let scrub = Scrubbers::new(&secrets, &none);
        let body = Bytes::from(b"{\"ok\":true}".to_vec());
        let (kept, cut) = Excerpt::shared(&body, 1024, scrub);
        assert!(!cut);
        // The same bytes, not a copy.
        assert_eq!(kept.0.as_ptr(), body.as_ptr());
        assert_eq!(kept.text(), "{\"ok\":true}");
        // A longer body: only its first part is kept.
        let (first, cut) = Excerpt::shared(&body, 4, scrub);
        assert!(cut);
        assert_eq!(first.text(), "{\"ok");
        assert_eq!(first.0.len(), 4);
        let echo = Bytes::from_static(b"bad key a-long-enough-secret");
        let (clean, cut) = Excerpt::received(&echo, 1024, scrub);
        assert!(!cut);
        assert_eq!(clean.text(), "bad key ••••");
        assert_eq!(serde_json::to_string(&clean).unwrap(), "\"bad key ••••\"");
    }
}
