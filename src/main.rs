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
            // One context: every hint's commands carry it. Several: each has its own.
            let context = match cli.global.context.as_slice() {
                [one] if !one.contains(',') => Some(one.as_str()),
                _ => None,
            };
            kubectl_feast::print_error(&e, context);
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
