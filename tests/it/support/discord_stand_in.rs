//! A stand-in for Discord's webhook API on 127.0.0.1: execute and get
//! webhook under `/api/v10`, Discord's error bodies, embed limits and a
//! per-webhook rate-limit bucket with Discord's headers.
//! Tokens are never stored where a test could print them.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::watch;

use super::endpoint::{
    RecordedRequest, Reply, ServerTask, WAIT_LIMIT, bind_loopback, header_in, lock, serve_replies,
    spawn_server,
};

const CHANNEL_ID: &str = "1100000000000000001";
const GUILD_ID: &str = "1100000000000000002";
const WEBHOOK_NAME: &str = "Farm alerts";

#[derive(Debug, Clone)]
pub struct StandInConfig {
    /// Requests per window per webhook (Discord: 5).
    pub bucket_size: u32,
    /// Length of the fixed window (Discord: 2 s).
    pub bucket_window: Duration,
    /// Answer every request to `/api/v10/webhooks/…` with this status
    /// (e.g. 500) instead of serving it; the bucket is not consumed.
    pub answer: Option<u16>,
}

impl Default for StandInConfig {
    fn default() -> Self {
        StandInConfig {
            bucket_size: 5,
            bucket_window: Duration::from_secs(2),
            answer: None,
        }
    }
}

/// An accepted (2xx) execute-webhook request.
#[derive(Debug, Clone)]
pub struct ReceivedMessage {
    pub webhook_id: String,
    pub body: Value,
    /// Names in lower case, values as sent.
    pub headers: Vec<(String, String)>,
    pub at: Instant,
}

impl ReceivedMessage {
    pub fn header(&self, name: &str) -> Option<&str> {
        header_in(&self.headers, name)
    }
}

/// Any request the stand-in answered.
#[derive(Debug, Clone)]
pub struct SeenRequest {
    pub method: String,
    /// Path and query with the token replaced by `<token>`.
    pub path_without_token: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub at: Instant,
}

impl SeenRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        header_in(&self.headers, name)
    }
}

struct Hook {
    token: String,
    deleted: bool,
}

struct Bucket {
    started: Instant,
    used: u32,
}

struct Inner {
    answer: Option<u16>,
    hooks: HashMap<String, Hook>,
    buckets: HashMap<String, Bucket>,
    received: Vec<ReceivedMessage>,
    seen: Vec<SeenRequest>,
    next_snowflake: u64,
}

struct State {
    bucket_size: u32,
    bucket_window: Duration,
    inner: Mutex<Inner>,
    received_count: watch::Sender<usize>,
}

/// Discord, on 127.0.0.1. Stops when dropped.
pub struct DiscordStandIn {
    addr: SocketAddr,
    state: Arc<State>,
    _server: ServerTask,
}

impl DiscordStandIn {
    /// A bucket of 5 requests per 2 s per webhook, like Discord.
    pub async fn start() -> DiscordStandIn {
        Self::start_with(StandInConfig::default()).await
    }

    pub async fn start_with(config: StandInConfig) -> DiscordStandIn {
        assert!(
            config.bucket_size > 0,
            "a bucket holds at least one request"
        );
        let listener = bind_loopback().await;
        let addr = listener.local_addr().expect("bound address");
        let state = Arc::new(State {
            bucket_size: config.bucket_size,
            bucket_window: config.bucket_window,
            inner: Mutex::new(Inner {
                answer: config.answer,
                hooks: HashMap::new(),
                buckets: HashMap::new(),
                received: Vec::new(),
                seen: Vec::new(),
                next_snowflake: 1_200_000_000_000_000_000,
            }),
            received_count: watch::Sender::new(0),
        });
        let served = state.clone();
        let server = spawn_server(listener, move |stream| {
            let state = served.clone();
            serve_replies(stream, move |request| state.handle(request))
        });
        DiscordStandIn {
            addr,
            state,
            _server: server,
        }
    }

    /// For `FARMHOOK_DISCORD_API_BASE`: `http://127.0.0.1:PORT/api`.
    pub fn api_base(&self) -> String {
        format!("http://{}/api", self.addr)
    }

