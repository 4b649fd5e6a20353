//! The Slack incoming-webhook URL a user pastes: parsed once, redacted
//! everywhere. Its last path segment is the secret; the team (`T…`) and
//! webhook (`B…`) ids before it are not.

use std::fmt;
use std::str::FromStr;

use crate::core::input::{PastedUrlError, parse_pasted_url};

/// The only host Slack serves incoming webhooks from.
const SLACK_HOOKS_HOST: &str = "hooks.slack.com";
/// Hosts of Discord webhooks, recognised to point the user to the right channel.
const DISCORD_HOSTS: &[&str] = &[
    "discord.com",
    "ptb.discord.com",
    "canary.discord.com",
    "discordapp.com",
    "ptb.discordapp.com",
    "canary.discordapp.com",
];

/// Longest input we look at; real webhook URLs are about 80 characters.
const MAX_URL_LEN: usize = 512;
/// Team and webhook ids are a letter and 8 to 11 more today; leave room.
const MAX_ID_LEN: usize = 32;
/// Real secrets are 24 characters; shorter ones are a partial copy.
const MIN_SECRET_LEN: usize = 16;
/// Leave room for Slack to lengthen its secrets.
const MAX_SECRET_LEN: usize = 64;

/// What is shown in place of the secret.
const MASK: &str = "••••••";

/// Slack's host for incoming webhooks; `FARMHOOK_SLACK_API_BASE` replaces it.
pub const DEFAULT_API_BASE: &str = "https://hooks.slack.com";

/// Why a pasted text is not a Slack incoming-webhook URL. The messages never
/// repeat the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlackUrlError {
    #[error(
        "the URL is empty: in Slack, open your app's Incoming Webhooks page and press Copy next to the webhook URL"
    )]
    Empty,
    #[error("the URL is too long ({0} characters); a Slack webhook URL is about 80")]
    TooLong(usize),
    #[error("the URL has a space, tab or line break inside it: paste it again as one piece")]
    InnerWhitespace,
    #[error(
        "this is not a URL: a Slack webhook URL looks like https://hooks.slack.com/services/T…/B…/…"
    )]
    NotAUrl,
    #[error("the URL must start with https:// (it starts with {0}://)")]
    NotHttps(String),
    #[error(
        "the URL has a user name or password before the host ('…@'): a Slack webhook URL never does"
    )]
    UserInfo,
    #[error(
        "this is a Discord webhook URL: paste it in the Discord channel; here farmhook needs a Slack URL (https://hooks.slack.com/services/…)"
    )]
    DiscordUrl,
    #[error(
        "the host is '{0}', not hooks.slack.com: copy the URL from your Slack app's Incoming Webhooks page"
    )]
    WrongHost(String),
    #[error("the URL names a port (:{0}); Slack webhook URLs have none")]
    Port(u16),
    #[error(
        "this is a Workflow Builder webhook (hooks.slack.com/{0}/…), which farmhook does not send to: create an incoming webhook in a Slack app and paste its URL (https://hooks.slack.com/services/…)"
    )]
    WorkflowWebhook(&'static str),
    #[error(
        "the path is not an incoming-webhook path: it should be /services/T…/B…/… (copy the whole URL)"
    )]
    NotWebhookPath,
    #[error("the team id is missing after /services/: copy the whole URL")]
    MissingTeamId,
    #[error(
        "the team id (after /services/) should be a T followed by capital letters and digits: copy the URL again"
    )]
    BadTeamId,
    #[error("the webhook id is missing after the team id: copy the whole URL")]
    MissingWebhookId,
    #[error(
        "the webhook id (after the team id) should be a B followed by capital letters and digits: copy the URL again"
    )]
    BadWebhookId,
    #[error("the secret is missing (the last part, after the B… id): copy the whole URL")]
    MissingSecret,
    #[error(
        "the secret (the last part) is {0} characters, shorter than Slack's 24: copy the whole URL"
    )]
    SecretTooShort(usize),
    #[error("the secret (the last part) is too long: copy the URL again")]
    SecretTooLong,
    #[error(
        "the secret (the last part) has a character Slack secrets never contain (only letters and digits): copy the URL again"
    )]
    BadSecret,
    #[error(
        "there is more after the secret ({0} more characters): copy the URL again, ending with the secret"
    )]
    ExtraPath(usize),
    #[error("the URL has a query ('?…') or fragment ('#…'): remove everything from '?' or '#'")]
    QueryOrFragment,
}

