//! The command line: parsed here into plain values, then run against the
//! same engine the window uses. Exit codes: 0 done, 1 a delivery failed,
//! 2 bad input or configuration (the reason on stderr).

mod args;
mod delivery;
mod output;
mod printers;
mod status_text;

pub use args::*;
pub use status_text::status_text;

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use secrecy::{ExposeSecret, SecretString};

use crate::core::api_base::ApiBases;
use crate::core::channels::{discord, pushover, slack, telegram, webhook};
use crate::core::events::{EventType, Group};
use crate::core::input::strip_one_trailing_newline;
use crate::core::profile::ProfileName;
use crate::core::settings::{Channel, Plan};
use crate::engine::config_store::ConfigStore;
use crate::engine::profile::{Notes, Profile, ProfileError};
use output::{note, outln};

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
pub(crate) fn value_or_stdin(value: &str) -> Result<String, CliError> {
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
                set_secret(&profile, &discord::URL_SECRET, url).await?;
            }
            DiscordCommand::Common(cmd) => run_channel(&profile, Channel::Discord, cmd).await?,
        },
        Command::Slack(cmd) => match cmd {
            SlackCommand::SetUrl { url } => {
                set_secret(&profile, &slack::URL_SECRET, url).await?;
            }
            SlackCommand::Common(cmd) => run_channel(&profile, Channel::Slack, cmd).await?,
        },
        Command::Telegram(cmd) => match cmd {
            TelegramCommand::SetToken { value } => {
                set_secret_from_stdin(
                    &profile,
                    &telegram::TOKEN_SECRET,
                    value,
                    "telegram set-token",
                )
                .await?;
            }
            TelegramCommand::SetChat { chat } => {
                print_notes(&profile.set_chat(Some(&chat)).await?);
                outln!("Telegram: posts in chat {chat}")?;
            }
            TelegramCommand::FindChat { choose } => delivery::find_chat(&profile, choose).await?,
            TelegramCommand::Common(cmd) => run_channel(&profile, Channel::Telegram, cmd).await?,
        },
        Command::Pushover(cmd) => match cmd {
            PushoverCommand::SetToken { value } => {
                set_secret_from_stdin(
                    &profile,
                    &pushover::TOKEN_SECRET,
                    value,
                    "pushover set-token",
                )
                .await?;
            }
            PushoverCommand::SetUser { value } => {
                set_secret_from_stdin(&profile, &pushover::USER_SECRET, value, "pushover set-user")
                    .await?;
            }
            PushoverCommand::Common(cmd) => run_channel(&profile, Channel::Pushover, cmd).await?,
        },
        Command::Webhook(cmd) => run_webhook(&profile, cmd).await?,
        Command::TestFire { event, to, json } => {
            let id = event.unwrap_or_else(|| "job.failed".into());
            let event = EventType::from_id(&id).map_err(|e| CliError::input(e.to_string()))?;
            delivery::test_fire(&profile, event, to, json).await?
        }
        Command::Receive { port } => delivery::receive(&profile, port).await?,
        Command::Printers(cmd) => printers::run(&profile, cmd).await?,
        Command::Watch {
            json,
            offline_after,
        } => printers::watch(&profile, json, offline_after).await?,
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
            EventsCommand::List { to } => {
                let settings = profile.load().await?;
                print_notes(&settings.notice.into_iter().collect());
                let s = settings.settings;
                let channels = chosen(&to);
                let mut head = format!("{:<34}{:<28}", "id", "label");
                for d in &channels {
                    head.push_str(&format!("{:<9}", d.id()));
                }
                outln!("{}", head.trim_end())?;
                for group in Group::ALL {
                    outln!("{} ({}):", group.label(), group.id())?;
                    for e in group.events() {
                        let mut line = format!("  {:<32}{:<28}", e.id(), e.label());
                        for &d in &channels {
                            let mark = if s.events(d).contains(e) { "yes" } else { "no" };
                            line.push_str(&format!("{mark:<9}"));
                        }
                        outln!("{}", line.trim_end())?;
                    }
                }
            }
            EventsCommand::Enable(args) => set_events(&profile, args, true).await?,
            EventsCommand::Disable(args) => set_events(&profile, args, false).await?,
        },
    }
    Ok(())
}

/// The channels named with `--to`, in their usual order; every one when
/// none is named.
fn chosen(named: &[Channel]) -> Vec<Channel> {
    Channel::ALL
        .into_iter()
        .filter(|d| named.is_empty() || named.contains(d))
        .collect()
}

async fn set_events(profile: &Profile, args: EventsArgs, on: bool) -> Result<(), CliError> {
    let events = parse_events(&args.events)?;
    let destinations = chosen(&args.to);
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

/// `<channel> set-url|set-token …`: one of a channel's secrets, from the
/// argument or (`-`) stdin, into the keyring.
async fn set_secret(
    profile: &Profile,
    kind: crate::engine::secret_store::SecretKind,
    value: SecretString,
) -> Result<(), CliError> {
    let (shown, notes) = profile
        .set_secret(kind, &value_or_stdin(value.expose_secret())?)
        .await?;
    print_notes(&notes);
    let words = kind.words;
    outln!("{words} saved in the keyring: {shown}")?;
    Ok(())
}

/// A token or key, which must come on stdin (`-`): arguments land in shell
/// history and `ps`.
async fn set_secret_from_stdin(
    profile: &Profile,
    kind: crate::engine::secret_store::SecretKind,
    value: SecretString,
    command: &str,
) -> Result<(), CliError> {
    if value.expose_secret() != "-" {
        return Err(CliError::input(format!(
            "give the {} on stdin, not as an argument (arguments land in shell history and `ps`): \
             `farmhook {command} - < file.txt`",
            kind.words
        )));
    }
    set_secret(profile, kind, value).await
}

/// `<channel> clear`: forgets where the channel sends and turns it off.
async fn clear_channel(profile: &Profile, channel: Channel) -> Result<(), CliError> {
    print_notes(&profile.clear_channel(channel).await?);
    outln!(
        "{}: removed from the keyring; {} is off",
        channel.label(),
        channel.label()
    )?;
    Ok(())
}

/// What every channel's subcommand does besides setting its secrets.
async fn run_channel(
    profile: &Profile,
    channel: Channel,
    cmd: ChannelCommand,
) -> Result<(), CliError> {
    let label = channel.label();
    match cmd {
        ChannelCommand::Clear => clear_channel(profile, channel).await?,
        ChannelCommand::Enable | ChannelCommand::Disable => {
            let on = matches!(cmd, ChannelCommand::Enable);
            print_notes(&profile.set_enabled(channel, on).await?);
            outln!("{label}: {}", if on { "enabled" } else { "disabled" })?;
        }
        ChannelCommand::Verify => delivery::verify(profile, channel).await?,
        ChannelCommand::Resume => {
            profile.resume(channel).await?;
            outln!("{label}: resumed")?;
        }
    }
    Ok(())
}

async fn run_webhook(profile: &Profile, cmd: WebhookCommand) -> Result<(), CliError> {
    match cmd {
        WebhookCommand::SetUrl { url } => {
            set_secret(profile, &webhook::ENDPOINT_SECRET, url).await?;
        }
        WebhookCommand::Common(cmd) => run_channel(profile, Channel::Webhook, cmd).await?,
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
