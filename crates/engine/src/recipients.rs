//! ResolveRecipients (MS-ASCMD 2.2.1.15): the names or addresses a user typed, resolved
//! against the Global Address List, which for easd is its local accounts.
//!
//! A To resolves when it is an account's address or alias, or, as an ANR search field
//! (MS-ASCMD 2.2.3.183), a part of an account's address or display name. Free/busy comes
//! from the user's calendars (`meetings::merged_free_busy`); certificates and photos are
//! not kept, so the answer says there are none.

use crate::{Engine, EngineError};
use easd_protocol::commands::resolve_recipients::{
    CertificateRetrieval, Recipient, RecipientAvailability, RecipientCertificates,
    RecipientPicture, RecipientType, ResolveRecipientsRequest, ResolveRecipientsResponse,
    ResolveRecipientsResult, ResolveRecipientsStatus,
};
use easd_protocol::status::CommonStatus;
use easd_store::Account;
use time::OffsetDateTime;

/// The most suggestions listed for an ambiguous To when the client sets no
/// MaxAmbiguousRecipients (MS-ASCMD 2.2.3.100 allows it up to 9999).
pub const DEFAULT_MAX_AMBIGUOUS: usize = 100;
/// Longest free/busy window (MS-ASCMD EndTime (ResolveRecipients): Status 5 beyond a
/// server limit; Exchange 2010 and later use 42 days).
pub const MAX_AVAILABILITY_DAYS: i64 = 42;
/// One MergedFreeBusy digit per 30 minutes (MS-ASCMD 2.2.3.107).
const SLOT_SECONDS: i64 = 30 * 60;

/// Parses an MS-ASDTYPE dateTime ("2012-05-03T16:00:00.000Z"; also the compact
/// "20120503T160000Z" some clients send).
pub fn parse_eas_datetime(text: &str) -> Option<OffsetDateTime> {
    let text = text.trim();
    if let Ok(t) = OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339) {
        return Some(t);
    }
    let compact = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    time::PrimitiveDateTime::parse(text, compact)
        .ok()
        .map(|t| t.assume_utc())
}

/// MergedFreeBusy for `start`..`end`: one digit per started 30 minutes, or None when the
/// window is not one the server answers (MS-ASCMD EndTime (ResolveRecipients): less than
/// 30 minutes, or longer than [`MAX_AVAILABILITY_DAYS`]).
fn free_busy_slots(start: OffsetDateTime, end: OffsetDateTime) -> Option<usize> {
    let span = (end - start).whole_seconds();
    if !(SLOT_SECONDS..=MAX_AVAILABILITY_DAYS * 24 * 3600).contains(&span) {
        return None;
    }
    usize::try_from((span + SLOT_SECONDS - 1) / SLOT_SECONDS).ok()
}

/// The address inside what a user may type: "Bob <bob@example.com>", "SMTP:bob@...".
fn normalize(to: &str) -> String {
    let mut s = to.trim();
    if let (Some(open), Some(close)) = (s.rfind('<'), s.rfind('>')) {
        if open < close {
            s = s[open + 1..close].trim();
        }
    }
    if s.len() > 5 && s[..5].eq_ignore_ascii_case("smtp:") {
        s = &s[5..];
    }
    s.trim().to_lowercase()
}

fn display_name(a: &Account) -> &str {
    if a.display_name.trim().is_empty() {
        &a.email
    } else {
        &a.display_name
    }
}

