//! The chat a bot posts to: a number (a person's or group's id, negative for
//! groups and `-100…` for supergroups and channels) or a public channel's
//! `@username`. Not secret: it only works together with the bot token.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Telegram usernames have 5 to 32 characters.
const USERNAME_MIN_CHARS: usize = 5;
const USERNAME_MAX_CHARS: usize = 32;
/// Longest input we look at.
const MAX_INPUT_LEN: usize = 200;

/// Why a pasted text is not a Telegram chat id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChatIdError {
    #[error(
        "the chat id is empty: send /start to your bot (or post in the group or channel), then press Find chat"
    )]
    Empty,
    #[error(
        "'{0}' is not a chat id: it is a number like 123456789 or -1001234567890, or a public channel's @name"
    )]
    NotAChatId(String),
    #[error("the chat id {0} is out of range: copy it again (Find chat fills it in)")]
    OutOfRange(String),
    #[error(
        "the chat id 0 is not a chat: send /start to your bot, then press Find chat to fill it in"
    )]
    Zero,
    #[error(
        "'@{0}' is not a valid username: it has 5 to 32 letters, digits or '_' and starts with a letter"
    )]
    BadUsername(String),
}

/// Where messages go: a chat's number or a public channel's username.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum ChatId {
    /// A chat's numeric id (negative for groups, `-100…` for supergroups and
    /// channels).
    Id(i64),
    /// A public channel's or supergroup's username, without the `@`.
    Username(String),
}

impl ChatId {
    /// Parses what a user typed: `123456789`, `-1001234567890`,
    /// `@channelname`, or a `https://t.me/channelname` link. Surrounding
    /// whitespace is ignored.
    pub fn parse(input: &str) -> Result<Self, ChatIdError> {
        use ChatIdError as E;
        let text = input.trim();
        if text.is_empty() {
            return Err(E::Empty);
        }
        let shown = || text.chars().take(40).collect::<String>();
        if text.len() > MAX_INPUT_LEN {
            return Err(E::NotAChatId(shown()));
        }
        let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            let id: i64 = text
                .strip_prefix('+')
                .unwrap_or(text)
                .parse()
                .map_err(|_| E::OutOfRange(shown()))?;
            return if id == 0 {
                Err(E::Zero)
            } else {
                Ok(ChatId::Id(id))
            };
        }
        let name = if let Some(name) = text.strip_prefix('@') {
            name
        } else if let Some(name) = t_me_name(text) {
            name
        } else {
            return Err(E::NotAChatId(shown()));
        };
        if is_username(name) {
            Ok(ChatId::Username(name.to_string()))
        } else {
            Err(E::BadUsername(name.chars().take(40).collect()))
        }
    }

    /// The value of `chat_id` in a request body: a JSON number or `"@name"`.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            ChatId::Id(id) => serde_json::Value::from(*id),
            ChatId::Username(name) => serde_json::Value::from(format!("@{name}")),
        }
    }
}

/// `name` of `https://t.me/name` or `t.me/name` (also telegram.me).
fn t_me_name(text: &str) -> Option<&str> {
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
        .unwrap_or(text);
    let rest = rest
        .strip_prefix("t.me/")
        .or_else(|| rest.strip_prefix("telegram.me/"))?;
    Some(rest.trim_end_matches('/'))
}

fn is_username(name: &str) -> bool {
    let len = name.len();
    (USERNAME_MIN_CHARS..=USERNAME_MAX_CHARS).contains(&len)
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

impl FromStr for ChatId {
    type Err = ChatIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for ChatId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChatId::Id(id) => write!(f, "{id}"),
            ChatId::Username(name) => write!(f, "@{name}"),
        }
    }
}

impl fmt::Debug for ChatId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChatId({self})")
    }
}

/// Stored as Telegram writes it: a number, or a string `"@name"`.
impl Serialize for ChatId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ChatId::Id(id) => serializer.serialize_i64(*id),
            ChatId::Username(name) => serializer.serialize_str(&format!("@{name}")),
        }
    }
}

/// Read back through [`ChatId::parse`], so a hand-edited settings file can
/// hold only valid chat ids.
impl<'de> Deserialize<'de> for ChatId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(i64),
            Text(String),
        }
        let text = match Raw::deserialize(deserializer)? {
            Raw::Number(id) => id.to_string(),
            Raw::Text(text) => text,
        };
        ChatId::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_usernames_and_links_are_chat_ids() {
        assert_eq!(ChatId::parse(" 123456789 "), Ok(ChatId::Id(123456789)));
        assert_eq!(
            ChatId::parse("-1001234567890"),
            Ok(ChatId::Id(-1001234567890))
        );
        assert_eq!(ChatId::parse("+42"), Ok(ChatId::Id(42)));
        for input in [
            "@farm_alerts",
            "https://t.me/farm_alerts",
            "t.me/farm_alerts/",
        ] {
            assert_eq!(
                ChatId::parse(input),
                Ok(ChatId::Username("farm_alerts".into())),
                "{input}"
            );
        }
        assert_eq!(
            "-4001".parse::<ChatId>().unwrap().to_json(),
            serde_json::json!(-4001)
        );
        assert_eq!(
            ChatId::parse("@farm_alerts").unwrap().to_json(),
            serde_json::json!("@farm_alerts")
        );
    }

    #[test]
    fn says_what_is_wrong() {
        use ChatIdError as E;
        assert_eq!(ChatId::parse(""), Err(E::Empty));
        assert_eq!(ChatId::parse("0"), Err(E::Zero));
        assert_eq!(ChatId::parse("-"), Err(E::NotAChatId("-".into())));
        assert_eq!(ChatId::parse("farm"), Err(E::NotAChatId("farm".into())));
        assert_eq!(
            ChatId::parse("99999999999999999999"),
            Err(E::OutOfRange("99999999999999999999".into()))
        );
        assert_eq!(ChatId::parse("@abc"), Err(E::BadUsername("abc".into())));
        assert_eq!(
            ChatId::parse("@1farm_alerts"),
            Err(E::BadUsername("1farm_alerts".into()))
        );
        let message = ChatId::parse("farm").unwrap_err().to_string();
        assert!(message.contains("-1001234567890"), "{message}");
    }

    #[test]
    fn serializes_as_telegram_writes_it_and_reads_back_only_valid_ids() {
        for (id, json) in [
            (ChatId::Id(-1001234567890), "-1001234567890"),
            (ChatId::Username("farm_alerts".into()), "\"@farm_alerts\""),
        ] {
            assert_eq!(serde_json::to_string(&id).unwrap(), json);
            assert_eq!(serde_json::from_str::<ChatId>(json).unwrap(), id);
        }
        assert_eq!(
            serde_json::from_str::<ChatId>("\"-42\"").unwrap(),
            ChatId::Id(-42)
        );
        assert!(serde_json::from_str::<ChatId>("\"@x\"").is_err());
        assert!(serde_json::from_str::<ChatId>("0").is_err());
    }

    proptest::proptest! {
        #[test]
        fn no_input_panics(s in "\\PC*") {
            let _ = ChatId::parse(&s);
        }
    }
}
