#![allow(dead_code)]

use easd_store::*;

pub fn open() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_data_dir(dir.path()).unwrap();
    (dir, store)
}

/// A cheap hash (tests don't need argon2's cost).
pub fn account(store: &SqliteStore, email: &str) -> Account {
    store.create_account(email, "$argon2id$test").unwrap()
}

pub fn mail(folder: FolderId, subject: &str, date: i64) -> NewItem {
    NewItem {
        folder,
        class: ItemClass::Email,
        content: format!("Subject: {subject}\r\n\r\nbody\r\n").into_bytes(),
        fields: ItemFields {
            subject: subject.into(),
            from: "a@example.com".into(),
            to: "b@example.com".into(),
            date_received: date,
            ..Default::default()
        },
    }
}

pub fn inbox(store: &SqliteStore, account: AccountId) -> Folder {
    store
        .default_folder(account, folder_type::INBOX)
        .unwrap()
        .unwrap()
}
