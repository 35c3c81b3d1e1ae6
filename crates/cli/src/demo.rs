//! `easd demo`: the server on a demo data dir, with a demo user, a few sample messages,
//! events, contacts, a task and a note, and what to type on a phone.

use anyhow::Context;
use easd_store::{password, ItemClass, NewItem, Store};
use mail_builder::MessageBuilder;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct DemoArgs {
    /// The demo data directory.
    #[arg(long, default_value = "./easd-demo")]
    dir: PathBuf,
    #[command(flatten)]
    serve: crate::ServeArgs,
}

const DEMO_USER: &str = "demo@example.com";

fn sample_messages() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let plain = MessageBuilder::new()
        .from(("easd", "postmaster@example.com"))
        .to(("Demo User", DEMO_USER))
        .subject("Welcome to easd")
        .text_body("This mailbox is served by easd over Exchange ActiveSync.\r\nSend a message to demo@example.com from your phone and watch it arrive here.\r\n");
    let html = MessageBuilder::new()
        .from(("Zoë Ångström", "zoe@example.org"))
        .to(("Demo User", DEMO_USER))
        .subject("Grüße aus Köln — 東京からこんにちは")
        .text_body("Hello in plain text.")
        .html_body("<html><body><h1>Hello</h1><p>This one is <b>HTML</b>, with a <a href=\"https://example.org\">link</a>.</p></body></html>");
    let attachment = MessageBuilder::new()
        .from(("Accounts", "billing@example.net"))
        .to(("Demo User", DEMO_USER))
        .subject("Your invoice (with attachment)")
        .text_body("The invoice is attached.")
        .attachment(
            "text/csv",
            "invoice.csv",
            "item,amount\r\nwidgets,42.00\r\n".as_bytes(),
        )
        .attachment(
            "application/octet-stream",
            "data.bin",
            vec![0u8, 1, 2, 3, 255],
        );
    let reply = MessageBuilder::new()
        .from(("Renée", "renee@example.com"))
        .to(("Demo User", DEMO_USER))
        .subject("Re: Welcome to easd")
        .in_reply_to("welcome@example.com")
        .text_body("Replies share a ConversationId with the message they answer.");
    for m in [plain, html, attachment, reply] {
        if let Ok(bytes) = m.write_to_vec() {
            out.push(bytes);
        }
    }
    out
}

/// A few events, contacts, a task and a note, so a phone shows every class at once. The
/// events fall in the coming days: a weekly series in Berlin time, a lunch in New York time
/// and an all-day event.
fn sample_pim(today: jiff::civil::Date) -> Vec<(i32, ItemClass, String)> {
    let day = |n: i64| {
        today
            .checked_add(jiff::Span::new().days(n))
            .unwrap_or(today)
            .strftime("%Y%m%d")
            .to_string()
    };
    let event = |uid: &str, body: String| {
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//easd//demo//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:{}T000000Z\r\n{body}END:VEVENT\r\nEND:VCALENDAR\r\n",
            day(0)
        )
    };
    let card = |uid: &str, body: &str| {
        format!("BEGIN:VCARD\r\nVERSION:4.0\r\nUID:{uid}\r\n{body}END:VCARD\r\n")
    };
    use easd_store::folder_type::{CALENDAR, CONTACTS, NOTES, TASKS};
    vec![
        (CALENDAR, ItemClass::Calendar, event("demo-standup@easd", format!(
            "DTSTART;TZID=Europe/Berlin:{}T093000\r\nDTEND;TZID=Europe/Berlin:{}T094500\r\nRRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR\r\nSUMMARY:Team standup\r\nLOCATION:Room 1\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT10M\r\nEND:VALARM\r\n",
            day(1), day(1)))),
        (CALENDAR, ItemClass::Calendar, event("demo-lunch@easd", format!(
            "DTSTART;TZID=America/New_York:{}T120000\r\nDTEND;TZID=America/New_York:{}T130000\r\nSUMMARY:Lunch with Renée\r\nDESCRIPTION:Shown at noon New York time, in your phone's own zone.\r\n",
            day(2), day(2)))),
        (CALENDAR, ItemClass::Calendar, event("demo-offsite@easd", format!(
            "DTSTART;VALUE=DATE:{}\r\nDTEND;VALUE=DATE:{}\r\nSUMMARY:Team offsite (all day)\r\n",
            day(3), day(4)))),
        (CONTACTS, ItemClass::Contacts, card("demo-zoe@easd",
            "FN:Zoë Ångström\r\nN:Ångström;Zoë;;;\r\nORG:Example Org\r\nTITLE:Engineer\r\nEMAIL;PREF=1:zoe@example.org\r\nTEL;TYPE=cell:+49 170 0000000\r\n")),
        (CONTACTS, ItemClass::Contacts, card("demo-renee@easd",
            "FN:Renée Dupont\r\nN:Dupont;Renée;;;\r\nEMAIL;PREF=1:renee@example.com\r\nADR;TYPE=work:;;1 Rue de Rivoli;Paris;;75001;France\r\n")),
        (TASKS, ItemClass::Tasks, format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//easd//demo//EN\r\nBEGIN:VTODO\r\nUID:demo-task@easd\r\nDTSTAMP:{}T000000Z\r\nSUMMARY:Try easd on a second phone\r\nDUE;VALUE=DATE:{}\r\nSTATUS:NEEDS-ACTION\r\nEND:VTODO\r\nEND:VCALENDAR\r\n",
            day(0), day(7))),
        (NOTES, ItemClass::Notes, "Subject: easd demo\n\nNotes sync too (Outlook and some Android mail apps show them).\n".to_owned()),
    ]
}

