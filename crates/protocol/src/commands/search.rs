//! Search (MS-ASCMD 2.2.1.16): a query against the mailbox, the Global Address List or a
//! document library, and the ranged results.
//!
//! Also holds what Find and ResolveRecipients reuse: [`Range`], [`PictureOptions`] and the
//! GAL properties of a person ([`GalProperties`]).

use crate::element::{invalid_value, parse_value, ElementExt};
use crate::error::ParseError;
use crate::items::airsyncbase::{BodyPartPreference, BodyPreference};
use crate::macros::code_enum;
use base64::Engine;
use easd_wbxml::tags::{airsync, airsyncbase, gal, rights_management, search};
use easd_wbxml::{Element, Node, Tag};
use std::fmt;
use std::str::FromStr;

/// How deep And/Or may nest in a query before the request is refused (a bound on the work
/// and stack a client can cause; real clients nest one or two levels).
pub const MAX_QUERY_DEPTH: usize = 16;

code_enum! {
    /// Status of Search and of its Store (MS-ASCMD 2.2.3.177.13).
    SearchStatus: u16 {
        /// 1
        Success = 1,
        /// 2: the request was invalid (protocol error).
        InvalidRequest = 2,
        /// 3: server error.
        ServerError = 3,
        /// 4: bad link (document library).
        BadLink = 4,
        /// 5: access denied (document library).
        AccessDenied = 5,
        /// 6: not found (document library).
        NotFound = 6,
        /// 7: connection failed (document library).
        ConnectionFailed = 7,
        /// 8: the query is too complex.
        TooComplex = 8,
        /// 10: the search timed out.
        TimedOut = 10,
        /// 11: the folder hierarchy is out of date; the client issues FolderSync.
        FolderSyncRequired = 11,
        /// 12: the requested range is past the end of the results that can be retrieved.
        EndOfRetrievableRangeWarning = 12,
        /// 13: access blocked (document library server not allowed).
        AccessBlocked = 13,
        /// 14: credentials required (document library).
        CredentialsRequired = 14,
    }
    common
}

/// A range of results, "first-last", zero-based and inclusive (MS-ASCMD 2.2.3.143.3
/// Range): "0-49" asks for the first fifty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Range {
    pub start: u32,
    pub end: u32,
}

impl Range {
    pub fn new(start: u32, end: u32) -> Self {
        Range { start, end }
    }

    /// The number of results the range covers.
    pub fn len(&self) -> u32 {
        self.end.saturating_sub(self.start).saturating_add(1)
    }

    /// A range always covers at least one result.
    pub fn is_empty(&self) -> bool {
        false
    }

    pub(crate) fn parse_child(parent: &Element, tag: Tag) -> Result<Option<Self>, ParseError> {
        let Some(e) = parent.child(tag) else {
            return Ok(None);
        };
        let text = e.text().unwrap_or_default();
        text.parse()
            .map(Some)
            .map_err(|_| invalid_value(tag, &text, "expected a range \"first-last\""))
    }
}

/// A string that is not "first-last" with first <= last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidRange;

impl FromStr for Range {
    type Err = InvalidRange;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (a, b) = s.trim().split_once('-').ok_or(InvalidRange)?;
        let start: u32 = a.trim().parse().map_err(|_| InvalidRange)?;
        let end: u32 = b.trim().parse().map_err(|_| InvalidRange)?;
        if start > end {
            return Err(InvalidRange);
        }
        Ok(Range { start, end })
    }
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.start, self.end)
    }
}

/// The contact photos a client wants with people results (Picture in Search, Find and
/// ResolveRecipients options, 14.1+).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PictureOptions {
    /// MaxSize: the largest photo in bytes.
    pub max_size: Option<u32>,
    /// MaxPictures: the most photos in the response.
    pub max_pictures: Option<u32>,
}

impl PictureOptions {
    /// Parses a Picture element whose MaxSize and MaxPictures have the given tags (each
    /// command's own code page).
    pub fn parse(e: &Element, max_size: Tag, max_pictures: Tag) -> Result<Self, ParseError> {
        Ok(PictureOptions {
            max_size: e.optional_parse(max_size)?,
            max_pictures: e.optional_parse(max_pictures)?,
        })
    }

    pub fn to_element(&self, picture: Tag, max_size: Tag, max_pictures: Tag) -> Element {
        let mut e = Element::new(picture);
        e.push_opt(max_size, self.max_size)
            .push_opt(max_pictures, self.max_pictures);
        e
    }
}

