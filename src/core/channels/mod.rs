//! Each channel's own rules, one folder per channel: what the user gives it
//! (its secrets, parsed once and redacting themselves) and what it sends
//! (its message, within the service's limits). Adding a channel adds a
//! folder here and its line in [`SPECS`].

pub mod discord;
pub mod event_text;
pub mod pushover;
pub mod slack;
pub mod telegram;
pub mod webhook;

use super::channel::ChannelSpec;

/// Every channel's rules, in the order of `Channel::ALL` (a test holds
/// them to it): the one registration of a channel in `core`.
pub static SPECS: [ChannelSpec; 5] = [
    discord::SPEC,
    slack::SPEC,
    telegram::SPEC,
    pushover::SPEC,
    webhook::SPEC,
];
