//! easd-store
