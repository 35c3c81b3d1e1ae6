//! The access log: one line per request, like a web server's, with the EAS fields an admin
//! greps for (user, DeviceId, DeviceType, command, protocol version, EAS status, heartbeat).
//!
//! Lines are `key=value` pairs after the time so both people and `easd doctor` can read them:
//! `2026-11-25T16:22:49.123Z ip=127.0.0.1 user=alice@example.com device=ABC type=iPhone
//! cmd=Sync ver=16.1 http=200 eas=1 ms=12 in=153 out=2048 hb=-`

use std::io::Write;
use std::path::Path;
use std::time::Duration;
use tokio::sync::mpsc;

/// What a handler learned about a request, put in the response's extensions.
#[derive(Debug, Clone, Default)]
pub struct AccessRecord {
    pub user: Option<String>,
    pub device_id: Option<String>,
    pub device_type: Option<String>,
    pub command: Option<&'static str>,
    pub protocol_version: Option<String>,
    /// The command's Status, when the body carried one.
    pub eas_status: Option<u16>,
    /// Ping / wait-Sync heartbeat in seconds.
    pub heartbeat: Option<u32>,
    /// Items the server sent to the device (Sync Add/Change/Delete), for its statistics.
    pub items_sent: u32,
    /// Items the device sent (Sync client commands, a submitted message).
    pub items_received: u32,
}

/// One finished request.
#[derive(Debug, Clone)]
pub struct AccessLine {
    pub time: time::OffsetDateTime,
    pub client: std::net::IpAddr,
    pub method: String,
    pub path: String,
    pub record: AccessRecord,
    pub http_status: u16,
    pub duration: Duration,
    pub bytes_in: u64,
    pub bytes_out: u64,
}

impl std::fmt::Display for AccessLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let time = self
            .time
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let r = &self.record;
        let dash = |v: Option<&str>| v.map(escape).unwrap_or_else(|| "-".into());
        write!(
            f,
            "{time} ip={} user={} device={} type={} cmd={} ver={} http={} eas={} ms={} in={} out={} hb={}",
            self.client,
            dash(r.user.as_deref()),
            dash(r.device_id.as_deref()),
            dash(r.device_type.as_deref()),
            r.command.map(str::to_owned).unwrap_or_else(|| format!("{}:{}", self.method, escape(&self.path))),
            dash(r.protocol_version.as_deref()),
            self.http_status,
            r.eas_status.map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
            self.duration.as_millis(),
            self.bytes_in,
            self.bytes_out,
            r.heartbeat.map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
        )
    }
}

/// Client-supplied values never break a line or a field.
fn escape(value: &str) -> String {
    value
        .chars()
        .map(|c| {
            if c.is_whitespace() || c.is_control() || c == '=' {
                '_'
            } else {
                c
            }
        })
        .take(128)
        .collect()
}

/// Where lines go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Destinations {
    pub stdout: bool,
    pub file: bool,
}

impl Destinations {
    pub fn from_setting(setting: &str) -> Destinations {
        match setting {
            "stdout" => Destinations {
                stdout: true,
                file: false,
            },
            "file" => Destinations {
                stdout: false,
                file: true,
            },
            "off" | "none" => Destinations {
                stdout: false,
                file: false,
            },
            _ => Destinations {
                stdout: true,
                file: true,
            },
        }
    }
}

/// A handle that queues lines for a background writer, so a slow disk never holds a request.
#[derive(Clone)]
pub struct AccessLog {
    tx: Option<mpsc::Sender<AccessLine>>,
}

impl AccessLog {
    pub fn disabled() -> Self {
        AccessLog { tx: None }
    }

    /// Starts the writer; the file is `access.log` in `data_dir`.
    pub fn start(data_dir: &Path, to: Destinations) -> std::io::Result<AccessLog> {
        if !to.stdout && !to.file {
            return Ok(AccessLog::disabled());
        }
        let mut file = if to.file {
            Some(std::io::BufWriter::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(data_dir.join("access.log"))?,
            ))
        } else {
            None
        };
        let (tx, mut rx) = mpsc::channel::<AccessLine>(65_536);
        std::thread::Builder::new()
            .name("access-log".into())
            .spawn(move || {
                let stdout = std::io::stdout();
                while let Some(line) = rx.blocking_recv() {
                    let text = format!("{line}\n");
                    if to.stdout {
                        let _ = stdout.lock().write_all(text.as_bytes());
                    }
                    if let Some(f) = file.as_mut() {
                        let _ = f.write_all(text.as_bytes());
                        // Flush when the queue is idle: lines reach the disk promptly without
                        // a syscall per line under load.
                        if rx.is_empty() {
                            let _ = f.flush();
                        }
                    }
                }
                if let Some(f) = file.as_mut() {
                    let _ = f.flush();
                }
            })?;
        Ok(AccessLog { tx: Some(tx) })
    }

    pub fn write(&self, line: AccessLine) {
        if let Some(tx) = &self.tx {
            if tx.try_send(line).is_err() {
                tracing::warn!("access log queue full; a line was dropped");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_shape() {
        let line = AccessLine {
            time: time::OffsetDateTime::UNIX_EPOCH,
            client: "10.0.0.1".parse().unwrap(),
            method: "POST".into(),
            path: "/Microsoft-Server-ActiveSync".into(),
            record: AccessRecord {
                user: Some("a b@x".into()),
                device_id: Some("DEV1".into()),
                device_type: Some("iPhone".into()),
                command: Some("Ping"),
                protocol_version: Some("16.1".into()),
                eas_status: Some(2),
                heartbeat: Some(900),
                ..Default::default()
            },
            http_status: 200,
            duration: Duration::from_millis(1234),
            bytes_in: 10,
            bytes_out: 20,
        };
        assert_eq!(
            line.to_string(),
            "1970-01-01T00:00:00Z ip=10.0.0.1 user=a_b@x device=DEV1 type=iPhone cmd=Ping \
             ver=16.1 http=200 eas=2 ms=1234 in=10 out=20 hb=900"
        );
    }
}
