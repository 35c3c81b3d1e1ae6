//! easd-engine
