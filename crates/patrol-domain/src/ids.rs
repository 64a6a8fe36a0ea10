//! Validated ids: a caller's text becomes one of these only through `parse`, which applies
//! [`crate::limits::check_id`]'s rule (1 to 64 ASCII letters, digits and a few marks; a userid
//! also [`crate::limits::check_userid`]'s), so a value of these types is always a well-formed id.

use std::fmt;

use crate::Rejection;
use crate::limits::{self, ID_EXTRA, MAX_AGENTID};

macro_rules! text_id {
    ($(#[$doc:meta])* $name:ident, $check:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// The id, if `text` is a well-formed one.
            pub fn parse(text: impl Into<String>) -> Result<$name, Rejection> {
                let text = text.into();
                let check: fn(&str) -> Result<(), Rejection> = $check;
                check(&text)?;
                Ok($name(text))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = Rejection;

            fn from_str(text: &str) -> Result<$name, Rejection> {
                $name::parse(text)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
    };
}

text_id!(
    /// A corp's `corpid`.
    CorpId, |text| limits::check_id("corpid", text, ID_EXTRA)
);
text_id!(
    /// A member's `userid`.
    UserId, limits::check_userid
);
text_id!(
    /// A grid's `grid_id`.
    GridId, |text| limits::check_id("grid_id", text, ID_EXTRA)
);
text_id!(
    /// An event category's `category_id`.
    CategoryId, |text| limits::check_id("category_id", text, ID_EXTRA)
);
text_id!(
    /// An order's `order_id`.
    OrderId, |text| limits::check_id("order_id", text, ID_EXTRA)
);

/// An app's `agentid`: 1 to [`MAX_AGENTID`] (2^31 − 1), as WeCom's are positive 32-bit integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AgentId(i64);

impl AgentId {
    /// The id, if `value` is 1 to [`MAX_AGENTID`].
    pub fn new(value: i64) -> Result<AgentId, Rejection> {
        if (1..=MAX_AGENTID).contains(&value) {
            Ok(AgentId(value))
        } else {
            Err(Rejection::Invalid(format!(
                "agentid {value} must be an integer from 1 to {MAX_AGENTID}"
            )))
        }
    }

    /// The id in `text` (as in a path), if it is an integer from 1 to [`MAX_AGENTID`].
    pub fn parse(text: &str) -> Result<AgentId, Rejection> {
        text.parse::<i64>()
            .ok()
            .filter(|id| (1..=MAX_AGENTID).contains(id))
            .map(AgentId)
            .ok_or_else(|| {
                Rejection::Invalid(format!(
                    "agentid {text:?} must be an integer from 1 to {MAX_AGENTID}"
                ))
            })
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for AgentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_only_when_well_formed() {
        assert_eq!(OrderId::parse("o-1_a").unwrap().as_str(), "o-1_a");
        assert!(OrderId::parse("o.1").is_err());
        assert!(UserId::parse("zhang.wei@x").is_ok());
        assert!(GridId::parse("").is_err());
        assert!(CategoryId::parse("c".repeat(65)).is_err());
        assert_eq!(
            CorpId::parse("企业").unwrap_err().to_string(),
            "corpid \"企业\" must be 1 to 64 characters of letters, digits and - _"
        );
        assert_eq!("g1".parse::<GridId>().unwrap().to_string(), "g1");
        assert_eq!(AgentId::parse("1000002").unwrap().get(), 1_000_002);
        assert!(AgentId::parse("0").is_err() && AgentId::parse("x").is_err());
        assert!(AgentId::new(-5).is_err());
        assert_eq!(AgentId::new(MAX_AGENTID).unwrap().get(), 2_147_483_647);
        assert!(AgentId::new(MAX_AGENTID + 1).is_err() && AgentId::new(i64::MAX).is_err());
        assert!(AgentId::parse("2147483648").is_err());
        assert!(AgentId::parse("9223372036854775808").is_err());
        assert!(UserId::parse(".").is_err() && UserId::parse("..").is_err());
        assert!(UserId::parse("_a").is_err() && UserId::parse("9a.b").is_ok());
    }
}
