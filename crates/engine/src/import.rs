//! `easd import`: .ics, .vcf, .eml, mbox, Maildir and .txt files into an account's folders,
//! in the stored formats of ARCHITECTURE.md (one VCALENDAR per event or task UID with the
//! VTIMEZONEs it uses, one vCard per contact, RFC 5322 bytes per message, note text).
//!
//! An item that does not convert is reported with its file, its place in the file and
//! why; the others still land. An item whose UID (a message's Message-ID) is already in
//! the target folder replaces it when it differs and is left alone when it is the same, so
//! importing a file twice changes nothing. Items are added and updated in transactions of [`BATCH`].

pub mod text;

use crate::content::mail::fields_from_mime;
use crate::content::note;
use crate::content::pim::stored_fields;
use crate::sync::folder_item_class;
use easd_protocol::items::airsyncbase::{Body, BodyType};
use easd_protocol::items::note::Note;
use easd_store::{
    folder_type, AccountId, FolderId, ItemChange, ItemClass, ItemFields, ItemId, NewItem, Store,
    StoreError, ROOT_SERVER_ID,
};
use mail_parser::mailbox::{maildir, mbox};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use text::{calendar_text, split_calendars, split_vcards, Block};

/// Items added per store transaction.
pub const BATCH: usize = 500;

/// What stops an import as a whole (a bad item or file only fails itself).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

/// Counts of one class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ClassCounts {
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub failed: usize,
}

/// An item (or a whole file) that did not land, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ItemFailure {
    pub file: PathBuf,
    /// Which item of the file: "VEVENT UID x", "vCard 3 (UID y)", "message 12", a
    /// Maildir message's file name; empty for the whole file.
    pub item: String,
    pub reason: String,
}

/// The outcome of an import.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ImportReport {
    /// Per class, in the order the classes were first met.
    pub classes: Vec<(ItemClass, ClassCounts)>,
    pub failures: Vec<ItemFailure>,
}

impl ImportReport {
    pub fn counts(&self, class: ItemClass) -> ClassCounts {
        self.classes
            .iter()
            .find(|(c, _)| *c == class)
            .map(|(_, n)| *n)
            .unwrap_or_default()
    }

    fn counts_mut(&mut self, class: ItemClass) -> &mut ClassCounts {
        let at = match self.classes.iter().position(|(c, _)| *c == class) {
            Some(at) => at,
            None => {
                self.classes.push((class, ClassCounts::default()));
                self.classes.len() - 1
            }
        };
        &mut self.classes[at].1
    }

    /// Items that landed or were already there.
    pub fn items(&self) -> usize {
        self.classes
            .iter()
            .map(|(_, n)| n.added + n.updated + n.unchanged)
            .sum()
    }
}

/// The kinds of file `easd import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    ICalendar,
    VCard,
    Message,
    Mbox,
    Maildir,
    Note,
}

/// The format of `path`: a directory is a Maildir; a file by its extension, else by its
/// first bytes.
pub fn detect_format(path: &Path) -> std::io::Result<Option<Format>> {
    if path.is_dir() {
        return Ok(Some(Format::Maildir));
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let by_ext = match ext.as_deref() {
        Some("ics" | "ical" | "ifb" | "icalendar") => Some(Format::ICalendar),
        Some("vcf" | "vcard") => Some(Format::VCard),
        Some("eml") => Some(Format::Message),
        Some("mbox" | "mbx") => Some(Format::Mbox),
        Some("txt") => Some(Format::Note),
        _ => None,
    };
    if by_ext.is_some() {
        return Ok(by_ext);
    }
    use std::io::Read;
    let mut head = [0u8; 64];
    let n = std::fs::File::open(path)?.read(&mut head)?;
    let head = String::from_utf8_lossy(&head[..n]);
    let head = head.trim_start_matches('\u{feff}').trim_start();
    let starts = |p: &str| {
        head.get(..p.len())
            .is_some_and(|h| h.eq_ignore_ascii_case(p))
    };
    Ok(if starts("BEGIN:VCALENDAR") {
        Some(Format::ICalendar)
    } else if starts("BEGIN:VCARD") {
        Some(Format::VCard)
    } else if head.starts_with("From ") {
        Some(Format::Mbox)
    } else if head
        .split_once(':')
        .is_some_and(|(name, _)| !name.is_empty() && !name.contains([' ', '\n']))
    {
        Some(Format::Message)
    } else {
        None
    })
}

/// The bytes an import of `path` reads (a Maildir: its messages), for a progress bar.
pub fn import_size(path: &Path) -> u64 {
    fn walk(dir: &Path) -> u64 {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return 0;
        };
        entries
            .flatten()
            .map(|e| match e.file_type() {
                Ok(t) if t.is_dir() => walk(&e.path()),
                Ok(_) => e.metadata().map_or(0, |m| m.len()),
                Err(_) => 0,
            })
            .sum()
    }
    if path.is_dir() {
        walk(path)
    } else {
        std::fs::metadata(path).map_or(0, |m| m.len())
    }
}

