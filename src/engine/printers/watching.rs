//! Watching one profile's printers, as exactly one process may: the watch
//! lock, the running sources, each printer's view, and the state file that
//! `printers list` reads. Shared by the window's engine and `farmhook
//! watch`.
//!
//! Two processes watching the same printers (the window open while the
//! always-on box runs `watch`, say) would deliver every event twice, so
//! the first to take the profile's watch lock watches; the other shows
//! what the first one writes to the state file, and takes over when the
//! lock comes free.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use secrecy::SecretString;
use tokio::runtime::Handle;
use tokio::sync::mpsc;

use super::watcher::{UPDATE_QUEUE, Watcher};
use super::{LinkState, PrinterView, SourceReport, SourceUpdate, link_words, state_json};
use crate::core::printers::liveness::LastKnown;
use crate::core::printers::{PrinterConfig, PrinterNews, Timing};
use crate::core::settings::Settings;
use crate::engine::config_store::WatchLock;
use crate::engine::profile::Profile;

/// The state file is written at most this often while news comes in.
const STATE_EVERY: Duration = Duration::from_secs(2);

/// What a printer's link says while another process watches it.
pub const ELSEWHERE: &str = "watched by another farmhook (`farmhook watch` or a window)";

/// The sources running now, and what they were started with.
struct Running {
    watcher: Watcher,
    printers: Vec<PrinterConfig>,
    timing: Timing,
}

/// A profile's printers, watched here or elsewhere.
pub struct Watching {
    profile: Profile,
    lock: Option<WatchLock>,
    running: Option<Running>,
    /// Start the sources again at the next `sync` (a secret changed).
    restart: bool,
    /// The running sources' reports. Each start has its own queue, so a
    /// source stopped by a restart can never overwrite what its successor
    /// reported.
    updates: Option<mpsc::Receiver<SourceUpdate>>,
    views: BTreeMap<String, PrinterView>,
    state_written: Option<Instant>,
    state_dirty: bool,
    /// Why the watch lock could not be taken, as last told (told once, not
    /// at every sync).
    lock_error: Option<String>,
    /// Where the sources run: the caller's runtime unless given one.
    sources: Option<Handle>,
}

impl Watching {
    /// Nothing is watched until the first `sync`.
    pub fn new(profile: Profile) -> Watching {
        Watching {
            profile,
            lock: None,
            running: None,
            restart: false,
            updates: None,
            views: BTreeMap::new(),
            state_written: None,
            state_dirty: false,
            lock_error: None,
            sources: None,
        }
    }

    /// Runs the sources on `runtime` (`watch` gives them a paced thread of
    /// their own) rather than on the caller's.
    pub fn with_sources_on(mut self, runtime: Handle) -> Watching {
        self.sources = Some(runtime);
        self
    }

    /// The next report of a running source; pending while none runs.
    pub async fn recv(&mut self) -> Option<SourceUpdate> {
        let Some(updates) = &mut self.updates else {
            return std::future::pending().await;
        };
        let update = updates.recv().await;
        if update.is_none() {
            // Every source ended (each was refused): nothing more comes.
            self.updates = None;
        }
        update
    }

    /// Each printer as it is now, by name.
    pub fn views(&self) -> impl Iterator<Item = &PrinterView> {
        self.views.values()
    }

    /// Whether another process holds the printers (and this one waits).
    pub fn elsewhere(&self) -> bool {
        self.lock.is_none() && !self.views.is_empty()
    }

    /// Makes the next `sync` start every source again, with the secrets in
    /// the keyring now (an access code or key was changed).
    pub fn restart_next(&mut self) {
        self.restart = true;
    }

    /// Brings what is watched in line with `settings`: takes the watch lock
    /// when it is free, starts the sources when the printers or their
    /// timing changed, and stops everything when no printer is left.
    /// Returns whether the views changed. Errors (an unreadable secret, a
    /// lock file that cannot be opened) come back in words.
    pub async fn sync(&mut self, settings: &Settings) -> (bool, Vec<String>) {
        let wanted = &settings.printers;
        let timing = settings.printer_timing();
        let mut problems = Vec::new();
        // Called after every command and report: the usual answer is
        // "nothing changed", found without touching the views.
        let unchanged = self.lock.is_some()
            && !self.restart
            && self
                .running
                .as_ref()
                .is_some_and(|r| &r.printers == wanted && r.timing == timing);
        if unchanged || (wanted.is_empty() && self.running.is_none() && self.views.is_empty()) {
            return (false, problems);
        }
        self.views
            .retain(|name, _| wanted.iter().any(|p| &p.name == name));
        for p in wanted {
            self.views
                .entry(p.name.clone())
                .or_insert_with(|| PrinterView {
                    config: p.clone(),
                    link: "connecting".into(),
                    connected: false,
                    snapshot: Default::default(),
                })
                .config = p.clone();
        }
        if wanted.is_empty() {
            self.updates = None;
            if let Some(running) = self.running.take() {
                tokio::spawn(running.watcher.stop(Duration::from_secs(3)));
            }
            self.lock = None;
            self.write_state(true).await;
            return (true, problems);
        }
        if self.lock.is_none() {
            match self.profile.try_watch_lock().await {
                Ok(Some(lock)) => {
                    self.lock = Some(lock);
                    self.lock_error = None;
                }
                Ok(None) => {
                    self.read_elsewhere().await;
                    return (true, problems);
                }
                Err(e) => {
                    let why = format!("the printers are not watched: {e}");
                    if self.lock_error.as_ref() != Some(&why) {
                        problems.push(why.clone());
                        self.lock_error = Some(why);
                    }
                    return (true, problems);
                }
            }
        }
        self.restart = false;
        if let Some(running) = self.running.take() {
            // Closed beside the new ones: a printer allows one more client
            // for a moment, and the window must not wait for a slow close.
            tokio::spawn(running.watcher.stop(Duration::from_secs(3)));
        }
        // What each printer was when last watched: here a moment ago (its
        // view), else as the state file says (before a restart, a crash or
        // a power cut, or by another process).
        let last_states = read_states(&self.profile).await;
        let mut printers = Vec::with_capacity(wanted.len());
        for p in wanted {
            let secret = match self.profile.secrets().printer_secret(&p.name).await {
                Ok(secret) => secret.map(SecretString::from),
                Err(e) => {
                    problems.push(format!("{}'s secret could not be read: {e}", p.name));
                    None
                }
            };
            if let Some(view) = self.views.get_mut(&p.name)
                && view.link == ELSEWHERE
            {
                view.link = "connecting".into();
            }
            let last_known = self
                .views
                .get(&p.name)
                .map(|view| view.snapshot.state.as_str())
                .filter(|state| !state.is_empty())
                .or_else(|| last_states.get(&p.name)?["state"].as_str())
                .and_then(LastKnown::from_state);
            printers.push((p.clone(), secret, last_known));
        }
        let (updates, receiver) = mpsc::channel(UPDATE_QUEUE);
        self.updates = Some(receiver);
        let runtime = self.sources.clone().unwrap_or_else(Handle::current);
        let watcher = Watcher::start_with(printers, updates, timing, &runtime);
        self.running = Some(Running {
            watcher,
            printers: wanted.clone(),
            timing,
        });
        (true, problems)
    }

