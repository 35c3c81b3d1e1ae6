//! Search (MS-ASCMD 2.2.1.16) and Find (MS-ASCMD 2.2.1.2, 16.1) over the mailbox and the
//! Global Address List (for easd: its local accounts).
//!
//! The mailbox search scans the account's mail items (no index yet): FreeText matches,
//! case-insensitively and word by word, the subject, the From/To/Cc and the text body;
//! Class, CollectionId (with DeepTraversal, the subfolders too), ConversationId and the
//! DateReceived comparisons narrow it. Results come newest first.

use crate::content::email::{self, eas_datetime};
use crate::content::mail::display_names;
use crate::recipients::{matching_accounts, parse_eas_datetime};
use crate::sync::folder_class;
use crate::{Engine, EngineError};
use easd_protocol::commands::find::{
    FindCriterion, FindProperties, FindRequest, FindResponse, FindResult, FindStatus,
    FindStoreResponse,
};
use easd_protocol::commands::search::{
    GalPicture, GalProperties, PictureOptions, QueryNode, Range, SearchQuery, SearchRequest,
    SearchResponse, SearchResult, SearchStatus, SearchStoreResponse, StoreName,
};
use easd_protocol::items::airsyncbase::{BodyPreference, BodyType};
use easd_protocol::items::email::Importance;
use easd_protocol::status::CommonStatus;
use easd_protocol::ProtocolVersion;
use easd_store::{folder_type, Account, AccountId, Folder, FolderId, FullItem, ItemId, Store};
use easd_wbxml::tags::email as email_tags;
use mail_parser::MessageParser;
use std::cell::OnceCell;
use std::collections::{HashMap, HashSet};

/// The results a request gets when it names no Range (MS-ASCMD 2.2.3.143.3).
pub const DEFAULT_RANGE: Range = Range { start: 0, end: 99 };
/// Characters of Preview in a Find result (MS-ASCMD 2.2.3.132: up to 255).
pub const PREVIEW_CHARS: usize = 255;
/// Items read from the store at a time while scanning.
const SCAN_CHUNK: usize = 200;

/// A mailbox query, with folders resolved and values parsed.
#[derive(Debug, Clone, PartialEq)]
pub enum Pred {
    All(Vec<Pred>),
    Any(Vec<Pred>),
    /// Every word occurs (lowercased).
    Words(Vec<String>),
    /// airsync:Class: only "Email" is searched.
    Class(bool),
    Folders(HashSet<FolderId>),
    Conversation(Vec<u8>),
    /// DateReceived after / before (Unix seconds).
    After(i64),
    Before(i64),
}

/// Why a query can't run: the status the Store (Search) or Response (Find) gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryError {
    /// The query is not one the server understands (Search 2, Find 2).
    Invalid,
    /// A CollectionId the server does not know: the client's hierarchy is out of date
    /// (Search 11, Find 3).
    UnknownFolder,
}

fn words(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|w| w.trim_matches('"').to_lowercase())
        .filter(|w| !w.is_empty())
        .collect()
}

/// The folder and its subfolders (DeepTraversal), or just the folder.
fn folder_set(
    folders: &[Folder],
    server_id: &str,
    deep: bool,
) -> Result<HashSet<FolderId>, QueryError> {
    let root = folders
        .iter()
        .find(|f| f.server_id == server_id)
        .ok_or(QueryError::UnknownFolder)?;
    let mut set = HashSet::from([root.id]);
    if deep {
        let mut ids = vec![root.server_id.clone()];
        while let Some(parent) = ids.pop() {
            for f in folders.iter().filter(|f| f.parent_server_id == parent) {
                if set.insert(f.id) {
                    ids.push(f.server_id.clone());
                }
            }
        }
    }
    Ok(set)
}

fn is_email_class(class: &str) -> bool {
    class.trim().eq_ignore_ascii_case("Email")
}

