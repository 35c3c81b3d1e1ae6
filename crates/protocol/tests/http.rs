//! Property tests of the MS-ASHTTP query parser: the base64 form round-trips, and no input
//! makes the parser panic.

use easd_protocol::http::{QueryForm, RequestQuery};
use easd_protocol::{Command, ProtocolVersion};
use proptest::prelude::*;

fn command() -> impl Strategy<Value = Command> {
    prop::sample::select(Command::ALL.to_vec())
}

fn version() -> impl Strategy<Value = ProtocolVersion> {
    prop::sample::select(ProtocolVersion::ALL.to_vec())
}

fn param() -> impl Strategy<Value = Option<String>> {
    prop::option::of("[a-zA-Z0-9:@._ -]{0,40}")
}

prop_compose! {
    fn base64_query()(
        command in command(),
        version in version(),
        locale in any::<u16>(),
        device_id in "[A-Za-z0-9_-]{1,64}",
        device_type in "[A-Za-z0-9 .]{0,63}[A-Za-z]",
        policy_key in prop::option::of(any::<u32>()),
        user in param(),
        attachment_name in param(),
        collection_id in param(),
        item_id in param(),
        long_id in param(),
        occurrence in param(),
        save_in_sent in any::<bool>(),
        accept_multipart in any::<bool>(),
    ) -> RequestQuery {
        RequestQuery {
            form: QueryForm::Base64,
            command,
            user,
            device_id,
            device_type,
            protocol_version: Some(version),
            policy_key,
            locale: Some(locale),
            attachment_name,
            collection_id,
            item_id,
            long_id,
            occurrence,
            save_in_sent,
            accept_multipart,
        }
    }
}

proptest! {
    #[test]
    fn base64_round_trip(q in base64_query()) {
        let encoded = q.to_base64();
        prop_assert_eq!(RequestQuery::parse(&encoded), Ok(q));
    }

    #[test]
    fn arbitrary_strings_never_panic(s in any::<String>()) {
        let _ = RequestQuery::parse(&s);
    }

    #[test]
    fn plain_looking_strings_never_panic(s in "(Cmd|DeviceId|DeviceType|User|SaveInSent|%|=|&|[a-zA-Z0-9%+]{0,8}){0,24}") {
        let _ = RequestQuery::parse(&s);
    }

    #[test]
    fn arbitrary_base64_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        use base64::Engine;
        let s = base64::engine::general_purpose::STANDARD.encode(bytes);
        let _ = RequestQuery::parse(&s);
    }
}
