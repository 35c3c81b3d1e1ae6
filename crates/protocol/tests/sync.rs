//! Sync against the corpus examples, with the Email and AirSyncBase items they carry.

mod common;

use common::{assert_matches_corpus, assert_wbxml_round_trip, corpus};
use easd_protocol::commands::sync::*;
use easd_protocol::items::airsyncbase::{AttachmentMethod, BodyData, BodyPartStatus, BodyType};
use easd_protocol::items::email::{
    DraftEmail, Email, EmailChange, FlagStatus, Importance, LastVerbExecuted,
};
use easd_protocol::ProtocolVersion;
use easd_wbxml::tags::{airsync, airsyncbase, calendar, email, rights_management};
use easd_wbxml::{decode, encode, Element, Writer};

fn app_data_of_add(resp: &SyncResponse, i: usize) -> &Element {
    match &resp.collections[0].commands[i] {
        ServerCommand::Add {
            application_data, ..
        } => application_data,
        other => panic!("expected Add, got {other:?}"),
    }
}

#[test]
fn initial_request_and_response() {
    let req = SyncRequest::parse(&corpus("10-sync-initial-request.xml")).unwrap();
    assert_eq!(req.collections.len(), 1);
    let c = &req.collections[0];
    assert!(c.is_initial());
    assert_eq!(c.collection_id, "5");
    assert!(c.options.is_empty() && c.commands.is_empty());

    let resp = SyncResponse {
        status: None,
        limit: None,
        collections: vec![SyncCollectionResponse::new(
            "1474823612",
            "5",
            SyncStatus::Success,
        )],
    };
    assert_matches_corpus(&resp.to_element(), "11-sync-initial-response.xml");
}

#[test]
fn email_options_request() {
    let req = SyncRequest::parse(&corpus("12-sync-email-options-request.xml")).unwrap();
    let c = &req.collections[0];
    assert_eq!(c.deletes_as_moves, Some(true));
    assert_eq!(c.get_changes, Some(true));
    assert_eq!(c.window_size, Some(25));
    // This example puts ConversationMode inside Options; it is read all the same.
    assert_eq!(c.conversation_mode, Some(true));
    let o = c.options_for(Some("Email")).unwrap();
    assert_eq!(o.filter(), Some(FilterType::OneWeek));
    assert_eq!(o.mime_support, Some(1));
    assert_eq!(o.mime_truncation, Some(8));
    let html = o.body_preference(BodyType::Html).unwrap();
    assert_eq!(html.truncation_size, Some(51200));
    assert_eq!(html.preview, Some(255));
    assert!(o.body_preference(BodyType::Mime).is_some());
    assert_eq!(o.body_part_preferences[0].preview, Some(100));
    assert_eq!(o.rights_management_support, Some(true));
}

#[test]
fn email_add_response_items() {
    let resp = SyncResponse::parse(&corpus("13-sync-email-add-response.xml")).unwrap();
    let c = &resp.collections[0];
    assert_eq!(c.sync_key, "1474823613");
    assert_eq!(c.status, SyncStatus::Success);
    let m = Email::parse(app_data_of_add(&resp, 0)).unwrap();
    assert_eq!(m.subject.as_deref(), Some("Quarterly numbers — draft ✓"));
    assert_eq!(m.importance, Some(Importance::High));
    assert_eq!(m.read, Some(false));
    let body = m.body.as_ref().unwrap();
    assert_eq!(body.body_type, BodyType::Plain);
    assert_eq!(body.truncated, Some(true));
    assert!(matches!(&body.data, Some(BodyData::Text(t)) if t.contains("12 < 15 & 7 > 3")));
    assert_eq!(m.flag, None);
    assert_eq!(m.native_body_type, Some(BodyType::Html));
    assert_eq!(m.last_verb_executed, Some(LastVerbExecuted::ReplyToSender));
    assert_eq!(m.received_as_bcc, Some(true));
    assert_eq!(m.account_id.as_deref(), Some("2"));
    assert_eq!(m.is_draft, Some(false));
    assert_eq!(m.categories, vec!["Finance", "Q3"]);

    // What easd writes for the same message carries the same properties.
    let written = m.to_application_data(ProtocolVersion::V16_1);
    assert_eq!(Email::parse(&written).unwrap(), m);
    assert_wbxml_round_trip(&written);
}

