//! The Contact class (MS-ASCNTC, Contacts and Contacts2 namespaces): a contact as a client
//! adds or changes it in Sync and as the server sends it in Sync, Search and
//! ItemOperations.
//!
//! Every property is optional: in an Add or a server's item `None` is "not set"; in a 16.x
//! Change it is "not changed" (the engine decides which, see
//! `easd_engine::content::contact`). Categories and Children are `Some(vec![])` when the
//! element was present and empty ("remove all").
//!
//! Dates (Birthday, Anniversary) are MS-ASDTYPE dateTime strings as the client sent them.

use crate::element::{invalid_value, ElementExt};
use crate::error::ParseError;
use crate::items::airsyncbase::Body;
use crate::version::ProtocolVersion;
use easd_wbxml::tags::{airsync, airsyncbase, contacts, contacts2};
use easd_wbxml::{Element, Tag};

/// Declares [`Contact`] with its single-valued string properties, each with its tag, in
/// the order MS-ASCNTC lists them, so that parsing and writing walk one table.
macro_rules! contact {
    ($( $(#[$m:meta])* $field:ident = $tag:expr, )*) => {
        /// A contact (MS-ASCNTC). See the module documentation for `None`.
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct Contact {
            $( $(#[$m])* pub $field: Option<String>, )*
            /// airsyncbase:Body (MS-ASCNTC Body): the notes.
            pub body: Option<Body>,
            /// Categories/Category.
            pub categories: Option<Vec<String>>,
            /// Children/Child.
            pub children: Option<Vec<String>>,
            /// WeightedRank (MS-ASCNTC 2.2.2.64, 14.0+): only in recipient information cache items;
            /// the server computes it, a client never sets it.
            pub weighted_rank: Option<i32>,
        }

        /// The single-valued string properties of a contact, with their tags.
        pub const TEXT_PROPERTIES: &[(Tag, fn(&Contact) -> Option<&str>)] = &[
            $( ($tag, |c: &Contact| c.$field.as_deref()), )*
        ];

        impl Contact {
            /// The string property with `tag`, for the table-driven code of the engine.
            pub fn text_mut(&mut self, tag: Tag) -> Option<&mut Option<String>> {
                match tag {
                    $( t if t == $tag => Some(&mut self.$field), )*
                    _ => None,
                }
            }

            /// The string property with `tag`.
            pub fn text(&self, tag: Tag) -> Option<&str> {
                match tag {
                    $( t if t == $tag => self.$field.as_deref(), )*
                    _ => None,
                }
            }
        }
    };
}

contact! {
    /// Anniversary, dateTime.
    anniversary = contacts::ANNIVERSARY,
    assistant_name = contacts::ASSISTANT_NAME,
    assistant_phone_number = contacts::ASSISTANT_PHONE_NUMBER,
    /// Birthday, dateTime.
    birthday = contacts::BIRTHDAY,
    business2_phone_number = contacts::BUSINESS2PHONE_NUMBER,
    business_address_city = contacts::BUSINESS_ADDRESS_CITY,
    business_address_country = contacts::BUSINESS_ADDRESS_COUNTRY,
    business_address_postal_code = contacts::BUSINESS_ADDRESS_POSTAL_CODE,
    business_address_state = contacts::BUSINESS_ADDRESS_STATE,
    business_address_street = contacts::BUSINESS_ADDRESS_STREET,
    business_fax_number = contacts::BUSINESS_FAX_NUMBER,
    business_phone_number = contacts::BUSINESS_PHONE_NUMBER,
    car_phone_number = contacts::CAR_PHONE_NUMBER,
    company_name = contacts::COMPANY_NAME,
    department = contacts::DEPARTMENT,
    email1_address = contacts::EMAIL1ADDRESS,
    email2_address = contacts::EMAIL2ADDRESS,
    email3_address = contacts::EMAIL3ADDRESS,
    file_as = contacts::FILE_AS,
    first_name = contacts::FIRST_NAME,
    home2_phone_number = contacts::HOME2PHONE_NUMBER,
    home_address_city = contacts::HOME_ADDRESS_CITY,
    home_address_country = contacts::HOME_ADDRESS_COUNTRY,
    home_address_postal_code = contacts::HOME_ADDRESS_POSTAL_CODE,
    home_address_state = contacts::HOME_ADDRESS_STATE,
    home_address_street = contacts::HOME_ADDRESS_STREET,
    home_fax_number = contacts::HOME_FAX_NUMBER,
    home_phone_number = contacts::HOME_PHONE_NUMBER,
    job_title = contacts::JOB_TITLE,
    last_name = contacts::LAST_NAME,
    middle_name = contacts::MIDDLE_NAME,
    mobile_phone_number = contacts::MOBILE_PHONE_NUMBER,
    office_location = contacts::OFFICE_LOCATION,
    other_address_city = contacts::OTHER_ADDRESS_CITY,
    other_address_country = contacts::OTHER_ADDRESS_COUNTRY,
    other_address_postal_code = contacts::OTHER_ADDRESS_POSTAL_CODE,
    other_address_state = contacts::OTHER_ADDRESS_STATE,
    other_address_street = contacts::OTHER_ADDRESS_STREET,
    pager_number = contacts::PAGER_NUMBER,
    radio_phone_number = contacts::RADIO_PHONE_NUMBER,
    spouse = contacts::SPOUSE,
    suffix = contacts::SUFFIX,
    /// Title: the courtesy title ("Dr."), not the job title.
    title = contacts::TITLE,
    web_page = contacts::WEB_PAGE,
    yomi_company_name = contacts::YOMI_COMPANY_NAME,
    yomi_first_name = contacts::YOMI_FIRST_NAME,
    yomi_last_name = contacts::YOMI_LAST_NAME,
    /// Picture (MS-ASCNTC 2.2.2.58): a base64-encoded image, at most [`MAX_PICTURE_LEN`].
    picture = contacts::PICTURE,
    /// Alias (MS-ASCNTC 2.2.2.2, 14.0+): only in recipient information cache items.
    alias = contacts::ALIAS,
    customer_id = contacts2::CUSTOMER_ID,
    government_id = contacts2::GOVERNMENT_ID,
    im_address = contacts2::IM_ADDRESS,
    im_address2 = contacts2::IM_ADDRESS2,
    im_address3 = contacts2::IM_ADDRESS3,
    manager_name = contacts2::MANAGER_NAME,
    company_main_phone = contacts2::COMPANY_MAIN_PHONE,
    account_name = contacts2::ACCOUNT_NAME,
    nick_name = contacts2::NICK_NAME,
    /// MMS (MS-ASCNTC 2.2.2.48): the contact's MMS address.
    mms = contacts2::MMS,
}

/// The longest Picture, in base64 characters: "MUST be limited to 48 KB of binary content
/// that is encoded with base64 encoding" (MS-ASCNTC 2.2.2.58); over it, Sync Status 6.
pub const MAX_PICTURE_LEN: usize = 48 * 1024;

/// Properties a server sends only from 14.0 on (MS-ASCNTC 2.2.2.2 Alias, 2.2.2.64
/// WeightedRank: "Protocol Versions" tables).
const FROM_14_0: &[Tag] = &[contacts::ALIAS, contacts::WEIGHTED_RANK];

impl Contact {
    /// Reads a contact from an Add's or Change's ApplicationData (or any element holding its
    /// properties). Unknown elements are ignored; the 2.5-only Body/BodySize/BodyTruncated/
    /// CompressedRTF of the Contacts namespace are not read.
    pub fn parse(e: &Element) -> Result<Self, ParseError> {
        let mut c = Contact::default();
        for child in e.elements() {
            if let Some(slot) = c.text_mut(child.tag) {
                *slot = Some(child.text().unwrap_or_default());
            }
        }
        if let Some(p) = c.picture.as_deref().filter(|p| p.len() > MAX_PICTURE_LEN) {
            return Err(invalid_value(contacts::PICTURE, p, "over 48 KB"));
        }
        c.body = e.child(airsyncbase::BODY).map(Body::parse).transpose()?;
        c.categories = e
            .child(contacts::CATEGORIES)
            .map(|l| list(l, contacts::CATEGORY));
        c.children = e
            .child(contacts::CHILDREN)
            .map(|l| list(l, contacts::CHILD));
        c.weighted_rank = match e.child(contacts::WEIGHTED_RANK) {
            None => None,
            Some(w) => {
                let text = w.text().unwrap_or_default();
                Some(text.trim().parse().map_err(|_| {
                    invalid_value(contacts::WEIGHTED_RANK, &text, "expected an integer")
                })?)
            }
        };
        Ok(c)
    }

    /// The contact as Sync ApplicationData for `version`.
    pub fn to_application_data(&self, version: ProtocolVersion) -> Element {
        let mut e = Element::new(airsync::APPLICATION_DATA);
        self.push_properties(version, &mut e);
        e
    }

    /// The same properties under another parent (search:Properties,
    /// itemoperations:Properties).
    pub fn to_element_with_tag(&self, tag: Tag, version: ProtocolVersion) -> Element {
        let mut e = Element::new(tag);
        self.push_properties(version, &mut e);
        e
    }

    /// Appends the set properties to `e`: the Contacts namespace, Body, then Contacts2.
    /// Alias and WeightedRank only for 14.0+.
    pub fn push_properties(&self, version: ProtocolVersion, e: &mut Element) {
        let allowed = |tag: Tag| version >= ProtocolVersion::V14_0 || !FROM_14_0.contains(&tag);
        for (tag, get) in TEXT_PROPERTIES {
            if tag.page == contacts::FILE_AS.page && allowed(*tag) {
                e.push_opt(*tag, get(self));
            }
        }
        if let Some(c) = &self.categories {
            e.push(list_element(contacts::CATEGORIES, contacts::CATEGORY, c));
        }
        if let Some(c) = &self.children {
            e.push(list_element(contacts::CHILDREN, contacts::CHILD, c));
        }
        if allowed(contacts::WEIGHTED_RANK) {
            e.push_opt(contacts::WEIGHTED_RANK, self.weighted_rank);
        }
        if let Some(b) = &self.body {
            e.push(b.to_element());
        }
        for (tag, get) in TEXT_PROPERTIES {
            if tag.page == contacts2::MMS.page {
                e.push_opt(*tag, get(self));
            }
        }
    }
}

fn list(e: &Element, item: Tag) -> Vec<String> {
    e.children_with(item)
        .map(|c| c.text().unwrap_or_default())
        .collect()
}

fn list_element(tag: Tag, item: Tag, values: &[String]) -> Element {
    let mut e = Element::new(tag);
    for v in values {
        e.push_text(item, v.clone());
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::items::airsyncbase::BodyType;
    use easd_wbxml::CodePage;

    fn page_tags(page: u8) -> Vec<Tag> {
        CodePage::get(page)
            .unwrap()
            .tags
            .iter()
            .map(|(t, _)| Tag::new(page, *t))
            .collect()
    }

    /// A contact with every property set, each to a distinct value.
    pub(crate) fn full() -> Contact {
        let mut c = Contact::default();
        for (i, (tag, _)) in TEXT_PROPERTIES.iter().enumerate() {
            *c.text_mut(*tag).unwrap() = Some(format!("value {i} of {tag:?}"));
        }
        c.birthday = Some("1970-05-17T00:00:00.000Z".into());
        c.anniversary = Some("1996-09-01T00:00:00.000Z".into());
        c.body = Some(Body::new(BodyType::Plain, "Met at the conference."));
        c.categories = Some(vec!["Business".into(), "VIP".into()]);
        c.children = Some(vec!["Ann".into(), "Ben".into()]);
        c.weighted_rank = Some(17);
        c
    }

    #[test]
    fn every_tag_of_both_code_pages_is_a_property() {
        // MS-ASWBXML 2.1.2.1.2 and 2.1.2.1.13: every tag of the pages but the containers,
        // their items and the 2.5-only ones is a property of the struct.
        let structural = [
            contacts::CATEGORIES,
            contacts::CATEGORY,
            contacts::CHILDREN,
            contacts::CHILD,
            contacts::WEIGHTED_RANK,
            contacts::BODY,
            contacts::BODY_SIZE,
            contacts::BODY_TRUNCATED,
            contacts::COMPRESSED_RTF,
        ];
        let c = full();
        let mut count = 0;
        for page in [contacts::FILE_AS.page, contacts2::MMS.page] {
            for tag in page_tags(page) {
                count += 1;
                if !structural.contains(&tag) {
                    assert!(c.text(tag).is_some(), "{tag:?} has no property");
                }
            }
        }
        assert_eq!(count, 58 + 10);
    }

    #[test]
    fn round_trip_per_version() {
        let c = full();
        for v in [
            ProtocolVersion::V14_0,
            ProtocolVersion::V14_1,
            ProtocolVersion::V16_1,
        ] {
            assert_eq!(
                Contact::parse(&c.to_application_data(v)).unwrap(),
                c,
                "{v:?}"
            );
        }
        // 12.1 has no Alias or WeightedRank (MS-ASCNTC 2.2.2.2, 2.2.2.64).
        let e = c.to_application_data(ProtocolVersion::V12_1);
        assert!(e.child(contacts::ALIAS).is_none());
        assert!(e.child(contacts::WEIGHTED_RANK).is_none());
        let back = Contact::parse(&e).unwrap();
        assert_eq!(back.alias, None);
        assert_eq!(back.mms, c.mms);
    }

    #[test]
    fn empty_lists_are_present_absent_lists_are_not() {
        let e = Element::new(airsync::APPLICATION_DATA)
            .with(Element::new(contacts::CATEGORIES))
            .with_text(contacts::FIRST_NAME, "Ann");
        let c = Contact::parse(&e).unwrap();
        assert_eq!(c.categories, Some(vec![]));
        assert_eq!(c.children, None);
        assert_eq!(c.first_name.as_deref(), Some("Ann"));
        assert_eq!(c.last_name, None);
    }

    #[test]
    fn a_picture_over_48_kb_is_an_error() {
        let at_limit = "A".repeat(MAX_PICTURE_LEN);
        let e = Element::new(airsync::APPLICATION_DATA).with_text(contacts::PICTURE, at_limit);
        assert!(Contact::parse(&e).is_ok());
        let over = "A".repeat(MAX_PICTURE_LEN + 4);
        let e = Element::new(airsync::APPLICATION_DATA).with_text(contacts::PICTURE, over);
        assert!(Contact::parse(&e).is_err());
    }

    #[test]
    fn bad_weighted_rank_is_an_error() {
        let e = Element::new(airsync::APPLICATION_DATA).with_text(contacts::WEIGHTED_RANK, "x");
        assert!(Contact::parse(&e).is_err());
    }

    proptest::proptest! {
        #[test]
        fn any_children_parse_or_fail_cleanly(
            picks in proptest::collection::vec((0usize..80, "[0-9a-zA-Z @.-]{0,8}"), 0..20)
        ) {
            let tags: Vec<Tag> = [contacts::FILE_AS.page, contacts2::MMS.page, airsyncbase::BODY.page]
                .into_iter()
                .flat_map(page_tags)
                .collect();
            let mut e = Element::new(airsync::APPLICATION_DATA);
            for (i, text) in picks {
                let tag = tags[i % tags.len()];
                if i % 3 == 0 {
                    e.push(Element::new(tag).with_text(tag, text));
                } else {
                    e.push_text(tag, text);
                }
            }
            let _ = Contact::parse(&e);
        }
    }
}
