//! SendMail (MS-ASCMD 2.2.1.17), and the ComposeMail pieces SmartReply and SmartForward
//! share with it: the Source of a reply or forward, and the response with its Status.
//!
//! Two forms reach the server. In 14.0+ the body is a ComposeMail document (ClientId,
//! SaveInSentItems, Mime, ...). In 12.1 the body is the raw RFC 5322 message
//! (Content-Type: message/rfc822) and the options are query parameters (SaveInSent=T,
//! and for SmartReply/SmartForward ItemId, CollectionId, LongId; MS-ASHTTP 2.2.1.1.1.2).

use crate::element::ElementExt;
use crate::error::ParseError;
use crate::status::CommonStatus;
use easd_wbxml::tags::{compose_mail, rights_management};
use easd_wbxml::{Element, Tag};

/// A SendMail request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendMailRequest {
    /// ClientId (2.2.3.28.1): the client's id for the message, to detect a resend of a
    /// message already sent (Status 118). `None` in the 12.1 form.
    pub client_id: Option<String>,
    /// AccountId (14.1+): the account to send from.
    pub account_id: Option<String>,
    /// SaveInSentItems: keep a copy in Sent Items.
    pub save_in_sent_items: bool,
    /// Mime: the whole RFC 5322 message.
    pub mime: Vec<u8>,
    /// rm:TemplateID (14.1+): protect the message with this rights management template.
    pub template_id: Option<String>,
}

impl SendMailRequest {
    /// Parses the 14.0+ form (a SendMail document).
    pub fn from_wbxml(root: &Element) -> Result<Self, ParseError> {
        root.expect_tag(compose_mail::SEND_MAIL)?;
        let common = ComposeCommon::parse(root)?;
        Ok(SendMailRequest {
            client_id: common.client_id,
            account_id: common.account_id,
            save_in_sent_items: common.save_in_sent_items,
            mime: common.mime,
            template_id: common.template_id,
        })
    }

    /// Same as [`SendMailRequest::from_wbxml`], named like every other command's parser.
    pub fn parse(root: &Element) -> Result<Self, ParseError> {
        SendMailRequest::from_wbxml(root)
    }

    /// The 12.1 form: the HTTP body is the message, `save_in_sent` is the SaveInSent query
    /// parameter ("T").
    pub fn from_raw_mime(mime: impl Into<Vec<u8>>, save_in_sent: bool) -> Self {
        SendMailRequest {
            client_id: None,
            account_id: None,
            save_in_sent_items: save_in_sent,
            mime: mime.into(),
            template_id: None,
        }
    }

    /// The request as a 14.0+ document (for tests and tools).
    pub fn to_element(&self) -> Element {
        ComposeCommon {
            client_id: self.client_id.clone(),
            account_id: self.account_id.clone(),
            save_in_sent_items: self.save_in_sent_items,
            replace_mime: false,
            mime: self.mime.clone(),
            template_id: self.template_id.clone(),
            remove_rights_management_distribution: false,
        }
        .to_element(compose_mail::SEND_MAIL, None, &[])
    }
}

/// The message a SmartReply or SmartForward refers to (MS-ASCMD 2.2.3.176 Source): either
/// FolderId and ItemId, or LongId (from a Search result), and for a meeting occurrence its
/// InstanceId. Which combination is valid is the engine's to check (Status 105,
/// InvalidCombinationOfIDs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Source {
    pub folder_id: Option<String>,
    pub item_id: Option<String>,
    pub long_id: Option<String>,
    /// InstanceId: the occurrence of a recurring meeting (MS-ASDTYPE dateTime).
    pub instance_id: Option<String>,
}

impl Source {
    pub fn parse(e: &Element) -> Result<Self, ParseError> {
        Ok(Source {
            folder_id: e.optional_text(compose_mail::FOLDER_ID),
            item_id: e.optional_text(compose_mail::ITEM_ID),
            long_id: e.optional_text(compose_mail::LONG_ID),
            instance_id: e.optional_text(compose_mail::INSTANCE_ID),
        })
    }

    /// The 12.1 form: the ItemId, CollectionId and LongId query parameters.
    pub fn from_query(
        item_id: Option<String>,
        collection_id: Option<String>,
        long_id: Option<String>,
    ) -> Self {
        Source {
            folder_id: collection_id,
            item_id,
            long_id,
            instance_id: None,
        }
    }

    /// True when the source names no message at all.
    pub fn is_empty(&self) -> bool {
        self.folder_id.is_none() && self.item_id.is_none() && self.long_id.is_none()
    }

    pub fn to_element(&self) -> Element {
        let mut e = Element::new(compose_mail::SOURCE);
        e.push_opt(compose_mail::FOLDER_ID, self.folder_id.as_deref())
            .push_opt(compose_mail::ITEM_ID, self.item_id.as_deref())
            .push_opt(compose_mail::LONG_ID, self.long_id.as_deref())
            .push_opt(compose_mail::INSTANCE_ID, self.instance_id.as_deref());
        e
    }
}

