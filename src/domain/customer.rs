//! What a customer's details may be, and how typed values are tidied before they are kept. Pure:
//! the service applies it to the staff forms and to the customer portal alike, so both refuse the
//! same things in the same words.

use super::gstin::Gstin;
use super::roles::normalise_email;
use super::text::{refused_message, text_problem};

/// The longest name (the database checks it too).
pub const MAX_NAME_CHARS: usize = 200;
/// The longest billing address (the database checks it too).
pub const MAX_ADDRESS_CHARS: usize = 1000;

/// The customer's (company's) name: one line, 1 to 200 characters, spaces around it dropped.
pub fn name(raw: &str) -> Result<String, String> {
    if let Some(why) = text_problem(raw, true) {
        return Err(refused_message(why));
    }
    let name = raw.trim();
    let n = name.chars().count();
    if n == 0 {
        Err("Enter the customer's name.".into())
    } else if n > MAX_NAME_CHARS {
        Err(format!(
            "Use at most {MAX_NAME_CHARS} characters (this name has {n})."
        ))
    } else {
        Ok(name.to_string())
    }
}

/// The contact e-mail, lower-cased.
pub fn email(raw: &str) -> Result<String, String> {
    if let Some(why) = text_problem(raw, true) {
        return Err(refused_message(why));
    }
    normalise_email(raw).map_err(str::to_string)
}

/// The billing address as printed on invoices: line breaks kept (as `\n`), spaces at line ends and
/// blank lines and spaces around it dropped, at most 1000 characters; empty is no address.
pub fn billing_address(raw: &str) -> Result<Option<String>, String> {
    if let Some(why) = text_problem(raw, false) {
        return Err(refused_message(why));
    }
    if raw.contains('\t') {
        return Err("Use spaces instead of tabs in the address.".into());
    }
    let lines: Vec<&str> = raw
        .split('\n')
        .map(|l| l.trim_end_matches('\r').trim_end())
        .collect();
    let address = lines.join("\n").trim().to_string();
    let n = address.chars().count();
    if n > MAX_ADDRESS_CHARS {
        return Err(format!(
            "Use at most {MAX_ADDRESS_CHARS} characters (this address has {n})."
        ));
    }
    Ok(Some(address).filter(|a| !a.is_empty()))
}

/// The GSTIN, optional: empty is none.
pub fn gstin(raw: &str) -> Result<Option<Gstin>, String> {
    if let Some(why) = text_problem(raw, true) {
        return Err(refused_message(why));
    }
    Gstin::parse_optional(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(name("  Sunrise Clinic ").unwrap(), "Sunrise Clinic");
        assert!(
            name("   ")
                .unwrap_err()
                .contains("Enter the customer's name")
        );
        assert!(name(&"x".repeat(201)).unwrap_err().contains("has 201"));
        assert_eq!(name(&"é".repeat(200)).unwrap().chars().count(), 200);
        assert!(name("a\0b").unwrap_err().contains("NUL"));
        assert!(name("a\u{202e}b").unwrap_err().contains("bidirectional"));
        assert!(
            name("two\nlines")
                .unwrap_err()
                .contains("control character")
        );
    }

    #[test]
    fn emails() {
        assert_eq!(
            email(" Desk@Clinic.Example ").unwrap(),
            "desk@clinic.example"
        );
        assert!(email("nope").is_err());
        assert!(
            email("a\u{2066}@x.io")
                .unwrap_err()
                .contains("bidirectional")
        );
    }

    #[test]
    fn addresses_keep_their_lines() {
        assert_eq!(
            billing_address("\r\n  12 MG Road  \r\nPune 411001\r\n\r\n").unwrap(),
            Some("12 MG Road\nPune 411001".into())
        );
        assert_eq!(billing_address(" \r\n ").unwrap(), None);
        assert_eq!(billing_address("").unwrap(), None);
        assert!(
            billing_address(&"x".repeat(1001))
                .unwrap_err()
                .contains("has 1001")
        );
        // Line ends count once, as kept.
        let ten_lines = vec!["y".repeat(99); 10].join("\r\n");
        assert_eq!(billing_address(&ten_lines).unwrap().unwrap().len(), 999);
        assert!(billing_address("a\0").unwrap_err().contains("NUL"));
        assert!(billing_address("a\tb").unwrap_err().contains("tabs"));
    }

    #[test]
    fn gstins_are_optional() {
        assert_eq!(gstin("").unwrap(), None);
        assert_eq!(
            gstin("29abcde1234f1z5").unwrap().unwrap().as_str(),
            "29ABCDE1234F1Z5"
        );
        assert!(gstin("29ABCDE1234F1Z").is_err());
        assert!(
            gstin("29ABCDE1234F1Z\u{202e}")
                .unwrap_err()
                .contains("bidirectional")
        );
    }
}