    /// A new known webhook, as Discord hands it out:
    /// `https://discord.com/api/webhooks/<id>/<token>`.
    pub fn webhook_url(&self) -> String {
        let mut inner = lock(&self.state.inner);
        let id = inner.snowflake();
        let token = random_token();
        inner.hooks.insert(
            id.clone(),
            Hook {
                token: token.clone(),
                deleted: false,
            },
        );
        format!("https://discord.com/api/webhooks/{id}/{token}")
    }

    /// Where farmhook posts for a webhook URL (host replaced by
    /// [`api_base`](Self::api_base), `/v10` added), for plain-HTTP tests.
    pub fn api_url(&self, webhook_url: &str) -> String {
        let (id, token) = id_and_token(webhook_url);
        format!("{}/v10/webhooks/{id}/{token}", self.api_base())
    }

    /// From now on, requests for this webhook get 404 Unknown Webhook.
    pub fn delete_webhook(&self, url: &str) {
        let (id, _) = id_and_token(url);
        let mut inner = lock(&self.state.inner);
        let hook = inner
            .hooks
            .get_mut(&id)
            .unwrap_or_else(|| panic!("webhook {id} was not made by this stand-in"));
        hook.deleted = true;
    }

    /// Changes (or clears) the forced answer while running.
    pub fn set_answer(&self, answer: Option<u16>) {
        lock(&self.state.inner).answer = answer;
    }

    /// Every accepted (2xx) POST, in order.
    pub fn received(&self) -> Vec<ReceivedMessage> {
        lock(&self.state.inner).received.clone()
    }

    /// Every request, whatever the answer, in order.
    pub fn requests(&self) -> Vec<SeenRequest> {
        lock(&self.state.inner).seen.clone()
    }

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
            "Discord stand-in accepted only {} of {n} messages within {WAIT_LIMIT:?}",
            *self.state.received_count.borrow()
        );
    }
}

impl Inner {
    fn snowflake(&mut self) -> String {
        self.next_snowflake += 1;
        self.next_snowflake.to_string()
    }
}

/// The id and token of `…/webhooks/<id>/<token>[/…][?…]`.
fn id_and_token(url: &str) -> (String, String) {
    let path = url.trim().split(['?', '#']).next().unwrap_or_default();
    let segments: Vec<&str> = path.split('/').collect();
    match segments.iter().position(|s| *s == "webhooks") {
        Some(i) if i + 2 < segments.len() => (segments[i + 1].into(), segments[i + 2].into()),
        _ => panic!("not a Discord webhook URL (no /webhooks/<id>/<token>)"),
    }
}

/// The path with the segment after `webhooks/<id>/` replaced by `<token>`.
fn redact(path_and_query: &str) -> String {
    let (path, query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path_and_query, None),
    };
    let mut segments: Vec<&str> = path.split('/').collect();
    if let Some(i) = segments.iter().position(|s| *s == "webhooks")
        && i + 2 < segments.len()
    {
        segments[i + 2] = "<token>";
    }
    let mut out = segments.join("/");
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

fn random_token() -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let seed = RandomState::new();
    (0..68)
        .map(|i| {
            let mut h = seed.build_hasher();
            h.write_usize(i);
            ALPHABET[(h.finish() % 64) as usize] as char
        })
        .collect()
}

fn discord_error(status: u16, code: u32, message: &str) -> Reply {
    Reply::json(status, &json!({"message": message, "code": code}))
}

fn unknown_webhook() -> Reply {
    discord_error(404, 10015, "Unknown Webhook")
}

fn now_rfc3339() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .expect("now formats")
}

fn round_ms(seconds: f64) -> f64 {
    (seconds * 1000.0).round() / 1000.0
}

impl State {
    fn handle(&self, request: RecordedRequest) -> Reply {
        let now = Instant::now();
        let path = request.path.split('?').next().unwrap_or_default();
        let query = request.path.split_once('?').map(|(_, q)| q).unwrap_or("");
        let segments: Vec<&str> = path.split('/').collect();
        let mut inner = lock(&self.inner);
        let reply = match (segments.as_slice(), request.method.as_str()) {
            (["", "api", "v10", "webhooks", id, token], method @ ("GET" | "POST")) => {
                if let Some(status) = inner.answer {
                    let post = method == "POST";
                    let reply = self.forced(&mut inner, id, status, post, now);
                    if post && (200..300).contains(&status) {
                        // Forced acceptance: recorded as received, unchecked.
                        let body = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
                        self.accept(&mut inner, id, body, &request);
                    }
                    reply
                } else if method == "GET" {
                    inner.get(id, token)
                } else {
                    self.post(&mut inner, id, token, query, &request, now)
                }
            }
            (["", "api", "v10", "webhooks", _, _], _) => {
                discord_error(405, 0, "405: Method Not Allowed")
            }
            _ => discord_error(404, 0, "404: Not Found"),
        };
        inner.seen.push(SeenRequest {
            method: request.method.clone(),
            path_without_token: redact(&request.path),
            status: reply.status,
            headers: request.headers,
            at: request.at,
        });
        reply
    }

