//! `easd probe`: is each URL reachable, and how fast does it answer? Like the PowerShell URL
//! probe of the EAS troubleshooting guides: 200, 401 and 407 mean something answered
//! (authentication is not the probe's business); anything else, or no answer, is down.
//!
//! Output: one line per URL (or per change of state with `--interval`); `--json` gives
//! `{"event":1000|1001,"state":...,"url","status","ms","error"}`, `--syslog` RFC 5424 lines
//! with the same event ids as MSGID. Exit code 0 only when every URL was reachable.

use crate::eas_client::{self, Trust};
use std::collections::HashMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

pub const EVENT_REACHABLE: u32 = 1000;
pub const EVENT_DOWN: u32 = 1001;

#[derive(clap::Args)]
pub struct ProbeArgs {
    /// File with one URL a line (`#` comments; an optional `GET ` or `OPTIONS ` prefix);
    /// standard input when absent or `-`.
    urls_file: Option<String>,
    /// Probe a URL (may be repeated; added to the file's).
    #[arg(long = "url")]
    urls: Vec<String>,
    /// Keep probing every S seconds and report changes of state.
    #[arg(long)]
    interval: Option<f64>,
    /// JSON lines.
    #[arg(long, conflicts_with = "syslog")]
    json: bool,
    /// Syslog-style (RFC 5424) lines.
    #[arg(long)]
    syslog: bool,
    /// Seconds to wait for each answer.
    #[arg(long, default_value_t = 10.0)]
    timeout: f64,
    /// Accept any TLS certificate (self-signed).
    #[arg(long)]
    insecure: bool,
}

#[derive(Debug, Clone)]
pub struct Outcome {
    pub url: String,
    pub method: String,
    pub status: Option<u16>,
    pub ms: u128,
    pub error: Option<String>,
}

impl Outcome {
    pub fn reachable(&self) -> bool {
        matches!(self.status, Some(200 | 401 | 407))
    }

    fn event(&self) -> u32 {
        if self.reachable() {
            EVENT_REACHABLE
        } else {
            EVENT_DOWN
        }
    }

    fn describe(&self) -> String {
        match (&self.status, &self.error) {
            (_, Some(e)) => e.clone(),
            (Some(s), None) if !self.reachable() => format!("HTTP {s}"),
            _ => String::new(),
        }
    }

    pub fn render(&self, json: bool, syslog: bool) -> String {
        let state = if self.reachable() {
            "reachable"
        } else {
            "down"
        };
        if json {
            return serde_json::json!({
                "event": self.event(),
                "state": state,
                "url": self.url,
                "method": self.method,
                "status": self.status,
                "ms": self.ms as u64,
                "error": self.error,
            })
            .to_string();
        }
        let status = self
            .status
            .map(|s| s.to_string())
            .unwrap_or_else(|| "-".into());
        if syslog {
            // <facility user (1) * 8 + severity>: info 6 when reachable, error 3 when down.
            let pri = if self.reachable() { 14 } else { 11 };
            let now = time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default();
            let host = hostname();
            return format!(
                "<{pri}>1 {now} {host} easd-probe {} {} - url={} state={state} status={status} ms={} error=\"{}\"",
                std::process::id(),
                self.event(),
                self.url,
                self.ms,
                self.describe().replace('"', "'")
            );
        }
        let extra = self.describe();
        format!(
            "{state:9} {status:>3} {:>6} ms  {} {}{}",
            self.ms,
            self.method,
            self.url,
            if extra.is_empty() {
                String::new()
            } else {
                format!("  ({extra})")
            }
        )
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "-".into())
}

