//! What Pushover's answers mean, as pure functions over status, headers and
//! body: its words for a refusal, the refusals after which farmhook must
//! stop until the user acts, how long it asked to wait, and the monthly
//! message quota its `X-Limit-App-*` headers tell.
//!
//! Pushover answers 200 with `{"status":1,"request":…}` when it took a
//! message, and 4xx with `{"status":0,"errors":[…],"request":…}` when it did
//! not; 429 means the application's monthly message quota is used up.

use serde::Deserialize;
use time::OffsetDateTime;

/// The longest wait farmhook takes from Pushover's answers: an exhausted
/// monthly quota may reset weeks later, and trying once an hour costs
/// nothing (refused messages do not count against the quota) while picking
/// up an upgrade or the reset soon after it happens.
pub const MAX_ASKED_WAIT_SECS: f64 = 3600.0;

/// Longest piece of Pushover's own words repeated in farmhook's.
const SERVICE_WORDS_MAX_CHARS: usize = 300;

/// Pushover's error for an application token it does not know.
pub const ERROR_TOKEN_INVALID: &str = "application token is invalid";
/// Pushover's error for a user key that is no user, group or subscription.
pub const ERROR_USER_NOT_VALID: &str =
    "user identifier is not a valid user, group, or subscribed user key";
/// Pushover's error for a user key it does not know.
pub const ERROR_USER_INVALID: &str = "user key is invalid";

/// What to do when Pushover refuses the application token.
const FIX_TOKEN: &str = "copy the API Token/Key of your application from pushover.net/apps, paste it, then press Resume";
/// What to do when Pushover refuses the user key.
const FIX_USER: &str = "copy Your User Key from the top right of the pushover.net dashboard (or a delivery group's key), paste it, then press Resume";

/// The JSON Pushover answers with, success or not.
#[derive(Debug, Default, Deserialize)]
pub(super) struct PushoverBody {
    /// 1 when the request was taken.
    #[serde(default)]
    pub status: Option<i64>,
    #[serde(default)]
    pub errors: Vec<String>,
    /// Set to "invalid" when the token was what was wrong.
    #[serde(default)]
    pub token: Option<String>,
    /// Set to "invalid" when the user key was what was wrong.
    #[serde(default)]
    pub user: Option<String>,
}

pub(super) fn parse_body(body: &[u8]) -> PushoverBody {
    serde_json::from_slice(body).unwrap_or_default()
}

/// Which of the user's keys Pushover refused, if it refused one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refused {
    Token,
    User,
}

impl PushoverBody {
    fn refused(&self) -> Option<Refused> {
        let said = |words: &[&str]| {
            self.errors.iter().any(|e| {
                let e = e.to_ascii_lowercase();
                words.iter().any(|w| e.contains(w))
            })
        };
        if self.token.as_deref() == Some("invalid") || said(&[ERROR_TOKEN_INVALID]) {
            Some(Refused::Token)
        } else if self.user.as_deref() == Some("invalid")
            || said(&[ERROR_USER_INVALID, ERROR_USER_NOT_VALID])
        {
            Some(Refused::User)
        } else {
            None
        }
    }

