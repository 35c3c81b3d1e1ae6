//! The sync engine (MS-ASCMD 2.2.1.21 Sync) for one collection.
//!
//! The state behind a sync key is what the device has of the folder: each ServerId with the
//! modseq it saw. The changes to send are the difference between that and the folder now
//! (within the filter window), so:
//! - a client that resends its previous key (it lost our answer) gets a correct answer from
//!   the state it still has, and the Adds it sent again are recognised by their ClientId
//!   (invariant 2: we keep the newest state and the one before);
//! - items that leave the filter window are SoftDeleted, deleted ones Deleted;
//! - the initial contents are sent (newest first, in windows) before any Change or Delete
//!   (invariant 3).

use crate::content::email::{self, BodyOptions};
use crate::content::pim::{self, FAR_FUTURE};
use crate::folders::parse_sync_key;
use crate::pim_sync::{self, EventWrite};
use crate::stats::Direction;
use crate::{Engine, EngineError};
use easd_protocol::commands::sync::{
    ClientCommand, ClientCommandResponse, FilterType, ServerCommand, SyncCollectionRequest,
    SyncCollectionResponse, SyncOptions, SyncStatus,
};
use easd_protocol::items::airsyncbase::{BodyPreference, BodyType};
use easd_protocol::items::email::EmailChange;
use easd_protocol::{CommonStatus, ProtocolVersion};
use easd_store::{
    folder_type, Folder, ItemChange, ItemClass, ItemId, ItemSummary, Partnership, PartnershipId,
    Store,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// How long a Sync waits for the meeting messages of a device's event writes before it
/// answers anyway (they are still sent).
const MEETING_MAIL_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Default and largest WindowSize (MS-ASCMD 2.2.3.199.2: at most 512).
pub const DEFAULT_WINDOW: usize = 100;
pub const MAX_WINDOW: usize = 512;

/// What the device has of a collection after the response to one sync key.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CollectionState {
    /// ServerId → modseq the device has seen.
    pub known: HashMap<String, i64>,
    /// True once the folder's initial contents were all sent.
    pub initial_done: bool,
    /// ClientId → ServerId of the Adds answered in the response to this key, so a resent
    /// request does not add them twice.
    #[serde(default)]
    pub client_adds: Vec<(String, String)>,
    /// The folder's content modseq when this state was made (Ping compares it).
    pub snapshot: i64,
    /// The properties the client manages (Supported with SyncKey 0, MS-ASCMD 2.2.3.179),
    /// as (code page, token).
    #[serde(default)]
    pub supported: Option<Vec<(u8, u8)>>,
}

impl CollectionState {
    fn load(
        store: &dyn Store,
        pid: PartnershipId,
        collection: &str,
        key: i64,
    ) -> Result<Option<Self>, EngineError> {
        crate::folders::load_state(store, pid, collection, key)
    }

    fn save(
        &self,
        store: &dyn Store,
        pid: PartnershipId,
        collection: &str,
        key: i64,
    ) -> Result<(), EngineError> {
        crate::folders::save_state(store, pid, collection, key, self)
    }
}

/// The per-request options the engine needs, beyond the collection request itself.
#[derive(Debug, Clone)]
pub struct SyncContext {
    pub version: ProtocolVersion,
    /// Request-level WindowSize (14.1+), when the collection has none.
    pub window_size: Option<u32>,
    pub now: i64,
}

/// The class of the items a folder type holds.
pub fn folder_item_class(folder_type_code: i32) -> ItemClass {
    match folder_type_code {
        folder_type::CALENDAR | folder_type::USER_CALENDAR => ItemClass::Calendar,
        folder_type::CONTACTS | folder_type::USER_CONTACTS => ItemClass::Contacts,
        folder_type::TASKS | folder_type::USER_TASKS => ItemClass::Tasks,
        folder_type::NOTES | folder_type::USER_NOTES => ItemClass::Notes,
        _ => ItemClass::Email,
    }
}

/// The EAS class name (airsync:Class) of a folder type.
pub fn folder_class(folder_type_code: i32) -> &'static str {
    match folder_item_class(folder_type_code) {
        ItemClass::Calendar => "Calendar",
        ItemClass::Contacts => "Contacts",
        ItemClass::Tasks => "Tasks",
        ItemClass::Notes => "Notes",
        ItemClass::Email => "Email",
    }
}

/// The oldest date a filter lets through (MS-ASCMD 2.2.3.69.2), or none.
pub fn filter_cutoff(filter: Option<FilterType>, now: i64) -> Option<i64> {
    const DAY: i64 = 86_400;
    let days = match filter? {
        FilterType::OneDay => 1,
        FilterType::ThreeDays => 3,
        FilterType::OneWeek => 7,
        FilterType::TwoWeeks => 14,
        FilterType::OneMonth => 31,
        FilterType::ThreeMonths => 92,
        FilterType::SixMonths => 183,
        FilterType::NoFilter | FilterType::IncompleteTasks => return None,
    };
    Some(now - days * DAY)
}

