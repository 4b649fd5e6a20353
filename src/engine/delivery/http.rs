//! The one HTTP client farmhook sends with, and the words for what went
//! wrong. Certificate checks stay on, redirects are never followed (so an
//! `X-API-Key` never reaches another host), every request has a connect and
//! a total timeout, answers are read only up to a cap, and loopback
//! destinations never go through a proxy.

use std::error::Error as _;
use std::time::{Duration, Instant};

use hyper::body::Bytes;

use crate::build_info;

/// How the shared client behaves. Tests shorten the timeouts.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub connect_timeout: Duration,
    /// For the whole request, answer included.
    pub total_timeout: Duration,
    /// Bytes of an answer that are read; the rest is never downloaded.
    pub body_cap: usize,
    /// When set, only these PEM certificates are trusted (tests with a
    /// generated certificate); normally the platform's roots are used.
    pub only_trust_pem: Option<String>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            connect_timeout: Duration::from_secs(5),
            total_timeout: Duration::from_secs(15),
            body_cap: 64 * 1024,
            only_trust_pem: None,
        }
    }
}

/// The shared HTTP client: one place builds it, every request goes through
/// it. It holds two reqwest clients with the same safety settings: one that
/// honours the system proxy (`https_proxy`, `ALL_PROXY`, …) for the
/// internet, and one that never uses a proxy, for loopback destinations. A
/// proxy must never see a delivery to this machine: it would travel in plain
/// HTTP with its `X-API-Key` to whoever runs the proxy.
#[derive(Debug, Clone)]
pub struct HttpClient {
    proxied: reqwest::Client,
    direct: reqwest::Client,
}

impl HttpClient {
    /// The client for `url`: never a proxied one for loopback.
    pub fn for_url(&self, url: &reqwest::Url) -> &reqwest::Client {
        if is_loopback(url) {
            &self.direct
        } else {
            &self.proxied
        }
    }

    /// A POST to `url`, through the client `url` calls for. A URL that does
    /// not parse is left to reqwest, which fails the request without sending.
    pub fn post(&self, url: &str) -> reqwest::RequestBuilder {
        self.pick(url).post(url)
    }

    /// A POST to a URL parsed already (parsed once, not on every request).
    pub fn post_url(&self, url: &reqwest::Url) -> reqwest::RequestBuilder {
        self.for_url(url).post(url.clone())
    }

    /// A GET to `url`, through the client `url` calls for.
    pub fn get(&self, url: &str) -> reqwest::RequestBuilder {
        self.pick(url).get(url)
    }

    fn pick(&self, url: &str) -> &reqwest::Client {
        match reqwest::Url::parse(url) {
            Ok(parsed) => self.for_url(&parsed),
            Err(_) => &self.direct,
        }
    }
}

/// True for `localhost` (and `*.localhost`), 127.0.0.0/8 and ::1.
pub fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
        None => false,
    }
}

/// Builds the shared client.
pub fn build_client(config: &HttpConfig) -> Result<HttpClient, String> {
    Ok(HttpClient {
        proxied: build_one(config, true)?,
        direct: build_one(config, false)?,
    })
}

fn build_one(config: &HttpConfig, system_proxy: bool) -> Result<reqwest::Client, String> {
    crate::engine::crypto::install();
    let mut builder = reqwest::Client::builder()
        .user_agent(build_info::USER_AGENT)
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(config.connect_timeout)
        .timeout(config.total_timeout)
        .pool_idle_timeout(Duration::from_secs(60));
    if !system_proxy {
        builder = builder.no_proxy();
    }
    if let Some(pem) = &config.only_trust_pem {
        let cert = reqwest::Certificate::from_pem(pem.as_bytes()).map_err(|e| {
            format!(
                "the trusted certificate is not valid PEM: {}",
                e.without_url()
            )
        })?;
        builder = builder.tls_certs_only([cert]);
    }
    builder
        .build()
        .map_err(|e| format!("the HTTP client could not start: {}", e.without_url()))
}

/// An answer, read up to the cap.
#[derive(Debug, Clone)]
pub struct HttpAnswer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// As received: one chunk is kept as it came, not copied.
    pub body: Bytes,
    /// More was sent than was read.
    pub truncated: bool,
    pub latency: Duration,
}

impl HttpAnswer {
    /// The status's standard reason phrase (`Not Found`), or "" for an
    /// unusual status.
    pub fn reason(&self) -> &'static str {
        reqwest::StatusCode::from_u16(self.status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("")
    }

