//! `easd bench ping`: the Direct Push load generator (issue 5).
//!
//! Parks N Pings on a running server (loopback only), each device on its own keep-alive
//! HTTP/1.1 connection, measures the server's memory per parked Ping, then delivers M
//! messages through LMTP one at a time and measures how fast each delivery wakes the Pings
//! of its recipient. Bounded in count and time; stops by itself. See crates/cli/BENCH.md.

use crate::eas_client::{self, DeviceInfo, EasClient, Endpoint, Trust};
use anyhow::{bail, Context};
use easd_protocol::commands::folder_sync::FolderType;
use easd_protocol::commands::sync::{SyncCollectionRequest, SyncRequest, SyncStatus};
use easd_protocol::Command;
use rand::Rng;
use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::time::Instant;

/// The password of every bench user (hashed once, the PHC string reused).
const PASSWORD: &str = "easd-bench-password";
/// A wake-up that takes longer than this is lost.
const WAKE_LIMIT: Duration = Duration::from_secs(10);
const DEVICE_INFO: DeviceInfo<'static> = DeviceInfo {
    model: "easd-bench",
    friendly_name: "easd bench device",
    user_agent: "easd-bench/1",
};

#[derive(clap::Subcommand)]
pub enum BenchCommand {
    /// Park many Pings on a running server, deliver mail, measure memory and wake-up latency.
    Ping(PingArgs),
    /// Generate contacts and events (some recurring, with time zones), import them into a
    /// fresh data dir, print items/s, seconds and peak RSS.
    Import(crate::bench_import::ImportBenchArgs),
}

#[derive(clap::Args)]
pub struct PingArgs {
    /// The server's EAS base URL on loopback: http://127.0.0.1:PORT or https://127.0.0.1:PORT.
    #[arg(long)]
    url: String,
    /// The server's LMTP listener on loopback, e.g. 127.0.0.1:2424.
    #[arg(long)]
    lmtp: String,
    /// The server's process id, to read its RSS and CPU time from /proc.
    #[arg(long)]
    server_pid: Option<u32>,
    /// PEM certificate to trust for https (default: accept any certificate, loopback only).
    #[arg(long)]
    ca: Option<PathBuf>,
    /// Users to create (bench0@bench.test ...).
    #[arg(long, default_value_t = 1000)]
    users: usize,
    /// Devices, i.e. parked Pings, spread evenly over the users.
    #[arg(long, default_value_t = 15_000)]
    devices: usize,
    /// Messages to deliver, each to a random user.
    #[arg(long, default_value_t = 1000)]
    messages: usize,
    /// Ping HeartbeatInterval in seconds.
    #[arg(long, default_value_t = 3000)]
    heartbeat: u32,
    /// Devices set up at once.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Overall deadline: 900, 900s, 15m or 1h.
    #[arg(long, default_value = "15m", value_parser = parse_duration)]
    timeout: Duration,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration"))?;
    let seconds = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => return Err(format!("{text:?}: use s, m or h")),
    };
    Ok(Duration::from_secs(seconds))
}

/// Raises the soft open-file limit to the hard one; returns the new (soft, hard) pair.
/// A server with many parked Pings, and this bench, hold one descriptor per connection.
#[cfg(unix)]
pub fn raise_nofile_limit() -> std::io::Result<(libc::rlim_t, libc::rlim_t)> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    if limit.rlim_cur < limit.rlim_max {
        limit.rlim_cur = limit.rlim_max;
        // SAFETY: as above.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok((limit.rlim_cur, limit.rlim_max))
}

#[cfg(not(unix))]
pub fn raise_nofile_limit() -> std::io::Result<(u64, u64)> {
    Ok((0, 0))
}

/// Makes glibc return big freed blocks to the system. Each argon2id verification allocates
/// 19 MiB; with glibc's adaptive mmap threshold those blocks end up in per-thread arenas and
/// stay resident: about 1.5 GB after 1000 logins on 2 cores, measured by this bench. A fixed
/// threshold keeps every allocation of 1 MiB or more in its own mapping, unmapped on free.
pub fn return_big_allocations() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes a global allocator parameter (glibc takes its own lock).
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1024 * 1024);
    }
}

