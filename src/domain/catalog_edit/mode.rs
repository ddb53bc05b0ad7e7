//! The editor's two modes over one document: structured (an input per property) and JSON (the whole
//! definition as text). Switching keeps the work, unless it cannot be read: then the editor stays.

use serde_json::Value;

use crate::domain::definition::Definition;
use crate::error::Violation;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EditorMode {
    #[default]
    Structured,
    Json,
}

impl EditorMode {
    pub fn as_str(self) -> &'static str {
        match self {
            EditorMode::Structured => "structured",
            EditorMode::Json => "json",
        }
    }

    pub fn parse(s: &str) -> Option<EditorMode> {
        match s {
            "structured" => Some(EditorMode::Structured),
            "json" => Some(EditorMode::Json),
            _ => None,
        }
    }

    /// The mode to show after asking for `to`: the work in this mode must be readable to leave it.
    pub fn switch(self, to: EditorMode, readable: bool) -> EditorMode {
        if readable { to } else { self }
    }
}

/// Why the JSON editor's text is not a definition.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonProblem {
    /// Not JSON at all (serde's reason, with line and column).
    Syntax(String),
    /// JSON, but not the definition format (each problem with its path).
    Shape(Vec<Violation>),
}

impl JsonProblem {
    /// The problems, the syntax one named after the input that holds the text.
    pub fn into_violations(self, input: &str) -> Vec<Violation> {
        match self {
            JsonProblem::Syntax(e) => vec![Violation::new(
                input,
                format!("This is not valid JSON: {e}."),
            )],
            JsonProblem::Shape(v) => v,
        }
    }
}

/// Reads the JSON editor's text.
pub fn read_json(text: &str) -> Result<Definition, JsonProblem> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| JsonProblem::Syntax(e.to_string()))?;
    Definition::from_json(&value).map_err(JsonProblem::Shape)
}

/// The JSON editor's text for a definition.
pub fn json_text(d: &Definition) -> String {
    serde_json::to_string_pretty(d).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_switch_only_with_readable_work() {
        use EditorMode::*;
        assert_eq!(EditorMode::parse("json"), Some(Json));
        assert_eq!(EditorMode::parse("structured"), Some(Structured));
        assert_eq!(EditorMode::parse("JSON"), None);
        assert_eq!(Json.as_str(), "json");
        assert_eq!(Structured.switch(Json, true), Json);
        assert_eq!(Structured.switch(Json, false), Structured);
        assert_eq!(Json.switch(Structured, false), Json);
        assert_eq!(Json.switch(Structured, true), Structured);
    }

    #[test]
    fn json_text_reads_back_and_problems_say_why() {
        for d in crate::domain::builtin::definitions() {
            assert_eq!(read_json(&json_text(&d)), Ok(d));
        }
        let Err(JsonProblem::Syntax(e)) = read_json("{ not json") else {
            panic!("syntax")
        };
        assert!(e.contains("line 1"), "{e}");
        let v = JsonProblem::Syntax(e).into_violations("raw_json");
        assert_eq!(v[0].path, "raw_json");
        assert!(v[0].message.starts_with("This is not valid JSON: "));
        let Err(JsonProblem::Shape(v)) = read_json(r#"{"agent_type_id": 5}"#) else {
            panic!("shape")
        };
        assert!(v.iter().any(|v| v.path == "agent_type_id"), "{v:?}");
    }
}
