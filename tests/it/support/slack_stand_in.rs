//! A stand-in for Slack's incoming webhooks on 127.0.0.1: `POST
//! /services/T…/B…/<secret>` with a JSON (or `payload=` form) body, Slack's
//! plain-text answers (`ok`, `invalid_payload`, `no_text`, `invalid_blocks`,
//! `invalid_token`, `no_service`, `channel_is_archived`, `rate_limited` with
//! `Retry-After`), Block Kit's limits, and a per-webhook pace of about one
//! message a second with a small burst, as Slack allows.
//!
//! Unlike Slack it also refuses a message with an unescaped `<!…>` or `<@…>`
//! (which would ping a channel or a person) and records it as a ping, so
//! tests can assert none happened. Secrets are never stored where a test
//! could print them.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, Hasher};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde_json::Value;
use tokio::sync::watch;

use super::endpoint::{
    RecordedRequest, Reply, ServerTask, WAIT_LIMIT, bind_loopback, header_in, lock, serve_replies,
    spawn_server,
};

/// Slack's team id in the URLs this stand-in hands out.
pub const TEAM_ID: &str = "T0FARMHOOK";

// Block Kit's limits, from Slack's reference.
const MAX_BLOCKS: usize = 50;
const HEADER_TEXT_MAX: usize = 150;
const SECTION_TEXT_MAX: usize = 3000;
const MAX_FIELDS: usize = 10;
const FIELD_TEXT_MAX: usize = 2000;
const MAX_CONTEXT_ELEMENTS: usize = 10;
const TEXT_OBJECT_MAX: usize = 3000;
const BLOCK_ID_MAX: usize = 255;
/// Slack keeps this much of a message's `text` and drops the rest.
pub const TEXT_KEPT_CHARS: usize = 40_000;

/// How the stand-in paces each webhook.
#[derive(Debug, Clone)]
pub struct StandInConfig {
    /// Messages a webhook may post per second once its burst is spent
    /// (Slack: about 1).
    pub per_second: f64,
    /// Messages a webhook may post at once after a quiet spell.
    pub burst: u32,
}

impl Default for StandInConfig {
    fn default() -> Self {
        StandInConfig {
            per_second: 1.0,
            burst: 3,
        }
    }
}

/// An answer the stand-in gives instead of serving a request, scripted with
/// [`SlackStandIn::fail_next`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub status: u16,
    /// Slack's plain-text code, e.g. `rollup_error`.
    pub body: String,
    /// Seconds for a `Retry-After` header.
    pub retry_after: Option<u64>,
}

impl Failure {
    /// Any status with Slack's plain-text code as its body.
    pub fn new(status: u16, body: &str) -> Failure {
        Failure {
            status,
            body: body.into(),
            retry_after: None,
        }
    }

    /// `429 rate_limited` with `Retry-After: <seconds>`.
    pub fn rate_limited(seconds: u64) -> Failure {
        Failure {
            retry_after: Some(seconds),
            ..Failure::new(429, "rate_limited")
        }
    }

    /// `500 rollup_error`: Slack's "something strange happened".
    pub fn server_error() -> Failure {
        Failure::new(500, "rollup_error")
    }

    /// `404 no_service`: the webhook was removed.
    pub fn no_service() -> Failure {
        Failure::new(404, "no_service")
    }

    /// `410 channel_is_archived`.
    pub fn channel_is_archived() -> Failure {
        Failure::new(410, "channel_is_archived")
    }

    /// `403 action_prohibited`: an admin restricted the webhook.
    pub fn action_prohibited() -> Failure {
        Failure::new(403, "action_prohibited")
    }

    /// `403 invalid_token`.
    pub fn invalid_token() -> Failure {
        Failure::new(403, "invalid_token")
    }

    fn reply(&self) -> Reply {
        let reply = slack_reply(self.status, &self.body);
        match self.retry_after {
            Some(seconds) => reply.header("retry-after", seconds.to_string()),
            None => reply,
        }
    }
}

/// A message Slack would have posted (answered `200 ok`).
#[derive(Debug, Clone)]
pub struct ReceivedMessage {
    /// `T…/B…` of the webhook it was posted to.
    pub webhook: String,
    /// The JSON payload as sent.
    pub body: Value,
    /// Its `text`, as much as Slack keeps.
    pub text: String,
    /// Its `blocks` (empty when none).
    pub blocks: Vec<Value>,
    /// Names in lower case, values as sent.
    pub headers: Vec<(String, String)>,
    pub at: Instant,
}

