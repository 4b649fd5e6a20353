//! A Moonraker (Klipper) server as a source: the JSON-RPC websocket at
//! `/websocket` (the API key, when set, as `X-Api-Key` on the upgrade and
//! in `server.connection.identify`), `server.info` to learn whether Klippy
//! is there, `printer.objects.subscribe` whenever the
//! [`MoonrakerTracker`] wants a baseline, and every reply and `notify_*`
//! fed to it. A 401/403 on the upgrade stops the source; anything else
//! reconnects with backoff.

use std::time::Duration;

use futures_util::StreamExt;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use time::OffsetDateTime;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use super::socket::{self, Ended, OpenError, Reporter, Socket, WatcherGone};
use super::{Backoff, LinkState, Probe, SourceContext};
use crate::core::printers::moonraker::{identify_request, server_info_request, subscribe_request};
use crate::core::printers::{MoonrakerTracker, PrinterConfig, PrinterTracker};

/// While Klippy is starting or away, `server.info` is asked this often.
const KLIPPY_RECHECK: Duration = Duration::from_secs(2);

/// The words for a refused upgrade.
fn refused_words(code: u16, had_key: bool) -> String {
    if had_key {
        format!(
            "Moonraker refused the API key (HTTP {code}); check it with `moonraker` \
             (access.api_key) and set it again"
        )
    } else {
        format!(
            "Moonraker wants an API key (HTTP {code}); add one, or list farmhook's address under \
             trusted_clients in moonraker.conf"
        )
    }
}

/// Watches one Moonraker server until `ctx.stop` turns true. See the
/// contract in [`super`].
pub async fn run(mut ctx: SourceContext) {
    let mut reporter = Reporter::new(&ctx.config.name, ctx.updates.clone());
    if let Ok(why) = watch(&mut ctx, &mut reporter).await {
        reporter.stopped(&why);
    }
}

async fn watch(ctx: &mut SourceContext, reporter: &mut Reporter) -> Result<String, WatcherGone> {
    let Some(url) = ctx.config.websocket_url() else {
        return Ok("the Moonraker address is not a usable URL".into());
    };
    let mut tracker = MoonrakerTracker::new();
    tracker.set_timing(ctx.timing);
    if let Some(last) = ctx.last_known {
        tracker.carry_over(last, OffsetDateTime::now_utc());
    }
    let mut backoff = Backoff::default();
    loop {
        if socket::stopping(&ctx.stop) {
            return Ok("stopped".into());
        }
        reporter.link(LinkState::Connecting).await?;
        let ended = match socket::open(&url, ctx.secret.as_ref()).await {
            Err(OpenError::Refused(code)) => {
                Ended::Refused(refused_words(code, ctx.secret.is_some()))
            }
            Err(OpenError::Failed(why)) => Ended::Dropped(format!("Moonraker: {why}")),
            Ok(mut ws) => {
                tracker.link_up(OffsetDateTime::now_utc());
                reporter.link(LinkState::Connected).await?;
                let ended = session(ctx, &mut ws, &mut tracker, reporter, &mut backoff).await?;
                if matches!(ended, Ended::Stop) {
                    ws.close(None).await.ok();
                }
                ended
            }
        };
        if let Some(why) =
            socket::after_connection(ended, &mut tracker, reporter, &mut backoff, &mut ctx.stop)
                .await?
        {
            return Ok(why);
        }
    }
}

/// One connection's JSON-RPC conversation.
struct Conversation {
    next_id: u64,
    info_id: Option<u64>,
    info_sent: Option<Instant>,
    subscribe_id: Option<u64>,
    /// Klippy is connected to Moonraker (ready, or shut down but there):
    /// its objects can be subscribed.
    klippy_there: bool,
}

impl Conversation {
    fn new() -> Conversation {
        Conversation {
            next_id: 1,
            info_id: None,
            info_sent: None,
            subscribe_id: None,
            klippy_there: false,
        }
    }

