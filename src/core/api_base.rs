//! The `FARMHOOK_*_API_BASE` overrides, which point a channel's traffic at a
//! stand-in (tests, a local mock). One table knows every variable; one rule
//! decides whether a value may be used: an absolute `https://` URL, or plain
//! `http://` only to this machine, so that no secret ever travels in the
//! clear to another host because a variable was set by mistake.

use std::fmt;

use crate::core::input::is_loopback_host;

use crate::core::channels::discord::url::DEFAULT_API_BASE as DISCORD_DEFAULT;

/// One override variable: whose traffic it moves and where that traffic goes
/// without it.
#[derive(Debug, PartialEq, Eq)]
pub struct ApiBaseVar {
    /// The channel's id (`discord`, `slack`, …).
    pub channel: &'static str,
    /// The channel's name in sentences.
    pub label: &'static str,
    /// The environment variable.
    pub env: &'static str,
    /// The real service's base.
    pub default: &'static str,
}

/// Every override farmhook knows. Slack, Telegram and Pushover have no
/// sender yet; they are listed so that a variable set for them is already
/// checked and announced. A new channel is one more row.
pub const API_BASE_VARS: &[ApiBaseVar] = &[
    ApiBaseVar {
        channel: "discord",
        label: "Discord",
        env: "FARMHOOK_DISCORD_API_BASE",
        default: DISCORD_DEFAULT,
    },
    ApiBaseVar {
        channel: "slack",
        label: "Slack",
        env: "FARMHOOK_SLACK_API_BASE",
        default: "https://hooks.slack.com",
    },
    ApiBaseVar {
        channel: "telegram",
        label: "Telegram",
        env: "FARMHOOK_TELEGRAM_API_BASE",
        default: "https://api.telegram.org",
    },
    ApiBaseVar {
        channel: "pushover",
        label: "Pushover",
        env: "FARMHOOK_PUSHOVER_API_BASE",
        default: "https://api.pushover.net",
    },
];

/// Why an override value cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiBaseError {
    #[error("it is not an absolute URL (it should look like https://host/api)")]
    NotAUrl,
    #[error("only https:// (or http:// to this machine) can be used, not {0}://")]
    UnsupportedScheme(String),
    #[error(
        "plain http:// is allowed only to this machine (127.0.0.1, ::1, localhost), and {0} is not: use https:// or unset the variable"
    )]
    PlainHttpElsewhere(String),
    #[error("it has a user name or password before the host")]
    UserInfo,
    #[error("it has a query ('?…') or fragment ('#…'); give only the base, like https://host/api")]
    QueryOrFragment,
}

/// Checks one value; gives the base without a trailing `/`.
pub fn check(value: &str) -> Result<String, ApiBaseError> {
    let text = value.trim().trim_end_matches('/');
    let url = url::Url::parse(text).map_err(|_| ApiBaseError::NotAUrl)?;
    if url.cannot_be_a_base() {
        return Err(ApiBaseError::NotAUrl);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ApiBaseError::UserInfo);
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ApiBaseError::QueryOrFragment);
    }
    let host = url.host().ok_or(ApiBaseError::NotAUrl)?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback_host(&host) => {}
        "http" => return Err(ApiBaseError::PlainHttpElsewhere(host.to_string())),
        other => {
            return Err(ApiBaseError::UnsupportedScheme(
                other.chars().take(16).collect(),
            ));
        }
    }
    Ok(text.to_string())
}

/// An override in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiBaseOverride {
    pub var: &'static ApiBaseVar,
    /// The checked base, without a trailing `/`.
    pub base: String,
}

impl fmt::Display for ApiBaseOverride {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} traffic goes to {} ({})",
            self.var.label, self.base, self.var.env
        )
    }
}

/// A variable that is set but cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedApiBase {
    pub var: &'static ApiBaseVar,
    pub error: ApiBaseError,
}

impl fmt::Display for RefusedApiBase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} cannot be used: {}", self.var.env, self.error)
    }
}

/// What the override variables say, read once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiBases {
    pub in_force: Vec<ApiBaseOverride>,
    pub refused: Vec<RefusedApiBase>,
}

impl ApiBases {
    /// Reads every variable through `lookup` (the environment, or a test's
    /// map). An empty value counts as unset.
    pub fn read(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let mut bases = ApiBases::default();
        for var in API_BASE_VARS {
            let Some(value) = lookup(var.env).filter(|v| !v.trim().is_empty()) else {
                continue;
            };
            match check(&value) {
                Ok(base) => bases.in_force.push(ApiBaseOverride { var, base }),
                Err(error) => bases.refused.push(RefusedApiBase { var, error }),
            }
        }
        bases
    }

