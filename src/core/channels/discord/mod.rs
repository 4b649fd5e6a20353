//! Discord: the webhook URL a user pastes, and the embeds farmhook posts.

pub mod message;
pub mod url;

use crate::core::channel::{ChannelSpec, Need, SecretSpec};
use crate::core::settings::Channel;
use url::DiscordWebhookUrl;

/// Discord's webhook URL: it carries the webhook's token.
pub const URL_SECRET: SecretSpec = SecretSpec {
    entry: "discord-webhook-url",
    words: "Discord webhook URL",
    status_key: "url",
    need: Need::Address,
    parse: |text| {
        DiscordWebhookUrl::parse(text)
            .map(|url| url.expose_secret())
            .map_err(|e| e.to_string())
    },
    redact: |text| {
        DiscordWebhookUrl::parse(text)
            .map(|url| url.to_string())
            .unwrap_or_else(|_| "••••••".into())
    },
    generate: None,
    generated_note: "",
};

/// Discord, registered in `core::channels::SPECS`.
pub const SPEC: ChannelSpec = ChannelSpec {
    channel: Channel::Discord,
    id: "discord",
    label: "Discord",
    commercial_only: false,
    not_set_up: "no Discord webhook URL is saved yet",
    set_up_hint: "run `farmhook discord set-url -`, paste the URL and press Ctrl-D \
                  (or `farmhook discord set-url - < url.txt`)",
    secrets: &[URL_SECRET],
    settings_missing: |_| None,
};
