//! Who is calling: password hashing, access tokens, refresh tokens and the cookie that
//! carries them, and the [`Session`] extractor that authenticates a request.

mod password;
mod session;
mod tokens;

pub use password::PasswordHasher;
pub use session::{Session, client_ip, require_same_origin};
pub use tokens::{
    AccessTokens, RefreshToken, refresh_cookie, refresh_token_from_cookies, removal_cookie,
};
