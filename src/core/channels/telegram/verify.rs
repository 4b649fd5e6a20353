//! Reading Telegram's answers to Verify (`getMe`, `getChat`) and Find chat
//! (`getUpdates`): which bot a token is, which chat an id is, and which chats
//! wrote to the bot lately ("send /start to your bot, then press Find chat").
//!
//! Names here come from Telegram users; they are bounded and kept on one
//! line, for showing as plain text.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::answer::{ErrorAnswer, answer_words};
use super::chat_id::ChatId;
use crate::core::channels::event_text::truncate_chars;

/// Names are shown up to this many characters.
const NAME_MAX_CHARS: usize = 100;

/// Why an answer to Verify or Find chat says nothing usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TelegramReplyError {
    /// Telegram said no (`ok: false`); the words say why and what to do.
    #[error("{0}")]
    Refused(String),
    #[error(
        "the answer is not Telegram's (not its JSON): is FARMHOOK_TELEGRAM_API_BASE or a proxy pointing elsewhere?"
    )]
    NotTelegram,
    #[error("Telegram's answer has no {0}: farmhook may need an update")]
    Missing(&'static str),
}

/// The bot a token belongs to, as `getMe` describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BotInfo {
    pub id: u64,
    /// The bot's @username, without the `@`.
    pub username: String,
    pub first_name: String,
}

impl BotInfo {
    /// `@farm_alerts_bot (Farm alerts)`.
    pub fn display(&self) -> String {
        format!("@{} ({})", self.username, self.first_name)
    }
}

/// What kind of chat an id is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatKind {
    Private,
    Group,
    Supergroup,
    Channel,
    /// A kind Telegram added after this was written.
    Other,
}

impl ChatKind {
    fn from_type(text: &str) -> ChatKind {
        match text {
            "private" => ChatKind::Private,
            "group" => ChatKind::Group,
            "supergroup" => ChatKind::Supergroup,
            "channel" => ChatKind::Channel,
            _ => ChatKind::Other,
        }
    }

    /// In words: "private chat", "group", "supergroup", "channel", "chat".
    pub fn words(self) -> &'static str {
        match self {
            ChatKind::Private => "private chat",
            ChatKind::Group => "group",
            ChatKind::Supergroup => "supergroup",
            ChatKind::Channel => "channel",
            ChatKind::Other => "chat",
        }
    }
}

/// A chat as `getChat` describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatInfo {
    pub id: i64,
    pub kind: ChatKind,
    /// The group's or channel's title, or the person's name.
    pub name: String,
    /// The public @username, without the `@`, when it has one.
    pub username: Option<String>,
}

impl ChatInfo {
    /// `Print farm (group)`.
    pub fn display(&self) -> String {
        format!("{} ({})", self.name, self.kind.words())
    }
}

/// How a chat made itself known to the bot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FoundVia {
    /// Someone wrote in it (`/start`, or any message the bot can see).
    Message,
    /// A post in a channel the bot administers.
    ChannelPost,
    /// The bot was added to it or its rights changed.
    AddedToChat,
}

/// A chat that wrote to the bot, for "use this one".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoundChat {
    pub chat_id: ChatId,
    pub kind: ChatKind,
    /// The title or the person's name, for the list.
    pub name: String,
    /// Unix seconds of its newest update.
    pub date: i64,
    pub via: FoundVia,
}

impl FoundChat {
    /// `Print farm (group) · -4001234567`.
    pub fn display(&self) -> String {
        format!("{} ({}) · {}", self.name, self.kind.words(), self.chat_id)
    }
}

/// The `result` of a successful answer, or why there is none.
fn result(body: &[u8]) -> Result<Value, TelegramReplyError> {
    let value: Value = serde_json::from_slice(body).map_err(|_| TelegramReplyError::NotTelegram)?;
    match value.get("ok").and_then(Value::as_bool) {
        Some(true) => value
            .get("result")
            .cloned()
            .ok_or(TelegramReplyError::Missing("result")),
        Some(false) => {
            let code = ErrorAnswer::read(body)
                .error_code
                .and_then(|c| u16::try_from(c).ok())
                .filter(|c| (400..600).contains(c))
                .unwrap_or(400);
            Err(TelegramReplyError::Refused(
                answer_words(code, &[], body)
                    .unwrap_or_else(|| "Telegram refused the request".into()),
            ))
        }
        None => Err(TelegramReplyError::NotTelegram),
    }
}

/// One line, bounded: names are shown as plain text.
fn clean(text: &str) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    truncate_chars(one_line.trim(), NAME_MAX_CHARS)
}

fn text_at<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

