//! A Moonraker stand-in on 127.0.0.1: a real websocket (tokio-tungstenite
//! `accept_hdr_async`) speaking the documented JSON-RPC 2.0 (PRINTERS.md
//! §2): `server.connection.identify`, `server.info`,
//! `printer.objects.subscribe` answered with the whole state, then the
//! `notify_*` messages a test plays. It can insist on an `X-Api-Key` on the
//! upgrade (401 otherwise), drop every connection, and speak `wss://`
//! behind a self-signed certificate (as Moonraker behind a TLS proxy does).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Map, Value, json};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;

/// What the stand-in knows and saw.
struct Shared {
    required_key: Option<String>,
    klippy_state: String,
    /// `print_stats`, `virtual_sdcard`, `webhooks`, as Klipper holds them.
    status: Map<String, Value>,
    /// Every request the clients sent, parsed.
    requests: Vec<Value>,
    /// The `X-Api-Key` of every upgrade that was accepted.
    upgrade_keys: Vec<Option<String>>,
    eventtime: f64,
}

pub struct MoonrakerStandIn {
    /// `http://127.0.0.1:<port>`, the printer's base URL
    /// (`https://localhost:<port>` over TLS).
    pub base: String,
    /// Over TLS: the certificate to trust, as PEM.
    pub ca_pem: Option<String>,
    shared: Arc<Mutex<Shared>>,
    push: broadcast::Sender<Push>,
    task: JoinHandle<()>,
}

#[derive(Clone, Debug)]
enum Push {
    Text(String),
    Close,
}

impl Drop for MoonrakerStandIn {
    fn drop(&mut self) {
        self.task.abort();
        self.push.send(Push::Close).ok();
    }
}

fn merge(into: &mut Map<String, Value>, delta: &Value) {
    for (object, fields) in delta.as_object().into_iter().flatten() {
        let slot = into
            .entry(object.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if let (Some(slot), Some(fields)) = (slot.as_object_mut(), fields.as_object()) {
            for (k, v) in fields {
                slot.insert(k.clone(), v.clone());
            }
        }
    }
}

impl MoonrakerStandIn {
    /// A ready Klipper, idle (`standby`), wanting `required_key` if given.
    pub async fn start(required_key: Option<&str>) -> MoonrakerStandIn {
        MoonrakerStandIn::start_with(required_key, None).await
    }

    /// The same behind TLS, with a fresh self-signed certificate for
    /// `localhost` (its PEM in `ca_pem`).
    pub async fn start_tls(required_key: Option<&str>) -> MoonrakerStandIn {
        let (acceptor, ca_pem) = super::tls::self_signed_acceptor();
        let mut stand_in = MoonrakerStandIn::start_with(required_key, Some(acceptor)).await;
        stand_in.base = stand_in
            .base
            .replace("http://127.0.0.1", "https://localhost");
        stand_in.ca_pem = Some(ca_pem);
        stand_in
    }

    async fn start_with(required_key: Option<&str>, tls: Option<TlsAcceptor>) -> MoonrakerStandIn {
        let mut status = Map::new();
        merge(
            &mut status,
            &json!({
                "print_stats": {"state": "standby", "filename": "", "total_duration": 0.0,
                                "print_duration": 0.0, "message": ""},
                "virtual_sdcard": {"progress": 0.0, "is_active": false},
                "webhooks": {"state": "ready", "state_message": "Printer is ready"},
            }),
        );
        let shared = Arc::new(Mutex::new(Shared {
            required_key: required_key.map(str::to_string),
            klippy_state: "ready".into(),
            status,
            requests: Vec::new(),
            upgrade_keys: Vec::new(),
            eventtime: 578_240.0,
        }));
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let addr: SocketAddr = listener.local_addr().expect("bound");
        let (push, _) = broadcast::channel(256);
        let task = tokio::spawn(serve(listener, shared.clone(), push.clone(), tls));
        MoonrakerStandIn {
            base: format!("http://{addr}"),
            ca_pem: None,
            shared,
            push,
            task,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets state before a client connects (or for the next subscribe).
    pub fn set_status(&self, delta: Value) {
        merge(&mut self.lock().status, &delta);
    }

    pub fn set_klippy_state(&self, state: &str) {
        self.lock().klippy_state = state.to_string();
    }

    /// Klipper changed: merged into the state and pushed as
    /// `notify_status_update` with `[delta, eventtime]`.
    pub fn update(&self, delta: Value) {
        let eventtime = {
            let mut s = self.lock();
            merge(&mut s.status, &delta);
            s.eventtime += 0.25;
            s.eventtime
        };
        self.notify("notify_status_update", Some(json!([delta, eventtime])));
    }

    /// Pushes a notification (`notify_klippy_shutdown`, …) to every client.
    pub fn notify(&self, method: &str, params: Option<Value>) {
        let mut message = json!({"jsonrpc": "2.0", "method": method});
        if let Some(params) = params {
            message["params"] = params;
        }
        self.push.send(Push::Text(message.to_string())).ok();
    }

    /// Closes every open connection (the server stays up).
    pub fn drop_connections(&self) {
        self.push.send(Push::Close).ok();
    }

    /// The requests received with method `method`.
    pub fn requests(&self, method: &str) -> Vec<Value> {
        self.lock()
            .requests
            .iter()
            .filter(|r| r["method"] == method)
            .cloned()
            .collect()
    }

    /// The `X-Api-Key` headers of every accepted upgrade.
    pub fn upgrade_keys(&self) -> Vec<Option<String>> {
        self.lock().upgrade_keys.clone()
    }
}

async fn serve(
    listener: TcpListener,
    shared: Arc<Mutex<Shared>>,
    push: broadcast::Sender<Push>,
    tls: Option<TlsAcceptor>,
) {
    while let Ok((stream, _)) = listener.accept().await {
        let shared = shared.clone();
        let pushes = push.subscribe();
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                // A client that distrusts the certificate ends here.
                Some(tls) => {
                    if let Ok(stream) = tls.accept(stream).await {
                        upgrade(stream, shared, pushes).await;
                    }
                }
                None => upgrade(stream, shared, pushes).await,
            }
        });
    }
}

