//! The custom webhook 💎: its endpoint, the `X-API-Key` it sends and the
//! optional Standard Webhooks signing secret. (Its body is the payload,
//! `core::payload`, shared with every channel as the event itself.)

pub mod api_key;
pub mod endpoint_url;
