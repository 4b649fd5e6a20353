//! Secrets in the OS keyring (Secret Service, Keychain, Credential Manager).
//!
//! Keyring calls block, sometimes for seconds, so every call here runs on
//! tokio's blocking pool. Nothing falls back to a file when the keyring is
//! out of reach: the caller gets a [`SecretStoreError`] that says what to do.

use crate::core::channel::SecretSpec;
use crate::core::channels::discord::URL_SECRET;
use crate::core::channels::discord::url::DiscordWebhookUrl;
use crate::core::channels::webhook::api_key::{ApiKey, SigningSecret};
use crate::core::channels::webhook::endpoint_url::EndpointUrl;
use crate::core::channels::webhook::{API_KEY_SECRET, ENDPOINT_SECRET, SIGNING_SECRET};
use crate::core::profile::ProfileName;

/// The keyring service name of every farmhook entry.
pub const KEYRING_SERVICE: &str = "farmhook";

/// A secret a profile can hold: one of the channels' secrets
/// (`core::channels::SPECS`), which names its keyring entry.
pub type SecretKind = &'static SecretSpec;

/// The keyring entry of a printer's access code or API key.
fn printer_entry(printer: &str) -> String {
    format!("printer/{printer}")
}

/// Why the keyring could not be used, in words a user can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretStoreError {
    #[error(
        "the OS keyring is out of reach: no D-Bus session bus is running, so the Secret Service cannot be used. \
         Run farmhook inside a desktop session (or under `dbus-run-session`) with gnome-keyring or KeePassXC's \
         Secret Service, then start farmhook again. Secrets are never written to plain files instead"
    )]
    NoSessionBus,
    #[error(
        "no Secret Service is running: start gnome-keyring (gnome-keyring-daemon --start --components=secrets) \
         or enable KeePassXC's Secret Service integration, then try again. Secrets are never written to plain files instead"
    )]
    NoSecretService,
    #[error(
        "the keyring is locked: unlock it (for example in Passwords and Keys / Seahorse) and try again"
    )]
    Locked,
    #[error("the keyring refused the request: {0}")]
    Failed(String),
    #[error("the {0} stored in the keyring is not valid any more ({1}); set it again")]
    Invalid(&'static str, String),
}

impl SecretStoreError {
    fn from_keyring(e: keyring::Error) -> Self {
        // When the store could not start, the reason is kept aside.
        let detail = match (&e, keyring::Entry::store_status()) {
            (keyring::Error::NoDefaultStore, Err(start)) => start.to_string(),
            _ => e.to_string(),
        };
        let lower = detail.to_ascii_lowercase();
        match e {
            _ if lower.contains("org.freedesktop.secrets") || lower.contains("serviceunknown") => {
                SecretStoreError::NoSecretService
            }
            _ if lower.contains("failed to connect") || lower.contains("session bus") => {
                SecretStoreError::NoSessionBus
            }
            keyring::Error::NoDefaultStore => SecretStoreError::NoSessionBus,
            keyring::Error::NoStorageAccess(_) => SecretStoreError::Locked,
            _ if lower.contains("locked") => SecretStoreError::Locked,
            _ => SecretStoreError::Failed(detail.chars().take(300).collect()),
        }
    }
}

/// One profile's entries in the keyring: service `farmhook`, user
/// `<profile>/<secret>`.
#[derive(Debug, Clone)]
pub struct SecretStore {
    profile: ProfileName,
}

impl SecretStore {
    pub fn new(profile: ProfileName) -> Self {
        SecretStore { profile }
    }

    fn user(&self, entry: &str) -> String {
        format!("{}/{entry}", self.profile)
    }

