//! `easd doctor`: reads the configuration, the access log and (with `--url`) a running
//! server, and reports each problem with its fix. Exit code 1 when it finds a problem.
//!
//! The rules are pure functions over the config and the log text so they can be tested.

use crate::ops_http;
use easd_server::config::Config;
use std::collections::HashMap;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

#[derive(clap::Args)]
pub struct DoctorArgs {
    /// A running server's EAS URL to check (OPTIONS, then an authenticated FolderSync).
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
    /// Accept any TLS certificate with --url.
    #[arg(long)]
    insecure: bool,
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

/// Repeated 5xx per device, and FolderSync storms (the access log does not carry SyncKeys:
/// a device asking for its folder hierarchy over and over is the usual sign of a
/// FolderSync key 0 loop).
pub fn check_access_log(text: &str) -> Vec<Finding> {
    const REPEATED_5XX: usize = 3;
    const FOLDERSYNC_LOOP: usize = 20;
    let mut errors: HashMap<String, usize> = HashMap::new();
    let mut folder_syncs: HashMap<String, usize> = HashMap::new();
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
        if field(line, "cmd") == Some("FolderSync") {
            *folder_syncs.entry(device).or_default() += 1;
        }
    }
    let mut out = Vec::new();
    let mut errors: Vec<_> = errors
        .into_iter()
        .filter(|(_, n)| *n >= REPEATED_5XX)
        .collect();
    errors.sort();
    for (device, n) in errors {
        out.push(finding(
            "device-5xx",
            "warning",
            format!("device {device} got {n} server errors (5xx)"),
            "look up its requests in access.log and the server log at those times; the device retries them".into(),
        ));
    }
    let mut loops: Vec<_> = folder_syncs
        .into_iter()
        .filter(|(_, n)| *n >= FOLDERSYNC_LOOP)
        .collect();
    loops.sort();
    for (device, n) in loops {
        out.push(finding(
            "foldersync-loop",
            "warning",
            format!("device {device} sent FolderSync {n} times: likely a hierarchy resync loop"),
            "remove and re-add the account on the device; if it recurs, capture its requests (easd wbxml decode)".into(),
        ));
    }
    out
}

/// The checks against a running server.
async fn check_server(url: &str, creds: Option<(&str, &str)>, insecure: bool) -> Vec<Finding> {
    let mut out = Vec::new();
    let timeout = Duration::from_secs(15);
    match ops_http::request("OPTIONS", url, &[], b"", timeout, insecure).await {
        Ok(r) if r.status == 200 && r.header("MS-ASProtocolVersions").is_some() => {}
        Ok(r) => out.push(finding(
            "options",
            "error",
            format!(
                "OPTIONS {url} answered HTTP {} without MS-ASProtocolVersions",
                r.status
            ),
            "check that the URL reaches easd (a proxy may answer instead or strip the headers)"
                .into(),
        )),
        Err(e) => {
            out.push(finding(
                "unreachable",
                "error",
                format!("OPTIONS {url} failed: {e:#}"),
                "check the URL, DNS, the listener (http_listen/https_listen) and firewalls (try `easd probe`)".into(),
            ));
            return out;
        }
    }
    let Some((user, password)) = creds else {
        return out;
    };
    use base64::Engine as _;
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    // FolderSync SyncKey 0 in WBXML (code page 7, FolderHierarchy), on a throwaway device.
    let body = [
        0x03, 0x01, 0x6a, 0x00, 0x00, 0x07, 0x56, 0x52, 0x03, b'0', 0x00, 0x01, 0x01,
    ];
    let device: String = (0..16)
        .map(|_| format!("{:X}", rand::random::<u8>() % 16))
        .collect();
    let sep = if url.contains('?') { '&' } else { '?' };
    let target = format!(
        "{url}{sep}Cmd=FolderSync&User={user}&DeviceId=DOCTOR{device}&DeviceType=easdDoctor"
    );
    let headers = [
        ("Authorization", format!("Basic {auth}")),
        ("MS-ASProtocolVersion", "14.1".to_owned()),
        ("Content-Type", "application/vnd.ms-sync.wbxml".to_owned()),
    ];
    match ops_http::request("POST", &target, &headers, &body, timeout, insecure).await {
        Ok(r) if r.status == 200 || r.status == 449 => {}
        Ok(r) if r.status == 401 => out.push(finding(
            "auth",
            "error",
            format!("the server refused {user}'s credentials (HTTP 401)"),
            "check the password (`easd user passwd`), the login name form (address or DOMAIN\\user) and lockouts".into(),
        )),
        Ok(r) => out.push(finding(
            "foldersync",
            "error",
            format!("FolderSync answered HTTP {}", r.status),
            "see the server log and access.log for this request".into(),
        )),
        Err(e) => out.push(finding(
            "foldersync",
            "error",
            format!("FolderSync failed: {e:#}"),
            "see the server log; a proxy may be cutting POSTs".into(),
        )),
    }
    out
}

pub fn run(data: &Path, config_file: Option<&Path>, args: DoctorArgs) -> anyhow::Result<ExitCode> {
    let config = easd_server::load_config(data, config_file)?;
    let hops = args
        .proxy_timeouts
        .iter()
        .map(|t| parse_proxy_timeout(t))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut findings = check_config(&config, &hops);
    if let Ok(text) = std::fs::read_to_string(data.join("access.log")) {
        findings.extend(check_access_log(&text));
    }
    if let Some(url) = &args.url {
        let creds = args.user.as_deref().zip(args.password.as_deref());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        findings.extend(rt.block_on(check_server(url, creds, args.insecure)));
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
        let ids: Vec<_> = check_access_log(&log)
            .into_iter()
            .map(|f| (f.id, f.message))
            .collect();
        assert_eq!(ids.len(), 2, "{ids:?}");
        assert_eq!(ids[0].0, "device-5xx");
        assert!(ids[0].1.contains("BAD"));
        assert_eq!(ids[1].0, "foldersync-loop");
        assert!(ids[1].1.contains("LOOP"));
    }
}
