//! iCalendar and vCard files as text: split into their objects and components without
//! rewriting a line, so that every property of an imported file (X- properties, parameters
//! calcard does not model) is stored as the file had it.
//!
//! A content line may be folded over several physical lines, each continuation starting
//! with a space or a tab (RFC 5545 3.1, RFC 6350 3.2); the line's name, parameters and
//! value are read from the unfolded line, and the physical lines are kept.

use sha2::{Digest, Sha256};

/// One component (VEVENT, VTODO, VTIMEZONE, ...) or vCard, as the physical lines of the
/// file from its BEGIN line to its END line.
#[derive(Debug, Clone)]
pub struct Block<'a> {
    /// The component's name, upper case ("VEVENT", "VCARD").
    pub name: String,
    pub lines: Vec<&'a str>,
    /// Its UID, or one made from a hash of its text when it has none (RFC 5545 3.8.4.7
    /// requires one; many vCard exports have none), so that importing the same file again
    /// finds the same item.
    pub uid: String,
    /// Whether `uid` was made here, and so must be written into the stored text.
    pub made_uid: bool,
    /// The TZID parameters its properties (and nested components) use.
    pub tzids: Vec<String>,
    /// A VTIMEZONE's own TZID.
    pub tzid: Option<String>,
}

/// One VCALENDAR object: its own properties (each a logical line as physical lines) and
/// its components.
#[derive(Debug, Clone, Default)]
pub struct CalendarObject<'a> {
    pub properties: Vec<Vec<&'a str>>,
    pub components: Vec<Block<'a>>,
}

/// Why a file is not iCalendar or vCard text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("no BEGIN:{0} in the file")]
    Empty(&'static str),
    #[error("line {line}: {what}")]
    Structure { line: usize, what: String },
}

/// A property's name (upper case), its parameters and its value, from an unfolded line.
struct Property {
    name: String,
    params: Vec<(String, String)>,
    value: String,
}

fn parse_property(line: &str) -> Property {
    let mut quoted = false;
    let mut value_at = line.len();
    let mut cuts = Vec::new();
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ';' if !quoted => cuts.push(i),
            ':' if !quoted => {
                value_at = i;
                break;
            }
            _ => {}
        }
    }
    let head = &line[..value_at];
    let name_end = cuts.first().copied().unwrap_or(head.len());
    // A vCard property may carry a group prefix ("item1.EMAIL", RFC 6350 3.3).
    let name = head[..name_end].rsplit('.').next().unwrap_or_default();
    let mut params = Vec::new();
    for (k, &start) in cuts.iter().enumerate() {
        let end = cuts.get(k + 1).copied().unwrap_or(head.len());
        let param = &head[start + 1..end];
        if let Some((n, v)) = param.split_once('=') {
            params.push((
                n.trim().to_ascii_uppercase(),
                v.trim_matches('"').to_owned(),
            ));
        }
    }
    Property {
        name: name.trim().to_ascii_uppercase(),
        params,
        value: line.get(value_at + 1..).unwrap_or_default().to_owned(),
    }
}

/// The physical lines of a text, without their line ends.
fn physical_lines(text: &str) -> impl Iterator<Item = &str> {
    text.strip_prefix('\u{feff}')
        .unwrap_or(text)
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
}

fn is_continuation(line: &str) -> bool {
    line.starts_with([' ', '\t'])
}

/// The logical lines of a block's physical lines, each with its nesting depth (1: the
/// block's own properties).
fn logical_lines(lines: &[&str]) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = Vec::new();
    let mut depth = 0usize;
    for line in lines {
        if is_continuation(line) {
            if let Some((_, last)) = out.last_mut() {
                last.push_str(&line[1..]);
            }
            continue;
        }
        if begin_name(line).is_some() {
            depth += 1;
            out.push((depth, (*line).to_owned()));
        } else {
            out.push((depth, (*line).to_owned()));
            if is_end(line) {
                depth = depth.saturating_sub(1);
            }
        }
    }
    out
}

