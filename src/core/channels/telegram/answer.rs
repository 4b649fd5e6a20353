//! What Telegram's answers mean, in words: its JSON
//! `{ok:false, error_code, description, parameters:{retry_after,
//! migrate_to_chat_id}}`, read from status, headers and body alone (pure, so
//! the engine, the CLI and the tests share one reading).

use serde_json::Value;

/// The longest wait farmhook takes from an answer: Telegram may ask for
/// hours after a flood, but a stuck channel should say so and try again
/// within the hour.
pub const MAX_ASKED_WAIT_SECS: f64 = 3600.0;
/// Telegram's own words are quoted up to this many characters.
const DESCRIPTION_MAX_CHARS: usize = 200;

/// Telegram's error answer, read leniently: any field may be missing.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ErrorAnswer {
    pub ok: Option<bool>,
    pub error_code: Option<i64>,
    /// Telegram's words ("Forbidden: bot was blocked by the user"), bounded
    /// and without control characters.
    pub description: Option<String>,
    /// `parameters.retry_after`: seconds to wait before sending again.
    pub retry_after: Option<f64>,
    /// `parameters.migrate_to_chat_id`: the group became this supergroup.
    pub migrate_to_chat_id: Option<i64>,
}

impl ErrorAnswer {
    /// Reads a body; a body that is not Telegram's JSON gives all `None`.
    pub fn read(body: &[u8]) -> ErrorAnswer {
        let Ok(value) = serde_json::from_slice::<Value>(body) else {
            return ErrorAnswer::default();
        };
        let parameters = value.get("parameters");
        ErrorAnswer {
            ok: value.get("ok").and_then(Value::as_bool),
            error_code: value.get("error_code").and_then(Value::as_i64),
            description: value
                .get("description")
                .and_then(Value::as_str)
                .map(clean_description),
            retry_after: parameters
                .and_then(|p| p.get("retry_after"))
                .and_then(Value::as_f64),
            migrate_to_chat_id: parameters
                .and_then(|p| p.get("migrate_to_chat_id"))
                .and_then(Value::as_i64),
        }
    }
}

fn clean_description(text: &str) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    super::super::event_text::truncate_chars(one_line.trim(), DESCRIPTION_MAX_CHARS)
}

/// What an answer means for farmhook.
#[derive(Debug, Clone, PartialEq)]
enum Meaning {
    RateLimited,
    WrongToken,
    UnknownToken,
    Blocked,
    Kicked,
    NotMember,
    CannotInitiate,
    Deactivated,
    Forbidden,
    ChatNotFound,
    Migrated(Option<i64>),
    Refused,
    Conflict,
    ServerError,
    Unexpected,
}

fn meaning(status: u16, answer: &ErrorAnswer) -> Option<Meaning> {
    let success = (200..300).contains(&status);
    if success && answer.ok != Some(false) {
        return None;
    }
    // A 2xx with ok:false tells its real status in error_code.
    let code = match answer.error_code {
        Some(code) if success => code,
        _ => i64::from(status),
    };
    let description = answer.description.as_deref().unwrap_or("").to_lowercase();
    let says = |words: &str| description.contains(words);
    Some(match code {
        429 => Meaning::RateLimited,
        401 => Meaning::WrongToken,
        404 => Meaning::UnknownToken,
        403 if says("blocked by the user") => Meaning::Blocked,
        403 if says("kicked") => Meaning::Kicked,
        403 if says("not a member") => Meaning::NotMember,
        403 if says("can't initiate conversation") || says("can't send messages to bots") => {
            Meaning::CannotInitiate
        }
        403 if says("deactivated") => Meaning::Deactivated,
        403 => Meaning::Forbidden,
        400 if says("chat not found") => Meaning::ChatNotFound,
        400 if answer.migrate_to_chat_id.is_some() || says("upgraded to a supergroup") => {
            Meaning::Migrated(answer.migrate_to_chat_id)
        }
        400 => Meaning::Refused,
        409 => Meaning::Conflict,
        500..=599 => Meaning::ServerError,
        _ => Meaning::Unexpected,
    })
}

