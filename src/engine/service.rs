//! The engine the window drives: it takes [`EngineCommand`]s, does the slow
//! work (disk, keyring, network, dialogs) on tokio, and reports back with
//! [`EngineUpdate`]s. A `notify` callback (the window's repaint request)
//! runs after every update; nothing here knows egui.

use std::path::PathBuf;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use tokio::sync::mpsc;

use super::clipboard::SecretClipboard;
use super::config_store::{ConfigStore, FileChanges};
use super::delivery;
use super::delivery::dispatcher::{DeliveryConfig, DispatchUpdate, Dispatcher};
use super::delivery::log::DeliveryRecord;
pub use super::messages::{EngineCommand, EngineUpdate, NoticeLevel, SettingsChange, Ticket};
use super::printers::Probe;
use super::printers::SourceUpdate;
use super::printers::watcher;
use super::printers::watching::Watching;
pub use super::profile::SecretsView;
use super::profile::{Profile, ProfileError};
pub use super::routing::{new_event_id, route_event, sample_event, test_target};
use super::verify::verify;
use crate::core::api_base::ApiBases;
use crate::core::payload::Event;
use crate::core::printers::{PrinterConfig, PrinterKind, to_event};
use crate::core::settings::{Channel, Settings};
use crate::engine::simulation::{self, SimulationSettings};
use crate::engine::updates::{self, UpdateReceiver, UpdateSender};

/// How often the engine looks at the settings file for changes another
/// process (the command line) made.
pub const WATCH_FILE_EVERY: Duration = Duration::from_secs(1);
/// How often, in settings-file looks, the keyring is read again for the same
/// reason (D-Bus round trips: less often than the file).
const WATCH_KEYRING_EVERY_TICKS: u64 = 2;

/// The variable that points Discord traffic at a stand-in.
pub const DISCORD_API_BASE_ENV: &str = "FARMHOOK_DISCORD_API_BASE";

/// How the engine is set up.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    pub delivery: DeliveryConfig,
    /// Where each chat service's traffic goes: the real service, or a
    /// stand-in's (checked `FARMHOOK_*_API_BASE` overrides).
    pub api_bases: ApiBases,
    /// `FARMHOOK_*_API_BASE` variables that are set but refused, in words
    /// (the window shows them; the command line exits 2 on them).
    pub refused_api_bases: Vec<String>,
}

impl EngineOptions {
    /// Defaults, with the `FARMHOOK_*_API_BASE` overrides honoured when
    /// they pass the rule (see [`ApiBases`]).
    pub fn from_env() -> Self {
        Self::with_api_bases(&api_bases_from_env())
    }

