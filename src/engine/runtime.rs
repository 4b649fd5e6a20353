//! The tokio runtimes the engine runs on: the one the window and the
//! commands share, and a paced thread of its own for work that can wait a
//! few milliseconds to be done in batches (`farmhook watch`'s printers).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::runtime::{Builder, Handle, Runtime};
use tokio::sync::oneshot;

/// The runtime for the window and the commands: two workers are plenty
/// for deliveries and keep the app light.
pub fn new_runtime() -> Result<Runtime, String> {
    Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("farmhook-engine")
        .enable_all()
        .build()
        .map_err(|e| format!("could not start the async runtime: {e}"))
}

/// A thread with a one-thread runtime of its own, paced by [`Pacing`]:
/// in a stream of wake-ups it rests between them, so what comes meanwhile
/// is done together. Tasks are spawned on it with [`PacedThread::handle`];
/// the thread ends (and its tasks with it) when this is dropped.
pub struct PacedThread {
    handle: Handle,
    /// Dropped with this: ends the thread.
    _stop: oneshot::Sender<()>,
}

impl PacedThread {
    /// Starts the thread, named `name`, resting `rest` after each wake-up
    /// in a stream.
    pub fn start(name: &str, rest: Duration) -> Result<PacedThread, String> {
        let (stop, stopped) = oneshot::channel::<()>();
        let (started, handle) = std::sync::mpsc::sync_channel(1);
        // The runtime is built, run and dropped on its own thread: a
        // runtime dropped where async code runs (should the thread not
        // start) would panic.
        std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                let runtime = match paced_runtime(rest) {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        started.send(Err(e)).ok();
                        return;
                    }
                };
                started.send(Ok(runtime.handle().clone())).ok();
                runtime.block_on(async {
                    stopped.await.ok();
                });
            })
            .map_err(|e| format!("could not start a thread: {e}"))?;
        let handle = handle
            .recv()
            .map_err(|_| "the paced thread ended as it started".to_string())??;
        Ok(PacedThread {
            handle,
            _stop: stop,
        })
    }

    /// Where to spawn the tasks that run on this thread.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }
}

/// A one-thread runtime that rests as [`Pacing`] says before it waits.
fn paced_runtime(rest: Duration) -> Result<Runtime, String> {
    let pacing = Arc::new(Mutex::new(Pacing::new(rest)));
    let resting = pacing.clone();
    Builder::new_current_thread()
        .enable_all()
        // Called when the thread has nothing left to do, before it waits
        // for the network or a timer.
        .on_thread_park(move || {
            let rest = resting
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .rest(Instant::now());
            if let Some(rest) = rest {
                std::thread::sleep(rest);
            }
        })
        .on_thread_unpark(move || {
            pacing
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .woke(Instant::now());
        })
        .build()
        .map_err(|e| format!("could not start the async runtime: {e}"))
}

/// When a [`PacedThread`] rests. A wake-up that comes soon after the one
/// before it (within one and a half rests: a stream of them) is followed
/// by a rest before the thread waits again, so what comes meanwhile is
/// handled together at the next wake-up: one wake-up per rest, however
/// many printers report. A lone wake-up is followed by none, so a quiet
/// farm's report is read at once. Pure: time is passed in.
#[derive(Debug)]
struct Pacing {
    rest: Duration,
    last_woke: Option<Instant>,
    rest_until: Option<Instant>,
}

impl Pacing {
    fn new(rest: Duration) -> Pacing {
        Pacing {
            rest,
            last_woke: None,
            rest_until: None,
        }
    }

    fn woke(&mut self, now: Instant) {
        let stream_gap = self.rest + self.rest / 2;
        let streaming = self
            .last_woke
            .is_some_and(|at| now.saturating_duration_since(at) <= stream_gap);
        self.rest_until = streaming.then(|| now + self.rest);
        self.last_woke = Some(now);
    }

    /// How long to rest before waiting again, if at all.
    fn rest(&mut self, now: Instant) -> Option<Duration> {
        self.rest_until
            .take()
            .and_then(|until| until.checked_duration_since(now))
            .filter(|rest| !rest.is_zero())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REST: Duration = Duration::from_millis(20);

    #[test]
    fn a_lone_wake_up_is_not_followed_by_a_rest() {
        let t0 = Instant::now();
        let mut p = Pacing::new(REST);
        p.woke(t0);
        assert_eq!(p.rest(t0), None);
        // A second later: alone again.
        p.woke(t0 + Duration::from_secs(1));
        assert_eq!(p.rest(t0 + Duration::from_secs(1)), None);
    }

    #[test]
    fn a_stream_of_wake_ups_is_handled_once_per_rest() {
        let t0 = Instant::now();
        let ms = |n: u64| t0 + Duration::from_millis(n);
        let mut p = Pacing::new(REST);
        p.woke(ms(0));
        assert_eq!(p.rest(ms(0)), None);
        // The next report 5 ms later makes a stream: rest until 25 ms,
        // less the work done since the wake-up.
        p.woke(ms(5));
        assert_eq!(p.rest(ms(6)), Some(Duration::from_millis(19)));
        // The rest ends a little late, with reports waiting: still a
        // stream.
        let late = ms(25) + Duration::from_micros(300);
        p.woke(late);
        assert_eq!(p.rest(ms(26)), Some(late + REST - ms(26)));
        // A rest is taken once; a wake-up long after ends the stream.
        assert_eq!(p.rest(ms(27)), None);
        p.woke(ms(500));
        assert_eq!(p.rest(ms(500)), None);
    }

    #[test]
    fn tasks_run_on_the_paced_thread_until_it_is_dropped() {
        let thread = PacedThread::start("farmhook-test-paced", REST).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        thread.handle().spawn(async move {
            for n in 0..5 {
                tokio::time::sleep(Duration::from_millis(5)).await;
                tx.send((n, std::thread::current().name().map(str::to_string)))
                    .unwrap();
            }
        });
        let seen: Vec<_> = rx.iter().take(5).collect();
        assert_eq!(seen.len(), 5);
        assert!(
            seen.iter()
                .all(|(_, name)| name.as_deref() == Some("farmhook-test-paced"))
        );
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        thread.handle().spawn(async move {
            std::future::pending::<()>().await;
            drop(tx);
        });
        drop(thread);
        // The pending task was dropped with the thread's runtime.
        assert_eq!(
            rx.recv_timeout(Duration::from_secs(5)),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected)
        );
    }
}