    /// What the server said, as one short line after a colon (`": text"`),
    /// or nothing when it said nothing.
    pub fn said(&self) -> String {
        let (text, _) = super::log::excerpt(&self.body, 200);
        let text = text.trim().replace(['\n', '\r'], " ");
        if text.is_empty() {
            String::new()
        } else {
            format!(": {text}")
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A request that got no HTTP answer, in words; never includes the URL.
#[derive(Debug, Clone)]
pub struct SendFailure {
    pub words: String,
    pub latency: Duration,
}

/// Sends a request and reads at most `body_cap` bytes of the answer.
pub async fn send(
    request: reqwest::RequestBuilder,
    body_cap: usize,
    total_timeout: Duration,
) -> Result<HttpAnswer, SendFailure> {
    let start = Instant::now();
    let fail = |e: reqwest::Error| SendFailure {
        words: describe(e, total_timeout),
        latency: start.elapsed(),
    };
    let mut response = request.send().await.map_err(fail)?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| {
            // Nearly every value is plain ASCII, checked quickly.
            let value = match v.to_str() {
                Ok(text) => text.to_string(),
                Err(_) => String::from_utf8_lossy(v.as_bytes()).into_owned(),
            };
            (n.as_str().to_string(), value)
        })
        .collect();
    // Most answers come in one chunk (or none), kept as it came; only
    // several are copied into one buffer.
    let mut first = Bytes::new();
    let mut more: Vec<u8> = Vec::new();
    let mut truncated = false;
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let read = first.len() + more.len();
                let room = body_cap - read;
                let chunk = if chunk.len() > room {
                    truncated = true;
                    chunk.slice(..room)
                } else {
                    chunk
                };
                if read == 0 {
                    first = chunk;
                } else {
                    if more.is_empty() {
                        more.extend_from_slice(&first);
                    }
                    more.extend_from_slice(&chunk);
                }
                if truncated {
                    // Dropping the response closes the connection: the rest
                    // of a huge answer is never downloaded.
                    break;
                }
            }
            Ok(None) => break,
            // The status already came; a body cut short is kept as is.
            Err(_) => {
                truncated = true;
                break;
            }
        }
    }
    let body = if more.is_empty() {
        first
    } else {
        Bytes::from(more)
    };
    Ok(HttpAnswer {
        status,
        headers,
        body,
        truncated,
        latency: start.elapsed(),
    })
}

/// What went wrong, in words a farm operator can act on.
pub fn describe(e: reqwest::Error, total_timeout: Duration) -> String {
    // Discord URLs carry the token: never let the URL into a message.
    let e = e.without_url();
    let mut chain = String::new();
    let mut source = e.source();
    while let Some(s) = source {
        chain.push_str(&s.to_string().to_ascii_lowercase());
        chain.push(' ');
        source = s.source();
    }
    if e.is_timeout() || chain.contains("timed out") {
        return format!(
            "no answer within {} s: the server is too slow or not answering",
            total_timeout.as_secs_f32()
        );
    }
    if chain.contains("certificate")
        || chain.contains("invalidcertificate")
        || chain.contains("unknownissuer")
    {
        return "the server's TLS certificate is not trusted (self-signed, expired or for another name): \
                fix the certificate or use a trusted one"
            .into();
    }
    if chain.contains("connection refused") {
        return "connection refused: nothing is listening at that address and port (is the receiver running?)".into();
    }
    if chain.contains("dns error")
        || chain.contains("failed to lookup")
        || chain.contains("name or service not known")
    {
        return "the host name could not be resolved: check the URL and your internet connection"
            .into();
    }
    if chain.contains("reset") || chain.contains("closed") || chain.contains("broken pipe") {
        return "the server closed the connection before answering".into();
    }
    if e.is_connect() {
        return format!("could not connect: {}", first_line(&chain));
    }
    format!("the request failed: {}", first_line(&e.to_string()))
}

fn first_line(text: &str) -> String {
    text.lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(200)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_are_recognised() {
        for url in [
            "http://127.0.0.1:8787/hook",
            "http://127.8.9.10/",
            "http://[::1]:80/",
            "http://localhost/x",
            "http://LOCALHOST./x",
            "http://farm.localhost/x",
            "http://[::ffff:127.0.0.1]/",
        ] {
            assert!(is_loopback(&url.parse().unwrap()), "{url}");
        }
        for url in [
            "https://discord.com/api",
            "http://10.0.0.1/",
            "http://[2001:db8::1]/",
            "http://localhost.example.com/",
            "http://128.0.0.1/",
        ] {
            assert!(!is_loopback(&url.parse().unwrap()), "{url}");
        }
    }
}
