//! With no Secret Service, the window says so plainly and disables every
//! secret field instead of keeping a secret anywhere else. Its own test
//! binary: the keyring's store starts once per process.

mod support;
mod ui_support;

use ui_support::Window;

#[test]
fn keyring_banner_appears_and_secret_fields_are_disabled() {
    // SAFETY: the first thing this process does, before any thread or
    // keyring call exists; no other test runs in this binary.
    unsafe { std::env::set_var("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent") };

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
    assert!(w.is_disabled("Test Discord"));

    // On Commercial the endpoint is a secret too (its path or query often
    // carries a token): nothing secret can be set without the keyring.
    w.click("Go to Account");
    w.click("Commercial 💎");
    w.click("Configure");
    assert!(w.is_disabled("Endpoint URL"));
    assert!(w.is_disabled("Generate key"));
    assert!(w.is_disabled("Customize…"));
    assert!(w.is_disabled("Generate signing secret"));
    assert!(w.is_disabled("Enable the custom webhook"));
    assert!(w.shows("The API key and signing secret are disabled"));
    w.harness.check_accessibility();
}
