//! Discord's side of delivery: its message body, what its answers mean, its
//! rate-limit headers and 429 answers, and asking it which webhook a URL is
//! (Verify).

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use time::OffsetDateTime;

use super::http::{self, HttpAnswer};
use super::target::{Queueing, Sender, Target};
use crate::core::channels::discord::message::{
    MAX_EMBEDS_PER_MESSAGE, discord_message_with_summary,
};
use crate::core::channels::discord::url::{DEFAULT_API_BASE, DiscordWebhookUrl};
use crate::core::payload::Event;
use crate::core::redact::Scrubber;
use crate::core::settings::Channel;
use crate::core::summary::Summary;
use crate::engine::profile::SecretsView;

/// The execute-webhook body: one embed per event (and the summary of
/// events that could not be queued), within Discord's limits.
pub fn body(events: &[Event], summary: Option<&Summary>) -> Vec<u8> {
    serde_json::to_vec(&discord_message_with_summary(events, summary))
        .expect("JSON values serialize")
}

/// The webhook's URL as it may be shown (the token never is).
pub fn redacted(url: &DiscordWebhookUrl, api_base: &str) -> String {
    if api_base == DEFAULT_API_BASE {
        url.to_string()
    } else {
        format!(
            "{}/v10/webhooks/{}/••••••",
            api_base.trim_end_matches('/'),
            url.id()
        )
    }
}

/// Adds the webhook's secrets (its URL as sent to `api_base`, and its
/// token), for scrubbing answers that echo them.
pub fn add_secrets(scrub: &mut Scrubber, url: &DiscordWebhookUrl, api_base: &str) {
    scrub.add(&url.expose_api_url(api_base), &redacted(url, api_base));
    scrub.add(url.expose_token(), "••••••");
}

/// What Discord means by its answers, in words.
pub fn answer_words(answer: &HttpAnswer) -> Option<String> {
    match answer.status {
        404 => Some(
            "the Discord webhook was deleted (404 Unknown Webhook): create a new one and paste its URL"
                .into(),
        ),
        401 => Some(
            "Discord does not accept this webhook's token (401): copy the URL from Discord again"
                .into(),
        ),
        429 => Some(format!(
            "Discord rate limit (429): asked to wait {:.2} s",
            error_body(answer)
                .retry_after
                .filter(|s| s.is_finite())
                .unwrap_or(0.0)
        )),
        400 => Some(format!(
            "Discord refused the message (400){}",
            error_body(answer)
                .message
                .map(|m| format!(": {m}"))
                .unwrap_or_default()
        )),
        _ => None,
    }
}

/// Answers after which sending again cannot work until the user acts.
pub fn pause_reason(answer: &HttpAnswer) -> Option<String> {
    match answer.status {
        404 => Some(
            "the Discord webhook was deleted: paste a new webhook URL, then press Resume".into(),
        ),
        401 => Some(
            "Discord rejects this webhook's token: paste the URL again, then press Resume".into(),
        ),
        _ => None,
    }
}

/// Discord's sender: one webhook, reached at `api_base`.
#[derive(Debug, Clone)]
pub struct DiscordTarget {
    pub url: DiscordWebhookUrl,
    /// `https://discord.com/api`, or a stand-in's.
    pub api_base: String,
}

/// Discord's target from the profile's secrets (the registration in
/// `target::build`).
pub fn target(secrets: &SecretsView, api_base: &str) -> Result<Target, String> {
    let url = secrets
        .discord_url()
        .ok_or_else(|| "no Discord webhook URL is saved yet".to_string())?;
    Ok(Target::new(DiscordTarget {
        url,
        api_base: api_base.to_string(),
    }))
}

impl Sender for DiscordTarget {
    fn channel(&self) -> Channel {
        Channel::Discord
    }

    fn add_secrets(&self, scrub: &mut Scrubber) {
        add_secrets(scrub, &self.url, &self.api_base);
    }