impl Pred {
    /// A Search query (MS-ASCMD 2.2.3.142.2): the terms under Query are And-ed.
    pub fn from_search(
        query: &SearchQuery,
        folders: &[Folder],
        deep: bool,
    ) -> Result<Pred, QueryError> {
        if query.nodes.is_empty() {
            return Err(QueryError::Invalid);
        }
        let terms = query
            .nodes
            .iter()
            .map(|n| Pred::from_node(n, folders, deep))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Pred::All(terms))
    }

    fn from_node(node: &QueryNode, folders: &[Folder], deep: bool) -> Result<Pred, QueryError> {
        let date = |property: &easd_wbxml::Tag, value: &str| {
            if *property != email_tags::DATE_RECEIVED {
                return Err(QueryError::Invalid);
            }
            parse_eas_datetime(value)
                .map(|t| t.unix_timestamp())
                .ok_or(QueryError::Invalid)
        };
        Ok(match node {
            QueryNode::And(v) => Pred::All(
                v.iter()
                    .map(|n| Pred::from_node(n, folders, deep))
                    .collect::<Result<_, _>>()?,
            ),
            QueryNode::Or(v) => Pred::Any(
                v.iter()
                    .map(|n| Pred::from_node(n, folders, deep))
                    .collect::<Result<_, _>>()?,
            ),
            QueryNode::FreeText(t) | QueryNode::Text(t) => Pred::Words(words(t)),
            QueryNode::Class(c) => Pred::Class(is_email_class(c)),
            QueryNode::CollectionId(id) => Pred::Folders(folder_set(folders, id.trim(), deep)?),
            QueryNode::ConversationId(bytes) => Pred::Conversation(bytes.clone()),
            QueryNode::GreaterThan { property, value } => Pred::After(date(property, value)?),
            QueryNode::LessThan { property, value } => Pred::Before(date(property, value)?),
            // EqualTo is for document libraries (LinkId) only.
            QueryNode::EqualTo { .. } => return Err(QueryError::Invalid),
        })
    }

    /// The folders an item must be in for the query to match it (None: any folder).
    fn folder_filter(&self) -> Option<HashSet<FolderId>> {
        match self {
            Pred::Folders(s) => Some(s.clone()),
            Pred::All(v) => v
                .iter()
                .filter_map(Pred::folder_filter)
                .reduce(|a, b| &a & &b),
            Pred::Any(v) => {
                let sets: Option<Vec<_>> = v.iter().map(Pred::folder_filter).collect();
                sets.and_then(|s| s.into_iter().reduce(|a, b| &a | &b))
            }
            _ => None,
        }
    }

    fn matches(&self, c: &Candidate<'_>) -> bool {
        match self {
            Pred::All(v) => v.iter().all(|p| p.matches(c)),
            Pred::Any(v) => v.iter().any(|p| p.matches(c)),
            Pred::Words(w) => w
                .iter()
                .all(|w| c.headers.contains(w.as_str()) || c.body().contains(w.as_str())),
            Pred::Class(ok) => *ok,
            Pred::Folders(s) => s.contains(&c.full.item.folder),
            Pred::Conversation(id) => c.full.item.fields.conversation_id.as_ref() == Some(id),
            Pred::After(t) => c.full.item.fields.date_received > *t,
            Pred::Before(t) => c.full.item.fields.date_received < *t,
        }
    }
}

/// An item being matched: its header fields at once, its body text only when a word was
/// not found in them.
struct Candidate<'a> {
    full: &'a FullItem,
    headers: String,
    body: OnceCell<String>,
}

impl<'a> Candidate<'a> {
    fn new(full: &'a FullItem) -> Self {
        let f = &full.item.fields;
        let display_to = f
            .extra
            .get("display_to")
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        let headers = format!(
            "{}\n{}\n{}\n{}\n{}",
            f.subject, f.from, f.to, f.cc, display_to
        )
        .to_lowercase();
        Candidate {
            full,
            headers,
            body: OnceCell::new(),
        }
    }

    fn body(&self) -> &str {
        self.body
            .get_or_init(|| body_text(&self.full.content).to_lowercase())
    }
}

/// The text of a message's first text body (HTML converted), empty when there is none.
fn body_text(raw: &[u8]) -> String {
    MessageParser::default()
        .parse(raw)
        .and_then(|m| m.body_text(0).map(|t| t.into_owned()))
        .unwrap_or_default()
}

