//! MeetingResponse against the corpus examples.

mod common;

use common::{assert_matches_corpus, corpus};
use easd_protocol::commands::meeting_response::*;

#[test]
fn request() {
    let req = MeetingResponseRequest::parse(&corpus("37-meetingresponse-request.xml")).unwrap();
    assert_eq!(
        req.requests,
        vec![
            MeetingResponseRequestItem {
                user_response: UserResponse::Accepted,
                collection_id: Some("5".into()),
                request_id: Some("5:7".into()),
                long_id: None,
                instance_id: Some("2012-05-10T17:00:00.000Z".into()),
                send_response: None,
            },
            MeetingResponseRequestItem {
                user_response: UserResponse::Declined,
                collection_id: None,
                request_id: None,
                long_id: Some("RgAAAAAaX9MEq%2fK1TJwZ2Lq%2fm0uPBwCNgdq4".into()),
                instance_id: None,
                send_response: None,
            },
        ]
    );
}

#[test]
fn response() {
    let resp = MeetingResponseResponse {
        results: vec![
            MeetingResponseResult {
                request_id: Some("5:7".into()),
                status: MeetingResponseStatus::Success,
                calendar_id: Some("1:14".into()),
            },
            MeetingResponseResult {
                request_id: Some("5:9".into()),
                status: MeetingResponseStatus::InvalidMeetingRequest,
                calendar_id: None,
            },
        ],
    };
    assert_matches_corpus(&resp.to_element(), "38-meetingresponse-response.xml");
}

#[test]
fn proposal_request() {
    let req = MeetingResponseRequest::parse(&corpus("own/05-meetingresponse-proposal-request.xml"))
        .unwrap();
    let r = &req.requests[0];
    assert_eq!(r.user_response, UserResponse::TentativelyAccepted);
    let s = r.send_response.as_ref().unwrap();
    assert_eq!(
        s.proposed_start_time.as_deref(),
        Some("2012-05-10T18:00:00.000Z")
    );
    assert_eq!(
        s.proposed_end_time.as_deref(),
        Some("2012-05-10T18:30:00.000Z")
    );
    assert_matches_corpus(
        &req.to_element(),
        "own/05-meetingresponse-proposal-request.xml",
    );
}
