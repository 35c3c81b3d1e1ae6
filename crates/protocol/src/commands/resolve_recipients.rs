//! ResolveRecipients (MS-ASCMD 2.2.1.15): names or addresses the user typed, resolved
//! against the GAL and the user's contacts, with certificates, free/busy and photos on
//! request.

use crate::commands::search::{binary_content, PictureOptions};
use crate::element::{invalid_value, parse_value, ElementExt};
use crate::error::ParseError;
use crate::macros::code_enum;
use easd_wbxml::tags::resolve_recipients as rr;
use easd_wbxml::Element;

/// The most To elements a request may hold (MS-ASCMD, To in ResolveRecipients: up to 100).
pub const MAX_RECIPIENTS: usize = 100;

code_enum! {
    /// Status of ResolveRecipients, of a Response, of Availability, Certificates and Picture
    /// (MS-ASCMD 2.2.3.177.12). One enum serves every Status of the command: each element
    /// uses a subset of the codes.
    ResolveRecipientsStatus: u16 {
        /// 1: success (the recipient resolved to one entry; availability, certificates or the
        /// photo were returned).
        Success = 1,
        /// 2 (Response): the recipient is ambiguous; the matches are listed.
        Ambiguous = 2,
        /// 3 (Response): the recipient is ambiguous; only some matches are listed.
        AmbiguousPartial = 3,
        /// 4 (Response): the recipient did not resolve.
        NotResolved = 4,
        /// 5 (top level): protocol error.
        ProtocolError = 5,
        /// 6 (top level): server error.
        ServerError = 6,
        /// 7 (Certificates): the recipient has no valid S/MIME certificate.
        NoValidCertificate = 7,
        /// 8 (Certificates): the global certificate limit was reached.
        CertificateLimitReached = 8,
    }
    common
}

/// Which certificates the client wants (MS-ASCMD CertificateRetrieval).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CertificateRetrieval {
    /// 1: do not retrieve certificates.
    DoNotRetrieve,
    /// 2: full certificates.
    Full,
    /// 3: mini certificates.
    Mini,
}

impl CertificateRetrieval {
    pub const fn code(self) -> u8 {
        match self {
            CertificateRetrieval::DoNotRetrieve => 1,
            CertificateRetrieval::Full => 2,
            CertificateRetrieval::Mini => 3,
        }
    }

    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(CertificateRetrieval::DoNotRetrieve),
            2 => Some(CertificateRetrieval::Full),
            3 => Some(CertificateRetrieval::Mini),
            _ => None,
        }
    }
}

/// The free/busy window a client asks about (MS-ASCMD Availability in a request).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvailabilityRequest {
    /// StartTime (MS-ASDTYPE dateTime).
    pub start_time: String,
    /// EndTime (MS-ASDTYPE dateTime).
    pub end_time: String,
}

/// The options of a ResolveRecipients request (MS-ASCMD 2.2.3.125.4).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResolveRecipientsOptions {
    pub certificate_retrieval: Option<CertificateRetrieval>,
    /// MaxCertificates: the most certificates per recipient (and in total).
    pub max_certificates: Option<u32>,
    /// MaxAmbiguousRecipients: the most matches returned for an ambiguous name.
    pub max_ambiguous_recipients: Option<u32>,
    /// Availability (14.0+): the window for MergedFreeBusy.
    pub availability: Option<AvailabilityRequest>,
    /// Picture (14.1+).
    pub picture: Option<PictureOptions>,
}

impl ResolveRecipientsOptions {
    pub fn parse(e: &Element) -> Result<Self, ParseError> {
        let certificate_retrieval = match e.optional_parse::<u8>(rr::CERTIFICATE_RETRIEVAL)? {
            None => None,
            Some(c) => Some(CertificateRetrieval::from_code(c).ok_or_else(|| {
                invalid_value(
                    rr::CERTIFICATE_RETRIEVAL,
                    &c.to_string(),
                    "expected 1, 2 or 3",
                )
            })?),
        };
        let availability = match e.child(rr::AVAILABILITY) {
            None => None,
            Some(a) => Some(AvailabilityRequest {
                start_time: a.required_text(rr::START_TIME)?,
                end_time: a.required_text(rr::END_TIME)?,
            }),
        };
        Ok(ResolveRecipientsOptions {
            certificate_retrieval,
            max_certificates: e.optional_parse(rr::MAX_CERTIFICATES)?,
            max_ambiguous_recipients: e.optional_parse(rr::MAX_AMBIGUOUS_RECIPIENTS)?,
            availability,
            picture: e
                .child(rr::PICTURE)
                .map(|p| PictureOptions::parse(p, rr::MAX_SIZE, rr::MAX_PICTURES))
                .transpose()?,
        })
    }

