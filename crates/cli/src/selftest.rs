//! `easd selftest`: the six-message test against a running server, with two simulated
//! devices of one user, A ("the desktop") and B ("the phone"):
//!
//! 1. A sends #1–#3 and B sends #4–#6 to the user (SendMail: they land in the Inbox);
//! 2. A deletes #1, B deletes #2; B moves #3 and A moves #4 into a folder made for the run;
//!    A reads #5, B reads #6;
//! 3. both sync, and each change is looked for on the other device.
//!
//! One line per check (send, delete, move, read; A→B and B→A) with PASS or FAIL and what
//! differed; exit code 0 only when all pass. The devices are new partnerships named
//! `selftest<A|B><run>`; the run's messages and folder are removed at the end (deleted
//! without a copy in Deleted Items, sent without a copy in Sent Items), so the test can run
//! on a production mailbox.

use crate::eas_client::{DeviceInfo, EasClient, Endpoint, Trust};
use anyhow::Context;
use easd_protocol::commands::folder_sync::FolderType;
use easd_protocol::commands::sync::{
    ClientCommand, ClientCommandResponse, ServerCommand, SyncCollectionRequest, SyncRequest,
    SyncStatus,
};
use easd_protocol::items::email::EmailChange;
use easd_protocol::ProtocolVersion;
use easd_wbxml::tags::email;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct SelftestArgs {
    /// The server's EAS URL (https://host/Microsoft-Server-ActiveSync, or just the server).
    #[arg(long)]
    url: String,
    /// The login of the mailbox to test with.
    #[arg(long)]
    user: String,
    #[arg(long, env = "EASD_SELFTEST_PASSWORD")]
    password: String,
    /// The mailbox's address, when the login is not one (DOMAIN\user).
    #[arg(long)]
    address: Option<String>,
    /// PEM certificate(s) to trust for https.
    #[arg(long)]
    ca: Option<PathBuf>,
    /// Accept any TLS certificate.
    #[arg(long)]
    insecure: bool,
    /// Seconds to wait for the sent messages to arrive.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
    /// The checks as one JSON document.
    #[arg(long)]
    json: bool,
}

/// One message as a device has it.
#[derive(Debug, Clone, PartialEq)]
struct Mail {
    subject: String,
    read: bool,
}

/// A simulated device: its client and what it has of each collection.
struct Device {
    name: &'static str,
    client: EasClient,
    keys: BTreeMap<String, String>,
    items: BTreeMap<String, BTreeMap<String, Mail>>,
}

impl Device {
    /// Brings `collection` up to date (from SyncKey 0 the first time).
    async fn sync(&mut self, collection: &str) -> anyhow::Result<()> {
        if !self.keys.contains_key(collection) {
            self.keys.insert(collection.to_owned(), "0".into());
            self.items.insert(collection.to_owned(), BTreeMap::new());
        }
        loop {
            // The answer to SyncKey 0 carries no items (MS-ASCMD 2.2.3.181.4): go on.
            let initial = self.keys.get(collection).is_some_and(|k| k == "0");
            let more = self.sync_once(collection, Vec::new()).await?;
            if !more && !initial {
                return Ok(());
            }
        }
    }

    /// One Sync of `collection` carrying `commands`; true when MoreAvailable.
    async fn sync_once(
        &mut self,
        collection: &str,
        commands: Vec<ClientCommand>,
    ) -> anyhow::Result<bool> {
        let key = self
            .keys
            .get(collection)
            .cloned()
            .unwrap_or_else(|| "0".into());
        let mut c = SyncCollectionRequest::new(key.clone(), collection);
        c.window_size = Some(100);
        // Deleted for good: a test on a production mailbox leaves nothing in Deleted Items.
        c.deletes_as_moves = Some(false);
        c.get_changes = (key != "0").then_some(true);
        c.commands = commands;
        let request = SyncRequest {
            collections: vec![c],
            ..SyncRequest::default()
        };
        let response = self.client.sync(&request).await?;
        if let Some(status) = response.status {
            anyhow::bail!("{}: Sync: Status {status}", self.name);
        }
        // An empty response: nothing changed, the key stays (MS-ASCMD 2.2.1.21.2).
        let Some(r) = response.collections.into_iter().next() else {
            return Ok(false);
        };
        if r.status != SyncStatus::Success {
            anyhow::bail!("{}: Sync of {collection}: Status {}", self.name, r.status);
        }
        for answer in &r.responses {
            if answer.status() != SyncStatus::Success {
                anyhow::bail!(
                    "{}: the server refused a change in {collection}: {answer:?}",
                    self.name
                );
            }
            if let ClientCommandResponse::Add { .. } = answer {
                anyhow::bail!("{}: unexpected Add response", self.name);
            }
        }
        self.keys.insert(collection.to_owned(), r.sync_key);
        let items = self.items.entry(collection.to_owned()).or_default();
        for command in r.commands {
            match command {
                ServerCommand::Add {
                    server_id,
                    application_data,
                } => {
                    let mail = Mail {
                        subject: application_data
                            .child_text(email::SUBJECT)
                            .unwrap_or_default(),
                        read: application_data.child_text(email::READ).as_deref() == Some("1"),
                    };
                    items.insert(server_id, mail);
                }
                ServerCommand::Change {
                    server_id,
                    application_data,
                } => {
                    if let (Some(m), Some(read)) = (
                        items.get_mut(&server_id),
                        application_data.child_text(email::READ),
                    ) {
                        m.read = read.trim() == "1";
                    }
                }
                ServerCommand::Delete { server_id } | ServerCommand::SoftDelete { server_id } => {
                    items.remove(&server_id);
                }
            }
        }
        Ok(r.more_available)
    }