/// The accounts a To names, best first: an exact address or alias wins alone; then an
/// exact display name; then address or display-name matches (prefixes before other parts).
pub fn matching_accounts<'a>(accounts: &'a [Account], to: &str) -> Vec<&'a Account> {
    let q = normalize(to);
    if q.is_empty() {
        return Vec::new();
    }
    let exact: Vec<&Account> = accounts
        .iter()
        .filter(|a| a.email == q || a.aliases.contains(&q))
        .collect();
    if !exact.is_empty() {
        return exact;
    }
    let by_name: Vec<&Account> = accounts
        .iter()
        .filter(|a| display_name(a).trim().to_lowercase() == q)
        .collect();
    if !by_name.is_empty() {
        return by_name;
    }
    let mut found: Vec<(bool, &Account)> = accounts
        .iter()
        .filter_map(|a| {
            let name = display_name(a).to_lowercase();
            let addresses = std::iter::once(&a.email).chain(a.aliases.iter());
            let mut prefix =
                name.starts_with(&q) || name.split_whitespace().any(|w| w.starts_with(&q));
            let mut part = name.contains(&q);
            for addr in addresses {
                prefix |= addr.starts_with(&q);
                part |= addr.contains(&q);
            }
            part.then_some((prefix, a))
        })
        .collect();
    found.sort_by(|(p1, a1), (p2, a2)| p2.cmp(p1).then_with(|| a1.email.cmp(&a2.email)));
    found.into_iter().map(|(_, a)| a).collect()
}

/// The free/busy window of an Availability request: its start and its number of
/// MergedFreeBusy digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FreeBusyWindow {
    pub start: OffsetDateTime,
    pub slots: usize,
}

/// Answers a ResolveRecipients request against `accounts`; `free_busy` gives an account's
/// MergedFreeBusy for the requested window.
pub fn resolve(
    accounts: &[Account],
    request: &ResolveRecipientsRequest,
    free_busy: &dyn Fn(&Account, FreeBusyWindow) -> String,
) -> ResolveRecipientsResponse {
    let options = &request.options;
    // MS-ASCMD StartTime/EndTime (ResolveRecipients): an invalid value, or a window the
    // server does not answer, is Status 5 for the whole command.
    let window = match &options.availability {
        None => None,
        Some(window) => {
            let slots = parse_eas_datetime(&window.start_time)
                .zip(parse_eas_datetime(&window.end_time))
                .and_then(|(start, end)| Some((start, free_busy_slots(start, end)?)));
            match slots {
                Some((start, slots)) => Some(FreeBusyWindow { start, slots }),
                None => {
                    return ResolveRecipientsResponse::status(
                        ResolveRecipientsStatus::ProtocolError,
                    )
                }
            }
        }
    };
    let want_certificates = matches!(
        options.certificate_retrieval,
        Some(CertificateRetrieval::Full | CertificateRetrieval::Mini)
    );
    let max_ambiguous = options
        .max_ambiguous_recipients
        .map_or(DEFAULT_MAX_AMBIGUOUS, |m| {
            usize::try_from(m).unwrap_or(usize::MAX)
        });
    let responses = request
        .to
        .iter()
        .map(|to| {
            let found = matching_accounts(accounts, to);
            let recipient = |a: &Account| {
                let mut r = Recipient::new(RecipientType::Gal, display_name(a), a.email.clone());
                if options.picture.is_some() {
                    // MS-ASCMD 2.2.2 Status 173 NoPicture: the user has no photo.
                    r.picture = Some(RecipientPicture {
                        status: CommonStatus::NoPicture.into(),
                        data: None,
                    });
                }
                r
            };
            let count = u32::try_from(found.len()).unwrap_or(u32::MAX);
            match found.as_slice() {
                [] => ResolveRecipientsResult {
                    to: to.clone(),
                    status: ResolveRecipientsStatus::NotResolved,
                    recipient_count: Some(0),
                    recipients: Vec::new(),
                },
                [one] => {
                    let mut r = recipient(one);
                    // Availability and Certificates only for a To that resolved to one
                    // person (MS-ASCMD 2.2.3.183; Status 2 and 3 return no certificates).
                    r.availability = window.map(|w| RecipientAvailability {
                        status: ResolveRecipientsStatus::Success,
                        merged_free_busy: Some(free_busy(one, w)),
                    });
                    if want_certificates {
                        // Status 7: the recipient has no valid S/MIME certificate.
                        r.certificates = Some(RecipientCertificates {
                            status: ResolveRecipientsStatus::NoValidCertificate,
                            certificate_count: Some(0),
                            recipient_count: None,
                            certificates: Vec::new(),
                            mini_certificate: None,
                        });
                    }
                    ResolveRecipientsResult {
                        to: to.clone(),
                        status: ResolveRecipientsStatus::Success,
                        recipient_count: Some(1),
                        recipients: vec![r],
                    }
                }
                many => {
                    // Status 2: the suggestions are all listed; 3: only the first
                    // MaxAmbiguousRecipients are. RecipientCount tells how many exist.
                    let listed: Vec<Recipient> = many
                        .iter()
                        .take(max_ambiguous)
                        .map(|a| recipient(a))
                        .collect();
                    ResolveRecipientsResult {
                        to: to.clone(),
                        status: if listed.len() < many.len() {
                            ResolveRecipientsStatus::AmbiguousPartial
                        } else {
                            ResolveRecipientsStatus::Ambiguous
                        },
                        recipient_count: Some(count),
                        recipients: listed,
                    }
                }
            }
        })
        .collect();
    ResolveRecipientsResponse {
        status: ResolveRecipientsStatus::Success,
        responses,
    }
}