impl ReceivedMessage {
    /// The first value of a request header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        header_in(&self.headers, name)
    }

    /// The texts of its header blocks, in order: one per event.
    pub fn header_texts(&self) -> Vec<String> {
        self.blocks
            .iter()
            .filter(|b| b["type"] == "header")
            .filter_map(|b| b["text"]["text"].as_str().map(String::from))
            .collect()
    }
}

/// Any request the stand-in answered.
#[derive(Debug, Clone)]
pub struct SeenRequest {
    pub method: String,
    /// Path with the secret replaced by `<token>`.
    pub path_without_secret: String,
    pub status: u16,
    /// What the stand-in answered (Slack's code, or `ok`).
    pub answer: String,
    /// Why a message was refused, in words (empty when it was not).
    pub problems: Vec<String>,
    pub headers: Vec<(String, String)>,
    pub at: Instant,
}

impl SeenRequest {
    /// The first value of a request header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        header_in(&self.headers, name)
    }
}

/// What became of a webhook in Slack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HookState {
    Active,
    /// Its channel was archived: `410 channel_is_archived`.
    Archived,
    /// It was removed: `404 no_service`.
    Deleted,
}

struct Hook {
    secret: String,
    state: HookState,
}

/// A webhook's token bucket: up to `burst` tokens, refilled at `per_second`.
struct Bucket {
    tokens: f64,
    at: Instant,
}

struct Inner {
    hooks: HashMap<String, Hook>,
    buckets: HashMap<String, Bucket>,
    failures: VecDeque<Failure>,
    received: Vec<ReceivedMessage>,
    seen: Vec<SeenRequest>,
    pings: Vec<String>,
    next_id: u64,
}

struct State {
    config: StandInConfig,
    inner: Mutex<Inner>,
    received_count: watch::Sender<usize>,
}

/// Slack's incoming webhooks, on 127.0.0.1. Stops when dropped.
pub struct SlackStandIn {
    addr: SocketAddr,
    state: Arc<State>,
    _server: ServerTask,
}

impl SlackStandIn {
    /// One message a second per webhook with a burst of 3, like Slack.
    pub async fn start() -> SlackStandIn {
        Self::start_with(StandInConfig::default()).await
    }

    /// With its own pace, e.g. a fast one for tests about other things.
    pub async fn start_with(config: StandInConfig) -> SlackStandIn {
        assert!(
            config.burst > 0 && config.per_second > 0.0,
            "a webhook may post at least one message"
        );
        let listener = bind_loopback().await;
        let addr = listener.local_addr().expect("bound address");
        let state = Arc::new(State {
            config,
            inner: Mutex::new(Inner {
                hooks: HashMap::new(),
                buckets: HashMap::new(),
                failures: VecDeque::new(),
                received: Vec::new(),
                seen: Vec::new(),
                pings: Vec::new(),
                next_id: 0,
            }),
            received_count: watch::Sender::new(0),
        });
        let served = state.clone();
        let server = spawn_server(listener, move |stream| {
            let state = served.clone();
            serve_replies(stream, move |request| state.handle(request))
        });
        SlackStandIn {
            addr,
            state,
            _server: server,
        }
    }

    /// For `FARMHOOK_SLACK_API_BASE`: `http://127.0.0.1:PORT`, which
    /// replaces `https://hooks.slack.com`.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A new webhook, as Slack hands it out:
    /// `https://hooks.slack.com/services/T…/B…/<secret>`.
    pub fn webhook_url(&self) -> String {
        let mut inner = lock(&self.state.inner);
        inner.next_id += 1;
        let webhook_id = format!("B{:010}", inner.next_id);
        let secret = random_secret();
        inner.hooks.insert(
            webhook_id.clone(),
            Hook {
                secret: secret.clone(),
                state: HookState::Active,
            },
        );
        format!("https://hooks.slack.com/services/{TEAM_ID}/{webhook_id}/{secret}")
    }

    /// Where farmhook posts for a webhook URL (the host replaced by
    /// [`base`](Self::base)), for plain-HTTP tests.
    pub fn api_url(&self, webhook_url: &str) -> String {
        let path = webhook_url
            .trim()
            .strip_prefix("https://hooks.slack.com")
            .expect("a https://hooks.slack.com/… URL");
        format!("{}{path}", self.base())
    }

    /// The next `n` posts (to any webhook) get `failure` instead of being
    /// served, after any failures scripted before.
    pub fn fail_next(&self, n: usize, failure: Failure) {
        let mut inner = lock(&self.state.inner);
        inner.failures.extend(std::iter::repeat_n(failure, n));
    }

