//! `farmhook printers …` and `farmhook watch`: the printers farmhook
//! watches, and watching them headless, delivering their events through
//! each channel's selection until SIGINT or SIGTERM.

use std::collections::BTreeMap;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio::sync::mpsc;

use super::output::{note, outln};
use super::{AddPrinterArgs, CliError, PrintersCommand, print_notes, value_or_stdin};
use crate::core::printers::config::format_fingerprint;
use crate::core::printers::{PrinterConfig, PrinterKind, PrinterSnapshot, to_event};
use crate::core::settings::Channel;
use crate::engine::delivery::dispatcher::{DispatchUpdate, Dispatcher};
use crate::engine::delivery::log::{DeliveryRecord, Outcome};
use crate::engine::printers::watcher::{self, Watcher};
use crate::engine::printers::{SourceReport, link_words, state_json};
use crate::engine::profile::{Profile, ProfileError};
use crate::engine::routing::{new_event_id, route_event};
use crate::engine::service::EngineOptions;

/// How long `printers add` and `printers test` wait for a printer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(15);
/// How long `watch` lets deliveries in flight finish after a stop.
const STOP_GRACE: Duration = Duration::from_secs(20);
/// How often `watch` writes the printers' state for `printers list`.
const STATE_EVERY: Duration = Duration::from_secs(2);

pub async fn run(profile: &Profile, cmd: PrintersCommand) -> Result<(), CliError> {
    match cmd {
        PrintersCommand::Add(args) => add(profile, args).await,
        PrintersCommand::List { json } => list(profile, json).await,
        PrintersCommand::Remove { name } => {
            print_notes(&profile.remove_printer(&name).await?);
            outln!("removed {name}; its access code or key is gone from the keyring")?;
            Ok(())
        }
        PrintersCommand::Test { name } => test(profile, &name).await,
    }
}

/// A secret flag's value, which must be `-` (stdin).
fn secret_from_stdin(value: Option<SecretString>, flag: &str) -> Result<Option<String>, CliError> {
    let Some(value) = value else {
        return Ok(None);
    };
    if value.expose_secret() != "-" {
        return Err(CliError::input(format!(
            "give {flag} as `-` and the value on stdin (arguments land in shell history and `ps`)"
        )));
    }
    let text = value_or_stdin("-")?;
    if text.trim().is_empty() {
        return Err(CliError::input(format!("{flag}: stdin was empty")));
    }
    Ok(Some(text.trim().to_string()))
}

async fn add(profile: &Profile, args: AddPrinterArgs) -> Result<(), CliError> {
    let address = match args.kind {
        PrinterKind::Bambu => args.host.as_deref().ok_or_else(|| {
            CliError::input("a Bambu printer needs --host (its IP address, like 192.168.1.40)")
        })?,
        _ => args.url.as_deref().ok_or_else(|| {
            CliError::input(format!(
                "{} needs --url (its base URL, like http://octopi.local)",
                args.kind.label()
            ))
        })?,
    };
    let mut config = PrinterConfig::new(
        &args.name,
        args.kind,
        address,
        args.serial.as_deref(),
        args.fingerprint.as_deref(),
    )
    .map_err(|e| CliError::input(e.to_string()))?;
    let secret = match args.kind {
        PrinterKind::Bambu => Some(
            secret_from_stdin(args.access_code, "--access-code")?.ok_or_else(|| {
                CliError::input(
                    "a Bambu printer needs its LAN access code (Settings › Network on the printer): --access-code - and the code on stdin",
                )
            })?,
        ),
        PrinterKind::OctoPrint => Some(secret_from_stdin(args.api_key, "--api-key")?.ok_or_else(
            || {
                CliError::input(
                    "OctoPrint needs an API key (OctoPrint › Settings › Application Keys): --api-key - and the key on stdin",
                )
            },
        )?),
        PrinterKind::Moonraker => secret_from_stdin(args.api_key, "--api-key")?,
    };
    if !args.no_check {
        let secret_string = secret.clone().map(SecretString::from);
        let probe = watcher::probe(&config, secret_string.as_ref(), PROBE_TIMEOUT)
            .await
            .map_err(|why| CliError {
                code: 1,
                message: format!(
                    "{} was not added: {why} (add --no-check to add it without connecting now)",
                    config.name
                ),
            })?;
        // A fingerprint given with --fingerprint was checked by the probe
        // itself (a different certificate is refused): keep it.
        if config.kind == PrinterKind::Bambu
            && !probe.chained_to_bambu
            && config.fingerprint.is_none()
        {
            let fingerprint = probe.fingerprint.clone().ok_or_else(|| CliError {
                code: 1,
                message: "the printer's certificate could not be read".into(),
            })?;
            note!(
                "farmhook: {}'s certificate is not signed by Bambu Lab's CAs (a newer model or a test rig): pinning it, SHA-256 {}",
                config.name,
                format_fingerprint(&fingerprint)
            );
            // Kept as the settings keep it: 64 lowercase hex digits.
            config.fingerprint = Some(
                crate::core::printers::config::parse_fingerprint(&fingerprint)
                    .map_err(|e| CliError::input(e.to_string()))?,
            );
        }
        outln!("{}: {}", config.name, snapshot_words(&probe.snapshot))?;
    }
    let name = config.name.clone();
    print_notes(&profile.add_printer(config, secret.as_deref()).await?);
    outln!("added {name}: `farmhook watch` (or the open window) watches it")?;
    Ok(())
}