impl Engine {
    /// ResolveRecipients (MS-ASCMD 2.2.1.15) against the local accounts.
    pub async fn resolve_recipients(
        &self,
        request: ResolveRecipientsRequest,
    ) -> Result<ResolveRecipientsResponse, EngineError> {
        self.blocking(move |store| {
            let accounts = store.list_accounts()?;
            // A local user's free/busy from their calendars; a failed read is "no data"
            // (MS-ASCMD 2.2.3.113 digit 4) for the window.
            let free_busy = |a: &Account, w: FreeBusyWindow| {
                let start = jiff::Timestamp::from_second(w.start.unix_timestamp())
                    .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
                let end = start
                    .checked_add(jiff::SignedDuration::from_secs(
                        SLOT_SECONDS * w.slots as i64,
                    ))
                    .unwrap_or(start);
                match crate::meetings::calendar_events(store, a.id, start, end) {
                    Ok(events) => crate::meetings::merged_free_busy(&events, start, w.slots),
                    Err(e) => {
                        tracing::warn!(user = %a.email, error = %e, "free/busy not read");
                        "4".repeat(w.slots)
                    }
                }
            };
            Ok(resolve(&accounts, &request, &free_busy))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use easd_protocol::commands::resolve_recipients::{
        AvailabilityRequest, ResolveRecipientsOptions,
    };
    use easd_store::AccountId;

    fn account(id: i64, email: &str, name: &str, aliases: &[&str]) -> Account {
        Account {
            id: AccountId(id),
            email: email.into(),
            password_hash: String::new(),
            display_name: name.into(),
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            credential_generation: 1,
            created_at: 0,
        }
    }

    fn all_free(_: &Account, w: FreeBusyWindow) -> String {
        "0".repeat(w.slots)
    }

    fn directory() -> Vec<Account> {
        vec![
            account(1, "alice@example.com", "Alice Archer", &[]),
            account(2, "bob@example.com", "", &["robert@example.com"]),
            account(3, "bobby@example.com", "Bobby Tables", &[]),
            account(4, "carol@example.org", "Carol Bobson", &[]),
        ]
    }

    fn request(to: &[&str], options: ResolveRecipientsOptions) -> ResolveRecipientsRequest {
        ResolveRecipientsRequest {
            to: to.iter().map(|t| t.to_string()).collect(),
            options,
        }
    }

    #[test]
    fn exact_address_alias_and_name() {
        let d = directory();
        let emails = |to: &str| -> Vec<String> {
            matching_accounts(&d, to)
                .iter()
                .map(|a| a.email.clone())
                .collect()
        };
        assert_eq!(emails("BOB@example.com"), ["bob@example.com"]);
        assert_eq!(emails("Robert <robert@example.com>"), ["bob@example.com"]);
        assert_eq!(emails("SMTP:alice@example.com"), ["alice@example.com"]);
        assert_eq!(emails("alice archer"), ["alice@example.com"]);
        assert_eq!(emails("ali"), ["alice@example.com"]);
        // Prefix matches before other parts: "bob" starts bob@ and bobby@, is inside Bobson.
        assert_eq!(
            emails("bob"),
            ["bob@example.com", "bobby@example.com", "carol@example.org"]
        );
        assert!(emails("").is_empty());
        assert!(emails("nobody@example.net").is_empty());
    }

    #[test]
    fn statuses_for_resolved_ambiguous_and_unknown() {
        let d = directory();
        let resp = resolve(
            &d,
            &request(
                &["bob@example.com", "bob", "zed"],
                ResolveRecipientsOptions::default(),
            ),
            &all_free,
        );
        assert_eq!(resp.status, ResolveRecipientsStatus::Success);
        let [one, many, none] = resp.responses.as_slice() else {
            panic!()
        };
        assert_eq!(one.status, ResolveRecipientsStatus::Success);
        assert_eq!(one.recipients[0].display_name, "bob@example.com");
        assert_eq!(one.recipients[0].recipient_type, RecipientType::Gal);
        assert_eq!(many.status, ResolveRecipientsStatus::Ambiguous);
        assert_eq!(many.recipient_count, Some(3));
        assert_eq!(none.status, ResolveRecipientsStatus::NotResolved);
        assert!(none.recipients.is_empty());

        let limited = resolve(
            &d,
            &request(
                &["bob"],
                ResolveRecipientsOptions {
                    max_ambiguous_recipients: Some(2),
                    ..Default::default()
                },
            ),
            &all_free,
        );
        assert_eq!(
            limited.responses[0].status,
            ResolveRecipientsStatus::AmbiguousPartial
        );
        assert_eq!(limited.responses[0].recipients.len(), 2);
        assert_eq!(limited.responses[0].recipient_count, Some(3));
    }

    #[test]
    fn availability_and_certificates() {
        let d = directory();
        let options = ResolveRecipientsOptions {
            certificate_retrieval: Some(CertificateRetrieval::Full),
            availability: Some(AvailabilityRequest {
                start_time: "2030-05-03T16:00:00.000Z".into(),
                end_time: "2030-05-03T20:10:00.000Z".into(),
            }),
            ..Default::default()
        };
        let resp = resolve(
            &d,
            &request(&["alice@example.com", "bob"], options.clone()),
            &all_free,
        );
        let alice = &resp.responses[0].recipients[0];
        let a = alice.availability.as_ref().unwrap();
        assert_eq!(a.status, ResolveRecipientsStatus::Success);
        // 4 h 10 min: nine started half hours, all free.
        assert_eq!(a.merged_free_busy.as_deref(), Some("000000000"));
        let c = alice.certificates.as_ref().unwrap();
        assert_eq!(c.status, ResolveRecipientsStatus::NoValidCertificate);
        assert_eq!(c.certificate_count, Some(0));
        // Ambiguous: no free/busy, no certificates.
        assert!(resp.responses[1]
            .recipients
            .iter()
            .all(|r| r.availability.is_none() && r.certificates.is_none()));

        for (start, end) in [
            ("yesterday", "2030-05-03T20:00:00.000Z"),
            ("2030-05-03T16:00:00.000Z", "2030-05-03T16:20:00.000Z"),
            ("2030-05-03T16:00:00.000Z", "2030-05-03T15:00:00.000Z"),
            ("2030-05-01T00:00:00.000Z", "2030-07-01T00:00:00.000Z"),
        ] {
            let mut o = options.clone();
            o.availability = Some(AvailabilityRequest {
                start_time: start.into(),
                end_time: end.into(),
            });
            let resp = resolve(&d, &request(&["alice"], o), &all_free);
            assert_eq!(
                resp.status,
                ResolveRecipientsStatus::ProtocolError,
                "{start} {end}"
            );
            assert!(resp.responses.is_empty());
        }
    }

    #[test]
    fn parses_both_datetime_forms() {
        let a = parse_eas_datetime("2012-05-03T16:00:00.000Z").unwrap();
        let b = parse_eas_datetime("20120503T160000Z").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.unix_timestamp(), 1_336_060_800);
        assert!(parse_eas_datetime("2012-05-03").is_none());
    }
}
