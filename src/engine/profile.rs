//! One profile's configuration: the settings file plus its keyring secrets,
//! and every change a user can make to them. The window and the command line
//! both call these, so they behave the same way. What a profile reports
//! (`farmhook status`) is in `status.rs`.

use super::config_store::{ConfigError, ConfigStore, LoadedSettings};
use super::secret_store::{SecretKind, SecretStore, SecretStoreError};
use std::collections::BTreeMap;

use crate::core::api_base::ApiBases;
use crate::core::channel::{self, Blocker, Need, PerChannel};
use crate::core::channels::discord::url::DiscordWebhookUrl;
use crate::core::channels::telegram::ChatId;
use crate::core::channels::webhook::api_key::{ApiKey, RandomnessError, SigningSecret};
use crate::core::channels::webhook::endpoint_url::EndpointUrl;
use crate::core::channels::{discord, webhook};
use crate::core::duplicates::{Address, ProfileDestinations, duplicate_warnings};
use crate::core::events::EventType;
use crate::core::printers::PrinterConfig;
use crate::core::profile::ProfileName;
use crate::core::redact::Scrubber;
use crate::core::settings::{Channel, LegacyEndpointUrl, Plan, Settings};
use crate::engine::delivery::health::now_ms;
use crate::engine::delivery::target;

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

