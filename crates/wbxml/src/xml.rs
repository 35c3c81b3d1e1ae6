//! The element tree as XML text, in the style of the MS-ASCMD examples, and back.
//!
//! `to_xml` writes the root's code page as the default namespace and every other page used
//! with a prefix declared on the root: the lowercase page name (`airsyncbase:Body` for
//! `xmlns:airsyncbase="AirSyncBase:"`). Namespaces are the page names with a colon, as
//! MS-ASWBXML and libwbxml write them.
//!
//! OPAQUE content has no XML form, so it is written as base64 and marked in the namespace
//! [`WBXML_NS`] (prefix `wbxml`, declared on the root when needed):
//! - an element whose only content is one opaque value carries `wbxml:opaque="base64"` and
//!   the base64 text: `<airsyncbase:Data wbxml:opaque="base64">AAEC</airsyncbase:Data>`;
//! - an opaque value among other content is a `<wbxml:opaque>AAEC</wbxml:opaque>` child.
//!
//! `from_xml` reads that form back, and also documents that bind the namespaces
//! differently: per-element `xmlns="..."` as libwbxml's `wbxml2xml` prints them (including
//! libwbxml's own names for some tags, e.g. `Recurrence_Type`), other prefixes, namespaces
//! without the trailing colon (as in the MS-AS* XSDs), and no namespace at all (the root is
//! then looked up on every page and children inherit its page).
//!
//! Text: whitespace-only text in an element that has child elements is formatting and is
//! dropped; the text of an element without child elements is kept exactly (CR and control
//! characters are written as character references so that they survive). Adjacent text
//! and CDATA sections become one text node, as in the decoder.

use crate::decode::{Event as WbxmlEvent, Reader};
use crate::{CodePage, DecodeError, Element, Limits, Node, Tag, CODE_PAGES};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;
use std::fmt::Write as _;
use thiserror::Error;

/// Namespace of the `wbxml:opaque` marker attribute and element.
pub const WBXML_NS: &str = "urn:easd:wbxml";

/// Why an XML document could not be turned into an element tree.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("line {line}: {kind}")]
pub struct XmlError {
    /// 1-based line of the input where the problem was found.
    pub line: usize,
    pub kind: XmlErrorKind,
}

/// The kinds of `XmlError`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum XmlErrorKind {
    #[error("malformed XML: {0}")]
    Syntax(String),
    #[error("namespace \"{0}\" is not an ActiveSync code page")]
    UnknownNamespace(String),
    #[error("undeclared namespace prefix \"{0}\"")]
    UnknownPrefix(String),
    #[error("<{name}> is not a tag of code page {page}")]
    UnknownElement { page: &'static str, name: String },
    #[error("<{0}> is not a tag of any code page")]
    UnknownRootElement(String),
    #[error("unexpected attribute {0} (ActiveSync XML has none)")]
    UnexpectedAttribute(String),
    #[error("invalid base64 in opaque content: {0}")]
    InvalidBase64(String),
    #[error("element inside opaque content")]
    ElementInOpaque,
    #[error("text outside the root element")]
    TextOutsideRoot,
    #[error("second root element (a document has exactly one)")]
    MultipleRoots,
    #[error("document has no root element")]
    NoRoot,
    #[error("end of input inside <{0}>")]
    Unclosed(String),
}

// --------------------------------------------------------------------------------------
// Writing
// --------------------------------------------------------------------------------------

