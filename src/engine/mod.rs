//! The services: config file, keyring, and (later) delivery. Async, on
//! tokio; nothing here knows about egui.

pub mod config_store;
pub mod delivery;
pub mod profile;
pub mod receiver;
pub mod secret_store;
pub mod service;
pub mod simulation;
