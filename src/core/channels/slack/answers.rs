//! What Slack's answers to an incoming-webhook post mean, as pure functions
//! over `(status, headers, body)`. Slack answers in plain text, not JSON:
//! `200 ok`, or an error code such as `no_service` with the status.
//!
//! Slack's codes: 400 `invalid_payload`, `no_text`, `invalid_blocks`,
//! `invalid_blocks_format`, `user_not_found`; 403 `action_prohibited`,
//! `invalid_token`, `posting_to_general_channel_denied`; 404 `no_service`,
//! `no_team`, `channel_not_found`; 410 `channel_is_archived`; 429
//! `rate_limited` with `Retry-After` seconds; 500 `rollup_error`.

/// The longest wait farmhook takes from Slack's `Retry-After`; a larger
/// value is read as this.
pub const MAX_ASKED_WAIT_SECS: f64 = 3600.0;
/// The wait after a 429 that names none: Slack's pace for a webhook is
/// about one message per second.
pub const DEFAULT_RATE_LIMIT_WAIT_SECS: f64 = 1.0;
/// The most of an answer body shown in words.
const MAX_CODE_CHARS: usize = 80;

/// What Slack means by a non-success answer, in words, starting with
/// "Slack …" and naming the status and Slack's code. None for 2xx.
pub fn answer_words(status: u16, headers: &[(String, String)], body: &[u8]) -> Option<String> {
    if (200..300).contains(&status) {
        return None;
    }
    let code = code(body);
    let at = if code.is_empty() {
        format!("({status})")
    } else {
        format!("({status} {code})")
    };
    let words = match (status, code.as_str()) {
        (400, "invalid_payload") => format!(
            "Slack could not read the message {at}: this is a fault in farmhook, please report it"
        ),
        (400, "no_text" | "missing_text_or_fallback_or_attachments") => {
            format!("Slack refused a message without text {at}")
        }
        (400, "invalid_blocks" | "invalid_blocks_format") => format!(
            "Slack refused the message's layout {at}: this is a fault in farmhook, please report it"
        ),
        (400, "user_not_found") => format!("Slack did not find the user to post as {at}"),
        (400, _) => format!("Slack refused the message {at}"),
        (403, "invalid_token") => {
            format!(
                "Slack does not accept this webhook's secret {at}: the URL is wrong or was revoked"
            )
        }
        (403, "posting_to_general_channel_denied") => {
            format!("Slack does not let this webhook post in the workspace's general channel {at}")
        }
        (403, _) => format!(
            "Slack says the workspace does not allow this webhook to post {at}: an admin restricted it"
        ),
        (404, "channel_not_found") => {
            format!("Slack says the webhook's channel no longer exists {at}")
        }
        (404, "no_team") => format!("Slack says the webhook's workspace no longer exists {at}"),
        (404, _) => format!(
            "Slack says this webhook no longer exists {at}: it was removed or its app uninstalled"
        ),
        (410, _) => format!("Slack says the webhook's channel is archived {at}"),
        (429, _) => format!(
            "Slack rate limit {at}: asked to wait {:.0} s",
            asked_wait(status, headers, body).unwrap_or(DEFAULT_RATE_LIMIT_WAIT_SECS)
        ),
        (500..=599, _) => format!("Slack had a problem of its own {at}; farmhook tries again"),
        _ => format!("Slack answered {at}"),
    };
    Some(words)
}

/// For the "gone" answers, after which sending again cannot work until the
/// user acts: the words, ending with what to do. None otherwise.
pub fn pause_reason(status: u16, headers: &[(String, String)], body: &[u8]) -> Option<String> {
    let what_to_do = match (status, code(body).as_str()) {
        (403, "action_prohibited") => {
            "ask a Slack admin to allow it or paste a new webhook URL, then press Resume"
        }
        (403, "posting_to_general_channel_denied") => {
            "make a webhook for another channel and paste its URL, then press Resume"
        }
        (403 | 404, _) => "paste a new webhook URL, then press Resume",
        (410, _) => "unarchive the channel or paste a new webhook URL, then press Resume",
        _ => return None,
    };
    let words = answer_words(status, headers, body)?;
    Some(format!("{words}: {what_to_do}"))
}

/// Seconds Slack asked to wait: its `Retry-After` header (whole or decimal
/// seconds) on any answer, or a second after a 429 without one. Bounded to
/// `0..=`[`MAX_ASKED_WAIT_SECS`]; None when nothing was asked.
pub fn asked_wait(status: u16, headers: &[(String, String)], _body: &[u8]) -> Option<f64> {
    let from_header = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("retry-after"))
        .and_then(|(_, value)| value.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| s.min(MAX_ASKED_WAIT_SECS));
    match from_header {
        Some(seconds) => Some(seconds),
        None if status == 429 => Some(DEFAULT_RATE_LIMIT_WAIT_SECS),
        None => None,
    }
}

/// Slack says failure with a non-2xx status, but a 2xx whose body is one of
/// its error codes instead of `ok` is read as that failure too.
pub fn refused_despite_success(status: u16, body: &[u8]) -> Option<String> {
    if !(200..300).contains(&status) {
        return None;
    }
    let code = code(body);
    let looks_like_error = KNOWN_ERROR_CODES.contains(&code.as_str());
    looks_like_error
        .then(|| format!("Slack answered {status} but said {code}: the message was not posted"))
}

/// Every error code Slack's webhooks answer with.
const KNOWN_ERROR_CODES: &[&str] = &[
    "invalid_payload",
    "no_text",
    "missing_text_or_fallback_or_attachments",
    "invalid_blocks",
    "invalid_blocks_format",
    "user_not_found",
    "action_prohibited",
    "invalid_token",
    "posting_to_general_channel_denied",
    "no_service",
    "no_team",
    "channel_not_found",
    "channel_is_archived",
    "rate_limited",
    "rollup_error",
];

