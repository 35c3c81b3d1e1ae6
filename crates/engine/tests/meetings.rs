//! A meeting between two local users on a real SQLite file: the organizer's device adds an
//! event with an attendee by Sync, the invitation reaches the attendee's Inbox and
//! calendar, MeetingResponse answers it, and the answer reaches the organizer's event;
//! deleting the event cancels it for the attendee.

use easd_engine::sync::SyncContext;
use easd_engine::{Engine, EngineSettings};
use easd_protocol::commands::meeting_response::{
    MeetingResponseRequestItem, MeetingResponseStatus, SendResponse, UserResponse,
};
use easd_protocol::commands::sync::{
    ClientCommand, ClientCommandResponse, SyncCollectionRequest, SyncStatus,
};
use easd_protocol::items::calendar::{
    Attendee, AttendeeStatus, AttendeeType, BusyStatus, Calendar, EventFields, MeetingStatus,
    ResponseType,
};
use easd_protocol::ProtocolVersion;
use easd_store::{folder_type, password, Account, Folder, Item, ItemClass, Partnership};
use std::sync::Arc;

const V: ProtocolVersion = ProtocolVersion::V16_1;

struct World {
    _dir: tempfile::TempDir,
    engine: Arc<Engine>,
    alice: Account,
    bob: Account,
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), EngineSettings::default()).unwrap();
    let make = |email: &str| {
        engine
            .store()
            .create_account(email, &password::hash_password("pw"))
            .unwrap()
    };
    let (alice, bob) = (make("alice@example.com"), make("bob@example.com"));
    World {
        _dir: dir,
        engine,
        alice,
        bob,
    }
}

impl World {
    fn folder(&self, a: &Account, kind: i32) -> Folder {
        self.engine
            .store()
            .default_folder(a.id, kind)
            .unwrap()
            .unwrap()
    }

    fn items(&self, a: &Account, kind: i32) -> Vec<(Item, Vec<u8>)> {
        let store = self.engine.store();
        let folder = self.folder(a, kind);
        let ids: Vec<_> = store
            .list_folder_items(a.id, folder.id)
            .unwrap()
            .items
            .into_iter()
            .map(|i| i.id)
            .collect();
        store
            .items_full(a.id, &ids)
            .unwrap()
            .into_iter()
            .map(|f| (f.item, f.content))
            .collect()
    }

    fn event(&self, a: &Account) -> Option<Calendar> {
        let events = self.items(a, folder_type::CALENDAR);
        let (_, content) = events.first()?;
        let text = std::str::from_utf8(content).unwrap();
        Some(easd_engine::content::calendar::from_ics(text, &jiff::tz::TimeZone::UTC).unwrap())
    }
}

fn status_of(c: &Calendar, who: &str) -> Option<AttendeeStatus> {
    c.fields
        .attendees
        .iter()
        .flatten()
        .find(|a| a.email.eq_ignore_ascii_case(who))
        .and_then(|a| a.attendee_status)
}

/// Alice's device syncs her calendar: the first Sync, then `commands`.
async fn alice_syncs(
    w: &World,
    device: &Partnership,
    key: &str,
    commands: Vec<ClientCommand>,
) -> (String, Vec<ClientCommandResponse>) {
    let folder = w.folder(&w.alice, folder_type::CALENDAR);
    let mut r = SyncCollectionRequest::new(key.to_owned(), folder.server_id.clone());
    r.commands = commands;
    let ctx = SyncContext {
        version: V,
        window_size: None,
        now: jiff::Timestamp::now().as_second(),
    };
    let resp = w.engine.sync_collection(device, r, ctx).await.unwrap();
    assert_eq!(resp.status, SyncStatus::Success, "{resp:?}");
    (resp.sync_key, resp.responses)
}

