//! The two Pushover secrets a user pastes: the application token (from
//! pushover.net/apps) and the user key (or a delivery group's key, from the
//! pushover.net dashboard). Both are 30 letters and digits; parsed once,
//! redacted everywhere.
//!
//! A user key pasted where the token goes (or the other way round) looks
//! exactly like a valid secret, so the errors say where each one is found
//! rather than guessing.

use std::fmt;
use std::str::FromStr;

/// Length of an application token and of a user or group key.
pub const KEY_LEN: usize = 30;

/// How many leading characters `redacted()` shows: enough to tell two keys
/// apart, far too few to use one.
const SHOWN_CHARS: usize = 4;
/// What stands for the hidden rest.
const MASK: &str = "••••••";

/// Why a pasted text is not a Pushover application token. The messages
/// never repeat the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppTokenError {
    #[error(
        "the application token is empty: on pushover.net/apps, open your application (or create one) and copy its API Token/Key"
    )]
    Empty,
    #[error(
        "the application token has {0} characters; a Pushover application token has 30: copy the API Token/Key of your application on pushover.net/apps again"
    )]
    WrongLength(usize),
    #[error(
        "the application token has a space or line break inside it (at character {0}): paste it again as one piece"
    )]
    InnerWhitespace(usize),
    #[error(
        "character {0} of the application token is not a letter or digit; a Pushover application token is 30 letters and digits: copy the API Token/Key from pushover.net/apps again"
    )]
    BadCharacter(usize),
}

/// Why a pasted text is not a Pushover user or group key. The messages
/// never repeat the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserKeyError {
    #[error(
        "the user key is empty: log in on pushover.net and copy Your User Key (top right of the dashboard), or a delivery group's key"
    )]
    Empty,
    #[error(
        "the user key has {0} characters; a Pushover user key has 30: copy Your User Key from the top right of the pushover.net dashboard again"
    )]
    WrongLength(usize),
    #[error(
        "the user key has a space or line break inside it (at character {0}): paste it again as one piece"
    )]
    InnerWhitespace(usize),
    #[error(
        "character {0} of the user key is not a letter or digit; a Pushover user key is 30 letters and digits: copy Your User Key from the pushover.net dashboard again"
    )]
    BadCharacter(usize),
}

/// What is wrong with a pasted key, before it is said for one kind of key.
enum Problem {
    Empty,
    WrongLength(usize),
    InnerWhitespace(usize),
    BadCharacter(usize),
}

/// Checks the shape both keys share; returns the trimmed key. Positions are
/// 1-based character counts, as a user would count them.
fn check(input: &str) -> Result<&str, Problem> {
    let text = input.trim();
    if text.is_empty() {
        return Err(Problem::Empty);
    }
    // A key with a break inside is one piece pasted badly, whatever its
    // length, so that is said first.
    if let Some(at) = text.chars().position(char::is_whitespace) {
        return Err(Problem::InnerWhitespace(at + 1));
    }
    let len = text.chars().count();
    if len != KEY_LEN {
        return Err(Problem::WrongLength(len));
    }
    if let Some(at) = text.chars().position(|c| !c.is_ascii_alphanumeric()) {
        return Err(Problem::BadCharacter(at + 1));
    }
    Ok(text)
}

/// `abcd••••••`: what may be shown of a key.
fn redact(key: &str) -> String {
    // Keys are ASCII (checked), so the byte slice is whole characters.
    format!("{}{MASK}", &key[..SHOWN_CHARS])
}

/// A Pushover application's API token: which application (name, icon)
/// the notification comes from. `Display` and `Debug` show only its first
/// four characters.
#[derive(Clone, PartialEq, Eq)]
pub struct AppToken(String);

impl AppToken {
    /// Parses what a user pasted. Surrounding whitespace is ignored.
    pub fn parse(input: &str) -> Result<Self, AppTokenError> {
        match check(input) {
            Ok(key) => Ok(AppToken(key.to_string())),
            Err(Problem::Empty) => Err(AppTokenError::Empty),
            Err(Problem::WrongLength(n)) => Err(AppTokenError::WrongLength(n)),
            Err(Problem::InnerWhitespace(at)) => Err(AppTokenError::InnerWhitespace(at)),
            Err(Problem::BadCharacter(at)) => Err(AppTokenError::BadCharacter(at)),
        }
    }

    /// What may be shown: the first four characters and a mask.
    pub fn redacted(&self) -> String {
        redact(&self.0)
    }

    /// The token itself, for the request body and the keyring only.
    pub fn expose_token(&self) -> &str {
        &self.0
    }
}

impl FromStr for AppToken {
    type Err = AppTokenError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AppToken::parse(s)
    }
}

impl fmt::Display for AppToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for AppToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AppToken({})", self.redacted())
    }
}

