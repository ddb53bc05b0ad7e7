//! GSTIN, India's 15-character GST identification number, and the GST state codes its first two
//! digits name. Pure: what the forms, the portal and invoices agree on.
//!
//! Checked here: exactly 15 characters of `0-9A-Z` (after trimming and upper-casing; spaces inside
//! are not removed, they are a typing mistake to show) and a known state code. Not checked: the
//! embedded PAN's shape and the check character, which special registrations (UIN, OIDAR, TDS)
//! do not all follow.

use std::fmt;

/// The length of every GSTIN.
pub const LEN: usize = 15;

/// The GST state and union territory codes (the first two digits of a GSTIN, and the place of
/// supply on invoices), as the GST system lists them.
pub const STATES: [(&str, &str); 40] = [
    ("01", "Jammu and Kashmir"),
    ("02", "Himachal Pradesh"),
    ("03", "Punjab"),
    ("04", "Chandigarh"),
    ("05", "Uttarakhand"),
    ("06", "Haryana"),
    ("07", "Delhi"),
    ("08", "Rajasthan"),
    ("09", "Uttar Pradesh"),
    ("10", "Bihar"),
    ("11", "Sikkim"),
    ("12", "Arunachal Pradesh"),
    ("13", "Nagaland"),
    ("14", "Manipur"),
    ("15", "Mizoram"),
    ("16", "Tripura"),
    ("17", "Meghalaya"),
    ("18", "Assam"),
    ("19", "West Bengal"),
    ("20", "Jharkhand"),
    ("21", "Odisha"),
    ("22", "Chhattisgarh"),
    ("23", "Madhya Pradesh"),
    ("24", "Gujarat"),
    // Daman and Diu's own code until the merger of 26 January 2020; older registrations keep it.
    ("25", "Daman and Diu"),
    ("26", "Dadra and Nagar Haveli and Daman and Diu"),
    ("27", "Maharashtra"),
    // The code of undivided Andhra Pradesh; registrations made since use 37.
    ("28", "Andhra Pradesh (before division)"),
    ("29", "Karnataka"),
    ("30", "Goa"),
    ("31", "Lakshadweep"),
    ("32", "Kerala"),
    ("33", "Tamil Nadu"),
    ("34", "Puducherry"),
    ("35", "Andaman and Nicobar Islands"),
    ("36", "Telangana"),
    ("37", "Andhra Pradesh"),
    ("38", "Ladakh"),
    ("97", "Other Territory"),
    ("99", "Centre Jurisdiction"),
];

/// The state or territory a two-digit GST state code stands for.
pub fn state_name(code: &str) -> Option<&'static str> {
    STATES.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)
}

/// A well-formed GSTIN: upper case, 15 characters of `0-9A-Z`, a known state code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gstin(String);

impl Gstin {
    /// Reads a GSTIN as typed: surrounding spaces are dropped and letters upper-cased. The error is
    /// a sentence for the form.
    pub fn parse(raw: &str) -> Result<Gstin, String> {
        let s = raw.trim().to_uppercase();
        if s.is_empty() {
            return Err("Enter the GSTIN, or leave the field empty.".into());
        }
        if let Some(c) = s.chars().find(|c| !c.is_ascii_alphanumeric()) {
            let what = match c {
                ' ' => "a space".to_string(),
                c if c.is_whitespace() => "a blank".to_string(),
                c if c.is_ascii_graphic() || c.is_alphanumeric() => format!("\u{201c}{c}\u{201d}"),
                // Invisible or look-alike characters are named by their code point.
                c => format!("U+{:04X}", c as u32),
            };
            return Err(format!(
                "A GSTIN has only digits and letters A\u{2013}Z; this one has {what}."
            ));
        }
        let n = s.chars().count();
        if n != LEN {
            return Err(format!(
                "A GSTIN has exactly {LEN} characters; this one has {n}."
            ));
        }
        let code = &s[..2];
        if !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "A GSTIN starts with the two digits of its state code (27 for Maharashtra); this one starts with \u{201c}{code}\u{201d}."
            ));
        }
        if state_name(code).is_none() {
            return Err(format!(
                "{code} is not a GST state code; check the first two digits."
            ));
        }
        Ok(Gstin(s))
    }

    /// Empty input is no GSTIN (it is optional); anything else must be one.
    pub fn parse_optional(raw: &str) -> Result<Option<Gstin>, String> {
        if raw.trim().is_empty() {
            Ok(None)
        } else {
            Gstin::parse(raw).map(Some)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    /// The two-digit state code.
    pub fn state_code(&self) -> &str {
        &self.0[..2]
    }

    /// The state or territory it is registered in.
    pub fn state_name(&self) -> &'static str {
        // Parsing made sure the code is in the table.
        state_name(self.state_code()).unwrap_or("unknown state")
    }
}

