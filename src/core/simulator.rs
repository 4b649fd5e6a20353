//! A virtual print farm: printers running jobs, raising HMS warnings and
//! errors, dropping offline and coming back; orders arriving and being
//! printed, closed or cancelled; material used at the end of each job;
//! maintenance coming due after print hours; continuous print switched off
//! after failures in a row. A seeded, clock-free model: the same seed and
//! the same steps give the same events, every run.

use std::fmt;

use rand::{RngExt, SeedableRng};
use time::OffsetDateTime;

use super::events::{EventType, Severity};
use super::payload::{
    Event, Hms, Job, Maintenance, Material, Order, PAYLOAD_SCHEMA_VERSION, Printer,
};

/// The situations a user can rehearse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// Jobs start and finish; now and then one fails or a warning shows.
    NormalShift,
    /// One printer fails every job, with HMS errors before it does.
    FailingPrinter,
    /// Most printers go offline at once, then come back: two bursts.
    NetworkOutage,
    /// One printer drops offline and comes back again and again.
    FlappingPrinter,
}

impl Scenario {
    pub const ALL: [Scenario; 4] = [
        Scenario::NormalShift,
        Scenario::FailingPrinter,
        Scenario::NetworkOutage,
        Scenario::FlappingPrinter,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Scenario::NormalShift => "normal-shift",
            Scenario::FailingPrinter => "failing-printer",
            Scenario::NetworkOutage => "network-outage",
            Scenario::FlappingPrinter => "flapping-printer",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Scenario::NormalShift => "A normal shift",
            Scenario::FailingPrinter => "A failing printer",
            Scenario::NetworkOutage => "Network outage",
            Scenario::FlappingPrinter => "Flapping printer",
        }
    }

    pub fn from_id(id: &str) -> Option<Scenario> {
        Scenario::ALL.into_iter().find(|s| s.id() == id)
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// Most printers a farm may have in the simulator.
pub const MAX_PRINTERS: usize = 500;
/// Fastest simulated speed (×real time).
pub const MAX_SPEED: f64 = 100.0;
/// When the outage starts and ends (simulated seconds).
const OUTAGE_START_S: f64 = 3.0;
const OUTAGE_END_S: f64 = 15.0;
/// Share of printers the outage takes down.
const OUTAGE_SHARE: f64 = 0.8;
/// A simulated second of printing counts as a print minute, so the farm
/// ages fast enough for maintenance to come due within a rehearsal.
const PRINT_HOURS_PER_SECOND: f64 = 1.0 / 60.0;
/// Print hours between two maintenances, and the share at which it is
/// "due soon".
const MAINTENANCE_EVERY_H: f64 = 24.0;
const MAINTENANCE_DUE_SOON_SHARE: f64 = 0.85;
const MAINTENANCE_TASKS: &[&str] = &[
    "Lubricate the carbon rods",
    "Clean the nozzle wiper and the build plate",
    "Check the belt tension",
];
/// Failed jobs in a row after which the farm stops starting jobs on a
/// printer (continuous print disabled) until the operator turns it on.
const CONTINUOUS_PRINT_FAILURES: u32 = 3;
/// Grams of filament a simulated second of printing uses.
const GRAMS_PER_SECOND: f64 = 0.25;
const FILAMENTS: &[(&str, &str)] = &[
    ("PLA Basic", "Jade White"),
    ("PETG HF", "Black"),
    ("PLA Matte", "Charcoal"),
    ("ABS", "Orange"),
];
/// Orders waiting for a printer, at most (older ones are printed first).
const MAX_OPEN_ORDERS: usize = 50;

const MODELS: &[(&str, &str)] = &[
    ("X1C", "X1 Carbon"),
    ("P1S", "P1S"),
    ("A1", "A1"),
    ("MK4", "Prusa MK4"),
];
const FILES: &[&str] = &[
    "benchy.3mf",
    "bracket_v7.3mf",
    "gridfinity_4x2.3mf",
    "phone_stand.gcode",
    "enclosure_lid.3mf",
    "cable_clip_x20.3mf",
];
const FAILURES: &[&str] = &[
    "Spaghetti detected: first-layer adhesion lost",
    "Nozzle clog detected",
    "Filament ran out and no backup spool is loaded",
    "Print head collided with the part",
];
const CANCELS: &[&str] = &[
    "Cancelled from the farm dashboard",
    "Cancelled on the printer's screen",
];
const HMS_WARNINGS: &[(&str, &str)] = &[
    (
        "0300_0100_0001_0007",
        "The heatbed temperature is abnormal; the sensor may have an open circuit.",
    ),
    (
        "0700_4000_0002_0001",
        "AMS filament is tangled or stuck; check the spool.",
    ),
    (
        "0C00_0300_0002_000C",
        "The build plate marker is not detected; check the plate.",
    ),
];
const HMS_ERRORS: &[(&str, &str)] = &[
    ("0700_2000_0002_0001", "AMS slot 1 filament has run out."),
    (
        "0300_0D00_0001_0002",
        "The nozzle temperature is abnormal; the heater may be broken.",
    ),
    (
        "0500_0200_0002_0001",
        "The chamber camera found a fault in the first layer.",
    ),
];

/// What a virtual printer is doing.
#[derive(Debug, Clone, PartialEq)]
pub enum PrinterState {
    Idle,
    Printing { job: String, progress: f64 },
    Offline,
}

impl PrinterState {
    pub fn words(&self) -> String {
        match self {
            PrinterState::Idle => "idle".into(),
            PrinterState::Printing { job, progress } => {
                format!("printing {job} ({:.0} %)", progress * 100.0)
            }
            PrinterState::Offline => "offline".into(),
        }
    }
}

/// One printer as the live list shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct PrinterView {
    pub name: String,
    pub model: String,
    pub state: PrinterState,
}