#[test]
fn voicemail_attachments() {
    let resp = SyncResponse::parse(&corpus("14-sync-email-voicemail-response.xml")).unwrap();
    let m = Email::parse(app_data_of_add(&resp, 0)).unwrap();
    assert_eq!(m.attachments.len(), 2);
    let wma = &m.attachments[0];
    assert_eq!(wma.file_reference, "20%3a2%3a0");
    assert_eq!(wma.method, AttachmentMethod::Normal);
    assert_eq!(wma.estimated_data_size, 9025);
    let logo = &m.attachments[1];
    assert_eq!(logo.content_id.as_deref(), Some("logo@example.com"));
    assert_eq!(logo.is_inline, Some(true));
    assert_eq!(m.um_caller_id.as_deref(), Some("4255550199"));
    assert_eq!(
        m.message_class.as_deref(),
        Some("IPM.Note.Microsoft.Voicemail.UM.CA")
    );
    assert_eq!(m.body.as_ref().unwrap().data, None);
}

#[test]
fn flag_changes_from_the_client() {
    let req = SyncRequest::parse(&corpus("15-sync-email-flag-change-request.xml")).unwrap();
    let cmds = &req.collections[0].commands;
    assert_eq!(cmds.len(), 2);
    let ClientCommand::Change {
        server_id,
        application_data,
        send,
        ..
    } = &cmds[0]
    else {
        panic!("expected Change");
    };
    assert_eq!(server_id, "5:1");
    assert!(!send);
    let change = EmailChange::parse(application_data).unwrap();
    assert_eq!(change.read, Some(true));
    let flag = change.flag.unwrap().unwrap();
    assert_eq!(flag.status, Some(FlagStatus::Active));
    assert_eq!(flag.flag_type.as_deref(), Some("Flag for follow up"));
    assert_eq!(
        flag.utc_due_date.as_deref(),
        Some("2009-08-03T07:00:00.000Z")
    );
    assert_eq!(flag.sub_ordinal_date.as_deref(), Some("412345"));

    let ClientCommand::Change {
        application_data, ..
    } = &cmds[1]
    else {
        panic!("expected Change");
    };
    let done = EmailChange::parse(application_data)
        .unwrap()
        .flag
        .unwrap()
        .unwrap();
    assert_eq!(done.status, Some(FlagStatus::Complete));
    assert_eq!(
        done.complete_time.as_deref(),
        Some("2009-08-02T10:30:00.000Z")
    );
    assert_eq!(
        done.date_completed.as_deref(),
        Some("2009-08-02T10:30:00.000Z")
    );
}

#[test]
fn meeting_request_is_kept_whole() {
    let resp = SyncResponse::parse(&corpus("16-sync-email-meetingrequest-response.xml")).unwrap();
    let m = Email::parse(app_data_of_add(&resp, 0)).unwrap();
    let mr = m.meeting_request.as_ref().unwrap();
    assert_eq!(
        mr.child_text(email::START_TIME).as_deref(),
        Some("2012-05-03T17:00:00.000Z")
    );
    let written = m.to_application_data(ProtocolVersion::V14_1);
    assert_eq!(written.child(email::MEETING_REQUEST), Some(mr));
}

#[test]
fn mixed_commands_request() {
    let req = SyncRequest::parse(&corpus("22-sync-mixed-commands-request.xml")).unwrap();
    assert_eq!(req.collections.len(), 2);
    let c = &req.collections[0];
    assert_eq!(c.deletes_as_moves, Some(false));
    assert_eq!(c.get_changes, Some(true));
    assert_eq!(c.options[0].body_preferences[0].truncation_size, Some(200));
    let ids: Vec<_> = c.commands.iter().map(|x| x.server_id().unwrap()).collect();
    assert_eq!(ids, ["5:3", "5:4", "5:5"]);
    assert!(matches!(c.commands[1], ClientCommand::Delete { .. }));
    assert!(matches!(c.commands[2], ClientCommand::Fetch { .. }));
    assert_eq!(req.collections[1].get_changes, Some(true));
    assert_eq!(req.collections[1].sync_key, "725112");
}

