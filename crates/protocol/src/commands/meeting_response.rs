//! MeetingResponse (MS-ASCMD 2.2.1.11): the user accepts, tentatively accepts or declines
//! meeting requests; the server updates the calendar and answers with the calendar item.

use crate::element::{invalid_value, parse_value, ElementExt};
use crate::error::ParseError;
use crate::items::airsyncbase::Body;
use crate::items::email::Importance;
use crate::macros::code_enum;
use easd_wbxml::tags::{airsyncbase, email, meeting_response as mr, search};
use easd_wbxml::Element;

code_enum! {
    /// Status of one Result (MS-ASCMD 2.2.3.177.9).
    MeetingResponseStatus: u16 {
        /// 1
        Success = 1,
        /// 2: the meeting request is invalid (not found, not a meeting request...).
        InvalidMeetingRequest = 2,
        /// 3: an error occurred on the server mailbox.
        MailboxError = 3,
        /// 4: an error occurred on the server.
        ServerError = 4,
    }
    common
}

/// The user's answer (MS-ASCMD UserResponse).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UserResponse {
    /// 1
    Accepted,
    /// 2
    TentativelyAccepted,
    /// 3
    Declined,
}

impl UserResponse {
    pub const fn code(self) -> u8 {
        match self {
            UserResponse::Accepted => 1,
            UserResponse::TentativelyAccepted => 2,
            UserResponse::Declined => 3,
        }
    }

    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(UserResponse::Accepted),
            2 => Some(UserResponse::TentativelyAccepted),
            3 => Some(UserResponse::Declined),
            _ => None,
        }
    }
}

/// The response the organizer gets (MS-ASCMD 2.2.3.163 SendResponse, 16.0+): with it the
/// server sends a reply to the organizer, optionally proposing a new time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendResponse {
    /// ProposedStartTime (Compact DateTime, MS-ASDTYPE 2.7.2).
    pub proposed_start_time: Option<String>,
    /// ProposedEndTime (Compact DateTime).
    pub proposed_end_time: Option<String>,
    /// airsyncbase:Body: the text of the reply.
    pub body: Option<Body>,
    /// email:Importance of the reply.
    pub importance: Option<Importance>,
}

impl SendResponse {
    pub fn parse(e: &Element) -> Result<Self, ParseError> {
        let importance = match e.optional_parse::<u8>(email::IMPORTANCE)? {
            None => None,
            Some(c) => Some(Importance::from_code(c).ok_or_else(|| {
                invalid_value(email::IMPORTANCE, &c.to_string(), "expected 0, 1 or 2")
            })?),
        };
        Ok(SendResponse {
            proposed_start_time: e.optional_text(mr::PROPOSED_START_TIME),
            proposed_end_time: e.optional_text(mr::PROPOSED_END_TIME),
            body: e.child(airsyncbase::BODY).map(Body::parse).transpose()?,
            importance,
        })
    }

    pub fn to_element(&self) -> Element {
        let mut e = Element::new(mr::SEND_RESPONSE);
        e.push_opt(mr::PROPOSED_START_TIME, self.proposed_start_time.as_deref())
            .push_opt(mr::PROPOSED_END_TIME, self.proposed_end_time.as_deref());
        if let Some(b) = &self.body {
            e.push(b.to_element());
        }
        e.push_opt(email::IMPORTANCE, self.importance.map(Importance::code));
        e
    }
}

/// One meeting request answered (MS-ASCMD Request in MeetingResponse).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingResponseRequestItem {
    pub user_response: UserResponse,
    /// CollectionId: the folder of the meeting request (with RequestId).
    pub collection_id: Option<String>,
    /// RequestId: the ServerId of the meeting request message or calendar item.
    pub request_id: Option<String>,
    /// search:LongId: the item found by Search (instead of CollectionId and RequestId).
    pub long_id: Option<String>,
    /// InstanceId (14.1+): the occurrence of a recurring meeting (MS-ASDTYPE dateTime).
    pub instance_id: Option<String>,
    /// SendResponse (16.0+): send a reply to the organizer.
    pub send_response: Option<SendResponse>,
}

