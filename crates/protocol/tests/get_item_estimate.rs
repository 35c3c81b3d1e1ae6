//! GetItemEstimate against the corpus examples.

mod common;

use common::{assert_matches_corpus, corpus};
use easd_protocol::commands::get_item_estimate::*;
use easd_protocol::status::GetItemEstimateStatus;
use easd_protocol::values::FilterType;

#[test]
fn request() {
    let req = GetItemEstimateRequest::parse(&corpus("33-getitemestimate-request.xml")).unwrap();
    assert_eq!(
        req.collections,
        vec![
            EstimateCollection {
                sync_key: "1474823615".into(),
                collection_id: "5".into(),
                conversation_mode: Some(false),
                options: vec![EstimateOptions {
                    class: Some("Email".into()),
                    filter_type: Some(FilterType::OneWeek),
                    max_items: None,
                }],
            },
            EstimateCollection {
                sync_key: "1822214926".into(),
                collection_id: "1".into(),
                conversation_mode: None,
                options: vec![EstimateOptions {
                    class: None,
                    filter_type: Some(FilterType::TwoWeeks),
                    max_items: Some(200),
                }],
            },
        ]
    );
}

#[test]
fn response() {
    let resp = GetItemEstimateResponse {
        responses: vec![
            EstimateResponse {
                status: GetItemEstimateStatus::Success,
                collection_id: Some("5".into()),
                estimate: Some(42),
            },
            EstimateResponse {
                status: GetItemEstimateStatus::InvalidCollection,
                collection_id: Some("1".into()),
                estimate: None,
            },
        ],
    };
    assert_matches_corpus(&resp.to_element(), "34-getitemestimate-response.xml");
}
