//! The command line's arguments, as clap parses them: every command and
//! flag defined once, with its help text. Secrets given as arguments are
//! `SecretString`s, so `Debug` never shows them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use secrecy::SecretString;

use crate::core::printers::PrinterKind;
use crate::core::settings::Channel;

/// farmhook: notifications for a 3D-print farm (Discord, Slack, Telegram,
/// Pushover, a custom webhook), from its own printers or a virtual farm.
#[derive(Debug, Parser)]
#[command(name = "farmhook", version = crate::build_info::VERSION_LINE, about)]
pub struct Cli {
    /// Which profile to use.
    #[arg(
        long,
        global = true,
        default_value = "default",
        env = "FARMHOOK_PROFILE",
        value_name = "NAME"
    )]
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
    /// The Slack incoming webhook.
    #[command(subcommand)]
    Slack(SlackCommand),
    /// A Telegram bot posting in a chat.
    #[command(subcommand)]
    Telegram(TelegramCommand),
    /// Pushover notifications to a phone.
    #[command(subcommand)]
    Pushover(PushoverCommand),
    /// The custom HTTPS webhook (Commercial plan).
    #[command(subcommand)]
    Webhook(WebhookCommand),
    /// Which events are sent.
    #[command(subcommand)]
    Events(EventsCommand),
    /// The printers farmhook watches.
    #[command(subcommand)]
    Printers(PrintersCommand),
    /// Watch every printer and deliver their events through each channel's
    /// selection, until Ctrl-C or SIGTERM.
    Watch {
        /// One JSON object per line: each link change, event and delivery.
        #[arg(long)]
        json: bool,
        /// Tell a printer offline after this many seconds without it (and
        /// count this long a silence as gone); 5 to 3600. Default: the
        /// settings' (`farmhook printers offline-after`), else 60.
        #[arg(long, value_name = "SECS",
              value_parser = clap::value_parser!(u32).range(5..=3600))]
        offline_after: Option<u32>,
    },
    /// Switch the account plan.
    Plan { plan: PlanArg },
    /// Send a test event now (to configured destinations, enabled or not).
    TestFire {
        /// The event to send (default job.failed).
        event: Option<String>,
        /// A channel id, or `all` (every channel that is set up).
        #[arg(long, default_value = "all", value_parser = parse_test_to, value_name = "CHANNEL|all")]
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

/// Where `test-fire` sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestTo {
    One(Channel),
    All,
}

fn parse_test_to(text: &str) -> Result<TestTo, String> {
    if text == "all" {
        return Ok(TestTo::All);
    }
    parse_channel(text).map(TestTo::One)
}

/// A channel by its id, or the list of ids to choose from.
pub fn parse_channel(text: &str) -> Result<Channel, String> {
    Channel::from_id(text).ok_or_else(|| {
        let ids: Vec<&str> = Channel::ALL.iter().map(|c| c.id()).collect();
        format!("'{text}' is not a channel; choose {}", ids.join(", "))
    })
}

/// What every channel's subcommand offers besides setting its secrets.
#[derive(Debug, Subcommand)]
pub enum ChannelCommand {
    /// Forget where it sends (the URL or token); it is turned off.
    Clear,
    Enable,
    Disable,
    /// Ask the service what the saved secret points at (posts nothing;
    /// Discord, Telegram and Pushover).
    Verify,
    /// Send again after it was paused for failing.
    Resume,
}

#[derive(Debug, Subcommand)]
pub enum DiscordCommand {
    /// Store the webhook URL in the keyring (`-` reads it from stdin:
    /// `farmhook discord set-url - < url.txt`, so it stays out of shell history).
    SetUrl { url: SecretString },
    #[command(flatten)]
    Common(ChannelCommand),
}

#[derive(Debug, Subcommand)]
pub enum SlackCommand {
    /// Store the incoming-webhook URL in the keyring (`-` reads it from
    /// stdin: `farmhook slack set-url - < url.txt`).
    SetUrl { url: SecretString },
    #[command(flatten)]
    Common(ChannelCommand),
}

#[derive(Debug, Subcommand)]
pub enum TelegramCommand {
    /// Store the bot token from @BotFather, read from stdin:
    /// `farmhook telegram set-token - < token.txt`.
    SetToken { value: SecretString },
    /// The chat to post in: its id (`-1001234567890`) or `@channelname`.
    SetChat {
        #[arg(allow_hyphen_values = true)]
        chat: String,
    },
    /// List the chats that wrote to the bot (send /start to it first);
    /// `--use N` chooses the Nth.
    FindChat {
        #[arg(long = "use", value_name = "N")]
        choose: Option<usize>,
    },
    #[command(flatten)]
    Common(ChannelCommand),
}

#[derive(Debug, Subcommand)]
pub enum PushoverCommand {
    /// Store the application's API token (pushover.net/apps), read from
    /// stdin: `farmhook pushover set-token - < token.txt`.
    SetToken { value: SecretString },
    /// Store your user key (or a group key), read from stdin:
    /// `farmhook pushover set-user - < user.txt`.
    SetUser { value: SecretString },
    #[command(flatten)]
    Common(ChannelCommand),
}

