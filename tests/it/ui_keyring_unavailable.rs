//! With no Secret Service, the window says so plainly and disables every
//! secret field instead of keeping a secret anywhere else.
//!
//! The keyring's store starts once per process, with the session bus it
//! finds then, so this test runs in a child process of this test binary
//! whose session bus points nowhere; the other tests keep the real one.

use crate::ui_support::Window;

/// Set in the child process that runs the test body.
const IN_CHILD: &str = "FARMHOOK_TEST_NO_KEYRING_CHILD";

#[test]
fn keyring_banner_appears_and_secret_fields_are_disabled() {
    if std::env::var_os(IN_CHILD).is_none() {
        let name = "ui_keyring_unavailable::keyring_banner_appears_and_secret_fields_are_disabled";
        let child = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", name, "--test-threads=1"])
            .env(IN_CHILD, "1")
            .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
            .output()
            .expect("the test binary runs itself");
        let out = String::from_utf8_lossy(&child.stdout);
        assert!(
            child.status.success() && out.contains("1 passed"),
            "the test without a keyring failed:\n{out}\n{}",
            String::from_utf8_lossy(&child.stderr)
        );
        return;
    }
    let mut w = Window::open("no-keyring");
    let error = w
        .app()
        .state()
        .secrets
        .keyring_error
        .clone()
        .expect("the engine reports the unreachable keyring");
    assert!(
        error.contains("Secrets are never written to plain files"),
        "{error}"
    );
    w.settle();
    assert!(w.shows(&format!("The OS keyring is unreachable: {error}")));
    assert!(w.shows("Try again"));
    assert!(w.shows("unknown: the keyring is unreachable"));

    w.click("Configure");
    assert!(w.is_disabled("Discord webhook URL"));
    assert!(w.is_disabled("Enable Discord notifications"));
    assert!(w.is_disabled("Verify"));
    w.open_section("Test");
    assert!(w.is_disabled("Test Discord"));

    // On Commercial the endpoint is a secret too (its path or query often
    // carries a token): nothing secret can be set without the keyring.
    w.open_section("Custom webhook 💎");
    w.click("Go to Account");
    w.click("Commercial 💎");
    w.click("Configure");
    w.open_section("Custom webhook 💎");
    assert!(w.is_disabled("Endpoint URL"));
    assert!(w.is_disabled("Generate key"));
    assert!(w.is_disabled("Customize…"));
    assert!(w.is_disabled("Generate signing secret"));
    assert!(w.is_disabled("Enable the custom webhook"));
    assert!(w.shows("The API key and signing secret are disabled"));
    w.harness.check_accessibility();
}
