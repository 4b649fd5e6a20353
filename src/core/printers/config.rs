//! A printer as the settings file remembers it: name, kind, address,
//! serial and pinned certificate fingerprint. No secret fits here: access
//! codes and API keys live in the keyring.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Longest printer name, in characters.
pub const MAX_NAME_CHARS: usize = 40;
/// The port a Bambu printer's MQTT broker listens on.
pub const BAMBU_DEFAULT_PORT: u16 = 8883;
/// Shortest and longest Bambu serial (`[0-9A-Z]`).
pub const SERIAL_CHARS: std::ops::RangeInclusive<usize> = 8..=20;
/// Longest address or URL we look at.
const MAX_ADDRESS_LEN: usize = 256;

/// Which protocol a printer speaks (Bambu Lab's first: the add form's
/// default).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PrinterKind {
    /// Bambu Lab, over LAN MQTT with TLS.
    #[default]
    Bambu,
    /// OctoPrint, over REST and its push socket.
    OctoPrint,
    /// Moonraker (Klipper), over its JSON-RPC websocket.
    Moonraker,
}

impl PrinterKind {
    pub const ALL: [PrinterKind; 3] = [
        PrinterKind::Bambu,
        PrinterKind::OctoPrint,
        PrinterKind::Moonraker,
    ];

    /// The id the command line and the settings file use.
    pub fn id(self) -> &'static str {
        match self {
            PrinterKind::Bambu => "bambu",
            PrinterKind::OctoPrint => "octoprint",
            PrinterKind::Moonraker => "moonraker",
        }
    }

    /// The name the window shows.
    pub fn label(self) -> &'static str {
        match self {
            PrinterKind::Bambu => "Bambu Lab",
            PrinterKind::OctoPrint => "OctoPrint",
            PrinterKind::Moonraker => "Moonraker (Klipper)",
        }
    }

    /// The kind called `id`, or why there is none.
    pub fn parse(id: &str) -> Result<PrinterKind, PrinterConfigError> {
        PrinterKind::from_id(id).ok_or_else(|| PrinterConfigError::UnknownKind(shown(id.trim())))
    }

    /// The kind called `id`, in any case.
    pub fn from_id(id: &str) -> Option<PrinterKind> {
        let id = id.trim();
        PrinterKind::ALL
            .into_iter()
            .find(|k| k.id().eq_ignore_ascii_case(id))
    }
}

impl fmt::Display for PrinterKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// One watched printer, as stored in the settings file. Build it with
/// [`PrinterConfig::new`] (which normalises every field), and check one
/// read from a file with [`PrinterConfig::validate`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrinterConfig {
    /// The operator's name for it, shown in every message.
    pub name: String,
    pub kind: PrinterKind,
    /// `host[:port]` for Bambu; the base URL (`http(s)://host[:port][/path]`)
    /// for OctoPrint and Moonraker.
    pub address: String,
    /// Bambu only: the printer's serial (`[0-9A-Z]{8,20}`), its MQTT topic
    /// and its certificate's CN.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub serial: Option<String>,
    /// Bambu only: the SHA-256 of a certificate pinned on first use, as 64
    /// lowercase hex digits, for printers whose certificate does not chain
    /// to Bambu's CAs.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub fingerprint: Option<String>,
}