/// Creates the demo user (its password kept in the data dir so reruns print the same one)
/// and fills an empty Inbox with the samples. Returns the password.
fn prepare(dir: &Path) -> anyhow::Result<String> {
    let store = crate::open_store(dir)?;
    let password_file = dir.join("demo-password.txt");
    let password = match store.account_by_email(DEMO_USER)? {
        Some(_) => std::fs::read_to_string(&password_file)
            .map(|p| p.trim().to_owned())
            .with_context(|| format!("reading {}", password_file.display()))?,
        None => {
            let password = crate::user::generate_password();
            let account = store.create_account(DEMO_USER, &password::hash_password(&password))?;
            store.set_display_name(account.id, "Demo User")?;
            std::fs::write(&password_file, format!("{password}\n"))
                .with_context(|| format!("writing {}", password_file.display()))?;
            for raw in sample_messages() {
                easd_engine::delivery::deliver_blocking(&store, account.id, raw)?;
            }
            let today = jiff::tz::Offset::UTC
                .to_datetime(jiff::Timestamp::now())
                .date();
            for (kind, class, text) in sample_pim(today) {
                let folder = store
                    .default_folder(account.id, kind)?
                    .context("the default folders")?;
                let fields = easd_engine::content::pim::stored_fields(class, text.as_bytes())?;
                store.add_item(
                    account.id,
                    NewItem {
                        folder: folder.id,
                        class,
                        content: text.into_bytes(),
                        fields,
                    },
                )?;
            }
            password
        }
    };
    Ok(password)
}

pub async fn run(config: Option<&Path>, args: DemoArgs) -> anyhow::Result<ExitCode> {
    crate::init_logging();
    let dir = args.dir.clone();
    let password = prepare(&dir)?;
    let config = crate::load_config(&dir, config, &args.serve)?;
    let server = crate::start(config, dir.clone()).await?;
    let b = &server.bound;
    println!();
    println!("easd demo is running (data in {}).", dir.display());
    println!("  Email address : {DEMO_USER}");
    println!("  Password      : {password}");
    if let Some(a) = b.https {
        println!("  Server (TLS)  : https://{a}/Microsoft-Server-ActiveSync");
    }
    if let Some(a) = b.http {
        println!("  Server (plain): http://{a}/Microsoft-Server-ActiveSync");
    }
    if let Some(fp) = &b.tls_fingerprint {
        println!("  Certificate   : self-signed, SHA-256 {fp}");
    }
    println!("On a phone: add an Exchange account, enter the address and password, then the");
    println!("server name when asked (listen on the LAN with --https 0.0.0.0:8443).");
    println!(
        "Send it mail: easd --data {} deliver --to {DEMO_USER} message.eml",
        dir.display()
    );
    println!("Ctrl-C stops it.");
    crate::wait_for_signal().await;
    server.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sample_converts_and_lands_in_its_class() {
        let today = jiff::civil::date(2026, 3, 27);
        for (_, class, text) in sample_pim(today) {
            let fields = easd_engine::content::pim::stored_fields(class, text.as_bytes())
                .unwrap_or_else(|e| panic!("{class:?} sample: {e}\n{text}"));
            assert!(!fields.subject.is_empty(), "{class:?} sample has a subject");
        }
    }
}
