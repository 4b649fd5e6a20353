//! The Discord webhook URL a user pastes: parsed once, redacted everywhere.

use std::fmt;

use crate::core::input::{PastedUrlError, parse_pasted_url};

/// Hosts Discord serves webhooks from.
const DISCORD_HOSTS: &[&str] = &[
    "discord.com",
    "ptb.discord.com",
    "canary.discord.com",
    "discordapp.com",
    "ptb.discordapp.com",
    "canary.discordapp.com",
];

/// Longest input we look at; real webhook URLs are about 120 characters.
const MAX_URL_LEN: usize = 512;
/// Discord ids are 64-bit snowflakes.
const MAX_ID_DIGITS: usize = 20;
/// Real tokens are 68 characters; leave room for change.
const MAX_TOKEN_LEN: usize = 200;

/// Why a pasted text is not a Discord webhook URL. The messages never repeat
/// the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiscordUrlError {
    #[error(
        "the URL is empty: in Discord, open Edit Channel → Integrations → Webhooks, and press Copy Webhook URL"
    )]
    Empty,
    #[error("the URL is too long ({0} characters); a Discord webhook URL is about 120")]
    TooLong(usize),
    #[error("the URL has a space, tab or line break inside it: paste it again as one piece")]
    InnerWhitespace,
    #[error(
        "this is not a URL: a Discord webhook URL looks like https://discord.com/api/webhooks/<id>/<token>"
    )]
    NotAUrl,
    #[error("the URL must start with https:// (it starts with {0}://)")]
    NotHttps(String),
    #[error(
        "the URL has a user name or password before the host ('…@'): a Discord webhook URL never does"
    )]
    UserInfo,
    #[error("the host is '{0}', not discord.com: copy the URL from Discord's Integrations page")]
    WrongHost(String),
    #[error("the URL names a port (:{0}); Discord webhook URLs have none")]
    Port(u16),
    #[error("the path is not a webhook path: it should be /api/webhooks/<id>/<token>")]
    NotWebhookPath,
    #[error("the webhook id is missing after /webhooks/: copy the whole URL")]
    MissingId,
    #[error("the webhook id must be digits only (the number after /webhooks/)")]
    BadId,
    #[error("the token is missing (the part after the id): copy the whole URL")]
    MissingToken,
    #[error(
        "the token has a character Discord tokens never contain (only letters, digits, '-' and '_'): copy the URL again"
    )]
    BadToken,
    #[error("the token is too long: copy the URL again")]
    TokenTooLong,
    #[error("there is more after the token ('/{0}'): remove it")]
    ExtraPath(String),
    #[error("the URL has a query ('?…') or fragment ('#…'): remove everything from '?' or '#'")]
    QueryOrFragment,
}

impl From<PastedUrlError> for DiscordUrlError {
    fn from(e: PastedUrlError) -> Self {
        match e {
            PastedUrlError::Empty => DiscordUrlError::Empty,
            PastedUrlError::TooLong(n) => DiscordUrlError::TooLong(n),
            PastedUrlError::InnerWhitespace => DiscordUrlError::InnerWhitespace,
            PastedUrlError::NotAUrl => DiscordUrlError::NotAUrl,
        }
    }
}

/// A valid Discord webhook: id and token. `Display` and `Debug` hide the token.
#[derive(Clone, PartialEq, Eq)]
pub struct DiscordWebhookUrl {
    id: u64,
    token: String,
}

