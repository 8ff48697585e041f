//! Who is calling: password hashing, access tokens, refresh tokens and the cookie that
//! carries them, the login sessions known to be live, and the [`Session`] extractor that
//! authenticates a request.

mod login_sessions;
mod password;
mod session;
mod tokens;

pub use login_sessions::LoginSessions;
pub use password::PasswordHasher;
pub use session::{Session, client_ip, require_same_origin};
pub use tokens::{
    AccessTokens, RefreshToken, refresh_cookie, refresh_token_from_cookies, removal_cookie,
};
