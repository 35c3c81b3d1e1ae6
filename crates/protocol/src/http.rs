//! The MS-ASHTTP request line and headers: the query value in both of its forms
//! (plain text, MS-ASHTTP 2.2.1.1.1.2; base64, MS-ASHTTP 2.2.1.1.1.1), and the headers that
//! carry the protocol version, the policy key and the user's credentials.
//!
//! Every failure is a [`QueryError`]; the server answers it with HTTP 400.

use crate::command::Command;
use crate::version::{ProtocolVersion, UnsupportedVersion};
use base64::alphabet;
use base64::engine::{DecodePaddingMode, Engine, GeneralPurpose, GeneralPurposeConfig};

/// Longest DeviceId accepted. MS-ASHTTP 2.2.1.1.1.2.3 forbids commas and special characters
/// and asks for 32 characters at most; devices in the field send longer ones, so the bound
/// is looser.
pub const MAX_DEVICE_ID_LEN: usize = 64;
/// Longest DeviceType accepted (MS-ASHTTP 2.2.1.1.1.2.4: any string; bounded here).
pub const MAX_DEVICE_TYPE_LEN: usize = 64;
/// Longest User, and longest value of any other query parameter.
pub const MAX_PARAMETER_LEN: usize = 1024;
/// Longest query value accepted at all.
pub const MAX_QUERY_LEN: usize = 8192;

/// Why a request line or header is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("the request has no query value")]
    Empty,
    #[error("the query value is longer than {MAX_QUERY_LEN} bytes")]
    TooLong,
    #[error("the query value is neither a plain query (Cmd=...) nor valid base64")]
    InvalidBase64,
    #[error("the base64 query ends inside its {0} field")]
    Truncated(&'static str),
    #[error("the query has no {0} parameter")]
    MissingParameter(&'static str),
    #[error("the {name} parameter is invalid: {reason}")]
    InvalidParameter {
        name: &'static str,
        reason: &'static str,
    },
    #[error("unknown command {0:?}")]
    UnknownCommand(String),
    #[error("unknown command code {0} in the base64 query")]
    UnknownCommandCode(u8),
    #[error(transparent)]
    UnsupportedVersion(#[from] UnsupportedVersion),
    #[error("the base64 query's policy key length is {0} (expected 0 or 4)")]
    InvalidPolicyKeyLength(u8),
    #[error("the {name} header is invalid: {reason}")]
    InvalidHeader {
        name: &'static str,
        reason: &'static str,
    },
}

/// Which form the query value had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryForm {
    /// `Cmd=Sync&User=u&DeviceId=x&DeviceType=iPhone` (MS-ASHTTP 2.2.1.1.1.2).
    Plain,
    /// The whole query is base64 of a byte layout (MS-ASHTTP 2.2.1.1.1.1).
    Base64,
}

/// The parameters of a request's query value, whichever its form.
///
/// In the plain form the protocol version and policy key travel in the MS-ASProtocolVersion
/// and X-MS-PolicyKey headers, so `protocol_version` and `policy_key` are `None` here; the base64
/// form carries them (and the locale) itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestQuery {
    pub form: QueryForm,
    pub command: Command,
    pub user: Option<String>,
    pub device_id: String,
    pub device_type: String,
    /// Base64 form only: its Protocol version field.
    pub protocol_version: Option<ProtocolVersion>,
    /// The base64 form's Policy key field, when present (length 4). In the plain form the key
    /// travels in X-MS-PolicyKey; some clients (pyactivesync) send a `PolicyKey=` parameter
    /// instead, which lands here.
    pub policy_key: Option<u32>,
    /// Base64 form only: its Locale field (e.g. 0x0409 for en-US).
    pub locale: Option<u16>,
    pub attachment_name: Option<String>,
    pub collection_id: Option<String>,
    pub item_id: Option<String>,
    pub long_id: Option<String>,
    pub occurrence: Option<String>,
    /// SaveInSent=T (plain), or the SaveInSent flag of the Options parameter (base64).
    pub save_in_sent: bool,
    /// AcceptMultiPart=T (plain, where clients send it in the query rather than the
    /// MS-ASAcceptMultiPart header), or the AcceptMultiPart flag of Options (base64).
    pub accept_multipart: bool,
}

