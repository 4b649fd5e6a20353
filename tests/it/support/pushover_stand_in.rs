//! A stand-in for Pushover's message API on 127.0.0.1: `POST
//! /1/messages.json` and `POST /1/users/validate.json`, with JSON or form
//! bodies, one known application token and user key, Pushover's checks
//! (lengths, priority, sound, timestamp) and its answers
//! (`{"status":1,"request":…}`, `{"status":0,"errors":[…]}` with 400, 429
//! once the monthly quota is used up), and the `X-Limit-App-*` headers on
//! every answer. Tokens and keys are never stored where a test could print
//! them: recorded requests show `<token>` and `<user>` instead.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio::sync::watch;

use super::endpoint::{
    RecordedRequest, Reply, ServerTask, WAIT_LIMIT, bind_loopback, lock, serve_replies,
    spawn_server,
};

/// Pushover's limits (its API documentation, "Limitations").
const TITLE_MAX_CHARS: usize = 250;
const MESSAGE_MAX_CHARS: usize = 1024;
const URL_MAX_CHARS: usize = 512;
const URL_TITLE_MAX_CHARS: usize = 100;
const KEY_LEN: usize = 30;

/// Pushover's built-in sounds.
const SOUNDS: &[&str] = &[
    "pushover",
    "bike",
    "bugle",
    "cashregister",
    "classical",
    "cosmic",
    "falling",
    "gamelan",
    "incoming",
    "intermission",
    "magic",
    "mechanical",
    "pianobar",
    "siren",
    "spacealarm",
    "tugboat",
    "alien",
    "climb",
    "persistent",
    "echo",
    "updown",
    "vibrate",
    "none",
];

/// How the stand-in starts.
#[derive(Debug, Clone)]
pub struct PushoverConfig {
    /// The one application token it knows (30 letters and digits).
    pub app_token: String,
    /// The one user (or group) key it knows.
    pub user_key: String,
    /// The key is a delivery group's (validate says `group: 1`, no devices).
    pub is_group: bool,
    /// The user's devices, as validate lists them.
    pub devices: Vec<String>,
    /// Messages per month (`X-Limit-App-Limit`; Pushover: 10,000 free).
    pub monthly_limit: u64,
    /// Messages left at the start (`X-Limit-App-Remaining`).
    pub remaining: u64,
    /// When the count starts again (`X-Limit-App-Reset`, unix seconds);
    /// None: the first of next month, 00:00 UTC.
    pub reset_unix: Option<i64>,
}

impl PushoverConfig {
    pub fn new(app_token: &str, user_key: &str) -> PushoverConfig {
        PushoverConfig {
            app_token: app_token.to_string(),
            user_key: user_key.to_string(),
            is_group: false,
            devices: vec!["iphone".into(), "pixel8".into()],
            monthly_limit: 10_000,
            remaining: 10_000,
            reset_unix: None,
        }
    }
}

/// A scripted answer, given instead of serving a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// A server error with this status (500, 502, 503…) and a plain body.
    Server(u16),
    /// 429 with Pushover's over-quota answer (the quota is not touched).
    OverQuota,
    /// 400 `application token is invalid`.
    InvalidToken,
    /// 400 `user key is invalid`.
    InvalidUser,
}

/// "Gone" modes: from now on every request gets this refusal, as when the
/// user deletes the application or the account in Pushover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gone {
    /// The application was deleted: `application token is invalid`.
    Token,
    /// The user or group is gone: `user key is invalid`.
    User,
}

/// A message Pushover took (200, status 1), its parameters parsed.
#[derive(Debug, Clone)]
pub struct ReceivedMessage {
    pub title: Option<String>,
    pub message: String,
    pub priority: i64,
    pub sound: Option<String>,
    pub timestamp: Option<i64>,
    pub html: bool,
    /// Every parameter as received, `token` and `user` shown as `<token>`
    /// and `<user>`.
    pub params: BTreeMap<String, String>,
    /// `application/json` or `application/x-www-form-urlencoded`.
    pub content_type: String,
    pub at: Instant,
}

