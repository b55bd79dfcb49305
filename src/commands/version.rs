//! `kubectl feast version`.

use serde_json::json;

use crate::cli::{GlobalArgs, OutputFormat};
use crate::error::Result;
use crate::render;

pub fn run(global: &GlobalArgs) -> Result<()> {
    let version = env!("CARGO_PKG_VERSION");
    match global.output_in("version", &[OutputFormat::Json, OutputFormat::Yaml])? {
        Some(OutputFormat::Json) => print!("{}", render::json(&json!({"pluginVersion": version}))?),
        Some(_) => print!("{}", render::yaml(&json!({"pluginVersion": version}))?),
        None => println!("kubectl-feast {version}"),
    }
    Ok(())
}
