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
use super::{
    AddPrinterArgs, CliError, EditPrinterArgs, PrintersCommand, print_notes, value_or_stdin,
};
use crate::core::printers::config::format_fingerprint;
use crate::core::printers::{PrinterConfig, PrinterKind, PrinterSnapshot, to_event};
use crate::core::settings::Channel;
use crate::engine::PacedThread;
use crate::engine::config_store::FileChanges;
use crate::engine::delivery::dispatcher::{DispatchUpdate, Dispatcher};
use crate::engine::delivery::log::{DeliveryRecord, Outcome};
use crate::engine::printers::watcher;
use crate::engine::printers::watching::{Watching, read_states};
use crate::engine::printers::{SourceReport, link_words};
use crate::engine::profile::{Profile, ProfileError};
use crate::engine::routing::{new_event_id, route_event};
use crate::engine::service::EngineOptions;

/// How long `printers add` and `printers test` wait for a printer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(15);
/// How long `watch` lets deliveries in flight finish after a stop.
const STOP_GRACE: Duration = Duration::from_secs(20);
/// `watch` reads the keyring again every this many seconds (a channel's
/// URL or token changed by another farmhook process).
const SECRETS_EVERY_TICKS: u64 = 30;
/// How long the printers' thread rests between wake-ups while reports
/// stream in (see `engine::PacedThread`). 200 printers reporting every
/// second woke `watch` 200 times a second, and on a VM each wake-up cost
/// several times what reading the report did; resting this long reads
/// them six or so at a time, for news at most this much later.
/// Deliveries, the settings and the keyring are not paced.
const PRINTERS_REST: Duration = Duration::from_millis(30);

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
        PrintersCommand::Edit(args) => edit(profile, args).await,
        PrintersCommand::OfflineAfter { seconds } => {
            print_notes(&profile.set_offline_after(seconds).await?);
            outln!("a printer silent for {seconds} s is told offline (by `watch` and the window)")?;
            Ok(())
        }
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
        check(&mut config, secret.as_deref(), "added").await?;
    }
    let name = config.name.clone();
    print_notes(&profile.add_printer(config, secret.as_deref()).await?);
    outln!("added {name}: `farmhook watch` (or the open window) watches it")?;
    Ok(())
}

/// Connects once to a printer about to be saved and prints what it is
/// doing. A Bambu printer whose certificate is not Bambu Lab's, with no
/// fingerprint given, gets the one it shows pinned (said on stderr).
async fn check(
    config: &mut PrinterConfig,
    secret: Option<&str>,
    verb: &str,
) -> Result<(), CliError> {
    let secret = secret.map(|s| SecretString::from(s.to_string()));
    let probe = watcher::probe(config, secret.as_ref(), PROBE_TIMEOUT)
        .await
        .map_err(|why| CliError {
            code: 1,
            message: format!(
                "{} was not {verb}: {why} (add --no-check to save it without connecting now)",
                config.name
            ),
        })?;
    // A fingerprint given with --fingerprint (or kept) was checked by the
    // probe itself (a different certificate is refused): keep it.
    if config.kind == PrinterKind::Bambu && !probe.chained_to_bambu && config.fingerprint.is_none()
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
    Ok(())
}