    fn redacted(&self) -> String {
        redacted(&self.url, &self.api_base)
    }

    /// Discord takes 5 messages per 2 s per webhook, of at most 10 embeds:
    /// its headers pace the queue.
    fn queueing(&self) -> Queueing {
        Queueing::Batched {
            key: format!("discord:{}", self.url.id()),
            max_events: MAX_EMBEDS_PER_MESSAGE,
            min_gap: Duration::ZERO,
        }
    }

    fn body(&self, events: &[Event], summary: Option<&Summary>) -> Vec<u8> {
        body(events, summary)
    }

    fn request(
        &self,
        client: &http::HttpClient,
        _events: &[Event],
        _body: &[u8],
        _at: OffsetDateTime,
        _shown: &mut Vec<super::log::LoggedHeader>,
    ) -> reqwest::RequestBuilder {
        client.post(&self.url.expose_api_url(&self.api_base))
    }

    fn answer_words(&self, answer: &HttpAnswer) -> Option<String> {
        answer_words(answer)
    }

    fn pause_reason(&self, answer: &HttpAnswer) -> Option<String> {
        pause_reason(answer)
    }

    fn asked_wait(&self, answer: &HttpAnswer) -> Option<f64> {
        (answer.status == 429)
            .then(|| error_body(answer).retry_after)
            .flatten()
    }

    fn observe(&self, answer: &HttpAnswer, pace: &mut RateLimitState, now: Instant, max: Duration) {
        pace.observe(answer, now, max);
    }
}

/// Discord's "Unknown Webhook" error code: the webhook was deleted.
pub const UNKNOWN_WEBHOOK_CODE: u64 = 10015;
/// Discord's "Invalid Webhook Token" error code.
pub const INVALID_TOKEN_CODE: u64 = 50027;

/// What Discord's rate-limit headers said last, for one webhook.
#[derive(Debug, Default, Clone)]
pub struct RateLimitState {
    /// No request should go out before this instant.
    blocked_until: Option<Instant>,
}

impl RateLimitState {
    /// Reads `X-RateLimit-Remaining` and `X-RateLimit-Reset-After` (seconds,
    /// float) from an answer. `max_wait` bounds a silly value.
    pub fn observe(&mut self, answer: &HttpAnswer, now: Instant, max_wait: Duration) {
        let remaining = answer
            .header("x-ratelimit-remaining")
            .and_then(|v| v.trim().parse::<f64>().ok());
        let reset_after = answer
            .header("x-ratelimit-reset-after")
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(|s| {
                Duration::try_from_secs_f64(s)
                    .unwrap_or(max_wait)
                    .min(max_wait)
            });
        match (remaining, reset_after) {
            (Some(r), Some(after)) if r <= 0.0 => self.blocked_until = Some(now + after),
            (Some(_), _) => self.blocked_until = None,
            _ => {}
        }
    }

    /// Blocks sending for `wait` from `now` (after a 429).
    pub fn block_for(&mut self, now: Instant, wait: Duration) {
        let until = now + wait;
        if self.blocked_until.is_none_or(|b| b < until) {
            self.blocked_until = Some(until);
        }
    }

    /// How long to wait before the next request.
    pub fn wait_needed(&self, now: Instant) -> Duration {
        self.blocked_until
            .map(|until| until.saturating_duration_since(now))
            .unwrap_or_default()
    }
}

/// The JSON Discord sends with an error or a 429.
#[derive(Debug, Default, Deserialize)]
pub struct DiscordErrorBody {
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub code: Option<u64>,
    /// Seconds, as a float (v10).
    #[serde(default)]
    pub retry_after: Option<f64>,
    #[serde(default)]
    pub global: Option<bool>,
}

pub fn error_body(answer: &HttpAnswer) -> DiscordErrorBody {
    serde_json::from_slice(&answer.body).unwrap_or_default()
}