    pub fn to_element(&self) -> Element {
        let mut e = Element::new(rr::OPTIONS);
        e.push_opt(
            rr::CERTIFICATE_RETRIEVAL,
            self.certificate_retrieval.map(CertificateRetrieval::code),
        )
        .push_opt(rr::MAX_CERTIFICATES, self.max_certificates)
        .push_opt(rr::MAX_AMBIGUOUS_RECIPIENTS, self.max_ambiguous_recipients);
        if let Some(a) = &self.availability {
            e.push(
                Element::new(rr::AVAILABILITY)
                    .with_text(rr::START_TIME, a.start_time.clone())
                    .with_text(rr::END_TIME, a.end_time.clone()),
            );
        }
        if let Some(p) = &self.picture {
            e.push(p.to_element(rr::PICTURE, rr::MAX_SIZE, rr::MAX_PICTURES));
        }
        e
    }
}

/// A ResolveRecipients request (MS-ASCMD 2.2.1.15).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolveRecipientsRequest {
    /// To: each name or address to resolve, in order (1 to [`MAX_RECIPIENTS`]).
    pub to: Vec<String>,
    pub options: ResolveRecipientsOptions,
}

impl ResolveRecipientsRequest {
    pub fn parse(root: &Element) -> Result<Self, ParseError> {
        root.expect_tag(rr::RESOLVE_RECIPIENTS)?;
        let to: Vec<String> = root
            .children_with(rr::TO)
            .map(|t| t.text().unwrap_or_default())
            .collect();
        if to.is_empty() {
            return Err(ParseError::MissingElement {
                parent: rr::RESOLVE_RECIPIENTS,
                element: rr::TO,
            });
        }
        if to.len() > MAX_RECIPIENTS {
            return Err(ParseError::Invalid {
                element: rr::TO,
                reason: "more than 100 recipients",
            });
        }
        Ok(ResolveRecipientsRequest {
            to,
            options: root
                .child(rr::OPTIONS)
                .map(ResolveRecipientsOptions::parse)
                .transpose()?
                .unwrap_or_default(),
        })
    }

    /// The request as a document (for tests and tools).
    pub fn to_element(&self) -> Element {
        let mut e = Element::new(rr::RESOLVE_RECIPIENTS);
        for t in &self.to {
            e.push_text(rr::TO, t.clone());
        }
        if self.options != ResolveRecipientsOptions::default() {
            e.push(self.options.to_element());
        }
        e
    }
}

/// Where a recipient was found (MS-ASCMD Type in ResolveRecipients).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecipientType {
    /// 1: the Global Address List.
    Gal,
    /// 2: the user's contacts.
    Contact,
}

impl RecipientType {
    pub const fn code(self) -> u8 {
        match self {
            RecipientType::Gal => 1,
            RecipientType::Contact => 2,
        }
    }

    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(RecipientType::Gal),
            2 => Some(RecipientType::Contact),
            _ => None,
        }
    }
}

/// A recipient's free/busy (MS-ASCMD Availability in a response).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientAvailability {
    pub status: ResolveRecipientsStatus,
    /// MergedFreeBusy: one digit per 30 minutes of the window (0 free, 1 tentative, 2 busy,
    /// 3 out of office, 4 no data).
    pub merged_free_busy: Option<String>,
}

/// A recipient's certificates (MS-ASCMD Certificates in a response).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientCertificates {
    pub status: ResolveRecipientsStatus,
    /// CertificateCount: the valid certificates found.
    pub certificate_count: Option<u32>,
    /// RecipientCount: for a distribution list, its members.
    pub recipient_count: Option<u32>,
    /// Certificate: each full certificate, base64 (CertificateRetrieval 2).
    pub certificates: Vec<String>,
    /// MiniCertificate: base64 (CertificateRetrieval 3).
    pub mini_certificate: Option<String>,
}

/// A recipient's photo (MS-ASCMD Picture in a response, 14.1+).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientPicture {
    /// 1, or 173 NoPicture, 174 PictureTooLarge, 175 PictureLimitReached.
    pub status: ResolveRecipientsStatus,
    /// Data: the photo's bytes (OPAQUE).
    pub data: Option<Vec<u8>>,
}