    fn find(&self, collection: &str, subject: &str) -> Option<String> {
        self.items
            .get(collection)?
            .iter()
            .find(|(_, m)| m.subject == subject)
            .map(|(id, _)| id.clone())
    }

    fn mail(&self, collection: &str, subject: &str) -> Option<&Mail> {
        self.items
            .get(collection)?
            .values()
            .find(|m| m.subject == subject)
    }

    fn need(&self, collection: &str, subject: &str) -> anyhow::Result<String> {
        self.find(collection, subject)
            .with_context(|| format!("{} does not have {subject:?}", self.name))
    }

    /// Deletes the items with these subjects (on this device, applied to the server).
    async fn delete(&mut self, collection: &str, subjects: &[&str]) -> anyhow::Result<()> {
        let ids: Vec<String> = subjects
            .iter()
            .filter_map(|s| self.find(collection, s))
            .collect();
        if ids.is_empty() {
            return Ok(());
        }
        let commands = ids
            .iter()
            .map(|id| ClientCommand::Delete {
                server_id: id.clone(),
                instance_id: None,
            })
            .collect();
        self.sync_once(collection, commands).await?;
        // A client drops what it deleted at once, whatever the server does with it.
        if let Some(items) = self.items.get_mut(collection) {
            for id in &ids {
                items.remove(id);
            }
        }
        Ok(())
    }

    async fn mark_read(&mut self, collection: &str, subject: &str) -> anyhow::Result<()> {
        let id = self.need(collection, subject)?;
        let change = EmailChange {
            read: Some(true),
            flag: None,
            categories: None,
        };
        let command = ClientCommand::Change {
            server_id: id.clone(),
            instance_id: None,
            application_data: change.to_application_data(ProtocolVersion::LATEST),
            send: false,
        };
        self.sync_once(collection, vec![command]).await?;
        if let Some(m) = self.items.get_mut(collection).and_then(|i| i.get_mut(&id)) {
            m.read = true;
        }
        Ok(())
    }

    async fn move_to(&mut self, from: &str, to: &str, subject: &str) -> anyhow::Result<()> {
        let id = self.need(from, subject)?;
        let new_id = self.client.move_item(&id, from, to).await?;
        if let Some(mail) = self.items.get_mut(from).and_then(|i| i.remove(&id)) {
            // The client knows where it put it; its next Sync of `to` confirms.
            if let Some(dest) = self.items.get_mut(to) {
                dest.insert(new_id, mail);
            }
        }
        Ok(())
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub check: &'static str,
    /// "A→B": done on A, looked for on B.
    pub direction: &'static str,
    pub pass: bool,
    pub detail: String,
}

fn check(check: &'static str, direction: &'static str, problems: Vec<String>) -> Check {
    Check {
        check,
        direction,
        pass: problems.is_empty(),
        detail: problems.join("; "),
    }
}

fn message(from: &str, to: &str, subject: &str, run: &str) -> Vec<u8> {
    let date = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc2822)
        .unwrap_or_default();
    format!(
        "From: <{from}>\r\nTo: <{to}>\r\nSubject: {subject}\r\nDate: {date}\r\n\
         Message-ID: <{}.{run}@easd-selftest>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n\
         easd selftest message; it is removed when the test ends.\r\n",
        subject.replace([' ', '#'], "")
    )
    .into_bytes()
}

/// The subjects of the run: "#1 easd selftest <run>" ...
fn subjects(run: &str) -> Vec<String> {
    (1..=6)
        .map(|i| format!("#{i} easd selftest {run}"))
        .collect()
}

/// Which subjects `device` has in `collection`, for the report.
fn missing<'a>(device: &Device, collection: &str, wanted: &[&'a str]) -> Vec<&'a str> {
    wanted
        .iter()
        .copied()
        .filter(|s| device.find(collection, s).is_none())
        .collect()
}

