//! FolderSync against the corpus examples.

mod common;

use common::{assert_matches_corpus, corpus};
use easd_protocol::commands::folder_sync::*;
use easd_protocol::status::FolderSyncStatus;

fn folder(id: &str, parent: &str, name: &str, folder_type: FolderType) -> Folder {
    Folder {
        server_id: id.into(),
        parent_id: parent.into(),
        display_name: name.into(),
        folder_type,
    }
}

#[test]
fn initial_request() {
    let req = FolderSyncRequest::parse(&corpus("01-foldersync-initial-request.xml")).unwrap();
    assert_eq!(req.sync_key, "0");
}

#[test]
fn initial_response() {
    use FolderType::*;
    let defaults = [
        ("1", "Calendar", Calendar),
        ("2", "Contacts", Contacts),
        ("3", "Deleted Items", DeletedItems),
        ("4", "Drafts", Drafts),
        ("5", "Inbox", Inbox),
        ("6", "Notes", Notes),
        ("7", "Outbox", Outbox),
        ("8", "Sent Items", SentItems),
        ("9", "Tasks", Tasks),
    ];
    let resp = FolderSyncResponse {
        status: FolderSyncStatus::Success,
        sync_key: Some("1".into()),
        changes: Some(
            defaults
                .iter()
                .map(|(id, name, t)| FolderChange::Add(folder(id, "0", name, *t)))
                .collect(),
        ),
    };
    assert_matches_corpus(&resp.to_element(), "02-foldersync-initial-response.xml");
}

#[test]
fn incremental_response() {
    let resp = FolderSyncResponse {
        status: FolderSyncStatus::Success,
        sync_key: Some("3".into()),
        changes: Some(vec![
            FolderChange::Update(folder(
                "12",
                "5",
                "Project Bluebird",
                FolderType::UserCreatedMail,
            )),
            FolderChange::Delete("13".into()),
            FolderChange::Add(folder("14", "0", "Journal", FolderType::Journal)),
        ]),
    };
    assert_matches_corpus(&resp.to_element(), "03-foldersync-incremental-response.xml");
}