impl MeetingResponseRequestItem {
    pub fn parse(e: &Element) -> Result<Self, ParseError> {
        let code: u8 = e.required_parse(mr::USER_RESPONSE)?;
        let user_response = UserResponse::from_code(code).ok_or_else(|| {
            invalid_value(mr::USER_RESPONSE, &code.to_string(), "expected 1, 2 or 3")
        })?;
        Ok(MeetingResponseRequestItem {
            user_response,
            collection_id: e.optional_text(mr::COLLECTION_ID),
            request_id: e.optional_text(mr::REQUEST_ID),
            long_id: e.optional_text(search::LONG_ID),
            // MeetingResponse:InstanceId; some 16.x clients use airsyncbase:InstanceId.
            instance_id: e
                .optional_text(mr::INSTANCE_ID)
                .or_else(|| e.optional_text(airsyncbase::INSTANCE_ID)),
            send_response: e
                .child(mr::SEND_RESPONSE)
                .map(SendResponse::parse)
                .transpose()?,
        })
    }

    pub fn to_element(&self) -> Element {
        let mut e = Element::new(mr::REQUEST);
        e.push_text(mr::USER_RESPONSE, self.user_response.code().to_string())
            .push_opt(mr::COLLECTION_ID, self.collection_id.as_deref())
            .push_opt(mr::REQUEST_ID, self.request_id.as_deref())
            .push_opt(search::LONG_ID, self.long_id.as_deref())
            .push_opt(mr::INSTANCE_ID, self.instance_id.as_deref());
        if let Some(s) = &self.send_response {
            e.push(s.to_element());
        }
        e
    }
}

/// A MeetingResponse request (MS-ASCMD 2.2.1.11): one or more Requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingResponseRequest {
    pub requests: Vec<MeetingResponseRequestItem>,
}

impl MeetingResponseRequest {
    pub fn parse(root: &Element) -> Result<Self, ParseError> {
        root.expect_tag(mr::MEETING_RESPONSE)?;
        let requests: Vec<_> = root
            .children_with(mr::REQUEST)
            .map(MeetingResponseRequestItem::parse)
            .collect::<Result<_, _>>()?;
        if requests.is_empty() {
            return Err(ParseError::MissingElement {
                parent: mr::MEETING_RESPONSE,
                element: mr::REQUEST,
            });
        }
        Ok(MeetingResponseRequest { requests })
    }

    /// The request as a document (for tests and tools).
    pub fn to_element(&self) -> Element {
        let mut e = Element::new(mr::MEETING_RESPONSE);
        for r in &self.requests {
            e.push(r.to_element());
        }
        e
    }
}

/// The outcome of one Request (MS-ASCMD Result in MeetingResponse).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingResponseResult {
    /// RequestId, echoed from the request (absent when the request used LongId).
    pub request_id: Option<String>,
    pub status: MeetingResponseStatus,
    /// CalendarId: the ServerId of the calendar item, for an accepted or tentative meeting.
    pub calendar_id: Option<String>,
}

impl MeetingResponseResult {
    pub fn to_element(&self) -> Element {
        let mut e = Element::new(mr::RESULT);
        e.push_opt(mr::REQUEST_ID, self.request_id.as_deref())
            .push_text(mr::STATUS, self.status.to_string())
            .push_opt(mr::CALENDAR_ID, self.calendar_id.as_deref());
        e
    }

    pub fn parse(e: &Element) -> Result<Self, ParseError> {
        let status_el = e.required(mr::STATUS)?;
        let code: u16 = parse_value(status_el)?;
        Ok(MeetingResponseResult {
            request_id: e.optional_text(mr::REQUEST_ID),
            status: MeetingResponseStatus::from_code(code).ok_or_else(|| {
                invalid_value(
                    mr::STATUS,
                    &code.to_string(),
                    "unknown MeetingResponse status",
                )
            })?,
            calendar_id: e.optional_text(mr::CALENDAR_ID),
        })
    }
}

/// A MeetingResponse response: one Result per Request, in order. The command has no
/// top-level Status: a request that does not parse is answered with HTTP 400.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingResponseResponse {
    pub results: Vec<MeetingResponseResult>,
}

impl MeetingResponseResponse {
    pub fn to_element(&self) -> Element {
        let mut e = Element::new(mr::MEETING_RESPONSE);
        for r in &self.results {
            e.push(r.to_element());
        }
        e
    }

