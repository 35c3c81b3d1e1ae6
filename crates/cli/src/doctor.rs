//! `easd doctor`: reads the configuration, the TLS certificate, the access log, the store
//! (devices left in quarantine) and (with `--url`) a running server, and reports each
//! problem with its fix. Exit code 1 when it finds a problem.
//!
//! The rules are functions over the config, a certificate, the log text and the device list
//! so they can be tested. With `--url` and credentials it works as a throwaway device
//! (`easddoctor<random>`): Provision, FolderSync, Ping; the partnership is removed afterwards
//! when the server's store is in the data dir, else it stays for `easd device remove`.

use crate::eas_client::{self, DeviceInfo, EasClient, Endpoint, Trust};
use easd_protocol::commands::folder_sync::FolderType;
use easd_protocol::commands::sync::{SyncCollectionRequest, SyncRequest};
use easd_protocol::Command;
use easd_server::config::Config;
use easd_store::{AccessState, Partnership};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

#[derive(clap::Args)]
pub struct DoctorArgs {
    /// A running server's EAS URL to check: OPTIONS and its certificate, Autodiscover, and
    /// with --user/--password Provision, FolderSync and Ping on a throwaway device.
    #[arg(long)]
    url: Option<String>,
    #[arg(long, requires = "url")]
    user: Option<String>,
    #[arg(long, requires = "url")]
    password: Option<String>,
    /// An idle timeout on the path to the server, e.g. `lb=900` (load balancer, SNAT,
    /// reverse proxy, firewall); may be repeated.
    #[arg(long = "proxy-timeout", value_name = "NAME=SECONDS")]
    proxy_timeouts: Vec<String>,
    /// Findings as JSON lines {id, severity, message, fix}.
    #[arg(long)]
    json: bool,
    /// Accept any TLS certificate with --url (the certificate is still checked for expiry
    /// and name).
    #[arg(long)]
    insecure: bool,
    /// PEM certificate(s) to trust with --url.
    #[arg(long)]
    ca: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub id: &'static str,
    pub severity: &'static str,
    pub message: String,
    pub fix: String,
}

fn finding(id: &'static str, severity: &'static str, message: String, fix: String) -> Finding {
    Finding {
        id,
        severity,
        message,
        fix,
    }
}

/// How much longer than the longest heartbeat a hop's idle timeout must be: the server
/// answers `heartbeat_margin` early, and the answer must still cross the hop.
pub const HOP_MARGIN: u32 = 60;

pub fn parse_proxy_timeout(text: &str) -> anyhow::Result<(String, u32)> {
    let (name, secs) = text
        .split_once('=')
        .ok_or_else(|| anyhow::anyhow!("--proxy-timeout {text:?}: expected NAME=SECONDS"))?;
    let secs: u32 = secs
        .trim()
        .trim_end_matches('s')
        .parse()
        .map_err(|_| anyhow::anyhow!("--proxy-timeout {text:?}: bad seconds"))?;
    Ok((name.trim().to_owned(), secs))
}

