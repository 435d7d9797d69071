//! `twostep`: the twostep core in a terminal, for people and scripts.
//!
//! Every subcommand opens the data directory through the core, does one thing and
//! exits with a code that tells wrong credentials, wrong code, lockouts and network
//! failures apart (see `twostep --help`).

mod args;
mod commands;
mod input;
mod output;
mod time;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    let out = output::Printer { json: cli.json };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("twostep: cannot start the async runtime: {e}");
            return ExitCode::from(output::Exit::Other as u8);
        }
    };
    match runtime.block_on(commands::run(cli, out)) {
        Ok(()) => ExitCode::from(output::Exit::Ok as u8),
        Err(failure) => ExitCode::from(out.failure(&failure) as u8),
    }
}
