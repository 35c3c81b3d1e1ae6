//! WBXML 1.3 → element tree.
//!
//! The grammar is WBXML 1.3 section 5.3 restricted to what MS-ASWBXML section 2.1.2 allows:
//! tags, SWITCH_PAGE, END, STR_I and OPAQUE. Everything else (attributes, entities,
//! literals, extensions, string-table references, processing instructions) is rejected
//! with an error naming the token, because no EAS peer sends them and accepting them
//! would mean inventing a meaning for them.
//!
//! The decoder is a loop over the input with an explicit stack of open elements, so a
//! hostile document cannot exhaust the call stack; `Limits` bounds the work it can cause.

use crate::{Element, Node, Tag, CODE_PAGES};
use thiserror::Error;

/// Bounds on what one document may make the decoder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest accepted input, in bytes (default 64 MiB).
    pub max_input_bytes: usize,
    /// Deepest accepted element nesting; the root is depth 1 (default 64).
    pub max_depth: usize,
    /// Most elements in one document (default 1,000,000).
    pub max_elements: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_input_bytes: 64 << 20,
            max_depth: 64,
            max_elements: 1_000_000,
        }
    }
}

/// Why a document was rejected, and at which byte.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("byte {offset}: {kind}")]
pub struct DecodeError {
    /// Offset of the offending byte from the start of the input.
    pub offset: usize,
    pub kind: DecodeErrorKind,
}

/// The kinds of `DecodeError`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeErrorKind {
    #[error("input is {len} bytes, over the limit of {max}")]
    InputTooLarge { len: usize, max: usize },
    #[error("unexpected end of input {context}")]
    UnexpectedEof { context: &'static str },
    #[error("unexpected end of input: {open} element(s) still open, innermost <{innermost}>")]
    UnclosedElements { open: usize, innermost: String },
    #[error("unsupported WBXML version 0x{0:02X} (expected 0x03 for WBXML 1.3)")]
    UnsupportedVersion(u8),
    #[error("public identifier refers to the string table, which ActiveSync does not use")]
    PublicIdInStringTable,
    #[error("unsupported charset {0} (ActiveSync requires UTF-8, MIBenum 106)")]
    UnsupportedCharset(u32),
    #[error("string table of {0} bytes is not supported (ActiveSync sends an empty one)")]
    StringTable(u32),
    #[error("malformed mb_u_int32 (longer than 5 bytes or over 32 bits)")]
    BadMultiByteInt,
    #[error("unknown code page {0}")]
    UnknownPage(u8),
    #[error("unknown token 0x{token:02X} on code page {page} ({page_name})")]
    UnknownToken {
        page: u8,
        page_name: &'static str,
        token: u8,
    },
    #[error("tag 0x{token:02X} on code page {page} has attributes (byte 0x{byte:02X}); ActiveSync uses none")]
    Attributes { page: u8, token: u8, byte: u8 },
    #[error("{name} token (0x{byte:02X}) is not used by ActiveSync")]
    UnsupportedToken { name: &'static str, byte: u8 },
    #[error("inline string is not terminated")]
    UnterminatedString,
    #[error("inline string is not valid UTF-8")]
    InvalidUtf8,
    #[error("opaque data of {len} bytes runs past the end of the input")]
    OpaqueOverrun { len: u32 },
    #[error("END token with no open element")]
    UnmatchedEnd,
    #[error("content outside the root element")]
    ContentOutsideRoot,
    #[error("second root element (a document has exactly one)")]
    MultipleRoots,
    #[error("document has no root element")]
    NoRoot,
    #[error("elements nested deeper than {0}")]
    TooDeep(usize),
    #[error("more than {0} elements")]
    TooManyElements(usize),
}

// Global tokens, WBXML 1.3 section 7.1.
const SWITCH_PAGE: u8 = 0x00;
const END: u8 = 0x01;
const STR_I: u8 = 0x03;
const OPAQUE: u8 = 0xC3;
const TAG_CONTENT: u8 = 0x40;
const TAG_ATTRIBUTES: u8 = 0x80;

/// The UTF-8 charset's IANA MIBenum, the only one MS-ASWBXML section 2.1.2.1 allows.
const CHARSET_UTF8: u32 = 106;

/// Decodes one ActiveSync WBXML document with the default `Limits`.
pub fn decode(bytes: &[u8]) -> Result<Element, DecodeError> {
    decode_with(bytes, &Limits::default())
}

/// Decodes one ActiveSync WBXML document.
pub fn decode_with(bytes: &[u8], limits: &Limits) -> Result<Element, DecodeError> {
    let mut reader = Reader::new(bytes, limits)?;
    let mut stack: Vec<Element> = Vec::with_capacity(16);
    while let Some(event) = reader.next_event()? {
        match event {
            Event::Start { tag, content } => {
                let element = Element::new(tag);
                if content {
                    stack.push(element);
                } else if let Some(parent) = stack.last_mut() {
                    parent.children.push(Node::Element(element));
                } else {
                    return reader.finish(element);
                }
            }
            Event::End => {
                // The reader only reports an END that closes an open element.
                let Some(done) = stack.pop() else { break };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(Node::Element(done)),
                    None => return reader.finish(done),
                }
            }
            Event::Text(text) => {
                if let Some(parent) = stack.last_mut() {
                    // Consecutive strings are one run of character data in XML terms;
                    // merging keeps the tree identical to what its XML form parses to.
                    match parent.children.last_mut() {
                        Some(Node::Text(prev)) => prev.push_str(text),
                        _ => parent.children.push(Node::Text(text.to_owned())),
                    }
                }
            }
            Event::Opaque(data) => {
                if let Some(parent) = stack.last_mut() {
                    parent.children.push(Node::Opaque(data.to_vec()));
                }
            }
            // Only a `revisit` reader produces these.
            Event::RevisitedText(_) => {}
        }
    }
    // The reader reports a missing or unclosed root before running out of events.
    Err(reader.no_root())
}

