//! Drafts a client adds by Sync (MS-ASEMAIL 2.2.2 for 16.0+: Add in the Drafts folder),
//! stored as RFC 5322 like every other message.

use crate::content::mail::fields_from_mime;
use easd_protocol::commands::sync::SyncStatus;
use easd_protocol::items::airsyncbase::BodyType;
use easd_protocol::items::email::DraftEmail;
use easd_store::{folder_type, AccountId, Folder, Item, ItemClass, NewItem, Store};
use easd_wbxml::Element;
use mail_builder::headers::address::Address;
use mail_builder::MessageBuilder;

/// Parses an address list as a client writes it ("A <a@x>, b@y") into mail-builder's form.
fn addresses(list: &str) -> Vec<Address<'static>> {
    list.split([',', ';'])
        .filter_map(|part| {
            let part = part.trim();
            if part.is_empty() {
                return None;
            }
            match (part.rfind('<'), part.rfind('>')) {
                (Some(l), Some(r)) if l < r => {
                    let name = part[..l].trim().trim_matches('"').to_owned();
                    let email = part[l + 1..r].trim().to_owned();
                    Some(if name.is_empty() {
                        Address::new_address(None::<String>, email)
                    } else {
                        Address::new_address(Some(name), email)
                    })
                }
                _ => Some(Address::new_address(None::<String>, part.to_owned())),
            }
        })
        .collect()
}

/// Builds the message of a draft.
pub fn draft_mime(draft: &DraftEmail, from: &str, now: i64) -> Vec<u8> {
    let mut b = MessageBuilder::new().from(Address::new_address(None::<String>, from.to_owned()));
    if let Some(to) = draft.to.as_deref() {
        b = b.to(Address::new_list(addresses(to)));
    }
    if let Some(cc) = draft.cc.as_deref() {
        b = b.cc(Address::new_list(addresses(cc)));
    }
    if let Some(bcc) = draft.bcc.as_deref() {
        b = b.bcc(Address::new_list(addresses(bcc)));
    }
    b = b
        .subject(draft.subject.clone().unwrap_or_default())
        .date(now);
    let text = draft
        .body
        .as_ref()
        .and_then(|b| b.data.as_ref())
        .map(|d| d.to_text())
        .unwrap_or_default();
    b = match draft.body.as_ref().map(|b| b.body_type) {
        Some(BodyType::Html) => b.html_body(text),
        _ => b.text_body(text),
    };
    b.write_to_vec().unwrap_or_default()
}

/// Stores a draft a client added; the error is the Add's status.
pub fn add_draft(
    store: &dyn Store,
    account: AccountId,
    folder: &Folder,
    application_data: &Element,
    now: i64,
) -> Result<Item, SyncStatus> {
    if folder.folder_type != folder_type::DRAFTS {
        // Mail reaches other folders by delivery or moves, not by a client's Add.
        return Err(SyncStatus::ClientServerConversionError);
    }
    let draft =
        DraftEmail::parse(application_data).map_err(|_| SyncStatus::ClientServerConversionError)?;
    let from = store
        .account(account)
        .ok()
        .flatten()
        .map(|a| a.email)
        .unwrap_or_default();
    let raw = draft_mime(&draft, &from, now);
    let mut fields =
        fields_from_mime(&raw, now).map_err(|_| SyncStatus::ClientServerConversionError)?;
    fields.read = true;
    store
        .add_item(
            account,
            NewItem {
                folder: folder.id,
                class: ItemClass::Email,
                content: raw,
                fields,
            },
        )
        .map_err(|e| {
            tracing::error!(error = %e, "storing a draft failed");
            SyncStatus::ServerError
        })
}