/// Any request the stand-in answered.
#[derive(Debug, Clone)]
pub struct SeenRequest {
    pub method: String,
    pub path: String,
    pub status: u16,
    /// The parameters as parsed, secrets replaced: the known token by
    /// `<token>`, the known user key by `<user>`, any other value of
    /// `token` or `user` by `<other>`.
    pub params: BTreeMap<String, String>,
    pub at: Instant,
}

struct Inner {
    remaining: u64,
    failures: VecDeque<Failure>,
    gone: Option<Gone>,
    received: Vec<ReceivedMessage>,
    seen: Vec<SeenRequest>,
    next_request: u64,
}

struct State {
    config: PushoverConfig,
    reset_unix: i64,
    inner: Mutex<Inner>,
    received_count: watch::Sender<usize>,
}

/// Pushover, on 127.0.0.1. Stops when dropped.
pub struct PushoverStandIn {
    addr: SocketAddr,
    state: Arc<State>,
    _server: ServerTask,
}

impl PushoverStandIn {
    /// Knows this token and user key, 10,000 messages a month.
    pub async fn start(app_token: &str, user_key: &str) -> PushoverStandIn {
        Self::start_with(PushoverConfig::new(app_token, user_key)).await
    }

    pub async fn start_with(config: PushoverConfig) -> PushoverStandIn {
        for key in [&config.app_token, &config.user_key] {
            assert!(
                is_key_shaped(key),
                "Pushover keys are 30 letters and digits"
            );
        }
        let listener = bind_loopback().await;
        let addr = listener.local_addr().expect("bound address");
        let reset_unix = config.reset_unix.unwrap_or_else(next_month_unix);
        let state = Arc::new(State {
            inner: Mutex::new(Inner {
                remaining: config.remaining.min(config.monthly_limit),
                failures: VecDeque::new(),
                gone: None,
                received: Vec::new(),
                seen: Vec::new(),
                next_request: 0,
            }),
            config,
            reset_unix,
            received_count: watch::Sender::new(0),
        });
        let served = state.clone();
        let server = spawn_server(listener, move |stream| {
            let state = served.clone();
            serve_replies(stream, move |request| state.handle(request))
        });
        PushoverStandIn {
            addr,
            state,
            _server: server,
        }
    }

    /// For `FARMHOOK_PUSHOVER_API_BASE`: `http://127.0.0.1:PORT`.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `{base}/1/messages.json`, for plain-HTTP tests.
    pub fn messages_url(&self) -> String {
        format!("{}/1/messages.json", self.base())
    }

    /// `{base}/1/users/validate.json`, for plain-HTTP tests.
    pub fn validate_url(&self) -> String {
        format!("{}/1/users/validate.json", self.base())
    }

    /// The next `n` requests (to either path) get `failure` instead of
    /// being served; queued after any failures already scripted.
    pub fn fail_next(&self, n: usize, failure: Failure) {
        lock(&self.state.inner)
            .failures
            .extend(std::iter::repeat_n(failure, n));
    }

    /// From now on every request is refused as `gone` says (None: served
    /// again, as after the user fixed things in Pushover).
    pub fn set_gone(&self, gone: Option<Gone>) {
        lock(&self.state.inner).gone = gone;
    }

    /// Sets the messages left this month (0: every message gets 429).
    pub fn set_remaining(&self, remaining: u64) {
        lock(&self.state.inner).remaining = remaining;
    }

    /// Messages left this month.
    pub fn remaining(&self) -> u64 {
        lock(&self.state.inner).remaining
    }

    /// Every message taken, in order.
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

    /// Waits until `n` messages were taken (fails the test after 10 s).
    pub async fn wait_for_received(&self, n: usize) {
        let mut rx = self.state.received_count.subscribe();
        let reached = tokio::time::timeout(WAIT_LIMIT, rx.wait_for(|&have| have >= n)).await;
        assert!(
            matches!(reached, Ok(Ok(_))),
            "Pushover stand-in took only {} of {n} messages within {WAIT_LIMIT:?}",
            *self.state.received_count.borrow()
        );
    }
}

