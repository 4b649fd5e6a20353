//! Warnings about destinations that will get the same event twice: two
//! profiles pointing at the same place fire for the same events, so the
//! operator should see it coming. (A custom endpoint can no longer be a
//! Discord URL: `EndpointUrl` refuses chat services' URLs.)

use super::channels::discord::url::DiscordWebhookUrl;
use super::channels::webhook::endpoint_url::EndpointUrl;
use super::profile::ProfileName;

/// Where one profile sends.
#[derive(Debug, Clone)]
pub struct ProfileDestinations {
    pub profile: ProfileName,
    pub discord: Option<DiscordWebhookUrl>,
    pub endpoint: Option<EndpointUrl>,
}

/// The warnings for `this` profile, in words.
pub fn duplicate_warnings(
    this: &ProfileDestinations,
    others: &[ProfileDestinations],
) -> Vec<String> {
    let mut warnings = Vec::new();
    for other in others.iter().filter(|o| o.profile != this.profile) {
        if let (Some(a), Some(b)) = (&this.discord, &other.discord)
            && a.id() == b.id()
        {
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
