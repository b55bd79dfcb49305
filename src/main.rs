//! The `kubectl-feast` binary: parse, run, map the error to a message and an exit code.

use std::process::ExitCode;

use kubectl_feast::cli::Cli;

fn main() -> ExitCode {
    kubectl_feast::redact::install_panic_hook();
    end_quietly_on_a_closed_pipe();
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

/// Dies quietly when the reader of stdout (or stderr) goes away (`kubectl feast status -A |
/// head`), as kubectl and other Unix tools do: killed by SIGPIPE, not a crash report.
///
/// Rust ignores SIGPIPE, and it stays ignored so that a socket whose peer went away is an error
/// (hyper writes with writev, which has no MSG_NOSIGNAL). So a write to a closed pipe fails
/// instead, and `print!` panics on it; this hook, ahead of the crash report, ends the process
/// the way the signal's default action would.
fn end_quietly_on_a_closed_pipe() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        #[cfg(unix)]
        if message.starts_with("failed printing to std")
            && message.contains(&std::io::Error::from_raw_os_error(libc::EPIPE).to_string())
        {
            die_of_sigpipe();
        }
        #[cfg(not(unix))]
        let _ = message;
        report(info);
    }));
}

#[cfg(unix)]
fn die_of_sigpipe() {
    // SAFETY: SIG_DFL is a valid action, and raise only signals this process; the default
    // action of SIGPIPE ends it here.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        libc::raise(libc::SIGPIPE);
    }
    // 128 + SIGPIPE, the status a shell shows for a process the signal ended.
    std::process::exit(141);
}
