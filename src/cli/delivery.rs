//! The delivery half of the command line: `test-fire`, `discord verify` and
//! `receive`, over the same dispatcher and receiver the window uses.

use serde::Serialize;
use tokio::sync::mpsc;

use super::output::{note, outln, outln_or_drop};
use super::{CliError, TestTo, print_notes};
use crate::core::channel::{Blocker, PerChannel};
use crate::core::events::EventType;
use crate::core::settings::Channel;
use crate::engine::delivery::dispatcher::{DispatchUpdate, Dispatcher};
use crate::engine::delivery::log::{DeliveryRecord, Outcome};
use crate::engine::profile::{Profile, ProfileError};
use crate::engine::receiver::{self, ReceiverConfig, ReceiverLimits};
use crate::engine::service::{self, EngineOptions};

/// One line of `test-fire --json`.
#[derive(Debug, Serialize)]
struct TestFireLine<'a> {
    destination: &'static str,
    event: &'static str,
    event_id: &'a str,
    outcome: &'static str,
    status: Option<u16>,
    attempts: usize,
    latency_ms: Option<u64>,
    error: Option<&'a str>,
}

fn line(record: &DeliveryRecord) -> TestFireLine<'_> {
    let first = record.first_event();
    TestFireLine {
        destination: record.destination.id(),
        event: first.map(|e| e.event_type.id()).unwrap_or_default(),
        event_id: first.map(|e| e.id.as_str()).unwrap_or_default(),
        outcome: match record.outcome {
            Outcome::Delivered => "delivered",
            _ => "failed",
        },
        status: record.status(),
        attempts: record.attempts.len(),
        latency_ms: record.latency_ms(),
        error: record.error.as_deref(),
    }
}

/// `farmhook test-fire`: exit 0 when every delivery got a 2xx, 1 when one
/// failed, 2 when nothing could be sent as asked.
pub async fn test_fire(
    profile: &Profile,
    event: EventType,
    to: TestTo,
    json: bool,
) -> Result<(), CliError> {
    let options = EngineOptions::from_env();
    let settings = profile.load().await?;
    print_notes(&settings.notice.into_iter().collect());
    let settings = settings.settings;
    let secrets = profile.read_secrets().await;

    let wanted: Vec<Channel> = match to {
        TestTo::One(channel) => vec![channel],
        TestTo::All => Channel::ALL.to_vec(),
    };
    let mut targets = Vec::new();
    for destination in wanted {
        if to == TestTo::All {
            // "All" means every channel that is set up (the one
            // can-it-send rule decides; the reasons are its words).
            match secrets.test_blocker(destination, &settings) {
                Some(Blocker::NotSetUp) => continue,
                Some(Blocker::NeedsPlan)
                    if destination
                        .spec()
                        .secrets
                        .iter()
                        .any(|k| secrets.holds(k.entry)) =>
                {
                    note!(
                        "farmhook: skipping {}: {}",
                        destination.label(),
                        Blocker::NeedsPlan.words(destination)
                    );
                    continue;
                }
                Some(Blocker::NeedsPlan) => continue,
                _ => {}
            }
        }
        let target = service::test_target(&settings, &secrets, destination, &options.api_bases)
            .map_err(|why| {
                CliError::input(format!("cannot test {}: {why}", destination.label()))
            })?;
        targets.push(target);
    }
    if targets.is_empty() {
        return Err(CliError::input(
            "nothing to test: no channel is set up; set one with `farmhook discord set-url -` or `farmhook slack set-url -` (then paste the URL), `farmhook telegram set-token -`, `farmhook pushover set-token -`, or a custom webhook (Commercial plan)",
        ));
    }

    let (progress_tx, mut progress) = mpsc::unbounded_channel();
    let dispatcher = Dispatcher::new(options.delivery_config(profile), move |update| {
        if let DispatchUpdate::Record(r) = update {
            progress_tx.send(r).ok();
        }
    })
    .map_err(CliError::input)?;
    dispatcher.set_scrubber(secrets.scrubber(&settings, &options.api_bases));
    let (done_tx, mut done) = mpsc::unbounded_channel();
    let sample = service::sample_event(event);
    for target in targets {
        let receiver = dispatcher.submit(target, sample.clone());
        let done_tx = done_tx.clone();
        tokio::spawn(async move {
            if let Ok(record) = receiver.await {
                done_tx.send(record).ok();
            }
        });
    }
    drop(done_tx);

    let mut failed = false;
    let mut attempts_shown = std::collections::HashMap::new();
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let mut stopping = false;
    loop {
        tokio::select! {
            record = done.recv() => {
                let Some(record) = record else { break };
                failed |= record.outcome != Outcome::Delivered;
                // Nobody reading the results does not stop the deliveries:
                // the exit code still says how they went.
                if json {
                    outln_or_drop!("{}", serde_json::to_string(&line(&record)).expect("lines serialize"))?;
                } else {
                    print_result(&record)?;
                }
            }
            Some(record) = progress.recv(), if !json => {
                // Say when an attempt failed and a retry is coming.
                let shown = attempts_shown.entry(record.id).or_insert(0usize);
                if record.outcome == Outcome::InProgress && record.attempts.len() > *shown {
                    *shown = record.attempts.len();
                    if let Some(a) = record.attempts.last() {
                        note!(
                            "farmhook: {} attempt {}: {}; retrying",
                            record.destination.label(),
                            a.number,
                            a.error.as_deref().unwrap_or("failed")
                        );
                    }
                }
            }
            _ = &mut ctrl_c, if !stopping => {
                stopping = true;
                note!("farmhook: interrupted: stopping deliveries");
                let d = dispatcher.clone();
                tokio::spawn(async move { d.shutdown().await });
            }
        }
    }
    dispatcher.shutdown().await;
    if failed {
        Err(CliError {
            code: 1,
            message: "a test delivery failed".into(),
        })
    } else {
        Ok(())
    }
}