/// A match: enough to sort and page without holding contents.
#[derive(Debug, Clone, Copy)]
struct Hit {
    id: ItemId,
    date: i64,
}

/// Scans the account's mail folders for items matching `pred`, newest first.
fn scan(
    store: &dyn Store,
    account: AccountId,
    folders: &[Folder],
    pred: &Pred,
) -> Result<Vec<Hit>, EngineError> {
    let only = pred.folder_filter();
    let mut hits = Vec::new();
    for folder in folders {
        if folder_class(folder.folder_type) != "Email"
            || only.as_ref().is_some_and(|s| !s.contains(&folder.id))
        {
            continue;
        }
        let ids: Vec<ItemId> = store
            .list_folder_items(account, folder.id)?
            .items
            .into_iter()
            .map(|s| s.id)
            .collect();
        for chunk in ids.chunks(SCAN_CHUNK) {
            for full in store.items_full(account, chunk)? {
                if full.item.class != easd_store::ItemClass::Email {
                    continue;
                }
                if pred.matches(&Candidate::new(&full)) {
                    hits.push(Hit {
                        id: full.item.id,
                        date: full.item.fields.date_received,
                    });
                }
            }
        }
    }
    hits.sort_by(|a, b| b.date.cmp(&a.date).then(b.id.cmp(&a.id)));
    Ok(hits)
}

/// The page of `hits` a Range asks for, and the Range that describes it.
fn page<T: Clone>(hits: &[T], range: Range) -> (Vec<T>, Option<Range>) {
    let start = range.start as usize;
    if start >= hits.len() {
        return (Vec::new(), None);
    }
    let end = (range.end as usize).min(hits.len() - 1);
    let page = hits[start..=end].to_vec();
    let returned = Range::new(range.start, u32::try_from(end).unwrap_or(u32::MAX));
    (page, Some(returned))
}

/// The matching items of a page, with their contents, in page order, and their folders.
fn load_page(
    store: &dyn Store,
    account: AccountId,
    hits: &[Hit],
    folders: &HashMap<FolderId, Folder>,
) -> Result<Vec<(FullItem, Folder)>, EngineError> {
    let ids: Vec<ItemId> = hits.iter().map(|h| h.id).collect();
    let mut items = store.items_full(account, &ids)?;
    items.retain(|i| folders.contains_key(&i.item.folder));
    Ok(items
        .into_iter()
        .filter_map(|i| {
            let f = folders.get(&i.item.folder)?.clone();
            Some((i, f))
        })
        .collect())
}

// ----- GAL -----

/// A local account as a GAL entry (the gal properties of MS-ASCMD Search/Find results).
pub fn gal_properties(account: &Account, picture: Option<&PictureOptions>) -> GalProperties {
    let name = account.display_name.trim();
    let display_name = if name.is_empty() {
        account.email.clone()
    } else {
        name.to_owned()
    };
    let parts: Vec<&str> = name.split_whitespace().collect();
    let (first_name, last_name) = match parts.as_slice() {
        [] => (None, None),
        [one] => (Some((*one).to_owned()), None),
        [first, rest @ ..] => (Some((*first).to_owned()), Some(rest.join(" "))),
    };
    GalProperties {
        display_name: Some(display_name),
        alias: account.email.split('@').next().map(str::to_owned),
        first_name,
        last_name,
        email_address: Some(account.email.clone()),
        // No photos are kept: 173 NoPicture (MS-ASCMD 2.2.2) when the client asks for one.
        picture: picture.map(|_| GalPicture {
            status: CommonStatus::NoPicture.code(),
            data: None,
        }),
        ..GalProperties::default()
    }
}

/// The accounts a GAL query finds, best first (address or alias, then name; prefixes
/// before other parts: the ANR rules ResolveRecipients uses).
pub fn gal_search<'a>(accounts: &'a [Account], query: &str) -> Vec<&'a Account> {
    matching_accounts(accounts, query)
}

// ----- Search -----

