//! The Printers section of the real window: adding a printer through the
//! form (its key only in the keyring), seeing it watched live with its
//! link state, the tile's count, a printer the command line added, and
//! Remove.

use crate::support::{Farmhook, all_file_bytes, contains, require_secret_service};
use crate::ui_support::Window;

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

    w.click("Remove Prusa bay 2");
    w.step_until("the printer to be gone", |w| {
        !w.app()
            .state()
            .printers
            .iter()
            .any(|p| p.config.name == "Prusa bay 2")
    });
    let list = cli.ok(&["printers", "list", "--json"]);
    assert!(!list.stdout.contains("Prusa bay 2"), "{}", list.stdout);
    assert!(list.stdout.contains("Voron"), "{}", list.stdout);
}
