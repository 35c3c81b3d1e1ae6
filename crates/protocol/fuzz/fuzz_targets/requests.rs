//! Command request bodies from the network: whatever WBXML decodes goes through every
//! request parser of easd-protocol; none may panic.
#![no_main]

use easd_protocol::commands::{
    find, folder_create, folder_delete, folder_sync, folder_update, get_item_estimate,
    item_operations, meeting_response, move_items, ping, provision, resolve_recipients, search,
    send_mail, settings, smart_forward, smart_reply, sync, validate_cert,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(root) = easd_wbxml::decode(data) else {
        return;
    };
    let _ = folder_sync::FolderSyncRequest::parse(&root);
    let _ = folder_create::FolderCreateRequest::parse(&root);
    let _ = folder_update::FolderUpdateRequest::parse(&root);
    let _ = folder_delete::FolderDeleteRequest::parse(&root);
    let _ = ping::PingRequest::parse(&root);
    let _ = get_item_estimate::GetItemEstimateRequest::parse(&root);
    let _ = move_items::MoveItemsRequest::parse(&root);
    let _ = item_operations::ItemOperationsRequest::parse(&root);
    let _ = settings::SettingsRequest::parse(&root);
    let _ = provision::ProvisionRequest::parse(&root);
    let _ = sync::SyncRequest::parse(&root);
    let _ = search::SearchRequest::parse(&root);
    let _ = find::FindRequest::parse(&root);
    let _ = send_mail::SendMailRequest::parse(&root);
    let _ = smart_reply::SmartReplyRequest::parse(&root);
    let _ = smart_forward::SmartForwardRequest::parse(&root);
    let _ = meeting_response::MeetingResponseRequest::parse(&root);
    let _ = resolve_recipients::ResolveRecipientsRequest::parse(&root);
    let _ = validate_cert::ValidateCertRequest::parse(&root);
});