/// Alice's phone adds `meeting()` to her calendar (the invitation goes to bob).
async fn alice_adds_the_meeting(w: &World) -> Partnership {
    let device = w
        .engine
        .store()
        .create_partnership(w.alice.id, "alice-phone", "Test", "test")
        .unwrap();
    let (key, _) = alice_syncs(w, &device, "0", vec![]).await;
    alice_syncs(
        w,
        &device,
        &key,
        vec![ClientCommand::Add {
            client_id: "m1".into(),
            class: None,
            application_data: meeting().to_application_data(V),
            send: false,
        }],
    )
    .await;
    device
}

fn meeting() -> Calendar {
    let mut bob = Attendee::new("bob@example.com", "Bob");
    bob.attendee_type = Some(AttendeeType::Required);
    Calendar {
        fields: EventFields {
            subject: Some("Planning".into()),
            start_time: Some("20300110T090000Z".into()),
            end_time: Some("20300110T100000Z".into()),
            busy_status: Some(BusyStatus::Busy),
            meeting_status: Some(MeetingStatus::MEETING_ORGANIZED),
            attendees: Some(vec![bob]),
            ..EventFields::default()
        },
        organizer_email: Some("alice@example.com".into()),
        organizer_name: Some("Alice".into()),
        ..Calendar::default()
    }
}

#[tokio::test]
async fn invite_accept_and_cancel_between_two_local_users() {
    let w = world();
    let device = w
        .engine
        .store()
        .create_partnership(w.alice.id, "alice-phone", "Test", "test")
        .unwrap();
    let (key, _) = alice_syncs(&w, &device, "0", vec![]).await;
    let (key, responses) = alice_syncs(
        &w,
        &device,
        &key,
        vec![ClientCommand::Add {
            client_id: "m1".into(),
            class: None,
            application_data: meeting().to_application_data(V),
            send: false,
        }],
    )
    .await;
    let alice_event_id = match &responses[..] {
        [ClientCommandResponse::Add {
            status: SyncStatus::Success,
            server_id: Some(id),
            ..
        }] => id.clone(),
        other => panic!("Add answered {other:?}"),
    };

    // Bob's Inbox: the request; his calendar: the meeting, not yet answered.
    let inbox = w.items(&w.bob, folder_type::INBOX);
    let [(request, raw)] = &inbox[..] else {
        panic!("bob's inbox: {inbox:?}")
    };
    assert_eq!(request.fields.message_class, "IPM.Schedule.Meeting.Request");
    assert!(String::from_utf8_lossy(raw).contains("METHOD:REQUEST"));
    let bobs = w.event(&w.bob).expect("bob's event");
    assert_eq!(
        bobs.fields.meeting_status,
        Some(MeetingStatus::MEETING_RECEIVED)
    );
    assert_eq!(bobs.fields.response_type, Some(ResponseType::NotResponded));
    assert_eq!(bobs.fields.busy_status, Some(BusyStatus::Tentative));
    assert_eq!(
        status_of(&bobs, "bob@example.com"),
        Some(AttendeeStatus::NotResponded)
    );
    // Alice's own event is not touched by her own invitation.
    assert_eq!(w.items(&w.alice, folder_type::INBOX).len(), 0);

    // A request for another user's mail is not found (invariant 7).
    let inbox_id = w.folder(&w.bob, folder_type::INBOX).server_id;
    let foreign = MeetingResponseRequestItem {
        user_response: UserResponse::Accepted,
        collection_id: Some(w.folder(&w.alice, folder_type::CALENDAR).server_id),
        request_id: Some(alice_event_id.clone()),
        long_id: None,
        instance_id: None,
        send_response: None,
    };
    let r = w
        .engine
        .meeting_response(&w.bob, &foreign, V)
        .await
        .unwrap();
    assert_eq!(r.status, MeetingResponseStatus::InvalidMeetingRequest);

    // Bob accepts (16.1 with SendResponse: the server sends the REPLY).
    let accept = MeetingResponseRequestItem {
        user_response: UserResponse::Accepted,
        collection_id: Some(inbox_id),
        request_id: Some(request.server_id.clone()),
        long_id: None,
        instance_id: None,
        send_response: Some(SendResponse::default()),
    };
    let r = w.engine.meeting_response(&w.bob, &accept, V).await.unwrap();
    assert_eq!(r.status, MeetingResponseStatus::Success);
    let calendar = w.items(&w.bob, folder_type::CALENDAR);
    assert_eq!(calendar.len(), 1, "answering keeps one event");
    assert_eq!(
        r.calendar_id.as_deref(),
        Some(calendar[0].0.server_id.as_str())
    );
    let bobs = w.event(&w.bob).unwrap();
    assert_eq!(bobs.fields.response_type, Some(ResponseType::Accepted));
    assert_eq!(bobs.fields.busy_status, Some(BusyStatus::Busy));

    // Alice gets the answer, and her event shows Bob accepted.
    let alice_inbox = w.items(&w.alice, folder_type::INBOX);
    assert_eq!(alice_inbox.len(), 1);
    assert_eq!(
        alice_inbox[0].0.fields.message_class,
        "IPM.Schedule.Meeting.Resp.Pos"
    );
    assert_eq!(alice_inbox[0].0.fields.subject, "Accepted: Planning");
    let alices = w.event(&w.alice).unwrap();
    assert_eq!(
        status_of(&alices, "bob@example.com"),
        Some(AttendeeStatus::Accept)
    );

    // Alice deletes the meeting: Bob's event is canceled.
    let (_, responses) = alice_syncs(
        &w,
        &device,
        &key,
        vec![ClientCommand::Delete {
            server_id: alice_event_id,
            instance_id: None,
        }],
    )
    .await;
    assert!(responses.iter().all(|r| !matches!(r, ClientCommandResponse::Delete { status, .. } if *status != SyncStatus::Success)));
    let bobs = w.event(&w.bob).unwrap();
    assert_eq!(
        bobs.fields.meeting_status,
        Some(MeetingStatus::MEETING_RECEIVED_CANCELED)
    );
    let classes: Vec<String> = w
        .items(&w.bob, folder_type::INBOX)
        .into_iter()
        .map(|(i, _)| i.fields.message_class)
        .collect();
    assert!(
        classes.contains(&"IPM.Schedule.Meeting.Canceled".to_owned()),
        "{classes:?}"
    );
}

