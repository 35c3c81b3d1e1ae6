//! Sync of the Calendar, Contacts, Tasks and Notes classes on a real SQLite file: a device's
//! Add, Change and Delete reach the store in its native format and another device.

use easd_engine::content::timezone::from_iana;
use easd_engine::sync::SyncContext;
use easd_engine::{Engine, EngineSettings};
use easd_protocol::commands::sync::{
    ClientCommand, ClientCommandResponse, FilterType, ServerCommand, SyncCollectionRequest,
    SyncCollectionResponse, SyncOptions, SyncStatus,
};
use easd_protocol::items::airsyncbase::{Body, BodyType, Supported};
use easd_protocol::items::calendar::{Calendar, EventFields};
use easd_protocol::items::contact::Contact;
use easd_protocol::items::note::Note;
use easd_protocol::items::recurrence::{DaysOfWeek, Recurrence, RecurrenceType};
use easd_protocol::items::task::Task;
use easd_protocol::ProtocolVersion;
use easd_store::{folder_type, password, Account, Folder, Partnership};
use easd_wbxml::tags::contacts;
use easd_wbxml::Element;
use std::sync::Arc;

struct World {
    _dir: tempfile::TempDir,
    engine: Arc<Engine>,
    account: Account,
}

fn world() -> World {
    world_with(EngineSettings::default())
}

fn world_with(settings: EngineSettings) -> World {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), settings).unwrap();
    let account = engine
        .store()
        .create_account("pim@example.com", &password::hash_password("pw"))
        .unwrap();
    World {
        _dir: dir,
        engine,
        account,
    }
}

impl World {
    fn device(&self, id: &str) -> Partnership {
        self.engine
            .store()
            .create_partnership(self.account.id, id, "Test", "test")
            .unwrap()
    }

    fn folder(&self, kind: i32) -> Folder {
        self.engine
            .store()
            .default_folder(self.account.id, kind)
            .unwrap()
            .unwrap()
    }

    fn stored(&self, server_id: &str) -> String {
        let store = self.engine.store();
        let item = store
            .item_by_server_id(self.account.id, server_id)
            .unwrap()
            .expect("stored item");
        String::from_utf8(store.item_content(self.account.id, item.id).unwrap()).unwrap()
    }
}

/// One device's view of one collection.
struct Device<'a> {
    w: &'a World,
    p: Partnership,
    folder: Folder,
    key: String,
    version: ProtocolVersion,
    filter: Option<FilterType>,
}

