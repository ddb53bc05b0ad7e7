//! The HTML escaping of every template (configured in `askama.toml`): askama's own, behind a check
//! that lets text with nothing to escape through in one piece.
//!
//! askama reads its input one byte after another. Almost all of what a page escapes (names,
//! titles, ids, links) holds none of `<>&"'`; testing sixteen bytes at a time for them, with no
//! branch inside the sixteen, compiles to a few vector instructions. Text that holds one goes to
//! askama's escaper unchanged, so what is written is always exactly what askama writes.

use std::fmt::{self, Write};

use askama::filters::Escaper;

/// The HTML escaper the templates use.
#[derive(Debug, Clone, Copy)]
pub struct Html;

impl Escaper for Html {
    #[inline]
    fn write_escaped_str<W: Write>(&self, mut dest: W, text: &str) -> fmt::Result {
        if holds_html_syntax(text.as_bytes()) {
            askama::filters::Html.write_escaped_str(dest, text)
        } else {
            dest.write_str(text)
        }
    }

    #[inline]
    fn write_escaped_char<W: Write>(&self, dest: W, c: char) -> fmt::Result {
        askama::filters::Html.write_escaped_char(dest, c)
    }
}

/// Whether `bytes` hold any byte HTML escaping changes.
fn holds_html_syntax(bytes: &[u8]) -> bool {
    fn special(b: u8) -> bool {
        matches!(b, b'<' | b'>' | b'&' | b'"' | b'\'')
    }
    let mut chunks = bytes.chunks_exact(16);
    for chunk in &mut chunks {
        // No early exit inside the chunk: the sixteen tests become one vector comparison.
        if chunk.iter().fold(false, |hit, &b| hit | special(b)) {
            return true;
        }
    }
    chunks.remainder().iter().any(|&b| special(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ours(s: &str) -> String {
        let mut out = String::new();
        Html.write_escaped_str(&mut out, s).unwrap();
        out
    }

    fn askamas(s: &str) -> String {
        let mut out = String::new();
        askama::filters::Html
            .write_escaped_str(&mut out, s)
            .unwrap();
        out
    }

    #[test]
    fn writes_exactly_what_askama_writes() {
        let mut cases: Vec<String> = [
            "",
            "plain",
            "DEL-8d78379e-f4fb-4f77-8f05-0260ccc0cdaa-99136",
            "<script>alert(1)</script>",
            "Tom & Jerry's \"show\"",
            "a\u{0}b",
            "\u{202e}evil\u{202c} bidi",
            "नमस्ते & 日本語 <b>",
            "exactly sixteen!",
            "fifteen bytes..",
        ]
        .map(String::from)
        .to_vec();
        // Each special byte at every position of a chunk and of the remainder.
        for special in ['<', '>', '&', '"', '\''] {
            for at in 0..40 {
                let mut s = "x".repeat(40);
                s.replace_range(at..at + 1, &special.to_string());
                cases.push(s);
            }
        }
        for case in &cases {
            assert_eq!(ours(case), askamas(case), "{case:?}");
        }
        assert_eq!(ours("<a href=\"x\">"), "&#60;a href=&#34;x&#34;&#62;");
    }

    #[test]
    fn templates_escape_through_it() {
        #[derive(askama::Template)]
        #[template(source = "<p title=\"{{ t }}\">{{ t }}</p>", ext = "html")]
        struct Page<'a> {
            t: &'a str,
        }
        let page = askama::Template::render(&Page { t: "a<b & 'c'" }).unwrap();
        assert_eq!(
            page,
            "<p title=\"a&#60;b &#38; &#39;c&#39;\">a&#60;b &#38; &#39;c&#39;</p>"
        );
    }
}
