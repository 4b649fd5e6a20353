//! One delivery from start to end: build the request, send it, read the
//! answer, wait and retry as the rules say, and record every attempt.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::body::Bytes;
use time::OffsetDateTime;

use super::discord::RateLimitState;
use super::http::{self, HttpAnswer, HttpConfig};
use super::log::{
    AttemptDetail, AttemptRecord, DeliveryId, DeliveryRecord, Detail, EventRef, Excerpt,
    LoggedHeader, Outcome, REQUEST_EXCERPT_BYTES, RESPONSE_EXCERPT_BYTES,
};
use super::retry::{RetryPolicy, Verdict, classify, parse_retry_after};
pub use super::target::Target;
use crate::build_info;
use crate::core::payload::Event;
use crate::core::redact::Scrubbers;
use crate::core::summary::Summary;

/// Everything a delivery needs besides its target and events.
pub struct DeliveryContext<'a> {
    pub client: &'a http::HttpClient,
    pub http: &'a HttpConfig,
    pub retry: &'a RetryPolicy,
    /// Discord's bucket for this webhook; `None` for the custom webhook.
    pub rate_limit: Option<&'a mut RateLimitState>,
    /// Called with the record whenever it changes (attempt ended, waiting).
    pub on_change: &'a (dyn Fn(&DeliveryRecord) + Send + Sync),
    /// Becomes true when the app is closing: stop and say so.
    pub cancelled: &'a tokio::sync::watch::Receiver<bool>,
    /// Wall clock for records and `webhook-timestamp`.
    pub now: &'a (dyn Fn() -> OffsetDateTime + Send + Sync),
    /// Random number in 0..1 for jitter.
    pub jitter: &'a (dyn Fn() -> f64 + Send + Sync),
    /// Every known secret of the profile and the target's own: answers are
    /// scrubbed with them before anything records them.
    pub scrub: Scrubbers<'a>,
    /// Events summarised rather than sent, told in this Discord message.
    pub summary: Option<&'a Summary>,
    /// Holds the destination's pause reason once it is paused; a wait to
    /// retry then ends at once. `None` for tests, which a pause does not stop.
    pub paused: Option<tokio::sync::watch::Receiver<Option<String>>>,
}

/// How a delivery ended, for the worker's health bookkeeping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    Delivered,
    Failed,
    /// The destination cannot work until the user acts (deleted webhook).
    FailedAndPause(String),
    CutShort,
    /// The destination was paused while this waited to retry.
    Paused,
}

/// A new record for events about to be sent.
pub fn new_record(
    id: DeliveryId,
    target: &Target,
    events: &[Event],
    started_at: OffsetDateTime,
) -> DeliveryRecord {
    DeliveryRecord {
        id,
        destination: target.destination(),
        events: events
            .iter()
            .map(|e| EventRef {
                event_type: e.event_type,
                id: e.id.clone(),
                printer: e.printer.as_ref().map(|p| p.name.clone()),
            })
            .collect(),
        test: events.iter().any(|e| e.test),
        started_at,
        outcome: Outcome::InProgress,
        target: target.shown(),
        attempts: Arc::new([]),
        error: None,
        total_ms: None,
        next_attempt_at: None,
        detail: None,
    }
}

/// How long a first attempt runs before its record is told as "sending":
/// a fast answer makes that version pointless (and it costs a copy, the
/// log's lock and a message to the window per delivery).
const TELL_SENDING_AFTER: Duration = Duration::from_millis(100);