#[test]
fn responses_response() {
    let original = corpus("23-sync-responses-response.xml");
    let resp = SyncResponse::parse(&original).unwrap();
    let c = &resp.collections[0];
    assert!(c.more_available);
    assert_eq!(c.commands.len(), 3);
    assert!(
        matches!(&c.commands[1], ServerCommand::SoftDelete { server_id } if server_id == "5:10")
    );
    assert_eq!(c.responses.len(), 3);
    assert_eq!(c.responses[0].status(), SyncStatus::Conflict);
    assert!(matches!(
        &c.responses[1],
        ClientCommandResponse::Add { client_id, server_id: Some(s), .. }
            if client_id == "c-1001" && s == "2:17"
    ));
    assert!(matches!(
        &c.responses[2],
        ClientCommandResponse::Fetch {
            application_data: Some(_),
            ..
        }
    ));
    assert_eq!(resp.collections[1].status, SyncStatus::InvalidSyncKey);

    // easd writes the same content in its own order (Responses, MoreAvailable, Commands;
    // see SyncCollectionResponse), which reads back the same.
    let written = resp.to_element();
    assert_eq!(SyncResponse::parse(&written).unwrap(), resp);
    let coll = written
        .child(airsync::COLLECTIONS)
        .unwrap()
        .child(airsync::COLLECTION)
        .unwrap();
    let order: Vec<_> = coll.elements().map(|e| e.tag).collect();
    assert_eq!(
        order,
        [
            airsync::SYNC_KEY,
            airsync::COLLECTION_ID,
            airsync::STATUS,
            airsync::RESPONSES,
            airsync::MORE_AVAILABLE,
            airsync::COMMANDS
        ]
    );
    assert_wbxml_round_trip(&written);
}

#[test]
fn wait_partial_and_heartbeat_requests() {
    let req = SyncRequest::parse(&corpus("24-sync-wait-partial-request.xml")).unwrap();
    assert!(req.partial);
    assert_eq!(req.wait, Some(10));
    assert_eq!(req.window_size, Some(512));
    assert!(req.needs_cached_collections());
    assert!(!req.is_empty());

    let req = SyncRequest::parse(&corpus("26-sync-heartbeat-request.xml")).unwrap();
    assert_eq!(req.heartbeat_interval, Some(480));
    assert_eq!(req.window_size, Some(50));
    assert!(req.collections.is_empty());
    assert!(req.needs_cached_collections());
}

#[test]
fn heartbeat_limit_response() {
    let resp = SyncResponse {
        status: Some(SyncStatus::InvalidWaitOrHeartbeatInterval),
        limit: Some(3540),
        collections: vec![],
    };
    assert_matches_corpus(&resp.to_element(), "25-sync-heartbeat-limit-response.xml");
}

#[test]
fn rights_managed_email_keeps_the_license() {
    let resp = SyncResponse::parse(&corpus("27-sync-rightsmanaged-email-response.xml")).unwrap();
    let m = Email::parse(app_data_of_add(&resp, 0)).unwrap();
    let license = m.rights_management_license.as_ref().unwrap();
    assert_eq!(
        license
            .child_text(rights_management::TEMPLATE_NAME)
            .as_deref(),
        Some("Do Not Forward")
    );
    // The license is a 14.1 element.
    let v14 = m.to_application_data(ProtocolVersion::V14_0);
    assert!(v14
        .child(rights_management::RIGHTS_MANAGEMENT_LICENSE)
        .is_none());
    let v141 = m.to_application_data(ProtocolVersion::V14_1);
    assert_eq!(
        v141.child(rights_management::RIGHTS_MANAGEMENT_LICENSE),
        Some(license)
    );
}

