//! Stand-ins for customers' custom-webhook endpoints on 127.0.0.1, friendly
//! and hostile, plus the small HTTP/1.1 server that all the stand-ins share
//! (hand-rolled on tokio so hostile behaviour is easy and every connection
//! dies with the handle).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

/// How long the `wait_for_*` helpers wait before failing the test.
pub const WAIT_LIMIT: Duration = Duration::from_secs(10);

/// One HTTP request as it arrived.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    /// Path and query, as sent (e.g. `/hook` or `/hook?x=1`).
    pub path: String,
    /// Names in lower case, values exactly as sent (less surrounding blanks).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// When the request head had arrived.
    pub at: Instant,
}

impl RecordedRequest {
    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        header_in(&self.headers, name)
    }

    /// The body parsed as JSON (panics with the body when it is not JSON).
    pub fn body_json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "request body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The client asked to close the connection after this request.
    pub fn wants_close(&self) -> bool {
        self.header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
    }
}

/// The first value of a header in a list with lower-case names.
pub fn header_in<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

// ---------------------------------------------------------------------------
// The shared HTTP/1.1 core
// ---------------------------------------------------------------------------

const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 16 * 1024 * 1024;

/// A server-side HTTP/1.1 connection: reads requests (keep-alive, pipelining,
/// `Content-Length` or chunked bodies); responses are written to `stream`.
pub struct HttpConn<S> {
    pub stream: S,
    buf: Vec<u8>,
}

fn bad_request(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

impl<S: AsyncRead + AsyncWrite + Unpin> HttpConn<S> {
    pub fn new(stream: S) -> Self {
        HttpConn {
            stream,
            buf: Vec::new(),
        }
    }

    /// The next request; `Ok(None)` when the peer closed between requests.
    pub async fn read_request(&mut self) -> io::Result<Option<RecordedRequest>> {
        let head_end = loop {
            if let Some(pos) = find(&self.buf, b"\r\n\r\n") {
                break pos;
            }
            if self.buf.len() > MAX_HEAD {
                return Err(bad_request("request head too large"));
            }
            if self.fill().await? == 0 {
                return if self.buf.is_empty() {
                    Ok(None)
                } else {
                    Err(io::ErrorKind::UnexpectedEof.into())
                };
            }
        };
        let at = Instant::now();
        let head = String::from_utf8_lossy(&self.buf[..head_end]).into_owned();
        self.buf.drain(..head_end + 4);

        let mut lines = head.split("\r\n");
        let mut request_line = lines.next().unwrap_or_default().split(' ');
        let method = request_line.next().unwrap_or_default().to_string();
        let path = request_line.next().unwrap_or_default().to_string();
        if method.is_empty() || path.is_empty() {
            return Err(bad_request("malformed request line"));
        }
        let mut headers = Vec::new();
        for line in lines {
            let (name, value) = line
                .split_once(':')
                .ok_or_else(|| bad_request("malformed header line"))?;
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }

        let chunked = header_in(&headers, "transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
        let body = if chunked {
            self.read_chunked().await?
        } else if let Some(len) = header_in(&headers, "content-length") {
            let len: usize = len.parse().map_err(|_| bad_request("bad content-length"))?;
            if len > MAX_BODY {
                return Err(bad_request("request body too large"));
            }
            self.take(len).await?
        } else {
            Vec::new()
        };
        Ok(Some(RecordedRequest {
            method,
            path,
            headers,
            body,
            at,
        }))
    }

    async fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk).await?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    async fn take(&mut self, n: usize) -> io::Result<Vec<u8>> {
        while self.buf.len() < n {
            if self.fill().await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
        Ok(self.buf.drain(..n).collect())
    }

    async fn take_line(&mut self) -> io::Result<String> {
        loop {
            if let Some(pos) = find(&self.buf, b"\r\n") {
                let line = String::from_utf8_lossy(&self.buf[..pos]).into_owned();
                self.buf.drain(..pos + 2);
                return Ok(line);
            }
            if self.buf.len() > MAX_HEAD {
                return Err(bad_request("line too long"));
            }
            if self.fill().await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
    }

    async fn read_chunked(&mut self) -> io::Result<Vec<u8>> {
        let mut body = Vec::new();
        loop {
            let line = self.take_line().await?;
            let size = line.split(';').next().unwrap_or_default().trim();
            let size =
                usize::from_str_radix(size, 16).map_err(|_| bad_request("bad chunk size"))?;
            if size == 0 {
                // Trailers, up to the empty line.
                while !self.take_line().await?.is_empty() {}
                return Ok(body);
            }
            if body.len() + size > MAX_BODY {
                return Err(bad_request("request body too large"));
            }
            body.extend(self.take(size).await?);
            self.take(2).await?;
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A complete response.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(status: u16, value: &serde_json::Value) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: serde_json::to_vec(value).expect("JSON serialises"),
        }
    }

    pub fn empty(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.to_string(), value.into()));
        self
    }
}

pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        413 => "Payload Too Large",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

fn has_body(status: u16) -> bool {
    !(status < 200 || status == 204 || status == 304)
}

/// The status line and headers (with a `content-length` when given).
fn head_bytes(status: u16, headers: &[(String, String)], content_length: Option<u64>) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(len) = content_length {
        out.push_str(&format!("content-length: {len}\r\n"));
    }
    out.push_str("\r\n");
    out.into_bytes()
}

