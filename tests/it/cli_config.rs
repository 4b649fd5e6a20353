//! The configuration command line against the real binary, a temp config dir
//! and a real Secret Service (see scripts/test.sh).

use crate::support::{Farmhook, all_file_bytes, contains, require_secret_service};

const TOKEN: &str = "Zx9-Ab_cdEFghIJklMNopQRstUVwxYZ0123456789abcdefghijklmnopqrstuvwxy";

fn discord_url() -> String {
    format!("https://discord.com/api/webhooks/112233445566778899/{TOKEN}")
}

#[test]
fn generated_key_is_masked_revealed_on_request_and_kept_only_in_the_keyring() {
    require_secret_service();
    let dir = tempfile::tempdir().unwrap();
    let fh = Farmhook::new(dir.path(), "key");
    let generated = fh.ok(&["webhook", "key", "generate"]);
    assert!(generated.stdout.contains("••••…"), "{}", generated.stdout);

    let shown = fh.ok(&["webhook", "key", "show"]);
    let revealed = fh.ok(&["webhook", "key", "show", "--reveal"]);
    let key = revealed.stdout.strip_suffix('\n').unwrap();
    assert_eq!(key.len(), 48, "{key:?}");
    assert!(key.bytes().all(|b| b.is_ascii_alphanumeric()));
    assert!(shown.stdout.contains(&format!("••••…{}", &key[44..])));
    assert!(!shown.stdout.contains(key));

    // The key is in the Secret Service under service "farmhook"...
    let entry =
        keyring::Entry::new("farmhook", &format!("{}/webhook-api-key", fh.profile)).unwrap();
    assert_eq!(entry.get_password().unwrap(), key);
    // ...and in no file, nor in status.
    fh.ok(&["plan", "commercial"]);
    let status = fh.ok(&["status", "--json"]);
    assert!(!status.stdout.contains(key));
    assert!(!contains(&all_file_bytes(dir.path()), key));
    assert!(!contains(&all_file_bytes(dir.path()), &key[..16]));
}

