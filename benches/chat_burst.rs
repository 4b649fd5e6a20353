//! The chat channels under a burst (figures go in the README; nothing is
//! asserted): 50 real events submitted at once to a `Dispatcher` for each of
//! Slack, Telegram and Pushover, against their stand-ins at their realistic
//! default paces. Per channel: events delivered / summarised / failed,
//! messages the stand-in accepted, 429 answers, and the time from the first
//! submit to the last delivery beside the floor the pace allows.
//!
//! Run: `cargo bench --bench chat_burst` (a release build; takes a while the
//! first time).

#[path = "../tests/it/support/mod.rs"]
#[allow(unused_imports)]
mod support;

use std::time::{Duration, Instant};

use farmhook::core::channels::pushover::{self, AppToken, UserKey};
use farmhook::core::channels::slack::{self, SlackWebhookUrl};
use farmhook::core::channels::telegram::{self, BotToken, ChatId};
use farmhook::core::events::EventType;
use farmhook::core::payload::Event;
use farmhook::engine::delivery::deliver::Target;
use farmhook::engine::delivery::dispatcher::{DeliveryConfig, Dispatcher};
use farmhook::engine::delivery::log::Outcome;
use farmhook::engine::delivery::pushover::PushoverTarget;
use farmhook::engine::delivery::slack::SlackTarget;
use farmhook::engine::delivery::telegram::TelegramTarget;
use farmhook::engine::service::sample_event;
use support::pushover_stand_in::PushoverStandIn;
use support::slack_stand_in::SlackStandIn;
use support::telegram_stand_in::{PRIVATE_CHAT, TelegramStandIn};

const EVENTS: usize = 50;
const PUSHOVER_TOKEN: &str = "azGDORePK8gMaC0QOYAMyEEuzJnyUi";
const PUSHOVER_USER: &str = "uQiRzpo4DXghDmr9QzzfQu27cmVRsG";

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let slack = SlackStandIn::start().await;
        let url = slack.webhook_url();
        let target = Target::new(SlackTarget {
            url: SlackWebhookUrl::parse(&url).expect("the stand-in's URL"),
            api_base: slack.base(),
        });
        let result = burst(target).await;
        report(
            "Slack",
            &result,
            slack.received().len(),
            slack.count_429(),
            slack::MAX_EVENTS_PER_MESSAGE,
        );

        let telegram = TelegramStandIn::start().await;
        let target = Target::new(TelegramTarget {
            token: BotToken::parse(&telegram.token()).expect("the stand-in's token"),
            chat: ChatId::parse(&PRIVATE_CHAT.to_string()).expect("a chat id"),
            api_base: telegram.base(),
        });
        let result = burst(target).await;
        report(
            "Telegram",
            &result,
            telegram.received().len(),
            telegram.count_429(),
            telegram::MAX_EVENTS_PER_MESSAGE,
        );

        let pushover_stand_in = PushoverStandIn::start(PUSHOVER_TOKEN, PUSHOVER_USER).await;
        let target = Target::new(PushoverTarget {
            token: AppToken::parse(PUSHOVER_TOKEN).expect("a token"),
            user: UserKey::parse(PUSHOVER_USER).expect("a user key"),
            api_base: pushover_stand_in.base(),
        });
        let result = burst(target).await;
        report(
            "Pushover",
            &result,
            pushover_stand_in.received().len(),
            pushover_stand_in.count_429(),
            pushover::MAX_EVENTS_PER_MESSAGE,
        );
    });
}

/// How a burst ended.
struct Burst {
    delivered: usize,
    summarised: usize,
    failed: usize,
    took: Duration,
}

/// A real (not test) event, as a printer sends it.
fn real(id: &str) -> Event {
    let mut e = sample_event(EventType::from_id(id).expect("a catalogue id"));
    e.test = false;
    e
}

/// Submits [`EVENTS`] events at once and waits for every one to end.
async fn burst(target: Target) -> Burst {
    let dispatcher = Dispatcher::new(DeliveryConfig::default(), |_| {}).expect("dispatcher");
    let events: Vec<Event> = (0..EVENTS)
        .map(|i| real(["printer.offline", "job.failed"][i % 2]))
        .collect();
    let start = Instant::now();
    let waiting: Vec<_> = events
        .into_iter()
        .map(|e| dispatcher.submit(target.clone(), e))
        .collect();
    let mut result = Burst {
        delivered: 0,
        summarised: 0,
        failed: 0,
        took: Duration::ZERO,
    };
    for w in waiting {
        match tokio::time::timeout(Duration::from_secs(120), w).await {
            Ok(Ok(record)) => match record.outcome {
                Outcome::Delivered => result.delivered += 1,
                Outcome::Summarised => result.summarised += 1,
                _ => result.failed += 1,
            },
            _ => result.failed += 1,
        }
    }
    result.took = start.elapsed();
    dispatcher.shutdown().await;
    result
}

fn report(channel: &str, b: &Burst, messages: usize, answers_429: usize, per_message: usize) {
    // One message a second (the senders' and the services' pace): the first
    // goes at once, so n messages need n − 1 seconds.
    let needed = EVENTS.div_ceil(per_message);
    let floor = needed.saturating_sub(1);
    println!(
        "chat burst: {channel}: {EVENTS} events: {} delivered / {} summarised / {} failed; \
         {messages} messages accepted, {answers_429} × 429; {:.1} s (floor ≈ {floor} s: \
         {needed} messages of ≤ {per_message} events at 1 msg/s)",
        b.delivered,
        b.summarised,
        b.failed,
        b.took.as_secs_f64()
    );
}
