//! `easd import` and `easd export` against a real SQLite data dir, with the real-world
//! samples of tests/acceptance/samples (Apple Contacts 3.0 with a photo; Outlook and
//! Google calendars with VTIMEZONEs, RRULE, EXDATE, a moved occurrence and an all-day
//! event).

use easd_engine::content::pim::PimItem;
use easd_engine::export::{export_folder, folder_named, ExportFormat};
use easd_engine::import::{ImportReport, Importer};
use easd_protocol::items::calendar::{AttendeeStatus, Calendar};
use easd_protocol::items::recurrence::RecurrenceType;
use easd_store::{folder_type, password, Account, FullItem, ItemClass, SqliteStore, Store};
use jiff::tz;
use std::path::{Path, PathBuf};

const SAMPLES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/acceptance/samples"
);

fn sample(name: &str) -> PathBuf {
    Path::new(SAMPLES).join(name)
}

struct World {
    dir: tempfile::TempDir,
    store: SqliteStore,
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_data_dir(&dir.path().join("data")).unwrap();
    World { dir, store }
}

impl World {
    fn account(&self, email: &str) -> Account {
        self.store
            .create_account(email, &password::hash_password("pw"))
            .unwrap()
    }

    fn import(&self, account: &Account, files: &[PathBuf], folder: Option<&str>) -> ImportReport {
        let mut importer = Importer::new(&self.store, account.id, folder.map(str::to_owned));
        for f in files {
            importer.import_path(f, &mut |_, _| {}).unwrap();
        }
        importer.finish().unwrap()
    }

    fn file(&self, name: &str, content: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, content).unwrap();
        path
    }

    fn items(&self, account: &Account, folder_type: i32) -> Vec<FullItem> {
        let folder = self
            .store
            .default_folder(account.id, folder_type)
            .unwrap()
            .unwrap();
        self.folder_items(account, folder.id)
    }

    fn folder_items(&self, account: &Account, folder: easd_store::FolderId) -> Vec<FullItem> {
        let ids: Vec<_> = self
            .store
            .list_folder_items(account.id, folder)
            .unwrap()
            .items
            .into_iter()
            .map(|i| i.id)
            .collect();
        self.store.items_full(account.id, &ids).unwrap()
    }

    fn export(&self, account: &Account, folder: &str, name: &str) -> PathBuf {
        let folder = folder_named(&self.store, account.id, folder)
            .unwrap()
            .unwrap();
        let mut out = Vec::new();
        export_folder(
            &self.store,
            account.id,
            &folder,
            None,
            &mut out,
            &mut |_| {},
        )
        .unwrap();
        self.file(name, &out)
    }
}

fn read(item: &FullItem, zone: &tz::TimeZone) -> PimItem {
    PimItem::read(item.item.class, &item.content, zone).unwrap()
}

fn event(items: &[FullItem], uid: &str) -> Calendar {
    let item = items
        .iter()
        .find(|i| i.item.fields.uid.as_deref() == Some(uid))
        .unwrap_or_else(|| panic!("no event {uid}"));
    match read(item, &tz::TimeZone::UTC) {
        PimItem::Event(c) => *c,
        other => panic!("{other:?}"),
    }
}

const OUTLOOK_UID: &str =
    "040000008200E00074C5B7101A82E00800000000D0B7C6D2E84BDD01000000000000000010000000";