/// The comparisons after both devices synced. `s` are the six subjects.
fn compare(a: &Device, b: &Device, inbox: &str, folder: &str, s: &[String]) -> Vec<Check> {
    let s: Vec<&str> = s.iter().map(String::as_str).collect();
    let mut out = Vec::new();
    let still = |d: &Device, subject: &str, what: &str| -> Vec<String> {
        match d.find(inbox, subject) {
            Some(_) => vec![format!(
                "{} still has {subject:?} in the Inbox ({what})",
                d.name
            )],
            None => Vec::new(),
        }
    };
    out.push(check("delete", "A→B", still(b, s[0], "deleted on A")));
    out.push(check("delete", "B→A", still(a, s[1], "deleted on B")));
    let moved = |d: &Device, subject: &str, by: &str| -> Vec<String> {
        let mut p = still(d, subject, &format!("moved on {by}"));
        if d.find(folder, subject).is_none() {
            p.push(format!(
                "{} does not have {subject:?} in the folder",
                d.name
            ));
        }
        p
    };
    out.push(check("move", "A→B", moved(b, s[3], "A")));
    out.push(check("move", "B→A", moved(a, s[2], "B")));
    let read = |d: &Device, subject: &str| -> Vec<String> {
        match d.mail(inbox, subject) {
            Some(m) if m.read => Vec::new(),
            Some(_) => vec![format!("{} shows {subject:?} as unread", d.name)],
            None => vec![format!("{} does not have {subject:?}", d.name)],
        }
    };
    out.push(check("read", "A→B", read(b, s[4])));
    out.push(check("read", "B→A", read(a, s[5])));
    out
}

async fn open_device(
    endpoint: &Arc<Endpoint>,
    args: &SelftestArgs,
    name: &'static str,
    device_id: String,
    friendly_name: &str,
) -> anyhow::Result<Device> {
    let mut client = EasClient::new(
        endpoint.clone(),
        &args.user,
        &args.password,
        device_id,
        "EasdSelftest",
    );
    client.user_agent = "easd-selftest/1";
    client
        .provision(&DeviceInfo {
            model: "easd selftest",
            friendly_name,
            user_agent: "easd-selftest/1",
        })
        .await
        .with_context(|| format!("{name}: Provision"))?;
    Ok(Device {
        name,
        client,
        keys: BTreeMap::new(),
        items: BTreeMap::new(),
    })
}

