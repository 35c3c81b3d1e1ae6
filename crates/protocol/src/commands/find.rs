//! Find (MS-ASCMD 2.2.1.2, 16.1): a mailbox or GAL search whose results carry a fixed set of
//! display properties (subject, sender, preview...; or a person's GAL properties).

use crate::commands::search::{GalProperties, PictureOptions, Range};
use crate::element::{invalid_value, parse_value, ElementExt};
use crate::error::ParseError;
use crate::items::email::Importance;
use crate::macros::code_enum;
use easd_wbxml::tags::{airsync, email, email2, find, item_operations};
use easd_wbxml::{Element, Tag};

code_enum! {
    /// Status of Find and of its Response (MS-ASCMD 2.2.3.177.2).
    FindStatus: u16 {
        /// 1
        Success = 1,
        /// 2: the request was invalid (the client's search failed to validate).
        InvalidRequest = 2,
        /// 3: FolderSync required (the folder hierarchy is out of date).
        FolderSyncRequired = 3,
        /// 4: StartWithRangeZero: the requested range does not begin with 0.
        StartWithRangeZero = 4,
    }
    common
}

/// The Query of a Find (MS-ASCMD 2.2.3.142.1): FreeText, and for a mailbox search the
/// Class and CollectionId to search in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindQuery {
    /// airsync:Class (mailbox: "Email").
    pub class: Option<String>,
    /// airsync:CollectionId: the folder searched (absent: every folder).
    pub collection_id: Option<String>,
    /// FreeText: the words to find (KQL).
    pub free_text: Option<String>,
}

impl FindQuery {
    pub fn parse(e: &Element) -> Result<Self, ParseError> {
        Ok(FindQuery {
            class: e.optional_text(airsync::CLASS),
            collection_id: e.optional_text(airsync::COLLECTION_ID),
            free_text: e.optional_text(find::FREE_TEXT),
        })
    }

    pub fn to_element(&self) -> Element {
        let mut e = Element::new(find::QUERY);
        e.push_opt(airsync::CLASS, self.class.as_deref())
            .push_opt(airsync::COLLECTION_ID, self.collection_id.as_deref())
            .push_opt(find::FREE_TEXT, self.free_text.as_deref());
        e
    }
}

/// The Options of a Find (MS-ASCMD 2.2.3.125.1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindOptions {
    /// Range: must begin with 0 (else Status 4, StartWithRangeZero).
    pub range: Option<Range>,
    /// DeepTraversal (2.2.3.41.1, mailbox only): search the subfolders too.
    pub deep_traversal: bool,
    /// Picture (GAL): contact photos wanted.
    pub picture: Option<PictureOptions>,
}

impl FindOptions {
    pub fn parse(e: &Element) -> Result<Self, ParseError> {
        Ok(FindOptions {
            range: Range::parse_child(e, find::RANGE)?,
            deep_traversal: e.child(find::DEEP_TRAVERSAL).is_some(),
            picture: e
                .child(find::PICTURE)
                .map(|p| PictureOptions::parse(p, find::MAX_SIZE, find::MAX_PICTURES))
                .transpose()?,
        })
    }

    pub fn to_element(&self) -> Element {
        let mut e = Element::new(find::OPTIONS);
        e.push_opt(find::RANGE, self.range);
        if self.deep_traversal {
            e.push(Element::new(find::DEEP_TRAVERSAL));
        }
        if let Some(p) = &self.picture {
            e.push(p.to_element(find::PICTURE, find::MAX_SIZE, find::MAX_PICTURES));
        }
        e
    }
}

/// What a Find searches (MS-ASCMD 2.2.3.66 ExecuteSearch: exactly one criterion).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FindCriterion {
    /// MailBoxSearchCriterion (2.2.3.99).
    Mailbox {
        query: FindQuery,
        options: FindOptions,
    },
    /// GALSearchCriterion (2.2.3.82).
    Gal {
        query: FindQuery,
        options: FindOptions,
    },
}

impl FindCriterion {
    pub fn query(&self) -> &FindQuery {
        match self {
            FindCriterion::Mailbox { query, .. } | FindCriterion::Gal { query, .. } => query,
        }
    }

    pub fn options(&self) -> &FindOptions {
        match self {
            FindCriterion::Mailbox { options, .. } | FindCriterion::Gal { options, .. } => options,
        }
    }

