//! The EAS commands: their names in the plain query's `Cmd=` (MS-ASHTTP 2.2.1.1.1.2) and
//! their codes in the base64 query's Command code field (MS-ASHTTP 2.2.1.1.1.1.2).

use crate::version::ProtocolVersion;
use std::fmt;

/// An ActiveSync command (MS-ASCMD 2.2.1), Autodiscover aside (it has its own endpoint).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Command {
    Sync,
    SendMail,
    SmartForward,
    SmartReply,
    GetAttachment,
    FolderSync,
    FolderCreate,
    FolderDelete,
    FolderUpdate,
    MoveItems,
    GetItemEstimate,
    MeetingResponse,
    Search,
    Settings,
    Ping,
    ItemOperations,
    Provision,
    ResolveRecipients,
    ValidateCert,
    Find,
}

impl Command {
    /// Every command, in command-code order.
    pub const ALL: [Command; 20] = [
        Command::Sync,
        Command::SendMail,
        Command::SmartForward,
        Command::SmartReply,
        Command::GetAttachment,
        Command::FolderSync,
        Command::FolderCreate,
        Command::FolderDelete,
        Command::FolderUpdate,
        Command::MoveItems,
        Command::GetItemEstimate,
        Command::MeetingResponse,
        Command::Search,
        Command::Settings,
        Command::Ping,
        Command::ItemOperations,
        Command::Provision,
        Command::ResolveRecipients,
        Command::ValidateCert,
        Command::Find,
    ];

    /// The command's name, as in `Cmd=` of the plain query.
    pub const fn name(self) -> &'static str {
        match self {
            Command::Sync => "Sync",
            Command::SendMail => "SendMail",
            Command::SmartForward => "SmartForward",
            Command::SmartReply => "SmartReply",
            Command::GetAttachment => "GetAttachment",
            Command::FolderSync => "FolderSync",
            Command::FolderCreate => "FolderCreate",
            Command::FolderDelete => "FolderDelete",
            Command::FolderUpdate => "FolderUpdate",
            Command::MoveItems => "MoveItems",
            Command::GetItemEstimate => "GetItemEstimate",
            Command::MeetingResponse => "MeetingResponse",
            Command::Search => "Search",
            Command::Settings => "Settings",
            Command::Ping => "Ping",
            Command::ItemOperations => "ItemOperations",
            Command::Provision => "Provision",
            Command::ResolveRecipients => "ResolveRecipients",
            Command::ValidateCert => "ValidateCert",
            Command::Find => "Find",
        }
    }

    /// The command's code in the base64 query (MS-ASHTTP 2.2.1.1.1.1.2).
    pub const fn code(self) -> u8 {
        match self {
            Command::Sync => 0,
            Command::SendMail => 1,
            Command::SmartForward => 2,
            Command::SmartReply => 3,
            Command::GetAttachment => 4,
            Command::FolderSync => 9,
            Command::FolderCreate => 10,
            Command::FolderDelete => 11,
            Command::FolderUpdate => 12,
            Command::MoveItems => 13,
            Command::GetItemEstimate => 14,
            Command::MeetingResponse => 15,
            Command::Search => 16,
            Command::Settings => 17,
            Command::Ping => 18,
            Command::ItemOperations => 19,
            Command::Provision => 20,
            Command::ResolveRecipients => 21,
            Command::ValidateCert => 22,
            Command::Find => 23,
        }
    }

    /// The command with this name. Clients spell names as the spec does; the match is
    /// case-insensitive all the same, as servers in the field accept.
    pub fn from_name(name: &str) -> Option<Command> {
        Self::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(name))
    }

    /// The command with this base64 command code.
    pub fn from_code(code: u8) -> Option<Command> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }

    /// Whether `version` has this command (the Protocol Versions table of each command's
    /// MS-ASCMD section): GetAttachment ends with 14.1 (2.2.1.7), Find starts with 16.1 (2.2.1.2).
    pub fn supported_in(self, version: ProtocolVersion) -> bool {
        match self {
            Command::GetAttachment => version <= ProtocolVersion::V14_1,
            Command::Find => version >= ProtocolVersion::V16_1,
            _ => true,
        }
    }

    /// The value of the MS-ASProtocolCommands header of an OPTIONS response
    /// (MS-ASHTTP 2.2.4.1.2.1): every command's name, comma-separated.
    pub fn protocol_commands_header() -> String {
        Self::ALL.map(Command::name).join(",")
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_codes_round_trip() {
        for c in Command::ALL {
            assert_eq!(Command::from_name(c.name()), Some(c));
            assert_eq!(Command::from_code(c.code()), Some(c));
        }
    }

    #[test]
    fn codes_match_ms_ashttp_table() {
        let table: &[(u8, &str)] = &[
            (0, "Sync"),
            (1, "SendMail"),
            (2, "SmartForward"),
            (3, "SmartReply"),
            (4, "GetAttachment"),
            (9, "FolderSync"),
            (10, "FolderCreate"),
            (11, "FolderDelete"),
            (12, "FolderUpdate"),
            (13, "MoveItems"),
            (14, "GetItemEstimate"),
            (15, "MeetingResponse"),
            (16, "Search"),
            (17, "Settings"),
            (18, "Ping"),
            (19, "ItemOperations"),
            (20, "Provision"),
            (21, "ResolveRecipients"),
            (22, "ValidateCert"),
            (23, "Find"),
        ];
        for (code, name) in table {
            assert_eq!(Command::from_code(*code).map(Command::name), Some(*name));
        }
        for code in [5u8, 6, 7, 8, 24, 255] {
            assert_eq!(Command::from_code(code), None);
        }
    }

    #[test]
    fn names_are_case_insensitive() {
        assert_eq!(Command::from_name("foldersync"), Some(Command::FolderSync));
        assert_eq!(Command::from_name("PING"), Some(Command::Ping));
        assert_eq!(Command::from_name("Autodiscover"), None);
        assert_eq!(Command::from_name(""), None);
    }

    #[test]
    fn version_support() {
        assert!(Command::GetAttachment.supported_in(ProtocolVersion::V14_1));
        assert!(!Command::GetAttachment.supported_in(ProtocolVersion::V16_0));
        assert!(!Command::Find.supported_in(ProtocolVersion::V16_0));
        assert!(Command::Find.supported_in(ProtocolVersion::V16_1));
        assert!(Command::Sync.supported_in(ProtocolVersion::V12_1));
    }

    #[test]
    fn protocol_commands_header_lists_every_command() {
        let header = Command::protocol_commands_header();
        assert!(header.starts_with("Sync,SendMail,"));
        assert_eq!(header.split(',').count(), Command::ALL.len());
    }
}
