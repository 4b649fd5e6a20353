//! farmhook: Discord and custom-webhook notifications for 3D-print farms.
//!
//! Layers, bottom up: [`core`] (pure rules and types), [`engine`] (config
//! file, keyring, delivery; async on tokio), and two faces over the engine:
//! [`ui`] (the eframe window) and [`cli`] (the command line).

pub mod build_info;
pub mod cli;
pub mod core;
pub mod engine;
pub mod ui;
