//! The watcher: one source task per printer, all reporting into one
//! stream, and an orderly stop. Shared by `farmhook watch` and the window's
//! engine.

use std::time::Duration;

use secrecy::SecretString;
use tokio::runtime::Handle;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::{Probe, SourceContext, SourceUpdate};
use crate::core::printers::liveness::LastKnown;
use crate::core::printers::{PrinterConfig, PrinterKind, Timing};

/// Updates waiting for the watcher's reader: a printer reports a handful a
/// second; a reader that falls this far behind is stuck.
pub const UPDATE_QUEUE: usize = 1_024;

/// The running sources.
pub struct Watcher {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Watcher {
    /// Starts a source for each printer, with its secret from the keyring
    /// and what was last known of it, reporting into `updates` (the
    /// window's engine keeps one stream across restarts of the watcher),
    /// with the sources on `runtime` (`watch` gives them a paced thread).
    pub fn start_with(
        printers: Vec<(PrinterConfig, Option<SecretString>, Option<LastKnown>)>,
        updates: mpsc::Sender<SourceUpdate>,
        timing: Timing,
        runtime: &Handle,
    ) -> Watcher {
        let (stop, stopped) = watch::channel(false);
        let tasks = printers
            .into_iter()
            .map(|(config, secret, last_known)| {
                let ctx = SourceContext {
                    config,
                    secret,
                    updates: updates.clone(),
                    stop: stopped.clone(),
                    timing,
                    last_known,
                };
                runtime.spawn(run_source(ctx))
            })
            .collect();
        Watcher { stop, tasks }
    }

    /// Tells every source to end and waits up to `grace` for them.
    pub async fn stop(self, grace: Duration) {
        self.stop.send_replace(true);
        let all = futures_join(self.tasks);
        if tokio::time::timeout(grace, all).await.is_err() {
            eprintln!("farmhook: a printer connection did not close in time");
        }
    }
}

async fn futures_join(tasks: Vec<JoinHandle<()>>) {
    for task in tasks {
        task.await.ok();
    }
}

/// Runs the source for the printer's kind (the one registration of each
/// kind's source).
pub async fn run_source(ctx: SourceContext) {
    match ctx.config.kind {
        PrinterKind::Bambu => super::bambu::run(ctx).await,
        PrinterKind::OctoPrint => super::octoprint::run(ctx).await,
        PrinterKind::Moonraker => super::moonraker::run(ctx).await,
    }
}

/// Connects to a printer once and reads one status (`printers test`, and
/// `printers add` to learn a Bambu printer's certificate).
pub async fn probe(
    config: &PrinterConfig,
    secret: Option<&SecretString>,
    timeout: Duration,
) -> Result<Probe, String> {
    match config.kind {
        PrinterKind::Bambu => super::bambu::probe(config, secret, timeout).await,
        PrinterKind::OctoPrint => super::octoprint::probe(config, secret, timeout).await,
        PrinterKind::Moonraker => super::moonraker::probe(config, secret, timeout).await,
    }
}
