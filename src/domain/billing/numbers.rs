//! Invoice and receipt numbers: `INV-YYYYMMDD-####`, `RCT-YYYYMMDD-####`, counted per billing day.
//! The day is the date in the billing timezone; the counter itself lives in the database.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    Invoice,
    Receipt,
}

impl DocumentKind {
    /// The counter's name in `document_counters`.
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Invoice => "invoice",
            DocumentKind::Receipt => "receipt",
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            DocumentKind::Invoice => "INV",
            DocumentKind::Receipt => "RCT",
        }
    }
}

/// `YYYYMMDD` of `at` in the billing timezone.
pub fn billing_day(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%Y%m%d").to_string()
}

/// The document number for the `n`th document of that kind on `day` (four digits at least).
pub fn number(kind: DocumentKind, day: &str, n: i64) -> String {
    format!("{}-{day}-{n:04}", kind.prefix())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_day_is_the_billing_timezones() {
        // 20:00 UTC on 30 Nov is already 1 Dec in India (UTC+05:30).
        let at = DateTime::parse_from_rfc3339("2026-11-30T20:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(billing_day(at, chrono_tz::Asia::Kolkata), "20261201");
        assert_eq!(billing_day(at, chrono_tz::UTC), "20261130");
        assert_eq!(
            number(DocumentKind::Invoice, "20261201", 7),
            "INV-20261201-0007"
        );
        assert_eq!(
            number(DocumentKind::Receipt, "20261201", 12_345),
            "RCT-20261201-12345"
        );
    }
}
