//! The engine the window drives: it takes [`EngineCommand`]s, does the slow
//! work (disk, keyring, network, dialogs) on tokio, and reports back with
//! [`EngineUpdate`]s. A `notify` callback (the window's repaint request)
//! runs after every update; nothing here knows egui.

use std::path::PathBuf;

use time::OffsetDateTime;
use tokio::sync::mpsc;

use super::delivery::deliver::Target;
use super::delivery::discord::{self, WebhookInfo};
use super::delivery::dispatcher::{DeliveryConfig, DispatchUpdate, Dispatcher};
use super::delivery::health::DestinationHealth;
use super::delivery::log::{DeliveryRecord, Outcome};
pub use super::profile::SecretsView;
use super::profile::{Profile, ProfileError};
use crate::core::discord_url::DEFAULT_API_BASE;
use crate::core::duplicates::ProfileDestinations;
use crate::core::events::EventType;
use crate::core::payload::{Event, event_id};
use crate::core::settings::{Destination, Plan, Settings};
use crate::engine::simulation::{self, SimulationSettings, SimulationView};
use crate::engine::updates::{self, UpdateReceiver, UpdateSender};

/// The variable that points Discord traffic at a stand-in.
pub const DISCORD_API_BASE_ENV: &str = "FARMHOOK_DISCORD_API_BASE";

/// How the engine is set up.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    pub delivery: DeliveryConfig,
    /// `https://discord.com/api`, or a stand-in's.
    pub discord_api_base: String,
}

impl EngineOptions {
    /// Defaults, with `FARMHOOK_DISCORD_API_BASE` honoured.
    pub fn from_env() -> Self {
        EngineOptions {
            delivery: DeliveryConfig::default(),
            discord_api_base: discord_api_base_from_env(),
        }
    }

    /// How `profile`'s deliveries are made: these options, with its health
    /// journal unless one was given.
    pub fn delivery_config(&self, profile: &Profile) -> DeliveryConfig {
        let mut config = self.delivery.clone();
        config
            .health_journal
            .get_or_insert_with(|| profile.health_journal());
        config
    }

    /// Set when Discord traffic goes to a stand-in (the window shows a banner).
    pub fn discord_stand_in(&self) -> Option<&str> {
        (self.discord_api_base != DEFAULT_API_BASE).then_some(self.discord_api_base.as_str())
    }
}

pub fn discord_api_base_from_env() -> String {
    std::env::var(DISCORD_API_BASE_ENV)
        .ok()
        .map(|v| v.trim().trim_end_matches('/').to_string())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| DEFAULT_API_BASE.to_string())
}

/// What the window asks for.
#[derive(Debug, Clone)]
pub enum EngineCommand {
    /// Read settings and secrets again.
    Reload,
    SaveSettings(Settings),
    SetDiscordUrl(String),
    ClearDiscordUrl,
    GenerateApiKey,
    SetApiKey(String),
    ClearApiKey,
    GenerateSigningSecret,
    ClearSigningSecret,
    VerifyDiscord,
    /// Send a sample event now, whether or not the destination is enabled
    /// or the event ticked.
    TestFire {
        event: EventType,
        to: Destination,
    },
    /// A real (or simulated) event: sent where enabled and ticked,
    /// recorded as filtered elsewhere.
    Send(Box<Event>),
    Resume(Destination),
    /// Ask for a file with the native save dialog, then export to it.
    ExportLogWithDialog,
    ExportLogTo(PathBuf),
    ClearLog,
    /// Start the virtual farm; its events go through `Send`.
    StartSimulation(SimulationSettings),
    StopSimulation,
    Shutdown,
}

/// Whether a message is good news or a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeLevel {
    Info,
    Error,
}

/// What the engine reports.
#[derive(Debug, Clone)]
pub enum EngineUpdate {
    Loaded {
        settings: Settings,
        secrets: SecretsView,
        /// A problem with the settings file, in words.
        notice: Option<String>,
    },
    Secrets(SecretsView),
    Saved,
    Notice(NoticeLevel, String),
    Delivery(Box<DeliveryRecord>),
    Health(Destination, DestinationHealth),
    Verified(Result<WebhookInfo, String>),
    /// The path and the number of records, or why not.
    Exported(Result<(PathBuf, usize), String>),
    /// Destinations that will get the same event twice (a custom webhook
    /// that is a Discord URL, two profiles on one destination).
    DuplicateWarnings(Vec<String>),
    /// The virtual farm after a tick (about ten times a second while running).
    Simulation(SimulationView),
    Stopped,
}