/// A Pushover user key, or a delivery group's key (they look the same and
/// go in the same place): who receives the notification. `Display` and
/// `Debug` show only its first four characters.
#[derive(Clone, PartialEq, Eq)]
pub struct UserKey(String);

impl UserKey {
    /// Parses what a user pasted. Surrounding whitespace is ignored.
    pub fn parse(input: &str) -> Result<Self, UserKeyError> {
        match check(input) {
            Ok(key) => Ok(UserKey(key.to_string())),
            Err(Problem::Empty) => Err(UserKeyError::Empty),
            Err(Problem::WrongLength(n)) => Err(UserKeyError::WrongLength(n)),
            Err(Problem::InnerWhitespace(at)) => Err(UserKeyError::InnerWhitespace(at)),
            Err(Problem::BadCharacter(at)) => Err(UserKeyError::BadCharacter(at)),
        }
    }

    /// What may be shown: the first four characters and a mask.
    pub fn redacted(&self) -> String {
        redact(&self.0)
    }

    /// The key itself, for the request body and the keyring only.
    pub fn expose_key(&self) -> &str {
        &self.0
    }
}

impl FromStr for UserKey {
    type Err = UserKeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        UserKey::parse(s)
    }
}

impl fmt::Display for UserKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for UserKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UserKey({})", self.redacted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "azGDORePK8gMaC0QOYAMyEEuzJnyUi";
    const USER: &str = "uQiRzpo4DXghDmr9QzzfQu27cmVRsG";

    #[test]
    fn accepts_thirty_letters_and_digits_with_blanks_around() {
        let token = AppToken::parse(&format!("  {TOKEN}\n")).unwrap();
        assert_eq!(token.expose_token(), TOKEN);
        let user: UserKey = format!("\t{USER} ").parse().unwrap();
        assert_eq!(user.expose_key(), USER);
    }

    #[test]
    fn says_what_is_wrong_and_where_each_key_is_found() {
        assert_eq!(AppToken::parse(" \n"), Err(AppTokenError::Empty));
        assert_eq!(
            AppToken::parse(&TOKEN[..29]),
            Err(AppTokenError::WrongLength(29))
        );
        assert_eq!(
            UserKey::parse(&format!("{USER}x")),
            Err(UserKeyError::WrongLength(31))
        );
        assert_eq!(
            AppToken::parse(&format!("{}-{}", &TOKEN[..9], &TOKEN[10..])),
            Err(AppTokenError::BadCharacter(10))
        );
        assert_eq!(
            UserKey::parse(&format!("{} {}", &USER[..15], &USER[15..])),
            Err(UserKeyError::InnerWhitespace(16))
        );
        assert_eq!(
            UserKey::parse(&format!("{}é", &USER[..29])),
            Err(UserKeyError::BadCharacter(30))
        );
        let words = AppTokenError::WrongLength(29).to_string();
        assert!(words.contains("has 29 characters") && words.contains("has 30"));
        assert!(words.contains("pushover.net/apps"), "{words}");
        let words = UserKeyError::WrongLength(12).to_string();
        assert!(words.contains("top right") && words.contains("dashboard"));
    }

    #[test]
    fn errors_never_repeat_the_key() {
        let inputs = [
            format!("{TOKEN}{TOKEN}"),
            format!("{}!", &TOKEN[..29]),
            format!("{} {}", &TOKEN[..10], &TOKEN[10..]),
        ];
        for input in inputs {
            for words in [
                AppToken::parse(&input).unwrap_err().to_string(),
                UserKey::parse(&input).unwrap_err().to_string(),
            ] {
                assert!(!words.contains(&TOKEN[..8]), "{words}");
            }
        }
    }

    #[test]
    fn display_debug_and_redacted_show_four_characters_only() {
        let token = AppToken::parse(TOKEN).unwrap();
        let user = UserKey::parse(USER).unwrap();
        assert_eq!(token.redacted(), "azGD••••••");
        assert_eq!(user.redacted(), "uQiR••••••");
        for shown in [
            token.to_string(),
            format!("{token:?}"),
            user.to_string(),
            format!("{user:?}"),
        ] {
            assert!(!shown.contains(&TOKEN[..5]), "{shown}");
            assert!(!shown.contains(&USER[..5]), "{shown}");
        }
        assert_eq!(format!("{token:?}"), "AppToken(azGD••••••)");
    }

    proptest::proptest! {
        #[test]
        fn no_input_panics(s in "\\PC*") {
            let _ = AppToken::parse(&s);
            let _ = UserKey::parse(&s);
        }

        #[test]
        fn no_key_shaped_input_panics(s in "[ \\tA-Za-z0-9é🦀_-]{25,35}") {
            if let Ok(token) = AppToken::parse(&s) {
                proptest::prop_assert_eq!(token.redacted().chars().count(), 10);
            }
            let _ = UserKey::parse(&s);
        }
    }
}