    /// Defaults, with these overrides.
    pub fn with_api_bases(bases: &ApiBases) -> Self {
        EngineOptions {
            delivery: DeliveryConfig::default(),
            api_bases: bases.clone(),
            refused_api_bases: bases.refused.iter().map(|r| r.to_string()).collect(),
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

    /// These options with `channel`'s traffic sent to a stand-in at `base`
    /// (tests); a base the override rule refuses is a panic here, as a
    /// test's own mistake.
    pub fn with_stand_in(mut self, channel: &str, base: &str) -> Self {
        self.api_bases = match self.api_bases.with_override(channel, base) {
            Ok(bases) => bases,
            Err(e) => panic!("the stand-in's base {base} is refused: {e}"),
        };
        self
    }
}

/// The `FARMHOOK_*_API_BASE` overrides as this process's environment sets them.
pub fn api_bases_from_env() -> ApiBases {
    ApiBases::read(|name| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned()))
}

/// Where Discord traffic goes: a checked override, else Discord.
pub fn discord_api_base_from_env() -> String {
    api_bases_from_env().base("discord").to_string()
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
    /// What the last load said about the settings file, kept for updates
    /// sent when the file changes.
    notice: Option<String>,
    /// The settings file as last looked at.
    file_changes: FileChanges,
    /// Looks at the file so far, to pace the keyring's.
    watch_ticks: u64,
    /// Counts reads of the keyring, so a slow look from the watcher never
    /// replaces secrets read later.
    secrets_generation: u64,
    keyring_look_running: bool,
    /// Where keyring looks report, with the generation they started at.
    keyring_looks: mpsc::UnboundedSender<(u64, SecretsView)>,
    dispatcher: Dispatcher,
    out: Outbox,
    /// The virtual farm's events, on their own bounded queue so the farm
    /// can never crowd out the window's commands.
    simulated: mpsc::Sender<Event>,
    /// Stops the running simulation.
    simulation: Option<tokio::sync::watch::Sender<bool>>,
    /// Copied secrets waiting to be cleared from the clipboard.
    clipboard: SecretClipboard,
    /// The printers, watched while the window is open (unless another
    /// farmhook process watches them).
    printers: Watching,
    /// Where a printer's first connection (Add, Save changes) reports,
    /// so the engine answers other commands meanwhile.
    probed: mpsc::UnboundedSender<Probed>,
}

/// A printer the window wants to add or change, after connecting to it once.
struct Probed {
    ticket: Ticket,
    replacing: Option<String>,
    printer: PrinterConfig,
    secret: Option<SecretString>,
    probe: Result<Option<Probe>, String>,
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
        // The window keeps the same records as the engine's log.
        DispatchUpdate::Record(r) | DispatchUpdate::DetailLetGo(r) => listener_out.record(r),
        DispatchUpdate::Health(d, h) => listener_out.send(EngineUpdate::Health(d, h)),
    }) {
        Ok(d) => d,
        Err(e) => {
            out.error(e);
            out.send(EngineUpdate::Stopped);
            return;
        }
    };
    let (keyring_looks, mut looked) = mpsc::unbounded_channel();
    let (simulated, mut simulated_rx) = mpsc::channel(SIMULATION_QUEUE_CAPACITY);
    let (probed, mut probed_rx) = mpsc::unbounded_channel();
    let printers = Watching::new(profile.clone());
    let mut state = State {
        profile,
        options,
        settings: Settings::default(),
        secrets: SecretsView::default(),
        notice: None,
        file_changes: FileChanges::default(),
        watch_ticks: 0,
        secrets_generation: 0,
        keyring_look_running: false,
        keyring_looks,
        dispatcher,
        out,
        simulated,
        simulation: None,
        clipboard: SecretClipboard::default(),
        printers,
        probed,
    };
    state.reload().await;
    let mut watch = tokio::time::interval(WATCH_FILE_EVERY);
    watch.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            // The window's commands first, so a Shutdown comes after what
            // the window asked before it.
            biased;
            command = commands.recv() => match command {
                None | Some(EngineCommand::Shutdown) => break,
                Some(command) => state.handle(command).await,
            },
            Some(event) = simulated_rx.recv() => {
                state.handle(EngineCommand::Send(Box::new(event))).await;
            }
            // A Shutdown that found the command queue full (the guard the
            // wait gives back is dropped inside: it may not cross an await).
            _ = async { stop.wait_for(|s| *s).await.map(|_| ()) } => break,
            _ = watch.tick() => {
                state.watch_ticks += 1;
                state.notice_file_changes().await;
                let (changed, problems) = state.printers.tick(&state.settings).await;
                state.printers_changed(changed, problems);
                if state.watch_ticks.is_multiple_of(WATCH_KEYRING_EVERY_TICKS) {
                    state.start_keyring_look();
                }
            }
            Some((generation, secrets)) = looked.recv() => {
                state.keyring_looked(generation, secrets).await;
            }
            Some(update) = state.printers.recv() => state.printer_update(update),
            Some(probed) = probed_rx.recv() => state.probed(probed).await,
        }
        state.sync_printers().await;
    }
    state.printers.stop(Duration::from_secs(3)).await;
    if let Some(stop) = state.simulation.take() {
        stop.send_replace(true);
    }
    // A secret copied less than 30 s ago does not outlive the window.
    state.clipboard.clear(None).await;
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
        self.notice = notice.clone();
        self.secrets = self.profile.read_secrets().await;
        self.scrub_secrets();
        self.secrets_generation += 1;
        self.out.send(EngineUpdate::Loaded {
            settings: Box::new(settings),
            secrets: self.secrets.clone(),
            notice,
        });
        self.report_duplicates().await;
        // Health restored from the journal (a pause, say) is shown at once.
        for destination in Channel::ALL {
            let health = self.dispatcher.health(destination);
            self.out.send(EngineUpdate::Health(destination, health));
        }
    }

    async fn report_duplicates(&self) {
        // Only what can be read is compared; keyring trouble is reported
        // elsewhere.
        let mine = self
            .secrets
            .destinations(self.profile.name(), &self.settings);
        let warnings = self
            .profile
            .duplicate_warnings(&mine)
            .await
            .unwrap_or_default();
        self.out.send(EngineUpdate::DuplicateWarnings(warnings));
    }

    /// Shows changes another process (the command line) made to the
    /// settings file while the window is open. Cheap when nothing changed (one
    /// small read and a hash), and then nothing is sent to the window.
    async fn notice_file_changes(&mut self) {
        let Some(bytes) = self.file_changes.look(self.profile.config()).await else {
            return;
        };
        // A file that does not parse (say, half-saved by an editor) is
        // skipped until it changes again; nothing is moved aside here.
        if let Some(settings) = ConfigStore::parse(bytes.as_deref())
            && settings != self.settings
        {
            self.settings = settings.clone();
            self.out.send(EngineUpdate::Loaded {
                settings: Box::new(settings),
                secrets: self.secrets.clone(),
                notice: self.notice.clone(),
            });
            self.report_duplicates().await;
        }
    }

    /// Starts reading the keyring again, for changes another process made,
    /// unless a read is under way or the keyring could not be read (a locked
    /// one may ask the user to unlock it: once, not every few seconds; the
    /// banner's Try again reads it again). The read runs beside the command
    /// loop, so a slow keyring delays no command.
    fn start_keyring_look(&mut self) {
        if self.keyring_look_running || self.secrets.keyring_error.is_some() {
            return;
        }
        self.keyring_look_running = true;
        let (profile, generation, looks) = (
            self.profile.clone(),
            self.secrets_generation,
            self.keyring_looks.clone(),
        );
        tokio::spawn(async move {
            let secrets = profile.read_secrets().await;
            looks.send((generation, secrets)).ok();
        });
    }

    /// Takes in what a keyring look found; tells the window only when
    /// something changed.
    async fn keyring_looked(&mut self, generation: u64, secrets: SecretsView) {
        self.keyring_look_running = false;
        // A command read the keyring after this look began: that is newer.
        if generation != self.secrets_generation || secrets == self.secrets {
            return;
        }
        self.secrets = secrets;
        self.scrub_secrets();
        self.secrets_generation += 1;
        self.out.send(EngineUpdate::Secrets(self.secrets.clone()));
        self.report_duplicates().await;
    }

    async fn refresh_secrets(&mut self) {
        self.secrets = self.profile.read_secrets().await;
        self.scrub_secrets();
        self.secrets_generation += 1;
        self.out.send(EngineUpdate::Secrets(self.secrets.clone()));
    }

    /// Answers that echo any of the profile's secrets are scrubbed of them.
    fn scrub_secrets(&self) {
        self.dispatcher.set_scrubber(
            self.secrets
                .scrubber(&self.settings, &self.options.api_bases),
        );
    }

    /// Runs a profile change, then re-reads what it may have touched.
    async fn change<T>(&mut self, result: Result<T, ProfileError>) -> Option<T> {
        match result {
            Ok(value) => {
                self.refresh_secrets().await;
                // The change may have touched the settings too (Forget URL
                // turns Discord off): the window takes them as its base.
                if let Ok(loaded) = self.profile.load().await
                    && loaded.settings != self.settings
                {
                    self.settings = loaded.settings.clone();
                    self.out.send(EngineUpdate::Loaded {
                        settings: Box::new(loaded.settings),
                        secrets: self.secrets.clone(),
                        notice: self.notice.clone(),
                    });
                }
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
            EngineCommand::ClearCopiedSecret(what, copied) => {
                let out = self.out.clone();
                self.clipboard.clear_later(what, copied, move |result| {
                    if let Err(e) = result {
                        out.error(format!(
                            "the {} could not be cleared from the clipboard ({e}): clear it yourself",
                            what.label()
                        ));
                    }
                });
            }
            EngineCommand::Change(change) => {
                // Enabling a channel may generate a secret for it (the
                // custom webhook's key); nothing else here touches the
                // keyring, so a tick costs no keyring round trip.
                let touches_secrets = match &change {
                    SettingsChange::Enabled(channel, true) => {
                        channel.spec().secrets.iter().any(|k| k.generate.is_some())
                    }
                    _ => false,
                };
                let r = match change {
                    SettingsChange::Plan(plan) => self.profile.set_plan(plan).await,
                    SettingsChange::Enabled(channel, on) => {
                        self.profile.set_enabled(channel, on).await
                    }
                    SettingsChange::Events {
                        channels,
                        events,
                        on,
                    } => self.profile.set_events(&channels, &events, on).await,
                    SettingsChange::Chat(chat) => self.profile.set_chat(chat.as_deref()).await,
                    SettingsChange::OfflineAfter(seconds) => {
                        self.profile.set_offline_after(seconds).await
                    }
                };
                match r {
                    Ok(notes) => {
                        if touches_secrets {
                            self.refresh_secrets().await;
                        }
                        notes.into_iter().for_each(|n| self.out.info(n));
                    }
                    Err(e) => self.out.error(e.to_string()),
                }
                // The window takes the settings as they now are: its edit,
                // anything another process did meanwhile, or (refused) what
                // was there before.
                if let Ok(loaded) = self.profile.load().await {
                    self.settings = loaded.settings;
                }
                self.out.send(EngineUpdate::Loaded {
                    settings: Box::new(self.settings.clone()),
                    secrets: self.secrets.clone(),
                    notice: self.notice.clone(),
                });
                self.out.send(EngineUpdate::Saved);
            }
            EngineCommand::SetSecret(ticket, kind, text) => {
                let r = self.profile.set_secret(kind, text.expose_secret()).await;
                let answer = answer_of(&r);
                if let Some((shown, notes)) = self.change(r).await {
                    self.out
                        .info(format!("{} saved in the keyring: {shown}", kind.words));
                    notes.into_iter().for_each(|n| self.out.info(n));
                }
                self.out.send(EngineUpdate::Answered(ticket, answer));
            }
            EngineCommand::ClearChannel(channel) => {
                let r = self.profile.clear_channel(channel).await;
                self.change(r).await;
            }
            EngineCommand::GenerateApiKey => {
                let r = self.profile.generate_api_key().await;
                if self.change(r).await.is_some() {
                    self.out
                        .info("a new API key was generated: copy it to your receiver");
                }
            }
            EngineCommand::SetApiKey(ticket, text) => {
                let r = self.profile.set_api_key(text.expose_secret()).await;
                let answer = answer_of(&r);
                if self.change(r).await.is_some() {
                    self.out.info("API key saved in the keyring");
                }
                self.out.send(EngineUpdate::Answered(ticket, answer));
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
            EngineCommand::Verify(channel) => self.verify(channel),
            EngineCommand::SavePrinter {
                ticket,
                replacing,
                printer,
                secret,
            } => self.probe_printer(ticket, replacing, printer, secret).await,
            EngineCommand::RemovePrinter(name) => {
                let r = self.profile.remove_printer(&name).await;
                if self.change(r).await.is_some() {
                    self.out.info(format!("{name} removed"));
                }
            }
            EngineCommand::FindChats => {
                let client = self.dispatcher.client().clone();
                let http = self.dispatcher.config().http.clone();
                let secrets = self.secrets.clone();
                let base = self
                    .options
                    .api_bases
                    .base(Channel::Telegram.id())
                    .to_string();
                let out = self.out.clone();
                tokio::spawn(async move {
                    let found =
                        delivery::telegram::find_chats(&client, &http, &base, &secrets).await;
                    out.send(EngineUpdate::FoundChats(found));
                });
            }
            EngineCommand::TestFire { ticket, event, to } => {
                let answer =
                    match test_target(&self.settings, &self.secrets, to, &self.options.api_bases) {
                        Ok(target) => {
                            drop(self.dispatcher.submit(target, sample_event(event)));
                            Ok(())
                        }
                        Err(e) => {
                            self.out.error(e.clone());
                            Err(e)
                        }
                    };
                self.out.send(EngineUpdate::Answered(ticket, answer));
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

    /// Connects once to a Bambu printer the window adds or changes, beside
    /// the command loop (up to 15 s); the answer comes back as `Probed`.
    /// Other kinds are saved at once: their sources say soon enough whether
    /// the key works.
    async fn probe_printer(
        &mut self,
        ticket: Ticket,
        replacing: Option<String>,
        printer: PrinterConfig,
        secret: Option<SecretString>,
    ) {
        if printer.kind != PrinterKind::Bambu {
            let probed = Probed {
                ticket,
                replacing,
                printer,
                secret,
                probe: Ok(None),
            };
            self.probed(probed).await;
            return;
        }
        // Changing a printer without typing its code again: the saved one.
        let stored = match (&secret, &replacing) {
            (None, Some(old)) => match self.profile.secrets().printer_secret(old).await {
                Ok(stored) => stored.map(SecretString::from),
                Err(e) => {
                    let why = format!("{}'s access code could not be read: {e}", printer.name);
                    self.out.error(why.clone());
                    self.out.send(EngineUpdate::Answered(ticket, Err(why)));
                    return;
                }
            },
            _ => None,
        };
        let probed = self.probed.clone();
        tokio::spawn(async move {
            let probe = watcher::probe(
                &printer,
                secret.as_ref().or(stored.as_ref()),
                Duration::from_secs(15),
            )
            .await
            .map(Some);
            probed
                .send(Probed {
                    ticket,
                    replacing,
                    printer,
                    secret,
                    probe,
                })
                .ok();
        });
    }

    /// Saves a printer the window added or changed, once connecting to it
    /// worked; a certificate that is not Bambu Lab's is first shown to the
    /// user to trust (`PrinterTrust`), and saved when they do.
    async fn probed(&mut self, probed: Probed) {
        let Probed {
            ticket,
            replacing,
            printer,
            secret,
            probe,
        } = probed;
        let verb = if replacing.is_some() {
            "changed"
        } else {
            "added"
        };
        let answer = match probe {
            Err(why) => Err(format!("{} was not {verb}: {why}", printer.name)),
            Ok(Some(probe)) if !probe.chained_to_bambu && printer.fingerprint.is_none() => {
                match probe
                    .fingerprint
                    .as_deref()
                    .map(crate::core::printers::config::parse_fingerprint)
                {
                    Some(Ok(fingerprint)) => {
                        self.out.send(EngineUpdate::PrinterTrust {
                            ticket,
                            fingerprint,
                        });
                        return;
                    }
                    _ => Err(format!(
                        "{} was not {verb}: its certificate could not be read",
                        printer.name
                    )),
                }
            }
            Ok(_) => {
                let secret = secret.map(|s| s.expose_secret().to_string());
                let saved = match &replacing {
                    None => {
                        self.profile
                            .add_printer(printer.clone(), secret.as_deref())
                            .await
                    }
                    Some(old) => {
                        self.profile
                            .edit_printer(old, printer.clone(), secret.as_deref())
                            .await
                    }
                };
                saved
                    .map(|notes| notes.into_iter().for_each(|n| self.out.info(n)))
                    .map_err(|e| e.to_string())
            }
        };
        match &answer {
            Err(e) => self.out.error(e.clone()),
            Ok(()) => {
                self.out
                    .info(format!("{} {verb}: farmhook watches it now", printer.name));
                // A new access code or key is only read when the sources
                // start again.
                self.printers.restart_next();
                self.reload().await;
            }
        }
        self.out.send(EngineUpdate::Answered(ticket, answer));
    }

    /// Watches the printers in the settings (started again when they
    /// change, added, removed or edited from the command line).
    async fn sync_printers(&mut self) {
        let (changed, problems) = self.printers.sync(&self.settings).await;
        self.printers_changed(changed, problems);
    }

    fn printers_changed(&mut self, changed: bool, problems: Vec<String>) {
        for problem in problems {
            self.out.error(problem);
        }
        if changed {
            self.send_printers();
        }
    }

    /// One source's report: news is routed like any other event.
    fn printer_update(&mut self, update: SourceUpdate) {
        if let Some((news, config)) = self.printers.update(update) {
            let event = to_event(
                &news,
                &config,
                "",
                time::OffsetDateTime::now_utc(),
                crate::engine::routing::new_event_id(),
            );
            self.send_event(event);
        }
        self.send_printers();
    }

    fn send_printers(&mut self) {
        self.out.send(EngineUpdate::Printers(
            self.printers.views().cloned().collect(),
        ));
    }

    fn verify(&self, channel: Channel) {
        let client = self.dispatcher.client().clone();
        let http = self.dispatcher.config().http.clone();
        let (settings, secrets) = (self.settings.clone(), self.secrets.clone());
        let bases = self.options.api_bases.clone();
        let out = self.out.clone();
        tokio::spawn(async move {
            let result = verify(channel, &settings, &secrets, &bases, &client, &http).await;
            out.send(EngineUpdate::Verified(channel, result));
        });
    }

    fn send_event(&self, event: Event) {
        drop(route_event(
            &self.dispatcher,
            &self.settings,
            &self.secrets,
            &self.options.api_bases,
            event,
        ));
    }
}

async fn export(dispatcher: Dispatcher, path: PathBuf, out: Outbox) {
    let target = path.clone();
    let result = tokio::task::spawn_blocking(move || dispatcher.export_json_lines(&target))
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r.map_err(|e| format!("could not write {}: {e}", path.display())));
    out.send(EngineUpdate::Exported(result.map(|n| (path, n))));
}

/// How a command ended, for its `Answered` reply.
fn answer_of<T>(result: &Result<T, ProfileError>) -> Result<(), String> {
    result.as_ref().map(|_| ()).map_err(ToString::to_string)
}
