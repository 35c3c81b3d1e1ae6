//! WBXML 1.3 as Exchange ActiveSync uses it (MS-ASWBXML).

mod codepage;
mod tree;

pub use codepage::{tags, CodePage, Tag, CODE_PAGES};
pub use tree::{Element, Node};
