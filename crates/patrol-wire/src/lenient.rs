//! Tolerant decoding of WeCom's answers: its documentation prints some numbers as strings and
//! some strings as numbers (wecom-reference.md §11.7), and a client must take either.
//!
//! These only affect deserialization; what patrol serializes is always the documented type.

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use std::fmt;

/// An integer sent as a JSON integer, a whole float (`12.0`) or a string of digits (`"12"`).
pub fn int<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    struct IntVisitor;

    impl Visitor<'_> for IntVisitor {
        type Value = i64;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an integer, or a string holding one")
        }

        fn visit_i64<E: de::Error>(self, value: i64) -> Result<i64, E> {
            Ok(value)
        }

        fn visit_u64<E: de::Error>(self, value: u64) -> Result<i64, E> {
            i64::try_from(value).map_err(|_| E::custom(format!("{value} does not fit in i64")))
        }

        fn visit_f64<E: de::Error>(self, value: f64) -> Result<i64, E> {
            if value.fract() == 0.0 && value.abs() < 9.0e15 {
                Ok(value as i64)
            } else {
                Err(E::custom(format!("{value} is not an integer")))
            }
        }

        fn visit_str<E: de::Error>(self, value: &str) -> Result<i64, E> {
            let trimmed = value.trim();
            if trimmed.is_empty() {
                return Ok(0);
            }
            trimmed
                .parse()
                .map_err(|_| E::custom(format!("{} is not an integer", crate::echo::quoted(value))))
        }

        fn visit_unit<E: de::Error>(self) -> Result<i64, E> {
            Ok(0)
        }
    }

    deserializer.deserialize_any(IntVisitor)
}

/// A float sent as a JSON number (`0`, `30.5`) or a string holding one (`"30.5"`).
pub fn float<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    struct FloatVisitor;

    impl Visitor<'_> for FloatVisitor {
        type Value = f64;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a number, or a string holding one")
        }

        fn visit_i64<E: de::Error>(self, value: i64) -> Result<f64, E> {
            Ok(value as f64)
        }

        fn visit_u64<E: de::Error>(self, value: u64) -> Result<f64, E> {
            Ok(value as f64)
        }

        fn visit_f64<E: de::Error>(self, value: f64) -> Result<f64, E> {
            Ok(value)
        }

        fn visit_str<E: de::Error>(self, value: &str) -> Result<f64, E> {
            let trimmed = value.trim();
            if trimmed.is_empty() {
                return Ok(0.0);
            }
            trimmed
                .parse()
                .map_err(|_| E::custom(format!("{} is not a number", crate::echo::quoted(value))))
        }

        fn visit_unit<E: de::Error>(self) -> Result<f64, E> {
            Ok(0.0)
        }
    }

    deserializer.deserialize_any(FloatVisitor)
}

/// A string sent as a JSON string or as a number (`"grid_name": 1` in WeCom's examples);
/// `null` is `""`.
pub fn string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    struct StringVisitor;

    impl Visitor<'_> for StringVisitor {
        type Value = String;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string or a number")
        }

        fn visit_str<E: de::Error>(self, value: &str) -> Result<String, E> {
            Ok(value.to_owned())
        }

        fn visit_string<E: de::Error>(self, value: String) -> Result<String, E> {
            Ok(value)
        }

        fn visit_i64<E: de::Error>(self, value: i64) -> Result<String, E> {
            Ok(value.to_string())
        }

        fn visit_u64<E: de::Error>(self, value: u64) -> Result<String, E> {
            Ok(value.to_string())
        }

        fn visit_f64<E: de::Error>(self, value: f64) -> Result<String, E> {
            Ok(value.to_string())
        }

        fn visit_unit<E: de::Error>(self) -> Result<String, E> {
            Ok(String::new())
        }
    }

    deserializer.deserialize_any(StringVisitor)
}