/// The document as indented XML with an XML declaration.
pub fn to_xml(root: &Element) -> String {
    let (pages, needs_wbxml, size) = scan(root);
    let mut em = Emitter::new(
        None,
        root.tag.page,
        pages,
        needs_wbxml,
        size + size / 8 + 256,
    );
    // Explicit stack of (element, next child): no recursion, whatever the depth.
    let mut stack: Vec<(&Element, usize)> = Vec::with_capacity(16);
    if em.start(root.tag, shape_of(root)) {
        stack.push((root, 0));
    }
    while let Some(&(e, i)) = stack.last() {
        let Some(child) = e.children.get(i) else {
            stack.pop();
            em.end();
            continue;
        };
        if let Some(top) = stack.last_mut() {
            top.1 += 1;
        }
        match child {
            Node::Element(c) => {
                if em.start(c.tag, shape_of(c)) {
                    stack.push((c, 0));
                }
            }
            // STR_I cannot carry NUL, so `encode` writes such text as OPAQUE; the XML form
            // does the same, so that both forms of a tree read back alike.
            Node::Text(t) if t.contains('\0') => em.opaque(t.as_bytes()),
            Node::Text(t) => em.text(t.as_bytes()),
            Node::Opaque(b) => em.opaque(b),
        }
    }
    let bytes = em.finish_into_vec();
    // Everything written is UTF-8 (names, escaped `str` text, base64); the fallback only
    // keeps this function total.
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Why `transcode` stopped.
#[derive(Debug, Error)]
pub enum TranscodeError {
    /// The input is not a valid document; nothing was written.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error("write failed: {0}")]
    Io(#[from] std::io::Error),
}

/// WBXML straight to the XML `to_xml(&decode_with(wbxml, limits)?)` would produce, without
/// building the tree: one pass validates the whole document and notes how each element is
/// laid out, a second writes the XML to `out` in chunks. Nothing is written when the input
/// is invalid.
pub fn transcode<W: std::io::Write>(
    wbxml: &[u8],
    limits: &Limits,
    out: W,
) -> Result<(), TranscodeError> {
    // Pass 1: validate, and record the shape of every element that has content, in
    // document order; also the pages used and whether there is opaque content.
    struct Frame {
        shape_index: usize,
        children: usize,
        last_opaque: bool,
        last_text: bool,
        inline: bool,
    }
    let mut shapes: Vec<Shape> = Vec::new();
    let mut frames: Vec<Frame> = Vec::with_capacity(16);
    let mut pages = 0u64;
    let mut needs_wbxml = false;
    let mut root_page = None;
    let mut reader = Reader::new(wbxml, limits)?;
    while let Some(event) = reader.next_event()? {
        match event {
            WbxmlEvent::Start { tag, content } => {
                pages |= 1u64 << (tag.page & 63);
                root_page.get_or_insert(tag.page);
                if let Some(parent) = frames.last_mut() {
                    parent.children += 1;
                    parent.last_opaque = false;
                    parent.last_text = false;
                }
                if content {
                    frames.push(Frame {
                        shape_index: shapes.len(),
                        children: 0,
                        last_opaque: false,
                        last_text: false,
                        inline: false,
                    });
                    shapes.push(Shape::EMPTY);
                }
            }
            WbxmlEvent::End => {
                if let Some(f) = frames.pop() {
                    shapes[f.shape_index] = Shape {
                        empty: f.children == 0,
                        single_opaque: f.children == 1 && f.last_opaque,
                        inline: f.inline,
                    };
                }
            }
            WbxmlEvent::Text(_) | WbxmlEvent::RevisitedText(_) => {
                if let Some(f) = frames.last_mut() {
                    // Adjacent strings are one text node (see `decode`).
                    if !f.last_text {
                        f.children += 1;
                    }
                    f.last_text = true;
                    f.last_opaque = false;
                    f.inline = true;
                }
            }
            WbxmlEvent::Opaque(_) => {
                needs_wbxml = true;
                if let Some(f) = frames.last_mut() {
                    f.children += 1;
                    f.last_text = false;
                    f.last_opaque = true;
                    f.inline = true;
                }
            }
        }
    }

    // Pass 2: the document is valid; write it.
    let mut out = out;
    let mut em = Emitter::new(
        Some(&mut out),
        root_page.unwrap_or(0),
        pages,
        needs_wbxml,
        FLUSH_AT + 4096,
    );
    let mut next_shape = shapes.iter();
    let mut reader = Reader::revisit(wbxml, limits)?;
    while let Some(event) = reader.next_event()? {
        match event {
            WbxmlEvent::Start { tag, content } => {
                let shape = if content {
                    next_shape.next().copied().unwrap_or(Shape::EMPTY)
                } else {
                    Shape::EMPTY
                };
                // A tag with the content bit but no content is still closed by an END.
                if !em.start(tag, shape) && content {
                    em.skip_end += 1;
                }
            }
            WbxmlEvent::End => em.end(),
            WbxmlEvent::Text(t) => em.text(t.as_bytes()),
            WbxmlEvent::RevisitedText(t) => em.text(t),
            WbxmlEvent::Opaque(b) => em.opaque(b),
        }
        em.maybe_flush()?;
    }
    em.finish()?;
    Ok(())
}

/// The pages used by the tree (bit per page), whether it needs the `wbxml` prefix, and the
/// size of its text and opaque content.
fn scan(root: &Element) -> (u64, bool, usize) {
    let mut pages = 0u64;
    let mut opaque = false;
    let mut size = 0usize;
    let mut stack = vec![root];
    while let Some(e) = stack.pop() {
        pages |= 1u64 << (e.tag.page & 63);
        size += 48;
        for c in &e.children {
            match c {
                Node::Element(c) => stack.push(c),
                Node::Opaque(b) => {
                    opaque = true;
                    size += b.len() * 4 / 3 + 40;
                }
                Node::Text(t) => {
                    opaque |= t.contains('\0');
                    size += t.len();
                }
            }
        }
    }
    (pages, opaque, size)
}

/// How an element's content is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Shape {
    /// No content: `<X/>`.
    empty: bool,
    /// Exactly one opaque value: the `wbxml:opaque="base64"` form.
    single_opaque: bool,
    /// Has text or opaque content: written without indentation inside, so that formatting
    /// whitespace never becomes part of its text.
    inline: bool,
}

impl Shape {
    const EMPTY: Shape = Shape {
        empty: true,
        single_opaque: false,
        inline: false,
    };
}

fn shape_of(e: &Element) -> Shape {
    Shape {
        empty: e.children.is_empty(),
        single_opaque: matches!(e.children.as_slice(), [Node::Opaque(_)]),
        inline: e.children.iter().any(|c| !matches!(c, Node::Element(_))),
    }
}

const FLUSH_AT: usize = 64 << 10;

/// Writes the XML text from start/content/end steps; shared by `to_xml` and `transcode` so
/// both produce the same text for the same document.
struct Emitter<'w> {
    out: Vec<u8>,
    sink: Option<&'w mut dyn std::io::Write>,
    root_page: u8,
    /// Namespace declarations for the root start tag.
    decls: String,
    /// Open elements: tag, inline, single-opaque form.
    stack: Vec<(Tag, bool, bool)>,
    /// ENDs still to come for elements already written whole (`<X/>`).
    skip_end: usize,
}

