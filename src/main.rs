//! The `kubectl-feast` binary: parse, run, map the error to a message and an exit code.

use std::process::ExitCode;

use clap::Parser;
use kubectl_feast::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match kubectl_feast::run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if !e.reported {
                eprintln!("error: {e}");
                if let Some(hint) = &e.hint {
                    eprintln!("hint: {hint}");
                }
            }
            ExitCode::from(e.exit_code())
        }
    }
}