#[test]
fn draft_change_with_attachments_and_send() {
    let req = SyncRequest::parse(&corpus("74-sync-draft-attachments-request.xml")).unwrap();
    let ClientCommand::Change {
        server_id,
        application_data,
        send,
        ..
    } = &req.collections[0].commands[0]
    else {
        panic!("expected Change");
    };
    assert_eq!(server_id, "4:3");
    // This example puts Send inside ApplicationData: DraftEmail reads it there.
    assert!(!send);
    let d = DraftEmail::parse(application_data).unwrap();
    assert!(d.send);
    assert_eq!(d.bcc.as_deref(), Some("audit@example.com"));
    assert_eq!(d.importance, Some(Importance::Normal));
    assert_eq!(d.attachments.delete, vec!["4%3a3%3a0".to_string()]);
    assert_eq!(d.attachments.add[0].display_name, "plan.txt");
    assert_eq!(
        d.attachments.add[0].content_type.as_deref(),
        Some("text/plain")
    );
}

#[test]
fn draft_add_with_attachment_content() {
    let req = SyncRequest::parse(&corpus("78-sync-add-attachment-content-request.xml")).unwrap();
    let ClientCommand::Add {
        client_id,
        application_data,
        ..
    } = &req.collections[0].commands[0]
    else {
        panic!("expected Add");
    };
    assert_eq!(client_id, "draft-9");
    let d = DraftEmail::parse(application_data).unwrap();
    assert_eq!(d.subject.as_deref(), Some("With attachment"));
    assert_eq!(d.attachments.add[0].content, b"Hello, world!\n");
    assert!(!d.send);
}

#[test]
fn body_part_and_conversation_ids() {
    let resp = SyncResponse::parse(&corpus("75-sync-bodypart-instance-response.xml")).unwrap();
    let ServerCommand::Change {
        application_data, ..
    } = &resp.collections[0].commands[0]
    else {
        panic!("expected Change");
    };
    let m = Email::parse(application_data).unwrap();
    let part = m.body_part.unwrap();
    assert_eq!(part.status, BodyPartStatus::Success);
    assert_eq!(part.preview.as_deref(), Some("Latest reply only"));

    let resp = SyncResponse::parse(&corpus("76-sync-conversation-response.xml")).unwrap();
    let m = Email::parse(app_data_of_add(&resp, 0)).unwrap();
    assert_eq!(m.conversation_id.as_ref().map(Vec::len), Some(16));
    assert_eq!(
        m.conversation_index.as_deref(),
        Some(&[0x01, 0xCD, 0x28, 0x24, 0x66, 0x08, 0, 0, 0, 1][..])
    );
    assert_eq!(m.last_verb_executed, Some(LastVerbExecuted::ReplyToAll));
}

#[test]
fn streamed_response_decodes_to_the_tree() {
    let mut email = Email {
        subject: Some("Streamed".into()),
        read: Some(false),
        ..Email::default()
    };
    email.body = Some(easd_protocol::items::airsyncbase::Body::new(
        BodyType::Mime,
        BodyData::Opaque(b"Subject: Streamed\r\n\r\n\xe9t\xe9".to_vec()),
    ));
    let mut coll = SyncCollectionResponse::new("2", "5", SyncStatus::Success);
    coll.more_available = true;
    coll.commands = (0..50)
        .map(|i| ServerCommand::Add {
            server_id: format!("5:{i}"),
            application_data: email.to_application_data(ProtocolVersion::V16_1),
        })
        .collect();
    let resp = SyncResponse {
        status: None,
        limit: None,
        collections: vec![coll],
    };
    let mut w = Writer::new(Vec::new());
    resp.write(&mut w).unwrap();
    let bytes = w.finish().unwrap();
    assert_eq!(bytes, encode(&resp.to_element()));
    assert_eq!(SyncResponse::parse(&decode(&bytes).unwrap()).unwrap(), resp);
}

mod no_panics {
    //! Whatever tree a client's WBXML decodes to, the Sync and Email parsers answer with a
    //! value or a ParseError, never a panic.

