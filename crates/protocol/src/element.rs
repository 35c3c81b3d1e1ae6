//! Reading and writing command elements: the small helpers every command module uses, so
//! that each rule ("a required child", "an EAS boolean is 0 or 1") is written once.

use crate::error::ParseError;
use easd_wbxml::{Element, Tag};
use std::fmt::Display;
use std::str::FromStr;

/// Typed access to an element's children for request parsers, and optional children for
/// response writers.
pub trait ElementExt {
    /// Checks that this element (a document root) is `tag`.
    fn expect_tag(&self, tag: Tag) -> Result<(), ParseError>;

    /// The first child with `tag`, or `MissingElement`.
    fn required(&self, tag: Tag) -> Result<&Element, ParseError>;

    /// The text of the first child with `tag`, or `MissingElement`. An empty element gives "".
    fn required_text(&self, tag: Tag) -> Result<String, ParseError>;

    /// The text of the first child with `tag`, if present (an empty element gives "").
    fn optional_text(&self, tag: Tag) -> Option<String>;

    /// Like `required_text`, and `InvalidValue` when longer than `max` bytes (the spec's
    /// bound on SyncKey, ServerId, DisplayName...).
    fn required_text_max(&self, tag: Tag, max: usize) -> Result<String, ParseError>;

    /// Like `optional_text`, and `InvalidValue` when longer than `max` bytes.
    fn optional_text_max(&self, tag: Tag, max: usize) -> Result<Option<String>, ParseError>;

    /// The first child with `tag`, parsed; `None` if absent, `InvalidValue` if unparsable.
    fn optional_parse<T: FromStr>(&self, tag: Tag) -> Result<Option<T>, ParseError>;

    /// The first child with `tag`, parsed; `MissingElement` if absent.
    fn required_parse<T: FromStr>(&self, tag: Tag) -> Result<T, ParseError>;

    /// An optional EAS boolean child ("0" or "1", MS-ASDTYPE 2.1); an empty element counts
    /// as present and true, as several clients send `<DeleteSubFolders/>`-style flags.
    fn optional_bool(&self, tag: Tag) -> Result<Option<bool>, ParseError>;

    /// Appends `<tag>value</tag>` when `value` is `Some`.
    fn push_opt<V: Display>(&mut self, tag: Tag, value: Option<V>) -> &mut Self;

    /// Appends `<tag>0|1</tag>` when `value` is `Some`.
    fn push_opt_bool(&mut self, tag: Tag, value: Option<bool>) -> &mut Self;
}

impl ElementExt for Element {
    fn expect_tag(&self, tag: Tag) -> Result<(), ParseError> {
        if self.tag == tag {
            Ok(())
        } else {
            Err(ParseError::UnexpectedRoot {
                expected: tag,
                found: self.tag,
            })
        }
    }

    fn required(&self, tag: Tag) -> Result<&Element, ParseError> {
        self.child(tag).ok_or(ParseError::MissingElement {
            parent: self.tag,
            element: tag,
        })
    }

    fn required_text(&self, tag: Tag) -> Result<String, ParseError> {
        Ok(self.required(tag)?.text().unwrap_or_default())
    }

    fn optional_text(&self, tag: Tag) -> Option<String> {
        self.child(tag).map(|e| e.text().unwrap_or_default())
    }

    fn required_text_max(&self, tag: Tag, max: usize) -> Result<String, ParseError> {
        bounded(tag, self.required_text(tag)?, max)
    }

    fn optional_text_max(&self, tag: Tag, max: usize) -> Result<Option<String>, ParseError> {
        self.optional_text(tag)
            .map(|t| bounded(tag, t, max))
            .transpose()
    }

    fn optional_parse<T: FromStr>(&self, tag: Tag) -> Result<Option<T>, ParseError> {
        match self.child(tag) {
            None => Ok(None),
            Some(e) => parse_value(e).map(Some),
        }
    }

    fn required_parse<T: FromStr>(&self, tag: Tag) -> Result<T, ParseError> {
        parse_value(self.required(tag)?)
    }

