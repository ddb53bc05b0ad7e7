//! Characters no text the application keeps may hold: NUL (which PostgreSQL refuses while SQLite
//! stores it), other control characters, and the Unicode bidirectional overrides and isolates that
//! make text read differently from what it is ("Trojan Source"). The request guard
//! (`web::input_guard`) refuses them at the door; services that answer with field errors check
//! their own fields with the same rule.

/// Why a character is refused, in words a person can act on; `None` when it is fine.
/// Tab, line feed and carriage return are allowed in multi-line text (text areas, JSON strings),
/// never in a single line (an address, a name).
pub fn refused_char(c: char, single_line: bool) -> Option<&'static str> {
    match c {
        '\0' => Some("contains a NUL character"),
        '\t' | '\n' | '\r' if !single_line => None,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => Some("contains a control character"),
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {
            Some("contains a bidirectional formatting character (such as U+202E)")
        }
        _ => None,
    }
}

/// The first problem of a text, if any.
pub fn text_problem(s: &str, single_line: bool) -> Option<&'static str> {
    s.chars().find_map(|c| refused_char(c, single_line))
}

/// The text without the characters [`refused_char`] refuses: what a form shows again after
/// refusing them (they are invisible, so the person could not find them to delete).
pub fn without_refused(s: &str, single_line: bool) -> String {
    s.chars()
        .filter(|c| refused_char(*c, single_line).is_none())
        .collect()
}

/// The field error for refused characters in a form that shows the value again without them.
pub fn refused_message(why: &str) -> String {
    format!(
        "This value {why}, which is not accepted. It has been taken out below: check the value and save again."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_nul_controls_and_bidi_but_not_line_breaks_in_multi_line_text() {
        assert!(text_problem("a\0b", false).is_some());
        assert!(text_problem("a\u{7}b", false).is_some());
        assert!(text_problem("abc\u{202e}fed", false).is_some());
        assert!(text_problem("x\u{2066}y", false).is_some());
        assert!(text_problem("two\r\nlines\tand a tab", false).is_none());
        assert!(text_problem("two\nlines", true).is_some());
        assert!(text_problem("École – ठीक है", true).is_none());
    }

    #[test]
    fn takes_out_only_what_is_refused() {
        assert_eq!(without_refused("ev\u{202e}il\0 co", true), "evil co");
        assert_eq!(without_refused("a\r\nb\u{7}", false), "a\r\nb");
        assert_eq!(without_refused("a\r\nb", true), "ab");
    }
}
