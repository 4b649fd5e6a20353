//! Scrubbing secrets out of text that came from outside: an endpoint that
//! answers 401 may echo the `X-API-Key` it was sent, in its body or its
//! headers. Before any answer is recorded (log, health journal, status,
//! exports) every known secret of the profile in it is replaced by its mask.

use std::borrow::Cow;
use std::fmt;

/// Shorter values are not scrubbed: they would match ordinary words. Every
/// real secret farmhook keeps is far longer (keys are 32+ characters).
pub const MIN_SCRUBBED_LEN: usize = 8;

/// The secrets to hide, each with the mask that replaces it.
#[derive(Clone, Default)]
pub struct Scrubber {
    /// (secret, mask), longest first, so a secret that contains another is
    /// replaced whole.
    secrets: Vec<(String, String)>,
}

impl Scrubber {
    /// Adds a secret and the forms an echo may take: as sent, with `/`
    /// escaped as JSON writers often do, and percent-encoded.
    pub fn add(&mut self, secret: &str, mask: &str) {
        if secret.len() < MIN_SCRUBBED_LEN {
            return;
        }
        let escaped = secret.replace('/', "\\/");
        let encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        for form in [secret.to_string(), escaped, encoded] {
            if !self.secrets.iter().any(|(s, _)| *s == form) {
                self.secrets.push((form, mask.to_string()));
            }
        }
        self.secrets
            .sort_by_key(|(s, _)| std::cmp::Reverse(s.len()));
    }

    /// This scrubber with another's secrets added.
    pub fn merged(&self, other: &Scrubber) -> Scrubber {
        let mut merged = self.clone();
        for (secret, mask) in &other.secrets {
            if !merged.secrets.iter().any(|(s, _)| s == secret) {
                merged.secrets.push((secret.clone(), mask.clone()));
            }
        }
        merged
            .secrets
            .sort_by_key(|(s, _)| std::cmp::Reverse(s.len()));
        merged
    }

    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// `text` with every secret replaced by its mask; borrowed when there
    /// was nothing to replace (the usual case).
    pub fn scrub<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        for (secret, mask) in &self.secrets {
            if out.contains(secret.as_str()) {
                out = Cow::Owned(out.replace(secret.as_str(), mask));
            }
        }
        out
    }

    /// Scrubs in place.
    pub fn scrub_string(&self, text: &mut String) {
        if let Cow::Owned(clean) = self.scrub(text) {
            *text = clean;
        }
    }
}

impl fmt::Debug for Scrubber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Scrubber({} forms of secrets)", self.secrets.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_of_a_secret_is_masked_and_clean_text_is_borrowed() {
        let mut s = Scrubber::default();
        s.add("Abc123Secret/Key+=", "••••Key+=");
        let echoed = r#"{"error":"bad key Abc123Secret\/Key+=","q":"k=Abc123Secret%2FKey%2B%3D"} Abc123Secret/Key+="#;
        let clean = s.scrub(echoed);
        assert!(!clean.contains("Abc123Secret"), "{clean}");
        assert_eq!(clean.matches("••••Key+=").count(), 3);
        assert!(matches!(s.scrub("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn a_longer_secret_that_contains_a_shorter_one_is_replaced_whole() {
        let mut s = Scrubber::default();
        s.add("token123456", "[token]");
        s.add("https://h.example/x?token123456", "https://h.example/…");
        assert_eq!(
            s.scrub("sent to https://h.example/x?token123456 with token123456"),
            "sent to https://h.example/… with [token]"
        );
    }

    #[test]
    fn short_values_are_not_secrets_and_debug_shows_none() {
        let mut s = Scrubber::default();
        s.add("hook", "••••");
        assert!(s.is_empty());
        s.add("a-long-enough-secret", "••••");
        assert!(!format!("{s:?}").contains("long-enough"));
        let merged = Scrubber::default().merged(&s);
        assert_eq!(merged.scrub("x a-long-enough-secret"), "x ••••");
    }
}