/// Which store a Search runs against (MS-ASCMD 2.2.3.120.2 Name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoreName {
    /// "Mailbox"
    Mailbox,
    /// "GAL": the Global Address List.
    Gal,
    /// "DocumentLibrary": a UNC share or SharePoint library.
    DocumentLibrary,
}

impl StoreName {
    pub const fn as_str(self) -> &'static str {
        match self {
            StoreName::Mailbox => "Mailbox",
            StoreName::Gal => "GAL",
            StoreName::DocumentLibrary => "DocumentLibrary",
        }
    }
}

impl FromStr for StoreName {
    type Err = ();

    /// Case-insensitive, as clients vary ("GAL", "Gal").
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        [
            StoreName::Mailbox,
            StoreName::Gal,
            StoreName::DocumentLibrary,
        ]
        .into_iter()
        .find(|n| n.as_str().eq_ignore_ascii_case(s))
        .ok_or(())
    }
}

impl fmt::Display for StoreName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One term of a Search query (MS-ASCMD 2.2.3.142.2 Query and its children).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryNode {
    /// And: every term matches.
    And(Vec<QueryNode>),
    /// Or: any term matches.
    Or(Vec<QueryNode>),
    /// FreeText: words to find (mailbox).
    FreeText(String),
    /// airsync:Class: items of this class only.
    Class(String),
    /// airsync:CollectionId: items in this folder only.
    CollectionId(String),
    /// ConversationId: the messages of a conversation (14.0+), as raw bytes: OPAQUE as
    /// sent, text base64-decoded (or taken as its bytes when it is not base64).
    ConversationId(Vec<u8>),
    /// EqualTo: property (e.g. documentlibrary:LinkId) equals Value.
    EqualTo { property: Tag, value: String },
    /// GreaterThan: property (email:DateReceived) after Value.
    GreaterThan { property: Tag, value: String },
    /// LessThan: property (email:DateReceived) before Value.
    LessThan { property: Tag, value: String },
    /// Text directly inside Query: the GAL form, `<Query>chris</Query>`.
    Text(String),
}

impl QueryNode {
    fn parse_children(e: &Element, depth: usize) -> Result<Vec<QueryNode>, ParseError> {
        if depth > MAX_QUERY_DEPTH {
            return Err(ParseError::Invalid {
                element: e.tag,
                reason: "the query nests too deeply",
            });
        }
        let mut out = Vec::new();
        for n in &e.children {
            match n {
                Node::Text(t) if !t.trim().is_empty() => out.push(QueryNode::Text(t.clone())),
                Node::Element(c) => out.push(QueryNode::parse(c, depth)?),
                _ => {}
            }
        }
        Ok(out)
    }

    fn parse(e: &Element, depth: usize) -> Result<QueryNode, ParseError> {
        let text = || e.text().unwrap_or_default();
        Ok(match e.tag {
            t if t == search::AND => QueryNode::And(QueryNode::parse_children(e, depth + 1)?),
            t if t == search::OR => QueryNode::Or(QueryNode::parse_children(e, depth + 1)?),
            t if t == search::FREE_TEXT => QueryNode::FreeText(text()),
            t if t == airsync::CLASS => QueryNode::Class(text()),
            t if t == airsync::COLLECTION_ID => QueryNode::CollectionId(text()),
            t if t == search::CONVERSATION_ID => QueryNode::ConversationId(
                binary_content(e).unwrap_or_else(|_| e.bytes().unwrap_or_default()),
            ),
            t if t == search::EQUAL_TO || t == search::GREATER_THAN || t == search::LESS_THAN => {
                let property = e
                    .elements()
                    .find(|c| c.tag != search::VALUE)
                    .map(|c| c.tag)
                    .ok_or(ParseError::Invalid {
                        element: t,
                        reason: "a comparison needs a property element",
                    })?;
                let value = e.required_text(search::VALUE)?;
                match t {
                    t if t == search::EQUAL_TO => QueryNode::EqualTo { property, value },
                    t if t == search::GREATER_THAN => QueryNode::GreaterThan { property, value },
                    _ => QueryNode::LessThan { property, value },
                }
            }
            t => {
                return Err(ParseError::Invalid {
                    element: t,
                    reason: "not a Search query element",
                })
            }
        })
    }

