//! `easd device ...`, `easd rule ...`, `easd policy ...` and `easd log ...`: device
//! partnerships, access rules, policies and mailbox logging, written to the store directly
//! through the same engine functions as the admin API (a running server reads them at the
//! device's next request, and ends the parked Ping of a device an admin decided about).

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use easd_engine::access::{Field, Level};
use easd_engine::device_admin::{self, rfc3339, DeviceView};
use easd_engine::policy::{self, PolicyView};
use easd_store::Store;
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
    /// Partnerships with their statistics (last sync attempt and success, folders, items).
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
    /// Make the device synchronize again from scratch (all collections, or one).
    Resync {
        #[command(flatten)]
        target: Target,
        /// The collection (folder ServerId) to start over.
        #[arg(long)]
        folder: Option<String>,
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
        #[arg(long)]
        json: bool,
    },
    /// Remove a rule by its number.
    Remove { rule: u32 },
    /// The level of devices no rule matches.
    Default { access: String },
}

#[derive(Subcommand)]
pub enum PolicyCommand {
    /// The policies with their revisions and users.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Every setting of a policy (EASProvisionDoc names; empty: no limit).
    Show {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Change (or create) a policy: KEY=VALUE with the EASProvisionDoc names, plus
    /// AllowNonProvisionableDevices=true|false and DevicePolicyRefreshInterval=SECONDS|unlimited.
    /// Its devices re-provision at their next request.
    Set {
        name: String,
        #[arg(required = true)]
        settings: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// Give a user a policy ("default" to take it back).
    Assign {
        user: String,
        name: String,
        #[arg(long)]
        json: bool,
    },
}

fn level(s: &str) -> anyhow::Result<Level> {
    Level::parse(&s.to_lowercase())
        .with_context(|| format!("unknown access level {s:?} (allow, block, quarantine)"))
}

fn fmt_time(t: Option<i64>) -> String {
    rfc3339(t).unwrap_or_else(|| "never".into())
}

fn print_json<T: serde::Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

fn print_device(v: &DeviceView) {
    let p = &v.partnership;
    println!(
        "device {} of {}: {} ({}), wipe {}",
        p.device_id,
        v.user,
        p.access_state.as_str(),
        p.access_reason,
        p.wipe_state.as_str()
    );
}

pub fn run_device(data: &Path, cmd: DeviceCommand) -> anyhow::Result<ExitCode> {
    let store = crate::open_store(data)?;
    let store: &dyn Store = &store;
    match cmd {
        DeviceCommand::List { user, json } => {
            let list = device_admin::list(store, user.as_deref())?;
            if json {
                print_json(&list)?;
            } else {
                println!(
                    "{:<28} {:<24} {:<12} {:<12} {:<25} {:<25} {:>7} {:>6} {:>6}",
                    "DEVICE",
                    "USER",
                    "TYPE",
                    "ACCESS",
                    "LAST ATTEMPT",
                    "LAST SUCCESS",
                    "FOLDERS",
                    "SENT",
                    "RECV"
                );
                for v in &list {
                    let p = &v.partnership;
                    println!(
                        "{:<28} {:<24} {:<12} {:<12} {:<25} {:<25} {:>7} {:>6} {:>6}",
                        p.device_id,
                        v.user,
                        p.device_type,
                        p.access_state.as_str(),
                        fmt_time(p.last_sync_attempt),
                        fmt_time(p.last_sync),
                        v.folders_synced,
                        p.items_sent,
                        p.items_received
                    );
                }
            }
        }
        DeviceCommand::Show { target, json } => {
            let v = device_admin::show(store, &target.id, target.user.as_deref())?;
            let value = serde_json::to_value(&v)?;
            if json {
                print_json(&value)?;
            } else if let Some(map) = value.as_object() {
                for (k, v) in map {
                    println!("{k:<24} {v}");
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
            let v = device_admin::remove(store, &target.id, target.user.as_deref())?;
            println!("removed device {} of {}", v.partnership.device_id, v.user);
        }
        DeviceCommand::Wipe {
            target,
            account_only,
        } => {
            let v = device_admin::wipe(store, &target.id, target.user.as_deref(), account_only)?;
            println!(
                "{} wipe of device {} of {} requested: it happens at the device's next request",
                if account_only { "account-only" } else { "full" },
                v.partnership.device_id,
                v.user
            );
        }
        DeviceCommand::Resync { target, folder } => {
            let v =
                device_admin::resync(store, &target.id, target.user.as_deref(), folder.as_deref())?;
            println!(
                "device {} of {} starts {} over at its next request",
                v.partnership.device_id,
                v.user,
                folder
                    .as_deref()
                    .map_or("every collection".to_owned(), |f| format!("collection {f}"))
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn set_access(
    store: &dyn Store,
    target: &Target,
    level: Level,
    reason: Option<String>,
) -> anyhow::Result<()> {
    let changed = device_admin::set_access(
        store,
        &target.id,
        target.user.as_deref(),
        level,
        reason.as_deref(),
    )?;
    for v in &changed {
        print_device(v);
    }
    if changed.is_empty() {
        println!(
            "device {}: {} for {} from its first contact",
            target.id,
            level.as_str(),
            target.user.as_deref().unwrap_or("?")
        );
    }
    Ok(())
}

pub fn run_rule(data: &Path, cmd: RuleCommand) -> anyhow::Result<ExitCode> {
    let store = crate::open_store(data)?;
    let store: &dyn Store = &store;
    match cmd {
        RuleCommand::List { json } => {
            let rules = device_admin::rules(store)?;
            if json {
                print_json(&rules)?;
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
        }
        RuleCommand::Add {
            device_type,
            device_model,
            device_os,
            user_agent,
            prefix,
            access,
            json,
        } => {
            let (field, value) = match (device_type, device_model, device_os, user_agent) {
                (Some(v), _, _, _) => (Field::DeviceType, v),
                (_, Some(v), _, _) => (Field::DeviceModel, v),
                (_, _, Some(v), _) => (Field::DeviceOs, v),
                (_, _, _, Some(v)) => (Field::UserAgent, v),
                _ => bail!("give one of --device-type, --device-model, --device-os, --user-agent"),
            };
            let rule = device_admin::add_rule(store, field, &value, prefix, level(&access)?)?;
            if json {
                print_json(&rule)?;
            } else {
                println!("added {}", rule.describe());
            }
        }
        RuleCommand::Remove { rule } => {
            device_admin::remove_rule(store, rule)?;
            println!("removed rule {rule}");
        }
        RuleCommand::Default { access } => {
            let level = level(&access)?;
            device_admin::set_default(store, level)?;
            println!("default: {}", level.as_str());
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_policy(v: &PolicyView) {
    println!("policy {} (revision {})", v.name, v.revision);
    println!(
        "  {:<42} {}",
        policy::ALLOW_NON_PROVISIONABLE,
        v.allow_non_provisionable_devices
    );
    println!(
        "  {:<42} {}",
        policy::REFRESH_INTERVAL,
        v.refresh_interval
            .map_or("unlimited".to_owned(), |s| format!("{s} s"))
    );
    for (k, value) in &v.settings {
        println!("  {k:<42} {}", value.as_deref().unwrap_or(""));
    }
    println!("  users: {}", v.users.join(", "));
}

pub fn run_policy(data: &Path, cmd: PolicyCommand) -> anyhow::Result<ExitCode> {
    let store = crate::open_store(data)?;
    let store: &dyn Store = &store;
    match cmd {
        PolicyCommand::List { json } => {
            let list = policy::list(store)?;
            if json {
                print_json(&list)?;
            } else {
                for v in &list {
                    println!(
                        "{:<24} revision {:<4} users {}",
                        v.name,
                        v.revision,
                        v.users.len()
                    );
                }
            }
        }
        PolicyCommand::Show { name, json } => {
            let v = policy::show(store, &name)?;
            if json {
                print_json(&v)?;
            } else {
                print_policy(&v);
            }
        }
        PolicyCommand::Set {
            name,
            settings,
            json,
        } => {
            let changes = policy::parse_assignments(&settings)?;
            let v = policy::set(store, &name, &changes)?;
            if json {
                print_json(&v)?;
            } else {
                print_policy(&v);
            }
        }
        PolicyCommand::Assign { user, name, json } => {
            let v = policy::assign(store, &user, &name)?;
            if json {
                print_json(&v)?;
            } else {
                println!("{user}: policy {name}");
            }
        }
    }
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