/// Command parameter tags of the base64 query (MS-ASHTTP 2.2.1.1.1.1.3).
mod param_tag {
    pub const ATTACHMENT_NAME: u8 = 0;
    pub const COLLECTION_ID: u8 = 1;
    pub const ITEM_ID: u8 = 3;
    pub const LONG_ID: u8 = 4;
    pub const OCCURRENCE: u8 = 6;
    pub const OPTIONS: u8 = 7;
    pub const USER: u8 = 8;
}

/// Flags of the Options command parameter (MS-ASHTTP 2.2.1.1.1.1.3).
const OPTION_SAVE_IN_SENT: u8 = 0x01;
const OPTION_ACCEPT_MULTIPART: u8 = 0x02;

/// Standard base64 that accepts missing or present padding (clients differ).
pub(crate) const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

impl RequestQuery {
    /// Parses a query value (the part of the URI after '?'), in either form.
    ///
    /// The plain form is recognised by a `Cmd` parameter (a `&`-separated pair whose name is
    /// "Cmd", any case); anything else is decoded as base64. Unknown plain parameters are
    /// ignored, as are unknown base64 parameter tags.
    pub fn parse(query: &str) -> Result<RequestQuery, QueryError> {
        let query = query.strip_prefix('?').unwrap_or(query);
        if query.is_empty() {
            return Err(QueryError::Empty);
        }
        if query.len() > MAX_QUERY_LEN {
            return Err(QueryError::TooLong);
        }
        let plain = query.split('&').any(|pair| {
            pair.split('=')
                .next()
                .is_some_and(|k| k.eq_ignore_ascii_case("Cmd"))
        });
        if plain {
            Self::parse_plain(query)
        } else {
            Self::parse_base64(query)
        }
    }

    fn parse_plain(query: &str) -> Result<RequestQuery, QueryError> {
        let mut cmd = None;
        let mut q = RequestQuery {
            form: QueryForm::Plain,
            command: Command::Sync,
            user: None,
            device_id: String::new(),
            device_type: String::new(),
            protocol_version: None,
            policy_key: None,
            locale: None,
            attachment_name: None,
            collection_id: None,
            item_id: None,
            long_id: None,
            occurrence: None,
            save_in_sent: false,
            accept_multipart: false,
        };
        let mut device_id = None;
        let mut device_type = None;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (raw_key, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
            let key = percent_decode(raw_key, "parameter name")?;
            // The first occurrence of a parameter wins.
            let slot: &mut Option<String> = match key.to_ascii_lowercase().as_str() {
                "cmd" => &mut cmd,
                "user" => &mut q.user,
                "deviceid" => &mut device_id,
                "devicetype" => &mut device_type,
                "attachmentname" => &mut q.attachment_name,
                "collectionid" => &mut q.collection_id,
                "itemid" => &mut q.item_id,
                "longid" => &mut q.long_id,
                "occurrence" => &mut q.occurrence,
                "saveinsent" => {
                    q.save_in_sent =
                        parse_flag(&percent_decode(raw_value, "SaveInSent")?, "SaveInSent")?;
                    continue;
                }
                "policykey" => {
                    if q.policy_key.is_none() {
                        let v = percent_decode(raw_value, "PolicyKey")?;
                        q.policy_key =
                            Some(v.trim().parse().map_err(|_| QueryError::InvalidParameter {
                                name: "PolicyKey",
                                reason: "not a 32-bit unsigned decimal number",
                            })?);
                    }
                    continue;
                }
                "acceptmultipart" => {
                    q.accept_multipart = parse_flag(
                        &percent_decode(raw_value, "AcceptMultiPart")?,
                        "AcceptMultiPart",
                    )?;
                    continue;
                }
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(percent_decode(raw_value, "parameter value")?);
            }
        }
        let cmd = cmd.ok_or(QueryError::MissingParameter("Cmd"))?;
        q.command = Command::from_name(&cmd)
            .ok_or_else(|| QueryError::UnknownCommand(cmd.chars().take(32).collect()))?;
        q.device_id = device_id.ok_or(QueryError::MissingParameter("DeviceId"))?;
        q.device_type = device_type.ok_or(QueryError::MissingParameter("DeviceType"))?;
        q.validate()?;
        Ok(q)
    }

