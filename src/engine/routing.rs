//! Where an event goes: the target of a test delivery, and the routing of
//! real (or simulated) events through each channel's Enable, ticks and the
//! one can-it-send rule (`core::channel`). Shared by the window's engine
//! and the command line.

use time::OffsetDateTime;

use super::delivery::deliver::Target;
use super::delivery::dispatcher::Dispatcher;
use super::delivery::log::{DeliveryRecord, Outcome};
use super::delivery::target;
use super::profile::SecretsView;
use crate::core::api_base::ApiBases;
use crate::core::channel::Blocker;
use crate::core::events::EventType;
use crate::core::payload::{Event, event_id};
use crate::core::settings::{Channel, Settings};

/// Sends a real (or simulated) event where it is enabled and ticked, and
/// records it as filtered, with the reason, for configured destinations
/// where it is not. Returns a receiver per delivery started.
pub fn route_event(
    dispatcher: &Dispatcher,
    settings: &Settings,
    secrets: &SecretsView,
    bases: &ApiBases,
    event: Event,
) -> Vec<tokio::sync::oneshot::Receiver<DeliveryRecord>> {
    let mut started = Vec::new();
    for destination in Channel::ALL {
        // The one can-it-send rule; a channel never set up is left out.
        let blocked = secrets.send_blocker(destination, settings);
        if blocked.as_ref().is_some_and(Blocker::not_set_up) {
            continue;
        }
        let (outcome, reason) = match blocked {
            Some(b @ (Blocker::Off | Blocker::NeedsPlan)) => {
                (Outcome::Filtered, b.words(destination))
            }
            Some(b) => (
                Outcome::Failed,
                format!("not sent: {}", b.words(destination)),
            ),
            None if !settings.events(destination).contains(event.event_type) => (
                Outcome::Filtered,
                format!(
                    "“{}” is not ticked for {}",
                    event.event_type.label(),
                    destination.label()
                ),
            ),
            None => match test_target(settings, secrets, destination, bases) {
                Ok(target) => {
                    started.push(dispatcher.submit(target, event.clone()));
                    continue;
                }
                Err(e) => (Outcome::Failed, format!("not sent: {e}")),
            },
        };
        let shown = test_target(settings, secrets, destination, bases)
            .map(|t| t.redacted())
            .unwrap_or_default();
        dispatcher.record_not_sent(destination, shown, &event, outcome, reason);
    }
    started
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

/// Where a test delivery to `destination` goes, or why it cannot go (the
/// one can-it-send rule, `core::channel`, in words). Tests ignore Enable
/// and the checkboxes, but need a set-up channel, and the custom webhook
/// the Commercial plan.
pub fn test_target(
    settings: &Settings,
    secrets: &SecretsView,
    destination: Channel,
    bases: &ApiBases,
) -> Result<Target, String> {
    if let Some(blocker) = secrets.test_blocker(destination, settings) {
        return Err(blocker.words(destination));
    }
    target::build(destination, settings, secrets, bases)
}
