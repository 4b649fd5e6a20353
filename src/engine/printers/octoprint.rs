//! An OctoPrint server as a source: `POST /api/login {"passive":true}` with
//! the API key gives a session, the push socket (`/sockjs/websocket`, raw
//! JSON frames) is told `{"auth":"name:session"}`, and every message it
//! pushes goes to the [`OctoPrintTracker`]. A 401/403 on login stops the
//! source (a wrong key does not fix itself); anything else reconnects
//! with backoff.

use std::time::Duration;

use futures_util::StreamExt;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio_tungstenite::tungstenite::Message;

use super::socket::{self, Ended, Reporter, Socket, WatcherGone};
use super::{Backoff, LinkState, Probe, SourceContext};
use crate::core::printers::octoprint::auth_message;
use crate::core::printers::{OctoPrintTracker, PrinterConfig, PrinterTracker};

/// What the push socket is asked for: events and state, without the
/// terminal log and messages (which only cost bandwidth).
fn subscribe_message() -> String {
    json!({"subscribe": {"state": {"logs": false, "messages": false}, "events": true, "plugins": false}})
        .to_string()
}

/// Watches one OctoPrint server until `ctx.stop` turns true. See the
/// contract in [`super`].
pub async fn run(mut ctx: SourceContext) {
    let mut reporter = Reporter::new(&ctx.config.name, ctx.updates.clone());
    let result = watch(&mut ctx, &mut reporter).await;
    if let Ok(why) = result {
        reporter.stopped(&why);
    }
}

async fn watch(ctx: &mut SourceContext, reporter: &mut Reporter) -> Result<String, WatcherGone> {
    let mut tracker = OctoPrintTracker::new();
    tracker.set_timing(ctx.timing);
    if let Some(last) = ctx.last_known {
        tracker.carry_over(last, OffsetDateTime::now_utc());
    }
    let mut backoff = Backoff::default();
    let Some(base) = socket::base_url(&ctx.config.address) else {
        return Ok("the OctoPrint address is not a usable URL".into());
    };
    let Some(ws_url) = ctx.config.websocket_url() else {
        return Ok("the OctoPrint address is not a usable URL".into());
    };
    let client = match http_client(socket::CONNECT_TIMEOUT) {
        Ok(c) => c,
        Err(e) => return Ok(e),
    };
    loop {
        if socket::stopping(&ctx.stop) {
            return Ok("stopped".into());
        }
        reporter.link(LinkState::Connecting).await?;
        let ended = connect_once(
            ctx,
            &client,
            &base,
            &ws_url,
            &mut tracker,
            reporter,
            &mut backoff,
        )
        .await?;
        if let Some(why) =
            socket::after_connection(ended, &mut tracker, reporter, &mut backoff, &mut ctx.stop)
                .await?
        {
            return Ok(why);
        }
    }
}

async fn connect_once(
    ctx: &mut SourceContext,
    client: &reqwest::Client,
    base: &str,
    ws_url: &str,
    tracker: &mut OctoPrintTracker,
    reporter: &mut Reporter,
    backoff: &mut Backoff,
) -> Result<Ended, WatcherGone> {
    let (user, session) = match login(client, base, ctx.secret.as_ref()).await {
        Ok(pair) => pair,
        Err(LoginError::Refused(why)) => return Ok(Ended::Refused(why)),
        Err(LoginError::Failed(why)) => return Ok(Ended::Dropped(why)),
    };
    let mut ws = match socket::open(ws_url, None).await {
        Ok(ws) => ws,
        Err(socket::OpenError::Refused(code)) => {
            return Ok(Ended::Dropped(format!(
                "OctoPrint refused the push socket (HTTP {code})"
            )));
        }
        Err(socket::OpenError::Failed(why)) => return Ok(Ended::Dropped(why)),
    };
    for text in [subscribe_message(), auth_message(&user, &session)] {
        if let Err(why) = socket::send_text(&mut ws, text).await {
            return Ok(Ended::Dropped(why));
        }
    }
    tracker.link_up(OffsetDateTime::now_utc());
    reporter.link(LinkState::Connected).await?;
    read(ctx, &mut ws, tracker, reporter, backoff).await
}

async fn read(
    ctx: &mut SourceContext,
    ws: &mut Socket,
    tracker: &mut OctoPrintTracker,
    reporter: &mut Reporter,
    backoff: &mut Backoff,
) -> Result<Ended, WatcherGone> {
    let mut tick = tokio::time::interval(socket::TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            message = ws.next() => {
                let text = match message {
                    None => return Ok(Ended::Dropped("OctoPrint closed the push socket".into())),
                    Some(Err(e)) => return Ok(Ended::Dropped(socket::socket_error_words(&e))),
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Close(_))) => {
                        return Ok(Ended::Dropped("OctoPrint closed the push socket".into()));
                    }
                    Some(Ok(_)) => continue,
                };
                let Ok(value) = serde_json::from_str::<Value>(text.as_str()) else {
                    continue;
                };
                if value.get("reauthRequired").is_some() {
                    // The session ended (logout, key changed): log in again.
                    return Ok(Ended::Dropped("OctoPrint asked to log in again".into()));
                }
                backoff.reset();
                let news = tracker.report(&value, OffsetDateTime::now_utc());
                reporter.tell(news, tracker).await?;
            }
            _ = tick.tick() => {
                let now = OffsetDateTime::now_utc();
                let news = tracker.poll(now);
                reporter.tell(news, tracker).await?;
                if tracker.is_silent(now) {
                    return Ok(Ended::Dropped("OctoPrint went silent".into()));
                }
            }
            changed = ctx.stop.changed() => {
                if changed.is_err() || *ctx.stop.borrow() {
                    ws.close(None).await.ok();
                    return Ok(Ended::Stop);
                }
            }
        }
    }
}