/// Slack's code from an answer body: its first line, trimmed, printable,
/// and short (an HTML error page from a proxy shows as its start).
fn code(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let line = text.trim().lines().next().unwrap_or_default().trim();
    let mut code: String = line
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_CODE_CHARS)
        .collect();
    if line.chars().count() > MAX_CODE_CHARS {
        code.push('…');
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_headers() -> Vec<(String, String)> {
        Vec::new()
    }

    fn words(status: u16, body: &str) -> String {
        answer_words(status, &no_headers(), body.as_bytes()).unwrap()
    }

    fn pause(status: u16, body: &str) -> Option<String> {
        pause_reason(status, &no_headers(), body.as_bytes())
    }

    #[test]
    fn success_means_nothing_to_say() {
        assert_eq!(answer_words(200, &no_headers(), b"ok"), None);
        assert_eq!(pause(200, "ok"), None);
        assert_eq!(asked_wait(200, &no_headers(), b"ok"), None);
        assert_eq!(refused_despite_success(200, b"ok"), None);
    }

    #[test]
    fn final_refusals_are_named_and_do_not_pause() {
        for (body, expected) in [
            (
                "invalid_payload",
                "Slack could not read the message (400 invalid_payload)",
            ),
            (
                "no_text",
                "Slack refused a message without text (400 no_text)",
            ),
            (
                "invalid_blocks",
                "Slack refused the message's layout (400 invalid_blocks)",
            ),
            (
                "something_new",
                "Slack refused the message (400 something_new)",
            ),
        ] {
            assert!(
                words(400, body).starts_with(expected),
                "{}",
                words(400, body)
            );
            assert_eq!(pause(400, body), None, "{body}");
        }
    }

    #[test]
    fn gone_answers_pause_with_what_to_do() {
        for (status, body, said, to_do) in [
            (
                404,
                "no_service",
                "Slack says this webhook no longer exists (404 no_service)",
                "paste a new webhook URL, then press Resume",
            ),
            (
                404,
                "channel_not_found",
                "channel no longer exists (404 channel_not_found)",
                "paste a new webhook URL",
            ),
            (
                410,
                "channel_is_archived",
                "Slack says the webhook's channel is archived (410 channel_is_archived)",
                "unarchive the channel or paste a new webhook URL, then press Resume",
            ),
            (
                403,
                "action_prohibited",
                "does not allow this webhook to post (403 action_prohibited)",
                "ask a Slack admin",
            ),
            (
                403,
                "invalid_token",
                "does not accept this webhook's secret (403 invalid_token)",
                "paste a new webhook URL, then press Resume",
            ),
            (
                404,
                "",
                "Slack says this webhook no longer exists (404)",
                "press Resume",
            ),
        ] {
            let reason = pause(status, body).unwrap_or_else(|| panic!("{status} {body} pauses"));
            assert!(reason.contains(said), "{reason}");
            assert!(
                reason.ends_with("then press Resume") && reason.contains(to_do),
                "{reason}"
            );
            assert!(words(status, body).contains(said));
        }
    }

    #[test]
    fn rate_limits_and_server_errors_are_retried_not_paused() {
        let headers = vec![("Retry-After".to_string(), "7".to_string())];
        assert_eq!(asked_wait(429, &headers, b"rate_limited"), Some(7.0));
        assert_eq!(
            answer_words(429, &headers, b"rate_limited").unwrap(),
            "Slack rate limit (429 rate_limited): asked to wait 7 s"
        );
        assert_eq!(pause_reason(429, &headers, b"rate_limited"), None);
        assert_eq!(asked_wait(429, &no_headers(), b"rate_limited"), Some(1.0));
        let lower = vec![("retry-after".to_string(), " 2.5 ".to_string())];
        assert_eq!(asked_wait(503, &lower, b""), Some(2.5));
        assert!(
            words(500, "rollup_error")
                .starts_with("Slack had a problem of its own (500 rollup_error)")
        );
        assert_eq!(pause(500, "rollup_error"), None);
        assert_eq!(pause(503, ""), None);
    }

    #[test]
    fn silly_retry_after_values_are_bounded_or_ignored() {
        for (value, expected) in [
            ("NaN", Some(1.0)),
            ("-4", Some(1.0)),
            ("inf", Some(1.0)),
            ("Fri, 27 Nov 2026 05:00:00 GMT", Some(1.0)),
            ("1e12", Some(MAX_ASKED_WAIT_SECS)),
            ("0", Some(0.0)),
        ] {
            let headers = vec![("RETRY-AFTER".to_string(), value.to_string())];
            assert_eq!(asked_wait(429, &headers, b""), expected, "{value}");
        }
        let headers = vec![("Retry-After".to_string(), "NaN".to_string())];
        assert_eq!(asked_wait(500, &headers, b""), None);
    }

    #[test]
    fn odd_bodies_are_shown_short_and_printable() {
        let html = format!("<html>\u{1b}[31m{}\n</html>", "x".repeat(500));
        let said = words(502, &html);
        assert!(said.chars().count() < 200 && said.contains('…'), "{said}");
        assert!(!said.contains('\u{1b}'));
        assert_eq!(words(418, ""), "Slack answered (418)");
    }

    #[test]
    fn a_2xx_carrying_an_error_code_is_a_refusal() {
        assert_eq!(
            refused_despite_success(200, b"no_text"),
            Some("Slack answered 200 but said no_text: the message was not posted".into())
        );
        assert_eq!(refused_despite_success(200, b""), None);
        assert_eq!(refused_despite_success(404, b"no_service"), None);
    }
}