fn search_prefs(options: &[BodyPreference]) -> Vec<BodyPreference> {
    if options.is_empty() {
        // No BodyPreference: a plain-text start of the body, not whole messages.
        let mut p = BodyPreference::new(BodyType::Plain);
        p.truncation_size = Some(5 * 1024);
        vec![p]
    } else {
        options.to_vec()
    }
}

fn search_mailbox(
    store: &dyn Store,
    account: AccountId,
    request: &SearchRequest,
    version: ProtocolVersion,
) -> Result<SearchStoreResponse, EngineError> {
    let folders = store.folders(account)?;
    let pred = match Pred::from_search(&request.query, &folders, request.options.deep_traversal) {
        Ok(p) => p,
        Err(QueryError::Invalid) => {
            return Ok(SearchStoreResponse::new(SearchStatus::InvalidRequest))
        }
        Err(QueryError::UnknownFolder) => {
            return Ok(SearchStoreResponse::new(SearchStatus::FolderSyncRequired))
        }
    };
    let hits = scan(store, account, &folders, &pred)?;
    let (page_hits, range) = page(&hits, request.options.range.unwrap_or(DEFAULT_RANGE));
    let by_id: HashMap<FolderId, Folder> = folders.into_iter().map(|f| (f.id, f)).collect();
    let prefs = email::BodyOptions::body(search_prefs(&request.options.body_preferences));
    let results = load_page(store, account, &page_hits, &by_id)?
        .into_iter()
        .map(|(full, folder)| SearchResult {
            class: Some("Email".into()),
            // LongId: what ItemOperations, SmartReply and SmartForward take back; here the
            // ServerId itself.
            long_id: Some(full.item.server_id.clone()),
            collection_id: Some(folder.server_id.clone()),
            properties: Some(email::render(&full, &prefs, version).to_application_data(version)),
        })
        .collect();
    Ok(SearchStoreResponse {
        status: SearchStatus::Success,
        results,
        range,
        total: Some(u32::try_from(hits.len()).unwrap_or(u32::MAX)),
    })
}

fn search_gal(accounts: &[Account], request: &SearchRequest) -> SearchStoreResponse {
    let Some(text) = request
        .query
        .plain_text()
        .or_else(|| request.query.free_text().map(str::to_owned))
    else {
        return SearchStoreResponse::new(SearchStatus::InvalidRequest);
    };
    let found = gal_search(accounts, &text);
    let (page_accounts, range) = page(&found, request.options.range.unwrap_or(DEFAULT_RANGE));
    let picture = request.options.picture.as_ref();
    SearchStoreResponse {
        status: SearchStatus::Success,
        results: page_accounts
            .into_iter()
            .map(|a| SearchResult {
                properties: Some(gal_properties(a, picture).to_element()),
                ..SearchResult::default()
            })
            .collect(),
        range,
        total: Some(u32::try_from(found.len()).unwrap_or(u32::MAX)),
    }
}

// ----- Find -----

fn find_mail_properties(full: &FullItem, folder: &Folder) -> FindProperties {
    let f = &full.item.fields;
    let message = MessageParser::default().parse(&full.content);
    let preview = message.as_ref().and_then(|m| m.body_text(0)).map(|t| {
        t.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .take(PREVIEW_CHARS)
            .collect()
    });
    let display_cc = message
        .as_ref()
        .map(|m| display_names(m.cc()))
        .filter(|s| !s.is_empty());
    FindProperties {
        subject: Some(f.subject.clone()),
        date_received: Some(eas_datetime(f.date_received)),
        display_to: f
            .extra
            .get("display_to")
            .and_then(|v| v.as_str())
            .map(str::to_owned)
            .or_else(|| Some(f.to.clone())),
        display_cc,
        display_bcc: None,
        importance: Importance::from_code(u8::try_from(f.importance).unwrap_or(1)),
        read: Some(f.read),
        is_draft: Some(folder.folder_type == folder_type::DRAFTS),
        preview,
        has_attachments: Some(f.has_attachments),
        from: Some(f.from.clone()),
        gal: GalProperties::default(),
    }
}