    async fn blocking<T: Send + 'static>(
        &self,
        kind: SecretKind,
        op: impl FnOnce(keyring::Entry) -> Result<T, keyring::Error> + Send + 'static,
    ) -> Result<T, SecretStoreError> {
        self.blocking_entry(kind.entry, op).await
    }

    async fn blocking_entry<T: Send + 'static>(
        &self,
        entry: &str,
        op: impl FnOnce(keyring::Entry) -> Result<T, keyring::Error> + Send + 'static,
    ) -> Result<T, SecretStoreError> {
        let user = self.user(entry);
        let run = move || {
            let entry = keyring::Entry::new(KEYRING_SERVICE, &user)?;
            op(entry)
        };
        tokio::task::spawn_blocking(run)
            .await
            .map_err(|e| SecretStoreError::Failed(format!("the keyring task stopped: {e}")))?
            .map_err(SecretStoreError::from_keyring)
    }

    /// Reads a secret; `None` when it was never set.
    pub async fn get(&self, kind: SecretKind) -> Result<Option<String>, SecretStoreError> {
        self.blocking(kind, |entry| match entry.get_password() {
            Ok(value) => Ok(Some(value)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(e),
        })
        .await
    }

    pub async fn set(&self, kind: SecretKind, value: String) -> Result<(), SecretStoreError> {
        self.blocking(kind, move |entry| entry.set_password(&value))
            .await
    }

    /// Removes a secret; removing one that is not there is fine.
    pub async fn delete(&self, kind: SecretKind) -> Result<(), SecretStoreError> {
        self.blocking(kind, |entry| match entry.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(e),
        })
        .await
    }

    /// Whether the keyring answers at all (a read of the Discord entry).
    pub async fn check(&self) -> Result<(), SecretStoreError> {
        self.get(&URL_SECRET).await.map(|_| ())
    }

    /// A printer's access code or API key: entry `printer/<name>`.
    pub async fn printer_secret(&self, printer: &str) -> Result<Option<String>, SecretStoreError> {
        self.blocking_entry(&printer_entry(printer), |entry| {
            match entry.get_password() {
                Ok(value) => Ok(Some(value)),
                Err(keyring::Error::NoEntry) => Ok(None),
                Err(e) => Err(e),
            }
        })
        .await
    }

    pub async fn set_printer_secret(
        &self,
        printer: &str,
        value: String,
    ) -> Result<(), SecretStoreError> {
        self.blocking_entry(&printer_entry(printer), move |entry| {
            entry.set_password(&value)
        })
        .await
    }

    /// Removes a printer's secret; removing one that is not there is fine.
    pub async fn delete_printer_secret(&self, printer: &str) -> Result<(), SecretStoreError> {
        self.blocking_entry(&printer_entry(printer), |entry| {
            match entry.delete_credential() {
                Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
                Err(e) => Err(e),
            }
        })
        .await
    }

    /// Reads a secret and parses it into its type; a stored value that no
    /// longer parses is an error that says to set it again.
    pub async fn get_parsed<T, E: std::fmt::Display>(
        &self,
        kind: SecretKind,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<Option<T>, SecretStoreError> {
        self.get(kind)
            .await?
            .map(|text| {
                parse(&text).map_err(|e| SecretStoreError::Invalid(kind.words, e.to_string()))
            })
            .transpose()
    }

    pub async fn discord_url(&self) -> Result<Option<DiscordWebhookUrl>, SecretStoreError> {
        self.get_parsed(&URL_SECRET, DiscordWebhookUrl::parse).await
    }

    pub async fn endpoint_url(&self) -> Result<Option<EndpointUrl>, SecretStoreError> {
        self.get_parsed(&ENDPOINT_SECRET, EndpointUrl::parse).await
    }

    pub async fn api_key(&self) -> Result<Option<ApiKey>, SecretStoreError> {
        self.get_parsed(&API_KEY_SECRET, ApiKey::parse).await
    }

    pub async fn signing_secret(&self) -> Result<Option<SigningSecret>, SecretStoreError> {
        self.get_parsed(&SIGNING_SECRET, SigningSecret::parse).await
    }
}
