//! A stand-in for Telegram's Bot API on 127.0.0.1: `sendMessage`, `getMe`,
//! `getChat` and `getUpdates` under `/bot<token>/`, by GET or POST, with
//! parameters in the query, a JSON body or a form body, as Telegram takes
//! them. One token is valid (others get 401, malformed ones 404), a few
//! chats are known, HTML text is parsed like Telegram does, and each chat
//! has a rate limit like Telegram's (about one message a second). Failures
//! can be scripted per test. Tokens are never stored where a test could
//! print them: recorded paths carry `<token>`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};
use tokio::sync::watch;

use super::endpoint::{
    RecordedRequest, Reply, ServerTask, WAIT_LIMIT, bind_loopback, lock, serve_replies,
    spawn_server,
};

/// The valid token's bot id (public, like every bot's).
pub const BOT_ID: u64 = 7012345678;
pub const BOT_USERNAME: &str = "farm_alerts_bot";
pub const BOT_NAME: &str = "Farm alerts";
/// The token the stand-in accepts unless the config says otherwise.
pub const TOKEN: &str = "7012345678:AAHfarmhookStandIn-token_0123456789abcdef";
/// A person who started the bot.
pub const PRIVATE_CHAT: i64 = 111222333;
/// A group the bot is in.
pub const GROUP_CHAT: i64 = -4001234567;
/// A channel the bot posts to, also reachable as `@farmalerts`.
pub const CHANNEL_CHAT: i64 = -1001234567890;
pub const CHANNEL_USERNAME: &str = "farmalerts";

/// Telegram's limit on a message's visible text, in UTF-16 code units.
const TEXT_MAX_UTF16: usize = 4096;

/// A chat the bot can post to.
#[derive(Debug, Clone)]
pub struct KnownChat {
    pub id: i64,
    /// "private", "group", "supergroup" or "channel".
    pub kind: &'static str,
    /// The title of a group or channel, the first name of a person.
    pub name: String,
    pub username: Option<String>,
}

impl KnownChat {
    /// The chat as Telegram describes it inside messages and updates.
    fn json(&self) -> Value {
        let mut chat = json!({"id": self.id, "type": self.kind});
        let name_key = if self.kind == "private" {
            "first_name"
        } else {
            "title"
        };
        chat[name_key] = json!(self.name);
        if let Some(username) = &self.username {
            chat["username"] = json!(username);
        }
        chat
    }
}

/// The chats every stand-in knows.
pub fn default_chats() -> Vec<KnownChat> {
    vec![
        KnownChat {
            id: PRIVATE_CHAT,
            kind: "private",
            name: "Ada".into(),
            username: Some("ada_farm".into()),
        },
        KnownChat {
            id: GROUP_CHAT,
            kind: "group",
            name: "Print farm".into(),
            username: None,
        },
        KnownChat {
            id: CHANNEL_CHAT,
            kind: "channel",
            name: "Farm alerts".into(),
            username: Some(CHANNEL_USERNAME.into()),
        },
    ]
}

#[derive(Debug, Clone)]
pub struct TelegramStandInConfig {
    /// The one valid bot token.
    pub token: String,
    pub chats: Vec<KnownChat>,
    /// Messages accepted per chat per window (Telegram: about 1 a second).
    pub per_chat_limit: u32,
    pub window: Duration,
}

impl Default for TelegramStandInConfig {
    fn default() -> Self {
        TelegramStandInConfig {
            token: TOKEN.into(),
            chats: default_chats(),
            per_chat_limit: 1,
            window: Duration::from_secs(1),
        }
    }
}

/// A failure the stand-in answers `sendMessage` with, as Telegram words it.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// 429 with `parameters.retry_after`.
    TooManyRequests { retry_after: u32 },
    /// A 5xx (Telegram's gateway answers 502 when its backend is down).
    ServerError(u16),
    /// 403: the person blocked the bot.
    Blocked,
    /// 403: the bot was removed from the group.
    Kicked,
    /// 403: the bot is not in the channel.
    NotMember,
    /// 400: chat not found.
    ChatNotFound,
    /// 401: the token was revoked.
    Unauthorized,
    /// 400: the group became the supergroup with this id.
    Migrated(i64),
}