#[derive(Debug, Clone)]
struct RunningJob {
    id: String,
    name: String,
    started_at_s: f64,
    length_s: f64,
    /// Fails (reason) or is cancelled at this share of the job.
    ends_early: Option<(f64, EventType, String)>,
    warned: bool,
    /// The order this job prints, when the farm took one from the queue.
    order: Option<Order>,
}

/// Where a printer's maintenance stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Upkeep {
    Fine,
    /// `maintenance.due_soon` was told.
    DueSoon,
    /// `maintenance.overdue` was told; maintenance mode comes next.
    Overdue,
    /// In maintenance mode: prints nothing until it is switched off.
    InMaintenance,
}

#[derive(Debug, Clone)]
struct VirtualPrinter {
    printer: Printer,
    job: Option<RunningJob>,
    offline: bool,
    /// Simulated time of the printer's next decision.
    next_at_s: f64,
    jobs_done: u32,
    /// Print hours since the last maintenance.
    print_hours: f64,
    upkeep: Upkeep,
    task: &'static str,
    failures_in_a_row: u32,
    /// Continuous print is off: no job starts until the operator turns it
    /// on again (at the next decision).
    continuous_off: bool,
}

/// The farm. Advance it with [`Farm::advance`]; it returns what happened.
pub struct Farm {
    printers: Vec<VirtualPrinter>,
    rng: rand::rngs::Xoshiro256PlusPlus,
    scenario: Scenario,
    now_s: f64,
    outage_started: bool,
    outage_ended: bool,
    /// Simulated time the next order arrives (or one is cancelled).
    next_order_at_s: f64,
    open_orders: std::collections::VecDeque<Order>,
    orders_made: u32,
}

