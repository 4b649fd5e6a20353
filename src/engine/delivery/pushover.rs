//! Pushover's side of delivery: one notification per batch to
//! `messages.json` (token and user key in the body, scrubbed from the log),
//! priority by severity, the monthly quota read from its headers, and
//! Verify through `users/validate.json`.

use std::time::{Duration, Instant};

use time::OffsetDateTime;

use super::chat::parts;
use super::discord::RateLimitState;
use super::http::{self, HttpAnswer, HttpConfig};
use super::target::{Queueing, Sender, Target};
use crate::core::channels::pushover::{self, AppToken, UserKey};
use crate::core::payload::Event;
use crate::core::redact::Scrubber;
use crate::core::settings::Channel;
use crate::core::summary::Summary;
use crate::engine::profile::SecretsView;
use crate::engine::verify::Facts;

/// A burst within a second goes out as one notification: a phone buzzing
/// fifty times helps nobody.
pub const MIN_GAP: Duration = Duration::from_secs(1);

/// Pushover's sender: one application posting to one user (or group).
#[derive(Debug, Clone)]
pub struct PushoverTarget {
    pub token: AppToken,
    pub user: UserKey,
    /// `https://api.pushover.net`, or a stand-in's.
    pub api_base: String,
}

fn keys(secrets: &SecretsView) -> Result<(AppToken, UserKey), String> {
    let missing = || pushover::SPEC.not_set_up.to_string();
    let token = secrets
        .parsed(&pushover::TOKEN_SECRET, AppToken::parse)
        .ok_or_else(missing)?;
    let user = secrets
        .parsed(&pushover::USER_SECRET, UserKey::parse)
        .ok_or_else(missing)?;
    Ok((token, user))
}

/// Pushover's target (the registration in `target::build`).
pub fn target(secrets: &SecretsView, api_base: &str) -> Result<Target, String> {
    let (token, user) = keys(secrets)?;
    Ok(Target::new(PushoverTarget {
        token,
        user,
        api_base: api_base.to_string(),
    }))
}

impl Sender for PushoverTarget {
    fn channel(&self) -> Channel {
        Channel::Pushover
    }

    fn add_secrets(&self, scrub: &mut Scrubber) {
        pushover::add_secrets(scrub, &self.token, &self.user);
    }

    /// Shown in the window's delivery detail: plain words, as its font has
    /// no arrow.
    fn redacted(&self) -> String {
        format!(
            "{} for user {}",
            pushover::messages_url(&self.api_base),
            self.user.redacted()
        )
    }

    fn queueing(&self) -> Queueing {
        Queueing::Batched {
            key: format!(
                "pushover:{}:{}",
                self.token.expose_token(),
                self.user.expose_key()
            ),
            max_events: pushover::MAX_EVENTS_PER_MESSAGE,
            min_gap: MIN_GAP,
        }
    }

    fn body(&self, events: &[Event], summary: Option<&Summary>) -> Vec<u8> {
        serde_json::to_vec(&pushover::message(events, summary, &self.token, &self.user))
            .unwrap_or_default()
    }

    fn request(
        &self,
        client: &http::HttpClient,
        _events: &[Event],
        _body: &[u8],
        _at: OffsetDateTime,
        _shown: &mut Vec<super::log::LoggedHeader>,
    ) -> reqwest::RequestBuilder {
        client
            .post(&pushover::messages_url(&self.api_base))
            .header("content-type", "application/json")
    }

    fn answer_words(&self, answer: &HttpAnswer) -> Option<String> {
        let (status, headers, body) = parts(answer);
        pushover::answer_words(status, headers, body)
    }

    fn pause_reason(&self, answer: &HttpAnswer) -> Option<String> {
        let (status, headers, body) = parts(answer);
        pushover::pause_reason(status, headers, body)
    }

    fn asked_wait(&self, answer: &HttpAnswer) -> Option<f64> {
        let (status, headers, body) = parts(answer);
        pushover::asked_wait(status, headers, body)
    }

    fn refused_despite_success(&self, answer: &HttpAnswer) -> Option<String> {
        pushover::refused_despite_success(answer.status, &answer.body)
    }

    /// A delivered message that used the month's last one holds the queue
    /// until the quota resets (bounded), instead of being refused.
    fn observe(&self, answer: &HttpAnswer, pace: &mut RateLimitState, now: Instant, max: Duration) {
        if !(200..300).contains(&answer.status) {
            return;
        }
        let (status, headers, body) = parts(answer);
        if let Some(wait) = pushover::asked_wait(status, headers, body)
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
        {
            pace.block_for(now, wait.min(max));
        }
    }
}

/// Verify: whether Pushover knows the user key for this application, and
/// the user's devices (nothing is sent to them).
pub async fn verify(
    client: &http::HttpClient,
    config: &HttpConfig,
    api_base: &str,
    secrets: &SecretsView,
) -> Result<Facts, String> {
    let (token, user) = keys(secrets)?;
    let mut scrub = Scrubber::default();
    pushover::add_secrets(&mut scrub, &token, &user);
    let request = client
        .post(&pushover::validate_url(api_base))
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&pushover::validate_body(&token, &user)).unwrap_or_default());
    let answer = http::send(request, config.body_cap, config.total_timeout)
        .await
        .map_err(|f| scrub.scrub(&f.words).into_owned())?;
    let validated = pushover::parse_validate(answer.status, &answer.body)
        .map_err(|e| scrub.scrub(&e).into_owned())?;
    let mut facts = vec![("user", user.redacted()), ("is", validated.words())];
    if let Some(quota) = pushover::quota(&answer.headers) {
        facts.push(("quota", quota.words()));
    }
    Ok(Facts {
        sentence: format!("user {} is {}", user.redacted(), validated.words()),
        facts,
    })
}