    fn push_to(&self, parent: &mut Element) {
        match self {
            QueryNode::And(v) | QueryNode::Or(v) => {
                let tag = if matches!(self, QueryNode::And(_)) {
                    search::AND
                } else {
                    search::OR
                };
                let mut e = Element::new(tag);
                for n in v {
                    n.push_to(&mut e);
                }
                parent.push(e);
            }
            QueryNode::FreeText(t) => {
                parent.push_text(search::FREE_TEXT, t.clone());
            }
            QueryNode::Class(t) => {
                parent.push_text(airsync::CLASS, t.clone());
            }
            QueryNode::CollectionId(t) => {
                parent.push_text(airsync::COLLECTION_ID, t.clone());
            }
            QueryNode::ConversationId(b) => {
                parent.push(Element::opaque_element(search::CONVERSATION_ID, b.clone()));
            }
            QueryNode::EqualTo { property, value }
            | QueryNode::GreaterThan { property, value }
            | QueryNode::LessThan { property, value } => {
                let tag = match self {
                    QueryNode::EqualTo { .. } => search::EQUAL_TO,
                    QueryNode::GreaterThan { .. } => search::GREATER_THAN,
                    _ => search::LESS_THAN,
                };
                parent.push(
                    Element::new(tag)
                        .with(Element::new(*property))
                        .with_text(search::VALUE, value.clone()),
                );
            }
            QueryNode::Text(t) => parent.children.push(Node::Text(t.clone())),
        }
    }

    fn visit<'a>(&'a self, f: &mut impl FnMut(&'a QueryNode)) {
        f(self);
        if let QueryNode::And(v) | QueryNode::Or(v) = self {
            for n in v {
                n.visit(f);
            }
        }
    }
}

/// A Search query: the terms inside Query, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchQuery {
    pub nodes: Vec<QueryNode>,
}

impl SearchQuery {
    pub fn parse(e: &Element) -> Result<Self, ParseError> {
        Ok(SearchQuery {
            nodes: QueryNode::parse_children(e, 0)?,
        })
    }

    /// A GAL query: `<Query>text</Query>`.
    pub fn text(text: impl Into<String>) -> Self {
        SearchQuery {
            nodes: vec![QueryNode::Text(text.into())],
        }
    }

    /// The text directly inside Query (the GAL search string), trimmed.
    pub fn plain_text(&self) -> Option<String> {
        let t: String = self
            .nodes
            .iter()
            .filter_map(|n| match n {
                QueryNode::Text(t) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        let t = t.trim();
        (!t.is_empty()).then(|| t.to_owned())
    }

    /// Every term, depth first (And and Or included).
    pub fn terms(&self) -> Vec<&QueryNode> {
        let mut out = Vec::new();
        for n in &self.nodes {
            n.visit(&mut |x| out.push(x));
        }
        out
    }

    /// The first FreeText anywhere in the query.
    pub fn free_text(&self) -> Option<&str> {
        self.terms().into_iter().find_map(|n| match n {
            QueryNode::FreeText(t) => Some(t.as_str()),
            _ => None,
        })
    }

    /// The first Class anywhere in the query.
    pub fn class(&self) -> Option<&str> {
        self.terms().into_iter().find_map(|n| match n {
            QueryNode::Class(t) => Some(t.as_str()),
            _ => None,
        })
    }

    /// Every CollectionId in the query.
    pub fn collection_ids(&self) -> Vec<&str> {
        self.terms()
            .into_iter()
            .filter_map(|n| match n {
                QueryNode::CollectionId(t) => Some(t.as_str()),
                _ => None,
            })
            .collect()
    }

    pub fn to_element(&self) -> Element {
        let mut e = Element::new(search::QUERY);
        for n in &self.nodes {
            n.push_to(&mut e);
        }
        e
    }
}

/// The options of a Search (MS-ASCMD 2.2.3.125.5).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchOptions {
    /// Range: which results to return (the server's default is 0-99).
    pub range: Option<Range>,
    /// UserName and Password: credentials for a document library.
    pub user_name: Option<String>,
    pub password: Option<String>,
    /// DeepTraversal: search the subfolders of the CollectionIds too.
    pub deep_traversal: bool,
    /// RebuildResults: run the query again rather than page through cached results.
    pub rebuild_results: bool,
    pub body_preferences: Vec<BodyPreference>,
    pub body_part_preferences: Vec<BodyPartPreference>,
    /// airsync:MIMESupport: 0, 1 or 2.
    pub mime_support: Option<u8>,
    /// rm:RightsManagementSupport (14.1+).
    pub rights_management_support: Option<bool>,
    /// Picture (14.1+, GAL): contact photos wanted.
    pub picture: Option<PictureOptions>,
}

impl SearchOptions {
    pub fn parse(e: &Element) -> Result<Self, ParseError> {
        Ok(SearchOptions {
            range: Range::parse_child(e, search::RANGE)?,
            user_name: e.optional_text(search::USER_NAME),
            password: e.optional_text(search::PASSWORD),
            deep_traversal: e.child(search::DEEP_TRAVERSAL).is_some(),
            rebuild_results: e.child(search::REBUILD_RESULTS).is_some(),
            body_preferences: e
                .children_with(airsyncbase::BODY_PREFERENCE)
                .map(BodyPreference::parse)
                .collect::<Result<_, _>>()?,
            body_part_preferences: e
                .children_with(airsyncbase::BODY_PART_PREFERENCE)
                .map(BodyPartPreference::parse)
                .collect::<Result<_, _>>()?,
            mime_support: match e.optional_parse::<u8>(airsync::MIME_SUPPORT)? {
                Some(v) if v > 2 => {
                    return Err(invalid_value(
                        airsync::MIME_SUPPORT,
                        &v.to_string(),
                        "expected 0, 1 or 2",
                    ))
                }
                v => v,
            },
            rights_management_support: e
                .optional_bool(rights_management::RIGHTS_MANAGEMENT_SUPPORT)?,
            picture: e
                .child(search::PICTURE)
                .map(|p| PictureOptions::parse(p, search::MAX_SIZE, search::MAX_PICTURES))
                .transpose()?,
        })
    }