    fn parse_base64(query: &str) -> Result<RequestQuery, QueryError> {
        // Some clients percent-encode the base64 characters '+', '/' and '='.
        let text = percent_decode_raw(query).map_err(|_| QueryError::InvalidBase64)?;
        let bytes = BASE64
            .decode(text.trim_end())
            .map_err(|_| QueryError::InvalidBase64)?;
        let mut r = Reader {
            bytes: &bytes,
            pos: 0,
        };

        let version = ProtocolVersion::from_byte(r.u8("Protocol version")?)?;
        let code = r.u8("Command code")?;
        let command = Command::from_code(code).ok_or(QueryError::UnknownCommandCode(code))?;
        let locale = u16::from_le_bytes([r.u8("Locale")?, r.u8("Locale")?]);
        let device_id_len = r.u8("Device ID length")?;
        let device_id = device_id_from_bytes(r.take(device_id_len as usize, "Device ID")?);
        let policy_key = match r.u8("Policy key length")? {
            0 => None,
            4 => {
                let b = r.take(4, "Policy key")?;
                Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            }
            n => return Err(QueryError::InvalidPolicyKeyLength(n)),
        };
        let device_type_len = r.u8("Device type length")?;
        let device_type = utf8(
            r.take(device_type_len as usize, "Device type")?,
            "DeviceType",
        )?;

        let mut q = RequestQuery {
            form: QueryForm::Base64,
            command,
            user: None,
            device_id,
            device_type,
            protocol_version: Some(version),
            policy_key,
            locale: Some(locale),
            attachment_name: None,
            collection_id: None,
            item_id: None,
            long_id: None,
            occurrence: None,
            save_in_sent: false,
            accept_multipart: false,
        };
        while !r.at_end() {
            let tag = r.u8("command parameter tag")?;
            let len = r.u8("command parameter length")?;
            let value = r.take(len as usize, "command parameter value")?;
            let slot = match tag {
                param_tag::ATTACHMENT_NAME => (&mut q.attachment_name, "AttachmentName"),
                param_tag::COLLECTION_ID => (&mut q.collection_id, "CollectionId"),
                param_tag::ITEM_ID => (&mut q.item_id, "ItemId"),
                param_tag::LONG_ID => (&mut q.long_id, "LongId"),
                param_tag::OCCURRENCE => (&mut q.occurrence, "Occurrence"),
                param_tag::USER => (&mut q.user, "User"),
                param_tag::OPTIONS => {
                    let flags = value.first().copied().unwrap_or(0);
                    q.save_in_sent = flags & OPTION_SAVE_IN_SENT != 0;
                    q.accept_multipart = flags & OPTION_ACCEPT_MULTIPART != 0;
                    continue;
                }
                _ => continue,
            };
            if slot.0.is_none() {
                *slot.0 = Some(utf8(value, slot.1)?);
            }
        }
        q.validate()?;
        Ok(q)
    }

