//! One profile's configuration: the settings file plus its keyring secrets,
//! and every change a user can make to them. The window and the command line
//! both call these, so they behave the same way.

use serde::Serialize;

use super::config_store::{ConfigError, ConfigStore, LoadedSettings};
use super::secret_store::{SecretKind, SecretStore, SecretStoreError};
use crate::core::api_key::{ApiKey, RandomnessError, SigningSecret};
use crate::core::discord_url::DiscordWebhookUrl;
use crate::core::duplicates::{ProfileDestinations, duplicate_warnings};
use crate::core::endpoint_url::EndpointUrl;
use crate::core::events::EventType;
use crate::core::profile::ProfileName;
use crate::core::settings::{Destination, Plan, Settings};
use crate::engine::delivery::health::{DestinationHealth, HealthBook, now_ms};

/// Why a change could not be made. All are the user's to fix (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Secrets(#[from] SecretStoreError),
    #[error(transparent)]
    Randomness(#[from] RandomnessError),
    #[error("{0}")]
    Invalid(String),
    #[error("the disk task stopped unexpectedly")]
    TaskStopped,
}

/// How to give the Discord URL without it landing in shell history or `ps`.
pub const SET_DISCORD_URL_HINT: &str = "run `farmhook discord set-url -`, paste the URL and press Ctrl-D \
     (or `farmhook discord set-url - < url.txt`)";

/// How to give the endpoint, which may carry a token, the same way.
pub const SET_ENDPOINT_HINT: &str = "run `farmhook webhook set-url -`, paste the URL and press Ctrl-D \
     (or `farmhook webhook set-url - < url.txt`)";

/// A change went through; these are things the user should know about it.
pub type Notes = Vec<String>;