/// The elements SendMail, SmartReply and SmartForward share.
#[derive(Debug, Clone, Default)]
pub(crate) struct ComposeCommon {
    pub client_id: Option<String>,
    pub account_id: Option<String>,
    pub save_in_sent_items: bool,
    pub replace_mime: bool,
    pub mime: Vec<u8>,
    pub template_id: Option<String>,
    pub remove_rights_management_distribution: bool,
}

impl ComposeCommon {
    /// Reads the shared children of a ComposeMail root. ClientId and Mime are required
    /// (MS-ASCMD 2.2.1.17, 2.2.1.19, 2.2.1.20); the Mime may be OPAQUE or text.
    pub(crate) fn parse(root: &Element) -> Result<Self, ParseError> {
        let client_id = root.required_text(compose_mail::CLIENT_ID)?;
        let mime = root
            .required(compose_mail::MIME)?
            .bytes()
            .unwrap_or_default();
        Ok(ComposeCommon {
            client_id: Some(client_id),
            account_id: root.optional_text(compose_mail::ACCOUNT_ID),
            save_in_sent_items: root.child(compose_mail::SAVE_IN_SENT_ITEMS).is_some(),
            replace_mime: root.child(compose_mail::REPLACE_MIME).is_some(),
            mime,
            template_id: root.optional_text(rights_management::TEMPLATE_ID),
            remove_rights_management_distribution: root
                .child(rights_management::REMOVE_RIGHTS_MANAGEMENT_DISTRIBUTION)
                .is_some(),
        })
    }

    /// A request document in the order of the ComposeMail request schemas: ClientId,
    /// Source, AccountId, SaveInSentItems, ReplaceMime, extra (Forwardees), TemplateID,
    /// RemoveRightsManagementDistribution, Mime.
    pub(crate) fn to_element(
        &self,
        root: Tag,
        source: Option<&Source>,
        extra: &[Element],
    ) -> Element {
        let mut e = Element::new(root);
        e.push_opt(compose_mail::CLIENT_ID, self.client_id.as_deref());
        if let Some(s) = source {
            e.push(s.to_element());
        }
        e.push_opt(compose_mail::ACCOUNT_ID, self.account_id.as_deref());
        if self.save_in_sent_items {
            e.push(Element::new(compose_mail::SAVE_IN_SENT_ITEMS));
        }
        if self.replace_mime {
            e.push(Element::new(compose_mail::REPLACE_MIME));
        }
        for x in extra {
            e.push(x.clone());
        }
        e.push_opt(rights_management::TEMPLATE_ID, self.template_id.as_deref());
        if self.remove_rights_management_distribution {
            e.push(Element::new(
                rights_management::REMOVE_RIGHTS_MANAGEMENT_DISTRIBUTION,
            ));
        }
        e.push(Element::opaque_element(
            compose_mail::MIME,
            self.mime.clone(),
        ));
        e
    }
}

/// The response to SendMail, SmartReply or SmartForward (MS-ASCMD 2.2.3.177.14,
/// 2.2.3.177.16): on success the server answers with an empty body; on failure with the
/// command's root element holding a Status, one of the common codes (MS-ASCMD 2.2.2,
/// e.g. 118 MessagePreviouslySent, 120 MailSubmissionFailed, 150 ItemNotFound).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComposeMailResponse {
    /// The command's root: SendMail, SmartReply or SmartForward.
    pub command: Tag,
    /// `None`: success.
    pub status: Option<CommonStatus>,
}

impl ComposeMailResponse {
    pub fn success(command: Tag) -> Self {
        ComposeMailResponse {
            command,
            status: None,
        }
    }

    pub fn failure(command: Tag, status: CommonStatus) -> Self {
        ComposeMailResponse {
            command,
            status: Some(status),
        }
    }

    /// The answer to a request that does not parse: Status 103, InvalidXML (the request
    /// does not follow the protocol's schema; ComposeMail has only the common codes).
    pub fn protocol_error(command: Tag) -> Self {
        ComposeMailResponse::failure(command, CommonStatus::InvalidXML)
    }

    /// The response document: `<Root><Status>n</Status></Root>`, or an empty root on
    /// success (prefer [`ComposeMailResponse::body`], which sends nothing on success).
    pub fn to_element(&self) -> Element {
        let mut e = Element::new(self.command);
        e.push_opt(compose_mail::STATUS, self.status);
        e
    }

    /// What the HTTP body holds: nothing on success, the Status document otherwise.
    pub fn body(&self) -> Option<Element> {
        self.status.map(|_| self.to_element())
    }

