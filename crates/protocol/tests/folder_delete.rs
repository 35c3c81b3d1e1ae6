//! FolderDelete against the corpus examples.

mod common;

use common::{assert_matches_corpus, corpus};
use easd_protocol::commands::folder_delete::*;
use easd_protocol::status::FolderDeleteStatus;

#[test]
fn request() {
    let req = FolderDeleteRequest::parse(&corpus("08-folderdelete-request.xml")).unwrap();
    assert_eq!(
        req,
        FolderDeleteRequest {
            sync_key: "3".into(),
            server_id: "13".into(),
        }
    );
}

#[test]
fn response() {
    let resp = FolderDeleteResponse {
        status: FolderDeleteStatus::Success,
        sync_key: Some("4".into()),
    };
    assert_matches_corpus(&resp.to_element(), "09-folderdelete-response.xml");
}
