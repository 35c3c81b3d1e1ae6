//! Decoder and encoder against known documents, and every decode error with its offset.

use easd_wbxml::tags::{airsync, airsyncbase, contacts, provision};
use easd_wbxml::{
    decode, decode_with, encode, DecodeErrorKind, Element, Limits, Node, Tag, Writer,
};

/// The Sync response of MS-ASWBXML section 3.1 (example), as Exchange and libwbxml encode it.
const MS_EXAMPLE: &[u8] = &[
    0x03, 0x01, 0x6A, 0x00, 0x45, 0x5C, 0x4F, 0x50, 0x03, 0x43, 0x6F, 0x6E, 0x74, 0x61, 0x63, 0x74,
    0x73, 0x00, 0x01, 0x4B, 0x03, 0x32, 0x00, 0x01, 0x52, 0x03, 0x32, 0x00, 0x01, 0x4E, 0x03, 0x31,
    0x00, 0x01, 0x56, 0x47, 0x4D, 0x03, 0x32, 0x3A, 0x31, 0x00, 0x01, 0x5D, 0x00, 0x11, 0x4A, 0x46,
    0x03, 0x31, 0x00, 0x01, 0x4C, 0x03, 0x30, 0x00, 0x01, 0x4D, 0x03, 0x31, 0x00, 0x01, 0x01, 0x00,
    0x01, 0x5E, 0x03, 0x46, 0x75, 0x6E, 0x6B, 0x2C, 0x20, 0x44, 0x6F, 0x6E, 0x00, 0x01, 0x5F, 0x03,
    0x44, 0x6F, 0x6E, 0x00, 0x01, 0x69, 0x03, 0x46, 0x75, 0x6E, 0x6B, 0x00, 0x01, 0x00, 0x11, 0x56,
    0x03, 0x31, 0x00, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
];

fn ms_example_tree() -> Element {
    let body = Element::new(airsyncbase::BODY)
        .with_text(airsyncbase::TYPE, "1")
        .with_text(airsyncbase::ESTIMATED_DATA_SIZE, "0")
        .with_text(airsyncbase::TRUNCATED, "1");
    let data = Element::new(airsync::APPLICATION_DATA)
        .with(body)
        .with_text(contacts::FILE_AS, "Funk, Don")
        .with_text(contacts::FIRST_NAME, "Don")
        .with_text(contacts::LAST_NAME, "Funk")
        .with_text(airsyncbase::NATIVE_BODY_TYPE, "1");
    let add = Element::new(airsync::ADD)
        .with_text(airsync::SERVER_ID, "2:1")
        .with(data);
    let collection = Element::new(airsync::COLLECTION)
        .with_text(airsync::CLASS, "Contacts")
        .with_text(airsync::SYNC_KEY, "2")
        .with_text(airsync::COLLECTION_ID, "2")
        .with_text(airsync::STATUS, "1")
        .with(Element::new(airsync::COMMANDS).with(add));
    Element::new(airsync::SYNC).with(Element::new(airsync::COLLECTIONS).with(collection))
}

#[test]
fn decodes_the_spec_example() {
    assert_eq!(decode(MS_EXAMPLE).unwrap(), ms_example_tree());
}

#[test]
fn encodes_the_spec_example() {
    assert_eq!(encode(&ms_example_tree()), MS_EXAMPLE);
}

#[test]
fn writer_matches_encode() {
    let mut w = Writer::new(Vec::new());
    w.start(airsync::SYNC).unwrap();
    w.start(airsync::COLLECTIONS).unwrap();
    w.element(
        ms_example_tree()
            .elements()
            .next()
            .unwrap()
            .elements()
            .next()
            .unwrap(),
    )
    .unwrap();
    w.end().unwrap();
    w.end().unwrap();
    assert_eq!(w.finish().unwrap(), MS_EXAMPLE);
}

