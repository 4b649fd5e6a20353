//! Delivery: the shared HTTP client, the Discord and custom-webhook senders,
//! retries and rate limits, destination health and the delivery log.

pub mod deliver;
pub mod discord;
pub mod dispatcher;
pub mod health;
pub mod health_journal;
pub mod http;
pub mod log;
pub mod retry;
