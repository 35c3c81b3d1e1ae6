//! Configuration: `easd.toml` in the data dir (or `--config`), every key overridable by an
//! `EASD_`-prefixed environment variable, and defaults so that no file is needed.

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Plain HTTP listener; empty string disables it.
    pub http_listen: String,
    /// HTTPS listener; empty string disables it.
    pub https_listen: String,
    /// Admin API (metrics, health, device management); loopback only by default.
    pub admin_listen: String,
    /// LMTP listener for an MTA's final delivery; off when empty.
    pub lmtp_listen: String,
    /// Plain SMTP listener for local setups; off when empty.
    pub smtp_listen: String,
    /// PEM certificate chain and key; a self-signed pair is made in the data dir when unset.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// The URL phones are told to use (Autodiscover); derived from the request when unset.
    pub public_url: Option<String>,
    /// Ping/Sync heartbeat bounds in seconds (MS-ASCMD 2.2.3.79).
    pub heartbeat_min: u32,
    pub heartbeat_max: u32,
    /// How long before the heartbeat ends the server answers, so that it, not a proxy,
    /// closes the connection.
    pub heartbeat_margin: u32,
    /// MaxFolders of a Ping (MS-ASCMD 2.2.3.101).
    pub ping_max_folders: u32,
    /// Access log: "stdout", "file" (access.log in the data dir), "both" or "off".
    pub access_log: String,
    /// Largest request body accepted, in bytes.
    pub max_request_bytes: usize,
    /// Largest message accepted by LMTP/SMTP/deliver, in bytes.
    pub max_message_bytes: usize,
    /// How long a verified credential stays cached, in seconds.
    pub auth_cache_seconds: u64,
    /// Failed logins from one address for one user before it is refused for a while.
    pub auth_max_failures: u32,
    /// How long such a lockout lasts, in seconds.
    pub auth_lockout_seconds: u64,
    /// SMTP smarthost for outgoing mail, "host:port"; none delivers only locally.
    pub smarthost: Option<String>,
    pub smarthost_user: Option<String>,
    pub smarthost_password: Option<String>,
    /// Host name used in SMTP/LMTP greetings and generated Message-Ids.
    pub hostname: String,
    /// FOR TESTS ONLY, never in production: acknowledge clients' Sync Deletes without
    /// applying them (the deleted mail stays on the server and on the other devices), so
    /// that `easd selftest` can be shown to report a lost change.
    pub fault_drop_client_deletes: bool,
    /// Told by mail about each quarantined device: a local account gets it in its Inbox,
    /// another address through the smarthost.
    pub admin_email: Option<String>,
    /// Mailbox logging: the longest request or response body (as XML) kept per entry, in
    /// bytes; longer ones are cut and marked as cut.
    pub device_log_max_body: usize,
    /// The IANA zone all-day and floating events are placed in for a device whose own
    /// zone is not known yet (it is learned from the first event the device writes).
    pub time_zone: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            http_listen: "127.0.0.1:8080".into(),
            https_listen: "127.0.0.1:8443".into(),
            admin_listen: "127.0.0.1:8081".into(),
            lmtp_listen: String::new(),
            smtp_listen: String::new(),
            tls_cert: None,
            tls_key: None,
            public_url: None,
            heartbeat_min: 60,
            heartbeat_max: 3540,
            heartbeat_margin: 5,
            ping_max_folders: 300,
            access_log: "both".into(),
            max_request_bytes: 50 * 1024 * 1024,
            max_message_bytes: 50 * 1024 * 1024,
            auth_cache_seconds: 900,
            auth_max_failures: 5,
            auth_lockout_seconds: 300,
            smarthost: None,
            smarthost_user: None,
            smarthost_password: None,
            hostname: "localhost".into(),
            fault_drop_client_deletes: false,
            admin_email: None,
            device_log_max_body: 64 * 1024,
            time_zone: "UTC".into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Parse {
        path: PathBuf,
        source: toml::de::Error,
    },
    #[error("environment variable {var}: {message}")]
    Env { var: String, message: String },
    #[error("{key} = {value:?} is not a socket address (host:port)")]
    Addr { key: &'static str, value: String },
    #[error("time_zone = {0:?} is not an IANA time zone (e.g. \"Europe/Berlin\")")]
    TimeZone(String),
}