#[tokio::test]
async fn declining_removes_the_event_and_14_1_sends_no_reply() {
    let w = world();
    alice_adds_the_meeting(&w).await;
    let inbox = w.items(&w.bob, folder_type::INBOX);
    let decline = MeetingResponseRequestItem {
        user_response: UserResponse::Declined,
        collection_id: Some(w.folder(&w.bob, folder_type::INBOX).server_id),
        request_id: Some(inbox[0].0.server_id.clone()),
        long_id: None,
        instance_id: None,
        send_response: None,
    };
    // Before 16.0 the client sends its own answer by SendMail (MS-ASCMD 2.2.1.11).
    let r = w
        .engine
        .meeting_response(&w.bob, &decline, ProtocolVersion::V14_1)
        .await
        .unwrap();
    assert_eq!(r.status, MeetingResponseStatus::Success);
    assert_eq!(r.calendar_id, None, "no CalendarId for a declined meeting");
    assert!(w.items(&w.bob, folder_type::CALENDAR).is_empty());
    assert!(w.items(&w.alice, folder_type::INBOX).is_empty());
    let alices = w.event(&w.alice).unwrap();
    assert_ne!(
        status_of(&alices, "bob@example.com"),
        Some(AttendeeStatus::Decline)
    );

    // A plain mail is no meeting request.
    w.engine
        .deliver(
            w.bob.id,
            b"From: x@example.com\r\nTo: bob@example.com\r\nSubject: hi\r\n\r\nhello\r\n".to_vec(),
        )
        .await
        .unwrap();
    let plain = w
        .items(&w.bob, folder_type::INBOX)
        .into_iter()
        .find(|(i, _)| i.fields.message_class == "IPM.Note")
        .unwrap();
    assert_eq!(plain.0.class, ItemClass::Email);
    let not_a_meeting = MeetingResponseRequestItem {
        request_id: Some(plain.0.server_id.clone()),
        ..decline
    };
    let r = w
        .engine
        .meeting_response(&w.bob, &not_a_meeting, V)
        .await
        .unwrap();
    assert_eq!(r.status, MeetingResponseStatus::InvalidMeetingRequest);
}