impl<'a> Device<'a> {
    async fn new(w: &'a World, id: &str, kind: i32, version: ProtocolVersion) -> Device<'a> {
        let mut d = Device {
            w,
            p: w.device(id),
            folder: w.folder(kind),
            key: "0".into(),
            version,
            filter: None,
        };
        d.sync(vec![]).await;
        d
    }

    async fn sync_with(
        &mut self,
        commands: Vec<ClientCommand>,
        supported: Option<Supported>,
    ) -> SyncCollectionResponse {
        let mut r = SyncCollectionRequest::new(self.key.clone(), self.folder.server_id.clone());
        r.commands = commands;
        r.supported = supported;
        if let Some(f) = self.filter {
            r.options = vec![SyncOptions {
                filter_type: Some(f.code()),
                ..Default::default()
            }];
        }
        let ctx = SyncContext {
            version: self.version,
            window_size: None,
            now: jiff::Timestamp::now().as_second(),
        };
        let resp = self
            .w
            .engine
            .sync_collection(&self.p, r, ctx)
            .await
            .unwrap();
        assert_eq!(resp.status, SyncStatus::Success, "{resp:?}");
        self.key = resp.sync_key.clone();
        resp
    }

    async fn sync(&mut self, commands: Vec<ClientCommand>) -> SyncCollectionResponse {
        self.sync_with(commands, None).await
    }

    /// Adds an item; returns its ServerId.
    async fn add(&mut self, data: Element) -> String {
        let r = self
            .sync(vec![ClientCommand::Add {
                client_id: "c1".into(),
                class: None,
                application_data: data,
                send: false,
            }])
            .await;
        match &r.responses[..] {
            [ClientCommandResponse::Add {
                status: SyncStatus::Success,
                server_id: Some(sid),
                ..
            }] => sid.clone(),
            other => panic!("Add answered {other:?}"),
        }
    }

    async fn change(&mut self, server_id: &str, data: Element) -> SyncCollectionResponse {
        self.sync(vec![ClientCommand::Change {
            server_id: server_id.into(),
            instance_id: None,
            application_data: data,
            send: false,
        }])
        .await
    }
}

/// The ApplicationData of each Add and Change a response sends, by ServerId.
fn items(r: &SyncCollectionResponse) -> Vec<(String, Element)> {
    r.commands
        .iter()
        .filter_map(|c| match c {
            ServerCommand::Add {
                server_id,
                application_data,
            }
            | ServerCommand::Change {
                server_id,
                application_data,
            } => Some((server_id.clone(), application_data.clone())),
            _ => None,
        })
        .collect()
}

fn removed(r: &SyncCollectionResponse) -> Vec<String> {
    r.commands
        .iter()
        .filter(|c| {
            matches!(
                c,
                ServerCommand::Delete { .. } | ServerCommand::SoftDelete { .. }
            )
        })
        .map(|c| c.server_id().to_owned())
        .collect()
}

fn full_contact() -> Contact {
    Contact {
        first_name: Some("Jane".into()),
        last_name: Some("Doe".into()),
        middle_name: Some("Q".into()),
        title: Some("Dr.".into()),
        company_name: Some("Contoso".into()),
        department: Some("Research".into()),
        job_title: Some("Chemist".into()),
        email1_address: Some("jane@contoso.com".into()),
        email2_address: Some("jane.doe@example.org".into()),
        mobile_phone_number: Some("+49 170 1234567".into()),
        business_phone_number: Some("+49 30 1234".into()),
        home_address_city: Some("Berlin".into()),
        home_address_street: Some("Unter den Linden 1".into()),
        birthday: Some("1980-05-17T00:00:00.000Z".into()),
        nick_name: Some("JD".into()),
        categories: Some(vec!["Work".into(), "Lab".into()]),
        body: Some(Body::new(BodyType::Plain, "met at the conference")),
        ..Contact::default()
    }
}

#[tokio::test]
async fn a_contact_added_by_one_device_reaches_another_whole_and_is_stored_as_vcard() {
    let w = world();
    let v = ProtocolVersion::V14_1;
    let mut a = Device::new(&w, "A", folder_type::CONTACTS, v).await;
    let mut b = Device::new(&w, "B", folder_type::CONTACTS, v).await;
    let contact = full_contact();
    let sid = a.add(contact.to_application_data(v)).await;

    let stored = w.stored(&sid);
    assert!(stored.starts_with("BEGIN:VCARD"), "{stored}");
    assert!(
        stored.contains("VERSION:4.0") && stored.contains("UID:"),
        "{stored}"
    );
    assert!(stored.contains("jane@contoso.com"), "{stored}");

    let got = items(&b.sync(vec![]).await);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, sid);
    let seen = Contact::parse(&got[0].1).unwrap();
    let mut want = contact.clone();
    // The server writes FileAs when the client sets none (vCard FN is required).
    want.file_as = seen.file_as.clone();
    assert_eq!(seen, want);
    // The adding device does not get its own item back.
    assert!(items(&a.sync(vec![]).await).is_empty());
}