impl Failure {
    fn reply(&self) -> Reply {
        match self {
            Failure::TooManyRequests { retry_after } => too_many_requests(*retry_after),
            Failure::ServerError(status) => Reply {
                status: *status,
                headers: vec![("content-type".into(), "text/html".into())],
                body: format!("<html><head><title>{status}</title></head></html>").into_bytes(),
            },
            Failure::Blocked => error(403, "Forbidden: bot was blocked by the user"),
            Failure::Kicked => error(403, "Forbidden: bot was kicked from the group chat"),
            Failure::NotMember => error(403, "Forbidden: bot is not a member of the channel chat"),
            Failure::ChatNotFound => error(400, "Bad Request: chat not found"),
            Failure::Unauthorized => error(401, "Unauthorized"),
            Failure::Migrated(id) => Reply::json(
                400,
                &json!({
                    "ok": false,
                    "error_code": 400,
                    "description": "Bad Request: group chat was upgraded to a supergroup chat",
                    "parameters": {"migrate_to_chat_id": id},
                }),
            ),
        }
    }
}

/// A message the stand-in accepted.
#[derive(Debug, Clone)]
pub struct ReceivedMessage {
    /// The chat it went to (a `@username` resolved to its id).
    pub chat_id: i64,
    /// The text as sent (HTML source when `parse_mode` is HTML).
    pub text: String,
    /// The text as Telegram shows it, after entity parsing.
    pub visible_text: String,
    pub parse_mode: Option<String>,
    /// Every parameter as received (form values as strings).
    pub params: Value,
    pub at: Instant,
}

/// Any request the stand-in answered.
#[derive(Debug, Clone)]
pub struct SeenRequest {
    /// GET or POST.
    pub http_method: String,
    /// The Bot API method as requested (`sendMessage`).
    pub api_method: String,
    /// Path and query with the token replaced by `<token>`.
    pub path_without_token: String,
    /// The parameters from the query and the body, when they could be read.
    pub params: Value,
    pub status: u16,
    /// The answer's body (JSON), for asserting on Telegram's words.
    pub answer: Value,
    pub at: Instant,
}

struct Bucket {
    started: Instant,
    used: u32,
}

struct Inner {
    chats: Vec<KnownChat>,
    failures: Vec<Failure>,
    gone: Option<Failure>,
    webhook_active: bool,
    buckets: HashMap<i64, Bucket>,
    updates: Vec<Value>,
    next_update_id: i64,
    next_message_id: i64,
    received: Vec<ReceivedMessage>,
    seen: Vec<SeenRequest>,
}

struct State {
    token: String,
    per_chat_limit: u32,
    window: Duration,
    inner: Mutex<Inner>,
    received_count: watch::Sender<usize>,
}

/// Telegram's Bot API, on 127.0.0.1. Stops when dropped.
pub struct TelegramStandIn {
    addr: SocketAddr,
    state: Arc<State>,
    _server: ServerTask,
}

impl TelegramStandIn {
    /// The default token and chats, one message per second per chat.
    pub async fn start() -> TelegramStandIn {
        Self::start_with(TelegramStandInConfig::default()).await
    }

    pub async fn start_with(config: TelegramStandInConfig) -> TelegramStandIn {
        assert!(
            config.per_chat_limit > 0,
            "a chat takes at least one message"
        );
        let listener = bind_loopback().await;
        let addr = listener.local_addr().expect("bound address");
        let state = Arc::new(State {
            token: config.token,
            per_chat_limit: config.per_chat_limit,
            window: config.window,
            inner: Mutex::new(Inner {
                chats: config.chats,
                failures: Vec::new(),
                gone: None,
                webhook_active: false,
                buckets: HashMap::new(),
                updates: Vec::new(),
                next_update_id: 500_000_000,
                next_message_id: 1,
                received: Vec::new(),
                seen: Vec::new(),
            }),
            received_count: watch::Sender::new(0),
        });
        let served = state.clone();
        let server = spawn_server(listener, move |stream| {
            let state = served.clone();
            serve_replies(stream, move |request| state.handle(request))
        });
        TelegramStandIn {
            addr,
            state,
            _server: server,
        }
    }

