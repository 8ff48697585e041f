//! Parse, don't validate: each type here can only hold a value that obeys its rule, so code
//! that receives one never checks again. A failed parse names the field and the rule, which
//! the API returns as a 422.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {rule}")]
pub struct RuleViolation {
    pub field: &'static str,
    pub rule: String,
}

fn violation(field: &'static str, rule: impl Into<String>) -> RuleViolation {
    RuleViolation {
        field,
        rule: rule.into(),
    }
}

/// Length in Unicode scalar values, which is what people count as characters.
fn chars(s: &str) -> usize {
    s.chars().count()
}

/// Trims surrounding white space and checks the length of what remains. U+0000 is refused
/// everywhere: PostgreSQL cannot store it, and no person types it.
fn trimmed_text(
    field: &'static str,
    raw: &str,
    min: usize,
    max: usize,
) -> Result<String, RuleViolation> {
    if raw.contains('\0') {
        return Err(violation(field, "must not contain NUL characters"));
    }
    let value = raw.trim();
    let n = chars(value);
    if n < min || n > max {
        return Err(violation(
            field,
            format!("must be {min} to {max} characters"),
        ));
    }
    Ok(value.to_owned())
}

/// Single-line names may not hide line breaks or other control characters.
fn single_line(field: &'static str, value: String) -> Result<String, RuleViolation> {
    if value.chars().any(char::is_control) {
        return Err(violation(field, "must not contain control characters"));
    }
    Ok(value)
}

macro_rules! text_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_inner(self) -> String {
                self.0
            }
        }
    };
}

text_type!(
    /// 2–32 characters of `[a-z0-9_.]`; unique across the server.
    Username
);
impl Username {
    pub fn parse(raw: &str) -> Result<Self, RuleViolation> {
        let n = raw.len();
        if !(2..=32).contains(&n) {
            return Err(violation("username", "must be 2 to 32 characters"));
        }
        if !raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.')
        {
            return Err(violation(
                "username",
                "may contain only a-z, 0-9, '_' and '.'",
            ));
        }
        Ok(Username(raw.to_owned()))
    }
}

text_type!(
    /// An e-mail address, stored lower-cased so that lookups are case-insensitive.
    Email
);
impl Email {
    pub fn parse(raw: &str) -> Result<Self, RuleViolation> {
        let value = raw.trim().to_lowercase();
        let valid = value.len() <= 254
            && !value.chars().any(|c| c.is_whitespace() || c.is_control())
            && match value.split_once('@') {
                Some((local, domain)) => {
                    !local.is_empty()
                        && local.len() <= 64
                        && !domain.contains('@')
                        && domain.contains('.')
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                        && !domain.contains("..")
                }
                None => false,
            };
        if !valid {
            return Err(violation("email", "must be an e-mail address"));
        }
        Ok(Email(value))
    }
}

text_type!(
    /// 12–128 characters; never trimmed, since spaces may be part of a passphrase.
    Password
);
impl Password {
    pub fn parse(raw: &str) -> Result<Self, RuleViolation> {
        let n = chars(raw);
        if !(12..=128).contains(&n) {
            return Err(violation("password", "must be 12 to 128 characters"));
        }
        if raw.contains('\0') {
            return Err(violation("password", "must not contain NUL characters"));
        }
        Ok(Password(raw.to_owned()))
    }
}

text_type!(
    /// The name shown instead of the username; 1–32 characters on one line.
    DisplayName
);
impl DisplayName {
    pub fn parse(raw: &str) -> Result<Self, RuleViolation> {
        single_line("display_name", trimmed_text("display_name", raw, 1, 32)?).map(DisplayName)
    }
}

text_type!(
    /// 2–100 characters on one line.
    GuildName
);
impl GuildName {
    pub fn parse(raw: &str) -> Result<Self, RuleViolation> {
        single_line("name", trimmed_text("name", raw, 2, 100)?).map(GuildName)
    }
}

text_type!(
    /// 1–100 characters on one line.
    ChannelName
);
impl ChannelName {
    pub fn parse(raw: &str) -> Result<Self, RuleViolation> {
        single_line("name", trimmed_text("name", raw, 1, 100)?).map(ChannelName)
    }
}

text_type!(
    /// A channel's topic: up to 1024 characters, possibly empty.
    ChannelTopic
);
impl ChannelTopic {
    pub fn parse(raw: &str) -> Result<Self, RuleViolation> {
        trimmed_text("topic", raw, 0, 1024).map(ChannelTopic)
    }
}

text_type!(
    /// 1–4000 characters after trimming surrounding white space. Stored raw: clients render
    /// it as markdown, and nothing ever treats it as HTML.
    MessageContent
);
impl MessageContent {
    pub const MAX_CHARS: usize = 4000;

    pub fn parse(raw: &str) -> Result<Self, RuleViolation> {
        trimmed_text("content", raw, 1, Self::MAX_CHARS).map(MessageContent)
    }
}

