//! The `easd` binary: subcommands that call the server, engine and store crates.

mod wbxml_cmd;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "easd", version, about = "An Exchange ActiveSync server")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Decode and encode WBXML (captures from device logs, Fiddler, Wireshark).
    #[command(subcommand)]
    Wbxml(wbxml_cmd::WbxmlCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Wbxml(cmd) => wbxml_cmd::run(cmd),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("easd: {e:#}");
            ExitCode::FAILURE
        }
    }
}