    /// Checks the bounds every request must meet, whichever its form.
    fn validate(&self) -> Result<(), QueryError> {
        let id = &self.device_id;
        if id.is_empty() {
            return Err(QueryError::MissingParameter("DeviceId"));
        }
        if id.len() > MAX_DEVICE_ID_LEN {
            return Err(QueryError::InvalidParameter {
                name: "DeviceId",
                reason: "longer than 64 characters",
            });
        }
        if !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(QueryError::InvalidParameter {
                name: "DeviceId",
                reason: "only letters, digits, '-' and '_' are allowed",
            });
        }
        let ty = &self.device_type;
        if ty.is_empty() {
            return Err(QueryError::MissingParameter("DeviceType"));
        }
        if ty.len() > MAX_DEVICE_TYPE_LEN {
            return Err(QueryError::InvalidParameter {
                name: "DeviceType",
                reason: "longer than 64 characters",
            });
        }
        if !ty.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
            return Err(QueryError::InvalidParameter {
                name: "DeviceType",
                reason: "only printable ASCII is allowed",
            });
        }
        let others = [
            ("User", &self.user),
            ("AttachmentName", &self.attachment_name),
            ("CollectionId", &self.collection_id),
            ("ItemId", &self.item_id),
            ("LongId", &self.long_id),
            ("Occurrence", &self.occurrence),
        ];
        for (name, value) in others {
            if let Some(v) = value {
                if v.len() > MAX_PARAMETER_LEN {
                    return Err(QueryError::InvalidParameter {
                        name,
                        reason: "longer than 1024 bytes",
                    });
                }
                if v.chars().any(char::is_control) {
                    return Err(QueryError::InvalidParameter {
                        name,
                        reason: "contains control characters",
                    });
                }
            }
        }
        Ok(())
    }

    /// Writes the query in the base64 form (MS-ASHTTP 2.2.1.1.1.1), for clients and tests.
    ///
    /// Uses `protocol_version` (default: the latest) and `locale` (default 0x0409). The
    /// DeviceId is written as text. Fields longer than a length byte allows are cut to 255
    /// bytes.
    pub fn to_base64(&self) -> String {
        let mut b = Vec::with_capacity(64);
        b.push(
            self.protocol_version
                .unwrap_or(ProtocolVersion::LATEST)
                .to_byte(),
        );
        b.push(self.command.code());
        b.extend_from_slice(&self.locale.unwrap_or(0x0409).to_le_bytes());
        push_field(&mut b, self.device_id.as_bytes());
        match self.policy_key {
            Some(k) => push_field(&mut b, &k.to_le_bytes()),
            None => b.push(0),
        }
        push_field(&mut b, self.device_type.as_bytes());
        let params = [
            (param_tag::ATTACHMENT_NAME, &self.attachment_name),
            (param_tag::COLLECTION_ID, &self.collection_id),
            (param_tag::ITEM_ID, &self.item_id),
            (param_tag::LONG_ID, &self.long_id),
            (param_tag::OCCURRENCE, &self.occurrence),
            (param_tag::USER, &self.user),
        ];
        for (tag, value) in params {
            if let Some(v) = value {
                b.push(tag);
                push_field(&mut b, v.as_bytes());
            }
        }
        let flags = if self.save_in_sent {
            OPTION_SAVE_IN_SENT
        } else {
            0
        } | if self.accept_multipart {
            OPTION_ACCEPT_MULTIPART
        } else {
            0
        };
        if flags != 0 {
            b.extend_from_slice(&[param_tag::OPTIONS, 1, flags]);
        }
        BASE64.encode(b)
    }
}

/// Appends a length byte and the bytes, cut to 255.
fn push_field(b: &mut Vec<u8>, bytes: &[u8]) {
    let n = bytes.len().min(255);
    b.push(n as u8);
    b.extend_from_slice(&bytes[..n]);
}

/// A cursor over the decoded base64 bytes.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn u8(&mut self, field: &'static str) -> Result<u8, QueryError> {
        Ok(self.take(1, field)?[0])
    }

    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], QueryError> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or(QueryError::Truncated(field))?;
        let s = self
            .bytes
            .get(self.pos..end)
            .ok_or(QueryError::Truncated(field))?;
        self.pos = end;
        Ok(s)
    }

    fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }
}

/// The base64 Device ID is text, or (older clients) a 16-byte GUID: bytes that are not all
/// letters, digits, '-' or '_' are written as uppercase hex, which is stable for a device.
fn device_id_from_bytes(bytes: &[u8]) -> String {
    if bytes
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
    {
        bytes.iter().map(|&b| b as char).collect()
    } else {
        bytes.iter().map(|b| format!("{b:02X}")).collect()
    }
}

fn utf8(bytes: &[u8], name: &'static str) -> Result<String, QueryError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| QueryError::InvalidParameter {
        name,
        reason: "not UTF-8",
    })
}

/// "T" or "F" (MS-ASHTTP 2.2.1.1.1.2.5); "1"/"0" and an empty value (= F) accepted too.
fn parse_flag(value: &str, name: &'static str) -> Result<bool, QueryError> {
    match value {
        "T" | "t" | "1" => Ok(true),
        "F" | "f" | "0" | "" => Ok(false),
        _ => Err(QueryError::InvalidParameter {
            name,
            reason: "expected T or F",
        }),
    }
}