    /// Parses a response document (for tests and tools); a missing body is success.
    pub fn parse(command: Tag, root: Option<&Element>) -> Result<Self, ParseError> {
        let Some(root) = root else {
            return Ok(ComposeMailResponse::success(command));
        };
        root.expect_tag(command)?;
        let status = match root.optional_parse::<u16>(compose_mail::STATUS)? {
            None | Some(1) => None,
            Some(code) => Some(CommonStatus::from_code(code).ok_or_else(|| {
                crate::element::invalid_value(
                    compose_mail::STATUS,
                    &code.to_string(),
                    "not a ComposeMail status",
                )
            })?),
        };
        Ok(ComposeMailResponse { command, status })
    }
}

/// The response to SendMail.
pub type SendMailResponse = ComposeMailResponse;

impl ComposeMailResponse {
    /// A SendMail response.
    pub fn send_mail(status: Option<CommonStatus>) -> Self {
        ComposeMailResponse {
            command: compose_mail::SEND_MAIL,
            status,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIME: &[u8] = b"From: chris@example.com\r\nTo: dana@example.com\r\nSubject: Status\r\n\r\nAll green this week.";

    #[test]
    fn parses_14_form() {
        // A SendMail request (MS-ASCMD 2.2.1.17) with ClientId, SaveInSentItems and the MIME.
        let root = Element::new(compose_mail::SEND_MAIL)
            .with_text(
                compose_mail::CLIENT_ID,
                "d5a9e1d4-3a5e-4f0e-9c55-2e1c0f3d7a11",
            )
            .with_text(compose_mail::ACCOUNT_ID, "1")
            .with(Element::new(compose_mail::SAVE_IN_SENT_ITEMS))
            .with(Element::opaque_element(compose_mail::MIME, MIME.to_vec()));
        let r = SendMailRequest::from_wbxml(&root).unwrap();
        assert_eq!(
            r.client_id.as_deref(),
            Some("d5a9e1d4-3a5e-4f0e-9c55-2e1c0f3d7a11")
        );
        assert_eq!(r.account_id.as_deref(), Some("1"));
        assert!(r.save_in_sent_items);
        assert_eq!(r.mime, MIME);
        assert_eq!(SendMailRequest::parse(&r.to_element()).unwrap(), r);
    }

    #[test]
    fn mime_as_text_is_accepted() {
        let root = Element::new(compose_mail::SEND_MAIL)
            .with_text(compose_mail::CLIENT_ID, "1")
            .with_text(compose_mail::MIME, "Subject: x\r\n\r\ny");
        let r = SendMailRequest::parse(&root).unwrap();
        assert_eq!(r.mime, b"Subject: x\r\n\r\ny");
        assert!(!r.save_in_sent_items);
    }

    #[test]
    fn rejects_missing_parts() {
        let no_mime = Element::new(compose_mail::SEND_MAIL).with_text(compose_mail::CLIENT_ID, "1");
        assert!(matches!(
            SendMailRequest::parse(&no_mime),
            Err(ParseError::MissingElement { element, .. }) if element == compose_mail::MIME
        ));
        let no_id = Element::new(compose_mail::SEND_MAIL)
            .with(Element::opaque_element(compose_mail::MIME, MIME.to_vec()));
        assert!(SendMailRequest::parse(&no_id).is_err());
        let wrong = Element::new(compose_mail::SMART_REPLY);
        assert!(matches!(
            SendMailRequest::parse(&wrong),
            Err(ParseError::UnexpectedRoot { .. })
        ));
    }

    #[test]
    fn raw_mime_form() {
        let r = SendMailRequest::from_raw_mime(MIME, true);
        assert_eq!(r.client_id, None);
        assert!(r.save_in_sent_items);
        assert_eq!(r.mime, MIME);
    }

    #[test]
    fn responses() {
        let ok = SendMailResponse::send_mail(None);
        assert_eq!(ok.body(), None);
        let failed = SendMailResponse::send_mail(Some(CommonStatus::MailSubmissionFailed));
        let e = failed.body().unwrap();
        assert_eq!(e.tag, compose_mail::SEND_MAIL);
        assert_eq!(e.child_text(compose_mail::STATUS).unwrap(), "120");
        assert_eq!(
            ComposeMailResponse::parse(compose_mail::SEND_MAIL, Some(&e)).unwrap(),
            failed
        );
        assert_eq!(
            ComposeMailResponse::parse(compose_mail::SEND_MAIL, None).unwrap(),
            ok
        );
    }

    #[test]
    fn source_from_query() {
        let s = Source::from_query(Some("5:7".into()), Some("5".into()), None);
        assert_eq!(s.folder_id.as_deref(), Some("5"));
        assert!(!s.is_empty());
        assert!(Source::default().is_empty());
        assert_eq!(Source::parse(&s.to_element()).unwrap(), s);
    }
}
