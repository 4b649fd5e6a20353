//! Profile names: they become file names and keyring entries, so they are
//! kept to a safe alphabet.

use std::fmt;

const MAX_PROFILE_LEN: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the profile name '{0}' is not allowed: use 1 to {MAX_PROFILE_LEN} letters, digits, '-' or '_'"
)]
pub struct ProfileNameError(String);

/// A profile name such as `default` or `farm-b`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProfileName(String);

impl ProfileName {
    pub fn parse(input: &str) -> Result<ProfileName, ProfileNameError> {
        let ok = !input.is_empty()
            && input.len() <= MAX_PROFILE_LEN
            && input
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(ProfileName(input.to_string()))
        } else {
            Err(ProfileNameError(
                input.chars().take(MAX_PROFILE_LEN).collect(),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for ProfileName {
    fn default() -> Self {
        ProfileName("default".to_string())
    }
}

impl fmt::Display for ProfileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_tricks_are_refused() {
        for bad in ["", "../x", "a/b", "a b", ".", "x".repeat(65).as_str()] {
            assert!(ProfileName::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(ProfileName::parse("farm-B_2").unwrap().as_str(), "farm-B_2");
    }
}
