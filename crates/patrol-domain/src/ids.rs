//! Validated ids: a caller's text becomes one of these only through `parse`, which applies
//! [`crate::limits::check_id`]'s rule (1 to 64 ASCII letters, digits and a few marks), so a value
//! of these types is always a well-formed id.

use std::fmt;

use crate::Rejection;
use crate::limits::{self, ID_EXTRA, USERID_EXTRA};

macro_rules! text_id {
    ($(#[$doc:meta])* $name:ident, $what:literal, $extra:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// The id, if `text` is a well-formed one.
            pub fn parse(text: impl Into<String>) -> Result<$name, Rejection> {
                let text = text.into();
                limits::check_id($what, &text, $extra)?;
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
    CorpId, "corpid", ID_EXTRA
);
text_id!(
    /// A member's `userid`.
    UserId, "userid", USERID_EXTRA
);
text_id!(
    /// A grid's `grid_id`.
    GridId, "grid_id", ID_EXTRA
);
text_id!(
    /// An event category's `category_id`.
    CategoryId, "category_id", ID_EXTRA
);
text_id!(
    /// An order's `order_id`.
    OrderId, "order_id", ID_EXTRA
);

/// An app's `agentid`: a positive integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AgentId(i64);

impl AgentId {
    /// The id, if `value` is positive.
    pub fn new(value: i64) -> Result<AgentId, Rejection> {
        if value > 0 {
            Ok(AgentId(value))
        } else {
            Err(Rejection::Invalid(format!(
                "agentid {value} is not a positive integer"
            )))
        }
    }

    /// The id in `text` (as in a path), if it is a positive integer.
    pub fn parse(text: &str) -> Result<AgentId, Rejection> {
        text.parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .map(AgentId)
            .ok_or_else(|| {
                Rejection::Invalid(format!("agentid {text:?} is not a positive integer"))
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
    }
}
