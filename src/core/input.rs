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