/// One profile: where its settings live and its keyring entries.
#[derive(Debug, Clone)]
pub struct Profile {
    config: ConfigStore,
    secrets: SecretStore,
}

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Profile {
    pub fn new(config: ConfigStore) -> Self {
        let secrets = SecretStore::new(config.profile().clone());
        Profile { config, secrets }
    }

    pub fn name(&self) -> &ProfileName {
        self.config.profile()
    }

    pub fn config(&self) -> &ConfigStore {
        &self.config
    }

    pub fn secrets(&self) -> &SecretStore {
        &self.secrets
    }

    /// Where this profile's delivery health is kept between runs.
    pub fn health_journal(&self) -> crate::engine::delivery::health_journal::HealthJournal {
        crate::engine::delivery::health_journal::HealthJournal::new(
            self.config.health_journal_path(),
        )
    }

    /// Reads the settings file (off the async threads: disk may be slow).
    pub async fn load(&self) -> Result<LoadedSettings, ProfileError> {
        let config = self.config.clone();
        let loaded = tokio::task::spawn_blocking(move || config.load(now_unix()))
            .await
            .map_err(|_| ProfileError::TaskStopped)??;
        Ok(loaded)
    }

    pub async fn save(&self, settings: Settings) -> Result<(), ProfileError> {
        let config = self.config.clone();
        tokio::task::spawn_blocking(move || config.save(&settings))
            .await
            .map_err(|_| ProfileError::TaskStopped)??;
        Ok(())
    }

    /// Load, change, save. Notices from loading are passed on as notes.
    async fn update<R>(
        &self,
        change: impl FnOnce(&mut Settings) -> Result<R, ProfileError>,
    ) -> Result<(R, Notes), ProfileError> {
        let loaded = self.load().await?;
        let mut settings = loaded.settings;
        let result = change(&mut settings)?;
        self.save(settings).await?;
        Ok((result, loaded.notice.into_iter().collect()))
    }

    pub async fn set_plan(&self, plan: Plan) -> Result<Notes, ProfileError> {
        let (webhook_waiting, mut notes) = self
            .update(|s| {
                s.plan = plan;
                Ok(s.webhook.enabled)
            })
            .await?;
        if plan == Plan::Free && webhook_waiting {
            notes.push(
                "the custom webhook stays configured but sends nothing until the plan is Commercial"
                    .into(),
            );
        }
        Ok(notes)
    }

    /// Stores a pasted Discord URL in the keyring (never in the file).
    pub async fn set_discord_url(&self, input: &str) -> Result<DiscordWebhookUrl, ProfileError> {
        let url = DiscordWebhookUrl::parse(input).map_err(|e| {
            ProfileError::Invalid(format!("that Discord webhook URL was not saved: {e}"))
        })?;
        self.secrets
            .set(SecretKind::DiscordWebhookUrl, url.expose_secret())
            .await?;
        Ok(url)
    }

    /// Forgets the Discord URL and turns Discord off.
    pub async fn clear_discord_url(&self) -> Result<Notes, ProfileError> {
        self.secrets.delete(SecretKind::DiscordWebhookUrl).await?;
        let ((), notes) = self
            .update(|s| {
                s.discord.enabled = false;
                Ok(())
            })
            .await?;
        Ok(notes)
    }

    pub async fn set_webhook_url(&self, input: &str) -> Result<(EndpointUrl, Notes), ProfileError> {
        let url = EndpointUrl::parse(input)
            .map_err(|e| ProfileError::Invalid(format!("that endpoint URL was not saved: {e}")))?;
        let stored = url.clone();
        let (plan, mut notes) = self
            .update(|s| {
                s.webhook.url = Some(stored);
                Ok(s.plan)
            })
            .await?;
        if plan == Plan::Free {
            notes.push(
                "saved, but inactive: custom webhooks need the Commercial plan (farmhook plan commercial)"
                    .into(),
            );
        }
        Ok((url, notes))
    }

    /// Turns a destination on or off. Turning on checks that it can send:
    /// Discord needs its URL; the custom webhook needs an endpoint, and gets
    /// a generated API key if it has none yet.
    pub async fn set_enabled(
        &self,
        destination: Destination,
        on: bool,
    ) -> Result<Notes, ProfileError> {
        let mut notes = Notes::new();
        if on {
            match destination {
                Destination::Discord => {
                    if self.secrets.discord_url().await?.is_none() {
                        return Err(ProfileError::Invalid(format!(
                            "no Discord webhook URL is set: {SET_DISCORD_URL_HINT}"
                        )));
                    }
                }
                Destination::Webhook => {
                    if self.load().await?.settings.webhook.url.is_none() {
                        return Err(ProfileError::Invalid(format!(
                            "no endpoint URL is set: {SET_ENDPOINT_HINT}"
                        )));
                    }
                    if self.secrets.api_key().await?.is_none() {
                        self.generate_api_key().await?;
                        notes.push(
                            "generated an API key for the X-API-Key header; copy it to your receiver with `farmhook webhook key show --reveal`"
                                .into(),
                        );
                    }
                }
            }
        }
        let (plan, loaded_notes) = self
            .update(|s| {
                match destination {
                    Destination::Discord => s.discord.enabled = on,
                    Destination::Webhook => s.webhook.enabled = on,
                }
                Ok(s.plan)
            })
            .await?;
        notes.extend(loaded_notes);
        if on && destination == Destination::Webhook && plan == Plan::Free {
            notes.push("enabled, but inactive: custom webhooks need the Commercial plan".into());
        }
        Ok(notes)
    }

    pub async fn generate_api_key(&self) -> Result<ApiKey, ProfileError> {
        let key = ApiKey::generate()?;
        self.secrets
            .set(SecretKind::ApiKey, key.expose().to_string())
            .await?;
        Ok(key)
    }

    pub async fn set_api_key(&self, input: &str) -> Result<ApiKey, ProfileError> {
        let key = ApiKey::parse(input)
            .map_err(|e| ProfileError::Invalid(format!("that API key was not saved: {e}")))?;
        self.secrets
            .set(SecretKind::ApiKey, key.expose().to_string())
            .await?;
        Ok(key)
    }

    /// Removes the key; the custom webhook cannot send without one, so it is
    /// turned off too.
    pub async fn clear_api_key(&self) -> Result<Notes, ProfileError> {
        self.secrets.delete(SecretKind::ApiKey).await?;
        let (was_on, mut notes) = self
            .update(|s| Ok(std::mem::replace(&mut s.webhook.enabled, false)))
            .await?;
        if was_on {
            notes.push("the custom webhook was turned off: it cannot send without a key".into());
        }
        Ok(notes)
    }

    /// Creates a signing secret and turns signing on.
    pub async fn generate_signing_secret(&self) -> Result<(SigningSecret, Notes), ProfileError> {
        let secret = SigningSecret::generate()?;
        self.secrets
            .set(SecretKind::SigningSecret, secret.expose().to_string())
            .await?;
        let ((), notes) = self
            .update(|s| {
                s.webhook.signing = true;
                Ok(())
            })
            .await?;
        Ok((secret, notes))
    }

    pub async fn clear_signing_secret(&self) -> Result<Notes, ProfileError> {
        self.secrets.delete(SecretKind::SigningSecret).await?;
        let ((), notes) = self
            .update(|s| {
                s.webhook.signing = false;
                Ok(())
            })
            .await?;
        Ok(notes)
    }

    /// Ticks or unticks events for the given destinations.
    pub async fn set_events(
        &self,
        destinations: &[Destination],
        events: &[EventType],
        on: bool,
    ) -> Result<Notes, ProfileError> {
        let ((), notes) = self
            .update(|s| {
                for &d in destinations {
                    for &e in events {
                        s.events_mut(d).set(e, on);
                    }
                }
                Ok(())
            })
            .await?;
        Ok(notes)
    }

    /// Reads every secret of the profile. Keyring trouble does not fail the
    /// read: it is kept, in words, in `keyring_error`.
    pub async fn read_secrets(&self) -> SecretsView {
        let mut keyring_error = None;
        let mut keep = |e: SecretStoreError| {
            keyring_error.get_or_insert(e.to_string());
        };
        let discord_url = self
            .secrets
            .discord_url()
            .await
            .map_err(&mut keep)
            .ok()
            .flatten();
        let api_key = self
            .secrets
            .api_key()
            .await
            .map_err(&mut keep)
            .ok()
            .flatten();
        let signing_secret = self
            .secrets
            .signing_secret()
            .await
            .map_err(&mut keep)
            .ok()
            .flatten();
        SecretsView {
            discord_url,
            api_key,
            signing_secret,
            keyring_error,
        }
    }

    /// Warnings about destinations another profile (or the other half of
    /// this one, `mine`) also sends to. Profiles whose keyring entry cannot
    /// be read are left out.
    pub async fn duplicate_warnings(
        &self,
        mine: &ProfileDestinations,
    ) -> Result<Vec<String>, ProfileError> {
        let config = self.config.clone();
        let names = tokio::task::spawn_blocking(move || config.profiles())
            .await
            .map_err(|_| ProfileError::TaskStopped)?;
        let mut others = Vec::new();
        for name in names.into_iter().filter(|n| n != self.name()) {
            let other = Profile::new(ConfigStore::locate(
                Some(self.config.dir().to_path_buf()),
                name,
            )?);
            let Ok(loaded) = other.load().await else {
                continue;
            };
            let Ok(discord) = other.secrets.discord_url().await else {
                continue;
            };
            others.push(ProfileDestinations {
                profile: other.name().clone(),
                discord,
                endpoint: loaded.settings.webhook.url,
            });
        }
        Ok(duplicate_warnings(mine, &others))
    }

    /// Lifts a pause recorded in the journal (the window's Resume does the
    /// same for a running app).
    pub async fn resume(&self, destination: Destination) -> Result<(), ProfileError> {
        let journal = self.health_journal();
        let entry = crate::engine::delivery::health::HealthEntry {
            at_ms: now_ms(),
            destination,
            kind: crate::engine::delivery::health::HealthEntryKind::Resumed,
        };
        tokio::task::spawn_blocking(move || journal.append(&[entry]))
            .await
            .map_err(|_| ProfileError::TaskStopped)?
            .map_err(|source| {
                ProfileError::Config(ConfigError::Io {
                    action: "write",
                    path: self.config.health_journal_path(),
                    source,
                })
            })
    }

    /// Health of both destinations from the journal (the last hour).
    pub async fn health(&self) -> Result<HealthSummary, ProfileError> {
        let journal = self.health_journal();
        let now_ms = now_ms();
        let entries = tokio::task::spawn_blocking(move || journal.load(now_ms))
            .await
            .map_err(|_| ProfileError::TaskStopped)?;
        let mut book = HealthBook::default();
        entries.iter().for_each(|e| book.apply(e));
        Ok(HealthSummary {
            discord: book.get(Destination::Discord, now_ms),
            webhook: book.get(Destination::Webhook, now_ms),
        })
    }

    /// What is configured, with every secret redacted. Keyring trouble is
    /// reported inside the status rather than failing it.
    pub async fn status(&self) -> Result<Status, ProfileError> {
        let loaded = self.load().await?;
        let s = &loaded.settings;
        let secrets = self.read_secrets().await;
        let keyring_error = secrets.keyring_error.clone();
        let ids = |d: Destination| s.events(d).iter().map(EventType::id).collect::<Vec<_>>();
        let health = self.health().await?;
        let warnings = if keyring_error.is_none() {
            let mine = ProfileDestinations {
                profile: self.name().clone(),
                discord: secrets.discord_url.clone(),
                endpoint: s.webhook.url.clone(),
            };
            self.duplicate_warnings(&mine).await.unwrap_or_default()
        } else {
            Vec::new()
        };
        Ok(Status {
            profile: self.name().to_string(),
            config_file: self.config.path().display().to_string(),
            plan: s.plan,
            keyring: KeyringStatus {
                reachable: keyring_error.is_none(),
                error: keyring_error,
            },
            discord: DiscordStatus {
                enabled: s.discord.enabled,
                url: secrets.discord_url.as_ref().map(ToString::to_string),
                events: ids(Destination::Discord),
            },
            webhook: WebhookStatus {
                enabled: s.webhook.enabled,
                active: s.webhook_active(),
                url: s.webhook.url.as_ref().map(EndpointUrl::redacted),
                api_key: secrets.api_key.as_ref().map(ToString::to_string),
                signing: s.webhook.signing,
                signing_secret: secrets.signing_secret.as_ref().map(ToString::to_string),
                events: ids(Destination::Webhook),
            },
            health,
            warnings,
            notices: loaded.notice.into_iter().collect(),
        })
    }
}

/// Health of both destinations.
#[derive(Debug, Clone, Serialize)]
pub struct HealthSummary {
    pub discord: DestinationHealth,
    pub webhook: DestinationHealth,
}

/// The secrets of a profile as the engine and the window hold them (types
/// that redact themselves).
#[derive(Debug, Clone, Default)]
pub struct SecretsView {
    pub discord_url: Option<DiscordWebhookUrl>,
    pub api_key: Option<ApiKey>,
    pub signing_secret: Option<SigningSecret>,
    /// Set when the keyring could not be read: secret fields are disabled.
    pub keyring_error: Option<String>,
}

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
    /// Redacted: the query string is hidden.
    pub url: Option<String>,
    /// Masked: the last four characters only.
    pub api_key: Option<String>,
    pub signing: bool,
    pub signing_secret: Option<String>,
    pub events: Vec<&'static str>,
}