fn is_key_shaped(key: &str) -> bool {
    key.len() == KEY_LEN && key.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The first of next month, 00:00 UTC, as unix seconds.
fn next_month_unix() -> i64 {
    let now = OffsetDateTime::now_utc();
    let (year, month) = match now.month() {
        time::Month::December => (now.year() + 1, time::Month::January),
        month => (now.year(), month.next()),
    };
    time::Date::from_calendar_date(year, month, 1)
        .expect("the first of a month exists")
        .midnight()
        .assume_utc()
        .unix_timestamp()
}

/// The parameters of a request as Pushover reads them: a JSON object, or a
/// form (in the body, or in the query string of a POST without a body).
fn params_of(request: &RecordedRequest) -> Result<BTreeMap<String, String>, Reply> {
    let content_type = request
        .header("content-type")
        .unwrap_or_default()
        .to_ascii_lowercase();
    if content_type.starts_with("application/json") {
        let value: Value = serde_json::from_slice(&request.body).map_err(|_| {
            Reply::json(
                400,
                &json!({"errors": ["request body is not valid JSON"], "status": 0}),
            )
        })?;
        let Value::Object(object) = value else {
            return Err(Reply::json(
                400,
                &json!({"errors": ["request body must be a JSON object"], "status": 0}),
            ));
        };
        return Ok(object
            .into_iter()
            .map(|(k, v)| {
                let v = match v {
                    Value::String(s) => s,
                    Value::Bool(b) => if b { "1" } else { "0" }.to_string(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                };
                (k, v)
            })
            .collect());
    }
    let form = if request.body.is_empty() {
        request
            .path
            .split_once('?')
            .map(|(_, q)| q.as_bytes().to_vec())
            .unwrap_or_default()
    } else {
        request.body.clone()
    };
    Ok(url::form_urlencoded::parse(&form).into_owned().collect())
}

/// Pushover's refusal: `{"<field>":"invalid","errors":[…],"status":0,"request":…}`.
fn refusal(status: u16, field: Option<&str>, error: &str, request_id: String) -> Reply {
    let mut body = json!({"errors": [error], "status": 0, "request": request_id});
    if let Some(field) = field {
        body[field] = json!("invalid");
    }
    Reply::json(status, &body)
}

impl State {
    fn handle(&self, request: RecordedRequest) -> Reply {
        let path = request
            .path
            .split('?')
            .next()
            .unwrap_or_default()
            .to_string();
        let mut inner = lock(&self.inner);
        let request_id = inner.request_id();
        let parsed = params_of(&request);
        let mut reply = match (request.method.as_str(), path.as_str()) {
            ("POST", "/1/messages.json" | "/1/users/validate.json") => {
                match (inner.failures.pop_front(), inner.gone, &parsed) {
                    (Some(failure), _, _) => self.scripted(failure, request_id),
                    (None, Some(gone), _) => self.gone(gone, request_id),
                    (None, None, Err(reply)) => reply.clone(),
                    (None, None, Ok(params)) if path == "/1/messages.json" => {
                        self.send(&mut inner, params, &request, request_id)
                    }
                    (None, None, Ok(params)) => self.validate(params, request_id),
                }
            }
            (_, "/1/messages.json" | "/1/users/validate.json") => {
                refusal(405, None, "only POST is supported", request_id)
            }
            _ => Reply::json(404, &json!({"errors": ["not found"], "status": 0})),
        };
        reply.headers.extend(self.limit_headers(inner.remaining));
        let params = parsed.map(|p| self.redacted(p)).unwrap_or_default();
        inner.seen.push(SeenRequest {
            method: request.method,
            path,
            status: reply.status,
            params,
            at: request.at,
        });
        reply
    }

    fn limit_headers(&self, remaining: u64) -> Vec<(String, String)> {
        vec![
            (
                "X-Limit-App-Limit".into(),
                self.config.monthly_limit.to_string(),
            ),
            ("X-Limit-App-Remaining".into(), remaining.to_string()),
            ("X-Limit-App-Reset".into(), self.reset_unix.to_string()),
        ]
    }

    fn redacted(&self, mut params: BTreeMap<String, String>) -> BTreeMap<String, String> {
        for (name, known, mask) in [
            ("token", &self.config.app_token, "<token>"),
            ("user", &self.config.user_key, "<user>"),
        ] {
            if let Some(value) = params.get_mut(name) {
                *value = if value.trim() == known.as_str() {
                    mask.to_string()
                } else {
                    "<other>".to_string()
                };
            }
        }
        params
    }

    fn scripted(&self, failure: Failure, request_id: String) -> Reply {
        match failure {
            Failure::Server(status) => Reply {
                status,
                headers: vec![("content-type".into(), "text/plain".into())],
                body: super::endpoint::reason(status).as_bytes().to_vec(),
            },
            Failure::OverQuota => over_quota(request_id),
            Failure::InvalidToken => self.gone(Gone::Token, request_id),
            Failure::InvalidUser => self.gone(Gone::User, request_id),
        }
    }

    fn gone(&self, gone: Gone, request_id: String) -> Reply {
        match gone {
            Gone::Token => refusal(
                400,
                Some("token"),
                "application token is invalid",
                request_id,
            ),
            Gone::User => refusal(400, Some("user"), "user key is invalid", request_id),
        }
    }

    /// The token and user key, checked as Pushover does; the refusal if
    /// either is wrong.
    fn check_keys(&self, params: &BTreeMap<String, String>, request_id: &str) -> Option<Reply> {
        let given = |name: &str| params.get(name).map(|v| v.trim()).unwrap_or_default();
        if given("token") != self.config.app_token {
            return Some(refusal(
                400,
                Some("token"),
                "application token is invalid",
                request_id.to_string(),
            ));
        }
        let user = given("user");
        if !is_key_shaped(user) {
            return Some(refusal(
                400,
                Some("user"),
                "user identifier is not a valid user, group, or subscribed user key",
                request_id.to_string(),
            ));
        }
        if user != self.config.user_key {
            return Some(refusal(
                400,
                Some("user"),
                "user key is invalid",
                request_id.to_string(),
            ));
        }
        None
    }

    fn send(
        &self,
        inner: &mut Inner,
        params: &BTreeMap<String, String>,
        request: &RecordedRequest,
        request_id: String,
    ) -> Reply {
        if let Some(refused) = self.check_keys(params, &request_id) {
            return refused;
        }
        let problems = message_problems(params);
        if !problems.is_empty() {
            // Pushover lists every problem and marks each field it minded.
            let errors: Vec<&str> = problems.iter().map(|(_, e)| e.as_str()).collect();
            let mut body = json!({"errors": errors, "status": 0, "request": request_id});
            for (field, _) in &problems {
                body[*field] = json!("invalid");
            }
            return Reply::json(400, &body);
        }
        if inner.remaining == 0 {
            return over_quota(request_id);
        }
        inner.remaining -= 1;
        let text = |name: &str| params.get(name).filter(|v| !v.is_empty()).cloned();
        inner.received.push(ReceivedMessage {
            title: text("title"),
            message: params.get("message").cloned().unwrap_or_default(),
            priority: text("priority")
                .and_then(|p| p.trim().parse().ok())
                .unwrap_or(0),
            sound: text("sound"),
            timestamp: text("timestamp").and_then(|t| t.trim().parse().ok()),
            html: text("html").is_some_and(|h| h.trim() == "1"),
            params: self.redacted(params.clone()),
            content_type: request
                .header("content-type")
                .unwrap_or("application/x-www-form-urlencoded")
                .to_string(),
            at: request.at,
        });
        self.received_count.send_replace(inner.received.len());
        Reply::json(200, &json!({"status": 1, "request": request_id}))
    }

    fn validate(&self, params: &BTreeMap<String, String>, request_id: String) -> Reply {
        if let Some(refused) = self.check_keys(params, &request_id) {
            return refused;
        }
        let (devices, licenses, group) = if self.config.is_group {
            (Vec::new(), Vec::new(), 1)
        } else {
            (
                self.config.devices.clone(),
                vec!["Android".to_string(), "iOS".to_string()],
                0,
            )
        };
        if let Some(device) = params.get("device").filter(|d| !d.is_empty())
            && !devices.contains(device)
        {
            return refusal(
                400,
                Some("device"),
                "device name is not valid for user",
                request_id,
            );
        }
        if group == 0 && devices.is_empty() {
            return refusal(
                400,
                Some("user"),
                "user is valid but has no active devices",
                request_id,
            );
        }
        Reply::json(
            200,
            &json!({
                "status": 1,
                "group": group,
                "devices": devices,
                "licenses": licenses,
                "request": request_id,
            }),
        )
    }
}

fn over_quota(request_id: String) -> Reply {
    refusal(
        429,
        None,
        "application has reached its monthly message limit; upgrade it at pushover.net/apps",
        request_id,
    )
}

/// Every way a message's parameters break Pushover's rules: (field, error).
fn message_problems(params: &BTreeMap<String, String>) -> Vec<(&'static str, String)> {
    let mut problems = Vec::new();
    let chars = |name: &str| params.get(name).map_or(0, |v| v.chars().count());
    let message = params.get("message").map(|m| m.trim()).unwrap_or_default();
    if message.is_empty() {
        problems.push(("message", "message cannot be blank".to_string()));
    } else if chars("message") > MESSAGE_MAX_CHARS {
        problems.push((
            "message",
            format!("message cannot be longer than {MESSAGE_MAX_CHARS} characters"),
        ));
    }
    if chars("title") > TITLE_MAX_CHARS {
        problems.push((
            "title",
            format!("title cannot be longer than {TITLE_MAX_CHARS} characters"),
        ));
    }
    if chars("url") > URL_MAX_CHARS {
        problems.push((
            "url",
            format!("url cannot be longer than {URL_MAX_CHARS} characters"),
        ));
    }
    if chars("url_title") > URL_TITLE_MAX_CHARS {
        problems.push((
            "url_title",
            format!("url_title cannot be longer than {URL_TITLE_MAX_CHARS} characters"),
        ));
    }
    let number = |name: &str| params.get(name).filter(|v| !v.trim().is_empty());
    let priority = match number("priority").map(|p| p.trim().parse::<i64>()) {
        None => Some(0),
        Some(Ok(p)) if (-2..=2).contains(&p) => Some(p),
        Some(_) => None,
    };
    match priority {
        None => problems.push(("priority", "priority is invalid".to_string())),
        Some(2) => {
            let retry = number("retry").and_then(|r| r.trim().parse::<i64>().ok());
            let expire = number("expire").and_then(|e| e.trim().parse::<i64>().ok());
            if retry.is_none_or(|r| r < 30) {
                problems.push((
                    "retry",
                    "retry is required and must be at least 30 seconds for emergency-priority messages"
                        .to_string(),
                ));
            }
            if expire.is_none_or(|e| !(1..=10_800).contains(&e)) {
                problems.push((
                    "expire",
                    "expire is required and must be at most 10800 seconds for emergency-priority messages"
                        .to_string(),
                ));
            }
        }
        Some(_) => {}
    }
    if let Some(sound) = number("sound")
        && !SOUNDS.contains(&sound.trim())
    {
        problems.push(("sound", "sound is invalid".to_string()));
    }
    if let Some(timestamp) = number("timestamp")
        && timestamp.trim().parse::<u64>().is_err()
    {
        problems.push(("timestamp", "timestamp is invalid".to_string()));
    }
    if let Some(html) = number("html")
        && !matches!(html.trim(), "0" | "1")
    {
        problems.push(("html", "html is invalid".to_string()));
    }
    problems
}

impl Inner {
    /// A new request id, shaped like Pushover's (a UUID).
    fn request_id(&mut self) -> String {
        self.next_request += 1;
        format!("5042853c-402d-4a18-abcb-{:012x}", self.next_request)
    }
}