/// Whether `line` starts with `prefix` (ASCII), ignoring case; then `prefix.len()` is a
/// char boundary of `line`.
fn starts_with_ignore_case(line: &str, prefix: &str) -> bool {
    line.as_bytes()
        .get(..prefix.len())
        .is_some_and(|b| b.eq_ignore_ascii_case(prefix.as_bytes()))
}

fn begin_name(line: &str) -> Option<String> {
    starts_with_ignore_case(line, "BEGIN:").then(|| line[6..].trim().to_ascii_uppercase())
}

fn is_end(line: &str) -> bool {
    starts_with_ignore_case(line, "END:")
}

/// A UID from a hash of the block's text: the same text gets the same UID.
fn made_uid_of(lines: &[&str]) -> String {
    let mut h = Sha256::new();
    for l in lines {
        h.update(l.as_bytes());
        h.update(b"\n");
    }
    let hex: String = h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("easd-import-{hex}")
}

impl<'a> Block<'a> {
    fn new(name: String, lines: Vec<&'a str>) -> Block<'a> {
        let mut uid = None;
        let mut tzid = None;
        let mut tzids: Vec<String> = Vec::new();
        for (depth, line) in logical_lines(&lines) {
            let p = parse_property(&line);
            if depth == 1 {
                match p.name.as_str() {
                    "UID" if uid.is_none() => {
                        uid = Some(p.value.trim().to_owned()).filter(|u| !u.is_empty())
                    }
                    "TZID" => tzid = Some(p.value.trim().to_owned()),
                    _ => {}
                }
            }
            for (n, v) in p.params {
                if n == "TZID" && !tzids.contains(&v) {
                    tzids.push(v);
                }
            }
        }
        // A VTIMEZONE has its TZID and no UID (RFC 5545 3.6.5).
        let made_uid = uid.is_none() && name != "VTIMEZONE";
        let uid = match uid {
            Some(uid) => uid,
            None if made_uid => made_uid_of(&lines),
            None => tzid.clone().unwrap_or_default(),
        };
        Block {
            name,
            lines,
            uid,
            made_uid,
            tzids,
            tzid,
        }
    }

    /// Writes the block with CRLF line ends, a UID made here before its END line.
    pub fn write(&self, out: &mut String) {
        let Some((end, body)) = self.lines.split_last() else {
            return;
        };
        for l in body {
            out.push_str(l);
            out.push_str("\r\n");
        }
        if self.made_uid {
            out.push_str("UID:");
            out.push_str(&self.uid);
            out.push_str("\r\n");
        }
        out.push_str(end);
        out.push_str("\r\n");
    }

    /// The number of bytes of the block in its file (for progress).
    pub fn size(&self) -> u64 {
        self.lines.iter().map(|l| l.len() as u64 + 2).sum()
    }
}

/// A top-level block (VCALENDAR, VCARD): its own physical lines, BEGIN and END included,
/// and those of each block nested in it.
type Outer<'a> = (Vec<&'a str>, Vec<Vec<&'a str>>);

/// Collects the blocks named `outer` at the top of `text`, and for each the lines inside
/// it, split into its own properties and its components.
fn top_blocks<'a>(text: &'a str, outer: &'static str) -> Result<Vec<Outer<'a>>, TextError> {
    let mut out = Vec::new();
    let mut current: Option<Outer<'a>> = None;
    let mut depth = 0usize;
    for (n, line) in physical_lines(text).enumerate() {
        let structure = |what: String| TextError::Structure { line: n + 1, what };
        match (depth, &mut current) {
            (0, _) => {
                if line.trim().is_empty() {
                    continue;
                }
                match begin_name(line) {
                    Some(name) if name == outer => {
                        current = Some((vec![line], Vec::new()));
                        depth = 1;
                    }
                    _ => return Err(structure(format!("expected BEGIN:{outer}"))),
                }
            }
            (1, Some((own, nested))) => {
                if begin_name(line).is_some() {
                    nested.push(vec![line]);
                    depth = 2;
                } else if is_end(line) {
                    if !line[4..].trim().eq_ignore_ascii_case(outer) {
                        return Err(structure(format!("{line} inside {outer}")));
                    }
                    own.push(line);
                    out.extend(current.take());
                    depth = 0;
                } else if !line.trim().is_empty() {
                    own.push(line);
                }
            }
            (_, Some((_, nested))) => {
                let block = nested.last_mut().expect("inside a nested block");
                block.push(line);
                if begin_name(line).is_some() {
                    depth += 1;
                } else if is_end(line) {
                    depth -= 1;
                }
            }
            (_, None) => unreachable!("depth > 0 only inside a block"),
        }
    }
    if current.is_some() {
        return Err(TextError::Structure {
            line: physical_lines(text).count(),
            what: format!("END:{outer} missing"),
        });
    }
    if out.is_empty() {
        return Err(TextError::Empty(outer));
    }
    Ok(out)
}

/// The VCALENDAR objects of an .ics file.
pub fn split_calendars(text: &str) -> Result<Vec<CalendarObject<'_>>, TextError> {
    let mut out = Vec::new();
    for (own, nested) in top_blocks(text, "VCALENDAR")? {
        // The BEGIN and END lines are written again by `calendar_text`.
        let inner = &own[1..own.len() - 1];
        let mut properties: Vec<Vec<&str>> = Vec::new();
        for l in inner {
            match properties.last_mut() {
                Some(last) if is_continuation(l) => last.push(l),
                _ => properties.push(vec![l]),
            }
        }
        let components = nested
            .into_iter()
            .map(|lines| Block::new(begin_name(lines[0]).unwrap_or_default(), lines))
            .collect();
        out.push(CalendarObject {
            properties,
            components,
        });
    }
    Ok(out)
}

