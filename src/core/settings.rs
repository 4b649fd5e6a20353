//! Everything farmhook remembers that is not secret. Secrets live in the
//! keyring (see `engine::secret_store`); this struct cannot hold one.

use serde::{Deserialize, Serialize};

use super::endpoint_url::EndpointUrl;
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

/// The two places a notification can go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Destination {
    Discord,
    Webhook,
}

impl Destination {
    pub const ALL: [Destination; 2] = [Destination::Discord, Destination::Webhook];

    pub fn label(self) -> &'static str {
        match self {
            Destination::Discord => "Discord",
            Destination::Webhook => "Custom webhook",
        }
    }

    pub fn id(self) -> &'static str {
        match self {
            Destination::Discord => "discord",
            Destination::Webhook => "webhook",
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
            events: EventSelection::all(),
        }
    }
}

/// The custom webhook's part of the tile. The API key and signing secret
/// live in the keyring.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhookSettings {
    pub enabled: bool,
    pub url: Option<EndpointUrl>,
    pub events: EventSelection,
    /// Whether deliveries carry a `webhook-signature` header.
    pub signing: bool,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            enabled: false,
            url: None,
            events: EventSelection::all(),
            signing: false,
        }
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
    /// The custom webhook sends only when enabled, on the Commercial plan.
    pub fn webhook_active(&self) -> bool {
        self.webhook.enabled && self.plan == Plan::Commercial && self.webhook.url.is_some()
    }

    pub fn enabled(&self, destination: Destination) -> bool {
        match destination {
            Destination::Discord => self.discord.enabled,
            Destination::Webhook => self.webhook_active(),
        }
    }

    pub fn events(&self, destination: Destination) -> &EventSelection {
        match destination {
            Destination::Discord => &self.discord.events,
            Destination::Webhook => &self.webhook.events,
        }
    }

    pub fn events_mut(&mut self, destination: Destination) -> &mut EventSelection {
        match destination {
            Destination::Discord => &mut self.discord.events,
            Destination::Webhook => &mut self.webhook.events,
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
        assert_eq!(s.discord.events, EventSelection::all());
        assert_eq!(s.webhook, WebhookSettings::default());
        assert_eq!(s.schema_version, SETTINGS_SCHEMA_VERSION);
    }

    #[test]
    fn round_trips_and_keeps_the_selection() {
        let mut s = Settings::default();
        s.webhook.url = Some(EndpointUrl::parse("https://example.com/in").unwrap());
        s.webhook.events = EventSelection::none();
        s.webhook
            .events
            .set(EventType::from_id("job.failed").unwrap(), true);
        let text = serde_json::to_string_pretty(&s).unwrap();
        assert_eq!(serde_json::from_str::<Settings>(&text).unwrap(), s);
    }

    #[test]
    fn custom_webhook_is_inactive_on_the_free_plan() {
        let mut s = Settings::default();
        s.webhook.enabled = true;
        s.webhook.url = Some(EndpointUrl::parse("https://example.com/in").unwrap());
        assert!(!s.webhook_active());
        s.plan = Plan::Commercial;
        assert!(s.webhook_active());
    }
}
