//! The custom webhook's secrets: the `X-API-Key` value and the optional
//! signing secret. Both hide themselves in `Debug` and `Display`.

use std::fmt;

use base64::Engine as _;
use hmac::{KeyInit, Mac};
use rand::TryRng;

/// Length of a key farmhook generates.
pub const GENERATED_KEY_LEN: usize = 48;
/// Shortest custom key accepted.
pub const MIN_KEY_LEN: usize = 32;
/// Longest custom key accepted (HTTP servers often cap header lines at 8 KiB;
/// 256 is far below any of them).
pub const MAX_KEY_LEN: usize = 256;

const ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Why a custom key was refused. Never repeats the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiKeyError {
    #[error(
        "the key is {0} characters long; it needs at least {MIN_KEY_LEN} (a generated key has {GENERATED_KEY_LEN})"
    )]
    TooShort(usize),
    #[error("the key is {0} characters long; at most {MAX_KEY_LEN} are allowed")]
    TooLong(usize),
    #[error("character {0} of the key is a space or tab; keys cannot contain whitespace")]
    Whitespace(usize),
    #[error(
        "character {0} of the key is a line break or control character, which would break the HTTP header"
    )]
    Control(usize),
    #[error(
        "character {0} of the key is not plain ASCII; use letters, digits and punctuation only"
    )]
    NotAscii(usize),
}

/// The operating system's random number generator failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the operating system's random number generator failed: {0}")]
pub struct RandomnessError(String);

/// A valid `X-API-Key` value.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// A fresh 48-character key of `[A-Za-z0-9]` from the OS CSPRNG.
    pub fn generate() -> Result<ApiKey, RandomnessError> {
        Ok(ApiKey(random_alphanumeric(GENERATED_KEY_LEN)?))
    }

    /// Checks a key the user typed or pasted. Nothing is trimmed: a stray
    /// space or line break is reported, never silently cut.
    pub fn parse(input: &str) -> Result<ApiKey, ApiKeyError> {
        for (i, c) in input.chars().enumerate() {
            let position = i + 1;
            if c == ' ' || c == '\t' {
                return Err(ApiKeyError::Whitespace(position));
            }
            if c.is_control() {
                return Err(ApiKeyError::Control(position));
            }
            if !c.is_ascii() || c.is_whitespace() {
                return Err(ApiKeyError::NotAscii(position));
            }
        }
        match input.len() {
            n if n < MIN_KEY_LEN => Err(ApiKeyError::TooShort(n)),
            n if n > MAX_KEY_LEN => Err(ApiKeyError::TooLong(n)),
            _ => Ok(ApiKey(input.to_string())),
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A hint for the key field: roughly how hard the key is to guess.
    pub fn strength(&self) -> KeyStrength {
        KeyStrength::of(&self.0)
    }
}

/// How guessable a key is, from its length and the kinds of characters used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum KeyStrength {
    Weak,
    Fair,
    Strong,
}

impl KeyStrength {
    pub fn of(text: &str) -> KeyStrength {
        let classes = [
            text.bytes().any(|b| b.is_ascii_lowercase()),
            text.bytes().any(|b| b.is_ascii_uppercase()),
            text.bytes().any(|b| b.is_ascii_digit()),
            text.bytes().any(|b| b.is_ascii_punctuation()),
        ];
        let alphabet: f64 = [26.0, 26.0, 10.0, 32.0]
            .iter()
            .zip(classes)
            .filter(|(_, used)| *used)
            .map(|(n, _)| n)
            .sum();
        let distinct = {
            let mut seen = [false; 128];
            text.bytes()
                .for_each(|b| seen[usize::from(b & 0x7f)] = true);
            seen.iter().filter(|s| **s).count()
        };
        // A key like "aaaa…" has one distinct character whatever its length.
        let bits = text.len() as f64 * alphabet.max(1.0).log2() * (distinct.min(16) as f64 / 16.0);
        if bits >= 180.0 {
            KeyStrength::Strong
        } else if bits >= 128.0 {
            KeyStrength::Fair
        } else {
            KeyStrength::Weak
        }
    }