/// The cutoff of a collection's FilterType (MS-ASCMD 2.2.3.69.2), compared with the date
/// an item is relevant until (`content::pim::stored_fields`): mail by its date received,
/// events by the end of their last occurrence (the past windows); IncompleteTasks keeps the
/// tasks not completed. Contacts and notes have no filter.
pub fn collection_cutoff(filter: Option<FilterType>, folder: &Folder, now: i64) -> Option<i64> {
    match folder_item_class(folder.folder_type) {
        ItemClass::Email | ItemClass::Calendar => filter_cutoff(filter, now),
        ItemClass::Tasks if filter == Some(FilterType::IncompleteTasks) => Some(FAR_FUTURE),
        _ => None,
    }
}

/// What the next Sync of a collection sends from a state, before windowing. Sync and
/// GetItemEstimate (MS-ASCMD 2.2.1.9: the number of items the next Sync brings) share it.
pub struct Diff<'a> {
    pub adds: Vec<&'a ItemSummary>,
    pub changes: Vec<&'a ItemSummary>,
    /// Delete for items gone, SoftDelete for items that left the filter window.
    pub removals: Vec<ServerCommand>,
    /// Changes and removals held back until the initial contents are all sent
    /// (invariant 3); the client learns of them by MoreAvailable.
    pub deferred: usize,
}

impl Diff<'_> {
    /// The number of commands: the estimate of GetItemEstimate.
    pub fn len(&self) -> usize {
        self.adds.len() + self.changes.len() + self.removals.len() + self.deferred
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The difference between what the device has (`state`) and the folder now (`items`,
/// newest first) within the filter window starting at `cutoff`.
pub fn diff<'a>(
    state: &CollectionState,
    items: &'a [ItemSummary],
    cutoff: Option<i64>,
) -> Diff<'a> {
    let in_window = |date: i64| cutoff.is_none_or(|c| date >= c);
    let mut current: HashMap<&str, (i64, bool)> = HashMap::with_capacity(items.len());
    let mut adds = Vec::new();
    let mut changes = Vec::new();
    for it in items {
        let visible = in_window(it.date_received);
        current.insert(it.server_id.as_str(), (it.modseq.0, visible));
        match state.known.get(&it.server_id) {
            None if visible => adds.push(it),
            // An item that changed and left the window at once (a task completed under
            // IncompleteTasks) is only SoftDeleted: a Change would bring it back.
            Some(seen) if visible && *seen < it.modseq.0 => changes.push(it),
            _ => {}
        }
    }
    let mut gone: Vec<&String> = state
        .known
        .keys()
        .filter(|sid| {
            current
                .get(sid.as_str())
                .is_none_or(|(_, visible)| !visible)
        })
        .collect();
    gone.sort();
    let removals: Vec<ServerCommand> = gone
        .into_iter()
        .map(|sid| match current.get(sid.as_str()) {
            Some(_) => ServerCommand::SoftDelete {
                server_id: sid.clone(),
            },
            None => ServerCommand::Delete {
                server_id: sid.clone(),
            },
        })
        .collect();
    // Invariant 3: the initial contents first; changes flow once they are all sent.
    if state.initial_done || adds.is_empty() {
        Diff {
            adds,
            changes,
            removals,
            deferred: 0,
        }
    } else {
        let deferred = changes.len() + removals.len();
        Diff {
            adds,
            changes: Vec::new(),
            removals: Vec::new(),
            deferred,
        }
    }
}

fn response(
    request: &SyncCollectionRequest,
    sync_key: String,
    status: SyncStatus,
) -> SyncCollectionResponse {
    SyncCollectionResponse {
        class: request.class.clone(),
        sync_key,
        collection_id: request.collection_id.clone(),
        status,
        more_available: false,
        commands: Vec::new(),
        responses: Vec::new(),
    }
}

/// An item of a collection's answer, still to be read and rendered.
#[derive(Debug, Clone)]
struct PendingItem {
    id: ItemId,
    server_id: String,
    add: bool,
}

/// One collection's answer with its items still to render. The state behind the new sync key
/// is already saved (with what the answer will hold), so a large answer can be rendered and
/// written item by item: if the client never gets it whole, it resends the key and gets the
/// same answer again (invariant 2).
pub struct CollectionPlan {
    /// The answer without its item commands.
    pub response: SyncCollectionResponse,
    account: easd_store::AccountId,
    items: Vec<PendingItem>,
    /// Delete and SoftDelete, written after the items.
    removals: Vec<ServerCommand>,
    body: BodyOptions,
    version: ProtocolVersion,
    /// The EAS class of the folder, when it exists (for the items-synced counters).
    class: Option<&'static str>,
    /// The zone all-day and floating events are rendered in (`CollectionState::zone`).
    zone: jiff::tz::TimeZone,
}