/// One match for a To (MS-ASCMD Recipient).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub recipient_type: RecipientType,
    pub display_name: String,
    pub email_address: String,
    pub availability: Option<RecipientAvailability>,
    pub certificates: Option<RecipientCertificates>,
    pub picture: Option<RecipientPicture>,
}

impl Recipient {
    pub fn new(
        recipient_type: RecipientType,
        display_name: impl Into<String>,
        email_address: impl Into<String>,
    ) -> Self {
        Recipient {
            recipient_type,
            display_name: display_name.into(),
            email_address: email_address.into(),
            availability: None,
            certificates: None,
            picture: None,
        }
    }

    /// Schema order: Type, DisplayName, EmailAddress, Availability, Certificates, Picture.
    pub fn to_element(&self) -> Element {
        let mut e = Element::new(rr::RECIPIENT);
        e.push_text(rr::TYPE, self.recipient_type.code().to_string())
            .push_text(rr::DISPLAY_NAME, self.display_name.clone())
            .push_text(rr::EMAIL_ADDRESS, self.email_address.clone());
        if let Some(a) = &self.availability {
            let mut ae = Element::new(rr::AVAILABILITY).with_text(rr::STATUS, a.status.to_string());
            ae.push_opt(rr::MERGED_FREE_BUSY, a.merged_free_busy.as_deref());
            e.push(ae);
        }
        if let Some(c) = &self.certificates {
            let mut ce = Element::new(rr::CERTIFICATES).with_text(rr::STATUS, c.status.to_string());
            ce.push_opt(rr::CERTIFICATE_COUNT, c.certificate_count)
                .push_opt(rr::RECIPIENT_COUNT, c.recipient_count);
            for cert in &c.certificates {
                ce.push_text(rr::CERTIFICATE, cert.clone());
            }
            ce.push_opt(rr::MINI_CERTIFICATE, c.mini_certificate.as_deref());
            e.push(ce);
        }
        if let Some(p) = &self.picture {
            let mut pe = Element::new(rr::PICTURE).with_text(rr::STATUS, p.status.to_string());
            if let Some(d) = &p.data {
                pe.push(Element::opaque_element(rr::DATA, d.clone()));
            }
            e.push(pe);
        }
        e
    }

    pub fn parse(e: &Element) -> Result<Self, ParseError> {
        let type_code: u8 = e.required_parse(rr::TYPE)?;
        let recipient_type = RecipientType::from_code(type_code)
            .ok_or_else(|| invalid_value(rr::TYPE, &type_code.to_string(), "expected 1 or 2"))?;
        let availability = match e.child(rr::AVAILABILITY) {
            None => None,
            Some(a) => Some(RecipientAvailability {
                status: parse_value::<ResolveRecipientsStatus>(a.required(rr::STATUS)?)?,
                merged_free_busy: a.optional_text(rr::MERGED_FREE_BUSY),
            }),
        };
        let certificates = match e.child(rr::CERTIFICATES) {
            None => None,
            Some(c) => Some(RecipientCertificates {
                status: parse_value::<ResolveRecipientsStatus>(c.required(rr::STATUS)?)?,
                certificate_count: c.optional_parse(rr::CERTIFICATE_COUNT)?,
                recipient_count: c.optional_parse(rr::RECIPIENT_COUNT)?,
                certificates: c
                    .children_with(rr::CERTIFICATE)
                    .map(|x| x.text().unwrap_or_default())
                    .collect(),
                mini_certificate: c.optional_text(rr::MINI_CERTIFICATE),
            }),
        };
        let picture = match e.child(rr::PICTURE) {
            None => None,
            Some(p) => Some(RecipientPicture {
                status: parse_value::<ResolveRecipientsStatus>(p.required(rr::STATUS)?)?,
                data: p.child(rr::DATA).map(binary_content).transpose()?,
            }),
        };
        Ok(Recipient {
            recipient_type,
            display_name: e.required_text(rr::DISPLAY_NAME)?,
            email_address: e.required_text(rr::EMAIL_ADDRESS)?,
            availability,
            certificates,
            picture,
        })
    }
}

/// The answer for one To (MS-ASCMD Response in ResolveRecipients).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolveRecipientsResult {
    /// To: the name as the client sent it.
    pub to: String,
    /// 1 resolved, 2 ambiguous, 3 ambiguous (partial list), 4 not resolved.
    pub status: ResolveRecipientsStatus,
    /// RecipientCount: the matches found (may exceed the Recipients listed).
    pub recipient_count: Option<u32>,
    pub recipients: Vec<Recipient>,
}