/// Sends `events` to `target` until delivered, given up, or cancelled. The
/// record is told through `on_change` as it waits, once its first attempt
/// has taken [`TELL_SENDING_AFTER`], after each failed attempt, and at the end.
pub async fn deliver(
    ctx: DeliveryContext<'_>,
    record: &mut DeliveryRecord,
    target: &Target,
    events: &[Event],
) -> Ending {
    let DeliveryContext {
        client,
        http,
        retry,
        mut rate_limit,
        on_change,
        cancelled,
        now,
        jitter,
        scrub,
        summary,
        mut paused,
    } = ctx;
    let started = Instant::now();
    // Made once: every attempt sends these bytes, and the record keeps them
    // (exactly as long as they are: the log may hold 100,000 of them).
    let mut body = target.body(events, summary);
    body.shrink_to_fit();
    let body = Bytes::from(body);
    // Some services take their secrets in the body (Pushover's token):
    // the excerpt is scrubbed like an answer.
    record.detail = Some(Arc::new(Detail {
        request_body: Excerpt::shared(&body, REQUEST_EXCERPT_BYTES, scrub).0,
        attempts: Vec::new(),
    }));
    let mut wait = Duration::ZERO;
    let mut cancelled = cancelled.clone();
    // Whether a version of the record has been told (published) yet.
    let mut told = false;
    let finish = |record: &mut DeliveryRecord, outcome: Outcome, error: Option<String>| {
        record.next_attempt_at = None;
        record.outcome = outcome;
        record.error = error;
        record.total_ms = Some(started.elapsed().as_millis() as u64);
        on_change(record);
    };

    for number in 1..=retry.max_attempts.max(1) {
        if let Some(limit) = rate_limit.as_deref() {
            wait = wait.max(limit.wait_needed(Instant::now()));
        }
        if !wait.is_zero() {
            record.next_attempt_at = time::Duration::try_from(wait).ok().map(|w| now() + w);
            on_change(record);
            told = true;
            let pause = async {
                let reason = match paused.as_mut() {
                    Some(p) => p
                        .wait_for(Option::is_some)
                        .await
                        .ok()
                        .map(|reason| reason.clone().unwrap_or_default()),
                    None => None,
                };
                match reason {
                    Some(reason) => reason,
                    None => std::future::pending().await,
                }
            };
            let cut = tokio::select! {
                _ = tokio::time::sleep(wait) => false,
                _ = cancelled.wait_for(|c| *c) => true,
                reason = pause => {
                    let error = format!(
                        "not sent: {} was paused while this waited to retry ({reason}); press Resume",
                        target.destination().label()
                    );
                    finish(record, Outcome::Failed, Some(error));
                    return Ending::Paused;
                }
            };
            record.next_attempt_at = None;
            if cut {
                let error = format!(
                    "cut short: farmhook was closed while waiting {:.1} s before attempt {number} of {}",
                    wait.as_secs_f32(),
                    retry.max_attempts
                );
                finish(record, Outcome::Failed, Some(error));
                return Ending::CutShort;
            }
        }
        if *cancelled.borrow() {
            finish(
                record,
                Outcome::Failed,
                Some("cut short: farmhook was closed before it was sent".into()),
            );
            return Ending::CutShort;
        }

        let attempt_start = now();
        let (request, request_headers) =
            build_request(client, target, events, &body, attempt_start);
        let send = http::send(request, http.body_cap, http.total_timeout);
        tokio::pin!(send);
        let mut result = None;
        if !told && number == 1 {
            // Not told yet: most answers come before anyone could see a
            // "sending" row, which is then not worth a version of its own.
            tokio::select! {
                r = &mut send => result = Some(Some(r)),
                _ = cancelled.wait_for(|c| *c) => result = Some(None),
                _ = tokio::time::sleep(TELL_SENDING_AFTER) => {
                    told = true;
                    on_change(record);
                }
            }
        }
        let result = match result {
            Some(result) => result,
            None => tokio::select! {
                r = &mut send => Some(r),
                _ = cancelled.wait_for(|c| *c) => None,
            },
        };
        let Some(result) = result else {
            let error = format!(
                "cut short: farmhook was closed during attempt {number}; the server may or may not have received it"
            );
            finish(record, Outcome::Failed, Some(error));
            return Ending::CutShort;
        };
        let mut attempt = AttemptRecord {
            number,
            started_at: attempt_start,
            waited_ms: wait.as_millis() as u64,
            status: None,
            latency_ms: 0,
            error: None,
        };
        let mut detail = AttemptDetail {
            request_headers,
            ..AttemptDetail::default()
        };
        let answer = match result {
            Ok(answer) => answer,
            Err(failure) => {
                attempt.latency_ms = failure.latency.as_millis() as u64;
                let words = scrub.scrub(&failure.words).into_owned();
                attempt.error = Some(words.clone());
                record.push_attempt(attempt, detail);
                if number == retry.max_attempts {
                    let error = format!("gave up after {number} attempts: {words}");
                    finish(record, Outcome::Failed, Some(error));
                    return Ending::Failed;
                }
                wait = retry.backoff(number, jitter());
                on_change(record);
                continue;
            }
        };
        attempt.status = Some(answer.status);
        attempt.latency_ms = answer.latency.as_millis() as u64;
        // An answer may echo a secret it was sent (a 401 repeating the
        // key): scrubbed before it is kept anywhere.
        let (kept, cut) = Excerpt::received(&answer.body, RESPONSE_EXCERPT_BYTES, scrub);
        detail.response_excerpt = kept;
        detail.response_truncated = cut || answer.truncated;
        if let Some(limit) = rate_limit.as_deref_mut() {
            target.observe(&answer, limit, Instant::now(), retry.max_server_wait);
        }
        let refused = target.refused_despite_success(&answer);
        let verdict = match classify(answer.status) {
            // A 2xx that says no (Telegram's `ok:false`) is final: sending
            // the same message again gets the same answer.
            Verdict::Delivered if refused.is_some() => Verdict::Final,
            verdict => verdict,
        };
        if verdict == Verdict::Delivered {
            detail.response_headers = scrubbed_headers(answer.headers, scrub);
            record.push_attempt(attempt, detail);
            finish(record, Outcome::Delivered, None);
            return Ending::Delivered;
        }
        let words = match refused {
            Some(words) => scrub.scrub(&words).into_owned(),
            None => scrub.scrub(&status_words(target, &answer)).into_owned(),
        };
        attempt.error = Some(words.clone());
        // Failures are rare: a copy of the headers here costs nothing.
        detail.response_headers = scrubbed_headers(answer.headers.clone(), scrub);
        record.push_attempt(attempt, detail);
        if verdict == Verdict::Final || number == retry.max_attempts {
            let error = if verdict == Verdict::Final {
                words.clone()
            } else {
                format!("gave up after {number} attempts: {words}")
            };
            finish(record, Outcome::Failed, Some(error));
            return match target.pause_reason(&answer) {
                Some(reason) => Ending::FailedAndPause(reason),
                None => Ending::Failed,
            };
        }
        // A retry: the server's wait if it gave one, else backoff.
        let backoff = retry.backoff(number, jitter());
        let asked = target
            .asked_wait(&answer)
            .or_else(|| answer.header("retry-after").and_then(parse_retry_after));
        wait = match asked {
            Some(_) => retry.server_wait(asked, backoff),
            None => backoff,
        };
        // A 429 holds back everything to this channel's bucket, not only
        // this delivery.
        if answer.status == 429
            && let Some(limit) = rate_limit.as_deref_mut()
        {
            limit.block_for(Instant::now(), wait);
        }
        on_change(record);
    }
    // The loop always returns on its last attempt.
    finish(record, Outcome::Failed, Some("gave up".into()));
    Ending::Failed
}

