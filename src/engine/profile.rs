//! One profile's configuration: the settings file plus its keyring secrets,
//! and every change a user can make to them. The window and the command line
//! both call these, so they behave the same way. What a profile reports
//! (`farmhook status`) is in `status.rs`.

use super::config_store::{ConfigError, ConfigStore, LoadedSettings};
use super::secret_store::{SecretKind, SecretStore, SecretStoreError};
use crate::core::channel::{self, Blocker, SecretsHeld};
use crate::core::channels::discord::url::{DEFAULT_API_BASE, DiscordWebhookUrl};
use crate::core::channels::webhook::api_key::{ApiKey, RandomnessError, SigningSecret};
use crate::core::channels::webhook::endpoint_url::EndpointUrl;
use crate::core::duplicates::{ProfileDestinations, duplicate_warnings};
use crate::core::events::EventType;
use crate::core::profile::ProfileName;
use crate::core::redact::Scrubber;
use crate::core::settings::{Channel, LegacyEndpointUrl, Plan, Settings};
use crate::engine::delivery::health::now_ms;

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
    /// An endpoint URL that an older farmhook wrote into the file is moved
    /// to the keyring first; the note says what happened.
    pub async fn load(&self) -> Result<LoadedSettings, ProfileError> {
        let mut loaded = self.read_file().await?;
        if let Some(legacy) = loaded.settings.webhook.legacy_url.clone() {
            let note = self.move_legacy_endpoint(legacy).await?;
            let notice = loaded.notice.take();
            loaded = self.read_file().await?;
            loaded.notice = [notice, loaded.notice.take(), Some(note)]
                .into_iter()
                .flatten()
                .reduce(|a, b| format!("{a}; {b}"));
        }
        Ok(loaded)
    }

    /// Reads the settings file as it is, and nothing else. [`Profile::update`]
    /// reads with this under its lock, so it must never take the lock itself
    /// (nor call `load`, which may call `update`).
    pub async fn read_file(&self) -> Result<LoadedSettings, ProfileError> {
        let config = self.config.clone();
        let loaded = tokio::task::spawn_blocking(move || config.load(now_unix()))
            .await
            .map_err(|_| ProfileError::TaskStopped)??;
        Ok(loaded)
    }

    /// Replaces the settings whole, waiting for any other writer to finish.
    pub async fn save(&self, settings: Settings) -> Result<(), ProfileError> {
        let config = self.config.clone();
        tokio::task::spawn_blocking(move || {
            let _lock = config.lock()?;
            config.save(&settings)
        })
        .await
        .map_err(|_| ProfileError::TaskStopped)??;
        Ok(())
    }

    /// Load, change, save, with the profile's lock held throughout, so two
    /// processes changing the settings at once never lose each other's
    /// change. Notices from loading are passed on as notes.
    async fn update<R>(
        &self,
        change: impl FnOnce(&mut Settings) -> Result<R, ProfileError>,
    ) -> Result<(R, Notes), ProfileError> {
        let config = self.config.clone();
        // The lock is an open file: it may be held across the awaits below,
        // and dropping it (on any error too) lets the next writer in.
        let lock = tokio::task::spawn_blocking(move || config.lock())
            .await
            .map_err(|_| ProfileError::TaskStopped)??;
        let loaded = self.read_file().await?;
        let mut settings = loaded.settings;
        let result = change(&mut settings)?;
        let config = self.config.clone();
        tokio::task::spawn_blocking(move || {
            let saved = config.save(&settings);
            drop(lock);
            saved
        })
        .await
        .map_err(|_| ProfileError::TaskStopped)??;
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

    /// Stores the custom webhook's endpoint in the keyring (never in the
    /// file: its path or query often carries a token).
    pub async fn set_webhook_url(&self, input: &str) -> Result<(EndpointUrl, Notes), ProfileError> {
        let url = EndpointUrl::parse(input)
            .map_err(|e| ProfileError::Invalid(format!("that endpoint URL was not saved: {e}")))?;
        self.secrets
            .set(SecretKind::EndpointUrl, url.expose_str().to_string())
            .await?;
        let loaded = self.load().await?;
        let mut notes: Notes = loaded.notice.into_iter().collect();
        if loaded.settings.plan == Plan::Free {
            notes.push(
                "saved, but inactive: custom webhooks need the Commercial plan (farmhook plan commercial)"
                    .into(),
            );
        }
        Ok((url, notes))
    }

    /// Forgets the endpoint and turns the custom webhook off.
    pub async fn clear_webhook_url(&self) -> Result<Notes, ProfileError> {
        self.secrets.delete(SecretKind::EndpointUrl).await?;
        let ((), notes) = self
            .update(|s| {
                s.webhook.enabled = false;
                Ok(())
            })
            .await?;
        Ok(notes)
    }

    /// Moves an endpoint URL that an older farmhook wrote into the settings
    /// file into the keyring, and removes it from the file. While the
    /// keyring cannot be reached it stays where it was (nothing is lost).
    /// An endpoint that is really a chat service's URL (which would get the
    /// API key) is removed, and the custom webhook turned off. Returns what
    /// happened, in words.
    async fn move_legacy_endpoint(
        &self,
        legacy: LegacyEndpointUrl,
    ) -> Result<String, ProfileError> {
        let url = match EndpointUrl::parse(&legacy.0) {
            Ok(url) => url,
            Err(e) => {
                self.update(|s| {
                    s.webhook.legacy_url = None;
                    s.webhook.enabled = false;
                    Ok(())
                })
                .await?;
                return Ok(format!(
                    "the custom webhook's endpoint in the settings file was removed and the custom webhook turned off: {e}"
                ));
            }
        };
        let still_in_file = |e: SecretStoreError| {
            format!(
                "the custom webhook's endpoint URL is still in the settings file: it could not be moved to the keyring ({e})"
            )
        };
        // A URL already in the keyring was put there by a newer farmhook:
        // it wins over the old file's.
        let in_keyring = match self.secrets.endpoint_url().await {
            Ok(found) => found.is_some(),
            Err(SecretStoreError::Invalid(..)) => false,
            Err(e) => return Ok(still_in_file(e)),
        };
        if !in_keyring
            && let Err(e) = self
                .secrets
                .set(SecretKind::EndpointUrl, url.expose_str().to_string())
                .await
        {
            return Ok(still_in_file(e));
        }
        self.update(|s| {
            s.webhook.legacy_url = None;
            Ok(())
        })
        .await?;
        Ok(format!(
            "the custom webhook's endpoint ({url}) was moved from the settings file into the keyring"
        ))
    }

    /// Turns a destination on or off. Turning on checks that it can send:
    /// Discord needs its URL; the custom webhook needs an endpoint, and gets
    /// a generated API key if it has none yet.
    pub async fn set_enabled(&self, destination: Channel, on: bool) -> Result<Notes, ProfileError> {
        let mut notes = Notes::new();
        if on {
            match destination {
                Channel::Discord => {
                    if self.secrets.discord_url().await?.is_none() {
                        return Err(ProfileError::Invalid(format!(
                            "no Discord webhook URL is set: {SET_DISCORD_URL_HINT}"
                        )));
                    }
                }
                Channel::Webhook => {
                    if self.secrets.endpoint_url().await?.is_none() {
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
                    Channel::Discord => s.discord.enabled = on,
                    Channel::Webhook => s.webhook.enabled = on,
                }
                Ok(s.plan)
            })
            .await?;
        notes.extend(loaded_notes);
        if on && destination == Channel::Webhook && plan == Plan::Free {
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
        destinations: &[Channel],
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
        let endpoint = self
            .secrets
            .endpoint_url()
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
            endpoint,
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
            let Ok(discord) = other.secrets.discord_url().await else {
                continue;
            };
            let Ok(endpoint) = other.secrets.endpoint_url().await else {
                continue;
            };
            others.push(ProfileDestinations {
                profile: other.name().clone(),
                discord,
                endpoint,
            });
        }
        Ok(duplicate_warnings(mine, &others))
    }

    /// Lifts a pause recorded in the journal (the window's Resume does the
    /// same for a running app).
    pub async fn resume(&self, destination: Channel) -> Result<(), ProfileError> {
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
}

/// The secrets of a profile as the engine and the window hold them (types
/// that redact themselves).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SecretsView {
    pub discord_url: Option<DiscordWebhookUrl>,
    /// The custom webhook's endpoint.
    pub endpoint: Option<EndpointUrl>,
    pub api_key: Option<ApiKey>,
    pub signing_secret: Option<SigningSecret>,
    /// Set when the keyring could not be read: secret fields are disabled.
    pub keyring_error: Option<String>,
}

impl SecretsView {
    /// Which secrets the keyring holds, for the can-it-send rules.
    pub fn held(&self) -> SecretsHeld {
        SecretsHeld {
            discord_url: self.discord_url.is_some(),
            endpoint: self.endpoint.is_some(),
            api_key: self.api_key.is_some(),
            signing_secret: self.signing_secret.is_some(),
        }
    }

    /// Why `channel` cannot send a test now, if it cannot.
    pub fn test_blocker(&self, channel: Channel, settings: &Settings) -> Option<Blocker> {
        channel::test_blocker(
            channel,
            settings,
            self.held(),
            self.keyring_error.as_deref(),
        )
    }

    /// Why `channel` cannot send real events now, if it cannot.
    pub fn send_blocker(&self, channel: Channel, settings: &Settings) -> Option<Blocker> {
        channel::send_blocker(
            channel,
            settings,
            self.held(),
            self.keyring_error.as_deref(),
        )
    }

    /// Every secret of the profile with its mask, for scrubbing answers
    /// before anything records them.
    pub fn scrubber(&self, discord_api_base: &str) -> Scrubber {
        use crate::engine::delivery::{discord, webhook};
        let mut scrub = Scrubber::default();
        if let Some(url) = &self.discord_url {
            // As stored (Discord's own URL) and as sent (a stand-in's).
            discord::add_secrets(&mut scrub, url, DEFAULT_API_BASE);
            discord::add_secrets(&mut scrub, url, discord_api_base);
        }
        webhook::add_secrets(
            &mut scrub,
            self.endpoint.as_ref(),
            self.api_key.as_ref(),
            self.signing_secret.as_ref(),
        );
        scrub
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::events::EventType;

    fn profile(dir: &std::path::Path) -> Profile {
        Profile::new(ConfigStore::locate(Some(dir.to_path_buf()), ProfileName::default()).unwrap())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn changes_made_at_once_are_all_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let p = profile(tmp.path());
        let changes = EventType::all().map(|e| {
            let p = p.clone();
            tokio::spawn(async move { p.set_events(&[Channel::Discord], &[e], false).await })
        });
        for change in changes.collect::<Vec<_>>() {
            change.await.unwrap().unwrap();
        }
        let settings = p.load().await.unwrap().settings;
        assert!(settings.discord.events.is_empty(), "{settings:?}");
        assert_eq!(
            settings.webhook.events,
            crate::core::events::EventSelection::new_channel_default()
        );
    }
}
