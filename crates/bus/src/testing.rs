//! Test support shared by every crate's integration tests: the NATS server to run cluster
//! tests against, from `MADANG_TEST_NATS_URL` (the test command starts a throwaway
//! nats-server and sets it). Without it the caller is told to skip, unless
//! `MADANG_TEST_REQUIRE_ALL=1` makes skipping a failure.

/// The NATS URL, or `None` after printing `SKIPPED <what>`.
pub fn nats_url(what: &str) -> Option<String> {
    match std::env::var("MADANG_TEST_NATS_URL") {
        Ok(url) => Some(url),
        Err(_) => {
            assert!(
                std::env::var("MADANG_TEST_REQUIRE_ALL").as_deref() != Ok("1"),
                "MADANG_TEST_NATS_URL is not set and MADANG_TEST_REQUIRE_ALL=1 forbids skipping {what}"
            );
            eprintln!(
                "SKIPPED {what}: set MADANG_TEST_NATS_URL, or run `make test`, which starts a throwaway nats-server"
            );
            None
        }
    }
}
