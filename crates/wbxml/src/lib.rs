//! WBXML 1.3 as Exchange ActiveSync uses it (MS-ASWBXML).
//!
//! - [`decode`] / [`decode_with`]: bytes → [`Element`] tree, bounded by [`Limits`];
//! - [`encode`] / [`Writer`]: tree or event stream → bytes, identical to libwbxml's output;
//! - [`xml`]: the tree as namespaced XML text and back, for logs and tools, and
//!   [`xml::transcode`], WBXML straight to that XML without building a tree.

mod codepage;
mod decode;
mod encode;
mod tree;
pub mod xml;

pub use codepage::{tags, CodePage, Tag, CODE_PAGES};
pub use decode::{decode, decode_with, DecodeError, DecodeErrorKind, Limits};
pub use encode::{encode, EncodeError, Writer};
pub use tree::{Element, Node};
