//! `easd bench import`: generates contacts and events (a tenth recurring weekly with a
//! deleted and a moved occurrence, others daily or monthly-by-nth, all-day, in
//! Europe/Berlin, America/New_York, Australia/Sydney and Asia/Kolkata), imports them into a
//! fresh data dir with `easd import`'s code, imports them again (all unchanged), exports
//! the calendar, and prints the figures. Issue 8's target: 10,000 of each in under a
//! minute.

use crate::import::import_files;
use anyhow::Context;
use easd_store::{password, Store};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(clap::Args)]
pub struct ImportBenchArgs {
    /// Contacts to generate.
    #[arg(long, default_value_t = 10_000)]
    contacts: usize,
    /// Events to generate.
    #[arg(long, default_value_t = 10_000)]
    events: usize,
    /// Keep the generated files and data dir in this directory (default: a temporary one,
    /// removed at the end).
    #[arg(long)]
    keep: Option<PathBuf>,
}

const ZONES: [(&str, &str, &str, &str, &str); 4] = [
    // (TZID, standard offset, daylight offset, standard rule, daylight rule)
    (
        "Europe/Berlin",
        "+0100",
        "+0200",
        "FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
        "FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
    ),
    (
        "America/New_York",
        "-0500",
        "-0400",
        "FREQ=YEARLY;BYMONTH=11;BYDAY=1SU",
        "FREQ=YEARLY;BYMONTH=3;BYDAY=2SU",
    ),
    (
        "Australia/Sydney",
        "+1000",
        "+1100",
        "FREQ=YEARLY;BYMONTH=4;BYDAY=1SU",
        "FREQ=YEARLY;BYMONTH=10;BYDAY=1SU",
    ),
    ("Asia/Kolkata", "+0530", "+0530", "", ""),
];

fn vtimezone(out: &mut String, (id, std, dst, std_rule, dst_rule): (&str, &str, &str, &str, &str)) {
    let _ = write!(
        out,
        "BEGIN:VTIMEZONE\r\nTZID:{id}\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\n\
         TZOFFSETFROM:{dst}\r\nTZOFFSETTO:{std}\r\n"
    );
    if !std_rule.is_empty() {
        let _ = write!(out, "RRULE:{std_rule}\r\n");
    }
    out.push_str("END:STANDARD\r\n");
    if !dst_rule.is_empty() {
        let _ = write!(
            out,
            "BEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\nTZOFFSETFROM:{std}\r\n\
             TZOFFSETTO:{dst}\r\nRRULE:{dst_rule}\r\nEND:DAYLIGHT\r\n"
        );
    }
    out.push_str("END:VTIMEZONE\r\n");
}

/// An .ics with `n` events.
fn events_ics(n: usize) -> String {
    let mut out = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//easd//bench//EN\r\n");
    for z in ZONES {
        vtimezone(&mut out, z);
    }
    for i in 0..n {
        let zone = ZONES[i % ZONES.len()].0;
        let day = 1 + i % 14;
        let month = 1 + (i / 28) % 12;
        let hour = 8 + i % 10;
        let start = format!("2026{month:02}{day:02}T{hour:02}0000");
        let end = format!("2026{month:02}{day:02}T{:02}3000", hour);
        let _ = write!(
            out,
            "BEGIN:VEVENT\r\nUID:bench-event-{i}@easd.test\r\nDTSTAMP:20261101T120000Z\r\n\
             SUMMARY:Event {i}\r\nLOCATION:Room {}\r\nDESCRIPTION:Agenda of event {i}\\, \
             with a longer text so that the body is not empty.\r\nCATEGORIES:Bench,Work\r\n",
            i % 40
        );
        if i % 10 == 3 {
            // All-day (RFC 5545 3.6.1: DATE values, DTEND the day after).
            let _ = write!(
                out,
                "DTSTART;VALUE=DATE:2026{month:02}{day:02}\r\nDTEND;VALUE=DATE:2026{month:02}{:02}\r\n",
                day + 1
            );
        } else {
            let _ = write!(
                out,
                "DTSTART;TZID={zone}:{start}\r\nDTEND;TZID={zone}:{end}\r\n"
            );
        }
        match i % 10 {
            0 => {
                let _ = write!(
                    out,
                    "RRULE:FREQ=WEEKLY;COUNT=10\r\nEXDATE;TZID={zone}:2026{month:02}{:02}T{hour:02}0000\r\n",
                    day + 14
                );
            }
            1 => out.push_str("RRULE:FREQ=DAILY;UNTIL=20270101T000000Z\r\n"),
            2 => out.push_str("RRULE:FREQ=MONTHLY;BYDAY=2TU\r\n"),
            _ => {}
        }
        if i % 5 == 4 {
            let _ = write!(
                out,
                "ORGANIZER;CN=Org {i}:mailto:org{i}@example.com\r\n\
                 ATTENDEE;CN=Guest;PARTSTAT=ACCEPTED;ROLE=REQ-PARTICIPANT:mailto:guest{i}@example.com\r\n"
            );
        }
        out.push_str(
            "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nDESCRIPTION:Reminder\r\nEND:VALARM\r\nEND:VEVENT\r\n",
        );
        if i % 10 == 0 {
            // The second occurrence moved by an hour, the third deleted (EXDATE above).
            let (day, moved) = (day + 7, hour + 1);
            let _ = write!(
                out,
                "BEGIN:VEVENT\r\nUID:bench-event-{i}@easd.test\r\nDTSTAMP:20261101T120000Z\r\n\
                 RECURRENCE-ID;TZID={zone}:2026{month:02}{day:02}T{hour:02}0000\r\n\
                 SUMMARY:Event {i} (moved)\r\n\
                 DTSTART;TZID={zone}:2026{month:02}{day:02}T{moved:02}0000\r\n\
                 DTEND;TZID={zone}:2026{month:02}{day:02}T{moved:02}3000\r\nEND:VEVENT\r\n"
            );
        }
    }
    out.push_str("END:VCALENDAR\r\n");
    out
}