/// Decodes a plain-query component: `%XX` escapes and '+' as space (form encoding, as the
/// servers clients are tested against decode it), then UTF-8.
fn percent_decode(s: &str, name: &'static str) -> Result<String, QueryError> {
    let bytes = percent_decode_bytes(s, true).ok_or(QueryError::InvalidParameter {
        name,
        reason: "bad percent-encoding",
    })?;
    String::from_utf8(bytes).map_err(|_| QueryError::InvalidParameter {
        name,
        reason: "not UTF-8",
    })
}

/// Decodes `%XX` escapes only ('+' is a base64 character).
fn percent_decode_raw(s: &str) -> Result<String, ()> {
    let bytes = percent_decode_bytes(s, false).ok_or(())?;
    String::from_utf8(bytes).map_err(|_| ())
}

fn percent_decode_bytes(s: &str, plus_is_space: bool) -> Option<Vec<u8>> {
    let src = s.as_bytes();
    let mut out = Vec::with_capacity(src.len());
    let mut i = 0;
    while i < src.len() {
        match src[i] {
            b'%' => {
                let hi = hex_digit(*src.get(i + 1)?)?;
                let lo = hex_digit(*src.get(i + 2)?)?;
                out.push(hi << 4 | lo);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Some(out)
}

fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Parses the MS-ASProtocolVersion header (MS-ASHTTP 2.2.1.1.2.6).
pub fn parse_protocol_version_header(value: &str) -> Result<ProtocolVersion, QueryError> {
    Ok(value.parse::<ProtocolVersion>()?)
}

/// Parses the X-MS-PolicyKey header (MS-ASHTTP 2.2.1.1.2.8): a decimal u32. "0" is the key
/// of a device that has not been provisioned.
pub fn parse_policy_key_header(value: &str) -> Result<u32, QueryError> {
    value.trim().parse().map_err(|_| QueryError::InvalidHeader {
        name: "X-MS-PolicyKey",
        reason: "not a 32-bit unsigned decimal number",
    })
}

/// The credentials of a Basic Authorization header (RFC 7617).
#[derive(Clone, PartialEq, Eq)]
pub struct BasicCredentials {
    /// The login as the client sent it: "user", "DOMAIN\\user" or "user@domain".
    pub login: String,
    pub password: String,
}

impl std::fmt::Debug for BasicCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicCredentials")
            .field("login", &self.login)
            .field("password", &"<hidden>")
            .finish()
    }
}

impl BasicCredentials {
    /// Parses an Authorization header value: "Basic " + base64("login:password").
    pub fn parse(authorization: &str) -> Result<BasicCredentials, QueryError> {
        let bad = |reason| QueryError::InvalidHeader {
            name: "Authorization",
            reason,
        };
        let value = authorization.trim();
        let (scheme, token) = value
            .split_once(' ')
            .ok_or(bad("expected \"Basic <credentials>\""))?;
        if !scheme.eq_ignore_ascii_case("Basic") {
            return Err(bad("only the Basic scheme is supported"));
        }
        let decoded = BASE64
            .decode(token.trim())
            .map_err(|_| bad("credentials are not base64"))?;
        let text = String::from_utf8(decoded).map_err(|_| bad("credentials are not UTF-8"))?;
        let (login, password) = text
            .split_once(':')
            .ok_or(bad("credentials have no ':' between user and password"))?;
        if login.is_empty() {
            return Err(bad("the user name is empty"));
        }
        if login.len() > MAX_PARAMETER_LEN || login.chars().any(char::is_control) {
            return Err(bad("the user name is too long or has control characters"));
        }
        Ok(BasicCredentials {
            login: login.to_string(),
            password: password.to_string(),
        })
    }

    /// The account name: "user" of "DOMAIN\\user"; "user@domain" and "user" as they are.
    pub fn user(&self) -> &str {
        match self.login.split_once('\\') {
            Some((_, user)) => user,
            None => &self.login,
        }
    }

    /// The domain: "DOMAIN" of "DOMAIN\\user", "domain" of "user@domain".
    pub fn domain(&self) -> Option<&str> {
        if let Some((domain, _)) = self.login.split_once('\\') {
            return Some(domain);
        }
        self.login.rsplit_once('@').map(|(_, domain)| domain)
    }

    /// Encodes the credentials as an Authorization header value (for clients and tests).
    pub fn to_header(&self) -> String {
        format!(
            "Basic {}",
            BASE64.encode(format!("{}:{}", self.login, self.password))
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_query() {
        let q =
            RequestQuery::parse("Cmd=Sync&User=rmjones&DeviceId=v140Device&DeviceType=SmartPhone")
                .unwrap();
        assert_eq!(q.form, QueryForm::Plain);
        assert_eq!(q.command, Command::Sync);
        assert_eq!(q.user.as_deref(), Some("rmjones"));
        assert_eq!(q.device_id, "v140Device");
        assert_eq!(q.device_type, "SmartPhone");
        assert_eq!(q.protocol_version, None);
        assert_eq!(q.policy_key, None);

        let q = RequestQuery::parse(
            "Cmd=Provision&User=jo&DeviceId=py1&DeviceType=Python&PolicyKey=1307199584",
        )
        .unwrap();
        assert_eq!(q.policy_key, Some(1_307_199_584));
        assert!(RequestQuery::parse("Cmd=Ping&DeviceId=a&DeviceType=b&PolicyKey=x").is_err());
    }

    #[test]
    fn plain_keys_are_case_insensitive_and_values_percent_decoded() {
        let q = RequestQuery::parse(
            "?cmd=SmartReply&user=DOMAIN%5Cjo&deviceid=Appl123&devicetype=iPhone\
             &ItemId=5%3A12&CollectionId=5&SaveInSent=T&AttachmentName=a+b%20c.txt&Unknown=1",
        )
        .unwrap();
        assert_eq!(q.command, Command::SmartReply);
        assert_eq!(q.user.as_deref(), Some("DOMAIN\\jo"));
        assert_eq!(q.item_id.as_deref(), Some("5:12"));
        assert_eq!(q.collection_id.as_deref(), Some("5"));
        assert_eq!(q.attachment_name.as_deref(), Some("a b c.txt"));
        assert!(q.save_in_sent);
        assert!(!q.accept_multipart);
    }

    #[test]
    fn parses_the_ms_ashttp_base64_example() {
        // MS-ASHTTP 2.2.1.1.1.1: the same request as the plain example, version 14.0.
        let q = RequestQuery::parse("jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l").unwrap();
        assert_eq!(q.form, QueryForm::Base64);
        assert_eq!(q.command, Command::Sync);
        assert_eq!(q.protocol_version, Some(ProtocolVersion::V14_0));
        assert_eq!(q.locale, Some(0x0409));
        assert_eq!(q.device_id, "v140Device");
        assert_eq!(q.policy_key, None);
        assert_eq!(q.device_type, "SmartPhone");
        assert_eq!(q.to_base64(), "jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l");
    }

    #[test]
    fn base64_with_policy_key_params_and_percent_encoding() {
        let q = RequestQuery {
            form: QueryForm::Base64,
            command: Command::ItemOperations,
            user: Some("jo@example.com".into()),
            device_id: "ABC123".into(),
            device_type: "iPhone".into(),
            protocol_version: Some(ProtocolVersion::V16_1),
            policy_key: Some(3_942_919_513),
            locale: Some(0x0407),
            attachment_name: None,
            collection_id: Some("7".into()),
            item_id: Some("7:1".into()),
            long_id: None,
            occurrence: None,
            save_in_sent: false,
            accept_multipart: true,
        };
        let encoded = q.to_base64();
        assert_eq!(RequestQuery::parse(&encoded).unwrap(), q);
        let escaped = encoded
            .replace('+', "%2B")
            .replace('/', "%2F")
            .replace('=', "%3D");
        assert_eq!(RequestQuery::parse(&escaped).unwrap(), q);
        let unpadded = encoded.trim_end_matches('=');
        assert_eq!(RequestQuery::parse(unpadded).unwrap(), q);
    }

    #[test]
    fn base64_guid_device_id_becomes_hex() {
        let mut b = vec![141, 18, 0x09, 0x04, 16];
        b.extend_from_slice(&[0xAB; 16]);
        b.push(0);
        b.push(6);
        b.extend_from_slice(b"iPhone");
        let q = RequestQuery::parse(&BASE64.encode(&b)).unwrap();
        assert_eq!(q.command, Command::Ping);
        assert_eq!(q.device_id, "AB".repeat(16));
    }

    #[test]
    fn rejects_bad_queries() {
        use QueryError::*;
        let cases: &[(&str, QueryError)] = &[
            ("", Empty),
            ("Cmd=Sync&DeviceType=x", MissingParameter("DeviceId")),
            ("Cmd=Sync&DeviceId=x", MissingParameter("DeviceType")),
            (
                "Cmd=Sync&DeviceId=&DeviceType=x",
                MissingParameter("DeviceId"),
            ),
            (
                "Cmd=Frobnicate&DeviceId=x&DeviceType=y",
                UnknownCommand("Frobnicate".into()),
            ),
            (
                "Cmd=&DeviceId=x&DeviceType=y",
                UnknownCommand(String::new()),
            ),
            (
                "Cmd=Sync&DeviceId=a%2Fb&DeviceType=y",
                InvalidParameter {
                    name: "DeviceId",
                    reason: "only letters, digits, '-' and '_' are allowed",
                },
            ),
            (
                "Cmd=Sync&DeviceId=a&DeviceType=y&User=%ZZ",
                InvalidParameter {
                    name: "parameter value",
                    reason: "bad percent-encoding",
                },
            ),
            ("!!!notbase64", InvalidBase64),
            ("jA", Truncated("Command code")),
        ];
        for (query, expected) in cases {
            assert_eq!(
                RequestQuery::parse(query).as_ref(),
                Err(expected),
                "{query}"
            );
        }
        let long_id = "a".repeat(65);
        assert!(matches!(
            RequestQuery::parse(&format!("Cmd=Sync&DeviceId={long_id}&DeviceType=y")),
            Err(InvalidParameter {
                name: "DeviceId",
                ..
            })
        ));
        // Version 12.0 and a policy key of length 3 in base64.
        assert!(matches!(
            RequestQuery::parse(&BASE64.encode([120, 0, 9, 4, 1, b'a', 0, 1, b'b'])),
            Err(UnsupportedVersion(_))
        ));
        assert_eq!(
            RequestQuery::parse(&BASE64.encode([141, 0, 9, 4, 1, b'a', 3, 1, 2, 3, 1, b'b'])),
            Err(InvalidPolicyKeyLength(3))
        );
        assert_eq!(
            RequestQuery::parse(&BASE64.encode([141, 99, 9, 4])),
            Err(UnknownCommandCode(99))
        );
    }

    #[test]
    fn headers() {
        assert_eq!(
            parse_protocol_version_header("16.1"),
            Ok(ProtocolVersion::V16_1)
        );
        assert!(parse_protocol_version_header("2.5").is_err());
        assert_eq!(parse_policy_key_header(" 1307199584 "), Ok(1_307_199_584));
        assert_eq!(parse_policy_key_header("0"), Ok(0));
        assert!(parse_policy_key_header("-1").is_err());
        assert!(parse_policy_key_header("4294967296").is_err());
    }

    #[test]
    fn basic_credentials() {
        let c = BasicCredentials {
            login: "CONTOSO\\jo".into(),
            password: "p:w".into(),
        };
        let parsed = BasicCredentials::parse(&c.to_header()).unwrap();
        assert_eq!(parsed, c);
        assert_eq!(parsed.user(), "jo");
        assert_eq!(parsed.domain(), Some("CONTOSO"));
        assert!(!format!("{parsed:?}").contains("p:w"));

        let c = BasicCredentials::parse("basic am9AZXhhbXBsZS5jb206c2VjcmV0").unwrap();
        assert_eq!(c.login, "jo@example.com");
        assert_eq!(c.password, "secret");
        assert_eq!(c.user(), "jo@example.com");
        assert_eq!(c.domain(), Some("example.com"));

        assert!(BasicCredentials::parse("Bearer abc").is_err());
        assert!(BasicCredentials::parse("Basic !!!").is_err());
        assert!(BasicCredentials::parse("Basic am8=").is_err()); // "jo": no ':'
        assert!(BasicCredentials::parse("Basic OnB3").is_err()); // ":pw": empty user
    }
}