impl Config {
    /// Loads `file` (if it exists) and applies `EASD_*` overrides from `env`.
    pub fn load(
        file: &Path,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut table = match std::fs::read_to_string(file) {
            Ok(text) => {
                // Validate the file on its own first so errors name the file.
                toml::from_str::<Config>(&text).map_err(|source| ConfigError::Parse {
                    path: file.to_owned(),
                    source,
                })?;
                text.parse::<toml::Table>()
                    .map_err(|source| ConfigError::Parse {
                        path: file.to_owned(),
                        source,
                    })?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => toml::Table::new(),
            Err(source) => {
                return Err(ConfigError::Read {
                    path: file.to_owned(),
                    source,
                });
            }
        };
        let defaults = toml::Table::try_from(Config::default()).unwrap_or_default();
        for (var, value) in env {
            let Some(key) = var.strip_prefix("EASD_") else {
                continue;
            };
            let key = key.to_ascii_lowercase();
            // EASD_DATA and the like belong to the CLI, not to the file's keys.
            if !Self::KEYS.contains(&key.as_str()) {
                continue;
            }
            let parsed = match defaults.get(&key) {
                Some(toml::Value::Integer(_)) => value
                    .parse::<i64>()
                    .map(toml::Value::Integer)
                    .map_err(|e| e.to_string()),
                Some(toml::Value::Boolean(_)) => value
                    .parse::<bool>()
                    .map(toml::Value::Boolean)
                    .map_err(|e| e.to_string()),
                _ => Ok(toml::Value::String(value)),
            }
            .map_err(|message| ConfigError::Env {
                var: var.clone(),
                message,
            })?;
            table.insert(key, parsed);
        }
        let config: Config =
            toml::Value::Table(table)
                .try_into()
                .map_err(|source| ConfigError::Parse {
                    path: file.to_owned(),
                    source,
                })?;
        config.validate()?;
        Ok(config)
    }

    const KEYS: &'static [&'static str] = &[
        "http_listen",
        "https_listen",
        "admin_listen",
        "lmtp_listen",
        "smtp_listen",
        "tls_cert",
        "tls_key",
        "public_url",
        "heartbeat_min",
        "heartbeat_max",
        "heartbeat_margin",
        "ping_max_folders",
        "access_log",
        "max_request_bytes",
        "max_message_bytes",
        "auth_cache_seconds",
        "auth_max_failures",
        "auth_lockout_seconds",
        "smarthost",
        "smarthost_user",
        "smarthost_password",
        "hostname",
        "fault_drop_client_deletes",
        "admin_email",
        "device_log_max_body",
        "time_zone",
    ];

    fn validate(&self) -> Result<(), ConfigError> {
        for (key, value) in [
            ("http_listen", &self.http_listen),
            ("https_listen", &self.https_listen),
            ("admin_listen", &self.admin_listen),
            ("lmtp_listen", &self.lmtp_listen),
            ("smtp_listen", &self.smtp_listen),
        ] {
            parse_listen(key, value)?;
        }
        self.zone()?;
        Ok(())
    }

    /// The `time_zone` setting.
    pub fn zone(&self) -> Result<jiff::tz::TimeZone, ConfigError> {
        jiff::tz::TimeZone::get(self.time_zone.trim())
            .map_err(|_| ConfigError::TimeZone(self.time_zone.clone()))
    }

    pub fn listen_addr(&self, key: &'static str) -> Option<SocketAddr> {
        let value = match key {
            "http_listen" => &self.http_listen,
            "https_listen" => &self.https_listen,
            "admin_listen" => &self.admin_listen,
            "lmtp_listen" => &self.lmtp_listen,
            "smtp_listen" => &self.smtp_listen,
            _ => return None,
        };
        parse_listen(key, value).ok().flatten()
    }
}

fn parse_listen(key: &'static str, value: &str) -> Result<Option<SocketAddr>, ConfigError> {
    if value.is_empty() {
        return Ok(None);
    }
    value.parse().map(Some).map_err(|_| ConfigError::Addr {
        key,
        value: value.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_need_no_file() {
        let c = Config::load(Path::new("/nonexistent/easd.toml"), Vec::new()).unwrap();
        assert_eq!(c.heartbeat_max, 3540);
        assert_eq!(c.http_listen, "127.0.0.1:8080");
    }

    #[test]
    fn a_time_zone_that_is_not_iana_is_refused() {
        let env = |v: &str| vec![("EASD_TIME_ZONE".to_string(), v.to_string())];
        let c = Config::load(Path::new("/nonexistent/easd.toml"), env("Europe/Berlin")).unwrap();
        assert_eq!(c.zone().unwrap().iana_name(), Some("Europe/Berlin"));
        let err =
            Config::load(Path::new("/nonexistent/easd.toml"), env("Mars/Olympus")).unwrap_err();
        assert!(err.to_string().contains("Mars/Olympus"), "{err}");
    }

    #[test]
    fn env_overrides_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("easd.toml");
        std::fs::write(&file, "heartbeat_max = 1200\nhostname = \"mx\"\n").unwrap();
        let env = vec![
            ("EASD_HEARTBEAT_MAX".to_string(), "900".to_string()),
            ("EASD_DATA".to_string(), "/x".to_string()),
            ("PATH".to_string(), "/bin".to_string()),
        ];
        let c = Config::load(&file, env).unwrap();
        assert_eq!(c.heartbeat_max, 900);
        assert_eq!(c.hostname, "mx");
    }

    #[test]
    fn bad_values_are_named() {
        let env = vec![("EASD_HEARTBEAT_MAX".to_string(), "soon".to_string())];
        let err = Config::load(Path::new("/nonexistent"), env).unwrap_err();
        assert!(err.to_string().contains("EASD_HEARTBEAT_MAX"), "{err}");
        let env = vec![("EASD_HTTP_LISTEN".to_string(), "nowhere".to_string())];
        let err = Config::load(Path::new("/nonexistent"), env).unwrap_err();
        assert!(err.to_string().contains("http_listen"), "{err}");
    }
}
