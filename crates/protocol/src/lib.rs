//! easd-protocol
