//! Bambu Lab printers over LAN MQTT: MQTT 3.1.1 over TLS to the printer's
//! own broker (`host:8883`, user `bblp`, the access code as password),
//! subscribed to `device/<serial>/report`, asking for the whole state
//! (`pushall`) on every connection. Each report goes to the
//! [`BambuTracker`]; its news and snapshots go to the watcher.
//!
//! The printer's certificate is never taken on trust: it must chain to
//! Bambu Lab's CAs (`assets/bambu-ca.pem`) with the serial as its CN, or be
//! the one the operator pinned (its SHA-256). Anything else stops the
//! source with words naming the fingerprint, so the operator can pin it by
//! adding the printer again. Only [`probe`] accepts an unpinned certificate,
//! for its one status read, so `printers add` can show the fingerprint.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rumqttc::{
    AsyncClient, ConnectReturnCode, ConnectionError, Event, EventLoop, MqttOptions, Packet, QoS,
    StateError, TlsConfiguration, Transport,
};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use tokio::sync::{mpsc, watch};

use super::{Backoff, LinkState, Probe, SourceContext, SourceReport, SourceUpdate};
use crate::core::printers::bambu::{pushall_request, report_topic, request_topic};
use crate::core::printers::config::format_fingerprint;
use crate::core::printers::{
    BambuReport, BambuTracker, PrinterConfig, PrinterNews, PrinterSnapshot, PrinterTracker,
};

/// Bambu Lab's CAs, as collected from OpenBambuAPI and ha-bambulab
/// (`BBL CA`, `BBL CA2 RSA`, `BBL CA2 ECC`).
const BAMBU_CA_PEM: &str = include_str!("../../../assets/bambu-ca.pem");
/// The MQTT user every Bambu printer expects on its LAN broker.
const MQTT_USER: &str = "bblp";
/// The keepalive Bambuddy uses; the printer drops clients that miss it.
const KEEP_ALIVE: Duration = Duration::from_secs(30);
/// How long a TCP + TLS + MQTT connect may take on a LAN.
const CONNECT_TIMEOUT_S: u64 = 10;
/// An X1's full report is tens of kilobytes; rumqttc's default is 10 KiB.
const MAX_REPORT_BYTES: usize = 1024 * 1024;

/// Watches one Bambu printer until `ctx.stop` turns true (or the watcher
/// goes away), or until the printer refuses its access code or certificate.
pub async fn run(ctx: SourceContext) {
    let SourceContext {
        config,
        secret,
        updates,
        mut stop,
        timing,
        last_known,
    } = ctx;
    let mut out = Out::new(config.name.clone(), updates);
    let setup = match Setup::new(&config, secret.as_ref()) {
        Ok(setup) => setup,
        Err(words) => {
            out.link(LinkState::Stopped(words)).await;
            return;
        }
    };
    let mut tracker = BambuTracker::new();
    tracker.set_timing(timing);
    if let Some(last) = last_known {
        tracker.carry_over(last, OffsetDateTime::now_utc());
    }
    let mut backoff = Backoff::default();
    let mut last_pushall: Option<Instant> = None;
    let ended = loop {
        if *stop.borrow() || out.gone {
            break Ended::Stop;
        }
        out.link(LinkState::Connecting).await;
        let seen = CertSlot::default();
        let (client, events) = setup.connect(seen.clone(), CertPolicy::Strict);
        let mut session = Session {
            setup: &setup,
            client,
            events,
            tracker: &mut tracker,
            out: &mut out,
            backoff: &mut backoff,
            last_pushall: &mut last_pushall,
            silence_s: timing.silence.whole_seconds(),
        };
        let why = match session.run(&mut stop).await {
            Ended::Dropped(why) => why,
            ended => break ended,
        };
        // A certificate refused by the verifier shows as a TLS error;
        // the verifier kept the real reason.
        if let Some(refusal) = seen.refusal() {
            break Ended::Refused(refusal);
        }
        tracker.link_down(OffsetDateTime::now_utc(), &why);
        out.snapshot(tracker.snapshot()).await;
        let wait = backoff.take();
        out.link(LinkState::Retrying {
            in_s: wait.as_secs(),
            why,
        })
        .await;
        if wait_polling(wait, &mut tracker, &mut out, &mut stop).await {
            break Ended::Stop;
        }
    };
    let words = match ended {
        Ended::Refused(words) => words,
        _ => "stopped".into(),
    };
    out.link(LinkState::Stopped(words)).await;
}

