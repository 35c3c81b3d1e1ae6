//! GetItemEstimate (MS-ASCMD 2.2.1.9): how many items a Sync of each collection would bring.
//!
//! ```text
//! request (14.0+): GetItemEstimate/Collections/Collection+/{airsync:SyncKey, CollectionId,
//!                  airsync:ConversationMode?, airsync:Options*/{airsync:FilterType?,
//!                  airsync:Class?, airsync:MaxItems?}}
//! request (12.1):  ... Collection+/{Class, CollectionId, airsync:FilterType, airsync:SyncKey}
//! response:        GetItemEstimate/Response+/{Status, Collection/{CollectionId, Estimate}}
//! ```
//! Both request forms parse to the same [`EstimateCollection`]: the 12.1 Class and FilterType
//! become one [`EstimateOptions`].

use crate::commands::folder_sync::{MAX_SERVER_ID_LEN, MAX_SYNC_KEY_LEN};
use crate::element::ElementExt;
use crate::error::ParseError;
use crate::status::GetItemEstimateStatus;
use crate::values::FilterType;
use easd_wbxml::tags::{airsync, get_item_estimate as gie};
use easd_wbxml::Element;

/// Longest Class accepted ("Email", "Calendar", "Contacts", "Tasks", "Notes", "SMS").
const MAX_CLASS_LEN: usize = 32;

/// The filter of one class in a collection (MS-ASCMD Options (GetItemEstimate)).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EstimateOptions {
    pub class: Option<String>,
    pub filter_type: Option<FilterType>,
    pub max_items: Option<u32>,
}

/// One collection to estimate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EstimateCollection {
    /// The collection's current Sync key (a key of "0" gets Status 3, not primed).
    pub sync_key: String,
    pub collection_id: String,
    pub conversation_mode: Option<bool>,
    pub options: Vec<EstimateOptions>,
}

/// GetItemEstimate request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetItemEstimateRequest {
    pub collections: Vec<EstimateCollection>,
}

impl GetItemEstimateRequest {
    pub fn parse(root: &Element) -> Result<Self, ParseError> {
        root.expect_tag(gie::GET_ITEM_ESTIMATE)?;
        let collections = root
            .required(gie::COLLECTIONS)?
            .children_with(gie::COLLECTION)
            .map(parse_collection)
            .collect::<Result<Vec<_>, ParseError>>()?;
        if collections.is_empty() {
            return Err(ParseError::MissingElement {
                parent: gie::COLLECTIONS,
                element: gie::COLLECTION,
            });
        }
        Ok(GetItemEstimateRequest { collections })
    }
}

fn parse_collection(c: &Element) -> Result<EstimateCollection, ParseError> {
    let mut options = c
        .children_with(airsync::OPTIONS)
        .map(|o| {
            Ok(EstimateOptions {
                class: o.optional_text_max(airsync::CLASS, MAX_CLASS_LEN)?,
                filter_type: o.optional_parse(airsync::FILTER_TYPE)?,
                max_items: o.optional_parse(airsync::MAX_ITEMS)?,
            })
        })
        .collect::<Result<Vec<_>, ParseError>>()?;
    // 12.1: Class and FilterType are children of Collection.
    let class = c.optional_text_max(gie::CLASS, MAX_CLASS_LEN)?;
    let filter_type = c.optional_parse(airsync::FILTER_TYPE)?;
    if class.is_some() || filter_type.is_some() {
        options.push(EstimateOptions {
            class,
            filter_type,
            max_items: None,
        });
    }
    Ok(EstimateCollection {
        sync_key: c.required_text_max(airsync::SYNC_KEY, MAX_SYNC_KEY_LEN)?,
        collection_id: c.required_text_max(gie::COLLECTION_ID, MAX_SERVER_ID_LEN)?,
        conversation_mode: c.optional_bool(airsync::CONVERSATION_MODE)?,
        options,
    })
}

/// The estimate for one collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EstimateResponse {
    pub status: GetItemEstimateStatus,
    /// Written in Collection; `None` leaves Collection out.
    pub collection_id: Option<String>,
    /// The number of items, on success.
    pub estimate: Option<u32>,
}

/// GetItemEstimate response: one Response per requested collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetItemEstimateResponse {
    pub responses: Vec<EstimateResponse>,
}