/// Heartbeat bounds and the idle timeouts of the hops in front of the server.
pub fn check_config(config: &Config, hops: &[(String, u32)]) -> Vec<Finding> {
    let mut out = Vec::new();
    let (min, max) = (config.heartbeat_min, config.heartbeat_max);
    if min > max {
        out.push(finding(
            "heartbeat-bounds",
            "error",
            format!("heartbeat_min ({min}) is above heartbeat_max ({max})"),
            "set heartbeat_min below heartbeat_max (defaults: 60 and 3540)".into(),
        ));
    }
    if min > 60 {
        out.push(finding(
            "heartbeat-min",
            "warning",
            format!("heartbeat_min = {min}: devices that start their Ping at 60 s get Status 5 and retry"),
            "set heartbeat_min = 60".into(),
        ));
    }
    if max > 3540 {
        out.push(finding(
            "heartbeat-max-high",
            "warning",
            format!(
                "heartbeat_max = {max} is above 3540 s, the longest heartbeat clients use (59 min)"
            ),
            "set heartbeat_max = 3540 or lower".into(),
        ));
    }
    if max < 480 {
        out.push(finding(
            "heartbeat-max-low",
            "warning",
            format!("heartbeat_max = {max}: below 480 s devices reconnect often and drain batteries"),
            "raise heartbeat_max to at least 480 (and every idle timeout in front of the server above it)".into(),
        ));
    }
    for (name, secs) in hops {
        let needed = max + HOP_MARGIN;
        if *secs <= needed {
            let lower = secs.saturating_sub(HOP_MARGIN);
            let lower_fix = if lower >= 480 {
                format!(", or set heartbeat_max = {lower} in easd.toml")
            } else {
                String::from(" (lowering heartbeat_max that far would go below 480 s)")
            };
            out.push(finding(
                "proxy-timeout",
                "error",
                format!(
                    "{name} closes idle connections after {secs} s, but a Ping may be held up to heartbeat_max = {max} s: \
                     the hop cuts parked Pings, devices see errors and fall back to polling or shorten their heartbeat"
                ),
                format!("raise {name}'s idle timeout above {needed} s{lower_fix}"),
            ));
        }
    }
    if config.heartbeat_margin >= min.max(1) {
        out.push(finding(
            "heartbeat-margin",
            "warning",
            format!(
                "heartbeat_margin = {} is not below heartbeat_min = {min}",
                config.heartbeat_margin
            ),
            "set heartbeat_margin to a few seconds (default 5)".into(),
        ));
    }
    out
}

fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.split(' ')
        .find_map(|kv| kv.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
}

/// Repeated 5xx per device, FolderSync storms, and sync key resets over and over. The
/// access log does not carry SyncKeys: a device asking for its folder hierarchy again and
/// again is the usual sign of a FolderSync key 0 loop, and one that keeps getting "invalid
/// sync key" (Sync Status 3, FolderSync Status 9; MS-ASCMD 2.2.3.177.17, 2.2.3.177.5)
/// resyncs from 0 each time.
pub fn check_access_log(text: &str) -> Vec<Finding> {
    const REPEATED_5XX: usize = 3;
    const FOLDERSYNC_LOOP: usize = 20;
    const RESET_LOOP: usize = 5;
    let mut errors: HashMap<String, usize> = HashMap::new();
    let mut folder_syncs: HashMap<String, usize> = HashMap::new();
    let mut resets: HashMap<String, usize> = HashMap::new();
    for line in text.lines() {
        let device = match field(line, "device") {
            Some(d) if d != "-" => format!("{} ({})", d, field(line, "user").unwrap_or("-")),
            _ => continue,
        };
        if field(line, "http")
            .and_then(|s| s.parse::<u16>().ok())
            .is_some_and(|s| s >= 500)
        {
            *errors.entry(device.clone()).or_default() += 1;
        }
        let reset = matches!(
            (field(line, "cmd"), field(line, "eas")),
            (Some("Sync"), Some("3")) | (Some("FolderSync"), Some("9"))
        );
        if reset {
            *resets.entry(device.clone()).or_default() += 1;
        }
        if field(line, "cmd") == Some("FolderSync") {
            *folder_syncs.entry(device).or_default() += 1;
        }
    }
    let mut out = Vec::new();
    for (device, n) in at_least(errors, REPEATED_5XX) {
        out.push(finding(
            "device-5xx",
            "warning",
            format!("device {device} got {n} server errors (5xx)"),
            "look up its requests in access.log and the server log at those times; the device retries them".into(),
        ));
    }
    for (device, n) in at_least(folder_syncs, FOLDERSYNC_LOOP) {
        out.push(finding(
            "foldersync-loop",
            "warning",
            format!("device {device} sent FolderSync {n} times: likely a hierarchy resync loop"),
            "remove and re-add the account on the device; if it recurs, capture its requests (easd wbxml decode)".into(),
        ));
    }
    for (device, n) in at_least(resets, RESET_LOOP) {
        out.push(finding(
            "sync-loop",
            "warning",
            format!("device {device} was told {n} times that its sync key is invalid: it resyncs from 0 again and again"),
            "turn on mailbox logging for it (`easd log enable`) to see which key it replays; removing the partnership (`easd device remove`) makes it start clean".into(),
        ));
    }
    out
}

/// The devices counted `threshold` times or more, in order.
fn at_least(counts: HashMap<String, usize>, threshold: usize) -> Vec<(String, usize)> {
    let mut over: Vec<_> = counts
        .into_iter()
        .filter(|(_, n)| *n >= threshold)
        .collect();
    over.sort();
    over
}

