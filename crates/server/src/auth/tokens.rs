//! Access tokens (short-lived JWTs, HS256 pinned) and refresh tokens (opaque, 256 random bits,
//! stored as SHA-256 hashes, carried in an HttpOnly cookie scoped to `/api/auth`).

use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use madang_protocol::Id;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const REFRESH_COOKIE: &str = "madang_refresh";

#[derive(Serialize, Deserialize)]
struct Claims {
    /// The user id.
    sub: String,
    /// The login session: logging out or a stolen refresh token revokes it.
    sid: String,
    iat: i64,
    exp: i64,
}

pub struct AccessTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl_seconds: i64,
}

impl AccessTokens {
    /// `secret` is the server-wide signing key (at least 256 random bits).
    pub fn new(secret: &[u8], ttl_seconds: i64) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub"]);
        AccessTokens {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl_seconds,
        }
    }

    pub fn ttl_seconds(&self) -> i64 {
        self.ttl_seconds
    }

    pub fn issue(&self, user_id: Id, session_id: Id, now_ms: i64) -> String {
        let iat = now_ms / 1000;
        let claims = Claims {
            sub: user_id.to_string(),
            sid: session_id.to_string(),
            iat,
            exp: iat + self.ttl_seconds,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing with an in-memory key cannot fail")
    }

    /// The (user, login session) a valid token names; `None` for anything else.
    pub fn verify(&self, token: &str) -> Option<(Id, Id)> {
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()?
            .claims;
        Some((claims.sub.parse().ok()?, claims.sid.parse().ok()?))
    }
}

/// A freshly made refresh token: the secret for the cookie and the hash for the database.
pub struct RefreshToken {
    pub secret: String,
    pub hash: String,
}

impl RefreshToken {
    pub fn generate() -> Self {
        let secret = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        let hash = Self::hash_of(&secret);
        RefreshToken { secret, hash }
    }

    pub fn hash_of(secret: &str) -> String {
        let digest = Sha256::digest(secret.as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// `Set-Cookie` value carrying a refresh token. `Secure` when the server is reached over
/// https; `SameSite=Lax` plus the origin check on the cookie routes stops cross-site use.
pub fn refresh_cookie(secret: &str, max_age_seconds: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{REFRESH_COOKIE}={secret}; Path=/api/auth; Max-Age={max_age_seconds}; HttpOnly; SameSite=Lax{secure}"
    )
}

pub fn removal_cookie(secure: bool) -> String {
    refresh_cookie("", 0, secure)
}

pub fn refresh_token_from_cookies(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == REFRESH_COOKIE && !value.is_empty())
        .map(|(_, value)| value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_tokens_verify_only_when_signed_by_us_and_unexpired() {
        let tokens = AccessTokens::new(&[7; 32], 900);
        let long_ago = 1_700_000_000_000;
        let expired = tokens.issue(Id(11), Id(22), long_ago);
        assert_eq!(tokens.verify(&expired), None);
        let fresh = tokens.issue(
            Id(11),
            Id(22),
            jsonwebtoken::get_current_timestamp() as i64 * 1000,
        );
        assert_eq!(tokens.verify(&fresh), Some((Id(11), Id(22))));
        let other = AccessTokens::new(&[8; 32], 900);
        assert_eq!(other.verify(&fresh), None);
        assert_eq!(tokens.verify("not.a.token"), None);
    }

    #[test]
    fn tokens_signed_with_another_algorithm_are_refused() {
        let tokens = AccessTokens::new(&[7; 32], 900);
        let now = jsonwebtoken::get_current_timestamp() as i64;
        let claims = Claims {
            sub: "11".into(),
            sid: "22".into(),
            iat: now,
            exp: now + 60,
        };
        let hs512 = jsonwebtoken::encode(
            &Header::new(Algorithm::HS512),
            &claims,
            &EncodingKey::from_secret(&[7; 32]),
        )
        .unwrap();
        assert_eq!(tokens.verify(&hs512), None);
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let a = RefreshToken::generate();
        let b = RefreshToken::generate();
        assert_ne!(a.secret, b.secret);
        assert_eq!(a.secret.len(), 43, "256 bits in unpadded base64url");
        assert_eq!(a.hash, RefreshToken::hash_of(&a.secret));
        assert_eq!(a.hash.len(), 64);
    }

    #[test]
    fn the_refresh_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            "theme=dark; madang_refresh=abc; other=1".parse().unwrap(),
        );
        assert_eq!(refresh_token_from_cookies(&headers), Some("abc".into()));
        headers.insert(COOKIE, "madang_refresh=".parse().unwrap());
        assert_eq!(refresh_token_from_cookies(&headers), None);
    }
}