    pub fn to_element(&self) -> Element {
        let mut e = Element::new(search::OPTIONS);
        e.push_opt(search::RANGE, self.range)
            .push_opt(search::USER_NAME, self.user_name.as_deref())
            .push_opt(search::PASSWORD, self.password.as_deref());
        if self.deep_traversal {
            e.push(Element::new(search::DEEP_TRAVERSAL));
        }
        if self.rebuild_results {
            e.push(Element::new(search::REBUILD_RESULTS));
        }
        for p in &self.body_preferences {
            e.push(p.to_element());
        }
        for p in &self.body_part_preferences {
            e.push(p.to_element());
        }
        e.push_opt(airsync::MIME_SUPPORT, self.mime_support)
            .push_opt_bool(
                rights_management::RIGHTS_MANAGEMENT_SUPPORT,
                self.rights_management_support,
            );
        if let Some(p) = &self.picture {
            e.push(p.to_element(search::PICTURE, search::MAX_SIZE, search::MAX_PICTURES));
        }
        e
    }
}

/// A Search request (MS-ASCMD 2.2.1.16): one Store with its Name, Query and Options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchRequest {
    pub name: StoreName,
    pub query: SearchQuery,
    pub options: SearchOptions,
}

impl SearchRequest {
    pub fn parse(root: &Element) -> Result<Self, ParseError> {
        root.expect_tag(search::SEARCH)?;
        let store = root.required(search::STORE)?;
        let name_el = store.required(search::NAME)?;
        let name_text = name_el.text().unwrap_or_default();
        let name = name_text.parse().map_err(|_| {
            invalid_value(
                search::NAME,
                &name_text,
                "not Mailbox, GAL or DocumentLibrary",
            )
        })?;
        Ok(SearchRequest {
            name,
            query: SearchQuery::parse(store.required(search::QUERY)?)?,
            options: store
                .child(search::OPTIONS)
                .map(SearchOptions::parse)
                .transpose()?
                .unwrap_or_default(),
        })
    }

    /// The request as a document (for tests and tools).
    pub fn to_element(&self) -> Element {
        let mut store = Element::new(search::STORE)
            .with_text(search::NAME, self.name.as_str())
            .with(self.query.to_element());
        if self.options != SearchOptions::default() {
            store.push(self.options.to_element());
        }
        Element::new(search::SEARCH).with(store)
    }
}

/// One result of a Search (MS-ASCMD 2.2.3.155.3 Result).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchResult {
    /// airsync:Class (mailbox results).
    pub class: Option<String>,
    /// LongId: the item's id for ItemOperations, SmartReply and SmartForward.
    pub long_id: Option<String>,
    /// airsync:CollectionId (mailbox results).
    pub collection_id: Option<String>,
    /// The item's properties. The element's own tag does not matter: its children are
    /// written under search:Properties, so an `Email::to_application_data` tree or a
    /// [`GalProperties::to_element`] can be passed as is.
    pub properties: Option<Element>,
}

impl SearchResult {
    pub fn to_element(&self) -> Element {
        let mut e = Element::new(search::RESULT);
        e.push_opt(airsync::CLASS, self.class.as_deref())
            .push_opt(search::LONG_ID, self.long_id.as_deref())
            .push_opt(airsync::COLLECTION_ID, self.collection_id.as_deref());
        if let Some(p) = &self.properties {
            e.push(Element {
                tag: search::PROPERTIES,
                children: p.children.clone(),
            });
        }
        e
    }

