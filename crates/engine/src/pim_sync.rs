//! A client's Sync Add and Change in a Calendar, Contacts, Tasks or Notes folder
//! (MS-ASCMD 2.2.3.7.2 Add, 2.2.3.24.2 Change): the item converted into its stored format
//! by `content::pim`, and the store written.

use crate::content::pim::{stored_fields, PimError, PimItem};
use crate::content::ChangeMode;
use crate::EngineError;
use easd_protocol::commands::sync::SyncStatus;
use easd_protocol::items::airsyncbase::Supported;
use easd_protocol::items::calendar::{Calendar, Exception};
use easd_protocol::ProtocolVersion;
use easd_store::{AccountId, Folder, Item, ItemChange, ItemClass, NewItem, Store};
use easd_wbxml::Element;
use jiff::Timestamp;

/// The stored iCalendar text of an event before and after a device's write (None: absent),
/// for the meeting messages a device's own events send.
#[derive(Debug, Clone, Default)]
pub struct EventWrite {
    pub before: Option<Vec<u8>>,
    pub after: Option<Vec<u8>>,
}

/// How a client's Change applies: from 16.0 only the properties sent change (MS-ASCMD
/// 2.2.3.24.2: "In protocol version 16.0 and 16.1, ... only the properties that are
/// changed"); before, the item is whole, with the collection's Supported list ghosting the
/// others (MS-ASAIRS 3.1.5.3).
pub fn change_mode(version: ProtocolVersion, supported: Option<&Supported>) -> ChangeMode<'_> {
    if version >= ProtocolVersion::V16_0 {
        ChangeMode::Partial
    } else {
        ChangeMode::Replace { supported }
    }
}

