//! `kubectl feast status` (being built: see its issue).

use clap::Args;

use crate::cli::GlobalArgs;
use crate::error::{Error, Result};

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// FeatureStore name(s)
    pub names: Vec<String>,
}

pub async fn run(_args: &StatusArgs, _global: &GlobalArgs) -> Result<()> {
    Err(Error::incomplete(
        "`kubectl feast status` is not available in this build yet",
    ))
}
