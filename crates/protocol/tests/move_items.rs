//! MoveItems against the corpus examples.

mod common;

use common::{assert_matches_corpus, corpus};
use easd_protocol::commands::move_items::*;
use easd_protocol::status::MoveItemsStatus;

#[test]
fn request() {
    let req = MoveItemsRequest::parse(&corpus("35-moveitems-request.xml")).unwrap();
    assert_eq!(
        req.moves,
        vec![
            Move {
                src_msg_id: "5:21".into(),
                src_fld_id: "5".into(),
                dst_fld_id: "12".into(),
            },
            Move {
                src_msg_id: "5:22".into(),
                src_fld_id: "5".into(),
                dst_fld_id: "12".into(),
            },
        ]
    );
}

#[test]
fn response() {
    let resp = MoveItemsResponse {
        responses: vec![
            MoveResponse {
                src_msg_id: "5:21".into(),
                status: MoveItemsStatus::Success,
                dst_msg_id: Some("12:1".into()),
            },
            MoveResponse {
                src_msg_id: "5:22".into(),
                status: MoveItemsStatus::InvalidSourceId,
                dst_msg_id: None,
            },
        ],
    };
    assert_matches_corpus(&resp.to_element(), "36-moveitems-response.xml");
}
