//! Accounts.

use sqlx::FromRow;

use crate::events::{Appended, UserEventKind};
use crate::members::select_member;
use crate::{Dispatch, MemberRow, Result, Store, StoreError, is_unique_violation};
use sqlx::Row;

#[derive(Debug, Clone, FromRow)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub display_name: Option<String>,
    pub password_hash: String,
    /// 0 user, 1 system admin.
    pub system_role: i16,
    pub created_at: i64,
}

pub struct NewUser<'a> {
    pub id: i64,
    pub username: &'a str,
    pub email: &'a str,
    pub display_name: Option<&'a str>,
    pub password_hash: &'a str,
    pub created_at: i64,
}

const USER_COLUMNS: &str =
    "id, username, email, display_name, password_hash, system_role, created_at";

impl Store {
    /// Fails with `Conflict("username")` or `Conflict("email")` when either is taken.
    pub async fn create_user(&self, user: NewUser<'_>) -> Result<UserRow> {
        let inserted = sqlx::query_as::<_, UserRow>(
            "INSERT INTO users (id, username, email, display_name, password_hash, system_role, created_at)
             VALUES ($1, $2, $3, $4, $5, 0, $6)
             RETURNING id, username, email, display_name, password_hash, system_role, created_at",
        )
        .bind(user.id)
        .bind(user.username)
        .bind(user.email)
        .bind(user.display_name)
        .bind(user.password_hash)
        .bind(user.created_at)
        .fetch_one(&self.write)
        .await;
        match inserted {
            Ok(row) => Ok(row),
            Err(error) if is_unique_violation(&error) => {
                let username_taken = self.user_by_username(user.username).await?.is_some();
                Err(StoreError::Conflict(if username_taken {
                    "username"
                } else {
                    "email"
                }))
            }
            Err(error) => Err(error.into()),
        }
    }

    pub async fn user(&self, id: i64) -> Result<Option<UserRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.read)
        .await?)
    }

    pub async fn user_by_username(&self, username: &str) -> Result<Option<UserRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE username = $1"
        )))
        .bind(username)
        .fetch_optional(&self.read)
        .await?)
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<UserRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE email = $1"
        )))
        .bind(email)
        .fetch_optional(&self.read)
        .await?)
    }

    /// Users in id order after `after`; for administration.
    pub async fn users(&self, after: i64, limit: i64) -> Result<Vec<UserRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE id > $1 ORDER BY id LIMIT $2"
        )))
        .bind(after)
        .bind(limit)
        .fetch_all(&self.read)
        .await?)
    }

    /// Changes the given fields; `None` leaves a field as it is. `display_name` of
    /// `Some(None)` clears it. The user hears of it through `updated`; when the name people
    /// see changed, every guild they are in hears through `member_updated`.
    #[allow(clippy::too_many_arguments)]
    pub async fn update_user(
        &self,
        id: i64,
        username: Option<&str>,
        display_name: Option<Option<&str>>,
        password_hash: Option<&str>,
        now: i64,
        updated: impl FnOnce(&UserRow) -> Dispatch,
        member_updated: impl Fn(&MemberRow) -> Dispatch,
    ) -> Result<UserRow> {
        let mut tx = self.begin().await?;
        let written = sqlx::query_as::<_, UserRow>(
            "UPDATE users SET
                username = COALESCE($1, username),
                display_name = CASE WHEN $2 = 1 THEN $3 ELSE display_name END,
                password_hash = COALESCE($4, password_hash)
             WHERE id = $5
             RETURNING id, username, email, display_name, password_hash, system_role, created_at",
        )
        .bind(username)
        .bind(i16::from(display_name.is_some()))
        .bind(display_name.flatten())
        .bind(password_hash)
        .bind(id)
        .fetch_one(&mut *tx)
        .await;
        let user = match written {
            Err(error) if is_unique_violation(&error) => {
                return Err(StoreError::Conflict("username"));
            }
            other => other?,
        };
        let mut events = Appended::default();
        events
            .user(&mut tx, id, UserEventKind::Dispatch(updated(&user)), now)
            .await?;
        if username.is_some() || display_name.is_some() {
            let guilds = sqlx::query(
                "SELECT guild_id FROM guild_members WHERE user_id = $1 ORDER BY guild_id",
            )
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
            for row in guilds {
                let guild_id: i64 = row.try_get(0)?;
                let member = select_member(&mut tx, guild_id, id).await?;
                events
                    .guild_dispatch(&mut tx, guild_id, member_updated(&member), now)
                    .await?;
            }
        }
        tx.commit().await?;
        events.publish(self);
        Ok(user)
    }

    /// Makes the user with this e-mail a system admin; false when there is no such user.
    pub async fn grant_system_admin(&self, email: &str) -> Result<bool> {
        let result = sqlx::query("UPDATE users SET system_role = 1 WHERE email = $1")
            .bind(email)
            .execute(&self.write)
            .await?;
        Ok(result.rows_affected() == 1)
    }
}
