//! What `farmhook status` and the window's tile report about a profile:
//! what is configured (every secret redacted), the health of each
//! destination from the journal, duplicate-destination warnings and notices.
//! Read-only: the operations that change a profile live in `profile.rs`.

use serde::Serialize;

use super::delivery::health::{ChannelHealth, HealthBook, now_ms};
use super::profile::{Profile, ProfileError};
use crate::core::channel::PerChannel;
use crate::core::channels::webhook::endpoint_url::EndpointUrl;
use crate::core::duplicates::ProfileDestinations;
use crate::core::events::EventType;
use crate::core::settings::{Channel, Plan};

impl Profile {
    /// Health of both destinations from the journal (the last hour).
    pub async fn health(&self) -> Result<HealthSummary, ProfileError> {
        let journal = self.health_journal();
        let now_ms = now_ms();
        let entries = tokio::task::spawn_blocking(move || journal.load(now_ms))
            .await
            .map_err(|_| ProfileError::TaskStopped)?;
        let mut book = HealthBook::default();
        entries.iter().for_each(|e| book.apply(e));
        Ok(PerChannel::from_fn(|channel| book.get(channel, now_ms)))
    }

    /// What is configured, with every secret redacted. Keyring trouble is
    /// reported inside the status rather than failing it.
    pub async fn status(&self) -> Result<Status, ProfileError> {
        let loaded = self.load().await?;
        let s = &loaded.settings;
        let secrets = self.read_secrets().await;
        let keyring_error = secrets.keyring_error.clone();
        let ids = |d: Channel| s.events(d).iter().map(EventType::id).collect::<Vec<_>>();
        let health = self.health().await?;
        let warnings = if keyring_error.is_none() {
            let mine = ProfileDestinations {
                profile: self.name().clone(),
                discord: secrets.discord_url.clone(),
                endpoint: secrets.endpoint.clone(),
            };
            self.duplicate_warnings(&mine).await.unwrap_or_default()
        } else {
            Vec::new()
        };
        Ok(Status {
            profile: self.name().to_string(),
            config_file: self.config().path().display().to_string(),
            plan: s.plan,
            keyring: KeyringStatus {
                reachable: keyring_error.is_none(),
                error: keyring_error,
            },
            discord: DiscordStatus {
                enabled: s.discord.enabled,
                url: secrets.discord_url.as_ref().map(ToString::to_string),
                events: ids(Channel::Discord),
            },
            webhook: WebhookStatus {
                enabled: s.webhook.enabled,
                active: s.webhook_active(secrets.endpoint.is_some()),
                url: secrets.endpoint.as_ref().map(EndpointUrl::redacted),
                api_key: secrets.api_key.as_ref().map(ToString::to_string),
                signing: s.webhook.signing,
                signing_secret: secrets.signing_secret.as_ref().map(ToString::to_string),
                events: ids(Channel::Webhook),
            },
            health,
            warnings,
            notices: loaded.notice.into_iter().collect(),
        })
    }
}

/// Health of every channel from the journal (the last hour).
pub type HealthSummary = PerChannel<ChannelHealth>;

/// `farmhook status`: what is configured, secrets redacted.
#[derive(Debug, Serialize)]
pub struct Status {
    pub profile: String,
    pub config_file: String,
    pub plan: Plan,
    pub keyring: KeyringStatus,
    pub discord: DiscordStatus,
    pub webhook: WebhookStatus,
    /// The last hour of deliveries, and pauses.
    pub health: HealthSummary,
    /// Destinations that will get the same event twice.
    pub warnings: Vec<String>,
    pub notices: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct KeyringStatus {
    pub reachable: bool,
    pub error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct DiscordStatus {
    pub enabled: bool,
    /// Redacted: the token is never shown.
    pub url: Option<String>,
    pub events: Vec<&'static str>,
}

#[derive(Debug, Serialize)]
pub struct WebhookStatus {
    pub enabled: bool,
    /// Enabled, with an endpoint, on the Commercial plan.
    pub active: bool,
    /// Redacted: scheme and host only (`https://host/…`).
    pub url: Option<String>,
    /// Masked: the last four characters only.
    pub api_key: Option<String>,
    pub signing: bool,
    pub signing_secret: Option<String>,
    pub events: Vec<&'static str>,
}
