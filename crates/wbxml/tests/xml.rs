//! XML text form: layout, opaque marking, and parsing of the other forms in circulation.

use easd_wbxml::tags::{airsync, airsyncbase, calendar, contacts, email2, provision};
use easd_wbxml::xml::{from_xml, to_xml, XmlErrorKind};
use easd_wbxml::{decode, encode, Element, Node};

fn sample() -> Element {
    let body = Element::new(airsyncbase::BODY)
        .with_text(airsyncbase::TYPE, "1")
        .with(Element::opaque_element(
            airsyncbase::DATA,
            vec![0u8, 1, 2, 250],
        ));
    let data = Element::new(airsync::APPLICATION_DATA)
        .with(body)
        .with_text(contacts::FILE_AS, "Funk, Don & <Co>")
        .with(Element::new(contacts::CATEGORIES));
    Element::new(airsync::SYNC).with(
        Element::new(airsync::COLLECTIONS).with(
            Element::new(airsync::COLLECTION)
                .with_text(airsync::SYNC_KEY, "2")
                .with(data),
        ),
    )
}

#[test]
fn writes_the_mscmd_style() {
    let xml = to_xml(&sample());
    let expected = r#"<?xml version="1.0" encoding="utf-8"?>
<Sync xmlns="AirSync:" xmlns:contacts="Contacts:" xmlns:airsyncbase="AirSyncBase:" xmlns:wbxml="urn:easd:wbxml">
  <Collections>
    <Collection>
      <SyncKey>2</SyncKey>
      <ApplicationData>
        <airsyncbase:Body>
          <airsyncbase:Type>1</airsyncbase:Type>
          <airsyncbase:Data wbxml:opaque="base64">AAEC+g==</airsyncbase:Data>
        </airsyncbase:Body>
        <contacts:FileAs>Funk, Don &amp; &lt;Co&gt;</contacts:FileAs>
        <contacts:Categories/>
      </ApplicationData>
    </Collection>
  </Collections>
</Sync>
"#;
    assert_eq!(xml, expected);
    assert_eq!(from_xml(&xml).unwrap(), sample());
}