/// Warn this long before a certificate expires.
pub const CERT_WARN_DAYS: i64 = 30;

/// A certificate's expiry and whether it is valid for `host` (a DNS name or an IP address,
/// as a client would check it: RFC 6125 through webpki). `source` says where it came from.
pub fn check_certificate(der: &[u8], host: &str, now: i64, source: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    let not_after = match x509_parser::parse_x509_certificate(der) {
        Ok((_, cert)) => cert.validity().not_after.timestamp(),
        Err(e) => {
            out.push(finding(
                "tls-certificate",
                "error",
                format!("{source}: the certificate does not parse: {e}"),
                "install a valid PEM certificate chain (tls_cert, tls_key)".into(),
            ));
            return out;
        }
    };
    let days = (not_after - now).div_euclid(86_400);
    let date = time::OffsetDateTime::from_unix_timestamp(not_after)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| not_after.to_string());
    if not_after <= now {
        out.push(finding(
            "tls-expired",
            "error",
            format!("{source}: the certificate expired on {date}: devices refuse to connect"),
            "renew the certificate now and restart easd (tls_cert, tls_key)".into(),
        ));
    } else if days < CERT_WARN_DAYS {
        out.push(finding(
            "tls-expiry",
            "warning",
            format!("{source}: the certificate expires in {days} days ({date})"),
            "renew it before then; devices stop syncing the moment it expires".into(),
        ));
    }
    let name = rustls_pki_types::ServerName::try_from(host.to_owned());
    let valid = match (
        webpki::EndEntityCert::try_from(&rustls_pki_types::CertificateDer::from(der)),
        name,
    ) {
        (Ok(cert), Ok(name)) => cert.verify_is_valid_for_subject_name(&name).is_ok(),
        _ => false,
    };
    if !valid {
        out.push(finding(
            "tls-name",
            "error",
            format!("{source}: the certificate is not valid for {host:?}: devices reject it"),
            format!("use a certificate whose subject alternative names include {host}"),
        ));
    }
    out
}

/// The host name phones use: `public_url`'s, else `hostname`.
pub fn public_host(config: &Config) -> String {
    config
        .public_url
        .as_deref()
        .and_then(|u| eas_client::parse_url(u).ok())
        .map(|u| u.host)
        .unwrap_or_else(|| config.hostname.clone())
}

/// The configured certificate (or the self-signed one in the data dir) against the public
/// host name.
fn check_configured_certificate(data: &Path, config: &Config, now: i64) -> Vec<Finding> {
    use rustls_pki_types::pem::PemObject;
    let path = config
        .tls_cert
        .clone()
        .unwrap_or_else(|| data.join("tls").join("cert.pem"));
    if config.https_listen.is_empty() || !path.exists() {
        return Vec::new();
    }
    match rustls_pki_types::CertificateDer::from_pem_file(&path) {
        Ok(der) => check_certificate(&der, &public_host(config), now, &path.display().to_string()),
        Err(e) => vec![finding(
            "tls-certificate",
            "error",
            format!("{}: {e}", path.display()),
            "install a valid PEM certificate chain (tls_cert, tls_key)".into(),
        )],
    }
}

/// Devices quarantined for longer than this are waiting on an administrator.
pub const QUARANTINE_HOURS: i64 = 24;

/// Devices left in quarantine: (account address, partnership).
pub fn check_quarantine(devices: &[(String, Partnership)], now: i64) -> Vec<Finding> {
    let mut out = Vec::new();
    for (email, p) in devices {
        if p.access_state != AccessState::Quarantined {
            continue;
        }
        // The store keeps no time of the access change; a device is quarantined when it
        // first appears, so its age is the partnership's.
        let hours = (now - p.created_at) / 3600;
        if hours >= QUARANTINE_HOURS {
            out.push(finding(
                "quarantine",
                "warning",
                format!(
                    "device {} ({}, {email}) has waited in quarantine for {hours} h{}",
                    p.device_id,
                    p.device_type,
                    if p.access_reason.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", p.access_reason)
                    }
                ),
                format!(
                    "decide: `easd device allow {0}` or `easd device block {0}` (or add an access rule)",
                    p.device_id
                ),
            ));
        }
    }
    out
}