    fn forced(&self, inner: &mut Inner, id: &str, status: u16, post: bool, now: Instant) -> Reply {
        let mut reply = if status == 429 {
            self.rate_limited(self.bucket_window.as_secs_f64())
        } else if (200..300).contains(&status) {
            Reply::empty(status)
        } else {
            discord_error(status, 0, "Answer forced by the stand-in")
        };
        if post {
            let bucket = self.bucket(inner, id, now);
            reply.headers.extend(self.rate_headers(bucket, now));
        }
        reply
    }

    fn accept(&self, inner: &mut Inner, id: &str, body: Value, request: &RecordedRequest) {
        inner.received.push(ReceivedMessage {
            webhook_id: id.to_string(),
            body,
            headers: request.headers.clone(),
            at: request.at,
        });
        self.received_count.send_replace(inner.received.len());
    }

    /// The webhook's current window (a new one if the last has ended).
    fn bucket<'a>(&self, inner: &'a mut Inner, id: &str, now: Instant) -> &'a mut Bucket {
        let bucket = inner.buckets.entry(id.to_string()).or_insert(Bucket {
            started: now,
            used: 0,
        });
        if now.duration_since(bucket.started) >= self.bucket_window {
            *bucket = Bucket {
                started: now,
                used: 0,
            };
        }
        bucket
    }

    fn reset_after(&self, bucket: &Bucket, now: Instant) -> f64 {
        (bucket.started + self.bucket_window)
            .saturating_duration_since(now)
            .as_secs_f64()
            .max(0.001)
    }

    fn rate_headers(&self, bucket: &Bucket, now: Instant) -> Vec<(String, String)> {
        let reset_after = self.reset_after(bucket, now);
        let epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock after 1970")
            .as_secs_f64();
        let remaining = self.bucket_size.saturating_sub(bucket.used);
        vec![
            ("x-ratelimit-limit".into(), self.bucket_size.to_string()),
            ("x-ratelimit-remaining".into(), remaining.to_string()),
            (
                "x-ratelimit-reset".into(),
                format!("{:.3}", epoch + reset_after),
            ),
            (
                "x-ratelimit-reset-after".into(),
                format!("{reset_after:.3}"),
            ),
            (
                "x-ratelimit-bucket".into(),
                "d1f2e0a9c3b4a5968778695a4b3c2d1e".into(),
            ),
        ]
    }

    fn rate_limited(&self, retry_after: f64) -> Reply {
        let retry_after = round_ms(retry_after).max(0.001);
        Reply::json(
            429,
            &json!({
                "message": "You are being rate limited.",
                "retry_after": retry_after,
                "global": false,
            }),
        )
        .header("retry-after", (retry_after.ceil() as u64).to_string())
        .header("x-ratelimit-scope", "user")
    }

    fn post(
        &self,
        inner: &mut Inner,
        id: &str,
        token: &str,
        query: &str,
        request: &RecordedRequest,
        now: Instant,
    ) -> Reply {
        let bucket = self.bucket(inner, id, now);
        if bucket.used >= self.bucket_size {
            let retry_after = self.reset_after(bucket, now);
            let headers = self.rate_headers(bucket, now);
            let mut reply = self.rate_limited(retry_after);
            reply.headers.extend(headers);
            return reply;
        }
        bucket.used += 1;
        let headers = self.rate_headers(bucket, now);

        let mut reply = match inner.hooks.get(id) {
            None => unknown_webhook(),
            Some(hook) if hook.deleted => unknown_webhook(),
            Some(hook) if hook.token != token => discord_error(401, 50027, "Invalid Webhook Token"),
            Some(_) => match parse_message(request) {
                Err(reply) => reply,
                Ok(body) => {
                    let wait = query.split('&').any(|kv| {
                        kv.split_once('=')
                            .is_some_and(|(k, v)| k == "wait" && v.eq_ignore_ascii_case("true"))
                    });
                    let reply = if wait {
                        Reply::json(200, &message_json(inner.snowflake(), id, &body))
                    } else {
                        Reply::empty(204)
                    };
                    self.accept(inner, id, body, request);
                    reply
                }
            },
        };
        reply.headers.extend(headers);
        reply
    }
}