#[tokio::test]
async fn a_reply_counts_only_from_the_attendee_it_names() {
    use easd_engine::content::itip;
    let w = world();
    alice_adds_the_meeting(&w).await;
    let (_, content) = w.items(&w.alice, folder_type::CALENDAR).remove(0);
    let stored =
        calcard::icalendar::ICalendar::parse(std::str::from_utf8(&content).unwrap()).unwrap();
    let accepted = itip::reply(
        &stored,
        &["bob@example.com".to_owned()],
        itip::Answer::Accepted,
        jiff::Timestamp::now(),
    );
    let to = ["alice@example.com".to_owned()];
    let forged = itip::imip_message(("Eve", "eve@example.net"), &to, "Accepted", "", &accepted);
    w.engine.deliver(w.alice.id, forged).await.unwrap();
    let alices = w.event(&w.alice).unwrap();
    assert_ne!(
        status_of(&alices, "bob@example.com"),
        Some(AttendeeStatus::Accept)
    );

    let genuine = itip::imip_message(("Bob", "bob@example.com"), &to, "Accepted", "", &accepted);
    w.engine.deliver(w.alice.id, genuine).await.unwrap();
    let alices = w.event(&w.alice).unwrap();
    assert_eq!(
        status_of(&alices, "bob@example.com"),
        Some(AttendeeStatus::Accept)
    );
}

#[tokio::test]
async fn answering_one_occurrence_of_a_series() {
    use easd_protocol::items::recurrence::{Recurrence, RecurrenceType};
    let w = world();
    let device = w
        .engine
        .store()
        .create_partnership(w.alice.id, "alice-phone", "Test", "test")
        .unwrap();
    let mut weekly = meeting();
    weekly.recurrence = Some(Recurrence {
        occurrences: Some(4),
        ..Recurrence::new(RecurrenceType::Weekly)
    });
    let (key, _) = alice_syncs(&w, &device, "0", vec![]).await;
    alice_syncs(
        &w,
        &device,
        &key,
        vec![ClientCommand::Add {
            client_id: "m1".into(),
            class: None,
            application_data: weekly.to_application_data(V),
            send: false,
        }],
    )
    .await;
    let inbox = w.items(&w.bob, folder_type::INBOX);
    let answer = |user_response, instance: &str| MeetingResponseRequestItem {
        user_response,
        collection_id: Some(w.folder(&w.bob, folder_type::INBOX).server_id),
        request_id: Some(inbox[0].0.server_id.clone()),
        long_id: None,
        instance_id: Some(instance.into()),
        send_response: Some(SendResponse::default()),
    };
    // Bob accepts the second week only, and declines the third.
    let r = w
        .engine
        .meeting_response(
            &w.bob,
            &answer(UserResponse::Accepted, "2030-01-17T09:00:00.000Z"),
            V,
        )
        .await
        .unwrap();
    assert_eq!(r.status, MeetingResponseStatus::Success);
    assert!(r.calendar_id.is_some());
    let r = w
        .engine
        .meeting_response(
            &w.bob,
            &answer(UserResponse::Declined, "2030-01-24T09:00:00.000Z"),
            V,
        )
        .await
        .unwrap();
    assert_eq!(r.status, MeetingResponseStatus::Success);
    assert_eq!(r.calendar_id, None);

    let bobs = w.event(&w.bob).unwrap();
    assert_eq!(
        bobs.fields.response_type,
        Some(ResponseType::NotResponded),
        "the series is unanswered"
    );
    let exceptions = bobs.exceptions.clone().unwrap();
    let second = exceptions
        .iter()
        .find(|e| e.exception_start_time.as_deref() == Some("20300117T090000Z"))
        .unwrap();
    assert_eq!(second.fields.response_type, Some(ResponseType::Accepted));
    let third = exceptions
        .iter()
        .find(|e| e.exception_start_time.as_deref() == Some("20300124T090000Z"))
        .unwrap();
    assert_eq!(third.deleted, Some(true));

    // Alice's series: Bob's answers per occurrence, the series' still open.
    let alices = w.event(&w.alice).unwrap();
    assert_ne!(
        status_of(&alices, "bob@example.com"),
        Some(AttendeeStatus::Accept)
    );
    let ex = alices.exceptions.clone().unwrap_or_default();
    let status_in = |start: &str| {
        ex.iter()
            .find(|e| e.exception_start_time.as_deref() == Some(start))
            .and_then(|e| e.fields.attendees.clone())
            .and_then(|a| a.into_iter().find(|a| a.email == "bob@example.com"))
            .and_then(|a| a.attendee_status)
    };
    assert_eq!(status_in("20300117T090000Z"), Some(AttendeeStatus::Accept));
    assert_eq!(status_in("20300124T090000Z"), Some(AttendeeStatus::Decline));
}