pub async fn write_reply<S: AsyncWrite + Unpin>(stream: &mut S, reply: &Reply) -> io::Result<()> {
    let out = if has_body(reply.status) {
        let mut out = head_bytes(reply.status, &reply.headers, Some(reply.body.len() as u64));
        out.extend_from_slice(&reply.body);
        out
    } else {
        head_bytes(reply.status, &reply.headers, None)
    };
    stream.write_all(&out).await?;
    stream.flush().await
}

/// Serves one connection with a synchronous handler per request.
pub async fn serve_replies<S, F>(stream: S, mut handle: F)
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: FnMut(RecordedRequest) -> Reply,
{
    let mut conn = HttpConn::new(stream);
    while let Ok(Some(request)) = conn.read_request().await {
        let close = request.wants_close();
        let reply = handle(request);
        if write_reply(&mut conn.stream, &reply).await.is_err() || close {
            break;
        }
    }
    conn.stream.shutdown().await.ok();
}

/// The accept loop of a stand-in; dropping it stops the listener and every
/// open connection.
pub struct ServerTask(JoinHandle<()>);

impl Drop for ServerTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

pub async fn bind_loopback() -> TcpListener {
    TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port is free")
}

/// Accepts connections on the current runtime; each is served by its own
/// task, owned by the accept loop (so aborting the loop ends them all).
pub fn spawn_server<F, Fut>(listener: TcpListener, on_connection: F) -> ServerTask
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    ServerTask(tokio::spawn(async move {
        let mut connections = JoinSet::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        stream.set_nodelay(true).ok();
                        connections.spawn(on_connection(stream));
                    }
                    // Out of file descriptors or similar: let it pass.
                    Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                },
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
    }))
}

/// The requests a stand-in has recorded, with a way to wait for them.
pub struct Recorder {
    requests: Mutex<Vec<RecordedRequest>>,
    count: watch::Sender<usize>,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder {
            requests: Mutex::new(Vec::new()),
            count: watch::Sender::new(0),
        }
    }
}

impl Recorder {
    /// Records a request; returns its index (0 for the first).
    pub fn record(&self, request: RecordedRequest) -> usize {
        let mut requests = lock(&self.requests);
        requests.push(request);
        let n = requests.len();
        self.count.send_replace(n);
        n - 1
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.requests).clone()
    }

    pub fn len(&self) -> usize {
        *self.count.borrow()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Waits until `n` requests are recorded (fails the test after [`WAIT_LIMIT`]).
    pub async fn wait_for(&self, n: usize) {
        let mut rx = self.count.subscribe();
        let reached = tokio::time::timeout(WAIT_LIMIT, rx.wait_for(|&have| have >= n)).await;
        assert!(
            matches!(reached, Ok(Ok(_))),
            "only {} of {n} requests arrived within {WAIT_LIMIT:?}",
            self.len()
        );
    }
}

// ---------------------------------------------------------------------------
// Custom-webhook endpoints
// ---------------------------------------------------------------------------

/// What an [`Endpoint`] does with each request it receives.
#[derive(Debug, Clone)]
pub enum Behaviour {
    /// Always this status, with a small JSON body (`{"ok":true}` for 2xx).
    Status(u16),
    /// These statuses in order (counted over all connections), then the last
    /// one again and again; empty means 200.
    Sequence(Vec<u16>),
    /// Always `status` with `Retry-After: <seconds>`.
    RetryAfter { status: u16, seconds: u64 },
    /// `status` with `Location: <location>` and an empty body.
    Redirect { status: u16, location: String },
    /// 200 with a body of this many bytes, streamed from a fixed 64 KiB block.
    HugeBody { bytes: u64 },
    /// Reads the request, then keeps the connection open without a byte.
    NeverAnswer,
    /// Status line and headers at once (announcing an hour's worth of body),
    /// then the body at this rate.
    SlowDrip { bytes_per_sec: u64 },
    /// Reads the request, then resets the connection (RST) without answering.
    CloseImmediately,
    /// `status` with everything it was sent repeated back: the X-API-Key
    /// and the path with its query, in the body (JSON, `/` escaped as some
    /// servers do) and in headers, as a careless endpoint's 401 does.
    EchoSecrets { status: u16 },
    /// `status`, but only after `delay`: a slow endpoint.
    Slow { status: u16, delay: Duration },
}

/// A custom-webhook endpoint on 127.0.0.1. Stops when dropped.
pub struct Endpoint {
    addr: SocketAddr,
    recorder: Arc<Recorder>,
    _server: ServerTask,
}