impl<'w> Emitter<'w> {
    fn new(
        sink: Option<&'w mut dyn std::io::Write>,
        root_page: u8,
        pages: u64,
        needs_wbxml: bool,
        capacity: usize,
    ) -> Self {
        let mut decls = String::new();
        if let Some(page) = CODE_PAGES.get(usize::from(root_page)) {
            let _ = write!(decls, " xmlns=\"{}\"", page.namespace);
        }
        for page in CODE_PAGES {
            if page.number != root_page && pages & (1u64 << page.number) != 0 {
                let _ = write!(decls, " xmlns:{}=\"{}\"", prefix_of(page), page.namespace);
            }
        }
        if needs_wbxml {
            let _ = write!(decls, " xmlns:wbxml=\"{WBXML_NS}\"");
        }
        let mut out = Vec::with_capacity(capacity);
        out.extend_from_slice(b"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
        Emitter {
            out,
            sink,
            root_page,
            decls,
            stack: Vec::with_capacity(16),
            skip_end: 0,
        }
    }

    fn qname(&mut self, tag: Tag) {
        if tag.page != self.root_page {
            if let Some(page) = CODE_PAGES.get(usize::from(tag.page)) {
                for b in page.name.bytes() {
                    self.out.push(b.to_ascii_lowercase());
                }
                self.out.push(b':');
            }
        }
        match tag.name() {
            Some(n) => self.out.extend_from_slice(n.as_bytes()),
            // Only reachable for hand-built trees with a tag outside the code pages; such
            // a document does not parse back.
            None => {
                let _ = write!(
                    ByteWriter(&mut self.out),
                    "Unknown_{}_0x{:02X}",
                    tag.page,
                    tag.token
                );
            }
        }
    }

    fn indent(&mut self, depth: usize) {
        self.out.push(b'\n');
        for _ in 0..depth {
            self.out.extend_from_slice(b"  ");
        }
    }

    /// Writes a start tag; returns true when content and an `end()` follow, false when the
    /// element was written whole (`<X/>`).
    fn start(&mut self, tag: Tag, shape: Shape) -> bool {
        let parent_inline = match self.stack.last() {
            Some(&(_, inline, _)) => inline,
            None => true,
        };
        if !parent_inline {
            self.indent(self.stack.len());
        }
        self.out.push(b'<');
        self.qname(tag);
        if self.stack.is_empty() {
            let decls = std::mem::take(&mut self.decls);
            self.out.extend_from_slice(decls.as_bytes());
        }
        if shape.empty {
            self.out.extend_from_slice(b"/>");
            return false;
        }
        if shape.single_opaque {
            self.out.extend_from_slice(b" wbxml:opaque=\"base64\">");
        } else {
            self.out.push(b'>');
        }
        self.stack.push((
            tag,
            parent_inline && !self.stack.is_empty() || shape.inline,
            shape.single_opaque,
        ));
        true
    }

    fn end(&mut self) {
        if self.skip_end > 0 {
            self.skip_end -= 1;
            return;
        }
        let Some((tag, inline, _)) = self.stack.pop() else {
            return;
        };
        if !inline {
            self.indent(self.stack.len());
        }
        self.out.extend_from_slice(b"</");
        self.qname(tag);
        self.out.push(b'>');
    }

    /// `text` is UTF-8 (a `str`, or STR_I bytes an earlier pass checked).
    fn text(&mut self, text: &[u8]) {
        escape_text(text, &mut self.out);
    }

    fn opaque(&mut self, bytes: &[u8]) {
        let single = matches!(self.stack.last(), Some(&(_, _, true)));
        if !single {
            self.out.extend_from_slice(b"<wbxml:opaque>");
        }
        push_base64(bytes, &mut self.out);
        if !single {
            self.out.extend_from_slice(b"</wbxml:opaque>");
        }
    }

    fn maybe_flush(&mut self) -> std::io::Result<()> {
        if self.out.len() >= FLUSH_AT {
            if let Some(sink) = self.sink.as_mut() {
                sink.write_all(&self.out)?;
                self.out.clear();
            }
        }
        Ok(())
    }

    fn finish(mut self) -> std::io::Result<()> {
        self.out.push(b'\n');
        if let Some(sink) = self.sink.as_mut() {
            sink.write_all(&self.out)?;
            sink.flush()?;
        }
        Ok(())
    }

    fn finish_into_vec(mut self) -> Vec<u8> {
        self.out.push(b'\n');
        self.out
    }
}

/// `fmt::Write` into a byte buffer, for the rare formatted names.
struct ByteWriter<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for ByteWriter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

fn prefix_of(page: &CodePage) -> String {
    page.name.to_ascii_lowercase()
}

fn push_base64(bytes: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    let len = base64::encoded_len(bytes.len(), true).unwrap_or(0);
    out.resize(start + len, 0);
    match BASE64.encode_slice(bytes, &mut out[start..]) {
        Ok(n) => out.truncate(start + n),
        Err(_) => out.truncate(start),
    }
}

/// True for bytes written as a reference: `&`, `<`, `>`, and the C0 controls other than
/// TAB and LF. A parser would turn a literal CR into LF (XML 1.0 section 2.11), and the
/// other controls are not allowed as literal characters.
#[inline]
fn needs_escape(b: u8) -> bool {
    (b < 0x20 && b != b'\t' && b != b'\n') | (b == b'&') | (b == b'<') | (b == b'>')
}

/// XML-escapes text content into `out`.
fn escape_text(text: &[u8], out: &mut Vec<u8>) {
    out.reserve(text.len());
    let mut done = 0;
    let mut base = 0;
    let mut blocks = text.chunks_exact(32);
    for block in blocks.by_ref() {
        // One bit per byte that needs escaping. The loop has no early exit, so the
        // compiler turns it into vector compares and a mask; clean blocks (the common
        // case) cost a handful of instructions.
        let mut mask = 0u32;
        for (j, &b) in block.iter().enumerate() {
            mask |= u32::from(needs_escape(b)) << j;
        }
        while mask != 0 {
            let i = base + mask.trailing_zeros() as usize;
            escape_byte(text, i, &mut done, out);
            mask &= mask - 1;
        }
        base += 32;
    }
    for (j, &b) in blocks.remainder().iter().enumerate() {
        if needs_escape(b) {
            escape_byte(text, base + j, &mut done, out);
        }
    }
    out.extend_from_slice(&text[done..]);
}

/// Copies `text[done..i]` to `out`, then the reference for `text[i]`.
#[inline]
fn escape_byte(text: &[u8], i: usize, done: &mut usize, out: &mut Vec<u8>) {
    out.extend_from_slice(&text[*done..i]);
    let b = text[i];
    match b {
        b'&' => out.extend_from_slice(b"&amp;"),
        b'<' => out.extend_from_slice(b"&lt;"),
        b'>' => out.extend_from_slice(b"&gt;"),
        b'\r' => out.extend_from_slice(b"&#13;"),
        _ => {
            // Other C0 controls: "&#N;" with N < 32.
            out.extend_from_slice(b"&#");
            if b >= 10 {
                out.push(b'0' + b / 10);
            }
            out.push(b'0' + b % 10);
            out.push(b';');
        }
    }
    *done = i + 1;
}

// --------------------------------------------------------------------------------------
// Reading
// --------------------------------------------------------------------------------------

/// Names libwbxml (0.11) prints for tags whose MS-ASWBXML name differs: (page, name, token).
/// Accepted on input so that `wbxml2xml` output parses.
const LIBWBXML_NAMES: &[(u8, &str, u8)] = &[
    (1, "AssistantTelephoneNumber", 0x07),
    (1, "BusinessCity", 0x0D),
    (1, "BusinessCountry", 0x0E),
    (1, "BusinessPostalCode", 0x0F),
    (1, "BusinessState", 0x10),
    (1, "BusinessStreet", 0x11),
    (1, "HomeCity", 0x21),
    (1, "HomeCountry", 0x22),
    (1, "HomePostalCode", 0x23),
    (1, "HomeState", 0x24),
    (1, "HomeStreet", 0x25),
    (1, "OtherCity", 0x2D),
    (1, "OtherCountry", 0x2E),
    (1, "OtherPostalCode", 0x2F),
    (1, "OtherState", 0x30),
    (1, "OtherStreet", 0x31),
    (2, "AttOId", 0x09),
    (2, "Reply-To", 0x19),
    (2, "DTStamp", 0x1D),
    (2, "Recurrence_Type", 0x29),
    (2, "Recurrence_Until", 0x2A),
    (2, "Recurrence_Occurrences", 0x2B),
    (2, "Recurrence_Interval", 0x2C),
    (2, "Recurrence_DayOfWeek", 0x2D),
    (2, "Recurrence_DayOfMonth", 0x2E),
    (2, "Recurrence_WeekOfMonth", 0x2F),
    (2, "Recurrence_MonthOfYear", 0x30),
    (2, "FlagStatus", 0x3B),
    (4, "TimeZone", 0x05),
    (4, "Attendee_Email", 0x09),
    (4, "Attendee_Name", 0x0A),
    (4, "Compressed_RTF", 0x10),
    (4, "DTStamp", 0x11),
    (4, "Exception_Deleted", 0x15),
    (4, "Exception_StartTime", 0x16),
    (4, "Organizer_Email", 0x19),
    (4, "Organizer_Name", 0x1A),
    (4, "Recurrence_Type", 0x1C),
    (4, "Recurrence_Until", 0x1D),
    (4, "Recurrence_Occurrences", 0x1E),
    (4, "Recurrence_Interval", 0x1F),
    (4, "Recurrence_DayOfWeek", 0x20),
    (4, "Recurrence_DayOfMonth", 0x21),
    (4, "Recurrence_WeekOfMonth", 0x22),
    (4, "Recurrence_MonthOfYear", 0x23),
    (4, "Attendee_Status", 0x29),
    (4, "Attendee_Type", 0x2A),
    (9, "UTCDueDate", 0x0D),
    (9, "Recurrence_Type", 0x10),
    (9, "Recurrence_Start", 0x11),
    (9, "Recurrence_Until", 0x12),
    (9, "Recurrence_Occurrences", 0x13),
    (9, "Recurrence_Interval", 0x14),
    (9, "Recurrence_DayOfMonth", 0x15),
    (9, "Recurrence_DayOfWeek", 0x16),
    (9, "Recurrence_WeekOfMonth", 0x17),
    (9, "Recurrence_MonthOfYear", 0x18),
    (9, "Recurrence_Regenerate", 0x19),
    (9, "Recurrence_DeadOccur", 0x1A),
    (9, "UTCStartDate", 0x1F),
    (18, "SmtpAddress", 0x1F),
    (18, "ihsManagementInformation", 0x2B),
    (21, "MIME", 0x10),
    (24, "RMOwner", 0x12),
];

fn lookup_on(page: &'static CodePage, name: &str) -> Option<Tag> {
    page.lookup(name).or_else(|| {
        LIBWBXML_NAMES
            .iter()
            .find(|(p, n, _)| *p == page.number && *n == name)
            .map(|&(p, _, t)| Tag::new(p, t))
    })
}

/// The code page a namespace URI names: "AirSync:" or "AirSync" (any case), or libwbxml's
/// older "http://synce.org/formats/airsync_wm5/airsync" form.
fn page_for_namespace(ns: &str) -> Option<&'static CodePage> {
    let ns = ns.trim();
    if let Some(rest) = ns.strip_prefix("http://synce.org/formats/airsync_wm5/") {
        if rest.eq_ignore_ascii_case("itemestimate") {
            return CodePage::get(6);
        }
        return CodePage::by_name(rest);
    }
    CodePage::by_name(ns)
}

