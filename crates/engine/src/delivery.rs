//! Inbound delivery (LMTP, SMTP, `easd deliver`, local SendMail recipients).

use crate::content::mail::fields_from_mime;
use crate::{Engine, EngineError};
use easd_store::{AccountId, FolderId, Item};

impl Engine {
    /// The account a recipient address delivers to (primary address or alias).
    pub async fn find_recipient(&self, address: &str) -> Result<Option<AccountId>, EngineError> {
        let address = address.trim().trim_matches(['<', '>']).to_lowercase();
        self.blocking(move |store| Ok(store.account_by_address(&address)?.map(|a| a.id)))
            .await
    }

    /// Stores `raw` in the account's Inbox. Returns only once the message is durable, and
    /// wakes the Pings that watch the Inbox.
    pub async fn deliver(&self, account: AccountId, raw: Vec<u8>) -> Result<Item, EngineError> {
        if raw.len() > self.settings.max_message_bytes {
            return Err(EngineError::TooLarge {
                size: raw.len(),
                limit: self.settings.max_message_bytes,
            });
        }
        let (item, calendar) = self
            .blocking(move |store| deliver_and_schedule(store, account, raw))
            .await?;
        self.hub.changed(account.0, &[item.folder.0]);
        if let Some(calendar) = calendar {
            self.hub.changed(account.0, &[calendar.0]);
        }
        Ok(item)
    }
}

/// The synchronous delivery, also used by `easd deliver` (which may run beside a server).
pub fn deliver_blocking(
    store: &dyn easd_store::Store,
    account: AccountId,
    raw: Vec<u8>,
) -> Result<Item, EngineError> {
    Ok(deliver_and_schedule(store, account, raw)?.0)
}

/// Stores the message, then applies a meeting message it carries to the calendar
/// (`meetings::apply_imip`); returns the calendar folder that changed. The message is
/// delivered whether or not its meeting applies.
fn deliver_and_schedule(
    store: &dyn easd_store::Store,
    account: AccountId,
    raw: Vec<u8>,
) -> Result<(Item, Option<FolderId>), EngineError> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let fields = fields_from_mime(&raw, now)?;
    let meeting = fields.message_class.starts_with("IPM.Schedule.Meeting");
    let scheduling = meeting.then(|| raw.clone());
    let item = store.deliver(account, raw, fields)?;
    let calendar = match scheduling.map(|raw| crate::meetings::apply_imip(store, account, &raw)) {
        Some(Ok(folder)) => folder,
        Some(Err(e)) => {
            tracing::warn!(account = account.0, error = %e, "meeting message not applied to the calendar");
            None
        }
        None => None,
    };
    Ok((item, calendar))
}

/// The account a login names: its address, or — for "DOMAIN\user" and bare "user" logins,
/// which many phones send (MS-ASHTTP 2.2.1.1.2.2) — the one account whose address has that
/// local part.
pub fn account_for_login(
    store: &dyn easd_store::Store,
    login: &str,
) -> Result<Option<easd_store::Account>, EngineError> {
    if let Some(account) = store.account_by_email(login)? {
        return Ok(Some(account));
    }
    if login.contains('@') {
        return Ok(None);
    }
    let prefix = format!("{login}@");
    let mut matches = store
        .list_accounts()?
        .into_iter()
        .filter(|a| a.email.starts_with(&prefix));
    match (matches.next(), matches.next()) {
        (Some(one), None) => Ok(Some(one)),
        // None, or ambiguous across domains: the user must log in with the address.
        _ => Ok(None),
    }
}