/// `(401 Unauthorized)`: Telegram's code and words, for the reader who
/// wants to search for them.
fn quoted(status: u16, answer: &ErrorAnswer) -> String {
    let code = answer
        .error_code
        .filter(|_| (200..300).contains(&status))
        .unwrap_or(i64::from(status));
    match &answer.description {
        Some(description) if !description.is_empty() => format!("({code} {description})"),
        _ => format!("({code})"),
    }
}

/// What Telegram means by an answer that is not a success, in words; `None`
/// for a success.
pub fn answer_words(status: u16, headers: &[(String, String)], body: &[u8]) -> Option<String> {
    let answer = ErrorAnswer::read(body);
    let meaning = meaning(status, &answer)?;
    let quoted = quoted(status, &answer);
    Some(match meaning {
        Meaning::RateLimited => match asked_wait(status, headers, body) {
            Some(wait) => format!("Telegram rate limit {quoted}: asked to wait {wait:.0} s"),
            None => format!("Telegram rate limit {quoted}"),
        },
        Meaning::WrongToken => format!(
            "Telegram says the bot token is wrong or was revoked {quoted}: copy the token from @BotFather again"
        ),
        Meaning::UnknownToken => format!(
            "Telegram does not know this bot token {quoted}: copy the token from @BotFather again"
        ),
        Meaning::Blocked => format!("Telegram says the bot was blocked by the user {quoted}"),
        Meaning::Kicked => format!("Telegram says the bot was removed from the group {quoted}"),
        Meaning::NotMember => {
            format!("Telegram says the bot is not a member of the chat {quoted}")
        }
        Meaning::CannotInitiate => {
            format!("Telegram does not let the bot write first to this person {quoted}")
        }
        Meaning::Deactivated => format!("Telegram says this account was deleted {quoted}"),
        Meaning::Forbidden => format!("Telegram forbids the bot to post in this chat {quoted}"),
        Meaning::ChatNotFound => format!(
            "Telegram cannot find the chat {quoted}: the chat id is wrong, or the bot was never in that chat"
        ),
        Meaning::Migrated(Some(id)) => {
            format!("Telegram says the group became a supergroup with the chat id {id} {quoted}")
        }
        Meaning::Migrated(None) => {
            format!("Telegram says the group became a supergroup {quoted}")
        }
        Meaning::Refused => format!("Telegram refused the message {quoted}"),
        Meaning::Conflict => format!(
            "Telegram will not hand out the bot's updates {quoted}: another program reads them, or the bot has a webhook"
        ),
        Meaning::ServerError => format!("Telegram had a server error {quoted}"),
        Meaning::Unexpected => format!("Telegram answered {quoted}"),
    })
}

/// For the answers after which sending again cannot work until the user
/// acts: the reason, ending with what to do.
pub fn pause_reason(status: u16, _headers: &[(String, String)], body: &[u8]) -> Option<String> {
    let answer = ErrorAnswer::read(body);
    let quoted = quoted(status, &answer);
    let reason = match meaning(status, &answer)? {
        Meaning::WrongToken => format!(
            "the bot token is wrong or was revoked {quoted}: paste the token from @BotFather (/mybots, your bot, API Token), then press Resume"
        ),
        Meaning::UnknownToken => format!(
            "Telegram does not know this bot token {quoted}: paste the token from @BotFather (/mybots, your bot, API Token), then press Resume"
        ),
        Meaning::Blocked => format!(
            "the bot was blocked by the user {quoted}: open the chat with the bot in Telegram and press Restart (or Unblock), then press Resume"
        ),
        Meaning::Kicked => format!(
            "the bot was removed from the group {quoted}: add the bot to the group again, then press Resume"
        ),
        Meaning::NotMember => format!(
            "the bot is not a member of the chat {quoted}: add the bot to it (as an administrator allowed to post, for a channel), then press Resume"
        ),
        Meaning::CannotInitiate => format!(
            "the bot may not write first to this person {quoted}: open the bot in Telegram and press Start, then press Resume"
        ),
        Meaning::Deactivated => format!(
            "the person's Telegram account was deleted {quoted}: send /start to your bot from another account, press Find chat, then press Resume"
        ),
        Meaning::Forbidden => format!(
            "Telegram forbids the bot to post in this chat {quoted}: let the bot post there (or choose another chat), then press Resume"
        ),
        Meaning::ChatNotFound => format!(
            "Telegram cannot find the chat {quoted}: send /start to your bot (or add it to the group), press Find chat, then press Resume"
        ),
        Meaning::Migrated(Some(id)) => format!(
            "the group became a supergroup {quoted}: set the chat id to {id} (or press Find chat), then press Resume"
        ),
        Meaning::Migrated(None) => format!(
            "the group became a supergroup {quoted}: press Find chat to get its new chat id, then press Resume"
        ),
        Meaning::RateLimited
        | Meaning::Refused
        | Meaning::Conflict
        | Meaning::ServerError
        | Meaning::Unexpected => return None,
    };
    Some(reason)
}

