//! What `farmhook status` and the window's tile report about a profile:
//! what is configured (every secret redacted), the health of each
//! destination from the journal, duplicate-destination warnings and notices.
//! Read-only: the operations that change a profile live in `profile.rs`.

use std::collections::BTreeMap;

use serde::Serialize;

use super::delivery::health::{ChannelHealth, HealthBook, now_ms};
use super::profile::{Profile, ProfileError};

use crate::core::channel::{Blocker, Need, PerChannel};
use crate::core::events::EventType;
use crate::core::settings::Plan;

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
        let health = self.health().await?;
        let warnings = if keyring_error.is_none() {
            let mine = secrets.destinations(self.name(), s);
            self.duplicate_warnings(&mine).await.unwrap_or_default()
        } else {
            Vec::new()
        };
        let channels = PerChannel::from_fn(|channel| {
            let spec = channel.spec();
            let own = &s.channels[channel];
            let blocked = secrets.send_blocker(channel, s);
            ChannelStatus {
                enabled: own.enabled,
                active: blocked.is_none(),
                blocked: blocked
                    .filter(|b| *b != Blocker::Off)
                    .map(|b| b.words(channel)),
                secrets: spec
                    .secrets
                    .iter()
                    .map(|k| (k.status_key, secrets.redacted(k)))
                    .collect(),
                signing: spec
                    .secrets
                    .iter()
                    .any(|k| matches!(k.need, Need::WhenSigning(_)))
                    .then_some(own.signing),
                chat_id: own.chat_id.clone(),
                events: s.events(channel).iter().map(EventType::id).collect(),
            }
        });
        Ok(Status {
            profile: self.name().to_string(),
            config_file: self.config().path().display().to_string(),
            plan: s.plan,
            keyring: KeyringStatus {
                reachable: keyring_error.is_none(),
                error: keyring_error,
            },
            channels,
            printers: PrintersStatus {
                count: s.printers.len(),
                kinds: s.printers.iter().fold(BTreeMap::new(), |mut kinds, p| {
                    *kinds.entry(p.kind.id()).or_insert(0) += 1;
                    kinds
                }),
                offline_after_s: s.offline_after_s,
            },
            health,
            warnings,
            notices: loaded.notice.into_iter().collect(),
        })
    }
}

/// Health of every channel from the journal (the last hour).
pub type HealthSummary = PerChannel<ChannelHealth>;

/// `farmhook status`: what is configured, secrets redacted. Each channel
/// is under its id (`"discord": {…}`).
#[derive(Debug, Serialize)]
pub struct Status {
    pub profile: String,
    pub config_file: String,
    pub plan: Plan,
    pub keyring: KeyringStatus,
    #[serde(flatten)]
    pub channels: PerChannel<ChannelStatus>,
    /// The printers watched (`farmhook printers list` shows each).
    pub printers: PrintersStatus,
    /// The last hour of deliveries, and pauses.
    pub health: HealthSummary,
    /// Destinations that will get the same event twice.
    pub warnings: Vec<String>,
    pub notices: Vec<String>,
}

/// The printers in `farmhook status`: how many of each kind.
#[derive(Debug, Serialize)]
pub struct PrintersStatus {
    pub count: usize,
    /// By kind id (`bambu`, `octoprint`, `moonraker`).
    pub kinds: BTreeMap<&'static str, usize>,
    /// Silence before a printer is told offline.
    pub offline_after_s: u32,
}

#[derive(Debug, Serialize)]
pub struct KeyringStatus {
    pub reachable: bool,
    pub error: Option<String>,
}

/// One channel in `farmhook status`.
#[derive(Debug, Serialize)]
pub struct ChannelStatus {
    pub enabled: bool,
    /// Real events are sent now (the can-it-send rule finds nothing
    /// missing).
    pub active: bool,
    /// Why it cannot send, when it is set up or enabled but cannot.
    pub blocked: Option<String>,
    /// Each secret under its status key (`url`, `api_key`…), redacted;
    /// null when not set.
    #[serde(flatten)]
    pub secrets: BTreeMap<&'static str, Option<String>>,
    /// Whether deliveries are signed (channels that can sign).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing: Option<bool>,
    /// Telegram's chat.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_id: Option<String>,
    pub events: Vec<&'static str>,
}
