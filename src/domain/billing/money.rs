//! Showing paise as rupees, grouped the Indian way (1,44,000.00).

/// `₹1,44,000.00` for 14 400 000 paise.
pub fn inr(paise: i64) -> String {
    format!("₹{}", rupees(paise))
}

/// `1,44,000.00` for 14 400 000 paise (no currency sign).
pub fn rupees(paise: i64) -> String {
    let sign = if paise < 0 { "-" } else { "" };
    let p = paise.unsigned_abs();
    let (whole, fraction) = (p / 100, p % 100);
    let digits = whole.to_string();
    // The last three digits form one group, every two before them another.
    let (head, tail) = digits.split_at(digits.len().saturating_sub(3));
    let mut groups: Vec<&str> = Vec::new();
    let mut rest = head;
    while rest.len() > 2 {
        let (a, b) = rest.split_at(rest.len() - 2);
        groups.insert(0, b);
        rest = a;
    }
    if !rest.is_empty() {
        groups.insert(0, rest);
    }
    groups.push(tail);
    format!("{sign}{}.{fraction:02}", groups.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_like_indian_accounts() {
        assert_eq!(inr(0), "₹0.00");
        assert_eq!(inr(5), "₹0.05");
        assert_eq!(inr(99_900), "₹999.00");
        assert_eq!(inr(1_200_000), "₹12,000.00");
        assert_eq!(inr(14_400_000), "₹1,44,000.00");
        assert_eq!(inr(123_456_789_012), "₹1,23,45,67,890.12");
        assert_eq!(rupees(-1_200_050), "-12,000.50");
    }
}
