//! Warnings about destinations that will get the same event twice: a custom
//! webhook that is really a Discord webhook, or two profiles pointing at the
//! same place. Both fire for the same events, so the operator should see it
//! coming.

use super::discord_url::DiscordWebhookUrl;
use super::endpoint_url::EndpointUrl;
use super::profile::ProfileName;

/// Where one profile sends.
#[derive(Debug, Clone)]
pub struct ProfileDestinations {
    pub profile: ProfileName,
    pub discord: Option<DiscordWebhookUrl>,
    pub endpoint: Option<EndpointUrl>,
}

impl ProfileDestinations {
    /// The Discord webhook the custom endpoint is, if it is one.
    fn endpoint_as_discord(&self) -> Option<DiscordWebhookUrl> {
        self.endpoint
            .as_ref()
            .and_then(|e| DiscordWebhookUrl::parse(e.expose().as_str()).ok())
    }

    /// Every Discord webhook id this profile posts to.
    fn discord_ids(&self) -> Vec<u64> {
        self.discord
            .iter()
            .chain(self.endpoint_as_discord().iter())
            .map(DiscordWebhookUrl::id)
            .collect()
    }
}

/// The warnings for `this` profile, in words.
pub fn duplicate_warnings(
    this: &ProfileDestinations,
    others: &[ProfileDestinations],
) -> Vec<String> {
    let mut warnings = Vec::new();
    if let Some(as_discord) = this.endpoint_as_discord() {
        let same = this
            .discord
            .as_ref()
            .is_some_and(|d| d.id() == as_discord.id());
        warnings.push(if same {
            "the custom webhook URL is this profile's Discord webhook: every event will be posted to that channel twice".to_string()
        } else {
            "the custom webhook URL is a Discord webhook URL: Discord will get farmhook's JSON payload, which it does not show as a notification; use the Discord section for Discord".to_string()
        });
    }
    let mine = this.discord_ids();
    for other in others.iter().filter(|o| o.profile != this.profile) {
        if other.discord_ids().iter().any(|id| mine.contains(id)) {
            warnings.push(format!(
                "profile '{}' posts to the same Discord webhook: each event both profiles send will appear twice",
                other.profile
            ));
        }
        if let (Some(a), Some(b)) = (&this.endpoint, &other.endpoint)
            && a.expose() == b.expose()
        {
            warnings.push(format!(
                "profile '{}' sends to the same custom webhook endpoint: your receiver will get each event twice",
                other.profile
            ));
        }
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://discord.com/api/webhooks/42/abcDEF_123-xyz";

    fn dest(name: &str, discord: Option<&str>, endpoint: Option<&str>) -> ProfileDestinations {
        ProfileDestinations {
            profile: ProfileName::parse(name).unwrap(),
            discord: discord.map(|u| DiscordWebhookUrl::parse(u).unwrap()),
            endpoint: endpoint.map(|u| EndpointUrl::parse(u).unwrap()),
        }
    }

    #[test]
    fn a_custom_webhook_that_is_discord_is_named() {
        let w = duplicate_warnings(&dest("a", None, Some(URL)), &[]);
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("is a Discord webhook URL"), "{w:?}");
        let w = duplicate_warnings(&dest("a", Some(URL), Some(URL)), &[]);
        assert!(w[0].contains("twice"), "{w:?}");
    }

    #[test]
    fn two_profiles_on_one_destination_are_named() {
        let me = dest("farm-a", Some(URL), Some("https://hooks.example.com/in"));
        let others = [
            dest("farm-a", Some(URL), None),
            dest(
                "farm-b",
                Some(&URL.replace("discord.com", "discordapp.com")),
                None,
            ),
            dest("farm-c", None, Some("https://HOOKS.example.com/in")),
            dest(
                "farm-d",
                Some("https://discord.com/api/webhooks/43/other"),
                Some("https://hooks.example.com/other"),
            ),
        ];
        let w = duplicate_warnings(&me, &others);
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].contains("farm-b") && w[0].contains("Discord"));
        assert!(w[1].contains("farm-c") && w[1].contains("endpoint"));
        assert!(duplicate_warnings(&dest("x", None, None), &others).is_empty());
    }
}