    /// Pushover's errors as one sentence, safe to show: cut short, and with
    /// anything shaped like a key masked should an error ever quote one.
    pub(super) fn errors_text(&self) -> Option<String> {
        let joined = self
            .errors
            .iter()
            .map(|e| e.trim())
            .filter(|e| !e.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
        (!joined.is_empty()).then(|| {
            crate::core::channels::event_text::truncate_chars(
                &mask_keys(&joined),
                SERVICE_WORDS_MAX_CHARS,
            )
        })
    }
}

/// `text` with every run of exactly 30 letters and digits (the shape of a
/// Pushover key) replaced by a mask.
fn mask_keys(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() == super::keys::KEY_LEN {
            out.push_str("••••••");
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

/// What Pushover means by an answer that is not a success, in words:
/// `Pushover says the application token is invalid (400): …`. None for a
/// success, and for answers Pushover put no words in (a bare 5xx): the
/// engine says those in general terms.
pub fn answer_words(status: u16, headers: &[(String, String)], body: &[u8]) -> Option<String> {
    if is_success(status) {
        return refused_despite_success(status, body);
    }
    let parsed = parse_body(body);
    let errors = parsed.errors_text();
    match (status, parsed.refused()) {
        (_, Some(Refused::Token)) => Some(format!(
            "Pushover says the application token is invalid ({status}): {FIX_TOKEN}"
        )),
        (_, Some(Refused::User)) => Some(format!(
            "Pushover says the user key is not a valid user or group key ({status}): {FIX_USER}"
        )),
        (429, None) => {
            let reset = quota(headers)
                .and_then(|q| q.reset_time())
                .map(|t| format!(" It resets {}.", utc_words(t)))
                .unwrap_or_default();
            Some(format!(
                "Pushover's monthly message limit for this application is used up (429): \
                 farmhook waits and tries again; to send more this month, upgrade the \
                 application's limit on pushover.net/apps.{reset}"
            ))
        }
        (400..=499, None) => Some(match errors {
            Some(errors) => format!("Pushover refused the message ({status}): {errors}"),
            None => format!("Pushover refused the message ({status}) without saying why"),
        }),
        (_, None) => errors.map(|errors| format!("Pushover failed ({status}): {errors}")),
    }
}

/// Some(words ending with what to do) for Pushover's answers after which
/// sending again cannot work until the user acts: the application token or
/// the user key refused (400 with `application token is invalid`, `user key
/// is invalid`, `user identifier is not a valid user, group, or subscribed
/// user key`).
pub fn pause_reason(status: u16, _headers: &[(String, String)], body: &[u8]) -> Option<String> {
    if status == 429 || status >= 500 {
        return None;
    }
    let parsed = parse_body(body);
    if is_success(status) && parsed.status == Some(1) {
        return None;
    }
    match parsed.refused()? {
        Refused::Token => Some(format!(
            "Pushover says the application token is invalid: {FIX_TOKEN}"
        )),
        Refused::User => Some(format!(
            "Pushover says the user key is not a valid user or group key: {FIX_USER}"
        )),
    }
}

/// Seconds Pushover asked farmhook to wait, read with the system clock; see
/// [`asked_wait_at`].
pub fn asked_wait(status: u16, headers: &[(String, String)], body: &[u8]) -> Option<f64> {
    asked_wait_at(
        status,
        headers,
        body,
        OffsetDateTime::now_utc().unix_timestamp(),
    )
}

/// Seconds Pushover asked farmhook to wait, given the time now (unix
/// seconds): on a 429, or on any answer whose `X-Limit-App-Remaining` is 0,
/// until `X-Limit-App-Reset`; on a 429 without it, `Retry-After` if given,
/// else [`MAX_ASKED_WAIT_SECS`] (Pushover's 429 is a monthly quota, so
/// trying again soon is pointless). Always finite, ≥ 0 and at most
/// [`MAX_ASKED_WAIT_SECS`].
pub fn asked_wait_at(
    status: u16,
    headers: &[(String, String)],
    _body: &[u8],
    now_unix: i64,
) -> Option<f64> {
    let until_reset = quota(headers)
        .filter(|q| status == 429 || q.remaining == 0)
        .and_then(|q| q.reset_unix)
        .map(|reset| reset.saturating_sub(now_unix).max(0) as f64);
    let retry_after = header(headers, "retry-after")
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0);
    let wait = match (until_reset, status) {
        (Some(wait), _) => wait,
        (None, 429) => retry_after.unwrap_or(MAX_ASKED_WAIT_SECS),
        (None, _) => retry_after?,
    };
    Some(wait.clamp(0.0, MAX_ASKED_WAIT_SECS))
}

/// Some(words) when Pushover answered 2xx but did not take the message (its
/// JSON `status` is not 1); None otherwise (including non-2xx answers and
/// bodies that are not Pushover's JSON, which farmhook counts as taken).
pub fn refused_despite_success(status: u16, body: &[u8]) -> Option<String> {
    if !is_success(status) {
        return None;
    }
    let parsed: PushoverBody = serde_json::from_slice(body).ok()?;
    match parsed.status {
        Some(1) | None => None,
        Some(other) => Some(match parsed.errors_text() {
            Some(errors) => format!(
                "Pushover answered {status} but did not take the message (status {other}): {errors}"
            ),
            None => {
                format!("Pushover answered {status} but did not take the message (status {other})")
            }
        }),
    }
}

/// The application's monthly message quota, from the `X-Limit-App-Limit`,
/// `-Remaining` and `-Reset` headers of Pushover's answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// Messages the application may send per month.
    pub limit: u64,
    /// Messages left this month.
    pub remaining: u64,
    /// When the count starts again (unix seconds), when Pushover said.
    pub reset_unix: Option<i64>,
}

impl Quota {
    /// The reset as a time, when Pushover gave a sensible one.
    pub fn reset_time(&self) -> Option<OffsetDateTime> {
        self.reset_unix
            .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
    }

