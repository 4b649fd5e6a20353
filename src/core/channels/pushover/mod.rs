//! Pushover: the application token and user key a user pastes, the
//! notification farmhook posts to `messages.json`, what Pushover's answers
//! mean (including its monthly quota headers), and Verify through
//! `users/validate.json`. All pure: the engine sends and receives.

pub mod answers;
pub mod keys;
pub mod message;
pub mod verify;

pub use answers::{
    MAX_ASKED_WAIT_SECS, Quota, answer_words, asked_wait, asked_wait_at, pause_reason, quota,
    refused_despite_success,
};
pub use keys::{AppToken, AppTokenError, UserKey, UserKeyError};
pub use message::{MAX_EVENTS_PER_MESSAGE, message};
pub use verify::{ValidatedUser, parse_validate, validate_body};

use crate::core::channel::{ChannelSpec, Need, SecretSpec};
use crate::core::redact::Scrubber;
use crate::core::settings::Channel;

/// The application's API token (pushover.net/apps).
pub const TOKEN_SECRET: SecretSpec = SecretSpec {
    entry: "pushover-app-token",
    words: "Pushover application token",
    status_key: "token",
    need: Need::Address,
    parse: |text| {
        AppToken::parse(text)
            .map(|token| token.expose_token().to_string())
            .map_err(|e| e.to_string())
    },
    redact: |text| {
        AppToken::parse(text)
            .map(|token| token.redacted())
            .unwrap_or_else(|_| "••••••".into())
    },
    generate: None,
    generated_note: "",
};

/// The user (or group) key the notifications go to.
pub const USER_SECRET: SecretSpec = SecretSpec {
    entry: "pushover-user-key",
    words: "Pushover user key",
    status_key: "user_key",
    need: Need::Address,
    parse: |text| {
        UserKey::parse(text)
            .map(|key| key.expose_key().to_string())
            .map_err(|e| e.to_string())
    },
    redact: |text| {
        UserKey::parse(text)
            .map(|key| key.redacted())
            .unwrap_or_else(|_| "••••••".into())
    },
    generate: None,
    generated_note: "",
};

/// Pushover, registered in `core::channels::SPECS`.
pub const SPEC: ChannelSpec = ChannelSpec {
    channel: Channel::Pushover,
    id: "pushover",
    label: "Pushover",
    commercial_only: false,
    not_set_up: "Pushover needs both its application token and your user key",
    set_up_hint: "run `farmhook pushover set-token -` and `farmhook pushover set-user -`, \
                  pasting each and pressing Ctrl-D",
    secrets: &[TOKEN_SECRET, USER_SECRET],
    settings_missing: |_| None,
};

/// Pushover's API root; `FARMHOOK_PUSHOVER_API_BASE` replaces it.
pub const DEFAULT_API_BASE: &str = "https://api.pushover.net";

/// Where notifications are posted: `{api_base}/1/messages.json`.
pub fn messages_url(api_base: &str) -> String {
    format!("{}/1/messages.json", api_base.trim_end_matches('/'))
}

/// Where Verify posts: `{api_base}/1/users/validate.json`.
pub fn validate_url(api_base: &str) -> String {
    format!("{}/1/users/validate.json", api_base.trim_end_matches('/'))
}

/// Adds the channel's secrets (the token and the user key, each masked as
/// `redacted()` shows it) for scrubbing answers that echo them. The URLs
/// carry no secret: both keys travel in the request body.
pub fn add_secrets(scrub: &mut Scrubber, token: &AppToken, user: &UserKey) {
    scrub.add(token.expose_token(), &token.redacted());
    scrub.add(user.expose_key(), &user.redacted());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_follow_the_api_base() {
        assert_eq!(
            messages_url(DEFAULT_API_BASE),
            "https://api.pushover.net/1/messages.json"
        );
        assert_eq!(
            validate_url("http://127.0.0.1:9/"),
            "http://127.0.0.1:9/1/users/validate.json"
        );
    }

    #[test]
    fn both_secrets_are_scrubbed_from_echoed_answers() {
        let token = AppToken::parse("azGDORePK8gMaC0QOYAMyEEuzJnyUi").unwrap();
        let user = UserKey::parse("uQiRzpo4DXghDmr9QzzfQu27cmVRsG").unwrap();
        let mut scrub = Scrubber::default();
        add_secrets(&mut scrub, &token, &user);
        let echoed = "token=azGDORePK8gMaC0QOYAMyEEuzJnyUi&user=uQiRzpo4DXghDmr9QzzfQu27cmVRsG";
        assert_eq!(scrub.scrub(echoed), "token=azGD••••••&user=uQiR••••••");
    }
}
