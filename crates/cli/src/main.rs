//! The `easd` binary: subcommands that call the server, engine and store crates.

mod bench;
mod bench_import;
mod demo;
mod device;
mod doctor;
mod eas_client;
mod import;
mod probe;
mod selftest;
mod top;
mod user;
mod wbxml_cmd;

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "easd", version, about = "An Exchange ActiveSync server")]
struct Cli {
    /// Data directory (store, TLS certificate, logs, easd.toml).
    #[arg(long, global = true, env = "EASD_DATA", default_value = "./easd-data")]
    data: PathBuf,
    /// Configuration file (default: easd.toml in the data directory).
    #[arg(long, global = true, env = "EASD_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Run the server on a demo data dir with a demo user and sample mail.
    Demo(demo::DemoArgs),
    /// Manage accounts.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Deliver one RFC 5322 message to a local account (works beside a running server).
    Deliver {
        /// Recipient address.
        #[arg(long)]
        to: String,
        /// The message file, or - for standard input.
        file: Option<String>,
    },
    /// Import .ics, .vcf, .eml, mbox, .txt files and Maildir trees into an account.
    Import(import::ImportArgs),
    /// Write a folder's items as one .ics, .vcf or mbox file.
    Export(import::ExportArgs),
    /// Decode and encode WBXML (captures from device logs, Fiddler, Wireshark).
    #[command(subcommand)]
    Wbxml(wbxml_cmd::WbxmlCommand),
    /// Load generators for a running server on loopback (`bench ping`: parked Pings) and
    /// `bench import` (10,000 contacts and events into a fresh data dir).
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Device partnerships: list, show, allow/block/quarantine, remove, wipe.
    #[command(subcommand)]
    Device(device::DeviceCommand),
    /// Device access rules (Allow/Block/Quarantine by type, model, OS, user agent).
    #[command(subcommand)]
    Rule(device::RuleCommand),
    /// Mailbox logging per device: enable, disable, show, export.
    #[command(subcommand)]
    Log(device::LogCommand),
    /// Security policies (MS-ASPROV): list, show, set, assign.
    #[command(subcommand)]
    Policy(device::PolicyCommand),
    /// Check that URLs answer (200/401/407) and how fast; `--interval` keeps watching.
    Probe(probe::ProbeArgs),
    /// Find configuration, proxy and device problems, each with its fix.
    Doctor(doctor::DoctorArgs),
    /// Live view of a running server: parked Pings, requests/s, slowest devices, errors.
    Top(top::TopArgs),
    /// The six-message test (send, delete, move, read between two devices) against a server.
    Selftest(selftest::SelftestArgs),
}

