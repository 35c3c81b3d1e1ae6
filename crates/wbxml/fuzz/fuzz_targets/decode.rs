//! Decodes arbitrary bytes; whatever decodes must survive encode/decode and the XML form
//! unchanged (up to the XML form's documented normalisation).
#![no_main]

use easd_wbxml::{decode, encode, xml, Limits, Writer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The streaming converter must agree with the tree decoder on every input.
    let mut streamed = Vec::new();
    let transcoded = xml::transcode(data, &Limits::default(), &mut streamed);
    let tree = match (decode(data), transcoded) {
        (Ok(tree), Ok(())) => tree,
        (Err(a), Err(xml::TranscodeError::Decode(b))) => {
            assert_eq!(a, b, "decode and transcode report different errors");
            assert!(streamed.is_empty(), "transcode wrote output for invalid input");
            return;
        }
        (a, b) => panic!("decode {a:?} but transcode {b:?}"),
    };

    let bytes = encode(&tree);
    let again = decode(&bytes).expect("encoded document must decode");
    assert_eq!(again, tree, "decode(encode(tree)) != tree");
    assert_eq!(encode(&again), bytes, "encoding is not canonical");

    let mut w = Writer::new(Vec::new());
    w.element(&tree).expect("writer accepts a decoded tree");
    assert_eq!(w.finish().expect("writer finishes"), bytes, "Writer != encode");

    let text = xml::to_xml(&tree);
    assert_eq!(streamed, text.as_bytes(), "transcode != to_xml(decode)");
    let parsed = xml::from_xml(&text).unwrap_or_else(|e| panic!("to_xml output must parse: {e}\n{text}"));
    assert_eq!(parsed, xml::normalize(&tree), "from_xml(to_xml(tree)) != tree\n{text}");
});