    /// The itemoperations:Store name a response for this criterion carries.
    pub fn store_name(&self) -> &'static str {
        match self {
            FindCriterion::Mailbox { .. } => "Mailbox",
            FindCriterion::Gal { .. } => "GAL",
        }
    }
}

/// A Find request (MS-ASCMD 2.2.1.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindRequest {
    /// SearchId: a GUID the client chooses for the search.
    pub search_id: String,
    pub criterion: FindCriterion,
}

impl FindRequest {
    pub fn parse(root: &Element) -> Result<Self, ParseError> {
        root.expect_tag(find::FIND)?;
        let search_id = root.required_text(find::SEARCH_ID)?;
        let exec = root.required(find::EXECUTE_SEARCH)?;
        let mailbox = exec.child(find::MAIL_BOX_SEARCH_CRITERION);
        let gal = exec.child(find::GAL_SEARCH_CRITERION);
        let parts = |c: &Element| -> Result<(FindQuery, FindOptions), ParseError> {
            Ok((
                FindQuery::parse(c.required(find::QUERY)?)?,
                c.child(find::OPTIONS)
                    .map(FindOptions::parse)
                    .transpose()?
                    .unwrap_or_default(),
            ))
        };
        let criterion = match (mailbox, gal) {
            (Some(m), None) => {
                let (query, options) = parts(m)?;
                FindCriterion::Mailbox { query, options }
            }
            (None, Some(g)) => {
                let (query, options) = parts(g)?;
                FindCriterion::Gal { query, options }
            }
            _ => {
                return Err(ParseError::Invalid {
                    element: find::EXECUTE_SEARCH,
                    reason: "needs exactly one of MailBoxSearchCriterion and GALSearchCriterion",
                })
            }
        };
        Ok(FindRequest {
            search_id,
            criterion,
        })
    }

    /// The request as a document (for tests and tools).
    pub fn to_element(&self) -> Element {
        let (tag, query, options) = match &self.criterion {
            FindCriterion::Mailbox { query, options } => {
                (find::MAIL_BOX_SEARCH_CRITERION, query, options)
            }
            FindCriterion::Gal { query, options } => (find::GAL_SEARCH_CRITERION, query, options),
        };
        let mut c = Element::new(tag).with(query.to_element());
        if *options != FindOptions::default() {
            c.push(options.to_element());
        }
        Element::new(find::FIND)
            .with_text(find::SEARCH_ID, self.search_id.clone())
            .with(Element::new(find::EXECUTE_SEARCH).with(c))
    }
}

/// The properties of a Find result (MS-ASCMD 2.2.3.139.1 Properties): a message's display
/// properties, or a person's GAL properties.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindProperties {
    /// email:Subject.
    pub subject: Option<String>,
    /// email:DateReceived (MS-ASDTYPE dateTime).
    pub date_received: Option<String>,
    /// email:DisplayTo.
    pub display_to: Option<String>,
    /// DisplayCc: the Cc display names, separated by semicolons.
    pub display_cc: Option<String>,
    /// DisplayBcc (2.2.3.47).
    pub display_bcc: Option<String>,
    /// email:Importance.
    pub importance: Option<Importance>,
    /// email:Read.
    pub read: Option<bool>,
    /// email2:IsDraft.
    pub is_draft: Option<bool>,
    /// Preview: the start of the body as plain text.
    pub preview: Option<String>,
    /// HasAttachments.
    pub has_attachments: Option<bool>,
    /// email:From.
    pub from: Option<String>,
    /// The gal properties of a GAL result.
    pub gal: GalProperties,
}

impl FindProperties {
    pub fn to_element(&self) -> Element {
        let mut e = Element::new(find::PROPERTIES);
        e.push_opt(email::SUBJECT, self.subject.as_deref())
            .push_opt(email::DATE_RECEIVED, self.date_received.as_deref())
            .push_opt(email::DISPLAY_TO, self.display_to.as_deref())
            .push_opt(find::DISPLAY_CC, self.display_cc.as_deref())
            .push_opt(find::DISPLAY_BCC, self.display_bcc.as_deref())
            .push_opt(email::IMPORTANCE, self.importance.map(Importance::code))
            .push_opt_bool(email::READ, self.read)
            .push_opt_bool(email2::IS_DRAFT, self.is_draft)
            .push_opt(find::PREVIEW, self.preview.as_deref())
            .push_opt_bool(find::HAS_ATTACHMENTS, self.has_attachments)
            .push_opt(email::FROM, self.from.as_deref());
        self.gal.push_to(&mut e);
        e
    }

