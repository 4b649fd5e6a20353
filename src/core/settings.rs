//! Everything farmhook remembers that is not secret. Secrets live in the
//! keyring (see `engine::secret_store`); this struct cannot hold one.

use serde::{Deserialize, Serialize};

use super::channel::{ChannelSpec, PerChannel};
use super::events::EventSelection;
use super::printers::{OFFLINE_AFTER_DEFAULT_S, OFFLINE_AFTER_RANGE_S, PrinterConfig, Timing};

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
/// its own; per-channel data lives in `core::channel::PerChannel`, and
/// each channel's rules are registered in `core::channels::SPECS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Discord,
    Slack,
    Telegram,
    Pushover,
    Webhook,
}

impl Channel {
    pub const ALL: [Channel; 5] = [
        Channel::Discord,
        Channel::Slack,
        Channel::Telegram,
        Channel::Pushover,
        Channel::Webhook,
    ];

    /// The channel's rules: its secrets, what it needs, its words.
    pub fn spec(self) -> &'static ChannelSpec {
        &crate::core::channels::SPECS[self as usize]
    }

    pub fn label(self) -> &'static str {
        self.spec().label
    }

    pub fn id(self) -> &'static str {
        self.spec().id
    }

    /// The channel called `id` (`discord`, `webhook`…).
    pub fn from_id(id: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.id() == id)
    }
}

/// One channel's part of the tile. Its secrets live in the keyring.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChannelSettings {
    pub enabled: bool,
    pub events: EventSelection,
    /// Custom webhook: whether deliveries carry a `webhook-signature`
    /// header.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub signing: bool,
    /// Telegram: the chat the bot posts to (not a secret).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_id: Option<String>,
    /// Custom webhook: an endpoint URL that an older farmhook wrote into
    /// this file. The engine moves it to the keyring on load and removes it
    /// from the file; until that has worked (keyring unreachable) it is kept
    /// here, as it was, so nothing is lost.
    #[serde(rename = "url", skip_serializing_if = "Option::is_none")]
    pub legacy_url: Option<LegacyEndpointUrl>,
}

impl Default for ChannelSettings {
    fn default() -> Self {
        ChannelSettings {
            enabled: false,
            events: EventSelection::new_channel_default(),
            signing: false,
            chat_id: None,
            legacy_url: None,
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

/// One profile's settings, as stored in its config file: each channel's
/// part under its id (`"discord": {…}`, `"webhook": {…}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub schema_version: u32,
    pub plan: Plan,
    #[serde(flatten)]
    pub channels: PerChannel<ChannelSettings>,
    /// The printers farmhook watches (their access codes and keys are in
    /// the keyring).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub printers: Vec<PrinterConfig>,
    /// After how many seconds without news a printer is told offline (and
    /// a silence counts as gone): `OFFLINE_AFTER_DEFAULT_S` unless the
    /// operator chose quicker or calmer news.
    #[serde(
        rename = "printer_offline_after_s",
        skip_serializing_if = "is_default_offline_after"
    )]
    pub offline_after_s: u32,
}

fn is_default_offline_after(seconds: &u32) -> bool {
    *seconds == OFFLINE_AFTER_DEFAULT_S
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            schema_version: SETTINGS_SCHEMA_VERSION,
            plan: Plan::default(),
            channels: PerChannel::default(),
            printers: Vec::new(),
            offline_after_s: OFFLINE_AFTER_DEFAULT_S,
        }
    }
}

impl Settings {
    /// Whether the channel's Enable is on and the plan allows it.
    pub fn enabled(&self, channel: Channel) -> bool {
        self.channels[channel].enabled && self.plan_allows(channel)
    }

    /// Whether the plan allows the channel (the custom webhook needs
    /// Commercial).
    pub fn plan_allows(&self, channel: Channel) -> bool {
        !channel.spec().commercial_only || self.plan == Plan::Commercial
    }