impl CollectionPlan {
    fn without_items(
        response: SyncCollectionResponse,
        account: easd_store::AccountId,
        version: ProtocolVersion,
    ) -> Self {
        CollectionPlan {
            response,
            account,
            items: Vec::new(),
            removals: Vec::new(),
            body: BodyOptions::default(),
            version,
            class: None,
            zone: jiff::tz::TimeZone::UTC,
        }
    }

    /// The number of item commands the answer will hold.
    pub fn command_count(&self) -> usize {
        self.items.len() + self.removals.len()
    }

    /// Items still to read and render.
    pub fn pending_items(&self) -> usize {
        self.items.len()
    }

    /// The Delete and SoftDelete commands, which follow the items.
    pub fn removals(&self) -> &[ServerCommand] {
        &self.removals
    }
}

impl Engine {
    /// Runs one collection of a Sync request. Client mistakes come back as statuses.
    pub async fn sync_collection(
        &self,
        partnership: &Partnership,
        request: SyncCollectionRequest,
        ctx: SyncContext,
    ) -> Result<SyncCollectionResponse, EngineError> {
        let plan = self.plan_collection(partnership, request, ctx).await?;
        self.render_collection(plan).await
    }

    /// The whole answer of a plan: its items rendered, then its removals.
    pub async fn render_collection(
        &self,
        plan: CollectionPlan,
    ) -> Result<SyncCollectionResponse, EngineError> {
        let mut commands = self.render_items(&plan, 0..plan.pending_items()).await?;
        let CollectionPlan {
            mut response,
            removals,
            ..
        } = plan;
        commands.extend(removals);
        response.commands = commands;
        Ok(response)
    }

    /// Applies the client's commands of one collection, decides what the answer sends and
    /// saves the state behind its sync key; the items are rendered by `render_items`.
    pub async fn plan_collection(
        &self,
        partnership: &Partnership,
        request: SyncCollectionRequest,
        ctx: SyncContext,
    ) -> Result<CollectionPlan, EngineError> {
        let pid = partnership.id;
        let account = partnership.account;
        let mut request = request;
        if self.settings.fault_drop_client_deletes {
            // Test-only fault (config `fault_drop_client_deletes`): the Deletes get the
            // silent Success of MS-ASCMD 2.2.3.42.1 but never reach the store.
            let before = request.commands.len();
            request
                .commands
                .retain(|c| !matches!(c, ClientCommand::Delete { .. }));
            if request.commands.len() != before {
                tracing::warn!(
                    partnership = pid.0,
                    dropped = before - request.commands.len(),
                    "fault_drop_client_deletes: client Deletes acknowledged, not applied"
                );
            }
        }
        let stats = self.stats.clone();
        let quarantined = partnership.access_state == easd_store::AccessState::Quarantined;
        let default_zone = self.settings.time_zone.clone();
        let (result, writes) = self
            .blocking(move |store| {
                let mut writes = DeviceWrites::default();
                // A quarantined device sees only the notice that it awaits approval; once
                // approved, the rest of the folder arrives as Adds (its state never had it).
                let view = DeviceView {
                    only: if quarantined {
                        Some(crate::access::quarantine_notice(store, pid)?.unwrap_or_default())
                    } else {
                        None
                    },
                    zone: default_zone,
                };
                let r = plan_blocking(store, account, pid, &request, &ctx, view, &mut writes)?;
                let moved = (request.commands.len(), r.command_count());
                if moved != (0, 0) {
                    if let Some(class) = r.class {
                        stats.count(class, Direction::FromDevice, moved.0);
                        stats.count(class, Direction::ToDevice, moved.1);
                    }
                }
                Ok((r, writes))
            })
            .await?;
        // The device's own writes wake the other devices' Pings (not its own: it knows).
        for folder in writes.folders {
            self.hub.changed(account.0, &[folder]);
        }
        // The device's own meetings send their invitations and cancellations; the write
        // is acknowledged whether or not the mail goes out. Local deliveries are done in a
        // moment; a slow smarthost finishes after the answer rather than holding it.
        if let (false, Some(engine)) = (writes.events.is_empty(), self.me.upgrade()) {
            let sending = tokio::spawn(async move {
                for event in writes.events {
                    if let Err(e) = engine
                        .device_event_written(account, event.before, event.after)
                        .await
                    {
                        tracing::warn!(partnership = pid.0, error = %e, "meeting messages not sent");
                    }
                }
            });
            let _ = tokio::time::timeout(MEETING_MAIL_WAIT, sending).await;
        }
        Ok(result)
    }

