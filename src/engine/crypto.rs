//! The one TLS crypto provider of the process: rustls with ring, for every
//! connection farmhook makes (the channels over reqwest, OctoPrint and
//! Moonraker over reqwest and websockets, Bambu printers over MQTT).

use std::sync::Arc;

use rustls::crypto::CryptoProvider;

/// Makes ring the process's default provider, once; later calls do
/// nothing. Called before anything builds a TLS client.
pub fn install() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Err only when a provider is already installed: that one stays.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// The provider, for TLS set up by hand (the Bambu verifier).
pub fn provider() -> Arc<CryptoProvider> {
    install();
    CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()))
}
