//! Mailbox logging per device (ARCHITECTURE.md: "mailbox (device) logging"): while enabled
//! for a user or a DeviceId (a kv setting with an expiry, written by `easd log enable`),
//! each request and response of the device is stored decoded to XML, with its headers
//! (Authorization removed), status and duration; each body is cut to `device_log_max_body`
//! bytes (configuration) and marked as cut.

use crate::app::App;
use crate::commands::CommandResponse;
use axum::http::HeaderMap;
use easd_store::{AccountId, NewDeviceLog};
use std::sync::Arc;
use std::time::Instant;

/// kv key prefixes; the value is the expiry in unix seconds.
pub const DEVICE_KEY_PREFIX: &str = "devlog.device.";
pub const USER_KEY_PREFIX: &str = "devlog.user.";
/// The mark left where a body was cut.
pub const CUT_MARK: &str = "\n<!-- cut -->";

/// A request being logged.
pub(crate) struct Capture {
    app: Arc<App>,
    entry: NewDeviceLog,
    started: Instant,
}

/// Cuts `s` to at most `max` bytes (on a character boundary) and marks it.
fn cut(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push_str(CUT_MARK);
    }
    s
}

fn body_xml(body: &[u8], max: usize) -> String {
    if body.is_empty() {
        return String::new();
    }
    let mut out = Vec::new();
    match easd_wbxml::xml::transcode(body, &easd_wbxml::Limits::default(), &mut out) {
        Ok(()) => cut(String::from_utf8_lossy(&out).into_owned(), max),
        Err(_) => format!("<!-- {} bytes, not WBXML -->", body.len()),
    }
}

impl Capture {
    /// Starts a capture when logging is enabled for this device or user.
    pub(crate) async fn start(
        app: &Arc<App>,
        account: AccountId,
        email: &str,
        device_id: &str,
        command: &str,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Option<Capture> {
        let keys = [
            format!("{DEVICE_KEY_PREFIX}{}", device_id.to_lowercase()),
            format!("{USER_KEY_PREFIX}{}", email.to_lowercase()),
        ];
        let enabled = app
            .engine
            .blocking(move |store| {
                let now = time::OffsetDateTime::now_utc().unix_timestamp();
                for k in &keys {
                    if let Some(v) = store.kv_get(k)? {
                        if v.trim().parse::<i64>().is_ok_and(|until| until > now) {
                            return Ok(true);
                        }
                    }
                }
                Ok(false)
            })
            .await
            .unwrap_or(false);
        if !enabled {
            return None;
        }
        let headers: serde_json::Map<String, serde_json::Value> = headers
            .iter()
            .filter(|(k, _)| *k != axum::http::header::AUTHORIZATION)
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    serde_json::Value::String(String::from_utf8_lossy(v.as_bytes()).into_owned()),
                )
            })
            .collect();
        Some(Capture {
            app: app.clone(),
            entry: NewDeviceLog {
                account: Some(account),
                device_id: device_id.to_owned(),
                partnership: None,
                at: time::OffsetDateTime::now_utc().unix_timestamp(),
                command: command.to_owned(),
                request_xml: body_xml(body, app.config.device_log_max_body),
                response_xml: String::new(),
                meta: serde_json::json!({ "request_headers": headers }),
            },
            started: Instant::now(),
        })
    }

    /// What the log keeps of `response` (made before `finish`: a streamed body can't be
    /// held across an await).
    pub(crate) fn summary(&self, response: &CommandResponse) -> ResponseSummary {
        ResponseSummary::of(response, self.app.config.device_log_max_body)
    }

    /// Stores the entry with the response's `summary`.
    pub(crate) async fn finish(mut self, summary: ResponseSummary) {
        let ResponseSummary { status, xml } = summary;
        self.entry.response_xml = xml;
        self.entry.meta["status"] = serde_json::json!(status);
        self.entry.meta["duration_ms"] =
            serde_json::json!(self.started.elapsed().as_millis() as u64);
        let entry = self.entry;
        if let Err(e) = self
            .app
            .engine
            .blocking(move |store| Ok(store.add_device_log(&entry)?))
            .await
        {
            tracing::warn!(error = %e, "device log entry not stored");
        }
    }
}

/// What the log keeps of a response: its HTTP status and its body as XML. Made before the
/// entry is stored (a streamed body can't be held across that).
pub(crate) struct ResponseSummary {
    status: u16,
    xml: String,
}

impl ResponseSummary {
    /// `max_body`: the longest XML kept (config `device_log_max_body`).
    pub(crate) fn of(response: &CommandResponse, max_body: usize) -> Self {
        let (status, xml) = match response {
            CommandResponse::Wbxml(e) => (200, cut(easd_wbxml::xml::to_xml(e), max_body)),
            CommandResponse::Bytes {
                content_type,
                bytes,
            } => (
                200,
                format!("<!-- {} bytes of {content_type} -->", bytes.len()),
            ),
            CommandResponse::Stream(_) => (200, "<!-- streamed -->".to_owned()),
            CommandResponse::Empty => (200, String::new()),
            CommandResponse::Status(s, m) => (s.as_u16(), format!("<!-- {m} -->")),
        };
        ResponseSummary { status, xml }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_cut_on_a_character_boundary_and_marked() {
        assert_eq!(cut("short".into(), 10), "short");
        let cut_text = cut("ééééé".into(), 5);
        assert_eq!(cut_text, format!("éé{CUT_MARK}"));
        assert!(body_xml(b"not wbxml", 100).contains("not WBXML"));
    }
}