struct Open {
    element: Element,
    /// `wbxml:opaque="base64"`: the text is base64 for one opaque node.
    opaque: bool,
}

/// Parses XML (either form described in the module documentation) into an element tree.
pub fn from_xml(xml: &str) -> Result<Element, XmlError> {
    let mut reader = NsReader::from_str(xml);
    reader.config_mut().trim_text(false);
    let line_at = |pos: u64| -> usize {
        let pos = usize::try_from(pos).unwrap_or(usize::MAX).min(xml.len());
        1 + memchr::memchr_iter(b'\n', &xml.as_bytes()[..pos]).count()
    };

    let mut stack: Vec<Open> = Vec::with_capacity(16);
    let mut root: Option<Element> = None;
    // Inside <wbxml:opaque>: the base64 collected so far.
    let mut opaque_child: Option<String> = None;

    loop {
        let before = reader.buffer_position();
        let fail = |kind: XmlErrorKind| XmlError {
            line: line_at(before),
            kind,
        };
        let (ns, event) = match reader.read_resolved_event() {
            Ok(x) => x,
            Err(e) => {
                return Err(XmlError {
                    line: line_at(reader.error_position()),
                    kind: XmlErrorKind::Syntax(e.to_string()),
                })
            }
        };
        match event {
            Event::Start(ref s) | Event::Empty(ref s) => {
                let is_empty = matches!(event, Event::Empty(_));
                let local = std::str::from_utf8(s.local_name().into_inner())
                    .map_err(|e| fail(XmlErrorKind::Syntax(e.to_string())))?
                    .to_owned();
                let ns_str = match &ns {
                    ResolveResult::Bound(n) => Some(
                        std::str::from_utf8(n.as_ref())
                            .map_err(|e| fail(XmlErrorKind::Syntax(e.to_string())))?,
                    ),
                    ResolveResult::Unbound => None,
                    ResolveResult::Unknown(p) => {
                        return Err(fail(XmlErrorKind::UnknownPrefix(
                            String::from_utf8_lossy(p).into_owned(),
                        )))
                    }
                };
                if opaque_child.is_some() || stack.last().is_some_and(|o| o.opaque) {
                    return Err(fail(XmlErrorKind::ElementInOpaque));
                }
                if ns_str == Some(WBXML_NS) && local == "opaque" {
                    if stack.is_empty() {
                        return Err(fail(XmlErrorKind::TextOutsideRoot));
                    }
                    check_attributes(s, &reader, false).map_err(fail)?;
                    if is_empty {
                        push_node(&mut stack, Node::Opaque(Vec::new()));
                    } else {
                        opaque_child = Some(String::new());
                    }
                    continue;
                }
                let tag = match ns_str {
                    Some(n) => {
                        let page = page_for_namespace(n)
                            .ok_or_else(|| fail(XmlErrorKind::UnknownNamespace(n.to_owned())))?;
                        lookup_on(page, &local).ok_or_else(|| {
                            fail(XmlErrorKind::UnknownElement {
                                page: page.name,
                                name: local.clone(),
                            })
                        })?
                    }
                    None => match stack.last() {
                        // No namespace in scope: the parent's page, as in WBXML itself.
                        Some(parent) => {
                            let page = &CODE_PAGES
                                [usize::from(parent.element.tag.page).min(CODE_PAGES.len() - 1)];
                            lookup_on(page, &local).ok_or_else(|| {
                                fail(XmlErrorKind::UnknownElement {
                                    page: page.name,
                                    name: local.clone(),
                                })
                            })?
                        }
                        None => CODE_PAGES
                            .iter()
                            .find_map(|p| lookup_on(p, &local))
                            .ok_or_else(|| fail(XmlErrorKind::UnknownRootElement(local.clone())))?,
                    },
                };
                if stack.is_empty() && root.is_some() {
                    return Err(fail(XmlErrorKind::MultipleRoots));
                }
                let opaque = check_attributes(s, &reader, true).map_err(fail)?;
                let mut open = Open {
                    element: Element::new(tag),
                    opaque,
                };
                if is_empty {
                    if open.opaque {
                        open.element.children.push(Node::Opaque(Vec::new()));
                    }
                    attach(&mut stack, &mut root, open.element);
                } else {
                    stack.push(open);
                }
            }
            Event::End(_) => {
                if let Some(b64) = opaque_child.take() {
                    let bytes = decode_base64(&b64).map_err(fail)?;
                    push_node(&mut stack, Node::Opaque(bytes));
                    continue;
                }
                // quick-xml checks that end tags match their start tags.
                let Some(open) = stack.pop() else {
                    return Err(fail(XmlErrorKind::Syntax("unmatched end tag".into())));
                };
                let element = finish(open).map_err(fail)?;
                attach(&mut stack, &mut root, element);
            }
            Event::Text(t) => {
                let text = t
                    .unescape()
                    .map_err(|e| fail(XmlErrorKind::Syntax(e.to_string())))?;
                add_text(&mut stack, &mut opaque_child, &text).map_err(fail)?;
            }
            Event::CData(c) => {
                let raw = c.into_inner();
                let text = std::str::from_utf8(&raw)
                    .map_err(|e| fail(XmlErrorKind::Syntax(e.to_string())))?;
                add_text(&mut stack, &mut opaque_child, text).map_err(fail)?;
            }
            Event::Eof => {
                if let Some(open) = stack.last() {
                    let name = open.element.tag.name().unwrap_or("?").to_owned();
                    return Err(XmlError {
                        line: line_at(xml.len() as u64),
                        kind: XmlErrorKind::Unclosed(name),
                    });
                }
                return root.ok_or(XmlError {
                    line: line_at(xml.len() as u64),
                    kind: XmlErrorKind::NoRoot,
                });
            }
            // Declaration, DOCTYPE, comments and processing instructions carry no content.
            Event::Decl(_) | Event::DocType(_) | Event::Comment(_) | Event::PI(_) => {}
        }
    }
}