/// Syncs both devices' Inboxes until each has every one of `subjects` or the time is up.
async fn wait_for_delivery(
    a: &mut Device,
    b: &mut Device,
    inbox: &str,
    subjects: &[&str],
    timeout: Duration,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        a.sync(inbox).await?;
        b.sync(inbox).await?;
        let done = missing(a, inbox, subjects).is_empty() && missing(b, inbox, subjects).is_empty();
        if done || Instant::now() >= deadline {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

struct Run {
    checks: Vec<Check>,
    cleanup: Vec<String>,
}

async fn run_test(args: &SelftestArgs) -> anyhow::Result<Run> {
    let trust = Trust::from_args(args.ca.clone(), args.insecure);
    let endpoint = Arc::new(Endpoint::new(&args.url, &trust)?);
    let run: String = format!("{:08x}", rand::random::<u32>());
    let address = args.address.clone().unwrap_or_else(|| args.user.clone());
    let mut a = open_device(
        &endpoint,
        args,
        "A",
        format!("selftestA{run}"),
        "the desktop",
    )
    .await?;
    let mut b = open_device(&endpoint, args, "B", format!("selftestB{run}"), "the phone").await?;

    let (key, folders) = a.client.folder_sync("0").await.context("A: FolderSync")?;
    let inbox = folders
        .iter()
        .find(|f| f.folder_type == FolderType::Inbox)
        .map(|f| f.server_id.clone())
        .context("FolderSync: no Inbox")?;
    let folder_name = format!("easd selftest {run}");
    let (key, folder) = a
        .client
        .folder_create(&key, &folder_name)
        .await
        .context("A: FolderCreate")?;
    let (_, b_folders) = b.client.folder_sync("0").await.context("B: FolderSync")?;
    let mut checks = Vec::new();
    checks.push(check(
        "folder",
        "A→B",
        if b_folders.iter().any(|f| f.server_id == folder) {
            Vec::new()
        } else {
            vec![format!("B's FolderSync does not list {folder_name:?}")]
        },
    ));

    let outcome = async {
        for d in [&mut a, &mut b] {
            d.sync(&inbox).await?;
            d.sync(&folder).await?;
        }
        let subjects = subjects(&run);
        let s: Vec<&str> = subjects.iter().map(String::as_str).collect();
        for subject in &s[..3] {
            a.client
                .send_mail(message(&address, &address, subject, &run), false)
                .await
                .context("A: SendMail")?;
        }
        for subject in &s[3..] {
            b.client
                .send_mail(message(&address, &address, subject, &run), false)
                .await
                .context("B: SendMail")?;
        }
        wait_for_delivery(
            &mut a,
            &mut b,
            &inbox,
            &s,
            Duration::from_secs(args.timeout),
        )
        .await?;
        let not_on_b = missing(&b, &inbox, &s[..3]);
        let not_on_a = missing(&a, &inbox, &s[3..]);
        let report = |d: &str, m: Vec<&str>| -> Vec<String> {
            if m.is_empty() {
                Vec::new()
            } else {
                vec![format!("{d} never received {}", m.join(", "))]
            }
        };
        checks.push(check("send", "A→B", report("B", not_on_b)));
        checks.push(check("send", "B→A", report("A", not_on_a)));
        anyhow::ensure!(
            missing(&a, &inbox, &s).is_empty() && missing(&b, &inbox, &s).is_empty(),
            "the six messages did not all arrive within {} s: the other checks need them",
            args.timeout
        );

        a.delete(&inbox, &[s[0]]).await.context("A: delete #1")?;
        b.delete(&inbox, &[s[1]]).await.context("B: delete #2")?;
        b.move_to(&inbox, &folder, s[2])
            .await
            .context("B: move #3")?;
        a.move_to(&inbox, &folder, s[3])
            .await
            .context("A: move #4")?;
        a.mark_read(&inbox, s[4]).await.context("A: read #5")?;
        b.mark_read(&inbox, s[5]).await.context("B: read #6")?;
        for d in [&mut a, &mut b] {
            d.sync(&inbox).await?;
            d.sync(&folder).await?;
        }
        checks.extend(compare(&a, &b, &inbox, &folder, &subjects));
        anyhow::Ok(subjects)
    }
    .await;

    // Clean up whatever happened: the run's messages left in the Inbox, then the folder
    // (and what is in it).
    let mut cleanup = Vec::new();
    let subjects = subjects(&run);
    let s: Vec<&str> = subjects.iter().map(String::as_str).collect();
    for d in [&mut a, &mut b] {
        if let Err(e) = async {
            d.sync(&inbox).await?;
            d.delete(&inbox, &s).await
        }
        .await
        {
            cleanup.push(format!("{}: removing the test messages: {e:#}", d.name));
        }
    }
    // What a fresh look at the Inbox (from SyncKey 0) still shows: a server that drops
    // deletes keeps them.
    a.keys.remove(&inbox);
    if a.sync(&inbox).await.is_ok() {
        let left: Vec<&str> = s
            .iter()
            .copied()
            .filter(|x| a.find(&inbox, x).is_some())
            .collect();
        if !left.is_empty() {
            cleanup.push(format!(
                "still in the Inbox after the clean-up: {}",
                left.join(", ")
            ));
        }
    }
    let (key, _) = a
        .client
        .folder_sync(&key)
        .await
        .unwrap_or((key, Vec::new()));
    if let Err(e) = a.client.folder_delete(&key, &folder).await {
        cleanup.push(format!("removing the folder {folder_name:?}: {e:#}"));
    }
    outcome?;
    Ok(Run { checks, cleanup })
}

pub fn run(args: SelftestArgs) -> anyhow::Result<ExitCode> {
    let rt = crate::runtime()?;
    let result = rt.block_on(run_test(&args));
    let (checks, cleanup, error) = match result {
        Ok(r) => (r.checks, r.cleanup, None),
        Err(e) => (Vec::new(), Vec::new(), Some(format!("{e:#}"))),
    };
    let pass = error.is_none() && !checks.is_empty() && checks.iter().all(|c| c.pass);
    if args.json {
        let list: Vec<_> = checks
            .iter()
            .map(|c| {
                serde_json::json!({
                    "check": c.check,
                    "direction": c.direction,
                    "result": if c.pass { "PASS" } else { "FAIL" },
                    "detail": c.detail,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({
                "pass": pass,
                "checks": list,
                "error": error,
                "cleanup": cleanup,
            })
        );
    } else {
        println!("easd selftest: A = the desktop, B = the phone; A→B = done on A, seen on B");
        for c in &checks {
            let result = if c.pass { "PASS" } else { "FAIL" };
            let detail = if c.detail.is_empty() {
                String::new()
            } else {
                format!("  {}", c.detail)
            };
            println!("{result}  {:7} {}{detail}", c.check, c.direction);
        }
        if let Some(e) = &error {
            println!("ERROR  {e}");
        }
        for c in &cleanup {
            println!("cleanup: {c}");
        }
        println!("result: {}", if pass { "PASS" } else { "FAIL" });
    }
    Ok(if pass {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
