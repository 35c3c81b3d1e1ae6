//! easd-server
