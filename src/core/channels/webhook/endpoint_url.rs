//! The custom webhook's endpoint: HTTPS, or plain HTTP on loopback for tests.
//!
//! Endpoint URLs often carry their own secret (Home Assistant's
//! `/api/webhook/<id>`, Zapier, n8n, `?token=`), so the whole URL is a secret:
//! it lives in the keyring, and everywhere else it is shown as
//! `https://host/…`. This type cannot be serialized, so it cannot end up in
//! a settings file or an export by accident.

use std::fmt;

use crate::core::input::{PastedUrlError, is_loopback_host, parse_pasted_url};

const MAX_URL_LEN: usize = 2048;

/// Chat services with a channel of their own. Their URLs are refused as a
/// custom endpoint: the `X-API-Key` would be posted to that service, and
/// its token would have to be kept as a custom endpoint.
/// (host suffix, service, the channel to use instead)
const CHAT_SERVICE_HOSTS: &[(&str, &str, &str)] = &[
    ("discord.com", "Discord", "the Discord channel"),
    ("discordapp.com", "Discord", "the Discord channel"),
    ("slack.com", "Slack", "the Slack channel"),
    ("telegram.org", "Telegram", "the Telegram channel"),
    ("pushover.net", "Pushover", "the Pushover channel"),
];

/// Why an endpoint URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointUrlError {
    #[error("the endpoint URL is empty")]
    Empty,
    #[error("the URL is too long ({0} characters; at most {MAX_URL_LEN})")]
    TooLong(usize),
    #[error("the URL has a space, tab or line break inside it")]
    InnerWhitespace,
    #[error("this is not a URL: it should look like https://example.com/farmhook")]
    NotAUrl,
    #[error(
        "the URL must use https:// (plain http:// is allowed only for 127.0.0.1, ::1 and localhost)"
    )]
    NotHttps,
    #[error("only https:// URLs can receive webhooks (this one is {0}://)")]
    UnsupportedScheme(String),
    #[error(
        "the URL has a user name or password before the host: farmhook sends the API key in the X-API-Key header instead"
    )]
    UserInfo,
    #[error("the URL has no host")]
    NoHost,
    #[error("the URL has a fragment ('#…'), which is never sent to a server: remove it")]
    Fragment,
    #[error(
        "this is a {service} URL: the custom webhook would post your API key to {service} and keep its token outside its own channel; set it up under {instead} instead"
    )]
    ChatService {
        service: &'static str,
        instead: &'static str,
    },
}

impl From<PastedUrlError> for EndpointUrlError {
    fn from(e: PastedUrlError) -> Self {
        match e {
            PastedUrlError::Empty => EndpointUrlError::Empty,
            PastedUrlError::TooLong(n) => EndpointUrlError::TooLong(n),
            PastedUrlError::InnerWhitespace => EndpointUrlError::InnerWhitespace,
            PastedUrlError::NotAUrl => EndpointUrlError::NotAUrl,
        }
    }
}

/// A valid endpoint for the custom webhook. `Display` hides the query string,
/// which sometimes carries a token.
#[derive(Clone, PartialEq, Eq)]
pub struct EndpointUrl(url::Url);

impl EndpointUrl {
    pub fn parse(input: &str) -> Result<Self, EndpointUrlError> {
        use EndpointUrlError as E;
        let url = parse_pasted_url(input, MAX_URL_LEN)?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(E::UserInfo);
        }
        let host = url.host().ok_or(E::NoHost)?;
        match url.scheme() {
            "https" => {}
            "http" if is_loopback_host(&host) => {}
            "http" => return Err(E::NotHttps),
            other => return Err(E::UnsupportedScheme(other.chars().take(16).collect())),
        }
        if url.fragment().is_some() {
            return Err(E::Fragment);
        }
        if let url::Host::Domain(domain) = &host
            && let Some((service, instead)) = chat_service(domain)
        {
            return Err(E::ChatService { service, instead });
        }
        Ok(EndpointUrl(url))
    }

    /// True when the host is this machine (127.0.0.0/8, ::1, localhost).
    pub fn is_loopback(&self) -> bool {
        self.0.host().is_some_and(|h| is_loopback_host(&h))
    }

    /// The full URL, query included, for the sender.
    pub fn expose(&self) -> &url::Url {
        &self.0
    }

    /// The whole URL as text, for the keyring.
    pub fn expose_str(&self) -> &str {
        self.0.as_str()
    }

    /// Scheme, host and port only (`https://hooks.example.com/…`): safe to
    /// show anywhere, since a path or query may carry a token.
    pub fn redacted(&self) -> String {
        let host = match self.0.host() {
            Some(url::Host::Ipv6(ip)) => format!("[{ip}]"),
            Some(host) => host.to_string(),
            None => String::new(),
        };
        let port = self.0.port().map(|p| format!(":{p}")).unwrap_or_default();
        format!("{}://{host}{port}/…", self.0.scheme())
    }

    /// The parts of the URL that may be a secret of their own, for
    /// scrubbing answers that echo them: the whole URL, its query, and
    /// any long path segment (a token such as Home Assistant's webhook id).
    pub fn secret_parts(&self) -> Vec<&str> {
        let mut parts = vec![self.0.as_str()];
        if let Some(query) = self.0.query().filter(|q| q.len() >= MIN_SECRET_PART) {
            parts.push(query);
        }
        if let Some(segments) = self.0.path_segments() {
            parts.extend(segments.filter(|s| s.len() >= MIN_SECRET_PART));
        }
        parts
    }
}

