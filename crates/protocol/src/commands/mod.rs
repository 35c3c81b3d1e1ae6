//! One module per EAS command (MS-ASCMD 2.2.1): a typed request parsed from the
//! command's element tree and a typed response written to one.

pub mod find;
pub mod folder_create;
pub mod folder_delete;
pub mod folder_sync;
pub mod folder_update;
pub mod get_item_estimate;
pub mod item_operations;
pub mod meeting_response;
pub mod move_items;
pub mod ping;
pub mod provision;
pub mod resolve_recipients;
pub mod search;
pub mod send_mail;
pub mod settings;
pub mod smart_forward;
pub mod smart_reply;
pub mod sync;
pub mod validate_cert;