/// An optional integer of a request, sent as a JSON integer or as a string holding one (`"2"`,
/// as some SDKs send `level`); `null` is absent. Anything else (a float, `""`, `"two"`) is refused,
/// so a server names the field. Use with `#[serde(default, deserialize_with = ...)]`.
pub fn opt_int<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    struct OptIntVisitor;

    impl Visitor<'_> for OptIntVisitor {
        type Value = Option<i64>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an integer, or a string holding one")
        }

        fn visit_i64<E: de::Error>(self, value: i64) -> Result<Option<i64>, E> {
            Ok(Some(value))
        }

        fn visit_u64<E: de::Error>(self, value: u64) -> Result<Option<i64>, E> {
            i64::try_from(value)
                .map(Some)
                .map_err(|_| E::custom(format!("{value} does not fit in i64")))
        }

        fn visit_str<E: de::Error>(self, value: &str) -> Result<Option<i64>, E> {
            let digits = value.strip_prefix('-').unwrap_or(value);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(E::custom(format!(
                    "{} is not an integer",
                    crate::echo::quoted(value)
                )));
            }
            value.parse().map(Some).map_err(|_| {
                E::custom(format!(
                    "{} does not fit in i64",
                    crate::echo::quoted(value)
                ))
            })
        }

        fn visit_unit<E: de::Error>(self) -> Result<Option<i64>, E> {
            Ok(None)
        }

        fn visit_none<E: de::Error>(self) -> Result<Option<i64>, E> {
            Ok(None)
        }
    }

    deserializer.deserialize_any(OptIntVisitor)
}

/// A list that may be absent or `null` (read as empty).
pub fn list<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use crate::patrol::Order;

    #[test]
    fn documentation_quirks_decode() {
        let text = r#"{"order_id":"o","desc":"d","urge_type":"2","case_name":"c","grid_name":1,
            "grid_id":"g","create_time":"12345678","location":{"name":"n","address":"a",
            "latitude":0,"longitude":"120.5"},"processor_userids":null,
            "process_list":[{"process_type":1,"solve_userid":null,"process_desc":"p","status":"1",
            "solved_time":123456789.0}]}"#;
        let order: Order = serde_json::from_str(text).unwrap();
        assert_eq!(order.urge_type, 2);
        assert_eq!(order.grid_name, "1");
        assert_eq!(order.create_time, 12_345_678);
        assert_eq!(order.location.longitude, 120.5);
        assert!(order.image_urls.is_empty() && order.processor_userids.is_empty());
        let step = &order.process_list[0];
        assert_eq!((step.status, step.solved_time), (1, 123_456_789));
        assert_eq!(step.solve_userid, "");
    }

    #[test]
    fn request_integers_may_be_strings_of_digits_only() {
        #[derive(serde::Deserialize)]
        struct Body {
            #[serde(default, deserialize_with = "crate::lenient::opt_int")]
            level: Option<i64>,
        }
        let level = |text: &str| serde_json::from_str::<Body>(text).map(|b| b.level);
        assert_eq!(level(r#"{"level":2}"#).unwrap(), Some(2));
        assert_eq!(level(r#"{"level":"2"}"#).unwrap(), Some(2));
        assert_eq!(level(r#"{"level":"-1"}"#).unwrap(), Some(-1));
        assert_eq!(level(r#"{"level":null}"#).unwrap(), None);
        assert_eq!(level(r#"{}"#).unwrap(), None);
        for bad in [
            r#"{"level":1.0}"#,
            r#"{"level":""}"#,
            r#"{"level":" 1"}"#,
            r#"{"level":"two"}"#,
            r#"{"level":true}"#,
            r#"{"level":"99999999999999999999"}"#,
        ] {
            assert!(level(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn garbage_is_still_refused() {
        let text = r#"{"order_id":"o","desc":"d","urge_type":"two","case_name":"c","grid_name":"g",
            "grid_id":"g","create_time":1,"location":{"name":"n","address":"a","latitude":0,
            "longitude":0},"process_list":[]}"#;
        assert!(serde_json::from_str::<Order>(text).is_err());
    }
}