/// The default folder type of a class.
fn default_type(class: ItemClass) -> i32 {
    match class {
        ItemClass::Email => folder_type::INBOX,
        ItemClass::Calendar => folder_type::CALENDAR,
        ItemClass::Contacts => folder_type::CONTACTS,
        ItemClass::Tasks => folder_type::TASKS,
        ItemClass::Notes => folder_type::NOTES,
    }
}

/// The type of a folder created for a class (MS-ASCMD 2.2.3.186.3: the user-created types).
fn user_type(class: ItemClass) -> i32 {
    match class {
        ItemClass::Email => folder_type::USER_MAIL,
        ItemClass::Calendar => folder_type::USER_CALENDAR,
        ItemClass::Contacts => folder_type::USER_CONTACTS,
        ItemClass::Tasks => folder_type::USER_TASKS,
        ItemClass::Notes => folder_type::USER_NOTES,
    }
}

/// The default folder a top-level Maildir folder of this name maps to (Maildir++ ".Sent",
/// and the names IMAP clients use).
fn special_mail_folder(name: &str) -> Option<i32> {
    let name = name.to_ascii_lowercase();
    Some(match name.as_str() {
        "sent" | "sent items" | "sent messages" | "sent mail" => folder_type::SENT_ITEMS,
        "drafts" => folder_type::DRAFTS,
        "trash" | "deleted items" | "deleted messages" => folder_type::DELETED_ITEMS,
        _ => return None,
    })
}

/// A message's flags from its Maildir file name (S: read; F: flagged, MS-ASEMAIL Flag
/// Status 2 "active").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct MailFlags {
    read: bool,
    flagged: bool,
}

/// Imports files into one account. Call [`Importer::import_path`] per file or Maildir,
/// then [`Importer::finish`].
pub struct Importer<'s> {
    store: &'s dyn Store,
    account: AccountId,
    /// `--folder`: the folder (by name or ServerId) to import into instead of the class's
    /// default; created with the class's type when absent.
    folder: Option<String>,
    /// (class, Maildir folder path) → folder.
    folders: HashMap<(ItemClass, Vec<String>), FolderId>,
    pending: Vec<NewItem>,
    /// (folder, UID) → index in `pending`, for a UID met twice before a flush.
    pending_uids: HashMap<(FolderId, String), usize>,
    /// Changes to items already in the store, applied with the next batch.
    pending_updates: Vec<(ItemId, ItemChange)>,
    report: ImportReport,
    now: i64,
}

impl<'s> Importer<'s> {
    pub fn new(store: &'s dyn Store, account: AccountId, folder: Option<String>) -> Self {
        Importer {
            store,
            account,
            folder,
            folders: HashMap::new(),
            pending: Vec::new(),
            pending_uids: HashMap::new(),
            pending_updates: Vec::new(),
            report: ImportReport::default(),
            now: time::OffsetDateTime::now_utc().unix_timestamp(),
        }
    }

