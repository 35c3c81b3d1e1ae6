//! `easd user add|list|passwd|remove`.

use anyhow::Context;
use clap::Subcommand;
use easd_store::{password, Store};
use std::io::BufRead;
use std::path::Path;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create an account with the default folder set.
    Add {
        email: String,
        /// The password (visible in the process list: prefer --password-stdin).
        #[arg(long, conflicts_with = "password_stdin")]
        password: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        /// Display name shown by clients.
        #[arg(long)]
        name: Option<String>,
    },
    /// List accounts.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Set a new password (read from standard input, or generated and printed).
    Passwd {
        email: String,
        #[arg(long, conflicts_with = "password_stdin")]
        password: Option<String>,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Remove an account and everything it holds (mail, devices, states).
    Remove { email: String },
}

/// A password from the flag, standard input, or a new random one (then printed).
fn password_from(flag: Option<String>, stdin: bool) -> anyhow::Result<(String, bool)> {
    if let Some(p) = flag {
        return Ok((p, false));
    }
    if stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password")?;
        let p = line.trim_end_matches(['\r', '\n']).to_owned();
        anyhow::ensure!(!p.is_empty(), "empty password on standard input");
        return Ok((p, false));
    }
    Ok((generate_password(), true))
}

pub fn generate_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    (0..16)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

pub fn run(data: &Path, cmd: UserCommand) -> anyhow::Result<ExitCode> {
    let store = crate::open_store(data)?;
    match cmd {
        UserCommand::Add {
            email,
            password,
            password_stdin,
            name,
        } => {
            anyhow::ensure!(email.contains('@'), "{email:?} is not an email address");
            let (pw, generated) = password_from(password, password_stdin)?;
            let hash = password::hash_password(&pw);
            let account = store.create_account(&email, &hash)?;
            if let Some(name) = name {
                store.set_display_name(account.id, &name)?;
            }
            println!("created {}", account.email);
            if generated {
                println!("password: {pw}");
            }
        }
        UserCommand::List { json } => {
            let accounts = store.list_accounts()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&accounts)?);
            } else {
                for a in accounts {
                    println!("{}\t{}", a.email, a.display_name);
                }
            }
        }
        UserCommand::Passwd {
            email,
            password,
            password_stdin,
        } => {
            let account = store
                .account_by_email(&email)?
                .with_context(|| format!("no account {email}"))?;
            let (pw, generated) = password_from(password, password_stdin)?;
            store.set_password(account.id, &password::hash_password(&pw))?;
            println!("password changed for {}", account.email);
            if generated {
                println!("password: {pw}");
            }
        }
        UserCommand::Remove { email } => {
            let account = store
                .account_by_email(&email)?
                .with_context(|| format!("no account {email}"))?;
            store.remove_account(account.id)?;
            println!("removed {}", account.email);
        }
    }
    Ok(ExitCode::SUCCESS)
}
