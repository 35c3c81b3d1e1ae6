//! `easd wbxml decode|encode` as a user runs it.

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// MS-ASWBXML's example Sync response (as Exchange and libwbxml encode it).
const DOC: &[u8] = &[
    0x03, 0x01, 0x6A, 0x00, 0x45, 0x5C, 0x4F, 0x50, 0x03, 0x43, 0x6F, 0x6E, 0x74, 0x61, 0x63, 0x74,
    0x73, 0x00, 0x01, 0x4B, 0x03, 0x32, 0x00, 0x01, 0x52, 0x03, 0x32, 0x00, 0x01, 0x4E, 0x03, 0x31,
    0x00, 0x01, 0x56, 0x47, 0x4D, 0x03, 0x32, 0x3A, 0x31, 0x00, 0x01, 0x5D, 0x00, 0x11, 0x4A, 0x46,
    0x03, 0x31, 0x00, 0x01, 0x4C, 0x03, 0x30, 0x00, 0x01, 0x4D, 0x03, 0x31, 0x00, 0x01, 0x01, 0x00,
    0x01, 0x5E, 0x03, 0x46, 0x75, 0x6E, 0x6B, 0x2C, 0x20, 0x44, 0x6F, 0x6E, 0x00, 0x01, 0x5F, 0x03,
    0x44, 0x6F, 0x6E, 0x00, 0x01, 0x69, 0x03, 0x46, 0x75, 0x6E, 0x6B, 0x00, 0x01, 0x00, 0x11, 0x56,
    0x03, 0x31, 0x00, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
];

fn easd(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_easd"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run easd");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin).expect("write stdin");
    drop(input);
    child.wait_with_output().expect("wait for easd")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8 output")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("utf-8 stderr")
}

fn hex_lines(bytes: &[u8]) -> String {
    bytes
        .chunks(16)
        .enumerate()
        .map(|(i, c)| {
            let hex: Vec<String> = c.iter().map(|b| format!("{b:02x}")).collect();
            let ascii: String = c
                .iter()
                .map(|&b| {
                    if (0x20..0x7F).contains(&b) {
                        b as char
                    } else {
                        '.'
                    }
                })
                .collect();
            format!("{:04x}   {:<48}  {ascii}\n", i * 16, hex.join(" "))
        })
        .collect()
}

#[test]
fn decodes_raw_hex_and_base64_alike() {
    let raw = easd(&["wbxml", "decode"], DOC);
    assert!(raw.status.success(), "{}", stderr(&raw));
    let xml = stdout(&raw);
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Sync xmlns=\"AirSync:\""));
    assert!(xml.contains("      <SyncKey>2</SyncKey>\n"), "{xml}");
    assert!(
        xml.contains("<contacts:FileAs>Funk, Don</contacts:FileAs>"),
        "{xml}"
    );

    let wireshark = easd(&["wbxml", "decode", "-"], hex_lines(DOC).as_bytes());
    assert!(wireshark.status.success(), "{}", stderr(&wireshark));
    assert_eq!(stdout(&wireshark), xml);

    let bare: String = DOC.iter().map(|b| format!("{b:02X} ")).collect();
    let bare = easd(&["wbxml", "decode"], bare.as_bytes());
    assert_eq!(stdout(&bare), xml);

    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(DOC);
    let b64 = easd(&["wbxml", "decode"], b64.as_bytes());
    assert!(b64.status.success(), "{}", stderr(&b64));
    assert_eq!(stdout(&b64), xml);
}

#[test]
fn decodes_a_file_and_encodes_back() {
    let path = std::env::temp_dir().join(format!("easd-wbxml-cli-{}.wbxml", std::process::id()));
    std::fs::write(&path, DOC).unwrap();
    let decoded = easd(&["wbxml", "decode", path.to_str().unwrap()], b"");
    let _ = std::fs::remove_file(&path);
    assert!(decoded.status.success(), "{}", stderr(&decoded));
    let encoded = easd(&["wbxml", "encode"], &decoded.stdout);
    assert!(encoded.status.success(), "{}", stderr(&encoded));
    assert_eq!(encoded.stdout, DOC);
}

#[test]
fn bad_wbxml_is_one_line_with_the_offset() {
    let mut doc = vec![0x03, 0x01, 0x6A, 0x00, 0x00, 0x0E, 0x45, 0x00, 0x0E, 0x7E];
    let out = easd(&["wbxml", "decode"], &doc);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "easd: byte 9: unknown token 0x3E on code page 14 (Provision)\n"
    );
    assert!(out.stdout.is_empty());

    doc.truncate(7);
    let out = easd(&["wbxml", "decode"], &doc);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "easd: byte 7: unexpected end of input: 1 element(s) still open, innermost <Provision>\n"
    );
}

#[test]
fn bad_xml_is_one_line_with_the_line_number() {
    let out = easd(
        &["wbxml", "encode"],
        b"<Sync xmlns=\"AirSync:\">\n  <Bogus/>\n</Sync>\n",
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "easd: line 2: <Bogus> is not a tag of code page AirSync\n"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn unrecognised_input_and_missing_files_fail_cleanly() {
    let out = easd(&["wbxml", "decode"], b"this is not wbxml\n");
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with("easd: ") && err.lines().count() == 1,
        "{err}"
    );

    let out = easd(&["wbxml", "decode", "/nonexistent/file.wbxml"], b"");
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with("easd: cannot read /nonexistent/file.wbxml"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn large_files_decode_the_same_as_small_ones() {
    // Over the size from which the file is mapped instead of read.
    let body = "Lorem ipsum dolor sit amet & co <3\r\n".repeat(4000);
    let mut doc = vec![0x03, 0x01, 0x6A, 0x00, 0x45, 0x00, 0x11, 0x4B, 0x03];
    doc.extend_from_slice(body.as_bytes());
    doc.extend_from_slice(&[0x00, 0x01, 0x01]);
    assert!(doc.len() > 128 * 1024);
    let path =
        std::env::temp_dir().join(format!("easd-wbxml-cli-big-{}.wbxml", std::process::id()));
    std::fs::write(&path, &doc).unwrap();
    let from_file = easd(&["wbxml", "decode", path.to_str().unwrap()], b"");
    let _ = std::fs::remove_file(&path);
    assert!(from_file.status.success(), "{}", stderr(&from_file));
    let from_stdin = easd(&["wbxml", "decode"], &doc);
    assert_eq!(from_file.stdout, from_stdin.stdout);
    let encoded = easd(&["wbxml", "encode"], &from_file.stdout);
    assert_eq!(encoded.stdout, doc);
}
