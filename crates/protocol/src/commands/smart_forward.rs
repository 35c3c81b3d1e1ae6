//! SmartForward (MS-ASCMD 2.2.1.19): the client sends its forward (new text), and the
//! server adds the original message named by Source (with its attachments) unless
//! ReplaceMime says the client's MIME is complete. In 16.0+ a forwarded meeting names its
//! new attendees in Forwardees.

use crate::commands::send_mail::{ComposeCommon, ComposeMailResponse, Source};
use crate::element::ElementExt;
use crate::error::ParseError;
use crate::status::CommonStatus;
use easd_wbxml::tags::compose_mail;
use easd_wbxml::Element;

/// One recipient of a forwarded meeting (MS-ASCMD Forwardee, 16.0+).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forwardee {
    /// ForwardeeName.
    pub name: Option<String>,
    /// ForwardeeEmail.
    pub email: String,
}

impl Forwardee {
    pub fn parse(e: &Element) -> Result<Self, ParseError> {
        Ok(Forwardee {
            name: e.optional_text(compose_mail::FORWARDEE_NAME),
            email: e.required_text(compose_mail::FORWARDEE_EMAIL)?,
        })
    }

    pub fn to_element(&self) -> Element {
        let mut e = Element::new(compose_mail::FORWARDEE);
        e.push_opt(compose_mail::FORWARDEE_NAME, self.name.as_deref())
            .push_text(compose_mail::FORWARDEE_EMAIL, self.email.clone());
        e
    }
}

/// A SmartForward request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmartForwardRequest {
    /// ClientId; `None` in the 12.1 form.
    pub client_id: Option<String>,
    /// The message forwarded (14.0+: the Source element; 12.1: the query parameters).
    pub source: Source,
    /// AccountId (14.1+).
    pub account_id: Option<String>,
    pub save_in_sent_items: bool,
    /// ReplaceMime: the client's MIME is the complete forward; do not add the original.
    pub replace_mime: bool,
    /// The forward as an RFC 5322 message.
    pub mime: Vec<u8>,
    /// Forwardees (16.0+): the people a meeting is forwarded to.
    pub forwardees: Vec<Forwardee>,
    /// rm:TemplateID (14.1+).
    pub template_id: Option<String>,
    /// rm:RemoveRightsManagementDistribution (16.1).
    pub remove_rights_management_distribution: bool,
}

impl SmartForwardRequest {
    /// Parses the 14.0+ form (a SmartForward document; Source is required).
    pub fn from_wbxml(root: &Element) -> Result<Self, ParseError> {
        root.expect_tag(compose_mail::SMART_FORWARD)?;
        let source = Source::parse(root.required(compose_mail::SOURCE)?)?;
        let forwardees = match root.child(compose_mail::FORWARDEES) {
            Some(f) => f
                .children_with(compose_mail::FORWARDEE)
                .map(Forwardee::parse)
                .collect::<Result<_, _>>()?,
            None => Vec::new(),
        };
        let c = ComposeCommon::parse(root)?;
        Ok(SmartForwardRequest {
            client_id: c.client_id,
            source,
            account_id: c.account_id,
            save_in_sent_items: c.save_in_sent_items,
            replace_mime: c.replace_mime,
            mime: c.mime,
            forwardees,
            template_id: c.template_id,
            remove_rights_management_distribution: c.remove_rights_management_distribution,
        })
    }

    /// Same as [`SmartForwardRequest::from_wbxml`].
    pub fn parse(root: &Element) -> Result<Self, ParseError> {
        SmartForwardRequest::from_wbxml(root)
    }

    /// The 12.1 form: the HTTP body is the forward, the source and SaveInSent come from
    /// the query (ItemId, CollectionId, LongId, SaveInSent=T).
    pub fn from_raw_mime(mime: impl Into<Vec<u8>>, save_in_sent: bool, source: Source) -> Self {
        SmartForwardRequest {
            client_id: None,
            source,
            account_id: None,
            save_in_sent_items: save_in_sent,
            replace_mime: false,
            mime: mime.into(),
            forwardees: Vec::new(),
            template_id: None,
            remove_rights_management_distribution: false,
        }
    }

    /// The request as a 14.0+ document (for tests and tools).
    pub fn to_element(&self) -> Element {
        let extra: Vec<Element> = if self.forwardees.is_empty() {
            Vec::new()
        } else {
            let mut f = Element::new(compose_mail::FORWARDEES);
            for x in &self.forwardees {
                f.push(x.to_element());
            }
            vec![f]
        };
        ComposeCommon {
            client_id: self.client_id.clone(),
            account_id: self.account_id.clone(),
            save_in_sent_items: self.save_in_sent_items,
            replace_mime: self.replace_mime,
            mime: self.mime.clone(),
            template_id: self.template_id.clone(),
            remove_rights_management_distribution: self.remove_rights_management_distribution,
        }
        .to_element(compose_mail::SMART_FORWARD, Some(&self.source), &extra)
    }
}

