//! The `kubectl-feast` binary: parse, run, map the error to a message and an exit code.

use std::process::ExitCode;

use kubectl_feast::cli::Cli;

fn main() -> ExitCode {
    restore_sigpipe();
    kubectl_feast::redact::install_panic_hook();
    let cli = Cli::parse_args();
    match kubectl_feast::run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let context = cli.global.context.as_deref();
            // Secrets out (src/redact.rs) once more: a message may have been built from data
            // read after the error was made.
            let shown = |t: &str| {
                let t = kubectl_feast::redact::text(t);
                kubectl_feast::render::term::safe(&t, false).into_owned()
            };
            for e in e.all().filter(|e| !e.reported) {
                eprintln!("error: {}", shown(&e.message));
                for hint in &e.hints {
                    // Its commands reach the cluster the command was about.
                    eprintln!(
                        "hint: {}",
                        shown(&hint.clone().in_context(context).to_string())
                    );
                }
            }
            ExitCode::from(e.exit_code())
        }
    }
}

/// Dies quietly when the reader of stdout goes away (`kubectl feast status -A | head`), as
/// kubectl and other Unix tools do, instead of panicking on the failed write: Rust ignores
/// SIGPIPE by default, this puts back the default action.
fn restore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any thread exists; SIG_DFL is a valid action.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
