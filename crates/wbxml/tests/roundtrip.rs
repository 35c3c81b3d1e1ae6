//! Property tests: arbitrary trees of tags from every code page survive WBXML and XML.

use easd_wbxml::xml::{from_xml, normalize, to_xml, transcode, TranscodeError};
use easd_wbxml::{decode, encode, Element, Limits, Node, Tag, Writer, CODE_PAGES};
use proptest::collection::vec;
use proptest::prelude::*;

fn tag() -> impl Strategy<Value = Tag> {
    (0..CODE_PAGES.len()).prop_flat_map(|p| {
        let page = &CODE_PAGES[p];
        (0..page.tags.len()).prop_map(move |i| Tag::new(page.number, page.tags[i].0))
    })
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[^\u{0}]{1,24}",
        "[ \t\r\n]{1,4}",
        "[a-zA-Z0-9 &<>\"';:=/+]{1,16}",
    ]
}

fn node(inner: impl Strategy<Value = Element>) -> impl Strategy<Value = Node> {
    prop_oneof![
        3 => inner.prop_map(Node::Element),
        2 => text().prop_map(Node::Text),
        1 => vec(any::<u8>(), 0..40).prop_map(Node::Opaque),
    ]
}

fn element() -> impl Strategy<Value = Element> {
    tag()
        .prop_map(Element::new)
        .prop_recursive(8, 96, 6, |inner| {
            (tag(), vec(node(inner), 0..6)).prop_map(|(tag, children)| Element { tag, children })
        })
}

/// What WBXML keeps: adjacent strings are one STR_I run when decoded.
fn merge_adjacent_text(e: &Element) -> Element {
    let mut children: Vec<Node> = Vec::new();
    for c in &e.children {
        match (children.last_mut(), c) {
            (Some(Node::Text(prev)), Node::Text(t)) => prev.push_str(t),
            (_, Node::Element(c)) => children.push(Node::Element(merge_adjacent_text(c))),
            (_, c) => children.push(c.clone()),
        }
    }
    Element {
        tag: e.tag,
        children,
    }
}

/// The same document through the streaming API, event by event.
fn stream(e: &Element, w: &mut Writer<Vec<u8>>) {
    stream_chunked(e, w, &mut None);
}

/// `stream`, taking the written bytes after every event into `chunks` when it is given
/// (what a streamed HTTP response does).
fn stream_chunked(e: &Element, w: &mut Writer<Vec<u8>>, chunks: &mut Option<Vec<u8>>) {
    fn take(w: &mut Writer<Vec<u8>>, chunks: &mut Option<Vec<u8>>) {
        if let Some(out) = chunks.as_mut() {
            out.extend(w.take_written());
        }
    }
    w.start(e.tag).unwrap();
    take(w, chunks);
    for c in &e.children {
        match c {
            Node::Element(c) if c.children.is_empty() => w.empty(c.tag).unwrap(),
            Node::Element(c) => match c.children.as_slice() {
                [Node::Text(t)] => w.text_element(c.tag, t).unwrap(),
                [Node::Opaque(b)] => w.opaque_element(c.tag, b).unwrap(),
                _ => stream_chunked(c, w, chunks),
            },
            Node::Text(t) => w.text(t).unwrap(),
            Node::Opaque(b) => w.opaque(b).unwrap(),
        }
        take(w, chunks);
    }
    w.end().unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 2000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn wbxml_round_trip(tree in element()) {
        let bytes = encode(&tree);
        let back = decode(&bytes).unwrap();
        let merged = merge_adjacent_text(&tree);
        prop_assert_eq!(&back, &merged);
        // Canonical: re-encoding the decoded tree gives the same bytes.
        prop_assert_eq!(encode(&back), encode(&merged));
    }

    #[test]
    fn writer_events_match_encode(tree in element()) {
        let mut w = Writer::new(Vec::new());
        stream(&tree, &mut w);
        prop_assert_eq!(w.finish().unwrap(), encode(&tree));
    }

    #[test]
    fn taken_chunks_make_the_document(tree in element()) {
        let mut w = Writer::new(Vec::new());
        let mut chunks = Some(Vec::new());
        stream_chunked(&tree, &mut w, &mut chunks);
        let mut all = chunks.unwrap();
        all.extend(w.finish().unwrap());
        prop_assert_eq!(all, encode(&tree));
    }

    #[test]
    fn xml_round_trip(tree in element()) {
        let xml = to_xml(&tree);
        let back = from_xml(&xml);
        prop_assert!(back.is_ok(), "{:?}\n{}", back, xml);
        prop_assert_eq!(back.unwrap(), normalize(&tree), "{}", xml);
    }

    #[test]
    fn decoded_trees_are_xml_stable(tree in element()) {
        // What the fuzz target checks: a decoded tree goes through XML unchanged, up to
        // formatting whitespace.
        let decoded = decode(&encode(&tree)).unwrap();
        let back = from_xml(&to_xml(&decoded)).unwrap();
        prop_assert_eq!(&back, &normalize(&decoded));
        prop_assert_eq!(decode(&encode(&back)).unwrap(), back);
    }

    #[test]
    fn transcode_matches_to_xml_of_decode(tree in element()) {
        let bytes = encode(&tree);
        let mut out = Vec::new();
        transcode(&bytes, &Limits::default(), &mut out).unwrap();
        prop_assert_eq!(String::from_utf8(out).unwrap(), to_xml(&decode(&bytes).unwrap()));
    }

    #[test]
    fn transcode_agrees_with_decode_on_any_body(body in vec(any::<u8>(), 0..256)) {
        let mut bytes = vec![0x03, 0x01, 0x6A, 0x00];
        bytes.extend(body);
        let mut out = Vec::new();
        match (decode(&bytes), transcode(&bytes, &Limits::default(), &mut out)) {
            (Ok(tree), Ok(())) => prop_assert_eq!(String::from_utf8(out).unwrap(), to_xml(&tree)),
            (Err(a), Err(TranscodeError::Decode(b))) => {
                prop_assert_eq!(a, b);
                prop_assert!(out.is_empty());
            }
            (a, b) => prop_assert!(false, "decode {:?} but transcode {:?}", a, b),
        }
    }

    #[test]
    fn decode_never_panics(bytes in vec(any::<u8>(), 0..256)) {
        let _ = decode(&bytes);
    }

    #[test]
    fn decode_never_panics_after_a_valid_header(body in vec(any::<u8>(), 0..256)) {
        let mut bytes = vec![0x03, 0x01, 0x6A, 0x00];
        bytes.extend(body);
        if let Ok(tree) = decode(&bytes) {
            prop_assert_eq!(decode(&encode(&tree)).unwrap(), tree);
        }
    }
}