    fn id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Reads what a message says about Klippy and our requests.
    fn heard(&mut self, message: &Value) {
        let id = message.get("id").and_then(Value::as_u64);
        if id.is_some() && id == self.info_id {
            self.info_id = None;
            let state = message
                .get("result")
                .and_then(|r| r.get("klippy_state"))
                .and_then(Value::as_str)
                .unwrap_or("");
            self.klippy_there = matches!(state, "ready" | "shutdown" | "error");
        }
        if id.is_some() && id == self.subscribe_id {
            self.subscribe_id = None;
            if message.get("error").is_some() {
                // Klippy went away between server.info and the subscribe.
                self.klippy_there = false;
            }
        }
        match message.get("method").and_then(Value::as_str) {
            Some("notify_klippy_ready" | "notify_klippy_shutdown") => self.klippy_there = true,
            Some("notify_klippy_disconnected") => self.klippy_there = false,
            _ => {}
        }
    }

    /// What to send now: `server.info` while Klippy is away, the
    /// subscribe when the tracker wants a baseline and Klippy is there.
    fn requests(&mut self, tracker: &MoonrakerTracker) -> Vec<String> {
        let mut out = Vec::new();
        if !self.klippy_there
            && self.info_id.is_none()
            && self
                .info_sent
                .is_none_or(|at| at.elapsed() >= KLIPPY_RECHECK)
        {
            let id = self.id();
            self.info_id = Some(id);
            self.info_sent = Some(Instant::now());
            out.push(server_info_request(id));
        } else if !self.klippy_there
            && self
                .info_sent
                .is_some_and(|at| at.elapsed() >= KLIPPY_RECHECK * 5)
        {
            // No answer to server.info for a long while: ask again.
            self.info_id = None;
        }
        if self.klippy_there && tracker.wants_subscribe() && self.subscribe_id.is_none() {
            let id = self.id();
            self.subscribe_id = Some(id);
            out.push(subscribe_request(id));
        }
        out
    }
}

async fn session(
    ctx: &mut SourceContext,
    ws: &mut Socket,
    tracker: &mut MoonrakerTracker,
    reporter: &mut Reporter,
    backoff: &mut Backoff,
) -> Result<Ended, WatcherGone> {
    let mut talk = Conversation::new();
    let identify = identify_request(talk.id(), ctx.secret.as_ref().map(|s| s.expose_secret()));
    if let Err(why) = socket::send_text(ws, identify).await {
        return Ok(Ended::Dropped(why));
    }
    let mut tick = tokio::time::interval(socket::TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        for request in talk.requests(tracker) {
            if let Err(why) = socket::send_text(ws, request).await {
                return Ok(Ended::Dropped(why));
            }
        }
        tokio::select! {
            message = ws.next() => {
                let text = match message {
                    None => return Ok(Ended::Dropped("Moonraker closed the connection".into())),
                    Some(Err(e)) => return Ok(Ended::Dropped(format!("Moonraker: {}", socket::socket_error_words(&e)))),
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Close(_))) => {
                        return Ok(Ended::Dropped("Moonraker closed the connection".into()));
                    }
                    Some(Ok(_)) => continue,
                };
                let Ok(value) = serde_json::from_str::<Value>(text.as_str()) else {
                    continue;
                };
                if let Some(why) = refused_reply(&value, ctx.secret.is_some()) {
                    return Ok(Ended::Refused(why));
                }
                backoff.reset();
                talk.heard(&value);
                let news = tracker.report(&value, OffsetDateTime::now_utc());
                reporter.tell(news, tracker).await?;
            }
            _ = tick.tick() => {
                let now = OffsetDateTime::now_utc();
                let news = tracker.poll(now);
                reporter.tell(news, tracker).await?;
                if tracker.is_silent(now) {
                    return Ok(Ended::Dropped("Moonraker went silent".into()));
                }
            }
            changed = ctx.stop.changed() => {
                if changed.is_err() || *ctx.stop.borrow() {
                    return Ok(Ended::Stop);
                }
            }
        }
    }
}

/// A JSON-RPC error that means the key is wrong (Moonraker answers an
/// unauthorized request with error code 401 or 403).
fn refused_reply(message: &Value, had_key: bool) -> Option<String> {
    let code = message.get("error")?.get("code")?.as_i64()?;
    matches!(code, 401 | 403).then(|| refused_words(code as u16, had_key))
}

