//! SmartForward against the corpus examples.

mod common;

use common::{assert_wbxml_round_trip, corpus};
use easd_protocol::commands::smart_forward::*;

#[test]
fn request() {
    let req = SmartForwardRequest::parse(&corpus("70-smartforward-request.xml")).unwrap();
    assert_eq!(
        req.source.long_id.as_deref(),
        Some("RgAAAAAaX9MEq%2fK1TJwZ2Lq%2fm0uPBwCNgdq4")
    );
    assert_eq!(
        req.forwardees,
        vec![
            Forwardee {
                name: Some("Dana Smith".into()),
                email: "dana@example.com".into()
            },
            Forwardee {
                name: None,
                email: "pat@example.com".into()
            },
        ]
    );
    assert_eq!(
        req.template_id.as_deref(),
        Some("4a7c2f53-0b1d-4c7e-9d2b-000000000001")
    );
    assert!(req.remove_rights_management_distribution);
    assert!(String::from_utf8_lossy(&req.mime).contains("FW: Quarterly numbers"));
    assert_wbxml_round_trip(&req.to_element());
    assert_eq!(SmartForwardRequest::parse(&req.to_element()).unwrap(), req);
}
