//! Madang ids on the wire: 64-bit integers sent as decimal strings, because JavaScript
//! numbers lose precision past 2^53. How ids are made lives in `madang-domain`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::{PartialSchema, ToSchema};

/// 2026-01-01T00:00:00Z in unix milliseconds: time zero of ids.
pub const EPOCH_MS: i64 = 1_767_225_600_000;
/// Bits below the timestamp: 10 of node id, 12 of sequence.
const TIMESTAMP_SHIFT: u32 = 22;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Id(pub i64);

impl Id {
    /// Milliseconds since the unix epoch at which this id was made.
    pub fn timestamp_ms(self) -> i64 {
        (self.0 >> TIMESTAMP_SHIFT) + EPOCH_MS
    }

    /// The smallest id that could have been made at `unix_ms`.
    pub fn first_at(unix_ms: i64) -> Id {
        Id((unix_ms - EPOCH_MS).max(0) << TIMESTAMP_SHIFT)
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Debug, PartialEq, Eq)]
pub struct InvalidId;

impl fmt::Display for InvalidId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a valid id: expected a positive decimal integer as a string")
    }
}

impl std::error::Error for InvalidId {}

impl FromStr for Id {
    type Err = InvalidId;

    /// Accepts only canonical positive decimal ids, so every id has one spelling.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty()
            || s.len() > 19
            || !s.bytes().all(|b| b.is_ascii_digit())
            || s.starts_with('0')
        {
            return Err(InvalidId);
        }
        s.parse::<i64>().map(Id).map_err(|_| InvalidId)
    }
}

impl Serialize for Id {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl PartialSchema for Id {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::String))
            .pattern(Some("^[1-9][0-9]{0,18}$"))
            .description(Some(
                "A 64-bit id as a decimal string; ids sort by creation time.",
            ))
            .examples(["81064953856000000"])
            .into()
    }
}

impl ToSchema for Id {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_travel_as_strings() {
        assert_eq!(serde_json::to_string(&Id(42)).unwrap(), "\"42\"");
        assert_eq!(serde_json::from_str::<Id>("\"42\"").unwrap(), Id(42));
        assert!(serde_json::from_str::<Id>("42").is_err());
        assert!(serde_json::from_str::<Id>("\"042\"").is_err());
    }

    #[test]
    fn only_canonical_decimal_strings_parse() {
        assert_eq!("123".parse::<Id>(), Ok(Id(123)));
        for bad in [
            "",
            "0",
            "012",
            "-1",
            "1e3",
            " 1",
            "abc",
            "99999999999999999999",
            "9223372036854775808",
        ] {
            assert_eq!(bad.parse::<Id>(), Err(InvalidId), "{bad:?}");
        }
    }

    #[test]
    fn ids_carry_their_time() {
        let t = EPOCH_MS + 86_400_000;
        let id = Id((86_400_000 << TIMESTAMP_SHIFT) | 5);
        assert_eq!(id.timestamp_ms(), t);
        assert!(Id::first_at(t) <= id && id < Id::first_at(t + 1));
    }
}