/// A fresh iCalendar/vCard UID (RFC 4122 version 4 form).
pub fn new_uid() -> String {
    let n: u128 = rand::random();
    let hex = format!("{:032x}", n);
    format!(
        "{}-{}-4{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Adds a client's item to `folder`. A client mistake is a status, not an error.
pub fn add(
    store: &dyn Store,
    account: AccountId,
    folder: &Folder,
    class: ItemClass,
    application_data: &Element,
    now: Timestamp,
    events: &mut Vec<EventWrite>,
) -> Result<Result<Item, SyncStatus>, EngineError> {
    let parsed = match PimItem::parse(class, application_data) {
        Ok(item) => item,
        Err(e) => {
            tracing::info!(error = %e, ?class, "client Add does not parse");
            return Ok(Err(SyncStatus::ClientServerConversionError));
        }
    };
    // MS-ASCAL 2.2.2.13 ClientUid: "the server will use this value to detect if the item
    // being added already exists". A 16.x event's UID is its ClientUid (before 16.0 the
    // client makes the UID itself, MS-ASCAL UID), so an Add sent again under another
    // SyncKey (a client that lost our answer) finds the event it made.
    let client_uid = match &parsed {
        PimItem::Event(c) => c.uid.clone().or_else(|| c.client_uid.clone()),
        _ => None,
    }
    .filter(|u| !u.is_empty());
    if let Some(uid) = &client_uid {
        if let Some(existing) = store
            .items_by_uid(account, uid)?
            .into_iter()
            .find(|i| i.folder == folder.id)
        {
            return Ok(Ok(existing));
        }
    }
    let uid = client_uid.unwrap_or_else(new_uid);
    let converted = parsed.new_content(&uid, now).and_then(|content| {
        let fields = stored_fields(class, content.as_bytes())?;
        Ok((content, fields))
    });
    let (content, fields) = match converted {
        Ok(c) => c,
        Err(e) => {
            tracing::info!(error = %e, ?class, "client Add does not convert");
            return Ok(Err(SyncStatus::ClientServerConversionError));
        }
    };
    let content = content.into_bytes();
    if class == ItemClass::Calendar {
        events.push(EventWrite {
            before: None,
            after: Some(content.clone()),
        });
    }
    let item = store.add_item(
        account,
        NewItem {
            folder: folder.id,
            class,
            content,
            fields,
        },
    )?;
    Ok(Ok(item))
}

/// Applies a client's Change to a stored item.
pub fn change(
    store: &dyn Store,
    account: AccountId,
    item: &Item,
    application_data: &Element,
    mode: ChangeMode,
    now: Timestamp,
    events: &mut Vec<EventWrite>,
) -> Result<Result<Item, SyncStatus>, EngineError> {
    rewrite(store, account, item, events, |stored| {
        PimItem::parse(item.class, application_data)?.changed_content(stored, mode, now)
    })
}

/// Rewrites a stored item's content with `rewrite`; a result that does not convert is
/// Status 6 and leaves the item as it was.
fn rewrite(
    store: &dyn Store,
    account: AccountId,
    item: &Item,
    events: &mut Vec<EventWrite>,
    rewrite: impl FnOnce(&[u8]) -> Result<String, PimError>,
) -> Result<Result<Item, SyncStatus>, EngineError> {
    let stored = store.item_content(account, item.id)?;
    let converted = rewrite(&stored).and_then(|content| {
        let content = match (item.class, std::str::from_utf8(&stored)) {
            (ItemClass::Calendar, Ok(before)) => {
                crate::content::itip::with_next_sequence(before, content)
            }
            _ => content,
        };
        let fields = stored_fields(item.class, content.as_bytes())?;
        Ok((content.into_bytes(), fields))
    });
    let (content, fields) = match converted {
        Ok(c) => c,
        Err(e) => {
            tracing::info!(error = %e, server_id = %item.server_id, "client change does not convert");
            return Ok(Err(SyncStatus::ClientServerConversionError));
        }
    };
    if content == stored {
        return Ok(Ok(item.clone()));
    }
    if item.class == ItemClass::Calendar {
        events.push(EventWrite {
            before: Some(stored),
            after: Some(content.clone()),
        });
    }
    let updated = store.update_item(
        account,
        item.id,
        &ItemChange {
            replace: Some((content, fields)),
            ..Default::default()
        },
    )?;
    Ok(Ok(updated))
}

/// The IANA zone of the Timezone a client's event carries (MS-ASCAL 2.2.2.46), in the
/// rules of its start's year.
pub fn device_zone(application_data: &Element) -> Option<String> {
    let event = Calendar::parse(application_data).ok()?;
    let blob = event.timezone.as_ref()?;
    let year = event
        .fields
        .start_time
        .as_deref()
        .and_then(crate::recipients::parse_eas_datetime)
        .map_or(2026, |t| t.year() as i16);
    let zone = crate::content::timezone::to_iana(blob, year).ok()?;
    zone.iana_name().map(str::to_owned)
}

/// One occurrence of a stored series in a 16.x Delete or Change with an InstanceId
/// (MS-ASAIRS 2.2.2.25): the original UTC start of the occurrence.
pub struct Occurrence<'a> {
    pub instance_id: &'a str,
}

impl Occurrence<'_> {
    /// A Delete: the occurrence becomes a deleted exception (EXDATE); the series stays.
    pub fn delete(
        &self,
        store: &dyn Store,
        account: AccountId,
        item: &Item,
        now: Timestamp,
        events: &mut Vec<EventWrite>,
    ) -> Result<Result<Item, SyncStatus>, EngineError> {
        let exception = Exception {
            deleted: Some(true),
            exception_start_time: Some(self.instance_id.to_owned()),
            ..Default::default()
        };
        self.write(store, account, item, exception, now, events)
    }

    /// A Change: the properties sent become that occurrence's (a modified exception,
    /// RECURRENCE-ID); the rest of the series is unchanged.
    pub fn change(
        &self,
        store: &dyn Store,
        account: AccountId,
        item: &Item,
        application_data: &Element,
        now: Timestamp,
        events: &mut Vec<EventWrite>,
    ) -> Result<Result<Item, SyncStatus>, EngineError> {
        let Ok(sent) = Calendar::parse(application_data) else {
            return Ok(Err(SyncStatus::ClientServerConversionError));
        };
        let exception = Exception {
            deleted: None,
            exception_start_time: Some(self.instance_id.to_owned()),
            fields: sent.fields,
        };
        self.write(store, account, item, exception, now, events)
    }

    fn write(
        &self,
        store: &dyn Store,
        account: AccountId,
        item: &Item,
        exception: Exception,
        now: Timestamp,
        events: &mut Vec<EventWrite>,
    ) -> Result<Result<Item, SyncStatus>, EngineError> {
        let change = Calendar {
            exceptions: Some(vec![exception]),
            ..Default::default()
        };
        rewrite(store, account, item, events, |stored| {
            PimItem::Event(Box::new(change)).changed_content(stored, ChangeMode::Partial, now)
        })
    }
}