async fn test(profile: &Profile, name: &str) -> Result<(), CliError> {
    let config = find(profile, name).await?;
    let secret = profile
        .secrets()
        .printer_secret(name)
        .await
        .map_err(ProfileError::from)?
        .map(SecretString::from);
    let probe = watcher::probe(&config, secret.as_ref(), PROBE_TIMEOUT)
        .await
        .map_err(|message| CliError { code: 1, message })?;
    outln!("{name}: {}", snapshot_words(&probe.snapshot))?;
    if let Some(fingerprint) = &probe.fingerprint {
        outln!(
            "certificate: SHA-256 {}{}",
            format_fingerprint(fingerprint),
            if probe.chained_to_bambu {
                " (signed by Bambu Lab)"
            } else {
                " (pinned)"
            }
        )?;
    }
    Ok(())
}

async fn find(profile: &Profile, name: &str) -> Result<PrinterConfig, CliError> {
    let settings = profile.load().await?.settings;
    settings
        .printers
        .into_iter()
        .find(|p| p.name == name)
        .ok_or_else(|| {
            CliError::input(format!(
                "no printer is named '{name}': `farmhook printers list` shows them"
            ))
        })
}

/// A snapshot in one line: `printing “Benchy” 42 %, 31 min left`.
fn snapshot_words(s: &PrinterSnapshot) -> String {
    let mut words = s.state.clone();
    if let Some(job) = &s.job {
        words.push_str(&format!(" “{job}”"));
    }
    if let Some(progress) = s.progress.filter(|p| p.is_finite()) {
        words.push_str(&format!(" {:.0} %", progress.clamp(0.0, 1.0) * 100.0));
    }
    if let Some(left) = s.remaining_s {
        words.push_str(&format!(", {} min left", left.div_ceil(60)));
    }
    words
}

