//! `easd top`: a live view of a running server. Every second it reads `/metrics` from the
//! admin listener and the tail of `access.log` in the data dir, and redraws: parked Pings,
//! requests per second by command, the slowest devices and the recent errors.

use crate::eas_client::{self, Trust};
use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct TopArgs {
    /// The admin listener (default: admin_listen from the configuration).
    #[arg(long)]
    admin: Option<String>,
    /// Seconds between redraws.
    #[arg(long, default_value_t = 1.0)]
    interval: f64,
    /// Draw this many screens and exit (0: until interrupted).
    #[arg(long, default_value_t = 0)]
    iterations: u64,
}

/// `easd_requests_total` summed by command, and the scalar gauges/counters.
pub fn parse_metrics(text: &str) -> (BTreeMap<String, f64>, HashMap<String, f64>) {
    let mut by_command = BTreeMap::new();
    let mut scalars = HashMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some((head, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let Ok(value) = value.parse::<f64>() else {
            continue;
        };
        if let Some(labels) = head.strip_prefix("easd_requests_total{") {
            let command = labels
                .split(',')
                .find_map(|kv| kv.strip_prefix("command=\""))
                .map(|c| c.trim_end_matches(['"', '}']).to_owned())
                .unwrap_or_default();
            *by_command.entry(command).or_insert(0.0) += value;
        } else if !head.contains('{') {
            scalars.insert(head.to_owned(), value);
        }
    }
    (by_command, scalars)
}

fn tail(path: &Path, bytes: u64) -> String {
    let Ok(mut f) = std::fs::File::open(path) else {
        return String::new();
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = f.seek(SeekFrom::Start(len.saturating_sub(bytes)));
    let mut s = String::new();
    let _ = f.read_to_string(&mut s);
    s
}

fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.split(' ')
        .find_map(|kv| kv.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
}

pub fn run(data: &Path, config: Option<&Path>, args: TopArgs) -> anyhow::Result<ExitCode> {
    let admin = match args.admin {
        Some(a) => a,
        None => easd_server::load_config(data, config)?.admin_listen,
    };
    anyhow::ensure!(
        !admin.is_empty(),
        "admin_listen is off: set it or pass --admin HOST:PORT"
    );
    let url = format!("http://{admin}/metrics");
    let token = std::fs::read_to_string(data.join("admin.token")).unwrap_or_default();
    let bearer = format!("Bearer {}", token.trim());
    let headers = [("Authorization", bearer.as_str())];
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut previous: Option<(Instant, BTreeMap<String, f64>)> = None;
    let mut drawn = 0;
    loop {
        let reply = rt.block_on(eas_client::request(
            "GET",
            &url,
            &headers,
            b"",
            Duration::from_secs(5),
            &Trust::System,
        ));
        let mut screen = String::from("\x1b[H\x1b[2J");
        screen.push_str(&format!(
            "easd top — {url}   {}\n\n",
            time::OffsetDateTime::now_utc()
        ));
        match reply {
            Ok(r) if r.status == 200 => {
                let (by_command, scalars) = parse_metrics(&String::from_utf8_lossy(&r.body));
                let get = |k: &str| scalars.get(k).copied().unwrap_or(0.0);
                screen.push_str(&format!(
                    "parked Pings {:>8}   auth failures {:>6}   5xx {:>6}   store query {:.2} ms\n\n",
                    get("easd_parked_pings"),
                    get("easd_auth_failures_total"),
                    get("easd_http_5xx_total"),
                    get("easd_store_query_seconds") * 1000.0
                ));
                screen.push_str("command              req/s      total\n");
                let now = Instant::now();
                for (cmd, total) in &by_command {
                    let rate = previous
                        .as_ref()
                        .map(|(t, p)| {
                            (total - p.get(cmd).copied().unwrap_or(0.0))
                                / now.duration_since(*t).as_secs_f64()
                        })
                        .unwrap_or(0.0);
                    screen.push_str(&format!("{cmd:<18} {rate:>7.1} {total:>10}\n"));
                }
                previous = Some((now, by_command));
            }
            Ok(r) => screen.push_str(&format!("/metrics answered HTTP {}\n", r.status)),
            Err(e) => screen.push_str(&format!("/metrics: {e:#}\n")),
        }
        let log = tail(&data.join("access.log"), 256 * 1024);
        let mut slowest: HashMap<String, u64> = HashMap::new();
        let mut errors = Vec::new();
        for line in log.lines() {
            let device = field(line, "device").unwrap_or("-");
            let cmd = field(line, "cmd").unwrap_or("-");
            let ms: u64 = field(line, "ms").and_then(|m| m.parse().ok()).unwrap_or(0);
            // Pings are slow by design.
            if device != "-" && cmd != "Ping" {
                let e = slowest.entry(format!("{device} {cmd}")).or_default();
                *e = (*e).max(ms);
            }
            let http: u16 = field(line, "http")
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            if http >= 500 || field(line, "eas").is_some_and(|s| s != "-" && s != "1") {
                errors.push(line.to_owned());
            }
        }
        let mut slowest: Vec<_> = slowest.into_iter().collect();
        slowest.sort_by_key(|s| std::cmp::Reverse(s.1));
        screen.push_str("\nslowest devices (excluding Ping)\n");
        for (who, ms) in slowest.iter().take(5) {
            screen.push_str(&format!("  {ms:>7} ms  {who}\n"));
        }
        screen.push_str("\nrecent errors\n");
        for line in errors.iter().rev().take(8) {
            screen.push_str(&format!("  {line}\n"));
        }
        print!("{screen}");
        std::io::stdout().flush()?;
        drawn += 1;
        if args.iterations != 0 && drawn >= args.iterations {
            return Ok(ExitCode::SUCCESS);
        }
        std::thread::sleep(Duration::from_secs_f64(args.interval.max(0.2)));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_metrics() {
        let (c, s) = super::parse_metrics(
            "# TYPE x\neasd_requests_total{command=\"Sync\",http=\"200\",eas=\"1\"} 3\n\
             easd_requests_total{command=\"Sync\",http=\"500\",eas=\"-\"} 1\neasd_parked_pings 7\n",
        );
        assert_eq!(c["Sync"], 4.0);
        assert_eq!(s["easd_parked_pings"], 7.0);
    }
}
