//! Feeds arbitrary bytes to the HTTP/1.1 request-head parser and the body framing rules
//! (`http1.rs`): they must answer (a head, "incomplete", or a 4xx/5xx refusal), never panic,
//! and agree with themselves when the same head arrives in two pieces.
#![no_main]

use easd_server::http1::{chunk_size, framing, parse_head, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_head_bytes: 4096,
        ..Limits::default()
    };
    let whole = parse_head(data, &limits);
    match &whole {
        Ok(Some(head)) => {
            assert!(head.len <= data.len() && head.len <= limits.max_head_bytes);
            // Whatever framing says, it says it without panicking.
            let _ = framing(head);
            // Any prefix shorter than the head is incomplete or already refused, never a
            // different head.
            let cut = data.len().min(head.len) / 2;
            if let Ok(Some(early)) = parse_head(&data[..cut], &limits) {
                panic!("a prefix of {cut} bytes parsed as a head of {}", early.len);
            }
        }
        Ok(None) => assert!(data.len() < limits.max_head_bytes),
        Err(refusal) => assert!(refusal.status.is_client_error() || refusal.status.is_server_error()),
    }
    if let Some(line) = data.split(|&b| b == b'\n').next() {
        let _ = chunk_size(line);
    }
});