    pub fn parse(e: &Element) -> Self {
        SearchResult {
            class: e.optional_text(airsync::CLASS),
            long_id: e.optional_text(search::LONG_ID),
            collection_id: e.optional_text(airsync::COLLECTION_ID),
            properties: e.child(search::PROPERTIES).cloned(),
        }
    }

    fn is_empty(&self) -> bool {
        *self == SearchResult::default()
    }
}

/// The Store of a Search response (MS-ASCMD 2.2.3.178.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchStoreResponse {
    pub status: SearchStatus,
    pub results: Vec<SearchResult>,
    /// Range: the results returned.
    pub range: Option<Range>,
    /// Total: how many results the query matched.
    pub total: Option<u32>,
}

impl SearchStoreResponse {
    pub fn new(status: SearchStatus) -> Self {
        SearchStoreResponse {
            status,
            results: Vec::new(),
            range: None,
            total: None,
        }
    }

    /// Element order of the SearchResponse schema: Status, Result*, Range, Total. A
    /// successful search without matches carries one empty Result (MS-ASCMD 2.2.3.155.3).
    pub fn to_element(&self) -> Element {
        let mut e = Element::new(search::STORE);
        e.push_text(search::STATUS, self.status.to_string());
        if self.results.is_empty() && self.status == SearchStatus::Success {
            e.push(Element::new(search::RESULT));
        }
        for r in &self.results {
            e.push(r.to_element());
        }
        e.push_opt(search::RANGE, self.range)
            .push_opt(search::TOTAL, self.total);
        e
    }

    pub fn parse(e: &Element) -> Result<Self, ParseError> {
        Ok(SearchStoreResponse {
            status: parse_value::<SearchStatus>(e.required(search::STATUS)?)?,
            results: e
                .children_with(search::RESULT)
                .map(SearchResult::parse)
                .filter(|r| !r.is_empty())
                .collect(),
            range: Range::parse_child(e, search::RANGE)?,
            total: e.optional_parse(search::TOTAL)?,
        })
    }
}

/// A Search response (MS-ASCMD 2.2.1.16).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchResponse {
    /// Status of the whole command: 1, or 3 (server error), or a common code.
    pub status: SearchStatus,
    /// Response/Store; absent when the command failed as a whole.
    pub store: Option<SearchStoreResponse>,
}

impl SearchResponse {
    /// A failed command: only the top-level Status.
    pub fn status(status: SearchStatus) -> Self {
        SearchResponse {
            status,
            store: None,
        }
    }

    /// The answer to a request that does not parse: the command succeeds as a whole and
    /// its Store carries Status 2, the request was invalid (the top-level Status has only
    /// 1 and 3, MS-ASCMD 2.2.3.177.13).
    pub fn protocol_error() -> Self {
        SearchResponse {
            status: SearchStatus::Success,
            store: Some(SearchStoreResponse::new(SearchStatus::InvalidRequest)),
        }
    }

    pub fn to_element(&self) -> Element {
        let mut e = Element::new(search::SEARCH);
        e.push_text(search::STATUS, self.status.to_string());
        if let Some(s) = &self.store {
            e.push(Element::new(search::RESPONSE).with(s.to_element()));
        }
        e
    }

    pub fn parse(root: &Element) -> Result<Self, ParseError> {
        root.expect_tag(search::SEARCH)?;
        Ok(SearchResponse {
            status: parse_value::<SearchStatus>(root.required(search::STATUS)?)?,
            store: root
                .child(search::RESPONSE)
                .and_then(|r| r.child(search::STORE))
                .map(SearchStoreResponse::parse)
                .transpose()?,
        })
    }
}

/// Binary content as a client or server may send it: OPAQUE bytes as they are, or text
/// holding base64 (whitespace ignored). Text that is not base64 is an `InvalidValue`.
pub fn binary_content(e: &Element) -> Result<Vec<u8>, ParseError> {
    if let Some(b) = e.opaque() {
        return Ok(b.to_vec());
    }
    let text = e.text().unwrap_or_default();
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|_| invalid_value(e.tag, &text, "not base64"))
}

/// A contact photo in a GAL result (gal:Picture, 14.1+).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GalPicture {
    /// gal:Status: 1, or 173 NoPicture, 174 PictureTooLarge, 175 PictureLimitReached.
    pub status: u16,
    /// gal:Data: the photo's bytes (OPAQUE, as libwbxml and Exchange carry it).
    pub data: Option<Vec<u8>>,
}