impl Endpoint {
    pub async fn start(behaviour: Behaviour) -> Endpoint {
        let listener = bind_loopback().await;
        let addr = listener.local_addr().expect("bound address");
        let recorder = Arc::new(Recorder::default());
        let behaviour = Arc::new(behaviour);
        let rec = recorder.clone();
        let server = spawn_server(listener, move |stream| {
            serve_endpoint(stream, behaviour.clone(), rec.clone())
        });
        Endpoint {
            addr,
            recorder,
            _server: server,
        }
    }

    /// `http://127.0.0.1:PORT/hook`
    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// Every request read completely, in order of arrival.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.recorder.requests()
    }

    pub fn hits(&self) -> usize {
        self.recorder.len()
    }

    /// Waits until at least `n` requests have arrived (fails after 10 s).
    pub async fn wait_for_hits(&self, n: usize) {
        self.recorder.wait_for(n).await
    }
}

/// A 127.0.0.1 URL with nothing listening: for "connection refused".
pub fn refused_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port is free");
    let port = listener.local_addr().expect("bound address").port();
    drop(listener);
    format!("http://127.0.0.1:{port}/hook")
}

fn status_reply(status: u16) -> Reply {
    if !has_body(status) {
        return Reply::empty(status);
    }
    let body = if (200..300).contains(&status) {
        serde_json::json!({"ok": true})
    } else {
        serde_json::json!({"ok": false, "status": status})
    };
    Reply::json(status, &body)
}

async fn serve_endpoint(stream: TcpStream, behaviour: Arc<Behaviour>, recorder: Arc<Recorder>) {
    let mut conn = HttpConn::new(stream);
    while let Ok(Some(request)) = conn.read_request().await {
        let close = request.wants_close();
        let echo = (
            request.header("x-api-key").unwrap_or_default().to_string(),
            request.path.clone(),
        );
        let index = recorder.record(request);
        let reply = match &*behaviour {
            Behaviour::Status(status) => status_reply(*status),
            Behaviour::Sequence(statuses) => {
                let status = statuses
                    .get(index)
                    .or(statuses.last())
                    .copied()
                    .unwrap_or(200);
                status_reply(status)
            }
            Behaviour::RetryAfter { status, seconds } => {
                status_reply(*status).header("retry-after", seconds.to_string())
            }
            Behaviour::Redirect { status, location } => {
                Reply::empty(*status).header("location", location.clone())
            }
            Behaviour::HugeBody { bytes } => {
                stream_body(&mut conn.stream, *bytes, None).await.ok();
                break;
            }
            Behaviour::SlowDrip { bytes_per_sec } => {
                let total = bytes_per_sec.saturating_mul(3600);
                stream_body(&mut conn.stream, total, Some(*bytes_per_sec))
                    .await
                    .ok();
                break;
            }
            Behaviour::EchoSecrets { status } => {
                let (key, path) = &echo;
                let body = serde_json::json!({
                    "error": format!("invalid X-API-Key {key}"),
                    "you_sent": {"x-api-key": key, "path": path},
                });
                let escaped = body.to_string().replace('/', "\\/");
                Reply {
                    status: *status,
                    headers: vec![("content-type".into(), "application/json".into())],
                    body: escaped.into_bytes(),
                }
                .header("x-echo-api-key", key.clone())
                .header("www-authenticate", format!("ApiKey realm=\"{path}\""))
            }
            Behaviour::NeverAnswer => std::future::pending().await,
            Behaviour::Slow { status, delay } => {
                tokio::time::sleep(*delay).await;
                status_reply(*status)
            }
            Behaviour::CloseImmediately => {
                // Linger 0: close() sends RST instead of FIN and does not block.
                #[allow(deprecated)]
                conn.stream.set_linger(Some(Duration::ZERO)).ok();
                return;
            }
        };
        if write_reply(&mut conn.stream, &reply).await.is_err() || close {
            break;
        }
    }
    conn.stream.shutdown().await.ok();
}

/// A 200 with `total` bytes of body, from one reused block (constant memory);
/// at `rate` bytes per second when given. Ends early when the peer goes away.
async fn stream_body(stream: &mut TcpStream, total: u64, rate: Option<u64>) -> io::Result<()> {
    static BLOCK: [u8; 64 * 1024] = [b'x'; 64 * 1024];
    let headers = vec![
        ("content-type".to_string(), "text/plain".to_string()),
        ("connection".to_string(), "close".to_string()),
    ];
    stream
        .write_all(&head_bytes(200, &headers, Some(total)))
        .await?;
    stream.flush().await?;
    let (piece, pause) = match rate {
        None => (BLOCK.len() as u64, None),
        Some(0) => return std::future::pending().await,
        Some(rate) => {
            // About 20 writes a second, at least one byte each.
            let piece = (rate / 20).clamp(1, BLOCK.len() as u64);
            (
                piece,
                Some(Duration::from_secs_f64(piece as f64 / rate as f64)),
            )
        }
    };
    let mut sent = 0u64;
    while sent < total {
        let n = piece.min(total - sent) as usize;
        stream.write_all(&BLOCK[..n]).await?;
        sent += n as u64;
        if let Some(pause) = pause {
            stream.flush().await?;
            tokio::time::sleep(pause).await;
        }
    }
    stream.flush().await
}