/// Rejects attributes other than namespace declarations and the opaque marker; returns
/// whether the marker is present.
fn check_attributes(
    s: &BytesStart<'_>,
    reader: &NsReader<&[u8]>,
    allow_marker: bool,
) -> Result<bool, XmlErrorKind> {
    let mut opaque = false;
    for attr in s.attributes() {
        let attr = attr.map_err(|e| XmlErrorKind::Syntax(e.to_string()))?;
        if attr.key.as_namespace_binding().is_some() {
            continue;
        }
        let (ns, local) = reader.resolve_attribute(attr.key);
        let is_marker = local.as_ref() == b"opaque"
            && match ns {
                ResolveResult::Bound(n) => n.as_ref() == WBXML_NS.as_bytes(),
                _ => false,
            };
        if is_marker && allow_marker && attr.value.as_ref() == b"base64" {
            opaque = true;
            continue;
        }
        return Err(XmlErrorKind::UnexpectedAttribute(
            String::from_utf8_lossy(attr.key.as_ref()).into_owned(),
        ));
    }
    Ok(opaque)
}

fn add_text(
    stack: &mut [Open],
    opaque_child: &mut Option<String>,
    text: &str,
) -> Result<(), XmlErrorKind> {
    if let Some(b64) = opaque_child {
        b64.push_str(text);
        return Ok(());
    }
    let Some(open) = stack.last_mut() else {
        // Whitespace around the root element is formatting.
        if text.bytes().all(|b| b.is_ascii_whitespace()) {
            return Ok(());
        }
        return Err(XmlErrorKind::TextOutsideRoot);
    };
    if text.is_empty() {
        return Ok(());
    }
    match open.element.children.last_mut() {
        Some(Node::Text(prev)) => prev.push_str(text),
        _ => open.element.children.push(Node::Text(text.to_owned())),
    }
    Ok(())
}