    pub fn parse(root: &Element) -> Result<Self, ParseError> {
        root.expect_tag(mr::MEETING_RESPONSE)?;
        Ok(MeetingResponseResponse {
            results: root
                .children_with(mr::RESULT)
                .map(MeetingResponseResult::parse)
                .collect::<Result<_, _>>()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::items::airsyncbase::BodyType;

    #[test]
    fn parses_requests_by_id_and_long_id() {
        // MS-ASCMD 2.2.1.11: accept one request by CollectionId/RequestId and one occurrence;
        // decline another found by Search (LongId).
        let root = Element::new(mr::MEETING_RESPONSE)
            .with(
                Element::new(mr::REQUEST)
                    .with_text(mr::USER_RESPONSE, "1")
                    .with_text(mr::COLLECTION_ID, "5")
                    .with_text(mr::REQUEST_ID, "5:7")
                    .with_text(mr::INSTANCE_ID, "2012-05-10T17:00:00.000Z"),
            )
            .with(
                Element::new(mr::REQUEST)
                    .with_text(mr::USER_RESPONSE, "3")
                    .with_text(search::LONG_ID, "RgAAAAAaX9MEq%2fK1TJwZ2Lq%2fm0uPBwCNgdq4"),
            );
        let r = MeetingResponseRequest::parse(&root).unwrap();
        assert_eq!(r.requests.len(), 2);
        let a = &r.requests[0];
        assert_eq!(a.user_response, UserResponse::Accepted);
        assert_eq!(a.collection_id.as_deref(), Some("5"));
        assert_eq!(a.request_id.as_deref(), Some("5:7"));
        assert_eq!(a.instance_id.as_deref(), Some("2012-05-10T17:00:00.000Z"));
        let d = &r.requests[1];
        assert_eq!(d.user_response, UserResponse::Declined);
        assert!(d.long_id.is_some());
        assert_eq!(MeetingResponseRequest::parse(&r.to_element()).unwrap(), r);
    }

    #[test]
    fn parses_16_send_response() {
        let root = Element::new(mr::MEETING_RESPONSE).with(
            Element::new(mr::REQUEST)
                .with_text(mr::USER_RESPONSE, "2")
                .with_text(mr::COLLECTION_ID, "5")
                .with_text(mr::REQUEST_ID, "5:9")
                .with(
                    Element::new(mr::SEND_RESPONSE)
                        .with_text(mr::PROPOSED_START_TIME, "20120510T170000Z")
                        .with_text(mr::PROPOSED_END_TIME, "20120510T180000Z")
                        .with(
                            Element::new(airsyncbase::BODY)
                                .with_text(airsyncbase::TYPE, "1")
                                .with_text(airsyncbase::DATA, "Could we meet an hour later?"),
                        )
                        .with_text(email::IMPORTANCE, "2"),
                ),
        );
        let r = MeetingResponseRequest::parse(&root).unwrap();
        let s = r.requests[0].send_response.as_ref().unwrap();
        assert_eq!(s.proposed_start_time.as_deref(), Some("20120510T170000Z"));
        assert_eq!(s.body.as_ref().unwrap().body_type, BodyType::Plain);
        assert_eq!(s.importance, Some(Importance::High));
        assert_eq!(MeetingResponseRequest::parse(&r.to_element()).unwrap(), r);
    }

    #[test]
    fn rejects_bad_requests() {
        assert!(MeetingResponseRequest::parse(&Element::new(mr::MEETING_RESPONSE)).is_err());
        let bad = Element::new(mr::MEETING_RESPONSE)
            .with(Element::new(mr::REQUEST).with_text(mr::USER_RESPONSE, "4"));
        assert!(MeetingResponseRequest::parse(&bad).is_err());
        let missing = Element::new(mr::MEETING_RESPONSE)
            .with(Element::new(mr::REQUEST).with_text(mr::REQUEST_ID, "5:7"));
        assert!(matches!(
            MeetingResponseRequest::parse(&missing),
            Err(ParseError::MissingElement { element, .. }) if element == mr::USER_RESPONSE
        ));
    }

    #[test]
    fn writes_results() {
        let resp = MeetingResponseResponse {
            results: vec![
                MeetingResponseResult {
                    request_id: Some("5:7".into()),
                    status: MeetingResponseStatus::Success,
                    calendar_id: Some("1:14".into()),
                },
                MeetingResponseResult {
                    request_id: Some("5:9".into()),
                    status: MeetingResponseStatus::InvalidMeetingRequest,
                    calendar_id: None,
                },
            ],
        };
        let e = resp.to_element();
        let first = e.child(mr::RESULT).unwrap();
        let tags: Vec<_> = first.elements().map(|c| c.tag).collect();
        assert_eq!(tags, [mr::REQUEST_ID, mr::STATUS, mr::CALENDAR_ID]);
        assert_eq!(MeetingResponseResponse::parse(&e).unwrap(), resp);
    }
}
