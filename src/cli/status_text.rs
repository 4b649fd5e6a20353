//! The human-readable form of `farmhook status` (the JSON form is the
//! `Status` value itself).

use crate::core::events::EventType;
use crate::engine::status::Status;

/// The human-readable form of `status`.
pub fn status_text(s: &Status) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let on = |b: bool| if b { "enabled" } else { "disabled" };
    let count = |events: &[&str]| format!("{}/{} events", events.len(), EventType::all().count());
    writeln!(out, "profile:  {} ({})", s.profile, s.config_file).ok();
    writeln!(out, "plan:     {}", s.plan.label()).ok();
    match &s.keyring.error {
        None => writeln!(out, "keyring:  reachable").ok(),
        Some(e) => writeln!(out, "keyring:  UNREACHABLE: {e}").ok(),
    };
    for (channel, c) in s.channels.iter() {
        let mut line = format!("{:<9} {}", format!("{}:", channel.id()), on(c.enabled));
        for kind in channel.spec().secrets {
            let shown = c.secrets.get(kind.status_key).cloned().flatten();
            line.push_str(&format!(
                ", {} {}",
                kind.words,
                shown.as_deref().unwrap_or("not set")
            ));
        }
        if let Some(chat) = &c.chat_id {
            line.push_str(&format!(", chat {chat}"));
        }
        if let Some(signing) = c.signing {
            line.push_str(if signing {
                ", signing on"
            } else {
                ", signing off"
            });
        }
        line.push_str(&format!(", {}", count(&c.events)));
        // Why an enabled channel sends nothing, last: it is the news.
        if let (true, Some(why)) = (c.enabled, &c.blocked) {
            line.push_str(&format!("; NOT SENDING: {why}"));
        }
        writeln!(out, "{line}").ok();
    }
    let p = &s.printers;
    if p.count == 0 {
        writeln!(out, "printers: none (`farmhook printers add …`)").ok();
    } else {
        let kinds: Vec<String> = p.kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
        writeln!(
            out,
            "printers: {} ({}), told offline after {} s of silence",
            p.count,
            kinds.join(", "),
            p.offline_after_s
        )
        .ok();
    }
    for (i, (channel, health)) in s.health.iter().enumerate() {
        let head = if i == 0 { "health:" } else { "" };
        writeln!(out, "{head:<9} {}: {}", channel.label(), health.summary()).ok();
    }
    for w in &s.warnings {
        writeln!(out, "warning:  {w}").ok();
    }
    for n in &s.notices {
        writeln!(out, "note:     {n}").ok();
    }
    out
}
