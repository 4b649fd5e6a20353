//! Scrubbing secrets out of text that came from outside: an endpoint that
//! answers 401 may echo the `X-API-Key` it was sent, in its body or its
//! headers. Before any answer is recorded (log, health journal, status,
//! exports) every known secret of the profile in it is replaced by its mask.

use std::borrow::Cow;
use std::fmt;

use memchr::memmem::Finder;

/// Shorter values are not scrubbed: they would match ordinary words. Every
/// real secret farmhook keeps is far longer (keys are 32+ characters).
pub const MIN_SCRUBBED_LEN: usize = 8;

/// The secrets to hide, each with the mask that replaces it.
#[derive(Clone, Default)]
pub struct Scrubber {
    /// Longest first, so a secret that contains another is replaced whole.
    secrets: Vec<Secret>,
}

/// One form of a secret, its mask, and a searcher for it prepared once
/// (every answer is searched for every secret; most contain none).
#[derive(Clone)]
struct Secret {
    text: String,
    mask: String,
    finder: Finder<'static>,
}

impl Secret {
    fn new(text: String, mask: String) -> Secret {
        let finder = Finder::new(text.as_bytes()).into_owned();
        Secret { text, mask, finder }
    }

    /// `out` with this secret replaced, when it holds it.
    fn replace_in<'t>(&self, out: Cow<'t, str>) -> Cow<'t, str> {
        if self.finder.find(out.as_bytes()).is_some() {
            Cow::Owned(out.replace(self.text.as_str(), &self.mask))
        } else {
            out
        }
    }
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
            if !self.secrets.iter().any(|s| s.text == form) {
                self.secrets.push(Secret::new(form, mask.to_string()));
            }
        }
        self.secrets
            .sort_by_key(|s| std::cmp::Reverse(s.text.len()));
    }

    /// This scrubber with another's secrets added.
    pub fn merged(&self, other: &Scrubber) -> Scrubber {
        let mut merged = self.clone();
        for secret in &other.secrets {
            if !merged.secrets.iter().any(|s| s.text == secret.text) {
                merged.secrets.push(secret.clone());
            }
        }
        merged
            .secrets
            .sort_by_key(|s| std::cmp::Reverse(s.text.len()));
        merged
    }

    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// `text` with every secret replaced by its mask; borrowed when there
    /// was nothing to replace (the usual case).
    pub fn scrub<'a>(&self, text: &'a str) -> Cow<'a, str> {
        self.secrets
            .iter()
            .fold(Cow::Borrowed(text), |out, secret| secret.replace_in(out))
    }

    /// The length of the shortest secret (text shorter than it holds none).
    fn shortest(&self) -> usize {
        self.secrets.last().map_or(usize::MAX, |s| s.text.len())
    }

    /// Scrubs in place.
    pub fn scrub_string(&self, text: &mut String) {
        if let Cow::Owned(clean) = self.scrub(text) {
            *text = clean;
        }
    }
}

/// Two scrubbers used as one, as if merged, without building the merged
/// one: the profile's secrets and a delivery's own, applied to every
/// answer of a delivery without copying either list.
#[derive(Clone, Copy, Debug)]
pub struct Scrubbers<'a> {
    pub first: &'a Scrubber,
    pub second: &'a Scrubber,
}

impl<'a> Scrubbers<'a> {
    pub fn new(first: &'a Scrubber, second: &'a Scrubber) -> Self {
        Scrubbers { first, second }
    }

    /// `text` with every secret of both replaced by its mask, longest first
    /// across both (as [`Scrubber::merged`] would); borrowed when there was
    /// nothing to replace (the usual case).
    pub fn scrub<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let mut out = Cow::Borrowed(text);
        // Short values (most headers) cannot hold a secret.
        if text.len() < self.first.shortest().min(self.second.shortest()) {
            return out;
        }
        let (mut a, mut b) = (
            self.first.secrets.iter().peekable(),
            self.second.secrets.iter().peekable(),
        );
        // Both lists are sorted longest first: walking them like a merge
        // keeps that order. A secret in both is found once, then is gone.
        loop {
            let next = match (a.peek(), b.peek()) {
                (Some(x), Some(y)) if x.text.len() >= y.text.len() => a.next(),
                (Some(_), Some(_)) | (None, Some(_)) => b.next(),
                (Some(_), None) => a.next(),
                (None, None) => break,
            };
            if let Some(secret) = next {
                out = secret.replace_in(out);
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
    fn two_scrubbers_used_as_one_replace_the_longest_secret_first() {
        let mut profile = Scrubber::default();
        profile.add("token123456", "[token]");
        let mut own = Scrubber::default();
        own.add("https://h.example/x?token123456", "https://h.example/…");
        let text = "sent to https://h.example/x?token123456 with token123456";
        let merged = profile.merged(&own);
        for (a, b) in [(&profile, &own), (&own, &profile)] {
            assert_eq!(Scrubbers::new(a, b).scrub(text), merged.scrub(text));
        }
        assert_eq!(
            Scrubbers::new(&profile, &own).scrub(text),
            "sent to https://h.example/… with [token]"
        );
        assert!(matches!(
            Scrubbers::new(&profile, &own).scrub("nothing here"),
            Cow::Borrowed(_)
        ));
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