    pub fn words(self) -> &'static str {
        match self {
            KeyStrength::Weak => "weak: easy to guess, use a longer or generated key",
            KeyStrength::Fair => "fair",
            KeyStrength::Strong => "strong",
        }
    }
}

/// `••••…` plus the last four characters, enough to tell two keys apart.
fn mask(secret: &str) -> String {
    // Every request logs it: no copy of the key, no list of its chars.
    let tail = secret.char_indices().rev().nth(3).map_or(0, |(at, _)| at);
    let mut shown = String::with_capacity(MASK.len() + secret.len() - tail);
    shown.push_str(MASK);
    shown.push_str(&secret[tail..]);
    shown
}

const MASK: &str = "••••…";

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&mask(&self.0))
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey({})", mask(&self.0))
    }
}

fn random_alphanumeric(len: usize) -> Result<String, RandomnessError> {
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        rand::rngs::SysRng
            .try_fill_bytes(&mut buf)
            .map_err(|e| RandomnessError(e.to_string()))?;
        // 248 = 4 × 62: rejecting bytes above it keeps every character
        // equally likely.
        for b in buf.iter().filter(|b| **b < 248) {
            if out.len() == len {
                break;
            }
            out.push(char::from(
                ALPHANUMERIC[usize::from(*b) % ALPHANUMERIC.len()],
            ));
        }
    }
    Ok(out)
}

/// Prefix of a Standard Webhooks signing secret.
const SIGNING_PREFIX: &str = "whsec_";
/// Bytes of key material in a generated signing secret.
const SIGNING_KEY_BYTES: usize = 32;

/// Why a signing secret was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigningSecretError {
    #[error("a signing secret starts with whsec_ followed by base64")]
    Malformed,
    #[error("the signing secret must hold 24 to 64 bytes of key material")]
    BadLength,
}

/// A Standard Webhooks signing secret (`whsec_<base64>`).
#[derive(Clone, PartialEq, Eq)]
pub struct SigningSecret {
    text: String,
    key: Vec<u8>,
}

impl SigningSecret {
    pub fn generate() -> Result<SigningSecret, RandomnessError> {
        let mut key = vec![0u8; SIGNING_KEY_BYTES];
        rand::rngs::SysRng
            .try_fill_bytes(&mut key)
            .map_err(|e| RandomnessError(e.to_string()))?;
        let text = format!(
            "{SIGNING_PREFIX}{}",
            base64::engine::general_purpose::STANDARD.encode(&key)
        );
        Ok(SigningSecret { text, key })
    }

    pub fn parse(input: &str) -> Result<SigningSecret, SigningSecretError> {
        let b64 = input
            .strip_prefix(SIGNING_PREFIX)
            .ok_or(SigningSecretError::Malformed)?;
        let key = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|_| SigningSecretError::Malformed)?;
        if !(24..=64).contains(&key.len()) {
            return Err(SigningSecretError::BadLength);
        }
        Ok(SigningSecret {
            text: input.to_string(),
            key,
        })
    }

    pub fn expose(&self) -> &str {
        &self.text
    }

    /// The `webhook-signature` header value: `v1,<base64 HMAC-SHA256 of
    /// "id.timestamp.body">`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.key)
            .expect("HMAC accepts keys of any length");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!(
            "v1,{}",
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
        )
    }

    /// Checks a `webhook-signature` header (space-separated `v1,<sig>` list)
    /// in constant time.
    pub fn verify(&self, id: &str, timestamp: i64, body: &[u8], header: &str) -> bool {
        use subtle::ConstantTimeEq;
        let expected = self.sign(id, timestamp, body);
        header
            .split(' ')
            .any(|candidate| bool::from(candidate.as_bytes().ct_eq(expected.as_bytes())))
    }
}

impl fmt::Display for SigningSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&mask(&self.text))
    }
}

