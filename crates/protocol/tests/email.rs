//! The Email item through WBXML, for every protocol version easd speaks.

mod common;

use common::assert_wbxml_round_trip;
use easd_protocol::items::airsyncbase::{Attachment, Body, BodyData, BodyType};
use easd_protocol::items::email::{Email, EmailChange, Flag, Importance};
use easd_protocol::ProtocolVersion;
use easd_wbxml::tags::{airsyncbase, email, email2};
use easd_wbxml::{decode, encode};

fn message() -> Email {
    let mut body = Body::new(BodyType::Html, "<p>Hello</p>");
    body.preview = Some("Hello".into());
    let mut att = Attachment::new("5%3a1%3a0", 1234);
    att.display_name = Some("report.pdf".into());
    Email {
        to: Some("dana@example.com".into()),
        from: Some("chris@example.com".into()),
        subject: Some("Report".into()),
        date_received: Some("2026-11-25T16:22:49.000Z".into()),
        importance: Some(Importance::Normal),
        read: Some(false),
        attachments: vec![att],
        body: Some(body),
        message_class: Some("IPM.Note".into()),
        flag: Some(Flag::active()),
        native_body_type: Some(BodyType::Html),
        categories: vec!["Work".into()],
        conversation_id: Some(vec![0; 16]),
        sender: Some("assistant@example.com".into()),
        account_id: Some("1".into()),
        is_draft: Some(false),
        bcc: Some("audit@example.com".into()),
        ..Email::default()
    }
}

#[test]
fn every_version_encodes_and_decodes() {
    let m = message();
    for v in ProtocolVersion::ALL {
        let e = m.to_application_data(v);
        assert_wbxml_round_trip(&e);
        let back = Email::parse(&decode(&encode(&e)).unwrap()).unwrap();
        assert_eq!(back.subject, m.subject, "{v}");
        assert_eq!(back.flag, m.flag, "{v}");
        assert_eq!(back.attachments, m.attachments, "{v}");
        let has = |t| e.child(t).is_some();
        assert_eq!(has(email::CATEGORIES), v >= ProtocolVersion::V14_0, "{v}");
        assert_eq!(
            has(email2::CONVERSATION_ID),
            v >= ProtocolVersion::V14_0,
            "{v}"
        );
        assert_eq!(has(email2::ACCOUNT_ID), v >= ProtocolVersion::V14_1, "{v}");
        assert_eq!(has(email2::BCC), v >= ProtocolVersion::V16_0, "{v}");
        assert_eq!(has(email2::IS_DRAFT), v >= ProtocolVersion::V16_0, "{v}");
        let preview = e
            .child(airsyncbase::BODY)
            .and_then(|b| b.child(airsyncbase::PREVIEW))
            .is_some();
        assert_eq!(preview, v >= ProtocolVersion::V14_0, "{v}");
    }
}

#[test]
fn mime_body_in_both_forms() {
    let raw = b"Subject: caf\xe9\r\n\r\n8-bit body".to_vec();
    let mut m = message();
    m.body = Some(Body::new(BodyType::Mime, BodyData::Opaque(raw.clone())));
    let e = m.to_application_data(ProtocolVersion::V14_1);
    let back = Email::parse(&decode(&encode(&e)).unwrap()).unwrap();
    assert_eq!(back.body.unwrap().data.unwrap().as_bytes(), raw.as_slice());

    m.body = Some(Body::new(BodyType::Mime, "Subject: x\r\n\r\ntext"));
    let e = m.to_application_data(ProtocolVersion::V14_1);
    let data = e
        .child(airsyncbase::BODY)
        .unwrap()
        .child(airsyncbase::DATA)
        .unwrap();
    assert!(data.opaque().is_none());
    assert_eq!(data.text().as_deref(), Some("Subject: x\r\n\r\ntext"));
}

#[test]
fn server_change_of_flags() {
    let change = EmailChange {
        read: Some(true),
        flag: Some(None),
        categories: Some(vec![]),
    };
    let v12 = change.to_application_data(ProtocolVersion::V12_1);
    assert!(v12.child(email::CATEGORIES).is_none());
    assert!(v12.child(email::FLAG).unwrap().children.is_empty());
    let v16 = change.to_application_data(ProtocolVersion::V16_1);
    assert_wbxml_round_trip(&v16);
    assert_eq!(
        EmailChange::parse(&decode(&encode(&v16)).unwrap()).unwrap(),
        change
    );
}
