//! Find (16.1): requests and responses through WBXML (the Find page 25 has no corpus
//! example, libwbxml does not know it).

mod common;

use common::assert_wbxml_round_trip;
use easd_protocol::commands::find::*;
use easd_protocol::commands::search::{GalProperties, Range};
use easd_wbxml::{decode, encode};

#[test]
fn request_through_wbxml() {
    let req = FindRequest {
        search_id: "5a4ac3a2-4e0a-4e4c-9a55-8d3b1f0e2c11".into(),
        criterion: FindCriterion::Mailbox {
            query: FindQuery {
                class: Some("Email".into()),
                collection_id: None,
                free_text: Some("subject:budget".into()),
            },
            options: FindOptions {
                range: Some(Range::new(0, 99)),
                deep_traversal: true,
                picture: None,
            },
        },
    };
    let bytes = encode(&req.to_element());
    assert_eq!(FindRequest::parse(&decode(&bytes).unwrap()).unwrap(), req);
}

#[test]
fn response_through_wbxml() {
    let resp = FindResponse {
        status: FindStatus::Success,
        response: Some(FindStoreResponse {
            store: Some("GAL".into()),
            status: FindStatus::Success,
            results: vec![FindResult {
                properties: FindProperties {
                    gal: GalProperties {
                        display_name: Some("Chris Gray".into()),
                        email_address: Some("chris@example.com".into()),
                        ..GalProperties::default()
                    },
                    ..FindProperties::default()
                },
                ..FindResult::default()
            }],
            range: Some(Range::new(0, 0)),
            total: Some(1),
        }),
    };
    let e = resp.to_element();
    assert_wbxml_round_trip(&e);
    assert_eq!(
        FindResponse::parse(&decode(&encode(&e)).unwrap()).unwrap(),
        resp
    );
}

#[test]
fn mailbox_request_from_corpus() {
    let req = FindRequest::parse(&common::corpus("own/06-find-mailbox-request.xml")).unwrap();
    assert_eq!(req.search_id, "0b2f1a3c-5d6e-4f70-8192-a3b4c5d6e7f8");
    let FindCriterion::Mailbox { query, options } = &req.criterion else {
        panic!("expected a mailbox criterion");
    };
    assert_eq!(query.class.as_deref(), Some("Email"));
    assert_eq!(query.collection_id.as_deref(), Some("5"));
    assert_eq!(query.free_text.as_deref(), Some("quarterly numbers"));
    assert_eq!(options.range, Some(Range::new(0, 99)));
    assert!(options.deep_traversal);
    common::assert_matches_corpus(&req.to_element(), "own/06-find-mailbox-request.xml");
}

#[test]
fn mailbox_response_from_corpus() {
    let resp = FindResponse {
        status: FindStatus::Success,
        response: Some(FindStoreResponse {
            store: None,
            status: FindStatus::Success,
            results: vec![FindResult {
                class: Some("Email".into()),
                server_id: Some("5:1".into()),
                collection_id: Some("5".into()),
                properties: FindProperties {
                    subject: Some("Quarterly numbers".into()),
                    date_received: Some("2009-07-29T19:25:37.817Z".into()),
                    display_to: Some("Device User".into()),
                    display_cc: Some("Device User 2".into()),
                    display_bcc: Some("Audit".into()),
                    preview: Some("Hi all, the numbers are in the attached sheet.".into()),
                    has_attachments: Some(true),
                    ..FindProperties::default()
                },
            }],
            range: Some(Range::new(0, 0)),
            total: Some(1),
        }),
    };
    common::assert_matches_corpus(&resp.to_element(), "own/07-find-mailbox-response.xml");
    assert_eq!(
        FindResponse::parse(&common::corpus("own/07-find-mailbox-response.xml")).unwrap(),
        resp
    );
}

#[test]
fn gal_request_from_corpus() {
    let req = FindRequest::parse(&common::corpus("own/08-find-gal-request.xml")).unwrap();
    let FindCriterion::Gal { query, options } = &req.criterion else {
        panic!("expected a GAL criterion");
    };
    assert_eq!(query.free_text.as_deref(), Some("chris"));
    assert_eq!(options.range, Some(Range::new(0, 9)));
    let p = options.picture.unwrap();
    assert_eq!((p.max_size, p.max_pictures), (Some(20480), Some(3)));
    common::assert_matches_corpus(&req.to_element(), "own/08-find-gal-request.xml");
}