impl From<PastedUrlError> for SlackUrlError {
    fn from(e: PastedUrlError) -> Self {
        match e {
            PastedUrlError::Empty => SlackUrlError::Empty,
            PastedUrlError::TooLong(n) => SlackUrlError::TooLong(n),
            PastedUrlError::InnerWhitespace => SlackUrlError::InnerWhitespace,
            PastedUrlError::NotAUrl => SlackUrlError::NotAUrl,
        }
    }
}

/// A valid Slack incoming webhook: team id, webhook id and secret.
/// `Display` and `Debug` hide the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct SlackWebhookUrl {
    team_id: String,
    webhook_id: String,
    secret: String,
}

impl SlackWebhookUrl {
    /// Parses what a user pasted. Surrounding whitespace is ignored.
    pub fn parse(input: &str) -> Result<Self, SlackUrlError> {
        use SlackUrlError as E;
        let url = parse_pasted_url(input, MAX_URL_LEN)?;
        if !url.has_host() {
            return Err(E::NotAUrl);
        }
        let host = match url.host() {
            Some(url::Host::Domain(d)) => d.to_string(),
            Some(other) => other.to_string(),
            None => return Err(E::NotAUrl),
        };
        // A Discord URL is the likeliest wrong paste; say where it belongs
        // before anything else about it.
        if DISCORD_HOSTS.contains(&host.as_str()) {
            return Err(E::DiscordUrl);
        }
        if url.scheme() != "https" {
            return Err(E::NotHttps(url.scheme().chars().take(16).collect()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(E::UserInfo);
        }
        if host != SLACK_HOOKS_HOST {
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
        let rest = match segments.as_slice() {
            ["services", rest @ ..] => rest,
            ["workflows", ..] => return Err(E::WorkflowWebhook("workflows")),
            ["triggers", ..] => return Err(E::WorkflowWebhook("triggers")),
            _ => return Err(E::NotWebhookPath),
        };
        let (team_id, webhook_id, secret, extra) = match rest {
            [] => return Err(E::MissingTeamId),
            [team] => {
                check_id(team, 'T', E::MissingTeamId, E::BadTeamId)?;
                return Err(E::MissingWebhookId);
            }
            [team, hook] => {
                check_id(team, 'T', E::MissingTeamId, E::BadTeamId)?;
                check_id(hook, 'B', E::MissingWebhookId, E::BadWebhookId)?;
                return Err(E::MissingSecret);
            }
            [team, hook, secret, extra @ ..] => (*team, *hook, *secret, extra),
        };
        check_id(team_id, 'T', E::MissingTeamId, E::BadTeamId)?;
        check_id(webhook_id, 'B', E::MissingWebhookId, E::BadWebhookId)?;
        if secret.is_empty() {
            return Err(E::MissingSecret);
        }
        if secret.len() > MAX_SECRET_LEN {
            return Err(E::SecretTooLong);
        }
        if !secret.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(E::BadSecret);
        }
        if secret.len() < MIN_SECRET_LEN {
            return Err(E::SecretTooShort(secret.len()));
        }
        if !extra.is_empty() {
            // Not echoed: it may be the secret pasted twice.
            let extra = extra.join("/");
            return Err(E::ExtraPath(extra.chars().count() + 1));
        }
        Ok(SlackWebhookUrl {
            team_id: team_id.to_string(),
            webhook_id: webhook_id.to_string(),
            secret: secret.to_string(),
        })
    }

    /// The workspace's id, `T…` (not secret: Slack shows it in URLs).
    pub fn team_id(&self) -> &str {
        &self.team_id
    }

    /// The webhook's id, `B…` (not secret).
    pub fn webhook_id(&self) -> &str {
        &self.webhook_id
    }

    /// The URL as it may be shown: `https://hooks.slack.com/services/T…/B…/••••••`.
    pub fn redacted(&self) -> String {
        self.redacted_api_url(DEFAULT_API_BASE)
    }

    /// Where the messages go, as it may be shown, for `api_base` (the real
    /// host unless a stand-in is set).
    pub fn redacted_api_url(&self, api_base: &str) -> String {
        format!(
            "{}/services/{}/{}/{MASK}",
            api_base.trim_end_matches('/'),
            self.team_id,
            self.webhook_id
        )
    }

    /// Where the messages are posted, secret included, for the sender only:
    /// `https://hooks.slack.com` replaced by `api_base` (the real host unless
    /// `FARMHOOK_SLACK_API_BASE` is set).
    pub fn expose_api_url(&self, api_base: &str) -> String {
        format!(
            "{}/services/{}/{}/{}",
            api_base.trim_end_matches('/'),
            self.team_id,
            self.webhook_id,
            self.secret
        )
    }

    /// The canonical URL with the secret, as stored in the keyring.
    pub fn expose_url(&self) -> String {
        self.expose_api_url(DEFAULT_API_BASE)
    }

    /// The secret segment itself, for scrubbing it out of any text.
    pub fn expose_secret(&self) -> &str {
        &self.secret
    }
}

/// Checks a `T…` or `B…` id: the letter, then capitals and digits.
fn check_id(
    id: &str,
    letter: char,
    missing: SlackUrlError,
    bad: SlackUrlError,
) -> Result<(), SlackUrlError> {
    if id.is_empty() {
        return Err(missing);
    }
    let mut chars = id.chars();
    let well_formed = chars.next() == Some(letter)
        && id.len() >= 2
        && id.len() <= MAX_ID_LEN
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if well_formed { Ok(()) } else { Err(bad) }
}

impl FromStr for SlackWebhookUrl {
    type Err = SlackUrlError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for SlackWebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for SlackWebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SlackWebhookUrl({})", self.redacted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "q8Zr3XkT0vLm5NwB2yHc7JdA";
    const URL: &str =
        "https://hooks.slack.com/services/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";

    fn url(s: &str) -> Result<SlackWebhookUrl, SlackUrlError> {
        SlackWebhookUrl::parse(s)
    }

    #[test]
    fn accepts_the_url_slack_hands_out_with_blanks_and_a_trailing_slash() {
        for input in [
            URL.to_string(),
            format!("  {URL}/ \n"),
            URL.replace("hooks.slack.com", "HOOKS.Slack.com"),
        ] {
            let u = url(&input).expect(&input);
            assert_eq!(u.team_id(), "T024BE7LD");
            assert_eq!(u.webhook_id(), "B08ABCD1EFG");
            assert_eq!(u.expose_secret(), SECRET);
            assert_eq!(u.expose_url(), URL);
        }
        assert_eq!(URL.parse::<SlackWebhookUrl>(), url(URL));
    }

    #[test]
    fn says_which_part_is_wrong() {
        use SlackUrlError as E;
        let base = "https://hooks.slack.com/services";
        assert_eq!(url(" \t"), Err(E::Empty));
        assert_eq!(url("hello"), Err(E::NotAUrl));
        assert_eq!(
            url(&URL.replace("https", "http")),
            Err(E::NotHttps("http".into()))
        );
        assert_eq!(url(&format!("{base}/")), Err(E::MissingTeamId));
        assert_eq!(url(&format!("{base}/T024BE7LD")), Err(E::MissingWebhookId));
        assert_eq!(
            url(&format!("{base}/T024BE7LD/B08ABCD1EFG")),
            Err(E::MissingSecret)
        );
        assert_eq!(
            url(&format!("{base}/T024BE7LD/B08ABCD1EFG/")),
            Err(E::MissingSecret)
        );
        assert_eq!(
            url(&format!("{base}/t024be7ld/B08ABCD1EFG/{SECRET}")),
            Err(E::BadTeamId)
        );
        assert_eq!(
            url(&format!("{base}/B024BE7LD/B08ABCD1EFG/{SECRET}")),
            Err(E::BadTeamId)
        );
        assert_eq!(
            url(&format!("{base}/T024BE7LD/X08ABCD1EFG/{SECRET}")),
            Err(E::BadWebhookId)
        );
        assert_eq!(
            url(&format!("{base}/T024BE7LD/B08ABCD1EFG/abc123")),
            Err(E::SecretTooShort(6))
        );
        assert_eq!(
            url(&format!("{base}/T024BE7LD/B08ABCD1EFG/{}", "a".repeat(65))),
            Err(E::SecretTooLong)
        );
        assert_eq!(
            url(&format!("{base}/T024BE7LD/B08ABCD1EFG/{SECRET}-x")),
            Err(E::BadSecret)
        );
        assert_eq!(url(&format!("{URL}/more")), Err(E::ExtraPath(5)));
        assert_eq!(url(&format!("{URL}?x=1")), Err(E::QueryOrFragment));
        assert_eq!(url(&format!("{URL}#top")), Err(E::QueryOrFragment));
        assert_eq!(url(&URL.replace(".com/", ".com:8443/")), Err(E::Port(8443)));
        assert_eq!(url(&URL.replace("T024", "T0 24")), Err(E::InnerWhitespace));
        assert_eq!(url("https://hooks.slack.com/api/x"), Err(E::NotWebhookPath));
        assert_eq!(
            url(&format!("https://{}", "a".repeat(600))),
            Err(E::TooLong(608))
        );
    }

    #[test]
    fn points_other_services_and_workflow_webhooks_elsewhere() {
        use SlackUrlError as E;
        let discord = "https://discord.com/api/webhooks/123/abcdefghijklmnopqrstuvwxyz";
        assert_eq!(url(discord), Err(E::DiscordUrl));
        assert!(E::DiscordUrl.to_string().contains("Discord channel"));
        let workflow = "https://hooks.slack.com/workflows/T024BE7LD/A05/1234/abcdefghijklmnop";
        assert_eq!(url(workflow), Err(E::WorkflowWebhook("workflows")));
        assert!(
            url(workflow)
                .unwrap_err()
                .to_string()
                .contains("Workflow Builder")
        );
        let trigger = "https://hooks.slack.com/triggers/T024BE7LD/1234/abcdefghijklmnop";
        assert_eq!(url(trigger), Err(E::WorkflowWebhook("triggers")));
        for (input, words) in [
            (
                URL.replace("hooks.slack.com", "hooks.slack.com.evil.tld"),
                "host",
            ),
            (URL.replace("hooks.slack.com", "slack.com"), "host"),
            (URL.replace("hooks.slack.com", "1.2.3.4"), "host"),
            (
                URL.replace("https://", "https://hooks.slack.com@"),
                "user name",
            ),
            (URL.replace("https://", "https://u:p@"), "user name"),
        ] {
            let err = url(&input).unwrap_err().to_string();
            assert!(err.contains(words), "{input}: {err}");
            assert!(!err.contains(SECRET), "error repeats the secret: {err}");
        }
    }

    #[test]
    fn no_error_repeats_the_secret() {
        let base = "https://hooks.slack.com/services/T024BE7LD/B08ABCD1EFG";
        for input in [
            format!("{base}/{SECRET}-x"),
            format!("{base}/{SECRET}/{SECRET}"),
            format!("{base}/{SECRET}?{SECRET}"),
            format!("http://hooks.slack.com/services/T1/B1/{SECRET}"),
        ] {
            let err = url(&input).unwrap_err().to_string();
            assert!(!err.contains(&SECRET[..10]), "{input}: {err}");
        }
    }

    #[test]
    fn display_debug_and_redacted_hide_the_secret_but_keep_the_ids() {
        let u = url(URL).unwrap();
        assert_eq!(
            u.redacted(),
            "https://hooks.slack.com/services/T024BE7LD/B08ABCD1EFG/••••••"
        );
        for shown in [u.to_string(), format!("{u:?}"), u.redacted()] {
            assert!(!shown.contains(&SECRET[..6]), "{shown}");
            assert!(shown.contains("/T024BE7LD/B08ABCD1EFG/"), "{shown}");
        }
    }

    #[test]
    fn an_api_base_replaces_the_host_for_a_stand_in() {
        let u = url(URL).unwrap();
        assert_eq!(
            u.expose_api_url("http://127.0.0.1:9/"),
            format!("http://127.0.0.1:9/services/T024BE7LD/B08ABCD1EFG/{SECRET}")
        );
        assert_eq!(
            u.redacted_api_url("http://127.0.0.1:9"),
            "http://127.0.0.1:9/services/T024BE7LD/B08ABCD1EFG/••••••"
        );
    }

    proptest::proptest! {
        #[test]
        fn no_input_panics(s in "\\PC*") {
            let _ = SlackWebhookUrl::parse(&s);
        }

        #[test]
        fn no_url_shaped_input_panics(
            s in "https?://(hooks\\.slack\\.com|discord\\.com|[a-z@:.]{0,20})/(services|workflows|x)/[A-Za-z0-9/_%?#@:.-]{0,80}"
        ) {
            let _ = SlackWebhookUrl::parse(&s);
        }
    }
}