    /// For `FARMHOOK_TELEGRAM_API_BASE`: `http://127.0.0.1:PORT`.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The valid token, as @BotFather hands it out.
    pub fn token(&self) -> String {
        self.state.token.clone()
    }

    /// `{base}/bot{token}/{method}` with the valid token, for plain-HTTP tests.
    pub fn method_url(&self, method: &str) -> String {
        format!("{}/bot{}/{method}", self.base(), self.state.token)
    }

    /// Answers the next `n` `sendMessage` requests with `failure` (after
    /// any failures already scripted).
    pub fn fail_next(&self, n: usize, failure: Failure) {
        let mut inner = lock(&self.state.inner);
        inner.failures.extend(std::iter::repeat_n(failure, n));
    }

    /// "Gone" mode: every `sendMessage` is answered with `failure` (e.g.
    /// [`Failure::Blocked`]) until set back to `None`.
    pub fn set_gone(&self, failure: Option<Failure>) {
        lock(&self.state.inner).gone = failure;
    }

    /// While a webhook is set, Telegram refuses `getUpdates` (409), so
    /// Find chat cannot work: this sets or clears that state.
    pub fn set_webhook_active(&self, active: bool) {
        lock(&self.state.inner).webhook_active = active;
    }

    /// Forgets a chat: from now on it is "chat not found".
    pub fn forget_chat(&self, id: i64) {
        lock(&self.state.inner).chats.retain(|c| c.id != id);
    }

    /// Someone writes `text` in a known chat (a post, in a channel): the
    /// next `getUpdates` lists it.
    pub fn push_update(&self, chat_id: i64, text: &str) {
        let mut inner = lock(&self.state.inner);
        let chat = inner.chat(chat_id).expect("push_update: a known chat");
        let message_id = inner.message_id();
        let mut message = json!({
            "message_id": message_id,
            "date": unix_now(),
            "chat": chat.json(),
            "text": text,
        });
        let key = if chat.kind == "channel" {
            message["sender_chat"] = chat.json();
            "channel_post"
        } else {
            message["from"] = json!({
                "id": PRIVATE_CHAT, "is_bot": false, "first_name": "Ada",
                "username": "ada_farm", "language_code": "en",
            });
            if text.starts_with('/') {
                let len = text
                    .split(' ')
                    .next()
                    .unwrap_or(text)
                    .encode_utf16()
                    .count();
                message["entities"] = json!([{"offset": 0, "length": len, "type": "bot_command"}]);
            }
            "message"
        };
        inner.push(key, message);
    }

    /// The bot is added to a known group or channel: the next `getUpdates`
    /// has a `my_chat_member` update for it.
    pub fn push_added_to(&self, chat_id: i64) {
        let mut inner = lock(&self.state.inner);
        let chat = inner.chat(chat_id).expect("push_added_to: a known chat");
        let bot = bot_user();
        let update = json!({
            "chat": chat.json(),
            "from": {"id": PRIVATE_CHAT, "is_bot": false, "first_name": "Ada"},
            "date": unix_now(),
            "old_chat_member": {"user": bot, "status": "left"},
            "new_chat_member": {"user": bot, "status": "member"},
        });
        inner.push("my_chat_member", update);
    }

    /// Every accepted message, in order.
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
            "Telegram stand-in accepted only {} of {n} messages within {WAIT_LIMIT:?}",
            *self.state.received_count.borrow()
        );
    }
}

impl Inner {
    fn chat(&self, id: i64) -> Option<KnownChat> {
        self.chats.iter().find(|c| c.id == id).cloned()
    }

    /// The chat a `chat_id` parameter names: a number, a numeric string or
    /// `@username`.
    fn resolve(&self, chat_id: &Value) -> Option<KnownChat> {
        match chat_id {
            Value::Number(n) => self.chat(n.as_i64()?),
            Value::String(s) => match s.trim().strip_prefix('@') {
                Some(name) => self
                    .chats
                    .iter()
                    .find(|c| {
                        c.username
                            .as_deref()
                            .is_some_and(|u| u.eq_ignore_ascii_case(name))
                    })
                    .cloned(),
                None => self.chat(s.trim().parse().ok()?),
            },
            _ => None,
        }
    }

