//! Everything farmhook remembers that is not secret. Secrets live in the
//! keyring (see `engine::secret_store`); this struct cannot hold one.

use serde::{Deserialize, Serialize};

use super::events::EventSelection;

/// The version of the settings file this build writes.
pub const SETTINGS_SCHEMA_VERSION: u32 = 1;

/// The account plan: the custom webhook needs Commercial.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Plan {
    #[default]
    Free,
    Commercial,
}

impl Plan {
    pub fn label(self) -> &'static str {
        match self {
            Plan::Free => "Free",
            Plan::Commercial => "Commercial",
        }
    }
}

/// The notification channels, as the tile lists them (each configured on
/// its own; per-channel data lives in `core::channel::PerChannel`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Discord,
    Webhook,
}

impl Channel {
    pub const ALL: [Channel; 2] = [Channel::Discord, Channel::Webhook];

    pub fn label(self) -> &'static str {
        match self {
            Channel::Discord => "Discord",
            Channel::Webhook => "Custom webhook",
        }
    }

    pub fn id(self) -> &'static str {
        match self {
            Channel::Discord => "discord",
            Channel::Webhook => "webhook",
        }
    }
}

/// Discord's part of the tile. The URL itself is a secret (it carries the
/// token) and lives in the keyring.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DiscordSettings {
    pub enabled: bool,
    pub events: EventSelection,
}

impl Default for DiscordSettings {
    fn default() -> Self {
        DiscordSettings {
            enabled: false,
            events: EventSelection::new_channel_default(),
        }
    }
}

/// The custom webhook's part of the tile. The endpoint URL, API key and
/// signing secret live in the keyring.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhookSettings {
    pub enabled: bool,
    /// An endpoint URL that an older farmhook wrote into this file. The
    /// engine moves it to the keyring on load and removes it from the file;
    /// until that has worked (keyring unreachable) it is kept here, as it
    /// was, so nothing is lost.
    #[serde(rename = "url", skip_serializing_if = "Option::is_none")]
    pub legacy_url: Option<LegacyEndpointUrl>,
    pub events: EventSelection,
    /// Whether deliveries carry a `webhook-signature` header.
    pub signing: bool,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            enabled: false,
            legacy_url: None,
            events: EventSelection::new_channel_default(),
            signing: false,
        }
    }
}

/// An endpoint URL found in an old settings file: text, as it was written,
/// that never shows itself in `Debug`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LegacyEndpointUrl(pub String);

impl std::fmt::Debug for LegacyEndpointUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LegacyEndpointUrl(••••)")
    }
}

/// One profile's settings, as stored in its config file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub schema_version: u32,
    pub plan: Plan,
    pub discord: DiscordSettings,
    pub webhook: WebhookSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            schema_version: SETTINGS_SCHEMA_VERSION,
            plan: Plan::default(),
            discord: DiscordSettings::default(),
            webhook: WebhookSettings::default(),
        }
    }
}

impl Settings {
    /// The custom webhook sends only when enabled, on the Commercial plan,
    /// with an endpoint (kept in the keyring: the caller says if there is one).
    pub fn webhook_active(&self, has_endpoint: bool) -> bool {
        self.webhook.enabled && self.plan == Plan::Commercial && has_endpoint
    }

    /// Whether the destination's Enable is on (and, for the custom webhook,
    /// the plan allows it).
    pub fn enabled(&self, destination: Channel) -> bool {
        match destination {
            Channel::Discord => self.discord.enabled,
            Channel::Webhook => self.webhook.enabled && self.plan == Plan::Commercial,
        }
    }

    pub fn events(&self, destination: Channel) -> &EventSelection {
        match destination {
            Channel::Discord => &self.discord.events,
            Channel::Webhook => &self.webhook.events,
        }
    }

    pub fn events_mut(&mut self, destination: Channel) -> &mut EventSelection {
        match destination {
            Channel::Discord => &mut self.discord.events,
            Channel::Webhook => &mut self.webhook.events,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::events::EventType;

    #[test]
    fn missing_fields_take_their_defaults() {
        let s: Settings =
            serde_json::from_str(r#"{"plan":"commercial","discord":{"enabled":true}}"#).unwrap();
        assert_eq!(s.plan, Plan::Commercial);
        assert!(s.discord.enabled);
        assert_eq!(s.discord.events, EventSelection::new_channel_default());
        assert_eq!(s.webhook, WebhookSettings::default());
        assert_eq!(s.schema_version, SETTINGS_SCHEMA_VERSION);
    }

    #[test]
    fn round_trips_and_keeps_the_selection() {
        let mut s = Settings::default();
        s.webhook.events = EventSelection::none();
        s.webhook
            .events
            .set(EventType::from_id("job.failed").unwrap(), true);
        let text = serde_json::to_string_pretty(&s).unwrap();
        assert_eq!(serde_json::from_str::<Settings>(&text).unwrap(), s);
    }

    #[test]
    fn custom_webhook_is_inactive_on_the_free_plan_or_without_an_endpoint() {
        let mut s = Settings::default();
        s.webhook.enabled = true;
        assert!(!s.webhook_active(true));
        s.plan = Plan::Commercial;
        assert!(s.webhook_active(true));
        assert!(!s.webhook_active(false));
    }

    #[test]
    fn an_old_files_endpoint_is_read_kept_until_moved_and_never_debug_printed() {
        let old = r#"{"plan":"commercial","webhook":{"enabled":true,"url":"https://ha.example/api/webhook/s3cret-id"}}"#;
        let mut s: Settings = serde_json::from_str(old).unwrap();
        let legacy = s.webhook.legacy_url.clone().unwrap();
        assert_eq!(legacy.0, "https://ha.example/api/webhook/s3cret-id");
        assert!(!format!("{s:?}").contains("s3cret"));
        // Kept in the file until the engine has moved it...
        assert!(serde_json::to_string(&s).unwrap().contains("s3cret-id"));
        // ...and gone from it afterwards.
        s.webhook.legacy_url = None;
        assert!(!serde_json::to_string(&s).unwrap().contains("url"));
    }
}