/// A chat's or user's name: its title, else first and last name, else
/// @username, else its id.
fn chat_name(chat: &Value, id: i64) -> String {
    if let Some(title) = text_at(chat, "title") {
        return clean(title);
    }
    let person = [text_at(chat, "first_name"), text_at(chat, "last_name")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    if !person.is_empty() {
        return clean(&person);
    }
    match text_at(chat, "username") {
        Some(username) => clean(&format!("@{username}")),
        None => format!("chat {id}"),
    }
}

/// Reads `getMe`'s answer: the bot's id, @username and name.
pub fn parse_get_me(body: &[u8]) -> Result<BotInfo, TelegramReplyError> {
    let bot = result(body)?;
    Ok(BotInfo {
        id: bot
            .get("id")
            .and_then(Value::as_u64)
            .ok_or(TelegramReplyError::Missing("bot id"))?,
        username: clean(text_at(&bot, "username").ok_or(TelegramReplyError::Missing("username"))?),
        first_name: clean(text_at(&bot, "first_name").unwrap_or("")),
    })
}

/// Reads `getChat`'s answer: the chat's id, kind and name.
pub fn parse_get_chat(body: &[u8]) -> Result<ChatInfo, TelegramReplyError> {
    let chat = result(body)?;
    let id = chat
        .get("id")
        .and_then(Value::as_i64)
        .ok_or(TelegramReplyError::Missing("chat id"))?;
    Ok(ChatInfo {
        id,
        kind: ChatKind::from_type(text_at(&chat, "type").unwrap_or("")),
        name: chat_name(&chat, id),
        username: text_at(&chat, "username").map(clean),
    })
}

/// The parts of an update that name a chat, and how.
const UPDATE_KINDS: &[(&str, FoundVia)] = &[
    ("message", FoundVia::Message),
    ("edited_message", FoundVia::Message),
    ("channel_post", FoundVia::ChannelPost),
    ("edited_channel_post", FoundVia::ChannelPost),
    ("my_chat_member", FoundVia::AddedToChat),
];

/// Reads `getUpdates`' answer: each chat that wrote to the bot (or added
/// it) once, newest first. A chat whose newest news is that the bot was
/// removed from it is left out: the bot cannot post there.
pub fn parse_updates(body: &[u8]) -> Result<Vec<FoundChat>, TelegramReplyError> {
    let result = result(body)?;
    let updates = result
        .as_array()
        .ok_or(TelegramReplyError::Missing("list of updates"))?;
    // (date, update id, chat, how, bot removed)
    let mut seen: Vec<(i64, i64, &Value, FoundVia, bool)> = Vec::new();
    for update in updates {
        let update_id = update.get("update_id").and_then(Value::as_i64).unwrap_or(0);
        for (key, via) in UPDATE_KINDS {
            let Some(part) = update.get(*key) else {
                continue;
            };
            let Some(chat) = part.get("chat").filter(|c| c.is_object()) else {
                continue;
            };
            let date = part.get("date").and_then(Value::as_i64).unwrap_or(0);
            let removed = *via == FoundVia::AddedToChat
                && part
                    .get("new_chat_member")
                    .and_then(|m| m.get("status"))
                    .and_then(Value::as_str)
                    .is_some_and(|s| s == "left" || s == "kicked");
            seen.push((date, update_id, chat, *via, removed));
        }
    }
    seen.sort_by_key(|(date, update_id, ..)| std::cmp::Reverse((*date, *update_id)));
    let mut decided = HashSet::new();
    let mut found = Vec::new();
    for (date, _, chat, via, removed) in seen {
        let Some(id) = chat.get("id").and_then(Value::as_i64) else {
            continue;
        };
        if !decided.insert(id) || removed {
            continue;
        }
        found.push(FoundChat {
            chat_id: ChatId::Id(id),
            kind: ChatKind::from_type(text_at(chat, "type").unwrap_or("")),
            name: chat_name(chat, id),
            date,
            via,
        });
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn bytes(value: Value) -> Vec<u8> {
        value.to_string().into_bytes()
    }

    #[test]
    fn get_me_names_the_bot() {
        let body = bytes(json!({"ok": true, "result": {
            "id": 123456789, "is_bot": true, "first_name": "Farm alerts",
            "username": "farm_alerts_bot", "can_join_groups": true}}));
        let bot = parse_get_me(&body).unwrap();
        assert_eq!(bot.id, 123456789);
        assert_eq!(bot.display(), "@farm_alerts_bot (Farm alerts)");
    }

    #[test]
    fn failures_are_in_words() {
        let unauthorized =
            bytes(json!({"ok": false, "error_code": 401, "description": "Unauthorized"}));
        let err = parse_get_me(&unauthorized).unwrap_err().to_string();
        assert!(
            err.contains("the bot token is wrong or was revoked"),
            "{err}"
        );
        let not_found = bytes(
            json!({"ok": false, "error_code": 400, "description": "Bad Request: chat not found"}),
        );
        let err = parse_get_chat(&not_found).unwrap_err().to_string();
        assert!(err.contains("cannot find the chat"), "{err}");
        assert_eq!(
            parse_get_me(b"<html>"),
            Err(TelegramReplyError::NotTelegram)
        );
        assert_eq!(parse_get_me(b"{}"), Err(TelegramReplyError::NotTelegram));
        assert_eq!(
            parse_get_me(&bytes(json!({"ok": true, "result": {"id": 1}}))),
            Err(TelegramReplyError::Missing("username"))
        );
        assert_eq!(
            parse_updates(&bytes(json!({"ok": true, "result": {}}))),
            Err(TelegramReplyError::Missing("list of updates"))
        );
    }

    #[test]
    fn get_chat_gives_title_or_name_and_kind() {
        let group = bytes(json!({"ok": true, "result": {
            "id": -1001234567890i64, "type": "supergroup", "title": "Print farm\nalerts",
            "username": "farmalerts", "accent_color_id": 0}}));
        let chat = parse_get_chat(&group).unwrap();
        assert_eq!(chat.id, -1001234567890);
        assert_eq!(chat.kind, ChatKind::Supergroup);
        assert_eq!(chat.display(), "Print farm alerts (supergroup)");
        assert_eq!(chat.username.as_deref(), Some("farmalerts"));
        let person = bytes(json!({"ok": true, "result": {
            "id": 42, "type": "private", "first_name": "Ada", "last_name": "Lovelace"}}));
        assert_eq!(parse_get_chat(&person).unwrap().name, "Ada Lovelace");
        let nameless = bytes(json!({"ok": true, "result": {"id": 7, "type": "weird"}}));
        let chat = parse_get_chat(&nameless).unwrap();
        assert_eq!((chat.name.as_str(), chat.kind), ("chat 7", ChatKind::Other));
    }

    #[test]
    fn updates_list_each_chat_once_newest_first() {
        let body = bytes(json!({"ok": true, "result": [
            {"update_id": 1, "message": {"message_id": 1, "date": 100, "text": "/start",
                "from": {"id": 42, "is_bot": false, "first_name": "Ada"},
                "chat": {"id": 42, "type": "private", "first_name": "Ada", "username": "ada"}}},
            {"update_id": 2, "my_chat_member": {"date": 110,
                "chat": {"id": -4001, "type": "group", "title": "Print farm"},
                "from": {"id": 42, "is_bot": false, "first_name": "Ada"},
                "old_chat_member": {"status": "left"}, "new_chat_member": {"status": "member"}}},
            {"update_id": 3, "channel_post": {"message_id": 5, "date": 120, "text": "hi",
                "chat": {"id": -1009, "type": "channel", "title": "Farm news"}}},
            {"update_id": 4, "message": {"message_id": 2, "date": 130, "text": "again",
                "chat": {"id": 42, "type": "private", "first_name": "Ada"}}},
            {"update_id": 5, "my_chat_member": {"date": 140,
                "chat": {"id": -4002, "type": "group", "title": "Old farm"},
                "new_chat_member": {"status": "kicked"}}},
            {"update_id": 6, "message": {"message_id": 3, "date": 90,
                "chat": {"id": -4002, "type": "group", "title": "Old farm"}}},
            {"update_id": 7, "callback_query": {"id": "x"}},
        ]}));
        let found = parse_updates(&body).unwrap();
        let shown: Vec<String> = found.iter().map(FoundChat::display).collect();
        assert_eq!(
            shown,
            [
                "Ada (private chat) · 42",
                "Farm news (channel) · -1009",
                "Print farm (group) · -4001",
            ]
        );
        assert_eq!(found[0].date, 130);
        assert_eq!(found[1].via, FoundVia::ChannelPost);
        assert_eq!(found[2].via, FoundVia::AddedToChat);
        assert!(
            parse_updates(&bytes(json!({"ok": true, "result": []})))
                .unwrap()
                .is_empty()
        );
    }

    proptest::proptest! {
        #[test]
        fn no_body_panics(body in "\\PC{0,200}") {
            let _ = parse_get_me(body.as_bytes());
            let _ = parse_get_chat(body.as_bytes());
            let _ = parse_updates(body.as_bytes());
        }
    }
}