    /// Reads and renders the plan's items in `range` as Add and Change commands. An item
    /// deleted since the plan is left out (the device's next Sync gets its Delete).
    pub async fn render_items(
        &self,
        plan: &CollectionPlan,
        range: std::ops::Range<usize>,
    ) -> Result<Vec<ServerCommand>, EngineError> {
        let items = plan.items.get(range).unwrap_or_default().to_vec();
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let account = plan.account;
        let body = plan.body.clone();
        let version = plan.version;
        let zone = plan.zone.clone();
        self.blocking(move |store| {
            let ids: Vec<ItemId> = items.iter().map(|it| it.id).collect();
            let full = store.items_full(account, &ids)?;
            let by_id: HashMap<ItemId, &easd_store::FullItem> =
                full.iter().map(|f| (f.item.id, f)).collect();
            Ok(items
                .iter()
                .filter_map(|it| {
                    let f = by_id.get(&it.id)?;
                    let application_data = render_item(f, &body, version, &zone)?;
                    let server_id = it.server_id.clone();
                    Some(if it.add {
                        ServerCommand::Add {
                            server_id,
                            application_data,
                        }
                    } else {
                        ServerCommand::Change {
                            server_id,
                            application_data,
                        }
                    })
                })
                .collect())
        })
        .await
    }
}

fn plan_blocking(
    store: &dyn Store,
    account: easd_store::AccountId,
    pid: PartnershipId,
    request: &SyncCollectionRequest,
    ctx: &SyncContext,
    mut view: DeviceView,
    writes: &mut DeviceWrites,
) -> Result<CollectionPlan, EngineError> {
    let collection = request.collection_id.as_str();
    let Some(folder) = store.folder_by_server_id(account, collection)? else {
        // MS-ASCMD 2.2.3.177.17: an unknown collection means the client's hierarchy is stale.
        return Ok(CollectionPlan::without_items(
            response(
                request,
                request.sync_key.clone(),
                SyncStatus::FolderHierarchyChanged,
            ),
            account,
            ctx.version,
        ));
    };
    let class = folder_class(folder.folder_type);
    // Only events have a zone to be placed in: a mail Sync reads nothing more.
    if folder_item_class(folder.folder_type) == ItemClass::Calendar {
        view.zone = device_zone(store, pid, view.zone)?;
    }
    let answer = |sync_key: String, status| CollectionPlan {
        class: Some(class),
        ..CollectionPlan::without_items(response(request, sync_key, status), account, ctx.version)
    };
    let Some(key) = parse_sync_key(&request.sync_key) else {
        return Ok(answer("0".into(), SyncStatus::InvalidSyncKey));
    };
    if key == 0 {
        // A new start: forget what the device had. The first response carries no items.
        store.delete_sync_states(pid, Some(collection))?;
        let state = CollectionState {
            snapshot: folder.content_modseq.0,
            supported: request
                .supported
                .as_ref()
                .map(|s| s.tags().iter().map(|t| (t.page, t.token)).collect()),
            ..Default::default()
        };
        state.save(store, pid, collection, 1)?;
        return Ok(answer("1".into(), SyncStatus::Success));
    }
    let Some(mut state) = CollectionState::load(store, pid, collection, key)? else {
        tracing::info!(
            partnership = pid.0,
            collection,
            key,
            "Sync key unknown: the client must resync"
        );
        return Ok(answer("0".into(), SyncStatus::InvalidSyncKey));
    };
    // When the state after this key exists, the client lost our last answer: the Adds it
    // sends again were already made.
    let has_adds = request
        .commands
        .iter()
        .any(|c| matches!(c, ClientCommand::Add { .. }));
    let replayed_adds: HashMap<String, String> = if has_adds {
        CollectionState::load(store, pid, collection, key + 1)?
            .map(|s| s.client_adds.into_iter().collect())
            .unwrap_or_default()
    } else {
        HashMap::new()
    };
    let answered_adds = std::mem::take(&mut state.client_adds);
    let loaded_snapshot = state.snapshot;

    let options = request
        .options_for(Some(class))
        .cloned()
        .unwrap_or_default();
    // MS-ASAIRS 2.2.2.41.3: HTML is the only body part type.
    if options
        .body_part_preferences
        .iter()
        .any(|p| p.body_type != BodyType::Html)
    {
        return Ok(answer(
            request.sync_key.clone(),
            SyncStatus::Common(CommonStatus::BodyPartPreferenceTypeNotSupported),
        ));
    }
    let mut plan = answer(String::new(), SyncStatus::Success);
    plan.body = BodyOptions {
        body: options.body_preferences.clone(),
        body_part: options.body_part_preferences.clone(),
    };
    let supported = state.supported.as_ref().map(|tags| {
        easd_protocol::items::airsyncbase::Supported::from_tags(
            tags.iter()
                .map(|&(page, token)| easd_wbxml::Tag { page, token }),
        )
    });
    let apply = ApplyCommands {
        store,
        account,
        pid,
        folder: &folder,
        class: folder_item_class(folder.folder_type),
        request,
        options: &options,
        replayed_adds: &replayed_adds,
        ctx,
        supported: supported.as_ref(),
        view: &view,
    };
    for command in &request.commands {
        if let Some(r) = apply.command(&mut state, command, writes)? {
            plan.response.responses.push(r);
        }
    }
    plan.zone = view.zone.clone();

    let get_changes = request.get_changes.unwrap_or(true);
    let window = request
        .window_size
        .or(ctx.window_size)
        .map(|w| (w as usize).clamp(1, MAX_WINDOW))
        .unwrap_or(DEFAULT_WINDOW);
    let mut listing = store.list_folder_items(account, folder.id)?;
    if let Some(only) = &view.only {
        listing.items.retain(|i| &i.server_id == only);
    }
    let mut unchanged = request.commands.is_empty();
    if get_changes {
        let cutoff = collection_cutoff(options.filter(), &folder, ctx.now);
        let Diff {
            adds,
            changes,
            removals,
            deferred,
        } = diff(&state, &listing.items, cutoff);
        let total = adds.len() + changes.len() + removals.len();
        plan.response.more_available = total > window || deferred > 0;
        let take_adds = adds.len().min(window);
        let take_changes = changes.len().min(window - take_adds);
        let take_removals = removals.len().min(window - take_adds - take_changes);
        for (it, add) in adds[..take_adds]
            .iter()
            .map(|i| (i, true))
            .chain(changes[..take_changes].iter().map(|i| (i, false)))
        {
            // The modseq of the listing: a change made after it is sent as a Change next time.
            state.known.insert(it.server_id.clone(), it.modseq.0);
            plan.items.push(PendingItem {
                id: it.id,
                server_id: it.server_id.clone(),
                add,
            });
        }
        for r in removals.into_iter().take(take_removals) {
            state.known.remove(r.server_id());
            plan.removals.push(r);
        }
        if !state.initial_done && !plan.response.more_available {
            state.initial_done = true;
        }
        unchanged &= plan.command_count() == 0;
    }
    state.snapshot = listing.modseq.0.max(state.snapshot);
    if unchanged && !replayed_adds.is_empty() {
        unchanged = false;
    }
    // Nothing to tell and nothing done: the key stays (no state write on an idle poll).
    let new_key = if unchanged { key } else { key + 1 };
    if !unchanged {
        state.save(store, pid, collection, new_key)?;
    } else if state.snapshot > loaded_snapshot {
        // The folder changed in ways that give this device nothing (an item added and
        // deleted between its syncs, a change outside its filter): move the Ping baseline
        // forward in place, or its Pings would report this folder forever.
        state.client_adds = answered_adds;
        state.save(store, pid, collection, key)?;
    }
    plan.response.sync_key = new_key.to_string();
    Ok(plan)
}