fn print_result(record: &DeliveryRecord) -> std::io::Result<()> {
    let status = record
        .status()
        .map(|s| s.to_string())
        .unwrap_or_else(|| "no answer".into());
    let event = record
        .first_event()
        .map(|e| e.event_type.id())
        .unwrap_or("");
    match record.outcome {
        Outcome::Delivered => outln_or_drop!(
            "{}: delivered {event} (HTTP {status}, {} ms, {} attempt{})",
            record.destination.label(),
            record.latency_ms().unwrap_or(0),
            record.attempts.len(),
            if record.attempts.len() == 1 { "" } else { "s" }
        ),
        _ => outln_or_drop!(
            "{}: FAILED {event} ({status}, {} attempt{}): {}",
            record.destination.label(),
            record.attempts.len(),
            if record.attempts.len() == 1 { "" } else { "s" },
            record.error.as_deref().unwrap_or("unknown error")
        ),
    }
}

/// `farmhook <channel> verify`: what the service says the saved secret
/// points at (nothing is posted).
pub async fn verify(profile: &Profile, channel: Channel) -> Result<(), CliError> {
    // Slack and the custom webhook cannot be asked: that is how they are,
    // not a failed connection (exit 2, whatever is saved).
    if !crate::engine::verify::can_verify(channel) {
        return Err(CliError::input(format!(
            "{} cannot be asked without sending: run `farmhook test-fire --to {}`",
            channel.label(),
            channel.id()
        )));
    }
    let options = EngineOptions::from_env();
    let loaded = profile.load().await?;
    print_notes(&loaded.notice.into_iter().collect());
    let secrets = profile.read_secrets().await;
    if let Some(e) = &secrets.keyring_error {
        return Err(CliError::input(e.clone()));
    }
    let settings = loaded.settings;
    if secrets.test_blocker(channel, &settings) == Some(Blocker::NotSetUp) {
        return Err(CliError::input(format!(
            "{}: {}",
            channel.spec().not_set_up,
            channel.spec().set_up_hint
        )));
    }
    let client = crate::engine::delivery::http::build_client(&options.delivery.http)
        .map_err(CliError::input)?;
    let answer = crate::engine::verify::verify(
        channel,
        &settings,
        &secrets,
        &options.api_bases,
        &client,
        &options.delivery.http,
    )
    .await
    .map_err(|message| CliError { code: 1, message })?;
    let width = answer.facts.iter().map(|(n, _)| n.len()).max().unwrap_or(0) + 1;
    for (name, value) in &answer.facts {
        outln!("{:<width$} {value}", format!("{name}:"))?;
    }
    Ok(())
}