/// Commands from the window waiting for the engine. They come from the
/// user's clicks and keys, a handful at a time; a full queue means the
/// engine is stuck (a keyring that does not answer), and more would only
/// pile up.
pub const COMMAND_QUEUE_CAPACITY: usize = 256;
/// Virtual-farm events waiting for the engine: several ticks of the largest
/// farm at full speed. When it is full the farm waits for the engine
/// instead of piling events up.
pub const SIMULATION_QUEUE_CAPACITY: usize = 1_024;

/// The window's end of the engine.
pub struct EngineHandle {
    commands: mpsc::Sender<EngineCommand>,
    /// Set by Shutdown, so the engine stops even when the queue was full.
    stop: std::sync::Arc<tokio::sync::watch::Sender<bool>>,
    out: Outbox,
}

impl EngineHandle {
    /// Queues a command; never blocks. When the engine is too far behind,
    /// the command is not queued and the window is told so in words.
    pub fn send(&self, command: EngineCommand) {
        if matches!(command, EngineCommand::Shutdown) {
            self.stop.send_replace(true);
        }
        match self.commands.try_send(command) {
            // The engine only stops after Shutdown; a command after that
            // has nothing left to do.
            Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => {}
            Err(mpsc::error::TrySendError::Full(_)) => self.out.error(format!(
                "farmhook is still busy with {COMMAND_QUEUE_CAPACITY} earlier requests, so the last one \
                 was not done: try again in a moment"
            )),
        }
    }
}

/// Starts the engine on `runtime`. Updates arrive on the returned receiver;
/// `notify` runs after each one.
pub fn start(
    runtime: &tokio::runtime::Handle,
    profile: Profile,
    options: EngineOptions,
    notify: impl Fn() + Send + Sync + 'static,
) -> (EngineHandle, UpdateReceiver) {
    let (commands, command_rx) = mpsc::channel(COMMAND_QUEUE_CAPACITY);
    let (updates, update_rx) = updates::channel();
    let notify = std::sync::Arc::new(notify);
    let out = Outbox {
        updates,
        notify: notify.clone(),
    };
    let stop = std::sync::Arc::new(tokio::sync::watch::channel(false).0);
    runtime.spawn(run(
        profile,
        options,
        command_rx,
        stop.subscribe(),
        out.clone(),
    ));
    (
        EngineHandle {
            commands,
            stop,
            out,
        },
        update_rx,
    )
}

/// Where the engine's updates go: the bounded stream to the window, and
/// the window's repaint request.
#[derive(Clone)]
struct Outbox {
    updates: UpdateSender,
    notify: std::sync::Arc<dyn Fn() + Send + Sync>,
}

impl Outbox {
    fn send(&self, update: EngineUpdate) {
        if self.updates.send(update) {
            (self.notify)();
        }
    }

    /// A delivery record, shared with the engine's log rather than copied.
    fn record(&self, record: std::sync::Arc<DeliveryRecord>) {
        if self.updates.send_record(record) {
            (self.notify)();
        }
    }

    fn error(&self, text: impl Into<String>) {
        self.send(EngineUpdate::Notice(NoticeLevel::Error, text.into()));
    }

    fn info(&self, text: impl Into<String>) {
        self.send(EngineUpdate::Notice(NoticeLevel::Info, text.into()));
    }
}

/// The engine's state between commands.
struct State {
    profile: Profile,
    options: EngineOptions,
    settings: Settings,
    secrets: SecretsView,
    dispatcher: Dispatcher,
    out: Outbox,
    /// The virtual farm's events, on their own bounded queue so the farm
    /// can never crowd out the window's commands.
    simulated: mpsc::Sender<Event>,
    /// Stops the running simulation.
    simulation: Option<tokio::sync::watch::Sender<bool>>,
}

