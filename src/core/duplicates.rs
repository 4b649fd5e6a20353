//! Warnings about destinations that will get the same event twice: two
//! profiles pointing at the same place fire for the same events, so the
//! operator should see it coming. (A custom endpoint can no longer be a
//! Discord URL: `EndpointUrl` refuses chat services' URLs.)

use super::channel::PerChannel;
use super::profile::ProfileName;
use super::settings::Channel;

/// Where one profile sends: per channel, its address as stored (the
/// secrets that say where it sends, normalised when they were parsed, and
/// Telegram's chat), with how it may be shown.
#[derive(Clone, Default)]
pub struct ProfileDestinations {
    pub profile: ProfileName,
    pub addresses: PerChannel<Option<Address>>,
}

/// A channel's address: compared as `key`, shown as `shown`.
#[derive(Clone, PartialEq, Eq)]
pub struct Address {
    pub key: String,
    pub shown: String,
}

impl std::fmt::Debug for ProfileDestinations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown: Vec<String> = self
            .addresses
            .iter()
            .filter_map(|(c, a)| a.as_ref().map(|a| format!("{}: {}", c.id(), a.shown)))
            .collect();
        write!(f, "ProfileDestinations({}, {shown:?})", self.profile)
    }
}

/// The warnings for `this` profile, in words.
pub fn duplicate_warnings(
    this: &ProfileDestinations,
    others: &[ProfileDestinations],
) -> Vec<String> {
    let mut warnings = Vec::new();
    for other in others.iter().filter(|o| o.profile != this.profile) {
        for channel in Channel::ALL {
            if let (Some(a), Some(b)) = (&this.addresses[channel], &other.addresses[channel])
                && a.key == b.key
            {
                warnings.push(format!(
                    "profile '{}' also sends to this {} ({}): each event both profiles send will arrive twice",
                    other.profile,
                    channel.label(),
                    a.shown
                ));
            }
        }
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dest(name: &str, discord: Option<&str>, endpoint: Option<&str>) -> ProfileDestinations {
        let address = |key: Option<&str>| {
            key.map(|k| Address {
                key: k.to_string(),
                shown: format!("shown-{}", k.len()),
            })
        };
        let mut addresses = PerChannel::default();
        addresses[Channel::Discord] = address(discord);
        addresses[Channel::Webhook] = address(endpoint);
        ProfileDestinations {
            profile: ProfileName::parse(name).unwrap(),
            addresses,
        }
    }

    #[test]
    fn two_profiles_on_one_destination_are_named() {
        let url = "https://discord.com/api/v10/webhooks/42/abcDEF_123-xyz";
        let me = dest("farm-a", Some(url), Some("https://hooks.example.com/in"));
        let others = [
            dest("farm-a", Some(url), None),
            dest("farm-b", Some(url), None),
            dest("farm-c", None, Some("https://hooks.example.com/in")),
            dest(
                "farm-d",
                Some("https://discord.com/api/v10/webhooks/43/other"),
                Some("https://hooks.example.com/other"),
            ),
        ];
        let w = duplicate_warnings(&me, &others);
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].contains("farm-b") && w[0].contains("Discord"));
        assert!(w[1].contains("farm-c") && w[1].contains("Custom webhook"));
        assert!(!w.join(" ").contains("abcDEF"), "{w:?}");
        assert!(duplicate_warnings(&dest("x", None, None), &others).is_empty());
    }
}