/// `farmhook receive`: a loopback receiver checking this profile's key.
pub async fn receive(profile: &Profile, port: u16) -> Result<(), CliError> {
    let settings = profile.load().await?.settings;
    let key = profile
        .secrets()
        .api_key()
        .await
        .map_err(ProfileError::from)?
        .ok_or_else(|| {
            CliError::input("no API key is set: run `farmhook webhook key generate` first")
        })?;
    let signing = if settings.channels[Channel::Webhook].signing {
        profile
            .secrets()
            .signing_secret()
            .await
            .map_err(ProfileError::from)?
    } else {
        None
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| CliError::input(format!("could not listen on 127.0.0.1:{port}: {e}")))?;
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(port);
    note!(
        "farmhook: receiving on http://127.0.0.1:{port}/hook (key {key}{}); point the custom webhook here with:\n  farmhook webhook set-url http://127.0.0.1:{port}/hook",
        if signing.is_some() {
            ", signature checked"
        } else {
            ""
        }
    );
    let config = ReceiverConfig { key, signing };
    // Nobody reading the report any more (`| head -3`) ends the receiver
    // quietly, as a closed stdout ends every other command.
    let stdout_closed = std::sync::Arc::new(tokio::sync::Notify::new());
    let closed = stdout_closed.clone();
    let report = move |d: receiver::ReceivedDelivery| {
        let verdict = match &d.problem {
            None => "accepted".to_string(),
            Some(p) => format!("REFUSED: {p}"),
        };
        let signature = match d.signature_ok {
            None => "",
            Some(true) => ", signature ok",
            Some(false) => ", signature BAD",
        };
        let written = outln!(
            "{} {} {} {} → {} {verdict} (key {}{signature})\n{}",
            d.method,
            d.path,
            d.event_type.as_deref().unwrap_or("?"),
            d.webhook_id.as_deref().unwrap_or("-"),
            d.status,
            if d.key_ok { "ok" } else { "wrong" },
            d.body
        );
        if written.is_err() {
            closed.notify_one();
        }
    };
    // The delivery that found stdout closed is still answered.
    let serve = receiver::serve_until(
        listener,
        config,
        ReceiverLimits::default(),
        report,
        async move { stdout_closed.notified().await },
    );
    tokio::select! {
        r = serve => r.map_err(|e| CliError::input(format!("the receiver stopped: {e}"))),
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}

/// Records `simulate` keeps in memory: it counts each record as it ends.
const SIMULATE_LOG_CAPACITY: usize = 1_000;

/// `farmhook simulate`: a virtual farm whose events go through the settings
/// (Enable toggles and checkboxes) to the real destinations.
pub async fn simulate(
    profile: &Profile,
    settings: crate::engine::simulation::SimulationSettings,
    duration: std::time::Duration,
    json: bool,
) -> Result<(), CliError> {
    use crate::engine::simulation;

    let options = EngineOptions::from_env();
    let loaded = profile.load().await?;
    print_notes(&loaded.notice.into_iter().collect());
    let config_settings = loaded.settings;
    let secrets = profile.read_secrets().await;
    if let Some(e) = &secrets.keyring_error {
        return Err(CliError::input(e.clone()));
    }
    if !Channel::ALL.iter().any(|d| config_settings.enabled(*d)) {
        note!("farmhook: no destination is enabled: every event will be recorded as filtered");
    }
    let (finished_tx, mut finished) = mpsc::unbounded_channel::<std::sync::Arc<DeliveryRecord>>();
    let mut config = options.delivery_config(profile);
    // Records are counted as they end and nothing reads the log afterwards:
    // a long run need not keep 100,000 of them.
    config.log_capacity = SIMULATE_LOG_CAPACITY;
    let dispatcher = Dispatcher::new(config, move |update| {
        if let DispatchUpdate::Record(r) = update
            && r.outcome != Outcome::InProgress
        {
            finished_tx.send(r).ok();
        }
    })
    .map_err(CliError::input)?;
    dispatcher.set_scrubber(secrets.scrubber(&config_settings, &options.api_bases));

    note!(
        "farmhook: simulating {} printers, scenario {}, ×{} for {:.0} s",
        settings.printers,
        settings.scenario,
        settings.speed,
        duration.as_secs_f64()
    );
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let sim_dispatcher = dispatcher.clone();
    let api_bases = options.api_bases.clone();
    let mut generated = 0u64;
    let mut tally = Tally::default();
    let mut output_error = None;
    {
        let farm = simulation::run(settings, Some(duration), stop, |events, _view| {
            for event in events {
                generated += 1;
                // The records come through `finished`; keeping each
                // delivery's receiver would hold every record to the end.
                drop(service::route_event(
                    &sim_dispatcher,
                    &config_settings,
                    &secrets,
                    &api_bases,
                    event,
                ));
            }
            std::future::ready(())
        });
        tokio::pin!(farm);
        let ctrl_c = tokio::signal::ctrl_c();
        tokio::pin!(ctrl_c);
        let mut farm_done = false;
        while !farm_done {
            tokio::select! {
                _ = &mut farm => farm_done = true,
                Some(record) = finished.recv() => {
                    if let Err(e) = tally.add(&record, json)
                        && output_error.is_none()
                    {
                        // Nobody reads the results any more: stop the farm
                        // as Ctrl-C would, and let what was started end.
                        stop_tx.send_replace(true);
                        output_error = Some(e);
                    }
                }
                _ = &mut ctrl_c => {
                    note!("farmhook: interrupted: stopping the farm");
                    stop_tx.send_replace(true);
                }
            }
        }
    }
    // Let the deliveries already started end (they have their own timeouts),
    // counting their records as they come.
    {
        let idle = dispatcher.idle();
        tokio::pin!(idle);
        let ctrl_c = tokio::signal::ctrl_c();
        tokio::pin!(ctrl_c);
        loop {
            tokio::select! {
                _ = &mut idle => break,
                Some(record) = finished.recv() => {
                    if let Err(e) = tally.add(&record, json) {
                        output_error.get_or_insert(e);
                    }
                }
                // What is still queued or waiting ends as cut short below.
                _ = &mut ctrl_c => {
                    note!("farmhook: interrupted: stopping deliveries");
                    break;
                }
            }
        }
    }
    dispatcher.shutdown().await;
    while let Ok(record) = finished.try_recv() {
        tally.add(&record, json).ok();
    }
    let health = PerChannel::from_fn(|channel| dispatcher.health(channel));
    if json {
        let summary = serde_json::json!({
            "summary": {
                "events": generated,
                "delivered": tally.delivered,
                "failed": tally.failed,
                "filtered": tally.filtered,
                "summarised": tally.summarised,
                "responses_429": tally.rate_limited,
                "health": health,
            }
        });
        outln_or_drop!("{summary}")?;
    } else {
        outln_or_drop!(
            "{generated} events: {} deliveries made, {} failed, {} filtered out by your settings, {} summarised (more than a queue holds); {} answers were 429",
            tally.delivered,
            tally.failed,
            tally.filtered,
            tally.summarised,
            tally.rate_limited
        )?;
        for (channel, h) in health.iter() {
            outln_or_drop!("{}: {}", channel.label(), h.summary())?;
        }
    }
    if tally.failed > 0 {
        return Err(CliError {
            code: 1,
            message: format!("{} deliveries failed", tally.failed),
        });
    }
    // A closed stdout ends quietly (exit 0); another write error is said.
    output_error.map_or(Ok(()), |e| Err(e.into()))
}

/// Counts for the simulate summary. A Discord delivery may carry several
/// events; counts are per event.
#[derive(Default)]
struct Tally {
    delivered: usize,
    failed: usize,
    filtered: usize,
    summarised: usize,
    rate_limited: usize,
}

impl Tally {
    /// Counts `record`, then prints it (with `--json`, or when it failed).
    fn add(&mut self, record: &DeliveryRecord, json: bool) -> std::io::Result<()> {
        let n = record.events.len();
        match record.outcome {
            Outcome::Delivered => self.delivered += n,
            Outcome::Failed => self.failed += n,
            Outcome::Filtered => self.filtered += n,
            Outcome::Summarised => self.summarised += n,
            Outcome::InProgress => return Ok(()),
        }
        self.rate_limited += record
            .attempts
            .iter()
            .filter(|a| a.status == Some(429))
            .count();
        if json {
            let events: Vec<_> = record
                .events
                .iter()
                .map(|e| serde_json::json!({"type": e.event_type.id(), "id": e.id}))
                .collect();
            let line = serde_json::json!({
                "destination": record.destination.id(),
                "events": events,
                "outcome": record.outcome.words(),
                "status": record.status(),
                "attempts": record.attempts.len(),
                "latency_ms": record.latency_ms(),
                "error": record.error,
            });
            outln!("{line}")
        } else if record.outcome == Outcome::Failed {
            outln!(
                "{} FAILED ({} events): {}",
                record.destination.label(),
                n,
                record.error.as_deref().unwrap_or("unknown error")
            )
        } else {
            Ok(())
        }
    }
}

/// `farmhook telegram find-chat [--use N]`: the chats that wrote to the
/// bot, newest first; with `--use N`, the Nth becomes the chat.
pub async fn find_chat(profile: &Profile, choose: Option<usize>) -> Result<(), CliError> {
    let options = EngineOptions::from_env();
    let secrets = profile.read_secrets().await;
    if let Some(e) = &secrets.keyring_error {
        return Err(CliError::input(e.clone()));
    }
    let client = crate::engine::delivery::http::build_client(&options.delivery.http)
        .map_err(CliError::input)?;
    let base = options.api_bases.base(Channel::Telegram.id());
    let chats = crate::engine::delivery::telegram::find_chats(
        &client,
        &options.delivery.http,
        base,
        &secrets,
    )
    .await
    .map_err(|message| CliError { code: 1, message })?;
    if chats.is_empty() {
        return Err(CliError {
            code: 1,
            message: "no chat has written to the bot yet: send /start to your bot (or add it to \
                      the group and write there), then run this again"
                .into(),
        });
    }
    match choose {
        None => {
            for (i, chat) in chats.iter().enumerate() {
                outln!("{:>2}  {}", i + 1, chat.display())?;
            }
            note!("farmhook: choose one with `farmhook telegram find-chat --use N`");
        }
        Some(n) => {
            let chat = n.checked_sub(1).and_then(|i| chats.get(i)).ok_or_else(|| {
                CliError::input(format!("choose a number from 1 to {}", chats.len()))
            })?;
            print_notes(&profile.set_chat(Some(&chat.chat_id.to_string())).await?);
            outln!("Telegram: posts in {}", chat.display())?;
        }
    }
    Ok(())
}