/// Connects once, reads one status and returns it with the certificate's
/// fingerprint, or says in words why it could not (wrong access code,
/// unreachable, certificate mismatch, no status in time). A certificate
/// that neither chains to Bambu's CAs nor is pinned is accepted here, for
/// this one read, when no pin exists yet: the caller shows its
/// fingerprint and asks to pin it.
pub async fn probe(
    config: &PrinterConfig,
    secret: Option<&SecretString>,
    timeout: Duration,
) -> Result<Probe, String> {
    let setup = Setup::new(config, secret)?;
    let seen = CertSlot::default();
    let (client, mut events) = setup.connect(seen.clone(), CertPolicy::Probe);
    let mut connected = false;
    let read = async {
        let mut tracker = BambuTracker::new();
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    connected = true;
                    tracker.link_up(OffsetDateTime::now_utc());
                    subscribe_and_ask(&client, &setup, true)?;
                }
                Ok(Event::Incoming(Packet::Publish(p))) if p.topic == setup.report_topic => {
                    let Some(report) = BambuReport::parse(&p.payload) else {
                        continue;
                    };
                    // The answer to pushall carries the state: the baseline.
                    let baseline = report.carries_state();
                    tracker.read(report, OffsetDateTime::now_utc());
                    if baseline {
                        return Ok(tracker.snapshot());
                    }
                }
                Ok(_) => {}
                Err(e) => return Err(seen.refusal().unwrap_or_else(|| setup.describe(&e))),
            }
        }
    };
    let result = tokio::time::timeout(timeout, read).await;
    if connected {
        // Say goodbye: a P1 copes badly with more than one client.
        client.try_disconnect().ok();
        let flush = async { while events.poll().await.is_ok() {} };
        tokio::time::timeout(Duration::from_secs(1), flush)
            .await
            .ok();
    }
    let snapshot = match result {
        Ok(outcome) => outcome?,
        Err(_) if connected => {
            return Err(format!(
                "the printer accepted the access code but sent no status within {} s",
                timeout.as_secs()
            ));
        }
        Err(_) => {
            return Err(format!(
                "no answer from {} within {} s: is the printer on, in LAN mode and at this address?",
                setup.endpoint(),
                timeout.as_secs()
            ));
        }
    };
    let cert = seen.get();
    Ok(Probe {
        snapshot,
        fingerprint: cert.as_ref().map(|c| format_fingerprint(&c.fingerprint)),
        chained_to_bambu: cert.is_some_and(|c| c.chained),
    })
}

/// How one connection ended.
enum Ended {
    /// Stop asked for, or the watcher is gone.
    Stop,
    /// Refused for good (access code, certificate): retrying cannot help.
    Refused(String),
    /// Lost, refused for now, or silent: try again after the backoff.
    Dropped(String),
}

/// Everything a connection needs, checked once.
struct Setup {
    host: String,
    port: u16,
    serial: String,
    access_code: SecretString,
    pin: Option<String>,
    report_topic: String,
    request_topic: String,
}

impl Setup {
    fn new(config: &PrinterConfig, secret: Option<&SecretString>) -> Result<Setup, String> {
        let (host, port) = config
            .bambu_endpoint()
            .map_err(|e| format!("the printer's address is not usable: {e}"))?;
        let serial = config
            .serial
            .clone()
            .ok_or("the printer has no serial: add it again with --serial")?;
        let access_code = secret.cloned().ok_or(
            "the printer has no access code in the keyring: add it again with --access-code",
        )?;
        Ok(Setup {
            report_topic: report_topic(&serial),
            request_topic: request_topic(&serial),
            host,
            port,
            serial,
            access_code,
            pin: config.fingerprint.clone(),
        })
    }

