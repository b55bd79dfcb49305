//! `kubectl feast pdb` (being built: see its issue).

use clap::Args;

use crate::cli::GlobalArgs;
use crate::error::{Error, Result};

#[derive(Debug, Args)]
pub struct PdbArgs {
    /// FeatureStore name(s)
    pub names: Vec<String>,
}

pub async fn run(_args: &PdbArgs, _global: &GlobalArgs) -> Result<()> {
    Err(Error::incomplete(
        "`kubectl feast pdb` is not available in this build yet",
    ))
}
