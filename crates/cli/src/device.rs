//! `easd device ...` and `easd rule ...`: device partnerships and access rules, written to
//! the store directly (a running server reads them at the device's next request).

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use easd_engine::access::{AccessRules, Field, Level, Rule, ADMIN_PREFIX, NOTICE_KEY_PREFIX};
use easd_store::{AccessState, Partnership, Store, WipeState};
use std::path::Path;
use std::process::ExitCode;

#[derive(Args)]
pub struct Target {
    /// The EAS DeviceId.
    pub id: String,
    /// The account, when the device is used by several.
    #[arg(long)]
    pub user: Option<String>,
}

#[derive(Subcommand)]
pub enum DeviceCommand {
    /// Partnerships with their last sync times and counts.
    List {
        #[arg(long)]
        user: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// One partnership in full.
    Show {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        json: bool,
    },
    /// Allow a device (wins over rules); with --user also before its first contact.
    Allow {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Block a device (wins over rules); with --user also before its first contact.
    Block {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Quarantine a device (wins over rules).
    Quarantine {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Remove a partnership and its sync states: a re-added account starts clean.
    Remove {
        #[command(flatten)]
        target: Target,
    },
    /// Request a remote wipe (MS-ASPROV 3.2.5.1.2.2) at the device's next request.
    Wipe {
        #[command(flatten)]
        target: Target,
        /// Wipe only the account's data (EAS 16.1 AccountOnlyRemoteWipe).
        #[arg(long)]
        account_only: bool,
    },
}

#[derive(Subcommand)]
pub enum RuleCommand {
    /// The default level and the rules, in evaluation order.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Add a rule matching one device property.
    Add {
        #[arg(long, group = "field")]
        device_type: Option<String>,
        #[arg(long, group = "field")]
        device_model: Option<String>,
        #[arg(long, group = "field")]
        device_os: Option<String>,
        #[arg(long, group = "field")]
        user_agent: Option<String>,
        /// Match a prefix rather than the whole value.
        #[arg(long)]
        prefix: bool,
        /// allow, block or quarantine.
        #[arg(long)]
        access: String,
    },
    /// Remove a rule by its number.
    Remove { rule: u32 },
    /// The level of devices no rule matches.
    Default { access: String },
    /// A local address told about quarantined devices ("" to stop).
    Notify { address: String },
}

fn level(s: &str) -> anyhow::Result<Level> {
    Level::parse(&s.to_lowercase())
        .with_context(|| format!("unknown access level {s:?} (allow, block, quarantine)"))
}

fn email_of(store: &dyn Store, p: &Partnership) -> String {
    store
        .account(p.account)
        .ok()
        .flatten()
        .map(|a| a.email)
        .unwrap_or_else(|| format!("#{}", p.account.0))
}

/// The partnerships of a DeviceId (of one user if given).
fn find(store: &dyn Store, target: &Target) -> anyhow::Result<Vec<Partnership>> {
    let mut found = store.partnerships_by_device_id(&target.id)?;
    if let Some(user) = &target.user {
        let account = store
            .account_by_email(user)?
            .with_context(|| format!("no account {user}"))?;
        found.retain(|p| p.account == account.id);
    }
    Ok(found)
}

fn one(store: &dyn Store, target: &Target) -> anyhow::Result<Partnership> {
    let mut found = find(store, target)?;
    match found.len() {
        0 => bail!("no partnership for device {}", target.id),
        1 => Ok(found.remove(0)),
        _ => bail!(
            "device {} is used by several accounts: add --user",
            target.id
        ),
    }
}

fn fmt_time(t: Option<i64>) -> String {
    t.and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| "never".into())
}

fn to_json(store: &dyn Store, p: &Partnership) -> anyhow::Result<serde_json::Value> {
    let mut v = serde_json::to_value(p)?;
    let collections = store.sync_state_keys(p.id)?;
    v["user"] = serde_json::Value::String(email_of(store, p));
    v["collections"] = serde_json::json!(collections.len());
    v["last_sync_time"] = serde_json::json!(p.last_sync.map(|t| fmt_time(Some(t))));
    v["last_contact_time"] = serde_json::json!(p.last_sync_attempt.map(|t| fmt_time(Some(t))));
    Ok(v)
}

pub fn run_device(data: &Path, cmd: DeviceCommand) -> anyhow::Result<ExitCode> {
    let store = crate::open_store(data)?;
    let store: &dyn Store = &store;
    match cmd {
        DeviceCommand::List { user, json } => {
            let account = match &user {
                Some(u) => Some(
                    store
                        .account_by_email(u)?
                        .with_context(|| format!("no account {u}"))?
                        .id,
                ),
                None => None,
            };
            let list = store.list_partnerships(account)?;
            if json {
                let v: Vec<_> = list
                    .iter()
                    .map(|p| to_json(store, p))
                    .collect::<anyhow::Result<_>>()?;
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                println!(
                    "{:<28} {:<24} {:<12} {:<12} {:<25} {:>6} {:>6}",
                    "DEVICE", "USER", "TYPE", "ACCESS", "LAST SYNC", "SENT", "RECV"
                );
                for p in &list {
                    println!(
                        "{:<28} {:<24} {:<12} {:<12} {:<25} {:>6} {:>6}",
                        p.device_id,
                        email_of(store, p),
                        p.device_type,
                        p.access_state.as_str(),
                        fmt_time(p.last_sync.or(p.last_sync_attempt)),
                        p.items_sent,
                        p.items_received
                    );
                }
            }
        }
        DeviceCommand::Show { target, json } => {
            let p = one(store, &target)?;
            let v = to_json(store, &p)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else if let Some(map) = v.as_object() {
                for (k, v) in map {
                    println!("{k:<20} {v}");
                }
            }
        }
        DeviceCommand::Allow { target, reason } => {
            set_access(store, &target, Level::Allow, reason)?
        }
        DeviceCommand::Block { target, reason } => {
            set_access(store, &target, Level::Block, reason)?
        }
        DeviceCommand::Quarantine { target, reason } => {
            set_access(store, &target, Level::Quarantine, reason)?
        }
        DeviceCommand::Remove { target } => {
            let p = one(store, &target)?;
            store.remove_partnership(p.id)?;
            let _ = store.kv_delete(&format!("{NOTICE_KEY_PREFIX}{}", p.id.0));
            println!("removed device {} of {}", p.device_id, email_of(store, &p));
        }
        DeviceCommand::Wipe {
            target,
            account_only,
        } => {
            let mut p = one(store, &target)?;
            p.wipe_state = if account_only {
                WipeState::PendingAccount
            } else {
                WipeState::PendingFull
            };
            p.wipe_requested_at = Some(time::OffsetDateTime::now_utc().unix_timestamp());
            p.wipe_acked_at = None;
            store.update_partnership(&p)?;
            println!(
                "{} wipe of device {} of {} requested: it happens at the device's next request",
                if account_only { "account-only" } else { "full" },
                p.device_id,
                email_of(store, &p)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// An admin's explicit state: on the partnership(s) (wins over rules), and for allow/block
/// with --user also in the user's lists, so it applies before the device's first contact.
fn set_access(
    store: &dyn Store,
    target: &Target,
    level: Level,
    reason: Option<String>,
) -> anyhow::Result<()> {
    let reason = format!(
        "{ADMIN_PREFIX} {}",
        reason.unwrap_or_else(|| level.as_str().to_owned())
    );
    let found = find(store, target)?;
    if found.is_empty() && target.user.is_none() {
        bail!(
            "no partnership for device {} (add --user to decide before its first contact)",
            target.id
        );
    }
    for mut p in found {
        p.access_state = level.state();
        p.access_reason = reason.clone();
        store.update_partnership(&p)?;
        println!(
            "device {} of {}: {} ({reason})",
            p.device_id,
            email_of(store, &p),
            p.access_state.as_str()
        );
    }
    if let Some(user) = &target.user {
        let email = store
            .account_by_email(user)?
            .with_context(|| format!("no account {user}"))?
            .email;
        let mut rules = AccessRules::load(store)?;
        let lists = rules.users.entry(email.to_lowercase()).or_default();
        lists
            .allowed
            .retain(|d| !d.eq_ignore_ascii_case(&target.id));
        lists
            .blocked
            .retain(|d| !d.eq_ignore_ascii_case(&target.id));
        match level {
            Level::Allow => lists.allowed.push(target.id.clone()),
            Level::Block => lists.blocked.push(target.id.clone()),
            Level::Quarantine => {}
        }
        rules.save(store)?;
    }
    let _ = AccessState::Allowed;
    Ok(())
}

pub fn run_rule(data: &Path, cmd: RuleCommand) -> anyhow::Result<ExitCode> {
    let store = crate::open_store(data)?;
    let store: &dyn Store = &store;
    let mut rules = AccessRules::load(store)?;
    match cmd {
        RuleCommand::List { json } => {
            if json {
                println!("{}", serde_json::to_string_pretty(&rules)?);
            } else {
                println!("default: {}", rules.default.as_str());
                for r in &rules.rules {
                    println!("{}", r.describe());
                }
                for (user, d) in &rules.users {
                    println!(
                        "user {user}: allowed {:?} blocked {:?}",
                        d.allowed, d.blocked
                    );
                }
            }
            return Ok(ExitCode::SUCCESS);
        }
        RuleCommand::Add {
            device_type,
            device_model,
            device_os,
            user_agent,
            prefix,
            access,
        } => {
            let (field, value) = match (device_type, device_model, device_os, user_agent) {
                (Some(v), _, _, _) => (Field::DeviceType, v),
                (_, Some(v), _, _) => (Field::DeviceModel, v),
                (_, _, Some(v), _) => (Field::DeviceOs, v),
                (_, _, _, Some(v)) => (Field::UserAgent, v),
                _ => bail!("give one of --device-type, --device-model, --device-os, --user-agent"),
            };
            let rule = Rule {
                id: rules.next_id(),
                field,
                value,
                prefix,
                access: level(&access)?,
            };
            println!("added {}", rule.describe());
            rules.rules.push(rule);
        }
        RuleCommand::Remove { rule } => {
            let before = rules.rules.len();
            rules.rules.retain(|r| r.id != rule);
            if rules.rules.len() == before {
                bail!("no rule {rule}");
            }
            println!("removed rule {rule}");
        }
        RuleCommand::Default { access } => {
            rules.default = level(&access)?;
            println!("default: {}", rules.default.as_str());
        }
        RuleCommand::Notify { address } => {
            rules.admin_email = (!address.trim().is_empty()).then(|| address.trim().to_lowercase());
        }
    }
    rules.save(store)?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Subcommand)]
pub enum LogCommand {
    /// Log each request and response of a user's devices or of one device, as XML.
    Enable {
        #[arg(long, group = "who", required = true)]
        user: Option<String>,
        #[arg(long, group = "who", required = true)]
        device: Option<String>,
        /// How long, in hours.
        #[arg(long, default_value_t = 72)]
        hours: i64,
    },
    /// Stop logging.
    Disable {
        #[arg(long, group = "who", required = true)]
        user: Option<String>,
        #[arg(long, group = "who", required = true)]
        device: Option<String>,
    },
    /// The logged requests and responses of a device, oldest first.
    Show {
        device: String,
        #[arg(long, default_value_t = 200)]
        limit: usize,
    },
    /// Write the log of a device to a file (JSON lines).
    Export {
        device: String,
        file: std::path::PathBuf,
    },
}

fn log_key(user: &Option<String>, device: &Option<String>) -> anyhow::Result<String> {
    use easd_server::device_log::{DEVICE_KEY_PREFIX, USER_KEY_PREFIX};
    Ok(match (user, device) {
        (Some(u), _) => format!("{USER_KEY_PREFIX}{}", u.trim().to_lowercase()),
        (_, Some(d)) => format!("{DEVICE_KEY_PREFIX}{}", d.to_lowercase()),
        _ => bail!("give --user or --device"),
    })
}

pub fn run_log(data: &Path, cmd: LogCommand) -> anyhow::Result<ExitCode> {
    let store = crate::open_store(data)?;
    let store: &dyn Store = &store;
    match cmd {
        LogCommand::Enable {
            user,
            device,
            hours,
        } => {
            let until = time::OffsetDateTime::now_utc().unix_timestamp() + hours.max(1) * 3600;
            store.kv_set(&log_key(&user, &device)?, &until.to_string())?;
            println!("logging enabled until {}", fmt_time(Some(until)));
        }
        LogCommand::Disable { user, device } => {
            store.kv_delete(&log_key(&user, &device)?)?;
            println!("logging disabled");
        }
        LogCommand::Show { device, limit } => {
            let mut entries = store.device_logs(None, Some(&device), limit)?;
            entries.reverse();
            for e in entries {
                let e = e.entry;
                println!(
                    "=== {} {} status {} ({} ms)\n--- request headers: {}\n--- request\n{}\n--- response\n{}\n",
                    fmt_time(Some(e.at)),
                    e.command,
                    e.meta["status"],
                    e.meta["duration_ms"],
                    e.meta["request_headers"],
                    e.request_xml,
                    e.response_xml
                );
            }
        }
        LogCommand::Export { device, file } => {
            let mut entries = store.device_logs(None, Some(&device), 1_000_000)?;
            entries.reverse();
            let mut out = String::new();
            for e in &entries {
                out.push_str(&serde_json::to_string(e)?);
                out.push('\n');
            }
            std::fs::write(&file, out).with_context(|| format!("writing {}", file.display()))?;
            println!("{} entries written to {}", entries.len(), file.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
