//! The Printers section of the real window: adding a printer through the
//! form (its key only in the keyring), seeing it watched live with its
//! link state, the tile's count, a printer the command line added, Edit,
//! the offline time, Remove, and a Bambu printer whose certificate is
//! shown to trust before it is pinned.

use std::time::Duration;

use farmhook::core::printers::config::format_fingerprint;
use farmhook::engine::service::EngineOptions;

use crate::support::mosquitto::Mosquitto;
use crate::support::{Farmhook, all_file_bytes, contains, require_secret_service};
use crate::ui_support::{Window, runtime};

const KEY: &str = "OctoKey0123456789abcdefABCDEF";

#[test]
fn a_printer_added_in_the_window_is_watched_listed_and_removed() {
    require_secret_service();
    let mut w = Window::open("ui-printers");
    w.wait_for_text("None watched yet: add your printers in Configure › Printers");
    w.click("Configure");
    w.open_section("Printers");
    w.wait_for_text("No printers yet: add one below.");
    w.click("OctoPrint");
    w.type_into("Printer name", "Prusa bay 2");
    // Nothing listens on port 9: the printer cannot be reached, which the
    // window must show, not hide.
    w.type_into("OctoPrint URL", "ftp://octopi");
    w.wait_for_text("the URL must start with http:// or https://");
    assert!(w.is_disabled("Add printer"));
    w.type_into("OctoPrint URL", "");
    w.retype("http://127.0.0.1:9");
    assert!(w.is_disabled("Add printer"), "the API key is needed");
    w.type_into("API key (OctoPrint › Settings › Application Keys)", KEY);
    w.click("Add printer");
    w.step_until("the printer to be watched", |w| {
        w.app()
            .state()
            .printers
            .iter()
            .any(|p| p.config.name == "Prusa bay 2")
    });
    w.wait_for_text("Remove Prusa bay 2");
    assert!(w.shows("OctoPrint · http://127.0.0.1:9"));
    // Its link is told, whatever it is (connecting, trying again, stopped).
    w.step_until("a link state", |w| {
        w.app()
            .state()
            .printers
            .iter()
            .any(|p| p.link != "connecting")
    });
    let files = all_file_bytes(w.config_dir.path());
    assert!(contains(&files, "Prusa bay 2"));
    assert!(!contains(&files, KEY), "the key is in the keyring only");
    assert!(!w.shows(KEY));

    // A printer the command line adds shows up in the open window.
    let cli = Farmhook {
        config_dir: w.config_dir.path().to_path_buf(),
        profile: w.profile.clone(),
        envs: Vec::new(),
    };
    cli.run_with_stdin(
        &[
            "printers",
            "add",
            "moonraker",
            "--name",
            "Voron",
            "--url",
            "http://127.0.0.1:9",
            "--no-check",
        ],
        "",
    );
    w.wait_for_text("Remove Voron");
    // `printers list` shows what the open window sees, live.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        w.harness.step();
        let list = cli.ok(&["printers", "list", "--json"]);
        let live = list
            .stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|v| v["name"] == "Voron")
            .map(|v| v["live"].clone())
            .unwrap_or_default();
        if live["link"].is_string() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "printers list never showed the window's live state: {}",
            list.stdout
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }

    // Edit: renamed and moved, its key kept without typing it again.
    w.click("Edit Prusa bay 2");
    w.wait_for_text("Change Prusa bay 2");
    assert_eq!(w.value_of("OctoPrint URL"), "http://127.0.0.1:9");
    w.type_into("Printer name", "");
    w.retype("Prusa bay 4");
    w.type_into("OctoPrint URL", "");
    w.retype("http://127.0.0.1:10");
    w.click("Save changes");
    w.wait_for_text("Remove Prusa bay 4");
    assert!(w.shows("OctoPrint · http://127.0.0.1:10"));
    assert!(!w.shows("Remove Prusa bay 2"));
    assert!(w.shows("Add a printer"), "the form is back to adding");
    let list = cli.ok(&["printers", "list", "--json"]);
    assert!(!list.stdout.contains("Prusa bay 2"), "{}", list.stdout);
    let files = all_file_bytes(w.config_dir.path());
    assert!(
        !contains(&files, KEY),
        "the key is still in the keyring only"
    );

    // How soon a silent printer is told offline, saved for watch too.
    assert!(w.shows("1 min (default)"));
    w.click("30 s");
    w.step_until("the offline time to be saved", |w| {
        contains(
            &all_file_bytes(w.config_dir.path()),
            "\"printer_offline_after_s\": 30",
        )
    });

    w.click("Remove Prusa bay 4");
    w.step_until("the printer to be gone", |w| {
        !w.app()
            .state()
            .printers
            .iter()
            .any(|p| p.config.name == "Prusa bay 4")
    });
    let list = cli.ok(&["printers", "list", "--json"]);
    assert!(!list.stdout.contains("Prusa bay 4"), "{}", list.stdout);
    assert!(list.stdout.contains("Voron"), "{}", list.stdout);
}

const SERIAL: &str = "01S00C555444333";
const CODE: &str = "16180339";

#[test]
fn a_bambu_printer_not_signed_by_bambu_is_shown_to_trust_before_it_is_pinned() {
    require_secret_service();
    let broker = Mosquitto::start(SERIAL, CODE);
    let runtime = runtime();
    let mut printer = runtime.block_on(broker.printer());
    // The printer answers every request for its state, as a real one does.
    runtime.spawn(async move {
        while let Some(request) = printer.next_request(Duration::from_secs(600)).await {
            if request.contains("pushall") {
                printer
                    .report(r#"{"print":{"command":"push_status","gcode_state":"IDLE","print_error":0,"hms":[]}}"#)
                    .await;
            }
        }
    });
    let mut w = Window::open_with("ui-trust", runtime, EngineOptions::from_env());
    w.click("Configure");
    w.open_section("Printers");
    w.wait_for_text("No printers yet: add one below.");
    w.type_into("Printer name", "X1C bay 3");
    w.type_into("Printer address", &broker.address());
    w.type_into("Serial (Settings › Device)", SERIAL);
    w.type_into("LAN access code (Settings › Network on the printer)", CODE);
    w.click("Add printer");
    w.wait_for_text("Trust this certificate");
    assert!(w.shows("is not signed by Bambu Lab"));
    assert!(w.shows(&format_fingerprint(&broker.fingerprint)));
    assert!(
        w.app().state().printers.is_empty(),
        "not added before it is trusted"
    );
    // Not trusted: nothing is saved, the form is still filled.
    w.click("Do not trust it");
    assert_eq!(w.value_of("Printer name"), "X1C bay 3");
    assert!(!contains(&all_file_bytes(w.config_dir.path()), "X1C bay 3"));

    w.click("Add printer");
    w.wait_for_text("Trust this certificate");
    w.click("Trust this certificate");
    w.step_until("the printer to be watched and connected", |w| {
        w.app()
            .state()
            .printers
            .iter()
            .any(|p| p.config.name == "X1C bay 3" && p.connected)
    });
    let files = all_file_bytes(w.config_dir.path());
    assert!(
        contains(&files, &broker.fingerprint),
        "the fingerprint is pinned"
    );
    assert!(
        !contains(&files, CODE),
        "the access code is in the keyring only"
    );
}
