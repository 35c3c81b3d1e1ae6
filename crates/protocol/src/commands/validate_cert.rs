//! ValidateCert (MS-ASCMD 2.2.1.22): the client asks the server to validate the
//! certificates of an S/MIME message (chain, expiry, revocation).

use crate::element::{parse_value, ElementExt};
use crate::error::ParseError;
use crate::macros::code_enum;
use base64::Engine;
use easd_wbxml::tags::validate_cert as vc;
use easd_wbxml::Element;

code_enum! {
    /// Status of ValidateCert and of each Certificate (MS-ASCMD 2.2.3.177.18).
    ValidateCertStatus: u16 {
        /// 1
        Success = 1,
        /// 2: protocol error.
        ProtocolError = 2,
        /// 3: the signature in the digital ID cannot be validated.
        SignatureNotValidated = 3,
        /// 4: the digital ID was issued by an untrusted source.
        UntrustedSource = 4,
        /// 5: the certificate chain that contains the digital ID was not created correctly.
        InvalidChain = 5,
        /// 6: the digital ID is not valid for signing email messages.
        NotValidForSigning = 6,
        /// 7: the digital ID has expired or is not yet valid.
        ExpiredOrNotYetValid = 7,
        /// 8: the validity periods of the certificates in the chain are not consistent.
        InconsistentValidityPeriods = 8,
        /// 9: a certificate that contains the digital ID is used incorrectly.
        IncorrectlyUsed = 9,
        /// 10: information for the digital ID is missing or incorrect.
        MissingOrIncorrectInformation = 10,
        /// 11: a certificate in the chain is used incorrectly.
        IncorrectlyUsedInChain = 11,
        /// 12: the digital ID does not match the sender's email address.
        AddressMismatch = 12,
        /// 13: the digital ID was revoked.
        Revoked = 13,
        /// 14: the server that validates revocation status is unavailable.
        RevocationServerUnavailable = 14,
        /// 15: a certificate in the chain was revoked.
        RevokedInChain = 15,
        /// 16: the revocation status of the digital ID cannot be determined.
        RevocationStatusUnknown = 16,
        /// 17: an unknown server error occurred (the top-level failure code).
        ServerError = 17,
    }
    common
}

/// A ValidateCert request (MS-ASCMD 2.2.1.22).
///
/// Certificates are the base64 text of X.509 DER certificates, as the client sends them
/// (a client that sends OPAQUE DER gets it base64-encoded here, so both arrive alike).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidateCertRequest {
    /// CertificateChain: intermediate certificates to build the chain with.
    pub certificate_chain: Vec<String>,
    /// Certificates: the certificates to validate, in order.
    pub certificates: Vec<String>,
    /// CheckCRL: check revocation (and fail when it cannot be checked).
    pub check_crl: bool,
}

impl ValidateCertRequest {
    pub fn parse(root: &Element) -> Result<Self, ParseError> {
        root.expect_tag(vc::VALIDATE_CERT)?;
        let certificates = root
            .child(vc::CERTIFICATES)
            .map(certificate_list)
            .unwrap_or_default();
        if certificates.is_empty() {
            return Err(ParseError::MissingElement {
                parent: vc::CERTIFICATES,
                element: vc::CERTIFICATE,
            });
        }
        Ok(ValidateCertRequest {
            certificate_chain: root
                .child(vc::CERTIFICATE_CHAIN)
                .map(certificate_list)
                .unwrap_or_default(),
            certificates,
            check_crl: root.optional_bool(vc::CHECK_CRL)?.unwrap_or(false),
        })
    }

    /// The request as a document (for tests and tools).
    pub fn to_element(&self) -> Element {
        let mut e = Element::new(vc::VALIDATE_CERT);
        if !self.certificate_chain.is_empty() {
            let mut c = Element::new(vc::CERTIFICATE_CHAIN);
            for x in &self.certificate_chain {
                c.push_text(vc::CERTIFICATE, x.clone());
            }
            e.push(c);
        }
        let mut c = Element::new(vc::CERTIFICATES);
        for x in &self.certificates {
            c.push_text(vc::CERTIFICATE, x.clone());
        }
        e.push(c);
        if self.check_crl {
            e.push_text(vc::CHECK_CRL, "1");
        }
        e
    }
}

fn certificate_list(e: &Element) -> Vec<String> {
    e.children_with(vc::CERTIFICATE)
        .map(|c| match c.opaque() {
            Some(der) => base64::engine::general_purpose::STANDARD.encode(der),
            None => c.text().unwrap_or_default().trim().to_owned(),
        })
        .collect()
}

