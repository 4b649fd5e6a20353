//! The command line: parsed here into plain values, then run against the
//! same engine the window uses. Exit codes: 0 done, 1 a delivery failed,
//! 2 bad input or configuration (the reason on stderr).

mod delivery;
mod output;

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use secrecy::{ExposeSecret, SecretString};

use crate::core::api_base::ApiBases;
use crate::core::events::{EventType, Group};
use crate::core::input::strip_one_trailing_newline;
use crate::core::profile::ProfileName;
use crate::core::settings::{Destination, Plan};
use crate::engine::config_store::ConfigStore;
use crate::engine::profile::{Notes, Profile, ProfileError, Status};
use output::{note, outln};

/// farmhook: Discord and custom-webhook notifications for a 3D-print farm.
#[derive(Debug, Parser)]
#[command(name = "farmhook", version = crate::build_info::VERSION_LINE, about)]
pub struct Cli {
    /// Which profile to use.
    #[arg(long, global = true, default_value = "default", value_name = "NAME")]
    pub profile: String,
    /// Where settings files live (default: the platform's config dir).
    #[arg(long, global = true, env = "FARMHOOK_CONFIG_DIR", value_name = "DIR")]
    pub config_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show what is configured (secrets redacted).
    Status {
        #[arg(long)]
        json: bool,
    },
    /// The Discord webhook.
    #[command(subcommand)]
    Discord(DiscordCommand),
    /// The custom HTTPS webhook (Commercial plan).
    #[command(subcommand)]
    Webhook(WebhookCommand),
    /// Which events are sent.
    #[command(subcommand)]
    Events(EventsCommand),
    /// Switch the account plan.
    Plan { plan: PlanArg },
    /// Send a test event now (to configured destinations, enabled or not).
    TestFire {
        /// The event to send (default job.failed).
        event: Option<String>,
        #[arg(long, value_enum, default_value = "all")]
        to: TestTo,
        /// One JSON object per destination, as each delivery ends.
        #[arg(long)]
        json: bool,
    },
    /// Run a virtual print farm whose events go through your settings.
    Simulate {
        #[arg(long, default_value_t = 10)]
        printers: usize,
        /// ×real time (0.1 to 100).
        #[arg(long, default_value_t = 1.0)]
        speed: f64,
        /// normal-shift, failing-printer, network-outage or flapping-printer.
        #[arg(long, default_value = "normal-shift")]
        scenario: String,
        /// Seconds of real time to run.
        #[arg(long, default_value_t = 60.0)]
        duration: f64,
        /// The same seed gives the same farm.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// One JSON object per finished delivery, then a summary.
        #[arg(long)]
        json: bool,
    },
    /// A local receiver for the custom webhook, for testing.
    Receive {
        #[arg(long, default_value_t = 8787)]
        port: u16,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TestTo {
    Discord,
    Webhook,
    All,
}

#[derive(Debug, Subcommand)]
pub enum DiscordCommand {
    /// Store the webhook URL in the keyring (`-` reads it from stdin:
    /// `farmhook discord set-url - < url.txt`, so it stays out of shell history).
    SetUrl {
        url: SecretString,
    },
    /// Forget the webhook URL.
    Clear,
    Enable,
    Disable,
    /// Ask Discord which webhook the URL is (posts nothing).
    Verify,
    /// Send again after Discord was paused for failing.
    Resume,
}

#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Store the endpoint in the keyring (https://, or http:// on loopback;
    /// `-` reads it from stdin, so a token in it stays out of shell history).
    SetUrl {
        url: SecretString,
    },
    /// Forget the endpoint; the custom webhook is turned off.
    Clear,
    Enable,
    Disable,
    /// Send again after the webhook was paused for failing.
    Resume,
    /// The X-API-Key value.
    #[command(subcommand)]
    Key(KeyCommand),
    /// The optional Standard Webhooks signing secret.
    #[command(subcommand)]
    Signing(SigningCommand),
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Generate a new 48-character key (the receiver must be updated).
    Generate,
    /// Set your own key, read from stdin: `farmhook webhook key set - < key.txt`.
    Set {
        value: SecretString,
    },
    /// Show the key masked, or alone on stdout with --reveal.
    Show {
        #[arg(long)]
        reveal: bool,
    },
    Clear,
}

#[derive(Debug, Subcommand)]
pub enum SigningCommand {
    /// Generate a signing secret and sign every delivery.
    Generate,
    /// Show the secret masked, or alone on stdout with --reveal.
    Show {
        #[arg(long)]
        reveal: bool,
    },
    /// Stop signing and forget the secret.
    Clear,
}

#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// List the events and which destinations send them.
    List,
    /// Tick events (ids or `all`).
    Enable(EventsArgs),
    /// Untick events (ids or `all`).
    Disable(EventsArgs),
}