enum LoginError {
    Refused(String),
    Failed(String),
}

fn http_client(timeout: Duration) -> Result<reqwest::Client, String> {
    crate::engine::crypto::install();
    reqwest::Client::builder()
        .user_agent(crate::build_info::USER_AGENT)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(timeout)
        .timeout(timeout)
        .build()
        .map_err(|e| format!("the HTTP client could not start: {}", e.without_url()))
}

fn with_key(
    request: reqwest::RequestBuilder,
    key: Option<&SecretString>,
) -> reqwest::RequestBuilder {
    match key {
        Some(key) => request.header("X-Api-Key", key.expose_secret()),
        None => request,
    }
}

fn http_words(e: reqwest::Error) -> String {
    if let Some(words) = socket::certificate_words(&e) {
        format!("OctoPrint's address is not trusted: {words}")
    } else if e.is_timeout() {
        "OctoPrint did not answer in time".into()
    } else if e.is_connect() {
        "OctoPrint is unreachable (connection refused or no route)".into()
    } else {
        format!("the request to OctoPrint failed: {}", e.without_url())
    }
}

/// `POST /api/login {"passive":true}` → the user's name and a session.
async fn login(
    client: &reqwest::Client,
    base: &str,
    key: Option<&SecretString>,
) -> Result<(String, String), LoginError> {
    let request = client
        .post(format!("{base}/api/login"))
        .header("Content-Type", "application/json")
        .body(json!({"passive": true}).to_string());
    let response = with_key(request, key)
        .send()
        .await
        .map_err(|e| LoginError::Failed(http_words(e)))?;
    let mut status = response.status().as_u16();
    if !matches!(status, 200 | 401 | 403) {
        // OctoPrint 1.11 answers a login with an unknown key as a browser
        // login ("400 CSRF validation failed"): ask a plain API call
        // whether the key is the trouble.
        let check = with_key(client.get(format!("{base}/api/job")), key)
            .send()
            .await
            .map_err(|e| LoginError::Failed(http_words(e)))?;
        if matches!(check.status().as_u16(), 401 | 403) {
            status = check.status().as_u16();
        }
    }
    if matches!(status, 401 | 403) {
        return Err(LoginError::Refused(format!(
            "OctoPrint refused the API key (HTTP {status}); check the key in OctoPrint's \
             settings (API or Application Keys) and set it again"
        )));
    }
    if status != 200 {
        return Err(LoginError::Failed(format!(
            "OctoPrint answered HTTP {status} to the login"
        )));
    }
    let body = json_body(response)
        .await
        .map_err(|why| LoginError::Failed(format!("OctoPrint's login answer: {why}")))?;
    let field = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
    match (field("name"), field("session")) {
        (Some(name), Some(session)) => Ok((name, session)),
        _ => Err(LoginError::Failed(
            "OctoPrint's login answer has no name and session".into(),
        )),
    }
}

/// A response's body as JSON.
async fn json_body(response: reqwest::Response) -> Result<Value, String> {
    let bytes = response.bytes().await.map_err(http_words)?;
    serde_json::from_slice(&bytes).map_err(|_| "not JSON".to_string())
}

/// Connects once and reads the status: `GET /api/job` and `/api/printer`
/// (409: the printer is not operational) with the API key.
pub async fn probe(
    config: &PrinterConfig,
    secret: Option<&SecretString>,
    timeout: Duration,
) -> Result<Probe, String> {
    tokio::time::timeout(timeout, probe_once(config, secret, timeout))
        .await
        .map_err(|_| format!("OctoPrint did not answer within {} s", timeout.as_secs()))?
}

async fn probe_once(
    config: &PrinterConfig,
    secret: Option<&SecretString>,
    timeout: Duration,
) -> Result<Probe, String> {
    let base = socket::base_url(&config.address)
        .ok_or_else(|| "the OctoPrint address is not a usable URL".to_string())?;
    let client = http_client(timeout)?;
    let get = |path: &str| with_key(client.get(format!("{base}{path}")), secret).send();
    let job = get("/api/job").await.map_err(http_words)?;
    let status = job.status().as_u16();
    if matches!(status, 401 | 403) {
        return Err(format!(
            "OctoPrint refused the API key (HTTP {status}); check the key in OctoPrint's settings"
        ));
    }
    if status != 200 {
        return Err(format!("OctoPrint answered HTTP {status} to GET /api/job"));
    }
    let job = json_body(job)
        .await
        .map_err(|why| format!("OctoPrint's job answer: {why}"))?;
    let printer = get("/api/printer").await.map_err(http_words)?;
    let state = match printer.status().as_u16() {
        200 => json_body(printer)
            .await
            .map_err(|why| format!("OctoPrint's printer answer: {why}"))?
            .get("state")
            .cloned()
            .unwrap_or(Value::Null),
        // Not operational: OctoPrint has no connection to the printer.
        409 => {
            let text = job
                .get("state")
                .and_then(Value::as_str)
                .unwrap_or("Offline");
            json!({"text": text, "flags": {"operational": false, "closedOrError": true}})
        }
        other => {
            return Err(format!(
                "OctoPrint answered HTTP {other} to GET /api/printer"
            ));
        }
    };
    let current = json!({"current": {
        "state": state,
        "job": job.get("job").cloned().unwrap_or(Value::Null),
        "progress": job.get("progress").cloned().unwrap_or(Value::Null),
    }});
    let mut tracker = OctoPrintTracker::new();
    let now = OffsetDateTime::now_utc();
    tracker.link_up(now);
    tracker.report(&current, now);
    Ok(Probe {
        snapshot: tracker.snapshot(),
        fingerprint: None,
        chained_to_bambu: false,
    })
}