/// Seconds Telegram asked to wait, from `parameters.retry_after` (or "retry
/// after N" in its words, or a `Retry-After` header), finite and within
/// `0..=MAX_ASKED_WAIT_SECS`.
pub fn asked_wait(_status: u16, headers: &[(String, String)], body: &[u8]) -> Option<f64> {
    let answer = ErrorAnswer::read(body);
    let from_body = wait_from(&answer);
    let from_header = || {
        headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("retry-after"))
            .and_then(|(_, value)| value.trim().parse::<f64>().ok())
            .and_then(bounded)
    };
    from_body.or_else(from_header)
}

/// `parameters.retry_after`, else the number in "Too Many Requests: retry
/// after 5".
fn wait_from(answer: &ErrorAnswer) -> Option<f64> {
    answer.retry_after.and_then(bounded).or_else(|| {
        let description = answer.description.as_deref()?.to_lowercase();
        let (_, after) = description.split_once("retry after ")?;
        let number: String = after
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        number.parse().ok().and_then(bounded)
    })
}

fn bounded(seconds: f64) -> Option<f64> {
    (seconds.is_finite() && seconds >= 0.0).then(|| seconds.min(MAX_ASKED_WAIT_SECS))
}

/// For a 2xx answer whose body says `ok: false`: what went wrong, in words.
/// `None` for any other answer.
pub fn refused_despite_success(status: u16, body: &[u8]) -> Option<String> {
    if !(200..300).contains(&status) || ErrorAnswer::read(body).ok != Some(false) {
        return None;
    }
    answer_words(status, &[], body)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn error(code: u16, description: &str) -> Vec<u8> {
        json!({"ok": false, "error_code": code, "description": description})
            .to_string()
            .into_bytes()
    }

    fn words(status: u16, body: &[u8]) -> String {
        answer_words(status, &[], body).unwrap_or_else(|| panic!("no words for {status}"))
    }

    fn pause(status: u16, body: &[u8]) -> Option<String> {
        pause_reason(status, &[], body)
    }

    #[test]
    fn successes_mean_nothing() {
        let ok = br#"{"ok":true,"result":{"message_id":1}}"#;
        assert_eq!(answer_words(200, &[], ok), None);
        assert_eq!(pause(200, ok), None);
        assert_eq!(asked_wait(200, &[], ok), None);
        assert_eq!(refused_despite_success(200, ok), None);
        assert_eq!(refused_despite_success(200, b"not json"), None);
    }

    #[test]
    fn rate_limits_give_the_wait_from_parameters_words_or_header() {
        let body = json!({"ok": false, "error_code": 429,
            "description": "Too Many Requests: retry after 7",
            "parameters": {"retry_after": 7}})
        .to_string();
        assert_eq!(asked_wait(429, &[], body.as_bytes()), Some(7.0));
        let said = words(429, body.as_bytes());
        assert!(said.contains("asked to wait 7 s"), "{said}");
        assert!(
            said.contains("429 Too Many Requests: retry after 7"),
            "{said}"
        );
        assert_eq!(pause(429, body.as_bytes()), None);
        // Only the words.
        let words_only = error(429, "Too Many Requests: retry after 12");
        assert_eq!(asked_wait(429, &[], &words_only), Some(12.0));
        // Only a header (any case).
        let header = [("Retry-After".to_string(), "3".to_string())];
        assert_eq!(asked_wait(429, &header, b""), Some(3.0));
        // Silly values are bounded or ignored.
        let huge = json!({"ok": false, "error_code": 429,
            "parameters": {"retry_after": 1e12}})
        .to_string();
        assert_eq!(
            asked_wait(429, &[], huge.as_bytes()),
            Some(MAX_ASKED_WAIT_SECS)
        );
        let negative = json!({"ok": false, "parameters": {"retry_after": -5}}).to_string();
        assert_eq!(asked_wait(429, &[], negative.as_bytes()), None);
        let nan = [("retry-after".to_string(), "NaN".to_string())];
        assert_eq!(asked_wait(429, &nan, b"{}"), None);
    }

    #[test]
    fn the_gone_answers_pause_with_what_to_do() {
        let cases = [
            (403, "Forbidden: bot was blocked by the user", "Restart"),
            (
                403,
                "Forbidden: bot was kicked from the group chat",
                "add the bot to the group again",
            ),
            (
                403,
                "Forbidden: bot was kicked from the supergroup chat",
                "add the bot to the group again",
            ),
            (
                403,
                "Forbidden: bot is not a member of the channel chat",
                "administrator",
            ),
            (
                403,
                "Forbidden: bot can't initiate conversation with a user",
                "press Start",
            ),
            (403, "Forbidden: user is deactivated", "another account"),
            (403, "Forbidden: something new", "let the bot post"),
            (400, "Bad Request: chat not found", "Find chat"),
            (401, "Unauthorized", "@BotFather"),
            (404, "Not Found", "@BotFather"),
        ];
        for (status, description, todo) in cases {
            let body = error(status, description);
            let reason = pause(status, &body).unwrap_or_else(|| panic!("{description}"));
            assert!(reason.contains(todo), "{description}: {reason}");
            assert!(reason.ends_with("then press Resume"), "{reason}");
            assert!(reason.contains(description), "{reason}");
            assert!(!words(status, &body).is_empty());
        }
        let said = words(401, &error(401, "Unauthorized"));
        assert!(
            said.contains("the bot token is wrong or was revoked (401 Unauthorized)"),
            "{said}"
        );
        let said = words(400, &error(400, "Bad Request: chat not found"));
        assert!(said.contains("cannot find the chat"), "{said}");
    }

    #[test]
    fn a_group_that_became_a_supergroup_names_its_new_id() {
        let body = json!({"ok": false, "error_code": 400,
            "description": "Bad Request: group chat was upgraded to a supergroup chat",
            "parameters": {"migrate_to_chat_id": -1001234567890i64}})
        .to_string();
        let reason = pause(400, body.as_bytes()).unwrap();
        assert!(
            reason.contains("set the chat id to -1001234567890"),
            "{reason}"
        );
    }

    #[test]
    fn refused_messages_are_final_words_without_a_pause() {
        for description in [
            "Bad Request: message is too long",
            "Bad Request: can't parse entities: Unsupported start tag \"x\" at byte offset 3",
            "Bad Request: message text is empty",
        ] {
            let body = error(400, description);
            assert_eq!(pause(400, &body), None, "{description}");
            assert_eq!(
                words(400, &body),
                format!("Telegram refused the message (400 {description})")
            );
        }
        assert_eq!(
            words(502, b"<html>Bad Gateway</html>"),
            "Telegram had a server error (502)"
        );
        assert_eq!(pause(502, b""), None);
        let conflict = error(409, "Conflict: terminated by other getUpdates request");
        assert!(words(409, &conflict).contains("another program"));
    }

    #[test]
    fn ok_false_inside_a_success_is_a_refusal() {
        let body = error(400, "Bad Request: chat not found");
        let said = refused_despite_success(200, &body).unwrap();
        assert!(said.contains("(400 Bad Request: chat not found)"), "{said}");
        assert!(pause(200, &body).is_some());
        assert_eq!(refused_despite_success(400, &body), None);
    }

    #[test]
    fn telegram_words_are_bounded_and_on_one_line() {
        let long = format!("Bad Request: {}\nsecond line", "x".repeat(5000));
        let said = words(400, &error(400, &long));
        assert!(said.chars().count() < DESCRIPTION_MAX_CHARS + 60, "{said}");
        assert!(!said.contains('\n'));
    }

    proptest::proptest! {
        #[test]
        fn no_answer_panics(status in 100u16..600, body in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let _ = answer_words(status, &[], &body);
            let _ = pause_reason(status, &[], &body);
            if let Some(wait) = asked_wait(status, &[], &body) {
                proptest::prop_assert!(wait.is_finite() && (0.0..=MAX_ASKED_WAIT_SECS).contains(&wait));
            }
            let _ = refused_despite_success(status, &body);
        }
    }
}