/// Why a printer's settings are not usable, in words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrinterConfigError {
    #[error("the printer needs a name (1 to {MAX_NAME_CHARS} characters)")]
    EmptyName,
    #[error("the name is too long ({0} characters); keep it to {MAX_NAME_CHARS}")]
    NameTooLong(usize),
    #[error("the name has a control character (tab, line break…); use letters, digits and spaces")]
    NameNotPrintable,
    #[error(
        "'{0}' is not a printer kind farmhook knows; the kinds are bambu, octoprint and moonraker"
    )]
    UnknownKind(String),
    #[error("the address is empty: give the printer's IP address or host name, like 192.168.1.40")]
    EmptyAddress,
    #[error("the address is too long ({0} characters)")]
    AddressTooLong(usize),
    #[error(
        "a Bambu printer's address is a host and an optional port, like 192.168.1.40 or 192.168.1.40:8883, not a URL"
    )]
    BambuAddressIsUrl,
    #[error("'{0}' is not a host name or IP address")]
    BadHost(String),
    #[error("the port must be a number from 1 to 65535 (it is '{0}')")]
    BadPort(String),
    #[error("a Bambu printer needs its serial (Settings › Device on the printer's screen)")]
    MissingSerial,
    #[error(
        "the serial must be {min} to {max} capital letters and digits, like 01S00C123456789 (it has {0} characters)",
        min = SERIAL_CHARS.start(),
        max = SERIAL_CHARS.end()
    )]
    SerialLength(usize),
    #[error("the serial has a character other than a capital letter or a digit ('{0}')")]
    SerialCharacter(char),
    #[error("only Bambu printers have a serial; leave it out for {0}")]
    SerialNotBambu(PrinterKind),
    #[error("the URL is not a URL: it looks like http://192.168.1.50 or http://octopi.local:5000")]
    NotAUrl,
    #[error("the URL must start with http:// or https:// (it starts with {0}://)")]
    NotHttp(String),
    #[error(
        "the URL has a user name or password in it ('…@'): give the key separately, it goes to the keyring"
    )]
    UrlUserInfo,
    #[error("the URL has a query ('?…') or fragment ('#…'): give the base URL only")]
    UrlQueryOrFragment,
    #[error(
        "the fingerprint must be 64 hexadecimal digits (a SHA-256), colons allowed; it has {0} digits"
    )]
    FingerprintLength(usize),
    #[error("the fingerprint has a character that is not a hexadecimal digit ('{0}')")]
    FingerprintCharacter(char),
    #[error("only Bambu printers pin a certificate fingerprint; leave it out for {0}")]
    FingerprintNotBambu(PrinterKind),
}

impl PrinterConfig {
    /// Checks and normalises what the operator gave: the name trimmed, the
    /// serial in capitals, the URL without a trailing slash, the
    /// fingerprint as lowercase hex without colons.
    pub fn new(
        name: &str,
        kind: PrinterKind,
        address: &str,
        serial: Option<&str>,
        fingerprint: Option<&str>,
    ) -> Result<PrinterConfig, PrinterConfigError> {
        let name = parse_name(name)?;
        fn blank(s: Option<&str>) -> Option<&str> {
            s.map(str::trim).filter(|s| !s.is_empty())
        }
        let (serial, fingerprint) = (blank(serial), blank(fingerprint));
        let address = match kind {
            PrinterKind::Bambu => {
                let (host, port) = parse_bambu_address(address)?;
                if port == BAMBU_DEFAULT_PORT {
                    host
                } else if host.contains(':') {
                    format!("[{host}]:{port}")
                } else {
                    format!("{host}:{port}")
                }
            }
            PrinterKind::OctoPrint | PrinterKind::Moonraker => {
                if serial.is_some() {
                    return Err(PrinterConfigError::SerialNotBambu(kind));
                }
                if fingerprint.is_some() {
                    return Err(PrinterConfigError::FingerprintNotBambu(kind));
                }
                parse_base_url(address)?
                    .as_str()
                    .trim_end_matches('/')
                    .into()
            }
        };
        let serial = match (kind, serial) {
            (PrinterKind::Bambu, None) => return Err(PrinterConfigError::MissingSerial),
            (_, serial) => serial.map(parse_serial).transpose()?,
        };
        let fingerprint = fingerprint.map(parse_fingerprint).transpose()?;
        Ok(PrinterConfig {
            name,
            kind,
            address,
            serial,
            fingerprint,
        })
    }

    /// Checks a printer read from the settings file, as [`PrinterConfig::new`]
    /// would have.
    pub fn validate(&self) -> Result<(), PrinterConfigError> {
        PrinterConfig::new(
            &self.name,
            self.kind,
            &self.address,
            self.serial.as_deref(),
            self.fingerprint.as_deref(),
        )
        .map(|_| ())
    }

    /// The `id` of the payload's `printer` object: `prn_` and the serial
    /// (Bambu), or the name in lowercase with anything but letters and
    /// digits as `_` (the others).
    pub fn payload_id(&self) -> String {
        let base = match (&self.kind, &self.serial) {
            (PrinterKind::Bambu, Some(serial)) => serial.clone(),
            _ => self.name.clone(),
        };
        let slug: String = base
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect();
        format!("prn_{slug}")
    }

    /// Bambu: the host and port to connect to.
    pub fn bambu_endpoint(&self) -> Result<(String, u16), PrinterConfigError> {
        parse_bambu_address(&self.address)
    }