/// The webhook a URL points at, as Discord describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookInfo {
    pub name: String,
    pub channel_id: String,
    pub guild_id: Option<String>,
}

/// Why Verify could not say which webhook it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error(
        "this webhook was deleted in Discord (404 Unknown Webhook): create a new one and paste its URL"
    )]
    Deleted,
    #[error("Discord does not accept this webhook's token (401): copy the URL from Discord again")]
    BadToken,
    #[error("Discord answered {0}: {1}")]
    Unexpected(u16, String),
    #[error("{0}")]
    Network(String),
}

/// Asks Discord which webhook the URL is (GET, no message is posted).
pub async fn verify(
    client: &http::HttpClient,
    url: &DiscordWebhookUrl,
    api_base: &str,
    config: &http::HttpConfig,
) -> Result<WebhookInfo, VerifyError> {
    let request = client.get(&url.expose_api_url(api_base));
    let answer = http::send(request, config.body_cap, config.total_timeout)
        .await
        .map_err(|f| VerifyError::Network(f.words))?;
    let body = error_body(&answer);
    match answer.status {
        200 => {
            #[derive(Deserialize)]
            struct Raw {
                name: Option<String>,
                channel_id: Option<String>,
                guild_id: Option<String>,
            }
            let raw: Raw = serde_json::from_slice(&answer.body).map_err(|_| {
                VerifyError::Unexpected(200, "the answer was not the webhook's description".into())
            })?;
            Ok(WebhookInfo {
                name: raw.name.unwrap_or_else(|| "(no name)".into()),
                channel_id: raw.channel_id.unwrap_or_default(),
                guild_id: raw.guild_id,
            })
        }
        404 if body.code == Some(UNKNOWN_WEBHOOK_CODE) || body.code.is_none() => {
            Err(VerifyError::Deleted)
        }
        401 => Err(VerifyError::BadToken),
        status => {
            // Discord's words, minus the token should they echo it.
            let mut scrub = crate::core::redact::Scrubber::default();
            scrub.add(&url.expose_api_url(api_base), &url.to_string());
            scrub.add(url.expose_token(), "••••••");
            let message = body.message.unwrap_or_else(|| "no explanation".into());
            Err(VerifyError::Unexpected(
                status,
                scrub.scrub(&message).into_owned(),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(headers: &[(&str, &str)]) -> HttpAnswer {
        HttpAnswer {
            status: 204,
            headers: headers
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            body: Default::default(),
            truncated: false,
            latency: Duration::ZERO,
        }
    }

    #[test]
    fn an_empty_bucket_blocks_until_reset_after() {
        let now = Instant::now();
        let mut s = RateLimitState::default();
        s.observe(
            &answer(&[
                ("X-RateLimit-Remaining", "1"),
                ("X-RateLimit-Reset-After", "1.5"),
            ]),
            now,
            Duration::from_secs(60),
        );
        assert_eq!(s.wait_needed(now), Duration::ZERO);
        s.observe(
            &answer(&[
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset-after", "1.5"),
            ]),
            now,
            Duration::from_secs(60),
        );
        assert_eq!(s.wait_needed(now), Duration::from_millis(1500));
        assert_eq!(s.wait_needed(now + Duration::from_secs(2)), Duration::ZERO);
    }

    #[test]
    fn silly_header_values_are_bounded() {
        let now = Instant::now();
        let mut s = RateLimitState::default();
        for bad in ["NaN", "-4", "inf", "abc"] {
            s.observe(
                &answer(&[
                    ("x-ratelimit-remaining", "0"),
                    ("x-ratelimit-reset-after", bad),
                ]),
                now,
                Duration::from_secs(60),
            );
            assert_eq!(s.wait_needed(now), Duration::ZERO, "{bad}");
        }
        s.observe(
            &answer(&[
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset-after", "1e12"),
            ]),
            now,
            Duration::from_secs(60),
        );
        assert_eq!(s.wait_needed(now), Duration::from_secs(60));
    }
}
