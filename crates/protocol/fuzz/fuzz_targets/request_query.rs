//! The MS-ASHTTP request line from the network: the query value (both forms) and the
//! Authorization, MS-ASProtocolVersion and X-MS-PolicyKey headers. Nothing may panic, and a
//! query read in the base64 form must write back to the same query.
#![no_main]

use easd_protocol::http::{
    parse_policy_key_header, parse_protocol_version_header, BasicCredentials, QueryForm,
    RequestQuery,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(q) = RequestQuery::parse(text) {
        if q.form == QueryForm::Base64 {
            let again = RequestQuery::parse(&q.to_base64()).expect("to_base64 output parses");
            assert_eq!(again, q, "base64 query does not round-trip");
        }
    }
    let _ = BasicCredentials::parse(text);
    let _ = parse_protocol_version_header(text);
    let _ = parse_policy_key_header(text);
});
