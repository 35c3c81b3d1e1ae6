//! Ping against the corpus examples.

mod common;

use common::{assert_matches_corpus, corpus};
use easd_protocol::commands::ping::*;
use easd_protocol::status::PingStatus;

#[test]
fn request() {
    let req = PingRequest::parse(&corpus("43-ping-request.xml")).unwrap();
    assert_eq!(req.heartbeat_interval, Some(900));
    let folders = req.folders.unwrap();
    let pairs: Vec<(&str, &str)> = folders
        .iter()
        .map(|f| (f.id.as_str(), f.class.as_str()))
        .collect();
    assert_eq!(
        pairs,
        [("5", "Email"), ("1", "Calendar"), ("2", "Contacts")]
    );
}

#[test]
fn changes_response() {
    let resp = PingResponse {
        folders: vec!["5".into(), "1".into()],
        ..PingResponse::status(PingStatus::ChangesFound)
    };
    assert_matches_corpus(&resp.to_element(), "44-ping-response.xml");
}

#[test]
fn limits_response() {
    let resp = PingResponse {
        max_folders: Some(200),
        heartbeat_interval: Some(3540),
        ..PingResponse::status(PingStatus::TooManyFolders)
    };
    assert_matches_corpus(&resp.to_element(), "45-ping-limits-response.xml");
}