/// A person from the Global Address List (MS-ASCMD GAL properties, the gal namespace): a
/// Search result on the GAL store and a Find GAL result.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GalProperties {
    pub display_name: Option<String>,
    pub phone: Option<String>,
    pub office: Option<String>,
    pub title: Option<String>,
    pub company: Option<String>,
    pub alias: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub home_phone: Option<String>,
    pub mobile_phone: Option<String>,
    pub email_address: Option<String>,
    pub picture: Option<GalPicture>,
}

impl GalProperties {
    /// Appends the properties (in the gal code page's order) to `e`.
    pub fn push_to(&self, e: &mut Element) {
        e.push_opt(gal::DISPLAY_NAME, self.display_name.as_deref())
            .push_opt(gal::PHONE, self.phone.as_deref())
            .push_opt(gal::OFFICE, self.office.as_deref())
            .push_opt(gal::TITLE, self.title.as_deref())
            .push_opt(gal::COMPANY, self.company.as_deref())
            .push_opt(gal::ALIAS, self.alias.as_deref())
            .push_opt(gal::FIRST_NAME, self.first_name.as_deref())
            .push_opt(gal::LAST_NAME, self.last_name.as_deref())
            .push_opt(gal::HOME_PHONE, self.home_phone.as_deref())
            .push_opt(gal::MOBILE_PHONE, self.mobile_phone.as_deref())
            .push_opt(gal::EMAIL_ADDRESS, self.email_address.as_deref());
        if let Some(p) = &self.picture {
            let mut pe = Element::new(gal::PICTURE).with_text(gal::STATUS, p.status.to_string());
            if let Some(d) = &p.data {
                pe.push(Element::opaque_element(gal::DATA, d.clone()));
            }
            e.push(pe);
        }
    }

    /// The properties under search:Properties.
    pub fn to_element(&self) -> Element {
        let mut e = Element::new(search::PROPERTIES);
        self.push_to(&mut e);
        e
    }

