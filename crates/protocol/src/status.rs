//! Status codes: the common ones of MS-ASCMD 2.2.2 (101–177), valid in any command's
//! top-level Status element, and each command's own (MS-ASCMD 2.2.3.177.x, MS-ASPROV 2.2.2.54).
//!
//! Every per-command enum also carries the common codes (`Common(CommonStatus)`), because a
//! server answers any command with, say, 142 DeviceNotProvisioned in that command's Status.

use crate::macros::code_enum;
use std::fmt;

macro_rules! common_status {
    ($( $variant:ident = $code:literal, )*) => {
        /// The common status codes of MS-ASCMD 2.2.2, named as the spec names them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[allow(non_camel_case_types)] // IRM_* and BodyPart_* are the spec's names
        pub enum CommonStatus {
            $( $variant, )*
        }

        impl CommonStatus {
            /// Every common status, in code order.
            pub const ALL: &'static [CommonStatus] = &[ $( CommonStatus::$variant, )* ];

            pub const fn code(self) -> u16 {
                match self {
                    $( CommonStatus::$variant => $code, )*
                }
            }

            /// The spec's name, e.g. "DeviceNotProvisioned".
            pub const fn name(self) -> &'static str {
                match self {
                    $( CommonStatus::$variant => stringify!($variant), )*
                }
            }

            pub fn from_code(code: u16) -> Option<CommonStatus> {
                match code {
                    $( $code => Some(CommonStatus::$variant), )*
                    _ => None,
                }
            }
        }
    };
}

common_status! {
    InvalidContent = 101,
    InvalidWBXML = 102,
    InvalidXML = 103,
    InvalidDateTime = 104,
    InvalidCombinationOfIDs = 105,
    InvalidIDs = 106,
    InvalidMIME = 107,
    DeviceIdMissingOrInvalid = 108,
    DeviceTypeMissingOrInvalid = 109,
    ServerError = 110,
    ServerErrorRetryLater = 111,
    ActiveDirectoryAccessDenied = 112,
    MailboxQuotaExceeded = 113,
    MailboxServerOffline = 114,
    SendQuotaExceeded = 115,
    MessageRecipientUnresolved = 116,
    MessageReplyNotAllowed = 117,
    MessagePreviouslySent = 118,
    MessageHasNoRecipient = 119,
    MailSubmissionFailed = 120,
    MessageReplyFailed = 121,
    AttachmentIsTooLarge = 122,
    UserHasNoMailbox = 123,
    UserCannotBeAnonymous = 124,
    UserPrincipalCouldNotBeFound = 125,
    UserDisabledForSync = 126,
    UserOnNewMailboxCannotSync = 127,
    UserOnLegacyMailboxCannotSync = 128,
    DeviceIsBlockedForThisUser = 129,
    AccessDenied = 130,
    AccountDisabled = 131,
    SyncStateNotFound = 132,
    SyncStateLocked = 133,
    SyncStateCorrupt = 134,
    SyncStateAlreadyExists = 135,
    SyncStateVersionInvalid = 136,
    CommandNotSupported = 137,
    VersionNotSupported = 138,
    DeviceNotFullyProvisionable = 139,
    RemoteWipeRequested = 140,
    LegacyDeviceOnStrictPolicy = 141,
    DeviceNotProvisioned = 142,
    PolicyRefresh = 143,
    InvalidPolicyKey = 144,
    ExternallyManagedDevicesNotAllowed = 145,
    NoRecurrenceInCalendar = 146,
    UnexpectedItemClass = 147,
    RemoteServerHasNoSSL = 148,
    InvalidStoredRequest = 149,
    ItemNotFound = 150,
    TooManyFolders = 151,
    NoFoldersFound = 152,
    ItemsLostAfterMove = 153,
    FailureInMoveOperation = 154,
    MoveCommandDisallowedForNonPersistentMoveAction = 155,
    MoveCommandInvalidDestinationFolder = 156,
    AvailabilityTooManyRecipients = 160,
    AvailabilityDLLimitReached = 161,
    AvailabilityTransientFailure = 162,
    AvailabilityFailure = 163,
    BodyPartPreferenceTypeNotSupported = 164,
    DeviceInformationRequired = 165,
    InvalidAccountId = 166,
    AccountSendDisabled = 167,
    IRM_FeatureDisabled = 168,
    IRM_TransientError = 169,
    IRM_PermanentError = 170,
    IRM_InvalidTemplateID = 171,
    IRM_OperationNotPermitted = 172,
    NoPicture = 173,
    PictureTooLarge = 174,
    PictureLimitReached = 175,
    BodyPart_ConversationTooLarge = 176,
    MaximumDevicesReached = 177,
}