/// The channel a secret belongs to.
pub fn channel_of(kind: SecretKind) -> Option<Channel> {
    Channel::ALL
        .into_iter()
        .find(|c| c.spec().secrets.iter().any(|k| k.entry == kind.entry))
}

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
        if let Some(legacy) = loaded.settings.channels[Channel::Webhook]
            .legacy_url
            .clone()
        {
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
                Ok(s.channels[Channel::Webhook].enabled)
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

    /// Checks what the user gave for one of a channel's secrets and keeps
    /// it in the keyring (never in the file). Returns it as it may be
    /// shown, and notes (a channel the plan does not allow says so).
    pub async fn set_secret(
        &self,
        kind: SecretKind,
        input: &str,
    ) -> Result<(String, Notes), ProfileError> {
        let text = (kind.parse)(input).map_err(|e| {
            ProfileError::Invalid(format!("that {} was not saved: {e}", kind.words))
        })?;
        self.secrets.set(kind, text.clone()).await?;
        let loaded = self.load().await?;
        let mut notes: Notes = loaded.notice.into_iter().collect();
        if let Some(channel) = channel_of(kind)
            && !loaded.settings.plan_allows(channel)
        {
            notes.push(format!(
                "saved, but inactive: {} needs the Commercial plan (farmhook plan commercial)",
                channel.label()
            ));
        }
        Ok(((kind.redact)(&text), notes))
    }

    /// Forgets where a channel sends (its URL, token or endpoint) and turns
    /// it off. Keys farmhook generated for it are kept.
    pub async fn clear_channel(&self, channel: Channel) -> Result<Notes, ProfileError> {
        for kind in channel
            .spec()
            .secrets
            .iter()
            .filter(|k| k.need == Need::Address)
        {
            self.secrets.delete(kind).await?;
        }
        let ((), notes) = self
            .update(|s| {
                s.channels[channel].enabled = false;
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
                    s.channels[Channel::Webhook].legacy_url = None;
                    s.channels[Channel::Webhook].enabled = false;
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
                .set(&webhook::ENDPOINT_SECRET, url.expose_str().to_string())
                .await
        {
            return Ok(still_in_file(e));
        }
        self.update(|s| {
            s.channels[Channel::Webhook].legacy_url = None;
            Ok(())
        })
        .await?;
        Ok(format!(
            "the custom webhook's endpoint ({url}) was moved from the settings file into the keyring"
        ))
    }

    /// Turns a channel on or off. Turning on checks that it is set up, and
    /// generates what farmhook can generate for it (the custom webhook's
    /// API key) if it has none yet.
    pub async fn set_enabled(&self, channel: Channel, on: bool) -> Result<Notes, ProfileError> {
        let mut notes = Notes::new();
        let spec = channel.spec();
        if on {
            for kind in spec.secrets {
                if self.secrets.get(kind).await?.is_some() {
                    continue;
                }
                match (kind.need, kind.generate) {
                    (Need::Address, _) => {
                        return Err(ProfileError::Invalid(format!(
                            "{}: {}",
                            spec.not_set_up, spec.set_up_hint
                        )));
                    }
                    (Need::Always(_), Some(generate)) => {
                        let text = generate().map_err(ProfileError::Invalid)?;
                        self.secrets.set(kind, text).await?;
                        notes.push(format!("generated {}", kind.generated_note));
                    }
                    (Need::Always(words), None) => {
                        return Err(ProfileError::Invalid(words.to_string()));
                    }
                    (Need::WhenSigning(_), _) => {}
                }
            }
        }
        let (settings, loaded_notes) = self
            .update(|s| {
                s.channels[channel].enabled = on;
                Ok(s.clone())
            })
            .await?;
        notes.extend(loaded_notes);
        if on && !settings.plan_allows(channel) {
            notes.push(format!(
                "enabled, but inactive: {} needs the Commercial plan",
                channel.label()
            ));
        } else if on && let Some(words) = (spec.settings_missing)(&settings.channels[channel]) {
            notes.push(format!("enabled, but it cannot send yet: {words}"));
        }
        Ok(notes)
    }

    pub async fn generate_api_key(&self) -> Result<ApiKey, ProfileError> {
        let key = ApiKey::generate()?;
        self.secrets
            .set(&webhook::API_KEY_SECRET, key.expose().to_string())
            .await?;
        Ok(key)
    }

    pub async fn set_api_key(&self, input: &str) -> Result<ApiKey, ProfileError> {
        let key = ApiKey::parse(input)
            .map_err(|e| ProfileError::Invalid(format!("that API key was not saved: {e}")))?;
        self.secrets
            .set(&webhook::API_KEY_SECRET, key.expose().to_string())
            .await?;
        Ok(key)
    }

    /// Removes the key; the custom webhook cannot send without one, so it is
    /// turned off too.
    pub async fn clear_api_key(&self) -> Result<Notes, ProfileError> {
        self.secrets.delete(&webhook::API_KEY_SECRET).await?;
        let (was_on, mut notes) = self
            .update(|s| {
                Ok(std::mem::replace(
                    &mut s.channels[Channel::Webhook].enabled,
                    false,
                ))
            })
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
            .set(&webhook::SIGNING_SECRET, secret.expose().to_string())
            .await?;
        let ((), notes) = self
            .update(|s| {
                s.channels[Channel::Webhook].signing = true;
                Ok(())
            })
            .await?;
        Ok((secret, notes))
    }

    pub async fn clear_signing_secret(&self) -> Result<Notes, ProfileError> {
        self.secrets.delete(&webhook::SIGNING_SECRET).await?;
        let ((), notes) = self
            .update(|s| {
                s.channels[Channel::Webhook].signing = false;
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

    /// Chooses Telegram's chat (checked: an id or `@channel`), or forgets it.
    pub async fn set_chat(&self, chat: Option<&str>) -> Result<Notes, ProfileError> {
        let chat = chat
            .map(|c| {
                ChatId::parse(c)
                    .map(|id| id.to_string())
                    .map_err(|e| ProfileError::Invalid(format!("that chat was not saved: {e}")))
            })
            .transpose()?;
        let ((), notes) = self
            .update(|s| {
                s.channels[Channel::Telegram].chat_id = chat;
                Ok(())
            })
            .await?;
        Ok(notes)
    }

    /// Adds a printer to watch, its access code or API key into the keyring.
    /// A name already in use is refused.
    pub async fn add_printer(
        &self,
        printer: PrinterConfig,
        secret: Option<&str>,
    ) -> Result<Notes, ProfileError> {
        let name = printer.name.clone();
        let loaded = self.load().await?;
        if loaded.settings.printers.iter().any(|p| p.name == name) {
            return Err(ProfileError::Invalid(format!(
                "a printer named '{name}' is already watched: remove it first (`farmhook printers remove '{name}'`) or choose another name"
            )));
        }
        match secret {
            Some(secret) => {
                self.secrets
                    .set_printer_secret(&name, secret.to_string())
                    .await?
            }
            None => self.secrets.delete_printer_secret(&name).await?,
        }
        let ((), notes) = self
            .update(|s| {
                if s.printers.iter().any(|p| p.name == name) {
                    return Err(ProfileError::Invalid(format!(
                        "a printer named '{name}' was added meanwhile"
                    )));
                }
                s.printers.push(printer);
                Ok(())
            })
            .await?;
        Ok(notes)
    }

    /// Stops watching a printer and forgets its secret.
    pub async fn remove_printer(&self, name: &str) -> Result<Notes, ProfileError> {
        let (found, notes) = self
            .update(|s| {
                let before = s.printers.len();
                s.printers.retain(|p| p.name != name);
                Ok(s.printers.len() != before)
            })
            .await?;
        if !found {
            return Err(ProfileError::Invalid(format!(
                "no printer is named '{name}': `farmhook printers list` shows them"
            )));
        }
        self.secrets.delete_printer_secret(name).await?;
        Ok(notes)
    }

    /// Changes a watched printer: `printer` replaces the one named `old`
    /// (in its place in the list; a new name must be free). `secret` is its
    /// new access code or key; `None` keeps the one in the keyring (moved
    /// under the new name when it is renamed).
    pub async fn edit_printer(
        &self,
        old: &str,
        printer: PrinterConfig,
        secret: Option<&str>,
    ) -> Result<Notes, ProfileError> {
        let name = printer.name.clone();
        let loaded = self.load().await?;
        let no_such = || {
            ProfileError::Invalid(format!(
                "no printer is named '{old}': `farmhook printers list` shows them"
            ))
        };
        if !loaded.settings.printers.iter().any(|p| p.name == old) {
            return Err(no_such());
        }
        let taken =
            |printers: &[PrinterConfig]| name != old && printers.iter().any(|p| p.name == name);
        if taken(&loaded.settings.printers) {
            return Err(ProfileError::Invalid(format!(
                "a printer named '{name}' is already watched: choose another name"
            )));
        }
        // The secret goes first, under the new name: if saving the settings
        // fails after it, the old entry is still whole.
        let secret = match secret {
            Some(s) => Some(s.to_string()),
            None if name != old => self.secrets.printer_secret(old).await?,
            None => None,
        };
        if let Some(secret) = secret {
            self.secrets.set_printer_secret(&name, secret).await?;
        }
        let ((), notes) = self
            .update(|s| {
                if taken(&s.printers) {
                    return Err(ProfileError::Invalid(format!(
                        "a printer named '{name}' was added meanwhile"
                    )));
                }
                let slot = s
                    .printers
                    .iter_mut()
                    .find(|p| p.name == old)
                    .ok_or_else(no_such)?;
                *slot = printer;
                Ok(())
            })
            .await?;
        if name != old {
            self.secrets.delete_printer_secret(old).await?;
        }
        Ok(notes)
    }

    /// After how many seconds without news a printer is told offline.
    pub async fn set_offline_after(&self, seconds: u32) -> Result<Notes, ProfileError> {
        let range = crate::core::printers::OFFLINE_AFTER_RANGE_S;
        if !range.contains(&seconds) {
            return Err(ProfileError::Invalid(format!(
                "{seconds} s is out of range: choose {} to {} seconds",
                range.start(),
                range.end()
            )));
        }
        let ((), notes) = self
            .update(|s| {
                s.offline_after_s = seconds;
                Ok(())
            })
            .await?;
        Ok(notes)
    }

    /// Takes this profile's printers for this process to watch, or `None`
    /// while another farmhook process (the window, or `farmhook watch`)
    /// watches them.
    pub async fn try_watch_lock(
        &self,
    ) -> Result<Option<super::config_store::WatchLock>, ProfileError> {
        let config = self.config.clone();
        tokio::task::spawn_blocking(move || config.try_watch_lock())
            .await
            .map_err(|_| ProfileError::TaskStopped)?
            .map_err(ProfileError::from)
    }

    /// Where a printer's last known state is kept between runs of `watch`
    /// (no secret in it).
    pub fn printer_state_path(&self) -> std::path::PathBuf {
        self.config.path().with_extension("printers.json")
    }

    /// Reads every secret of the profile. Keyring trouble does not fail the
    /// read: it is kept, in words, in `keyring_error`.
    pub async fn read_secrets(&self) -> SecretsView {
        let mut view = SecretsView::default();
        for channel in Channel::ALL {
            for kind in channel.spec().secrets {
                // A stored value that no longer parses counts as keyring
                // trouble, in words that say to set it again.
                match self.secrets.get_parsed(kind, kind.parse).await {
                    Ok(value) => view.set(kind, value),
                    Err(e) => {
                        view.keyring_error.get_or_insert(e.to_string());
                    }
                }
            }
        }
        view
    }

    /// Warnings about destinations another profile also sends to.
    /// Profiles whose settings or keyring entries cannot be read are left
    /// out.
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
            let Ok(loaded) = other.read_file().await else {
                continue;
            };
            let secrets = other.read_secrets().await;
            if secrets.keyring_error.is_none() {
                others.push(secrets.destinations(other.name(), &loaded.settings));
            }
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

/// The secrets of a profile as the engine and the window hold them: each
/// stored secret's text by its keyring entry. `Debug` names the entries
/// only; each secret is shown through its spec's `redact`.
#[derive(Clone, Default, PartialEq)]
pub struct SecretsView {
    values: BTreeMap<&'static str, String>,
    /// Set when the keyring could not be read: secret fields are disabled.
    pub keyring_error: Option<String>,
}

impl std::fmt::Debug for SecretsView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretsView")
            .field("held", &self.values.keys().collect::<Vec<_>>())
            .field("keyring_error", &self.keyring_error)
            .finish()
    }
}

impl SecretsView {
    /// A view holding `values` (tests and the window's own copies).
    pub fn from_values(values: impl IntoIterator<Item = (SecretKind, String)>) -> Self {
        SecretsView {
            values: values.into_iter().map(|(k, v)| (k.entry, v)).collect(),
            keyring_error: None,
        }
    }

    /// The stored text of a secret, for sending.
    pub fn expose(&self, kind: SecretKind) -> Option<&str> {
        self.values.get(kind.entry).map(String::as_str)
    }

    /// Whether the keyring holds the secret with this entry.
    pub fn holds(&self, entry: &str) -> bool {
        self.values.contains_key(entry)
    }

    /// A secret as it may be shown.
    pub fn redacted(&self, kind: SecretKind) -> Option<String> {
        self.expose(kind).map(kind.redact)
    }

    /// A secret parsed into its type (stored values were checked when read).
    pub fn parsed<T, E>(
        &self,
        kind: SecretKind,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        self.expose(kind).and_then(|text| parse(text).ok())
    }

    /// Keeps (or, with `None`, forgets) a secret in this copy.
    pub fn set(&mut self, kind: SecretKind, value: Option<String>) {
        match value {
            Some(v) => self.values.insert(kind.entry, v),
            None => self.values.remove(kind.entry),
        };
    }

    pub fn discord_url(&self) -> Option<DiscordWebhookUrl> {
        self.parsed(&discord::URL_SECRET, DiscordWebhookUrl::parse)
    }

    pub fn endpoint(&self) -> Option<EndpointUrl> {
        self.parsed(&webhook::ENDPOINT_SECRET, EndpointUrl::parse)
    }

    pub fn api_key(&self) -> Option<ApiKey> {
        self.parsed(&webhook::API_KEY_SECRET, ApiKey::parse)
    }

    pub fn signing_secret(&self) -> Option<SigningSecret> {
        self.parsed(&webhook::SIGNING_SECRET, SigningSecret::parse)
    }

    /// Where this profile sends, for the duplicate warnings: per channel,
    /// the secrets that say where (as stored) and Telegram's chat.
    pub fn destinations(&self, profile: &ProfileName, settings: &Settings) -> ProfileDestinations {
        let addresses = PerChannel::from_fn(|channel| {
            let spec = channel.spec();
            let parts: Option<Vec<&str>> = spec
                .secrets
                .iter()
                .filter(|k| k.need == Need::Address)
                .map(|k| self.expose(k))
                .collect();
            let first = spec.secrets.first()?;
            let mut key = parts?.join("\n");
            if let Some(chat) = &settings.channels[channel].chat_id {
                key.push('\n');
                key.push_str(chat);
            }
            Some(Address {
                key,
                shown: self.redacted(first)?,
            })
        });
        ProfileDestinations {
            profile: profile.clone(),
            addresses,
        }
    }

    /// Why `channel` cannot send a test now, if it cannot.
    pub fn test_blocker(&self, channel: Channel, settings: &Settings) -> Option<Blocker> {
        channel::test_blocker(
            channel,
            settings,
            |e| self.holds(e),
            self.keyring_error.as_deref(),
        )
    }

    /// Why `channel` cannot send real events now, if it cannot.
    pub fn send_blocker(&self, channel: Channel, settings: &Settings) -> Option<Blocker> {
        channel::send_blocker(
            channel,
            settings,
            |e| self.holds(e),
            self.keyring_error.as_deref(),
        )
    }

    /// Every secret of the profile with its mask, for scrubbing answers
    /// before anything records them: each as stored, and as each channel
    /// sends it (to the real service and to an override's stand-in).
    pub fn scrubber(&self, settings: &Settings, bases: &ApiBases) -> Scrubber {
        let mut scrub = Scrubber::default();
        for channel in Channel::ALL {
            for kind in channel.spec().secrets {
                if let Some(text) = self.expose(kind) {
                    scrub.add(text, &(kind.redact)(text));
                }
            }
            for bases in [bases, &ApiBases::default()] {
                if let Ok(target) = target::build(channel, settings, self, bases) {
                    target.add_secrets(&mut scrub);
                }
            }
        }
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
        assert!(
            settings.channels[Channel::Discord].events.is_empty(),
            "{settings:?}"
        );
        assert_eq!(
            settings.channels[Channel::Webhook].events,
            crate::core::events::EventSelection::new_channel_default()
        );
    }
}