impl Farm {
    /// `printers` is clamped to 1..=MAX_PRINTERS.
    pub fn new(printers: usize, scenario: Scenario, seed: u64) -> Farm {
        let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(seed);
        let count = printers.clamp(1, MAX_PRINTERS);
        let printers = (0..count)
            .map(|i| {
                let (short, model) = MODELS[i % MODELS.len()];
                VirtualPrinter {
                    printer: Printer {
                        id: format!("prn_{:04}", i + 1),
                        name: format!("{short}-{:02}", i + 1),
                        model: model.into(),
                    },
                    job: None,
                    offline: false,
                    next_at_s: rng.random_range(0.5..8.0),
                    jobs_done: 0,
                    // Printers were serviced at different times.
                    print_hours: rng.random_range(0.0..MAINTENANCE_EVERY_H * 0.8),
                    upkeep: Upkeep::Fine,
                    task: MAINTENANCE_TASKS[i % MAINTENANCE_TASKS.len()],
                    failures_in_a_row: 0,
                    continuous_off: false,
                }
            })
            .collect();
        let next_order_at_s = rng.random_range(2.0..10.0);
        Farm {
            printers,
            rng,
            scenario,
            now_s: 0.0,
            outage_started: false,
            outage_ended: false,
            next_order_at_s,
            open_orders: std::collections::VecDeque::new(),
            orders_made: 0,
        }
    }

    pub fn scenario(&self) -> Scenario {
        self.scenario
    }

    /// Simulated seconds since the start.
    pub fn elapsed_s(&self) -> f64 {
        self.now_s
    }

    pub fn printers(&self) -> Vec<PrinterView> {
        self.printers
            .iter()
            .map(|p| PrinterView {
                name: p.printer.name.clone(),
                model: p.printer.model.clone(),
                state: if p.offline {
                    PrinterState::Offline
                } else if let Some(job) = &p.job {
                    PrinterState::Printing {
                        job: job.name.clone(),
                        progress: ((self.now_s - job.started_at_s) / job.length_s).clamp(0.0, 1.0),
                    }
                } else {
                    PrinterState::Idle
                },
            })
            .collect()
    }

    /// Moves simulated time on by `dt_s` seconds and returns the events, in
    /// order. `wall_start` is the real time the simulation started at; event
    /// times are `wall_start` plus simulated time.
    pub fn advance(&mut self, dt_s: f64, wall_start: OffsetDateTime) -> Vec<Event> {
        let dt = if dt_s.is_finite() {
            dt_s.clamp(0.0, 3600.0)
        } else {
            0.0
        };
        let end = self.now_s + dt;
        let mut events = Vec::new();
        // Step through decisions in time order so the sequence does not
        // depend on how time was sliced.
        loop {
            let outage_at = self.next_outage_time();
            let next = self
                .printers
                .iter()
                .enumerate()
                .map(|(i, p)| (p.next_at_s, i))
                .min_by(|a, b| a.0.total_cmp(&b.0));
            // The earliest of: the outage, an order, a printer's decision.
            let mut step = outage_at.map(|o| (o, Step::Outage));
            let order = (self.next_order_at_s, Step::Order);
            if step.is_none_or(|(t, _)| order.0 < t) {
                step = Some(order);
            }
            if let Some((t, i)) = next
                && step.is_none_or(|(s, _)| t < s)
            {
                step = Some((t, Step::Printer(i)));
            }
            let Some((at, step)) = step.filter(|(at, _)| *at <= end) else {
                break;
            };
            self.now_s = at;
            match step {
                Step::Outage => self.outage_step(wall_start, &mut events),
                Step::Order => self.order_step(wall_start, &mut events),
                Step::Printer(i) => self.printer_step(i, wall_start, &mut events),
            }
        }
        self.now_s = end;
        events
    }

    fn next_outage_time(&self) -> Option<f64> {
        if self.scenario != Scenario::NetworkOutage {
            return None;
        }
        if !self.outage_started {
            Some(OUTAGE_START_S)
        } else if !self.outage_ended {
            Some(OUTAGE_END_S)
        } else {
            None
        }
    }

    /// An order arrives, manual or from the shop; now and then an open one
    /// is cancelled instead. Bigger farms get more orders.
    fn order_step(&mut self, wall_start: OffsetDateTime, events: &mut Vec<Event>) {
        let per_ten_printers = (self.printers.len() as f64 / 10.0).max(1.0);
        self.next_order_at_s = self.now_s + self.rng.random_range(20.0..90.0) / per_ten_printers;
        if self.rng.random_range(0..100) < 10
            && let Some(mut order) = self.open_orders.pop_back()
        {
            order.reason = Some("The customer cancelled".into());
            events.push(self.order_event("order.cancelled", None, order, wall_start));
            return;
        }
        if self.open_orders.len() >= MAX_OPEN_ORDERS {
            return;
        }
        self.orders_made += 1;
        let manual = self.rng.random_range(0..100) < 30;
        let order = Order {
            id: format!("ord_{:04}", self.orders_made),
            number: format!("#{}", 1000 + self.orders_made),
            source: if manual { "manual" } else { "retail" }.into(),
            items: self.rng.random_range(1..6),
            reason: None,
        };
        self.open_orders.push_back(order.clone());
        let id = if manual {
            "order.created_manual"
        } else {
            "order.created_retail"
        };
        events.push(self.order_event(id, None, order, wall_start));
    }

