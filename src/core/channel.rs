//! "Can this channel send?" decided once, purely, for the engine, the
//! command line and the window's Test button alike: from the settings, which
//! of the channel's secrets the keyring holds, and whether the keyring could
//! be read at all. The answer says why not, in words a user can act on.

use std::ops::{Index, IndexMut};

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};

use super::settings::{Channel, ChannelSettings, Settings};

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

impl<'de, T: Deserialize<'de> + Default> Deserialize<'de> for PerChannel<T> {
    /// Reads an object keyed by channel id; a channel that is not there
    /// takes its default, and keys that name no channel are left alone
    /// (they belong to the file's other parts).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de> + Default> Visitor<'de> for Visit<T> {
            type Value = PerChannel<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object keyed by channel id")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut values = PerChannel::from_fn(|_| T::default());
                while let Some(key) = map.next_key::<String>()? {
                    match Channel::from_id(&key) {
                        Some(channel) => values[channel] = map.next_value()?,
                        None => {
                            map.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(values)
            }
        }
        d.deserialize_map(Visit(std::marker::PhantomData))
    }
}

/// One channel's rules, registered once in `core::channels::SPECS`: what
/// it is called, which secrets it keeps in the keyring and what each is
/// needed for, and what else it needs before it can send.
#[derive(Debug)]
pub struct ChannelSpec {
    pub channel: Channel,
    /// Its id on the command line and in files (`discord`).
    pub id: &'static str,
    /// Its name in the window (`Custom webhook`).
    pub label: &'static str,
    /// Only on the Commercial plan (the custom webhook 💎).
    pub commercial_only: bool,
    /// Why it cannot send before its first secret is saved, in words.
    pub not_set_up: &'static str,
    /// How to set it up from the command line (values on stdin, never as
    /// arguments that land in shell history).
    pub set_up_hint: &'static str,
    /// Its secrets, the one that sets it up first.
    pub secrets: &'static [SecretSpec],
    /// What its settings still lack before it can send (Telegram's chat),
    /// in words.
    pub settings_missing: fn(&ChannelSettings) -> Option<&'static str>,
}

impl ChannelSpec {
    /// The secret whose entry is `entry`.
    pub fn secret(&self, entry: &str) -> Option<&'static SecretSpec> {
        self.secrets.iter().find(|s| s.entry == entry)
    }
}

/// A secret a channel keeps in the keyring.
#[derive(Debug)]
pub struct SecretSpec {
    /// Its keyring entry's name after `<profile>/`, unique across channels.
    pub entry: &'static str,
    /// In words: `Discord webhook URL`.
    pub words: &'static str,
    /// Its key in `farmhook status --json` (redacted there).
    pub status_key: &'static str,
    pub need: Need,
    /// Checks what the user gave: the text to keep, or why not (words).
    pub parse: fn(&str) -> Result<String, String>,
    /// How a kept value may be shown.
    pub redact: fn(&str) -> String,
    /// Makes a new one, for secrets farmhook creates itself (API keys).
    pub generate: Option<fn() -> Result<String, String>>,
    /// What a generated one is for, after "generated ": the note the user
    /// sees when enabling the channel made one.
    pub generated_note: &'static str,
}

