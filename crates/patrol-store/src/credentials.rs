//! What a backend stores of credentials: never an app secret nor an access token in clear.
//!
//! - An app secret is stored as its BLAKE3 hash ([`secret_hash`]).
//! - An access token is stored as a keyed hash ([`token_hash`], keyed by the database's own
//!   random token key) beside a random nonce. The token itself is derived from the app's secret
//!   and the nonce ([`token_for`]), so `gettoken` can hand the same live token out again when
//!   the caller proves the secret, while the database alone (a copy, a backup, another local
//!   user) yields neither a token nor a way to make one. A backend may put in front of the
//!   derived part what finds the token's row (the PostgreSQL backend puts its corp's key).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The BLAKE3 hash of an app secret.
pub fn secret_hash(secret: &str) -> [u8; 32] {
    *blake3::hash(secret.as_bytes()).as_bytes()
}

/// The access token an app with this secret gets for a token row with this nonce: 48 bytes of a
/// keyed BLAKE3, 64 URL-safe characters (unguessable, at most 512 bytes, as decisions.md asks).
pub fn token_for(secret: &str, nonce: &[u8; 32]) -> String {
    let key = blake3::derive_key(
        "patrol 2026 access token from app secret",
        secret.as_bytes(),
    );
    let mut bytes = [0u8; 48];
    blake3::Hasher::new_keyed(&key)
        .update(nonce)
        .finalize_xof()
        .fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What is stored to find a token again: its BLAKE3 keyed by the database's token key.
pub fn token_hash(token_key: &[u8; 32], token: &str) -> [u8; 32] {
    *blake3::keyed_hash(token_key, token.as_bytes()).as_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_depends_on_the_secret_and_the_nonce() {
        let token = token_for("secret", &[1; 32]);
        assert_eq!(token.len(), 64);
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(token, token_for("secret", &[1; 32]));
        assert_ne!(token, token_for("secret", &[2; 32]));
        assert_ne!(token, token_for("secret2", &[1; 32]));
    }

    #[test]
    fn the_stored_hash_depends_on_the_key() {
        assert_ne!(token_hash(&[1; 32], "t"), token_hash(&[2; 32], "t"));
        assert_ne!(token_hash(&[1; 32], "t").as_slice(), b"t".as_slice());
    }
}
