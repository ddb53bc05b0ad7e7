//! Small view types shared by templates.

use chrono::{DateTime, Datelike, Timelike, Utc};

use std::fmt::Write;

use askama::filters::Safe;

use crate::domain::diff;
use crate::service::activity::AuditEntry;

/// A timestamp: shown in UTC by the server, rewritten to the viewer's timezone by app.js.
#[derive(Debug, Clone, Copy)]
pub struct Ts(pub DateTime<Utc>);

// Timestamps, waits and links are written into pages piece by piece, through askama's
// `FastWritable` as well as `Display`: a queue page writes a few hundred of them, and through
// `core::fmt` (chrono's `format` even parsed its pattern on every call) they were a sixth of the
// page's rendering.

/// Writes a value into a page (or a string) piece by piece; askama and `Display` both use it.
pub trait WritePieces {
    fn write_pieces(&self, dest: &mut dyn Write) -> std::fmt::Result;
}

/// Implements askama's `FastWritable` and `Display` for types that [`WritePieces`].
macro_rules! written_in_pieces {
    ($($t:ident $(<$l:lifetime>)?),* $(,)?) => { $(
        impl askama::FastWritable for $t $(<$l>)? {
            fn write_into(&self, dest: &mut dyn std::fmt::Write, _: &dyn askama::Values) -> askama::Result<()> {
                Ok($crate::web::view::WritePieces::write_pieces(self, dest)?)
            }
        }

        impl std::fmt::Display for $t $(<$l>)? {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                $crate::web::view::WritePieces::write_pieces(self, f)
            }
        }
    )* };
}
pub(crate) use written_in_pieces;

/// `n` (0–99) as two digits, from a table: no formatting machinery, no UTF-8 check.
pub fn write_two_digits(dest: &mut dyn Write, n: u32) -> std::fmt::Result {
    const PAIRS: &str = "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";
    let at = 2 * n.min(99) as usize;
    dest.write_str(&PAIRS[at..at + 2])
}

/// `n` in decimal.
pub fn write_number(dest: &mut dyn Write, n: u64) -> std::fmt::Result {
    dest.write_str(itoa::Buffer::new().format(n))
}

impl Ts {
    /// `2026-10-25T20:55:30Z`, for `<time datetime>`.
    pub fn iso(&self) -> Iso {
        Iso(self.0)
    }

    fn write_date(&self, dest: &mut dyn Write) -> std::fmt::Result {
        let t = &self.0;
        let year = t.year().clamp(0, 9999) as u32;
        write_two_digits(dest, year / 100)?;
        write_two_digits(dest, year % 100)?;
        dest.write_str("-")?;
        write_two_digits(dest, t.month())?;
        dest.write_str("-")?;
        write_two_digits(dest, t.day())
    }
}

/// A timestamp as [`Ts::iso`] writes it.
#[derive(Debug, Clone, Copy)]
pub struct Iso(DateTime<Utc>);

impl WritePieces for Iso {
    fn write_pieces(&self, dest: &mut dyn Write) -> std::fmt::Result {
        let t = &self.0;
        Ts(*t).write_date(dest)?;
        dest.write_str("T")?;
        write_two_digits(dest, t.hour())?;
        dest.write_str(":")?;
        write_two_digits(dest, t.minute())?;
        dest.write_str(":")?;
        write_two_digits(dest, t.second())?;
        dest.write_str("Z")
    }
}

/// `2026-10-25 20:55 UTC`.
impl WritePieces for Ts {
    fn write_pieces(&self, dest: &mut dyn Write) -> std::fmt::Result {
        let t = &self.0;
        self.write_date(dest)?;
        dest.write_str(" ")?;
        write_two_digits(dest, t.hour())?;
        dest.write_str(":")?;
        write_two_digits(dest, t.minute())?;
        dest.write_str(" UTC")
    }
}

written_in_pieces!(Ts, Iso);

/// Escapes `s` for HTML and lets it wrap after `.`, `-`, `_`, `/` and before `@` (`<wbr>`), so a
/// long e-mail address or id in a heading breaks at a sensible point instead of mid-word.
pub fn breakable(s: &str) -> Safe<String> {
    let mut out = String::with_capacity(s.len() + 16);
    for ch in s.chars() {
        if ch == '@' {
            out.push_str("<wbr>");
        }
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
        if matches!(ch, '.' | '-' | '_' | '/') {
            out.push_str("<wbr>");
        }
    }
    Safe(out)
}

/// Values longer than this are cut in the activity tables (the whole value is in the title).
const SHOWN_CHARS: usize = 60;

/// One value of a change: as shown (perhaps cut short) and whole.
pub struct Shown {
    pub text: String,
    pub full: String,
}

impl Shown {
    fn new(full: String) -> Self {
        let text = match full.char_indices().nth(SHOWN_CHARS) {
            Some((i, _)) => format!("{}…", full[..i].trim_end()),
            None => full.clone(),
        };
        Shown { text, full }
    }

    pub fn is_cut(&self) -> bool {
        self.text != self.full
    }

    pub fn is_absent(&self) -> bool {
        self.full == diff::ABSENT
    }
}

/// One changed path of an audit entry.
pub struct ChangeLine {
    pub path: String,
    pub before: Shown,
    pub after: Shown,
}

/// Up to this many changes are listed openly; more fold into a `<details>`.
pub const OPEN_CHANGES: usize = 5;

/// One audit entry as a row of the activity tables.
pub struct AuditRow {
    pub at: Ts,
    pub actor: String,
    pub entity: String,
    pub action: String,
    pub changes: Vec<ChangeLine>,
}

impl AuditRow {
    /// Whether the changes are folded away (too many to list openly).
    pub fn folded(&self) -> bool {
        self.changes.len() > OPEN_CHANGES
    }
}

impl From<AuditEntry> for AuditRow {
    fn from(a: AuditEntry) -> Self {
        let actor = match (&a.actor_email, &a.actor_role) {
            (Some(e), Some(r)) => format!("{e} ({r})"),
            (Some(e), None) => e.clone(),
            _ => "system".into(),
        };
        AuditRow {
            at: Ts(a.at),
            actor,
            entity: format!("{} {}", a.entity_type, a.entity_id),
            action: a.action.replace('_', " "),
            changes: diff::changes(
                a.before.as_ref().map(|j| &j.0),
                a.after.as_ref().map(|j| &j.0),
            )
            .into_iter()
            .map(|c| ChangeLine {
                path: c.path,
                before: Shown::new(c.before),
                after: Shown::new(c.after),
            })
            .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn timestamps_read_as_chrono_formats_them() {
        for t in [
            Utc.with_ymd_and_hms(2026, 10, 25, 20, 55, 30).unwrap(),
            Utc.with_ymd_and_hms(1999, 1, 2, 3, 4, 5).unwrap(),
            Utc.with_ymd_and_hms(2026, 12, 31, 23, 59, 59).unwrap(),
        ] {
            let ts = Ts(t);
            assert_eq!(
                ts.iso().to_string(),
                t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            );
            assert_eq!(ts.to_string(), t.format("%Y-%m-%d %H:%M UTC").to_string());
        }
        let t = Utc.with_ymd_and_hms(2026, 10, 25, 20, 55, 30).unwrap();
        assert_eq!(Ts(t).iso().to_string(), "2026-10-25T20:55:30Z");
        assert_eq!(Ts(t).to_string(), "2026-10-25 20:55 UTC");
    }
}