/// One target line: `[METHOD ]URL`; EAS endpoints default to OPTIONS, others to GET.
pub fn parse_target(line: &str) -> Option<(String, String)> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let (method, url) = match line.split_once(char::is_whitespace) {
        Some((m, u)) if m.eq_ignore_ascii_case("GET") || m.eq_ignore_ascii_case("OPTIONS") => {
            (m.to_ascii_uppercase(), u.trim().to_owned())
        }
        _ => {
            let m = if line
                .to_ascii_lowercase()
                .contains("microsoft-server-activesync")
            {
                "OPTIONS"
            } else {
                "GET"
            };
            (m.to_owned(), line.to_owned())
        }
    };
    Some((method, url))
}

pub async fn probe_one(method: &str, url: &str, timeout: Duration, insecure: bool) -> Outcome {
    let started = Instant::now();
    let trust = if insecure { Trust::Any } else { Trust::System };
    let result = eas_client::request(method, url, &[], b"", timeout, &trust).await;
    let ms = started.elapsed().as_millis();
    match result {
        Ok(r) => Outcome {
            url: url.into(),
            method: method.into(),
            status: Some(r.status),
            ms,
            error: None,
        },
        Err(e) => Outcome {
            url: url.into(),
            method: method.into(),
            status: None,
            ms,
            error: Some(format!("{e:#}")),
        },
    }
}

pub fn run(args: ProbeArgs) -> anyhow::Result<ExitCode> {
    let mut text = String::new();
    match args.urls_file.as_deref() {
        Some("-") => std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).map(|_| ())?,
        Some(path) => {
            text =
                std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("reading {path}: {e}"))?
        }
        None if args.urls.is_empty() => {
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).map(|_| ())?
        }
        None => {}
    }
    let mut targets: Vec<(String, String)> = text.lines().filter_map(parse_target).collect();
    targets.extend(args.urls.iter().filter_map(|u| parse_target(u)));
    anyhow::ensure!(!targets.is_empty(), "no URLs to probe");
    let timeout = Duration::from_secs_f64(args.timeout.max(0.1));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let mut last: HashMap<String, bool> = HashMap::new();
        loop {
            let round = futures_join(&targets, timeout, args.insecure).await;
            let all_up = round.iter().all(Outcome::reachable);
            for o in &round {
                let key = format!("{} {}", o.method, o.url);
                let changed = last.insert(key, o.reachable()) != Some(o.reachable());
                if args.interval.is_none() || changed {
                    println!("{}", o.render(args.json, args.syslog));
                }
            }
            let Some(every) = args.interval else {
                return Ok(if all_up {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                });
            };
            tokio::time::sleep(Duration::from_secs_f64(every.max(0.1))).await;
        }
    })
}

/// Probes all targets at once, keeping their order.
async fn futures_join(
    targets: &[(String, String)],
    timeout: Duration,
    insecure: bool,
) -> Vec<Outcome> {
    let handles: Vec<_> = targets
        .iter()
        .cloned()
        .map(|(m, u)| tokio::spawn(async move { probe_one(&m, &u, timeout, insecure).await }))
        .collect();
    let mut out = Vec::new();
    for (h, (m, u)) in handles.into_iter().zip(targets) {
        out.push(h.await.unwrap_or_else(|e| Outcome {
            url: u.clone(),
            method: m.clone(),
            status: None,
            ms: 0,
            error: Some(e.to_string()),
        }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(parse_target("# x"), None);
        assert_eq!(
            parse_target("https://mx/Microsoft-Server-ActiveSync")
                .unwrap()
                .0,
            "OPTIONS"
        );
        assert_eq!(parse_target("http://mx/healthz").unwrap().0, "GET");
        assert_eq!(
            parse_target("options http://mx/").unwrap(),
            ("OPTIONS".into(), "http://mx/".into())
        );
    }

    #[test]
    fn classification() {
        let o = |s| Outcome {
            url: "u".into(),
            method: "GET".into(),
            status: s,
            ms: 1,
            error: None,
        };
        assert!(o(Some(200)).reachable() && o(Some(401)).reachable() && o(Some(407)).reachable());
        assert!(!o(Some(503)).reachable() && !o(None).reachable());
        assert!(o(Some(500)).render(true, false).contains("\"event\":1001"));
    }
}
