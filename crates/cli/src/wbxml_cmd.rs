//! `easd wbxml decode|encode` (owned by the WBXML work; placeholder).

use clap::Subcommand;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum WbxmlCommand {
    /// WBXML (raw, hex or base64) to indented XML.
    Decode { file: Option<String> },
    /// XML to WBXML.
    Encode { file: Option<String> },
}

pub fn run(_cmd: WbxmlCommand) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not yet implemented")
}