fn find_store(store: &str, status: FindStatus) -> FindStoreResponse {
    FindStoreResponse {
        store: Some(store.to_owned()),
        status,
        results: Vec::new(),
        range: None,
        total: None,
    }
}

fn find_mailbox(
    store: &dyn Store,
    account: AccountId,
    request: &FindRequest,
) -> Result<FindStoreResponse, EngineError> {
    let FindCriterion::Mailbox { query, options } = &request.criterion else {
        return Ok(find_store("Mailbox", FindStatus::InvalidRequest));
    };
    let folders = store.folders(account)?;
    let mut terms = Vec::new();
    match query.free_text.as_deref().map(words) {
        Some(w) if !w.is_empty() => terms.push(Pred::Words(w)),
        _ => return Ok(find_store("Mailbox", FindStatus::InvalidRequest)),
    }
    if let Some(class) = &query.class {
        terms.push(Pred::Class(is_email_class(class)));
    }
    if let Some(id) = &query.collection_id {
        match folder_set(&folders, id.trim(), options.deep_traversal) {
            Ok(set) => terms.push(Pred::Folders(set)),
            Err(_) => return Ok(find_store("Mailbox", FindStatus::FolderSyncRequired)),
        }
    }
    let pred = Pred::All(terms);
    let hits = scan(store, account, &folders, &pred)?;
    let (page_hits, range) = page(&hits, options.range.unwrap_or(DEFAULT_RANGE));
    let by_id: HashMap<FolderId, Folder> = folders.into_iter().map(|f| (f.id, f)).collect();
    let results = load_page(store, account, &page_hits, &by_id)?
        .into_iter()
        .map(|(full, folder)| FindResult {
            class: Some("Email".into()),
            server_id: Some(full.item.server_id.clone()),
            collection_id: Some(folder.server_id.clone()),
            properties: find_mail_properties(&full, &folder),
        })
        .collect();
    Ok(FindStoreResponse {
        store: Some("Mailbox".into()),
        status: FindStatus::Success,
        results,
        range,
        total: Some(u32::try_from(hits.len()).unwrap_or(u32::MAX)),
    })
}

fn find_gal(accounts: &[Account], request: &FindRequest) -> FindStoreResponse {
    let FindCriterion::Gal { query, options } = &request.criterion else {
        return find_store("GAL", FindStatus::InvalidRequest);
    };
    let Some(text) = query
        .free_text
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    else {
        return find_store("GAL", FindStatus::InvalidRequest);
    };
    let found = gal_search(accounts, text);
    let (page_accounts, range) = page(&found, options.range.unwrap_or(DEFAULT_RANGE));
    FindStoreResponse {
        store: Some("GAL".into()),
        status: FindStatus::Success,
        results: page_accounts
            .into_iter()
            .map(|a| FindResult {
                properties: FindProperties {
                    gal: gal_properties(a, options.picture.as_ref()),
                    ..FindProperties::default()
                },
                ..FindResult::default()
            })
            .collect(),
        range,
        total: Some(u32::try_from(found.len()).unwrap_or(u32::MAX)),
    }
}

impl Engine {
    /// Search (MS-ASCMD 2.2.1.16) for `account`.
    pub async fn search(
        &self,
        account: &Account,
        request: SearchRequest,
        version: ProtocolVersion,
    ) -> Result<SearchResponse, EngineError> {
        let id = account.id;
        let store = match request.name {
            StoreName::Mailbox => {
                self.blocking(move |store| search_mailbox(store, id, &request, version))
                    .await?
            }
            StoreName::Gal => {
                let accounts = self.blocking(|store| Ok(store.list_accounts()?)).await?;
                search_gal(&accounts, &request)
            }
            // No document libraries (UNC or SharePoint) are reachable through this server
            // (MS-ASCMD 2.2.3.177.13 Status 5, access denied).
            StoreName::DocumentLibrary => SearchStoreResponse::new(SearchStatus::AccessDenied),
        };
        Ok(SearchResponse {
            status: SearchStatus::Success,
            store: Some(store),
        })
    }

