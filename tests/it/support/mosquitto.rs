//! A Bambu-like printer: a real mosquitto broker on loopback ports with a
//! TLS listener (TLS 1.2, a certificate whose CN is the serial and which
//! has no subjectAltName, signed by a throwaway CA), a password file for
//! user `bblp`, no anonymous access; plus a plain loopback listener on
//! which the test plays the printer (publishes its reports, reads the
//! requests sent to it). Needs `mosquitto` (scripts/common.sh installs it).

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

pub struct Mosquitto {
    dir: tempfile::TempDir,
    /// The loopback address it listens on: `127.0.0.1` or `::1`.
    host: &'static str,
    child: Option<Child>,
    pub serial: String,
    pub access_code: String,
    pub tls_port: u16,
    pub plain_port: u16,
    /// SHA-256 of the broker's certificate, 64 lowercase hex digits.
    pub fingerprint: String,
}

impl Mosquitto {
    pub fn start(serial: &str, access_code: &str) -> Mosquitto {
        Mosquitto::start_on("127.0.0.1", serial, access_code)
    }

    /// The same on another loopback address (`::1` for IPv6).
    pub fn start_on(host: &'static str, serial: &str, access_code: &str) -> Mosquitto {
        let (tls_port, plain_port) = free_ports(host);
        Mosquitto::start_at(host, tls_port, plain_port, serial, access_code)
    }

    /// The same with its TLS listener on `tls_port` and the plain one on
    /// `plain_port` (a client that only connects to 8883, as Bambu's
    /// printers listen, needs the real port).
    pub fn start_at(
        host: &'static str,
        tls_port: u16,
        plain_port: u16,
        serial: &str,
        access_code: &str,
    ) -> Mosquitto {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = |name: &str| dir.path().join(name);

        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let mut ca_name = DistinguishedName::new();
        ca_name.push(DnType::CommonName, "Throwaway printer CA");
        ca_params.distinguished_name = ca_name;
        let ca = ca_params.self_signed(&ca_key).expect("CA certificate");
        let issuer = Issuer::new(ca_params, ca_key);
        let key = KeyPair::generate().expect("printer key");
        // No SAN, the serial as CN: as Bambu's printers have it.
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("leaf params");
        let mut name = DistinguishedName::new();
        name.push(DnType::CommonName, serial);
        params.distinguished_name = name;
        let cert = params
            .signed_by(&key, &issuer)
            .expect("printer certificate");
        let fingerprint = Sha256::digest(cert.der().as_ref())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        std::fs::write(path("ca.pem"), ca.pem()).expect("ca.pem");
        std::fs::write(path("cert.pem"), cert.pem()).expect("cert.pem");
        std::fs::write(path("key.pem"), key.serialize_pem()).expect("key.pem");

        let passwd = Command::new("mosquitto_passwd")
            .args(["-c", "-b"])
            .arg(path("passwd"))
            .args(["bblp", access_code])
            .output()
            .expect("mosquitto_passwd runs (apt-get install mosquitto)");
        assert!(passwd.status.success(), "mosquitto_passwd: {passwd:?}");

        let config = format!(
            "per_listener_settings false\n\
             allow_anonymous false\n\
             password_file {passwd}\n\
             persistence false\n\
             user root\n\
             log_dest file {log}\n\
             listener {tls_port} {host}\n\
             cafile {ca}\n\
             certfile {cert}\n\
             keyfile {key}\n\
             tls_version tlsv1.2\n\
             listener {plain_port} {host}\n",
            passwd = path("passwd").display(),
            log = path("mosquitto.log").display(),
            ca = path("ca.pem").display(),
            cert = path("cert.pem").display(),
            key = path("key.pem").display(),
        );
        std::fs::write(path("mosquitto.conf"), config).expect("mosquitto.conf");
        let mut broker = Mosquitto {
            dir,
            host,
            child: None,
            serial: serial.into(),
            access_code: access_code.into(),
            tls_port,
            plain_port,
            fingerprint,
        };
        broker.restart();
        broker
    }

    /// `127.0.0.1:<tls port>` (or `[::1]:<tls port>`), the printer's address.
    pub fn address(&self) -> String {
        match self.host.contains(':') {
            true => format!("[{}]:{}", self.host, self.tls_port),
            false => format!("{}:{}", self.host, self.tls_port),
        }
    }

