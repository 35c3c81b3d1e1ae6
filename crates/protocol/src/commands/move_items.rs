//! MoveItems (MS-ASCMD 2.2.1.12): moves items from one folder to another.
//!
//! ```text
//! request:  MoveItems/Move+/{SrcMsgId, SrcFldId, DstFldId}
//! response: MoveItems/Response+/{SrcMsgId, Status, DstMsgId?}
//! ```

use crate::commands::folder_sync::MAX_SERVER_ID_LEN;
use crate::element::ElementExt;
use crate::error::ParseError;
use crate::status::MoveItemsStatus;
use easd_wbxml::tags::move_ as mv;
use easd_wbxml::Element;

/// One item to move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Move {
    /// The item's ServerId.
    pub src_msg_id: String,
    /// The folder it is in.
    pub src_fld_id: String,
    /// The folder to move it to.
    pub dst_fld_id: String,
}

/// MoveItems request: one or more moves, answered in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoveItemsRequest {
    pub moves: Vec<Move>,
}

impl MoveItemsRequest {
    pub fn parse(root: &Element) -> Result<Self, ParseError> {
        root.expect_tag(mv::MOVE_ITEMS)?;
        let moves = root
            .children_with(mv::MOVE)
            .map(|m| {
                Ok(Move {
                    src_msg_id: m.required_text_max(mv::SRC_MSG_ID, MAX_SERVER_ID_LEN)?,
                    src_fld_id: m.required_text_max(mv::SRC_FLD_ID, MAX_SERVER_ID_LEN)?,
                    dst_fld_id: m.required_text_max(mv::DST_FLD_ID, MAX_SERVER_ID_LEN)?,
                })
            })
            .collect::<Result<Vec<_>, ParseError>>()?;
        if moves.is_empty() {
            return Err(ParseError::MissingElement {
                parent: mv::MOVE_ITEMS,
                element: mv::MOVE,
            });
        }
        Ok(MoveItemsRequest { moves })
    }
}

/// The result of one move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoveResponse {
    pub src_msg_id: String,
    pub status: MoveItemsStatus,
    /// The item's new ServerId, on success.
    pub dst_msg_id: Option<String>,
}

/// MoveItems response: one Response per Move, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoveItemsResponse {
    pub responses: Vec<MoveResponse>,
}

impl MoveItemsResponse {
    pub fn to_element(&self) -> Element {
        let mut root = Element::new(mv::MOVE_ITEMS);
        for r in &self.responses {
            let mut e = Element::new(mv::RESPONSE);
            e.push_text(mv::SRC_MSG_ID, &r.src_msg_id)
                .push_text(mv::STATUS, r.status.to_string())
                .push_opt(mv::DST_MSG_ID, r.dst_msg_id.as_ref());
            root.push(e);
        }
        root
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn move_el(src: &str, from: &str, to: &str) -> Element {
        Element::new(mv::MOVE)
            .with_text(mv::SRC_MSG_ID, src)
            .with_text(mv::SRC_FLD_ID, from)
            .with_text(mv::DST_FLD_ID, to)
    }

    #[test]
    fn parses_request() {
        let req = Element::new(mv::MOVE_ITEMS)
            .with(move_el("5:21", "5", "12"))
            .with(move_el("5:22", "5", "12"));
        let parsed = MoveItemsRequest::parse(&req).unwrap();
        assert_eq!(parsed.moves.len(), 2);
        assert_eq!(
            parsed.moves[1],
            Move {
                src_msg_id: "5:22".into(),
                src_fld_id: "5".into(),
                dst_fld_id: "12".into()
            }
        );
    }

    #[test]
    fn rejects_bad_requests() {
        assert!(MoveItemsRequest::parse(&Element::new(mv::MOVE_ITEMS)).is_err());
        let no_dst = Element::new(mv::MOVE_ITEMS).with(
            Element::new(mv::MOVE)
                .with_text(mv::SRC_MSG_ID, "5:1")
                .with_text(mv::SRC_FLD_ID, "5"),
        );
        assert_eq!(
            MoveItemsRequest::parse(&no_dst),
            Err(ParseError::MissingElement {
                parent: mv::MOVE,
                element: mv::DST_FLD_ID
            })
        );
    }

    #[test]
    fn writes_response() {
        let resp = MoveItemsResponse {
            responses: vec![
                MoveResponse {
                    src_msg_id: "5:21".into(),
                    status: MoveItemsStatus::Success,
                    dst_msg_id: Some("12:1".into()),
                },
                MoveResponse {
                    src_msg_id: "5:22".into(),
                    status: MoveItemsStatus::InvalidSourceId,
                    dst_msg_id: None,
                },
            ],
        };
        assert_eq!(
            resp.to_element(),
            Element::new(mv::MOVE_ITEMS)
                .with(
                    Element::new(mv::RESPONSE)
                        .with_text(mv::SRC_MSG_ID, "5:21")
                        .with_text(mv::STATUS, "3")
                        .with_text(mv::DST_MSG_ID, "12:1")
                )
                .with(
                    Element::new(mv::RESPONSE)
                        .with_text(mv::SRC_MSG_ID, "5:22")
                        .with_text(mv::STATUS, "1")
                )
        );
    }
}