/// A stored item as ApplicationData; None (with a warning) for a stored item that no
/// longer converts, which is then left out rather than failing the whole answer.
pub(crate) fn render_item(
    item: &easd_store::FullItem,
    body: &BodyOptions,
    version: ProtocolVersion,
    zone: &jiff::tz::TimeZone,
) -> Option<easd_wbxml::Element> {
    if item.item.class == ItemClass::Email {
        return Some(email::render(item, body, version).to_application_data(version));
    }
    match pim::render(item.item.class, &item.content, body, zone) {
        Ok(pim) => Some(pim.to_application_data(version)),
        Err(e) => {
            tracing::warn!(server_id = %item.item.server_id, error = %e, "stored item does not convert");
            None
        }
    }
}

/// What a device is shown of a collection.
struct DeviceView {
    /// A quarantined device sees only this item (the notice that it awaits approval).
    only: Option<String>,
    /// The zone all-day and floating events are placed in (MS-ASCAL 2.2.2.1 AllDayEvent:
    /// midnight to midnight in the device's zone): the device's own (`DEVICE_ZONE`, read
    /// for a calendar collection), else the server's `time_zone`.
    zone: jiff::tz::TimeZone,
}

/// The sync-state collection that keeps the IANA zone of a device's own events; it
/// outlives a collection's reset.
pub const DEVICE_ZONE: &str = "device:zone";

/// The zone a device's all-day and floating events are placed in: its own, learned from
/// its events, else `default` (the server's `time_zone`).
pub(crate) fn device_zone(
    store: &dyn Store,
    pid: PartnershipId,
    default: jiff::tz::TimeZone,
) -> Result<jiff::tz::TimeZone, EngineError> {
    Ok(store
        .sync_state(pid, DEVICE_ZONE, 1)?
        .and_then(|name| jiff::tz::TimeZone::get(&String::from_utf8_lossy(&name)).ok())
        .unwrap_or(default))
}

/// What a device's Sync wrote, for the work that follows it outside the store call.
#[derive(Debug, Default)]
struct DeviceWrites {
    /// Folders whose items changed (to wake other devices' Pings).
    folders: Vec<i64>,
    /// Events the device added, changed or deleted.
    events: Vec<EventWrite>,
}