text_type!(
    /// A client's token for an idempotent send: 1–64 printable ASCII characters.
    Nonce
);
impl Nonce {
    pub fn parse(raw: &str) -> Result<Self, RuleViolation> {
        if raw.is_empty() || raw.len() > 64 || !raw.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(violation(
                "nonce",
                "must be 1 to 64 printable ASCII characters",
            ));
        }
        Ok(Nonce(raw.to_owned()))
    }
}

text_type!(
    /// Why someone was banned: up to 512 characters; empty means no reason.
    BanReason
);
impl BanReason {
    pub fn parse(raw: &str) -> Result<Self, RuleViolation> {
        trimmed_text("reason", raw, 0, 512).map(BanReason)
    }
}

text_type!(
    /// The secret of an invite link: 1–64 characters of base64url.
    InviteCode
);
impl InviteCode {
    pub fn parse(raw: &str) -> Result<Self, RuleViolation> {
        if raw.is_empty()
            || raw.len() > 64
            || !raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(violation("code", "is not an invite code"));
        }
        Ok(InviteCode(raw.to_owned()))
    }
}

/// A channel position: 0–10000, so reorders cannot overflow or be used to bloat rows.
pub fn position(raw: i64) -> Result<i32, RuleViolation> {
    if !(0..=10_000).contains(&raw) {
        return Err(violation("position", "must be 0 to 10000"));
    }
    Ok(raw as i32)
}

/// A voice channel's user limit: 1–99 people (as Discord), so a limit is never "nobody".
pub fn user_limit(raw: i64) -> Result<i32, RuleViolation> {
    if !(1..=99).contains(&raw) {
        return Err(violation("user_limit", "must be 1 to 99"));
    }
    Ok(raw as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_limits() {
        assert_eq!(user_limit(1), Ok(1));
        assert_eq!(user_limit(99), Ok(99));
        assert!(user_limit(0).is_err());
        assert!(user_limit(100).is_err());
    }

    #[test]
    fn usernames() {
        for ok in ["ab", "kim.minsu", "user_01", &"a".repeat(32)] {
            assert!(Username::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "a",
            "Kim",
            "kim minsu",
            "김민수",
            "a-b",
            &"a".repeat(33),
            "",
        ] {
            assert!(Username::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails_are_lowercased_and_checked() {
        assert_eq!(
            Email::parse(" Kim@Example.COM ").unwrap().as_str(),
            "kim@example.com"
        );
        for bad in [
            "",
            "kim",
            "kim@",
            "@example.com",
            "kim@example",
            "kim@@example.com",
            "k im@example.com",
            "kim@.com",
            "kim@example..com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_count_characters_not_bytes_and_keep_spaces() {
        assert!(Password::parse("비밀번호비밀번호비밀번호").is_ok());
        assert!(Password::parse("short").is_err());
        assert!(Password::parse(&"x".repeat(129)).is_err());
        assert_eq!(
            Password::parse("  twelve chars ").unwrap().as_str(),
            "  twelve chars "
        );
    }

    #[test]
    fn message_content_is_trimmed_and_counted_in_scalar_values() {
        assert_eq!(MessageContent::parse("  hi \n").unwrap().as_str(), "hi");
        assert!(MessageContent::parse(" \n\t ").is_err());
        assert!(MessageContent::parse(&"가".repeat(4000)).is_ok());
        assert!(MessageContent::parse(&"가".repeat(4001)).is_err());
        assert!(MessageContent::parse(&"😀".repeat(4000)).is_ok());
    }

    #[test]
    fn names_are_single_line() {
        assert!(GuildName::parse("스터디 모임").is_ok());
        assert!(GuildName::parse("a\nb").is_err());
        assert!(ChannelName::parse("general").is_ok());
        assert!(ChannelName::parse("").is_err());
        assert!(DisplayName::parse("Kim\u{0007}").is_err());
    }

    #[test]
    fn nul_characters_are_refused_in_every_text() {
        assert!(MessageContent::parse("a\0b").is_err());
        assert!(GuildName::parse("ab\0").is_err());
        assert!(ChannelTopic::parse("\0").is_err());
        assert!(BanReason::parse("spam\0").is_err());
        assert!(Password::parse("twelve chars\0long").is_err());
        assert!(Email::parse("a\0@example.com").is_err());
    }

    #[test]
    fn invite_codes_are_base64url() {
        assert!(InviteCode::parse("eJseIW7uXGyuJuL5cL6RSA").is_ok());
        for bad in ["", "has space", "a/b", "%00", &"a".repeat(65)] {
            assert!(InviteCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn nonces_and_positions() {
        assert!(Nonce::parse("a1b2-c3").is_ok());
        assert!(Nonce::parse("").is_err());
        assert!(Nonce::parse("with space").is_err());
        assert!(Nonce::parse(&"n".repeat(65)).is_err());
        assert_eq!(position(3), Ok(3));
        assert!(position(-1).is_err());
        assert!(position(10_001).is_err());
    }
}