#[test]
fn writer_streams_the_spec_example_by_events() {
    let mut w = Writer::new(Vec::new());
    w.start(airsync::SYNC).unwrap();
    w.start(airsync::COLLECTIONS).unwrap();
    w.start(airsync::COLLECTION).unwrap();
    w.text_element(airsync::CLASS, "Contacts").unwrap();
    w.text_element(airsync::SYNC_KEY, "2").unwrap();
    w.text_element(airsync::COLLECTION_ID, "2").unwrap();
    w.text_element(airsync::STATUS, "1").unwrap();
    w.start(airsync::COMMANDS).unwrap();
    w.start(airsync::ADD).unwrap();
    w.text_element(airsync::SERVER_ID, "2:1").unwrap();
    w.start(airsync::APPLICATION_DATA).unwrap();
    w.start(airsyncbase::BODY).unwrap();
    w.text_element(airsyncbase::TYPE, "1").unwrap();
    w.text_element(airsyncbase::ESTIMATED_DATA_SIZE, "0")
        .unwrap();
    w.text_element(airsyncbase::TRUNCATED, "1").unwrap();
    w.end().unwrap();
    w.text_element(contacts::FILE_AS, "Funk, Don").unwrap();
    w.text_element(contacts::FIRST_NAME, "Don").unwrap();
    w.text_element(contacts::LAST_NAME, "Funk").unwrap();
    w.text_element(airsyncbase::NATIVE_BODY_TYPE, "1").unwrap();
    for _ in 0..6 {
        w.end().unwrap();
    }
    assert_eq!(w.finish().unwrap(), MS_EXAMPLE);
}

#[test]
fn empty_elements_and_opaque() {
    let tree = Element::new(airsync::SYNC)
        .with(Element::new(airsync::GET_CHANGES))
        .with(Element::text_element(airsync::SYNC_KEY, ""))
        .with(Element::opaque_element(
            airsyncbase::DATA,
            vec![0u8, 1, 2, 0xFF],
        ))
        .with(Element::opaque_element(airsyncbase::DATA, Vec::new()));
    let bytes = encode(&tree);
    assert_eq!(
        bytes,
        [
            0x03, 0x01, 0x6A, 0x00, 0x45, 0x13, 0x0B, 0x00, 0x11, 0x4B, 0xC3, 0x04, 0, 1, 2, 0xFF,
            0x01, 0x4B, 0xC3, 0x00, 0x01, 0x01
        ]
    );
    let back = decode(&bytes).unwrap();
    // The empty text is not written, so the element decodes empty.
    let mut expected = tree.clone();
    expected.children[1] = Node::Element(Element::new(airsync::SYNC_KEY));
    assert_eq!(back, expected);
}

#[test]
fn text_with_nul_is_written_as_opaque() {
    let tree = Element::text_element(airsync::SYNC_KEY, "a\0b");
    let back = decode(&encode(&tree)).unwrap();
    assert_eq!(
        back,
        Element::opaque_element(airsync::SYNC_KEY, b"a\0b".to_vec())
    );
}

#[test]
fn adjacent_strings_merge_and_empty_strings_vanish() {
    let bytes = [
        0x03, 0x01, 0x6A, 0x00, 0x4B, 0x03, b'a', 0, 0x03, 0, 0x03, b'b', 0, 0x01,
    ];
    assert_eq!(
        decode(&bytes).unwrap(),
        Element::text_element(airsync::SYNC_KEY, "ab")
    );
}

#[test]
fn long_opaque_uses_multibyte_length() {
    let data: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
    let tree = Element::opaque_element(airsyncbase::DATA, data.clone());
    let bytes = encode(&tree);
    // 200000 = 0x30D40 → 7-bit groups 0x0C 0x1A 0x40.
    assert_eq!(&bytes[4..10], &[0x00, 0x11, 0x4B, 0xC3, 0x8C, 0x9A]);
    assert_eq!(bytes[10], 0x40);
    assert_eq!(decode(&bytes).unwrap(), tree);
}

#[test]
fn accepts_older_versions_and_other_public_ids() {
    for version in [0x01, 0x02, 0x03] {
        let bytes = [version, 0x81, 0x00, 0x6A, 0x00, 0x05];
        assert_eq!(decode(&bytes).unwrap(), Element::new(airsync::SYNC));
    }
}

#[test]
fn deep_documents_do_not_overflow_the_stack() {
    let depth = 200_000;
    let mut bytes = vec![0x03, 0x01, 0x6A, 0x00];
    bytes.extend(std::iter::repeat_n(0x45u8, depth - 1));
    bytes.push(0x05);
    bytes.extend(std::iter::repeat_n(0x01u8, depth - 1));
    let limits = Limits {
        max_depth: usize::MAX,
        ..Limits::default()
    };
    let tree = decode_with(&bytes, &limits).unwrap();
    // Encoding is iterative too.
    let same = encode(&tree) == bytes;
    // Dropping a deep tree is recursive in Rust; take it apart by hand.
    let mut stack = vec![tree];
    while let Some(mut e) = stack.pop() {
        for c in e.children.drain(..) {
            if let Node::Element(c) = c {
                stack.push(c);
            }
        }
    }
    assert!(same);
}

