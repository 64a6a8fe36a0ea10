//! WeCom's wire format for patrol: request and response types, and the one table of error codes.
//!
//! These types mirror WeCom's JSON exactly: field names are WeCom's, in WeCom's order, so that a
//! value serialized here is byte-for-byte what WeCom's documentation shows. They depend on serde
//! only, so a client can use them without pulling in the server.

pub mod admin;
pub mod echo;
mod errcode;
pub mod grid;
pub mod lenient;
pub mod media;
pub mod patrol;
pub mod stats;
pub mod token;

pub use errcode::ErrCode;

use serde::{Deserialize, Serialize};

/// The envelope of every answer: `{"errcode": N, "errmsg": "..."}`.
///
/// Successful answers carry the same two fields in front of their payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Envelope {
    #[serde(default, deserialize_with = "lenient::int")]
    pub errcode: i64,
    #[serde(default, deserialize_with = "lenient::string")]
    pub errmsg: String,
}
