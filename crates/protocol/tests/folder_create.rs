//! FolderCreate against the corpus examples.

mod common;

use common::{assert_matches_corpus, corpus};
use easd_protocol::commands::folder_create::*;
use easd_protocol::commands::folder_sync::FolderType;
use easd_protocol::status::FolderCreateStatus;

#[test]
fn request() {
    let req = FolderCreateRequest::parse(&corpus("04-foldercreate-request.xml")).unwrap();
    assert_eq!(
        req,
        FolderCreateRequest {
            sync_key: "1".into(),
            parent_id: "5".into(),
            display_name: "Receipts & Invoices".into(),
            folder_type: FolderType::UserCreatedMail,
        }
    );
    assert!(req.folder_type.is_user_created());
}

#[test]
fn response() {
    let resp = FolderCreateResponse {
        status: FolderCreateStatus::Success,
        sync_key: Some("2".into()),
        server_id: Some("12".into()),
    };
    assert_matches_corpus(&resp.to_element(), "05-foldercreate-response.xml");
}
