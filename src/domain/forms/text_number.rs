//! Numbers ↔ the text of an input, one way for the form engine and the draft editor.

use serde_json::{Number, Value};

/// A number as an input shows it: `3.0` → `3`, `2.5` → `2.5`, none → empty.
pub fn number_text(n: Option<f64>) -> String {
    match n {
        Some(n) if n.fract() == 0.0 && n.abs() < 9e15 => format!("{}", n as i64),
        Some(n) => n.to_string(),
        None => String::new(),
    }
}

/// A number as typed: an integer stays an integer, a decimal a decimal (a whole decimal becomes an
/// integer when `integer`), anything else stays the text that was typed (so a form can show it again
/// with "must be a number").
pub fn number_value(s: &str, integer: bool) -> Value {
    let t = s.trim();
    if let Ok(i) = t.parse::<i64>() {
        return Value::Number(i.into());
    }
    if let Ok(f) = t.parse::<f64>()
        && f.is_finite()
    {
        if integer && f.fract() == 0.0 && f.abs() < 9e15 {
            return Value::Number((f as i64).into());
        }
        if let Some(n) = Number::from_f64(f) {
            return Value::Number(n);
        }
    }
    Value::String(s.to_string())
}

/// Typed text that is not the number asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotANumber;

/// An optional number input: empty → none, a finite number → it, anything else → [`NotANumber`].
pub fn read_number(s: &str) -> Result<Option<f64>, NotANumber> {
    if s.trim().is_empty() {
        return Ok(None);
    }
    number_value(s, false).as_f64().map(Some).ok_or(NotANumber)
}

/// An optional count input (a whole number, 0 or more): empty → none.
pub fn read_count(s: &str) -> Result<Option<u64>, NotANumber> {
    if s.trim().is_empty() {
        return Ok(None);
    }
    number_value(s, true).as_u64().map(Some).ok_or(NotANumber)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_and_text_round_trip() {
        assert_eq!(number_text(Some(3.0)), "3");
        assert_eq!(number_text(Some(2.5)), "2.5");
        assert_eq!(number_text(Some(-0.125)), "-0.125");
        assert_eq!(number_text(None), "");
        for n in [0.0, 7.0, 2.5, -1e-3, 1e20] {
            assert_eq!(read_number(&number_text(Some(n))), Ok(Some(n)));
        }
        assert_eq!(number_value(" 3 ", true), json!(3));
        assert_eq!(number_value("3.0", true), json!(3));
        assert_eq!(number_value("3.0", false), json!(3.0));
        assert_eq!(number_value("soon", false), json!("soon"));
        assert_eq!(number_value("1e400", false), json!("1e400"));
        assert_eq!(read_number(""), Ok(None));
        assert_eq!(read_number("ten"), Err(NotANumber));
        assert_eq!(read_count("4"), Ok(Some(4)));
        assert_eq!(read_count("4.0"), Ok(Some(4)));
        assert_eq!(read_count("-1"), Err(NotANumber));
        assert_eq!(read_count("1.5"), Err(NotANumber));
    }
}