/// `printers edit`: what is given replaces what was; the rest stays.
async fn edit(profile: &Profile, args: EditPrinterArgs) -> Result<(), CliError> {
    let old = find(profile, &args.printer).await?;
    let (address, wrong) = match old.kind {
        PrinterKind::Bambu => (args.host.as_deref(), args.url.is_some().then_some("--url")),
        _ => (args.url.as_deref(), args.host.is_some().then_some("--host")),
    };
    let secret_flag = match old.kind {
        PrinterKind::Bambu => args.api_key.is_some().then_some("--api-key"),
        _ => args.access_code.is_some().then_some("--access-code"),
    };
    let serial_flag =
        (old.kind != PrinterKind::Bambu && args.serial.is_some()).then_some("--serial");
    if let Some(flag) = wrong.or(secret_flag).or(serial_flag) {
        return Err(CliError::input(format!(
            "{flag} is not for {} printers",
            old.kind.label()
        )));
    }
    let fingerprint = match (&args.fingerprint, args.repin) {
        (Some(given), _) => Some(given.clone()),
        (None, true) => None,
        (None, false) => old.fingerprint.clone(),
    };
    let mut config = PrinterConfig::new(
        args.name.as_deref().unwrap_or(&old.name),
        old.kind,
        address.unwrap_or(&old.address),
        args.serial.as_deref().or(old.serial.as_deref()),
        fingerprint.as_deref(),
    )
    .map_err(|e| CliError::input(e.to_string()))?;
    let secret = match old.kind {
        PrinterKind::Bambu => secret_from_stdin(args.access_code, "--access-code")?,
        _ => secret_from_stdin(args.api_key, "--api-key")?,
    };
    if !args.no_check {
        // Checked with the code or key it will use: the new one, else the
        // saved one.
        let stored = match &secret {
            Some(_) => None,
            None => profile
                .secrets()
                .printer_secret(&old.name)
                .await
                .map_err(ProfileError::from)?,
        };
        check(
            &mut config,
            secret.as_deref().or(stored.as_deref()),
            "changed",
        )
        .await?;
    }
    let name = config.name.clone();
    print_notes(
        &profile
            .edit_printer(&old.name, config, secret.as_deref())
            .await?,
    );
    outln!("changed {name}: `farmhook watch` (or the open window) watches it as changed")?;
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
    let states = read_states(profile).await;
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
/// (up to 20 s) before it exits. Changes to the settings (a printer added,
/// a channel enabled) are taken as they are saved; SIGHUP reads the
/// keyring again too. While another farmhook process watches the same
/// profile's printers, it waits and takes over when that one stops.
pub async fn watch(
    profile: &Profile,
    json_out: bool,
    offline_after: Option<u32>,
) -> Result<(), CliError> {
    let options = EngineOptions::from_env();
    let loaded = profile.load().await?;
    print_notes(&loaded.notice.into_iter().collect());
    let mut settings = loaded.settings;
    if let Some(seconds) = offline_after {
        settings.offline_after_s = seconds;
    }
    let mut secrets = profile.read_secrets().await;
    if let Some(e) = &secrets.keyring_error {
        return Err(CliError::input(e.clone()));
    }
    if settings.printers.is_empty() {
        note!(
            "farmhook: no printers to watch yet: add one with `farmhook printers add bambu|octoprint|moonraker …` (watch takes it at once)"
        );
    }
    if !Channel::ALL
        .iter()
        .any(|c| secrets.send_blocker(*c, &settings).is_none())
    {
        note!(
            "farmhook: no channel can send yet: events will be logged as not sent until one is set up and enabled"
        );
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
    let mut hangup = hangup_signal();
    // Before `watching`, so it outlives the sources that run on it.
    let printers_thread =
        PacedThread::start("farmhook-printers", PRINTERS_REST).map_err(CliError::input)?;
    let mut watching =
        Watching::new(profile.clone()).with_sources_on(printers_thread.handle().clone());
    let mut links: BTreeMap<String, String> = BTreeMap::new();
    let mut file = FileChanges::default();
    file.look(profile.config()).await;
    let (_, problems) = watching.sync(&settings).await;
    problems.iter().for_each(|p| note!("farmhook: {p}"));
    // What was last said about who watches, so it is said once per change.
    let mut announced = None;
    announce(&watching, &settings, &mut announced);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut ticks: u64 = 0;
    let mut hung_up = false;
    tokio::pin!(stop);
    let mut failed = 0usize;
    loop {
        tokio::select! {
            _ = &mut stop => break,
            Some(update) = watching.recv() => {
                let printer = update.printer.clone();
                let link = match &update.what {
                    SourceReport::Link(link) => Some(link_words(link)),
                    _ => None,
                };
                if let Some(link) = link
                    && links.insert(printer.clone(), link.clone()).as_ref() != Some(&link)
                {
                    if json_out {
                        outln!("{}", json!({"printer": printer, "link": link}))?;
                    } else {
                        outln!("{printer}: {link}")?;
                    }
                }
                if let Some((news, config)) = watching.update(update) {
                    let event = to_event(&news, &config, "", OffsetDateTime::now_utc(), new_event_id());
                    if json_out {
                        outln!("{}", json!({"printer": printer, "event": event.event_type.id(), "id": event.id, "words": news.words()}))?;
                    } else {
                        outln!("{printer}: {} ({})", event.event_type.label(), news.words())?;
                    }
                    drop(route_event(&dispatcher, &settings, &secrets, &options.api_bases, event));
                }
            }
            Some(record) = finished.recv() => {
                failed += usize::from(record.outcome == Outcome::Failed);
                print_delivery(&record, json_out)?;
            }
            _ = hangup.recv() => {
                note!("farmhook: SIGHUP: reading the settings and the keyring again");
                file = FileChanges::default();
                watching.restart_next();
                hung_up = true;
                ticks = 0;
            }
            _ = tick.tick() => {
                ticks += 1;
                let hup = std::mem::take(&mut hung_up);
                let mut reread_secrets = hup || ticks.is_multiple_of(SECRETS_EVERY_TICKS);
                let mut resync = hup;
                if file.look(profile.config()).await.is_some()
                    && let Ok(loaded) = profile.load().await
                {
                    let mut fresh = loaded.settings;
                    if let Some(seconds) = offline_after {
                        fresh.offline_after_s = seconds;
                    }
                    if fresh != settings {
                        settings = fresh;
                        reread_secrets = true;
                        resync = true;
                    }
                }
                if reread_secrets {
                    let fresh = profile.read_secrets().await;
                    if let Some(e) = &fresh.keyring_error {
                        note!("farmhook: the keyring could not be read again (the secrets read before stay in use): {e}");
                    } else {
                        secrets = fresh;
                        dispatcher.set_scrubber(secrets.scrubber(&settings, &options.api_bases));
                    }
                }
                let (_, problems) = if resync {
                    watching.sync(&settings).await
                } else {
                    watching.tick(&settings).await
                };
                problems.iter().for_each(|p| note!("farmhook: {p}"));
                announce(&watching, &settings, &mut announced);
            }
        }
    }
    note!("farmhook: stopping: closing printer connections, letting deliveries in flight finish");
    // What `printers list` shows once nobody watches: the last known.
    watching.stop(Duration::from_secs(5)).await;
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
    if failed > 0 {
        note!("farmhook: {failed} deliveries failed (see above)");
    }
    Ok(())
}

/// Says who watches the printers, when that changed: this process (and
/// how many), or another one it waits for.
fn announce(
    watching: &Watching,
    settings: &crate::core::settings::Settings,
    announced: &mut Option<(bool, usize)>,
) {
    let now = (watching.elsewhere(), settings.printers.len());
    if now.1 == 0 || *announced == Some(now) {
        return;
    }
    *announced = Some(now);
    if now.0 {
        note!(
            "farmhook: another farmhook (an open window, or another `farmhook watch`) watches this profile's printers: waiting, to take over when it stops"
        );
    } else {
        note!(
            "farmhook: watching {} printer(s); Ctrl-C or SIGTERM stops",
            now.1
        );
    }
}

/// SIGHUP (`systemctl --user reload farmhook-watch`): read everything
/// again. Never fires where there is no such signal.
fn hangup_signal() -> HangUp {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        HangUp(signal(SignalKind::hangup()).ok())
    }
    #[cfg(not(unix))]
    HangUp(())
}

#[cfg(unix)]
struct HangUp(Option<tokio::signal::unix::Signal>);
#[cfg(not(unix))]
struct HangUp(());

impl HangUp {
    async fn recv(&mut self) {
        #[cfg(unix)]
        if let Some(signal) = &mut self.0 {
            signal.recv().await;
            return;
        }
        std::future::pending::<()>().await
    }
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
