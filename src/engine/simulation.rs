//! Runs the virtual farm in real time (times a speed factor) and hands its
//! events to whoever sends them: the window's engine or `farmhook simulate`.

use std::time::{Duration, Instant};

use time::OffsetDateTime;
use tokio::sync::watch;

use crate::core::payload::Event;
use crate::core::simulator::{Farm, MAX_PRINTERS, MAX_SPEED, PrinterView, Scenario};

/// How often the farm moves on, in real time.
pub const TICK: Duration = Duration::from_millis(100);

/// What the user picked.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulationSettings {
    pub printers: usize,
    /// ×real time, 0.1 to 100.
    pub speed: f64,
    pub scenario: Scenario,
    pub seed: u64,
}

impl Default for SimulationSettings {
    fn default() -> Self {
        SimulationSettings {
            printers: 10,
            speed: 1.0,
            scenario: Scenario::NormalShift,
            seed: 1,
        }
    }
}

impl SimulationSettings {
    /// Refuses values outside what the simulator supports, in words.
    pub fn check(&self) -> Result<(), String> {
        if !(1..=MAX_PRINTERS).contains(&self.printers) {
            return Err(format!(
                "the farm can have 1 to {MAX_PRINTERS} printers (not {})",
                self.printers
            ));
        }
        if !(self.speed.is_finite() && (0.1..=MAX_SPEED).contains(&self.speed)) {
            return Err(format!(
                "the speed must be between 0.1 and {MAX_SPEED} (×real time)"
            ));
        }
        Ok(())
    }
}

/// What the farm looks like after a tick.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulationView {
    pub running: bool,
    pub scenario: Scenario,
    /// Simulated seconds since the start.
    pub elapsed_s: f64,
    pub events: u64,
    pub printers: Vec<PrinterView>,
}

/// Runs until `stop` becomes true or `duration` (real time) has passed.
/// `on_tick` gets each tick's events (possibly none) and the farm's state;
/// the farm waits for the future it returns (a full queue downstream), so a
/// slow consumer slows the farm rather than piling its events up.
pub async fn run<Tick>(
    settings: SimulationSettings,
    duration: Option<Duration>,
    mut stop: watch::Receiver<bool>,
    mut on_tick: impl FnMut(Vec<Event>, SimulationView) -> Tick + Send,
) where
    Tick: std::future::Future<Output = ()> + Send,
{
    let mut farm = Farm::new(settings.printers, settings.scenario, settings.seed);
    let wall_start = OffsetDateTime::now_utc();
    let started = Instant::now();
    let mut last = started;
    let mut count = 0u64;
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.wait_for(|s| *s) => break,
        }
        let now = Instant::now();
        // Real elapsed time, not the nominal tick: a slow machine does not
        // slow the farm down.
        let dt = now.duration_since(last).as_secs_f64() * settings.speed;
        last = now;
        let events = farm.advance(dt, wall_start);
        count += events.len() as u64;
        let done = duration.is_some_and(|d| now.duration_since(started) >= d);
        let handed_over = on_tick(
            events,
            SimulationView {
                running: !done,
                scenario: settings.scenario,
                elapsed_s: farm.elapsed_s(),
                events: count,
                printers: farm.printers(),
            },
        );
        tokio::select! {
            _ = handed_over => {}
            _ = stop.wait_for(|s| *s) => break,
        }
        if done {
            break;
        }
    }
}