/// The vCards of a .vcf file.
pub fn split_vcards(text: &str) -> Result<Vec<Block<'_>>, TextError> {
    // A vCard's lines are its own: nested blocks (a 2.1 AGENT) stay inside it.
    Ok(top_blocks(text, "VCARD")?
        .into_iter()
        .map(|(mut own, nested)| {
            let end = own.pop().expect("a card has its END");
            for n in nested {
                own.extend(n);
            }
            own.push(end);
            Block::new("VCARD".into(), own)
        })
        .collect())
}

/// One VCALENDAR with `properties` (METHOD left out: a stored object is no iTIP message,
/// RFC 4791 4.1), the VTIMEZONEs among `timezones` that `components` use, and
/// `components`.
pub fn calendar_text(
    properties: &[Vec<&str>],
    timezones: &[&Block],
    components: &[&Block],
) -> String {
    let mut out = String::from("BEGIN:VCALENDAR\r\n");
    let has = |name: &str| properties.iter().any(|p| parse_property(p[0]).name == name);
    let (has_version, has_prodid) = (has("VERSION"), has("PRODID"));
    if !has_version {
        out.push_str("VERSION:2.0\r\n");
    }
    if !has_prodid {
        out.push_str("PRODID:-//easd//import//EN\r\n");
    }
    for p in properties {
        if parse_property(p[0]).name == "METHOD" {
            continue;
        }
        for l in p {
            out.push_str(l);
            out.push_str("\r\n");
        }
    }
    let mut written: Vec<&str> = Vec::new();
    for c in components {
        for id in &c.tzids {
            if written.contains(&id.as_str()) {
                continue;
            }
            if let Some(z) = timezones
                .iter()
                .find(|z| z.tzid.as_deref() == Some(id.as_str()))
            {
                z.write(&mut out);
                written.push(id);
            }
        }
    }
    for c in components {
        c.write(&mut out);
    }
    out.push_str("END:VCALENDAR\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ICS: &str = "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Test//EN\nMETHOD:PUBLISH\n\
BEGIN:VTIMEZONE\nTZID:Europe/Berlin\nBEGIN:STANDARD\nDTSTART:19701025T030000\n\
TZOFFSETFROM:+0200\nTZOFFSETTO:+0100\nEND:STANDARD\nEND:VTIMEZONE\n\
BEGIN:VTIMEZONE\nTZID:Unused\nEND:VTIMEZONE\n\
BEGIN:VEVENT\nUID:a\nDTSTART;TZID=Europe/Berlin:20260101T100000\nSUMMARY:long\n  folded\n\
BEGIN:VALARM\nUID:not-the-event\nEND:VALARM\nEND:VEVENT\n\
BEGIN:VEVENT\nDTSTART:20260101T100000Z\nEND:VEVENT\nEND:VCALENDAR\n";

    #[test]
    fn splits_components_with_their_uid_and_zones() {
        let objects = split_calendars(ICS).unwrap();
        assert_eq!(objects.len(), 1);
        let o = &objects[0];
        assert_eq!(o.properties.len(), 3);
        let names: Vec<&str> = o.components.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["VTIMEZONE", "VTIMEZONE", "VEVENT", "VEVENT"]);
        let event = &o.components[2];
        assert_eq!(event.uid, "a");
        assert!(!event.made_uid);
        assert_eq!(event.tzids, ["Europe/Berlin"]);
        assert_eq!(o.components[0].tzid.as_deref(), Some("Europe/Berlin"));
        assert!(!o.components[0].made_uid);
        let second = &o.components[3];
        assert!(second.made_uid);
        assert!(second.uid.starts_with("easd-import-"));

        let zones: Vec<&Block> = o
            .components
            .iter()
            .filter(|c| c.name == "VTIMEZONE")
            .collect();
        let text = calendar_text(&o.properties, &zones, &[event]);
        assert!(!text.contains("METHOD"), "{text}");
        assert!(text.contains("TZID:Europe/Berlin\r\n"));
        assert!(!text.contains("Unused"));
        assert!(text.contains("SUMMARY:long\r\n  folded\r\n"));
        let made = calendar_text(&o.properties, &zones, &[second]);
        assert!(made.contains(&format!("UID:{}\r\nEND:VEVENT", second.uid)));
        // The made UID is the same on the next import of the same text.
        assert_eq!(
            split_calendars(ICS).unwrap()[0].components[3].uid,
            second.uid
        );
    }

    #[test]
    fn vcards_and_their_groups() {
        let text = "BEGIN:VCARD\r\nVERSION:3.0\r\nitem1.UID:x\r\nFN:A\r\nEND:VCARD\r\n\r\n\
BEGIN:VCARD\r\nVERSION:3.0\r\nFN:B\r\nEND:VCARD\r\n";
        let cards = split_vcards(text).unwrap();
        assert_eq!(cards.len(), 2);
        assert_eq!(cards[0].uid, "x");
        assert!(cards[1].made_uid);
    }

    #[test]
    fn broken_structure_is_an_error() {
        assert!(matches!(
            split_vcards("BEGIN:VCARD\nFN:A\n"),
            Err(TextError::Structure { .. })
        ));
        assert_eq!(
            split_vcards("hello").unwrap_err(),
            TextError::Structure {
                line: 1,
                what: "expected BEGIN:VCARD".into()
            }
        );
        assert!(matches!(split_calendars(""), Err(TextError::Empty(_))));
    }

    #[test]
    fn quoted_parameters() {
        let p = parse_property("DTSTART;TZID=\"W. Europe; Standard:Time\";X=1:20260101T100000");
        assert_eq!(p.name, "DTSTART");
        assert_eq!(
            p.params[0],
            ("TZID".into(), "W. Europe; Standard:Time".into())
        );
        assert_eq!(p.value, "20260101T100000");
    }
}
