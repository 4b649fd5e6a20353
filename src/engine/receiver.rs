//! A local receiver for the custom webhook (`farmhook receive`): it listens
//! on loopback, checks `X-API-Key` in constant time and the signature when
//! one is configured, and reports each delivery, so a user can test the
//! custom webhook with no server of their own. A client cannot tie it up:
//! each connection carries one request, must send its headers within
//! [`ReceiverLimits::header_read_timeout`], and at most
//! [`ReceiverLimits::max_connections`] are open at once; when full, the
//! connection that has waited longest without sending a request is closed
//! to make room, so idle connections never keep a real delivery out.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use hyper::service::Service as _;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use subtle::ConstantTimeEq;

use crate::core::channels::webhook::api_key::{ApiKey, SigningSecret};

/// Signatures older or newer than this are refused (Standard Webhooks).
pub const TIMESTAMP_TOLERANCE_S: i64 = 5 * 60;

/// What the receiver checks against.
#[derive(Clone)]
pub struct ReceiverConfig {
    pub key: ApiKey,
    pub signing: Option<SigningSecret>,
}

/// One request the receiver got, judged. Holds no secret.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReceivedDelivery {
    pub method: String,
    pub path: String,
    pub event_type: Option<String>,
    pub webhook_id: Option<String>,
    pub key_ok: bool,
    /// `None` when no signing secret is configured.
    pub signature_ok: Option<bool>,
    /// What was wrong, in words; `None` when accepted.
    pub problem: Option<String>,
    pub status: u16,
    pub body: String,
}

/// Judges one request. Pure apart from `now_unix`.
pub fn judge(
    config: &ReceiverConfig,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
    now_unix: i64,
) -> ReceivedDelivery {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let key_ok = header("x-api-key")
        .is_some_and(|given| bool::from(given.as_bytes().ct_eq(config.key.expose().as_bytes())));
    let webhook_id = header("webhook-id").map(String::from);
    let signature_ok = config.signing.as_ref().map(|secret| {
        let (Some(id), Some(ts), Some(sig)) = (
            header("webhook-id"),
            header("webhook-timestamp").and_then(|t| t.parse::<i64>().ok()),
            header("webhook-signature"),
        ) else {
            return false;
        };
        // abs_diff: any i64 timestamp, however extreme, is judged without overflow.
        now_unix.abs_diff(ts) <= TIMESTAMP_TOLERANCE_S.unsigned_abs()
            && secret.verify(id, ts, body, sig)
    });
    let parsed: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let event_type = parsed
        .as_ref()
        .and_then(|v| v.get("type"))
        .and_then(|t| t.as_str())
        .map(String::from);
    let problem = if method != Method::POST {
        Some(format!("{method} is not a delivery; farmhook sends POST"))
    } else if header("x-api-key").is_none() {
        Some("no X-API-Key header".to_string())
    } else if !key_ok {
        Some("the X-API-Key does not match this profile's key".to_string())
    } else if signature_ok == Some(false) {
        Some("the webhook-signature is missing, stale or does not match".to_string())
    } else if parsed.is_none() {
        Some("the body is not JSON".to_string())
    } else {
        None
    };
    let status = match &problem {
        None => 200,
        Some(_) if method != Method::POST => 405,
        Some(_) if !key_ok || signature_ok == Some(false) => 401,
        Some(_) => 400,
    };
    let body = match &parsed {
        Some(v) => serde_json::to_string_pretty(v).unwrap_or_default(),
        None => String::from_utf8_lossy(&body[..body.len().min(4096)]).into_owned(),
    };
    ReceivedDelivery {
        method: method.to_string(),
        path: path.chars().take(200).collect(),
        event_type,
        webhook_id,
        key_ok,
        signature_ok,
        problem,
        status,
        body,
    }
}

/// What keeps one client from tying the receiver up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiverLimits {
    /// Connections open at once.
    pub max_connections: usize,
    /// How long a connection may take to send its request's headers.
    pub header_read_timeout: Duration,
    /// How long one connection (one request) may last in all.
    pub connection_timeout: Duration,
}

impl Default for ReceiverLimits {
    /// Generous for farmhook's own sender, which sends its headers at once
    /// and gives up after 15 s.
    fn default() -> Self {
        ReceiverLimits {
            max_connections: 32,
            header_read_timeout: Duration::from_secs(5),
            connection_timeout: Duration::from_secs(30),
        }
    }
}

/// Serves with the default [`ReceiverLimits`] until the future is dropped.
/// `report` sees every request.
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: ReceiverConfig,
    report: impl Fn(ReceivedDelivery) + Send + Sync + 'static,
) -> std::io::Result<()> {
    serve_until(
        listener,
        config,
        ReceiverLimits::default(),
        report,
        std::future::pending(),
    )
    .await
}