    /// OctoPrint and Moonraker: the websocket URL (`/sockjs/websocket` or
    /// `/websocket` under the base URL, `ws` or `wss` after its scheme).
    /// `None` for Bambu.
    pub fn websocket_url(&self) -> Option<String> {
        let path = match self.kind {
            PrinterKind::Bambu => return None,
            PrinterKind::OctoPrint => "sockjs/websocket",
            PrinterKind::Moonraker => "websocket",
        };
        let base = parse_base_url(&self.address).ok()?;
        let base = base.as_str().trim_end_matches('/');
        let ws = if let Some(rest) = base.strip_prefix("https://") {
            format!("wss://{rest}")
        } else {
            format!("ws://{}", base.strip_prefix("http://")?)
        };
        Some(format!("{ws}/{path}"))
    }
}

/// A printer name: trimmed, 1 to 40 characters, no control characters.
pub fn parse_name(input: &str) -> Result<String, PrinterConfigError> {
    let name = input.trim();
    if name.is_empty() {
        return Err(PrinterConfigError::EmptyName);
    }
    let chars = name.chars().count();
    if chars > MAX_NAME_CHARS {
        return Err(PrinterConfigError::NameTooLong(chars));
    }
    if name.chars().any(char::is_control) {
        return Err(PrinterConfigError::NameNotPrintable);
    }
    Ok(name.to_string())
}

/// A Bambu serial: trimmed, put in capitals, `[0-9A-Z]{8,20}`.
pub fn parse_serial(input: &str) -> Result<String, PrinterConfigError> {
    let serial = input.trim().to_ascii_uppercase();
    if serial.is_empty() {
        return Err(PrinterConfigError::MissingSerial);
    }
    if let Some(c) = serial.chars().find(|c| !c.is_ascii_alphanumeric()) {
        return Err(PrinterConfigError::SerialCharacter(c));
    }
    if !SERIAL_CHARS.contains(&serial.len()) {
        return Err(PrinterConfigError::SerialLength(serial.len()));
    }
    Ok(serial)
}

/// A SHA-256 fingerprint: 64 hex digits, colons and spaces ignored, kept
/// in lowercase.
pub fn parse_fingerprint(input: &str) -> Result<String, PrinterConfigError> {
    let digits: String = input
        .trim()
        .chars()
        .filter(|c| *c != ':' && *c != ' ')
        .collect();
    if let Some(c) = digits.chars().find(|c| !c.is_ascii_hexdigit()) {
        return Err(PrinterConfigError::FingerprintCharacter(c));
    }
    if digits.len() != 64 {
        return Err(PrinterConfigError::FingerprintLength(digits.len()));
    }
    Ok(digits.to_ascii_lowercase())
}

/// A fingerprint as people compare them: `AB:CD:…`, in capitals.
pub fn format_fingerprint(hex: &str) -> String {
    hex.as_bytes()
        .chunks(2)
        .map(|pair| String::from_utf8_lossy(pair).to_ascii_uppercase())
        .collect::<Vec<_>>()
        .join(":")
}

/// A Bambu address: `host`, `host:port`, `[v6]` or `[v6]:port`; the port is
/// 8883 unless given.
pub fn parse_bambu_address(input: &str) -> Result<(String, u16), PrinterConfigError> {
    use PrinterConfigError as E;
    let text = input.trim();
    if text.is_empty() {
        return Err(E::EmptyAddress);
    }
    if text.len() > MAX_ADDRESS_LEN {
        return Err(E::AddressTooLong(text.chars().count()));
    }
    if text.contains("://") || text.contains('/') {
        return Err(E::BambuAddressIsUrl);
    }
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (v6, after) = rest
            .split_once(']')
            .ok_or_else(|| E::BadHost(shown(text)))?;
        let port = match after {
            "" => None,
            _ => Some(
                after
                    .strip_prefix(':')
                    .ok_or_else(|| E::BadHost(shown(text)))?,
            ),
        };
        (v6, port)
    } else if text.matches(':').count() > 1 {
        // A bare IPv6 address has no room for a port.
        (text, None)
    } else {
        match text.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        }
    };
    let port = match port {
        None => BAMBU_DEFAULT_PORT,
        Some(p) => match p.parse::<u16>() {
            Ok(p) if p > 0 => p,
            _ => return Err(E::BadPort(shown(p))),
        },
    };
    let parsed = if host.contains(':') {
        host.parse::<std::net::Ipv6Addr>()
            .map(|ip| ip.to_string())
            .map_err(|_| E::BadHost(shown(host)))?
    } else {
        match url::Host::parse(host) {
            Ok(url::Host::Domain(d)) if is_host_name(&d) => d,
            Ok(url::Host::Ipv4(ip)) => ip.to_string(),
            _ => return Err(E::BadHost(shown(host))),
        }
    };
    Ok((parsed, port))
}