/// Connects once, reads Klippy's state and (when Klippy is there) the
/// subscribed objects, and returns the snapshot.
pub async fn probe(
    config: &PrinterConfig,
    secret: Option<&SecretString>,
    timeout: Duration,
) -> Result<Probe, String> {
    let url = config
        .websocket_url()
        .ok_or_else(|| "the Moonraker address is not a usable URL".to_string())?;
    let work = async {
        let mut ws = match socket::open(&url, secret).await {
            Ok(ws) => ws,
            Err(OpenError::Refused(code)) => return Err(refused_words(code, secret.is_some())),
            Err(OpenError::Failed(why)) => return Err(format!("Moonraker is unreachable: {why}")),
        };
        let mut tracker = MoonrakerTracker::new();
        tracker.link_up(OffsetDateTime::now_utc());
        let mut talk = Conversation::new();
        let identify = identify_request(talk.id(), secret.map(|s| s.expose_secret()));
        socket::send_text(&mut ws, identify).await?;
        let mut klippy_state = String::new();
        loop {
            for request in talk.requests(&tracker) {
                socket::send_text(&mut ws, request).await?;
            }
            let text = match ws.next().await {
                None | Some(Ok(Message::Close(_))) => {
                    return Err("Moonraker closed the connection".to_string());
                }
                Some(Err(e)) => return Err(socket::socket_error_words(&e)),
                Some(Ok(Message::Text(text))) => text,
                Some(Ok(_)) => continue,
            };
            let Ok(value) = serde_json::from_str::<Value>(text.as_str()) else {
                continue;
            };
            if let Some(why) = refused_reply(&value, secret.is_some()) {
                return Err(why);
            }
            let info_reply = value.get("id").and_then(Value::as_u64).is_some()
                && value.get("id").and_then(Value::as_u64) == talk.info_id;
            talk.heard(&value);
            tracker.report(&value, OffsetDateTime::now_utc());
            if info_reply {
                klippy_state = value
                    .pointer("/result/klippy_state")
                    .and_then(Value::as_str)
                    .unwrap_or("unknown")
                    .to_string();
                if !talk.klippy_there {
                    break;
                }
            }
            if !tracker.wants_subscribe() {
                break;
            }
        }
        ws.close(None).await.ok();
        let mut snapshot = tracker.snapshot();
        if !talk.klippy_there {
            snapshot.state = format!("klipper {klippy_state}");
        }
        Ok(snapshot)
    };
    let snapshot = tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| format!("Moonraker did not answer within {} s", timeout.as_secs()))??;
    Ok(Probe {
        snapshot,
        fingerprint: None,
        chained_to_bambu: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_conversation_asks_server_info_then_subscribes_once_klippy_is_there() {
        let tracker = MoonrakerTracker::new();
        let mut talk = Conversation::new();
        let first = talk.requests(&tracker);
        assert_eq!(first.len(), 1);
        assert!(first[0].contains("server.info"));
        // Asked and not answered: nothing more yet.
        assert!(talk.requests(&tracker).is_empty());
        let id = talk.info_id.expect("server.info is pending");
        talk.heard(&json!({"jsonrpc":"2.0","id":id,"result":{"klippy_state":"startup"}}));
        assert!(!talk.klippy_there);
        talk.heard(&json!({"jsonrpc":"2.0","method":"notify_klippy_ready"}));
        let next = talk.requests(&tracker);
        assert_eq!(next.len(), 1);
        assert!(next[0].contains("printer.objects.subscribe"));
        // One subscribe in flight at a time.
        assert!(talk.requests(&tracker).is_empty());
    }

    #[test]
    fn a_401_reply_is_a_refusal_in_words_without_the_key() {
        let reply = json!({"jsonrpc":"2.0","id":1,"error":{"code":401,"message":"Unauthorized"}});
        let why = refused_reply(&reply, true).expect("refused");
        assert!(why.contains("refused the API key"));
        assert!(refused_reply(&json!({"error":{"code":-32601}}), true).is_none());
        assert!(refused_words(401, false).contains("trusted_clients"));
    }
}