    /// Takes a source's report into the printer's view. News comes back
    /// with the printer's settings, for the caller to route.
    pub fn update(&mut self, update: SourceUpdate) -> Option<(PrinterNews, PrinterConfig)> {
        // A source of a printer removed or restarted a moment ago may
        // still report: only the running set's reports count.
        let running = self.running.as_ref()?;
        let config = running.printers.iter().find(|p| p.name == update.printer)?;
        let view = self.views.get_mut(&update.printer)?;
        self.state_dirty = true;
        match update.what {
            SourceReport::Link(link) => {
                view.connected = link == LinkState::Connected;
                view.link = link_words(&link);
                None
            }
            SourceReport::Snapshot(snapshot) => {
                view.snapshot = snapshot;
                None
            }
            SourceReport::News(news) => Some((news, config.clone())),
        }
    }

    /// Called about every second: while another process watches, shows
    /// what it last wrote and tries to take over; while watching here,
    /// writes the state file when something changed (at most every 2 s).
    /// Returns whether the views changed.
    pub async fn tick(&mut self, settings: &Settings) -> (bool, Vec<String>) {
        if self.lock.is_none() && !settings.printers.is_empty() {
            return self.sync(settings).await;
        }
        if self.state_dirty {
            self.write_state(false).await;
        }
        (false, Vec::new())
    }

    /// Stops the sources (waiting up to `grace`), and leaves in the state
    /// file the last known state, marked as no longer watched.
    pub async fn stop(&mut self, grace: Duration) {
        let Some(running) = self.running.take() else {
            return;
        };
        self.updates = None;
        running.watcher.stop(grace).await;
        for view in self.views.values_mut() {
            view.link = "not watched".into();
            view.connected = false;
            if !view.snapshot.state.is_empty() {
                view.snapshot.state = format!("{} when watching stopped", view.snapshot.state);
            }
        }
        self.write_state(true).await;
        self.lock = None;
    }

    /// Writes each printer's state for `printers list` (and for a process
    /// that waits for the lock), unless it was written less than 2 s ago.
    pub async fn write_state(&mut self, force: bool) {
        if self.lock.is_none() && !force {
            return;
        }
        if !force
            && self
                .state_written
                .is_some_and(|at| at.elapsed() < STATE_EVERY)
        {
            return;
        }
        self.state_written = Some(Instant::now());
        self.state_dirty = false;
        let now = time::OffsetDateTime::now_utc();
        let map: BTreeMap<&String, serde_json::Value> = self
            .views
            .iter()
            .map(|(name, v)| (name, state_json(&v.link, &v.snapshot, now)))
            .collect();
        let Ok(bytes) = serde_json::to_vec_pretty(&map) else {
            return;
        };
        let path = self.profile.printer_state_path();
        let written = tokio::task::spawn_blocking(move || {
            crate::engine::private_files::write_private_atomically(&path, &bytes)
        })
        .await;
        if let Ok(Err(e)) = written {
            eprintln!("farmhook: could not keep the printers' state for `printers list`: {e}");
        }
    }

    /// Shows what the process that holds the lock last wrote.
    async fn read_elsewhere(&mut self) {
        let states = read_states(&self.profile).await;
        for (name, view) in &mut self.views {
            view.connected = false;
            view.link = ELSEWHERE.into();
            let Some(state) = states.get(name) else {
                continue;
            };
            if let Some(link) = state["link"].as_str() {
                view.connected = link == "connected";
                view.link = format!("{ELSEWHERE}: {link}");
            }
            view.snapshot.state = state["state"].as_str().unwrap_or_default().to_string();
            view.snapshot.job = state["job"].as_str().map(str::to_string);
            view.snapshot.progress = state["progress"].as_f64();
            view.snapshot.remaining_s = state["remaining_s"].as_u64();
        }
    }
}

/// The printers' state as the watching process last wrote it (empty when
/// none was written or it does not parse).
pub async fn read_states(profile: &Profile) -> BTreeMap<String, serde_json::Value> {
    let path = profile.printer_state_path();
    tokio::task::spawn_blocking(move || {
        std::fs::read(path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    })
    .await
    .unwrap_or_default()
}