fn err(bytes: &[u8]) -> (usize, DecodeErrorKind) {
    let e = decode(bytes).unwrap_err();
    (e.offset, e.kind)
}

const H: [u8; 4] = [0x03, 0x01, 0x6A, 0x00];

fn doc(body: &[u8]) -> Vec<u8> {
    let mut v = H.to_vec();
    v.extend_from_slice(body);
    v
}

#[test]
fn header_errors() {
    use DecodeErrorKind::*;
    assert_eq!(
        err(&[]),
        (
            0,
            UnexpectedEof {
                context: "in the header"
            }
        )
    );
    assert_eq!(
        err(&[0x04, 0x01, 0x6A, 0x00, 0x45]),
        (0, UnsupportedVersion(0x04))
    );
    assert_eq!(
        err(&[0x00, 0x01, 0x6A, 0x00, 0x45]),
        (0, UnsupportedVersion(0x00))
    );
    assert_eq!(
        err(&[0x03, 0x00, 0x00, 0x6A, 0x00]),
        (1, PublicIdInStringTable)
    );
    assert_eq!(
        err(&[0x03, 0x01, 0x04, 0x00, 0x45]),
        (2, UnsupportedCharset(4))
    );
    assert_eq!(
        err(&[0x03, 0x01, 0x6A, 0x02, b'a', 0, 0x45]),
        (3, StringTable(2))
    );
    assert_eq!(
        err(&[0x03, 0x01, 0x6A]),
        (
            3,
            UnexpectedEof {
                context: "in the header"
            }
        )
    );
    // mb_u_int32: six groups, and five groups over 32 bits.
    assert_eq!(
        err(&[0x03, 0x81, 0x80, 0x80, 0x80, 0x80, 0x01]),
        (1, BadMultiByteInt)
    );
    assert_eq!(
        err(&[0x03, 0x90, 0x80, 0x80, 0x80, 0x00]),
        (1, BadMultiByteInt)
    );
    assert_eq!(
        err(&[0x03, 0x81]),
        (
            2,
            UnexpectedEof {
                context: "in the header"
            }
        )
    );
    // The largest 32-bit value is fine (and then the charset is wrong).
    assert_eq!(
        err(&[0x03, 0x8F, 0xFF, 0xFF, 0xFF, 0x7F, 0x01]),
        (6, UnsupportedCharset(1))
    );
}

#[test]
fn body_errors() {
    use DecodeErrorKind::*;
    assert_eq!(err(&doc(&[])), (4, NoRoot));
    assert_eq!(
        err(&doc(&[0x45, 0x4B])),
        (
            6,
            UnclosedElements {
                open: 2,
                innermost: "SyncKey".into()
            }
        )
    );
    assert_eq!(err(&doc(&[0x01])), (4, UnmatchedEnd));
    assert_eq!(err(&doc(&[0x05, 0x05])), (5, MultipleRoots));
    assert_eq!(err(&doc(&[0x03, b'a', 0, 0x05])), (4, ContentOutsideRoot));
    assert_eq!(err(&doc(&[0x05, 0xC3, 0x00])), (5, ContentOutsideRoot));
    assert_eq!(err(&doc(&[0x00, 0x1A, 0x05])), (5, UnknownPage(26)));
    assert_eq!(
        err(&doc(&[0x00])),
        (
            5,
            UnexpectedEof {
                context: "after SWITCH_PAGE"
            }
        )
    );
    assert_eq!(
        err(&doc(&[0x00, 0x0E, 0x45, 0x00, 0x0E, 0x7E])),
        (
            9,
            UnknownToken {
                page: 14,
                page_name: "Provision",
                token: 0x3E
            }
        )
    );
    assert_eq!(
        err(&doc(&[0x2A])),
        (
            4,
            UnknownToken {
                page: 0,
                page_name: "AirSync",
                token: 0x2A
            }
        )
    );
    assert_eq!(
        err(&doc(&[0x45, 0x8B])),
        (
            5,
            Attributes {
                page: 0,
                token: 0x0B,
                byte: 0x8B
            }
        )
    );
    assert_eq!(
        err(&doc(&[0x45, 0xCB])),
        (
            5,
            Attributes {
                page: 0,
                token: 0x0B,
                byte: 0xCB
            }
        )
    );
    assert_eq!(err(&doc(&[0x45, 0x03, b'a'])), (5, UnterminatedString));
    assert_eq!(
        err(&doc(&[0x45, 0x03, b'a', 0xFF, 0x00, 0x01])),
        (7, InvalidUtf8)
    );
    assert_eq!(
        err(&doc(&[0x45, 0xC3, 0x05, 1, 2])),
        (5, OpaqueOverrun { len: 5 })
    );
    assert_eq!(
        err(&doc(&[0x45, 0xC3, 0x8F, 0xFF, 0xFF, 0xFF, 0x7F])),
        (5, OpaqueOverrun { len: u32::MAX })
    );
    assert_eq!(
        err(&doc(&[0x45, 0xC3])),
        (
            6,
            UnexpectedEof {
                context: "in the OPAQUE length"
            }
        )
    );
    assert_eq!(
        err(&doc(&[0x45, 0xC3, 0x80, 0x80, 0x80, 0x80, 0x80])),
        (6, BadMultiByteInt)
    );
}

