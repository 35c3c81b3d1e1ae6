//! The element tree: what a WBXML document decodes to and encodes from.

use crate::Tag;

/// One node of a document's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Element(Element),
    /// Inline string (STR_I), UTF-8.
    Text(String),
    /// OPAQUE bytes (MIME bodies, TIMEZONE blobs, ConversationIds...).
    Opaque(Vec<u8>),
}

/// An element: its tag (code page + token) and its content in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    pub tag: Tag,
    pub children: Vec<Node>,
}

impl Element {
    pub fn new(tag: Tag) -> Self {
        Element {
            tag,
            children: Vec::new(),
        }
    }

    /// An element whose only content is `text`.
    pub fn text_element(tag: Tag, text: impl Into<String>) -> Self {
        Element {
            tag,
            children: vec![Node::Text(text.into())],
        }
    }

    /// An element whose only content is opaque `bytes`.
    pub fn opaque_element(tag: Tag, bytes: impl Into<Vec<u8>>) -> Self {
        Element {
            tag,
            children: vec![Node::Opaque(bytes.into())],
        }
    }

    /// Appends a child element and returns self (builder style).
    pub fn with(mut self, child: Element) -> Self {
        self.children.push(Node::Element(child));
        self
    }

    /// Appends a child `<tag>text</tag>` and returns self (builder style).
    pub fn with_text(self, tag: Tag, text: impl Into<String>) -> Self {
        self.with(Element::text_element(tag, text))
    }

    pub fn push(&mut self, child: Element) -> &mut Self {
        self.children.push(Node::Element(child));
        self
    }

    pub fn push_text(&mut self, tag: Tag, text: impl Into<String>) -> &mut Self {
        self.push(Element::text_element(tag, text))
    }

    /// Child elements, in order.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            _ => None,
        })
    }

    /// The first child element with `tag`.
    pub fn child(&self, tag: Tag) -> Option<&Element> {
        self.elements().find(|e| e.tag == tag)
    }

    /// Every child element with `tag`.
    pub fn children_with(&self, tag: Tag) -> impl Iterator<Item = &Element> {
        self.elements().filter(move |e| e.tag == tag)
    }

    /// The text content (STR_I nodes joined); `None` when there is none.
    pub fn text(&self) -> Option<String> {
        let mut out: Option<String> = None;
        for n in &self.children {
            if let Node::Text(t) = n {
                out.get_or_insert_with(String::new).push_str(t);
            }
        }
        out
    }

    /// The text of the first child with `tag`.
    pub fn child_text(&self, tag: Tag) -> Option<String> {
        self.child(tag).and_then(Element::text)
    }

    /// The first opaque content, if any.
    pub fn opaque(&self) -> Option<&[u8]> {
        self.children.iter().find_map(|n| match n {
            Node::Opaque(b) => Some(b.as_slice()),
            _ => None,
        })
    }

    /// Text or opaque content as bytes (clients differ in which they send).
    pub fn bytes(&self) -> Option<Vec<u8>> {
        self.opaque()
            .map(<[u8]>::to_vec)
            .or_else(|| self.text().map(String::into_bytes))
    }
}