#[tokio::test]
async fn a_whole_change_before_16_leaves_the_properties_outside_supported_alone() {
    let w = world();
    let v = ProtocolVersion::V14_1;
    let mut a = Device::new(&w, "A", folder_type::CONTACTS, v).await;
    let sid = a.add(full_contact().to_application_data(v)).await;

    // A new start with a Supported list that leaves out the phone numbers and the body.
    let mut c = Device {
        key: "0".into(),
        ..Device::new(&w, "C", folder_type::CONTACTS, v).await
    };
    let supported = Supported::from_tags([
        contacts::FIRST_NAME,
        contacts::LAST_NAME,
        contacts::EMAIL1ADDRESS,
        contacts::EMAIL2ADDRESS,
    ]);
    c.sync_with(vec![], Some(supported)).await;
    c.sync(vec![]).await;
    let change = Contact {
        first_name: Some("Janet".into()),
        last_name: Some("Doe".into()),
        email1_address: Some("janet@contoso.com".into()),
        ..Contact::default()
    };
    c.change(&sid, change.to_application_data(v)).await;

    let got = Contact::parse(&items(&a.sync(vec![]).await)[0].1).unwrap();
    assert_eq!(got.first_name.as_deref(), Some("Janet"));
    assert_eq!(got.email1_address.as_deref(), Some("janet@contoso.com"));
    // Supported and absent: removed.
    assert_eq!(got.email2_address, None);
    // Not supported: ghosted, kept.
    assert_eq!(got.mobile_phone_number.as_deref(), Some("+49 170 1234567"));
    assert_eq!(got.company_name.as_deref(), Some("Contoso"));
    assert!(got.body.is_some());
}

#[tokio::test]
async fn a_16_change_touches_only_the_properties_sent_and_delete_removes_the_contact() {
    let w = world();
    let v = ProtocolVersion::V16_1;
    let mut a = Device::new(&w, "A", folder_type::CONTACTS, v).await;
    let mut b = Device::new(&w, "B", folder_type::CONTACTS, v).await;
    let sid = a.add(full_contact().to_application_data(v)).await;
    b.sync(vec![]).await;

    let change = Contact {
        job_title: Some("Head of Research".into()),
        ..Contact::default()
    };
    let r = a.change(&sid, change.to_application_data(v)).await;
    assert!(r.responses.is_empty(), "{:?}", r.responses);
    let got = Contact::parse(&items(&b.sync(vec![]).await)[0].1).unwrap();
    let mut want = full_contact();
    want.job_title = Some("Head of Research".into());
    want.file_as = got.file_as.clone();
    assert_eq!(got, want);

    a.sync(vec![ClientCommand::Delete {
        server_id: sid.clone(),
        instance_id: None,
    }])
    .await;
    assert_eq!(removed(&b.sync(vec![]).await), vec![sid.clone()]);
    // Deleted, not moved to Deleted Items (which holds mail).
    let trash = w.folder(folder_type::DELETED_ITEMS);
    let in_trash = w
        .engine
        .store()
        .list_folder_items(w.account.id, trash.id)
        .unwrap();
    assert!(in_trash.items.is_empty());
}

fn berlin_weekly(start: &str, end: &str) -> Calendar {
    let zone = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
    Calendar {
        timezone: Some(from_iana(&zone, 2026).unwrap()),
        fields: EventFields {
            subject: Some("Standup".into()),
            start_time: Some(start.into()),
            end_time: Some(end.into()),
            location: Some(easd_protocol::items::airsyncbase::Location {
                display_name: Some("Room 1".into()),
                ..Default::default()
            }),
            reminder: Some(10),
            categories: Some(vec!["Team".into()]),
            body: Some(Body::new(BodyType::Plain, "daily sync")),
            ..EventFields::default()
        },
        recurrence: Some(Recurrence {
            recurrence_type: RecurrenceType::Weekly,
            interval: Some(1),
            day_of_week: Some(DaysOfWeek::WEDNESDAY),
            occurrences: Some(10),
            ..Recurrence::new(RecurrenceType::Weekly)
        }),
        ..Calendar::default()
    }
}

