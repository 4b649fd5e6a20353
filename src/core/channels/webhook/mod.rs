//! The custom webhook 💎: its endpoint, the `X-API-Key` it sends and the
//! optional Standard Webhooks signing secret. (Its body is the payload,
//! `core::payload`, shared with every channel as the event itself.)

pub mod api_key;
pub mod endpoint_url;

use crate::core::channel::{ChannelSpec, Need, SecretSpec};
use crate::core::settings::Channel;
use api_key::{ApiKey, SigningSecret};
use endpoint_url::EndpointUrl;

/// The endpoint: its path or query often carries a token.
pub const ENDPOINT_SECRET: SecretSpec = SecretSpec {
    entry: "webhook-endpoint-url",
    words: "custom webhook endpoint URL",
    status_key: "url",
    need: Need::Address,
    parse: |text| {
        EndpointUrl::parse(text)
            .map(|url| url.expose_str().to_string())
            .map_err(|e| e.to_string())
    },
    redact: |text| {
        EndpointUrl::parse(text)
            .map(|url| url.redacted())
            .unwrap_or_else(|_| "••••••".into())
    },
    generate: None,
    generated_note: "",
};

/// The `X-API-Key` farmhook sends (generated, or the user's own).
pub const API_KEY_SECRET: SecretSpec = SecretSpec {
    entry: "webhook-api-key",
    words: "API key",
    status_key: "api_key",
    need: Need::Always("the custom webhook needs an API key: generate one"),
    parse: |text| {
        ApiKey::parse(text)
            .map(|key| key.expose().to_string())
            .map_err(|e| e.to_string())
    },
    redact: |text| {
        ApiKey::parse(text)
            .map(|key| key.to_string())
            .unwrap_or_else(|_| "••••••".into())
    },
    generate: Some(|| {
        ApiKey::generate()
            .map(|key| key.expose().to_string())
            .map_err(|e| e.to_string())
    }),
    generated_note: "an API key for the X-API-Key header; copy it to your receiver with \
                     `farmhook webhook key show --reveal`",
};

/// The Standard Webhooks signing secret, used while signing is on.
pub const SIGNING_SECRET: SecretSpec = SecretSpec {
    entry: "webhook-signing-secret",
    words: "signing secret",
    status_key: "signing_secret",
    need: Need::WhenSigning(
        "signing is on but no signing secret is stored: generate one or turn signing off",
    ),
    parse: |text| {
        SigningSecret::parse(text)
            .map(|secret| secret.expose().to_string())
            .map_err(|e| e.to_string())
    },
    redact: |text| {
        SigningSecret::parse(text)
            .map(|secret| secret.to_string())
            .unwrap_or_else(|_| "••••••".into())
    },
    generate: Some(|| {
        SigningSecret::generate()
            .map(|secret| secret.expose().to_string())
            .map_err(|e| e.to_string())
    }),
    generated_note: "a signing secret",
};

/// The custom webhook 💎, registered in `core::channels::SPECS`.
pub const SPEC: ChannelSpec = ChannelSpec {
    channel: Channel::Webhook,
    id: "webhook",
    label: "Custom webhook",
    commercial_only: true,
    not_set_up: "the custom webhook has no endpoint URL yet",
    set_up_hint: "run `farmhook webhook set-url -`, paste the URL and press Ctrl-D \
                  (or `farmhook webhook set-url - < url.txt`)",
    secrets: &[ENDPOINT_SECRET, API_KEY_SECRET, SIGNING_SECRET],
    settings_missing: |_| None,
};