    /// From now on, posts to this webhook get `410 channel_is_archived`.
    pub fn archive_channel(&self, webhook_url: &str) {
        self.set_hook_state(webhook_url, HookState::Archived);
    }

    /// From now on, posts to this webhook get `404 no_service`.
    pub fn delete_webhook(&self, webhook_url: &str) {
        self.set_hook_state(webhook_url, HookState::Deleted);
    }

    /// Undoes [`archive_channel`](Self::archive_channel) (Slack lets a
    /// channel be unarchived).
    pub fn unarchive_channel(&self, webhook_url: &str) {
        self.set_hook_state(webhook_url, HookState::Active);
    }

    fn set_hook_state(&self, webhook_url: &str, state: HookState) {
        let webhook_id = webhook_url
            .trim()
            .split('/')
            .find(|s| s.starts_with('B'))
            .expect("a URL with a B… webhook id");
        let mut inner = lock(&self.state.inner);
        let hook = inner
            .hooks
            .get_mut(webhook_id)
            .unwrap_or_else(|| panic!("webhook {webhook_id} was not made by this stand-in"));
        hook.state = state;
    }

    /// Every message answered `200 ok`, in order.
    pub fn received(&self) -> Vec<ReceivedMessage> {
        lock(&self.state.inner).received.clone()
    }

    /// Every request, whatever the answer, in order.
    pub fn requests(&self) -> Vec<SeenRequest> {
        lock(&self.state.inner).seen.clone()
    }

    /// The texts that would have pinged someone (`<!channel>`, `<@U…>`);
    /// empty when farmhook escaped everything.
    pub fn pings(&self) -> Vec<String> {
        lock(&self.state.inner).pings.clone()
    }

    /// How many requests were answered 429.
    pub fn count_429(&self) -> usize {
        lock(&self.state.inner)
            .seen
            .iter()
            .filter(|r| r.status == 429)
            .count()
    }

    /// Waits until `n` messages were accepted (fails the test after 10 s).
    pub async fn wait_for_received(&self, n: usize) {
        let mut rx = self.state.received_count.subscribe();
        let reached = tokio::time::timeout(WAIT_LIMIT, rx.wait_for(|&have| have >= n)).await;
        assert!(
            matches!(reached, Ok(Ok(_))),
            "Slack stand-in accepted only {} of {n} messages within {WAIT_LIMIT:?}",
            *self.state.received_count.borrow()
        );
    }
}

fn random_secret() -> String {
    const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let seed = RandomState::new();
    (0..24)
        .map(|i| {
            let mut h = seed.build_hasher();
            h.write_usize(i);
            ALPHABET[(h.finish() % 62) as usize] as char
        })
        .collect()
}

/// Slack's answers are a short plain-text body (`ok` or an error code).
fn slack_reply(status: u16, body: &str) -> Reply {
    Reply {
        status,
        headers: vec![("content-type".into(), "text/html".into())],
        body: body.as_bytes().to_vec(),
    }
}

/// The path with the segment after `/services/T…/B…/` replaced by `<token>`.
fn redact(path: &str) -> String {
    let mut segments: Vec<&str> = path
        .split('?')
        .next()
        .unwrap_or_default()
        .split('/')
        .collect();
    if segments.get(1) == Some(&"services") && segments.len() > 4 {
        segments[4] = "<token>";
    }
    segments.join("/")
}

/// What the stand-in decided about one request.
struct Outcome {
    reply: Reply,
    problems: Vec<String>,
}

impl From<Reply> for Outcome {
    fn from(reply: Reply) -> Outcome {
        Outcome {
            reply,
            problems: Vec::new(),
        }
    }
}

impl State {
    fn handle(&self, request: RecordedRequest) -> Reply {
        let now = Instant::now();
        let mut inner = lock(&self.inner);
        let path = request
            .path
            .split('?')
            .next()
            .unwrap_or_default()
            .to_string();
        let segments: Vec<&str> = path.split('/').collect();
        let outcome = match (segments.as_slice(), request.method.as_str()) {
            (["", "services", team, hook, secret], "POST") => {
                self.post(&mut inner, team, hook, secret, &request, now)
            }
            (["", "services", ..], "POST") => slack_reply(404, "no_service").into(),
            (["", "services", ..], _) => slack_reply(405, "invalid_method").into(),
            _ => slack_reply(404, "Not Found").into(),
        };
        inner.seen.push(SeenRequest {
            method: request.method.clone(),
            path_without_secret: redact(&path),
            status: outcome.reply.status,
            answer: String::from_utf8_lossy(&outcome.reply.body).into_owned(),
            problems: outcome.problems,
            headers: request.headers,
            at: request.at,
        });
        outcome.reply
    }