    /// Where `channel`'s traffic goes: the override in force, else the real
    /// service. A refused override is never used.
    pub fn base(&self, channel: &str) -> &str {
        self.in_force
            .iter()
            .find(|o| o.var.channel == channel)
            .map(|o| o.base.as_str())
            .or_else(|| {
                API_BASE_VARS
                    .iter()
                    .find(|v| v.channel == channel)
                    .map(|v| v.default)
            })
            .unwrap_or_default()
    }

    /// These bases with `channel`'s traffic sent to `base` (a stand-in),
    /// checked like the variable would be.
    pub fn with_override(mut self, channel: &str, base: &str) -> Result<Self, ApiBaseError> {
        let base = check(base)?;
        if let Some(var) = API_BASE_VARS.iter().find(|v| v.channel == channel) {
            self.in_force.retain(|o| o.var.channel != channel);
            self.in_force.push(ApiBaseOverride { var, base });
        }
        Ok(self)
    }

    /// The one line that says which overrides are in force, if any.
    pub fn note(&self) -> Option<String> {
        if self.in_force.is_empty() {
            return None;
        }
        let parts: Vec<String> = self.in_force.iter().map(|o| o.to_string()).collect();
        Some(parts.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn https_anywhere_and_plain_http_only_to_this_machine() {
        for ok in [
            "https://mock.example.com/api",
            "http://127.0.0.1:8080/api/",
            "http://127.5.6.7/api",
            "http://[::1]:9000/api",
            "http://LOCALHOST:1/x",
        ] {
            assert!(check(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            check(" http://127.0.0.1:8080/api/ ").unwrap(),
            "http://127.0.0.1:8080/api"
        );
        assert!(matches!(
            check("http://example.com/api"),
            Err(ApiBaseError::PlainHttpElsewhere(h)) if h == "example.com"
        ));
        assert!(matches!(
            check("http://10.0.0.1/api"),
            Err(ApiBaseError::PlainHttpElsewhere(_))
        ));
        assert!(matches!(
            check("http://localhost.evil.com/api"),
            Err(ApiBaseError::PlainHttpElsewhere(_))
        ));
        assert_eq!(check("127.0.0.1:8080/api"), Err(ApiBaseError::NotAUrl));
        assert_eq!(check("/api"), Err(ApiBaseError::NotAUrl));
        assert!(matches!(
            check("ftp://127.0.0.1/api"),
            Err(ApiBaseError::UnsupportedScheme(_))
        ));
        assert_eq!(
            check("https://u:p@mock.example.com/api"),
            Err(ApiBaseError::UserInfo)
        );
        assert_eq!(
            check("https://mock.example.com/api?x=1"),
            Err(ApiBaseError::QueryOrFragment)
        );
    }

    #[test]
    fn reads_every_variable_and_says_so_in_one_line() {
        let none = ApiBases::read(env(&[]));
        assert_eq!(none, ApiBases::default());
        assert_eq!(none.base("discord"), "https://discord.com/api");
        assert_eq!(none.note(), None);

        let two = ApiBases::read(env(&[
            ("FARMHOOK_DISCORD_API_BASE", "http://127.0.0.1:9/api"),
            ("FARMHOOK_SLACK_API_BASE", "https://slack.mock"),
            ("FARMHOOK_TELEGRAM_API_BASE", "  "),
        ]));
        assert_eq!(two.base("discord"), "http://127.0.0.1:9/api");
        assert_eq!(two.base("telegram"), "https://api.telegram.org");
        let note = two.note().unwrap();
        assert!(!note.contains('\n'));
        assert_eq!(
            note,
            "Discord traffic goes to http://127.0.0.1:9/api (FARMHOOK_DISCORD_API_BASE); \
             Slack traffic goes to https://slack.mock (FARMHOOK_SLACK_API_BASE)"
        );
    }

    #[test]
    fn a_refused_override_is_never_used() {
        let bad = ApiBases::read(env(&[(
            "FARMHOOK_DISCORD_API_BASE",
            "http://example.com/api",
        )]));
        assert_eq!(bad.base("discord"), "https://discord.com/api");
        assert_eq!(bad.note(), None);
        assert_eq!(bad.refused.len(), 1);
        let words = bad.refused[0].to_string();
        assert!(
            words.starts_with("FARMHOOK_DISCORD_API_BASE cannot be used: plain http://"),
            "{words}"
        );
        assert!(words.contains("example.com"), "{words}");
    }

    #[test]
    fn every_variable_is_named_once_and_its_default_passes_the_rule() {
        for (i, var) in API_BASE_VARS.iter().enumerate() {
            assert!(check(var.default).is_ok(), "{}", var.env);
            assert!(var.env.starts_with("FARMHOOK_") && var.env.ends_with("_API_BASE"));
            assert!(API_BASE_VARS[i + 1..].iter().all(|v| v.env != var.env));
        }
    }
}