/// Serves within `limits` until `stop` completes (or the future is
/// dropped). After `stop`, requests under way are answered before it
/// returns; connections that sent no request are closed.
pub async fn serve_until(
    listener: tokio::net::TcpListener,
    config: ReceiverConfig,
    limits: ReceiverLimits,
    report: impl Fn(ReceivedDelivery) + Send + Sync + 'static,
    stop: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let app = TowerToHyperService::new(router(config, report));
    let connections = Arc::new(Connections::default());
    let mut next_id = 0u64;
    tokio::pin!(stop);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut stop => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(_) => {
                // A connection that failed while queued, or no file
                // descriptor left: wait a moment and go on listening.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        connections.make_room(limits.max_connections.max(1)).await;
        let id = next_id;
        next_id += 1;
        let in_request = Arc::new(AtomicBool::new(false));
        let service = {
            let app = app.clone();
            let in_request = in_request.clone();
            hyper::service::service_fn(move |request| {
                in_request.store(true, Ordering::Relaxed);
                app.call(request)
            })
        };
        // Moved into the task, so it unregisters even if aborted unpolled.
        let registered = Registered {
            id,
            connections: connections.clone(),
        };
        // Held while spawning, so the task cannot unregister before it is
        // registered.
        let mut registry = lock(&connections.open);
        let task = tokio::spawn(async move {
            let _registered = registered;
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_read_timeout)
                .keep_alive(false);
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            // A client that errs or dawdles only loses its own connection.
            tokio::time::timeout(limits.connection_timeout, connection)
                .await
                .ok();
        });
        registry.insert(
            id,
            OpenConnection {
                in_request,
                task: task.abort_handle(),
            },
        );
    }
    connections.finish().await;
    Ok(())
}

/// The app: every method and path is judged and reported.
fn router(
    config: ReceiverConfig,
    report: impl Fn(ReceivedDelivery) + Send + Sync + 'static,
) -> axum::Router {
    let config = Arc::new(config);
    let report = Arc::new(report);
    axum::Router::new().fallback(
        move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let config = config.clone();
            let report = report.clone();
            async move {
                let now = time::OffsetDateTime::now_utc().unix_timestamp();
                let judged = judge(&config, &method, uri.path(), &headers, &body, now);
                let status = StatusCode::from_u16(judged.status).unwrap_or(StatusCode::BAD_REQUEST);
                let answer = match &judged.problem {
                    None => serde_json::json!({"ok": true}),
                    Some(p) => serde_json::json!({"ok": false, "error": p}),
                };
                report(judged);
                (
                    status,
                    [("content-type", "application/json")],
                    answer.to_string(),
                )
                    .into_response()
            }
        },
    )
}

/// The open connections, oldest first.
#[derive(Default)]
struct Connections {
    open: Mutex<BTreeMap<u64, OpenConnection>>,
    closed: tokio::sync::Notify,
}

struct OpenConnection {
    /// Set once the connection's request headers have arrived.
    in_request: Arc<AtomicBool>,
    task: tokio::task::AbortHandle,
}

impl Connections {
    /// Returns once one more connection may open: at once below `max`,
    /// else after closing the oldest connection that has sent no request,
    /// else when a request ends.
    async fn make_room(&self, max: usize) {
        loop {
            // Created before looking, so a close in between still wakes us.
            let closed = self.closed.notified();
            {
                let mut open = lock(&self.open);
                if open.len() < max {
                    return;
                }
                let idle = open
                    .iter()
                    .find(|(_, c)| !c.in_request.load(Ordering::Relaxed))
                    .map(|(id, _)| *id);
                if let Some(connection) = idle.and_then(|id| open.remove(&id)) {
                    connection.task.abort();
                    return;
                }
            }
            closed.await;
        }
    }

    /// Closes the connections that sent no request and waits for the
    /// others to be answered.
    async fn finish(&self) {
        loop {
            let closed = self.closed.notified();
            {
                let mut open = lock(&self.open);
                open.retain(|_, c| {
                    let busy = c.in_request.load(Ordering::Relaxed);
                    if !busy {
                        c.task.abort();
                    }
                    busy
                });
                if open.is_empty() {
                    return;
                }
            }
            closed.await;
        }
    }
}

/// Unregisters a connection when its task ends or is aborted.
struct Registered {
    id: u64,
    connections: Arc<Connections>,
}

impl Drop for Registered {
    fn drop(&mut self) {
        lock(&self.connections.open).remove(&self.id);
        self.connections.closed.notify_waiters();
    }
}

