//! How far patrol echoes what a client sent, in an `errmsg` or a log line: never without bound.

use std::borrow::Cow;

/// A value a client sent, quoted in a message, is cut at this many characters.
pub const MAX_ECHOED_VALUE: usize = 64;

/// The text of an error in `errmsg` (before WeCom's hint suffix) is cut at this many characters.
pub const MAX_ERROR_TEXT: usize = 256;

/// At most `max` characters of `text`, cut with `…` when longer.
pub fn bounded(text: &str, max: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => Cow::Borrowed(text),
        Some((cut, _)) => Cow::Owned(format!("{}…", &text[..cut])),
    }
}

/// A client's value as quoted (`"…"`) in a message, cut at [`MAX_ECHOED_VALUE`] characters.
pub fn quoted(value: &str) -> String {
    format!("{:?}", bounded(value, MAX_ECHOED_VALUE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_cut_on_a_character_boundary() {
        assert_eq!(bounded("abc", 3), "abc");
        assert_eq!(bounded("abcd", 3), "abc…");
        assert_eq!(bounded("巡查上报", 2), "巡查…");
        assert_eq!(bounded("", 0), "");
        let long = "9".repeat(5000);
        assert_eq!(quoted(&long).chars().count(), MAX_ECHOED_VALUE + 3);
    }
}
