//! Authenticating a request, and the checks that go with cookie-carried credentials.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, HOST, ORIGIN};
use axum::http::request::Parts;
use madang_protocol::Id;
use madang_protocol::rest::ErrorCode;

use crate::error::ApiError;
use crate::state::AppState;

/// The signed-in caller of a request: a valid access token whose login session is live.
#[derive(Clone, Copy, Debug)]
pub struct Session {
    pub user_id: Id,
    pub session_id: Id,
}

impl FromRequestParts<AppState> for Session {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or_else(ApiError::unauthorized)?;
        let (user_id, session_id) = state
            .tokens
            .verify(token.trim())
            .ok_or_else(ApiError::unauthorized)?;
        let login_user_id = state
            .login_sessions
            .user_of(&state.store, session_id.0)
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        if login_user_id != user_id.0 {
            return Err(ApiError::unauthorized());
        }
        let session = Session {
            user_id,
            session_id,
        };
        state.limits.per_user(session.user_id)?;
        Ok(session)
    }
}

/// The client's address: the socket peer, or the last `X-Forwarded-For` hop when the
/// operator says a reverse proxy stands in front.
pub fn client_ip(
    headers: &HeaderMap,
    peer: Option<&ConnectInfo<SocketAddr>>,
    trust_forwarded_for: bool,
) -> IpAddr {
    let forwarded = trust_forwarded_for
        .then(|| {
            headers
                .get("x-forwarded-for")?
                .to_str()
                .ok()?
                .rsplit(',')
                .next()?
                .trim()
                .parse()
                .ok()
        })
        .flatten();
    forwarded
        .or_else(|| peer.map(|ConnectInfo(addr)| addr.ip()))
        .unwrap_or(IpAddr::from([0, 0, 0, 0]))
}

/// Refuses a browser request from another site. Requests with no `Origin` (bots, curl) pass:
/// only browsers attach cookies on another site's behalf, and browsers always send `Origin`
/// on POST. Without a configured public URL, the origin must name the host the request was
/// sent to.
pub fn require_same_origin(
    headers: &HeaderMap,
    public_origin: Option<&str>,
) -> Result<(), ApiError> {
    let Some(origin) = headers.get(ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or_default();
    let same = match public_origin {
        Some(expected) => origin.eq_ignore_ascii_case(expected),
        None => {
            let host = headers
                .get(HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or_default();
            let origin_host = origin
                .split_once("://")
                .map(|(_, rest)| rest)
                .unwrap_or_default();
            !host.is_empty() && origin_host.eq_ignore_ascii_case(host)
        }
    };
    if same {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::CrossOriginRefused,
            "requests from another site's pages are refused",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn origin_must_match_the_public_url_or_the_host() {
        assert!(require_same_origin(&headers(&[]), None).is_ok());
        assert!(
            require_same_origin(
                &headers(&[
                    ("origin", "http://localhost:8080"),
                    ("host", "localhost:8080")
                ]),
                None
            )
            .is_ok()
        );
        assert!(
            require_same_origin(
                &headers(&[
                    ("origin", "https://evil.example"),
                    ("host", "localhost:8080")
                ]),
                None
            )
            .is_err()
        );
        assert!(
            require_same_origin(
                &headers(&[("origin", "null"), ("host", "localhost:8080")]),
                None
            )
            .is_err()
        );
        assert!(
            require_same_origin(
                &headers(&[("origin", "https://chat.example")]),
                Some("https://chat.example")
            )
            .is_ok()
        );
        assert!(
            require_same_origin(
                &headers(&[("origin", "http://chat.example")]),
                Some("https://chat.example")
            )
            .is_err()
        );
    }

    #[test]
    fn forwarded_for_is_used_only_when_trusted() {
        let peer = ConnectInfo(SocketAddr::from(([10, 0, 0, 1], 5000)));
        let h = headers(&[("x-forwarded-for", "203.0.113.9, 198.51.100.7")]);
        assert_eq!(
            client_ip(&h, Some(&peer), false),
            IpAddr::from([10, 0, 0, 1])
        );
        assert_eq!(
            client_ip(&h, Some(&peer), true),
            IpAddr::from([198, 51, 100, 7])
        );
    }
}