/// What a channel needs a secret for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Where it sends: without it the channel is not set up at all.
    Address,
    /// Needed too; the words say what to do when it is missing.
    Always(&'static str),
    /// Needed while signing is on.
    WhenSigning(&'static str),
}

/// Why a channel cannot send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Blocker {
    /// Nothing set up yet (no URL, token or endpoint): nowhere to send.
    NotSetUp,
    /// The keyring could not be read, so the channel's secrets are unknown.
    Keyring(String),
    /// The channel needs the Commercial plan.
    NeedsPlan,
    /// Set up, but it still needs something: what to do, in words.
    Missing(&'static str),
    /// Its Enable is off (real events only; Test ignores Enable).
    Off,
}

impl Blocker {
    /// The reason in words, for the log, the command line and the window.
    pub fn words(&self, channel: Channel) -> String {
        match self {
            Blocker::NotSetUp => channel.spec().not_set_up.to_string(),
            Blocker::Keyring(e) => format!("its secrets could not be read from the keyring: {e}"),
            Blocker::NeedsPlan => format!("{} needs the Commercial plan", channel.label()),
            Blocker::Missing(words) => words.to_string(),
            Blocker::Off => format!("{} is turned off", channel.label()),
        }
    }

    /// True when there is simply nothing to send to: events for such a
    /// channel are not worth a line in the log.
    pub fn not_set_up(&self) -> bool {
        matches!(self, Blocker::NotSetUp)
    }
}

/// Whether `channel` can send a test delivery now (Enable and the event
/// ticks are ignored: Test sends regardless), and if not, why. `held` says
/// whether the keyring holds a secret (by entry name).
pub fn test_blocker(
    channel: Channel,
    settings: &Settings,
    held: impl Fn(&str) -> bool,
    keyring_error: Option<&str>,
) -> Option<Blocker> {
    let spec = channel.spec();
    if !settings.plan_allows(channel) {
        return Some(Blocker::NeedsPlan);
    }
    if let Some(e) = keyring_error {
        return Some(Blocker::Keyring(e.to_string()));
    }
    let own = &settings.channels[channel];
    for secret in spec.secrets.iter().filter(|s| !held(s.entry)) {
        match secret.need {
            Need::Address => return Some(Blocker::NotSetUp),
            Need::Always(words) => return Some(Blocker::Missing(words)),
            Need::WhenSigning(words) if own.signing => return Some(Blocker::Missing(words)),
            Need::WhenSigning(_) => {}
        }
    }
    (spec.settings_missing)(own).map(Blocker::Missing)
}

/// Whether `channel` can send real (or simulated) events now, and if not,
/// why. A channel whose Enable is off is `Off` whatever else it lacks, and
/// one with nothing set up is `NotSetUp` even when off, so callers can
/// leave it out of the log.
pub fn send_blocker(
    channel: Channel,
    settings: &Settings,
    held: impl Fn(&str) -> bool,
    keyring_error: Option<&str>,
) -> Option<Blocker> {
    if !settings.channels[channel].enabled {
        let set_up = channel
            .spec()
            .secrets
            .iter()
            .filter(|s| s.need == Need::Address)
            .all(|s| held(s.entry));
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
    use crate::core::settings::Plan;

    fn all_held(_: &str) -> bool {
        true
    }

    fn none_held(_: &str) -> bool {
        false
    }

    fn all_but(entry: &'static str) -> impl Fn(&str) -> bool {
        move |e| e != entry
    }

    fn commercial() -> Settings {
        Settings {
            plan: Plan::Commercial,
            ..Settings::default()
        }
    }

    #[test]
    fn every_channel_is_registered_once_in_its_place() {
        for (i, channel) in Channel::ALL.into_iter().enumerate() {
            assert_eq!(channel.spec().channel, channel);
            assert_eq!(channel as usize, i);
            assert_eq!(Channel::from_id(channel.id()), Some(channel));
            assert_eq!(
                channel.spec().secrets.first().map(|s| s.need),
                Some(Need::Address),
                "{channel:?}: its first secret sets it up"
            );
        }
        let mut entries: Vec<&str> = Channel::ALL
            .iter()
            .flat_map(|c| c.spec().secrets.iter().map(|s| s.entry))
            .collect();
        let count = entries.len();
        entries.sort();
        entries.dedup();
        assert_eq!(entries.len(), count, "keyring entries are unique");
    }

    #[test]
    fn test_ignores_enable_but_needs_the_plan_the_keyring_and_each_secret() {
        let s = commercial();
        assert_eq!(test_blocker(Channel::Discord, &s, all_held, None), None);
        assert_eq!(test_blocker(Channel::Webhook, &s, all_held, None), None);
        let free = Settings::default();
        assert_eq!(
            test_blocker(Channel::Webhook, &free, all_held, None),
            Some(Blocker::NeedsPlan)
        );
        assert_eq!(
            test_blocker(Channel::Discord, &s, all_held, Some("locked")),
            Some(Blocker::Keyring("locked".into()))
        );
        let Some(Blocker::Missing(words)) =
            test_blocker(Channel::Webhook, &s, all_but("webhook-api-key"), None)
        else {
            panic!("a missing key blocks the webhook");
        };
        assert!(words.contains("API key"), "{words}");
        // The signing secret is needed only while signing is on.
        let no_secret = all_but("webhook-signing-secret");
        assert_eq!(test_blocker(Channel::Webhook, &s, &no_secret, None), None);
        let mut signing = s.clone();
        signing.channels[Channel::Webhook].signing = true;
        let Some(Blocker::Missing(words)) =
            test_blocker(Channel::Webhook, &signing, &no_secret, None)
        else {
            panic!("signing without a secret blocks the webhook");
        };
        assert!(words.contains("signing"), "{words}");
        assert_eq!(
            test_blocker(Channel::Discord, &s, none_held, None),
            Some(Blocker::NotSetUp)
        );
    }

    #[test]
    fn events_also_need_enable_and_a_channel_never_set_up_is_left_out() {
        let mut s = commercial();
        assert_eq!(
            send_blocker(Channel::Discord, &s, all_held, None),
            Some(Blocker::Off)
        );
        assert!(
            send_blocker(Channel::Discord, &s, none_held, None)
                .unwrap()
                .not_set_up()
        );
        s.channels[Channel::Discord].enabled = true;
        s.channels[Channel::Webhook].enabled = true;
        assert_eq!(send_blocker(Channel::Discord, &s, all_held, None), None);
        // Enabled but the keyring is unreadable: a failure to tell, not a
        // silent skip.
        assert_eq!(
            send_blocker(Channel::Discord, &s, none_held, Some("no bus")),
            Some(Blocker::Keyring("no bus".into()))
        );
        s.plan = Plan::Free;
        assert_eq!(
            send_blocker(Channel::Webhook, &s, all_held, None),
            Some(Blocker::NeedsPlan)
        );
    }

    #[test]
    fn per_channel_values_are_found_by_channel_and_serialize_by_id() {
        let mut counts = PerChannel::from_fn(|c| c.id().len());
        assert_eq!(counts[Channel::Discord], 7);
        counts[Channel::Webhook] += 1;
        assert_eq!(counts[Channel::Webhook], 8);
        let json = serde_json::to_value(&counts).unwrap();
        assert_eq!(json["discord"], 7);
        assert_eq!(json["webhook"], 8);
        assert_eq!(counts.iter().count(), Channel::ALL.len());
        // Read back: unknown keys are left alone, missing ones default.
        let back: PerChannel<usize> =
            serde_json::from_value(serde_json::json!({"webhook": 3, "printers": []})).unwrap();
        assert_eq!(back[Channel::Webhook], 3);
        assert_eq!(back[Channel::Discord], 0);
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
        assert!(
            Blocker::NeedsPlan
                .words(Channel::Webhook)
                .contains("Commercial")
        );
    }
}
