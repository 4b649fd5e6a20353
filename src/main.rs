use std::process::ExitCode;

use clap::Parser;
use farmhook::cli::Cli;

fn main() -> ExitCode {
    // Before any thread starts (see its doc).
    farmhook::ui::learn_local_offset();
    let mut cli = Cli::parse();
    let Some(command) = cli.command.take() else {
        return farmhook::ui::run(cli.profile, cli.config_dir);
    };
    let runtime = match farmhook::engine::new_runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("farmhook: {e}");
            return ExitCode::from(2);
        }
    };
    runtime.block_on(farmhook::cli::run(cli, command))
}