async fn run(
    profile: Profile,
    options: EngineOptions,
    mut commands: mpsc::Receiver<EngineCommand>,
    mut stop: tokio::sync::watch::Receiver<bool>,
    out: Outbox,
) {
    let listener_out = out.clone();
    let dispatcher = match Dispatcher::new(options.delivery_config(&profile), move |u| match u {
        DispatchUpdate::Record(r) => listener_out.record(r),
        DispatchUpdate::Health(d, h) => listener_out.send(EngineUpdate::Health(d, h)),
    }) {
        Ok(d) => d,
        Err(e) => {
            out.error(e);
            out.send(EngineUpdate::Stopped);
            return;
        }
    };
    let (simulated, mut simulated_rx) = mpsc::channel(SIMULATION_QUEUE_CAPACITY);
    let mut state = State {
        profile,
        options,
        settings: Settings::default(),
        secrets: SecretsView::default(),
        dispatcher,
        out,
        simulated,
        simulation: None,
    };
    state.reload().await;
    loop {
        let command = tokio::select! {
            // The window's commands first, so a Shutdown comes after what
            // the window asked before it.
            biased;
            command = commands.recv() => command,
            Some(event) = simulated_rx.recv() => Some(EngineCommand::Send(Box::new(event))),
            // A Shutdown that found the command queue full.
            _ = stop.wait_for(|s| *s) => None,
        };
        match command {
            None | Some(EngineCommand::Shutdown) => break,
            Some(command) => state.handle(command).await,
        }
    }
    if let Some(stop) = state.simulation.take() {
        stop.send_replace(true);
    }
    state.dispatcher.shutdown().await;
    state.out.send(EngineUpdate::Stopped);
}

impl State {
    async fn reload(&mut self) {
        let (settings, notice) = match self.profile.load().await {
            Ok(loaded) => (loaded.settings, loaded.notice),
            Err(e) => (Settings::default(), Some(e.to_string())),
        };
        self.settings = settings.clone();
        self.secrets = self.profile.read_secrets().await;
        self.out.send(EngineUpdate::Loaded {
            settings,
            secrets: self.secrets.clone(),
            notice,
        });
        self.report_duplicates().await;
        // Health restored from the journal (a pause, say) is shown at once.
        for destination in Destination::ALL {
            let health = self.dispatcher.health(destination);
            self.out.send(EngineUpdate::Health(destination, health));
        }
    }

    async fn report_duplicates(&self) {
        // Only what can be read is compared; keyring trouble is reported
        // elsewhere.
        let mine = ProfileDestinations {
            profile: self.profile.name().clone(),
            discord: self.secrets.discord_url.clone(),
            endpoint: self.settings.webhook.url.clone(),
        };
        let warnings = self
            .profile
            .duplicate_warnings(&mine)
            .await
            .unwrap_or_default();
        self.out.send(EngineUpdate::DuplicateWarnings(warnings));
    }

    async fn refresh_secrets(&mut self) {
        self.secrets = self.profile.read_secrets().await;
        self.out.send(EngineUpdate::Secrets(self.secrets.clone()));
    }

    /// Runs a profile change, then re-reads what it may have touched.
    async fn change<T>(&mut self, result: Result<T, ProfileError>) -> Option<T> {
        match result {
            Ok(value) => {
                if let Ok(loaded) = self.profile.load().await {
                    self.settings = loaded.settings;
                }
                self.refresh_secrets().await;
                self.report_duplicates().await;
                Some(value)
            }
            Err(e) => {
                self.out.error(e.to_string());
                None
            }
        }
    }