/// An OctoPrint or Moonraker base URL: http or https, a host, no user
/// name, query or fragment. Plain http is allowed anywhere: these servers
/// live on the LAN and most have no certificate.
pub fn parse_base_url(input: &str) -> Result<url::Url, PrinterConfigError> {
    use PrinterConfigError as E;
    let text = input.trim();
    if text.is_empty() {
        return Err(E::EmptyAddress);
    }
    if text.len() > MAX_ADDRESS_LEN {
        return Err(E::AddressTooLong(text.chars().count()));
    }
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(E::NotAUrl);
    }
    let url = url::Url::parse(text).map_err(|e| match e {
        url::ParseError::InvalidPort => E::BadPort(shown(text.rsplit(':').next().unwrap_or(""))),
        _ => E::NotAUrl,
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(E::NotHttp(url.scheme().chars().take(16).collect()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(E::UrlUserInfo);
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(E::UrlQueryOrFragment);
    }
    match url.host() {
        Some(url::Host::Domain(d)) if !is_host_name(d) => return Err(E::BadHost(shown(d))),
        None => return Err(E::NotAUrl),
        _ => {}
    }
    if url.port() == Some(0) {
        return Err(E::BadPort("0".into()));
    }
    Ok(url)
}

/// Letters, digits, `-`, `_` and dots: what a LAN host name is made of.
fn is_host_name(d: &str) -> bool {
    !d.is_empty()
        && d.len() <= 253
        && d.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
}

/// A bit of user input, short enough to quote back.
fn shown(text: &str) -> String {
    text.chars().take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use PrinterConfigError as E;

    fn bambu(address: &str, serial: Option<&str>) -> Result<PrinterConfig, PrinterConfigError> {
        PrinterConfig::new("X1C-01", PrinterKind::Bambu, address, serial, None)
    }

    #[test]
    fn a_bambu_printer_needs_a_host_and_a_serial_and_gets_port_8883() {
        let p = bambu(" 192.168.1.40 ", Some("01s00c123456789")).unwrap();
        assert_eq!(p.address, "192.168.1.40");
        assert_eq!(p.serial.as_deref(), Some("01S00C123456789"));
        assert_eq!(p.bambu_endpoint().unwrap(), ("192.168.1.40".into(), 8883));
        assert_eq!(p.payload_id(), "prn_01s00c123456789");
        let p = bambu("x1c.lan:18883", Some("01S00C123456789")).unwrap();
        assert_eq!(p.bambu_endpoint().unwrap(), ("x1c.lan".into(), 18883));
        let p = bambu("[fe80::1]:9000", Some("01S00C123456789")).unwrap();
        assert_eq!(p.address, "[fe80::1]:9000");
        assert_eq!(p.bambu_endpoint().unwrap(), ("fe80::1".into(), 9000));
        assert_eq!(bambu("192.168.1.40", None), Err(E::MissingSerial));
        assert_eq!(bambu("192.168.1.40", Some("  ")), Err(E::MissingSerial));
        assert_eq!(
            bambu("192.168.1.40", Some("SHORT")),
            Err(E::SerialLength(5))
        );
        assert_eq!(
            bambu("192.168.1.40", Some("01S00C-23456789")),
            Err(E::SerialCharacter('-'))
        );
        assert_eq!(
            bambu("mqtts://192.168.1.40", Some("01S00C123456789")),
            Err(E::BambuAddressIsUrl)
        );
        assert_eq!(
            bambu("192.168.1.40:0", Some("01S00C123456789")),
            Err(E::BadPort("0".into()))
        );
        assert_eq!(
            bambu("192.168.1.40:70000", Some("01S00C123456789")),
            Err(E::BadPort("70000".into()))
        );
        assert_eq!(bambu("", Some("01S00C123456789")), Err(E::EmptyAddress));
        assert!(matches!(
            bambu("bad host!", Some("01S00C123456789")),
            Err(E::BadHost(_))
        ));
    }

    #[test]
    fn names_are_one_to_forty_printable_characters() {
        assert_eq!(parse_name("  P1S 03 "), Ok("P1S 03".into()));
        assert_eq!(parse_name(" "), Err(E::EmptyName));
        assert_eq!(parse_name(&"x".repeat(41)), Err(E::NameTooLong(41)));
        assert_eq!(parse_name(&"é".repeat(40)), Ok("é".repeat(40)));
        assert_eq!(parse_name("a\tb"), Err(E::NameNotPrintable));
        for e in [E::EmptyName, E::NameTooLong(41), E::MissingSerial] {
            assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn octoprint_and_moonraker_take_an_http_url_and_no_serial() {
        let p = PrinterConfig::new(
            "Ender",
            PrinterKind::OctoPrint,
            "http://octopi.local:5000/",
            None,
            None,
        )
        .unwrap();
        assert_eq!(p.address, "http://octopi.local:5000");
        assert_eq!(
            p.websocket_url().as_deref(),
            Some("ws://octopi.local:5000/sockjs/websocket")
        );
        assert_eq!(p.payload_id(), "prn_ender");
        let m = PrinterConfig::new(
            "Voron 2.4",
            PrinterKind::Moonraker,
            "https://voron.lan",
            None,
            None,
        )
        .unwrap();
        assert_eq!(
            m.websocket_url().as_deref(),
            Some("wss://voron.lan/websocket")
        );
        let url = |u: &str| PrinterConfig::new("V", PrinterKind::Moonraker, u, None, None);
        assert_eq!(url("ftp://voron"), Err(E::NotHttp("ftp".into())));
        assert_eq!(url("voron.lan"), Err(E::NotAUrl));
        assert_eq!(url("http://pi:secret@voron"), Err(E::UrlUserInfo));
        assert_eq!(url("http://voron/?k=1"), Err(E::UrlQueryOrFragment));
        assert!(matches!(url("http://voron:99999"), Err(E::BadPort(_))));
        assert_eq!(
            PrinterConfig::new(
                "V",
                PrinterKind::Moonraker,
                "http://v",
                Some("01S00C1234"),
                None
            ),
            Err(E::SerialNotBambu(PrinterKind::Moonraker))
        );
        assert_eq!(
            PrinterConfig::new("V", PrinterKind::OctoPrint, "http://v", None, Some("ab")),
            Err(E::FingerprintNotBambu(PrinterKind::OctoPrint))
        );
    }

    #[test]
    fn fingerprints_are_64_hex_digits_colons_allowed() {
        let hex = "AB:".repeat(31) + "AB";
        assert_eq!(parse_fingerprint(&hex), Ok("ab".repeat(32)));
        assert_eq!(format_fingerprint(&"ab".repeat(32)), hex);
        assert_eq!(parse_fingerprint("ab"), Err(E::FingerprintLength(2)));
        assert_eq!(
            parse_fingerprint(&"zz".repeat(32)),
            Err(E::FingerprintCharacter('z'))
        );
    }

    #[test]
    fn settings_round_trip_and_hold_no_secret_field() {
        let p = PrinterConfig::new(
            "X1C-01",
            PrinterKind::Bambu,
            "192.168.1.40",
            Some("01S00C123456789"),
            Some(&"0f".repeat(32)),
        )
        .unwrap();
        let json = serde_json::to_value(&p).unwrap();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["address", "fingerprint", "kind", "name", "serial"]);
        assert_eq!(json["kind"], "bambu");
        let back: PrinterConfig = serde_json::from_value(json).unwrap();
        assert_eq!(back, p);
        back.validate().unwrap();
        let o: PrinterConfig =
            serde_json::from_str(r#"{"name":"O","kind":"octoprint","address":"http://o"}"#)
                .unwrap();
        assert_eq!(o.serial, None);
        o.validate().unwrap();
        assert_eq!(
            PrinterKind::from_id("OctoPrint"),
            Some(PrinterKind::OctoPrint)
        );
        assert_eq!(PrinterKind::from_id("prusa"), None);
        assert_eq!(
            PrinterKind::parse("prusa"),
            Err(E::UnknownKind("prusa".into()))
        );
    }
}