#[derive(Debug, Subcommand)]
pub enum PrintersCommand {
    /// Add a printer: `bambu --name N --host H[:P] --serial S --access-code -`,
    /// or `octoprint|moonraker --name N --url U [--api-key -]`. It is
    /// connected to once (a Bambu printer's certificate is pinned when it
    /// is not Bambu's own) unless `--no-check`.
    Add(AddPrinterArgs),
    /// The printers, with their live state while `watch` or the window
    /// runs, else the last known.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Change a printer: `edit NAME [--name NEW] [--host H[:P] | --url U]
    /// [--serial S] [--access-code - | --api-key -] [--fingerprint SHA256 |
    /// --repin]`. What is not given stays as it was (the access code or key
    /// too). It is connected to once unless `--no-check`.
    Edit(EditPrinterArgs),
    /// Stop watching a printer and forget its access code or key.
    Remove { name: String },
    /// Connect to a printer, read one status and print it.
    Test { name: String },
    /// After how many seconds without news a printer is told offline
    /// (5 to 3600; 60 unless chosen). `watch` and the window use it.
    OfflineAfter {
        #[arg(value_parser = clap::value_parser!(u32).range(5..=3600))]
        seconds: u32,
    },
}

#[derive(Debug, Args)]
pub struct EditPrinterArgs {
    /// The printer's name now.
    pub printer: String,
    /// A new name.
    #[arg(long)]
    pub name: Option<String>,
    /// Bambu: a new IP address or host name, with `:port` if not 8883.
    #[arg(long)]
    pub host: Option<String>,
    /// OctoPrint, Moonraker: a new base URL.
    #[arg(long)]
    pub url: Option<String>,
    /// Bambu: a new serial.
    #[arg(long)]
    pub serial: Option<String>,
    /// Bambu: `-` reads a new LAN access code from stdin.
    #[arg(long = "access-code", value_name = "-")]
    pub access_code: Option<SecretString>,
    /// OctoPrint, Moonraker: `-` reads a new API key from stdin.
    #[arg(long = "api-key", value_name = "-")]
    pub api_key: Option<SecretString>,
    /// Bambu: pin this certificate fingerprint instead of the pinned one.
    #[arg(long, value_name = "SHA256", conflicts_with = "repin")]
    pub fingerprint: Option<String>,
    /// Bambu: forget the pinned certificate and pin the one the printer
    /// shows now.
    #[arg(long)]
    pub repin: bool,
    /// Save it without connecting now.
    #[arg(long)]
    pub no_check: bool,
}

#[derive(Debug, Args)]
pub struct AddPrinterArgs {
    /// bambu, octoprint or moonraker.
    #[arg(value_parser = parse_printer_kind)]
    pub kind: PrinterKind,
    #[arg(long)]
    pub name: String,
    /// Bambu: the printer's IP address or host name, with `:port` if not 8883.
    #[arg(long)]
    pub host: Option<String>,
    /// OctoPrint, Moonraker: the base URL, like http://octopi.local.
    #[arg(long)]
    pub url: Option<String>,
    /// Bambu: the serial (Settings › Device on the printer).
    #[arg(long)]
    pub serial: Option<String>,
    /// Bambu: `-` reads the LAN access code from stdin.
    #[arg(long = "access-code", value_name = "-")]
    pub access_code: Option<SecretString>,
    /// OctoPrint (needed), Moonraker (if it asks for one): `-` reads the API key from stdin.
    #[arg(long = "api-key", value_name = "-")]
    pub api_key: Option<SecretString>,
    /// Bambu: pin this certificate fingerprint (SHA-256, 64 hex digits,
    /// colons allowed) instead of the one the printer shows when added.
    #[arg(long, value_name = "SHA256")]
    pub fingerprint: Option<String>,
    /// Add it without connecting now.
    #[arg(long)]
    pub no_check: bool,
}

fn parse_printer_kind(text: &str) -> Result<PrinterKind, String> {
    PrinterKind::parse(text).map_err(|e| e.to_string())
}

#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Store the endpoint in the keyring (https://, or http:// on loopback;
    /// `-` reads it from stdin, so a token in it stays out of shell history).
    SetUrl { url: SecretString },
    #[command(flatten)]
    Common(ChannelCommand),
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
    /// List the events, grouped, and which channels send them.
    List {
        /// Show these channels only (default: all).
        #[arg(long, value_delimiter = ',', value_name = "CHANNEL", value_parser = parse_channel)]
        to: Vec<Channel>,
    },
    /// Tick events (ids, group names such as `jobs` or `orders`, or `all`).
    Enable(EventsArgs),
    /// Untick events (ids, group names, or `all`).
    Disable(EventsArgs),
}

#[derive(Debug, Args)]
pub struct EventsArgs {
    #[arg(required = true, value_name = "ID|GROUP|all")]
    pub events: Vec<String>,
    /// Change these channels only (`--to discord --to webhook` or
    /// `--to discord,webhook`; default: every channel).
    #[arg(long, value_delimiter = ',', value_name = "CHANNEL", value_parser = parse_channel)]
    pub to: Vec<Channel>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PlanArg {
    Free,
    Commercial,
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

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