    /// An order event, about a printer when one prints it.
    fn order_event(
        &mut self,
        id: &str,
        printer: Option<usize>,
        order: Order,
        wall_start: OffsetDateTime,
    ) -> Event {
        let mut event = match printer {
            Some(i) => self.event(i, id, wall_start, None, None),
            None => {
                let mut e = self.event(0, id, wall_start, None, None);
                e.printer = None;
                e
            }
        };
        event.order = Some(order);
        event
    }

    fn maintenance_event(&mut self, i: usize, id: &str, wall_start: OffsetDateTime) -> Event {
        let p = &self.printers[i];
        let due = matches!(id, "maintenance.due_soon" | "maintenance.overdue");
        let maintenance = Maintenance {
            task: due.then(|| p.task.to_string()),
            print_hours: (p.print_hours * 10.0).round() / 10.0,
            due_at_print_hours: due.then_some(MAINTENANCE_EVERY_H),
            note: match id {
                "maintenance.mode_on" => Some(format!("{} (overdue)", p.task)),
                "maintenance.mode_off" => Some(format!("{}: done", p.task)),
                _ => None,
            },
        };
        let mut event = self.event(i, id, wall_start, None, None);
        event.maintenance = Some(maintenance);
        event
    }

    fn outage_step(&mut self, wall_start: OffsetDateTime, events: &mut Vec<Event>) {
        let going_down = !self.outage_started;
        if going_down {
            self.outage_started = true;
        } else {
            self.outage_ended = true;
        }
        let affected = ((self.printers.len() as f64) * OUTAGE_SHARE).ceil() as usize;
        for i in 0..affected.min(self.printers.len()) {
            if going_down && !self.printers[i].offline {
                self.printers[i].offline = true;
                // Offline printers decide nothing until the network is back.
                self.printers[i].next_at_s = f64::INFINITY;
                events.push(self.event(i, "printer.offline", wall_start, None, None));
            } else if !going_down && self.printers[i].offline {
                self.printers[i].offline = false;
                self.printers[i].next_at_s = self.now_s + self.rng.random_range(1.0..5.0);
                events.push(self.event(i, "printer.online", wall_start, None, None));
            }
        }
    }