impl Inner {
    fn get(&self, id: &str, token: &str) -> Reply {
        match self.hooks.get(id) {
            None => unknown_webhook(),
            Some(hook) if hook.deleted => unknown_webhook(),
            Some(hook) if hook.token != token => discord_error(401, 50027, "Invalid Webhook Token"),
            Some(hook) => Reply::json(
                200,
                &json!({
                    "id": id,
                    "type": 1,
                    "name": WEBHOOK_NAME,
                    "avatar": null,
                    "channel_id": CHANNEL_ID,
                    "guild_id": GUILD_ID,
                    "application_id": null,
                    "token": hook.token,
                }),
            ),
        }
    }
}

fn message_json(message_id: String, webhook_id: &str, body: &Value) -> Value {
    json!({
        "id": message_id,
        "type": 0,
        "content": body.get("content").and_then(Value::as_str).unwrap_or(""),
        "channel_id": CHANNEL_ID,
        "author": {
            "bot": true,
            "id": webhook_id,
            "username": body.get("username").and_then(Value::as_str).unwrap_or(WEBHOOK_NAME),
            "avatar": null,
            "discriminator": "0000",
        },
        "attachments": [],
        "embeds": body.get("embeds").cloned().unwrap_or(json!([])),
        "mentions": [],
        "mention_roles": [],
        "pinned": false,
        "mention_everyone": false,
        "tts": false,
        "timestamp": now_rfc3339(),
        "edited_timestamp": null,
        "flags": 0,
        "components": [],
        "webhook_id": webhook_id,
    })
}

/// The JSON body of an execute-webhook request, or Discord's 400.
fn parse_message(request: &RecordedRequest) -> Result<Value, Reply> {
    let is_json = request
        .header("content-type")
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("application/json"));
    if !is_json {
        // Discord reads other bodies as a form and finds nothing in it.
        return Err(empty_message());
    }
    let body: Value = serde_json::from_slice(&request.body).map_err(|_| invalid_json())?;
    if !body.is_object() {
        return Err(invalid_json());
    }
    let errors = check_limits(&body);
    if !errors.is_empty() {
        return Err(Reply::json(
            400,
            &json!({"code": 50035, "errors": nest(errors), "message": "Invalid Form Body"}),
        ));
    }
    let has_content = body
        .get("content")
        .and_then(Value::as_str)
        .is_some_and(|c| !c.is_empty());
    let has_embeds = body
        .get("embeds")
        .and_then(Value::as_array)
        .is_some_and(|e| !e.is_empty());
    if !has_content && !has_embeds {
        return Err(empty_message());
    }
    Ok(body)
}

fn empty_message() -> Reply {
    discord_error(400, 50006, "Cannot send an empty message")
}

fn invalid_json() -> Reply {
    discord_error(400, 50109, "The request body contains invalid JSON.")
}

struct FieldError {
    path: Vec<String>,
    code: &'static str,
    message: String,
}

fn nest(errors: Vec<FieldError>) -> Value {
    let mut root = Map::new();
    for error in errors {
        let mut node = &mut root;
        for segment in error.path {
            node = node
                .entry(segment)
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .expect("error tree nodes are objects");
        }
        node.entry("_errors")
            .or_insert_with(|| json!([]))
            .as_array_mut()
            .expect("_errors is an array")
            .push(json!({"code": error.code, "message": error.message}));
    }
    Value::Object(root)
}

/// Collects what breaks Discord's limits, by path in the body.
#[derive(Default)]
struct Limits {
    errors: Vec<FieldError>,
}

impl Limits {
    fn error(&mut self, path: &[&str], code: &'static str, message: impl Into<String>) {
        self.errors.push(FieldError {
            path: path.iter().map(|s| s.to_string()).collect(),
            code,
            message: message.into(),
        });
    }