    fn post(
        &self,
        inner: &mut Inner,
        team: &str,
        webhook_id: &str,
        secret: &str,
        request: &RecordedRequest,
        now: Instant,
    ) -> Outcome {
        if let Some(failure) = inner.failures.pop_front() {
            return failure.reply().into();
        }
        let Some(hook) = inner.hooks.get(webhook_id).filter(|_| team == TEAM_ID) else {
            return slack_reply(404, "no_service").into();
        };
        if hook.secret != secret {
            return slack_reply(403, "invalid_token").into();
        }
        match hook.state {
            HookState::Deleted => return slack_reply(404, "no_service").into(),
            HookState::Archived => return slack_reply(410, "channel_is_archived").into(),
            HookState::Active => {}
        }
        if let Err(wait) = self.take_token(inner, webhook_id, now) {
            return slack_reply(429, "rate_limited")
                .header("retry-after", wait.to_string())
                .into();
        }
        let body = match payload(request) {
            Some(body) => body,
            None => {
                return Outcome {
                    reply: slack_reply(400, "invalid_payload"),
                    problems: vec!["the body is not a JSON object (nor a payload= form)".into()],
                };
            }
        };
        let pings = pings_in(&body);
        if !pings.is_empty() {
            inner.pings.extend(pings.iter().cloned());
            return Outcome {
                reply: slack_reply(400, "invalid_payload"),
                problems: pings.iter().map(|p| format!("would ping: {p:?}")).collect(),
            };
        }
        let problems = block_problems(&body);
        if !problems.is_empty() {
            return Outcome {
                reply: slack_reply(400, "invalid_blocks"),
                problems,
            };
        }
        let text = body.get("text").and_then(Value::as_str).unwrap_or_default();
        let blocks = body
            .get("blocks")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if text.trim().is_empty() && blocks.is_empty() {
            return Outcome {
                reply: slack_reply(400, "no_text"),
                problems: vec!["the message has neither text nor blocks".into()],
            };
        }
        inner.received.push(ReceivedMessage {
            webhook: format!("{team}/{webhook_id}"),
            text: text.chars().take(TEXT_KEPT_CHARS).collect(),
            blocks,
            body,
            headers: request.headers.clone(),
            at: request.at,
        });
        self.received_count.send_replace(inner.received.len());
        slack_reply(200, "ok").into()
    }

    /// Spends one of the webhook's tokens, or says how many whole seconds
    /// until one is back (Slack's `Retry-After` is in whole seconds).
    fn take_token(&self, inner: &mut Inner, webhook_id: &str, now: Instant) -> Result<(), u64> {
        let StandInConfig { per_second, burst } = self.config;
        let bucket = inner
            .buckets
            .entry(webhook_id.to_string())
            .or_insert(Bucket {
                tokens: f64::from(burst),
                at: now,
            });
        let refill = now.duration_since(bucket.at).as_secs_f64() * per_second;
        bucket.tokens = (bucket.tokens + refill).min(f64::from(burst));
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let seconds = (1.0 - bucket.tokens) / per_second;
            Err(seconds.ceil().max(1.0) as u64)
        }
    }
}

/// The JSON object of a post: a JSON body, or the `payload` field of a form
/// body (Slack takes either).
fn payload(request: &RecordedRequest) -> Option<Value> {
    let content_type = request
        .header("content-type")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let value: Value = if content_type.starts_with("application/json") {
        serde_json::from_slice(&request.body).ok()?
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        let (_, json) = url::form_urlencoded::parse(&request.body).find(|(k, _)| k == "payload")?;
        serde_json::from_str(&json).ok()?
    } else {
        return None;
    };
    value.is_object().then_some(value)
}

/// Every string in the message that Slack would read as a mention of a
/// channel, everyone, a group or a person.
fn pings_in(body: &Value) -> Vec<String> {
    let mut strings = Vec::new();
    collect_strings(body, &mut strings);
    strings
        .into_iter()
        .filter(|s| s.contains("<!") || s.contains("<@"))
        .map(String::from)
        .collect()
}

fn collect_strings<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::String(s) => out.push(s),
        Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| collect_strings(v, out)),
        _ => {}
    }
}