impl fmt::Display for CommonStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code())
    }
}

code_enum! {
    /// Status of a Provision response (MS-ASPROV 2.2.2.54.2).
    ProvisionStatus: u16 {
        Success = 1,
        ProtocolError = 2,
        GeneralServerError = 3,
    }
    common
}

code_enum! {
    /// Status of a Policy in a Provision response (MS-ASPROV 2.2.2.54.1).
    PolicyStatus: u16 {
        Success = 1,
        /// There is no policy for this client.
        NoPolicy = 2,
        UnknownPolicyType = 3,
        /// The policy data on the server is corrupted.
        PolicyDataCorrupt = 4,
        /// The client is acknowledging the wrong policy key.
        WrongPolicyKey = 5,
    }
}

code_enum! {
    /// The client's result of applying a policy, in an acknowledgment Provision request
    /// (MS-ASPROV 2.2.2.54.1).
    PolicyAckStatus: u16 {
        Success = 1,
        /// Partial success (at least the PIN was enabled).
        PartialSuccess = 2,
        /// The client did not apply the policy at all.
        NotApplied = 3,
        /// The client claims to have been provisioned by a third party.
        ThirdParty = 4,
    }
}

code_enum! {
    /// The client's result of a remote wipe, in a RemoteWipe or AccountOnlyRemoteWipe
    /// acknowledgment (MS-ASPROV 2.2.2.54.3, 2.2.2.54.4).
    RemoteWipeAckStatus: u16 {
        Success = 1,
        Failure = 2,
    }
}

code_enum! {
    /// Status of FolderSync (MS-ASCMD 2.2.3.177.5).
    FolderSyncStatus: u16 {
        Success = 1,
        /// An error occurred on the server.
        ServerError = 6,
        /// Synchronization key mismatch or invalid synchronization key.
        InvalidSyncKey = 9,
        /// Incorrectly formatted request.
        MalformedRequest = 10,
        /// An unknown error occurred.
        UnknownError = 11,
        /// Code unknown (an unusual back-end issue).
        CodeUnknown = 12,
    }
    common
}

code_enum! {
    /// Status of FolderCreate (MS-ASCMD 2.2.3.177.3).
    FolderCreateStatus: u16 {
        Success = 1,
        /// A folder with that name already exists in the parent.
        FolderExists = 2,
        /// The parent is a special (system) folder that cannot hold this folder.
        SpecialFolder = 3,
        /// The parent folder does not exist.
        ParentNotFound = 5,
        ServerError = 6,
        InvalidSyncKey = 9,
        MalformedRequest = 10,
        UnknownError = 11,
        CodeUnknown = 12,
    }
    common
}

code_enum! {
    /// Status of FolderUpdate (MS-ASCMD 2.2.3.177.6).
    FolderUpdateStatus: u16 {
        Success = 1,
        /// A folder with that name already exists in the parent.
        FolderExists = 2,
        /// The folder is a special (system) folder and cannot be renamed or moved.
        SpecialFolder = 3,
        /// The folder does not exist.
        FolderNotFound = 4,
        /// The new parent folder does not exist.
        ParentNotFound = 5,
        ServerError = 6,
        InvalidSyncKey = 9,
        MalformedRequest = 10,
        UnknownError = 11,
    }
    common
}

code_enum! {
    /// Status of FolderDelete (MS-ASCMD 2.2.3.177.4).
    FolderDeleteStatus: u16 {
        Success = 1,
        /// The folder is a special (system) folder and cannot be deleted.
        SpecialFolder = 3,
        /// The folder does not exist.
        FolderNotFound = 4,
        ServerError = 6,
        InvalidSyncKey = 9,
        MalformedRequest = 10,
        UnknownError = 11,
    }
    common
}

code_enum! {
    /// Status of Ping (MS-ASCMD 2.2.3.177.11).
    PingStatus: u16 {
        /// The heartbeat interval expired before any change.
        Expired = 1,
        /// Changes occurred in at least one of the monitored folders.
        ChangesFound = 2,
        /// The request omitted parameters the server has not kept from a previous Ping.
        MissingParameters = 3,
        /// Syntax error in the request.
        ProtocolError = 4,
        /// The heartbeat interval is outside the allowed range (HeartbeatInterval gives the
        /// limit).
        HeartbeatOutOfBounds = 5,
        /// Too many folders to monitor (MaxFolders gives the limit).
        TooManyFolders = 6,
        /// The folder hierarchy is out of date; the client issues FolderSync.
        FolderSyncRequired = 7,
        ServerError = 8,
    }
    common
}

