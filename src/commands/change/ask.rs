//! What the change flow asks the user: one confirmation for every risk, and the answers a
//! planner needs ([`Question`]). On a terminal only; without one, the flags that answer.

use std::io::IsTerminal;

use super::out::Out;
use crate::error::{Error, Result};
use crate::featurestore::RESOURCE;
use crate::plan::{Answers, Question, Risk};

fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Asks once for every risk on a terminal; without one, `--yes` is required.
pub fn confirm(out: &Out, command: &str, risks: &[(String, Risk)], yes: bool) -> Result<()> {
    for (name, risk) in risks {
        out.risk(name, &risk.message);
    }
    if yes {
        return Ok(());
    }
    let mut stores: Vec<String> = risks
        .iter()
        .map(|(name, _)| format!("{RESOURCE}/{name}"))
        .collect();
    stores.dedup();
    let stores = stores.join(", ");
    if !interactive() {
        return Err(Error::refused(format!(
            "the change to {stores} needs confirmation and there is no terminal to ask on; nothing was sent"
        ))
        .with_hint(format!(
            "read the warnings above, then re-run `kubectl feast {command}` with --yes to confirm"
        )));
    }
    let answer = off_the_runtime(|| yes_no(&format!("Apply this change to {stores}?")));
    match answer {
        Ok(Answer::Yes) => Ok(()),
        Ok(Answer::No) => Err(Error::refused(format!(
            "cancelled at the prompt; nothing was sent to {stores}"
        ))),
        Ok(Answer::Interrupted) => Err(Error::refused(format!(
            "cancelled at the prompt (Ctrl-C); nothing was sent to {stores}"
        ))),
        Err(e) => Err(Error::incomplete(format!(
            "cannot ask for confirmation of the change to {stores}: {e}"
        ))
        .with_hint(format!(
            "re-run `kubectl feast {command}` with --yes to confirm without a prompt"
        ))),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Yes,
    No,
    Interrupted,
}

/// A blocking prompt, run where it does not hold up the runtime's other tasks (a worker thread
/// handed over with `block_in_place`) when the runtime has workers; on the one-thread runtime the
/// commands run on, nothing else is to be done while a person answers.
fn off_the_runtime<T>(f: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}

/// `PROMPT [y/N] ` on stderr, answered by one key: `y` yes; `n`, Enter, Esc, `q` and Ctrl-D no;
/// Ctrl-C cancels. The key is read raw, so Ctrl-C is a key here, not a signal that would kill the
/// process mid-prompt, and the cursor is never hidden: however the prompt ends, the terminal is
/// left as it was.
fn yes_no(prompt: &str) -> std::io::Result<Answer> {
    use dialoguer::console::{Key, Term};
    let term = Term::stderr();
    term.write_str(&format!("{prompt} [y/N] "))?;
    let answer = loop {
        match term.read_key_raw() {
            Ok(Key::Char('y' | 'Y')) => break Answer::Yes,
            Ok(Key::Char('n' | 'N' | 'q' | '\u{4}') | Key::Enter | Key::Escape) => {
                break Answer::No;
            }
            Ok(Key::CtrlC) => break Answer::Interrupted,
            // End of input is a "no", as kubectl's prompts read it.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break Answer::No,
            Err(e) => return Err(e),
            Ok(_) => {}
        }
    };
    let shown = match answer {
        Answer::Yes => "yes",
        Answer::No => "no",
        Answer::Interrupted => "^C",
    };
    term.write_line(shown)?;
    Ok(answer)
}

/// Asks a planner's question and records the answer.
pub fn answer(question: &Question, answers: &mut Answers) -> Result<()> {
    match question {
        Question::ReplicasAfterAutoscaling { store } => {
            answers.replicas = Some(replicas_after_autoscaling(store)?);
        }
    }
    Ok(())
}

fn replicas_after_autoscaling(name: &str) -> Result<i64> {
    let missing = || {
        Error::refused(format!(
            "cannot tell how many replicas {RESOURCE}/{name} runs now (no status.scalingStatus, and the Deployment feast-{name} could not be read); turning autoscaling off without a count would drop it to 1 pod"
        ))
        .with_hint("give the count to keep with --replicas N")
    };
    if !interactive() {
        return Err(missing());
    }
    off_the_runtime(|| {
        dialoguer::Input::<i64>::new()
            .with_prompt(format!(
                "How many replicas should {name} keep once autoscaling is off?"
            ))
            .validate_with(|n: &i64| {
                if *n >= 1 {
                    Ok(())
                } else {
                    Err("1 or more (the CRD's minimum)")
                }
            })
            .interact_text()
    })
    .map_err(|_| missing())
}