    async fn handle(&mut self, command: EngineCommand) {
        match command {
            EngineCommand::Reload => self.reload().await,
            EngineCommand::SaveSettings(settings) => {
                match self.profile.save(settings.clone()).await {
                    Ok(()) => {
                        let endpoint_changed = self.settings.webhook.url != settings.webhook.url;
                        self.settings = settings;
                        self.out.send(EngineUpdate::Saved);
                        if endpoint_changed {
                            self.report_duplicates().await;
                        }
                    }
                    Err(e) => self.out.error(format!("settings not saved: {e}")),
                }
            }
            EngineCommand::SetDiscordUrl(text) => {
                let r = self.profile.set_discord_url(&text).await;
                if let Some(url) = self.change(r).await {
                    self.out
                        .info(format!("Discord webhook saved in the keyring: {url}"));
                }
            }
            EngineCommand::ClearDiscordUrl => {
                let r = self.profile.clear_discord_url().await;
                self.change(r).await;
            }
            EngineCommand::GenerateApiKey => {
                let r = self.profile.generate_api_key().await;
                if self.change(r).await.is_some() {
                    self.out
                        .info("a new API key was generated: copy it to your receiver");
                }
            }
            EngineCommand::SetApiKey(text) => {
                let r = self.profile.set_api_key(&text).await;
                if self.change(r).await.is_some() {
                    self.out.info("API key saved in the keyring");
                }
            }
            EngineCommand::ClearApiKey => {
                let r = self.profile.clear_api_key().await;
                self.change(r).await;
            }
            EngineCommand::GenerateSigningSecret => {
                let r = self.profile.generate_signing_secret().await;
                self.change(r).await;
            }
            EngineCommand::ClearSigningSecret => {
                let r = self.profile.clear_signing_secret().await;
                self.change(r).await;
            }
            EngineCommand::VerifyDiscord => self.verify(),
            EngineCommand::TestFire { event, to } => {
                match test_target(
                    &self.settings,
                    &self.secrets,
                    to,
                    &self.options.discord_api_base,
                ) {
                    Ok(target) => {
                        drop(self.dispatcher.submit(target, sample_event(event)));
                    }
                    Err(e) => self.out.error(e),
                }
            }
            EngineCommand::Send(event) => self.send_event(*event),
            EngineCommand::Resume(d) => self.dispatcher.resume(d),
            EngineCommand::ExportLogWithDialog => {
                let dispatcher = self.dispatcher.clone();
                let out = self.out.clone();
                tokio::spawn(async move {
                    let chosen = tokio::task::spawn_blocking(|| {
                        rfd::FileDialog::new()
                            .set_title("Export the delivery log")
                            .set_file_name("farmhook-deliveries.jsonl")
                            .add_filter("JSON Lines", &["jsonl"])
                            .save_file()
                    })
                    .await
                    .ok()
                    .flatten();
                    match chosen {
                        Some(path) => export(dispatcher, path, out).await,
                        None => out.info(
                            "export cancelled (or no file dialog is available on this desktop)",
                        ),
                    }
                });
            }
            EngineCommand::ExportLogTo(path) => {
                tokio::spawn(export(self.dispatcher.clone(), path, self.out.clone()));
            }
            EngineCommand::ClearLog => self.dispatcher.clear_log(),
            EngineCommand::StartSimulation(settings) => self.start_simulation(settings),
            EngineCommand::StopSimulation => {
                if let Some(stop) = self.simulation.take() {
                    stop.send_replace(true);
                }
            }
            EngineCommand::Shutdown => {}
        }
    }

    fn start_simulation(&mut self, settings: SimulationSettings) {
        if let Err(e) = settings.check() {
            self.out.error(e);
            return;
        }
        if let Some(stop) = self.simulation.take() {
            stop.send_replace(true);
        }
        let (stop_tx, stop) = tokio::sync::watch::channel(false);
        self.simulation = Some(stop_tx);
        let simulated = self.simulated.clone();
        let out = self.out.clone();
        tokio::spawn(async move {
            let mut last_view = None;
            simulation::run(settings, None, stop, |events, view| {
                last_view = Some(view.clone());
                out.send(EngineUpdate::Simulation(view));
                // Through the engine's loop, so the settings of the moment
                // apply; a full queue makes the farm wait.
                let simulated = simulated.clone();
                async move {
                    for event in events {
                        if simulated.send(event).await.is_err() {
                            break;
                        }
                    }
                }
            })
            .await;
            if let Some(mut view) = last_view {
                view.running = false;
                out.send(EngineUpdate::Simulation(view));
            }
        });
    }

    fn verify(&self) {
        let Some(url) = self.secrets.discord_url.clone() else {
            self.out.send(EngineUpdate::Verified(Err(
                "no Discord webhook URL is saved yet".into(),
            )));
            return;
        };
        let client = self.dispatcher.client().clone();
        let http = self.dispatcher.config().http.clone();
        let base = self.options.discord_api_base.clone();
        let out = self.out.clone();
        tokio::spawn(async move {
            let result = discord::verify(&client, &url, &base, &http).await;
            out.send(EngineUpdate::Verified(result.map_err(|e| e.to_string())));
        });
    }

