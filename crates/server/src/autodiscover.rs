//! Autodiscover, so a phone configures itself from an email address and a password:
//! the mobilesync XML schema, the Outlook XML schema answered with the MobileSync URL, and the
//! JSON endpoint (`/autodiscover/autodiscover.json?Email=...&Protocol=ActiveSync`).

use quick_xml::events::Event;

pub const MOBILESYNC_REQUEST: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/requestschema/2006";
pub const MOBILESYNC_RESPONSE: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006";
pub const OUTLOOK_RESPONSE: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";
const ENVELOPE_RESPONSE: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006";

/// Which response schema the client asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schema {
    MobileSync,
    Outlook,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutodiscoverRequest {
    pub email: String,
    pub schema: Schema,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AutodiscoverError {
    #[error("the request is not XML: {0}")]
    Xml(String),
    #[error("the request has no EMailAddress")]
    NoEmail,
    #[error("response schema {0:?} is not supported")]
    Schema(String),
}

impl AutodiscoverRequest {
    /// Reads `<Autodiscover><Request><EMailAddress/><AcceptableResponseSchema/>`.
    pub fn parse(body: &[u8]) -> Result<Self, AutodiscoverError> {
        let mut reader = quick_xml::Reader::from_reader(body);
        reader.config_mut().trim_text(true);
        let mut current: Option<Vec<u8>> = None;
        let mut email = None;
        let mut schema = None;
        let mut depth = 0usize;
        loop {
            match reader.read_event() {
                Ok(Event::Start(e)) => {
                    depth += 1;
                    if depth > 16 {
                        return Err(AutodiscoverError::Xml("nested too deep".into()));
                    }
                    current = Some(e.local_name().as_ref().to_vec());
                }
                Ok(Event::End(_)) => {
                    depth = depth.saturating_sub(1);
                    current = None;
                }
                Ok(Event::Text(t)) => {
                    let text = t
                        .unescape()
                        .map_err(|e| AutodiscoverError::Xml(e.to_string()))?
                        .trim()
                        .to_owned();
                    match current.as_deref() {
                        Some(b"EMailAddress") => email = Some(text),
                        Some(b"AcceptableResponseSchema") => schema = Some(text),
                        _ => {}
                    }
                }
                Ok(Event::Eof) => break,
                Ok(_) => {}
                Err(e) => return Err(AutodiscoverError::Xml(e.to_string())),
            }
        }
        let email = email
            .filter(|e| !e.is_empty())
            .ok_or(AutodiscoverError::NoEmail)?;
        let schema = match schema.as_deref() {
            None | Some(MOBILESYNC_RESPONSE) => Schema::MobileSync,
            Some(s)
                if s.starts_with(
                    "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/",
                ) =>
            {
                Schema::Outlook
            }
            Some(other) => return Err(AutodiscoverError::Schema(other.to_owned())),
        };
        Ok(AutodiscoverRequest { email, schema })
    }
}

fn xml_escape(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

/// The answer naming `eas_url` for `email`.
pub fn response_xml(request: &AutodiscoverRequest, display_name: &str, eas_url: &str) -> String {
    let email = xml_escape(&request.email);
    let name = xml_escape(display_name);
    let url = xml_escape(eas_url);
    match request.schema {
        Schema::MobileSync => format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
             <Autodiscover xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
             xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns=\"{ENVELOPE_RESPONSE}\">\n\
             <Response xmlns=\"{MOBILESYNC_RESPONSE}\">\n\
             <Culture>en:us</Culture>\n\
             <User><DisplayName>{name}</DisplayName><EMailAddress>{email}</EMailAddress></User>\n\
             <Action><Settings><Server><Type>MobileSync</Type><Url>{url}</Url><Name>{url}</Name></Server></Settings></Action>\n\
             </Response>\n</Autodiscover>\n"
        ),
        Schema::Outlook => format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
             <Autodiscover xmlns=\"{ENVELOPE_RESPONSE}\">\n\
             <Response xmlns=\"{OUTLOOK_RESPONSE}\">\n\
             <User><DisplayName>{name}</DisplayName><AutoDiscoverSMTPAddress>{email}</AutoDiscoverSMTPAddress></User>\n\
             <Account><AccountType>email</AccountType><Action>settings</Action>\n\
             <Protocol><Type>MobileSync</Type><Server>{url}</Server><Url>{url}</Url></Protocol>\n\
             </Account>\n</Response>\n</Autodiscover>\n"
        ),
    }
}

/// The mobilesync error answer (error code 600: invalid request; 601: no such provider).
pub fn error_xml(code: u16, message: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <Autodiscover xmlns=\"{ENVELOPE_RESPONSE}\">\n\
         <Response xmlns=\"{MOBILESYNC_RESPONSE}\">\n\
         <Error Time=\"{}\" Id=\"1\"><ErrorCode>{code}</ErrorCode><Message>{}</Message><DebugData /></Error>\n\
         </Response>\n</Autodiscover>\n",
        time::OffsetDateTime::now_utc().format(&time::macros::format_description!("[hour]:[minute]:[second]")).unwrap_or_default(),
        xml_escape(message)
    )
}

/// The JSON endpoint's answer.
pub fn json_response(eas_url: &str) -> serde_json::Value {
    serde_json::json!({ "Protocol": "ActiveSync", "Url": eas_url })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_mobilesync_request() {
        let body = format!(
            "<?xml version=\"1.0\"?><Autodiscover xmlns=\"{MOBILESYNC_REQUEST}\"><Request>\
             <EMailAddress>chris@example.com</EMailAddress>\
             <AcceptableResponseSchema>{MOBILESYNC_RESPONSE}</AcceptableResponseSchema>\
             </Request></Autodiscover>"
        );
        let r = AutodiscoverRequest::parse(body.as_bytes()).unwrap();
        assert_eq!(r.email, "chris@example.com");
        assert_eq!(r.schema, Schema::MobileSync);
        let xml = response_xml(&r, "Chris <Gray>", "https://h/Microsoft-Server-ActiveSync");
        assert!(xml.contains("<Url>https://h/Microsoft-Server-ActiveSync</Url>"));
        assert!(xml.contains("Chris &lt;Gray&gt;"));
    }

    #[test]
    fn outlook_and_errors() {
        let body = "<Autodiscover><Request><EMailAddress>a@b</EMailAddress>\
            <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>\
            </Request></Autodiscover>";
        assert_eq!(
            AutodiscoverRequest::parse(body.as_bytes()).unwrap().schema,
            Schema::Outlook
        );
        assert_eq!(
            AutodiscoverRequest::parse(b"<Autodiscover><Request/></Autodiscover>"),
            Err(AutodiscoverError::NoEmail)
        );
        assert!(matches!(
            AutodiscoverRequest::parse(b"<a><b></a>"),
            Err(AutodiscoverError::Xml(_))
        ));
    }
}
