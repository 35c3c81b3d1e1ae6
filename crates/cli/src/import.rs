//! `easd import USER FILE...` and `easd export USER --folder F`.

use anyhow::Context;
use easd_engine::export::{export_folder, folder_named, ExportFormat};
use easd_engine::import::{import_size, ImportReport, Importer};
use easd_store::{Account, Store};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct ImportArgs {
    /// The account (address, or its local part when that is unique).
    user: String,
    /// .ics (events and tasks), .vcf, .eml, mbox, .txt (a note) files and Maildir folders.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Import into this folder (name or ServerId) instead of each class's default folder;
    /// created with the class's type when there is none.
    #[arg(long)]
    folder: Option<String>,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
    /// The summary as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct ExportArgs {
    /// The account (address, or its local part when that is unique).
    user: String,
    /// The folder (name or ServerId).
    #[arg(long)]
    folder: String,
    /// ics, vcf or mbox (default: the folder's class's).
    #[arg(long)]
    format: Option<String>,
    /// The file to write (default: standard output).
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

fn account(store: &dyn Store, user: &str) -> anyhow::Result<Account> {
    easd_engine::delivery::account_for_login(store, user)?
        .with_context(|| format!("no account {user}"))
}

/// A bar on standard error, hidden when that is not a terminal or with --quiet.
fn progress_bar(len: u64, quiet: bool, template: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if quiet || !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

pub fn run_import(data: &Path, args: ImportArgs) -> anyhow::Result<ExitCode> {
    let store = crate::open_store(data)?;
    let account = account(&store, &args.user)?;
    let total: u64 = args.files.iter().map(|f| import_size(f)).sum();
    let bar = progress_bar(
        total,
        args.quiet,
        "{elapsed_precise} [{bar:40}] {percent:>3}% {msg} (eta {eta})",
    );
    let started = Instant::now();
    let report = import_files(
        &store,
        &account,
        &args.files,
        args.folder,
        &mut |bytes, items| {
            bar.inc(bytes);
            bar.set_message(format!("{items} items"));
        },
    )?;
    bar.finish_and_clear();
    let elapsed = started.elapsed();
    if args.json {
        let json = serde_json::json!({
            "classes": report.classes.iter().map(|(class, n)| {
                serde_json::json!({ "class": format!("{class:?}"), "counts": n })
            }).collect::<Vec<_>>(),
            "failures": report.failures,
            "seconds": elapsed.as_secs_f64(),
        });
        println!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        print_summary(&report, elapsed);
    }
    Ok(if report.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Imports `files` into the account; `progress` is told the bytes read since the last call
/// and the items met so far.
pub fn import_files(
    store: &dyn Store,
    account: &Account,
    files: &[PathBuf],
    folder: Option<String>,
    progress: &mut dyn FnMut(u64, usize),
) -> anyhow::Result<ImportReport> {
    let mut importer = Importer::new(store, account.id, folder);
    let mut items = 0;
    for file in files {
        importer
            .import_path(file, &mut |bytes, met| {
                items += met as usize;
                progress(bytes, items);
            })
            .with_context(|| format!("importing {}", file.display()))?;
    }
    Ok(importer.finish()?)
}

fn print_summary(report: &ImportReport, elapsed: Duration) {
    for f in &report.failures {
        if f.item.is_empty() {
            eprintln!("failed: {}: {}", f.file.display(), f.reason);
        } else {
            eprintln!("failed: {}: {}: {}", f.file.display(), f.item, f.reason);
        }
    }
    for (class, n) in &report.classes {
        println!(
            "{class:?}: {} added, {} updated, {} unchanged, {} failed",
            n.added, n.updated, n.unchanged, n.failed
        );
    }
    let secs = elapsed.as_secs_f64();
    println!(
        "{} items in {secs:.1} s ({:.0} items/s); {} failed",
        report.items(),
        report.items() as f64 / secs.max(0.001),
        report.failures.len()
    );
}

pub fn run_export(data: &Path, args: ExportArgs) -> anyhow::Result<ExitCode> {
    let store = crate::open_store(data)?;
    let account = account(&store, &args.user)?;
    let folder = folder_named(&store, account.id, &args.folder)?
        .with_context(|| format!("{} has no folder {:?}", account.email, args.folder))?;
    let format = match &args.format {
        Some(name) => Some(
            ExportFormat::parse(name)
                .with_context(|| format!("unknown format {name:?}: use ics, vcf or mbox"))?,
        ),
        None => None,
    };
    let total = store.list_folder_items(account.id, folder.id)?.items.len();
    let bar = progress_bar(
        total as u64,
        args.quiet,
        "{elapsed_precise} [{bar:40}] {pos}/{len} items",
    );
    let mut out: Box<dyn std::io::Write> = match &args.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let (written, skipped) =
        export_folder(&store, account.id, &folder, format, &mut out, &mut |n| {
            bar.set_position(n as u64)
        })?;
    drop(out);
    bar.finish_and_clear();
    for server_id in &skipped {
        eprintln!("skipped {server_id}: its stored text does not parse");
    }
    eprintln!("exported {written} items from {}", folder.display_name);
    Ok(ExitCode::SUCCESS)
}