    fn printer_step(&mut self, i: usize, wall_start: OffsetDateTime, events: &mut Vec<Event>) {
        let flapper = i == 0 && self.scenario == Scenario::FlappingPrinter;
        let failing = i == 0 && self.scenario == Scenario::FailingPrinter;
        if flapper {
            let p = &mut self.printers[i];
            p.offline = !p.offline;
            let id = if p.offline {
                "printer.offline"
            } else {
                "printer.online"
            };
            p.next_at_s = self.now_s + self.rng.random_range(4.0..12.0);
            events.push(self.event(i, id, wall_start, None, None));
            return;
        }
        if self.printers[i].offline {
            // A printer that dropped on its own comes back.
            self.printers[i].offline = false;
            self.printers[i].next_at_s = self.now_s + self.rng.random_range(2.0..10.0);
            events.push(self.event(i, "printer.online", wall_start, None, None));
            return;
        }
        let Some(job) = self.printers[i].job.clone() else {
            // Idle: maintenance first, then continuous print, then a job.
            match self.printers[i].upkeep {
                Upkeep::Overdue => {
                    self.printers[i].upkeep = Upkeep::InMaintenance;
                    self.printers[i].next_at_s = self.now_s + self.rng.random_range(30.0..90.0);
                    events.push(self.maintenance_event(i, "maintenance.mode_on", wall_start));
                    return;
                }
                Upkeep::InMaintenance => {
                    let p = &mut self.printers[i];
                    p.upkeep = Upkeep::Fine;
                    p.print_hours = 0.0;
                    p.next_at_s = self.now_s + self.rng.random_range(2.0..10.0);
                    events.push(self.maintenance_event(i, "maintenance.mode_off", wall_start));
                    return;
                }
                Upkeep::Fine | Upkeep::DueSoon => {}
            }
            if self.printers[i].continuous_off {
                // The operator has looked at it and turns it back on.
                self.printers[i].continuous_off = false;
                self.printers[i].failures_in_a_row = 0;
            }
            // Start a job (or, rarely, drop offline).
            if self.scenario == Scenario::NormalShift && self.rng.random_bool(0.02) {
                self.printers[i].offline = true;
                self.printers[i].next_at_s = self.now_s + self.rng.random_range(5.0..30.0);
                events.push(self.event(i, "printer.offline", wall_start, None, None));
                return;
            }
            let number = self.printers[i].jobs_done + 1;
            let name = FILES[self.rng.random_range(0..FILES.len())].to_string();
            let length_s = self.rng.random_range(60.0..600.0);
            let ends_early = if failing {
                Some((
                    self.rng.random_range(0.05..0.4),
                    "job.failed",
                    FAILURES[self.rng.random_range(0..FAILURES.len())],
                ))
            } else {
                match self.rng.random_range(0..100) {
                    0..=7 => Some((
                        self.rng.random_range(0.05..0.9),
                        "job.failed",
                        FAILURES[self.rng.random_range(0..FAILURES.len())],
                    )),
                    8..=13 => Some((
                        self.rng.random_range(0.05..0.9),
                        "job.cancelled",
                        CANCELS[self.rng.random_range(0..CANCELS.len())],
                    )),
                    _ => None,
                }
            }
            .map(|(share, id, why)| (share, event_type(id), why.to_string()));
            // Half the jobs print an order from the queue, oldest first.
            let order = if self.rng.random_bool(0.5) {
                self.open_orders.pop_front()
            } else {
                None
            };
            let job = RunningJob {
                id: format!("job_{}_{number:03}", self.printers[i].printer.id),
                name,
                started_at_s: self.now_s,
                length_s,
                ends_early,
                warned: false,
                order,
            };
            self.printers[i].job = Some(job.clone());
            // Next decision: a warning midway, the early end, or the finish.
            self.printers[i].next_at_s = self.now_s + self.next_job_decision(&job, failing);
            if let Some(order) = job.order.clone() {
                let mut event = self.order_event("order.auto_printed", Some(i), order, wall_start);
                event.job = Some(self.job_payload(&job, wall_start));
                events.push(event);
            }
            events.push(self.event(i, "job.started", wall_start, Some(&job), None));
            return;
        };
        let progress = ((self.now_s - job.started_at_s) / job.length_s).clamp(0.0, 1.0);
        if let Some((share, kind, reason)) = &job.ends_early
            && progress + 1e-9 >= *share
        {
            if failing || (kind.id() == "job.failed" && self.rng.random_bool(0.5)) {
                let (code, message) = HMS_ERRORS[self.rng.random_range(0..HMS_ERRORS.len())];
                let hms = Hms {
                    code: code.into(),
                    severity: Severity::Error,
                    message: message.into(),
                };
                events.push(self.event(i, "printer.hms_error", wall_start, None, Some(hms)));
            }
            let mut ended = job.clone();
            ended.ends_early = None;
            let event = self.job_end(i, *kind, &ended, Some(reason.clone()), progress, wall_start);
            events.push(event);
            self.after_job(i, *kind, &ended, progress, wall_start, events);
            return;
        }
        if progress < 1.0 {
            if !job.warned && !failing && self.rng.random_bool(0.1) {
                let (code, message) = HMS_WARNINGS[self.rng.random_range(0..HMS_WARNINGS.len())];
                let hms = Hms {
                    code: code.into(),
                    severity: Severity::Warning,
                    message: message.into(),
                };
                events.push(self.event(i, "printer.hms_warning", wall_start, None, Some(hms)));
            }
            if let Some(j) = self.printers[i].job.as_mut() {
                j.warned = true;
            }
            let remaining = job.ends_early.as_ref().map(|e| e.0).unwrap_or(1.0) - progress;
            self.printers[i].next_at_s = self.now_s + (remaining * job.length_s).max(0.001);
            return;
        }
        let succeeded = event_type("job.succeeded");
        let event = self.job_end(i, succeeded, &job, None, 1.0, wall_start);
        events.push(event);
        self.after_job(i, succeeded, &job, 1.0, wall_start, events);
    }

