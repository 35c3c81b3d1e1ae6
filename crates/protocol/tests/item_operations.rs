//! ItemOperations against the corpus examples.

mod common;

use common::{assert_matches_corpus, corpus};
use easd_protocol::commands::item_operations::*;
use easd_protocol::items::airsyncbase::BodyType;
use easd_protocol::status::ItemOperationsStatus;
use easd_protocol::values::MimeSupport;
use easd_wbxml::tags::{airsync, item_operations as io};
use easd_wbxml::Element;

fn only_fetch(name: &str) -> Fetch {
    let req = ItemOperationsRequest::parse(&corpus(name)).unwrap();
    match req.operations.as_slice() {
        [ItemOperation::Fetch(f)] => f.clone(),
        other => panic!("expected one Fetch: {other:?}"),
    }
}

#[test]
fn fetch_body_request() {
    let f = only_fetch("60-itemoperations-fetch-body-request.xml");
    assert_eq!(f.store, STORE_MAILBOX);
    assert_eq!(
        f.target,
        FetchTarget::Item {
            collection_id: Some("5".into()),
            server_id: "5:21".into()
        }
    );
    assert_eq!(f.options.mime_support, Some(MimeSupport::Never));
    assert_eq!(f.options.body_preferences[0].body_type, BodyType::Html);
    assert_eq!(f.options.body_preferences[0].truncation_size, Some(5120));
    assert_eq!(f.options.rights_management_support, Some(true));
}

#[test]
fn fetch_attachment_request() {
    let f = only_fetch("62-itemoperations-fetch-attachment-request.xml");
    assert_eq!(f.target, FetchTarget::FileReference("20%3a2%3a0".into()));
    assert_eq!(
        f.options.range,
        Some(ByteRange {
            start: 0,
            end: 8191
        })
    );
}

#[test]
fn document_library_request() {
    let f = only_fetch("66-itemoperations-documentlibrary-request.xml");
    assert_eq!(f.store, STORE_DOCUMENT_LIBRARY);
    assert_eq!(
        f.target,
        FetchTarget::LinkId(r"\\fileserver\share\reports\q1.docx".into())
    );
    assert_eq!(
        f.options.credentials.map(|c| (c.user_name, c.password)),
        Some((r"CONTOSO\deviceuser".into(), "P@ssw0rd!".into()))
    );
}

#[test]
fn schema_request_with_two_fetches() {
    let req =
        ItemOperationsRequest::parse(&corpus("67-itemoperations-schema-request.xml")).unwrap();
    let [ItemOperation::Fetch(a), ItemOperation::Fetch(b)] = req.operations.as_slice() else {
        panic!("expected two fetches: {req:?}");
    };
    assert_eq!(
        a.target,
        FetchTarget::LongId("RgAAAAAaX9MEq%2fK1TJwZ2Lq%2fm0uPBwCNgdq4".into())
    );
    assert_eq!(a.options.schema.as_ref().unwrap().elements().count(), 3);
    assert_eq!(a.options.body_part_preferences.len(), 1);
    assert_eq!(
        b.target,
        FetchTarget::Item {
            collection_id: Some("5".into()),
            server_id: "5:22".into()
        }
    );
}

#[test]
fn empty_folder_contents() {
    let req =
        ItemOperationsRequest::parse(&corpus("63-itemoperations-emptyfoldercontents-request.xml"))
            .unwrap();
    assert_eq!(
        req.operations,
        vec![ItemOperation::EmptyFolderContents(EmptyFolderContents {
            collection_id: "3".into(),
            delete_sub_folders: true,
        })]
    );
    let resp = ItemOperationsResponse {
        status: ItemOperationsStatus::Success,
        responses: vec![OperationResponse::EmptyFolderContents(
            EmptyFolderContentsResponse {
                status: ItemOperationsStatus::Success,
                collection_id: Some("3".into()),
            },
        )],
    };
    assert_matches_corpus(
        &resp.to_element(),
        "64-itemoperations-emptyfoldercontents-response.xml",
    );
}