    /// `9,871 of 10,000 messages left this month (resets 2026-12-01 00:00 UTC)`.
    pub fn words(&self) -> String {
        let reset = self
            .reset_time()
            .map(|t| format!(" (resets {})", utc_words(t)))
            .unwrap_or_default();
        format!(
            "{} of {} messages left this month{reset}",
            thousands(self.remaining),
            thousands(self.limit)
        )
    }
}

/// The quota the `X-Limit-App-*` headers tell (names in any case); None
/// unless both the limit and the remaining count are there and numbers.
pub fn quota(headers: &[(String, String)]) -> Option<Quota> {
    let number = |name: &str| header(headers, name).and_then(|v| v.trim().parse::<u64>().ok());
    Some(Quota {
        limit: number("x-limit-app-limit")?,
        remaining: number("x-limit-app-remaining")?,
        reset_unix: header(headers, "x-limit-app-reset")
            .and_then(|v| v.trim().parse::<i64>().ok())
            .filter(|t| OffsetDateTime::from_unix_timestamp(*t).is_ok()),
    })
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// `2026-12-01 00:00 UTC`.
fn utc_words(t: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

/// `10,000`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const RESET: i64 = 1_796_083_200; // 2026-12-01 00:00 UTC
    const NOW: i64 = RESET - 1800;

    fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn quota_headers(remaining: u64) -> Vec<(String, String)> {
        headers(&[
            ("X-Limit-App-Limit", "10000"),
            ("X-Limit-App-Remaining", &remaining.to_string()),
            ("X-Limit-App-Reset", &RESET.to_string()),
        ])
    }

    fn error_body(field: Option<&str>, error: &str) -> Vec<u8> {
        let mut body = json!({
            "errors": [error],
            "status": 0,
            "request": "5042853c-402d-4a18-abcb-168734a801de",
        });
        if let Some(field) = field {
            body[field] = json!("invalid");
        }
        body.to_string().into_bytes()
    }

    const OK: &[u8] = br#"{"status":1,"request":"647d2300-702c-4b38-8b2f-d56326ae460b"}"#;

    #[test]
    fn success_means_nothing_to_say() {
        assert_eq!(answer_words(200, &quota_headers(9000), OK), None);
        assert_eq!(pause_reason(200, &[], OK), None);
        assert_eq!(refused_despite_success(200, OK), None);
        assert_eq!(asked_wait_at(200, &quota_headers(9000), OK, NOW), None);
    }

    #[test]
    fn a_refused_token_or_user_key_pauses_with_what_to_do() {
        let cases = [
            (Some("token"), ERROR_TOKEN_INVALID, "pushover.net/apps"),
            (Some("user"), ERROR_USER_INVALID, "dashboard"),
            (Some("user"), ERROR_USER_NOT_VALID, "dashboard"),
            // Without the field naming the culprit, the words alone do.
            (None, ERROR_TOKEN_INVALID, "pushover.net/apps"),
            (None, ERROR_USER_NOT_VALID, "dashboard"),
        ];
        for (field, error, fix) in cases {
            let body = error_body(field, error);
            let words = answer_words(400, &[], &body).unwrap();
            assert!(words.contains("(400)") && words.contains(fix), "{words}");
            let pause = pause_reason(400, &[], &body).unwrap();
            assert!(pause.ends_with("then press Resume"), "{pause}");
            assert!(pause.contains(fix), "{pause}");
            assert_eq!(asked_wait_at(400, &[], &body, NOW), None);
        }
        assert!(
            pause_reason(400, &[], &error_body(Some("token"), ERROR_TOKEN_INVALID))
                .unwrap()
                .contains("application token is invalid")
        );
    }

    #[test]
    fn other_refusals_are_final_with_pushovers_words() {
        let body = error_body(Some("message"), "message cannot be blank");
        assert_eq!(
            answer_words(400, &[], &body).as_deref(),
            Some("Pushover refused the message (400): message cannot be blank")
        );
        assert_eq!(pause_reason(400, &[], &body), None);
        assert_eq!(
            answer_words(400, &[], b"<html>nope</html>").as_deref(),
            Some("Pushover refused the message (400) without saying why")
        );
        assert_eq!(answer_words(500, &[], b"Internal Server Error"), None);
        assert_eq!(pause_reason(500, &[], b""), None);
        assert_eq!(asked_wait_at(500, &[], b"", NOW), None);
    }

    #[test]
    fn an_exhausted_monthly_quota_waits_until_the_reset_bounded() {
        let body = error_body(None, "application is over its monthly message quota");
        let words = answer_words(429, &quota_headers(0), &body).unwrap();
        assert!(words.contains("monthly message limit"), "{words}");
        assert!(words.contains("resets 2026-12-01 00:00 UTC"), "{words}");
        assert_eq!(pause_reason(429, &quota_headers(0), &body), None);
        assert_eq!(
            asked_wait_at(429, &quota_headers(0), &body, NOW),
            Some(1800.0)
        );
        // Weeks away: bounded, tried again within the hour.
        assert_eq!(
            asked_wait_at(429, &quota_headers(0), &body, RESET - 20 * 86_400),
            Some(MAX_ASKED_WAIT_SECS)
        );
        // A reset in the past: no wait.
        assert_eq!(
            asked_wait_at(429, &quota_headers(0), &body, RESET + 5),
            Some(0.0)
        );
        // No headers: Retry-After, else the longest wait.
        assert_eq!(
            asked_wait_at(429, &headers(&[("Retry-After", "30")]), &body, NOW),
            Some(30.0)
        );
        assert_eq!(
            asked_wait_at(429, &[], &body, NOW),
            Some(MAX_ASKED_WAIT_SECS)
        );
        for silly in ["NaN", "-5", "inf", "1e300", "soon"] {
            let wait = asked_wait_at(429, &headers(&[("retry-after", silly)]), &body, NOW).unwrap();
            assert!(
                (0.0..=MAX_ASKED_WAIT_SECS).contains(&wait),
                "{silly}: {wait}"
            );
        }
        assert_eq!(asked_wait(429, &[], &body), Some(MAX_ASKED_WAIT_SECS));
    }

    #[test]
    fn the_last_message_of_the_month_waits_for_the_reset_before_the_next() {
        assert_eq!(asked_wait_at(200, &quota_headers(0), OK, NOW), Some(1800.0));
        assert_eq!(asked_wait_at(200, &quota_headers(1), OK, NOW), None);
    }

    #[test]
    fn quota_reads_the_headers_in_any_case() {
        let q = quota(&headers(&[
            ("x-limit-app-limit", "10000"),
            ("X-LIMIT-APP-REMAINING", " 9871 "),
            ("X-Limit-App-Reset", &RESET.to_string()),
        ]))
        .unwrap();
        assert_eq!(
            q,
            Quota {
                limit: 10_000,
                remaining: 9871,
                reset_unix: Some(RESET)
            }
        );
        assert_eq!(
            q.words(),
            "9,871 of 10,000 messages left this month (resets 2026-12-01 00:00 UTC)"
        );
        assert_eq!(quota(&headers(&[("x-limit-app-limit", "10000")])), None);
        let no_reset = quota(&headers(&[
            ("x-limit-app-limit", "7"),
            ("x-limit-app-remaining", "0"),
            ("x-limit-app-reset", "never"),
        ]))
        .unwrap();
        assert_eq!(no_reset.reset_unix, None);
        assert_eq!(no_reset.words(), "0 of 7 messages left this month");
    }

    #[test]
    fn a_2xx_with_status_0_is_a_refusal() {
        let body = error_body(None, "message cannot be blank");
        let words = refused_despite_success(200, &body).unwrap();
        assert!(
            words.contains("status 0") && words.contains("blank"),
            "{words}"
        );
        assert_eq!(answer_words(200, &[], &body), Some(words));
        assert_eq!(refused_despite_success(200, b"not json"), None);
        assert_eq!(refused_despite_success(400, &body), None);
        let gone = error_body(Some("token"), ERROR_TOKEN_INVALID);
        assert!(pause_reason(200, &[], &gone).is_some());
    }

    #[test]
    fn words_never_repeat_anything_shaped_like_a_key() {
        let body = error_body(None, "user azGDORePK8gMaC0QOYAMyEEuzJnyUi is disabled");
        let words = answer_words(400, &[], &body).unwrap();
        assert!(!words.contains("azGDORePK8"), "{words}");
        assert!(words.contains("user •••••• is disabled"), "{words}");
        let long = error_body(None, &"x ".repeat(5000));
        assert!(answer_words(400, &[], &long).unwrap().chars().count() < 400);
    }
}