impl DiscordWebhookUrl {
    /// Parses what a user pasted. Surrounding whitespace is ignored.
    pub fn parse(input: &str) -> Result<Self, DiscordUrlError> {
        use DiscordUrlError as E;
        let url = parse_pasted_url(input, MAX_URL_LEN)?;
        if url.scheme() != "https" {
            return Err(E::NotHttps(url.scheme().chars().take(16).collect()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(E::UserInfo);
        }
        let host = match url.host() {
            Some(url::Host::Domain(d)) => d.to_string(),
            Some(other) => return Err(E::WrongHost(other.to_string())),
            None => return Err(E::NotAUrl),
        };
        if !DISCORD_HOSTS.contains(&host.as_str()) {
            return Err(E::WrongHost(host.chars().take(80).collect()));
        }
        if let Some(port) = url.port() {
            return Err(E::Port(port));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(E::QueryOrFragment);
        }
        let mut segments: Vec<&str> = url
            .path_segments()
            .map(Iterator::collect)
            .unwrap_or_default();
        // One trailing slash is harmless.
        if segments.last() == Some(&"") {
            segments.pop();
        }
        let mut rest = segments.as_slice();
        match rest {
            ["api", tail @ ..] => rest = tail,
            _ => return Err(E::NotWebhookPath),
        }
        if let [version, tail @ ..] = rest
            && is_api_version(version)
        {
            rest = tail;
        }
        match rest {
            ["webhooks", tail @ ..] => rest = tail,
            _ => return Err(E::NotWebhookPath),
        }
        let (id, token, extra) = match rest {
            [] | [""] => return Err(E::MissingId),
            [_] | [_, ""] => {
                check_id(rest[0])?;
                return Err(E::MissingToken);
            }
            [id, token, extra @ ..] => (*id, *token, extra),
        };
        let id = check_id(id)?;
        if token.is_empty() {
            return Err(E::MissingToken);
        }
        if token.len() > MAX_TOKEN_LEN {
            return Err(E::TokenTooLong);
        }
        if !token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(E::BadToken);
        }
        if !extra.is_empty() {
            let extra = extra.join("/");
            return Err(E::ExtraPath(extra.chars().take(40).collect()));
        }
        Ok(DiscordWebhookUrl {
            id,
            token: token.to_string(),
        })
    }

    /// The webhook's id (not secret: Discord shows it in the channel settings).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The full v10 URL including the token, for the keyring and the sender
    /// only. `api_base` is `https://discord.com/api` unless a stand-in is set.
    pub fn expose_api_url(&self, api_base: &str) -> String {
        format!(
            "{}/v10/webhooks/{}/{}",
            api_base.trim_end_matches('/'),
            self.id,
            self.token
        )
    }

    /// The canonical URL with the token, as stored in the keyring.
    pub fn expose_secret(&self) -> String {
        self.expose_api_url(DEFAULT_API_BASE)
    }

    /// The token itself, for redacting it out of any text.
    pub fn expose_token(&self) -> &str {
        &self.token
    }
}

/// Discord's API root; `FARMHOOK_DISCORD_API_BASE` replaces it.
pub const DEFAULT_API_BASE: &str = "https://discord.com/api";

fn is_api_version(segment: &str) -> bool {
    segment
        .strip_prefix('v')
        .is_some_and(|n| !n.is_empty() && n.len() <= 3 && n.bytes().all(|b| b.is_ascii_digit()))
}

fn check_id(id: &str) -> Result<u64, DiscordUrlError> {
    if id.is_empty() {
        return Err(DiscordUrlError::MissingId);
    }
    if id.len() > MAX_ID_DIGITS || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DiscordUrlError::BadId);
    }
    id.parse().map_err(|_| DiscordUrlError::BadId)
}

impl fmt::Display for DiscordWebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "https://discord.com/api/v10/webhooks/{}/••••••", self.id)
    }
}