/// Response headers with every known secret masked in their values.
fn scrubbed_headers(
    mut headers: Vec<(String, String)>,
    scrub: Scrubbers<'_>,
) -> Vec<(String, String)> {
    for (_, value) in &mut headers {
        scrub.scrub_string(value);
    }
    headers
}

/// The request for one attempt and its headers as they may be logged.
fn build_request(
    client: &http::HttpClient,
    target: &Target,
    events: &[Event],
    body: &Bytes,
    at: OffsetDateTime,
) -> (reqwest::RequestBuilder, Vec<LoggedHeader>) {
    let mut shown: Vec<LoggedHeader> = Vec::with_capacity(6);
    shown.push((
        Cow::Borrowed("content-type"),
        Cow::Borrowed("application/json"),
    ));
    shown.push((
        Cow::Borrowed("user-agent"),
        Cow::Borrowed(build_info::USER_AGENT),
    ));
    let request = target.request(client, events, body, at, &mut shown);
    // Kept with the record (up to 100,000 of them): no spare room.
    shown.shrink_to_fit();
    let request = request
        .header(
            reqwest::header::CONTENT_TYPE,
            reqwest::header::HeaderValue::from_static("application/json"),
        )
        // The same bytes on every attempt: a shared handle, not a copy.
        .body(body.clone());
    (request, shown)
}

/// What a non-2xx answer means, in words: the channel's own words for
/// its service's answers first, then what any HTTP server's mean.
fn status_words(target: &Target, answer: &HttpAnswer) -> String {
    if let Some(words) = target.answer_words(answer) {
        return words;
    }
    let status = answer.status;
    let reason = answer.reason();
    match status {
        300..=399 => {
            let to = answer
                .header("location")
                .and_then(|l| url::Url::parse(l).ok())
                .and_then(|u| u.host_str().map(String::from))
                .map(|h| format!(" to {h}"))
                .unwrap_or_default();
            format!(
                "the endpoint answered {status} {reason} (a redirect{to}); farmhook never follows redirects, \
                 so the API key never reaches another host: use the final URL"
            )
        }
        408 => "the server timed out waiting for the request (408)".into(),
        429 => "the endpoint is rate limiting (429)".into(),
        500..=599 => format!(
            "the server had an error ({status} {reason}){}",
            answer.said()
        ),
        _ => format!("the endpoint answered {status} {reason}{}", answer.said()),
    }
}