    /// Kills the broker (SIGKILL): the printer drops off the network.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().ok();
            child.wait().ok();
        }
    }

    /// Starts the broker (again) on the same ports; returns once both
    /// listeners accept connections.
    pub fn restart(&mut self) {
        self.kill();
        let conf: PathBuf = self.dir.path().join("mosquitto.conf");
        let child = Command::new(mosquitto_binary())
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("mosquitto starts (apt-get install mosquitto)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        for port in [self.tls_port, self.plain_port] {
            while TcpStream::connect((self.host, port)).is_err() {
                assert!(
                    Instant::now() < deadline,
                    "mosquitto did not listen on {port}: {}",
                    self.log()
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    /// The broker's process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("mosquitto.log")).unwrap_or_default()
    }

    /// The test's side of the printer, on the plain listener.
    pub async fn printer(&self) -> TestPrinter {
        TestPrinter::connect(self).await
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The printer's MQTT side, played by the test: publishes reports on
/// `device/<serial>/report` and hears what is sent to
/// `device/<serial>/request`. Reconnects by itself after a broker restart.
pub struct TestPrinter {
    client: AsyncClient,
    report_topic: String,
    requests: mpsc::UnboundedReceiver<String>,
    subscribed: tokio::sync::watch::Receiver<u32>,
    task: tokio::task::JoinHandle<()>,
}

impl TestPrinter {
    async fn connect(broker: &Mosquitto) -> TestPrinter {
        let mut options = MqttOptions::new(
            format!("test-printer-{}", broker.plain_port),
            broker.host,
            broker.plain_port,
        );
        options
            .set_credentials("bblp", broker.access_code.clone())
            .set_keep_alive(Duration::from_secs(30));
        let (client, mut events) = AsyncClient::new(options, 64);
        let request_topic = format!("device/{}/request", broker.serial);
        let (tx, requests) = mpsc::unbounded_channel();
        let (sub_tx, subscribed) = tokio::sync::watch::channel(0u32);
        let sub_client = client.clone();
        let task = tokio::spawn(async move {
            loop {
                match events.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        sub_client
                            .subscribe(request_topic.clone(), QoS::AtLeastOnce)
                            .await
                            .ok();
                    }
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        sub_tx.send_modify(|n| *n += 1);
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        tx.send(String::from_utf8_lossy(&p.payload).into_owned())
                            .ok();
                    }
                    Ok(_) => {}
                    // The broker is down: try again shortly.
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        });
        let mut printer = TestPrinter {
            client,
            report_topic: format!("device/{}/report", broker.serial),
            requests,
            subscribed,
            task,
        };
        printer.wait_subscribed(1).await;
        printer
    }

    /// Waits until the printer has subscribed `n` times in all (once per
    /// connection to the broker).
    pub async fn wait_subscribed(&mut self, n: u32) {
        tokio::time::timeout(
            Duration::from_secs(10),
            self.subscribed.wait_for(|count| *count >= n),
        )
        .await
        .expect("the test printer subscribes within 10 s")
        .expect("the test printer's task runs");
    }

    /// Publishes one report (JSON text), in order with the others.
    pub async fn report(&self, json: &str) {
        self.client
            .publish(
                self.report_topic.clone(),
                QoS::AtLeastOnce,
                false,
                json.as_bytes().to_vec(),
            )
            .await
            .expect("the report is queued");
    }

    /// The next message sent to the printer's request topic.
    pub async fn next_request(&mut self, within: Duration) -> Option<String> {
        tokio::time::timeout(within, self.requests.recv())
            .await
            .ok()
            .flatten()
    }
}

impl Drop for TestPrinter {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Two different free loopback ports: both listeners are held while the
/// second is chosen, so the system cannot hand out the same port twice.
pub fn free_ports(host: &str) -> (u16, u16) {
    let bind = || std::net::TcpListener::bind((host, 0)).expect("a free loopback port");
    let (first, second) = (bind(), bind());
    let port = |l: &std::net::TcpListener| l.local_addr().expect("a bound port").port();
    (port(&first), port(&second))
}

fn mosquitto_binary() -> &'static str {
    // Debian puts the broker in /usr/sbin, which a user's PATH may lack.
    if std::path::Path::new("/usr/sbin/mosquitto").exists() {
        "/usr/sbin/mosquitto"
    } else {
        "mosquitto"
    }
}