/// The registry stays consistent even if a task panicked while holding it:
/// every change is one insert or remove.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn config(signing: bool) -> ReceiverConfig {
        ReceiverConfig {
            key: ApiKey::parse("k".repeat(40).as_str()).unwrap(),
            signing: signing
                .then(|| SigningSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap()),
        }
    }

    fn headers(pairs: &[(&'static str, String)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn accepts_the_right_key_and_refuses_others() {
        let body = br#"{"type":"job.failed"}"#;
        let ok = judge(
            &config(false),
            &Method::POST,
            "/hook",
            &headers(&[("x-api-key", "k".repeat(40))]),
            body,
            0,
        );
        assert_eq!(
            (ok.status, ok.key_ok, ok.problem.clone()),
            (200, true, None)
        );
        assert_eq!(ok.event_type.as_deref(), Some("job.failed"));
        let wrong = judge(
            &config(false),
            &Method::POST,
            "/hook",
            &headers(&[("x-api-key", "x".repeat(40))]),
            body,
            0,
        );
        assert_eq!(wrong.status, 401);
        assert!(wrong.problem.unwrap().contains("does not match"));
        let missing = judge(
            &config(false),
            &Method::POST,
            "/hook",
            &HeaderMap::new(),
            body,
            0,
        );
        assert_eq!(missing.status, 401);
    }

    /// Registers a connection whose task runs until aborted.
    fn open_one(
        connections: &Arc<Connections>,
        id: u64,
        in_request: bool,
    ) -> tokio::task::JoinHandle<()> {
        let registered = Registered {
            id,
            connections: connections.clone(),
        };
        let task = tokio::spawn(async move {
            let _registered = registered;
            std::future::pending::<()>().await
        });
        lock(&connections.open).insert(
            id,
            OpenConnection {
                in_request: Arc::new(AtomicBool::new(in_request)),
                task: task.abort_handle(),
            },
        );
        task
    }

    fn open_ids(connections: &Connections) -> Vec<u64> {
        lock(&connections.open).keys().copied().collect()
    }

    #[tokio::test]
    async fn a_full_receiver_closes_the_oldest_idle_connection_else_waits() {
        let connections = Arc::new(Connections::default());
        let busy = open_one(&connections, 0, true);
        let oldest_idle = open_one(&connections, 1, false);
        let _idle = open_one(&connections, 2, false);
        // Below the limit: nothing is closed.
        connections.make_room(4).await;
        assert_eq!(open_ids(&connections), [0, 1, 2]);
        // At the limit: the oldest connection without a request goes.
        connections.make_room(3).await;
        assert!(oldest_idle.await.unwrap_err().is_cancelled());
        assert_eq!(open_ids(&connections), [0, 2]);

        // Every connection in a request: wait until one ends.
        lock(&connections.open)
            .get(&2)
            .unwrap()
            .in_request
            .store(true, Ordering::Relaxed);
        let waiting = tokio::spawn({
            let connections = connections.clone();
            async move { connections.make_room(2).await }
        });
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert!(!waiting.is_finished());
        assert_eq!(open_ids(&connections), [0, 2]);
        busy.abort();
        tokio::time::timeout(Duration::from_secs(30), waiting)
            .await
            .expect("room once a request ended")
            .unwrap();
        assert_eq!(open_ids(&connections), [2]);
    }

    #[test]
    fn extreme_timestamps_are_refused_without_overflow() {
        let c = config(true);
        let body = br#"{"type":"job.failed"}"#;
        for (ts, now) in [
            (i64::MIN, 1_800_000_000),
            (i64::MAX, 1_800_000_000),
            (i64::MIN, i64::MAX),
            (i64::MAX, i64::MIN),
        ] {
            let sig = c.signing.as_ref().unwrap().sign("evt_1", ts, body);
            let h = headers(&[
                ("x-api-key", "k".repeat(40)),
                ("webhook-id", "evt_1".into()),
                ("webhook-timestamp", ts.to_string()),
                ("webhook-signature", sig),
            ]);
            let judged = judge(&c, &Method::POST, "/", &h, body, now);
            assert_eq!(judged.status, 401, "{ts} at {now}");
            assert!(judged.problem.unwrap().contains("stale"));
        }
    }

    #[test]
    fn checks_the_signature_and_its_age() {
        let c = config(true);
        let body = br#"{"type":"job.failed"}"#;
        let ts = 1_800_000_000;
        let sig = c.signing.as_ref().unwrap().sign("evt_1", ts, body);
        let h = |ts: i64, sig: &str| {
            headers(&[
                ("x-api-key", "k".repeat(40)),
                ("webhook-id", "evt_1".into()),
                ("webhook-timestamp", ts.to_string()),
                ("webhook-signature", sig.into()),
            ])
        };
        assert_eq!(
            judge(&c, &Method::POST, "/", &h(ts, &sig), body, ts + 10).status,
            200
        );
        assert_eq!(
            judge(&c, &Method::POST, "/", &h(ts, &sig), body, ts + 600).status,
            401
        );
        assert_eq!(
            judge(&c, &Method::POST, "/", &h(ts, "v1,AAAA"), body, ts).status,
            401
        );
        assert_eq!(
            judge(
                &c,
                &Method::POST,
                "/",
                &h(ts, &sig),
                b"{\"type\":\"x\"}",
                ts
            )
            .status,
            401
        );
    }
}
