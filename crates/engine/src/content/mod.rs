//! Content conversion: native formats in the store ⇄ the EAS item types of `protocol`.

pub mod contact;
pub mod email;
pub mod mail;
pub mod note;
pub mod recurrence;
pub mod task;
pub mod timezone;