/// Below this, a policy refresh interval (MS-ASPROV: the device provisions again when it
/// runs out) keeps phones busy re-provisioning, and some show "Access Denied" or ask the user
/// to accept the policy again each time.
const SHORTEST_SANE_REFRESH: u64 = 3600;

/// Policies whose refresh interval would keep devices re-provisioning.
pub fn check_policies(policies: &[easd_engine::policy::PolicyView]) -> Vec<Finding> {
    policies
        .iter()
        .filter_map(|p| {
            let seconds = p.refresh_interval?;
            (seconds < SHORTEST_SANE_REFRESH).then(|| {
                finding(
                    "policy-refresh",
                    "warning",
                    format!(
                        "policy {} makes its devices re-provision every {seconds} s \
                         (DevicePolicyRefreshInterval); phones in the middle of it answer \
                         Access Denied, and a Ping loses its push each time",
                        p.name
                    ),
                    format!(
                        "`easd policy set {} DevicePolicyRefreshInterval=unlimited` (a policy \
                         change already makes devices re-provision), or at least {} s",
                        p.name, SHORTEST_SANE_REFRESH
                    ),
                )
            })
        })
        .collect()
}

fn check_store(data: &Path, now: i64) -> Vec<Finding> {
    use easd_store::Store;
    let Some(store) = existing_store(data) else {
        return Vec::new();
    };
    let Ok(all) = store.list_partnerships(None) else {
        return Vec::new();
    };
    let devices: Vec<(String, Partnership)> = all
        .into_iter()
        .map(|p| {
            let email = store
                .account(p.account)
                .ok()
                .flatten()
                .map(|a| a.email)
                .unwrap_or_default();
            (email, p)
        })
        .collect();
    let mut out = check_quarantine(&devices, now);
    if let Ok(policies) = easd_engine::policy::list(&store) {
        out.extend(check_policies(&policies));
    }
    out
}

/// The data dir's store, when there is one (doctor may run beside a remote server).
fn existing_store(data: &Path) -> Option<easd_store::SqliteStore> {
    data.join(easd_store::DB_FILE_NAME)
        .exists()
        .then(|| crate::open_store(data).ok())
        .flatten()
}

/// The DeviceId of doctor's throwaway partnership.
fn throwaway_device_id() -> String {
    format!("easddoctor{:08x}", rand::random::<u32>())
}

/// The checks against a running server: OPTIONS (and its certificate), Autodiscover, and
/// with credentials Provision, FolderSync and Ping on a throwaway device.
async fn check_server(
    url: &str,
    creds: Option<(&str, &str)>,
    trust: &Trust,
    data: &Path,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let timeout = Duration::from_secs(15);
    let endpoint = match Endpoint::new(url, trust) {
        Ok(e) => Arc::new(e),
        Err(e) => {
            out.push(finding(
                "url",
                "error",
                format!("{url}: {e:#}"),
                "give the EAS URL, e.g. https://mail.example.com/Microsoft-Server-ActiveSync"
                    .into(),
            ));
            return out;
        }
    };
    let options = async {
        let mut conn = endpoint.connect().await?;
        let head = endpoint.head(
            "OPTIONS",
            endpoint.eas_path(),
            &[("Connection", "close"), ("User-Agent", "easd-doctor")],
            0,
        );
        conn.send(head.as_bytes()).await?;
        let reply = conn.read_reply().await?;
        anyhow::Ok((reply, conn.peer_certificates.take()))
    };
    match tokio::time::timeout(timeout, options).await {
        Ok(Ok((r, certs))) => {
            if r.status != 200 || r.header("MS-ASProtocolVersions").is_none() {
                out.push(finding(
                    "options",
                    "error",
                    format!("OPTIONS {url} answered HTTP {} without MS-ASProtocolVersions", r.status),
                    "check that the URL reaches easd (a proxy may answer instead or strip the headers)".into(),
                ));
            }
            if let Some(leaf) = certs.as_ref().and_then(|c| c.first()) {
                let now = time::OffsetDateTime::now_utc().unix_timestamp();
                out.extend(check_certificate(
                    leaf,
                    &endpoint.url.host,
                    now,
                    &format!("the certificate {url} serves"),
                ));
            }
        }
        Ok(Err(e)) => {
            out.push(finding(
                "unreachable",
                "error",
                format!("OPTIONS {url} failed: {e:#}"),
                "check the URL, DNS, the listener (http_listen/https_listen), firewalls and the certificate (try `easd probe`)".into(),
            ));
            return out;
        }
        Err(_) => {
            out.push(finding(
                "unreachable",
                "error",
                format!("OPTIONS {url} timed out after {} s", timeout.as_secs()),
                "check the URL, firewalls and proxies (try `easd probe`)".into(),
            ));
            return out;
        }
    }
    let Some((user, password)) = creds else {
        return out;
    };
    out.extend(check_autodiscover(&endpoint, user, trust, timeout).await);
    let device_id = throwaway_device_id();
    let mut client = EasClient::new(
        endpoint.clone(),
        user,
        password,
        device_id.clone(),
        "EasdDoctor",
    );
    client.user_agent = "easd-doctor/1";
    client.version = "14.1";
    match tokio::time::timeout(
        Duration::from_secs(60),
        device_checks(&mut client, endpoint.clone(), user, password),
    )
    .await
    {
        Ok(findings) => out.extend(findings),
        Err(_) => out.push(finding(
            "device-checks",
            "error",
            "Provision, FolderSync and Ping did not finish within 60 s".into(),
            "see the server log and access.log for the device ".to_owned() + &device_id,
        )),
    }
    remove_throwaway(data, &device_id);
    out
}

