//! Login sessions, rotating refresh tokens and server-wide secrets.
//!
//! A login session is one sign-in on one device; its refresh tokens form a family. Each
//! refresh uses up the presented token and issues the next. Presenting a used token again
//! means it was stolen (or replayed), so the whole family is revoked.

use sqlx::{FromRow, Row};

use crate::{Result, Store};

/// The user behind a valid, unrevoked login session.
#[derive(Debug, Clone, FromRow)]
pub struct AuthenticatedUser {
    pub user_id: i64,
    pub session_id: i64,
}

#[derive(Debug, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// The token was valid; the new one is stored.
    Rotated { user_id: i64, session_id: i64 },
    /// The token had been used before: its login session is now revoked.
    Reused { user_id: i64, session_id: i64 },
    /// Unknown, expired, or of a revoked session.
    Invalid,
}

impl Store {
    /// The value of a server-wide secret, made by `generate` the first time it is asked for.
    /// Every node of a cluster reads the same value, so tokens signed on one verify on all.
    pub async fn secret(
        &self,
        name: &str,
        now: i64,
        generate: impl FnOnce() -> String,
    ) -> Result<String> {
        sqlx::query("INSERT INTO server_secrets (name, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .bind(generate())
            .bind(now)
            .execute(&self.write)
            .await?;
        let row = sqlx::query("SELECT value FROM server_secrets WHERE name = $1")
            .bind(name)
            .fetch_one(&self.write)
            .await?;
        Ok(row.try_get(0)?)
    }

    /// Starts a login session with its first refresh token.
    pub async fn create_login_session(
        &self,
        session_id: i64,
        user_id: i64,
        refresh_token_hash: &str,
        refresh_expires_at: i64,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("INSERT INTO login_sessions (id, user_id, created_at) VALUES ($1, $2, $3)")
            .bind(session_id)
            .bind(user_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, session_id, expires_at) VALUES ($1, $2, $3)",
        )
        .bind(refresh_token_hash)
        .bind(session_id)
        .bind(refresh_expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Uses up `presented_hash` and stores `next_hash` in its place, or revokes the family if
    /// the presented token was already used.
    pub async fn rotate_refresh_token(
        &self,
        presented_hash: &str,
        next_hash: &str,
        next_expires_at: i64,
        now: i64,
    ) -> Result<RefreshOutcome> {
        let mut tx = self.begin().await?;
        let found = sqlx::query(
            "SELECT t.session_id, t.expires_at, t.used_at, s.user_id, s.revoked_at
             FROM refresh_tokens t JOIN login_sessions s ON s.id = t.session_id
             WHERE t.token_hash = $1",
        )
        .bind(presented_hash)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = found else {
            return Ok(RefreshOutcome::Invalid);
        };
        let session_id: i64 = row.try_get(0)?;
        let expires_at: i64 = row.try_get(1)?;
        let used_at: Option<i64> = row.try_get(2)?;
        let user_id: i64 = row.try_get(3)?;
        let revoked_at: Option<i64> = row.try_get(4)?;

        if revoked_at.is_some() || expires_at <= now {
            return Ok(RefreshOutcome::Invalid);
        }
        let claimed = match used_at {
            Some(_) => false,
            None => sqlx::query(
                "UPDATE refresh_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL",
            )
            .bind(now)
            .bind(presented_hash)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1,
        };
        let outcome = if claimed {
            sqlx::query("INSERT INTO refresh_tokens (token_hash, session_id, expires_at) VALUES ($1, $2, $3)")
                .bind(next_hash)
                .bind(session_id)
                .bind(next_expires_at)
                .execute(&mut *tx)
                .await?;
            RefreshOutcome::Rotated {
                user_id,
                session_id,
            }
        } else {
            revoke_session(&mut tx, session_id, now).await?;
            RefreshOutcome::Reused {
                user_id,
                session_id,
            }
        };
        tx.commit().await?;
        Ok(outcome)
    }

    /// Ends a login session: its refresh tokens stop working and its access tokens are
    /// refused from now on.
    pub async fn revoke_login_session(&self, session_id: i64, now: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        revoke_session(&mut tx, session_id, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Ends every login of the user except `keep`; used when the password changes.
    pub async fn revoke_other_login_sessions(
        &self,
        user_id: i64,
        keep: i64,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let others = sqlx::query(
            "SELECT id FROM login_sessions WHERE user_id = $1 AND id <> $2 AND revoked_at IS NULL",
        )
        .bind(user_id)
        .bind(keep)
        .fetch_all(&mut *tx)
        .await?;
        for row in others {
            revoke_session(&mut tx, row.try_get(0)?, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The user of an unrevoked login session. Nodes remember the answer for a while and
    /// forget it when the revocation reaches them over the bus (see the server's
    /// `LoginSessions`), so logout and token-theft revocation take effect at once.
    pub async fn authenticate(&self, session_id: i64) -> Result<Option<AuthenticatedUser>> {
        Ok(sqlx::query_as(
            "SELECT u.id AS user_id, s.id AS session_id
             FROM login_sessions s JOIN users u ON u.id = s.user_id
             WHERE s.id = $1 AND s.revoked_at IS NULL",
        )
        .bind(session_id)
        .fetch_optional(&self.read)
        .await?)
    }

    /// Deletes what can no longer be used: refresh tokens that expired before `before`
    /// (presenting one is refused whether or not its row is there, so reuse detection loses
    /// nothing), then login sessions older than `before` left without refresh tokens — expired
    /// or revoked, their access tokens already refused. `before` must lie at least an access
    /// token's lifetime in the past, so that no token issued with the last refresh is still
    /// valid. Returns how many login sessions were removed.
    pub async fn prune_logins(&self, before: i64) -> Result<u64> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM refresh_tokens WHERE expires_at < $1")
            .bind(before)
            .execute(&mut *tx)
            .await?;
        let removed = sqlx::query(
            "DELETE FROM login_sessions WHERE created_at < $1
             AND NOT EXISTS (SELECT 1 FROM refresh_tokens t WHERE t.session_id = login_sessions.id)",
        )
        .bind(before)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(removed)
    }
}

async fn revoke_session(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    session_id: i64,
    now: i64,
) -> Result<()> {
    sqlx::query("UPDATE login_sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(session_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM refresh_tokens WHERE session_id = $1 AND used_at IS NULL")
        .bind(session_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