code_enum! {
    /// Status of GetItemEstimate (MS-ASCMD 2.2.3.177.7).
    GetItemEstimateStatus: u16 {
        Success = 1,
        /// A collection was invalid or not found.
        InvalidCollection = 2,
        /// The collection has not been synchronized yet (sync state not primed).
        SyncStateNotPrimed = 3,
        /// The synchronization key was invalid.
        InvalidSyncKey = 4,
    }
    common
}

code_enum! {
    /// Status of one Move in MoveItems (MS-ASCMD 2.2.3.177.10).
    MoveItemsStatus: u16 {
        /// Invalid source collection ID or invalid source item ID.
        InvalidSourceId = 1,
        /// Invalid destination collection ID.
        InvalidDestinationId = 2,
        Success = 3,
        /// Source and destination collection IDs are the same.
        SameSourceAndDestination = 4,
        /// The move failed (e.g. more than one item matched, or a server failure).
        MoveFailure = 5,
        /// Source or destination item was locked.
        Locked = 7,
    }
    common
}

code_enum! {
    /// Status of ItemOperations and of each of its operations (MS-ASCMD 2.2.3.177.8).
    ItemOperationsStatus: u16 {
        Success = 1,
        /// Protocol error: the request was malformed.
        ProtocolError = 2,
        ServerError = 3,
        /// Document library access: the URI is bad.
        DocumentLibraryBadUri = 4,
        DocumentLibraryAccessDenied = 5,
        DocumentLibraryNotFound = 6,
        DocumentLibraryConnectionFailed = 7,
        /// The byte range is invalid or too large.
        InvalidByteRange = 8,
        /// The store is unknown or unsupported.
        UnknownStore = 9,
        /// The file is empty.
        EmptyFile = 10,
        /// The requested data size is too large.
        DataTooLarge = 11,
        /// Failed to download the file because of an I/O failure.
        IoFailure = 12,
        /// Mailbox fetch: the item failed conversion.
        ConversionFailure = 14,
        /// Invalid attachment or attachment ID.
        InvalidAttachment = 15,
        /// Access to the resource is denied.
        ResourceAccessDenied = 16,
        /// Partial success; the command completed partially (EmptyFolderContents).
        PartialSuccess = 17,
        /// Credentials are required to complete the operation.
        CredentialsRequired = 18,
    }
    common
}

code_enum! {
    /// Status of Settings and of each of its parts (MS-ASCMD 2.2.3.177.15).
    SettingsStatus: u16 {
        Success = 1,
        ProtocolError = 2,
        AccessDenied = 3,
        /// The server is unavailable.
        ServerUnavailable = 4,
        InvalidArguments = 5,
        ConflictingArguments = 6,
        /// The request was denied by policy.
        DeniedByPolicy = 7,
    }
    common
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_codes_round_trip_and_are_named() {
        assert_eq!(CommonStatus::ALL.len(), 56 + 18);
        for s in CommonStatus::ALL {
            assert_eq!(CommonStatus::from_code(s.code()), Some(*s));
            assert!((101..=177).contains(&s.code()));
        }
        assert_eq!(CommonStatus::DeviceNotProvisioned.code(), 142);
        assert_eq!(
            CommonStatus::MaximumDevicesReached.name(),
            "MaximumDevicesReached"
        );
        assert_eq!(CommonStatus::from_code(157), None);
        assert_eq!(CommonStatus::from_code(100), None);
    }

    #[test]
    fn command_statuses_carry_common_codes() {
        assert_eq!(
            FolderSyncStatus::from_code(9),
            Some(FolderSyncStatus::InvalidSyncKey)
        );
        assert_eq!(
            FolderSyncStatus::from_code(142),
            Some(FolderSyncStatus::Common(CommonStatus::DeviceNotProvisioned))
        );
        assert_eq!(
            FolderSyncStatus::from(CommonStatus::InvalidPolicyKey).code(),
            144
        );
        assert_eq!(FolderSyncStatus::from_code(2), None);
        assert_eq!(MoveItemsStatus::Success.code(), 3);
        assert_eq!(PingStatus::ChangesFound.to_string(), "2");
        assert_eq!(PolicyStatus::from_code(142), None);
    }
}
