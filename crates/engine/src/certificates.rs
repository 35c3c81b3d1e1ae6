//! ValidateCert (MS-ASCMD 2.2.1.22): the client asks whether the certificates of an S/MIME
//! message can be trusted.
//!
//! easd has no trust anchors for S/MIME (no CA store is configured), so it can vouch for
//! no certificate: a well-formed certificate inside its validity period answers Status 4,
//! "the digital ID was issued by an untrusted source", which is the truth when no source is
//! trusted. What can be told without trust is told: an expired or not yet valid certificate
//! answers 7, one that is not an X.509 certificate at all answers 10 (MS-ASCMD
//! 2.2.3.177.18).

use base64::Engine as _;
use easd_protocol::commands::validate_cert::{
    ValidateCertRequest, ValidateCertResponse, ValidateCertStatus,
};

/// The validity period of an X.509 certificate (RFC 5280 4.1.2.5), in unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    pub not_before: i64,
    pub not_after: i64,
}

/// One DER TLV: (tag, content, rest).
fn der_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// UTCTime (YYMMDDHHMMSSZ) or GeneralizedTime (YYYYMMDDHHMMSSZ), RFC 5280 4.1.2.5.1-2.
fn der_time(tag: u8, content: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(content).ok()?;
    let digits = s.strip_suffix('Z')?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (year, rest) = match (tag, digits.len()) {
        (0x17, 12) => {
            let yy: i32 = digits[..2].parse().ok()?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &digits[2..])
        }
        (0x18, 14) => (digits[..4].parse().ok()?, &digits[4..]),
        _ => return None,
    };
    let field = |i: usize| rest[i..i + 2].parse::<u8>().ok();
    let month = time::Month::try_from(field(0)?).ok()?;
    let date = time::Date::from_calendar_date(year, month, field(2)?).ok()?;
    let t = date.with_hms(field(4)?, field(6)?, field(8)?).ok()?;
    Some(t.assume_utc().unix_timestamp())
}

/// The validity period of a DER certificate, or None if it is not one.
pub fn certificate_validity(der: &[u8]) -> Option<Validity> {
    // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }
    let (0x30, cert, _) = der_tlv(der)? else {
        return None;
    };
    let (0x30, tbs, _) = der_tlv(cert)? else {
        return None;
    };
    // TBSCertificate ::= SEQUENCE { [0] version OPTIONAL, serialNumber, signature, issuer,
    //                               validity, ... }
    let mut rest = tbs;
    let (tag, _, after) = der_tlv(rest)?;
    if tag == 0xa0 {
        rest = after;
    }
    let (0x02, _, rest) = der_tlv(rest)? else {
        return None;
    };
    let (0x30, _, rest) = der_tlv(rest)? else {
        return None;
    };
    let (0x30, _, rest) = der_tlv(rest)? else {
        return None;
    };
    let (0x30, validity, _) = der_tlv(rest)? else {
        return None;
    };
    let (t1, before, rest) = der_tlv(validity)?;
    let (t2, after, _) = der_tlv(rest)?;
    Some(Validity {
        not_before: der_time(t1, before)?,
        not_after: der_time(t2, after)?,
    })
}

/// The Status of one certificate (base64 of DER, as the request carries it) at `now`.
pub fn certificate_status(base64_der: &str, now: i64) -> ValidateCertStatus {
    let cleaned: String = base64_der
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let Ok(der) = base64::engine::general_purpose::STANDARD.decode(cleaned) else {
        return ValidateCertStatus::MissingOrIncorrectInformation;
    };
    match certificate_validity(&der) {
        None => ValidateCertStatus::MissingOrIncorrectInformation,
        Some(v) if now < v.not_before || now > v.not_after => {
            ValidateCertStatus::ExpiredOrNotYetValid
        }
        // No trust anchors: no issuer is trusted.
        Some(_) => ValidateCertStatus::UntrustedSource,
    }
}

/// ValidateCert (MS-ASCMD 2.2.1.22): one Status per certificate of the request, in order.
/// CertificateChain and CheckCRL can't change the answer without trust anchors.
pub fn validate_cert(request: &ValidateCertRequest, now: i64) -> ValidateCertResponse {
    ValidateCertResponse {
        status: ValidateCertStatus::Success,
        certificates: request
            .certificates
            .iter()
            .map(|c| certificate_status(c, now))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        if content.len() < 0x80 {
            out.push(content.len() as u8);
        } else {
            out.push(0x82);
            out.extend_from_slice(&(content.len() as u16).to_be_bytes());
        }
        out.extend_from_slice(content);
        out
    }

    /// A certificate skeleton with the given validity (the rest is not looked at).
    fn certificate(not_before: (u8, &str), not_after: (u8, &str), with_version: bool) -> Vec<u8> {
        let mut tbs = Vec::new();
        if with_version {
            tbs.extend(tlv(0xa0, &tlv(0x02, &[2])));
        }
        tbs.extend(tlv(0x02, &[0x01, 0x23]));
        tbs.extend(tlv(0x30, &tlv(0x06, &[0x2a, 0x86, 0x48])));
        tbs.extend(tlv(0x30, &[0x31; 200]));
        let mut validity = tlv(not_before.0, not_before.1.as_bytes());
        validity.extend(tlv(not_after.0, not_after.1.as_bytes()));
        tbs.extend(tlv(0x30, &validity));
        tbs.extend(tlv(0x30, &[]));
        let mut cert = tlv(0x30, &tbs);
        cert.extend(tlv(0x30, &tlv(0x06, &[0x2a])));
        cert.extend(tlv(0x03, &[0, 1, 2, 3]));
        tlv(0x30, &cert)
    }

    fn b64(der: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(der)
    }

    #[test]
    fn reads_validity_in_both_time_forms() {
        let der = certificate((0x17, "200101000000Z"), (0x18, "20500101000000Z"), true);
        let v = certificate_validity(&der).unwrap();
        assert_eq!(v.not_before, 1_577_836_800);
        assert_eq!(v.not_after, 2_524_608_000);
        let v1 = certificate_validity(&certificate(
            (0x17, "991231235959Z"),
            (0x17, "491231235959Z"),
            false,
        ))
        .unwrap();
        assert_eq!(v1.not_before, 946_684_799);
        assert!(certificate_validity(&der[..der.len() - 1]).is_none());
        assert!(certificate_validity(b"\x30\x00").is_none());
    }

    #[test]
    fn statuses() {
        let now = 1_800_000_000; // 2027
        let valid = b64(&certificate(
            (0x17, "200101000000Z"),
            (0x18, "20500101000000Z"),
            true,
        ));
        let expired = b64(&certificate(
            (0x17, "100101000000Z"),
            (0x17, "200101000000Z"),
            true,
        ));
        let future = b64(&certificate(
            (0x17, "400101000000Z"),
            (0x17, "450101000000Z"),
            true,
        ));
        let request = ValidateCertRequest {
            certificate_chain: Vec::new(),
            certificates: vec![valid, expired, future, "not base64!".into(), b64(b"hello")],
            check_crl: true,
        };
        let resp = validate_cert(&request, now);
        assert_eq!(resp.status, ValidateCertStatus::Success);
        assert_eq!(
            resp.certificates,
            [
                ValidateCertStatus::UntrustedSource,
                ValidateCertStatus::ExpiredOrNotYetValid,
                ValidateCertStatus::ExpiredOrNotYetValid,
                ValidateCertStatus::MissingOrIncorrectInformation,
                ValidateCertStatus::MissingOrIncorrectInformation,
            ]
        );
    }
}
