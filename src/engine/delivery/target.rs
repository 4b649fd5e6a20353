//! Where a delivery goes: a channel's sender, with the secrets it needs.
//! Each channel's sender module (`discord.rs`, `webhook.rs`, …) implements
//! [`Sender`]; [`build`] is the one place channels are registered with the
//! delivery engine, so `deliver.rs` and the dispatcher know no channel.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use super::discord::RateLimitState;
use super::http::{self, HttpAnswer};
use super::log::LoggedHeader;
use super::{discord, pushover, slack, telegram, webhook};
use crate::core::api_base::ApiBases;
use crate::core::payload::Event;
use crate::core::redact::Scrubber;
use crate::core::settings::{Channel, Settings};
use crate::core::summary::Summary;
use crate::engine::profile::SecretsView;

/// How a channel's events wait for sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Queueing {
    /// A chat service: one message at a time per `key` (one webhook, bot
    /// chat or user), each carrying up to `max_events` events, at least
    /// `min_gap` apart (the service's pace), with a burst beyond the queue
    /// told as "and N more events".
    Batched {
        key: String,
        max_events: usize,
        min_gap: Duration,
    },
    /// One request per event, several in flight (the custom webhook).
    Parallel,
}

/// A channel's side of delivery: its body, its request, and what its
/// service's answers mean.
pub trait Sender: Send + Sync + std::fmt::Debug {
    fn channel(&self) -> Channel;

    /// Adds this target's own secrets (as sent), for scrubbing answers
    /// that echo them.
    fn add_secrets(&self, scrub: &mut Scrubber);

    /// Where it goes, as it may be shown.
    fn redacted(&self) -> String;

    fn queueing(&self) -> Queueing;

    /// The request body for `events` (and a summary of events that could
    /// not be queued, where the channel can tell it).
    fn body(&self, events: &[Event], summary: Option<&Summary>) -> Vec<u8>;

    /// One attempt's request, before the body; the headers it adds are
    /// pushed to `shown` as they may be logged (secrets masked).
    fn request(
        &self,
        client: &http::HttpClient,
        events: &[Event],
        body: &[u8],
        at: OffsetDateTime,
        shown: &mut Vec<LoggedHeader>,
    ) -> reqwest::RequestBuilder;

    /// What the service means by a non-2xx answer, in words, when it means
    /// something particular.
    fn answer_words(&self, _answer: &HttpAnswer) -> Option<String> {
        None
    }

    /// Answers after which sending again cannot work until the user acts.
    fn pause_reason(&self, _answer: &HttpAnswer) -> Option<String> {
        None
    }

    /// How long the service asked to wait, from its own answer (the
    /// `Retry-After` header is read for every channel).
    fn asked_wait(&self, _answer: &HttpAnswer) -> Option<f64> {
        None
    }

    /// A 2xx answer that says the message was refused (Telegram's
    /// `ok:false`), in words.
    fn refused_despite_success(&self, _answer: &HttpAnswer) -> Option<String> {
        None
    }

    /// Reads the service's rate-limit headers into its pacing state.
    fn observe(
        &self,
        _answer: &HttpAnswer,
        _pace: &mut RateLimitState,
        _now: Instant,
        _max: Duration,
    ) {
    }
}

/// Where a delivery goes, with the secrets it needs.
#[derive(Clone, Debug)]
pub struct Target(Arc<Parts<dyn Sender>>);

/// A sender and what is derived from it once, on first use.
#[derive(Debug)]
struct Parts<S: ?Sized> {
    /// The sender's own secrets in every form an echo may take.
    scrub: OnceLock<Scrubber>,
    /// Where it goes as shown, shared by every record to this target.
    shown: OnceLock<Arc<str>>,
    sender: S,
}

impl Target {
    pub fn new(sender: impl Sender + 'static) -> Target {
        Target(Arc::new(Parts {
            scrub: OnceLock::new(),
            shown: OnceLock::new(),
            sender,
        }))
    }

    pub fn destination(&self) -> Channel {
        self.0.sender.channel()
    }

    /// Where it goes, as records show it ([`Sender::redacted`], worked out
    /// once per target and shared by its records).
    pub fn shown(&self) -> Arc<str> {
        self.0
            .shown
            .get_or_init(|| self.0.sender.redacted().into())
            .clone()
    }

    /// This target's own secrets, for scrubbing answers that echo them
    /// (worked out once per target, not once per delivery).
    pub fn scrubber(&self) -> &Scrubber {
        self.0.scrub.get_or_init(|| {
            let mut scrub = Scrubber::default();
            self.0.sender.add_secrets(&mut scrub);
            scrub
        })
    }
}

impl std::ops::Deref for Target {
    type Target = dyn Sender + 'static;
    fn deref(&self) -> &(dyn Sender + 'static) {
        &self.0.sender
    }
}

/// Builds `channel`'s target from the settings and the secrets, once the
/// can-it-send rule (`core::channel`) has found nothing missing; an error
/// in words otherwise. The one registration of each channel's sender.
pub fn build(
    channel: Channel,
    settings: &Settings,
    secrets: &SecretsView,
    bases: &ApiBases,
) -> Result<Target, String> {
    let base = bases.base(channel.id());
    match channel {
        Channel::Discord => discord::target(secrets, base),
        Channel::Slack => slack::target(secrets, base),
        Channel::Telegram => telegram::target(&settings.channels[channel], secrets, base),
        Channel::Pushover => pushover::target(secrets, base),
        Channel::Webhook => webhook::target(&settings.channels[channel], secrets),
    }
}