#[test]
fn every_unsupported_global_token_is_named() {
    let names = [
        (0x02, "ENTITY"),
        (0x04, "LITERAL"),
        (0x40, "EXT_I_0"),
        (0x41, "EXT_I_1"),
        (0x42, "EXT_I_2"),
        (0x43, "PI"),
        (0x44, "LITERAL_C"),
        (0x80, "EXT_T_0"),
        (0x81, "EXT_T_1"),
        (0x82, "EXT_T_2"),
        (0x83, "STR_T"),
        (0x84, "LITERAL_A"),
        (0xC0, "EXT_0"),
        (0xC1, "EXT_1"),
        (0xC2, "EXT_2"),
        (0xC4, "LITERAL_AC"),
    ];
    for (byte, name) in names {
        let e = decode(&doc(&[0x45, byte, 0x00, 0x01])).unwrap_err();
        assert_eq!(e.offset, 5);
        assert_eq!(e.kind, DecodeErrorKind::UnsupportedToken { name, byte });
        assert!(e.to_string().contains(name), "{e}");
    }
}

#[test]
fn limits() {
    use DecodeErrorKind::*;
    let tight = Limits {
        max_input_bytes: 5,
        ..Limits::default()
    };
    let e = decode_with(&doc(&[0x45, 0x01]), &tight).unwrap_err();
    assert_eq!((e.offset, e.kind), (0, InputTooLarge { len: 6, max: 5 }));
    let tight = Limits {
        max_depth: 2,
        ..Limits::default()
    };
    assert!(decode_with(&doc(&[0x45, 0x5C, 0x01, 0x01]), &tight).is_ok());
    let e = decode_with(&doc(&[0x45, 0x5C, 0x0F, 0x01, 0x01]), &tight).unwrap_err();
    assert_eq!((e.offset, e.kind), (6, TooDeep(2)));
    let tight = Limits {
        max_elements: 3,
        ..Limits::default()
    };
    assert!(decode_with(&doc(&[0x45, 0x13, 0x13, 0x01]), &tight).is_ok());
    let e = decode_with(&doc(&[0x45, 0x13, 0x13, 0x13, 0x01]), &tight).unwrap_err();
    assert_eq!((e.offset, e.kind), (7, TooManyElements(3)));
}

#[test]
fn error_messages_name_byte_and_page() {
    let e = decode(&doc(&[0x00, 0x0E, 0x45, 0x00, 0x0E, 0x7E])).unwrap_err();
    assert_eq!(
        e.to_string(),
        "byte 9: unknown token 0x3E on code page 14 (Provision)"
    );
    assert_eq!(Tag::new(14, 0x05), provision::PROVISION);
}

#[test]
fn writer_misuse_is_an_error() {
    use easd_wbxml::EncodeError;
    let mut w = Writer::new(Vec::new());
    assert!(matches!(w.end(), Err(EncodeError::UnmatchedEnd)));
    assert!(matches!(w.text("x"), Err(EncodeError::ContentOutsideRoot)));
    w.empty(airsync::SYNC).unwrap();
    assert!(matches!(
        w.start(airsync::SYNC),
        Err(EncodeError::MultipleRoots)
    ));
    assert!(matches!(
        Writer::new(Vec::new()).finish(),
        Err(EncodeError::NoRoot)
    ));
    let mut w = Writer::new(Vec::new());
    w.start(airsync::SYNC).unwrap();
    assert!(matches!(w.finish(), Err(EncodeError::Unclosed(1))));
}