#[derive(Debug, Args)]
pub struct EventsArgs {
    #[arg(required = true, value_name = "ID|GROUP|all")]
    pub events: Vec<String>,
    /// Change one destination only (default: both).
    #[arg(long)]
    pub to: Option<DestinationArg>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PlanArg {
    Free,
    Commercial,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DestinationArg {
    Discord,
    Webhook,
}

impl From<DestinationArg> for Destination {
    fn from(d: DestinationArg) -> Self {
        match d {
            DestinationArg::Discord => Destination::Discord,
            DestinationArg::Webhook => Destination::Webhook,
        }
    }
}

/// A failure the command line reports: the sentence and the exit code.
/// Code 0 is no failure: the command stopped early because nobody reads its
/// output any more, and ends quietly.
#[derive(Debug)]
pub struct CliError {
    pub code: u8,
    pub message: String,
}

impl CliError {
    pub(crate) fn input(message: impl Into<String>) -> Self {
        CliError {
            code: 2,
            message: message.into(),
        }
    }
}

impl From<std::io::Error> for CliError {
    /// A failed write to stdout: quiet success when the reader went away.
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            CliError {
                code: 0,
                message: String::new(),
            }
        } else {
            CliError::input(format!("could not write the output: {e}"))
        }
    }
}

impl From<ProfileError> for CliError {
    fn from(e: ProfileError) -> Self {
        CliError::input(e.to_string())
    }
}

/// Runs a parsed command; prints results on stdout and notes on stderr.
pub async fn run(cli: Cli, command: Command) -> ExitCode {
    let result = match check_api_bases(&crate::engine::service::api_bases_from_env()) {
        Ok(()) => run_inner(cli, command).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.code == 0 => ExitCode::SUCCESS,
        Err(e) => {
            note!("farmhook: {}", e.message);
            ExitCode::from(e.code)
        }
    }
}

/// Refuses every command while a `FARMHOOK_*_API_BASE` variable is set to
/// something unsafe, and says on one line of stderr where traffic goes
/// while overrides are in force.
fn check_api_bases(bases: &ApiBases) -> Result<(), CliError> {
    if !bases.refused.is_empty() {
        let reasons: Vec<String> = bases.refused.iter().map(|r| r.to_string()).collect();
        return Err(CliError::input(reasons.join("; ")));
    }
    if let Some(line) = bases.note() {
        note!("farmhook: note: {line}");
    }
    Ok(())
}

/// Opens the profile named on the command line.
pub fn open_profile(profile: &str, config_dir: Option<PathBuf>) -> Result<Profile, CliError> {
    let name = ProfileName::parse(profile).map_err(|e| CliError::input(e.to_string()))?;
    let config =
        ConfigStore::locate(config_dir, name).map_err(|e| CliError::input(e.to_string()))?;
    Ok(Profile::new(config))
}

pub(crate) fn print_notes(notes: &Notes) {
    for text in notes {
        note!("farmhook: {text}");
    }
}

