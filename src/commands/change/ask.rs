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
    let go = dialoguer::Confirm::new()
        .with_prompt(format!("Apply this change to {stores}?"))
        .default(false)
        .interact()
        .map_err(|e| {
            Error::incomplete(format!(
                "cannot ask for confirmation of the change to {stores}: {e}"
            ))
            .with_hint(format!(
                "re-run `kubectl feast {command}` with --yes to confirm without a prompt"
            ))
        })?;
    if go {
        Ok(())
    } else {
        Err(Error::refused(format!(
            "cancelled at the prompt; nothing was sent to {stores}"
        )))
    }
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
        .map_err(|_| missing())
}