    /// Checks an optional (or required) string; returns its length in characters.
    fn text(&mut self, value: Option<&Value>, path: &[&str], max: usize, required: bool) -> usize {
        match value {
            None | Some(Value::Null) => {
                if required {
                    self.error(path, "BASE_TYPE_REQUIRED", "This field is required");
                }
                0
            }
            Some(Value::String(s)) => {
                let len = s.chars().count();
                if len > max {
                    let message = format!("Must be {max} or fewer in length.");
                    self.error(path, "BASE_TYPE_MAX_LENGTH", message);
                } else if required && s.trim().is_empty() {
                    self.error(path, "BASE_TYPE_REQUIRED", "This field is required");
                }
                len
            }
            Some(_) => {
                self.error(path, "BASE_TYPE_STRING", "Must be a string.");
                0
            }
        }
    }

    /// Checks one embed; returns the characters it counts towards 6000.
    fn embed(&mut self, embed: &Value, i: &str) -> usize {
        let Some(embed) = embed.as_object() else {
            let message = "Only dictionaries may be used in a ModelType";
            self.error(&["embeds", i], "MODEL_TYPE_CONVERT", message);
            return 0;
        };
        let mut total = 0;
        total += self.text(embed.get("title"), &["embeds", i, "title"], 256, false);
        total += self.text(
            embed.get("description"),
            &["embeds", i, "description"],
            4096,
            false,
        );
        if let Some(footer) = embed.get("footer").filter(|f| !f.is_null()) {
            total += self.text(
                footer.get("text"),
                &["embeds", i, "footer", "text"],
                2048,
                true,
            );
        }
        if let Some(author) = embed.get("author").filter(|a| !a.is_null()) {
            total += self.text(
                author.get("name"),
                &["embeds", i, "author", "name"],
                256,
                true,
            );
        }
        match embed.get("color") {
            None | Some(Value::Null) => {}
            Some(c) if c.as_u64().is_some_and(|c| c <= 0xFF_FFFF) => {}
            Some(c) => {
                let message = format!("Int value {c} is not between 0 and 16777215.");
                self.error(&["embeds", i, "color"], "NUMBER_TYPE_MAX", message);
            }
        }
        match embed.get("timestamp") {
            None | Some(Value::Null) => {}
            Some(Value::String(t)) if OffsetDateTime::parse(t, &Rfc3339).is_ok() => {}
            Some(t) => {
                let message = format!("Could not interpret {t} as a date-time.");
                self.error(&["embeds", i, "timestamp"], "DATE_TIME_TYPE_PARSE", message);
            }
        }
        match embed.get("fields") {
            None | Some(Value::Null) => {}
            Some(Value::Array(fields)) => {
                if fields.len() > 25 {
                    let message = "Must be 25 or fewer in length.";
                    self.error(&["embeds", i, "fields"], "BASE_TYPE_MAX_LENGTH", message);
                }
                for (j, field) in fields.iter().enumerate() {
                    let j = &j.to_string();
                    let path = ["embeds", i, "fields", j];
                    total += self.text(
                        field.get("name"),
                        &[&path[..], &["name"]].concat(),
                        256,
                        true,
                    );
                    total += self.text(
                        field.get("value"),
                        &[&path[..], &["value"]].concat(),
                        1024,
                        true,
                    );
                }
            }
            Some(_) => self.error(
                &["embeds", i, "fields"],
                "BASE_TYPE_ARRAY",
                "Must be an array.",
            ),
        }
        total
    }
}

/// Discord's limits on an execute-webhook body.
fn check_limits(body: &Value) -> Vec<FieldError> {
    let mut limits = Limits::default();
    limits.text(body.get("content"), &["content"], 2000, false);
    limits.text(body.get("username"), &["username"], 80, false);
    match body.get("embeds") {
        None | Some(Value::Null) => {}
        Some(Value::Array(embeds)) => {
            if embeds.len() > 10 {
                let message = "Must be 10 or fewer in length.";
                limits.error(&["embeds"], "BASE_TYPE_MAX_LENGTH", message);
            }
            let total: usize = embeds
                .iter()
                .enumerate()
                .map(|(i, embed)| limits.embed(embed, &i.to_string()))
                .sum();
            if total > 6000 {
                let message = "Embed size exceeds maximum size of 6000";
                limits.error(&["embeds"], "MAX_EMBED_SIZE_EXCEEDED", message);
            }
        }
        Some(_) => limits.error(&["embeds"], "BASE_TYPE_ARRAY", "Must be an array."),
    }
    limits.errors
}