    fn optional_bool(&self, tag: Tag) -> Result<Option<bool>, ParseError> {
        let Some(e) = self.child(tag) else {
            return Ok(None);
        };
        let text = e.text().unwrap_or_default();
        match text.trim() {
            "" | "1" => Ok(Some(true)),
            "0" => Ok(Some(false)),
            _ => Err(invalid_value(e.tag, &text, "expected 0 or 1")),
        }
    }

    fn push_opt<V: Display>(&mut self, tag: Tag, value: Option<V>) -> &mut Self {
        if let Some(v) = value {
            self.push_text(tag, v.to_string());
        }
        self
    }

    fn push_opt_bool(&mut self, tag: Tag, value: Option<bool>) -> &mut Self {
        self.push_opt(tag, value.map(u8::from))
    }
}

fn bounded(tag: Tag, text: String, max: usize) -> Result<String, ParseError> {
    if text.len() > max {
        Err(invalid_value(tag, &text, "too long"))
    } else {
        Ok(text)
    }
}

/// Parses an element's text (trimmed) as `T`.
pub fn parse_value<T: FromStr>(e: &Element) -> Result<T, ParseError> {
    let text = e.text().unwrap_or_default();
    text.trim()
        .parse()
        .map_err(|_| invalid_value(e.tag, &text, "not a valid value for this element"))
}

/// An `InvalidValue` error, with the value cut to a loggable length.
pub fn invalid_value(element: Tag, value: &str, reason: &'static str) -> ParseError {
    ParseError::InvalidValue {
        element,
        value: value.chars().take(64).collect(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use easd_wbxml::tags::airsync;

    fn sample() -> Element {
        Element::new(airsync::SYNC)
            .with_text(airsync::SYNC_KEY, "7")
            .with_text(airsync::WINDOW_SIZE, "x")
            .with(Element::new(airsync::GET_CHANGES))
            .with_text(airsync::DELETES_AS_MOVES, "0")
    }

    #[test]
    fn required_and_optional_children() {
        let e = sample();
        assert!(e.expect_tag(airsync::SYNC).is_ok());
        assert!(e.expect_tag(airsync::COLLECTION).is_err());
        assert_eq!(e.required_text(airsync::SYNC_KEY).unwrap(), "7");
        assert_eq!(e.required_text_max(airsync::SYNC_KEY, 1).unwrap(), "7");
        assert!(e.required_text_max(airsync::WINDOW_SIZE, 0).is_err());
        assert_eq!(e.optional_text_max(airsync::CLASS, 0).unwrap(), None);
        assert_eq!(e.required_parse::<u32>(airsync::SYNC_KEY).unwrap(), 7);
        assert!(matches!(
            e.required_text(airsync::CLASS),
            Err(ParseError::MissingElement { .. })
        ));
        assert!(matches!(
            e.optional_parse::<u32>(airsync::WINDOW_SIZE),
            Err(ParseError::InvalidValue { .. })
        ));
        assert_eq!(e.optional_parse::<u32>(airsync::LIMIT).unwrap(), None);
        assert_eq!(e.optional_bool(airsync::GET_CHANGES).unwrap(), Some(true));
        assert_eq!(
            e.optional_bool(airsync::DELETES_AS_MOVES).unwrap(),
            Some(false)
        );
        assert_eq!(e.optional_bool(airsync::WAIT).unwrap(), None);
        assert!(e.optional_bool(airsync::WINDOW_SIZE).is_err());
    }

    #[test]
    fn push_optional_children() {
        let mut e = Element::new(airsync::SYNC);
        e.push_opt(airsync::LIMIT, Some(5u32))
            .push_opt::<u32>(airsync::WAIT, None)
            .push_opt_bool(airsync::GET_CHANGES, Some(true));
        assert_eq!(e.child_text(airsync::LIMIT).as_deref(), Some("5"));
        assert!(e.child(airsync::WAIT).is_none());
        assert_eq!(e.child_text(airsync::GET_CHANGES).as_deref(), Some("1"));
    }
}
