//! An HTTPS endpoint on 127.0.0.1 with a fresh self-signed certificate
//! (rcgen) for `localhost` and `127.0.0.1`.

use std::net::SocketAddr;
use std::sync::Arc;

use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

use super::endpoint::{
    HttpConn, RecordedRequest, Recorder, Reply, ServerTask, bind_loopback, spawn_server,
    write_reply,
};

/// A TLS acceptor with a fresh self-signed certificate (rcgen) for
/// `localhost` and `127.0.0.1`, and that certificate as PEM, for a client
/// to trust.
pub fn self_signed_acceptor() -> (TlsAcceptor, String) {
    let rcgen::CertifiedKey { cert, signing_key } =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
            .expect("rcgen makes a self-signed certificate");
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(signing_key.serialize_der()));
    // The provider is named so nothing depends on a process-wide default.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("default TLS versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], key)
        .expect("the certificate matches its key");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    (TlsAcceptor::from(Arc::new(config)), cert.pem())
}

/// Answers 200 `{"ok":true}` to every request. Stops when dropped.
pub struct TlsEndpoint {
    addr: SocketAddr,
    ca_pem: String,
    recorder: Arc<Recorder>,
    _server: ServerTask,
}

impl TlsEndpoint {
    pub async fn start() -> TlsEndpoint {
        let (acceptor, ca_pem) = self_signed_acceptor();
        let listener = bind_loopback().await;
        let addr = listener.local_addr().expect("bound address");
        let recorder = Arc::new(Recorder::default());
        let rec = recorder.clone();
        let server = spawn_server(listener, move |tcp| {
            let acceptor = acceptor.clone();
            let recorder = rec.clone();
            async move {
                // A failed handshake (e.g. the client distrusts us) is not a hit.
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut conn = HttpConn::new(tls);
                while let Ok(Some(request)) = conn.read_request().await {
                    let close = request.wants_close();
                    recorder.record(request);
                    let reply = Reply::json(200, &json!({"ok": true}));
                    if write_reply(&mut conn.stream, &reply).await.is_err() || close {
                        break;
                    }
                }
                conn.stream.shutdown().await.ok();
            }
        });
        TlsEndpoint {
            addr,
            ca_pem,
            recorder,
            _server: server,
        }
    }

    /// `https://localhost:PORT/hook` (the certificate is valid for that name).
    pub fn url(&self) -> String {
        format!("https://localhost:{}/hook", self.addr.port())
    }

    /// The certificate to trust, as PEM.
    pub fn ca_pem(&self) -> String {
        self.ca_pem.clone()
    }

    /// Requests received over a completed handshake.
    pub fn hits(&self) -> usize {
        self.recorder.len()
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.recorder.requests()
    }
}
