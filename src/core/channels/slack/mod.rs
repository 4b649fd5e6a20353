//! Slack: the incoming-webhook URL a user pastes, the Block Kit message
//! farmhook posts to it, and what Slack's plain-text answers mean. Slack
//! offers no way to check a webhook without posting, so there is no Verify.

pub mod answers;
pub mod message;
pub mod webhook_url;

pub use answers::{answer_words, asked_wait, pause_reason, refused_despite_success};
pub use message::{MAX_EVENTS_PER_MESSAGE, message};
pub use webhook_url::{DEFAULT_API_BASE, SlackUrlError, SlackWebhookUrl};

use crate::core::channel::{ChannelSpec, Need, SecretSpec};
use crate::core::redact::Scrubber;
use crate::core::settings::Channel;

/// Slack's incoming-webhook URL: its last part is the secret.
pub const URL_SECRET: SecretSpec = SecretSpec {
    entry: "slack-webhook-url",
    words: "Slack webhook URL",
    status_key: "url",
    need: Need::Address,
    parse: |text| {
        SlackWebhookUrl::parse(text)
            .map(|url| url.expose_url())
            .map_err(|e| e.to_string())
    },
    redact: |text| {
        SlackWebhookUrl::parse(text)
            .map(|url| url.redacted())
            .unwrap_or_else(|_| SECRET_MASK.into())
    },
    generate: None,
    generated_note: "",
};

/// Slack, registered in `core::channels::SPECS`.
pub const SPEC: ChannelSpec = ChannelSpec {
    channel: Channel::Slack,
    id: "slack",
    label: "Slack",
    commercial_only: false,
    not_set_up: "no Slack webhook URL is saved yet",
    set_up_hint: "run `farmhook slack set-url -`, paste the URL and press Ctrl-D \
                  (or `farmhook slack set-url - < url.txt`)",
    secrets: &[URL_SECRET],
    settings_missing: |_| None,
};

/// What replaces the webhook's secret wherever it is shown.
pub const SECRET_MASK: &str = "••••••";

/// Adds the webhook's secrets for scrubbing answers that echo them: the URL
/// as sent to `api_base`, the canonical URL, and the secret segment alone.
pub fn add_secrets(scrub: &mut Scrubber, url: &SlackWebhookUrl, api_base: &str) {
    scrub.add(
        &url.expose_api_url(api_base),
        &url.redacted_api_url(api_base),
    );
    scrub.add(&url.expose_url(), &url.redacted());
    scrub.add(url.expose_secret(), SECRET_MASK);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_of_the_secret_is_scrubbed_and_the_ids_stay() {
        let secret = "q8Zr3XkT0vLm5NwB2yHc7JdA";
        let url = SlackWebhookUrl::parse(&format!(
            "https://hooks.slack.com/services/T024BE7LD/B08ABCD1EFG/{secret}"
        ))
        .unwrap();
        let base = "http://127.0.0.1:4567";
        let mut scrub = Scrubber::default();
        add_secrets(&mut scrub, &url, base);
        let echoed = format!(
            "posted to {} (was {}), secret {secret}, path \\/services\\/T024BE7LD\\/B08ABCD1EFG\\/{secret}",
            url.expose_api_url(base),
            url.expose_url()
        );
        let clean = scrub.scrub(&echoed);
        assert!(!clean.contains(secret), "{clean}");
        assert!(
            clean.contains("http://127.0.0.1:4567/services/T024BE7LD/B08ABCD1EFG/••••••"),
            "{clean}"
        );
        assert!(
            clean.contains("https://hooks.slack.com/services/T024BE7LD/B08ABCD1EFG/••••••"),
            "{clean}"
        );
    }
}
