//! The bot token a user pastes from @BotFather: parsed once, redacted
//! everywhere. The bot's number before the colon is public (Telegram shows
//! it as the bot's id); the part after it is the secret.

use std::fmt;
use std::str::FromStr;

/// Longest input we look at; real tokens are about 46 characters, and a
/// pasted API URL carrying one about 80.
const MAX_INPUT_LEN: usize = 512;
/// Bot ids are 64-bit integers.
const MAX_BOT_ID_DIGITS: usize = 20;
/// The secret part of every token @BotFather hands out has 35 characters.
pub const SECRET_MIN_CHARS: usize = 35;
/// Leaves room for Telegram to lengthen tokens one day.
const SECRET_MAX_CHARS: usize = 200;
/// The mask shown in place of the secret part.
const MASK: &str = "••••••";

/// Why a pasted text is not a Telegram bot token. The messages never repeat
/// the secret part.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BotTokenError {
    #[error(
        "the bot token is empty: in Telegram, open @BotFather, send /mybots, pick your bot and press API Token, then copy the token"
    )]
    Empty,
    #[error(
        "the text is too long ({0} characters) to be a bot token; a token looks like 123456789:AAH… (about 46 characters)"
    )]
    TooLong(usize),
    #[error(
        "the token has a space, tab or line break inside it: copy it again from @BotFather as one piece"
    )]
    InnerWhitespace,
    #[error(
        "this URL has no bot token in it: paste the token itself (123456789:AAH…) or a URL like https://api.telegram.org/bot<token>/getMe"
    )]
    UrlWithoutToken,
    #[error(
        "the token has no ':' — a bot token is the bot's number, a colon, then 35 letters, digits, '-' or '_' (123456789:AAH…): copy the whole token from @BotFather"
    )]
    MissingColon,
    #[error(
        "the token starts with ':' — the bot's number before it is missing: copy the whole token from @BotFather"
    )]
    MissingBotId,
    #[error(
        "the part before ':' must be the bot's number (at most 20 digits, nothing else): copy the token from @BotFather again"
    )]
    BadBotId,
    #[error(
        "the part after ':' has {0} characters, but bot tokens have at least 35: copy the whole token from @BotFather"
    )]
    SecretTooShort(usize),
    #[error("the part after ':' is too long ({0} characters): copy only the token from @BotFather")]
    SecretTooLong(usize),
    #[error(
        "the part after ':' has a character bot tokens never contain (only letters, digits, '-' and '_'): copy the token again"
    )]
    BadCharacter,
}

/// A well-formed bot token (`<bot id>:<secret>`). `Display` and `Debug`
/// show only the bot id.
#[derive(Clone, PartialEq, Eq)]
pub struct BotToken {
    bot_id: u64,
    /// The whole token, `<bot id>:<secret>`, as Telegram expects it.
    token: String,
}

impl BotToken {
    /// Parses what a user pasted: the token itself, the token with quotes or
    /// a `bot` prefix around it, or an API URL containing it
    /// (`https://api.telegram.org/bot<token>/getMe`). Surrounding whitespace
    /// is ignored.
    pub fn parse(input: &str) -> Result<Self, BotTokenError> {
        use BotTokenError as E;
        let text = input.trim();
        if text.is_empty() {
            return Err(E::Empty);
        }
        if text.len() > MAX_INPUT_LEN {
            return Err(E::TooLong(text.chars().count()));
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(E::InnerWhitespace);
        }
        let text = strip_quotes(text);
        let candidate = if looks_like_url(text) {
            token_in_url(text).ok_or(E::UrlWithoutToken)?
        } else {
            // "bot123:AAH…" is how the token appears inside API URLs.
            text.strip_prefix("bot")
                .filter(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
                .unwrap_or(text)
        };
        Self::parse_bare(candidate)
    }

    fn parse_bare(text: &str) -> Result<Self, BotTokenError> {
        use BotTokenError as E;
        let (id, secret) = text.split_once(':').ok_or(E::MissingColon)?;
        if id.is_empty() {
            return Err(E::MissingBotId);
        }
        if id.len() > MAX_BOT_ID_DIGITS || !id.bytes().all(|b| b.is_ascii_digit()) {
            // Not echoed: a user who pasted two secrets joined by ':' would
            // see one of them.
            return Err(E::BadBotId);
        }
        let bot_id: u64 = id.parse().map_err(|_| E::BadBotId)?;
        if !secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(E::BadCharacter);
        }
        let len = secret.len();
        if len < SECRET_MIN_CHARS {
            return Err(E::SecretTooShort(len));
        }
        if len > SECRET_MAX_CHARS {
            return Err(E::SecretTooLong(len));
        }
        Ok(BotToken {
            bot_id,
            token: format!("{bot_id}:{secret}"),
        })
    }

    /// The bot's id, the number before the colon (public: it is the bot's
    /// user id).
    pub fn bot_id(&self) -> u64 {
        self.bot_id
    }