#[test]
fn calendar_samples_reach_eas_with_their_properties() {
    let w = world();
    let a = w.account("alice@example.com");
    let report = w.import(&a, &[sample("outlook.ics"), sample("google.ics")], None);
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!(report.counts(ItemClass::Calendar).added, 3);
    let items = w.items(&a, folder_type::CALENDAR);
    assert_eq!(items.len(), 3);

    // Outlook: a Windows TZID, a weekly rule with UNTIL, a deleted and a moved occurrence.
    let sync = event(&items, OUTLOOK_UID);
    assert_eq!(sync.fields.subject.as_deref(), Some("Team sync"));
    // 10:00 in Berlin in October (CEST, UTC+2): the Windows zone name was understood.
    assert_eq!(sync.fields.start_time.as_deref(), Some("20261019T080000Z"));
    let blob = sync.timezone.clone().unwrap();
    assert_eq!(blob.bias, -60, "{blob:?}");
    assert_eq!(blob.daylight_bias, -60);
    let r = sync.recurrence.clone().unwrap();
    assert_eq!(r.recurrence_type, RecurrenceType::Weekly);
    assert!(r.until.is_some());
    let exceptions = sync.exceptions.clone().unwrap();
    assert_eq!(exceptions.len(), 2, "{exceptions:?}");
    let deleted = exceptions.iter().find(|e| e.deleted == Some(true)).unwrap();
    // 9 November, after the change to CET (UTC+1).
    assert_eq!(
        deleted.exception_start_time.as_deref(),
        Some("20261109T090000Z")
    );
    let moved = exceptions.iter().find(|e| e.deleted.is_none()).unwrap();
    assert_eq!(
        moved.exception_start_time.as_deref(),
        Some("20261102T090000Z")
    );
    assert_eq!(moved.fields.start_time.as_deref(), Some("20261102T100000Z"));
    assert_eq!(moved.fields.subject.as_deref(), Some("Team sync (moved)"));
    assert_eq!(
        sync.fields
            .location
            .as_ref()
            .and_then(|l| l.display_name.as_deref()),
        Some("Room 4.01")
    );
    assert_eq!(sync.fields.reminder, Some(15));
    assert_eq!(sync.organizer_email.as_deref(), Some("alice@example.com"));
    let attendees = sync.fields.attendees.clone().unwrap();
    assert_eq!(attendees.len(), 2);
    assert_eq!(attendees[0].attendee_status, Some(AttendeeStatus::Accept));
    assert!(sync
        .fields
        .body
        .as_ref()
        .and_then(|b| b.data.as_ref())
        .is_some_and(|d| d.to_text().contains("Agenda in the wiki")));

    // Google: an all-day event stays on its day in the device's zone.
    let sydney = tz::TimeZone::get("Australia/Sydney").unwrap();
    let item = items
        .iter()
        .find(|i| i.item.fields.uid.as_deref() == Some("7kukuqrfedlm2f9t0vr42q5g9n@google.com"))
        .unwrap();
    let PimItem::Event(dinner) = read(item, &sydney) else {
        panic!()
    };
    assert_eq!(dinner.fields.all_day_event, Some(true));
    // Midnight of 25 December in Sydney (UTC+11).
    assert_eq!(
        dinner.fields.start_time.as_deref(),
        Some("20261224T130000Z")
    );
    assert_eq!(dinner.fields.subject.as_deref(), Some("Christmas dinner"));

    // Google: monthly by the first Tuesday across the end of DST, one date deleted.
    let club = event(&items, "3c2b1a09f8e7d6c5b4a3@google.com");
    let r = club.recurrence.unwrap();
    assert_eq!(r.recurrence_type, RecurrenceType::MonthlyNth);
    assert_eq!(r.occurrences, Some(6));
    assert_eq!(r.week_of_month, Some(1));
    let ex = club.exceptions.unwrap();
    // 18:30 in New York in December is EST (UTC-5).
    assert_eq!(
        ex[0].exception_start_time.as_deref(),
        Some("20261201T233000Z")
    );
    assert_eq!(
        club.fields.location.and_then(|l| l.display_name).as_deref(),
        Some("Public Library, Room 2")
    );
    assert_eq!(club.fields.reminder, Some(30));
    // The stored objects keep the Google calendar's own properties, not its METHOD, and
    // the VTIMEZONE only where an event uses it.
    let text = |uid: &str| {
        let item = items
            .iter()
            .find(|i| i.item.fields.uid.as_deref() == Some(uid))
            .unwrap();
        String::from_utf8(item.content.clone()).unwrap()
    };
    let club = text("3c2b1a09f8e7d6c5b4a3@google.com");
    assert!(club.contains("X-WR-CALNAME:Family\r\n"), "{club}");
    assert!(!club.contains("METHOD:"), "{club}");
    assert!(club.contains("BEGIN:VTIMEZONE\r\nTZID:America/New_York"));
    assert!(!text("7kukuqrfedlm2f9t0vr42q5g9n@google.com").contains("VTIMEZONE"));
}

