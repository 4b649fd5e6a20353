//! Delivery: the shared HTTP client, one sender module per channel
//! (`discord.rs`, `webhook.rs`) registered in `target.rs`, the channel-blind
//! delivery loop (`deliver.rs`), retries and rate limits, destination health
//! and the delivery log.

mod chat;
pub mod deliver;
pub mod discord;
pub mod dispatcher;
pub mod health;
pub mod health_journal;
pub mod http;
pub mod log;
pub mod pushover;
pub mod retry;
pub mod slack;
pub mod target;
pub mod telegram;
pub mod webhook;