#[derive(clap::Args, Clone, Default)]
pub struct ServeArgs {
    /// Plain HTTP listener, e.g. 127.0.0.1:8080 ("" disables it).
    #[arg(long)]
    http: Option<String>,
    /// HTTPS listener, e.g. 0.0.0.0:8443 ("" disables it).
    #[arg(long)]
    https: Option<String>,
    /// LMTP listener for an MTA's final delivery.
    #[arg(long)]
    lmtp: Option<String>,
    /// Plain SMTP listener for local setups.
    #[arg(long)]
    smtp: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Wbxml(cmd) => wbxml_cmd::run(cmd),
        Command::Bench(cmd) => bench::run(&cli.data, cmd),
        Command::Device(cmd) => device::run_device(&cli.data, cmd),
        Command::Rule(cmd) => device::run_rule(&cli.data, cmd),
        Command::Log(cmd) => device::run_log(&cli.data, cmd),
        Command::Policy(cmd) => device::run_policy(&cli.data, cmd),
        Command::Probe(args) => probe::run(args),
        Command::Doctor(args) => doctor::run(&cli.data, cli.config.as_deref(), args),
        Command::Top(args) => top::run(&cli.data, cli.config.as_deref(), args),
        Command::Selftest(args) => selftest::run(args),
        Command::Serve(args) => {
            runtime().and_then(|rt| rt.block_on(serve(&cli.data, cli.config.as_deref(), args)))
        }
        Command::Demo(args) => {
            runtime().and_then(|rt| rt.block_on(demo::run(cli.config.as_deref(), args)))
        }
        Command::User(cmd) => user::run(&cli.data, cmd),
        Command::Import(args) => import::run_import(&cli.data, args),
        Command::Export(args) => import::run_export(&cli.data, args),
        Command::Deliver { to, file } => deliver(&cli.data, &to, file.as_deref()),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("easd: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("EASD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

pub fn load_config(
    data: &Path,
    config: Option<&Path>,
    args: &ServeArgs,
) -> anyhow::Result<easd_server::config::Config> {
    let mut c = easd_server::load_config(data, config)?;
    let set = |slot: &mut String, v: &Option<String>| {
        if let Some(v) = v {
            *slot = v.clone();
        }
    };
    set(&mut c.http_listen, &args.http);
    set(&mut c.https_listen, &args.https);
    set(&mut c.lmtp_listen, &args.lmtp);
    set(&mut c.smtp_listen, &args.smtp);
    Ok(c)
}

async fn serve(data: &Path, config: Option<&Path>, args: ServeArgs) -> anyhow::Result<ExitCode> {
    init_logging();
    // One descriptor per parked Ping: allow as many as the hard limit does.
    match bench::raise_nofile_limit() {
        Ok((soft, _)) => tracing::info!("open-file limit: {soft}"),
        Err(e) => tracing::warn!(error = %e, "could not raise the open-file limit"),
    }
    bench::return_big_allocations();
    let config = load_config(data, config, &args)?;
    let server = start(config, data.to_owned()).await?;
    wait_for_signal().await;
    tracing::info!("shutting down: answering parked requests");
    server.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

/// Starts the server and logs where it listens.
pub async fn start(
    config: easd_server::config::Config,
    data: PathBuf,
) -> anyhow::Result<easd_server::Server> {
    let server = easd_server::Server::start(config, data.clone()).await?;
    let b = &server.bound;
    if let Some(fp) = &b.tls_fingerprint {
        tracing::info!("TLS certificate SHA-256 fingerprint: {fp}");
    }
    let show =
        |a: Option<std::net::SocketAddr>| a.map(|a| a.to_string()).unwrap_or_else(|| "off".into());
    tracing::info!(
        "easd ready: http={} https={} lmtp={} smtp={} data={}",
        show(b.http),
        show(b.https),
        show(b.lmtp),
        show(b.smtp),
        data.display()
    );
    Ok(server)
}

pub async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Opens the store of a data dir for a one-shot command.
pub fn open_store(data: &Path) -> anyhow::Result<easd_store::SqliteStore> {
    std::fs::create_dir_all(data).with_context(|| format!("creating {}", data.display()))?;
    easd_store::SqliteStore::open_data_dir(data)
        .with_context(|| format!("opening the store in {}", data.display()))
}

fn read_input(file: Option<&str>) -> anyhow::Result<Vec<u8>> {
    use std::io::Read;
    match file {
        None | Some("-") => {
            let mut buf = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buf)
                .context("reading standard input")?;
            Ok(buf)
        }
        Some(path) => std::fs::read(path).with_context(|| format!("reading {path}")),
    }
}

fn deliver(data: &Path, to: &str, file: Option<&str>) -> anyhow::Result<ExitCode> {
    use easd_store::Store;
    let raw = read_input(file)?;
    let store = open_store(data)?;
    let config = easd_server::load_config(data, None)?;
    if raw.len() > config.max_message_bytes {
        anyhow::bail!(
            "message is {} bytes; the limit is {}",
            raw.len(),
            config.max_message_bytes
        );
    }
    let address = to.trim().to_lowercase();
    let account = store
        .account_by_address(&address)?
        .with_context(|| format!("no local account for {to}"))?;
    let item = easd_engine::delivery::deliver_blocking(&store, account.id, raw)?;
    println!("delivered to {} as {}", account.email, item.server_id);
    Ok(ExitCode::SUCCESS)
}