    use easd_protocol::commands::sync::{SyncRequest, SyncResponse};
    use easd_protocol::items::airsyncbase::{AttachmentChanges, Body, Supported};
    use easd_protocol::items::email::{DraftEmail, Email, EmailChange};
    use easd_wbxml::tags::airsync;
    use easd_wbxml::{Element, Node, Tag, CODE_PAGES};
    use proptest::prelude::*;

    /// AirSync, Email, Tasks, AirSyncBase, Email2, RightsManagement.
    fn tags() -> Vec<Tag> {
        [0u8, 2, 9, 17, 22, 24]
            .iter()
            .filter_map(|p| CODE_PAGES.get(*p as usize))
            .flat_map(|cp| cp.tags.iter().map(move |(t, _)| Tag::new(cp.number, *t)))
            .collect()
    }

    fn text() -> impl Strategy<Value = Node> {
        prop_oneof![
            "[0-9]{0,3}".prop_map(Node::Text),
            "[ -~]{0,12}".prop_map(Node::Text),
            prop::collection::vec(any::<u8>(), 0..8).prop_map(Node::Opaque),
        ]
    }

    fn tree() -> impl Strategy<Value = Element> {
        let tag = prop::sample::select(tags());
        let leaf = (tag.clone(), prop::collection::vec(text(), 0..2))
            .prop_map(|(tag, children)| Element { tag, children });
        leaf.prop_recursive(6, 96, 6, move |inner| {
            (
                tag.clone(),
                prop::collection::vec(
                    prop_oneof![3 => inner.prop_map(Node::Element), 1 => text()],
                    0..6,
                ),
            )
                .prop_map(|(tag, children)| Element { tag, children })
        })
    }

    fn parse_all(e: &Element) {
        let _ = SyncRequest::parse(e);
        let _ = SyncResponse::parse(e);
        let _ = Email::parse(e);
        let _ = EmailChange::parse(e);
        let _ = DraftEmail::parse(e);
        let _ = Body::parse(e);
        let _ = AttachmentChanges::parse(e);
        let _ = Supported::parse(e);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn parsers_never_panic(root in tree()) {
            parse_all(&root);
        }

        #[test]
        fn sync_parser_never_panics_under_its_root(
            children in prop::collection::vec(tree(), 0..5),
        ) {
            let root = Element {
                tag: airsync::SYNC,
                children: children.into_iter().map(Node::Element).collect(),
            };
            parse_all(&root);
        }
    }
}

#[test]
fn change_and_delete_of_one_occurrence_carry_its_instance_id() {
    // MS-ASAIRS 2.2.2.25 InstanceId: a child of Change and Delete from 16.0.
    let delete = Element::new(airsync::DELETE)
        .with_text(airsync::SERVER_ID, "7:1")
        .with_text(airsyncbase::INSTANCE_ID, "20270217T080000Z");
    let parsed = ClientCommand::parse(&delete).unwrap();
    assert_eq!(
        parsed,
        ClientCommand::Delete {
            server_id: "7:1".into(),
            instance_id: Some("20270217T080000Z".into()),
        }
    );
    assert_eq!(parsed.to_element(), delete);
    let change = Element::new(airsync::CHANGE)
        .with_text(airsync::SERVER_ID, "7:1")
        .with_text(airsyncbase::INSTANCE_ID, "20270224T080000Z")
        .with(Element::new(airsync::APPLICATION_DATA).with_text(calendar::SUBJECT, "Moved"));
    let parsed = ClientCommand::parse(&change).unwrap();
    let ClientCommand::Change { instance_id, .. } = &parsed else {
        panic!("expected Change");
    };
    assert_eq!(instance_id.as_deref(), Some("20270224T080000Z"));
    assert_eq!(parsed.to_element(), change);
    // Without it, the whole item.
    let plain = Element::new(airsync::DELETE).with_text(airsync::SERVER_ID, "7:1");
    assert!(matches!(
        ClientCommand::parse(&plain).unwrap(),
        ClientCommand::Delete {
            instance_id: None,
            ..
        }
    ));
}
