//! Content conversion: native formats in the store ⇄ the EAS item types of `protocol`.

pub mod calendar;
pub mod contact;
pub mod email;
pub mod mail;
pub mod note;
pub mod recurrence;
pub mod task;
pub mod timezone;

/// How a client's item applies to the stored one: a whole item (Add; a Change from a
/// client that sends every property) or only the properties that changed (16.x partial
/// Change; the server decides which from the version and the collection's Supported list).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeMode {
    /// Add, and Change before 16.0: a property the item lacks is removed.
    Replace,
    /// 16.x Change: only the properties present change (for a contact, an empty one is
    /// removed).
    Partial,
}
