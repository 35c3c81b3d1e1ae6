//! ResolveRecipients against the corpus examples.

mod common;

use common::{assert_matches_corpus, corpus};
use easd_protocol::commands::resolve_recipients::*;

#[test]
fn request() {
    let req = ResolveRecipientsRequest::parse(&corpus("39-resolverecipients-request.xml")).unwrap();
    assert_eq!(req.to, vec!["chris", "room4-1142@example.com"]);
    let o = &req.options;
    assert_eq!(o.certificate_retrieval, Some(CertificateRetrieval::Full));
    assert_eq!(o.max_certificates, Some(4));
    assert_eq!(o.max_ambiguous_recipients, Some(5));
    let a = o.availability.as_ref().unwrap();
    assert_eq!(a.start_time, "2012-05-03T16:00:00.000Z");
    assert_eq!(a.end_time, "2012-05-03T20:00:00.000Z");
    let p = o.picture.unwrap();
    assert_eq!((p.max_size, p.max_pictures), (Some(40960), Some(2)));
}

#[test]
fn response() {
    let parsed =
        ResolveRecipientsResponse::parse(&corpus("40-resolverecipients-response.xml")).unwrap();
    assert_eq!(parsed.status, ResolveRecipientsStatus::Success);
    let chris = &parsed.responses[0];
    assert_eq!(chris.status, ResolveRecipientsStatus::Ambiguous);
    assert_eq!(chris.recipient_count, Some(2));
    let gray = &chris.recipients[0];
    assert_eq!(gray.recipient_type, RecipientType::Gal);
    assert_eq!(
        gray.availability
            .as_ref()
            .unwrap()
            .merged_free_busy
            .as_deref(),
        Some("0000222200000000")
    );
    assert!(gray
        .picture
        .as_ref()
        .unwrap()
        .data
        .as_ref()
        .unwrap()
        .starts_with(b"\x89PNG"));
    let green = &chris.recipients[1];
    assert_eq!(green.recipient_type, RecipientType::Contact);
    assert_eq!(
        green.certificates.as_ref().unwrap().status,
        ResolveRecipientsStatus::NoValidCertificate
    );
    let room = &parsed.responses[1];
    assert_eq!(
        room.recipients[0]
            .certificates
            .as_ref()
            .unwrap()
            .certificates,
        vec!["MIIC9DCCAdygAwIBAgIQHkA1x2Z3L0u"]
    );

    // The typed values write the example back.
    assert_matches_corpus(&parsed.to_element(), "40-resolverecipients-response.xml");
}