    /// Reads the gal properties among `e`'s children (other children are ignored).
    pub fn parse(e: &Element) -> Result<Self, ParseError> {
        Ok(GalProperties {
            display_name: e.optional_text(gal::DISPLAY_NAME),
            phone: e.optional_text(gal::PHONE),
            office: e.optional_text(gal::OFFICE),
            title: e.optional_text(gal::TITLE),
            company: e.optional_text(gal::COMPANY),
            alias: e.optional_text(gal::ALIAS),
            first_name: e.optional_text(gal::FIRST_NAME),
            last_name: e.optional_text(gal::LAST_NAME),
            home_phone: e.optional_text(gal::HOME_PHONE),
            mobile_phone: e.optional_text(gal::MOBILE_PHONE),
            email_address: e.optional_text(gal::EMAIL_ADDRESS),
            picture: e
                .child(gal::PICTURE)
                .map(|p| -> Result<GalPicture, ParseError> {
                    Ok(GalPicture {
                        status: p.required_parse(gal::STATUS)?,
                        data: p.child(gal::DATA).map(binary_content).transpose()?,
                    })
                })
                .transpose()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::CommonStatus;
    use easd_wbxml::tags::{document_library, email};

    /// A mailbox search (MS-ASCMD 2.2.1.16): And of Class, CollectionId, FreeText
    /// and a date window.
    fn mailbox_request() -> Element {
        Element::new(search::SEARCH).with(
            Element::new(search::STORE)
                .with_text(search::NAME, "Mailbox")
                .with(
                    Element::new(search::QUERY).with(
                        Element::new(search::AND)
                            .with_text(airsync::CLASS, "Email")
                            .with_text(airsync::COLLECTION_ID, "5")
                            .with_text(search::FREE_TEXT, "quarterly numbers")
                            .with(
                                Element::new(search::GREATER_THAN)
                                    .with(Element::new(email::DATE_RECEIVED))
                                    .with_text(search::VALUE, "2009-07-01T00:00:00.000Z"),
                            )
                            .with(
                                Element::new(search::LESS_THAN)
                                    .with(Element::new(email::DATE_RECEIVED))
                                    .with_text(search::VALUE, "2009-08-01T00:00:00.000Z"),
                            ),
                    ),
                )
                .with(
                    Element::new(search::OPTIONS)
                        .with(Element::new(search::REBUILD_RESULTS))
                        .with(Element::new(search::DEEP_TRAVERSAL))
                        .with_text(search::RANGE, "0-9")
                        .with(
                            Element::new(airsyncbase::BODY_PREFERENCE)
                                .with_text(airsyncbase::TYPE, "1")
                                .with_text(airsyncbase::TRUNCATION_SIZE, "512"),
                        )
                        .with_text(airsync::MIME_SUPPORT, "0"),
                ),
        )
    }

    #[test]
    fn parses_mailbox_search() {
        let r = SearchRequest::parse(&mailbox_request()).unwrap();
        assert_eq!(r.name, StoreName::Mailbox);
        assert_eq!(r.query.class(), Some("Email"));
        assert_eq!(r.query.collection_ids(), vec!["5"]);
        assert_eq!(r.query.free_text(), Some("quarterly numbers"));
        let QueryNode::And(terms) = &r.query.nodes[0] else {
            panic!("expected And");
        };
        assert_eq!(
            terms[3],
            QueryNode::GreaterThan {
                property: email::DATE_RECEIVED,
                value: "2009-07-01T00:00:00.000Z".into()
            }
        );
        assert_eq!(r.options.range, Some(Range::new(0, 9)));
        assert!(r.options.deep_traversal);
        assert!(r.options.rebuild_results);
        assert_eq!(r.options.mime_support, Some(0));
        assert_eq!(r.options.body_preferences[0].truncation_size, Some(512));
        assert_eq!(SearchRequest::parse(&r.to_element()).unwrap(), r);
    }

    #[test]
    fn parses_gal_and_document_library_searches() {
        // MS-ASCMD 4.13.1: a GAL search for "Anat" with Range 0-1.
        let gal_req = Element::new(search::SEARCH).with(
            Element::new(search::STORE)
                .with_text(search::NAME, "GAL")
                .with_text(search::QUERY, "Anat")
                .with(
                    Element::new(search::OPTIONS)
                        .with_text(search::RANGE, "0-1")
                        .with(
                            Element::new(search::PICTURE)
                                .with_text(search::MAX_SIZE, "20480")
                                .with_text(search::MAX_PICTURES, "5"),
                        ),
                ),
        );
        let r = SearchRequest::parse(&gal_req).unwrap();
        assert_eq!(r.name, StoreName::Gal);
        assert_eq!(r.query.plain_text().as_deref(), Some("Anat"));
        assert_eq!(
            r.options.picture,
            Some(PictureOptions {
                max_size: Some(20480),
                max_pictures: Some(5)
            })
        );
        assert_eq!(SearchRequest::parse(&r.to_element()).unwrap(), r);

        let dl = Element::new(search::SEARCH).with(
            Element::new(search::STORE)
                .with_text(search::NAME, "DocumentLibrary")
                .with(
                    Element::new(search::QUERY).with(
                        Element::new(search::EQUAL_TO)
                            .with(Element::new(document_library::LINK_ID))
                            .with_text(search::VALUE, "\\\\fileserver\\share\\reports"),
                    ),
                )
                .with(
                    Element::new(search::OPTIONS)
                        .with_text(search::RANGE, "0-99")
                        .with_text(search::USER_NAME, "CONTOSO\\deviceuser")
                        .with_text(search::PASSWORD, "secret"),
                ),
        );
        let r = SearchRequest::parse(&dl).unwrap();
        assert_eq!(r.name, StoreName::DocumentLibrary);
        assert!(matches!(
            &r.query.nodes[0],
            QueryNode::EqualTo { property, .. } if *property == document_library::LINK_ID
        ));
        assert_eq!(r.options.user_name.as_deref(), Some("CONTOSO\\deviceuser"));
    }

    #[test]
    fn rejects_bad_searches() {
        let bad_store = Element::new(search::SEARCH).with(
            Element::new(search::STORE)
                .with_text(search::NAME, "Calendar")
                .with_text(search::QUERY, "x"),
        );
        assert!(SearchRequest::parse(&bad_store).is_err());
        let no_query = Element::new(search::SEARCH)
            .with(Element::new(search::STORE).with_text(search::NAME, "GAL"));
        assert!(SearchRequest::parse(&no_query).is_err());
        let bad_range = Element::new(search::SEARCH).with(
            Element::new(search::STORE)
                .with_text(search::NAME, "GAL")
                .with_text(search::QUERY, "x")
                .with(Element::new(search::OPTIONS).with_text(search::RANGE, "9-1")),
        );
        assert!(SearchRequest::parse(&bad_range).is_err());
        // A query nested deeper than MAX_QUERY_DEPTH is refused, not recursed into.
        let mut q = Element::new(search::FREE_TEXT);
        for _ in 0..100 {
            q = Element::new(search::AND).with(q);
        }
        let deep = Element::new(search::SEARCH).with(
            Element::new(search::STORE)
                .with_text(search::NAME, "Mailbox")
                .with(Element::new(search::QUERY).with(q)),
        );
        assert!(matches!(
            SearchRequest::parse(&deep),
            Err(ParseError::Invalid { .. })
        ));
        let comparison_without_property = Element::new(search::SEARCH).with(
            Element::new(search::STORE)
                .with_text(search::NAME, "Mailbox")
                .with(
                    Element::new(search::QUERY)
                        .with(Element::new(search::GREATER_THAN).with_text(search::VALUE, "x")),
                ),
        );
        assert!(SearchRequest::parse(&comparison_without_property).is_err());
    }

    #[test]
    fn ranges() {
        assert_eq!("0-49".parse::<Range>(), Ok(Range::new(0, 49)));
        assert_eq!(Range::new(0, 49).len(), 50);
        assert_eq!(Range::new(5, 5).to_string(), "5-5");
        for bad in ["", "5", "a-b", "3-1", "-1-2", "1-"] {
            assert!(bad.parse::<Range>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn writes_gal_response() {
        let chris = GalProperties {
            display_name: Some("Chris Gray".into()),
            phone: Some("+1 425 555 0100".into()),
            email_address: Some("chris@example.com".into()),
            picture: Some(GalPicture {
                status: 1,
                data: Some(vec![0x89, b'P', b'N', b'G']),
            }),
            ..GalProperties::default()
        };
        let green = GalProperties {
            display_name: Some("Chris Green".into()),
            email_address: Some("cgreen@example.com".into()),
            picture: Some(GalPicture {
                status: CommonStatus::NoPicture.code(),
                data: None,
            }),
            ..GalProperties::default()
        };
        let resp = SearchResponse {
            status: SearchStatus::Success,
            store: Some(SearchStoreResponse {
                status: SearchStatus::Success,
                results: vec![
                    SearchResult {
                        properties: Some(chris.to_element()),
                        ..SearchResult::default()
                    },
                    SearchResult {
                        properties: Some(green.to_element()),
                        ..SearchResult::default()
                    },
                ],
                range: Some(Range::new(0, 1)),
                total: Some(2),
            }),
        };
        let e = resp.to_element();
        let store = e
            .child(search::RESPONSE)
            .unwrap()
            .child(search::STORE)
            .unwrap();
        let tags: Vec<Tag> = store.elements().map(|c| c.tag).collect();
        assert_eq!(
            tags,
            [
                search::STATUS,
                search::RESULT,
                search::RESULT,
                search::RANGE,
                search::TOTAL
            ]
        );
        assert_eq!(store.child_text(search::RANGE).unwrap(), "0-1");
        let back = SearchResponse::parse(&e).unwrap();
        assert_eq!(back, resp);
        let props = back.store.unwrap().results[0].properties.clone().unwrap();
        assert_eq!(GalProperties::parse(&props).unwrap(), chris);
    }

    #[test]
    fn no_matches_gives_an_empty_result_and_failure_only_status() {
        let mut store = SearchStoreResponse::new(SearchStatus::Success);
        store.range = None;
        store.total = Some(0);
        let e = store.to_element();
        let result = e.child(search::RESULT).unwrap();
        assert!(result.children.is_empty());
        assert!(SearchStoreResponse::parse(&e).unwrap().results.is_empty());

        let failed = SearchResponse::status(SearchStatus::ServerError).to_element();
        assert_eq!(failed.child_text(search::STATUS).unwrap(), "3");
        assert!(failed.child(search::RESPONSE).is_none());
    }

    #[test]
    fn mailbox_result_takes_email_properties() {
        let email = crate::items::email::Email {
            subject: Some("Quarterly numbers".into()),
            read: Some(true),
            ..Default::default()
        };
        let r = SearchResult {
            class: Some("Email".into()),
            long_id: Some("RgAAAA".into()),
            collection_id: Some("5".into()),
            properties: Some(email.to_application_data(crate::version::ProtocolVersion::V14_1)),
        };
        let e = r.to_element();
        let tags: Vec<Tag> = e.elements().map(|c| c.tag).collect();
        assert_eq!(
            tags,
            [
                airsync::CLASS,
                search::LONG_ID,
                airsync::COLLECTION_ID,
                search::PROPERTIES
            ]
        );
        let props = e.child(search::PROPERTIES).unwrap();
        assert_eq!(
            props.child_text(email::SUBJECT).as_deref(),
            Some("Quarterly numbers")
        );
    }
}
