//! Verify: Pushover's `users/validate.json` (a POST of the token and the
//! user key; nothing is delivered) says whether the pair is good and lists
//! the user's devices.

use serde::Deserialize;
use serde_json::{Value, json};

use super::answers::{answer_words, parse_body};
use super::keys::{AppToken, UserKey};

/// A user (or group) key Pushover confirmed, with what it knows of it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ValidatedUser {
    /// The names of the user's active devices (empty for a group).
    pub devices: Vec<String>,
    /// The platforms the user has a licence for (`Android`, `iOS`,
    /// `Desktop`).
    pub licenses: Vec<String>,
    /// The key is a delivery group's, not one user's.
    pub is_group: bool,
}

impl ValidatedUser {
    /// `a Pushover user with 2 devices (iphone, pixel8)`, or `a Pushover
    /// delivery group`.
    pub fn words(&self) -> String {
        if self.is_group {
            return "a Pushover delivery group".into();
        }
        match self.devices.as_slice() {
            [] => "a Pushover user with no active devices yet".into(),
            [one] => format!("a Pushover user with 1 device ({one})"),
            many => format!(
                "a Pushover user with {} devices ({})",
                many.len(),
                many.join(", ")
            ),
        }
    }
}

/// The `users/validate.json` body: the token and the key (JSON, as Pushover
/// accepts).
pub fn validate_body(token: &AppToken, user: &UserKey) -> Value {
    json!({"token": token.expose_token(), "user": user.expose_key()})
}

/// Reads Pushover's answer to `users/validate.json`: `{status:1, group,
/// devices, licenses}` is a confirmed key; anything else is why not, in
/// words (Pushover's own, with what to do when the token or key is wrong).
pub fn parse_validate(status: u16, body: &[u8]) -> Result<ValidatedUser, String> {
    #[derive(Deserialize)]
    struct Raw {
        status: Option<i64>,
        #[serde(default)]
        group: Option<i64>,
        #[serde(default)]
        devices: Vec<String>,
        #[serde(default)]
        licenses: Vec<String>,
    }
    if (200..300).contains(&status)
        && let Ok(raw) = serde_json::from_slice::<Raw>(body)
        && raw.status == Some(1)
    {
        return Ok(ValidatedUser {
            devices: raw.devices,
            licenses: raw.licenses,
            is_group: raw.group == Some(1),
        });
    }
    if (200..300).contains(&status) {
        // A 2xx that is not a confirmation: Pushover's words if it gave any.
        let words = parse_body(body)
            .errors_text()
            .map(|e| format!("Pushover did not confirm the user key ({status}): {e}"))
            .unwrap_or_else(|| {
                format!("Pushover answered {status} but not with a confirmation of the user key")
            });
        return Err(words);
    }
    Err(answer_words(status, &[], body).unwrap_or_else(|| {
        format!("Pushover could not check the keys ({status}): try again later")
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_confirmed_user_lists_its_devices() {
        let body = br#"{"status":1,"group":0,"devices":["iphone","pixel8"],"licenses":["iOS","Android"],"request":"e460545a-8e5b-42b8-b4f4-2f1e37e6d4a5"}"#;
        let user = parse_validate(200, body).unwrap();
        assert_eq!(user.devices, ["iphone", "pixel8"]);
        assert_eq!(user.licenses, ["iOS", "Android"]);
        assert!(!user.is_group);
        assert_eq!(
            user.words(),
            "a Pushover user with 2 devices (iphone, pixel8)"
        );
    }

    #[test]
    fn a_group_key_is_said_to_be_one() {
        let body = br#"{"status":1,"group":1,"devices":[],"licenses":[],"request":"x"}"#;
        let user = parse_validate(200, body).unwrap();
        assert!(user.is_group);
        assert_eq!(user.words(), "a Pushover delivery group");
    }

    #[test]
    fn refusals_say_what_is_wrong_and_what_to_do() {
        let body =
            br#"{"user":"invalid","errors":["user key is invalid"],"status":0,"request":"x"}"#;
        let words = parse_validate(400, body).unwrap_err();
        assert!(
            words.contains("user key") && words.contains("dashboard"),
            "{words}"
        );
        let body = br#"{"token":"invalid","errors":["application token is invalid"],"status":0,"request":"x"}"#;
        let words = parse_validate(400, body).unwrap_err();
        assert!(words.contains("pushover.net/apps"), "{words}");
        let body =
            br#"{"errors":["user is valid but has no active devices"],"status":0,"request":"x"}"#;
        let words = parse_validate(200, body).unwrap_err();
        assert!(words.contains("no active devices"), "{words}");
        let words = parse_validate(503, b"busy").unwrap_err();
        assert!(words.contains("503"), "{words}");
        assert!(parse_validate(200, b"not json").is_err());
    }
}