    /// What follows a job's end: the material it used, its order closed (or
    /// back in the queue), continuous print switched off after failures in a
    /// row, and maintenance coming due.
    fn after_job(
        &mut self,
        i: usize,
        kind: EventType,
        job: &RunningJob,
        progress: f64,
        wall_start: OffsetDateTime,
        events: &mut Vec<Event>,
    ) {
        let printed_s = (job.length_s * progress).max(0.0);
        if printed_s > 0.0 {
            let (filament, colour) = FILAMENTS[i % FILAMENTS.len()];
            let mut event = self.event(i, "material.usage_recorded", wall_start, None, None);
            event.material = Some(Material {
                filament: filament.into(),
                colour: Some(colour.into()),
                grams: (printed_s * GRAMS_PER_SECOND * 10.0).round() / 10.0,
                job_id: Some(job.id.clone()),
            });
            events.push(event);
        }
        let succeeded = kind.id() == "job.succeeded";
        if let Some(order) = job.order.clone() {
            if succeeded {
                events.push(self.order_event("order.closed", Some(i), order, wall_start));
            } else {
                // Printed again by the next free printer.
                self.open_orders.push_front(order);
            }
        }
        let p = &mut self.printers[i];
        if kind.id() == "job.failed" {
            p.failures_in_a_row += 1;
        } else if succeeded {
            p.failures_in_a_row = 0;
        }
        if p.failures_in_a_row >= CONTINUOUS_PRINT_FAILURES && !p.continuous_off {
            p.continuous_off = true;
            p.next_at_s = self.now_s + self.rng.random_range(60.0..180.0);
            events.push(self.event(
                i,
                "printer.continuous_print_disabled",
                wall_start,
                None,
                None,
            ));
        }
        let p = &mut self.printers[i];
        p.print_hours += printed_s * PRINT_HOURS_PER_SECOND;
        let due_soon = p.print_hours >= MAINTENANCE_EVERY_H * MAINTENANCE_DUE_SOON_SHARE;
        let overdue = p.print_hours >= MAINTENANCE_EVERY_H;
        let told = match p.upkeep {
            Upkeep::Fine if overdue => Some((Upkeep::Overdue, "maintenance.overdue")),
            Upkeep::Fine if due_soon => Some((Upkeep::DueSoon, "maintenance.due_soon")),
            Upkeep::DueSoon if overdue => Some((Upkeep::Overdue, "maintenance.overdue")),
            _ => None,
        };
        if let Some((upkeep, id)) = told {
            self.printers[i].upkeep = upkeep;
            events.push(self.maintenance_event(i, id, wall_start));
        }
    }

    fn next_job_decision(&mut self, job: &RunningJob, failing: bool) -> f64 {
        let end_share = job.ends_early.as_ref().map(|e| e.0).unwrap_or(1.0);
        if failing {
            return end_share * job.length_s;
        }
        // Check in halfway to the end (a chance of a warning there).
        (end_share * job.length_s / 2.0).max(0.001)
    }

    fn job_end(
        &mut self,
        i: usize,
        kind: EventType,
        job: &RunningJob,
        reason: Option<String>,
        progress: f64,
        wall_start: OffsetDateTime,
    ) -> Event {
        let p = &mut self.printers[i];
        p.job = None;
        p.jobs_done += 1;
        p.next_at_s = self.now_s + self.rng.random_range(5.0..40.0);
        let mut job_payload = self.job_payload(job, wall_start);
        job_payload.ended_at = Some(self.wall(wall_start));
        job_payload.duration_s = Some((self.now_s - job.started_at_s).max(0.0).round() as u64);
        job_payload.progress = (progress * 1000.0).round() / 1000.0;
        job_payload.reason = reason;
        let mut event = self.event(i, kind.id(), wall_start, None, None);
        event.job = Some(job_payload);
        event
    }

