//! Each channel's own rules, one folder per channel: what the user gives it
//! (its secrets, parsed once and redacting themselves) and what it sends
//! (its message, within the service's limits). Adding a channel adds a
//! folder here.

pub mod discord;
pub mod event_text;
pub mod pushover;
pub mod webhook;
