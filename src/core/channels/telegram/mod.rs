//! Telegram: the bot token and chat id a user gives, the `sendMessage` body
//! farmhook posts, what Telegram's answers mean, and reading Verify and Find
//! chat answers. All pure: the engine does the sending.

pub mod answer;
pub mod chat_id;
pub mod message;
pub mod token;
pub mod verify;

pub use answer::{answer_words, asked_wait, pause_reason, refused_despite_success};
pub use chat_id::{ChatId, ChatIdError};
pub use message::{MAX_EVENTS_PER_MESSAGE, TEXT_MAX_UTF16, message};
pub use token::{BotToken, BotTokenError};
pub use verify::{
    BotInfo, ChatInfo, ChatKind, FoundChat, FoundVia, TelegramReplyError, parse_get_chat,
    parse_get_me, parse_updates,
};

use crate::core::channel::{ChannelSpec, Need, SecretSpec};
use crate::core::redact::Scrubber;
use crate::core::settings::Channel;

/// The bot's token from @BotFather.
pub const TOKEN_SECRET: SecretSpec = SecretSpec {
    entry: "telegram-bot-token",
    words: "Telegram bot token",
    status_key: "token",
    need: Need::Address,
    parse: |text| {
        BotToken::parse(text)
            .map(|token| token.expose_token().to_string())
            .map_err(|e| e.to_string())
    },
    redact: |text| {
        BotToken::parse(text)
            .map(|token| token.redacted())
            .unwrap_or_else(|_| "••••••".into())
    },
    generate: None,
    generated_note: "",
};

/// What a bot with no chat chosen yet needs, in words.
pub const NO_CHAT: &str = "Telegram needs a chat: send /start to your bot (or add it to the group), \
                           then press Find chat (`farmhook telegram find-chat`)";

/// Telegram, registered in `core::channels::SPECS`.
pub const SPEC: ChannelSpec = ChannelSpec {
    channel: Channel::Telegram,
    id: "telegram",
    label: "Telegram",
    commercial_only: false,
    not_set_up: "no Telegram bot token is saved yet",
    set_up_hint: "run `farmhook telegram set-token -`, paste the token from @BotFather and press Ctrl-D",
    secrets: &[TOKEN_SECRET],
    settings_missing: |own| match &own.chat_id {
        Some(chat) if ChatId::parse(chat).is_ok() => None,
        _ => Some(NO_CHAT),
    },
};

/// Telegram's Bot API root; `FARMHOOK_TELEGRAM_API_BASE` replaces it.
pub const DEFAULT_API_BASE: &str = "https://api.telegram.org";

/// The URL of a Bot API method: `{base}/bot{token}/{method}`. It holds the
/// token: for the sender only, never for showing (see [`redacted_method_url`]).
pub fn method_url(base: &str, token: &BotToken, method: &str) -> String {
    format!(
        "{}/bot{}/{method}",
        base.trim_end_matches('/'),
        token.expose_token()
    )
}

/// [`method_url`] as it may be shown: `{base}/bot123456789:••••••/{method}`.
pub fn redacted_method_url(base: &str, token: &BotToken, method: &str) -> String {
    format!(
        "{}/bot{}/{method}",
        base.trim_end_matches('/'),
        token.redacted()
    )
}

/// Adds the bot token's forms (the method URL prefix as sent to `base`, the
/// whole token, the part after the colon) with their masks, so answers and
/// logs that echo them are scrubbed.
pub fn add_secrets(scrub: &mut Scrubber, token: &BotToken, base: &str) {
    let base = base.trim_end_matches('/');
    scrub.add(
        &format!("{base}/bot{}", token.expose_token()),
        &format!("{base}/bot{}", token.redacted()),
    );
    scrub.add(token.expose_token(), &token.redacted());
    scrub.add(token.expose_secret_part(), "••••••");
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw-_";

    #[test]
    fn method_urls_put_the_token_after_bot() {
        let token = BotToken::parse(TOKEN).unwrap();
        assert_eq!(
            method_url(DEFAULT_API_BASE, &token, "sendMessage"),
            format!("https://api.telegram.org/bot{TOKEN}/sendMessage")
        );
        assert_eq!(
            method_url("http://127.0.0.1:9/", &token, "getMe"),
            format!("http://127.0.0.1:9/bot{TOKEN}/getMe")
        );
        assert_eq!(
            redacted_method_url(DEFAULT_API_BASE, &token, "getMe"),
            "https://api.telegram.org/bot123456789:••••••/getMe"
        );
    }

    #[test]
    fn every_form_of_the_token_is_scrubbed() {
        let token = BotToken::parse(TOKEN).unwrap();
        let mut scrub = Scrubber::default();
        add_secrets(&mut scrub, &token, "http://127.0.0.1:9/");
        let secret = token.expose_secret_part();
        let echoed = format!(
            "POST http://127.0.0.1:9/bot{TOKEN}/sendMessage failed; token {TOKEN}; \
             secret {secret}; json http:\\/\\/127.0.0.1:9\\/bot{TOKEN}"
        );
        let clean = scrub.scrub(&echoed);
        assert!(!clean.contains(&secret[..10]), "{clean}");
        assert!(
            clean.contains("http://127.0.0.1:9/bot123456789:••••••/sendMessage"),
            "{clean}"
        );
    }
}