/// Takes the websocket upgrade (checking the key) and serves it.
async fn upgrade<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    shared: Arc<Mutex<Shared>>,
    pushes: broadcast::Receiver<Push>,
) {
    let required = shared
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .required_key
        .clone();
    let mut key_seen = None;
    // tungstenite's callback signature fixes the error type.
    #[allow(clippy::result_large_err)]
    let check = |request: &Request, response: Response| {
        let key = request
            .headers()
            .get("X-Api-Key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        key_seen = key.clone();
        match &required {
            Some(want) if key.as_deref() != Some(want.as_str()) => {
                let mut refused = ErrorResponse::new(Some("Unauthorized".into()));
                *refused.status_mut() = StatusCode::UNAUTHORIZED;
                Err(refused)
            }
            _ => Ok(response),
        }
    };
    let Ok(ws) = tokio_tungstenite::accept_hdr_async(stream, check).await else {
        return;
    };
    shared
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .upgrade_keys
        .push(key_seen);
    connection(ws, shared, pushes).await;
}

async fn connection<S>(
    mut ws: tokio_tungstenite::WebSocketStream<S>,
    shared: Arc<Mutex<Shared>>,
    mut pushes: broadcast::Receiver<Push>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    loop {
        tokio::select! {
            message = ws.next() => {
                let Some(Ok(Message::Text(text))) = message else { return };
                let Ok(request) = serde_json::from_str::<Value>(text.as_str()) else { continue };
                let reply = answer(&request, &shared);
                shared.lock().unwrap_or_else(|e| e.into_inner()).requests.push(request);
                if ws.send(Message::text(reply.to_string())).await.is_err() {
                    return;
                }
            }
            push = pushes.recv() => match push {
                Ok(Push::Text(text)) => {
                    if ws.send(Message::text(text)).await.is_err() {
                        return;
                    }
                }
                Ok(Push::Close) | Err(broadcast::error::RecvError::Closed) => {
                    ws.close(None).await.ok();
                    return;
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
            }
        }
    }
}

fn answer(request: &Value, shared: &Arc<Mutex<Shared>>) -> Value {
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let s = shared.lock().unwrap_or_else(|e| e.into_inner());
    let result = match request["method"].as_str().unwrap_or("") {
        "server.connection.identify" => json!({"connection_id": 1_730_000}),
        "server.info" => json!({
            "klippy_connected": s.klippy_state != "disconnected",
            "klippy_state": s.klippy_state,
            "components": ["history", "job_state"],
            "failed_components": [],
            "warnings": [],
            "websocket_count": 1,
            "moonraker_version": "v0.9.3-stand-in",
            "api_version": [1, 5, 0],
        }),
        "printer.objects.subscribe" if matches!(s.klippy_state.as_str(), "ready" | "shutdown") => {
            let mut status = Map::new();
            for object in request["params"]["objects"]
                .as_object()
                .into_iter()
                .flat_map(|o| o.keys())
            {
                if let Some(v) = s.status.get(object) {
                    status.insert(object.clone(), v.clone());
                }
            }
            json!({"eventtime": s.eventtime, "status": status})
        }
        "printer.objects.subscribe" => {
            return json!({"jsonrpc": "2.0", "id": id,
                "error": {"code": 503, "message": "Klippy Host not connected"}});
        }
        _ => {
            return json!({"jsonrpc": "2.0", "id": id,
                "error": {"code": -32601, "message": "Method not found"}});
        }
    };
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}
