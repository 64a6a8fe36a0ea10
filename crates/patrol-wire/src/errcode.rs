//! The table of WeCom error codes patrol answers with or a client must recognise.

/// Defines [`ErrCode`] from one table: variant, WeCom's number, WeCom's short English message.
macro_rules! errcodes {
    ($($(#[$doc:meta])* $variant:ident = $code:literal, $message:literal;)*) => {
        /// A WeCom error code. Branch on the number, never on the message text.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrCode {
            $($(#[$doc])* $variant,)*
        }

        impl ErrCode {
            /// Every code of the table, in table order.
            pub const ALL: &'static [ErrCode] = &[$(ErrCode::$variant,)*];

            /// WeCom's number for this code.
            pub const fn code(self) -> i64 {
                match self {
                    $(ErrCode::$variant => $code,)*
                }
            }

            /// WeCom's default message for this code.
            pub const fn message(self) -> &'static str {
                match self {
                    $(ErrCode::$variant => $message,)*
                }
            }

            /// The variant for a number, if the table knows it.
            pub fn from_code(code: i64) -> Option<ErrCode> {
                match code {
                    $($code => Some(ErrCode::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

errcodes! {
    /// System busy: a transient failure; retry with backoff.
    SystemBusy = -1, "system busy";
    /// Success.
    Ok = 0, "ok";
    /// The secret does not match the corp, or the app is disabled (gettoken).
    InvalidCredential = 40001, "invalid credential";
    /// The upload's `type` is missing or not image, voice, video or file (media/upload).
    InvalidMediaType = 40004, "invalid media type";
    /// The upload's bytes are not of its type: an image JPG or PNG, a voice AMR, a video MP4
    /// (media/upload).
    InvalidFileType = 40005, "invalid file type";
    /// The upload has 1 to 5 bytes, or a voice or a file is over its limit (media/upload).
    InvalidFileSize = 40006, "invalid file size";
    /// The media id is unknown or expired (media/get).
    InvalidMediaId = 40007, "invalid media_id";
    /// An image over 10 MB (media/upload).
    InvalidImageSize = 40009, "invalid image size";
    /// A video over 10 MB (media/upload).
    InvalidVideoSize = 40011, "invalid video size";
    /// A userid that is no member of the corp where one must be (grid/add, grid/update: no
    /// admin given is a member).
    InvalidUserId = 40003, "invalid userid";
    /// The corpid is unknown (gettoken).
    InvalidCorpId = 40013, "invalid corpid";
    /// The access token was never issued, or is malformed.
    InvalidAccessToken = 40014, "invalid access_token";
    /// The body is not valid JSON, a field has the wrong type or an invalid value, or an id is
    /// unknown.
    InvalidParameter = 40058, "invalid Request Parameter";
    /// A required parameter is missing or empty.
    ParameterMissing = 40063, "some parameters are empty";
    /// No `access_token` in the query string.
    AccessTokenMissing = 41001, "access_token missing";
    /// No `corpid` (gettoken).
    CorpIdMissing = 41002, "corpid missing";
    /// No `corpsecret` (gettoken).
    CorpSecretMissing = 41004, "corpsecret missing";
    /// No multipart part named `media` (media/upload).
    MediaDataMissing = 41005, "media data missing";
    /// No `media_id` (media/get).
    MediaIdMissing = 41006, "media_id missing";
    /// The access token has expired: fetch a new one.
    AccessTokenExpired = 42001, "access_token expired";
    /// The upload is empty (media/upload).
    EmptyMediaData = 44001, "empty media data";
    /// Too many calls: back off.
    ApiFreqOutOfLimit = 45009, "api freq out of limit";
    /// Too many concurrent calls: back off.
    ApiConcurrentOutOfLimit = 45033, "api concurrent out of limit";
    /// The app may not call this API.
    ApiForbidden = 48002, "api forbidden";
    /// The userid is no member of the corp (get_user_status, grid/get_user_grid_info).
    UserIdNotFound = 60111, "userid not found";
    /// The category id is unknown, or not a level-1 category where a parent is asked for
    /// (report/grid/*_cata).
    InvalidCategoryId = 90603, "invalid category_id";
    /// The grid id is unknown (report/grid/*), as the parent too.
    InvalidGridId = 90604, "invalid grid_id";
    /// A grid has at most 20 admins.
    GridAdminsOverLimit = 90606, "too many grid admins";
    /// A grid with members (or with child grids or orders) cannot be deleted (grid/delete).
    GridNotEmpty = 90607, "grid with members cannot be deleted";
    /// A sibling grid has the name (grid/add, grid/update).
    GridNameTaken = 90608, "grid name duplicated";
    /// A grid has at most 100 members.
    GridMembersOverLimit = 90609, "too many grid members";
    /// A grid has too many members (WeCom's second code for it; patrol answers 90609).
    GridMembersOverLimitToo = 90610, "too many grid members";
    /// A user is an admin of at most 10 grids.
    ManagedGridsOverLimit = 90613, "user manages too many grids";
    /// A file over 20 MB read without a `Range`, or a range over 20 MB (media/get).
    MediaTooLargeWithoutRange = 830002, "media too large: fetch it in ranges of at most 20 MB";
}

impl std::fmt::Display for ErrCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.code(), self.message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_through_its_number() {
        for &code in ErrCode::ALL {
            assert_eq!(ErrCode::from_code(code.code()), Some(code));
        }
        assert_eq!(ErrCode::from_code(12345), None);
    }

    #[test]
    fn numbers_are_unique() {
        let mut numbers: Vec<i64> = ErrCode::ALL.iter().map(|c| c.code()).collect();
        numbers.sort_unstable();
        numbers.dedup();
        assert_eq!(numbers.len(), ErrCode::ALL.len());
    }
}
