//! No request parser panics, whatever element tree a client's WBXML decodes to.

use easd_protocol::commands::{
    folder_create::FolderCreateRequest, folder_delete::FolderDeleteRequest,
    folder_sync::FolderSyncRequest, folder_update::FolderUpdateRequest,
    get_item_estimate::GetItemEstimateRequest, item_operations::ItemOperationsRequest,
    move_items::MoveItemsRequest, ping::PingRequest, provision::ProvisionRequest,
    settings::SettingsRequest,
};
use easd_wbxml::tags::{self, folder_hierarchy as fh};
use easd_wbxml::{Element, Node, Tag, CODE_PAGES};
use proptest::prelude::*;

/// Every tag of the pages these commands use.
fn tags() -> Vec<Tag> {
    let pages = [0u8, 5, 6, 7, 13, 14, 15, 17, 18, 19, 20, 24];
    pages
        .iter()
        .filter_map(|p| CODE_PAGES.get(*p as usize))
        .flat_map(|cp| cp.tags.iter().map(move |(t, _)| Tag::new(cp.number, *t)))
        .collect()
}

fn text() -> impl Strategy<Value = Node> {
    prop_oneof![
        "[0-9]{0,3}".prop_map(Node::Text),
        "[ -~]{0,12}".prop_map(Node::Text),
        Just(Node::Text("MS-EAS-Provisioning-WBXML".into())),
        prop::collection::vec(any::<u8>(), 0..8).prop_map(Node::Opaque),
    ]
}

fn tree() -> impl Strategy<Value = Element> {
    let tag = prop::sample::select(tags());
    let leaf = (tag.clone(), prop::collection::vec(text(), 0..2))
        .prop_map(|(tag, children)| Element { tag, children });
    leaf.prop_recursive(5, 64, 6, move |inner| {
        (
            tag.clone(),
            prop::collection::vec(
                prop_oneof![3 => inner.prop_map(Node::Element), 1 => text()],
                0..6,
            ),
        )
            .prop_map(|(tag, children)| Element { tag, children })
    })
}

fn parse_all(root: &Element) {
    let _ = FolderSyncRequest::parse(root);
    let _ = FolderCreateRequest::parse(root);
    let _ = FolderUpdateRequest::parse(root);
    let _ = FolderDeleteRequest::parse(root);
    let _ = PingRequest::parse(root);
    let _ = GetItemEstimateRequest::parse(root);
    let _ = MoveItemsRequest::parse(root);
    let _ = ItemOperationsRequest::parse(root);
    let _ = SettingsRequest::parse(root);
    let _ = ProvisionRequest::parse(root);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parsers_never_panic(root in tree()) {
        parse_all(&root);
    }

    /// Trees under each command's own root tag reach deeper into its parser.
    #[test]
    fn parsers_never_panic_under_their_roots(
        root in prop::sample::select(vec![
            fh::FOLDER_SYNC, fh::FOLDER_CREATE, fh::FOLDER_UPDATE, fh::FOLDER_DELETE,
            tags::ping::PING, tags::get_item_estimate::GET_ITEM_ESTIMATE,
            tags::move_::MOVE_ITEMS, tags::item_operations::ITEM_OPERATIONS,
            tags::settings::SETTINGS, tags::provision::PROVISION,
        ]),
        children in prop::collection::vec(tree(), 0..5),
    ) {
        let root = Element {
            tag: root,
            children: children.into_iter().map(Node::Element).collect(),
        };
        parse_all(&root);
    }
}

/// Each command's answer to a request that does not parse carries its protocol-error status.
#[test]
fn protocol_error_statuses() {
    use easd_protocol::commands::*;
    use tags::{item_operations as io, ping as pg, provision as pv, settings as st};
    let status = |e: Element, tag: Tag| e.child_text(tag).unwrap_or_default();
    let cases = [
        (
            status(
                folder_sync::FolderSyncResponse::protocol_error().to_element(),
                fh::STATUS,
            ),
            "10",
        ),
        (
            status(
                folder_create::FolderCreateResponse::protocol_error().to_element(),
                fh::STATUS,
            ),
            "10",
        ),
        (
            status(
                folder_update::FolderUpdateResponse::protocol_error().to_element(),
                fh::STATUS,
            ),
            "10",
        ),
        (
            status(
                folder_delete::FolderDeleteResponse::protocol_error().to_element(),
                fh::STATUS,
            ),
            "10",
        ),
        (
            status(
                ping::PingResponse::protocol_error().to_element(),
                pg::STATUS,
            ),
            "4",
        ),
        (
            status(
                settings::SettingsResponse::protocol_error().to_element(),
                st::STATUS,
            ),
            "2",
        ),
        (
            status(
                provision::ProvisionResponse::protocol_error().to_element(),
                pv::STATUS,
            ),
            "2",
        ),
        (
            status(
                item_operations::ItemOperationsResponse::protocol_error().to_element(),
                io::STATUS,
            ),
            "2",
        ),
    ];
    for (actual, expected) in cases {
        assert_eq!(actual, expected);
    }
}