    fn send_event(&self, event: Event) {
        drop(route_event(
            &self.dispatcher,
            &self.settings,
            &self.secrets,
            &self.options.discord_api_base,
            event,
        ));
    }
}

/// Sends a real (or simulated) event where it is enabled and ticked, and
/// records it as filtered, with the reason, for configured destinations
/// where it is not. Returns a receiver per delivery started.
pub fn route_event(
    dispatcher: &Dispatcher,
    settings: &Settings,
    secrets: &SecretsView,
    discord_api_base: &str,
    event: Event,
) -> Vec<tokio::sync::oneshot::Receiver<DeliveryRecord>> {
    let mut started = Vec::new();
    for destination in Destination::ALL {
        let configured = match destination {
            Destination::Discord => secrets.discord_url.is_some(),
            Destination::Webhook => settings.webhook.url.is_some(),
        };
        if !configured {
            continue;
        }
        let reason = if !settings.enabled(destination) {
            Some(format!("{} is turned off", destination.label()))
        } else if !settings.events(destination).contains(event.event_type) {
            Some(format!(
                "“{}” is not ticked for {}",
                event.event_type.label(),
                destination.label()
            ))
        } else {
            None
        };
        match (
            reason,
            test_target(settings, secrets, destination, discord_api_base),
        ) {
            (None, Ok(target)) => started.push(dispatcher.submit(target, event.clone())),
            (Some(reason), target) => {
                let shown = target.map(|t| t.redacted()).unwrap_or_default();
                dispatcher.record_not_sent(destination, shown, &event, Outcome::Filtered, reason);
            }
            (None, Err(e)) => {
                dispatcher.record_not_sent(
                    destination,
                    String::new(),
                    &event,
                    Outcome::Failed,
                    format!("not sent: {e}"),
                );
            }
        }
    }
    started
}

async fn export(dispatcher: Dispatcher, path: PathBuf, out: Outbox) {
    let target = path.clone();
    let result = tokio::task::spawn_blocking(move || dispatcher.export_json_lines(&target))
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r.map_err(|e| format!("could not write {}: {e}", path.display())));
    out.send(EngineUpdate::Exported(result.map(|n| (path, n))));
}

/// A fresh `evt_…` id (24 random characters).
pub fn new_event_id() -> String {
    use rand::RngExt;
    let random: String = rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(24)
        .map(char::from)
        .collect();
    event_id(&random)
}

/// A sample event of `event_type`, as Test sends it.
pub fn sample_event(event_type: EventType) -> Event {
    Event::sample(event_type, new_event_id(), OffsetDateTime::now_utc())
}

/// Where a test delivery to `destination` goes, or why it cannot go.
/// Tests ignore Enable and the checkboxes, but need a configured
/// destination, and the custom webhook needs the Commercial plan.
pub fn test_target(
    settings: &Settings,
    secrets: &SecretsView,
    destination: Destination,
    discord_api_base: &str,
) -> Result<Target, String> {
    let keyring = |what: &str| match &secrets.keyring_error {
        Some(e) => format!("{what} could not be read: {e}"),
        None => format!("{what} is not set"),
    };
    match destination {
        Destination::Discord => {
            let url = secrets
                .discord_url
                .clone()
                .ok_or_else(|| keyring("the Discord webhook URL"))?;
            Ok(Target::Discord {
                url,
                api_base: discord_api_base.to_string(),
            })
        }
        Destination::Webhook => {
            if settings.plan != Plan::Commercial {
                return Err("custom webhooks need the Commercial plan".into());
            }
            let url = settings
                .webhook
                .url
                .clone()
                .ok_or("the custom webhook has no endpoint URL")?;
            let key = secrets
                .api_key
                .clone()
                .ok_or_else(|| keyring("the API key"))?;
            let signing = if settings.webhook.signing {
                Some(
                    secrets
                        .signing_secret
                        .clone()
                        .ok_or_else(|| keyring("signing is on but the signing secret"))?,
                )
            } else {
                None
            };
            Ok(Target::Webhook { url, key, signing })
        }
    }
}
