//! `easd wbxml decode|encode`: WBXML captures to readable XML and back.
//!
//! `decode` takes what people paste from device logs and capture tools: raw WBXML, a hex
//! dump (bare hex, `0x..` lists, xxd, Wireshark "Copy as Hex Dump", Fiddler's hex view,
//! with or without an offset column and a trailing ASCII column), or base64.

use anyhow::{anyhow, bail, Context};
use base64::Engine as _;
use clap::Subcommand;
use easd_wbxml::{encode, xml, Limits};
use std::borrow::Cow;
use std::io::{Read, Write};
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum WbxmlCommand {
    /// WBXML (raw, hex or base64) to indented XML.
    Decode { file: Option<String> },
    /// XML to WBXML.
    Encode { file: Option<String> },
}

pub fn run(cmd: WbxmlCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        WbxmlCommand::Decode { file } => {
            let input = Input::open(file.as_deref())?;
            let bytes = wbxml_bytes(input.bytes())?;
            // Straight to XML, without building the tree; nothing is written for invalid
            // input, and the error already reads "byte N: ..." (offset into the WBXML).
            let mut out = std::io::stdout().lock();
            match xml::transcode(&bytes, &Limits::default(), &mut out) {
                Ok(()) => {}
                Err(xml::TranscodeError::Decode(e)) => bail!("{e}"),
                // `easd wbxml decode x | head` is not an error.
                Err(xml::TranscodeError::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                Err(xml::TranscodeError::Io(e)) => {
                    return Err(e).context("cannot write to standard output")
                }
            }
        }
        WbxmlCommand::Encode { file } => {
            let input = read_input(file.as_deref())?;
            let text = std::str::from_utf8(&input)
                .map_err(|e| anyhow!("byte {}: input is not UTF-8 XML", e.valid_up_to()))?;
            let tree = xml::from_xml(text).map_err(|e| anyhow!("{e}"))?;
            write_stdout(&encode(&tree))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The input of `decode`: a regular file is mapped rather than read, which saves copying
/// it (a third of the time of a large decode).
enum Input {
    Mapped(memmap2::Mmap),
    Read(Vec<u8>),
}

impl Input {
    fn open(file: Option<&str>) -> anyhow::Result<Input> {
        if let Some(path) = file.filter(|p| *p != "-") {
            let f = std::fs::File::open(path).with_context(|| format!("cannot read {path}"))?;
            let meta = f
                .metadata()
                .with_context(|| format!("cannot read {path}"))?;
            // Small files are not worth a mapping; empty ones cannot be mapped.
            if meta.is_file() && meta.len() >= 64 * 1024 {
                // SAFETY: the mapping is read-only and private to this process. Another
                // process could change the file while it is mapped (the reason the call is
                // unsafe); every byte read is bounds-checked against the mapping's fixed
                // length and validated by the decoder, so the worst outcome is an error or
                // a garbled document — the trade-off ripgrep makes by default too. A file
                // truncated meanwhile raises SIGBUS, ending this short-lived command.
                if let Ok(map) = unsafe { memmap2::Mmap::map(&f) } {
                    return Ok(Input::Mapped(map));
                }
            }
        }
        read_input(file).map(Input::Read)
    }

    fn bytes(&self) -> &[u8] {
        match self {
            Input::Mapped(m) => m,
            Input::Read(v) => v,
        }
    }
}

fn read_input(file: Option<&str>) -> anyhow::Result<Vec<u8>> {
    let mut buf = Vec::new();
    match file {
        None | Some("-") => {
            std::io::stdin()
                .lock()
                .read_to_end(&mut buf)
                .context("cannot read standard input")?;
        }
        Some(path) => {
            buf = std::fs::read(path).with_context(|| format!("cannot read {path}"))?;
        }
    }
    Ok(buf)
}

fn write_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        // `easd wbxml decode x | head` is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(e).context("cannot write to standard output"),
    }
}

/// WBXML versions 1.1-1.3 (the decoder's range) start the header.
fn looks_like_wbxml(bytes: &[u8]) -> bool {
    matches!(bytes.first(), Some(0x01..=0x03))
}

/// Raw WBXML as is; otherwise the text form it was pasted in.
fn wbxml_bytes(input: &[u8]) -> anyhow::Result<Cow<'_, [u8]>> {
    if input.is_empty() {
        bail!("empty input");
    }
    // WBXML starts with a control byte (the version), text dumps with a printable one.
    if looks_like_wbxml(input) {
        return Ok(Cow::Borrowed(input));
    }
    let Ok(text) = std::str::from_utf8(input) else {
        bail!(
            "byte 0: input is neither WBXML (version byte 0x{:02X}), a hex dump nor base64",
            input[0]
        );
    };
    // Hex first: a bare hex string is also valid base64 alphabet, never the other way
    // round for a WBXML document (base64 of 03 01 6A 00 is "AwFqAA").
    if let Some(bytes) = parse_hex_dump(text).filter(|b| looks_like_wbxml(b)) {
        return Ok(Cow::Owned(bytes));
    }
    if let Some(bytes) = parse_base64(text).filter(|b| looks_like_wbxml(b)) {
        return Ok(Cow::Owned(bytes));
    }
    bail!("input is neither WBXML, a hex dump nor base64 of a WBXML document")
}

