//! `GET /cgi-bin/gettoken?corpid=ID&corpsecret=SECRET`.

use axum::extract::State;
use axum::http::request::Parts;
use axum::response::Response;
use patrol_domain::TokenGrant;
use patrol_wire::token::GetTokenResponse;
use rand::RngCore;

use crate::AppState;
use crate::error::ApiError;
use crate::extract::query_param;
use crate::handlers::{json_response, ok_message};

/// The nonce of a new token: 32 bytes from the OS-seeded generator.
fn new_nonce() -> [u8; 32] {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

pub async fn gettoken(State(state): State<AppState>, parts: Parts) -> Result<Response, ApiError> {
    let secret = query_param(&parts, "corpsecret").ok_or(ApiError::CorpSecretMissing)?;
    let corpid = query_param(&parts, "corpid").ok_or(ApiError::CorpIdMissing)?;
    let now = state.clock().now();
    let grant = state
        .store
        .grant_token(&corpid, &secret, now, state.config.token_ttl, new_nonce())
        .await?;
    match grant {
        TokenGrant::Granted { token, expires_at } => json_response(&GetTokenResponse {
            errcode: 0,
            errmsg: ok_message(false),
            access_token: token,
            expires_in: expires_at - now,
        }),
        TokenGrant::UnknownCorp => Err(ApiError::UnknownCorp),
        TokenGrant::BadSecret => Err(ApiError::BadSecret),
    }
}