#[tokio::test]
async fn an_event_with_a_zone_and_a_pattern_is_stored_as_icalendar_and_read_back_the_same() {
    let w = world();
    let v = ProtocolVersion::V16_1;
    let mut a = Device::new(&w, "A", folder_type::CALENDAR, v).await;
    let mut b = Device::new(&w, "B", folder_type::CALENDAR, v).await;
    // 09:00 in Berlin on Wednesday 2026-10-14 (CEST, UTC+2); the series crosses the end of
    // DST on 2026-10-25.
    let event = berlin_weekly("20261014T070000Z", "20261014T073000Z");
    let sid = a.add(event.to_application_data(v)).await;

    let ics = w.stored(&sid);
    assert!(
        ics.contains("DTSTART;TZID=Europe/Berlin:20261014T090000"),
        "{ics}"
    );
    assert!(ics.contains("RRULE:FREQ=WEEKLY;COUNT=10;BYDAY=WE"), "{ics}");
    assert!(ics.contains("UID:") && ics.contains("DTSTAMP:"), "{ics}");

    let got = Calendar::parse(&items(&b.sync(vec![]).await)[0].1).unwrap();
    assert_eq!(got.fields.start_time.as_deref(), Some("20261014T070000Z"));
    assert_eq!(got.fields.end_time.as_deref(), Some("20261014T073000Z"));
    assert_eq!(got.timezone, event.timezone);
    assert_eq!(got.fields.subject, event.fields.subject);
    assert_eq!(got.fields.reminder, Some(10));
    assert_eq!(got.fields.categories, event.fields.categories);
    let r = got.recurrence.unwrap();
    assert_eq!(r.recurrence_type, RecurrenceType::Weekly);
    assert_eq!(r.occurrences, Some(10));
    assert_eq!(r.day_of_week, Some(DaysOfWeek::WEDNESDAY));
    assert!(got.uid.is_some());
}

#[tokio::test]
async fn an_event_without_a_start_is_a_conversion_error_and_nothing_is_stored() {
    let w = world();
    let v = ProtocolVersion::V14_1;
    let mut a = Device::new(&w, "A", folder_type::CALENDAR, v).await;
    let event = Calendar {
        fields: EventFields {
            subject: Some("no time".into()),
            ..EventFields::default()
        },
        ..Calendar::default()
    };
    let r = a
        .sync(vec![ClientCommand::Add {
            client_id: "c9".into(),
            class: None,
            application_data: event.to_application_data(v),
            send: false,
        }])
        .await;
    assert!(
        matches!(
            &r.responses[..],
            [ClientCommandResponse::Add {
                status: SyncStatus::ClientServerConversionError,
                server_id: None,
                ..
            }]
        ),
        "{:?}",
        r.responses
    );
    let cal = w.folder(folder_type::CALENDAR);
    let listed = w
        .engine
        .store()
        .list_folder_items(w.account.id, cal.id)
        .unwrap();
    assert!(listed.items.is_empty());
}

fn eas_time(at: jiff::Timestamp) -> String {
    at.strftime("%Y%m%dT%H%M%SZ").to_string()
}

#[tokio::test]
async fn the_calendar_filter_keeps_running_series_and_drops_events_that_ended() {
    let w = world();
    let v = ProtocolVersion::V14_1;
    let mut a = Device::new(&w, "A", folder_type::CALENDAR, v).await;
    let now = jiff::Timestamp::now();
    let day = jiff::SignedDuration::from_hours(24);
    let at = |days: i32| now.checked_add(day * days).unwrap();
    let single = |subject: &str, days: i32| Calendar {
        fields: EventFields {
            subject: Some(subject.into()),
            start_time: Some(eas_time(at(days))),
            end_time: Some(eas_time(at(days).checked_add(day / 24).unwrap())),
            ..EventFields::default()
        },
        ..Calendar::default()
    };
    let old = a
        .add(single("a month ago", -30).to_application_data(v))
        .await;
    let soon = a.add(single("tomorrow", 1).to_application_data(v)).await;
    let mut series = single("weekly since two months", -60);
    series.recurrence = Some(Recurrence::new(RecurrenceType::Weekly));
    let running = a.add(series.to_application_data(v)).await;

    let mut b = Device::new(&w, "B", folder_type::CALENDAR, v).await;
    b.filter = Some(FilterType::TwoWeeks);
    let got: Vec<String> = items(&b.sync(vec![]).await)
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    assert!(got.contains(&soon) && got.contains(&running), "{got:?}");
    assert!(!got.contains(&old), "{got:?}");
}

