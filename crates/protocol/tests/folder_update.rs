//! FolderUpdate against the corpus examples.

mod common;

use common::{assert_matches_corpus, corpus};
use easd_protocol::commands::folder_update::*;
use easd_protocol::status::FolderUpdateStatus;

#[test]
fn request() {
    let req = FolderUpdateRequest::parse(&corpus("06-folderupdate-request.xml")).unwrap();
    assert_eq!(
        req,
        FolderUpdateRequest {
            sync_key: "2".into(),
            server_id: "12".into(),
            parent_id: "0".into(),
            display_name: "Project Bluebird".into(),
        }
    );
}

#[test]
fn response() {
    let resp = FolderUpdateResponse {
        status: FolderUpdateStatus::Success,
        sync_key: Some("3".into()),
    };
    assert_matches_corpus(&resp.to_element(), "07-folderupdate-response.xml");
}