/// GET autodiscover.json (the Autodiscover v2 lookup of Outlook mobile and iOS) on the
/// EAS URL's server: it must answer with an EAS URL.
async fn check_autodiscover(
    endpoint: &Endpoint,
    user: &str,
    trust: &Trust,
    timeout: Duration,
) -> Vec<Finding> {
    let u = &endpoint.url;
    let host = if u.host.contains(':') {
        format!("[{}]", u.host)
    } else {
        u.host.clone()
    };
    let url = format!(
        "{}://{host}:{}/autodiscover/autodiscover.json?Email={user}&Protocol=ActiveSync",
        if u.tls { "https" } else { "http" },
        u.port
    );
    let fix =
        "make /autodiscover/ on this host (and on autodiscover.<domain>) reach easd".to_owned();
    match eas_client::request("GET", &url, &[], b"", timeout, trust).await {
        Ok(r) if r.status == 200 => {
            let url_in_answer = serde_json::from_slice::<serde_json::Value>(&r.body)
                .ok()
                .and_then(|v| v.get("Url").and_then(|u| u.as_str()).map(str::to_owned));
            match url_in_answer {
                Some(_) => Vec::new(),
                None => vec![finding(
                    "autodiscover",
                    "warning",
                    format!("{url} answered without a Url"),
                    fix,
                )],
            }
        }
        Ok(r) => vec![finding(
            "autodiscover",
            "warning",
            format!("{url} answered HTTP {}", r.status),
            fix,
        )],
        Err(e) => vec![finding(
            "autodiscover",
            "warning",
            format!("{url} failed: {e:#}"),
            fix,
        )],
    }
}

