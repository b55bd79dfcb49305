//! `kubectl feast autoscale` (being built: see its issue).

use clap::Args;

use crate::cli::GlobalArgs;
use crate::error::{Error, Result};

#[derive(Debug, Args)]
pub struct AutoscaleArgs {
    /// FeatureStore name(s)
    pub names: Vec<String>,
}

pub async fn run(_args: &AutoscaleArgs, _global: &GlobalArgs) -> Result<()> {
    Err(Error::incomplete(
        "`kubectl feast autoscale` is not available in this build yet",
    ))
}
