//! Rules for values given by the user: on the command line, or as a URL.

/// True for a host that is this machine (127.0.0.0/8, ::1, `localhost`):
/// the only place plain `http://` may go, for an endpoint or an override.
pub fn is_loopback_host(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
    }
}

/// What is wrong with a pasted URL before its own rules are checked; each
/// kind of URL says it in its own words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PastedUrlError {
    Empty,
    /// Longer than allowed, in characters.
    TooLong(usize),
    /// A space, tab, line break or control character inside it.
    InnerWhitespace,
    NotAUrl,
}

/// A pasted URL, trimmed and parsed, at most `max_len` bytes. The url
/// crate silently drops tabs and newlines inside a URL; a pasted URL with
/// one inside is broken, so it is refused here instead.
pub fn parse_pasted_url(input: &str, max_len: usize) -> Result<url::Url, PastedUrlError> {
    let text = input.trim();
    if text.is_empty() {
        return Err(PastedUrlError::Empty);
    }
    if text.len() > max_len {
        return Err(PastedUrlError::TooLong(text.chars().count()));
    }
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(PastedUrlError::InnerWhitespace);
    }
    url::Url::parse(text).map_err(|_| PastedUrlError::NotAUrl)
}

/// A value read from stdin (`-`): all of it, less one trailing newline
/// (`\n` or `\r\n`). Anything else, further lines included, stays part of
/// the value so that it is validated rather than silently cut.
pub fn strip_one_trailing_newline(text: &str) -> &str {
    text.strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::strip_one_trailing_newline as strip;

    #[test]
    fn only_one_trailing_newline_goes() {
        assert_eq!(strip("key\n"), "key");
        assert_eq!(strip("key\r\n"), "key");
        assert_eq!(strip("key"), "key");
        assert_eq!(strip("key\n\n"), "key\n");
        assert_eq!(strip("key\nmore\n"), "key\nmore");
        assert_eq!(strip("key\r"), "key\r");
    }
}