    fn message_id(&mut self) -> i64 {
        self.next_message_id += 1;
        self.next_message_id
    }

    fn push(&mut self, key: &str, value: Value) {
        self.next_update_id += 1;
        let mut update = json!({"update_id": self.next_update_id});
        update[key] = value;
        self.updates.push(update);
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

fn bot_user() -> Value {
    json!({
        "id": BOT_ID, "is_bot": true, "first_name": BOT_NAME, "username": BOT_USERNAME,
    })
}

/// Telegram's error answer.
fn error(status: u16, description: &str) -> Reply {
    Reply::json(
        status,
        &json!({"ok": false, "error_code": status, "description": description}),
    )
}

fn bad_request(what: &str) -> Reply {
    error(400, &format!("Bad Request: {what}"))
}

fn too_many_requests(retry_after: u32) -> Reply {
    Reply::json(
        429,
        &json!({
            "ok": false,
            "error_code": 429,
            "description": format!("Too Many Requests: retry after {retry_after}"),
            "parameters": {"retry_after": retry_after},
        }),
    )
}

fn ok(result: Value) -> Reply {
    Reply::json(200, &json!({"ok": true, "result": result}))
}

/// A token of Telegram's shape: the bot id, a colon, 35+ URL-safe characters.
fn well_formed(token: &str) -> bool {
    token.split_once(':').is_some_and(|(id, secret)| {
        !id.is_empty()
            && id.bytes().all(|b| b.is_ascii_digit())
            && secret.len() >= 35
            && secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// The path with the token after `/bot` replaced by `<token>`.
fn redact(path_and_query: &str) -> String {
    match path_and_query.strip_prefix("/bot") {
        Some(rest) => match rest.find('/') {
            Some(slash) => format!("/bot<token>{}", &rest[slash..]),
            None => "/bot<token>".into(),
        },
        None => path_and_query.into(),
    }
}

/// The parameters of a request: the query's, then the body's (JSON or form),
/// as Telegram reads them; or Telegram's 400.
fn params(request: &RecordedRequest, query: &str) -> Result<Map<String, Value>, Reply> {
    let mut params: Map<String, Value> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect();
    if request.body.is_empty() {
        return Ok(params);
    }
    let content_type = request
        .header("content-type")
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("application/json") {
        match serde_json::from_slice::<Value>(&request.body) {
            Ok(Value::Object(body)) => params.extend(body),
            _ => return Err(bad_request("can't parse JSON object")),
        }
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        params.extend(
            url::form_urlencoded::parse(&request.body)
                .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned()))),
        );
    } else if content_type.starts_with("multipart/form-data") {
        // Telegram takes multipart too; farmhook never sends it, so the
        // stand-in says so plainly rather than parse it.
        return Err(bad_request(
            "multipart/form-data is not served by the stand-in",
        ));
    }
    Ok(params)
}

/// A parameter that Telegram takes as a JSON object, sent as one (JSON
/// body) or as a JSON string (query or form).
fn object_param(value: &Value) -> Option<Value> {
    match value {
        Value::Object(_) => Some(value.clone()),
        Value::String(s) => serde_json::from_str::<Value>(s)
            .ok()
            .filter(Value::is_object),
        _ => None,
    }
}

fn int_param(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

impl State {
    fn handle(&self, request: RecordedRequest) -> Reply {
        let (path, query) = request
            .path
            .split_once('?')
            .unwrap_or((request.path.as_str(), ""));
        let mut inner = lock(&self.inner);
        let (api_method, params, reply) =
            match path.strip_prefix("/bot").and_then(|r| r.split_once('/')) {
                None => (String::new(), Value::Null, error(404, "Not Found")),
                Some((token, method)) => {
                    let params = params(&request, query);
                    let shown = params.clone().map(Value::Object).unwrap_or(Value::Null);
                    let reply = if !well_formed(token) {
                        error(404, "Not Found")
                    } else if token != self.token {
                        error(401, "Unauthorized")
                    } else if !matches!(request.method.as_str(), "GET" | "POST") {
                        error(404, "Not Found")
                    } else {
                        match params {
                            Err(reply) => reply,
                            Ok(params) => self.call(&mut inner, method, &params),
                        }
                    };
                    (method.to_string(), shown, reply)
                }
            };
        inner.seen.push(SeenRequest {
            http_method: request.method.clone(),
            api_method,
            path_without_token: redact(&request.path),
            params,
            status: reply.status,
            answer: serde_json::from_slice(&reply.body).unwrap_or(Value::Null),
            at: request.at,
        });
        reply
    }

    fn call(&self, inner: &mut Inner, method: &str, params: &Map<String, Value>) -> Reply {
        // Telegram's method names are case-insensitive.
        match method.to_ascii_lowercase().as_str() {
            "getme" => ok(bot_user_full()),
            "getchat" => match params.get("chat_id") {
                None => bad_request("chat_id is empty"),
                Some(chat_id) => match inner.resolve(chat_id) {
                    None => bad_request("chat not found"),
                    Some(chat) => {
                        let mut full = chat.json();
                        full["accent_color_id"] = json!(0);
                        full["max_reaction_count"] = json!(11);
                        ok(full)
                    }
                },
            },
            "getupdates" if inner.webhook_active => error(
                409,
                "Conflict: can't use getUpdates method while webhook is active; \
                 use deleteWebhook to delete the webhook first",
            ),
            "getupdates" => {
                let offset = int_param(params.get("offset"));
                let limit = int_param(params.get("limit")).unwrap_or(100).clamp(1, 100);
                if let Some(offset) = offset.filter(|o| *o > 0) {
                    // An offset confirms every earlier update: Telegram
                    // forgets them.
                    inner
                        .updates
                        .retain(|u| u["update_id"].as_i64().is_some_and(|id| id >= offset));
                }
                let updates: Vec<Value> = inner
                    .updates
                    .iter()
                    .take(usize::try_from(limit).unwrap_or(100))
                    .cloned()
                    .collect();
                ok(Value::Array(updates))
            }
            "sendmessage" => self.send_message(inner, params),
            _ => error(404, "Not Found"),
        }
    }

    fn send_message(&self, inner: &mut Inner, params: &Map<String, Value>) -> Reply {
        if !inner.failures.is_empty() {
            return inner.failures.remove(0).reply();
        }
        let Some(chat_id) = params.get("chat_id").filter(|v| !v.is_null() && *v != "") else {
            return bad_request("chat_id is empty");
        };
        let Some(chat) = inner.resolve(chat_id) else {
            return bad_request("chat not found");
        };
        if let Some(gone) = &inner.gone {
            return gone.reply();
        }
        let text = match params.get("text") {
            Some(Value::String(text)) => text.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => return bad_request("message text is empty"),
        };
        let parse_mode = params
            .get("parse_mode")
            .and_then(Value::as_str)
            .filter(|m| !m.is_empty())
            .map(String::from);
        let visible_text = match parse_mode
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("markdown") | Some("markdownv2") => text.clone(),
            Some("html") => match parse_html(&text) {
                Ok(visible) => visible,
                Err(why) => return bad_request(&format!("can't parse entities: {why}")),
            },
            Some(_) => return bad_request("unsupported parse_mode"),
        };
        if visible_text.trim().is_empty() {
            return bad_request("message text is empty");
        }
        if visible_text.encode_utf16().count() > TEXT_MAX_UTF16 {
            return bad_request("message is too long");
        }
        let link_preview = match params.get("link_preview_options") {
            None => None,
            Some(value) => match object_param(value) {
                Some(options) => Some(options),
                None => return bad_request("can't parse link preview options JSON object"),
            },
        };
        let now = Instant::now();
        let bucket = inner.buckets.entry(chat.id).or_insert(Bucket {
            started: now,
            used: 0,
        });
        if now.duration_since(bucket.started) >= self.window {
            *bucket = Bucket {
                started: now,
                used: 0,
            };
        }
        if bucket.used >= self.per_chat_limit {
            let left = (bucket.started + self.window).saturating_duration_since(now);
            // Telegram asks for whole seconds, at least one.
            let retry_after = left.as_secs_f64().ceil().max(1.0) as u32;
            return too_many_requests(retry_after);
        }
        bucket.used += 1;

        let message_id = inner.message_id();
        let mut result = json!({
            "message_id": message_id,
            "from": bot_user(),
            "chat": chat.json(),
            "date": unix_now(),
            "text": visible_text,
        });
        if let Some(options) = link_preview {
            result["link_preview_options"] = options;
        }
        inner.received.push(ReceivedMessage {
            chat_id: chat.id,
            text,
            visible_text,
            parse_mode,
            params: Value::Object(params.clone()),
            at: now,
        });
        self.received_count.send_replace(inner.received.len());
        ok(result)
    }
}

fn bot_user_full() -> Value {
    let mut bot = bot_user();
    bot["can_join_groups"] = json!(true);
    bot["can_read_all_group_messages"] = json!(false);
    bot["supports_inline_queries"] = json!(false);
    bot["can_connect_to_business"] = json!(false);
    bot["has_main_web_app"] = json!(false);
    bot
}

/// The tags Telegram's HTML knows.
const TAGS: &[&str] = &[
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "tg-spoiler",
    "a",
    "tg-emoji",
    "code",
    "pre",
    "blockquote",
];

/// The visible text of Telegram HTML, or why Telegram would refuse it (its
/// words after "can't parse entities: "). Stricter than Telegram in one
/// way, on purpose: an `&` that starts no entity is refused (Telegram keeps
/// it), so a missed escape shows in tests.
pub fn parse_html(source: &str) -> Result<String, String> {
    let mut visible = String::new();
    let mut open: Vec<String> = Vec::new();
    let mut i = 0;
    while let Some(rest) = source.get(i..).filter(|r| !r.is_empty()) {
        if let Some(tag) = rest.strip_prefix("</") {
            let end = tag
                .find('>')
                .ok_or_else(|| format!("Unclosed end tag at byte offset {i}"))?;
            let name = tag[..end].trim().to_ascii_lowercase();
            match open.pop() {
                None => return Err(format!("Unexpected end tag at byte offset {i}")),
                Some(top) if top != name => {
                    return Err(format!(
                        "Unmatched end tag at byte offset {i}, expected \"</{top}>\", found \"</{name}>\""
                    ));
                }
                Some(_) => {}
            }
            i += 2 + end + 1;
        } else if let Some(tag) = rest.strip_prefix('<') {
            // Like Telegram: the name first (up to a blank or '>'), then
            // the attributes up to '>'.
            let unclosed = || format!("Unclosed start tag at byte offset {i}");
            let name_end = tag
                .find(|c: char| c.is_ascii_whitespace() || c == '>')
                .ok_or_else(unclosed)?;
            let name = tag[..name_end].to_ascii_lowercase();
            if !TAGS.contains(&name.as_str()) {
                return Err(format!(
                    "Unsupported start tag \"{name}\" at byte offset {i}"
                ));
            }
            let end = tag.find('>').ok_or_else(unclosed)?;
            let attributes = &tag[name_end..end];
            if name == "a" && !attributes.contains("href=") {
                return Err(format!(
                    "Empty attribute \"href\" in the tag \"a\" at byte offset {i}"
                ));
            }
            if name == "span" && !attributes.contains("tg-spoiler") {
                return Err(format!(
                    "Tag \"span\" must have class \"tg-spoiler\" at byte offset {i}"
                ));
            }
            open.push(name);
            i += 1 + end + 1;
        } else if rest.starts_with('&') {
            let (c, len) = entity(rest).ok_or_else(|| {
                format!("Character '&' at byte offset {i} starts no HTML entity: write &amp;")
            })?;
            visible.push(c);
            i += len;
        } else {
            let c = rest.chars().next().unwrap_or_default();
            visible.push(c);
            i += c.len_utf8();
        }
    }
    match open.last() {
        Some(top) => Err(format!(
            "Can't find end tag corresponding to start tag \"{top}\""
        )),
        None => Ok(visible),
    }
}

/// The character an entity at the start of `text` stands for, and its length.
fn entity(text: &str) -> Option<(char, usize)> {
    let end = text.get(..12.min(text.len())).unwrap_or(text).find(';')?;
    let name = &text[1..end];
    let c = match name {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "quot" => '"',
        _ => {
            let code = match name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => name.strip_prefix('#')?.parse().ok()?,
            };
            char::from_u32(code)?
        }
    };
    Some((c, end + 1))
}