#[tokio::test]
async fn incomplete_tasks_filter_hides_completed_ones_and_completing_one_removes_it() {
    let w = world();
    let v = ProtocolVersion::V14_1;
    let mut a = Device::new(&w, "A", folder_type::TASKS, v).await;
    let task = |subject: &str, complete: bool| Task {
        subject: Some(subject.into()),
        complete: Some(complete),
        date_completed: complete.then(|| "2026-11-01T10:00:00.000Z".into()),
        due_date: Some("2026-12-01T00:00:00.000Z".into()),
        utc_due_date: Some("2026-11-30T23:00:00.000Z".into()),
        ..Task::default()
    };
    let open = a.add(task("open", false).to_application_data(v)).await;
    let done = a.add(task("done", true).to_application_data(v)).await;
    assert!(w.stored(&open).contains("BEGIN:VTODO"));

    let mut b = Device::new(&w, "B", folder_type::TASKS, v).await;
    b.filter = Some(FilterType::IncompleteTasks);
    let got: Vec<String> = items(&b.sync(vec![]).await)
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    assert_eq!(got, vec![open.clone()]);
    let _ = done;

    a.change(&open, task("open", true).to_application_data(v))
        .await;
    assert_eq!(removed(&b.sync(vec![]).await), vec![open]);
}

#[tokio::test]
async fn a_note_round_trips_and_its_body_is_cut_to_the_preference() {
    let w = world();
    let v = ProtocolVersion::V14_1;
    let mut a = Device::new(&w, "A", folder_type::NOTES, v).await;
    let note = Note {
        subject: Some("Shopping".into()),
        body: Some(Body::new(BodyType::Plain, "milk\neggs\nflour")),
        categories: Some(vec!["Home".into()]),
        message_class: Some("IPM.StickyNote".into()),
        last_modified_date: None,
    };
    let sid = a.add(note.to_application_data(v)).await;
    assert!(w.stored(&sid).starts_with("Subject: Shopping\n"));

    let mut b = Device::new(&w, "B", folder_type::NOTES, v).await;
    let mut pref = easd_protocol::items::airsyncbase::BodyPreference::new(BodyType::Plain);
    pref.truncation_size = Some(4);
    let mut r = SyncCollectionRequest::new(b.key.clone(), b.folder.server_id.clone());
    r.options = vec![SyncOptions {
        body_preferences: vec![pref],
        ..Default::default()
    }];
    let ctx = SyncContext {
        version: v,
        window_size: None,
        now: jiff::Timestamp::now().as_second(),
    };
    let resp = w.engine.sync_collection(&b.p, r, ctx).await.unwrap();
    b.key = resp.sync_key.clone();
    let got = Note::parse(&items(&resp)[0].1).unwrap();
    assert_eq!(got.subject.as_deref(), Some("Shopping"));
    assert_eq!(got.categories, note.categories);
    let body = got.body.unwrap();
    assert_eq!(body.truncated, Some(true));
    assert_eq!(body.data.unwrap().to_text(), "milk");
    assert!(got.last_modified_date.is_some());
}

