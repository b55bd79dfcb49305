//! `kubectl feast scale` (being built: see its issue).

use clap::Args;

use crate::cli::GlobalArgs;
use crate::error::{Error, Result};

#[derive(Debug, Args)]
pub struct ScaleArgs {
    /// FeatureStore name(s)
    pub names: Vec<String>,
}

pub async fn run(_args: &ScaleArgs, _global: &GlobalArgs) -> Result<()> {
    Err(Error::incomplete(
        "`kubectl feast scale` is not available in this build yet",
    ))
}
