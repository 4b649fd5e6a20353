//! Runs one printer source (OctoPrint, Moonraker…) as `farmhook watch`
//! would, and records everything it reports, so a test can wait for a
//! report (with a deadline, never a fixed sleep) and then read the whole
//! story.

use std::future::Future;
use std::time::Duration;

use farmhook::core::printers::{PrinterConfig, PrinterNews};
use farmhook::engine::printers::{LinkState, SourceContext, SourceReport, SourceUpdate};
use secrecy::SecretString;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// How long a test waits for a report before failing.
pub const REPORT_LIMIT: Duration = Duration::from_secs(20);

pub struct SourceRun {
    updates: mpsc::Receiver<SourceUpdate>,
    /// Every report so far, in order.
    pub seen: Vec<SourceReport>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl SourceRun {
    /// Starts `run` (a source's `run`) for `config` with `secret`.
    pub fn start<F>(
        run: impl FnOnce(SourceContext) -> F,
        config: PrinterConfig,
        secret: Option<&str>,
    ) -> SourceRun
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let (tx, rx) = mpsc::channel(1024);
        let (stop_tx, stop_rx) = watch::channel(false);
        let ctx = SourceContext {
            config,
            secret: secret.map(|s| SecretString::from(s.to_string())),
            updates: tx,
            stop: stop_rx,
            timing: Default::default(),
            last_known: None,
        };
        SourceRun {
            updates: rx,
            seen: Vec::new(),
            stop: stop_tx,
            task: Some(tokio::spawn(run(ctx))),
        }
    }

    /// Waits for the next report (after those already seen) that `want`
    /// accepts, and returns it; fails the test with the story so far after
    /// [`REPORT_LIMIT`].
    pub async fn until(
        &mut self,
        what: &str,
        want: impl Fn(&SourceReport) -> bool,
    ) -> SourceReport {
        let deadline = tokio::time::Instant::now() + REPORT_LIMIT;
        loop {
            match tokio::time::timeout_at(deadline, self.updates.recv()).await {
                Ok(Some(update)) => {
                    self.seen.push(update.what.clone());
                    if want(&update.what) {
                        return update.what;
                    }
                }
                Ok(None) => panic!("the source ended before {what}; it said: {:#?}", self.seen),
                Err(_) => panic!(
                    "no {what} within {} s; the source said: {:#?}",
                    REPORT_LIMIT.as_secs(),
                    self.seen
                ),
            }
        }
    }

    /// Waits for news of the catalogue type `event` (like `job.started`).
    pub async fn news(&mut self, event: &str) -> PrinterNews {
        match self
            .until(
                event,
                |r| matches!(r, SourceReport::News(n) if n.event_type().id() == event),
            )
            .await
        {
            SourceReport::News(n) => n,
            _ => unreachable!("until returns what it was asked for"),
        }
    }

    /// Waits for a snapshot whose state is `state`.
    pub async fn snapshot_state(&mut self, state: &str) {
        self.until(
            &format!("a snapshot saying {state:?}"),
            |r| matches!(r, SourceReport::Snapshot(s) if s.state == state),
        )
        .await;
    }

    /// Waits for the link to reach `state`.
    pub async fn link(&mut self, what: &str, want: impl Fn(&LinkState) -> bool) -> LinkState {
        match self
            .until(what, |r| matches!(r, SourceReport::Link(l) if want(l)))
            .await
        {
            SourceReport::Link(l) => l,
            _ => unreachable!("until returns what it was asked for"),
        }
    }

    /// The catalogue types of every news so far, in order.
    pub fn news_kinds(&self) -> Vec<&'static str> {
        self.seen
            .iter()
            .filter_map(|r| match r {
                SourceReport::News(n) => Some(n.event_type().id()),
                _ => None,
            })
            .collect()
    }

    /// True once the source's task has ended by itself.
    pub fn ended(&self) -> bool {
        self.task.as_ref().is_none_or(|t| t.is_finished())
    }

    /// Waits (with a deadline) for the source to end by itself, reading
    /// what it says on the way.
    pub async fn wait_end(&mut self) {
        let deadline = tokio::time::Instant::now() + REPORT_LIMIT;
        while let Ok(Some(update)) = tokio::time::timeout_at(deadline, self.updates.recv()).await {
            self.seen.push(update.what);
        }
        let task = self.task.take().expect("the source was running");
        tokio::time::timeout_at(deadline, task)
            .await
            .expect("the source ends")
            .expect("the source did not panic");
    }

    /// Asks the source to stop and waits until it has.
    pub async fn stop(mut self) -> Vec<SourceReport> {
        self.stop.send_replace(true);
        self.wait_end().await;
        self.seen
    }
}
