//! The custom webhook's side of delivery: its body (payload schema v1),
//! its headers (`X-API-Key`, Standard Webhooks id, timestamp and
//! signature), and what its answers mean.

use std::borrow::Cow;

use reqwest::header::HeaderName;
use time::OffsetDateTime;

use super::http::{self, HttpAnswer};
use super::log::LoggedHeader;
use super::target::{Queueing, Sender, Target};
use crate::core::channels::webhook::api_key::{ApiKey, SigningSecret};
use crate::core::channels::webhook::endpoint_url::EndpointUrl;
use crate::core::payload::Event;
use crate::core::redact::Scrubber;
use crate::core::settings::{Channel, ChannelSettings};
use crate::engine::profile::SecretsView;

/// The custom webhook's sender: the endpoint, its key, and the signing
/// secret while signing is on.
#[derive(Debug, Clone)]
pub struct WebhookTarget {
    pub url: EndpointUrl,
    pub key: ApiKey,
    pub signing: Option<SigningSecret>,
}

/// The custom webhook's target from its settings and the profile's
/// secrets (the registration in `target::build`).
pub fn target(settings: &ChannelSettings, secrets: &SecretsView) -> Result<Target, String> {
    let missing = |what: &str| format!("the custom webhook has no {what} yet");
    let url = secrets.endpoint().ok_or_else(|| missing("endpoint URL"))?;
    let key = secrets.api_key().ok_or_else(|| missing("API key"))?;
    let signing = if settings.signing {
        Some(
            secrets
                .signing_secret()
                .ok_or_else(|| missing("signing secret"))?,
        )
    } else {
        None
    };
    Ok(Target::new(WebhookTarget { url, key, signing }))
}

impl Sender for WebhookTarget {
    fn channel(&self) -> Channel {
        Channel::Webhook
    }

    fn add_secrets(&self, scrub: &mut Scrubber) {
        add_secrets(
            scrub,
            Some(&self.url),
            Some(&self.key),
            self.signing.as_ref(),
        );
    }

    fn redacted(&self) -> String {
        self.url.redacted()
    }

    fn queueing(&self) -> Queueing {
        Queueing::Parallel
    }

    fn body(&self, events: &[Event], _summary: Option<&crate::core::summary::Summary>) -> Vec<u8> {
        body(events)
    }

    fn request(
        &self,
        client: &http::HttpClient,
        events: &[Event],
        body: &[u8],
        at: OffsetDateTime,
        shown: &mut Vec<LoggedHeader>,
    ) -> reqwest::RequestBuilder {
        request(
            client,
            &self.url,
            &self.key,
            self.signing.as_ref(),
            events,
            body,
            at,
            shown,
        )
    }

    fn answer_words(&self, answer: &HttpAnswer) -> Option<String> {
        answer_words(answer)
    }
}

/// The JSON body: one event per delivery.
pub fn body(events: &[Event]) -> Vec<u8> {
    events.first().map(Event::to_json).unwrap_or_default()
}

// The contract's header names, made once rather than parsed per request.
const X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");
const WEBHOOK_ID: HeaderName = HeaderName::from_static("webhook-id");
const WEBHOOK_TIMESTAMP: HeaderName = HeaderName::from_static("webhook-timestamp");
const WEBHOOK_SIGNATURE: HeaderName = HeaderName::from_static("webhook-signature");

/// One attempt's request with the contract's headers; what they are, as
/// they may be logged, goes to `shown`.
#[allow(clippy::too_many_arguments)]
pub fn request(
    client: &http::HttpClient,
    url: &EndpointUrl,
    key: &ApiKey,
    signing: Option<&SigningSecret>,
    events: &[Event],
    body: &[u8],
    at: OffsetDateTime,
    shown: &mut Vec<LoggedHeader>,
) -> reqwest::RequestBuilder {
    let id = events.first().map(|e| e.id.as_str()).unwrap_or_default();
    let timestamp = at.unix_timestamp().to_string();
    let mut request = client
        .post_url(url.expose())
        .header(X_API_KEY, key.expose())
        .header(WEBHOOK_ID, id)
        .header(WEBHOOK_TIMESTAMP, &timestamp);
    let signature = signing.map(|secret| secret.sign(id, at.unix_timestamp(), body));
    if let Some(signature) = &signature {
        request = request.header(WEBHOOK_SIGNATURE, signature);
    }
    shown.push((Cow::Borrowed("x-api-key"), key.to_string().into()));
    shown.push((Cow::Borrowed("webhook-id"), id.to_string().into()));
    shown.push((Cow::Borrowed("webhook-timestamp"), timestamp.into()));
    if let Some(signature) = signature {
        shown.push((Cow::Borrowed("webhook-signature"), signature.into()));
    }
    request
}

/// What a customer's endpoint means by the answers that point at the
/// settings (the key, the path).
pub fn answer_words(answer: &HttpAnswer) -> Option<String> {
    let status = answer.status;
    let reason = answer.reason();
    match status {
        401 | 403 => Some(format!(
            "the endpoint refused the request ({status} {reason}): make sure the receiver has the current API key{}",
            answer.said()
        )),
        404 => Some(format!(
            "the endpoint answered 404 Not Found: check the URL's path{}",
            answer.said()
        )),
        _ => None,
    }
}

/// Adds the custom webhook's secrets that are set (the endpoint's token-like
/// parts, the key, the signing secret and its key part after `whsec_`), for
/// scrubbing answers that echo them.
pub fn add_secrets(
    scrub: &mut Scrubber,
    url: Option<&EndpointUrl>,
    key: Option<&ApiKey>,
    signing: Option<&SigningSecret>,
) {
    if let Some(url) = url {
        let shown = url.redacted();
        for part in url.secret_parts() {
            scrub.add(part, &shown);
        }
    }
    if let Some(key) = key {
        scrub.add(key.expose(), &key.to_string());
    }
    if let Some(secret) = signing {
        let mask = secret.to_string();
        scrub.add(secret.expose(), &mask);
        if let Some(key) = secret.expose().strip_prefix("whsec_") {
            scrub.add(key, &mask);
        }
    }
}