#[test]
fn move_conversation() {
    let req = ItemOperationsRequest::parse(&corpus("77-itemoperations-move-request.xml")).unwrap();
    let [ItemOperation::Move(m)] = req.operations.as_slice() else {
        panic!("expected a Move: {req:?}");
    };
    assert_eq!(m.dst_fld_id, "12");
    assert!(m.move_always);
    assert!(!m.conversation_id.is_empty());
    let resp = ItemOperationsResponse {
        status: ItemOperationsStatus::Success,
        responses: vec![OperationResponse::Move(MoveConversationResponse {
            status: ItemOperationsStatus::Success,
            conversation_id: None,
        })],
    };
    assert_matches_corpus(&resp.to_element(), "65-itemoperations-move-response.xml");
}

#[test]
fn attachment_response() {
    let resp = ItemOperationsResponse {
        status: ItemOperationsStatus::Success,
        responses: vec![OperationResponse::Fetch(FetchResponse {
            status: ItemOperationsStatus::Success,
            target: Some(FetchTarget::FileReference("20%3a2%3a0".into())),
            class: None,
            properties: Some(FetchProperties {
                content_type: Some("text/plain".into()),
                range: Some(ByteRange { start: 0, end: 13 }),
                total: Some(14),
                data: Some(b"Hello, world!\n".to_vec()),
                ..Default::default()
            }),
        })],
    };
    assert_matches_corpus_data(
        &resp.to_element(),
        "own/03-itemoperations-attachment-response.xml",
    );
}

/// MS-ASCMD 2.2.3.39.2: inline Data is a string, the base64 encoding of the content. The
/// corpus documents carry the same bytes as OPAQUE; compare with their Data rewritten so.
fn assert_matches_corpus_data(actual: &Element, name: &str) {
    let mut expected = corpus(name);
    rewrite_opaque_data_as_base64(&mut expected);
    assert_eq!(
        easd_wbxml::xml::normalize(actual),
        easd_wbxml::xml::normalize(&expected)
    );
    common::assert_wbxml_round_trip(actual);
}

fn rewrite_opaque_data_as_base64(e: &mut Element) {
    use base64::Engine as _;
    if e.tag == io::DATA {
        if let Some(bytes) = e.opaque().map(<[u8]>::to_vec) {
            let text = base64::engine::general_purpose::STANDARD.encode(bytes);
            e.children = vec![easd_wbxml::Node::Text(text)];
        }
    }
    for n in e.children.iter_mut() {
        if let easd_wbxml::Node::Element(c) = n {
            rewrite_opaque_data_as_base64(c);
        }
    }
}

#[test]
fn document_library_response() {
    let resp = ItemOperationsResponse {
        status: ItemOperationsStatus::Success,
        responses: vec![OperationResponse::Fetch(FetchResponse {
            status: ItemOperationsStatus::Success,
            target: Some(FetchTarget::LinkId(
                r"\\fileserver\share\reports\q1.txt".into(),
            )),
            class: None,
            properties: Some(FetchProperties {
                range: Some(ByteRange { start: 0, end: 9 }),
                total: Some(10),
                data: Some(b"Q1 report".to_vec()),
                version: Some("2012-04-03T10:12:00.000Z".into()),
                ..Default::default()
            }),
        })],
    };
    assert_matches_corpus_data(
        &resp.to_element(),
        "own/04-itemoperations-documentlibrary-response.xml",
    );
}

#[test]
fn fetched_mime_item_response() {
    let expected = corpus("79-itemoperations-fetch-mime-response.xml");
    let item_props = expected
        .child(io::RESPONSE)
        .and_then(|r| r.child(io::FETCH))
        .and_then(|f| f.child(io::PROPERTIES))
        .unwrap();
    // The item as the item types would write it: an ApplicationData with the properties.
    let mut item = Element::new(airsync::APPLICATION_DATA);
    item.children = item_props.children.clone();
    let resp = ItemOperationsResponse {
        status: ItemOperationsStatus::Success,
        responses: vec![OperationResponse::Fetch(FetchResponse {
            status: ItemOperationsStatus::Success,
            target: Some(FetchTarget::Item {
                collection_id: Some("5".into()),
                server_id: "5:22".into(),
            }),
            class: Some("Email".into()),
            properties: Some(FetchProperties {
                item: Some(item),
                ..Default::default()
            }),
        })],
    };
    assert_matches_corpus(
        &resp.to_element(),
        "79-itemoperations-fetch-mime-response.xml",
    );

    // Multipart: the MIME moves to part 1.
    let body = resp.to_multipart();
    let parts = split_multipart(&body).unwrap();
    assert_eq!(parts.len(), 2);
    assert!(parts[1].starts_with(b"From: dana@example.com"));
}
