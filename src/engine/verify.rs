//! Verify: asking a channel's service what a saved secret points at,
//! without posting anything (Discord's webhook info, …). One registration
//! per channel that can; the window and the command line both call it.

use super::delivery::http::{HttpClient, HttpConfig};
use super::delivery::{discord, pushover, telegram};
use super::profile::SecretsView;
use crate::core::api_base::ApiBases;
use crate::core::settings::{Channel, Settings};

/// What the service said about the secret: one sentence for the window
/// (`posts as “Farm alerts” in channel 1100…`) and the named facts, in
/// order, for the command line (`name` → `Farm alerts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub sentence: String,
    pub facts: Vec<(&'static str, String)>,
}

impl Facts {
    /// The sentence, for the window.
    pub fn line(&self) -> String {
        self.sentence.clone()
    }
}

/// Whether the channel's service can be asked without posting.
pub fn can_verify(channel: Channel) -> bool {
    match channel {
        Channel::Discord | Channel::Telegram | Channel::Pushover => true,
        Channel::Slack | Channel::Webhook => false,
    }
}

/// Asks `channel`'s service about the saved secrets; the answer's facts,
/// or why not in words.
pub async fn verify(
    channel: Channel,
    settings: &Settings,
    secrets: &SecretsView,
    bases: &ApiBases,
    client: &HttpClient,
    http: &HttpConfig,
) -> Result<Facts, String> {
    if let Some(e) = &secrets.keyring_error {
        return Err(format!(
            "its secrets could not be read from the keyring: {e}"
        ));
    }
    let base = bases.base(channel.id());
    match channel {
        Channel::Discord => {
            let url = secrets
                .discord_url()
                .ok_or_else(|| channel.spec().not_set_up.to_string())?;
            let info = discord::verify(client, &url, base, http)
                .await
                .map_err(|e| e.to_string())?;
            let server = info
                .guild_id
                .as_ref()
                .map(|g| format!(" on server {g}"))
                .unwrap_or_default();
            Ok(Facts {
                sentence: format!(
                    "posts as “{}” in channel {}{server}",
                    info.name, info.channel_id
                ),
                facts: vec![
                    ("name", info.name),
                    ("channel", info.channel_id),
                    ("server", info.guild_id.unwrap_or_else(|| "(none)".into())),
                ],
            })
        }
        Channel::Telegram => {
            telegram::verify(client, http, base, &settings.channels[channel], secrets).await
        }
        Channel::Pushover => pushover::verify(client, http, base, secrets).await,
        Channel::Slack | Channel::Webhook => Err(format!(
            "{} cannot be asked without sending: press Test",
            channel.label()
        )),
    }
}
