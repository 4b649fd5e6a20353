//! "Can this channel send?" decided once, purely, for the engine, the
//! command line and the window's Test button alike: from the settings, which
//! of the channel's secrets the keyring holds, and whether the keyring could
//! be read at all. The answer says why not, in words a user can act on.

use std::ops::{Index, IndexMut};

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::settings::{Channel, Plan, Settings};

/// One value per channel: the map per-channel data lives in (health,
/// pending tests, the log's last delivery per channel…), so adding a
/// channel adds an entry here instead of a field or an array slot
/// everywhere. Serialized as an object keyed by the channel's id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PerChannel<T>([T; Channel::ALL.len()]);

impl<T> PerChannel<T> {
    /// A value for every channel, from `make`.
    pub fn from_fn(mut make: impl FnMut(Channel) -> T) -> Self {
        PerChannel(Channel::ALL.map(&mut make))
    }

    /// Every channel with its value, in the usual order.
    pub fn iter(&self) -> impl Iterator<Item = (Channel, &T)> {
        Channel::ALL.into_iter().zip(self.0.iter())
    }

    /// Every channel's value, in the usual order.
    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.0.iter()
    }

    /// Every channel's value, to change in place.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.0.iter_mut()
    }
}

/// Where a channel's value sits; `ALL` lists every channel once.
fn position(channel: Channel) -> usize {
    Channel::ALL
        .iter()
        .position(|c| *c == channel)
        .unwrap_or_default()
}

impl<T> Index<Channel> for PerChannel<T> {
    type Output = T;
    fn index(&self, channel: Channel) -> &T {
        &self.0[position(channel)]
    }
}

impl<T> IndexMut<Channel> for PerChannel<T> {
    fn index_mut(&mut self, channel: Channel) -> &mut T {
        &mut self.0[position(channel)]
    }
}

impl<T: Serialize> Serialize for PerChannel<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (channel, value) in self.iter() {
            map.serialize_entry(channel.id(), value)?;
        }
        map.end()
    }
}

/// Which secrets the keyring holds (never the secrets themselves).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SecretsHeld {
    pub discord_url: bool,
    pub endpoint: bool,
    pub api_key: bool,
    pub signing_secret: bool,
}

/// Why a channel cannot send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Blocker {
    /// Nothing set up yet (no URL or endpoint): there is nowhere to send.
    NotSetUp,
    /// The keyring could not be read, so the channel's secrets are unknown.
    Keyring(String),
    /// The custom webhook needs the Commercial plan.
    NeedsPlan,
    /// Set up, but a secret it also needs is missing.
    Missing(Missing),
    /// Its Enable is off (real events only; Test ignores Enable).
    Off,
}

/// A secret a set-up channel still needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Missing {
    ApiKey,
    SigningSecret,
}

impl Blocker {
    /// The reason in words, for the log, the command line and the window.
    pub fn words(&self, channel: Channel) -> String {
        match (self, channel) {
            (Blocker::NotSetUp, Channel::Discord) => {
                "no Discord webhook URL is saved yet".to_string()
            }
            (Blocker::NotSetUp, Channel::Webhook) => {
                "the custom webhook has no endpoint URL yet".to_string()
            }
            (Blocker::Keyring(e), _) => {
                format!("its secrets could not be read from the keyring: {e}")
            }
            (Blocker::NeedsPlan, _) => "custom webhooks need the Commercial plan".to_string(),
            (Blocker::Missing(Missing::ApiKey), _) => {
                "the custom webhook needs an API key: generate one".to_string()
            }
            (Blocker::Missing(Missing::SigningSecret), _) => {
                "signing is on but no signing secret is stored: generate one or turn signing off"
                    .to_string()
            }
            (Blocker::Off, channel) => format!("{} is turned off", channel.label()),
        }
    }

    /// True when there is simply nothing to send to: events for such a
    /// channel are not worth a line in the log.
    pub fn not_set_up(&self) -> bool {
        matches!(self, Blocker::NotSetUp)
    }
}

/// Whether `channel` can send a test delivery now (Enable and the event
/// ticks are ignored: Test sends regardless), and if not, why.
pub fn test_blocker(
    channel: Channel,
    settings: &Settings,
    held: SecretsHeld,
    keyring_error: Option<&str>,
) -> Option<Blocker> {
    if channel == Channel::Webhook && settings.plan != Plan::Commercial {
        return Some(Blocker::NeedsPlan);
    }
    if let Some(e) = keyring_error {
        return Some(Blocker::Keyring(e.to_string()));
    }
    match channel {
        Channel::Discord if !held.discord_url => Some(Blocker::NotSetUp),
        Channel::Discord => None,
        Channel::Webhook if !held.endpoint => Some(Blocker::NotSetUp),
        Channel::Webhook if !held.api_key => Some(Blocker::Missing(Missing::ApiKey)),
        Channel::Webhook if settings.webhook.signing && !held.signing_secret => {
            Some(Blocker::Missing(Missing::SigningSecret))
        }
        Channel::Webhook => None,
    }
}