    /// Find (MS-ASCMD 2.2.1.2) for `account`.
    pub async fn find(
        &self,
        account: &Account,
        request: FindRequest,
    ) -> Result<FindResponse, EngineError> {
        let id = account.id;
        let response = match &request.criterion {
            FindCriterion::Mailbox { .. } => {
                self.blocking(move |store| find_mailbox(store, id, &request))
                    .await?
            }
            FindCriterion::Gal { .. } => {
                let accounts = self.blocking(|store| Ok(store.list_accounts()?)).await?;
                find_gal(&accounts, &request)
            }
        };
        Ok(FindResponse {
            status: FindStatus::Success,
            response: Some(response),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use easd_store::{ItemClass, NewItem, SqliteStore};

    fn setup() -> (tempfile::TempDir, SqliteStore, Account) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open_data_dir(dir.path()).unwrap();
        let account = store.create_account("alice@example.com", "x").unwrap();
        (dir, store, account)
    }

    fn add(
        store: &SqliteStore,
        account: &Account,
        folder: &Folder,
        raw: &str,
        date: i64,
    ) -> String {
        let fields = crate::content::mail::fields_from_mime(raw.as_bytes(), date).unwrap();
        store
            .add_item(
                account.id,
                NewItem {
                    folder: folder.id,
                    class: ItemClass::Email,
                    content: raw.as_bytes().to_vec(),
                    fields,
                },
            )
            .unwrap()
            .server_id
    }

    fn mailbox(query: SearchQuery, deep: bool) -> SearchRequest {
        SearchRequest {
            name: StoreName::Mailbox,
            query,
            options: easd_protocol::commands::search::SearchOptions {
                deep_traversal: deep,
                ..Default::default()
            },
        }
    }

    #[test]
    fn mailbox_search_matches_words_folders_and_orders_newest_first() {
        let (_d, store, alice) = setup();
        let inbox = store
            .default_folder(alice.id, folder_type::INBOX)
            .unwrap()
            .unwrap();
        let sub = store
            .create_folder(
                alice.id,
                &inbox.server_id,
                "Projects",
                folder_type::USER_MAIL,
            )
            .unwrap();
        let sent = store
            .default_folder(alice.id, folder_type::SENT_ITEMS)
            .unwrap()
            .unwrap();
        let a = add(
            &store,
            &alice,
            &inbox,
            "From: bob@example.com\r\nSubject: Quarterly Budget\r\n\r\nnumbers",
            100,
        );
        let b = add(
            &store,
            &alice,
            &sub,
            "From: carl@example.net\r\nSubject: misc\r\n\r\nThe budget is fine",
            200,
        );
        let _c = add(
            &store,
            &alice,
            &sent,
            "To: dana@example.org\r\nSubject: budget\r\n\r\nx",
            300,
        );
        add(&store, &alice, &inbox, "Subject: nothing\r\n\r\nhere", 400);

        let q = |nodes| SearchQuery { nodes };
        // Plain FreeText: every mail folder, newest first.
        let r = search_mailbox(
            &store,
            alice.id,
            &mailbox(q(vec![QueryNode::FreeText("BUDGET".into())]), false),
            ProtocolVersion::V16_1,
        )
        .unwrap();
        assert_eq!(r.status, SearchStatus::Success);
        assert_eq!(r.total, Some(3));
        let ids: Vec<_> = r
            .results
            .iter()
            .map(|x| x.long_id.clone().unwrap())
            .collect();
        assert_eq!(ids[1..], [b.clone(), a.clone()]);
        assert_eq!(r.range, Some(Range::new(0, 2)));

        // And of Class, CollectionId, FreeText as phones send it: Inbox only, then deep.
        let and = |deep| {
            mailbox(
                q(vec![QueryNode::And(vec![
                    QueryNode::Class("Email".into()),
                    QueryNode::CollectionId(inbox.server_id.clone()),
                    QueryNode::FreeText("budget".into()),
                ])]),
                deep,
            )
        };
        let r = search_mailbox(&store, alice.id, &and(false), ProtocolVersion::V16_1).unwrap();
        assert_eq!(r.results.len(), 1);
        assert_eq!(r.results[0].long_id.as_deref(), Some(a.as_str()));
        assert_eq!(
            r.results[0].collection_id.as_deref(),
            Some(inbox.server_id.as_str())
        );
        let r = search_mailbox(&store, alice.id, &and(true), ProtocolVersion::V16_1).unwrap();
        assert_eq!(r.total, Some(2));

        // Words of the body and From; a miss; an unknown folder; a date window.
        let r = search_mailbox(
            &store,
            alice.id,
            &mailbox(q(vec![QueryNode::FreeText("carl fine".into())]), false),
            ProtocolVersion::V16_1,
        )
        .unwrap();
        assert_eq!(r.total, Some(1));
        let r = search_mailbox(
            &store,
            alice.id,
            &mailbox(q(vec![QueryNode::FreeText("zebra".into())]), false),
            ProtocolVersion::V16_1,
        )
        .unwrap();
        assert_eq!((r.total, r.results.len(), r.range), (Some(0), 0, None));
        let r = search_mailbox(
            &store,
            alice.id,
            &mailbox(q(vec![QueryNode::CollectionId("999".into())]), false),
            ProtocolVersion::V16_1,
        )
        .unwrap();
        assert_eq!(r.status, SearchStatus::FolderSyncRequired);
        let r = search_mailbox(
            &store,
            alice.id,
            &mailbox(
                q(vec![QueryNode::GreaterThan {
                    property: email_tags::DATE_RECEIVED,
                    value: "1970-01-01T00:02:30.000Z".into(),
                }]),
                false,
            ),
            ProtocolVersion::V16_1,
        )
        .unwrap();
        assert_eq!(r.total, Some(3));
        // Another class finds nothing (only mail is searched).
        let r = search_mailbox(
            &store,
            alice.id,
            &mailbox(q(vec![QueryNode::Class("Contacts".into())]), false),
            ProtocolVersion::V16_1,
        )
        .unwrap();
        assert_eq!(r.total, Some(0));
        let r = search_mailbox(
            &store,
            alice.id,
            &mailbox(q(vec![]), false),
            ProtocolVersion::V16_1,
        )
        .unwrap();
        assert_eq!(r.status, SearchStatus::InvalidRequest);
    }

    #[test]
    fn ranges_page_the_results() {
        let hits: Vec<u32> = (0..10).collect();
        assert_eq!(
            page(&hits, Range::new(0, 3)),
            (vec![0, 1, 2, 3], Some(Range::new(0, 3)))
        );
        assert_eq!(
            page(&hits, Range::new(8, 20)),
            (vec![8, 9], Some(Range::new(8, 9)))
        );
        assert_eq!(page(&hits, Range::new(10, 20)), (vec![], None));
    }

    #[test]
    fn gal_entries() {
        let mut bob = Account {
            id: AccountId(2),
            email: "bob@example.com".into(),
            password_hash: String::new(),
            display_name: "Robert van Dyke".into(),
            aliases: vec![],
            credential_generation: 1,
            created_at: 0,
        };
        let g = gal_properties(&bob, Some(&PictureOptions::default()));
        assert_eq!(g.display_name.as_deref(), Some("Robert van Dyke"));
        assert_eq!(g.first_name.as_deref(), Some("Robert"));
        assert_eq!(g.last_name.as_deref(), Some("van Dyke"));
        assert_eq!(g.alias.as_deref(), Some("bob"));
        assert_eq!(g.email_address.as_deref(), Some("bob@example.com"));
        assert_eq!(g.picture.unwrap().status, 173);
        bob.display_name.clear();
        let g = gal_properties(&bob, None);
        assert_eq!(g.display_name.as_deref(), Some("bob@example.com"));
        assert_eq!(g.first_name, None);
        let accounts = vec![bob];
        let req = SearchRequest {
            name: StoreName::Gal,
            query: SearchQuery::text("bo"),
            options: Default::default(),
        };
        let r = search_gal(&accounts, &req);
        assert_eq!(r.total, Some(1));
        let req = SearchRequest {
            name: StoreName::Gal,
            query: SearchQuery::text("zed"),
            options: Default::default(),
        };
        assert_eq!(search_gal(&accounts, &req).results.len(), 0);
    }
}