/// A .vcf with `n` vCard 3.0 cards.
fn contacts_vcf(n: usize) -> String {
    let mut out = String::new();
    for i in 0..n {
        let _ = write!(
            out,
            "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:bench-contact-{i}@easd.test\r\n\
             N:Family{i};Given{i};;;\r\nFN:Given{i} Family{i}\r\nORG:Company {};Sales\r\n\
             TITLE:Engineer\r\nEMAIL;TYPE=INTERNET,WORK:given{i}@example.com\r\n\
             EMAIL;TYPE=INTERNET,HOME:g{i}@home.example\r\nTEL;TYPE=CELL:+49 170 {i:07}\r\n\
             TEL;TYPE=WORK,VOICE:+49 30 {i:07}\r\n\
             ADR;TYPE=WORK:;;Street {i};Berlin;;10115;Germany\r\nBDAY:1980-{:02}-{:02}\r\n\
             NOTE:Contact {i} from the bench\r\nCATEGORIES:Bench\r\nEND:VCARD\r\n",
            i % 100,
            1 + i % 12,
            1 + i % 28
        );
    }
    out
}

fn peak_rss_mb() -> String {
    crate::bench::status_kb(std::process::id(), "VmHWM:")
        .map_or_else(|| "?".into(), |kb| format!("{:.0} MB", kb as f64 / 1024.0))
}

pub fn run(args: ImportBenchArgs) -> anyhow::Result<ExitCode> {
    let dir = match &args.keep {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!("easd-bench-import-{}", std::process::id())),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let result = bench(&dir, &args);
    if args.keep.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

fn bench(dir: &Path, args: &ImportBenchArgs) -> anyhow::Result<ExitCode> {
    let t = Instant::now();
    let ics = dir.join("events.ics");
    let vcf = dir.join("contacts.vcf");
    std::fs::write(&ics, events_ics(args.events))?;
    std::fs::write(&vcf, contacts_vcf(args.contacts))?;
    let size = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len()) as f64 / 1e6;
    println!(
        "generated {} events ({:.1} MB) and {} contacts ({:.1} MB) in {:.1} s",
        args.events,
        size(&ics),
        args.contacts,
        size(&vcf),
        t.elapsed().as_secs_f64()
    );

    let data = dir.join("data");
    let _ = std::fs::remove_dir_all(&data);
    let store = crate::open_store(&data)?;
    let account = store.create_account(
        "bench@bench.test",
        &password::hash_password("easd-bench-password"),
    )?;
    // The third round: every contact's NOTE changed, so each is an update of its own.
    let changed = dir.join("contacts-changed.vcf");
    std::fs::write(
        &changed,
        contacts_vcf(args.contacts).replace("from the bench", "changed"),
    )?;
    let both = vec![vcf, ics.clone()];
    for (round, files) in [
        ("import", both.clone()),
        ("re-import", both),
        ("re-import, contacts changed", vec![changed]),
    ] {
        let t = Instant::now();
        let mut shown = 0;
        let report = import_files(&store, &account, &files, None, &mut |_, items| {
            if items >= shown + 2000 {
                shown = items;
                eprintln!(
                    "  {round}: {items} items, {:.1} s",
                    t.elapsed().as_secs_f64()
                );
            }
        })?;
        let secs = t.elapsed().as_secs_f64();
        let classes: Vec<String> = report
            .classes
            .iter()
            .map(|(c, n)| {
                format!(
                    "{c:?} {} added, {} updated, {} unchanged",
                    n.added, n.updated, n.unchanged
                )
            })
            .collect();
        println!(
            "{round}: {} items in {secs:.2} s ({:.0} items/s); {}; {} failed; peak RSS {}",
            report.items(),
            report.items() as f64 / secs,
            classes.join("; "),
            report.failures.len(),
            peak_rss_mb()
        );
        if let Some(f) = report.failures.first() {
            anyhow::bail!("{}: {}: {}", f.file.display(), f.item, f.reason);
        }
    }

    let t = Instant::now();
    let calendar = store
        .default_folder(account.id, easd_store::folder_type::CALENDAR)?
        .context("no calendar")?;
    let mut out = std::io::BufWriter::new(std::fs::File::create(dir.join("export.ics"))?);
    let (written, _) = easd_engine::export::export_folder(
        &store,
        account.id,
        &calendar,
        None,
        &mut out,
        &mut |_| {},
    )?;
    println!(
        "export: {written} events in {:.2} s; data dir {:.1} MB",
        t.elapsed().as_secs_f64(),
        dir_mb(&data)
    );
    Ok(ExitCode::SUCCESS)
}

fn dir_mb(dir: &Path) -> f64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum::<u64>()
        })
        .unwrap_or(0) as f64
        / 1e6
}
