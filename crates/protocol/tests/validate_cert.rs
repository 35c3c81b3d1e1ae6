//! ValidateCert against the corpus examples.

mod common;

use common::{assert_matches_corpus, corpus};
use easd_protocol::commands::validate_cert::*;

#[test]
fn request() {
    let req = ValidateCertRequest::parse(&corpus("41-validatecert-request.xml")).unwrap();
    assert_eq!(
        req.certificate_chain,
        vec!["MIIDkTCCAnmgAwIBAgIQaUvIVUCdGqB"]
    );
    assert_eq!(
        req.certificates,
        vec![
            "MIIC9DCCAdygAwIBAgIQHkA1x2Z3L0u",
            "MIIBszCCAVmgAwIBAgIQQVxR4o3r"
        ]
    );
    assert!(req.check_crl);
}

#[test]
fn response() {
    let resp = ValidateCertResponse {
        status: ValidateCertStatus::Success,
        certificates: vec![ValidateCertStatus::Success, ValidateCertStatus::Revoked],
    };
    assert_matches_corpus(&resp.to_element(), "42-validatecert-response.xml");
}
