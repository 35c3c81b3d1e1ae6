//! Helpers for the command tests: the MS-ASCMD-style example documents of the WBXML
//! corpus (crates/wbxml/tests/corpus), read as element trees.

#![allow(dead_code)]

use easd_wbxml::{decode, encode, xml, Element};

/// The corpus document `name` as an element tree.
pub fn corpus(name: &str) -> Element {
    let path = format!(
        "{}/../wbxml/tests/corpus/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    xml::from_xml(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Asserts that `actual` is the corpus document `name` (compared as normalized trees), and
/// that it survives a WBXML round trip.
pub fn assert_matches_corpus(actual: &Element, name: &str) {
    let expected = xml::normalize(&corpus(name));
    let actual = xml::normalize(actual);
    assert_eq!(
        actual,
        expected,
        "\nactual:\n{}\nexpected:\n{}",
        xml::to_xml(&actual),
        xml::to_xml(&expected)
    );
    assert_wbxml_round_trip(&actual);
}

/// Asserts that `e` encodes to WBXML and decodes back to itself.
pub fn assert_wbxml_round_trip(e: &Element) {
    let bytes = encode(e);
    assert_eq!(
        &xml::normalize(&decode(&bytes).expect("decodes")),
        &xml::normalize(e)
    );
}