pub fn run(data: &Path, command: BenchCommand) -> anyhow::Result<ExitCode> {
    match command {
        BenchCommand::Ping(args) => {
            let rt = crate::runtime()?;
            rt.block_on(ping_bench(data, args))
        }
        BenchCommand::Import(args) => crate::bench_import::run(args),
    }
}

// ----- targets, loopback only -----

fn loopback_addr(text: &str, what: &str) -> anyhow::Result<SocketAddr> {
    let (host, port) = text
        .rsplit_once(':')
        .with_context(|| format!("{what} {text:?} needs host:port"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let ip: IpAddr = if host.eq_ignore_ascii_case("localhost") {
        IpAddr::from([127, 0, 0, 1])
    } else {
        host.parse()
            .with_context(|| format!("{what} {text:?}: the host must be a loopback IP"))?
    };
    anyhow::ensure!(
        ip.is_loopback(),
        "{what} {text:?} is not loopback: the bench only targets this machine"
    );
    let port: u16 = port
        .parse()
        .with_context(|| format!("{what} {text:?}: bad port"))?;
    Ok(SocketAddr::new(ip, port))
}

/// The server's endpoint, after checking that it is on this machine. Without `--ca` any
/// certificate is accepted: the target is loopback.
fn target(url: &str, ca: Option<&Path>) -> anyhow::Result<Endpoint> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .with_context(|| format!("--url {url:?} must start with http:// or https://"))?;
    let authority = rest.split('/').next().unwrap_or(rest);
    loopback_addr(authority, "--url")?;
    let trust = match ca {
        Some(ca) => Trust::Ca(ca.to_owned()),
        None => Trust::Any,
    };
    Endpoint::new(url, &trust)
}

// ----- devices -----

struct Shared {
    endpoint: Arc<Endpoint>,
    users: Vec<String>,
    heartbeat: u32,
    parked: AtomicUsize,
    failed: AtomicUsize,
}

struct Device {
    index: usize,
    client: EasClient,
    inbox: String,
    sync_key: String,
}

enum Event {
    /// The device's Ping answered with this Status.
    Answered {
        device: usize,
        status: u32,
        at: Instant,
    },
    /// After a Status 2: the device synced and parked a new Ping, this long after the answer.
    Reparked { device: usize, took: Duration },
    /// The device stopped on an error (HTTP status, EAS status, connection).
    Failed { device: usize, what: String },
}

fn user_email(i: usize) -> String {
    format!("bench{i}@bench.test")
}

fn device_id(i: usize) -> String {
    format!("EASDBENCH{i:08}")
}

impl Device {
    fn new(index: usize, shared: &Shared) -> Device {
        let user = &shared.users[index % shared.users.len()];
        let mut client = EasClient::new(
            shared.endpoint.clone(),
            user,
            PASSWORD,
            device_id(index),
            "EasdBench",
        );
        client.user_agent = "easd-bench/1";
        Device {
            index,
            client,
            inbox: String::new(),
            sync_key: "0".into(),
        }
    }

    /// Provision (both steps), FolderSync, Sync 0 and Sync of the Inbox; then the Ping is sent.
    async fn set_up(&mut self, shared: &Shared) -> anyhow::Result<()> {
        self.client.provision(&DEVICE_INFO).await?;
        let (_, folders) = self.client.folder_sync("0").await?;
        self.inbox = folders
            .into_iter()
            .find(|f| f.folder_type == FolderType::Inbox)
            .map(|f| f.server_id)
            .context("FolderSync: no Inbox (Type 2)")?;
        self.sync_key = "0".into();
        self.sync().await?;
        self.sync().await?;
        self.send_ping(shared).await
    }

    /// One Sync of the Inbox with the current key; keeps the new key.
    async fn sync(&mut self) -> anyhow::Result<()> {
        let request = SyncRequest {
            collections: vec![SyncCollectionRequest::new(
                self.sync_key.clone(),
                self.inbox.clone(),
            )],
            ..SyncRequest::default()
        };
        let response = self.client.sync(&request).await?;
        if let Some(status) = response.status {
            bail!("Sync: Status {status}");
        }
        // An empty answer: nothing changed; the key stays.
        let Some(collection) = response.collections.first() else {
            return Ok(());
        };
        if collection.status != SyncStatus::Success {
            bail!("Sync: collection Status {}", collection.status);
        }
        self.sync_key = collection.sync_key.clone();
        Ok(())
    }

    async fn send_ping(&mut self, shared: &Shared) -> anyhow::Result<()> {
        let request = eas_client::ping_request(shared.heartbeat, &[(&self.inbox, "Email")]);
        self.client.send(Command::Ping, &request).await
    }

    /// Waits for the parked Ping's answer; its Status.
    async fn ping_answer(&mut self) -> anyhow::Result<u32> {
        Ok(self.client.ping_answer().await?.0)
    }

    /// The device's life after set-up: answer each Ping, re-sync on Status 2, park again.
    async fn run(
        mut self,
        shared: Arc<Shared>,
        events: mpsc::UnboundedSender<Event>,
        mut stop: watch::Receiver<bool>,
    ) {
        let index = self.index;
        let fail = |what: String| {
            let _ = events.send(Event::Failed {
                device: index,
                what,
            });
        };
        loop {
            let status = tokio::select! {
                s = self.ping_answer() => s,
                _ = stop.wait_for(|s| *s) => return,
            };
            let at = Instant::now();
            let status = match status {
                Ok(s) => s,
                Err(e) => return fail(format!("{e:#}")),
            };
            let _ = events.send(Event::Answered {
                device: index,
                status,
                at,
            });
            match status {
                // Heartbeat expired: park again.
                1 => {}
                2 => {
                    if let Err(e) = self.sync().await {
                        return fail(format!("{e:#}"));
                    }
                }
                other => return fail(format!("Ping: Status {other}")),
            }
            if let Err(e) = self.send_ping(&shared).await {
                return fail(format!("{e:#}"));
            }
            if status == 2 {
                let _ = events.send(Event::Reparked {
                    device: index,
                    took: at.elapsed(),
                });
            }
        }
    }
}

// ----- LMTP -----

struct Lmtp {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Lmtp {
    async fn connect(addr: SocketAddr) -> anyhow::Result<Lmtp> {
        let stream = TcpStream::connect(addr)
            .await
            .context("connecting to LMTP")?;
        stream.set_nodelay(true)?;
        let mut lmtp = Lmtp {
            stream,
            buf: Vec::new(),
        };
        lmtp.expect("220").await?;
        lmtp.command("LHLO bench.test\r\n", "250").await?;
        Ok(lmtp)
    }

    /// Reads one (possibly multi-line) reply and checks its code.
    async fn expect(&mut self, code: &str) -> anyhow::Result<()> {
        loop {
            while let Some(i) = eas_client::find(&self.buf, b"\r\n") {
                let line: Vec<u8> = self.buf.drain(..i + 2).collect();
                let line = String::from_utf8_lossy(&line[..i]).into_owned();
                if line.as_bytes().get(3) == Some(&b'-') {
                    continue;
                }
                anyhow::ensure!(
                    line.starts_with(code),
                    "LMTP: expected {code}, got {line:?}"
                );
                return Ok(());
            }
            self.buf.reserve(1024);
            if self.stream.read_buf(&mut self.buf).await? == 0 {
                bail!("LMTP: connection closed");
            }
        }
    }

    async fn command(&mut self, line: &str, code: &str) -> anyhow::Result<()> {
        self.stream.write_all(line.as_bytes()).await?;
        self.expect(code).await
    }

    /// Delivers one message; returns when its 250 arrived.
    async fn deliver(&mut self, to: &str, message: &str) -> anyhow::Result<(Instant, Instant)> {
        self.command("MAIL FROM:<bench@bench.test>\r\n", "250")
            .await?;
        self.command(&format!("RCPT TO:<{to}>\r\n"), "250").await?;
        self.command("DATA\r\n", "354").await?;
        let mut data = String::with_capacity(message.len() + 8);
        for line in message.split("\r\n") {
            if line.starts_with('.') {
                data.push('.');
            }
            data.push_str(line);
            data.push_str("\r\n");
        }
        data.push_str(".\r\n");
        let sent = Instant::now();
        self.stream.write_all(data.as_bytes()).await?;
        self.expect("250").await?;
        Ok((sent, Instant::now()))
    }

    async fn quit(mut self) {
        let _ = self.command("QUIT\r\n", "221").await;
    }
}

fn message(index: usize, to: &str) -> String {
    let date = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc2822)
        .unwrap_or_default();
    let nonce: u64 = rand::random();
    format!(
        "From: easd bench <bench@bench.test>\r\nTo: <{to}>\r\nSubject: bench message {index}\r\n\
         Date: {date}\r\nMessage-ID: <bench-{index}-{nonce:x}@bench.test>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nDirect Push bench message {index}.\r\n"
    )
}

// ----- the server's figures from /proc -----

fn rss_kb(pid: u32) -> Option<u64> {
    status_kb(pid, "VmRSS:")
}

/// A kB figure of /proc/PID/status ("VmRSS:", "VmHWM:" the peak).
pub fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// utime + stime in seconds.
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces), from field 3 on.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    Some((utime + stime) as f64 / ticks.max(1) as f64)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn mb(kb: u64) -> String {
    format!("{:.1} MB", kb as f64 / 1024.0)
}