    pub fn parse(e: &Element) -> Result<Self, ParseError> {
        let importance = match e.optional_parse::<u8>(email::IMPORTANCE)? {
            None => None,
            Some(c) => Some(Importance::from_code(c).ok_or_else(|| {
                invalid_value(email::IMPORTANCE, &c.to_string(), "expected 0, 1 or 2")
            })?),
        };
        Ok(FindProperties {
            subject: e.optional_text(email::SUBJECT),
            date_received: e.optional_text(email::DATE_RECEIVED),
            display_to: e.optional_text(email::DISPLAY_TO),
            display_cc: e.optional_text(find::DISPLAY_CC),
            display_bcc: e.optional_text(find::DISPLAY_BCC),
            importance,
            read: e.optional_bool(email::READ)?,
            is_draft: e.optional_bool(email2::IS_DRAFT)?,
            preview: e.optional_text(find::PREVIEW),
            has_attachments: e.optional_bool(find::HAS_ATTACHMENTS)?,
            from: e.optional_text(email::FROM),
            gal: GalProperties::parse(e)?,
        })
    }
}

/// One result of a Find (MS-ASCMD 2.2.3.155.1 Result).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindResult {
    /// airsync:Class ("Email" for mailbox results).
    pub class: Option<String>,
    /// airsync:ServerId of the item (mailbox results).
    pub server_id: Option<String>,
    /// airsync:CollectionId of the item's folder (mailbox results).
    pub collection_id: Option<String>,
    pub properties: FindProperties,
}

impl FindResult {
    pub fn to_element(&self) -> Element {
        let mut e = Element::new(find::RESULT);
        e.push_opt(airsync::CLASS, self.class.as_deref())
            .push_opt(airsync::SERVER_ID, self.server_id.as_deref())
            .push_opt(airsync::COLLECTION_ID, self.collection_id.as_deref())
            .push(self.properties.to_element());
        e
    }

    pub fn parse(e: &Element) -> Result<Self, ParseError> {
        Ok(FindResult {
            class: e.optional_text(airsync::CLASS),
            server_id: e.optional_text(airsync::SERVER_ID),
            collection_id: e.optional_text(airsync::COLLECTION_ID),
            properties: e
                .child(find::PROPERTIES)
                .map(FindProperties::parse)
                .transpose()?
                .unwrap_or_default(),
        })
    }
}

/// The Response of a Find (MS-ASCMD 2.2.3.153.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindStoreResponse {
    /// itemoperations:Store: "Mailbox" or "GAL" (MS-ASCMD 2.2.1.2 lists it in the
    /// response; some servers leave it out).
    pub store: Option<String>,
    pub status: FindStatus,
    pub results: Vec<FindResult>,
    /// Range (2.2.3.143.1): the results returned.
    pub range: Option<Range>,
    /// Total (2.2.3.184.1): how many results matched.
    pub total: Option<u32>,
}

impl FindStoreResponse {
    pub fn to_element(&self) -> Element {
        let mut e = Element::new(find::RESPONSE);
        e.push_opt(item_operations::STORE, self.store.as_deref())
            .push_text(find::STATUS, self.status.to_string());
        for r in &self.results {
            e.push(r.to_element());
        }
        e.push_opt(find::RANGE, self.range)
            .push_opt(find::TOTAL, self.total);
        e
    }

    pub fn parse(e: &Element) -> Result<Self, ParseError> {
        Ok(FindStoreResponse {
            store: e.optional_text(item_operations::STORE),
            status: parse_value::<FindStatus>(e.required(find::STATUS)?)?,
            results: e
                .children_with(find::RESULT)
                .map(FindResult::parse)
                .collect::<Result<_, _>>()?,
            range: Range::parse_child(e, find::RANGE)?,
            total: e.optional_parse(find::TOTAL)?,
        })
    }
}

/// A Find response (MS-ASCMD 2.2.1.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindResponse {
    pub status: FindStatus,
    /// Absent when the command failed as a whole.
    pub response: Option<FindStoreResponse>,
}

impl FindResponse {
    /// A failed command: only the top-level Status.
    pub fn status(status: FindStatus) -> Self {
        FindResponse {
            status,
            response: None,
        }
    }