/// Applies a collection's client commands (MS-ASCMD 2.2.3.29.2 Commands).
struct ApplyCommands<'a> {
    store: &'a dyn Store,
    account: easd_store::AccountId,
    pid: PartnershipId,
    folder: &'a Folder,
    class: ItemClass,
    request: &'a SyncCollectionRequest,
    options: &'a SyncOptions,
    /// ClientId → ServerId of Adds answered before (a resent request).
    replayed_adds: &'a HashMap<String, String>,
    ctx: &'a SyncContext,
    supported: Option<&'a easd_protocol::items::airsyncbase::Supported>,
    view: &'a DeviceView,
}

impl ApplyCommands<'_> {
    fn find(&self, server_id: &str) -> Result<Option<easd_store::Item>, EngineError> {
        Ok(self
            .store
            .item_by_server_id(self.account, server_id)?
            .filter(|i| i.folder == self.folder.id))
    }

    fn now(&self) -> jiff::Timestamp {
        jiff::Timestamp::from_second(self.ctx.now).unwrap_or_else(|_| jiff::Timestamp::now())
    }

    fn command(
        &self,
        state: &mut CollectionState,
        command: &ClientCommand,
        writes: &mut DeviceWrites,
    ) -> Result<Option<ClientCommandResponse>, EngineError> {
        Ok(match command {
            ClientCommand::Add {
                client_id,
                class,
                application_data,
                ..
            } => {
                let answer = |server_id: Option<String>, status| {
                    Some(ClientCommandResponse::Add {
                        class: class.clone(),
                        client_id: client_id.clone(),
                        server_id,
                        status,
                        application_data: None,
                    })
                };
                if let Some(server_id) = self.replayed_adds.get(client_id) {
                    state
                        .client_adds
                        .push((client_id.clone(), server_id.clone()));
                    return Ok(answer(Some(server_id.clone()), SyncStatus::Success));
                }
                let added = if self.class == ItemClass::Email {
                    crate::drafts::add_draft(
                        self.store,
                        self.account,
                        self.folder,
                        application_data,
                        self.ctx.now,
                    )
                } else {
                    self.learn_zone(application_data)?;
                    pim_sync::add(
                        self.store,
                        self.account,
                        self.folder,
                        self.class,
                        application_data,
                        self.now(),
                        &mut writes.events,
                    )?
                };
                match added {
                    Ok(item) => {
                        writes.folders.push(self.folder.id.0);
                        state.known.insert(item.server_id.clone(), item.modseq.0);
                        state
                            .client_adds
                            .push((client_id.clone(), item.server_id.clone()));
                        answer(Some(item.server_id), SyncStatus::Success)
                    }
                    Err(status) => answer(None, status),
                }
            }
            ClientCommand::Change {
                server_id,
                instance_id,
                application_data,
                ..
            } => {
                let answer = |status| {
                    Some(ClientCommandResponse::Change {
                        server_id: server_id.clone(),
                        status,
                        application_data: None,
                    })
                };
                let Some(item) = self.find(server_id)? else {
                    return Ok(answer(SyncStatus::ObjectNotFound));
                };
                // MS-ASCMD 2.2.3.34 Conflict: 1 (the default) lets the server's newer
                // version win; 0 lets the client's change through.
                let server_newer = state
                    .known
                    .get(server_id)
                    .is_some_and(|seen| *seen < item.modseq.0);
                if server_newer && self.options.conflict.unwrap_or(1) == 1 {
                    return Ok(answer(SyncStatus::Conflict));
                }
                let updated = if self.class == ItemClass::Email {
                    let Ok(change) = EmailChange::parse(application_data) else {
                        return Ok(answer(SyncStatus::ClientServerConversionError));
                    };
                    change_email(self.store, self.account, &item, change)?
                } else if let (Some(instance), ItemClass::Calendar) =
                    (instance_id.as_deref(), self.class)
                {
                    let occurrence = pim_sync::Occurrence {
                        instance_id: instance,
                    };
                    match occurrence.change(
                        self.store,
                        self.account,
                        &item,
                        application_data,
                        self.now(),
                        &mut writes.events,
                    )? {
                        Ok(updated) => updated,
                        Err(status) => return Ok(answer(status)),
                    }
                } else {
                    self.learn_zone(application_data)?;
                    let mode = pim_sync::change_mode(self.ctx.version, self.supported);
                    match pim_sync::change(
                        self.store,
                        self.account,
                        &item,
                        application_data,
                        mode,
                        self.now(),
                        &mut writes.events,
                    )? {
                        Ok(updated) => updated,
                        Err(status) => return Ok(answer(status)),
                    }
                };
                if updated.modseq != item.modseq {
                    writes.folders.push(self.folder.id.0);
                }
                if !server_newer {
                    state.known.insert(server_id.clone(), updated.modseq.0);
                }
                None
            }
            ClientCommand::Delete {
                server_id,
                instance_id: Some(instance),
            } if self.class == ItemClass::Calendar => {
                let Some(item) = self.find(server_id)? else {
                    return Ok(Some(ClientCommandResponse::Delete {
                        server_id: server_id.clone(),
                        status: SyncStatus::ObjectNotFound,
                    }));
                };
                let occurrence = pim_sync::Occurrence {
                    instance_id: instance,
                };
                match occurrence.delete(
                    self.store,
                    self.account,
                    &item,
                    self.now(),
                    &mut writes.events,
                )? {
                    Ok(updated) => {
                        if updated.modseq != item.modseq {
                            writes.folders.push(self.folder.id.0);
                        }
                        state.known.insert(server_id.clone(), updated.modseq.0);
                        None
                    }
                    Err(status) => Some(ClientCommandResponse::Delete {
                        server_id: server_id.clone(),
                        status,
                    }),
                }
            }
            ClientCommand::Delete { server_id, .. } => {
                let Some(item) = self.find(server_id)? else {
                    // Already gone: the client's wish is met; drop it from what it has.
                    if state.known.remove(server_id).is_some() {
                        return Ok(None);
                    }
                    return Ok(Some(ClientCommandResponse::Delete {
                        server_id: server_id.clone(),
                        status: SyncStatus::ObjectNotFound,
                    }));
                };
                // MS-ASCMD 2.2.3.44 DeletesAsMoves: absent means true. Deleted Items holds
                // mail; an event, contact, task or note is deleted.
                let as_move = self.request.deletes_as_moves.unwrap_or(true)
                    && self.class == ItemClass::Email
                    && self.folder.folder_type != folder_type::DELETED_ITEMS;
                let trash = if as_move {
                    self.store
                        .default_folder(self.account, folder_type::DELETED_ITEMS)?
                } else {
                    None
                };
                match trash {
                    Some(trash) => {
                        self.store.move_item(self.account, item.id, trash.id)?;
                        writes.folders.push(trash.id.0);
                    }
                    None => {
                        if item.class == ItemClass::Calendar {
                            writes.events.push(EventWrite {
                                before: Some(self.store.item_content(self.account, item.id)?),
                                after: None,
                            });
                        }
                        self.store.delete_item(self.account, item.id)?
                    }
                }
                writes.folders.push(self.folder.id.0);
                state.known.remove(server_id);
                None
            }
            ClientCommand::Fetch { server_id } => {
                let not_found = Some(ClientCommandResponse::Fetch {
                    server_id: server_id.clone(),
                    status: SyncStatus::ObjectNotFound,
                    application_data: None,
                });
                let Some(item) = self.find(server_id)? else {
                    return Ok(not_found);
                };
                let Some(f) = self.store.items_full(self.account, &[item.id])?.pop() else {
                    return Ok(not_found);
                };
                // A Fetch asks for the whole item: the preferences without truncation.
                let prefs = BodyOptions::body(
                    self.options
                        .body_preferences
                        .iter()
                        .map(|p| BodyPreference {
                            truncation_size: None,
                            all_or_none: false,
                            ..p.clone()
                        })
                        .collect(),
                );
                match render_item(&f, &prefs, self.ctx.version, &self.view.zone) {
                    Some(data) => Some(ClientCommandResponse::Fetch {
                        server_id: server_id.clone(),
                        status: SyncStatus::Success,
                        application_data: Some(data),
                    }),
                    None => Some(ClientCommandResponse::Fetch {
                        server_id: server_id.clone(),
                        status: SyncStatus::ClientServerConversionError,
                        application_data: None,
                    }),
                }
            }
        })
    }

    /// Remembers the zone of a device's event: its all-day events are placed in it.
    fn learn_zone(&self, application_data: &easd_wbxml::Element) -> Result<(), EngineError> {
        if self.class != ItemClass::Calendar {
            return Ok(());
        }
        let Some(zone) = pim_sync::device_zone(application_data) else {
            return Ok(());
        };
        if self.view.zone.iana_name() != Some(zone.as_str()) {
            self.store
                .put_sync_state(self.pid, DEVICE_ZONE, 1, zone.as_bytes())?;
        }
        Ok(())
    }
}

