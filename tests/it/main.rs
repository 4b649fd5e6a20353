//! Every end-to-end test in one binary, so `tests/support` (the loopback
//! stand-ins, the real-binary driver) and `tests/ui_support` (the window
//! driver) compile and link once. Each module reads like the user's day for
//! one part of farmhook: the real binary, a real Secret Service (run with
//! `bash scripts/test.sh`), loopback HTTP servers, the real window through
//! its accessibility tree.

mod support;
mod ui_support;

mod bambu_source;
mod cli_config;
mod cli_delivery;
mod cli_hardening;
mod cli_printers;
mod delivery;
mod moonraker_source;
mod octoprint_source;
mod payload_schema;
mod pushover_channel;
mod pushover_stand_in_check;
mod simulate;
mod slack_channel;
mod slack_stand_in_check;
mod telegram_channel;
mod telegram_stand_in_check;
mod test_servers;
mod ui_deliveries;
mod ui_keyring_unavailable;
mod ui_layout;
mod ui_printers;
mod ui_settings;
mod watch_end_to_end;