#[test]
fn contact_sample_reaches_eas_with_its_properties() {
    let w = world();
    let a = w.account("alice@example.com");
    let report = w.import(&a, &[sample("apple-contacts.vcf")], None);
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    let items = w.items(&a, folder_type::CONTACTS);
    assert_eq!(items.len(), 2);
    let johnny = items
        .iter()
        .find(|i| i.item.fields.uid.as_deref() == Some("4C1F2E6A-9D1B-4E2F-8A3B-0C5D6E7F8A9B"))
        .unwrap();
    let PimItem::Contact(c) = read(johnny, &tz::TimeZone::UTC) else {
        panic!()
    };
    assert_eq!(c.last_name.as_deref(), Some("Appleseed"));
    assert_eq!(c.first_name.as_deref(), Some("Johnny"));
    assert_eq!(c.middle_name.as_deref(), Some("Quincy"));
    assert_eq!(c.title.as_deref(), Some("Dr."));
    assert_eq!(c.suffix.as_deref(), Some("Jr."));
    assert_eq!(c.nick_name.as_deref(), Some("Johnny"));
    assert_eq!(c.company_name.as_deref(), Some("Example Orchards Inc."));
    assert_eq!(c.department.as_deref(), Some("Engineering"));
    assert_eq!(c.job_title.as_deref(), Some("Principal Engineer"));
    assert_eq!(c.email1_address.as_deref(), Some("johnny@orchards.example"));
    assert_eq!(
        c.email2_address.as_deref(),
        Some("johnny.home@mail.example")
    );
    assert_eq!(c.mobile_phone_number.as_deref(), Some("+1 (408) 555-0101"));
    assert_eq!(
        c.business_phone_number.as_deref(),
        Some("+1 (408) 555-0102")
    );
    assert_eq!(c.home_phone_number.as_deref(), Some("+1 (408) 555-0103"));
    assert_eq!(c.business_fax_number.as_deref(), Some("+1 (408) 555-0104"));
    assert_eq!(c.business_address_street.as_deref(), Some("1 Orchard Way"));
    assert_eq!(c.business_address_city.as_deref(), Some("Cupertino"));
    assert_eq!(c.home_address_postal_code.as_deref(), Some("94301"));
    assert_eq!(
        c.web_page.as_deref(),
        Some("https://orchards.example/johnny")
    );
    assert!(c
        .birthday
        .as_deref()
        .is_some_and(|b| b.starts_with("1976-04-01")));
    assert!(c
        .anniversary
        .as_deref()
        .is_some_and(|b| b.starts_with("2001-06-15")));
    assert_eq!(c.spouse.as_deref(), Some("Jane Appleseed"));
    assert_eq!(c.assistant_name.as_deref(), Some("Tim Appleseed"));
    assert_eq!(
        c.categories.as_deref(),
        Some(&["Work".to_owned(), "VIP".to_owned()][..])
    );
    let photo = c.picture.as_deref().unwrap();
    assert!(photo.starts_with("/9j/4A"), "{photo}");
    assert!(c
        .body
        .and_then(|b| b.data)
        .is_some_and(|d| d.to_text().contains("Likes apples")));
}