/// A ValidateCert response: the command's Status, then one Certificate/Status per
/// certificate of the request, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidateCertResponse {
    /// 1 on success, 17 (or a common code) when the command failed.
    pub status: ValidateCertStatus,
    pub certificates: Vec<ValidateCertStatus>,
}

impl ValidateCertResponse {
    /// A failed command: only the top-level Status.
    pub fn status(status: ValidateCertStatus) -> Self {
        ValidateCertResponse {
            status,
            certificates: Vec::new(),
        }
    }

    /// The answer to a request that does not parse: Status 2, protocol error.
    pub fn protocol_error() -> Self {
        ValidateCertResponse::status(ValidateCertStatus::ProtocolError)
    }

    pub fn to_element(&self) -> Element {
        let mut e = Element::new(vc::VALIDATE_CERT);
        e.push_text(vc::STATUS, self.status.to_string());
        for s in &self.certificates {
            e.push(Element::new(vc::CERTIFICATE).with_text(vc::STATUS, s.to_string()));
        }
        e
    }

    pub fn parse(root: &Element) -> Result<Self, ParseError> {
        root.expect_tag(vc::VALIDATE_CERT)?;
        Ok(ValidateCertResponse {
            status: parse_value::<ValidateCertStatus>(root.required(vc::STATUS)?)?,
            certificates: root
                .children_with(vc::CERTIFICATE)
                .map(|c| parse_value::<ValidateCertStatus>(c.required(vc::STATUS)?))
                .collect::<Result<_, _>>()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_request() {
        let root = Element::new(vc::VALIDATE_CERT)
            .with(
                Element::new(vc::CERTIFICATE_CHAIN)
                    .with_text(vc::CERTIFICATE, "MIIDkTCCAnmgAwIBAgIQaUvIVUCdGqB"),
            )
            .with(
                Element::new(vc::CERTIFICATES)
                    .with_text(vc::CERTIFICATE, "MIIC9DCCAdygAwIBAgIQHkA1x2Z3L0u")
                    .with(Element::opaque_element(
                        vc::CERTIFICATE,
                        vec![0x30, 0x82, 0x01],
                    )),
            )
            .with_text(vc::CHECK_CRL, "1");
        let r = ValidateCertRequest::parse(&root).unwrap();
        assert_eq!(r.certificate_chain, vec!["MIIDkTCCAnmgAwIBAgIQaUvIVUCdGqB"]);
        assert_eq!(
            r.certificates,
            vec!["MIIC9DCCAdygAwIBAgIQHkA1x2Z3L0u", "MIIB"]
        );
        assert!(r.check_crl);
        assert_eq!(ValidateCertRequest::parse(&r.to_element()).unwrap(), r);
    }

    #[test]
    fn rejects_request_without_certificates() {
        let none = Element::new(vc::VALIDATE_CERT);
        assert!(ValidateCertRequest::parse(&none).is_err());
        let empty = Element::new(vc::VALIDATE_CERT).with(Element::new(vc::CERTIFICATES));
        assert!(ValidateCertRequest::parse(&empty).is_err());
        let bad_crl = Element::new(vc::VALIDATE_CERT)
            .with(Element::new(vc::CERTIFICATES).with_text(vc::CERTIFICATE, "x"))
            .with_text(vc::CHECK_CRL, "yes");
        assert!(ValidateCertRequest::parse(&bad_crl).is_err());
    }

    #[test]
    fn writes_response() {
        // MS-ASCMD 4.20.2: Status 1 and one Certificate with Status 1; here a second one
        // that was revoked.
        let resp = ValidateCertResponse {
            status: ValidateCertStatus::Success,
            certificates: vec![ValidateCertStatus::Success, ValidateCertStatus::Revoked],
        };
        let e = resp.to_element();
        assert_eq!(e.child_text(vc::STATUS).unwrap(), "1");
        let statuses: Vec<String> = e
            .children_with(vc::CERTIFICATE)
            .map(|c| c.child_text(vc::STATUS).unwrap())
            .collect();
        assert_eq!(statuses, ["1", "13"]);
        assert_eq!(ValidateCertResponse::parse(&e).unwrap(), resp);
        for c in 1..=17u16 {
            assert_eq!(ValidateCertStatus::from_code(c).unwrap().code(), c);
        }
        let failed = ValidateCertResponse::status(ValidateCertStatus::ServerError).to_element();
        assert_eq!(failed.child_text(vc::STATUS).unwrap(), "17");
    }
}
