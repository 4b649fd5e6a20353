//! `farmhook simulate` against the Discord stand-in and a loopback endpoint:
//! every selected event is delivered, nothing unselected is, and a network
//! outage burst costs at most one 429.

use std::collections::BTreeSet;

use crate::support::discord_stand_in::DiscordStandIn;
use crate::support::endpoint::{Behaviour, Endpoint};
use crate::support::{Farmhook, require_secret_service};

#[tokio::test(flavor = "multi_thread")]
async fn a_network_outage_on_fifty_printers_delivers_every_selected_event() {
    require_secret_service();
    let stand_in = DiscordStandIn::start().await;
    let endpoint = Endpoint::start(Behaviour::Status(204)).await;
    let dir = tempfile::tempdir().unwrap();
    let fh =
        Farmhook::new(dir.path(), "sim").env("FARMHOOK_DISCORD_API_BASE", &stand_in.api_base());
    assert_eq!(
        fh.run_with_stdin(&["discord", "set-url", "-"], &stand_in.webhook_url())
            .code,
        0
    );
    fh.ok(&["discord", "enable"]);
    fh.ok(&["plan", "commercial"]);
    fh.ok(&["webhook", "set-url", &endpoint.url()]);
    fh.ok(&["webhook", "enable"]);
    // Everything but: Discord does not want job.started; the webhook does
    // not want printer.online.
    fh.ok(&["events", "enable", "all"]);
    fh.ok(&["events", "disable", "--to", "discord", "job.started"]);
    fh.ok(&["events", "disable", "--to", "webhook", "printer.online"]);

    let fh2 = fh.clone();
    let run = tokio::task::spawn_blocking(move || {
        fh2.run(&[
            "simulate",
            "--printers",
            "50",
            "--scenario",
            "network-outage",
            "--speed",
            "10",
            "--duration",
            "2",
            "--json",
        ])
    })
    .await
    .unwrap();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let lines: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let summary = &lines.last().unwrap()["summary"];
    assert!(summary["events"].as_u64().unwrap() >= 80, "{summary}");
    assert_eq!(summary["failed"], 0);
    assert!(summary["responses_429"].as_u64().unwrap() <= 1, "{summary}");

    let ids = |destination: &str, outcome: &str| -> BTreeSet<(String, String)> {
        lines
            .iter()
            .filter(|l| l["destination"] == destination && l["outcome"] == outcome)
            .flat_map(|l| l["events"].as_array().unwrap().clone())
            .map(|e| {
                (
                    e["type"].as_str().unwrap().to_string(),
                    e["id"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let discord_sent = ids("discord", "delivered");
    let discord_filtered = ids("discord", "filtered");
    let webhook_sent = ids("webhook", "delivered");
    let webhook_filtered = ids("webhook", "filtered");
    assert!(discord_sent.iter().any(|(t, _)| t == "printer.offline"));
    assert!(discord_sent.iter().all(|(t, _)| t != "job.started"));
    assert!(
        discord_filtered.iter().all(|(t, _)| t == "job.started") && !discord_filtered.is_empty()
    );
    assert!(webhook_sent.iter().all(|(t, _)| t != "printer.online"));
    assert!(
        webhook_filtered.iter().all(|(t, _)| t == "printer.online") && !webhook_filtered.is_empty()
    );

    // What the servers got is exactly what was selected: no loss, no extra.
    let at_discord: BTreeSet<String> = stand_in
        .received()
        .iter()
        .flat_map(|m| m.body["embeds"].as_array().unwrap().clone())
        .map(|e| {
            e["footer"]["text"]
                .as_str()
                .unwrap()
                .rsplit(' ')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    let expected: BTreeSet<String> = discord_sent.iter().map(|(_, id)| id.clone()).collect();
    assert_eq!(at_discord, expected);
    let at_endpoint: BTreeSet<String> = endpoint
        .requests()
        .iter()
        .map(|r| r.header("webhook-id").unwrap().to_string())
        .collect();
    let expected: BTreeSet<String> = webhook_sent.iter().map(|(_, id)| id.clone()).collect();
    assert_eq!(at_endpoint, expected);
    assert!(stand_in.count_429() <= 1);

    // The health shows the run.
    let status = fh.ok(&["status", "--json"]).stdout;
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert!(
        status["health"]["discord"]["deliveries_last_hour"]
            .as_u64()
            .unwrap()
            >= 1
    );
    assert_eq!(status["health"]["webhook"]["success_rate"], 1.0);
}

#[test]
fn bad_simulator_arguments_exit_2_with_a_sentence() {
    let dir = tempfile::tempdir().unwrap();
    let fh = Farmhook::new(dir.path(), "sim-bad");
    for (args, words) in [
        (
            vec!["simulate", "--scenario", "meteor-strike"],
            "not a scenario",
        ),
        (vec!["simulate", "--printers", "0"], "printers"),
        (vec!["simulate", "--speed", "1000"], "speed"),
        (vec!["simulate", "--duration", "0"], "duration"),
    ] {
        let run = fh.run(&args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(words), "{args:?}: {}", run.stderr);
    }
}
