//! easd-protocol: the Exchange ActiveSync protocol as typed values.
//!
//! - [`http`]: the MS-ASHTTP request line (plain and base64 query forms) and headers;
//! - [`version`]: protocol versions (MS-ASHTTP 2.2.1.1.2.6);
//! - [`command`]: the EAS commands and their codes (MS-ASHTTP 2.2.1.1.1.1.2);
//! - [`status`]: the common status codes (MS-ASCMD 2.2.2) and each command's own;
//! - [`commands`]: one module per command, a typed request parsed from an element tree
//!   and a typed response written to one (MS-ASCMD 2.2.1, MS-ASPROV);
//! - [`items`]: the item types per class (MS-ASEMAIL, MS-ASAIRS, ...).
//!
//! This crate does no I/O and knows nothing of storage.

mod macros;

pub mod command;
pub mod commands;
pub mod element;
pub mod error;
pub mod http;
pub mod items;
pub mod status;
pub mod values;
pub mod version;

pub use command::Command;
pub use element::ElementExt;
pub use error::ParseError;
pub use http::{QueryError, RequestQuery};
pub use status::CommonStatus;
pub use version::ProtocolVersion;