#[tokio::test]
async fn a_16_delete_with_an_instance_id_removes_one_occurrence_and_keeps_the_series() {
    let w = world();
    let v = ProtocolVersion::V16_1;
    let mut a = Device::new(&w, "A", folder_type::CALENDAR, v).await;
    let mut b = Device::new(&w, "B", folder_type::CALENDAR, v).await;
    let sid = a
        .add(berlin_weekly("20261014T070000Z", "20261014T073000Z").to_application_data(v))
        .await;
    b.sync(vec![]).await;
    // The occurrence after the end of DST: 09:00 CET is 08:00 UTC.
    a.sync(vec![ClientCommand::Delete {
        server_id: sid.clone(),
        instance_id: Some("20261028T080000Z".into()),
    }])
    .await;
    let ics = w.stored(&sid);
    assert!(
        ics.contains("EXDATE;TZID=Europe/Berlin:20261028T090000"),
        "{ics}"
    );
    let r = b.sync(vec![]).await;
    assert!(removed(&r).is_empty());
    let got = Calendar::parse(&items(&r)[0].1).unwrap();
    let exceptions = got.exceptions.unwrap();
    assert_eq!(exceptions.len(), 1);
    assert_eq!(exceptions[0].deleted, Some(true));
    assert_eq!(
        exceptions[0].exception_start_time.as_deref(),
        Some("20261028T080000Z")
    );
}

#[tokio::test]
async fn an_all_day_event_stays_on_its_day_in_each_devices_zone() {
    let w = world_with(EngineSettings {
        time_zone: jiff::tz::TimeZone::get("America/New_York").unwrap(),
        ..EngineSettings::default()
    });
    // An imported all-day event: DATE values, no zone.
    let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:xmas@example.com\r\nDTSTAMP:20261101T000000Z\r\nDTSTART;VALUE=DATE:20261224\r\nDTEND;VALUE=DATE:20261225\r\nSUMMARY:Christmas Eve\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let cal = w.folder(folder_type::CALENDAR);
    let fields =
        easd_engine::content::pim::stored_fields(easd_store::ItemClass::Calendar, ics.as_bytes())
            .unwrap();
    w.engine
        .store()
        .add_item(
            w.account.id,
            easd_store::NewItem {
                folder: cal.id,
                class: easd_store::ItemClass::Calendar,
                content: ics.as_bytes().to_vec(),
                fields,
            },
        )
        .unwrap();

    let v = ProtocolVersion::V14_1;
    // A device whose zone is not known yet: the server's time_zone.
    let mut ny = Device::new(&w, "NY", folder_type::CALENDAR, v).await;
    let got = Calendar::parse(&items(&ny.sync(vec![]).await)[0].1).unwrap();
    assert_eq!(got.fields.all_day_event, Some(true));
    assert_eq!(got.fields.start_time.as_deref(), Some("20261224T050000Z"));
    assert_eq!(got.fields.end_time.as_deref(), Some("20261225T050000Z"));
    let new_york = jiff::tz::TimeZone::get("America/New_York").unwrap();
    assert_eq!(got.timezone, Some(from_iana(&new_york, 2026).unwrap()));

    // A device in Berlin (learned from its own event) gets midnight in Berlin.
    let mut berlin = Device::new(&w, "BER", folder_type::CALENDAR, v).await;
    berlin
        .add(berlin_weekly("20261014T070000Z", "20261014T073000Z").to_application_data(v))
        .await;
    let mut berlin = Device {
        key: "0".into(),
        ..berlin
    };
    berlin.sync(vec![]).await;
    let all = items(&berlin.sync(vec![]).await);
    let xmas = all
        .iter()
        .map(|(_, d)| Calendar::parse(d).unwrap())
        .find(|c| c.fields.subject.as_deref() == Some("Christmas Eve"))
        .unwrap();
    assert_eq!(xmas.fields.start_time.as_deref(), Some("20261223T230000Z"));
    assert_eq!(xmas.fields.end_time.as_deref(), Some("20261224T230000Z"));

    // ItemOperations Fetch places it in the same zone as Sync does.
    use easd_protocol::commands::item_operations::{
        Fetch, FetchOptions, FetchTarget, ItemOperation, OperationResponse, STORE_MAILBOX,
    };
    let xmas_id = all
        .iter()
        .find(|(_, d)| {
            Calendar::parse(d).unwrap().fields.subject.as_deref() == Some("Christmas Eve")
        })
        .map(|(sid, _)| sid.clone())
        .unwrap();
    let fetch = Fetch {
        store: STORE_MAILBOX.into(),
        target: FetchTarget::Item {
            collection_id: Some(berlin.folder.server_id.clone()),
            server_id: xmas_id,
        },
        options: FetchOptions::default(),
    };
    let answer = w
        .engine
        .item_operations(&berlin.p, vec![ItemOperation::Fetch(fetch)], v)
        .await
        .unwrap();
    let OperationResponse::Fetch(f) = &answer[0] else {
        panic!("{answer:?}");
    };
    let fetched = Calendar::parse(f.properties.as_ref().unwrap().item.as_ref().unwrap()).unwrap();
    assert_eq!(
        fetched.fields.start_time.as_deref(),
        Some("20261223T230000Z")
    );
}