/// The response to SmartForward (MS-ASCMD 2.2.3.177.16): empty on success.
pub type SmartForwardResponse = ComposeMailResponse;

impl ComposeMailResponse {
    /// A SmartForward response.
    pub fn smart_forward(status: Option<CommonStatus>) -> Self {
        ComposeMailResponse {
            command: compose_mail::SMART_FORWARD,
            status,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use easd_wbxml::tags::rights_management as rm;

    #[test]
    fn parses_forward_with_forwardees_and_rights_management() {
        let root = Element::new(compose_mail::SMART_FORWARD)
            .with_text(
                compose_mail::CLIENT_ID,
                "0f0e8b52-2f7c-4f3e-9f93-55a1c6f2b8d3",
            )
            .with(Element::new(compose_mail::SOURCE).with_text(
                compose_mail::LONG_ID,
                "RgAAAAAaX9MEq%2fK1TJwZ2Lq%2fm0uPBwCNgdq4",
            ))
            .with(Element::new(compose_mail::SAVE_IN_SENT_ITEMS))
            .with(
                Element::new(compose_mail::FORWARDEES)
                    .with(
                        Element::new(compose_mail::FORWARDEE)
                            .with_text(compose_mail::FORWARDEE_NAME, "Dana Smith")
                            .with_text(compose_mail::FORWARDEE_EMAIL, "dana@example.com"),
                    )
                    .with(
                        Element::new(compose_mail::FORWARDEE)
                            .with_text(compose_mail::FORWARDEE_EMAIL, "pat@example.com"),
                    ),
            )
            .with_text(rm::TEMPLATE_ID, "4a7c2f53-0b1d-4c7e-9d2b-000000000001")
            .with(Element::new(rm::REMOVE_RIGHTS_MANAGEMENT_DISTRIBUTION))
            .with(Element::opaque_element(
                compose_mail::MIME,
                b"Subject: FW: Quarterly numbers\r\n\r\nFYI, see below.".to_vec(),
            ));
        let r = SmartForwardRequest::parse(&root).unwrap();
        assert_eq!(
            r.source.long_id.as_deref(),
            Some("RgAAAAAaX9MEq%2fK1TJwZ2Lq%2fm0uPBwCNgdq4")
        );
        assert_eq!(r.forwardees.len(), 2);
        assert_eq!(r.forwardees[0].name.as_deref(), Some("Dana Smith"));
        assert_eq!(r.forwardees[1].email, "pat@example.com");
        assert_eq!(
            r.template_id.as_deref(),
            Some("4a7c2f53-0b1d-4c7e-9d2b-000000000001")
        );
        assert!(r.remove_rights_management_distribution);
        assert!(!r.replace_mime);
        assert_eq!(SmartForwardRequest::parse(&r.to_element()).unwrap(), r);
    }

    #[test]
    fn forwardee_needs_an_address() {
        let root = Element::new(compose_mail::SMART_FORWARD)
            .with_text(compose_mail::CLIENT_ID, "1")
            .with(Element::new(compose_mail::SOURCE).with_text(compose_mail::LONG_ID, "x"))
            .with(
                Element::new(compose_mail::FORWARDEES).with(
                    Element::new(compose_mail::FORWARDEE)
                        .with_text(compose_mail::FORWARDEE_NAME, "No Address"),
                ),
            )
            .with_text(compose_mail::MIME, "x");
        assert!(SmartForwardRequest::parse(&root).is_err());
    }

    #[test]
    fn raw_mime_form_and_response() {
        let r = SmartForwardRequest::from_raw_mime(
            b"Subject: FW: x\r\n\r\nfyi".to_vec(),
            false,
            Source::from_query(None, None, Some("RgAAAA".into())),
        );
        assert_eq!(r.source.long_id.as_deref(), Some("RgAAAA"));
        assert!(!r.save_in_sent_items);
        let e = SmartForwardResponse::smart_forward(Some(CommonStatus::MessageReplyNotAllowed))
            .body()
            .unwrap();
        assert_eq!(e.tag, compose_mail::SMART_FORWARD);
        assert_eq!(e.child_text(compose_mail::STATUS).unwrap(), "117");
    }
}
