//! Element tree / event stream → WBXML 1.3.
//!
//! The output is byte-for-byte what libwbxml's `xml2wbxml -a -n -v 1.3` produces for the
//! same document, which is also what Exchange sends:
//! - header `03 01 6A 00`: WBXML 1.3, public id 1 ("unknown", MS-ASWBXML 2.1.2.1), UTF-8,
//!   empty string table;
//! - a tag byte carries the content bit (0x40) only when the element has content, and an
//!   element without content gets no END (WBXML 1.3 section 5.8.2);
//! - SWITCH_PAGE is written only when the next tag's page differs from the page of the last
//!   tag written; END does not restore the parent's page (section 5.8.4.7: the current page
//!   is a decoder state that only SWITCH_PAGE changes);
//! - text is STR_I, bytes are OPAQUE with an mb_u_int32 length.

use crate::{Element, Node, Tag};
use std::io::Write;
use thiserror::Error;

/// Header: version 1.3, public id 0x01, charset 106 (UTF-8), string table length 0.
pub(crate) const HEADER: [u8; 4] = [0x03, 0x01, 0x6A, 0x00];

/// Misuse of a `Writer`, or a failure of its output.
#[derive(Debug, Error)]
pub enum EncodeError {
    #[error("write failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("end() with no open element")]
    UnmatchedEnd,
    #[error("content written outside the root element")]
    ContentOutsideRoot,
    #[error("second root element (a document has exactly one)")]
    MultipleRoots,
    #[error("finish() with {0} element(s) still open")]
    Unclosed(usize),
    #[error("finish() before any element was written")]
    NoRoot,
}

/// Encodes a whole document.
///
/// Text is written as STR_I, except text containing a NUL character, which STR_I cannot
/// carry: it is written as OPAQUE so that no byte is lost. Adjacent text nodes decode as
/// one, and empty text nodes are not written (an element whose only content is empty text
/// is written as an empty element), as in the XML form. Tags are written as given; a `Tag`
/// that is not in the code pages produces a document `decode` rejects.
pub fn encode(root: &Element) -> Vec<u8> {
    let mut w = Writer::new(Vec::with_capacity(estimate_size(root)));
    // Writing a single well-formed tree into a Vec cannot fail: every element is closed by
    // `element`, there is one root, and Vec's Write never errors.
    if w.element(root).is_err() {
        return Vec::new();
    }
    w.finish().unwrap_or_default()
}

/// A cheap upper-bound-ish guess of the encoded size, to allocate once.
fn estimate_size(root: &Element) -> usize {
    let mut size = HEADER.len();
    let mut stack: Vec<&Element> = vec![root];
    while let Some(e) = stack.pop() {
        size += 4;
        for child in &e.children {
            match child {
                Node::Element(c) => stack.push(c),
                Node::Text(t) => size += t.len() + 2,
                Node::Opaque(b) => size += b.len() + 6,
            }
        }
    }
    size
}

/// Size of the buffer `Writer` fills before handing bytes to its output.
const FLUSH_AT: usize = 64 << 10;

/// A streaming WBXML writer: produces the same bytes as `encode` for the same document,
/// without building the tree first.
///
/// ```
/// use easd_wbxml::{tags::airsync, Writer};
/// let mut w = Writer::new(Vec::new());
/// w.start(airsync::SYNC).unwrap();
/// w.text_element(airsync::SYNC_KEY, "1").unwrap();
/// w.end().unwrap();
/// assert_eq!(w.finish().unwrap(), easd_wbxml::encode(
///     &easd_wbxml::Element::new(airsync::SYNC).with_text(airsync::SYNC_KEY, "1")));
/// ```
pub struct Writer<W: Write> {
    out: W,
    buf: Vec<u8>,
    /// The decoder's current page after the bytes written so far.
    page: u8,
    /// A started element whose tag byte is not written yet: whether it gets the content
    /// bit depends on whether anything is written before its `end()`.
    pending: Option<Tag>,
    /// Open elements (including `pending`).
    depth: usize,
    root_done: bool,
}

impl<W: Write> Writer<W> {
    /// A writer whose document goes to `out`; the header is written first.
    pub fn new(out: W) -> Self {
        let mut buf = Vec::with_capacity(4096);
        buf.extend_from_slice(&HEADER);
        Writer {
            out,
            buf,
            page: 0,
            pending: None,
            depth: 0,
            root_done: false,
        }
    }

    /// The code page the next tag is decoded in unless a SWITCH_PAGE comes first.
    pub fn current_page(&self) -> u8 {
        self.pending.map_or(self.page, |t| t.page)
    }

    /// Opens an element; its content follows, then `end()`.
    pub fn start(&mut self, tag: Tag) -> Result<(), EncodeError> {
        self.before_element()?;
        self.pending = Some(tag);
        self.depth += 1;
        Ok(())
    }

    /// Closes the innermost open element.
    pub fn end(&mut self) -> Result<(), EncodeError> {
        if self.depth == 0 {
            return Err(EncodeError::UnmatchedEnd);
        }
        self.depth -= 1;
        match self.pending.take() {
            // Nothing was written inside: an empty element, no content bit, no END.
            Some(tag) => self.tag(tag, false),
            None => self.buf.push(0x01),
        }
        if self.depth == 0 {
            self.root_done = true;
        }
        self.maybe_flush()
    }

    /// `<tag/>`.
    pub fn empty(&mut self, tag: Tag) -> Result<(), EncodeError> {
        self.start(tag)?;
        self.end()
    }

    /// `<tag>text</tag>` (an empty element when `text` is empty).
    pub fn text_element(&mut self, tag: Tag, text: &str) -> Result<(), EncodeError> {
        self.start(tag)?;
        self.text(text)?;
        self.end()
    }