fn parse_base64(text: &str) -> Option<Vec<u8>> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let compact = compact.trim_end_matches('=');
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    STANDARD_NO_PAD
        .decode(compact)
        .or_else(|_| URL_SAFE_NO_PAD.decode(compact))
        .ok()
}

/// Hex dump to bytes, line by line; `None` when a line is not hex.
fn parse_hex_dump(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for line in text.lines() {
        parse_hex_line(line, &mut out)?;
    }
    (!out.is_empty()).then_some(out)
}

/// A token's bytes when it is a hex group: `6a`, `6A00`, `0x6a`, `0x6a,` or `6a,`.
fn hex_token(token: &str) -> Option<Vec<u8>> {
    let t = token.trim_end_matches(',');
    let t = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t);
    if t.is_empty() || !t.len().is_multiple_of(2) {
        return None;
    }
    hex::decode(t).ok()
}

/// How dumps show a byte in their ASCII column.
fn printable(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| {
            if (0x20..0x7F).contains(&b) {
                b as char
            } else {
                '.'
            }
        })
        .collect()
}

fn parse_hex_line(line: &str, out: &mut Vec<u8>) -> Option<()> {
    // Tokens with their positions; punctuation of C arrays ({ } ;) is not content.
    let mut tokens: Vec<(usize, &str)> = Vec::new();
    let mut pos = 0;
    for tok in line.split_ascii_whitespace() {
        let at = pos + line[pos..].find(tok).unwrap_or(0);
        pos = at + tok.len();
        if tok
            .chars()
            .all(|c| matches!(c, '{' | '}' | ';' | ',' | '[' | ']'))
        {
            continue;
        }
        tokens.push((at, tok));
    }
    if tokens.is_empty() {
        return Some(());
    }

    // An offset column: "00000010:" (xxd), or a hex number wider than the byte groups
    // after it ("0010  03 01 ..." in Wireshark, "000010  03 01 ..." in Fiddler).
    let first = tokens[0].1;
    let is_offset = match tokens.get(1) {
        _ if first.ends_with(':') => first[..first.len() - 1]
            .chars()
            .all(|c| c.is_ascii_hexdigit()),
        Some((_, second)) => {
            first.len() >= 4
                && first.chars().all(|c| c.is_ascii_hexdigit())
                && hex_token(second).is_some()
                && second.trim_end_matches(',').len() < first.len()
        }
        None => false,
    };
    let tokens = if is_offset { &tokens[1..] } else { &tokens[..] };

    // Leading hex groups are the data; whatever follows is the ASCII column.
    let mut groups: Vec<Vec<u8>> = Vec::new();
    for (_, tok) in tokens {
        match hex_token(tok) {
            Some(bytes) => groups.push(bytes),
            None => break,
        }
    }
    if groups.is_empty() {
        return None;
    }
    // The ASCII column can itself look like hex ("ab" for 61 62) and be taken for data:
    // if the text from some group on is exactly how a dump would print the groups before
    // it, that text is the ASCII column.
    let mut keep = groups.len();
    if tokens.len() > 1 {
        for split in (1..groups.len()).rev() {
            let data: Vec<u8> = groups[..split].concat();
            let rest = line[tokens[split].0..].trim_end();
            let shown = printable(&data);
            if rest == shown || rest.replace(' ', "") == shown.replace(' ', "") {
                keep = split;
                break;
            }
        }
    }
    // A dump line that has data and then non-hex text must have that text as the ASCII
    // column; a line of text that merely starts with a hex-looking word is not a dump.
    if keep == groups.len() && groups.len() < tokens.len() && !is_offset {
        let data: Vec<u8> = groups.concat();
        let rest = line[tokens[groups.len()].0..].trim_end();
        if rest.chars().count() > data.len() + 1 {
            return None;
        }
    }
    for g in &groups[..keep] {
        out.extend_from_slice(g);
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: [u8; 13] = [
        0x03, 0x01, 0x6A, 0x00, 0x45, 0x4B, 0x03, 0x61, 0x62, 0x00, 0x01, 0x01, 0x01,
    ];

    fn bytes(text: &str) -> Vec<u8> {
        wbxml_bytes(text.as_bytes()).unwrap().into_owned()
    }

    #[test]
    fn raw() {
        assert_eq!(*wbxml_bytes(&DOC).unwrap(), DOC);
    }

    #[test]
    fn bare_hex_in_every_spelling() {
        assert_eq!(bytes("03016a00454b03616200010101"), DOC);
        assert_eq!(bytes("03 01 6A 00 45 4B 03 61\n62 00 01 01 01\n"), DOC);
        assert_eq!(
            bytes("0x03, 0x01, 0x6a, 0x00, 0x45, 0x4b, 0x03, 0x61, 0x62, 0x00, 0x01, 0x01, 0x01"),
            DOC
        );
        assert_eq!(bytes("{ 0x03, 0x01, 0x6a, 0x00,\n 0x45, 0x4b, 0x03, 0x61, 0x62, 0x00, 0x01, 0x01, 0x01 };"), DOC);
        assert_eq!(bytes("0301 6a00 454b 0361 6200 0101 01"), DOC);
    }

    #[test]
    fn dumps_with_offset_and_ascii_columns() {
        // xxd
        assert_eq!(
            bytes("00000000: 0301 6a00 454b 0361 6200 0101 01    ..j.EK.ab...."),
            DOC
        );
        // Wireshark "Copy as Hex Dump"
        assert_eq!(
            bytes("0000   03 01 6a 00 45 4b 03 61  62 00 01 01 01            ..j.EK.ab....\n"),
            DOC
        );
        // Fiddler hex view, two lines, ASCII column that looks like hex on line two
        let fiddler =
            "000000  03 01 6A 00 45 4B 03 61  ..j.EK.a\n000008  62 00 01 01 01           b....";
        assert_eq!(bytes(fiddler), DOC);
        let tricky = "0000  03 01 6a 00 45 4b 03 61  ..j.EK.a\n0008  62 00 01 01 01  b....";
        assert_eq!(bytes(tricky), DOC);
    }

    #[test]
    fn ascii_column_that_is_valid_hex() {
        // Bytes 61 62 63 64 print as "abcd", itself a hex group.
        let mut out = Vec::new();
        parse_hex_line("0000  61 62 63 64  abcd", &mut out).unwrap();
        assert_eq!(out, b"abcd");
        out.clear();
        parse_hex_line("61 62 20 63  ab c", &mut out).unwrap();
        assert_eq!(out, b"ab c");
    }

    #[test]
    fn base64_forms() {
        use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
        assert_eq!(bytes(&STANDARD.encode(DOC)), DOC);
        assert_eq!(bytes(&format!("{}\n", URL_SAFE_NO_PAD.encode(DOC))), DOC);
        let wrapped: String = STANDARD
            .encode(DOC)
            .as_bytes()
            .chunks(4)
            .map(|c| format!("{}\n", std::str::from_utf8(c).unwrap()))
            .collect();
        assert_eq!(bytes(&wrapped), DOC);
    }

    #[test]
    fn rejects_other_text() {
        assert!(wbxml_bytes(b"hello world").is_err());
        assert!(wbxml_bytes(b"").is_err());
        assert!(wbxml_bytes(b"<Sync/>").is_err());
        assert!(wbxml_bytes(&[0xFF, 0x00]).is_err());
    }
}
