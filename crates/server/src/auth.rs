//! HTTP Basic authentication (MS-ASHTTP 2.2.1.1.2.1) with a verdict cache and a limiter for
//! repeated failures.
//!
//! A phone sends its password with every request, forever. argon2id costs tens of
//! milliseconds by design, so a verified credential is remembered under a keyed hash of the
//! credentials (never the password itself) for a bounded time, and the verdict is tied to
//! the account's credential generation so a password change or a removal drops it at once.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub use easd_protocol::http::BasicCredentials as Credentials;

/// The account name to look up: "DOMAIN\\user" becomes "user"; case is folded.
pub fn login_name(credentials: &Credentials) -> String {
    credentials.user().trim().to_lowercase()
}

#[derive(Debug, Clone, Copy)]
struct Verdict {
    account: i64,
    generation: i64,
    expires: Instant,
}

/// Remembers verified credentials under an HMAC of (user, password) with a per-process key.
pub struct VerdictCache {
    key: [u8; 32],
    lifetime: Duration,
    entries: Mutex<HashMap<[u8; 32], Verdict>>,
}

impl VerdictCache {
    const MAX_ENTRIES: usize = 200_000;

    pub fn new(lifetime: Duration) -> Self {
        VerdictCache {
            key: rand::random(),
            lifetime,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn fingerprint(&self, credentials: &Credentials) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .expect("HMAC takes keys of any length");
        mac.update(login_name(credentials).as_bytes());
        mac.update(&[0]);
        mac.update(credentials.password.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// True when these credentials were verified for `account` at its current `generation`.
    pub fn check(&self, credentials: &Credentials, account: i64, generation: i64) -> bool {
        let fp = self.fingerprint(credentials);
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        match entries.get(&fp) {
            Some(v) if v.account == account && v.generation == generation => {
                if v.expires > Instant::now() {
                    true
                } else {
                    entries.remove(&fp);
                    false
                }
            }
            Some(_) => {
                entries.remove(&fp);
                false
            }
            None => false,
        }
    }

    pub fn remember(&self, credentials: &Credentials, account: i64, generation: i64) {
        let fp = self.fingerprint(credentials);
        let now = Instant::now();
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= Self::MAX_ENTRIES {
            entries.retain(|_, v| v.expires > now);
            if entries.len() >= Self::MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(
            fp,
            Verdict {
                account,
                generation,
                expires: now + self.lifetime,
            },
        );
    }

    /// Drops every verdict of `account` (password change, removal).
    pub fn forget_account(&self, account: i64) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|_, v| v.account != account);
    }
}

/// What the limiter says about a login attempt from an address for a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    Open,
    /// Go on after waiting this long (the caller sleeps before verifying).
    SlowDown(Duration),
    /// Refuse without verifying, for this much longer.
    Locked(Duration),
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
    locked_until: Option<Instant>,
}

/// Slows and then refuses repeated failed logins from one address for one user.
pub struct FailureLimiter {
    max_failures: u32,
    lockout: Duration,
    entries: Mutex<HashMap<(IpAddr, String), Failures>>,
}

impl FailureLimiter {
    const MAX_ENTRIES: usize = 100_000;

    pub fn new(max_failures: u32, lockout: Duration) -> Self {
        FailureLimiter {
            max_failures: max_failures.max(1),
            lockout,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub fn gate(&self, ip: IpAddr, user: &str) -> Gate {
        let now = Instant::now();
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        match entries.get(&(ip, user.to_owned())) {
            Some(Failures {
                locked_until: Some(until),
                ..
            }) if *until > now => Gate::Locked(*until - now),
            // Each earlier failure adds a quarter second, so guessing gets slow before the lock.
            Some(f) if f.count > 0 && f.locked_until.is_none() => {
                Gate::SlowDown(Duration::from_millis(250 * u64::from(f.count.min(8))))
            }
            _ => Gate::Open,
        }
    }

    /// Records a failure; returns true when this failure locked the pair out.
    pub fn failed(&self, ip: IpAddr, user: &str) -> bool {
        let now = Instant::now();
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= Self::MAX_ENTRIES {
            let lockout = self.lockout;
            entries.retain(|_, f| now.duration_since(f.last) < lockout);
        }
        let f = entries.entry((ip, user.to_owned())).or_insert(Failures {
            count: 0,
            last: now,
            locked_until: None,
        });
        // A lockout that ran out starts a fresh count.
        if f.locked_until.is_some_and(|u| u <= now) || now.duration_since(f.last) > self.lockout {
            *f = Failures {
                count: 0,
                last: now,
                locked_until: None,
            };
        }
        f.count += 1;
        f.last = now;
        if f.count >= self.max_failures {
            f.locked_until = Some(now + self.lockout);
            true
        } else {
            false
        }
    }

    pub fn succeeded(&self, ip: IpAddr, user: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.remove(&(ip, user.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_names_fold_domain_and_case() {
        let c = Credentials {
            login: "CORP\\Alice".into(),
            password: "pw".into(),
        };
        assert_eq!(login_name(&c), "alice");
        let c = Credentials {
            login: "Bob@Example.com".into(),
            password: "x".into(),
        };
        assert_eq!(login_name(&c), "bob@example.com");
    }

    #[test]
    fn cache_is_tied_to_generation_and_password() {
        let cache = VerdictCache::new(Duration::from_secs(60));
        let c = Credentials {
            login: "a@x".into(),
            password: "one".into(),
        };
        cache.remember(&c, 1, 7);
        assert!(cache.check(&c, 1, 7));
        assert!(!cache.check(&c, 1, 8), "a new generation drops the verdict");
        let wrong = Credentials {
            login: "a@x".into(),
            password: "two".into(),
        };
        cache.remember(&c, 1, 7);
        assert!(!cache.check(&wrong, 1, 7));
        cache.forget_account(1);
        assert!(!cache.check(&c, 1, 7));
    }

    #[test]
    fn limiter_slows_then_locks() {
        let l = FailureLimiter::new(3, Duration::from_secs(60));
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(l.gate(ip, "u"), Gate::Open);
        assert!(!l.failed(ip, "u"));
        assert!(matches!(l.gate(ip, "u"), Gate::SlowDown(_)));
        assert!(!l.failed(ip, "u"));
        assert!(l.failed(ip, "u"));
        assert!(matches!(l.gate(ip, "u"), Gate::Locked(_)));
        assert_eq!(l.gate(ip, "other"), Gate::Open);
        l.succeeded(ip, "u");
        assert_eq!(l.gate(ip, "u"), Gate::Open);
    }
}
