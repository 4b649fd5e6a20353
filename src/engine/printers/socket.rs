//! What the OctoPrint and Moonraker sources share: opening the websocket
//! (with an optional `X-Api-Key` on the upgrade), telling the watcher what
//! happened without repeating a snapshot, the 1 s → 30 s backoff, and
//! waiting out a retry while the tracker's timers keep running.

use std::time::Duration;

use futures_util::SinkExt;
use secrecy::{ExposeSecret, SecretString};
use time::OffsetDateTime;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::{Backoff, LinkState, SourceReport, SourceUpdate};
use crate::core::printers::{PrinterSnapshot, PrinterTracker};

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long opening a connection (TCP, TLS, upgrade) may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the tracker's timers are polled.
pub const TICK: Duration = Duration::from_secs(1);

/// Why a websocket did not open.
#[derive(Debug)]
pub enum OpenError {
    /// The server answered the upgrade with 401 or 403.
    Refused(u16),
    /// Anything else, in words (retrying may help).
    Failed(String),
}

/// Opens `url`, sending `api_key` as `X-Api-Key` on the upgrade when given.
pub async fn open(url: &str, api_key: Option<&SecretString>) -> Result<Socket, OpenError> {
    let mut request = url
        .into_client_request()
        .map_err(|e| OpenError::Failed(format!("the address is not usable: {e}")))?;
    if let Some(key) = api_key {
        let mut value = HeaderValue::from_str(key.expose_secret()).map_err(|_| {
            OpenError::Failed("the API key holds characters a header cannot carry".into())
        })?;
        value.set_sensitive(true);
        request.headers_mut().insert("X-Api-Key", value);
    }
    crate::engine::crypto::install();
    match tokio::time::timeout(CONNECT_TIMEOUT, tokio_tungstenite::connect_async(request)).await {
        Err(_) => Err(OpenError::Failed(format!(
            "no answer within {} s",
            CONNECT_TIMEOUT.as_secs()
        ))),
        Ok(Ok((socket, _))) => Ok(socket),
        Ok(Err(tungstenite::Error::Http(response)))
            if matches!(response.status().as_u16(), 401 | 403) =>
        {
            Err(OpenError::Refused(response.status().as_u16()))
        }
        Ok(Err(e)) => Err(OpenError::Failed(socket_error_words(&e))),
    }
}