    fn endpoint(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// A fresh client for one connection, with its own verifier.
    fn connect(&self, seen: CertSlot, policy: CertPolicy) -> (AsyncClient, EventLoop) {
        let verifier = PrinterCertVerifier {
            provider: provider(),
            roots: bambu_roots(),
            serial: self.serial.clone(),
            pin: self.pin.clone(),
            policy,
            seen,
        };
        let tls = rustls::ClientConfig::builder_with_provider(verifier.provider.clone())
            .with_safe_default_protocol_versions()
            // aws-lc-rs supports TLS 1.2 and 1.3, so the defaults always fit.
            .expect("the crypto provider supports the default TLS versions")
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        let client_id = format!(
            "farmhook-{}-{:08x}",
            std::process::id(),
            rand::random::<u32>()
        );
        let mut options = MqttOptions::new(client_id, self.host.clone(), self.port);
        options
            .set_credentials(MQTT_USER, self.access_code.expose_secret())
            .set_keep_alive(KEEP_ALIVE)
            .set_clean_session(true)
            .set_max_packet_size(MAX_REPORT_BYTES, 16 * 1024)
            .set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(
                Arc::new(tls),
            )));
        let (client, mut events) = AsyncClient::new(options, 16);
        events
            .network_options
            .set_connection_timeout(CONNECT_TIMEOUT_S);
        (client, events)
    }

    /// A connection error in words (never with the access code in it).
    fn describe(&self, error: &ConnectionError) -> String {
        let at = self.endpoint();
        match error {
            ConnectionError::ConnectionRefused(
                code @ (ConnectReturnCode::BadUserNamePassword | ConnectReturnCode::NotAuthorized),
            ) => format!(
                "the printer refused the access code: {} (check the LAN access code on the printer's screen)",
                match code {
                    ConnectReturnCode::BadUserNamePassword => "bad user name or password",
                    _ => "not authorized",
                }
            ),
            ConnectionError::ConnectionRefused(code) => {
                format!("the printer refused the connection ({code:?})")
            }
            ConnectionError::NetworkTimeout => {
                format!("no answer from {at} within {CONNECT_TIMEOUT_S} s")
            }
            ConnectionError::Io(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                format!(
                    "nothing listens at {at} (connection refused): is the printer on and in LAN mode?"
                )
            }
            ConnectionError::Io(e) => format!("the connection to {at} failed: {e}"),
            ConnectionError::Tls(e) => format!("the TLS connection to {at} failed: {e}"),
            ConnectionError::MqttState(
                StateError::Io(_)
                | StateError::ConnectionAborted
                | StateError::Deserialization(rumqttc::mqttbytes::Error::Io(_)),
            ) => format!("the printer at {at} closed the connection"),
            ConnectionError::MqttState(StateError::Deserialization(
                rumqttc::mqttbytes::Error::PayloadSizeLimitExceeded(n),
            )) => format!(
                "the printer at {at} sent a {n}-byte message, more than the {MAX_REPORT_BYTES} bytes farmhook reads"
            ),
            ConnectionError::MqttState(StateError::AwaitPingResp) => {
                format!("the printer at {at} stopped answering pings")
            }
            ConnectionError::MqttState(e) => format!("the connection to {at} dropped: {e}"),
            other => format!("the connection to {at} failed: {other}"),
        }
    }
}

/// Subscribes to the reports and, when `ask` holds, asks for the whole
/// state.
fn subscribe_and_ask(client: &AsyncClient, setup: &Setup, ask: bool) -> Result<(), String> {
    let queued = |e: rumqttc::ClientError| format!("could not queue a request to the printer: {e}");
    client
        .try_subscribe(setup.report_topic.clone(), QoS::AtMostOnce)
        .map_err(queued)?;
    if ask {
        client
            .try_publish(
                setup.request_topic.clone(),
                QoS::AtMostOnce,
                false,
                pushall_request(),
            )
            .map_err(queued)?;
    }
    Ok(())
}

/// One connection, from connect to drop.
struct Session<'a> {
    setup: &'a Setup,
    client: AsyncClient,
    events: EventLoop,
    tracker: &'a mut BambuTracker,
    out: &'a mut Out,
    backoff: &'a mut Backoff,
    last_pushall: &'a mut Option<Instant>,
    /// How long a silence counts as gone (the operator's offline time).
    silence_s: i64,
}