async fn list(profile: &Profile, json_out: bool) -> Result<(), CliError> {
    let settings = profile.load().await?.settings;
    let path = profile.printer_state_path();
    let states: BTreeMap<String, Value> = tokio::task::spawn_blocking(move || {
        std::fs::read(path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    })
    .await
    .unwrap_or_default();
    if settings.printers.is_empty() && !json_out {
        note!("farmhook: no printers yet: `farmhook printers add bambu|octoprint|moonraker …`");
        return Ok(());
    }
    for p in &settings.printers {
        let state = states.get(&p.name).cloned().unwrap_or(Value::Null);
        if json_out {
            let line = json!({
                "name": p.name,
                "kind": p.kind.id(),
                "address": p.address,
                "serial": p.serial,
                "fingerprint": p.fingerprint,
                "live": state,
            });
            outln!("{line}")?;
        } else {
            let live = match &state {
                Value::Null => "never watched yet".to_string(),
                s => {
                    let parts: Vec<String> = [
                        s["link"].as_str().map(str::to_string),
                        s["state"]
                            .as_str()
                            .filter(|t| !t.is_empty())
                            .map(str::to_string),
                        s["job"].as_str().map(|j| format!("“{j}”")),
                    ]
                    .into_iter()
                    .flatten()
                    .collect();
                    parts.join(", ")
                }
            };
            outln!(
                "{:<20} {:<10} {:<32} {live}",
                p.name,
                p.kind.id(),
                p.address
            )?;
        }
    }
    Ok(())
}

/// `farmhook watch`: every printer's events through each channel's
/// selection, until SIGINT or SIGTERM; then the deliveries in flight end
/// (up to 20 s) before it exits.
pub async fn watch(profile: &Profile, json_out: bool, offline_after: u32) -> Result<(), CliError> {
    let options = EngineOptions::from_env();
    let loaded = profile.load().await?;
    print_notes(&loaded.notice.into_iter().collect());
    let settings = loaded.settings;
    let secrets = profile.read_secrets().await;
    if let Some(e) = &secrets.keyring_error {
        return Err(CliError::input(e.clone()));
    }
    if settings.printers.is_empty() {
        return Err(CliError::input(
            "no printers to watch: add one with `farmhook printers add bambu|octoprint|moonraker …`",
        ));
    }
    if !Channel::ALL
        .iter()
        .any(|c| secrets.send_blocker(*c, &settings).is_none())
    {
        note!(
            "farmhook: no channel can send yet: events will be logged as not sent until one is set up and enabled"
        );
    }
    let mut printers = Vec::new();
    for p in &settings.printers {
        let secret = profile
            .secrets()
            .printer_secret(&p.name)
            .await
            .map_err(ProfileError::from)?
            .map(SecretString::from);
        printers.push((p.clone(), secret));
    }

    let (finished_tx, mut finished) = mpsc::unbounded_channel();
    let dispatcher = Dispatcher::new(options.delivery_config(profile), move |update| {
        if let DispatchUpdate::Record(r) = update
            && r.outcome != Outcome::InProgress
        {
            finished_tx.send(r).ok();
        }
    })
    .map_err(CliError::input)?;
    dispatcher.set_scrubber(secrets.scrubber(&settings, &options.api_bases));

    let stop = stop_signal();
    let (watcher, mut updates) = Watcher::start(
        printers,
        crate::core::printers::Timing::seconds(offline_after),
    );
    note!(
        "farmhook: watching {} printer(s); Ctrl-C or SIGTERM stops",
        settings.printers.len()
    );
    let mut states: BTreeMap<String, (String, PrinterSnapshot)> = BTreeMap::new();
    let mut state_tick = tokio::time::interval(STATE_EVERY);
    let mut dirty = false;
    tokio::pin!(stop);
    let mut failed = 0usize;
    loop {
        tokio::select! {
            _ = &mut stop => break,
            Some(update) = updates.recv() => {
                let Some(config) = settings.printers.iter().find(|p| p.name == update.printer) else {
                    continue;
                };
                let entry = states.entry(update.printer.clone()).or_insert_with(|| ("connecting".into(), PrinterSnapshot::default()));
                dirty = true;
                match update.what {
                    SourceReport::Link(link) => {
                        entry.0 = link_words(&link);
                        if json_out {
                            outln!("{}", json!({"printer": update.printer, "link": entry.0}))?;
                        } else {
                            outln!("{}: {}", update.printer, entry.0)?;
                        }
                    }
                    SourceReport::Snapshot(snapshot) => entry.1 = snapshot,
                    SourceReport::News(news) => {
                        let event = to_event(&news, config, "", OffsetDateTime::now_utc(), new_event_id());
                        if json_out {
                            outln!("{}", json!({"printer": update.printer, "event": event.event_type.id(), "id": event.id, "words": news.words()}))?;
                        } else {
                            outln!("{}: {} ({})", update.printer, event.event_type.label(), news.words())?;
                        }
                        drop(route_event(&dispatcher, &settings, &secrets, &options.api_bases, event));
                    }
                }
            }
            Some(record) = finished.recv() => {
                failed += usize::from(record.outcome == Outcome::Failed);
                print_delivery(&record, json_out)?;
            }
            _ = state_tick.tick(), if dirty => {
                dirty = false;
                write_states(profile, &states).await;
            }
        }
    }
    note!("farmhook: stopping: closing printer connections, letting deliveries in flight finish");
    watcher.stop(Duration::from_secs(5)).await;
    let idle = dispatcher.idle();
    tokio::pin!(idle);
    let deadline = tokio::time::sleep(STOP_GRACE);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            _ = &mut idle => break,
            Some(record) = finished.recv() => {
                failed += usize::from(record.outcome == Outcome::Failed);
                print_delivery(&record, json_out)?;
            }
            _ = &mut deadline => {
                note!("farmhook: deliveries still running after 20 s are cut short (they are in the log as failed)");
                break;
            }
        }
    }
    dispatcher.shutdown().await;
    while let Ok(record) = finished.try_recv() {
        failed += usize::from(record.outcome == Outcome::Failed);
        print_delivery(&record, json_out)?;
    }
    // What `printers list` shows once nobody watches: the last known.
    for (link, snapshot) in states.values_mut() {
        *link = "not watched".into();
        if !snapshot.state.is_empty() {
            snapshot.state = format!("{} when watch stopped", snapshot.state);
        }
    }
    write_states(profile, &states).await;
    if failed > 0 {
        note!("farmhook: {failed} deliveries failed (see above)");
    }
    Ok(())
}

