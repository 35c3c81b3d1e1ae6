//! SmartReply (MS-ASCMD 2.2.1.20): the client sends its reply (new text, usually without
//! the original), and the server appends or attaches the original message named by Source
//! unless ReplaceMime says the client's MIME is the whole reply.

use crate::commands::send_mail::{ComposeCommon, ComposeMailResponse, Source};
use crate::element::ElementExt;
use crate::error::ParseError;
use crate::status::CommonStatus;
use easd_wbxml::tags::compose_mail;
use easd_wbxml::Element;

/// A SmartReply request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmartReplyRequest {
    /// ClientId; `None` in the 12.1 form.
    pub client_id: Option<String>,
    /// The message replied to (14.0+: the Source element; 12.1: the query parameters).
    pub source: Source,
    /// AccountId (14.1+).
    pub account_id: Option<String>,
    pub save_in_sent_items: bool,
    /// ReplaceMime: the client's MIME is the complete reply; do not add the original.
    pub replace_mime: bool,
    /// The reply as an RFC 5322 message.
    pub mime: Vec<u8>,
    /// rm:TemplateID (14.1+).
    pub template_id: Option<String>,
    /// rm:RemoveRightsManagementDistribution (16.1): send without the original's
    /// protection.
    pub remove_rights_management_distribution: bool,
}

impl SmartReplyRequest {
    /// Parses the 14.0+ form (a SmartReply document; Source is required).
    pub fn from_wbxml(root: &Element) -> Result<Self, ParseError> {
        root.expect_tag(compose_mail::SMART_REPLY)?;
        let source = Source::parse(root.required(compose_mail::SOURCE)?)?;
        let c = ComposeCommon::parse(root)?;
        Ok(SmartReplyRequest {
            client_id: c.client_id,
            source,
            account_id: c.account_id,
            save_in_sent_items: c.save_in_sent_items,
            replace_mime: c.replace_mime,
            mime: c.mime,
            template_id: c.template_id,
            remove_rights_management_distribution: c.remove_rights_management_distribution,
        })
    }

    /// Same as [`SmartReplyRequest::from_wbxml`].
    pub fn parse(root: &Element) -> Result<Self, ParseError> {
        SmartReplyRequest::from_wbxml(root)
    }

    /// The 12.1 form: the HTTP body is the reply, the source and SaveInSent come from the
    /// query (ItemId, CollectionId, LongId, SaveInSent=T).
    pub fn from_raw_mime(mime: impl Into<Vec<u8>>, save_in_sent: bool, source: Source) -> Self {
        SmartReplyRequest {
            client_id: None,
            source,
            account_id: None,
            save_in_sent_items: save_in_sent,
            replace_mime: false,
            mime: mime.into(),
            template_id: None,
            remove_rights_management_distribution: false,
        }
    }

    /// The request as a 14.0+ document (for tests and tools).
    pub fn to_element(&self) -> Element {
        ComposeCommon {
            client_id: self.client_id.clone(),
            account_id: self.account_id.clone(),
            save_in_sent_items: self.save_in_sent_items,
            replace_mime: self.replace_mime,
            mime: self.mime.clone(),
            template_id: self.template_id.clone(),
            remove_rights_management_distribution: self.remove_rights_management_distribution,
        }
        .to_element(compose_mail::SMART_REPLY, Some(&self.source), &[])
    }
}

/// The response to SmartReply (MS-ASCMD 2.2.3.177.16): empty on success.
pub type SmartReplyResponse = ComposeMailResponse;

impl ComposeMailResponse {
    /// A SmartReply response.
    pub fn smart_reply(status: Option<CommonStatus>) -> Self {
        ComposeMailResponse {
            command: compose_mail::SMART_REPLY,
            status,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_reply_to_a_meeting_occurrence() {
        // A SmartReply (MS-ASCMD 2.2.1.20) with Source FolderId/ItemId/InstanceId and ReplaceMime.
        let root = Element::new(compose_mail::SMART_REPLY)
            .with_text(
                compose_mail::CLIENT_ID,
                "8c1a44b2-5e7d-4d2a-a0f1-6b4b0f2e9e01",
            )
            .with(
                Element::new(compose_mail::SOURCE)
                    .with_text(compose_mail::FOLDER_ID, "5")
                    .with_text(compose_mail::ITEM_ID, "5:7")
                    .with_text(compose_mail::INSTANCE_ID, "2012-05-10T17:00:00.000Z"),
            )
            .with(Element::new(compose_mail::SAVE_IN_SENT_ITEMS))
            .with(Element::new(compose_mail::REPLACE_MIME))
            .with(Element::opaque_element(
                compose_mail::MIME,
                b"Subject: RE: Weekly sync\r\n\r\nI will be 5 minutes late.".to_vec(),
            ));
        let r = SmartReplyRequest::parse(&root).unwrap();
        assert_eq!(r.source.folder_id.as_deref(), Some("5"));
        assert_eq!(r.source.item_id.as_deref(), Some("5:7"));
        assert_eq!(
            r.source.instance_id.as_deref(),
            Some("2012-05-10T17:00:00.000Z")
        );
        assert!(r.save_in_sent_items);
        assert!(r.replace_mime);
        assert_eq!(SmartReplyRequest::parse(&r.to_element()).unwrap(), r);
    }

    #[test]
    fn source_is_required_in_14() {
        let root = Element::new(compose_mail::SMART_REPLY)
            .with_text(compose_mail::CLIENT_ID, "1")
            .with_text(compose_mail::MIME, "x");
        assert!(matches!(
            SmartReplyRequest::parse(&root),
            Err(ParseError::MissingElement { element, .. }) if element == compose_mail::SOURCE
        ));
    }

    #[test]
    fn raw_mime_form_and_response() {
        let r = SmartReplyRequest::from_raw_mime(
            b"Subject: RE: x\r\n\r\nok".to_vec(),
            true,
            Source::from_query(Some("5:7".into()), Some("5".into()), None),
        );
        assert_eq!(r.source.item_id.as_deref(), Some("5:7"));
        assert!(r.save_in_sent_items);
        assert_eq!(SmartReplyResponse::smart_reply(None).body(), None);
        let e = SmartReplyResponse::smart_reply(Some(CommonStatus::ItemNotFound))
            .body()
            .unwrap();
        assert_eq!(e.tag, compose_mail::SMART_REPLY);
        assert_eq!(e.child_text(compose_mail::STATUS).unwrap(), "150");
    }
}