/// A client's Change of a message: read, flag and categories (MS-ASEMAIL 2.2.2 "can be
/// changed by the client").
fn change_email(
    store: &dyn Store,
    account: easd_store::AccountId,
    item: &easd_store::Item,
    change: EmailChange,
) -> Result<easd_store::Item, EngineError> {
    let flag_status = change.flag.as_ref().map(|f| match f {
        Some(flag) if !flag.is_cleared() => flag.status.map(|s| i32::from(s.code())).unwrap_or(2),
        _ => 0,
    });
    Ok(store.update_item(
        account,
        item.id,
        &ItemChange {
            read: change.read,
            flag_status,
            categories: change.categories,
            ..Default::default()
        },
    )?)
}

impl Engine {
    /// True when a watched folder has changes the device has not synced (Ping's check
    /// before it parks, and after a wake-up: the store is the truth, invariant 6).
    pub async fn folder_has_changes(
        &self,
        partnership: &Partnership,
        folder: &Folder,
    ) -> Result<bool, EngineError> {
        let pid = partnership.id;
        let account = partnership.account;
        let folder = folder.clone();
        self.blocking(move |store| {
            let Some((_, blob)) = store.latest_sync_state(pid, &folder.server_id)? else {
                // Never synced: nothing to announce until the device syncs it.
                return Ok(false);
            };
            let state: CollectionState = serde_json::from_slice(&blob).unwrap_or_default();
            let now = store.folder_modseq(account, folder.id)?;
            Ok(now.0 > state.snapshot)
        })
        .await
    }
}