impl Session<'_> {
    async fn run(&mut self, stop: &mut watch::Receiver<bool>) -> Ended {
        // The tracker is polled when it next has something to decide (the
        // silence deadline, a held failure), not every second: a tick per
        // printer made 200 printers 200 more timer wake-ups a second, on
        // top of their reports, with nothing to decide.
        let wake = tokio::time::sleep(Duration::ZERO);
        tokio::pin!(wake);
        // One wait for the stop for the whole connection, not a new one
        // (registered and dropped again) at every report. A watcher gone
        // (the sender dropped) is a stop too.
        let stopping = async {
            stop.wait_for(|stop| *stop).await.ok();
        };
        tokio::pin!(stopping);
        let mut connected = false;
        // Connected and asked for the whole state, and not a word since:
        // when. A printer whose broker takes the connection but which
        // publishes nothing (P1S firmware can stall so) counts as silent
        // after the silence, even before it was ever heard from.
        let silence = Duration::from_secs(self.silence_s.max(1).unsigned_abs());
        let mut unanswered_since: Option<tokio::time::Instant> = None;
        loop {
            if self.out.gone {
                return Ended::Stop;
            }
            let tracker_deadline = next_poll(self.tracker);
            wake.as_mut().reset(match unanswered_since {
                Some(at) => tracker_deadline.min(at + silence),
                None => tracker_deadline,
            });
            tokio::select! {
                _ = &mut stopping => {
                    if connected {
                        self.goodbye().await;
                    }
                    return Ended::Stop;
                }
                _ = &mut wake => {
                    if unanswered_since.is_some_and(|at| at.elapsed() >= silence) {
                        return Ended::Dropped(format!(
                            "connected, but no report in {} s",
                            self.silence_s
                        ));
                    }
                    let now = OffsetDateTime::now_utc();
                    // Asked before `poll`, which counts the silence as a drop.
                    let silent = connected && self.tracker.is_silent(now);
                    let news = self.tracker.poll(now);
                    self.tell(news).await;
                    if silent {
                        return Ended::Dropped(format!("no report for {} s", self.silence_s));
                    }
                }
                event = self.events.poll() => match event {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        // rumqttc turns a refusing CONNACK into an error.
                        connected = true;
                        self.backoff.reset();
                        self.tracker.link_up(OffsetDateTime::now_utc());
                        self.out.link(LinkState::Connected).await;
                        // The whole state on every (re)connect, as
                        // ha-bambulab and Bambuddy ask: a P1 sends only
                        // changes, so without it an idle printer stays
                        // silent after a reconnect and is never heard back.
                        // Reconnects are a second apart at the least (the
                        // backoff), far from the flood of pushalls that
                        // MIN_PUSHALL_INTERVAL guards a P1P against.
                        if let Err(words) = subscribe_and_ask(&self.client, self.setup, true) {
                            return Ended::Dropped(words);
                        }
                        *self.last_pushall = Some(Instant::now());
                        unanswered_since = Some(tokio::time::Instant::now());
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) if p.topic == self.setup.report_topic => {
                        unanswered_since = None;
                        // Anything that is not JSON is not a report.
                        if let Some(report) = BambuReport::parse(&p.payload) {
                            let news = self.tracker.read(report, OffsetDateTime::now_utc());
                            self.tell(news).await;
                        }
                    }
                    Ok(_) => {}
                    Err(e @ ConnectionError::ConnectionRefused(
                        ConnectReturnCode::BadUserNamePassword | ConnectReturnCode::NotAuthorized,
                    )) => return Ended::Refused(self.setup.describe(&e)),
                    Err(e) => return Ended::Dropped(self.setup.describe(&e)),
                }
            }
        }
    }

    /// Disconnects cleanly: a P1 copes badly with more than one client,
    /// so a stale session should not linger on it.
    async fn goodbye(&mut self) {
        self.client.try_disconnect().ok();
        let flush = async { while self.events.poll().await.is_ok() {} };
        tokio::time::timeout(Duration::from_secs(1), flush)
            .await
            .ok();
    }

    async fn tell(&mut self, news: Vec<PrinterNews>) {
        for item in news {
            self.out.send(SourceReport::News(item)).await;
        }
        self.out.snapshot(self.tracker.snapshot()).await;
    }
}

/// When the tracker next needs a `poll`: at its next deadline, or in an
/// hour when it has none (a safety net; it then has nothing to decide).
fn next_poll(tracker: &BambuTracker) -> tokio::time::Instant {
    const NO_DEADLINE: Duration = Duration::from_secs(3600);
    let wait = tracker
        .next_deadline()
        .map(|at| {
            let left = at - OffsetDateTime::now_utc();
            Duration::try_from(left).unwrap_or(Duration::ZERO)
        })
        .unwrap_or(NO_DEADLINE);
    tokio::time::Instant::now() + wait.min(NO_DEADLINE)
}