impl fmt::Display for Gstin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The state a stored GSTIN (or a fragment of one) names, for display: `None` when it names none.
pub fn state_of(gstin: &str) -> Option<&'static str> {
    gstin.get(..2).and_then(state_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_gstin_as_typed() {
        let g = Gstin::parse("  27aapfu0939f1zv ").unwrap();
        assert_eq!(g.as_str(), "27AAPFU0939F1ZV");
        assert_eq!(g.state_code(), "27");
        assert_eq!(g.state_name(), "Maharashtra");
        assert_eq!(g.to_string(), "27AAPFU0939F1ZV");
        assert_eq!(
            Gstin::parse("99AAAGM0289C1ZI").unwrap().state_name(),
            "Centre Jurisdiction"
        );
    }

    #[test]
    fn says_what_is_wrong() {
        let err = |s: &str| Gstin::parse(s).unwrap_err();
        assert!(err("27AAPFU0939F1Z").contains("exactly 15 characters; this one has 14"));
        assert!(err("27AAPFU0939F1ZVX").contains("this one has 16"));
        assert!(
            err("27AAPFU 0939F1ZV").contains("has a space"),
            "{}",
            err("27AAPFU 0939F1ZV")
        );
        assert!(err("27AAPFU-939F1ZV").contains("\u{201c}-\u{201d}"));
        assert!(err("27ÄAPFU0939F1ZV").contains("\u{201c}Ä\u{201d}"));
        assert!(err("27AAPFU\u{200b}939F1ZV").contains("U+200B"));
        assert!(err("2XAAPFU0939F1ZV").contains("starts with the two digits"));
        assert!(err("00AAPFU0939F1ZV").contains("00 is not a GST state code"));
        assert!(err("39AAPFU0939F1ZV").contains("39 is not a GST state code"));
        assert!(err("   ").contains("Enter the GSTIN"));
    }

    #[test]
    fn optional_means_empty_is_none() {
        assert_eq!(Gstin::parse_optional("").unwrap(), None);
        assert_eq!(Gstin::parse_optional(" \t").unwrap(), None);
        assert!(Gstin::parse_optional("27AAPFU0939F1ZV").unwrap().is_some());
        assert!(Gstin::parse_optional("nope").is_err());
    }

    #[test]
    fn the_state_table() {
        assert_eq!(state_name("01"), Some("Jammu and Kashmir"));
        assert_eq!(state_name("38"), Some("Ladakh"));
        assert_eq!(state_name("97"), Some("Other Territory"));
        assert_eq!(state_name("99"), Some("Centre Jurisdiction"));
        assert_eq!(state_name("39"), None);
        assert_eq!(state_name("96"), None);
        // 01 to 38 without a gap, then 97 and 99; each code once, each a state code's shape.
        let codes: Vec<&str> = STATES.iter().map(|(c, _)| *c).collect();
        let mut expected: Vec<String> = (1..=38).map(|n| format!("{n:02}")).collect();
        expected.extend(["97".to_string(), "99".to_string()]);
        assert_eq!(codes, expected);
        assert_eq!(state_of("29ABCDE1234F1Z5"), Some("Karnataka"));
        assert_eq!(state_of("2"), None);
        assert_eq!(state_of(""), None);
    }
}
