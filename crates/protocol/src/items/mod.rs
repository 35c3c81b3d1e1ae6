//! Item types per class (MS-ASEMAIL, MS-ASCAL, MS-ASCNTC, MS-ASTASK, MS-ASNOTE, MS-ASAIRS).

pub mod airsyncbase;
pub mod calendar;
pub mod contact;
pub mod email;
pub mod note;
pub mod recurrence;
pub mod task;
