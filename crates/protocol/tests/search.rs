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

mod no_panics {
    //! Whatever tree a client's WBXML decodes to, the parsers of Search, Find,
    //! ResolveRecipients, MeetingResponse, ValidateCert, SendMail, SmartReply and
    //! SmartForward answer with a value or a ParseError, never a panic.

    use easd_protocol::commands::{
        find::FindRequest, meeting_response::MeetingResponseRequest,
        resolve_recipients::ResolveRecipientsRequest, search::SearchRequest,
        send_mail::SendMailRequest, smart_forward::SmartForwardRequest,
        smart_reply::SmartReplyRequest, validate_cert::ValidateCertRequest,
    };
    use easd_wbxml::tags;
    use easd_wbxml::{Element, Node, Tag, CODE_PAGES};
    use proptest::prelude::*;

    fn tags() -> Vec<Tag> {
        [0u8, 2, 8, 10, 11, 15, 16, 17, 19, 21, 24, 25]
            .iter()
            .filter_map(|p| CODE_PAGES.get(*p as usize))
            .flat_map(|cp| cp.tags.iter().map(move |(t, _)| Tag::new(cp.number, *t)))
            .collect()
    }

    fn text() -> impl Strategy<Value = Node> {
        prop_oneof![
            "[0-9]{0,3}".prop_map(Node::Text),
            "[0-9]{1,3}-[0-9]{1,3}".prop_map(Node::Text),
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
        let _ = SearchRequest::parse(e);
        let _ = FindRequest::parse(e);
        let _ = ResolveRecipientsRequest::parse(e);
        let _ = MeetingResponseRequest::parse(e);
        let _ = ValidateCertRequest::parse(e);
        let _ = SendMailRequest::parse(e);
        let _ = SmartReplyRequest::parse(e);
        let _ = SmartForwardRequest::parse(e);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn parsers_never_panic(root in tree()) {
            parse_all(&root);
        }

        #[test]
        fn parsers_never_panic_under_their_roots(
            root in prop::sample::select(vec![
                tags::search::SEARCH, tags::find::FIND,
                tags::resolve_recipients::RESOLVE_RECIPIENTS,
                tags::meeting_response::MEETING_RESPONSE,
                tags::validate_cert::VALIDATE_CERT, tags::compose_mail::SEND_MAIL,
                tags::compose_mail::SMART_REPLY, tags::compose_mail::SMART_FORWARD,
            ]),
            children in prop::collection::vec(tree(), 0..5),
        ) {
            let root = Element {
                tag: root,
                children: children.into_iter().map(Node::Element).collect(),
            };
            parse_all(&root);
        }
    }
}

/// Each command's answer to a request that does not parse carries its protocol-error
/// status.
#[test]
fn protocol_error_statuses() {
    use easd_protocol::commands::{
        find::FindResponse, resolve_recipients::ResolveRecipientsResponse,
        send_mail::ComposeMailResponse, sync::SyncResponse, validate_cert::ValidateCertResponse,
    };
    use easd_wbxml::tags::{airsync, compose_mail, find, resolve_recipients, validate_cert};
    let status = |e: easd_wbxml::Element, tag| e.child_text(tag).unwrap_or_default();
    assert_eq!(
        status(SyncResponse::protocol_error().to_element(), airsync::STATUS),
        "4"
    );
    assert_eq!(
        status(FindResponse::protocol_error().to_element(), find::STATUS),
        "2"
    );
    assert_eq!(
        status(
            ResolveRecipientsResponse::protocol_error().to_element(),
            resolve_recipients::STATUS
        ),
        "5"
    );
    assert_eq!(
        status(
            ValidateCertResponse::protocol_error().to_element(),
            validate_cert::STATUS
        ),
        "2"
    );
    assert_eq!(
        status(
            ComposeMailResponse::protocol_error(compose_mail::SEND_MAIL).to_element(),
            compose_mail::STATUS
        ),
        "103"
    );
    let search = SearchResponse::protocol_error().to_element();
    assert_eq!(status(search.clone(), search::STATUS), "1");
    let store = search
        .child(search::RESPONSE)
        .unwrap()
        .child(search::STORE)
        .unwrap();
    assert_eq!(store.child_text(search::STATUS).as_deref(), Some("2"));
    assert!(store.child(search::RESULT).is_none());
}