    /// What may be shown: `123456789:••••••`.
    pub fn redacted(&self) -> String {
        format!("{}:{MASK}", self.bot_id)
    }

    /// The whole token, for the request URL and the keyring only.
    pub fn expose_token(&self) -> &str {
        &self.token
    }

    /// Only the secret part after the colon, for scrubbing echoes of it.
    pub fn expose_secret_part(&self) -> &str {
        self.token
            .split_once(':')
            .map_or(self.token.as_str(), |(_, secret)| secret)
    }
}

impl FromStr for BotToken {
    type Err = BotTokenError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for BotToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for BotToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BotToken({})", self.redacted())
    }
}

fn strip_quotes(text: &str) -> &str {
    for (open, close) in [('"', '"'), ('\'', '\''), ('`', '`'), ('“', '”'), ('<', '>')] {
        if let Some(inner) = text.strip_prefix(open).and_then(|t| t.strip_suffix(close)) {
            return inner;
        }
    }
    text
}

fn looks_like_url(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://") || lower.contains("/bot")
}

/// The `<token>` of the first path segment `bot<token>` of a URL.
fn token_in_url(text: &str) -> Option<&str> {
    let path = text.split(['?', '#']).next().unwrap_or_default();
    path.split('/')
        .filter_map(|segment| segment.strip_prefix("bot"))
        .find(|rest| rest.contains(':') && rest.starts_with(|c: char| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw-_";
    const TOKEN: &str = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw-_";

    fn token(s: &str) -> Result<BotToken, BotTokenError> {
        BotToken::parse(s)
    }

    #[test]
    fn accepts_the_token_as_botfather_gives_it_and_common_wrappings() {
        for input in [
            TOKEN.to_string(),
            format!("  {TOKEN}\n"),
            format!("\"{TOKEN}\""),
            format!("`{TOKEN}`"),
            format!("bot{TOKEN}"),
            format!("https://api.telegram.org/bot{TOKEN}/getMe"),
            format!("https://api.telegram.org/bot{TOKEN}/sendMessage?chat_id=1"),
            format!("api.telegram.org/bot{TOKEN}"),
        ] {
            let t = token(&input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(t.expose_token(), TOKEN);
            assert_eq!(t.bot_id(), 123456789);
            assert_eq!(t.expose_secret_part(), SECRET);
        }
        assert_eq!(TOKEN.parse::<BotToken>().unwrap().bot_id(), 123456789);
    }

    #[test]
    fn says_which_part_is_wrong() {
        use BotTokenError as E;
        assert_eq!(token(" \t"), Err(E::Empty));
        assert_eq!(token(&"1".repeat(600)), Err(E::TooLong(600)));
        assert_eq!(token("123 456:abc"), Err(E::InnerWhitespace));
        assert_eq!(token(SECRET), Err(E::MissingColon));
        assert_eq!(token(&format!(":{SECRET}")), Err(E::MissingBotId));
        assert_eq!(token(&format!("12ab:{SECRET}")), Err(E::BadBotId));
        assert_eq!(
            token("123456789:AAHdqTcvCH1vGWJxfSeof"),
            Err(E::SecretTooShort(21))
        );
        assert_eq!(
            token(&format!("123:{}", "a".repeat(201))),
            Err(E::SecretTooLong(201))
        );
        assert_eq!(
            token("123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsa+/="),
            Err(E::BadCharacter)
        );
        assert_eq!(
            token("https://api.telegram.org/getMe"),
            Err(E::UrlWithoutToken)
        );
        assert_eq!(
            token(&format!("123456789123456789123456:{SECRET}")),
            Err(E::BadBotId)
        );
    }

    #[test]
    fn errors_never_repeat_the_secret() {
        let inputs = [
            format!("12ab:{SECRET}"),
            format!("123:{SECRET}+"),
            format!("https://example.com/x/{SECRET}"),
            SECRET.to_string(),
            format!("{SECRET}:{SECRET}"),
        ];
        for input in inputs {
            let err = token(&input).unwrap_err().to_string();
            assert!(!err.contains(&SECRET[..12]), "{input}: {err}");
        }
    }

    #[test]
    fn display_debug_and_redacted_show_only_the_bot_id() {
        let t = token(TOKEN).unwrap();
        assert_eq!(t.redacted(), "123456789:••••••");
        for shown in [t.to_string(), format!("{t:?}"), t.redacted()] {
            assert!(!shown.contains(&SECRET[..8]), "{shown}");
            assert!(shown.contains("123456789:"), "{shown}");
        }
    }

    proptest::proptest! {
        #[test]
        fn no_input_panics(s in "\\PC*") {
            let _ = BotToken::parse(&s);
        }

        #[test]
        fn no_token_shaped_input_panics(s in "(https://api\\.telegram\\.org/)?(bot)?[0-9]{0,22}:?[A-Za-z0-9_/:+ -]{0,60}") {
            let _ = BotToken::parse(&s);
        }
    }
}
