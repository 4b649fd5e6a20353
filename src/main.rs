use std::process::ExitCode;

use clap::Parser;
use farmhook::cli::Cli;

fn main() -> ExitCode {
    let mut cli = Cli::parse();
    let Some(command) = cli.command.take() else {
        return farmhook::ui::run(cli.profile, cli.config_dir);
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("farmhook: could not start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    runtime.block_on(farmhook::cli::run(cli, command))
}