#[tokio::test]
async fn a_16_change_with_an_instance_id_modifies_one_occurrence_only() {
    let w = world();
    let v = ProtocolVersion::V16_1;
    let mut a = Device::new(&w, "A", folder_type::CALENDAR, v).await;
    let mut b = Device::new(&w, "B", folder_type::CALENDAR, v).await;
    let sid = a
        .add(berlin_weekly("20261014T070000Z", "20261014T073000Z").to_application_data(v))
        .await;
    b.sync(vec![]).await;
    let moved = Calendar {
        fields: EventFields {
            subject: Some("Standup (moved)".into()),
            start_time: Some("20261021T080000Z".into()),
            end_time: Some("20261021T083000Z".into()),
            ..EventFields::default()
        },
        ..Calendar::default()
    };
    a.sync(vec![ClientCommand::Change {
        server_id: sid.clone(),
        instance_id: Some("20261021T070000Z".into()),
        application_data: moved.to_application_data(v),
        send: false,
    }])
    .await;
    let ics = w.stored(&sid);
    assert!(
        ics.contains("RECURRENCE-ID;TZID=Europe/Berlin:20261021T090000"),
        "{ics}"
    );
    let got = Calendar::parse(&items(&b.sync(vec![]).await)[0].1).unwrap();
    assert_eq!(got.fields.subject.as_deref(), Some("Standup"));
    let exceptions = got.exceptions.unwrap();
    assert_eq!(exceptions.len(), 1);
    let ex = &exceptions[0];
    assert_eq!(ex.exception_start_time.as_deref(), Some("20261021T070000Z"));
    assert_eq!(ex.fields.subject.as_deref(), Some("Standup (moved)"));
    assert_eq!(ex.fields.start_time.as_deref(), Some("20261021T080000Z"));
}

#[tokio::test]
async fn a_stalled_smarthost_does_not_hold_the_sync_of_a_meeting() {
    // A smarthost that accepts connections and never says a word: an SMTP client waits for
    // its greeting until its own timeout (a minute).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let w = world_with(EngineSettings {
        relay: Some(easd_engine::submission::Relay {
            address,
            user: None,
            password: None,
            hello_name: "test".into(),
        }),
        ..EngineSettings::default()
    });
    let v = ProtocolVersion::V16_1;
    let mut a = Device::new(&w, "A", folder_type::CALENDAR, v).await;
    let mut meeting = berlin_weekly("20261014T070000Z", "20261014T073000Z");
    meeting.organizer_email = Some("pim@example.com".into());
    meeting.fields.attendees = Some(vec![easd_protocol::items::calendar::Attendee::new(
        "someone@elsewhere.example",
        "Someone",
    )]);
    // The Sync answers although the invitation can't leave yet: well before the SMTP
    // client's timeout.
    let added = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        a.add(meeting.to_application_data(v)),
    )
    .await
    .expect("the Sync answered while the smarthost stalls");
    assert!(w.stored(&added).contains("ATTENDEE"));
    drop(listener);
}
