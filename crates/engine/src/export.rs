//! `easd export`: a folder's items as one file: a VCALENDAR with every event or task (each
//! VTIMEZONE once), a .vcf with every card, or an mbox (mboxrd: From_ lines, ">From "
//! quoting) with every message. What `easd import` reads back to the same items.

use crate::import::text::split_calendars;
use crate::sync::folder_item_class;
use easd_store::{AccountId, Folder, FullItem, ItemClass, Store, StoreError, ROOT_SERVER_ID};
use std::io::Write;

/// Items read from the store at once.
const CHUNK: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    ICalendar,
    VCard,
    Mbox,
}

impl ExportFormat {
    /// The format of a class's stored items; none for notes.
    pub fn of_class(class: ItemClass) -> Option<ExportFormat> {
        match class {
            ItemClass::Calendar | ItemClass::Tasks => Some(ExportFormat::ICalendar),
            ItemClass::Contacts => Some(ExportFormat::VCard),
            ItemClass::Email => Some(ExportFormat::Mbox),
            ItemClass::Notes => None,
        }
    }

    pub fn parse(name: &str) -> Option<ExportFormat> {
        match name.to_ascii_lowercase().as_str() {
            "ics" | "ical" | "icalendar" => Some(ExportFormat::ICalendar),
            "vcf" | "vcard" => Some(ExportFormat::VCard),
            "mbox" => Some(ExportFormat::Mbox),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("writing: {0}")]
    Io(#[from] std::io::Error),
    #[error("folder {folder:?} holds {class:?} items, which {format:?} does not carry")]
    Mismatch {
        folder: String,
        class: ItemClass,
        format: ExportFormat,
    },
    #[error("{0:?} items have no export format")]
    NoFormat(ItemClass),
}

/// The folder `name` means: its ServerId, or its display name (a top-level folder first).
pub fn folder_named(
    store: &dyn Store,
    account: AccountId,
    name: &str,
) -> Result<Option<Folder>, StoreError> {
    let folders = store.folders(account)?;
    let named = |f: &&Folder| f.display_name.eq_ignore_ascii_case(name);
    Ok(folders
        .iter()
        .find(|f| f.server_id == name)
        .or_else(|| {
            folders
                .iter()
                .filter(named)
                .find(|f| f.parent_server_id == ROOT_SERVER_ID)
        })
        .or_else(|| folders.iter().find(named))
        .cloned())
}

/// Writes the items of `folder` to `out` as `format` (default: the folder's class's);
/// `progress` is told the number of items written so far. Returns how many were written;
/// an item whose stored text no longer parses is skipped and named in the second value.
pub fn export_folder(
    store: &dyn Store,
    account: AccountId,
    folder: &Folder,
    format: Option<ExportFormat>,
    out: &mut dyn Write,
    progress: &mut dyn FnMut(usize),
) -> Result<(usize, Vec<String>), ExportError> {
    let class = folder_item_class(folder.folder_type);
    let own = ExportFormat::of_class(class).ok_or(ExportError::NoFormat(class))?;
    let format = format.unwrap_or(own);
    if format != own {
        return Err(ExportError::Mismatch {
            folder: folder.display_name.clone(),
            class,
            format,
        });
    }
    let mut ids: Vec<_> = store
        .list_folder_items(account, folder.id)?
        .items
        .into_iter()
        .map(|i| i.id)
        .collect();
    // Oldest first, as an mbox grows.
    ids.reverse();
    let mut written = 0;
    let mut skipped = Vec::new();
    let mut calendar = CalendarWriter::default();
    for chunk in ids.chunks(CHUNK) {
        for item in store.items_full(account, chunk)? {
            let ok = match format {
                ExportFormat::ICalendar => calendar.add(&item),
                ExportFormat::VCard => {
                    out.write_all(&item.content)?;
                    if !item.content.ends_with(b"\n") {
                        out.write_all(b"\r\n")?;
                    }
                    true
                }
                ExportFormat::Mbox => {
                    write_mbox_message(out, &item)?;
                    true
                }
            };
            if ok {
                written += 1;
            } else {
                skipped.push(item.item.server_id.clone());
            }
            progress(written);
        }
    }
    if format == ExportFormat::ICalendar {
        out.write_all(calendar.finish().as_bytes())?;
    }
    out.flush()?;
    Ok((written, skipped))
}

/// The components of every stored object, and each VTIMEZONE once (by TZID; the first
/// met is kept).
#[derive(Default)]
struct CalendarWriter {
    timezones: Vec<(String, String)>,
    components: String,
}

impl CalendarWriter {
    fn add(&mut self, item: &FullItem) -> bool {
        let Ok(text) = std::str::from_utf8(&item.content) else {
            return false;
        };
        let Ok(objects) = split_calendars(text) else {
            return false;
        };
        for object in objects {
            for c in object.components {
                match (&c.tzid, c.name.as_str()) {
                    (Some(id), "VTIMEZONE") => {
                        if !self.timezones.iter().any(|(t, _)| t == id) {
                            let mut zone = String::new();
                            c.write(&mut zone);
                            self.timezones.push((id.clone(), zone));
                        }
                    }
                    _ => c.write(&mut self.components),
                }
            }
        }
        true
    }

    /// One VCALENDAR: the zones, then the components.
    fn finish(self) -> String {
        let mut out =
            String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//easd//export//EN\r\n");
        for (_, zone) in &self.timezones {
            out.push_str(zone);
        }
        out.push_str(&self.components);
        out.push_str("END:VCALENDAR\r\n");
        out
    }
}

/// One message of an mboxrd file: a From_ line with the sender and the received date
/// (asctime), the message with each line that starts with ">*From " quoted by one more
/// '>', and a blank line.
fn write_mbox_message(out: &mut dyn Write, item: &FullItem) -> std::io::Result<()> {
    let from = &item.item.fields.from;
    let sender = from
        .rsplit_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map_or(from.as_str(), |(address, _)| address)
        .trim();
    let sender = if sender.is_empty() || sender.contains(char::is_whitespace) {
        "MAILER-DAEMON"
    } else {
        sender
    };
    let date = jiff::Timestamp::from_second(item.item.fields.date_received)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .strftime("%a %b %e %H:%M:%S %Y");
    writeln!(out, "From {sender} {date}")?;
    let content = &item.content;
    for line in content.split_inclusive(|&b| b == b'\n') {
        let quoted = line.iter().position(|&b| b != b'>');
        if quoted.is_some_and(|i| line[i..].starts_with(b"From ")) {
            out.write_all(b">")?;
        }
        out.write_all(line)?;
    }
    if !content.ends_with(b"\n") {
        out.write_all(b"\n")?;
    }
    out.write_all(b"\n")
}