/// Waits `wait`, polling the tracker each second (the offline debounce
/// runs on). True when the source must stop.
async fn wait_polling(
    wait: Duration,
    tracker: &mut BambuTracker,
    out: &mut Out,
    stop: &mut watch::Receiver<bool>,
) -> bool {
    let until = tokio::time::Instant::now() + wait;
    loop {
        let step = until
            .saturating_duration_since(tokio::time::Instant::now())
            .min(Duration::from_secs(1));
        if step.is_zero() {
            return out.gone;
        }
        tokio::select! {
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    return true;
                }
            }
            _ = tokio::time::sleep(step) => {
                let news = tracker.poll(OffsetDateTime::now_utc());
                for item in news {
                    out.send(SourceReport::News(item)).await;
                }
                out.snapshot(tracker.snapshot()).await;
                if out.gone {
                    return true;
                }
            }
        }
    }
}

/// What the source tells the watcher, with repeated snapshots left out.
struct Out {
    printer: String,
    tx: mpsc::Sender<SourceUpdate>,
    last_snapshot: Option<PrinterSnapshot>,
    last_link: Option<LinkState>,
    /// The watcher dropped its receiver: nobody listens any more.
    gone: bool,
}

impl Out {
    fn new(printer: String, tx: mpsc::Sender<SourceUpdate>) -> Out {
        Out {
            printer,
            tx,
            last_snapshot: None,
            last_link: None,
            gone: false,
        }
    }

    async fn send(&mut self, what: SourceReport) {
        let update = SourceUpdate {
            printer: self.printer.clone(),
            what,
        };
        if self.tx.send(update).await.is_err() {
            self.gone = true;
        }
    }

    async fn link(&mut self, state: LinkState) {
        if self.last_link.as_ref() != Some(&state) {
            self.last_link = Some(state.clone());
            self.send(SourceReport::Link(state)).await;
        }
    }

    async fn snapshot(&mut self, snapshot: PrinterSnapshot) {
        if self.last_snapshot.as_ref() != Some(&snapshot) {
            self.last_snapshot = Some(snapshot.clone());
            self.send(SourceReport::Snapshot(snapshot)).await;
        }
    }
}

// ---- The printer's certificate ----

fn provider() -> Arc<CryptoProvider> {
    crate::engine::crypto::provider()
}

/// Bambu Lab's CAs, parsed from the bundled PEM.
fn bambu_roots() -> Arc<RootCertStore> {
    let mut roots = RootCertStore::empty();
    // The bundle is checked by a test: every certificate in it parses.
    roots.add_parsable_certificates(
        CertificateDer::pem_slice_iter(BAMBU_CA_PEM.as_bytes()).filter_map(Result::ok),
    );
    Arc::new(roots)
}

/// Whether an unpinned certificate that does not chain may pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CertPolicy {
    /// `run`: never.
    Strict,
    /// `probe`: yes, recorded, for its one status read.
    Probe,
}

/// What the verifier saw of the printer's certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CertSeen {
    /// SHA-256 of the leaf, 64 lowercase hex digits.
    fingerprint: String,
    /// It chains to Bambu's CAs and names the serial.
    chained: bool,
    /// Why it was refused, in words.
    refusal: Option<String>,
}

/// Where the verifier leaves what it saw, for the source to read after
/// the handshake.
#[derive(Debug, Clone, Default)]
struct CertSlot(Arc<Mutex<Option<CertSeen>>>);

impl CertSlot {
    fn put(&self, seen: CertSeen) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(seen);
        }
    }

    fn get(&self) -> Option<CertSeen> {
        self.0.lock().ok().and_then(|slot| slot.clone())
    }

    fn refusal(&self) -> Option<String> {
        self.get().and_then(|seen| seen.refusal)
    }
}

/// Judges a printer's certificate: Bambu's chain with the serial as CN,
/// else the pinned fingerprint, else refused (see [`judge`]).
#[derive(Debug)]
struct PrinterCertVerifier {
    provider: Arc<CryptoProvider>,
    roots: Arc<RootCertStore>,
    serial: String,
    pin: Option<String>,
    policy: CertPolicy,
    seen: CertSlot,
}

