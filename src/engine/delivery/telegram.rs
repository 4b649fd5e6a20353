//! Telegram's side of delivery: `sendMessage` (HTML, escaped, within 4096)
//! to the chosen chat, batched at about one message a second, what the Bot
//! API's answers mean, and the two questions that post nothing: Verify
//! (`getMe` + `getChat`) and Find chat (`getUpdates`).

use std::time::Duration;

use time::OffsetDateTime;

use super::chat::parts;
use super::http::{self, HttpAnswer, HttpConfig};
use super::target::{Queueing, Sender, Target};
use crate::core::channels::telegram::{self, BotToken, ChatId, FoundChat};
use crate::core::payload::Event;
use crate::core::redact::Scrubber;
use crate::core::settings::{Channel, ChannelSettings};
use crate::core::summary::Summary;
use crate::engine::profile::SecretsView;

/// Telegram takes about one message per second per chat: a burst waits
/// that long and goes out as one message.
pub const MIN_GAP: Duration = Duration::from_secs(1);

/// Telegram's sender: one bot posting in one chat.
#[derive(Debug, Clone)]
pub struct TelegramTarget {
    pub token: BotToken,
    pub chat: ChatId,
    /// `https://api.telegram.org`, or a stand-in's.
    pub api_base: String,
}

/// The bot's token from the profile's secrets.
fn token(secrets: &SecretsView) -> Result<BotToken, String> {
    secrets
        .parsed(&telegram::TOKEN_SECRET, BotToken::parse)
        .ok_or_else(|| telegram::SPEC.not_set_up.to_string())
}

/// The chosen chat from the channel's settings.
fn chat(settings: &ChannelSettings) -> Result<ChatId, String> {
    settings
        .chat_id
        .as_deref()
        .and_then(|c| ChatId::parse(c).ok())
        .ok_or_else(|| telegram::NO_CHAT.to_string())
}

/// Telegram's target (the registration in `target::build`).
pub fn target(
    settings: &ChannelSettings,
    secrets: &SecretsView,
    api_base: &str,
) -> Result<Target, String> {
    Ok(Target::new(TelegramTarget {
        token: token(secrets)?,
        chat: chat(settings)?,
        api_base: api_base.to_string(),
    }))
}

impl Sender for TelegramTarget {
    fn channel(&self) -> Channel {
        Channel::Telegram
    }

    fn add_secrets(&self, scrub: &mut Scrubber) {
        telegram::add_secrets(scrub, &self.token, &self.api_base);
    }

    /// Shown in the delivery detail: only characters the window's fonts
    /// draw (no arrows), so it never shows as a box.
    fn redacted(&self) -> String {
        format!(
            "{} (chat {})",
            telegram::redacted_method_url(&self.api_base, &self.token, "sendMessage"),
            self.chat
        )
    }

    fn queueing(&self) -> Queueing {
        Queueing::Batched {
            key: format!("telegram:{}:{}", self.token.bot_id(), self.chat),
            max_events: telegram::MAX_EVENTS_PER_MESSAGE,
            min_gap: MIN_GAP,
        }
    }

    fn body(&self, events: &[Event], summary: Option<&Summary>) -> Vec<u8> {
        serde_json::to_vec(&telegram::message(events, summary, &self.chat)).unwrap_or_default()
    }

    fn request(
        &self,
        client: &http::HttpClient,
        _events: &[Event],
        _body: &[u8],
        _at: OffsetDateTime,
        _shown: &mut Vec<super::log::LoggedHeader>,
    ) -> reqwest::RequestBuilder {
        client.post(&telegram::method_url(
            &self.api_base,
            &self.token,
            "sendMessage",
        ))
    }

    fn answer_words(&self, answer: &HttpAnswer) -> Option<String> {
        let (status, headers, body) = parts(answer);
        telegram::answer_words(status, headers, body)
    }

    fn pause_reason(&self, answer: &HttpAnswer) -> Option<String> {
        let (status, headers, body) = parts(answer);
        telegram::pause_reason(status, headers, body)
    }

    fn asked_wait(&self, answer: &HttpAnswer) -> Option<f64> {
        let (status, headers, body) = parts(answer);
        telegram::asked_wait(status, headers, body)
    }

    fn refused_despite_success(&self, answer: &HttpAnswer) -> Option<String> {
        telegram::refused_despite_success(answer.status, &answer.body)
    }
}

/// Calls a Bot API method that posts nothing; its answer, scrubbed of the
/// token, or why not in words.
async fn ask(
    client: &http::HttpClient,
    config: &HttpConfig,
    api_base: &str,
    token: &BotToken,
    method: &str,
    query: &[(&str, String)],
) -> Result<HttpAnswer, String> {
    let mut scrub = Scrubber::default();
    telegram::add_secrets(&mut scrub, token, api_base);
    let mut url = telegram::method_url(api_base, token, method);
    for (i, (name, value)) in query.iter().enumerate() {
        let value: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
        url.push_str(&format!("{}{name}={value}", if i == 0 { '?' } else { '&' }));
    }
    let request = client.get(&url);
    let answer = http::send(request, config.body_cap, config.total_timeout)
        .await
        .map_err(|f| scrub.scrub(&f.words).into_owned())?;
    if !(200..300).contains(&answer.status) {
        let (status, headers, body) = parts(&answer);
        let words = telegram::answer_words(status, headers, body)
            .unwrap_or_else(|| format!("Telegram answered {} {}", status, answer.reason()));
        return Err(scrub.scrub(&words).into_owned());
    }
    Ok(answer)
}

/// Verify: which bot the token is (`getMe`) and, when a chat is chosen,
/// whether the bot can see it (`getChat`).
pub async fn verify(
    client: &http::HttpClient,
    config: &HttpConfig,
    api_base: &str,
    settings: &ChannelSettings,
    secrets: &SecretsView,
) -> Result<super::super::verify::Facts, String> {
    let token = token(secrets)?;
    let me = ask(client, config, api_base, &token, "getMe", &[]).await?;
    let bot = telegram::parse_get_me(&me.body).map_err(|e| e.to_string())?;
    let mut facts = vec![("bot", bot.display())];
    let mut sentence = format!("bot {}", bot.display());
    match chat(settings) {
        Ok(chat_id) => {
            let answer = ask(
                client,
                config,
                api_base,
                &token,
                "getChat",
                &[("chat_id", chat_id.to_string())],
            )
            .await?;
            let chat = telegram::parse_get_chat(&answer.body).map_err(|e| e.to_string())?;
            sentence.push_str(&format!(" posts in {}", chat.display()));
            facts.push(("chat", chat.display()));
        }
        Err(no_chat) => {
            sentence.push_str(&format!("; {no_chat}"));
            facts.push(("chat", "none chosen yet".into()));
        }
    }
    Ok(super::super::verify::Facts { sentence, facts })
}

/// Find chat: the chats that wrote to the bot lately (`getUpdates`, read
/// without an offset so Telegram keeps them), newest first.
pub async fn find_chats(
    client: &http::HttpClient,
    config: &HttpConfig,
    api_base: &str,
    secrets: &SecretsView,
) -> Result<Vec<FoundChat>, String> {
    let token = token(secrets)?;
    let answer = ask(
        client,
        config,
        api_base,
        &token,
        "getUpdates",
        &[("timeout", "0".into())],
    )
    .await?;
    telegram::parse_updates(&answer.body).map_err(|e| e.to_string())
}
