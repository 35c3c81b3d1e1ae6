//! SmartReply against the corpus examples.

mod common;

use common::{assert_wbxml_round_trip, corpus};
use easd_protocol::commands::send_mail::Source;
use easd_protocol::commands::smart_reply::*;

#[test]
fn request() {
    let req = SmartReplyRequest::parse(&corpus("69-smartreply-request.xml")).unwrap();
    assert_eq!(
        req.source,
        Source {
            folder_id: Some("5".into()),
            item_id: Some("5:7".into()),
            long_id: None,
            instance_id: Some("2012-05-10T17:00:00.000Z".into()),
        }
    );
    assert!(req.save_in_sent_items);
    assert!(req.replace_mime);
    assert!(String::from_utf8_lossy(&req.mime).contains("RE: Weekly sync"));
    assert_wbxml_round_trip(&req.to_element());
    assert_eq!(SmartReplyRequest::parse(&req.to_element()).unwrap(), req);
}

#[test]
fn responses() {
    assert_eq!(SmartReplyResponse::smart_reply(None).body(), None);
}