impl ResolveRecipientsResult {
    pub fn to_element(&self) -> Element {
        let mut e = Element::new(rr::RESPONSE);
        e.push_text(rr::TO, self.to.clone())
            .push_text(rr::STATUS, self.status.to_string())
            .push_opt(rr::RECIPIENT_COUNT, self.recipient_count);
        for r in &self.recipients {
            e.push(r.to_element());
        }
        e
    }

    pub fn parse(e: &Element) -> Result<Self, ParseError> {
        Ok(ResolveRecipientsResult {
            to: e.required_text(rr::TO)?,
            status: parse_value::<ResolveRecipientsStatus>(e.required(rr::STATUS)?)?,
            recipient_count: e.optional_parse(rr::RECIPIENT_COUNT)?,
            recipients: e
                .children_with(rr::RECIPIENT)
                .map(Recipient::parse)
                .collect::<Result<_, _>>()?,
        })
    }
}

/// A ResolveRecipients response (MS-ASCMD 2.2.1.15).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolveRecipientsResponse {
    /// 1, 5 (protocol error), 6 (server error) or a common code.
    pub status: ResolveRecipientsStatus,
    /// One Response per To, in the request's order.
    pub responses: Vec<ResolveRecipientsResult>,
}

impl ResolveRecipientsResponse {
    /// A failed command: only the top-level Status.
    pub fn status(status: ResolveRecipientsStatus) -> Self {
        ResolveRecipientsResponse {
            status,
            responses: Vec::new(),
        }
    }

    /// The answer to a request that does not parse: Status 5, protocol error.
    pub fn protocol_error() -> Self {
        ResolveRecipientsResponse::status(ResolveRecipientsStatus::ProtocolError)
    }

    pub fn to_element(&self) -> Element {
        let mut e = Element::new(rr::RESOLVE_RECIPIENTS);
        e.push_text(rr::STATUS, self.status.to_string());
        for r in &self.responses {
            e.push(r.to_element());
        }
        e
    }

