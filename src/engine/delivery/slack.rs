//! Slack's side of delivery: its Block Kit message (`core::channels::slack`)
//! posted to the incoming webhook, batched at about one message a second,
//! and what Slack's plain-text answers mean.

use std::time::Duration;

use time::OffsetDateTime;

use super::chat::parts;
use super::http::{self, HttpAnswer};
use super::target::{Queueing, Sender, Target};
use crate::core::channels::slack::{self, SlackWebhookUrl};
use crate::core::payload::Event;
use crate::core::redact::Scrubber;
use crate::core::settings::Channel;
use crate::core::summary::Summary;
use crate::engine::profile::SecretsView;

/// Slack takes about one message per second per webhook (short bursts
/// allowed): a burst waits that long and goes out as one message.
pub const MIN_GAP: Duration = Duration::from_secs(1);

/// Slack's sender: one incoming webhook, reached at `api_base`.
#[derive(Debug, Clone)]
pub struct SlackTarget {
    pub url: SlackWebhookUrl,
    /// `https://hooks.slack.com`, or a stand-in's.
    pub api_base: String,
}

/// Slack's target from the profile's secrets (the registration in
/// `target::build`).
pub fn target(secrets: &SecretsView, api_base: &str) -> Result<Target, String> {
    let url = secrets
        .parsed(&slack::URL_SECRET, SlackWebhookUrl::parse)
        .ok_or_else(|| slack::SPEC.not_set_up.to_string())?;
    Ok(Target::new(SlackTarget {
        url,
        api_base: api_base.to_string(),
    }))
}

impl Sender for SlackTarget {
    fn channel(&self) -> Channel {
        Channel::Slack
    }

    fn add_secrets(&self, scrub: &mut Scrubber) {
        slack::add_secrets(scrub, &self.url, &self.api_base);
    }

    fn redacted(&self) -> String {
        if self.api_base == slack::DEFAULT_API_BASE {
            self.url.redacted()
        } else {
            self.url.redacted_api_url(&self.api_base)
        }
    }

    fn queueing(&self) -> Queueing {
        Queueing::Batched {
            key: format!("slack:{}/{}", self.url.team_id(), self.url.webhook_id()),
            max_events: slack::MAX_EVENTS_PER_MESSAGE,
            min_gap: MIN_GAP,
        }
    }

    fn body(&self, events: &[Event], summary: Option<&Summary>) -> Vec<u8> {
        serde_json::to_vec(&slack::message(events, summary)).unwrap_or_default()
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
        let (status, headers, body) = parts(answer);
        slack::answer_words(status, headers, body)
    }

    fn pause_reason(&self, answer: &HttpAnswer) -> Option<String> {
        let (status, headers, body) = parts(answer);
        slack::pause_reason(status, headers, body)
    }

    fn asked_wait(&self, answer: &HttpAnswer) -> Option<f64> {
        let (status, headers, body) = parts(answer);
        slack::asked_wait(status, headers, body)
    }

    fn refused_despite_success(&self, answer: &HttpAnswer) -> Option<String> {
        slack::refused_despite_success(answer.status, &answer.body)
    }
}