#[test]
fn discord_url_from_stdin_is_stored_normalised_and_never_shown() {
    require_secret_service();
    let dir = tempfile::tempdir().unwrap();
    let fh = Farmhook::new(dir.path(), "discord");
    let pasted = format!(
        "  {}\r\n",
        discord_url().replace("discord.com/api/", "discordapp.com/api/v9/")
    );
    let set = fh.run_with_stdin(&["discord", "set-url", "-"], &pasted);
    assert_eq!(set.code, 0, "{}", set.stderr);
    assert!(!set.stdout.contains(TOKEN));
    fh.ok(&["discord", "enable"]);
    let status = fh.ok(&["status", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(json["discord"]["enabled"], true);
    assert_eq!(
        json["discord"]["url"],
        "https://discord.com/api/v10/webhooks/112233445566778899/••••••"
    );
    assert_eq!(json["keyring"]["reachable"], true);
    let text = fh.ok(&["status"]).stdout;
    for shown in [&status.stdout, &text] {
        assert!(
            !shown.contains(TOKEN) && !shown.contains(&TOKEN[..10]),
            "{shown}"
        );
    }
    assert!(!contains(&all_file_bytes(dir.path()), &TOKEN[..20]));
    let entry =
        keyring::Entry::new("farmhook", &format!("{}/discord-webhook-url", fh.profile)).unwrap();
    assert_eq!(
        entry.get_password().unwrap(),
        format!("https://discord.com/api/v10/webhooks/112233445566778899/{TOKEN}")
    );

    fh.ok(&["discord", "clear"]);
    let json: serde_json::Value =
        serde_json::from_str(&fh.ok(&["status", "--json"]).stdout).unwrap();
    assert_eq!(json["discord"]["enabled"], false);
    assert!(json["discord"]["url"].is_null());
}

#[test]
fn every_bad_input_exits_2_with_a_sentence() {
    require_secret_service();
    let dir = tempfile::tempdir().unwrap();
    let fh = Farmhook::new(dir.path(), "bad");
    let long_key_with_crlf = format!("{}\r\nX-Evil: yes\n", "k".repeat(40));
    let cases: Vec<(Vec<&str>, &str, &str)> = vec![
        (
            vec![
                "discord",
                "set-url",
                "https://discord.com.evil.tld/api/webhooks/1/abc",
            ],
            "",
            "host",
        ),
        (
            vec![
                "discord",
                "set-url",
                "http://discord.com/api/webhooks/1/abc",
            ],
            "",
            "https://",
        ),
        (
            vec!["discord", "set-url", "https://discord.com/api/webhooks/123"],
            "",
            "token is missing",
        ),
        (
            vec!["discord", "set-url", "-"],
            "https://discord.com/api/webhooks/12x/abc\n",
            "digits",
        ),
        (
            vec!["discord", "enable"],
            "",
            "no Discord webhook URL is saved yet",
        ),
        (
            vec!["webhook", "set-url", "http://example.com/in"],
            "",
            "https://",
        ),
        (
            vec!["webhook", "set-url", "https://user:pw@example.com/in"],
            "",
            "user name",
        ),
        (vec!["webhook", "enable"], "", "no endpoint URL"),
        (
            vec![
                "webhook",
                "set-url",
                "https://discord.com/api/webhooks/1/abcdef",
            ],
            "",
            "set it up under the Discord channel",
        ),
        (
            vec!["webhook", "set-url", "-"],
            "https://hooks.slack.com/services/T000/B000/XXXXXXXX\n",
            "Slack",
        ),
        (
            vec![
                "webhook",
                "set-url",
                "https://api.telegram.org/bot1:abc/sendMessage",
            ],
            "",
            "Telegram",
        ),
        (
            vec![
                "webhook",
                "set-url",
                "https://api.pushover.net/1/messages.json",
            ],
            "",
            "Pushover",
        ),
        (
            vec!["webhook", "key", "set", "-"],
            "tooshort\n",
            "at least 32",
        ),
        (
            vec!["webhook", "key", "set", "-"],
            &long_key_with_crlf,
            "line break",
        ),
        (
            vec![
                "webhook",
                "key",
                "set",
                "abcdefghijklmnopqrstuvwxyz0123456789",
            ],
            "",
            "stdin",
        ),
        (vec!["webhook", "key", "show"], "", "no API key"),
        (vec!["events", "enable", "job.exploded"], "", "not an event"),
        (
            vec!["events", "disable", "--to", "teams", "all"],
            "",
            "'teams' is not a channel",
        ),
        (vec!["plan", "enterprise"], "", "enterprise"),
    ];
    for (args, stdin, words) in cases {
        let run = fh.run_with_stdin(&args, stdin);
        assert_eq!(run.code, 2, "{args:?}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains(words),
            "{args:?}: stderr lacks {words:?}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
    // A key that was refused was not stored.
    assert_eq!(fh.run(&["webhook", "key", "show"]).code, 2);

    let bad_profile = crate::support::Farmhook {
        profile: "../etc".into(),
        ..Farmhook::new(dir.path(), "x")
    };
    let run = bad_profile.run(&["status"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("profile name"), "{}", run.stderr);
}

#[test]
fn key_from_stdin_keeps_inner_characters_and_drops_one_newline() {
    require_secret_service();
    let dir = tempfile::tempdir().unwrap();
    let fh = Farmhook::new(dir.path(), "stdin");
    let key = "Custom-Key_0123456789:abcdefghijklmnop!";
    let run = fh.run_with_stdin(&["webhook", "key", "set", "-"], &format!("{key}\r\n"));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        fh.ok(&["webhook", "key", "show", "--reveal"]).stdout,
        format!("{key}\n")
    );
    // Two newlines: the second stays, and is refused.
    let run = fh.run_with_stdin(&["webhook", "key", "set", "-"], &format!("{key}\n\n"));
    assert_eq!(run.code, 2);
}

#[test]
fn custom_webhook_on_free_is_stored_inactive_and_says_so() {
    require_secret_service();
    let dir = tempfile::tempdir().unwrap();
    let fh = Farmhook::new(dir.path(), "free");
    let set = fh.ok(&[
        "webhook",
        "set-url",
        "https://hooks.example.com/in?token=abc",
    ]);
    assert!(set.stderr.contains("Commercial"), "{}", set.stderr);
    assert!(!set.stdout.contains("token=abc"));
    let enable = fh.ok(&["webhook", "enable"]);
    assert!(
        enable.stderr.contains("generated an API key"),
        "{}",
        enable.stderr
    );
    assert!(enable.stderr.contains("inactive"), "{}", enable.stderr);
    let json: serde_json::Value =
        serde_json::from_str(&fh.ok(&["status", "--json"]).stdout).unwrap();
    assert_eq!(json["webhook"]["enabled"], true);
    assert_eq!(json["webhook"]["active"], false);
    assert_eq!(json["webhook"]["url"], "https://hooks.example.com/…");
    fh.ok(&["plan", "commercial"]);
    let json: serde_json::Value =
        serde_json::from_str(&fh.ok(&["status", "--json"]).stdout).unwrap();
    assert_eq!(json["webhook"]["active"], true);
}

#[test]
fn events_are_shared_unless_a_destination_is_named() {
    require_secret_service();
    let dir = tempfile::tempdir().unwrap();
    let fh = Farmhook::new(dir.path(), "events");
    fh.ok(&["events", "disable", "all"]);
    fh.ok(&["events", "enable", "job.failed", "printer.offline"]);
    fh.ok(&["events", "enable", "--to", "webhook", "job.succeeded"]);
    let json: serde_json::Value =
        serde_json::from_str(&fh.ok(&["status", "--json"]).stdout).unwrap();
    assert_eq!(
        json["discord"]["events"],
        serde_json::json!(["job.failed", "printer.offline"])
    );
    assert_eq!(
        json["webhook"]["events"],
        serde_json::json!(["job.succeeded", "job.failed", "printer.offline"])
    );
    let list = fh.ok(&["events", "list"]).stdout;
    let failed = list
        .lines()
        .find(|l| l.trim_start().starts_with("job.failed"))
        .unwrap();
    assert!(list.contains("Orders (orders):"), "{list}");
    assert!(failed.contains("yes") && !failed.contains("no"), "{failed}");
}

#[test]
fn a_corrupt_settings_file_is_moved_aside_with_a_notice() {
    require_secret_service();
    let dir = tempfile::tempdir().unwrap();
    let fh = Farmhook::new(dir.path(), "corrupt");
    fh.ok(&["plan", "commercial"]);
    let file = dir
        .path()
        .join("profiles")
        .join(format!("{}.json", fh.profile));
    std::fs::write(&file, b"{\"plan\": \"commercial\",\xff garbage").unwrap();
    let status = fh.ok(&["status"]);
    assert!(status.stdout.contains("moved to"), "{}", status.stdout);
    let moved: Vec<_> = std::fs::read_dir(file.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".corrupt-"))
        .collect();
    assert_eq!(moved.len(), 1);
    assert_eq!(
        std::fs::read(moved[0].path()).unwrap(),
        b"{\"plan\": \"commercial\",\xff garbage"
    );
}

#[test]
fn without_a_secret_service_the_error_says_what_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let bus = crate::support::BareBus::start();
    let fh = Farmhook::new(dir.path(), "nosecrets").env("DBUS_SESSION_BUS_ADDRESS", &bus.address);
    let run = fh.run_with_stdin(&["discord", "set-url", "-"], &discord_url());
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("no Secret Service is running"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("gnome-keyring"), "{}", run.stderr);
    assert!(!run.stderr.contains(TOKEN));
    // Nothing fell back to a file.
    assert!(!contains(&all_file_bytes(dir.path()), &TOKEN[..20]));
    // Status still answers, and names the problem.
    let status = fh.ok(&["status"]);
    assert!(
        status.stdout.contains("UNREACHABLE: no Secret Service"),
        "{}",
        status.stdout
    );
}

#[test]
fn without_a_session_bus_the_error_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let fh = Farmhook::new(dir.path(), "nobus").env(
        "DBUS_SESSION_BUS_ADDRESS",
        "unix:path=/nonexistent/farmhook-bus",
    );
    let run = fh.run(&["webhook", "key", "generate"]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("D-Bus session bus"), "{}", run.stderr);
    assert!(!contains(&all_file_bytes(dir.path()), "whsec_"));
}

#[test]
fn the_endpoint_url_lives_in_the_keyring_and_is_shown_as_scheme_and_host() {
    require_secret_service();
    let dir = tempfile::tempdir().unwrap();
    let fh = Farmhook::new(dir.path(), "endpoint");
    let url = "https://ha.example.com/api/webhook/ha-secret-id-123456?token=query-secret-987654";
    let set = fh.run_with_stdin(&["webhook", "set-url", "-"], &format!("{url}\n"));
    assert_eq!(set.code, 0, "{}", set.stderr);
    assert!(
        set.stdout.contains("https://ha.example.com/…"),
        "{}",
        set.stdout
    );
    fh.ok(&["plan", "commercial"]);
    fh.ok(&["webhook", "enable"]);
    let status = fh.ok(&["status", "--json"]).stdout;
    let json: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(json["webhook"]["url"], "https://ha.example.com/…");
    assert_eq!(json["webhook"]["active"], true);
    let text = fh.ok(&["status"]).stdout;
    let entry =
        keyring::Entry::new("farmhook", &format!("{}/webhook-endpoint-url", fh.profile)).unwrap();
    assert_eq!(entry.get_password().unwrap(), url);
    let files = all_file_bytes(dir.path());
    for secret in ["ha-secret-id-123456", "query-secret-987654"] {
        assert!(!contains(&files, secret), "{secret} is in a file");
        assert!(!status.contains(secret) && !text.contains(secret));
        assert!(!set.stdout.contains(secret) && !set.stderr.contains(secret));
    }
    // Forgetting it turns the custom webhook off.
    fh.ok(&["webhook", "clear"]);
    let json: serde_json::Value =
        serde_json::from_str(&fh.ok(&["status", "--json"]).stdout).unwrap();
    assert!(json["webhook"]["url"].is_null());
    assert_eq!(json["webhook"]["enabled"], false);
    assert!(matches!(entry.get_password(), Err(keyring::Error::NoEntry)));
}

#[test]
fn an_endpoint_in_an_old_settings_file_moves_to_the_keyring() {
    require_secret_service();
    let dir = tempfile::tempdir().unwrap();
    let fh = Farmhook::new(dir.path(), "legacy");
    let profiles = dir.path().join("profiles");
    std::fs::create_dir_all(&profiles).unwrap();
    let file = profiles.join(format!("{}.json", fh.profile));
    let url = "https://n8n.example.com/webhook/legacy-secret-abcdef123";
    std::fs::write(
        &file,
        format!(
            r#"{{"schema_version":1,"plan":"commercial","webhook":{{"enabled":true,"url":"{url}","signing":false}}}}"#
        ),
    )
    .unwrap();
    let status = fh.ok(&["status", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(json["webhook"]["url"], "https://n8n.example.com/…");
    assert_eq!(json["webhook"]["enabled"], true);
    assert!(
        status
            .stdout
            .contains("moved from the settings file into the keyring"),
        "{}",
        status.stdout
    );
    assert!(
        !std::fs::read_to_string(&file)
            .unwrap()
            .contains("legacy-secret")
    );
    let entry =
        keyring::Entry::new("farmhook", &format!("{}/webhook-endpoint-url", fh.profile)).unwrap();
    assert_eq!(entry.get_password().unwrap(), url);
    // Said once: the next run finds nothing to move.
    assert!(!fh.ok(&["status"]).stdout.contains("moved"));

    // A Discord URL kept as a custom endpoint by an older farmhook is
    // removed (it would get the API key) and the webhook turned off.
    let fh = Farmhook::new(dir.path(), "legacy-discord");
    let file = profiles.join(format!("{}.json", fh.profile));
    std::fs::write(
        &file,
        format!(
            r#"{{"plan":"commercial","webhook":{{"enabled":true,"url":"{}"}}}}"#,
            discord_url()
        ),
    )
    .unwrap();
    let status = fh.ok(&["status", "--json"]).stdout;
    let json: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert!(json["webhook"]["url"].is_null());
    assert_eq!(json["webhook"]["enabled"], false);
    assert!(status.contains("Discord"), "{status}");
    assert!(!status.contains(TOKEN));
    assert!(!std::fs::read_to_string(&file).unwrap().contains(TOKEN));
}

#[test]
fn an_endpoint_in_an_old_file_stays_put_while_the_keyring_is_out_of_reach() {
    let dir = tempfile::tempdir().unwrap();
    let bus = crate::support::BareBus::start();
    let fh =
        Farmhook::new(dir.path(), "legacy-nokeyring").env("DBUS_SESSION_BUS_ADDRESS", &bus.address);
    let profiles = dir.path().join("profiles");
    std::fs::create_dir_all(&profiles).unwrap();
    let file = profiles.join(format!("{}.json", fh.profile));
    let url = "https://n8n.example.com/webhook/kept-secret-abcdef123";
    std::fs::write(
        &file,
        format!(r#"{{"plan":"commercial","webhook":{{"enabled":true,"url":"{url}"}}}}"#),
    )
    .unwrap();
    let status = fh.run(&["status"]);
    assert!(
        status.stdout.contains("still in the settings file"),
        "{}{}",
        status.stdout,
        status.stderr
    );
    assert!(!status.stdout.contains("kept-secret"));
    // A change made meanwhile keeps it in the file: nothing is lost.
    fh.ok(&["events", "disable", "job.started"]);
    assert!(std::fs::read_to_string(&file).unwrap().contains(url));
}

#[test]
fn events_take_group_names_and_new_channels_start_with_jobs_and_printers() {
    require_secret_service();
    let dir = tempfile::tempdir().unwrap();
    let fh = Farmhook::new(dir.path(), "groups");
    let json: serde_json::Value =
        serde_json::from_str(&fh.ok(&["status", "--json"]).stdout).unwrap();
    let ids = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_str().unwrap().to_string())
            .collect()
    };
    let fresh = ids(&json["discord"]["events"]);
    assert_eq!(fresh.len(), 9, "{fresh:?}");
    assert!(
        fresh
            .iter()
            .all(|id| id.starts_with("job.") || id.starts_with("printer."))
    );

    fh.ok(&[
        "events",
        "enable",
        "orders",
        "material.usage_recorded",
        "--to",
        "webhook",
    ]);
    fh.ok(&["events", "disable", "printers"]);
    let json: serde_json::Value =
        serde_json::from_str(&fh.ok(&["status", "--json"]).stdout).unwrap();
    let webhook = ids(&json["webhook"]["events"]);
    assert_eq!(
        webhook,
        [
            "job.started",
            "job.succeeded",
            "job.failed",
            "job.cancelled",
            "order.created_manual",
            "order.created_retail",
            "order.cancelled",
            "order.closed",
            "order.auto_printed",
            "material.usage_recorded"
        ]
    );
    assert_eq!(ids(&json["discord"]["events"]).len(), 4);
    // One channel's list, and several channels named at once.
    let list = fh.ok(&["events", "list", "--to", "webhook"]).stdout;
    assert!(list.lines().next().unwrap().ends_with("webhook"), "{list}");
    assert!(!list.contains("discord"), "{list}");
    let orders = list
        .lines()
        .find(|l| l.trim_start().starts_with("order.closed"))
        .unwrap();
    assert!(orders.ends_with("yes"), "{orders}");
    fh.ok(&["events", "enable", "maintenance", "--to", "discord,webhook"]);
    let json: serde_json::Value =
        serde_json::from_str(&fh.ok(&["status", "--json"]).stdout).unwrap();
    for channel in ["discord", "webhook"] {
        assert!(ids(&json[channel]["events"]).contains(&"maintenance.overdue".to_string()));
    }
    let bad = fh.run(&["events", "enable", "printerz"]);
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr.contains("or a group: jobs, printers"),
        "{}",
        bad.stderr
    );
}
/// Eight commands at once, each changing a different event: every change is
/// kept, round after round (without the lock some were lost).
#[test]
fn commands_run_at_once_never_lose_each_others_changes() {
    require_secret_service();
    let dir = tempfile::tempdir().unwrap();
    let fh = Farmhook::new(dir.path(), "parallel");
    let ids: Vec<&str> = farmhook::core::events::EventType::all()
        .map(|e| e.id())
        .collect();
    assert!(ids.len() >= 8);
    let all = serde_json::json!(ids);
    let none = serde_json::json!([]);
    // A new profile ticks only some groups: start from everything.
    fh.ok(&["events", "enable", "all"]);
    let rounds = [
        ("disable", "discord", &none, &all),
        ("disable", "webhook", &none, &none),
        ("enable", "discord", &all, &none),
        ("enable", "webhook", &all, &all),
    ];
    for (verb, to, discord, webhook) in rounds {
        let children: Vec<_> = ids
            .iter()
            .map(|id| {
                fh.command(&["events", verb, id, "--to", to])
                    .stdin(std::process::Stdio::null())
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .expect("the farmhook binary starts")
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "events {verb} --to {to} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let status: serde_json::Value =
            serde_json::from_str(&fh.ok(&["status", "--json"]).stdout).unwrap();
        assert_eq!(&status["discord"]["events"], discord, "after {verb} {to}");
        assert_eq!(&status["webhook"]["events"], webhook, "after {verb} {to}");
    }
    let list = fh.ok(&["events", "list"]).stdout;
    assert_eq!(
        list.lines().filter(|l| l.ends_with("yes      yes")).count(),
        ids.len(),
        "{list}"
    );
}

/// Run with `umask 000`, farmhook still makes every folder 0700 and every
/// file 0600; folders and files an older version left looser are tightened.
#[cfg(unix)]
#[test]
fn files_and_folders_are_the_users_alone_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    require_secret_service();
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("config");
    let fh = Farmhook::new(&config, "modes");
    let with_umask_000 = |args: &[&str]| {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(r#"umask 000; exec "$0" "$@""#)
            .arg(env!("CARGO_BIN_EXE_farmhook"))
            .arg("--profile")
            .arg(&fh.profile)
            .arg("--config-dir")
            .arg(&config)
            .args(args)
            .env_remove("FARMHOOK_DISCORD_API_BASE")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "farmhook {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    with_umask_000(&["events", "disable", "job.failed"]);
    // Resume writes the health journal.
    with_umask_000(&["discord", "resume"]);
    with_umask_000(&["plan", "commercial"]);

    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let mut seen = Vec::new();
    let mut stack = vec![config.clone()];
    while let Some(dir) = stack.pop() {
        assert_eq!(mode(&dir), 0o700, "{}", dir.display());
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                assert_eq!(mode(&path), 0o600, "{}", path.display());
                seen.push(path.file_name().unwrap().to_string_lossy().into_owned());
            }
        }
    }
    seen.sort();
    let p = &fh.profile;
    assert_eq!(
        seen,
        [
            format!("{p}.health.jsonl"),
            format!("{p}.json"),
            format!("{p}.json.lock")
        ],
        "no temp file is left behind"
    );

    // What an older farmhook left readable by others is tightened.
    let profiles = config.join("profiles");
    let loosen = |p: &std::path::Path, m: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap()
    };
    loosen(&profiles, 0o755);
    loosen(&profiles.join(format!("{p}.json")), 0o644);
    loosen(&profiles.join(format!("{p}.health.jsonl")), 0o644);
    fh.ok(&["events", "enable", "job.failed"]);
    assert_eq!(mode(&profiles), 0o700);
    assert_eq!(mode(&profiles.join(format!("{p}.json"))), 0o600);
    assert_eq!(mode(&profiles.join(format!("{p}.health.jsonl"))), 0o600);
}

/// While another process holds the profile's lock, a change waits, then
/// gives up in words (exit 2) rather than hanging, and changes nothing.
#[test]
fn a_change_that_cannot_get_the_lock_fails_in_words() {
    require_secret_service();
    let dir = tempfile::tempdir().unwrap();
    let fh = Farmhook::new(dir.path(), "busy");
    fh.ok(&["events", "disable", "job.failed"]);
    let settings = dir
        .path()
        .join("profiles")
        .join(format!("{}.json", fh.profile));
    let before = std::fs::read(&settings).unwrap();
    let lock = std::fs::File::options()
        .write(true)
        .open(settings.with_extension("json.lock"))
        .unwrap();
    lock.lock().unwrap();
    let run = fh.run(&["plan", "commercial"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("being changed by another farmhook process"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read(&settings).unwrap(), before);
    drop(lock);
    fh.ok(&["plan", "commercial"]);
}