#[tokio::test]
async fn each_rescheduling_raises_the_sequence_the_invitee_gets() {
    let w = world();
    let device = w
        .engine
        .store()
        .create_partnership(w.alice.id, "alice-phone", "Test", "test")
        .unwrap();
    let (key, _) = alice_syncs(&w, &device, "0", vec![]).await;
    let (mut key, responses) = alice_syncs(
        &w,
        &device,
        &key,
        vec![ClientCommand::Add {
            client_id: "m1".into(),
            class: None,
            application_data: meeting().to_application_data(V),
            send: false,
        }],
    )
    .await;
    let Some(ClientCommandResponse::Add {
        server_id: Some(id),
        ..
    }) = responses.first()
    else {
        panic!("{responses:?}");
    };
    let sequence = |a: &Account| {
        let (_, content) = w.items(a, folder_type::CALENDAR).remove(0);
        let text = String::from_utf8(content).unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix("SEQUENCE:"))
            .map(|n| n.trim().parse::<i64>().unwrap())
            .unwrap_or(0)
    };
    assert_eq!((sequence(&w.alice), sequence(&w.bob)), (0, 0));
    for (n, hour) in [(1, "11"), (2, "12")] {
        let moved = Calendar {
            fields: EventFields {
                start_time: Some(format!("20300110T{hour}0000Z")),
                end_time: Some(format!("20300110T{hour}3000Z")),
                ..EventFields::default()
            },
            ..Calendar::default()
        };
        key = alice_syncs(
            &w,
            &device,
            &key,
            vec![ClientCommand::Change {
                server_id: id.clone(),
                instance_id: None,
                application_data: moved.to_application_data(V),
                send: false,
            }],
        )
        .await
        .0;
        assert_eq!((sequence(&w.alice), sequence(&w.bob)), (n, n), "move {n}");
        let bob_event = w.event(&w.bob).unwrap();
        assert_eq!(
            bob_event.fields.start_time.as_deref(),
            Some(format!("20300110T{hour}0000Z").as_str())
        );
    }
    // A reminder is the organizer's own: no new revision.
    let reminder = Calendar {
        fields: EventFields {
            reminder: Some(5),
            ..EventFields::default()
        },
        ..Calendar::default()
    };
    alice_syncs(
        &w,
        &device,
        &key,
        vec![ClientCommand::Change {
            server_id: id.clone(),
            instance_id: None,
            application_data: reminder.to_application_data(V),
            send: false,
        }],
    )
    .await;
    assert_eq!(sequence(&w.alice), 2);
}
