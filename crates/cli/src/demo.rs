//! `easd demo`: the server on a demo data dir, with a demo user and a few sample messages,
//! and what to type on a phone.

use anyhow::Context;
use easd_store::{password, Store};
use mail_builder::MessageBuilder;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct DemoArgs {
    /// The demo data directory.
    #[arg(long, default_value = "./easd-demo")]
    dir: PathBuf,
    #[command(flatten)]
    serve: crate::ServeArgs,
}

const DEMO_USER: &str = "demo@example.com";

fn sample_messages() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let plain = MessageBuilder::new()
        .from(("easd", "postmaster@example.com"))
        .to(("Demo User", DEMO_USER))
        .subject("Welcome to easd")
        .text_body("This mailbox is served by easd over Exchange ActiveSync.\r\nSend a message to demo@example.com from your phone and watch it arrive here.\r\n");
    let html = MessageBuilder::new()
        .from(("Zoë Ångström", "zoe@example.org"))
        .to(("Demo User", DEMO_USER))
        .subject("Grüße aus Köln — 東京からこんにちは")
        .text_body("Hello in plain text.")
        .html_body("<html><body><h1>Hello</h1><p>This one is <b>HTML</b>, with a <a href=\"https://example.org\">link</a>.</p></body></html>");
    let attachment = MessageBuilder::new()
        .from(("Accounts", "billing@example.net"))
        .to(("Demo User", DEMO_USER))
        .subject("Your invoice (with attachment)")
        .text_body("The invoice is attached.")
        .attachment(
            "text/csv",
            "invoice.csv",
            "item,amount\r\nwidgets,42.00\r\n".as_bytes(),
        )
        .attachment(
            "application/octet-stream",
            "data.bin",
            vec![0u8, 1, 2, 3, 255],
        );
    let reply = MessageBuilder::new()
        .from(("Renée", "renee@example.com"))
        .to(("Demo User", DEMO_USER))
        .subject("Re: Welcome to easd")
        .in_reply_to("welcome@example.com")
        .text_body("Replies share a ConversationId with the message they answer.");
    for m in [plain, html, attachment, reply] {
        if let Ok(bytes) = m.write_to_vec() {
            out.push(bytes);
        }
    }
    out
}

/// Creates the demo user (its password kept in the data dir so reruns print the same one)
/// and fills an empty Inbox with the samples. Returns the password.
fn prepare(dir: &Path) -> anyhow::Result<String> {
    let store = crate::open_store(dir)?;
    let password_file = dir.join("demo-password.txt");
    let password = match store.account_by_email(DEMO_USER)? {
        Some(_) => std::fs::read_to_string(&password_file)
            .map(|p| p.trim().to_owned())
            .with_context(|| format!("reading {}", password_file.display()))?,
        None => {
            let password = crate::user::generate_password();
            let account = store.create_account(DEMO_USER, &password::hash_password(&password))?;
            store.set_display_name(account.id, "Demo User")?;
            std::fs::write(&password_file, format!("{password}\n"))
                .with_context(|| format!("writing {}", password_file.display()))?;
            for raw in sample_messages() {
                easd_engine::delivery::deliver_blocking(&store, account.id, raw)?;
            }
            password
        }
    };
    Ok(password)
}

pub async fn run(config: Option<&Path>, args: DemoArgs) -> anyhow::Result<ExitCode> {
    crate::init_logging();
    let dir = args.dir.clone();
    let password = prepare(&dir)?;
    let config = crate::load_config(&dir, config, &args.serve)?;
    let server = crate::start(config, dir.clone()).await?;
    let b = &server.bound;
    println!();
    println!("easd demo is running (data in {}).", dir.display());
    println!("  Email address : {DEMO_USER}");
    println!("  Password      : {password}");
    if let Some(a) = b.https {
        println!("  Server (TLS)  : https://{a}/Microsoft-Server-ActiveSync");
    }
    if let Some(a) = b.http {
        println!("  Server (plain): http://{a}/Microsoft-Server-ActiveSync");
    }
    if let Some(fp) = &b.tls_fingerprint {
        println!("  Certificate   : self-signed, SHA-256 {fp}");
    }
    println!("On a phone: add an Exchange account, enter the address and password, then the");
    println!("server name when asked (listen on the LAN with --https 0.0.0.0:8443).");
    println!(
        "Send it mail: easd --data {} deliver --to {DEMO_USER} message.eml",
        dir.display()
    );
    println!("Ctrl-C stops it.");
    crate::wait_for_signal().await;
    server.shutdown().await;
    Ok(ExitCode::SUCCESS)
}
