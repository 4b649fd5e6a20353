//! Where a delivery goes: one variant per channel, with the secrets it
//! needs. This is the one place channels are registered with the delivery
//! engine; each method hands over to the channel's own sender module
//! (`discord.rs`, `webhook.rs`), so `deliver.rs` knows no channel.

use time::OffsetDateTime;

use super::http::{self, HttpAnswer};
use super::{discord, webhook};
use crate::core::channels::discord::url::DiscordWebhookUrl;
use crate::core::channels::webhook::api_key::{ApiKey, SigningSecret};
use crate::core::channels::webhook::endpoint_url::EndpointUrl;
use crate::core::payload::Event;
use crate::core::redact::Scrubber;
use crate::core::settings::Channel;
use crate::core::summary::Summary;

/// Where a delivery goes, with the secrets it needs.
#[derive(Clone, Debug)]
pub enum Target {
    Discord {
        url: DiscordWebhookUrl,
        /// `https://discord.com/api`, or a stand-in's.
        api_base: String,
    },
    Webhook {
        url: EndpointUrl,
        key: ApiKey,
        signing: Option<SigningSecret>,
    },
}

impl Target {
    pub fn destination(&self) -> Channel {
        match self {
            Target::Discord { .. } => Channel::Discord,
            Target::Webhook { .. } => Channel::Webhook,
        }
    }

    /// This target's own secrets, for scrubbing answers that echo them.
    pub fn scrubber(&self) -> Scrubber {
        let mut scrub = Scrubber::default();
        match self {
            Target::Discord { url, api_base } => discord::add_secrets(&mut scrub, url, api_base),
            Target::Webhook { url, key, signing } => {
                webhook::add_secrets(&mut scrub, Some(url), Some(key), signing.as_ref())
            }
        }
        scrub
    }

    /// The URL as it may be shown.
    pub fn redacted(&self) -> String {
        match self {
            Target::Discord { url, api_base } => discord::redacted(url, api_base),
            Target::Webhook { url, .. } => url.redacted(),
        }
    }

    /// The request body for `events` (and a summary of events that could
    /// not be sent, where the channel can tell it).
    pub fn body(&self, events: &[Event], summary: Option<&Summary>) -> Vec<u8> {
        match self {
            Target::Discord { .. } => discord::body(events, summary),
            Target::Webhook { .. } => webhook::body(events),
        }
    }

    /// One attempt's request, before the body; the headers it adds are
    /// pushed to `shown` as they may be logged (secrets masked).
    pub fn request(
        &self,
        client: &http::HttpClient,
        events: &[Event],
        body: &[u8],
        at: OffsetDateTime,
        shown: &mut Vec<(String, String)>,
    ) -> reqwest::RequestBuilder {
        match self {
            Target::Discord { url, api_base } => client.post(&url.expose_api_url(api_base)),
            Target::Webhook { url, key, signing } => {
                webhook::request(client, url, key, signing.as_ref(), events, body, at, shown)
            }
        }
    }

    /// What this channel's service means by a non-2xx answer, in words,
    /// when it means something particular.
    pub fn answer_words(&self, answer: &HttpAnswer) -> Option<String> {
        match self {
            Target::Discord { .. } => discord::answer_words(answer),
            Target::Webhook { .. } => webhook::answer_words(answer),
        }
    }

    /// Answers after which sending again cannot work until the user acts.
    pub fn pause_reason(&self, answer: &HttpAnswer) -> Option<String> {
        match self {
            Target::Discord { .. } => discord::pause_reason(answer),
            Target::Webhook { .. } => None,
        }
    }

    /// How long the service asked to wait, from its answer's body (the
    /// `Retry-After` header is read for every channel).
    pub fn asked_wait(&self, answer: &HttpAnswer) -> Option<f64> {
        match self {
            Target::Discord { .. } if answer.status == 429 => {
                discord::error_body(answer).retry_after
            }
            _ => None,
        }
    }
}