/// SIGINT (Ctrl-C) or, on Unix, SIGTERM (systemd stopping the unit). The
/// handlers are installed here, at once, before any printer is reported:
/// a stop that comes early must not kill the process unawares.
fn stop_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let term = {
        use tokio::signal::unix::{SignalKind, signal};
        signal(SignalKind::terminate()).ok()
    };
    let ctrl_c = tokio::signal::ctrl_c();
    async move {
        #[cfg(unix)]
        if let Some(mut term) = term {
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
            return;
        }
        ctrl_c.await.ok();
    }
}

fn print_delivery(record: &DeliveryRecord, json_out: bool) -> std::io::Result<()> {
    let events: Vec<&str> = record.events.iter().map(|e| e.event_type.id()).collect();
    if json_out {
        let line = json!({
            "delivery": record.destination.id(),
            "events": events,
            "outcome": record.outcome.words(),
            "status": record.status(),
            "attempts": record.attempts.len(),
            "error": record.error,
        });
        outln!("{line}")
    } else {
        outln!(
            "  → {}: {} ({}){}",
            record.destination.label(),
            record.outcome.words(),
            events.join(", "),
            record
                .error
                .as_deref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default()
        )
    }
}

/// Writes the printers' live state for `printers list` (0600, atomically).
async fn write_states(profile: &Profile, states: &BTreeMap<String, (String, PrinterSnapshot)>) {
    let now = OffsetDateTime::now_utc();
    let map: BTreeMap<&String, Value> = states
        .iter()
        .map(|(name, (link, snapshot))| (name, state_json(link, snapshot, now)))
        .collect();
    let Ok(bytes) = serde_json::to_vec_pretty(&map) else {
        return;
    };
    let path = profile.printer_state_path();
    let written = tokio::task::spawn_blocking(move || {
        crate::engine::private_files::write_private_atomically(&path, &bytes)
    })
    .await;
    if let Ok(Err(e)) = written {
        eprintln!("farmhook: could not keep the printers' state for `printers list`: {e}");
    }
}
