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
pub mod secret_store;
pub mod service;
pub mod simulation;
pub mod status;
pub mod updates;
pub mod verify;

/// The tokio runtime the engine runs on, for the window and the command
/// line alike: two workers are plenty for deliveries and keep the app light.
pub fn new_runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("farmhook-engine")
        .enable_all()
        .build()
        .map_err(|e| format!("could not start the async runtime: {e}"))
}