#[test]
fn export_then_import_keeps_every_property() {
    let w = world();
    let a = w.account("alice@example.com");
    let b = w.account("bob@example.com");
    let samples = [
        sample("outlook.ics"),
        sample("google.ics"),
        sample("apple-contacts.vcf"),
    ];
    w.import(&a, &samples, None);
    let ics = w.export(&a, "Calendar", "calendar.ics");
    let vcf = w.export(&a, "Contacts", "contacts.vcf");
    let text = std::fs::read_to_string(&ics).unwrap();
    assert_eq!(text.matches("BEGIN:VCALENDAR").count(), 1);
    assert_eq!(text.matches("TZID:America/New_York\r\n").count(), 1);
    let report = w.import(&b, &[ics, vcf], None);
    assert!(report.failures.is_empty(), "{:?}", report.failures);

    for (folder, n) in [(folder_type::CALENDAR, 3), (folder_type::CONTACTS, 2)] {
        let before = w.items(&a, folder);
        let after = w.items(&b, folder);
        assert_eq!(before.len(), n);
        assert_eq!(after.len(), n);
        for x in &before {
            let y = after
                .iter()
                .find(|y| y.item.fields.uid == x.item.fields.uid)
                .unwrap();
            // Every EAS property, in two device zones (all-day events move with it).
            for zone in ["UTC", "Asia/Kolkata"] {
                let zone = tz::TimeZone::get(zone).unwrap();
                assert_eq!(read(x, &zone), read(y, &zone));
            }
            // And every line of each component: the export is the stored text.
            let lines = |c: &[u8]| -> Vec<String> {
                let t = std::str::from_utf8(c).unwrap();
                let start = t.find("BEGIN:VEVENT").or(t.find("BEGIN:VCARD")).unwrap();
                t[start..].lines().map(str::to_owned).collect()
            };
            let (lx, ly) = (lines(&x.content), lines(&y.content));
            assert_eq!(lx[..lx.len() - 1], ly[..ly.len() - 1]);
        }
    }
}

