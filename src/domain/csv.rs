//! CSV for people who open it in a spreadsheet: RFC 4180 quoting, CRLF line ends, and no cell a
//! spreadsheet would run as a formula.

/// One cell: a value a spreadsheet would read as a formula (starting with `=`, `+`, `-` or `@`, or
/// with a tab or carriage return that hides such a start) gets a leading apostrophe, which shows it
/// as text; a value with a comma, a quote or a line break is quoted, its quotes doubled.
pub fn cell(value: &str) -> String {
    let neutral = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if neutral.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", neutral.replace('"', "\"\""))
    } else {
        neutral
    }
}

/// One line of cells, ended with CRLF.
pub fn row<S: AsRef<str>>(cells: &[S]) -> String {
    let mut out = cells
        .iter()
        .map(|c| cell(c.as_ref()))
        .collect::<Vec<_>>()
        .join(",");
    out.push_str("\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_what_needs_quoting() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell(""), "");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(cell("École – ठीक"), "École – ठीक");
    }

    #[test]
    fn formulas_become_text() {
        assert_eq!(cell("=1+1"), "'=1+1");
        assert_eq!(cell("+91 98"), "'+91 98");
        assert_eq!(cell("-5"), "'-5");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("\t=x"), "'\t=x");
        assert_eq!(
            cell("=HYPERLINK(\"http://x\",\"y\")"),
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""
        );
        assert_eq!(cell("a=b"), "a=b", "only the start counts");
    }

    #[test]
    fn rows_end_with_crlf() {
        assert_eq!(row(&["a", "b,c", "=d"]), "a,\"b,c\",'=d\r\n");
    }
}