/// A websocket error in words (never the request, which may hold a key).
pub fn socket_error_words(e: &tungstenite::Error) -> String {
    match e {
        tungstenite::Error::Http(r) => format!("the server answered HTTP {}", r.status()),
        tungstenite::Error::Io(io) => {
            match certificate_words(io as &(dyn std::error::Error + 'static)) {
                Some(words) => words,
                None => format!("the connection failed: {io}"),
            }
        }
        tungstenite::Error::Tls(t) => format!("TLS failed: {t}"),
        tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed => {
            "the connection closed".into()
        }
        other => format!("the websocket failed: {other}"),
    }
}

/// A printer's certificate refused (`wss://`, or OctoPrint's REST over
/// `https://`), in words that say what to do, when `e` or an error behind
/// it is rustls refusing the certificate.
pub fn certificate_words(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    use rustls::{CertificateError, Error};
    // An I/O error hides the error it holds from `source` (and reqwest's
    // holds another I/O error that holds rustls's): both ways are walked.
    let why = std::iter::successors(Some(e), |e| {
        e.downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
            .map(|held| held as &(dyn std::error::Error + 'static))
            .or_else(|| e.source())
    })
    .find_map(|e| match e.downcast_ref::<Error>()? {
        Error::InvalidCertificate(why) => Some(why),
        _ => None,
    })?;
    Some(match why {
        CertificateError::UnknownIssuer => "its certificate is not signed by an authority this \
            computer trusts (self-signed? add its CA to the system's certificates, or name \
            the CA's PEM file in SSL_CERT_FILE)"
            .into(),
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            "its certificate is for another name than the address's".into()
        }
        CertificateError::BadSignature => "its certificate names an authority this computer \
            trusts, but that authority did not sign it"
            .into(),
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            "its certificate has expired".into()
        }
        other => format!("its certificate was refused: {other}"),
    })
}

/// Sends `text` on the socket.
pub async fn send_text(socket: &mut Socket, text: String) -> Result<(), String> {
    socket
        .send(Message::text(text))
        .await
        .map_err(|e| socket_error_words(&e))
}

/// Tells the watcher about one printer; a snapshot only when it changed.
pub struct Reporter {
    printer: String,
    updates: mpsc::Sender<SourceUpdate>,
    last_snapshot: Option<PrinterSnapshot>,
}

/// The watcher is gone: the source can end.
#[derive(Debug)]
pub struct WatcherGone;

impl Reporter {
    pub fn new(printer: &str, updates: mpsc::Sender<SourceUpdate>) -> Reporter {
        Reporter {
            printer: printer.to_string(),
            updates,
            last_snapshot: None,
        }
    }

    async fn send(&self, what: SourceReport) -> Result<(), WatcherGone> {
        self.updates
            .send(SourceUpdate {
                printer: self.printer.clone(),
                what,
            })
            .await
            .map_err(|_| WatcherGone)
    }

    pub async fn link(&self, state: LinkState) -> Result<(), WatcherGone> {
        self.send(SourceReport::Link(state)).await
    }

    /// The news, then the snapshot if it changed.
    pub async fn tell<T: PrinterTracker>(
        &mut self,
        news: Vec<crate::core::printers::PrinterNews>,
        tracker: &T,
    ) -> Result<(), WatcherGone> {
        for n in news {
            self.send(SourceReport::News(n)).await?;
        }
        let snapshot = tracker.snapshot();
        if self.last_snapshot.as_ref() != Some(&snapshot) {
            self.last_snapshot = Some(snapshot.clone());
            self.send(SourceReport::Snapshot(snapshot)).await?;
        }
        Ok(())
    }

    /// The last word when the source ends, without waiting on a full
    /// channel.
    pub fn stopped(&self, why: &str) {
        self.updates
            .try_send(SourceUpdate {
                printer: self.printer.clone(),
                what: SourceReport::Link(LinkState::Stopped(why.to_string())),
            })
            .ok();
    }
}

/// True once the watcher asked the source to end (or dropped the sender).
pub fn stopping(stop: &watch::Receiver<bool>) -> bool {
    *stop.borrow() || stop.has_changed().is_err()
}

/// How one connection (or an attempt at one) ended.
pub enum Ended {
    /// Lost or refused in a way retrying may fix.
    Dropped(String),
    /// The key was refused: stop for good.
    Refused(String),
    Stop,
}

/// What a source does once a connection ended: `Some(words)` when it must
/// stop for good (asked to, or refused: the tracker is told the link is
/// down first), `None` to try again, after telling the link is down and
/// waiting out the backoff with the tracker's timers running.
pub async fn after_connection<T: PrinterTracker>(
    ended: Ended,
    tracker: &mut T,
    reporter: &mut Reporter,
    backoff: &mut Backoff,
    stop: &mut watch::Receiver<bool>,
) -> Result<Option<String>, WatcherGone> {
    let why = match ended {
        Ended::Stop => return Ok(Some("stopped".into())),
        Ended::Refused(why) => {
            tracker.link_down(OffsetDateTime::now_utc(), &why);
            reporter.tell(Vec::new(), tracker).await?;
            return Ok(Some(why));
        }
        Ended::Dropped(why) => why,
    };
    tracker.link_down(OffsetDateTime::now_utc(), &why);
    let wait = backoff.take();
    reporter
        .link(LinkState::Retrying {
            in_s: wait.as_secs(),
            why,
        })
        .await?;
    reporter.tell(Vec::new(), tracker).await?;
    match wait_polling(wait, tracker, reporter, stop).await? {
        Waited::Stop => Ok(Some("stopped".into())),
        Waited::Elapsed => Ok(None),
    }
}

/// How a wait ended.
enum Waited {
    Elapsed,
    Stop,
}

/// Waits `wait` before a reconnect, polling the tracker every second (so a
/// printer that stays away is told offline) and ending early on stop.
async fn wait_polling<T: PrinterTracker>(
    wait: Duration,
    tracker: &mut T,
    reporter: &mut Reporter,
    stop: &mut watch::Receiver<bool>,
) -> Result<Waited, WatcherGone> {
    let until = tokio::time::Instant::now() + wait;
    loop {
        if stopping(stop) {
            return Ok(Waited::Stop);
        }
        let now = tokio::time::Instant::now();
        if now >= until {
            return Ok(Waited::Elapsed);
        }
        let step = (until - now).min(TICK);
        tokio::select! {
            _ = tokio::time::sleep(step) => {
                let news = tracker.poll(OffsetDateTime::now_utc());
                reporter.tell(news, tracker).await?;
            }
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    return Ok(Waited::Stop);
                }
            }
        }
    }
}

/// The base URL without its trailing slash, for REST paths.
pub fn base_url(address: &str) -> Option<String> {
    crate::core::printers::config::parse_base_url(address)
        .ok()
        .map(|u| u.as_str().trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_lose_their_trailing_slash_and_keep_their_path() {
        assert_eq!(
            base_url("http://octopi.local/").as_deref(),
            Some("http://octopi.local")
        );
        assert_eq!(
            base_url("https://farm.example:8443/octoprint/").as_deref(),
            Some("https://farm.example:8443/octoprint")
        );
        assert_eq!(base_url("ftp://octopi.local"), None);
    }
}