    pub fn parse(root: &Element) -> Result<Self, ParseError> {
        root.expect_tag(rr::RESOLVE_RECIPIENTS)?;
        Ok(ResolveRecipientsResponse {
            status: parse_value::<ResolveRecipientsStatus>(root.required(rr::STATUS)?)?,
            responses: root
                .children_with(rr::RESPONSE)
                .map(ResolveRecipientsResult::parse)
                .collect::<Result<_, _>>()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::CommonStatus;
    use easd_wbxml::Tag;

    #[test]
    fn parses_request_with_every_option() {
        let root = Element::new(rr::RESOLVE_RECIPIENTS)
            .with_text(rr::TO, "chris")
            .with_text(rr::TO, "room4-1142@example.com")
            .with(
                Element::new(rr::OPTIONS)
                    .with_text(rr::CERTIFICATE_RETRIEVAL, "2")
                    .with_text(rr::MAX_CERTIFICATES, "4")
                    .with_text(rr::MAX_AMBIGUOUS_RECIPIENTS, "5")
                    .with(
                        Element::new(rr::AVAILABILITY)
                            .with_text(rr::START_TIME, "2012-05-03T16:00:00.000Z")
                            .with_text(rr::END_TIME, "2012-05-03T20:00:00.000Z"),
                    )
                    .with(
                        Element::new(rr::PICTURE)
                            .with_text(rr::MAX_SIZE, "40960")
                            .with_text(rr::MAX_PICTURES, "2"),
                    ),
            );
        let r = ResolveRecipientsRequest::parse(&root).unwrap();
        assert_eq!(r.to, vec!["chris", "room4-1142@example.com"]);
        let o = &r.options;
        assert_eq!(o.certificate_retrieval, Some(CertificateRetrieval::Full));
        assert_eq!(o.max_certificates, Some(4));
        assert_eq!(o.max_ambiguous_recipients, Some(5));
        assert_eq!(
            o.availability.as_ref().unwrap().end_time,
            "2012-05-03T20:00:00.000Z"
        );
        assert_eq!(o.picture.unwrap().max_pictures, Some(2));
        assert_eq!(ResolveRecipientsRequest::parse(&r.to_element()).unwrap(), r);
    }

    #[test]
    fn rejects_bad_requests() {
        let none = Element::new(rr::RESOLVE_RECIPIENTS);
        assert!(ResolveRecipientsRequest::parse(&none).is_err());
        let mut many = Element::new(rr::RESOLVE_RECIPIENTS);
        for i in 0..=MAX_RECIPIENTS {
            many.push_text(rr::TO, format!("user{i}"));
        }
        assert!(matches!(
            ResolveRecipientsRequest::parse(&many),
            Err(ParseError::Invalid { .. })
        ));
        let bad_retrieval = Element::new(rr::RESOLVE_RECIPIENTS)
            .with_text(rr::TO, "x")
            .with(Element::new(rr::OPTIONS).with_text(rr::CERTIFICATE_RETRIEVAL, "4"));
        assert!(ResolveRecipientsRequest::parse(&bad_retrieval).is_err());
        let half_window = Element::new(rr::RESOLVE_RECIPIENTS)
            .with_text(rr::TO, "x")
            .with(
                Element::new(rr::OPTIONS).with(
                    Element::new(rr::AVAILABILITY)
                        .with_text(rr::START_TIME, "2012-05-03T16:00:00.000Z"),
                ),
            );
        assert!(ResolveRecipientsRequest::parse(&half_window).is_err());
    }

    #[test]
    fn writes_response_in_schema_order() {
        let mut chris = Recipient::new(RecipientType::Gal, "Chris Gray", "chris@example.com");
        chris.availability = Some(RecipientAvailability {
            status: ResolveRecipientsStatus::Success,
            merged_free_busy: Some("0000222200000000".into()),
        });
        chris.certificates = Some(RecipientCertificates {
            status: ResolveRecipientsStatus::Success,
            certificate_count: Some(1),
            recipient_count: Some(1),
            certificates: vec![],
            mini_certificate: Some("MIIBszCCAVmgAwIBAgIQQVxR4o3r".into()),
        });
        chris.picture = Some(RecipientPicture {
            status: ResolveRecipientsStatus::Success,
            data: Some(vec![0x89, b'P', b'N', b'G']),
        });
        let mut green = Recipient::new(RecipientType::Contact, "Chris Green", "cgreen@example.com");
        green.certificates = Some(RecipientCertificates {
            status: ResolveRecipientsStatus::NoValidCertificate,
            certificate_count: Some(0),
            recipient_count: None,
            certificates: vec![],
            mini_certificate: None,
        });
        let resp = ResolveRecipientsResponse {
            status: ResolveRecipientsStatus::Success,
            responses: vec![
                ResolveRecipientsResult {
                    to: "chris".into(),
                    status: ResolveRecipientsStatus::Ambiguous,
                    recipient_count: Some(2),
                    recipients: vec![chris, green],
                },
                ResolveRecipientsResult {
                    to: "nobody".into(),
                    status: ResolveRecipientsStatus::NotResolved,
                    recipient_count: Some(0),
                    recipients: vec![],
                },
            ],
        };
        let e = resp.to_element();
        let first = e.child(rr::RESPONSE).unwrap();
        let tags: Vec<Tag> = first.elements().map(|c| c.tag).collect();
        assert_eq!(
            tags,
            [
                rr::TO,
                rr::STATUS,
                rr::RECIPIENT_COUNT,
                rr::RECIPIENT,
                rr::RECIPIENT
            ]
        );
        let rec = first.child(rr::RECIPIENT).unwrap();
        let tags: Vec<Tag> = rec.elements().map(|c| c.tag).collect();
        assert_eq!(
            tags,
            [
                rr::TYPE,
                rr::DISPLAY_NAME,
                rr::EMAIL_ADDRESS,
                rr::AVAILABILITY,
                rr::CERTIFICATES,
                rr::PICTURE
            ]
        );
        assert_eq!(first.child_text(rr::STATUS).unwrap(), "2");
        assert_eq!(ResolveRecipientsResponse::parse(&e).unwrap(), resp);
    }

    #[test]
    fn failure_and_status_codes() {
        let e =
            ResolveRecipientsResponse::status(ResolveRecipientsStatus::ProtocolError).to_element();
        assert_eq!(e.child_text(rr::STATUS).unwrap(), "5");
        assert!(e.child(rr::RESPONSE).is_none());
        for c in 1..=8u16 {
            assert_eq!(ResolveRecipientsStatus::from_code(c).unwrap().code(), c);
        }
        assert_eq!(
            ResolveRecipientsStatus::from_code(163),
            Some(ResolveRecipientsStatus::Common(
                CommonStatus::AvailabilityFailure
            ))
        );
    }
}
