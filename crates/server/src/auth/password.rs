//! argon2id password hashing, off the async runtime (a hash takes tens of milliseconds).

use std::sync::Arc;

use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier as _, Version};

use crate::config::PasswordHashing;
use crate::error::{ApiError, ApiResult};

#[derive(Clone)]
pub struct PasswordHasher {
    argon2: Arc<Argon2<'static>>,
    /// A hash of a random password, verified against when the login names no user, so that
    /// a failed login takes as long whether or not the account exists.
    decoy_hash: Arc<String>,
}

impl PasswordHasher {
    pub fn new(settings: &PasswordHashing) -> anyhow::Result<Self> {
        let params = Params::new(settings.memory_kib, settings.iterations, 1, None)
            .map_err(|e| anyhow::anyhow!("invalid password hashing parameters: {e}"))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let decoy_hash = argon2
            .hash_password(rand::random::<[u8; 16]>().as_slice())
            .map_err(|e| anyhow::anyhow!("password hashing failed: {e}"))?
            .to_string();
        Ok(PasswordHasher {
            argon2: Arc::new(argon2),
            decoy_hash: Arc::new(decoy_hash),
        })
    }

    pub async fn hash(&self, password: &str) -> ApiResult<String> {
        let argon2 = self.argon2.clone();
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || {
            argon2
                .hash_password(password.as_bytes())
                .map(|hash| hash.to_string())
        })
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(|error| {
            tracing::error!(%error, "password hashing failed");
            ApiError::internal()
        })
    }

    /// Whether `password` matches `hash`; with no hash, spends the same time and says no.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> bool {
        let argon2 = self.argon2.clone();
        let password = password.to_owned();
        let (hash, is_real) = match hash {
            Some(hash) => (hash.to_owned(), true),
            None => (self.decoy_hash.as_str().to_owned(), false),
        };
        let matches = tokio::task::spawn_blocking(move || {
            argon2
                .verify_password(password.as_bytes(), hash.as_str())
                .is_ok()
        })
        .await
        .unwrap_or(false);
        matches && is_real
    }
}