/// The sync-state collection that keeps a device's last full Sync request.
pub const CACHED_REQUEST: &str = "sync:request";

/// Merging an empty or partial request with the cached one (MS-ASCMD 2.2.3.124 Partial).
pub trait MergeCached {
    fn merge_cached(&mut self, cached: easd_protocol::commands::sync::SyncRequest);
}

impl MergeCached for easd_protocol::commands::sync::SyncRequest {
    fn merge_cached(&mut self, cached: easd_protocol::commands::sync::SyncRequest) {
        let mut merged = Vec::with_capacity(cached.collections.len());
        for mut c in cached.collections {
            match self
                .collections
                .iter()
                .position(|n| n.collection_id == c.collection_id)
            {
                Some(i) => merged.push(self.collections.remove(i)),
                None => {
                    c.commands.clear();
                    merged.push(c);
                }
            }
        }
        merged.append(&mut self.collections);
        self.collections = merged;
        self.wait = self.wait.or(cached.wait);
        self.heartbeat_interval = self.heartbeat_interval.or(cached.heartbeat_interval);
        self.window_size = self.window_size.or(cached.window_size);
    }
}

impl Engine {
    /// Keeps a full Sync request (without its commands) for later empty requests.
    pub async fn cache_sync_request(
        &self,
        partnership: &Partnership,
        request: &easd_protocol::commands::sync::SyncRequest,
    ) -> Result<(), EngineError> {
        let mut request = request.clone();
        for c in &mut request.collections {
            c.commands.clear();
        }
        let blob = easd_wbxml::encode(&request.to_element());
        let pid = partnership.id;
        self.blocking(move |store| {
            if store.sync_state(pid, CACHED_REQUEST, 1)?.as_deref() != Some(blob.as_slice()) {
                store.put_sync_state(pid, CACHED_REQUEST, 1, &blob)?;
            }
            Ok(())
        })
        .await
    }

    /// The cached request with each collection's newest sync key.
    pub async fn cached_sync_request(
        &self,
        partnership: &Partnership,
    ) -> Result<Option<easd_protocol::commands::sync::SyncRequest>, EngineError> {
        let pid = partnership.id;
        self.blocking(move |store| {
            let Some(blob) = store.sync_state(pid, CACHED_REQUEST, 1)? else {
                return Ok(None);
            };
            let Ok(root) = easd_wbxml::decode(&blob) else {
                return Ok(None);
            };
            let Ok(mut request) = easd_protocol::commands::sync::SyncRequest::parse(&root) else {
                return Ok(None);
            };
            for c in &mut request.collections {
                if let Some((key, _)) = store.latest_sync_state(pid, &c.collection_id)? {
                    c.sync_key = key.to_string();
                }
            }
            Ok(Some(request))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use easd_store::{ItemId, Modseq};

    fn summary(server_id: &str, modseq: i64, date: i64) -> ItemSummary {
        ItemSummary {
            id: ItemId(modseq),
            server_id: server_id.into(),
            modseq: Modseq(modseq),
            created_modseq: Modseq(1),
            date_received: date,
        }
    }

    #[test]
    fn an_item_changed_out_of_the_window_is_only_soft_deleted() {
        let state = CollectionState {
            known: HashMap::from([("6:1".to_string(), 1), ("6:2".to_string(), 2)]),
            initial_done: true,
            ..Default::default()
        };
        // 6:1 changed and fell before the cutoff; 6:2 changed and stays.
        let items = [summary("6:1", 5, 10), summary("6:2", 6, 100)];
        let d = diff(&state, &items, Some(50));
        assert_eq!(
            d.changes
                .iter()
                .map(|i| i.server_id.as_str())
                .collect::<Vec<_>>(),
            ["6:2"]
        );
        assert!(matches!(
            d.removals.as_slice(),
            [ServerCommand::SoftDelete { server_id }] if server_id == "6:1"
        ));
    }
}
