//! The pure core: event catalogue, settings, URL and key rules, payloads.
//! No I/O and no clock reads here; time and randomness come in as arguments
//! (key generation is the one exception: it asks the OS for randomness).

pub mod api_base;
pub mod channel;
pub mod channels;
pub mod duplicates;
pub mod events;
pub mod input;
pub mod payload;
pub mod printers;
pub mod profile;
pub mod redact;
pub mod settings;
pub mod settings_merge;
pub mod simulator;
pub mod summary;