    fn job_payload(&self, job: &RunningJob, wall_start: OffsetDateTime) -> Job {
        Job {
            id: job.id.clone(),
            name: job.name.clone(),
            started_at: wall_start + time::Duration::seconds_f64(job.started_at_s),
            ended_at: None,
            duration_s: None,
            progress: 0.0,
            reason: None,
        }
    }

    fn wall(&self, wall_start: OffsetDateTime) -> OffsetDateTime {
        wall_start + time::Duration::seconds_f64(self.now_s)
    }

    fn event(
        &mut self,
        i: usize,
        id: &str,
        wall_start: OffsetDateTime,
        job: Option<&RunningJob>,
        hms: Option<Hms>,
    ) -> Event {
        let random: String = (0..24)
            .map(|_| {
                char::from(
                    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                        [self.rng.random_range(0..62)],
                )
            })
            .collect();
        Event {
            id: format!("evt_{random}"),
            event_type: event_type(id),
            schema_version: PAYLOAD_SCHEMA_VERSION,
            occurred_at: self.wall(wall_start),
            test: false,
            printer: Some(self.printers[i].printer.clone()),
            job: job.map(|j| self.job_payload(j, wall_start)),
            hms,
            order: None,
            maintenance: None,
            material: None,
        }
    }
}

/// What the farm does next.
#[derive(Clone, Copy)]
enum Step {
    Outage,
    Order,
    Printer(usize),
}

