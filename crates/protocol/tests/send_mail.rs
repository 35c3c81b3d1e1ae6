//! SendMail against the corpus examples.

mod common;

use common::{assert_matches_corpus, assert_wbxml_round_trip, corpus};
use easd_protocol::commands::send_mail::*;
use easd_protocol::status::CommonStatus;
use easd_wbxml::tags::compose_mail;

#[test]
fn request() {
    let req = SendMailRequest::parse(&corpus("68-sendmail-request.xml")).unwrap();
    assert_eq!(
        req.client_id.as_deref(),
        Some("d5a9e1d4-3a5e-4f0e-9c55-2e1c0f3d7a11")
    );
    assert_eq!(req.account_id.as_deref(), Some("1"));
    assert!(req.save_in_sent_items);
    let mime = String::from_utf8(req.mime.clone()).unwrap();
    assert!(mime.starts_with("From: chris@example.com\r\n"), "{mime}");
    assert!(mime.ends_with("All green this week."));
    assert_wbxml_round_trip(&req.to_element());
    assert_eq!(SendMailRequest::parse(&req.to_element()).unwrap(), req);
}

#[test]
fn error_response() {
    let resp = SendMailResponse::send_mail(Some(CommonStatus::MailSubmissionFailed));
    assert_matches_corpus(&resp.body().unwrap(), "71-sendmail-error-response.xml");
    assert_eq!(SendMailResponse::send_mail(None).body(), None);
    assert_eq!(resp.command, compose_mail::SEND_MAIL);
}

#[test]
fn raw_mime_of_12_1() {
    let req = SendMailRequest::from_raw_mime(b"Subject: hi\r\n\r\nbody".to_vec(), false);
    assert_eq!(req.client_id, None);
    assert!(!req.save_in_sent_items);
}
