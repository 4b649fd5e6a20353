//! The custom webhook's endpoint: HTTPS, or plain HTTP on loopback for tests.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

const MAX_URL_LEN: usize = 2048;

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
}

/// A valid endpoint for the custom webhook. `Display` hides the query string,
/// which sometimes carries a token.
#[derive(Clone, PartialEq, Eq)]
pub struct EndpointUrl(url::Url);

impl EndpointUrl {
    pub fn parse(input: &str) -> Result<Self, EndpointUrlError> {
        use EndpointUrlError as E;
        let text = input.trim();
        if text.is_empty() {
            return Err(E::Empty);
        }
        if text.len() > MAX_URL_LEN {
            return Err(E::TooLong(text.chars().count()));
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(E::InnerWhitespace);
        }
        let url = url::Url::parse(text).map_err(|_| E::NotAUrl)?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(E::UserInfo);
        }
        let host = url.host().ok_or(E::NoHost)?;
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&host) => {}
            "http" => return Err(E::NotHttps),
            other => return Err(E::UnsupportedScheme(other.chars().take(16).collect())),
        }
        if url.fragment().is_some() {
            return Err(E::Fragment);
        }
        Ok(EndpointUrl(url))
    }

    /// True when the host is this machine (127.0.0.0/8, ::1, localhost).
    pub fn is_loopback(&self) -> bool {
        self.0.host().is_some_and(|h| is_loopback(&h))
    }

    /// The full URL, query included, for the sender.
    pub fn expose(&self) -> &url::Url {
        &self.0
    }

    /// The URL without its query string, safe to show anywhere.
    pub fn redacted(&self) -> String {
        let mut shown = self.0.clone();
        shown.set_query(None);
        let mut text = shown.to_string();
        if self.0.query().is_some() {
            text.push_str("?••••");
        }
        text
    }
}

fn is_loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
    }
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

impl Serialize for EndpointUrl {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.as_str())
    }
}

impl<'de> Deserialize<'de> for EndpointUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        EndpointUrl::parse(&text).map_err(serde::de::Error::custom)
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
    fn display_hides_the_query_but_the_sender_gets_it() {
        let u = EndpointUrl::parse("https://example.com/in?token=s3cret").unwrap();
        assert_eq!(u.to_string(), "https://example.com/in?••••");
        assert!(!format!("{u:?}").contains("s3cret"));
        assert_eq!(u.expose().query(), Some("token=s3cret"));
    }

    #[test]
    fn round_trips_through_serde() {
        let u = EndpointUrl::parse("https://example.com/in?token=s3cret").unwrap();
        let json = serde_json::to_string(&u).unwrap();
        assert_eq!(serde_json::from_str::<EndpointUrl>(&json).unwrap(), u);
        assert!(serde_json::from_str::<EndpointUrl>(r#""http://example.com/""#).is_err());
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