/// Whether `channel` can send real (or simulated) events now, and if not,
/// why. A channel whose Enable is off is `Off` whatever else it lacks, and
/// one with nothing set up is `NotSetUp` even when off, so callers can
/// leave it out of the log.
pub fn send_blocker(
    channel: Channel,
    settings: &Settings,
    held: SecretsHeld,
    keyring_error: Option<&str>,
) -> Option<Blocker> {
    let enabled = match channel {
        Channel::Discord => settings.discord.enabled,
        Channel::Webhook => settings.webhook.enabled,
    };
    let set_up = match channel {
        Channel::Discord => held.discord_url,
        Channel::Webhook => held.endpoint,
    };
    if !enabled {
        // Unknown while the keyring is unreadable: then say it is off.
        return Some(if set_up || keyring_error.is_some() {
            Blocker::Off
        } else {
            Blocker::NotSetUp
        });
    }
    test_blocker(channel, settings, held, keyring_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_held() -> SecretsHeld {
        SecretsHeld {
            discord_url: true,
            endpoint: true,
            api_key: true,
            signing_secret: true,
        }
    }

    fn commercial() -> Settings {
        Settings {
            plan: Plan::Commercial,
            ..Settings::default()
        }
    }

    #[test]
    fn test_ignores_enable_but_needs_the_plan_the_keyring_and_each_secret() {
        let s = commercial();
        let held = all_held();
        assert_eq!(test_blocker(Channel::Discord, &s, held, None), None);
        assert_eq!(test_blocker(Channel::Webhook, &s, held, None), None);
        let free = Settings::default();
        assert_eq!(
            test_blocker(Channel::Webhook, &free, held, None),
            Some(Blocker::NeedsPlan)
        );
        assert_eq!(
            test_blocker(Channel::Discord, &s, held, Some("locked")),
            Some(Blocker::Keyring("locked".into()))
        );
        let no_key = SecretsHeld {
            api_key: false,
            ..held
        };
        assert_eq!(
            test_blocker(Channel::Webhook, &s, no_key, None),
            Some(Blocker::Missing(Missing::ApiKey))
        );
        let mut signing = s.clone();
        signing.webhook.signing = true;
        let no_secret = SecretsHeld {
            signing_secret: false,
            ..held
        };
        assert_eq!(
            test_blocker(Channel::Webhook, &signing, no_secret, None),
            Some(Blocker::Missing(Missing::SigningSecret))
        );
        assert_eq!(
            test_blocker(Channel::Discord, &s, SecretsHeld::default(), None),
            Some(Blocker::NotSetUp)
        );
    }

    #[test]
    fn events_also_need_enable_and_a_channel_never_set_up_is_left_out() {
        let mut s = commercial();
        let held = all_held();
        assert_eq!(
            send_blocker(Channel::Discord, &s, held, None),
            Some(Blocker::Off)
        );
        assert!(
            send_blocker(Channel::Discord, &s, SecretsHeld::default(), None)
                .unwrap()
                .not_set_up()
        );
        s.discord.enabled = true;
        s.webhook.enabled = true;
        assert_eq!(send_blocker(Channel::Discord, &s, held, None), None);
        // Enabled but the keyring is unreadable: a failure to tell, not a
        // silent skip.
        assert_eq!(
            send_blocker(Channel::Discord, &s, SecretsHeld::default(), Some("no bus")),
            Some(Blocker::Keyring("no bus".into()))
        );
        s.plan = Plan::Free;
        assert_eq!(
            send_blocker(Channel::Webhook, &s, held, None),
            Some(Blocker::NeedsPlan)
        );
    }

    #[test]
    fn per_channel_values_are_found_by_channel_and_serialize_by_id() {
        let mut counts = PerChannel::from_fn(|c| c.id().len());
        assert_eq!(counts[Channel::Discord], 7);
        counts[Channel::Webhook] += 1;
        assert_eq!(counts[Channel::Webhook], 8);
        assert_eq!(
            serde_json::to_value(&counts).unwrap(),
            serde_json::json!({"discord": 7, "webhook": 8})
        );
        assert_eq!(counts.iter().count(), Channel::ALL.len());
    }

    #[test]
    fn every_reason_reads_as_a_sentence_about_its_channel() {
        let off = Blocker::Off.words(Channel::Webhook);
        assert_eq!(off, "Custom webhook is turned off");
        assert!(
            Blocker::NotSetUp
                .words(Channel::Discord)
                .contains("Discord")
        );
        assert!(
            Blocker::Keyring("locked".into())
                .words(Channel::Discord)
                .ends_with("locked")
        );
    }
}