#[test]
fn root_on_another_page_is_the_default_namespace() {
    let tree = Element::new(provision::PROVISION).with(
        Element::new(provision::POLICIES).with(
            Element::new(provision::POLICY)
                .with_text(provision::POLICY_TYPE, "MS-EAS-Provisioning-WBXML")
                .with_text(airsync::STATUS, "1"),
        ),
    );
    let xml = to_xml(&tree);
    assert!(
        xml.contains(r#"<Provision xmlns="Provision:" xmlns:airsync="AirSync:">"#),
        "{xml}"
    );
    assert!(xml.contains("<PolicyType>MS-EAS-Provisioning-WBXML</PolicyType>"));
    assert!(xml.contains("<airsync:Status>1</airsync:Status>"));
    assert_eq!(from_xml(&xml).unwrap(), tree);
}

#[test]
fn mixed_content_and_special_text_round_trip() {
    let tree = Element::new(airsync::SYNC)
        .with(Element::text_element(
            airsync::SYNC_KEY,
            "  spaced\r\n\ttabs \u{1}\u{7f} é😀 ",
        ))
        .with(Element::text_element(airsync::CLIENT_ID, "   "))
        .with(Element {
            tag: email2::CONVERSATION_ID,
            children: vec![
                Node::Text("a".into()),
                Node::Opaque(vec![9, 8]),
                Node::Text(" b ".into()),
                Node::Element(Element::new(email2::SENDER)),
                Node::Opaque(vec![]),
            ],
        })
        .with(Element::opaque_element(airsyncbase::DATA, vec![]));
    let xml = to_xml(&tree);
    assert_eq!(from_xml(&xml).unwrap(), tree, "{xml}");
}

#[test]
fn text_with_nul_reads_back_as_opaque_like_wbxml() {
    let tree = Element::text_element(airsync::SYNC_KEY, "a\0b");
    let via_xml = from_xml(&to_xml(&tree)).unwrap();
    assert_eq!(via_xml, decode(&encode(&tree)).unwrap());
}

#[test]
fn reads_libwbxml_output() {
    // As printed by `wbxml2xml -l ACTIVESYNC` (libwbxml 0.11.8), names included.
    let xml = r#"<?xml version="1.0"?>
<!DOCTYPE ActiveSync PUBLIC "-//MICROSOFT//DTD ActiveSync//EN" "http://www.microsoft.com/">
<Sync xmlns="AirSync:">
<Collections>
<Collection>
<SyncKey>2</SyncKey>
<ApplicationData>
<Body xmlns="AirSyncBase:">
<Type>1</Type>
</Body>
<Recurrence_Type xmlns="Calendar:">1</Recurrence_Type>
<BusinessCity xmlns="Contacts:">Oslo</BusinessCity>
<NativeBodyType xmlns="AirSyncBase:">1</NativeBodyType>
</ApplicationData>
</Collection>
</Collections>
</Sync>"#;
    let expected = Element::new(airsync::SYNC).with(
        Element::new(airsync::COLLECTIONS).with(
            Element::new(airsync::COLLECTION)
                .with_text(airsync::SYNC_KEY, "2")
                .with(
                    Element::new(airsync::APPLICATION_DATA)
                        .with(Element::new(airsyncbase::BODY).with_text(airsyncbase::TYPE, "1"))
                        .with_text(calendar::TYPE, "1")
                        .with_text(contacts::BUSINESS_ADDRESS_CITY, "Oslo")
                        .with_text(airsyncbase::NATIVE_BODY_TYPE, "1"),
                ),
        ),
    );
    assert_eq!(from_xml(xml).unwrap(), expected);
}

#[test]
fn reads_other_namespace_spellings() {
    let a = from_xml(r#"<a:Sync xmlns:a="AirSync"><a:SyncKey>1</a:SyncKey></a:Sync>"#).unwrap();
    let b = from_xml(r#"<Sync xmlns="airsync:"><SyncKey>1</SyncKey></Sync>"#).unwrap();
    let c = from_xml(r#"<Sync><SyncKey>1</SyncKey></Sync>"#).unwrap();
    let d = from_xml(
        r#"<Sync xmlns="http://synce.org/formats/airsync_wm5/airsync"><SyncKey>1</SyncKey></Sync>"#,
    )
    .unwrap();
    let expected = Element::new(airsync::SYNC).with_text(airsync::SYNC_KEY, "1");
    assert_eq!(a, expected);
    assert_eq!(b, expected);
    assert_eq!(c, expected);
    assert_eq!(d, expected);
    // No namespace at the root: the root's name picks the page.
    let p = from_xml("<Provision><Policies/></Provision>").unwrap();
    assert_eq!(
        p,
        Element::new(provision::PROVISION).with(Element::new(provision::POLICIES))
    );
    // CDATA is text.
    let t = from_xml(r#"<SyncKey xmlns="AirSync:">a<![CDATA[<b>]]>c</SyncKey>"#).unwrap();
    assert_eq!(t, Element::text_element(airsync::SYNC_KEY, "a<b>c"));
}

fn err(xml: &str) -> (usize, XmlErrorKind) {
    let e = from_xml(xml).unwrap_err();
    (e.line, e.kind)
}

#[test]
fn errors_carry_the_line() {
    use XmlErrorKind::*;
    assert_eq!(
        err("<Sync xmlns=\"AirSync:\">\n  <Bogus/>\n</Sync>"),
        (
            2,
            UnknownElement {
                page: "AirSync",
                name: "Bogus".into()
            }
        )
    );
    assert_eq!(
        err("<Sync xmlns=\"Nope:\"/>"),
        (1, UnknownNamespace("Nope:".into()))
    );
    assert_eq!(err("<x:Sync/>"), (1, UnknownPrefix("x".into())));
    assert_eq!(err("\n\n<Bogus/>"), (3, UnknownRootElement("Bogus".into())));
    assert_eq!(
        err("<Sync xmlns=\"AirSync:\" foo=\"1\"/>"),
        (1, UnexpectedAttribute("foo".into()))
    );
    let (line, kind) = err(
        "<Sync xmlns=\"AirSync:\" xmlns:w=\"urn:easd:wbxml\">\n<SyncKey w:opaque=\"base64\">**</SyncKey></Sync>",
    );
    assert_eq!(line, 2);
    assert!(matches!(kind, InvalidBase64(_)), "{kind:?}");
    assert_eq!(
        err("<Sync xmlns=\"AirSync:\" xmlns:w=\"urn:easd:wbxml\">\n<SyncKey w:opaque=\"base64\"><Status/></SyncKey></Sync>"),
        (2, ElementInOpaque)
    );
    assert_eq!(
        err("<Sync xmlns=\"AirSync:\" xmlns:w=\"urn:easd:wbxml\"><w:opaque>AA==<Status/></w:opaque></Sync>"),
        (1, ElementInOpaque)
    );
    assert_eq!(
        err("<Sync xmlns=\"AirSync:\"/>\n<Sync xmlns=\"AirSync:\"/>"),
        (2, MultipleRoots)
    );
    assert_eq!(err("x<Sync xmlns=\"AirSync:\"/>"), (1, TextOutsideRoot));
    assert_eq!(err("<?xml version=\"1.0\"?>\n"), (2, NoRoot));
    assert_eq!(
        err("<Sync xmlns=\"AirSync:\">\n<SyncKey>"),
        (2, Unclosed("SyncKey".into()))
    );
    let (line, kind) = err("<Sync xmlns=\"AirSync:\">\n\n</Wrong>");
    assert_eq!(line, 3);
    assert!(matches!(kind, Syntax(_)), "{kind:?}");
    let (line, kind) = err("<Sync xmlns=\"AirSync:\">&bogus;</Sync>");
    assert_eq!(line, 1);
    assert!(matches!(kind, Syntax(_)), "{kind:?}");
    assert!(from_xml("<Sync xmlns=\"AirSync:\"><SyncKey>1</SyncKey></Sync>").is_ok());
    let e = from_xml("<Sync xmlns=\"AirSync:\">\n  <Bogus/>\n</Sync>").unwrap_err();
    assert_eq!(
        e.to_string(),
        "line 2: <Bogus> is not a tag of code page AirSync"
    );
}

#[test]
fn corpus_documents_parse_and_round_trip() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    let mut n = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("xml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let tree = from_xml(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(decode(&encode(&tree)).unwrap(), tree, "{}", path.display());
        assert_eq!(
            from_xml(&to_xml(&tree)).unwrap(),
            tree,
            "{}",
            path.display()
        );
        n += 1;
    }
    assert!(n > 0);
}

#[test]
fn every_ascii_character_survives_at_every_block_offset() {
    let all: String = (1u8..0x80).map(char::from).collect();
    for pad in 0..40 {
        let text = format!("{}{all}{all}é", "x".repeat(pad));
        let tree = Element::text_element(airsync::SYNC_KEY, text);
        let xml = to_xml(&tree);
        assert!(!xml.contains('\r') && !xml.contains('\u{1}'), "{xml:?}");
        assert_eq!(from_xml(&xml).unwrap(), tree);
        let mut out = Vec::new();
        easd_wbxml::xml::transcode(&encode(&tree), &easd_wbxml::Limits::default(), &mut out)
            .unwrap();
        assert_eq!(out, xml.as_bytes());
    }
}
