//! The human-readable form of `farmhook status` (the JSON form is the
//! `Status` value itself).

use crate::core::events::EventType;
use crate::core::settings::Channel;
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
    writeln!(
        out,
        "discord:  {}, {}, {}",
        on(s.discord.enabled),
        s.discord.url.as_deref().unwrap_or("no webhook URL"),
        count(&s.discord.events)
    )
    .ok();
    let webhook_state = match (s.webhook.enabled, s.webhook.active) {
        (true, false) => "enabled but inactive (needs the Commercial plan and an endpoint)",
        (enabled, _) => on(enabled),
    };
    writeln!(
        out,
        "webhook:  {}, {}, key {}, signing {}, {}",
        webhook_state,
        s.webhook.url.as_deref().unwrap_or("no endpoint"),
        s.webhook.api_key.as_deref().unwrap_or("not set"),
        if s.webhook.signing { "on" } else { "off" },
        count(&s.webhook.events)
    )
    .ok();
    writeln!(
        out,
        "health:   Discord: {}",
        s.health[Channel::Discord].summary()
    )
    .ok();
    writeln!(
        out,
        "          custom webhook: {}",
        s.health[Channel::Webhook].summary()
    )
    .ok();
    for w in &s.warnings {
        writeln!(out, "warning:  {w}").ok();
    }
    for n in &s.notices {
        writeln!(out, "note:     {n}").ok();
    }
    out
}