impl GetItemEstimateResponse {
    pub fn to_element(&self) -> Element {
        let mut root = Element::new(gie::GET_ITEM_ESTIMATE);
        for r in &self.responses {
            let mut resp = Element::new(gie::RESPONSE);
            resp.push_text(gie::STATUS, r.status.to_string());
            if let Some(id) = &r.collection_id {
                let mut c = Element::new(gie::COLLECTION);
                c.push_text(gie::COLLECTION_ID, id)
                    .push_opt(gie::ESTIMATE, r.estimate);
                resp.push(c);
            }
            root.push(resp);
        }
        root
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_14_request() {
        let req = Element::new(gie::GET_ITEM_ESTIMATE).with(
            Element::new(gie::COLLECTIONS)
                .with(
                    Element::new(gie::COLLECTION)
                        .with_text(airsync::SYNC_KEY, "1474823615")
                        .with_text(gie::COLLECTION_ID, "5")
                        .with_text(airsync::CONVERSATION_MODE, "0")
                        .with(
                            Element::new(airsync::OPTIONS)
                                .with_text(airsync::FILTER_TYPE, "3")
                                .with_text(airsync::CLASS, "Email"),
                        ),
                )
                .with(
                    Element::new(gie::COLLECTION)
                        .with_text(airsync::SYNC_KEY, "1822214926")
                        .with_text(gie::COLLECTION_ID, "1")
                        .with(
                            Element::new(airsync::OPTIONS)
                                .with_text(airsync::FILTER_TYPE, "4")
                                .with_text(airsync::MAX_ITEMS, "200"),
                        ),
                ),
        );
        let parsed = GetItemEstimateRequest::parse(&req).unwrap();
        assert_eq!(
            parsed.collections[0],
            EstimateCollection {
                sync_key: "1474823615".into(),
                collection_id: "5".into(),
                conversation_mode: Some(false),
                options: vec![EstimateOptions {
                    class: Some("Email".into()),
                    filter_type: Some(FilterType::OneWeek),
                    max_items: None,
                }],
            }
        );
        assert_eq!(
            parsed.collections[1].options,
            vec![EstimateOptions {
                class: None,
                filter_type: Some(FilterType::TwoWeeks),
                max_items: Some(200),
            }]
        );
    }

    #[test]
    fn parses_12_1_request() {
        let req = Element::new(gie::GET_ITEM_ESTIMATE).with(
            Element::new(gie::COLLECTIONS).with(
                Element::new(gie::COLLECTION)
                    .with_text(gie::CLASS, "Email")
                    .with_text(gie::COLLECTION_ID, "5")
                    .with_text(airsync::FILTER_TYPE, "0")
                    .with_text(airsync::SYNC_KEY, "7"),
            ),
        );
        let parsed = GetItemEstimateRequest::parse(&req).unwrap();
        assert_eq!(
            parsed.collections[0].options,
            vec![EstimateOptions {
                class: Some("Email".into()),
                filter_type: Some(FilterType::NoFilter),
                max_items: None,
            }]
        );
    }

    #[test]
    fn rejects_bad_requests() {
        let no_collections = Element::new(gie::GET_ITEM_ESTIMATE);
        assert!(GetItemEstimateRequest::parse(&no_collections).is_err());
        let empty = Element::new(gie::GET_ITEM_ESTIMATE).with(Element::new(gie::COLLECTIONS));
        assert!(GetItemEstimateRequest::parse(&empty).is_err());
        let no_key = Element::new(gie::GET_ITEM_ESTIMATE).with(
            Element::new(gie::COLLECTIONS)
                .with(Element::new(gie::COLLECTION).with_text(gie::COLLECTION_ID, "5")),
        );
        assert_eq!(
            GetItemEstimateRequest::parse(&no_key),
            Err(ParseError::MissingElement {
                parent: gie::COLLECTION,
                element: airsync::SYNC_KEY
            })
        );
        let bad_filter = Element::new(gie::GET_ITEM_ESTIMATE).with(
            Element::new(gie::COLLECTIONS).with(
                Element::new(gie::COLLECTION)
                    .with_text(airsync::SYNC_KEY, "1")
                    .with_text(gie::COLLECTION_ID, "5")
                    .with(Element::new(airsync::OPTIONS).with_text(airsync::FILTER_TYPE, "12")),
            ),
        );
        assert!(matches!(
            GetItemEstimateRequest::parse(&bad_filter),
            Err(ParseError::InvalidValue { .. })
        ));
    }

    #[test]
    fn writes_response() {
        let resp = GetItemEstimateResponse {
            responses: vec![
                EstimateResponse {
                    status: GetItemEstimateStatus::Success,
                    collection_id: Some("5".into()),
                    estimate: Some(42),
                },
                EstimateResponse {
                    status: GetItemEstimateStatus::InvalidCollection,
                    collection_id: Some("1".into()),
                    estimate: None,
                },
            ],
        };
        assert_eq!(
            resp.to_element(),
            Element::new(gie::GET_ITEM_ESTIMATE)
                .with(
                    Element::new(gie::RESPONSE)
                        .with_text(gie::STATUS, "1")
                        .with(
                            Element::new(gie::COLLECTION)
                                .with_text(gie::COLLECTION_ID, "5")
                                .with_text(gie::ESTIMATE, "42")
                        )
                )
                .with(
                    Element::new(gie::RESPONSE)
                        .with_text(gie::STATUS, "2")
                        .with(Element::new(gie::COLLECTION).with_text(gie::COLLECTION_ID, "1"))
                )
        );
    }
}