/// Shorter path segments and queries are words (`hook`, `api`), not tokens.
const MIN_SECRET_PART: usize = 12;

/// The chat service a host belongs to, and the channel to use instead.
fn chat_service(domain: &str) -> Option<(&'static str, &'static str)> {
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    CHAT_SERVICE_HOSTS
        .iter()
        .find(|(suffix, _, _)| {
            domain == *suffix
                || domain
                    .strip_suffix(suffix)
                    .is_some_and(|rest| rest.ends_with('.'))
        })
        .map(|&(_, service, instead)| (service, instead))
}

impl fmt::Display for EndpointUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for EndpointUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EndpointUrl({})", self.redacted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use EndpointUrlError as E;

    #[test]
    fn https_anywhere_and_http_only_on_loopback() {
        for ok in [
            "https://hooks.example.com/farmhook",
            "  https://example.com:8443/x?y=1 ",
            "http://127.0.0.1:8080/hook",
            "http://127.1.2.3/hook",
            "http://[::1]:9000/",
            "http://localhost:3000/in",
            "http://LOCALHOST/in",
        ] {
            EndpointUrl::parse(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        assert_eq!(EndpointUrl::parse("http://example.com/x"), Err(E::NotHttps));
        assert_eq!(EndpointUrl::parse("http://128.0.0.1/x"), Err(E::NotHttps));
        assert_eq!(
            EndpointUrl::parse("http://localhost.evil.tld/x"),
            Err(E::NotHttps)
        );
        assert_eq!(
            EndpointUrl::parse("ftp://example.com/x"),
            Err(E::UnsupportedScheme("ftp".into()))
        );
    }

    #[test]
    fn refuses_userinfo_fragments_and_junk() {
        assert_eq!(
            EndpointUrl::parse("https://u:p@example.com/"),
            Err(E::UserInfo)
        );
        assert_eq!(
            EndpointUrl::parse("https://example.com/#x"),
            Err(E::Fragment)
        );
        assert_eq!(EndpointUrl::parse(""), Err(E::Empty));
        assert_eq!(EndpointUrl::parse("example.com/hook"), Err(E::NotAUrl));
        assert_eq!(
            EndpointUrl::parse("https://exa mple.com/"),
            Err(E::InnerWhitespace)
        );
    }

    #[test]
    fn display_shows_only_scheme_and_host_but_the_sender_gets_it_all() {
        let u = EndpointUrl::parse("https://example.com/api/webhook/ha-8f3k2m9x1q?token=s3cret")
            .unwrap();
        assert_eq!(u.to_string(), "https://example.com/…");
        assert!(!format!("{u:?}").contains("s3cret"));
        assert!(!format!("{u:?}").contains("ha-8f3k2m9x1q"));
        assert_eq!(u.expose().query(), Some("token=s3cret"));
        let local = EndpointUrl::parse("http://[::1]:9000/hook").unwrap();
        assert_eq!(local.to_string(), "http://[::1]:9000/…");
        let port = EndpointUrl::parse("http://127.0.0.1:8787/hook").unwrap();
        assert_eq!(port.redacted(), "http://127.0.0.1:8787/…");
    }

    #[test]
    fn secret_parts_cover_the_url_the_query_and_token_like_segments() {
        let u =
            EndpointUrl::parse("https://example.com/api/webhook/ha-8f3k2m9x1q7?token=s3cret12345")
                .unwrap();
        let parts = u.secret_parts();
        assert!(parts.contains(&u.expose_str()));
        assert!(parts.contains(&"token=s3cret12345"));
        assert!(parts.contains(&"ha-8f3k2m9x1q7"));
        assert!(!parts.contains(&"api") && !parts.contains(&"webhook"));
    }

    #[test]
    fn chat_service_urls_are_refused_with_the_channel_to_use() {
        for (url, service) in [
            (
                "https://discord.com/api/webhooks/42/abcDEF_123-xyz",
                "Discord",
            ),
            (
                "https://canary.discordapp.com/api/webhooks/42/abc",
                "Discord",
            ),
            ("https://hooks.slack.com/services/T000/B000/XXXX", "Slack"),
            (
                "https://api.telegram.org/bot123:abc/sendMessage",
                "Telegram",
            ),
            ("https://api.pushover.net/1/messages.json", "Pushover"),
            ("https://DISCORD.COM./api/webhooks/1/x", "Discord"),
        ] {
            match EndpointUrl::parse(url) {
                Err(E::ChatService { service: s, .. }) => assert_eq!(s, service, "{url}"),
                other => panic!("{url}: {other:?}"),
            }
        }
        let words = EndpointUrl::parse("https://hooks.slack.com/services/T/B/X")
            .unwrap_err()
            .to_string();
        assert!(words.contains("Slack channel"), "{words}");
        // Look-alikes are someone else's hosts.
        for ok in [
            "https://notdiscord.com/hook",
            "https://discord.com.example.net/hook",
            "https://myslack.community/hook",
        ] {
            EndpointUrl::parse(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
    }

    proptest::proptest! {
        #[test]
        fn no_input_panics(s in "\\PC*") {
            let _ = EndpointUrl::parse(&s);
        }

        #[test]
        fn no_url_shaped_input_panics(s in "(https?|ftp)://[a-z0-9@:.\\[\\]-]{0,30}(/[a-z0-9?#=&%]{0,20})?") {
            let _ = EndpointUrl::parse(&s);
        }
    }
}