/// Provision (both phases), FolderSync, and a Ping: first out of bounds (Status 5 gives the
/// shortest heartbeat, MS-ASCMD 2.2.3.79.1), then parked with that heartbeat and ended by a
/// Sync of the same device (MS-ASCMD 2.2.1.13: a new request from the device answers its
/// parked Ping), which proves a Ping parks and is answered by the server without waiting
/// out the heartbeat.
async fn device_checks(
    client: &mut EasClient,
    endpoint: Arc<Endpoint>,
    user: &str,
    password: &str,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let info = DeviceInfo {
        model: "easd doctor",
        friendly_name: "easd doctor (throwaway)",
        user_agent: "easd-doctor/1",
    };
    if let Err(e) = client.provision(&info).await {
        let text = format!("{e:#}");
        out.push(if text.contains("HTTP 401") {
            finding(
                "auth",
                "error",
                format!("the server refused {user}'s credentials (HTTP 401)"),
                "check the password (`easd user passwd`), the login name form (address or DOMAIN\\user) and lockouts".into(),
            )
        } else {
            finding("provision", "error", format!("Provision failed: {text}"), "see the server log and access.log; check the device access rules (`easd rule list`)".into())
        });
        return out;
    }
    let inbox = match client.folder_sync("0").await {
        Ok((_, folders)) => folders
            .into_iter()
            .find(|f| f.folder_type == FolderType::Inbox)
            .map(|f| f.server_id),
        Err(e) => {
            out.push(finding(
                "foldersync",
                "error",
                format!("FolderSync failed: {e:#}"),
                "see the server log and access.log for this request".into(),
            ));
            return out;
        }
    };
    let Some(inbox) = inbox else {
        out.push(finding(
            "foldersync",
            "error",
            "FolderSync listed no Inbox".into(),
            "check the account's folders (`easd user show`)".into(),
        ));
        return out;
    };
    let ping_fix = "see the server log; check heartbeat_min and heartbeat_max".to_owned();
    let min = match client.ping(1, &[(&inbox, "Email")]).await {
        Ok((5, Some(min))) => min,
        Ok((status, _)) => {
            out.push(finding("ping", "error", format!("a Ping with HeartbeatInterval 1 got Status {status}, not 5 with the allowed bound"), ping_fix));
            return out;
        }
        Err(e) => {
            out.push(finding(
                "ping",
                "error",
                format!("Ping failed: {e:#}"),
                ping_fix,
            ));
            return out;
        }
    };
    if let Err(e) = client
        .send(
            Command::Ping,
            &eas_client::ping_request(min, &[(&inbox, "Email")]),
        )
        .await
    {
        out.push(finding(
            "ping",
            "error",
            format!("Ping failed: {e:#}"),
            ping_fix,
        ));
        return out;
    }
    // The same device on a second connection: its Sync ends the parked Ping. A Sync that
    // arrives before the Ping has parked ends nothing, so repeat until the Ping answers.
    let mut other = EasClient::new(
        endpoint,
        user,
        password,
        client.device_id.clone(),
        client.device_type.clone(),
    );
    other.version = client.version;
    other.policy_key = client.policy_key;
    let sync = SyncRequest {
        collections: vec![SyncCollectionRequest::new("0", inbox.clone())],
        ..SyncRequest::default()
    };
    let answered = async {
        // One read of the answer for the whole wait: a read cut short could lose its head.
        let answer = client.ping_answer();
        tokio::pin!(answer);
        loop {
            tokio::select! {
                answer = &mut answer => return answer,
                _ = tokio::time::sleep(Duration::from_millis(500)) => other.sync(&sync).await?,
            };
        }
    };
    match tokio::time::timeout(Duration::from_secs(20), answered).await {
        Ok(Ok((1, _))) => {}
        Ok(Ok((status, _))) => out.push(finding(
            "ping",
            "error",
            format!(
                "a parked Ping ended by the device's next request answered Status {status}, not 1"
            ),
            ping_fix,
        )),
        Ok(Err(e)) => out.push(finding(
            "ping",
            "error",
            format!("Ping failed: {e:#}"),
            ping_fix,
        )),
        Err(_) => out.push(finding(
            "ping",
            "error",
            "a parked Ping was not answered when the device sent its next request".into(),
            "a proxy may be buffering the Ping; see ARCHITECTURE.md invariant 4".into(),
        )),
    }
    out
}

/// Removes the throwaway partnership when the store is at hand (doctor on the server's
/// machine); otherwise it stays, named easddoctor..., for `easd device remove`.
fn remove_throwaway(data: &Path, device_id: &str) {
    use easd_store::Store;
    let Some(store) = existing_store(data) else {
        return;
    };
    if let Ok(found) = store.partnerships_by_device_id(device_id) {
        for p in found {
            let _ = store.remove_partnership(p.id);
        }
    }
}