/// One step of a WBXML document, as `Reader` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Event<'a> {
    /// A tag; `content` false means it is also the end of the element (no END follows).
    Start {
        tag: Tag,
        content: bool,
    },
    /// The end of the innermost element started with content.
    End,
    /// A non-empty inline string (empty ones carry no data and are not reported).
    Text(&'a str),
    /// The same from a reader made with `Reader::revisit`: the bytes of a document that
    /// already passed a validating reader, so known to be UTF-8 but not checked again.
    RevisitedText(&'a [u8]),
    Opaque(&'a [u8]),
}

/// A validating pull parser over a WBXML document: every structural and lexical rule is
/// checked here, so that the tree decoder and the streaming XML converter agree on what
/// is valid and report the same errors at the same offsets.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    limits: &'a Limits,
    page: u8,
    /// Tags of the open elements (for the depth limit and the unclosed-element error).
    open: Vec<Tag>,
    root_started: bool,
    elements: usize,
    /// False only for `revisit`: inline strings are not checked for UTF-8 again.
    check_utf8: bool,
}

fn fail<T>(offset: usize, kind: DecodeErrorKind) -> Result<T, DecodeError> {
    Err(DecodeError { offset, kind })
}

impl<'a> Reader<'a> {
    /// Checks the size limit and the header; the reader is then at the first body token.
    pub(crate) fn new(buf: &'a [u8], limits: &'a Limits) -> Result<Self, DecodeError> {
        if buf.len() > limits.max_input_bytes {
            return fail(
                0,
                DecodeErrorKind::InputTooLarge {
                    len: buf.len(),
                    max: limits.max_input_bytes,
                },
            );
        }
        let mut r = Reader {
            buf,
            pos: 0,
            limits,
            page: 0,
            open: Vec::with_capacity(16),
            root_started: false,
            elements: 0,
            check_utf8: true,
        };
        r.header()?;
        Ok(r)
    }

    /// A second reader over a document a validating reader has accepted in full: strings
    /// come as `RevisitedText`, skipping the UTF-8 check (the costliest part of reading).
    /// All other checks still run, so a wrong input still cannot cause anything worse
    /// than an error or bytes passed through unchecked.
    pub(crate) fn revisit(buf: &'a [u8], limits: &'a Limits) -> Result<Self, DecodeError> {
        let mut r = Reader::new(buf, limits)?;
        r.check_utf8 = false;
        Ok(r)
    }

    /// After the root element closed: only the end of input may follow.
    pub(crate) fn finish<T>(&mut self, value: T) -> Result<T, DecodeError> {
        match self.next_event()? {
            None => Ok(value),
            // `next_event` rejects anything after the root, so this is not reached.
            Some(_) => fail(self.pos, DecodeErrorKind::MultipleRoots),
        }
    }

    pub(crate) fn no_root(&self) -> DecodeError {
        DecodeError {
            offset: self.buf.len(),
            kind: DecodeErrorKind::NoRoot,
        }
    }

    fn byte(&mut self, context: &'static str) -> Result<u8, DecodeError> {
        match self.buf.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                Ok(b)
            }
            None => fail(self.pos, DecodeErrorKind::UnexpectedEof { context }),
        }
    }

    /// mb_u_int32 (WBXML 1.3 section 5.1): big-endian 7-bit groups, high bit = more follow.
    /// 32 bits need at most 5 groups; longer or wider values are malformed, not truncated.
    fn mb_u_int32(&mut self, context: &'static str) -> Result<u32, DecodeError> {
        let start = self.pos;
        let mut value: u32 = 0;
        for _ in 0..5 {
            let b = self.byte(context)?;
            if value > (u32::MAX >> 7) {
                return fail(start, DecodeErrorKind::BadMultiByteInt);
            }
            value = (value << 7) | u32::from(b & 0x7F);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        fail(start, DecodeErrorKind::BadMultiByteInt)
    }

    /// Header, WBXML 1.3 section 5.4: version, publicid, charset, strtbl.
    fn header(&mut self) -> Result<(), DecodeError> {
        let at = self.pos;
        let version = self.byte("in the header")?;
        // 1.3 is what MS-ASWBXML specifies; 1.1 and 1.2 share the header layout and the
        // token set ActiveSync uses, so lenient acceptance costs nothing. 1.0 lacks the
        // charset field and is not accepted.
        if !(0x01..=0x03).contains(&version) {
            return fail(at, DecodeErrorKind::UnsupportedVersion(version));
        }
        let at = self.pos;
        let public_id = self.mb_u_int32("in the header")?;
        if public_id == 0 {
            // Section 5.5: a zero public id is followed by a string-table index; the string
            // table must be empty here, so the index cannot be valid.
            return fail(at, DecodeErrorKind::PublicIdInStringTable);
        }
        // Any other public id is accepted: EAS sends 0x01 ("unknown") but the value carries
        // no meaning for the code pages.
        let at = self.pos;
        let charset = self.mb_u_int32("in the header")?;
        if charset != CHARSET_UTF8 {
            return fail(at, DecodeErrorKind::UnsupportedCharset(charset));
        }
        let at = self.pos;
        let strtbl = self.mb_u_int32("in the header")?;
        if strtbl != 0 {
            return fail(at, DecodeErrorKind::StringTable(strtbl));
        }
        Ok(())
    }

    /// The next event, or `None` at the end of a complete document.
    pub(crate) fn next_event(&mut self) -> Result<Option<Event<'a>>, DecodeError> {
        let buf = self.buf;
        loop {
            let at = self.pos;
            let Some(&b) = buf.get(at) else {
                return match self.open.last() {
                    Some(innermost) => fail(
                        buf.len(),
                        DecodeErrorKind::UnclosedElements {
                            open: self.open.len(),
                            innermost: innermost.name().unwrap_or("?").to_owned(),
                        },
                    ),
                    None if self.root_started => Ok(None),
                    None => fail(buf.len(), DecodeErrorKind::NoRoot),
                };
            };
            self.pos += 1;
            match b {
                SWITCH_PAGE => {
                    let p = self.byte("after SWITCH_PAGE")?;
                    if usize::from(p) >= CODE_PAGES.len() {
                        return fail(at + 1, DecodeErrorKind::UnknownPage(p));
                    }
                    self.page = p;
                }
                END => {
                    if self.open.pop().is_none() {
                        return fail(at, DecodeErrorKind::UnmatchedEnd);
                    }
                    return Ok(Some(Event::End));
                }
                STR_I => {
                    let raw = self.inline_string_bytes()?;
                    if self.open.is_empty() {
                        return fail(at, DecodeErrorKind::ContentOutsideRoot);
                    }
                    // An empty string is no character data at all.
                    if raw.is_empty() {
                        continue;
                    }
                    if !self.check_utf8 {
                        return Ok(Some(Event::RevisitedText(raw)));
                    }
                    return match std::str::from_utf8(raw) {
                        Ok(text) => Ok(Some(Event::Text(text))),
                        Err(e) => fail(at + 1 + e.valid_up_to(), DecodeErrorKind::InvalidUtf8),
                    };
                }
                OPAQUE => {
                    let data = self.opaque()?;
                    if self.open.is_empty() {
                        return fail(at, DecodeErrorKind::ContentOutsideRoot);
                    }
                    return Ok(Some(Event::Opaque(data)));
                }
                0x02 | 0x04 | 0x40..=0x44 | 0x80..=0x84 | 0xC0..=0xC2 | 0xC4 => {
                    return fail(
                        at,
                        DecodeErrorKind::UnsupportedToken {
                            name: global_token_name(b),
                            byte: b,
                        },
                    );
                }
                _ => return self.tag(at, b).map(Some),
            }
        }
    }

    fn tag(&mut self, at: usize, b: u8) -> Result<Event<'a>, DecodeError> {
        let page = self.page;
        let token = b & 0x3F;
        if b & TAG_ATTRIBUTES != 0 {
            return fail(
                at,
                DecodeErrorKind::Attributes {
                    page,
                    token,
                    byte: b,
                },
            );
        }
        let tag = Tag::new(page, token);
        if !tag.is_known() {
            return fail(
                at,
                DecodeErrorKind::UnknownToken {
                    page,
                    page_name: CODE_PAGES[usize::from(page)].name,
                    token,
                },
            );
        }
        if self.open.is_empty() {
            if self.root_started {
                return fail(at, DecodeErrorKind::MultipleRoots);
            }
            self.root_started = true;
        }
        self.elements += 1;
        if self.elements > self.limits.max_elements {
            return fail(
                at,
                DecodeErrorKind::TooManyElements(self.limits.max_elements),
            );
        }
        if self.open.len() >= self.limits.max_depth {
            return fail(at, DecodeErrorKind::TooDeep(self.limits.max_depth));
        }
        let content = b & TAG_CONTENT != 0;
        if content {
            self.open.push(tag);
        }
        Ok(Event::Start { tag, content })
    }

    /// STR_I body: bytes up to a NUL (WBXML 1.3 section 5.8.4.1), UTF-8 per the header's
    /// charset (checked by the caller).
    fn inline_string_bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let start = self.pos;
        let rest = &self.buf[start..];
        let Some(len) = memchr::memchr(0, rest) else {
            return fail(start - 1, DecodeErrorKind::UnterminatedString);
        };
        self.pos = start + len + 1;
        Ok(&rest[..len])
    }

    /// OPAQUE body: mb_u_int32 length, then that many bytes (WBXML 1.3 section 5.8.4.6).
    fn opaque(&mut self) -> Result<&'a [u8], DecodeError> {
        let token_at = self.pos - 1;
        let len = self.mb_u_int32("in the OPAQUE length")?;
        let start = self.pos;
        let end = start
            .checked_add(len as usize)
            .filter(|&e| e <= self.buf.len());
        let Some(end) = end else {
            return fail(token_at, DecodeErrorKind::OpaqueOverrun { len });
        };
        self.pos = end;
        Ok(&self.buf[start..end])
    }
}

/// WBXML 1.3 section 7.1 names of the global tokens ActiveSync does not use.
fn global_token_name(b: u8) -> &'static str {
    match b {
        0x02 => "ENTITY",
        0x04 => "LITERAL",
        0x40 => "EXT_I_0",
        0x41 => "EXT_I_1",
        0x42 => "EXT_I_2",
        0x43 => "PI",
        0x44 => "LITERAL_C",
        0x80 => "EXT_T_0",
        0x81 => "EXT_T_1",
        0x82 => "EXT_T_2",
        0x83 => "STR_T",
        0x84 => "LITERAL_A",
        0xC0 => "EXT_0",
        0xC1 => "EXT_1",
        0xC2 => "EXT_2",
        0xC4 => "LITERAL_AC",
        _ => "global",
    }
}
