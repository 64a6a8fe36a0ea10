//! Aligned text tables for the terminal, shared by `patrol admin` and `patrol orders`.

use unicode_width::UnicodeWidthStr;

/// A table with one header line, its columns aligned by display width (CJK characters take two
/// columns). The last column is not padded. Ends with a newline.
pub(crate) fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| width(h)).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(width(cell));
            }
        }
    }
    let mut out = String::new();
    let header: Vec<String> = headers.iter().map(|h| (*h).to_owned()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            line.push_str(cell);
            if i + 1 < row.len() {
                let pad = widths
                    .get(i)
                    .copied()
                    .unwrap_or(0)
                    .saturating_sub(width(cell));
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Columns a string takes in a terminal: two for East Asian wide characters, one for most others
/// (Unicode's East Asian Width, as unicode-width reads it).
pub(crate) fn width(text: &str) -> usize {
    UnicodeWidthStr::width(text)
}