    /// The answer to a request that does not parse: Status 2, the request was invalid.
    pub fn protocol_error() -> Self {
        FindResponse::status(FindStatus::InvalidRequest)
    }

    pub fn to_element(&self) -> Element {
        let mut e = Element::new(find::FIND);
        e.push_text(find::STATUS, self.status.to_string());
        if let Some(r) = &self.response {
            e.push(r.to_element());
        }
        e
    }

    pub fn parse(root: &Element) -> Result<Self, ParseError> {
        root.expect_tag(find::FIND)?;
        Ok(FindResponse {
            status: parse_value::<FindStatus>(root.required(find::STATUS)?)?,
            response: root
                .child(find::RESPONSE)
                .map(FindStoreResponse::parse)
                .transpose()?,
        })
    }
}

/// The tags of the Find response Properties written by [`FindProperties`], for callers
/// that check what a result holds.
pub const MAIL_PROPERTY_TAGS: [Tag; 11] = [
    email::SUBJECT,
    email::DATE_RECEIVED,
    email::DISPLAY_TO,
    find::DISPLAY_CC,
    find::DISPLAY_BCC,
    email::IMPORTANCE,
    email::READ,
    email2::IS_DRAFT,
    find::PREVIEW,
    find::HAS_ATTACHMENTS,
    email::FROM,
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::search::GalPicture;

    fn mailbox_find() -> Element {
        Element::new(find::FIND)
            .with_text(find::SEARCH_ID, "5a4ac3a2-4e0a-4e4c-9a55-8d3b1f0e2c11")
            .with(
                Element::new(find::EXECUTE_SEARCH).with(
                    Element::new(find::MAIL_BOX_SEARCH_CRITERION)
                        .with(
                            Element::new(find::QUERY)
                                .with_text(airsync::CLASS, "Email")
                                .with_text(airsync::COLLECTION_ID, "5")
                                .with_text(find::FREE_TEXT, "budget"),
                        )
                        .with(
                            Element::new(find::OPTIONS)
                                .with_text(find::RANGE, "0-24")
                                .with(Element::new(find::DEEP_TRAVERSAL)),
                        ),
                ),
            )
    }

    #[test]
    fn parses_mailbox_find() {
        let r = FindRequest::parse(&mailbox_find()).unwrap();
        assert_eq!(r.search_id, "5a4ac3a2-4e0a-4e4c-9a55-8d3b1f0e2c11");
        let FindCriterion::Mailbox { query, options } = &r.criterion else {
            panic!("expected a mailbox criterion");
        };
        assert_eq!(query.class.as_deref(), Some("Email"));
        assert_eq!(query.collection_id.as_deref(), Some("5"));
        assert_eq!(query.free_text.as_deref(), Some("budget"));
        assert_eq!(options.range, Some(Range::new(0, 24)));
        assert!(options.deep_traversal);
        assert_eq!(r.criterion.store_name(), "Mailbox");
        assert_eq!(FindRequest::parse(&r.to_element()).unwrap(), r);
    }

    #[test]
    fn parses_gal_find() {
        let root = Element::new(find::FIND)
            .with_text(find::SEARCH_ID, "0b7c0b43-2f4c-4e2e-8d7f-1c2d3e4f5a6b")
            .with(
                Element::new(find::EXECUTE_SEARCH).with(
                    Element::new(find::GAL_SEARCH_CRITERION)
                        .with(Element::new(find::QUERY).with_text(find::FREE_TEXT, "chris"))
                        .with(
                            Element::new(find::OPTIONS)
                                .with_text(find::RANGE, "0-9")
                                .with(
                                    Element::new(find::PICTURE)
                                        .with_text(find::MAX_SIZE, "4096")
                                        .with_text(find::MAX_PICTURES, "3"),
                                ),
                        ),
                ),
            );
        let r = FindRequest::parse(&root).unwrap();
        assert!(matches!(r.criterion, FindCriterion::Gal { .. }));
        assert_eq!(r.criterion.query().free_text.as_deref(), Some("chris"));
        assert_eq!(
            r.criterion.options().picture,
            Some(PictureOptions {
                max_size: Some(4096),
                max_pictures: Some(3)
            })
        );
        assert_eq!(FindRequest::parse(&r.to_element()).unwrap(), r);
    }

    #[test]
    fn rejects_bad_finds() {
        let no_criterion = Element::new(find::FIND)
            .with_text(find::SEARCH_ID, "x")
            .with(Element::new(find::EXECUTE_SEARCH));
        assert!(matches!(
            FindRequest::parse(&no_criterion),
            Err(ParseError::Invalid { .. })
        ));
        let both = Element::new(find::FIND)
            .with_text(find::SEARCH_ID, "x")
            .with(
                Element::new(find::EXECUTE_SEARCH)
                    .with(
                        Element::new(find::MAIL_BOX_SEARCH_CRITERION)
                            .with(Element::new(find::QUERY)),
                    )
                    .with(Element::new(find::GAL_SEARCH_CRITERION).with(Element::new(find::QUERY))),
            );
        assert!(FindRequest::parse(&both).is_err());
        let no_query = Element::new(find::FIND)
            .with_text(find::SEARCH_ID, "x")
            .with(
                Element::new(find::EXECUTE_SEARCH)
                    .with(Element::new(find::MAIL_BOX_SEARCH_CRITERION)),
            );
        assert!(FindRequest::parse(&no_query).is_err());
        let no_id = Element::new(find::FIND);
        assert!(FindRequest::parse(&no_id).is_err());
    }

    #[test]
    fn writes_mailbox_response() {
        let resp = FindResponse {
            status: FindStatus::Success,
            response: Some(FindStoreResponse {
                store: Some("Mailbox".into()),
                status: FindStatus::Success,
                results: vec![FindResult {
                    class: Some("Email".into()),
                    server_id: Some("5:7".into()),
                    collection_id: Some("5".into()),
                    properties: FindProperties {
                        subject: Some("Budget".into()),
                        date_received: Some("2026-11-25T16:22:49.000Z".into()),
                        display_to: Some("Dana".into()),
                        display_cc: Some("Pat; Lee".into()),
                        importance: Some(Importance::Normal),
                        read: Some(false),
                        is_draft: Some(false),
                        preview: Some("Numbers for Q3".into()),
                        has_attachments: Some(true),
                        from: Some("chris@example.com".into()),
                        ..FindProperties::default()
                    },
                }],
                range: Some(Range::new(0, 0)),
                total: Some(1),
            }),
        };
        let e = resp.to_element();
        let tags: Vec<Tag> = e.elements().map(|c| c.tag).collect();
        assert_eq!(tags, [find::STATUS, find::RESPONSE]);
        let r = e.child(find::RESPONSE).unwrap();
        let tags: Vec<Tag> = r.elements().map(|c| c.tag).collect();
        assert_eq!(
            tags,
            [
                item_operations::STORE,
                find::STATUS,
                find::RESULT,
                find::RANGE,
                find::TOTAL
            ]
        );
        let result = r.child(find::RESULT).unwrap();
        let tags: Vec<Tag> = result.elements().map(|c| c.tag).collect();
        assert_eq!(
            tags,
            [
                airsync::CLASS,
                airsync::SERVER_ID,
                airsync::COLLECTION_ID,
                find::PROPERTIES
            ]
        );
        for t in result.child(find::PROPERTIES).unwrap().elements() {
            assert!(MAIL_PROPERTY_TAGS.contains(&t.tag), "{:?}", t.tag);
        }
        assert_eq!(FindResponse::parse(&e).unwrap(), resp);
    }

    #[test]
    fn writes_gal_response_and_failure() {
        let person = FindResult {
            properties: FindProperties {
                gal: GalProperties {
                    display_name: Some("Chris Gray".into()),
                    email_address: Some("chris@example.com".into()),
                    picture: Some(GalPicture {
                        status: 1,
                        data: Some(vec![1, 2, 3]),
                    }),
                    ..GalProperties::default()
                },
                ..FindProperties::default()
            },
            ..FindResult::default()
        };
        let resp = FindResponse {
            status: FindStatus::Success,
            response: Some(FindStoreResponse {
                store: Some("GAL".into()),
                status: FindStatus::Success,
                results: vec![person],
                range: Some(Range::new(0, 0)),
                total: Some(1),
            }),
        };
        assert_eq!(FindResponse::parse(&resp.to_element()).unwrap(), resp);

        let failed = FindResponse::status(FindStatus::FolderSyncRequired).to_element();
        assert_eq!(failed.child_text(find::STATUS).unwrap(), "3");
        assert!(failed.child(find::RESPONSE).is_none());
        assert_eq!(
            FindStatus::from_code(4),
            Some(FindStatus::StartWithRangeZero)
        );
    }
}