/// What breaks Block Kit's rules in the message's `text` and `blocks`, in
/// words; Slack answers `invalid_blocks` to any of it.
fn block_problems(body: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    if let Some(text) = body.get("text")
        && !text.is_string()
    {
        problems.push("text is not a string".into());
    }
    let blocks = match body.get("blocks") {
        None => return problems,
        Some(Value::Array(blocks)) => blocks,
        Some(_) => {
            problems.push("blocks is not an array".into());
            return problems;
        }
    };
    if blocks.len() > MAX_BLOCKS {
        problems.push(format!("{} blocks, more than {MAX_BLOCKS}", blocks.len()));
    }
    for (i, block) in blocks.iter().enumerate() {
        let at = format!("blocks[{i}]");
        if let Some(id) = block.get("block_id")
            && id
                .as_str()
                .is_none_or(|id| id.is_empty() || id.chars().count() > BLOCK_ID_MAX)
        {
            problems.push(format!(
                "{at}.block_id is not 1 to {BLOCK_ID_MAX} characters"
            ));
        }
        match block.get("type").and_then(Value::as_str) {
            Some("header") => {
                check_text(
                    &mut problems,
                    &format!("{at}.text"),
                    block.get("text"),
                    HEADER_TEXT_MAX,
                    &["plain_text"],
                );
            }
            Some("section") => {
                let (text, fields) = (block.get("text"), block.get("fields"));
                if text.is_none() && fields.is_none() {
                    problems.push(format!("{at} has neither text nor fields"));
                }
                if text.is_some() {
                    check_text(
                        &mut problems,
                        &format!("{at}.text"),
                        text,
                        SECTION_TEXT_MAX,
                        &["plain_text", "mrkdwn"],
                    );
                }
                if let Some(fields) = fields {
                    let fields = fields.as_array().map(Vec::as_slice).unwrap_or_default();
                    if fields.is_empty() || fields.len() > MAX_FIELDS {
                        problems.push(format!(
                            "{at}.fields has {} items, not 1 to {MAX_FIELDS}",
                            fields.len()
                        ));
                    }
                    for (j, field) in fields.iter().enumerate() {
                        check_text(
                            &mut problems,
                            &format!("{at}.fields[{j}]"),
                            Some(field),
                            FIELD_TEXT_MAX,
                            &["plain_text", "mrkdwn"],
                        );
                    }
                }
            }
            Some("context") => {
                let elements = block
                    .get("elements")
                    .and_then(Value::as_array)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                if elements.is_empty() || elements.len() > MAX_CONTEXT_ELEMENTS {
                    problems.push(format!(
                        "{at}.elements has {} items, not 1 to {MAX_CONTEXT_ELEMENTS}",
                        elements.len()
                    ));
                }
                for (j, element) in elements.iter().enumerate() {
                    check_text(
                        &mut problems,
                        &format!("{at}.elements[{j}]"),
                        Some(element),
                        TEXT_OBJECT_MAX,
                        &["plain_text", "mrkdwn"],
                    );
                }
            }
            Some("divider") => {}
            Some(other) => problems.push(format!(
                "{at} has type {other:?}, which farmhook never sends"
            )),
            None => problems.push(format!("{at} has no type")),
        }
    }
    problems
}

/// Checks a text object: its type, 1 to `max` characters, and `emoji` only
/// on plain text (`verbatim` only on mrkdwn), as Slack does.
fn check_text(
    problems: &mut Vec<String>,
    at: &str,
    value: Option<&Value>,
    max: usize,
    kinds: &[&str],
) {
    let Some(object) = value.and_then(Value::as_object) else {
        problems.push(format!("{at} is not a text object"));
        return;
    };
    let kind = object
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !kinds.contains(&kind) {
        problems.push(format!("{at}.type is {kind:?}, not one of {kinds:?}"));
    }
    match object.get("text").and_then(Value::as_str) {
        None => problems.push(format!("{at}.text is missing")),
        Some(text) => {
            let len = text.chars().count();
            if len == 0 || len > max {
                problems.push(format!("{at}.text has {len} characters, not 1 to {max}"));
            }
        }
    }
    if object.contains_key("emoji") && kind != "plain_text" {
        problems.push(format!("{at}.emoji is only allowed on plain_text"));
    }
    if object.contains_key("verbatim") && kind != "mrkdwn" {
        problems.push(format!("{at}.verbatim is only allowed on mrkdwn"));
    }
}