    pub fn events(&self, channel: Channel) -> &EventSelection {
        &self.channels[channel].events
    }

    pub fn events_mut(&mut self, channel: Channel) -> &mut EventSelection {
        &mut self.channels[channel].events
    }

    /// How printers' silence and offline news are timed, from
    /// `offline_after_s` (kept within `OFFLINE_AFTER_RANGE_S` whatever a
    /// hand-edited file says).
    pub fn printer_timing(&self) -> Timing {
        Timing::seconds(
            self.offline_after_s
                .clamp(*OFFLINE_AFTER_RANGE_S.start(), *OFFLINE_AFTER_RANGE_S.end()),
        )
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
        assert!(s.channels[Channel::Discord].enabled);
        assert_eq!(
            s.channels[Channel::Discord].events,
            EventSelection::new_channel_default()
        );
        assert_eq!(s.channels[Channel::Webhook], ChannelSettings::default());
        assert_eq!(s.schema_version, SETTINGS_SCHEMA_VERSION);
    }

    #[test]
    fn round_trips_and_keeps_the_selection() {
        let mut s = Settings::default();
        *s.events_mut(Channel::Webhook) = EventSelection::none();
        s.events_mut(Channel::Webhook)
            .set(EventType::from_id("job.failed").unwrap(), true);
        let text = serde_json::to_string_pretty(&s).unwrap();
        assert_eq!(serde_json::from_str::<Settings>(&text).unwrap(), s);
    }

    #[test]
    fn the_custom_webhook_is_enabled_only_on_the_commercial_plan() {
        let mut s = Settings::default();
        s.channels[Channel::Webhook].enabled = true;
        assert!(!s.enabled(Channel::Webhook));
        s.plan = Plan::Commercial;
        assert!(s.enabled(Channel::Webhook));
    }

    #[test]
    fn the_file_keeps_each_channel_under_its_id_and_only_its_own_fields() {
        let s = Settings::default();
        let v = serde_json::to_value(&s).unwrap();
        assert!(v["discord"]["events"].is_array(), "{v}");
        assert!(v["webhook"]["enabled"].is_boolean(), "{v}");
        assert!(v["discord"].get("signing").is_none(), "{v}");
        assert!(v["discord"].get("chat_id").is_none(), "{v}");
    }

    #[test]
    fn an_old_files_endpoint_is_read_kept_until_moved_and_never_debug_printed() {
        let old = r#"{"plan":"commercial","webhook":{"enabled":true,"url":"https://ha.example/api/webhook/s3cret-id"}}"#;
        let mut s: Settings = serde_json::from_str(old).unwrap();
        let legacy = s.channels[Channel::Webhook].legacy_url.clone().unwrap();
        assert_eq!(legacy.0, "https://ha.example/api/webhook/s3cret-id");
        assert!(!format!("{s:?}").contains("s3cret"));
        // Kept in the file until the engine has moved it...
        assert!(serde_json::to_string(&s).unwrap().contains("s3cret-id"));
        // ...and gone from it afterwards.
        s.channels[Channel::Webhook].legacy_url = None;
        assert!(!serde_json::to_string(&s).unwrap().contains("url"));
    }

    #[test]
    fn the_offline_time_is_written_only_when_chosen_and_kept_in_range() {
        let mut s = Settings::default();
        assert!(
            !serde_json::to_string(&s)
                .unwrap()
                .contains("printer_offline_after_s")
        );
        assert_eq!(s.printer_timing(), Timing::seconds(60));
        s.offline_after_s = 20;
        let text = serde_json::to_string(&s).unwrap();
        assert!(text.contains(r#""printer_offline_after_s":20"#), "{text}");
        assert_eq!(serde_json::from_str::<Settings>(&text).unwrap(), s);
        s.offline_after_s = 0;
        assert_eq!(s.printer_timing(), Timing::seconds(5));
        s.offline_after_s = u32::MAX;
        assert_eq!(s.printer_timing(), Timing::seconds(3600));
    }
}