/// The catalogue id used here is always a catalogue row.
fn event_type(id: &str) -> EventType {
    EventType::from_id(id).expect("the simulator only uses catalogue ids")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_795_000_000).unwrap()
    }

    fn run(printers: usize, scenario: Scenario, seed: u64, steps: usize, dt: f64) -> Vec<Event> {
        let mut farm = Farm::new(printers, scenario, seed);
        (0..steps).flat_map(|_| farm.advance(dt, start())).collect()
    }

    #[test]
    fn the_same_seed_gives_the_same_events_however_time_is_sliced() {
        let a = run(10, Scenario::NormalShift, 7, 600, 1.0);
        let b = run(10, Scenario::NormalShift, 7, 6000, 0.1);
        assert!(a.len() > 30, "{}", a.len());
        let ids = |v: &[Event]| {
            v.iter()
                .map(|e| {
                    (
                        e.event_type.id(),
                        e.printer_name().to_string(),
                        e.id.clone(),
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&a), ids(&b));
        let c = run(10, Scenario::NormalShift, 8, 600, 1.0);
        assert_ne!(ids(&a), ids(&c));
    }

    #[test]
    fn a_normal_shift_has_every_kind_of_job_event_and_payloads_fit_their_type() {
        let events = run(20, Scenario::NormalShift, 3, 3600, 1.0);
        for id in [
            "job.started",
            "job.succeeded",
            "job.failed",
            "job.cancelled",
            "printer.hms_warning",
        ] {
            assert!(events.iter().any(|e| e.event_type.id() == id), "no {id}");
        }
        for e in &events {
            assert_eq!(
                e.job.is_some(),
                e.event_type.id().starts_with("job.") || e.event_type.id() == "order.auto_printed",
                "{e:?}"
            );
            assert_eq!(
                e.hms.is_some(),
                e.event_type.id().starts_with("printer.hms_"),
                "{e:?}"
            );
            assert!(!e.test);
        }
    }

    #[test]
    fn a_network_outage_is_a_burst_of_offline_then_online() {
        let mut farm = Farm::new(50, Scenario::NetworkOutage, 1);
        let before = farm.advance(2.9, start());
        assert!(
            before
                .iter()
                .all(|e| e.event_type.id() != "printer.offline")
        );
        let burst = farm.advance(0.2, start());
        let offline = burst
            .iter()
            .filter(|e| e.event_type.id() == "printer.offline")
            .count();
        assert_eq!(offline, 40);
        assert_eq!(
            farm.printers()
                .iter()
                .filter(|p| p.state == PrinterState::Offline)
                .count(),
            40
        );
        let back = farm.advance(12.0, start());
        assert_eq!(
            back.iter()
                .filter(|e| e.event_type.id() == "printer.online")
                .count(),
            40
        );
    }

    #[test]
    fn a_failing_printer_fails_every_job_and_a_flapper_flaps() {
        let events = run(3, Scenario::FailingPrinter, 5, 1200, 1.0);
        let first: Vec<_> = events
            .iter()
            .filter(|e| e.printer_name() == "X1C-01")
            .collect();
        assert!(first.iter().any(|e| e.event_type.id() == "job.failed"));
        assert!(first.iter().all(|e| e.event_type.id() != "job.succeeded"));
        assert!(
            first
                .iter()
                .any(|e| e.event_type.id() == "printer.hms_error")
        );
        let events = run(3, Scenario::FlappingPrinter, 5, 60, 1.0);
        let flaps = events
            .iter()
            .filter(|e| e.printer_name() == "X1C-01")
            .count();
        assert!(flaps >= 5, "{flaps}");
    }

    #[test]
    fn a_shift_has_orders_material_maintenance_and_every_event_validates_its_sections() {
        let events = run(20, Scenario::NormalShift, 3, 3600, 1.0);
        let ids: std::collections::BTreeSet<&str> =
            events.iter().map(|e| e.event_type.id()).collect();
        for id in [
            "order.created_manual",
            "order.created_retail",
            "order.cancelled",
            "order.closed",
            "order.auto_printed",
            "material.usage_recorded",
            "maintenance.due_soon",
            "maintenance.overdue",
            "maintenance.mode_on",
            "maintenance.mode_off",
        ] {
            assert!(ids.contains(id), "no {id} in {ids:?}");
        }
        for e in &events {
            let id = e.event_type.id();
            assert_eq!(e.order.is_some(), id.starts_with("order."), "{id}");
            assert_eq!(
                e.maintenance.is_some(),
                id.starts_with("maintenance."),
                "{id}"
            );
            assert_eq!(e.material.is_some(), id.starts_with("material."), "{id}");
            let printerless = matches!(
                id,
                "order.created_manual" | "order.created_retail" | "order.cancelled"
            );
            assert_eq!(e.printer.is_none(), printerless, "{id}");
        }
        // Every job that printed something used material, once.
        let ended = events
            .iter()
            .filter(|e| {
                e.job
                    .as_ref()
                    .is_some_and(|j| j.ended_at.is_some() && j.progress > 0.0)
                    && e.event_type.id().starts_with("job.")
            })
            .count();
        let used = events
            .iter()
            .filter(|e| e.event_type.id() == "material.usage_recorded")
            .count();
        assert_eq!(used, ended);
    }

    #[test]
    fn a_failing_printer_gets_continuous_print_disabled_after_three_failures() {
        let events = run(3, Scenario::FailingPrinter, 5, 3000, 1.0);
        let first: Vec<&str> = events
            .iter()
            .filter(|e| e.printer_name() == "X1C-01")
            .map(|e| e.event_type.id())
            .collect();
        let failed_before = first
            .iter()
            .take_while(|id| **id != "printer.continuous_print_disabled")
            .filter(|id| **id == "job.failed")
            .count();
        assert_eq!(failed_before, 3, "{first:?}");
        assert!(first.contains(&"printer.continuous_print_disabled"));
    }

    #[test]
    fn odd_inputs_are_clamped_not_panicked_on() {
        let mut farm = Farm::new(0, Scenario::NormalShift, 0);
        assert_eq!(farm.printers().len(), 1);
        assert!(farm.advance(f64::NAN, start()).is_empty());
        farm.advance(-5.0, start());
        assert_eq!(
            Farm::new(100_000, Scenario::NormalShift, 0)
                .printers()
                .len(),
            MAX_PRINTERS
        );
    }
}