/// `-` means stdin: all of it, less one trailing newline.
fn value_or_stdin(value: &str) -> Result<String, CliError> {
    if value != "-" {
        return Ok(value.to_string());
    }
    if std::io::stdin().is_terminal() {
        note!("farmhook: reading the value from stdin: paste it, then press Enter and Ctrl-D");
    }
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| CliError::input(format!("could not read the value from stdin: {e}")))?;
    Ok(strip_one_trailing_newline(&text).to_string())
}

/// Event ids, group names (`jobs`, `printers`, `orders`, `maintenance`,
/// `material`) or `all`, in any mix.
fn parse_events(given: &[String]) -> Result<Vec<EventType>, CliError> {
    if given.iter().any(|g| g == "all") {
        return Ok(EventType::all().collect());
    }
    let mut events = Vec::new();
    for word in given {
        match Group::from_id(word) {
            Some(group) => events.extend(group.events()),
            None => events.push(EventType::from_id(word).map_err(|e| {
                CliError::input(format!(
                    "{e}; or a group: {}",
                    Group::ALL.map(Group::id).join(", ")
                ))
            })?),
        }
    }
    events.sort();
    events.dedup();
    Ok(events)
}

async fn run_inner(cli: Cli, command: Command) -> Result<(), CliError> {
    let profile = open_profile(&cli.profile, cli.config_dir)?;
    match command {
        Command::Status { json } => {
            let status = profile.status().await?;
            if json {
                outln!(
                    "{}",
                    serde_json::to_string_pretty(&status).expect("status always serializes")
                )?;
            } else {
                output::text(&status_text(&status))?;
            }
        }
        Command::Plan { plan } => {
            let plan = match plan {
                PlanArg::Free => Plan::Free,
                PlanArg::Commercial => Plan::Commercial,
            };
            print_notes(&profile.set_plan(plan).await?);
            outln!("plan: {}", plan.label())?;
        }
        Command::Discord(cmd) => match cmd {
            DiscordCommand::SetUrl { url } => {
                let url = profile
                    .set_discord_url(&value_or_stdin(url.expose_secret())?)
                    .await?;
                outln!("Discord webhook saved in the keyring: {url}")?;
            }
            DiscordCommand::Clear => {
                print_notes(&profile.clear_discord_url().await?);
                outln!("Discord webhook removed from the keyring; Discord is off")?;
            }
            DiscordCommand::Enable => {
                print_notes(&profile.set_enabled(Destination::Discord, true).await?);
                outln!("Discord: enabled")?;
            }
            DiscordCommand::Disable => {
                print_notes(&profile.set_enabled(Destination::Discord, false).await?);
                outln!("Discord: disabled")?;
            }
            DiscordCommand::Verify => delivery::verify(&profile).await?,
            DiscordCommand::Resume => {
                profile.resume(Destination::Discord).await?;
                outln!("Discord: resumed")?;
            }
        },
        Command::Webhook(cmd) => run_webhook(&profile, cmd).await?,
        Command::TestFire { event, to, json } => {
            let id = event.unwrap_or_else(|| "job.failed".into());
            let event = EventType::from_id(&id).map_err(|e| CliError::input(e.to_string()))?;
            delivery::test_fire(&profile, event, to, json).await?
        }
        Command::Receive { port } => delivery::receive(&profile, port).await?,
        Command::Simulate {
            printers,
            speed,
            scenario,
            duration,
            seed,
            json,
        } => {
            let scenario = crate::core::simulator::Scenario::from_id(&scenario).ok_or_else(|| {
                CliError::input(format!(
                    "'{scenario}' is not a scenario; choose normal-shift, failing-printer, network-outage or flapping-printer"
                ))
            })?;
            if !(duration.is_finite() && duration > 0.0 && duration <= 86_400.0) {
                return Err(CliError::input(
                    "the duration must be between 0 and 86400 seconds",
                ));
            }
            let settings = crate::engine::simulation::SimulationSettings {
                printers,
                speed,
                scenario,
                seed,
            };
            settings.check().map_err(CliError::input)?;
            delivery::simulate(
                &profile,
                settings,
                std::time::Duration::from_secs_f64(duration),
                json,
            )
            .await?
        }
        Command::Events(cmd) => match cmd {
            EventsCommand::List => {
                let settings = profile.load().await?;
                print_notes(&settings.notice.into_iter().collect());
                let s = settings.settings;
                outln!("{:<34}{:<28}{:<9}webhook", "id", "label", "discord")?;
                for group in Group::ALL {
                    outln!("{} ({}):", group.label(), group.id())?;
                    for e in group.events() {
                        let mark = |d| if s.events(d).contains(e) { "yes" } else { "no" };
                        outln!(
                            "  {:<32}{:<28}{:<9}{}",
                            e.id(),
                            e.label(),
                            mark(Destination::Discord),
                            mark(Destination::Webhook)
                        )?;
                    }
                }
            }
            EventsCommand::Enable(args) => set_events(&profile, args, true).await?,
            EventsCommand::Disable(args) => set_events(&profile, args, false).await?,
        },
    }
    Ok(())
}

