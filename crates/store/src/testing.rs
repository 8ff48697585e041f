//! Test support shared by every crate's integration tests: a fresh, empty database on either
//! backend. PostgreSQL comes from `MADANG_TEST_POSTGRES_URL` (the test command starts a
//! throwaway server and sets it), with a new database per call; without it the caller is
//! told to skip, unless `MADANG_TEST_REQUIRE_ALL=1` makes skipping a failure.

use std::path::Path;

use sqlx::Connection;

/// Generates, for each `async fn name(backend: TestBackend)` in scope, the tests
/// `name::sqlite` and `name::postgres`, so every test body runs on both databases.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    super::$name($crate::testing::TestBackend::Sqlite).await
                }
                #[tokio::test]
                async fn postgres() {
                    super::$name($crate::testing::TestBackend::Postgres).await
                }
            }
        )*
    };
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TestBackend {
    Sqlite,
    Postgres,
}

/// A URL of a new, empty database; `None` (after printing `SKIPPED`) when PostgreSQL is asked
/// for and none is configured. SQLite files go in `dir`.
pub async fn fresh_database_url(backend: TestBackend, dir: &Path) -> Option<String> {
    match backend {
        TestBackend::Sqlite => Some(format!(
            "sqlite://{}?mode=rwc",
            dir.join("madang.db").display()
        )),
        TestBackend::Postgres => fresh_postgres_database().await,
    }
}

async fn fresh_postgres_database() -> Option<String> {
    let Ok(admin_url) = std::env::var("MADANG_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("MADANG_TEST_REQUIRE_ALL").as_deref() != Ok("1"),
            "MADANG_TEST_POSTGRES_URL is not set and MADANG_TEST_REQUIRE_ALL=1 forbids skipping"
        );
        eprintln!(
            "SKIPPED postgres half: set MADANG_TEST_POSTGRES_URL, or run `make test`, which starts a throwaway PostgreSQL"
        );
        return None;
    };
    let name = format!("madang_test_{:016x}", rand::random::<u64>());
    let mut admin = sqlx::PgConnection::connect(&admin_url)
        .await
        .expect("connect to MADANG_TEST_POSTGRES_URL");
    sqlx::Executor::execute(
        &mut admin,
        sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")),
    )
    .await
    .expect("create a test database");
    let base = admin_url
        .rsplit_once('/')
        .map_or(admin_url.as_str(), |(base, _)| base);
    Some(format!("{base}/{name}"))
}