pub fn run(data: &Path, config_file: Option<&Path>, args: DoctorArgs) -> anyhow::Result<ExitCode> {
    let config = easd_server::load_config(data, config_file)?;
    let hops = args
        .proxy_timeouts
        .iter()
        .map(|t| parse_proxy_timeout(t))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut findings = check_config(&config, &hops);
    findings.extend(check_configured_certificate(data, &config, now));
    if let Ok(text) = std::fs::read_to_string(data.join("access.log")) {
        findings.extend(check_access_log(&text));
    }
    findings.extend(check_store(data, now));
    if let Some(url) = &args.url {
        let creds = args.user.as_deref().zip(args.password.as_deref());
        let trust = Trust::from_args(args.ca.clone(), args.insecure);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        findings.extend(rt.block_on(check_server(url, creds, &trust, data)));
    }
    for f in &findings {
        if args.json {
            println!(
                "{}",
                serde_json::json!({"id": f.id, "severity": f.severity, "message": f.message, "fix": f.fix})
            );
        } else {
            println!(
                "{} [{}] {}\n    fix: {}",
                f.severity.to_uppercase(),
                f.id,
                f.message,
                f.fix
            );
        }
    }
    if findings.is_empty() {
        if !args.json {
            println!("no problems found");
        }
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(ExitCode::FAILURE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_clean() {
        assert!(check_config(&Config::default(), &[]).is_empty());
        assert!(check_config(&Config::default(), &[("lb".into(), 3700)]).is_empty());
    }

    #[test]
    fn short_load_balancer_timeout_is_flagged_with_its_fix() {
        let f = check_config(&Config::default(), &[("lb".into(), 900)]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].id, "proxy-timeout");
        assert_eq!(f[0].severity, "error");
        assert!(f[0].message.contains("900"));
        assert!(f[0].fix.contains("above 3600"), "{}", f[0].fix);
        assert!(f[0].fix.contains("heartbeat_max = 840"), "{}", f[0].fix);
        // Just at the edge still counts: the answer needs time to cross the hop.
        assert_eq!(
            check_config(&Config::default(), &[("snat".into(), 3600)]).len(),
            1
        );
    }

    #[test]
    fn heartbeat_bounds() {
        let c = Config {
            heartbeat_min: 120,
            heartbeat_max: 4000,
            ..Config::default()
        };
        let ids: Vec<_> = check_config(&c, &[]).into_iter().map(|f| f.id).collect();
        assert_eq!(ids, ["heartbeat-min", "heartbeat-max-high"]);
        let c = Config {
            heartbeat_max: 300,
            ..Config::default()
        };
        assert_eq!(check_config(&c, &[])[0].id, "heartbeat-max-low");
    }

    #[test]
    fn proxy_timeout_arguments() {
        assert_eq!(parse_proxy_timeout("lb=900").unwrap(), ("lb".into(), 900));
        assert_eq!(
            parse_proxy_timeout("nginx = 75s").unwrap(),
            ("nginx".into(), 75)
        );
        assert!(parse_proxy_timeout("lb").is_err());
    }

    /// A real certificate for `names`, valid until `days` from now (negative: expired).
    fn certificate(names: &[&str], days: i64) -> (Vec<u8>, i64) {
        let now = time::OffsetDateTime::now_utc();
        let mut params =
            rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        params.not_before = now - time::Duration::days(400);
        params.not_after = now + time::Duration::days(days);
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        (cert.der().to_vec(), now.unix_timestamp())
    }

    fn ids(findings: &[Finding]) -> Vec<&'static str> {
        findings.iter().map(|f| f.id).collect()
    }

    #[test]
    fn certificate_name_and_expiry() {
        let (der, now) = certificate(&["mail.example.com", "127.0.0.1"], 365);
        assert!(check_certificate(&der, "mail.example.com", now, "c").is_empty());
        assert!(check_certificate(&der, "127.0.0.1", now, "c").is_empty());
        let wrong = check_certificate(&der, "mx.example.org", now, "c");
        assert_eq!(ids(&wrong), ["tls-name"]);
        assert!(wrong[0].fix.contains("mx.example.org"));

        let (der, now) = certificate(&["mail.example.com"], 10);
        let soon = check_certificate(&der, "mail.example.com", now, "c");
        assert_eq!(ids(&soon), ["tls-expiry"]);
        assert!(
            soon[0].message.contains("expires in 9 days")
                || soon[0].message.contains("expires in 10 days"),
            "{}",
            soon[0].message
        );

        let (der, now) = certificate(&["mail.example.com"], -1);
        assert_eq!(
            ids(&check_certificate(&der, "mail.example.com", now, "c")),
            ["tls-expired"]
        );
        assert_eq!(
            ids(&check_certificate(b"junk", "x", now, "c")),
            ["tls-certificate"]
        );
    }

    #[test]
    fn the_public_host_is_the_public_urls() {
        let c = Config {
            public_url: Some("https://mail.example.org/Microsoft-Server-ActiveSync".into()),
            ..Config::default()
        };
        assert_eq!(public_host(&c), "mail.example.org");
        assert_eq!(public_host(&Config::default()), "localhost");
    }

    #[test]
    fn devices_waiting_in_quarantine() {
        use easd_store::Store;
        let dir = tempfile::tempdir().unwrap();
        let store = easd_store::SqliteStore::open_data_dir(dir.path()).unwrap();
        let account = store.create_account("q@example.com", "x").unwrap();
        let mut waiting = store
            .create_partnership(account.id, "WAITING1", "iPhone", "ua")
            .unwrap();
        waiting.access_state = AccessState::Quarantined;
        waiting.access_reason = "rule 2: quarantine iPhone".into();
        store.update_partnership(&waiting).unwrap();
        store
            .create_partnership(account.id, "ALLOWED1", "Android", "ua")
            .unwrap();
        let devices: Vec<(String, Partnership)> = store
            .list_partnerships(None)
            .unwrap()
            .into_iter()
            .map(|p| ("q@example.com".to_owned(), p))
            .collect();
        let created = waiting.created_at;
        assert!(check_quarantine(&devices, created + 3600).is_empty());
        let f = check_quarantine(&devices, created + 25 * 3600);
        assert_eq!(ids(&f), ["quarantine"]);
        assert!(f[0].message.contains("WAITING1") && f[0].message.contains("25 h"));
        assert!(f[0].message.contains("rule 2"));
        assert!(f[0].fix.contains("easd device allow WAITING1"));
    }

    #[test]
    fn a_short_policy_refresh_interval_is_flagged() {
        let dir = tempfile::tempdir().unwrap();
        let store = easd_store::SqliteStore::open_data_dir(dir.path()).unwrap();
        let set = |name: &str, value: &str| {
            easd_engine::policy::set(
                &store,
                name,
                &[(
                    easd_engine::policy::REFRESH_INTERVAL.to_owned(),
                    value.to_owned(),
                )],
            )
            .unwrap();
        };
        set("daily", "86400");
        set("hasty", "600");
        let policies = easd_engine::policy::list(&store).unwrap();
        let f = check_policies(&policies);
        assert_eq!(ids(&f), ["policy-refresh"]);
        assert!(f[0].message.contains("hasty") && f[0].message.contains("600 s"));
        assert!(f[0]
            .fix
            .contains("easd policy set hasty DevicePolicyRefreshInterval=unlimited"));
        set("hasty", "unlimited");
        assert!(check_policies(&easd_engine::policy::list(&store).unwrap()).is_empty());
    }

    #[test]
    fn access_log_rules() {
        let line = |dev: &str, cmd: &str, http: u16| {
            format!("2026-11-25T16:22:49Z ip=1.2.3.4 user=a@x device={dev} type=iPhone cmd={cmd} ver=16.1 http={http} eas=- ms=3 in=1 out=1 hb=-\n")
        };
        let mut log = String::new();
        for _ in 0..3 {
            log += &line("BAD", "Sync", 500);
        }
        for _ in 0..25 {
            log += &line("LOOP", "FolderSync", 200);
        }
        log += &line("OK", "Sync", 200);
        log += &line("OK", "Sync", 503);
        for _ in 0..5 {
            log += &line("RESET", "Sync", 200).replace("eas=-", "eas=3");
        }
        for _ in 0..4 {
            log += &line("FEW", "FolderSync", 200).replace("eas=-", "eas=9");
        }
        let ids: Vec<_> = check_access_log(&log)
            .into_iter()
            .map(|f| (f.id, f.message))
            .collect();
        assert_eq!(ids.len(), 3, "{ids:?}");
        assert_eq!(ids[0].0, "device-5xx");
        assert!(ids[0].1.contains("BAD"));
        assert_eq!(ids[1].0, "foldersync-loop");
        assert!(ids[1].1.contains("LOOP"));
        assert_eq!(ids[2].0, "sync-loop");
        assert!(ids[2].1.contains("RESET") && ids[2].1.contains("5 times"));
    }
}
