//! The services: config file, keyring, and (later) delivery. Async, on
//! tokio; nothing here knows about egui.

pub mod clipboard;
pub mod config_store;
pub mod crypto;
pub mod delivery;
pub mod messages;
pub mod printers;
pub mod private_files;
pub mod profile;
pub mod receiver;
pub mod routing;
mod runtime;
pub mod secret_store;
pub mod service;
pub mod simulation;
pub mod status;
pub mod updates;
pub mod verify;

pub use runtime::{PacedThread, new_runtime};