#[test]
fn a_bad_item_is_reported_and_the_others_land() {
    let w = world();
    let a = w.account("alice@example.com");
    let ics = w.file(
        "mixed.ics",
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n\
BEGIN:VEVENT\r\nUID:good-1\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:20261201T100000Z\r\nSUMMARY:one\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:no-start\r\nDTSTAMP:20261101T000000Z\r\nSUMMARY:broken\r\nEND:VEVENT\r\n\
BEGIN:VTODO\r\nUID:todo-1\r\nDTSTAMP:20261101T000000Z\r\nSUMMARY:a task\r\nDUE:20261205T170000Z\r\nEND:VTODO\r\n\
BEGIN:VEVENT\r\nUID:good-2\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:20261202T100000Z\r\nSUMMARY:two\r\nEND:VEVENT\r\n\
END:VCALENDAR\r\n",
    );
    let junk = w.file("junk.bin", b"\x00\x01\x02 not a calendar");
    let not_maildir = w.dir.path().join("photos");
    std::fs::create_dir_all(not_maildir.join("2026")).unwrap();
    let broken = w.file("broken.vcf", b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:x\r\n");
    let report = w.import(
        &a,
        &[
            ics.clone(),
            junk.clone(),
            broken.clone(),
            not_maildir.clone(),
        ],
        None,
    );
    assert_eq!(report.counts(ItemClass::Calendar).added, 2);
    assert_eq!(report.counts(ItemClass::Calendar).failed, 1);
    assert_eq!(report.counts(ItemClass::Tasks).added, 1);
    assert_eq!(report.failures.len(), 4, "{:?}", report.failures);
    let f = &report.failures[0];
    assert_eq!(f.file, ics);
    assert_eq!(f.item, "VEVENT UID no-start");
    assert!(f.reason.contains("DTSTART"), "{}", f.reason);
    assert_eq!(report.failures[1].file, junk);
    assert_eq!(report.failures[2].file, broken);
    assert!(report.failures[2].reason.contains("END:VCARD"));
    assert_eq!(report.failures[3].file, not_maildir);
    assert!(report.failures[3].reason.contains("not a Maildir"));
    let subjects: Vec<String> = w
        .items(&a, folder_type::CALENDAR)
        .into_iter()
        .map(|i| i.item.fields.subject)
        .collect();
    assert_eq!(subjects.len(), 2);
    let tasks = w.items(&a, folder_type::TASKS);
    assert_eq!(tasks[0].item.fields.subject, "a task");
}

#[test]
fn importing_again_changes_nothing_and_a_changed_item_is_updated() {
    let w = world();
    let a = w.account("alice@example.com");
    let samples = [sample("google.ics"), sample("apple-contacts.vcf")];
    w.import(&a, &samples, None);
    let calendar = w
        .store
        .default_folder(a.id, folder_type::CALENDAR)
        .unwrap()
        .unwrap();
    let modseq = w.store.folder_modseq(a.id, calendar.id).unwrap();

    let again = w.import(&a, &samples, None);
    assert_eq!(again.counts(ItemClass::Calendar).unchanged, 2);
    assert_eq!(again.counts(ItemClass::Contacts).unchanged, 2);
    assert_eq!(again.counts(ItemClass::Calendar).added, 0);
    assert_eq!(w.store.folder_modseq(a.id, calendar.id).unwrap(), modseq);

    let text = std::fs::read_to_string(sample("google.ics"))
        .unwrap()
        .replace("SUMMARY:Book club", "SUMMARY:Book club (new room)");
    let changed = w.file("changed.ics", text.as_bytes());
    let report = w.import(&a, &[changed], None);
    assert_eq!(report.counts(ItemClass::Calendar).updated, 1);
    assert_eq!(report.counts(ItemClass::Calendar).unchanged, 1);
    let items = w.items(&a, folder_type::CALENDAR);
    assert_eq!(items.len(), 2);
    let club = event(&items, "3c2b1a09f8e7d6c5b4a3@google.com");
    assert_eq!(club.fields.subject.as_deref(), Some("Book club (new room)"));

    // Cards without a UID get one from their text: the same card is found again.
    let card = b"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Doe;Jane;;;\r\nFN:Jane Doe\r\nEND:VCARD\r\n";
    let no_uid = w.file("google-export.vcf", card);
    assert_eq!(
        w.import(&a, std::slice::from_ref(&no_uid), None)
            .counts(ItemClass::Contacts)
            .added,
        1
    );
    let second = w.import(&a, &[no_uid], None);
    assert_eq!(second.counts(ItemClass::Contacts).unchanged, 1);
    assert_eq!(w.items(&a, folder_type::CONTACTS).len(), 3);
}

fn message(id: &str, subject: &str, body: &str) -> String {
    format!(
        "From: Sender <sender@example.com>\r\nTo: alice@example.com\r\nSubject: {subject}\r\n\
         Message-ID: <{id}@example.com>\r\nDate: Mon, 02 Nov 2026 10:00:00 +0000\r\n\r\n{body}\r\n"
    )
}

#[test]
fn a_maildir_tree_maps_to_mail_folders_with_flags() {
    let w = world();
    let a = w.account("alice@example.com");
    let root = w.dir.path().join("Maildir");
    for sub in ["", ".Sent", ".Trash", ".Archive", ".Archive.2023"] {
        for d in ["cur", "new", "tmp"] {
            std::fs::create_dir_all(root.join(sub).join(d)).unwrap();
        }
    }
    let put = |path: &str, id: &str, subject: &str| {
        std::fs::write(root.join(path), message(id, subject, "hello")).unwrap();
    };
    put("cur/1700000000.1.host:2,S", "read", "read one");
    put("cur/1700000001.2.host:2,FS", "flagged", "flagged one");
    put("new/1700000002.3.host", "new", "new one");
    put(".Sent/cur/1700000003.4.host:2,S", "sent", "sent one");
    put(".Trash/cur/1700000004.5.host:2,ST", "trash", "trashed one");
    put(
        ".Archive.2023/cur/1700000005.6.host:2,S",
        "old",
        "archived one",
    );
    std::fs::write(root.join(".Archive.2023/dovecot-uidlist"), "3 V1 N7\n").unwrap();

    let report = w.import(&a, std::slice::from_ref(&root), None);
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!(report.counts(ItemClass::Email).added, 6);

    let inbox = w.items(&a, folder_type::INBOX);
    let flags = |subject: &str| {
        let i = inbox
            .iter()
            .find(|i| i.item.fields.subject == subject)
            .unwrap();
        (i.item.fields.read, i.item.fields.flag_status)
    };
    assert_eq!(inbox.len(), 3);
    assert_eq!(flags("read one"), (true, 0));
    assert_eq!(flags("flagged one"), (true, 2));
    assert_eq!(flags("new one"), (false, 0));
    assert_eq!(
        w.items(&a, folder_type::SENT_ITEMS)[0].item.fields.subject,
        "sent one"
    );
    assert_eq!(w.items(&a, folder_type::DELETED_ITEMS).len(), 1);
    let folders = w.store.folders(a.id).unwrap();
    let archive = folders
        .iter()
        .find(|f| f.display_name == "Archive")
        .unwrap();
    assert_eq!(archive.parent_server_id, "0");
    assert_eq!(archive.folder_type, folder_type::USER_MAIL);
    let y2023 = folders.iter().find(|f| f.display_name == "2023").unwrap();
    assert_eq!(y2023.parent_server_id, archive.server_id);
    let old = w.folder_items(&a, y2023.id);
    assert_eq!(old[0].item.fields.subject, "archived one");

    // Again: nothing new; a flag changed in the Maildir is carried over.
    std::fs::rename(
        root.join("new/1700000002.3.host"),
        root.join("cur/1700000002.3.host:2,S"),
    )
    .unwrap();
    let again = w.import(&a, std::slice::from_ref(&root), None);
    let n = again.counts(ItemClass::Email);
    assert_eq!((n.added, n.updated, n.unchanged), (0, 1, 5));
    assert_eq!(w.items(&a, folder_type::INBOX).len(), 3);

    // With --folder the whole tree goes under that folder, Sent and Trash included.
    let b = w.account("bob@example.com");
    let report = w.import(&b, std::slice::from_ref(&root), Some("Old mail"));
    assert_eq!(report.counts(ItemClass::Email).added, 6);
    let folders = w.store.folders(b.id).unwrap();
    let old = folders
        .iter()
        .find(|f| f.display_name == "Old mail")
        .unwrap();
    let sent = folders
        .iter()
        .find(|f| f.display_name == "Sent" && f.parent_server_id == old.server_id)
        .unwrap();
    assert_eq!(w.folder_items(&b, old.id).len(), 3);
    assert_eq!(w.folder_items(&b, sent.id).len(), 1);
    assert!(w.items(&b, folder_type::SENT_ITEMS).is_empty());
}

#[test]
fn mbox_in_and_out_with_from_quoting() {
    let w = world();
    let a = w.account("alice@example.com");
    let b = w.account("bob@example.com");
    let mbox = format!(
        "From sender@example.com Mon Nov  2 10:00:00 2026\n{}\n\
         From sender@example.com Mon Nov  2 11:00:00 2026\n{}\n\
         From sender@example.com Mon Nov  2 12:00:00 2026\n{}\n",
        message("m1", "first", "plain").replace("\r\n", "\n"),
        message("m2", "second", "a line\n>From the quoted start\nend").replace("\r\n", "\n"),
        message("m3", "third", "last").replace("\r\n", "\n"),
    );
    let file = w.file("archive.mbox", mbox.as_bytes());
    let report = w.import(&a, &[file], Some("Old mail"));
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!(report.counts(ItemClass::Email).added, 3);
    let folder = folder_named(&w.store, a.id, "Old mail").unwrap().unwrap();
    assert_eq!(folder.folder_type, folder_type::USER_MAIL);
    let items = w.folder_items(&a, folder.id);
    let second = items
        .iter()
        .find(|i| i.item.fields.subject == "second")
        .unwrap();
    let text = String::from_utf8(second.content.clone()).unwrap();
    assert!(text.contains("\nFrom the quoted start\n"), "{text:?}");
    // The From_ line's date is the received date.
    assert_eq!(second.item.fields.date_received, 1_793_617_200);

    let out = w.export(&a, "Old mail", "out.mbox");
    let exported = std::fs::read_to_string(&out).unwrap();
    assert!(
        exported.contains("\n>From the quoted start\n"),
        "{exported}"
    );
    assert_eq!(exported.matches("\nFrom sender@example.com ").count(), 2);
    w.import(&b, &[out], Some("Old mail"));
    let folder_b = folder_named(&w.store, b.id, "Old mail").unwrap().unwrap();
    let mut before: Vec<Vec<u8>> = items.into_iter().map(|i| i.content).collect();
    let mut after: Vec<Vec<u8>> = w
        .folder_items(&b, folder_b.id)
        .into_iter()
        .map(|i| i.content)
        .collect();
    before.sort();
    after.sort();
    assert_eq!(before, after);
}

#[test]
fn notes_and_named_folders() {
    let w = world();
    let a = w.account("alice@example.com");
    let note = w.file("shopping.txt", b"Shopping\nmilk\neggs\n");
    let report = w.import(&a, std::slice::from_ref(&note), Some("Lists"));
    assert_eq!(report.counts(ItemClass::Notes).added, 1);
    let lists = folder_named(&w.store, a.id, "Lists").unwrap().unwrap();
    assert_eq!(lists.folder_type, folder_type::USER_NOTES);
    let items = w.folder_items(&a, lists.id);
    let PimItem::Note(n) = read(&items[0], &tz::TimeZone::UTC) else {
        panic!()
    };
    assert_eq!(n.subject.as_deref(), Some("Shopping"));
    assert!(n.body.unwrap().data.unwrap().to_text().contains("eggs"));
    assert_eq!(
        w.import(&a, &[note], Some("Lists"))
            .counts(ItemClass::Notes)
            .unchanged,
        1
    );

    // A named folder of another class takes none of these items.
    let report = w.import(&a, &[sample("apple-contacts.vcf")], Some("Lists"));
    assert_eq!(report.counts(ItemClass::Contacts).failed, 2);
    assert!(
        report.failures[0].reason.contains("Notes"),
        "{:?}",
        report.failures
    );
    // Notes have no export format.
    let mut out = Vec::new();
    assert!(export_folder(&w.store, a.id, &lists, None, &mut out, &mut |_| {}).is_err());
    assert!(export_folder(
        &w.store,
        a.id,
        &lists,
        Some(ExportFormat::VCard),
        &mut out,
        &mut |_| {}
    )
    .is_err());
}

#[test]
fn a_zone_known_only_by_its_vtimezone_is_placed() {
    let w = world();
    let a = w.account("alice@example.com");
    // Outlook writes "Customized Time Zone" with the rules only; Lightning and others an
    // own name with X-LIC-LOCATION.
    let ics = w.file(
        "custom.ics",
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n\
BEGIN:VTIMEZONE\r\nTZID:Customized Time Zone\r\n\
BEGIN:STANDARD\r\nDTSTART:16010101T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\n\
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10\r\nEND:STANDARD\r\n\
BEGIN:DAYLIGHT\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\n\
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n\
BEGIN:VTIMEZONE\r\nTZID:Home\r\nX-LIC-LOCATION:America/New_York\r\nEND:VTIMEZONE\r\n\
BEGIN:VEVENT\r\nUID:custom\r\nDTSTAMP:20261101T000000Z\r\n\
DTSTART;TZID=\"Customized Time Zone\":20260715T100000\r\n\
DTEND;TZID=\"Customized Time Zone\":20260715T110000\r\nSUMMARY:summer\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:home\r\nDTSTAMP:20261101T000000Z\r\nDTSTART;TZID=Home:20261215T090000\r\n\
SUMMARY:winter\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    );
    let report = w.import(&a, &[ics], None);
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    let items = w.items(&a, folder_type::CALENDAR);
    let summer = event(&items, "custom");
    // 10:00 in Berlin's summer time (UTC+2).
    assert_eq!(
        summer.fields.start_time.as_deref(),
        Some("20260715T080000Z")
    );
    let blob = summer.timezone.unwrap();
    assert_eq!((blob.bias, blob.daylight_bias), (-60, -60));
    assert_eq!(blob.daylight_date.month, 3);
    let winter = event(&items, "home");
    // 09:00 in New York in December (UTC-5).
    assert_eq!(
        winter.fields.start_time.as_deref(),
        Some("20261215T140000Z")
    );
    // The stored text is the file's: the zone is placed when read.
    assert!(
        String::from_utf8_lossy(&items[0].content).contains("Customized Time Zone")
            || String::from_utf8_lossy(&items[1].content).contains("Customized Time Zone")
    );
}