impl fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningSecret({})", mask(&self.text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_48_alphanumerics_and_differ() {
        let a = ApiKey::generate().unwrap();
        let b = ApiKey::generate().unwrap();
        assert_eq!(a.expose().len(), GENERATED_KEY_LEN);
        assert!(a.expose().bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
        assert_eq!(ApiKey::parse(a.expose()), Ok(a.clone()));
        assert_eq!(a.strength(), KeyStrength::Strong);
    }

    #[test]
    fn generated_keys_use_the_whole_alphabet_evenly() {
        let mut counts = [0usize; 128];
        for _ in 0..200 {
            for b in ApiKey::generate().unwrap().expose().bytes() {
                counts[usize::from(b)] += 1;
            }
        }
        // 9600 characters over 62 symbols: about 155 each.
        for &c in ALPHANUMERIC {
            let n = counts[usize::from(c)];
            assert!((80..260).contains(&n), "{} seen {n} times", char::from(c));
        }
    }

    #[test]
    fn custom_keys_are_checked_and_the_reason_given() {
        let ok = "x".repeat(31) + "!";
        assert!(ApiKey::parse(&ok).is_ok());
        assert_eq!(ApiKey::parse("short"), Err(ApiKeyError::TooShort(5)));
        assert_eq!(
            ApiKey::parse(&"k".repeat(257)),
            Err(ApiKeyError::TooLong(257))
        );
        let with_newline = format!("{}\r\nX-Evil: 1", "k".repeat(40));
        assert_eq!(ApiKey::parse(&with_newline), Err(ApiKeyError::Control(41)));
        assert_eq!(
            ApiKey::parse(&format!("{} trailing", "k".repeat(40))),
            Err(ApiKeyError::Whitespace(41))
        );
        assert_eq!(
            ApiKey::parse(&format!("{}é", "k".repeat(40))),
            Err(ApiKeyError::NotAscii(41))
        );
        let msg = ApiKeyError::TooShort(20).to_string();
        assert!(msg.contains("20") && msg.contains("32"), "{msg}");
    }

    #[test]
    fn keys_are_masked_in_display_and_debug() {
        let key = ApiKey::parse("abcdefghijklmnopqrstuvwxyz0123456789").unwrap();
        assert_eq!(key.to_string(), "••••…6789");
        assert!(!format!("{key:?}").contains("abcdef"));
    }

    #[test]
    fn strength_hint_tells_a_repeated_character_from_a_random_key() {
        assert_eq!(KeyStrength::of(&"a".repeat(40)), KeyStrength::Weak);
        assert_eq!(KeyStrength::of(&"ab12".repeat(10)), KeyStrength::Weak);
        assert_eq!(
            KeyStrength::of("correcthorsebatterystaple"),
            KeyStrength::Weak
        );
        assert_eq!(
            KeyStrength::of("correcthorsebatterystaplezebra12"),
            KeyStrength::Fair
        );
        assert_eq!(
            KeyStrength::of("Zq3vL9xT2mN8pR4sK7wB1cY6hJ5gF0dA"),
            KeyStrength::Strong
        );
    }

    #[test]
    fn signatures_follow_standard_webhooks() {
        // Test vector from the Standard Webhooks specification.
        let secret = SigningSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        let sig = secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert!(secret.verify(
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            body,
            &format!("v1,bogus {sig}")
        ));
        assert!(!secret.verify("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331, body, &sig));
        let fresh = SigningSecret::generate().unwrap();
        assert!(fresh.expose().starts_with("whsec_"));
        assert_eq!(SigningSecret::parse(fresh.expose()), Ok(fresh));
        assert_eq!(
            SigningSecret::parse("nope"),
            Err(SigningSecretError::Malformed)
        );
    }

    proptest::proptest! {
        #[test]
        fn no_key_input_panics(s in "\\PC*|[\\x00-\\x7f]{0,300}") {
            if let Ok(k) = ApiKey::parse(&s) {
                proptest::prop_assert!(!k.expose().contains(['\r', '\n', ' ']));
            }
        }

        #[test]
        fn no_signing_input_panics(s in "(whsec_)?[A-Za-z0-9+/=]{0,100}") {
            let _ = SigningSecret::parse(&s);
        }
    }
}