async fn set_events(profile: &Profile, args: EventsArgs, on: bool) -> Result<(), CliError> {
    let events = parse_events(&args.events)?;
    let destinations: Vec<Destination> = match args.to {
        Some(d) => vec![d.into()],
        None => Destination::ALL.to_vec(),
    };
    print_notes(&profile.set_events(&destinations, &events, on).await?);
    let names: Vec<_> = destinations.iter().map(|d| d.label()).collect();
    outln!(
        "{} {} event(s) for {}",
        if on { "enabled" } else { "disabled" },
        events.len(),
        names.join(" and ")
    )?;
    Ok(())
}

async fn run_webhook(profile: &Profile, cmd: WebhookCommand) -> Result<(), CliError> {
    match cmd {
        WebhookCommand::SetUrl { url } => {
            let (url, notes) = profile
                .set_webhook_url(&value_or_stdin(url.expose_secret())?)
                .await?;
            print_notes(&notes);
            outln!("endpoint saved in the keyring: {url}")?;
        }
        WebhookCommand::Clear => {
            print_notes(&profile.clear_webhook_url().await?);
            outln!("endpoint removed from the keyring; the custom webhook is off")?;
        }
        WebhookCommand::Enable => {
            print_notes(&profile.set_enabled(Destination::Webhook, true).await?);
            outln!("custom webhook: enabled")?;
        }
        WebhookCommand::Disable => {
            print_notes(&profile.set_enabled(Destination::Webhook, false).await?);
            outln!("custom webhook: disabled")?;
        }
        WebhookCommand::Resume => {
            profile.resume(Destination::Webhook).await?;
            outln!("custom webhook: resumed")?;
        }
        WebhookCommand::Key(KeyCommand::Generate) => {
            let key = profile.generate_api_key().await?;
            outln!(
                "generated a new API key ({key}); update your receiver: `farmhook webhook key show --reveal`"
            )?;
        }
        WebhookCommand::Key(KeyCommand::Set { value }) => {
            if value.expose_secret() != "-" {
                return Err(CliError::input(
                    "give the key on stdin, not as an argument (arguments land in shell history and `ps`): \
                     `farmhook webhook key set - < key.txt`",
                ));
            }
            let key = profile.set_api_key(&value_or_stdin("-")?).await?;
            outln!("API key saved in the keyring ({key})")?;
        }
        WebhookCommand::Key(KeyCommand::Show { reveal }) => match profile
            .secrets()
            .api_key()
            .await
            .map_err(ProfileError::from)?
        {
            Some(key) if reveal => outln!("{}", key.expose())?,
            Some(key) => outln!("{key}  (add --reveal to print the whole key)")?,
            None => {
                return Err(CliError::input(
                    "no API key is set: run `farmhook webhook key generate`",
                ));
            }
        },
        WebhookCommand::Key(KeyCommand::Clear) => {
            print_notes(&profile.clear_api_key().await?);
            outln!("API key removed from the keyring")?;
        }
        WebhookCommand::Signing(SigningCommand::Generate) => {
            let (secret, notes) = profile.generate_signing_secret().await?;
            print_notes(&notes);
            outln!(
                "generated a signing secret ({secret}); deliveries now carry webhook-signature. Give it to your receiver: `farmhook webhook signing show --reveal`"
            )?;
        }
        WebhookCommand::Signing(SigningCommand::Show { reveal }) => {
            match profile
                .secrets()
                .signing_secret()
                .await
                .map_err(ProfileError::from)?
            {
                Some(secret) if reveal => outln!("{}", secret.expose())?,
                Some(secret) => outln!("{secret}  (add --reveal to print the whole secret)")?,
                None => {
                    return Err(CliError::input(
                        "no signing secret is set: run `farmhook webhook signing generate`",
                    ));
                }
            }
        }
        WebhookCommand::Signing(SigningCommand::Clear) => {
            print_notes(&profile.clear_signing_secret().await?);
            outln!("signing secret removed; deliveries are no longer signed")?;
        }
    }
    Ok(())
}