    /// The report so far (items still pending in the batch are not yet counted as added).
    pub fn report(&self) -> &ImportReport {
        &self.report
    }

    /// Imports one file or Maildir tree. `progress` is told the bytes read and the items
    /// met since its last call.
    pub fn import_path(
        &mut self,
        path: &Path,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<(), ImportError> {
        let format = match detect_format(path) {
            Ok(Some(f)) => f,
            Ok(None) => {
                self.fail_file(
                    path,
                    "not an .ics, .vcf, .eml, mbox, .txt file or a Maildir",
                );
                return Ok(());
            }
            Err(e) => {
                self.fail_file(path, &e.to_string());
                return Ok(());
            }
        };
        let size = import_size(path);
        let mut read = 0u64;
        let mut tell = |n: u64| {
            read += n;
            progress(n, 1);
        };
        match format {
            Format::Maildir => self.maildir(path, &mut tell)?,
            Format::Mbox => self.mbox(path, &mut tell)?,
            _ => match std::fs::read(path) {
                Err(e) => self.fail_file(path, &e.to_string()),
                Ok(bytes) => match format {
                    Format::Message => {
                        let n = bytes.len() as u64;
                        self.message(path, "", bytes, None, None)?;
                        tell(n);
                    }
                    _ => match String::from_utf8(bytes) {
                        Err(_) => self.fail_file(path, "not UTF-8 text"),
                        Ok(text) => match format {
                            Format::ICalendar => self.ics(path, &text, &mut tell)?,
                            Format::VCard => self.vcf(path, &text, &mut tell)?,
                            _ => {
                                self.note(path, &text)?;
                                tell(text.len() as u64);
                            }
                        },
                    },
                },
            },
        }
        progress(size.saturating_sub(read), 0);
        Ok(())
    }

    /// Stores what is pending and returns the report.
    pub fn finish(mut self) -> Result<ImportReport, ImportError> {
        self.flush()?;
        Ok(self.report)
    }

    fn fail_file(&mut self, file: &Path, reason: &str) {
        self.report.failures.push(ItemFailure {
            file: file.to_owned(),
            item: String::new(),
            reason: reason.to_owned(),
        });
    }

    fn fail(&mut self, class: ItemClass, file: &Path, item: String, reason: String) {
        self.report.counts_mut(class).failed += 1;
        self.report.failures.push(ItemFailure {
            file: file.to_owned(),
            item,
            reason,
        });
    }

    fn ics(
        &mut self,
        file: &Path,
        text: &str,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(), ImportError> {
        let objects = match split_calendars(text) {
            Ok(o) => o,
            Err(e) => {
                self.fail_file(file, &e.to_string());
                return Ok(());
            }
        };
        for object in &objects {
            let timezones: Vec<&Block> = object
                .components
                .iter()
                .filter(|c| c.name == "VTIMEZONE")
                .collect();
            // One stored object per UID: the event (or task) and its overrides
            // (RFC 5545 3.8.4.4 RECURRENCE-ID), in the order first met.
            let mut groups: Vec<(ItemClass, Vec<&Block>)> = Vec::new();
            let mut by_uid: HashMap<(ItemClass, &str), usize> = HashMap::new();
            for c in &object.components {
                let class = match c.name.as_str() {
                    "VTIMEZONE" => continue,
                    "VEVENT" => ItemClass::Calendar,
                    "VTODO" => ItemClass::Tasks,
                    other => {
                        self.fail_file(
                            file,
                            &format!("{other} UID {}: no EAS class holds it", c.uid),
                        );
                        progress(c.size());
                        continue;
                    }
                };
                match by_uid.get(&(class, c.uid.as_str())) {
                    Some(&g) => groups[g].1.push(c),
                    None => {
                        by_uid.insert((class, c.uid.as_str()), groups.len());
                        groups.push((class, vec![c]));
                    }
                }
            }
            for (class, blocks) in groups {
                let content = calendar_text(&object.properties, &timezones, &blocks);
                let label = format!("{} UID {}", blocks[0].name, blocks[0].uid);
                self.pim(file, label, class, content, blocks[0].uid.clone())?;
                progress(blocks.iter().map(|b| b.size()).sum());
            }
        }
        Ok(())
    }

    fn vcf(
        &mut self,
        file: &Path,
        text: &str,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(), ImportError> {
        let cards = match split_vcards(text) {
            Ok(c) => c,
            Err(e) => {
                self.fail_file(file, &e.to_string());
                return Ok(());
            }
        };
        for (n, card) in cards.iter().enumerate() {
            let mut content = String::new();
            card.write(&mut content);
            let label = format!("vCard {} (UID {})", n + 1, card.uid);
            self.pim(file, label, ItemClass::Contacts, content, card.uid.clone())?;
            progress(card.size());
        }
        Ok(())
    }

    /// A .txt file is a note: its first line the subject, the whole text the body
    /// (MS-ASNOTE 2.2.2), changed when the file was.
    fn note(&mut self, file: &Path, text: &str) -> Result<(), ImportError> {
        let modified = std::fs::metadata(file)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| jiff::Timestamp::try_from(t).ok())
            .unwrap_or_else(jiff::Timestamp::now);
        let n = Note {
            subject: text
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .map(str::to_owned),
            body: Some(Body::new(BodyType::Plain, text)),
            last_modified_date: Some(modified.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()),
            ..Note::default()
        };
        // Notes have no UID: the file's name stands for one, so a second import of the
        // same file replaces its note.
        let name = file.file_name().unwrap_or_default().to_string_lossy();
        let key = format!("note:{name}");
        self.pim(
            file,
            String::new(),
            ItemClass::Notes,
            note::to_text(&n),
            key,
        )
    }

    fn pim(
        &mut self,
        file: &Path,
        label: String,
        class: ItemClass,
        content: String,
        uid: String,
    ) -> Result<(), ImportError> {
        let mut fields = match stored_fields(class, content.as_bytes()) {
            Ok(f) => f,
            Err(e) => {
                self.fail(class, file, label, e.to_string());
                return Ok(());
            }
        };
        fields.uid = Some(uid.clone());
        let folder = match self.folder_for(class, &[])? {
            Ok(f) => f,
            Err(reason) => {
                self.fail(class, file, label, reason);
                return Ok(());
            }
        };
        let item = NewItem {
            folder,
            class,
            content: content.into_bytes(),
            fields,
        };
        self.upsert(item, Some(uid), None)
    }

    /// One RFC 5322 message into the folder of `path` (a Maildir folder) or the Inbox.
    fn message(
        &mut self,
        file: &Path,
        label: &str,
        raw: Vec<u8>,
        received: Option<i64>,
        maildir: Option<(&[String], MailFlags)>,
    ) -> Result<(), ImportError> {
        let (path, flags) = maildir.unwrap_or((&[], MailFlags::default()));
        let received = received
            .filter(|&t| t > 0)
            .or_else(|| {
                mail_parser::MessageParser::new()
                    .parse_headers(&raw)
                    .and_then(|m| m.date().map(|d| d.to_timestamp()))
            })
            .unwrap_or(self.now);
        let mut fields = match fields_from_mime(&raw, received) {
            Ok(f) => f,
            Err(e) => {
                self.fail(ItemClass::Email, file, label.to_owned(), e.to_string());
                return Ok(());
            }
        };
        fields.read = flags.read;
        fields.flag_status = if flags.flagged { 2 } else { 0 };
        let folder = match self.folder_for(ItemClass::Email, path)? {
            Ok(f) => f,
            Err(reason) => {
                self.fail(ItemClass::Email, file, label.to_owned(), reason);
                return Ok(());
            }
        };
        let uid = fields.uid.clone();
        let item = NewItem {
            folder,
            class: ItemClass::Email,
            content: raw,
            fields,
        };
        self.upsert(item, uid, Some(flags))
    }

    fn mbox(&mut self, file: &Path, progress: &mut dyn FnMut(u64)) -> Result<(), ImportError> {
        let reader = match std::fs::File::open(file) {
            Ok(f) => std::io::BufReader::new(f),
            Err(e) => {
                self.fail_file(file, &e.to_string());
                return Ok(());
            }
        };
        for (n, message) in mbox::MessageIterator::new(reader).enumerate() {
            let label = format!("message {}", n + 1);
            let message = match message {
                Ok(m) => m,
                Err(e) => {
                    self.fail(ItemClass::Email, file, label, e.to_string());
                    break;
                }
            };
            let size = message.contents().len() as u64;
            let received = i64::try_from(message.internal_date()).ok();
            let mut raw = message.contents().to_vec();
            // The blank line that ends each message belongs to the mbox, not the message.
            if raw.ends_with(b"\n\n") {
                raw.pop();
            } else if raw.ends_with(b"\r\n\r\n") {
                raw.truncate(raw.len() - 2);
            }
            self.message(file, &label, raw, received, None)?;
            progress(size);
        }
        Ok(())
    }

    /// A Maildir: its own messages into the Inbox (or `--folder`), and each subfolder
    /// (Maildir++ ".Name.Sub", or directories with cur/ and new/) into a mail folder of
    /// its name; Sent, Drafts and Trash at the top go to the default folders.
    fn maildir(&mut self, root: &Path, progress: &mut dyn FnMut(u64)) -> Result<(), ImportError> {
        let plus_plus = std::fs::read_dir(root).is_ok_and(|entries| {
            entries.flatten().any(|e| {
                e.file_name().to_string_lossy().starts_with('.') && e.path().join("cur").is_dir()
            })
        });
        let prefix = plus_plus.then_some(".");
        let folders = match maildir::FolderIterator::new(root, prefix) {
            Ok(f) => f,
            Err(e) => {
                self.fail_file(root, &format!("not a Maildir: {e}"));
                return Ok(());
            }
        };
        let mut found = 0;
        for folder in folders {
            found += 1;
            let folder = match folder {
                Ok(f) => f,
                Err(e) => {
                    self.fail_file(root, &e.to_string());
                    continue;
                }
            };
            let path: Vec<String> = folder
                .name()
                .map(|n| {
                    n.split(if plus_plus { '.' } else { '/' })
                        .filter(|p| !p.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            for message in folder {
                let message = match message {
                    Ok(m) => m,
                    Err(e) => {
                        self.fail(ItemClass::Email, root, String::new(), e.to_string());
                        continue;
                    }
                };
                let flags = MailFlags {
                    read: message.flags().contains(&maildir::Flag::Seen),
                    flagged: message.flags().contains(&maildir::Flag::Flagged),
                };
                let label = message
                    .path()
                    .strip_prefix(root)
                    .unwrap_or(message.path())
                    .display()
                    .to_string();
                let received = i64::try_from(message.internal_date()).ok();
                let raw = message.unwrap_contents();
                let size = raw.len() as u64;
                self.message(root, &label, raw, received, Some((&path, flags)))?;
                progress(size);
            }
        }
        if found == 0 {
            self.fail_file(root, "not a Maildir: no folder with cur/ and new/");
        }
        Ok(())
    }

    /// The folder items of `class` from Maildir folder `path` go to; Err(reason) when the
    /// named folder holds another class.
    fn folder_for(
        &mut self,
        class: ItemClass,
        path: &[String],
    ) -> Result<Result<FolderId, String>, ImportError> {
        let key = (class, path.to_vec());
        if let Some(&id) = self.folders.get(&key) {
            return Ok(Ok(id));
        }
        let (parent, name) = match (path.split_last(), self.folder.clone()) {
            (None, None) => {
                let folder = self
                    .store
                    .default_folder(self.account, default_type(class))?
                    .ok_or(StoreError::NotFound("default folder"))?;
                self.folders.insert(key, folder.id);
                return Ok(Ok(folder.id));
            }
            (None, Some(name)) => (ROOT_SERVER_ID.to_owned(), name),
            (Some((last, up)), named) => {
                if up.is_empty() && named.is_none() {
                    if let Some(t) = special_mail_folder(last) {
                        let folder = self
                            .store
                            .default_folder(self.account, t)?
                            .ok_or(StoreError::NotFound("default folder"))?;
                        self.folders.insert(key, folder.id);
                        return Ok(Ok(folder.id));
                    }
                }
                let parent = if up.is_empty() && named.is_none() {
                    ROOT_SERVER_ID.to_owned()
                } else {
                    let parent = match self.folder_for(class, up)? {
                        Ok(p) => p,
                        Err(reason) => return Ok(Err(reason)),
                    };
                    self.store
                        .folder(self.account, parent)?
                        .ok_or(StoreError::NotFound("folder"))?
                        .server_id
                };
                (parent, last.clone())
            }
        };
        let existing = if path.is_empty() {
            crate::export::folder_named(self.store, self.account, &name)?
        } else {
            self.store.folders(self.account)?.into_iter().find(|f| {
                f.parent_server_id == parent && f.display_name.eq_ignore_ascii_case(&name)
            })
        };
        let folder = match existing {
            Some(f) if folder_item_class(f.folder_type) == class => f,
            Some(f) => {
                return Ok(Err(format!(
                    "folder {:?} holds {:?} items, not {class:?}",
                    f.display_name,
                    folder_item_class(f.folder_type)
                )))
            }
            None => self
                .store
                .create_folder(self.account, &parent, &name, user_type(class))?,
        };
        self.folders.insert(key, folder.id);
        Ok(Ok(folder.id))
    }

    /// Adds the item, or updates the folder's item with the same UID.
    fn upsert(
        &mut self,
        item: NewItem,
        uid: Option<String>,
        flags: Option<MailFlags>,
    ) -> Result<(), ImportError> {
        let class = item.class;
        let Some(uid) = uid else {
            return self.push(item, None);
        };
        let key = (item.folder, uid);
        if let Some(&at) = self.pending_uids.get(&key) {
            self.pending[at] = item;
            self.report.counts_mut(class).updated += 1;
            return Ok(());
        }
        let existing = self
            .store
            .items_by_uid(self.account, &key.1)?
            .into_iter()
            .find(|i| i.folder == item.folder && i.class == class);
        let Some(existing) = existing else {
            return self.push(item, Some(key));
        };
        let change = match flags {
            // A message does not change; its flags may have.
            Some(f) => {
                let fields: &ItemFields = &existing.fields;
                let flag_status = if f.flagged { 2 } else { 0 };
                (fields.read != f.read || fields.flag_status != flag_status).then(|| ItemChange {
                    read: Some(f.read),
                    flag_status: Some(flag_status),
                    ..ItemChange::default()
                })
            }
            None => {
                let stored = self.store.item_content(self.account, existing.id)?;
                (stored != item.content).then(|| ItemChange {
                    replace: Some((item.content, item.fields)),
                    ..ItemChange::default()
                })
            }
        };
        let counts = self.report.counts_mut(class);
        match change {
            Some(change) => {
                counts.updated += 1;
                self.pending_updates.push((existing.id, change));
                if self.pending_updates.len() >= BATCH {
                    self.flush()?;
                }
            }
            None => counts.unchanged += 1,
        }
        Ok(())
    }

    fn push(&mut self, item: NewItem, key: Option<(FolderId, String)>) -> Result<(), ImportError> {
        if let Some(key) = key {
            self.pending_uids.insert(key, self.pending.len());
        }
        self.pending.push(item);
        if self.pending.len() >= BATCH {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), ImportError> {
        if !self.pending.is_empty() {
            let items = std::mem::take(&mut self.pending);
            self.pending_uids.clear();
            for item in self.store.add_items(self.account, items)? {
                self.report.counts_mut(item.class).added += 1;
            }
        }
        if !self.pending_updates.is_empty() {
            let changes = std::mem::take(&mut self.pending_updates);
            self.store.update_items(self.account, &changes)?;
        }
        Ok(())
    }
}