impl ServerCertVerifier for PrinterCertVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        // Printers are reached by IP and their certificates name the
        // serial, not the address: the CN check stands in for it.
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let chain_ok = ParsedCertificate::try_from(end_entity).is_ok_and(|parsed| {
            rustls::client::verify_server_cert_signed_by_trust_anchor(
                &parsed,
                &self.roots,
                intermediates,
                now,
                self.provider.signature_verification_algorithms.all,
            )
            .is_ok()
        });
        let seen = judge(
            end_entity,
            chain_ok,
            &self.serial,
            self.pin.as_deref(),
            self.policy,
        );
        let accepted = seen.refusal.is_none();
        self.seen.put(seen);
        if accepted {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The rules, given whether the chain verified against Bambu's CAs:
/// (1) chained and the CN is the serial → accepted, no pin needed;
/// (2) the leaf's SHA-256 is the pinned one → accepted;
/// (3) otherwise refused, naming the fingerprint — except that a probe
///     takes a certificate that merely lacks a pin.
fn judge(
    leaf: &CertificateDer<'_>,
    chain_ok: bool,
    serial: &str,
    pin: Option<&str>,
    policy: CertPolicy,
) -> CertSeen {
    let fingerprint = sha256_hex(leaf);
    let shown = format_fingerprint(&fingerprint);
    let cn = common_name(leaf);
    let chained = chain_ok && cn.as_deref() == Some(serial);
    let pinned = pin.is_some_and(|p| p.eq_ignore_ascii_case(&fingerprint));
    let refusal = if chained || pinned {
        None
    } else if chain_ok {
        Some(format!(
            "the printer's certificate is Bambu Lab's but names serial {}, not {serial}: check the serial (SHA-256 {shown})",
            cn.as_deref().unwrap_or("(none)")
        ))
    } else if pin.is_some() {
        Some(format!(
            "the printer's certificate does not chain to Bambu Lab's CAs and is not the pinned one (SHA-256 {shown}): if this is your printer, add it again to pin it"
        ))
    } else if policy == CertPolicy::Probe {
        None
    } else {
        Some(format!(
            "the printer's certificate does not chain to Bambu Lab's CAs and none is pinned (SHA-256 {shown}): if this is your printer, add it again to pin it"
        ))
    };
    CertSeen {
        fingerprint,
        chained,
        refusal,
    }
}

fn sha256_hex(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The subject's common name (OID 2.5.4.3) of a DER certificate, read
/// with a minimal DER walk: Certificate → TBSCertificate → subject.
fn common_name(der: &[u8]) -> Option<String> {
    const SEQUENCE: u8 = 0x30;
    const CN_OID: [u8; 3] = [0x55, 0x04, 0x03];
    let (SEQUENCE, cert, _) = der_item(der)? else {
        return None;
    };
    let (SEQUENCE, tbs, _) = der_item(cert)? else {
        return None;
    };
    let mut rest = tbs;
    // The optional [0] version.
    if let (0xa0, _, after) = der_item(rest)? {
        rest = after;
    }
    // serialNumber, signature, issuer, validity; then the subject.
    for _ in 0..4 {
        rest = der_item(rest)?.2;
    }
    let (SEQUENCE, mut rdns, _) = der_item(rest)? else {
        return None;
    };
    while !rdns.is_empty() {
        let (_, mut set, next) = der_item(rdns)?;
        while !set.is_empty() {
            let (_, pair, more) = der_item(set)?;
            let (_, oid, value) = der_item(pair)?;
            if oid == CN_OID {
                let (_, text, _) = der_item(value)?;
                return String::from_utf8(text.to_vec()).ok();
            }
            set = more;
        }
        rdns = next;
    }
    None
}

/// One DER item: its tag, its contents and what follows it.
fn der_item(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{
        BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    };

    const SERIAL: &str = "01S00C123456789";

    /// A CA, and a leaf it signed whose CN is `cn` and which has no SAN.
    fn ca_and_leaf(cn: &str) -> (CertificateDer<'static>, CertificateDer<'static>) {
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let mut ca_name = DistinguishedName::new();
        ca_name.push(DnType::CommonName, "Throwaway CA");
        ca_params.distinguished_name = ca_name;
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        let leaf_key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        let mut name = DistinguishedName::new();
        name.push(DnType::OrganizationName, "BBL Technologies Co., Ltd");
        name.push(DnType::CommonName, cn);
        params.distinguished_name = name;
        let leaf = params.signed_by(&leaf_key, &issuer).unwrap();
        (ca.der().clone(), leaf.der().clone())
    }

    fn chain_ok(ca: &CertificateDer<'static>, leaf: &CertificateDer<'static>) -> bool {
        let mut roots = RootCertStore::empty();
        roots.add(ca.clone()).unwrap();
        let parsed = ParsedCertificate::try_from(leaf).unwrap();
        rustls::client::verify_server_cert_signed_by_trust_anchor(
            &parsed,
            &roots,
            &[],
            UnixTime::now(),
            provider().signature_verification_algorithms.all,
        )
        .is_ok()
    }

    #[test]
    fn the_bundled_bambu_cas_all_parse_as_trust_anchors() {
        let count = CertificateDer::pem_slice_iter(BAMBU_CA_PEM.as_bytes()).count();
        assert_eq!(count, 5);
        assert_eq!(bambu_roots().len(), 5);
    }

    #[test]
    fn the_common_name_is_read_from_a_certificate_without_san() {
        let (ca, leaf) = ca_and_leaf(SERIAL);
        assert_eq!(common_name(&leaf).as_deref(), Some(SERIAL));
        assert_eq!(common_name(&ca).as_deref(), Some("Throwaway CA"));
        assert_eq!(common_name(&[0x30, 0x05, 0x01]), None);
        assert_eq!(common_name(&[]), None);
    }

    #[test]
    fn a_chained_certificate_naming_the_serial_needs_no_pin() {
        let (ca, leaf) = ca_and_leaf(SERIAL);
        assert!(chain_ok(&ca, &leaf));
        let seen = judge(&leaf, true, SERIAL, None, CertPolicy::Strict);
        assert!(seen.chained && seen.refusal.is_none(), "{seen:?}");
        // Another printer's certificate is refused, pin or not.
        let seen = judge(&leaf, true, "01P00A999999999", None, CertPolicy::Probe);
        let words = seen.refusal.unwrap();
        assert!(words.contains("names serial 01S00C123456789, not 01P00A999999999"));
    }

    #[test]
    fn an_unchained_certificate_passes_only_when_pinned_or_probed() {
        let (_, leaf) = ca_and_leaf(SERIAL);
        let fp = sha256_hex(&leaf);
        let shown = format_fingerprint(&fp);
        let seen = judge(&leaf, false, SERIAL, None, CertPolicy::Strict);
        let words = seen.refusal.unwrap();
        assert!(words.contains(&format!("(SHA-256 {shown})")), "{words}");
        assert!(words.contains("add it again to pin it"), "{words}");
        assert!(
            judge(&leaf, false, SERIAL, Some(&fp), CertPolicy::Strict)
                .refusal
                .is_none()
        );
        let probed = judge(&leaf, false, SERIAL, None, CertPolicy::Probe);
        assert_eq!((probed.refusal, probed.chained), (None, false));
        assert_eq!(probed.fingerprint, fp);
        let other = "ab".repeat(32);
        let words = judge(&leaf, false, SERIAL, Some(&other), CertPolicy::Probe)
            .refusal
            .unwrap();
        assert!(words.contains("is not the pinned one"), "{words}");
    }

    #[test]
    fn the_verifier_takes_a_chained_leaf_without_san_reached_by_ip() {
        let (ca, leaf) = ca_and_leaf(SERIAL);
        let mut roots = RootCertStore::empty();
        roots.add(ca).unwrap();
        let verifier = |serial: &str, policy| PrinterCertVerifier {
            provider: provider(),
            roots: Arc::new(roots.clone()),
            serial: serial.into(),
            pin: None,
            policy,
            seen: CertSlot::default(),
        };
        let ip = ServerName::try_from("192.168.1.40").unwrap();
        let strict = verifier(SERIAL, CertPolicy::Strict);
        assert!(
            strict
                .verify_server_cert(&leaf, &[], &ip, &[], UnixTime::now())
                .is_ok()
        );
        let seen = strict.seen.get().unwrap();
        assert!(seen.chained && seen.refusal.is_none(), "{seen:?}");
        assert_eq!(seen.fingerprint, sha256_hex(&leaf));
        // The same leaf for another serial is refused, and says why.
        let other = verifier("01P00A999999999", CertPolicy::Strict);
        assert!(
            other
                .verify_server_cert(&leaf, &[], &ip, &[], UnixTime::now())
                .is_err()
        );
        assert!(other.seen.refusal().unwrap().contains("names serial"));
        // Bambu's real CAs do not vouch for the throwaway one.
        let real = PrinterCertVerifier {
            roots: bambu_roots(),
            ..verifier(SERIAL, CertPolicy::Probe)
        };
        assert!(
            real.verify_server_cert(&leaf, &[], &ip, &[], UnixTime::now())
                .is_ok()
        );
        assert!(!real.seen.get().unwrap().chained);
    }
}
