//! Short-lived TURN credentials in coturn's `use-auth-secret` scheme (the "TURN REST API"
//! draft): the username is `<expiry unix seconds>:<user id>` and the password is
//! base64(HMAC-SHA1(shared secret, username)). coturn recomputes it from the same secret, so
//! nothing is stored and a leaked credential dies at its expiry.

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

/// The credential for `username` under `secret`.
pub fn credential(secret: &str, username: &str) -> String {
    let mut mac =
        Hmac::<Sha1>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(username.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The username of a credential for `user_id` that expires at `expires_at` (unix seconds).
pub fn username(expires_at: i64, user_id: i64) -> String {
    format!("{expires_at}:{user_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_match_coturns_computation() {
        // Computed independently:
        //   python3 -c "import hmac,hashlib,base64; print(base64.b64encode(hmac.new(
        //     b'north-wind', b'1767225600:118881942010134528', hashlib.sha1).digest()).decode())"
        //   echo -n 1767225600:118881942010134528 | openssl dgst -sha1 -hmac north-wind -binary | base64
        let username = username(1_767_225_600, 118_881_942_010_134_528);
        assert_eq!(username, "1767225600:118881942010134528");
        assert_eq!(
            credential("north-wind", &username),
            "8MtQ6LfEDlhnJG8r0NMF/G/1Cfg="
        );
    }
}