/// Waits until the server's CPU use drops below 5% of a core (it has finished parking
/// what it was sent), at most `limit`.
async fn settle(pid: Option<u32>, limit: Duration) {
    let Some(pid) = pid else {
        tokio::time::sleep(Duration::from_secs(2)).await;
        return;
    };
    let end = Instant::now() + limit;
    let mut last = cpu_seconds(pid).unwrap_or(0.0);
    while Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = cpu_seconds(pid).unwrap_or(0.0);
        if now - last < 0.025 {
            return;
        }
        last = now;
    }
}

// ----- the bench -----

#[derive(Default)]
struct Tally {
    errors: usize,
    /// The first few error messages, for the report.
    samples: Vec<String>,
}

impl Tally {
    fn error(&mut self, what: String) {
        self.errors += 1;
        if self.samples.len() < 10 {
            self.samples.push(what);
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

async fn ping_bench(data: &Path, args: PingArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.users > 0 && args.devices >= args.users,
        "need --devices >= --users > 0"
    );
    anyhow::ensure!(args.concurrency > 0, "--concurrency must be at least 1");
    let target = target(&args.url, args.ca.as_deref())?;
    let lmtp_addr = loopback_addr(&args.lmtp, "--lmtp")?;
    let (soft, hard) = raise_nofile_limit().context("raising the open-file limit")?;
    println!(
        "easd bench ping: {} over {}",
        args.url,
        if target.url.tls { "TLS" } else { "plain HTTP" }
    );
    println!(
        "  users {}, devices {}, messages {}, heartbeat {} s, concurrency {}, timeout {} s",
        args.users,
        args.devices,
        args.messages,
        args.heartbeat,
        args.concurrency,
        args.timeout.as_secs()
    );
    println!(
        "  open files: soft {soft}, hard {hard}; load average {}",
        load_average()
    );
    if args.devices + 100 > soft as usize {
        println!(
            "  warning: {} devices need about as many descriptors; the limit is {soft}",
            args.devices
        );
    }

    let tally = Arc::new(Mutex::new(Tally::default()));
    let (stop_tx, stop_rx) = watch::channel(false);
    let run = run_bench(data, &args, target, lmtp_addr, tally.clone(), stop_rx);
    let outcome = tokio::time::timeout(args.timeout, run).await;
    let _ = stop_tx.send(true);
    // Let the device tasks drop their connections.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let clean = match outcome {
        Ok(Ok(clean)) => clean,
        Ok(Err(e)) => {
            println!("FAILED: {e:#}");
            false
        }
        Err(_) => {
            println!(
                "FAILED: the overall deadline of {} s passed",
                args.timeout.as_secs()
            );
            false
        }
    };
    let tally = tally.lock().unwrap_or_else(|e| e.into_inner());
    if !tally.samples.is_empty() {
        println!("first errors:");
        for s in &tally.samples {
            println!("  {s}");
        }
    }
    println!("result: {}", if clean { "PASS" } else { "FAIL" });
    Ok(if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Returns true when there were no errors and no lost wake-ups.
async fn run_bench(
    data: &Path,
    args: &PingArgs,
    target: Endpoint,
    lmtp_addr: SocketAddr,
    tally: Arc<Mutex<Tally>>,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<bool> {
    let pid = args.server_pid;
    let error = |what: String| tally.lock().unwrap_or_else(|e| e.into_inner()).error(what);

    // Users, straight into the store; one argon2 hash for all.
    let started = Instant::now();
    let users: Vec<String> = (0..args.users).map(user_email).collect();
    {
        use easd_store::Store;
        let store = crate::open_store(data)?;
        let hash = easd_store::password::hash_password(PASSWORD);
        let mut created = 0;
        for email in &users {
            if store.account_by_email(email)?.is_none() {
                store.create_account(email, &hash)?;
                created += 1;
            }
        }
        println!(
            "users: {created} created, {} existed ({} s)",
            users.len() - created,
            secs(started)
        );
    }
    let shared = Arc::new(Shared {
        endpoint: Arc::new(target),
        users,
        heartbeat: args.heartbeat,
        parked: AtomicUsize::new(0),
        failed: AtomicUsize::new(0),
    });
    let rss_idle = pid.and_then(rss_kb);

    // Warm the server's credential cache: one argon2 verification per user, on short-lived
    // connections, so that the allocator's high-water mark from argon2 is in the baseline.
    let started = Instant::now();
    {
        let gate = Arc::new(Semaphore::new(args.concurrency.min(4)));
        let mut tasks = Vec::new();
        for user in 0..args.users {
            let shared = shared.clone();
            let gate = gate.clone();
            tasks.push(tokio::spawn(async move {
                let _permit = gate.acquire_owned().await.ok()?;
                let mut device = Device::new(user, &shared);
                device
                    .client
                    .provision_request(&DEVICE_INFO)
                    .await
                    .err()
                    .map(|e| format!("warm-up {}: {e:#}", device.client.device_id))
            }));
        }
        for t in tasks {
            if let Ok(Some(e)) = t.await {
                error(e);
            }
        }
    }
    settle(pid, Duration::from_secs(10)).await;
    let rss_before = pid.and_then(rss_kb);
    println!(
        "credential warm-up ({} users): {} s",
        args.users,
        secs(started)
    );

    // Set-up: every device provisions, syncs and parks its Ping.
    let (events_tx, mut events) = mpsc::unbounded_channel::<Event>();
    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(args.concurrency));
    for index in 0..args.devices {
        let shared = shared.clone();
        let gate = gate.clone();
        let events = events_tx.clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut device = Device::new(index, &shared);
            let result = {
                let Ok(_permit) = gate.acquire_owned().await else {
                    return;
                };
                device.set_up(&shared).await
            };
            match result {
                Ok(()) => {
                    shared.parked.fetch_add(1, Ordering::Relaxed);
                    device.run(shared, events, stop).await
                }
                Err(e) => {
                    shared.failed.fetch_add(1, Ordering::Relaxed);
                    let _ = events.send(Event::Failed {
                        device: index,
                        what: format!("set-up {}: {e:#}", device.client.device_id),
                    });
                }
            }
        });
    }
    drop(events_tx);
    let mut alive = vec![true; args.devices];
    // Devices whose wake-up was lost: their Status 2 may still come.
    let mut late: HashSet<usize> = HashSet::new();
    let mut last_report = Instant::now();
    loop {
        let parked = shared.parked.load(Ordering::Relaxed);
        let failed = shared.failed.load(Ordering::Relaxed);
        if parked + failed >= args.devices {
            break;
        }
        if last_report.elapsed() >= Duration::from_secs(10) {
            last_report = Instant::now();
            eprintln!(
                "  ... {parked} parked, {failed} failed, {} s, server RSS {}",
                secs(started),
                pid.and_then(rss_kb).map(mb).unwrap_or_default()
            );
        }
        while let Ok(event) = events.try_recv() {
            stray(event, &mut alive, &error, &mut late);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let setup = started.elapsed();
    settle(pid, Duration::from_secs(20)).await;
    while let Ok(event) = events.try_recv() {
        stray(event, &mut alive, &error, &mut late);
    }
    let parked = shared.parked.load(Ordering::Relaxed);
    let rss_parked = pid.and_then(rss_kb);
    println!(
        "set-up: {parked} Pings parked, {} failed, in {:.1} s ({:.0} devices/s)",
        shared.failed.load(Ordering::Relaxed),
        setup.as_secs_f64(),
        parked as f64 / setup.as_secs_f64().max(0.001)
    );
    if let (Some(idle), Some(before), Some(after)) = (rss_idle, rss_before, rss_parked) {
        println!(
            "server RSS: idle {}, after warm-up {}, with {parked} parked {}",
            mb(idle),
            mb(before),
            mb(after)
        );
        if parked > 0 {
            println!(
                "RSS per parked Ping: {:.1} KB (vs. idle: {:.1} KB)",
                after.saturating_sub(before) as f64 / parked as f64,
                after.saturating_sub(idle) as f64 / parked as f64
            );
        }
    }
    if let Some(own) = rss_kb(std::process::id()) {
        println!("bench RSS: {}", mb(own));
    }

    // Deliveries, one at a time, each measured until its wake-ups are in (or 10 s).
    let mut user_devices: Vec<Vec<usize>> = vec![Vec::new(); args.users];
    for d in 0..args.devices {
        user_devices[d % args.users].push(d);
    }
    let mut lmtp = Lmtp::connect(lmtp_addr).await?;
    let mut rng = rand::thread_rng();
    let mut from_250 = Vec::new();
    let mut from_data = Vec::new();
    let mut store_times = Vec::new();
    let mut resync = Vec::new();
    let mut before_250 = 0usize;
    let mut lost = 0usize;
    let mut expected_total = 0usize;
    let cpu_start = pid.and_then(cpu_seconds);
    let started = Instant::now();
    for m in 0..args.messages {
        let user = rng.gen_range(0..args.users);
        let mut waiting: HashSet<usize> = user_devices[user]
            .iter()
            .copied()
            .filter(|&d| alive[d])
            .collect();
        expected_total += waiting.len();
        let to = user_email(user);
        let (sent, acked) = match lmtp.deliver(&to, &message(m, &to)).await {
            Ok(times) => times,
            Err(e) => {
                error(format!("delivery {m} to {to}: {e:#}"));
                lost += waiting.len();
                lmtp = Lmtp::connect(lmtp_addr).await?;
                continue;
            }
        };
        store_times.push(acked - sent);
        let mut reparking: HashSet<usize> = HashSet::new();
        let deadline = acked + WAKE_LIMIT;
        while !waiting.is_empty() {
            let Ok(Some(event)) = tokio::time::timeout_at(deadline, events.recv()).await else {
                break;
            };
            match event {
                Event::Answered {
                    device,
                    status: 2,
                    at,
                } if waiting.remove(&device) => {
                    if at < acked {
                        before_250 += 1;
                    }
                    from_250.push(at.saturating_duration_since(acked));
                    from_data.push(at.saturating_duration_since(sent));
                    reparking.insert(device);
                }
                Event::Reparked { device, took } if reparking.remove(&device) => resync.push(took),
                Event::Failed { device, what } if waiting.remove(&device) => {
                    alive[device] = false;
                    error(what);
                }
                other => stray(other, &mut alive, &error, &mut late),
            }
        }
        if !waiting.is_empty() {
            lost += waiting.len();
            late.extend(waiting.iter().copied());
            if lost <= 10 {
                eprintln!(
                    "  lost wake-up: delivery {m} to {to}: {} devices did not answer in 10 s",
                    waiting.len()
                );
            }
        }
        // Let the woken devices sync and park again before the next delivery.
        let deadline = Instant::now() + WAKE_LIMIT;
        while !reparking.is_empty() {
            let Ok(Some(event)) = tokio::time::timeout_at(deadline, events.recv()).await else {
                break;
            };
            match event {
                Event::Reparked { device, took } if reparking.remove(&device) => resync.push(took),
                Event::Failed { device, what } if reparking.remove(&device) => {
                    alive[device] = false;
                    error(what);
                }
                other => stray(other, &mut alive, &error, &mut late),
            }
        }
        for d in reparking {
            error(format!(
                "{}: did not sync and park again within 10 s",
                device_id(d)
            ));
        }
        if (m + 1) % 100 == 0 {
            eprintln!("  ... {} deliveries, {} s", m + 1, secs(started));
        }
    }
    let delivery_time = started.elapsed();
    let cpu_used = match (cpu_start, pid.and_then(cpu_seconds)) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    lmtp.quit().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    while let Ok(event) = events.try_recv() {
        stray(event, &mut alive, &error, &mut late);
    }

    from_250.sort();
    from_data.sort();
    store_times.sort();
    resync.sort();
    println!(
        "deliveries: {} in {:.1} s; LMTP end of DATA → 250: p50 {}, p99 {}",
        args.messages,
        delivery_time.as_secs_f64(),
        ms(percentile(&store_times, 50.0)),
        ms(percentile(&store_times, 99.0))
    );
    println!(
        "wake-up latency, 250 → Ping Status 2, over {} (delivery, device) pairs: p50 {}, p99 {}, max {} ({} answered before the 250)",
        from_250.len(),
        ms(percentile(&from_250, 50.0)),
        ms(percentile(&from_250, 99.0)),
        ms(from_250.last().copied().unwrap_or_default()),
        before_250
    );
    println!(
        "  from end of DATA: p50 {}, p99 {}, max {}",
        ms(percentile(&from_data, 50.0)),
        ms(percentile(&from_data, 99.0)),
        ms(from_data.last().copied().unwrap_or_default())
    );
    println!(
        "re-sync and park again after a wake-up: p50 {}, p99 {}, max {}",
        ms(percentile(&resync, 50.0)),
        ms(percentile(&resync, 99.0)),
        ms(resync.last().copied().unwrap_or_default())
    );
    let errors = tally.lock().unwrap_or_else(|e| e.into_inner()).errors;
    println!("errors: {errors}");
    println!("lost wake-ups: {lost} of {expected_total}");
    if let Some(cpu) = cpu_used {
        println!(
            "server CPU during deliveries: {cpu:.2} s ({:.1} ms per delivery)",
            cpu * 1000.0 / args.messages.max(1) as f64
        );
    }
    if let Some(rss) = pid.and_then(rss_kb) {
        println!("server RSS at the end: {}", mb(rss));
    }
    println!("load average: {}", load_average());
    Ok(errors == 0 && lost == 0)
}

/// An event outside the wake-ups being measured.
fn stray(event: Event, alive: &mut [bool], error: &impl Fn(String), late: &mut HashSet<usize>) {
    match event {
        // The heartbeat ran out: the device parks again.
        Event::Answered { status: 1, .. } => {}
        // A wake-up that came after its 10 s (already counted as lost).
        Event::Answered {
            device, status: 2, ..
        } if late.remove(&device) => {}
        Event::Answered { device, status, .. } => error(format!(
            "{}: unexpected Ping Status {status}",
            device_id(device)
        )),
        Event::Reparked { .. } => {}
        Event::Failed { device, what } => {
            alive[device] = false;
            error(what);
        }
    }
}

fn secs(since: Instant) -> String {
    format!("{:.1}", since.elapsed().as_secs_f64())
}