/// The human-readable form of `status`.
pub fn status_text(s: &Status) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let on = |b: bool| if b { "enabled" } else { "disabled" };
    let count = |events: &[&str]| format!("{}/{} events", events.len(), EventType::all().count());
    writeln!(out, "profile:  {} ({})", s.profile, s.config_file).ok();
    writeln!(out, "plan:     {}", s.plan.label()).ok();
    match &s.keyring.error {
        None => writeln!(out, "keyring:  reachable").ok(),
        Some(e) => writeln!(out, "keyring:  UNREACHABLE: {e}").ok(),
    };
    writeln!(
        out,
        "discord:  {}, {}, {}",
        on(s.discord.enabled),
        s.discord.url.as_deref().unwrap_or("no webhook URL"),
        count(&s.discord.events)
    )
    .ok();
    let webhook_state = match (s.webhook.enabled, s.webhook.active) {
        (true, false) => "enabled but inactive (needs the Commercial plan and an endpoint)",
        (enabled, _) => on(enabled),
    };
    writeln!(
        out,
        "webhook:  {}, {}, key {}, signing {}, {}",
        webhook_state,
        s.webhook.url.as_deref().unwrap_or("no endpoint"),
        s.webhook.api_key.as_deref().unwrap_or("not set"),
        if s.webhook.signing { "on" } else { "off" },
        count(&s.webhook.events)
    )
    .ok();
    writeln!(out, "health:   Discord: {}", s.health.discord.summary()).ok();
    writeln!(
        out,
        "          custom webhook: {}",
        s.health.webhook.summary()
    )
    .ok();
    for w in &s.warnings {
        writeln!(out, "warning:  {w}").ok();
    }
    for n in &s.notices {
        writeln!(out, "note:     {n}").ok();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "Ab-cd_EF0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWX";

    #[test]
    fn debug_of_a_parsed_command_never_shows_a_secret_argument() {
        let url = format!("https://discord.com/api/webhooks/123456789012345678/{TOKEN}");
        let key = "k3yK3yk3yK3yk3yK3yk3yK3yk3yK3yk3yK3y";
        for args in [
            vec!["farmhook", "discord", "set-url", url.as_str()],
            vec!["farmhook", "webhook", "key", "set", key],
        ] {
            let cli = Cli::try_parse_from(&args).unwrap();
            let shown = format!("{cli:?} {cli:#?}");
            assert!(!shown.contains(TOKEN) && !shown.contains(key), "{shown}");
            assert!(shown.contains("REDACTED"), "{shown}");
        }
        // The value itself still arrives.
        let cli = Cli::try_parse_from(["farmhook", "discord", "set-url", url.as_str()]).unwrap();
        let Some(Command::Discord(DiscordCommand::SetUrl { url: given })) = cli.command else {
            panic!("parsed as something else");
        };
        assert_eq!(given.expose_secret(), url);
    }
}
