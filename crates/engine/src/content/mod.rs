//! Content conversion: native formats in the store ⇄ the EAS item types of `protocol`.

pub mod calendar;
pub mod contact;
pub mod email;
pub mod itip;
pub mod mail;
pub mod note;
pub mod pim;
pub mod recurrence;
pub mod task;
pub mod timezone;

use easd_protocol::items::airsyncbase::{is_ghosted, Supported};
use easd_wbxml::Tag;

/// How a client's item applies to the stored one: a whole item (Add; a Change before
/// 16.0) or only the properties that changed (16.x Change). The server decides from the
/// version and the collection's Supported list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeMode<'a> {
    /// Add, and Change before 16.0: the item is whole, so a property it lacks is removed,
    /// except one the client does not manage: with a Supported list (MS-ASCMD 2.2.3.179)
    /// a property outside it is ghosted and keeps the stored value (MS-ASAIRS 3.1.5.3).
    Replace { supported: Option<&'a Supported> },
    /// 16.x Change: only the properties present change (for a contact, an empty one is
    /// removed).
    Partial,
}

impl ChangeMode<'_> {
    /// A whole item from a client that manages every property.
    pub const WHOLE: ChangeMode<'static> = ChangeMode::Replace { supported: None };

    /// Whether a property the client's item lacks is removed from the stored one.
    pub fn clears_absent(&self, tag: Tag) -> bool {
        match self {
            ChangeMode::Replace { supported } => !is_ghosted(*supported, tag),
            ChangeMode::Partial => false,
        }
    }
}
