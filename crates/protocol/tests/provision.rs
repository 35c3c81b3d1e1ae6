//! Provision against the corpus examples.

mod common;

use common::{assert_matches_corpus, assert_wbxml_round_trip, corpus};
use easd_protocol::commands::provision::*;
use easd_protocol::commands::settings::DeviceInformation;
use easd_protocol::status::*;
use easd_protocol::values::FilterType;
use easd_wbxml::tags::provision as pv;
use easd_wbxml::{Element, Node};

#[test]
fn initial_request_with_device_information() {
    let req = ProvisionRequest::parse(&corpus("28-provision-initial-request.xml")).unwrap();
    assert_eq!(
        req.device_information,
        Some(DeviceInformation {
            model: Some("Lumia 950".into()),
            imei: Some("357000000000001".into()),
            friendly_name: Some("Work phone".into()),
            os: Some("Windows 10 Mobile 10.0.14393".into()),
            os_language: Some("English".into()),
            phone_number: Some("+14255550100".into()),
            user_agent: Some("MSFT-WP/10.0.14393".into()),
            enable_outbound_sms: Some(false),
            mobile_operator: Some("Contoso Mobile".into()),
        })
    );
    assert_eq!(
        req.policy,
        Some(PolicyRequest {
            policy_type: POLICY_TYPE_WBXML.into(),
            ack: None
        })
    );
    assert_eq!(req.remote_wipe, None);
}

#[test]
fn acknowledgment_request() {
    let req = ProvisionRequest::parse(&corpus("30-provision-acknowledge-request.xml")).unwrap();
    assert_eq!(
        req.policy.unwrap().ack,
        Some(PolicyAck {
            policy_key: 1_307_199_584,
            status: PolicyAckStatus::Success,
        })
    );
}

#[test]
fn remote_wipe_response_and_acknowledgment() {
    let resp = ProvisionResponse {
        remote_wipe: true,
        ..ProvisionResponse::status(ProvisionStatus::Success)
    };
    assert_matches_corpus(&resp.to_element(), "31-provision-remotewipe-response.xml");
    let ack = ProvisionRequest::parse(&corpus("32-provision-remotewipe-ack-request.xml")).unwrap();
    assert_eq!(ack.remote_wipe, Some(RemoteWipeAckStatus::Success));
    assert_eq!(ack.policy, None);
}

/// The policy document of the corpus response.
fn corpus_doc() -> EasProvisionDoc {
    EasProvisionDoc {
        device_password_enabled: Some(true),
        alphanumeric_device_password_required: Some(true),
        password_recovery_enabled: Some(true),
        require_storage_card_encryption: Some(true),
        attachments_enabled: Some(true),
        min_device_password_length: Some(6),
        max_inactivity_time_device_lock: Some(900),
        max_device_password_failed_attempts: Some(8),
        max_attachment_size: Some(10_485_760),
        allow_simple_device_password: Some(false),
        device_password_expiration: Some(90),
        device_password_history: Some(5),
        allow_storage_card: Some(true),
        allow_camera: Some(true),
        require_device_encryption: Some(true),
        allow_unsigned_applications: Some(false),
        allow_unsigned_installation_packages: Some(false),
        min_device_password_complex_characters: Some(3),
        allow_wifi: Some(true),
        allow_text_messaging: Some(true),
        allow_pop_imap_email: Some(false),
        allow_bluetooth: Some(AllowBluetooth::Allow),
        allow_irda: Some(false),
        require_manual_sync_when_roaming: Some(true),
        allow_desktop_sync: Some(true),
        max_calendar_age_filter: Some(FilterType::OneMonth),
        allow_html_email: Some(true),
        max_email_age_filter: Some(FilterType::TwoWeeks),
        max_email_body_truncation_size: Some(-1),
        max_email_html_body_truncation_size: Some(102_400),
        require_signed_smime_messages: Some(false),
        require_encrypted_smime_messages: Some(false),
        require_signed_smime_algorithm: Some(SignedSmimeAlgorithm::Sha1),
        require_encryption_smime_algorithm: Some(EncryptionSmimeAlgorithm::TripleDes),
        allow_smime_encryption_algorithm_negotiation: Some(SmimeAlgorithmNegotiation::Any),
        allow_smime_soft_certs: Some(true),
        allow_browser: Some(true),
        allow_consumer_email: Some(true),
        allow_remote_desktop: Some(false),
        allow_internet_sharing: Some(true),
        unapproved_in_rom_application_list: Some(vec![
            "Solitaire".into(),
            "Internet Sharing".into(),
        ]),
        approved_application_list: Some(vec![
            "8FA3E9D0C41B7725E32A6C3A4E7F0A9B1C2D3E4F".into(),
            "0123456789ABCDEF0123456789ABCDEF01234567".into(),
        ]),
    }
}

/// Sorts the children of every EASProvisionDoc by token: the corpus lists settings in the
/// spec's prose order, easd in token order; clients take either.
fn sort_provision_doc(e: &mut Element) {
    if e.tag == pv::EAS_PROVISION_DOC {
        e.children.sort_by_key(|n| match n {
            Node::Element(c) => c.tag.token,
            _ => 0,
        });
    }
    for n in e.children.iter_mut() {
        if let Node::Element(c) = n {
            sort_provision_doc(c);
        }
    }
}

#[test]
fn policy_response_carries_every_setting() {
    let mut expected = easd_wbxml::xml::normalize(&corpus("29-provision-policy-response.xml"));
    let doc_el = expected
        .child(pv::POLICIES)
        .and_then(|p| p.child(pv::POLICY))
        .and_then(|p| p.child(pv::DATA))
        .and_then(|d| d.child(pv::EAS_PROVISION_DOC))
        .unwrap();
    assert_eq!(EasProvisionDoc::parse(doc_el).unwrap(), corpus_doc());

    let resp = ProvisionResponse {
        device_information_status: Some(SettingsStatus::Success),
        policy: Some(PolicyResponse {
            policy_type: POLICY_TYPE_WBXML.into(),
            status: PolicyStatus::Success,
            policy_key: 1_307_199_584,
            data: Some(corpus_doc()),
        }),
        ..ProvisionResponse::status(ProvisionStatus::Success)
    };
    let mut actual = resp.to_element();
    sort_provision_doc(&mut actual);
    sort_provision_doc(&mut expected);
    assert_eq!(actual, expected);
    assert_wbxml_round_trip(&actual);
}
