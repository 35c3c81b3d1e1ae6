//! Search against the corpus examples.

mod common;

use common::{assert_matches_corpus, assert_wbxml_round_trip, corpus};
use easd_protocol::commands::search::*;
use easd_protocol::items::email::Email;
use easd_wbxml::tags::{airsync, document_library, email, search};

#[test]
fn mailbox_request() {
    let req = SearchRequest::parse(&corpus("46-search-mailbox-request.xml")).unwrap();
    assert_eq!(req.name, StoreName::Mailbox);
    assert_eq!(req.query.class(), Some("Email"));
    assert_eq!(req.query.collection_ids(), vec!["5"]);
    assert_eq!(req.query.free_text(), Some("quarterly numbers"));
    let terms = req.query.terms();
    assert!(terms.iter().any(|t| matches!(
        t,
        QueryNode::LessThan { property, value }
            if *property == email::DATE_RECEIVED && value == "2009-08-01T00:00:00.000Z"
    )));
    assert!(req.options.rebuild_results && req.options.deep_traversal);
    assert_eq!(req.options.range, Some(Range::new(0, 9)));
    assert_eq!(req.options.mime_support, Some(0));
    assert_eq!(req.options.body_preferences[0].truncation_size, Some(512));
    assert_wbxml_round_trip(&req.to_element());
}

#[test]
fn mailbox_response() {
    let resp = SearchResponse::parse(&corpus("47-search-mailbox-response.xml")).unwrap();
    assert_eq!(resp.status, SearchStatus::Success);
    let store = resp.store.unwrap();
    // The example's trailing empty Result is not a result.
    assert_eq!(store.results.len(), 1);
    assert_eq!(store.range, Some(Range::new(0, 1)));
    assert_eq!(store.total, Some(2));
    let r = &store.results[0];
    assert_eq!(r.class.as_deref(), Some("Email"));
    assert_eq!(r.collection_id.as_deref(), Some("5"));
    let m = Email::parse(r.properties.as_ref().unwrap()).unwrap();
    assert_eq!(m.subject.as_deref(), Some("Quarterly numbers"));
    assert_eq!(m.read, Some(true));
}

#[test]
fn gal_request_and_response() {
    let req = SearchRequest::parse(&corpus("48-search-gal-request.xml")).unwrap();
    assert_eq!(req.name, StoreName::Gal);
    assert_eq!(req.query.plain_text().as_deref(), Some("chris"));
    assert_eq!(req.options.range, Some(Range::new(0, 4)));
    assert_eq!(
        req.options.picture,
        Some(PictureOptions {
            max_size: Some(20480),
            max_pictures: Some(5)
        })
    );

    let parsed = SearchResponse::parse(&corpus("49-search-gal-response.xml")).unwrap();
    let store = parsed.store.as_ref().unwrap();
    let chris = GalProperties::parse(store.results[0].properties.as_ref().unwrap()).unwrap();
    assert_eq!(chris.display_name.as_deref(), Some("Chris Gray"));
    assert_eq!(chris.mobile_phone.as_deref(), Some("+1 206 555 0113"));
    let picture = chris.picture.as_ref().unwrap();
    assert_eq!(picture.status, 1);
    assert!(picture.data.as_ref().unwrap().starts_with(b"\x89PNG"));
    let green = GalProperties::parse(store.results[1].properties.as_ref().unwrap()).unwrap();
    assert_eq!(green.picture.as_ref().unwrap().status, 173);

    // Written back from the typed values, the response is the example.
    let resp = SearchResponse {
        status: SearchStatus::Success,
        store: Some(SearchStoreResponse {
            status: SearchStatus::Success,
            results: vec![
                SearchResult {
                    properties: Some(chris.to_element()),
                    ..SearchResult::default()
                },
                SearchResult {
                    properties: Some(green.to_element()),
                    ..SearchResult::default()
                },
            ],
            range: Some(Range::new(0, 1)),
            total: Some(2),
        }),
    };
    assert_matches_corpus(&resp.to_element(), "49-search-gal-response.xml");
}

#[test]
fn document_library_request() {
    let req = SearchRequest::parse(&corpus("50-search-documentlibrary-request.xml")).unwrap();
    assert_eq!(req.name, StoreName::DocumentLibrary);
    assert_eq!(
        req.query.nodes[0],
        QueryNode::EqualTo {
            property: document_library::LINK_ID,
            value: "\\\\fileserver\\share\\reports".into()
        }
    );
    assert_eq!(
        req.options.user_name.as_deref(),
        Some("CONTOSO\\deviceuser")
    );
    assert_eq!(req.options.password.as_deref(), Some("P@ssw0rd!"));

    let resp = SearchResponse::parse(&corpus("51-search-documentlibrary-response.xml")).unwrap();
    let store = resp.store.unwrap();
    assert_eq!(store.results.len(), 2);
    let props = store.results[1].properties.as_ref().unwrap();
    assert_eq!(
        props
            .child_text(document_library::CONTENT_LENGTH)
            .as_deref(),
        Some("48213")
    );
}

#[test]
fn conversation_request() {
    let req = SearchRequest::parse(&corpus("52-search-conversation-request.xml")).unwrap();
    let QueryNode::And(terms) = &req.query.nodes[0] else {
        panic!("expected And");
    };
    // The text form is base64: the id is its bytes.
    assert_eq!(
        terms[0],
        QueryNode::ConversationId(b"MIS:D6752C8E".to_vec())
    );
    assert_eq!(terms[1], QueryNode::Class("Email".into()));
    assert_eq!(req.options.range, Some(Range::new(0, 24)));
}

#[test]
fn empty_result_when_nothing_matches() {
    let mut store = SearchStoreResponse::new(SearchStatus::Success);
    store.total = Some(0);
    let resp = SearchResponse {
        status: SearchStatus::Success,
        store: Some(store),
    };
    let e = resp.to_element();
    let s = e
        .child(search::RESPONSE)
        .unwrap()
        .child(search::STORE)
        .unwrap();
    assert!(s.child(search::RESULT).unwrap().children.is_empty());
    assert!(s.child(airsync::CLASS).is_none());
    assert_wbxml_round_trip(&e);
}