    /// `<tag>` with `bytes` as OPAQUE content `</tag>`.
    pub fn opaque_element(&mut self, tag: Tag, bytes: &[u8]) -> Result<(), EncodeError> {
        self.start(tag)?;
        self.opaque(bytes)?;
        self.end()
    }

    /// Text content of the innermost open element (STR_I; OPAQUE if it contains NUL;
    /// nothing if empty).
    pub fn text(&mut self, text: &str) -> Result<(), EncodeError> {
        if text.is_empty() {
            return self.inside_element();
        }
        if memchr::memchr(0, text.as_bytes()).is_some() {
            return self.opaque(text.as_bytes());
        }
        self.content()?;
        self.buf.reserve(text.len() + 2);
        self.buf.push(0x03);
        self.buf.extend_from_slice(text.as_bytes());
        self.buf.push(0x00);
        self.maybe_flush()
    }

    /// OPAQUE content of the innermost open element.
    pub fn opaque(&mut self, bytes: &[u8]) -> Result<(), EncodeError> {
        self.content()?;
        self.buf.push(0xC3);
        // The WBXML length field is 32 bits; no ActiveSync payload comes near 4 GiB, and a
        // longer slice is cut rather than written with a wrong length.
        let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        push_mb_u_int32(&mut self.buf, len);
        let bytes = &bytes[..len as usize];
        if bytes.len() >= FLUSH_AT {
            // Large bodies go straight to the output instead of through the buffer.
            self.flush_buf()?;
            self.out.write_all(bytes)?;
            Ok(())
        } else {
            self.buf.extend_from_slice(bytes);
            self.maybe_flush()
        }
    }

    /// Writes a whole subtree (as a child of the innermost open element, or as the root).
    pub fn element(&mut self, root: &Element) -> Result<(), EncodeError> {
        // Explicit stack of (element, next child index): no recursion, whatever the depth.
        let mut stack: Vec<(&Element, usize)> = Vec::with_capacity(16);
        self.start(root.tag)?;
        stack.push((root, 0));
        while let Some((e, i)) = stack.last_mut() {
            let Some(child) = e.children.get(*i) else {
                stack.pop();
                self.end()?;
                continue;
            };
            *i += 1;
            match child {
                Node::Element(c) => {
                    self.start(c.tag)?;
                    stack.push((c, 0));
                }
                Node::Text(t) => self.text(t)?,
                Node::Opaque(b) => self.opaque(b)?,
            }
        }
        Ok(())
    }

    /// Ends the document and returns the output.
    pub fn finish(mut self) -> Result<W, EncodeError> {
        if self.depth > 0 {
            return Err(EncodeError::Unclosed(self.depth));
        }
        if !self.root_done {
            return Err(EncodeError::NoRoot);
        }
        self.flush_buf()?;
        self.out.flush()?;
        Ok(self.out)
    }

    fn before_element(&mut self) -> Result<(), EncodeError> {
        if self.depth == 0 {
            if self.root_done {
                return Err(EncodeError::MultipleRoots);
            }
        } else {
            self.flush_pending();
        }
        Ok(())
    }

    fn inside_element(&self) -> Result<(), EncodeError> {
        if self.depth == 0 {
            Err(EncodeError::ContentOutsideRoot)
        } else {
            Ok(())
        }
    }

    fn content(&mut self) -> Result<(), EncodeError> {
        self.inside_element()?;
        self.flush_pending();
        Ok(())
    }

    /// The pending element gets content: write its tag with the content bit.
    #[inline]
    fn flush_pending(&mut self) {
        if let Some(tag) = self.pending.take() {
            self.tag(tag, true);
        }
    }

    #[inline]
    fn tag(&mut self, tag: Tag, content: bool) {
        if tag.page != self.page {
            self.buf.push(0x00);
            self.buf.push(tag.page);
            self.page = tag.page;
        }
        let flag = if content { 0x40 } else { 0 };
        self.buf.push((tag.token & 0x3F) | flag);
    }

    #[inline]
    fn maybe_flush(&mut self) -> Result<(), EncodeError> {
        if self.buf.len() >= FLUSH_AT {
            self.flush_buf()?;
        }
        Ok(())
    }

    fn flush_buf(&mut self) -> Result<(), EncodeError> {
        if !self.buf.is_empty() {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }
}

impl Writer<Vec<u8>> {
    /// Bytes written so far (only meaningful for a `Vec` output).
    pub fn len(&self) -> usize {
        self.out.len() + self.buf.len()
    }

    /// True when nothing but the header has been written.
    pub fn is_empty(&self) -> bool {
        self.len() <= HEADER.len()
    }

    /// Takes the bytes that are final so far, leaving the document open: a response streamed
    /// in chunks sends each as it comes (the concatenation is the whole document). A started
    /// element whose content bit is not known yet stays behind until its next byte is written.
    pub fn take_written(&mut self) -> Vec<u8> {
        let mut out = std::mem::take(&mut self.out);
        out.append(&mut self.buf);
        out
    }
}

/// mb_u_int32, WBXML 1.3 section 5.1: 7-bit groups, most significant first.
pub(crate) fn push_mb_u_int32(out: &mut Vec<u8>, value: u32) {
    let mut groups = [0u8; 5];
    let mut n = 0;
    let mut v = value;
    loop {
        groups[n] = (v & 0x7F) as u8;
        n += 1;
        v >>= 7;
        if v == 0 {
            break;
        }
    }
    for i in (0..n).rev() {
        let more = if i > 0 { 0x80 } else { 0 };
        out.push(groups[i] | more);
    }
}