/// Closes an element: decodes opaque content, drops formatting whitespace.
fn finish(open: Open) -> Result<Element, XmlErrorKind> {
    let mut e = open.element;
    if open.opaque {
        let b64: String = e
            .children
            .iter()
            .filter_map(|c| match c {
                Node::Text(t) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        e.children = vec![Node::Opaque(decode_base64(&b64)?)];
        return Ok(e);
    }
    if e.children.iter().any(|c| matches!(c, Node::Element(_))) {
        e.children.retain(|c| match c {
            Node::Text(t) => !t.bytes().all(|b| b.is_ascii_whitespace()),
            _ => true,
        });
    }
    Ok(e)
}

fn push_node(stack: &mut [Open], node: Node) {
    if let Some(open) = stack.last_mut() {
        open.element.children.push(node);
    }
}

fn attach(stack: &mut [Open], root: &mut Option<Element>, e: Element) {
    match stack.last_mut() {
        Some(parent) => parent.element.children.push(Node::Element(e)),
        None => *root = Some(e),
    }
}

fn decode_base64(text: &str) -> Result<Vec<u8>, XmlErrorKind> {
    // Line breaks and indentation inside long base64 are allowed.
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    BASE64
        .decode(compact.as_bytes())
        .map_err(|e| XmlErrorKind::InvalidBase64(e.to_string()))
}

/// The tree as `from_xml(&to_xml(e))` returns it: text containing NUL becomes opaque (as
/// in `encode`), empty text disappears, adjacent text merges, and whitespace-only text in
/// an element that has child elements is dropped as formatting. Round-trip checks compare
/// against this.
pub fn normalize(e: &Element) -> Element {
    let mut out = e.clone();
    let mut stack: Vec<&mut Element> = vec![&mut out];
    while let Some(e) = stack.pop() {
        let mut children: Vec<Node> = Vec::with_capacity(e.children.len());
        for c in e.children.drain(..) {
            let c = match c {
                Node::Text(t) if t.contains('\0') => Node::Opaque(t.into_bytes()),
                Node::Text(t) if t.is_empty() => continue,
                other => other,
            };
            match (children.last_mut(), c) {
                (Some(Node::Text(prev)), Node::Text(t)) => prev.push_str(&t),
                (_, c) => children.push(c),
            }
        }
        if children.iter().any(|c| matches!(c, Node::Element(_))) {
            children.retain(|c| match c {
                Node::Text(t) => !t.bytes().all(|b| b.is_ascii_whitespace()),
                _ => true,
            });
        }
        e.children = children;
        for c in e.children.iter_mut() {
            if let Node::Element(c) = c {
                stack.push(c);
            }
        }
    }
    out
}