impl fmt::Debug for DiscordWebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DiscordWebhookUrl({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "Ab-cd_EF0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWX";

    fn url(s: &str) -> Result<DiscordWebhookUrl, DiscordUrlError> {
        DiscordWebhookUrl::parse(s)
    }

    #[test]
    fn accepts_every_form_discord_hands_out_and_normalises_to_v10() {
        for prefix in [
            "https://discord.com/api/webhooks",
            "https://discordapp.com/api/webhooks",
            "https://ptb.discord.com/api/webhooks",
            "https://canary.discord.com/api/v9/webhooks",
            "https://DISCORD.com/api/v10/webhooks",
        ] {
            let u = url(&format!("  {prefix}/1234567890/{TOKEN}/ \n")).expect(prefix);
            assert_eq!(u.id(), 1234567890);
            assert_eq!(
                u.expose_secret(),
                format!("https://discord.com/api/v10/webhooks/1234567890/{TOKEN}")
            );
        }
    }

    #[test]
    fn refuses_lookalike_hosts_and_userinfo_tricks() {
        let cases = [
            (
                format!("https://discord.com.evil.tld/api/webhooks/1/{TOKEN}"),
                "host",
            ),
            (format!("https://evil.tld/api/webhooks/1/{TOKEN}"), "host"),
            (
                format!("https://discord.com@evil.tld/api/webhooks/1/{TOKEN}"),
                "user name",
            ),
            (
                format!("https://user:pw@discord.com/api/webhooks/1/{TOKEN}"),
                "user name",
            ),
            (
                format!("https://evildiscord.com/api/webhooks/1/{TOKEN}"),
                "host",
            ),
            (format!("https://1.2.3.4/api/webhooks/1/{TOKEN}"), "host"),
        ];
        for (input, words) in cases {
            let err = url(&input).unwrap_err().to_string();
            assert!(err.contains(words), "{input}: {err}");
            assert!(!err.contains(TOKEN), "error repeats the token: {err}");
        }
    }

    #[test]
    fn says_which_part_is_wrong() {
        use DiscordUrlError as E;
        assert_eq!(url("   "), Err(E::Empty));
        assert_eq!(url("hello"), Err(E::NotAUrl));
        assert_eq!(
            url(&format!("http://discord.com/api/webhooks/1/{TOKEN}")),
            Err(E::NotHttps("http".into()))
        );
        assert_eq!(
            url("https://discord.com/api/webhooks/123"),
            Err(E::MissingToken)
        );
        assert_eq!(
            url("https://discord.com/api/webhooks/123/"),
            Err(E::MissingToken)
        );
        assert_eq!(url("https://discord.com/api/webhooks/"), Err(E::MissingId));
        assert_eq!(
            url(&format!("https://discord.com/api/webhooks/12a/{TOKEN}")),
            Err(E::BadId)
        );
        assert_eq!(
            url("https://discord.com/api/webhooks/1/to%20ken"),
            Err(E::BadToken)
        );
        assert_eq!(
            url(&format!("https://discord.com/api/webhooks/1/{TOKEN}/slack")),
            Err(E::ExtraPath("slack".into()))
        );
        assert_eq!(
            url(&format!("https://discord.com/webhooks/1/{TOKEN}")),
            Err(E::NotWebhookPath)
        );
        assert_eq!(
            url(&format!("https://discord.com:8443/api/webhooks/1/{TOKEN}")),
            Err(E::Port(8443))
        );
        assert_eq!(
            url(&format!(
                "https://discord.com/api/webhooks/1/{TOKEN}?wait=true"
            )),
            Err(E::QueryOrFragment)
        );
        assert_eq!(
            url(&format!("https://discord.com/api/webhooks/1/ab\ncd{TOKEN}")),
            Err(E::InnerWhitespace)
        );
        assert_eq!(
            url("https://discord.com/api/webhooks/123456789012345678901/abc"),
            Err(E::BadId)
        );
    }

    #[test]
    fn display_and_debug_hide_the_token() {
        let u = url(&format!("https://discord.com/api/webhooks/42/{TOKEN}")).unwrap();
        for shown in [u.to_string(), format!("{u:?}")] {
            assert!(
                !shown.contains(TOKEN) && !shown.contains(&TOKEN[..8]),
                "{shown}"
            );
            assert!(shown.contains("/42/"), "{shown}");
        }
    }

    #[test]
    fn api_base_replaces_discord_for_a_stand_in() {
        let u = url(&format!("https://discord.com/api/webhooks/42/{TOKEN}")).unwrap();
        assert_eq!(
            u.expose_api_url("http://127.0.0.1:9/api/"),
            format!("http://127.0.0.1:9/api/v10/webhooks/42/{TOKEN}")
        );
    }

    proptest::proptest! {
        #[test]
        fn no_input_panics(s in "\\PC*") {
            let _ = DiscordWebhookUrl::parse(&s);
        }

        #[test]
        fn no_url_shaped_input_panics(s in "https://(discord\\.com|[a-z@:.]{0,20})/[a-z0-9/_%?#@:.-]{0,60}") {
            let _ = DiscordWebhookUrl::parse(&s);
        }
    }
}
