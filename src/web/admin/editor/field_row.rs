//! A field row: a field as the editor's inputs hold it (all text), showing the inputs its type uses.

use serde_json::Value;

use super::names::input_id;
use super::rows::{Look, identity, name_or_new};
use crate::domain::catalog_edit::props;
use crate::domain::definition::{FIELD_KEYS, Field, FieldType};
use crate::domain::forms::text_number::number_text;
use crate::domain::paths::{index, join};

/// The words for a property's input, in rows, labels and problem summaries.
pub fn prop_label(prop: &str) -> &'static str {
    match prop {
        "key" => "Key",
        "label" => "Label",
        "type" => "Type",
        "required" => "Required",
        "description" => "Help text",
        "options" => "Options",
        "item_type" => "Item type",
        "default" => "Default",
        "min" => "Minimum",
        "max" => "Maximum",
        "exclusive_min" => "Minimum is exclusive",
        "min_length" => "Min length",
        "max_length" => "Max length",
        "pattern" => "Pattern",
        "min_items" => "Min entries",
        "max_items" => "Max entries",
        "secret_ref" => "Secret reference",
        "fields" => "Sub-fields",
        "kind" => "Rule",
        "field" => "Field",
        "other" => "List field",
        "goal_template_id" => "Id",
        "name" => "Name",
        "default_frequency" => "Default frequency",
        "allowed_frequencies" => "Allowed frequencies",
        "skill_binding" => "Skill binding",
        "display_name" => "Display name",
        "approval_required" => "Deliverables need approval",
        "deterministic" => "Deterministic",
        _ => "",
    }
}

/// A field as the editor's inputs hold it (all text).
#[derive(Debug, Clone, Default)]
pub struct FieldRow {
    /// "Field" or "Settings field".
    pub noun: &'static str,
    pub prefix: String,
    pub index: usize,
    pub last: bool,
    pub key: String,
    pub label: String,
    pub field_type: String,
    pub required: bool,
    pub description: String,
    pub options: String,
    pub item_type: String,
    pub default: String,
    pub min: String,
    pub max: String,
    pub exclusive_min: bool,
    pub min_length: String,
    pub max_length: String,
    pub pattern: String,
    pub min_items: String,
    pub max_items: String,
    pub secret_ref: bool,
    pub sub_fields: String,
    /// `type` or `list:item_type` as rendered, sent back to notice a change of type.
    pub shape: String,
    /// The properties with an input: those the type uses, and any other that holds a value or a
    /// problem (so nothing is hidden that would be lost or left unexplained).
    pub shown: Vec<&'static str>,
    pub open: bool,
    used: Vec<&'static str>,
}

impl FieldRow {
    pub fn name(&self, prop: &str) -> String {
        join(&self.prefix, prop)
    }
    pub fn id(&self, prop: &str) -> String {
        input_id(&self.prefix, prop)
    }
    pub fn shows(&self, prop: &str) -> bool {
        self.shown.contains(&prop)
    }
    pub fn shows_any(&self, props: &[&str]) -> bool {
        props.iter().any(|p| self.shows(p))
    }
    /// Shown although the type does not use it.
    pub fn stray(&self, prop: &str) -> bool {
        self.shows(prop) && !self.used.contains(&prop)
    }
    /// The help under an input the type does not use.
    pub fn hint(&self, prop: &str) -> String {
        if self.stray(prop) {
            format!("Not used by {} fields: empty it.", self.type_words())
        } else {
            String::new()
        }
    }
    /// "number", "list of enum".
    pub fn type_words(&self) -> String {
        match self.item_type.as_str() {
            "" => self.field_type.clone(),
            it if self.field_type == "list" => format!("list of {it}"),
            _ => self.field_type.clone(),
        }
    }
    pub fn default_help(&self) -> &'static str {
        match self.field_type.as_str() {
            "list" => "Comma-separated (a, b, c) or a JSON list",
            "object" => "A JSON object",
            "boolean" => "true or false",
            "enum" => "One of the options",
            _ => "",
        }
    }
    /// A button's `op` for this row (`up:cf[3]`).
    pub fn op(&self, verb: &str) -> String {
        format!("{verb}:{}", self.prefix)
    }
    /// "Move Field 4 (Coin) up": a button's name for screen readers.
    pub fn says(&self, verb: &str, tail: &str) -> String {
        format!("{verb} {}{tail}", self.title())
    }
    /// "Field 4 (Coin)", or "Field 12 (new)".
    pub fn title(&self) -> String {
        format!(
            "{} {} ({})",
            self.noun,
            self.index + 1,
            name_or_new(&[&self.label, &self.key])
        )
    }
}

/// The shape of a field's type as the hidden `__shape` input holds it.
pub fn shape(t: FieldType, item_type: Option<FieldType>) -> String {
    match (t, item_type) {
        (FieldType::List, Some(it)) => format!("list:{}", it.as_str()),
        _ => t.as_str().to_string(),
    }
}

fn default_text(v: &Option<Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items))
            if items
                .iter()
                .all(|i| i.as_str().is_some_and(|s| !s.contains(','))) =>
        {
            items
                .iter()
                .filter_map(|i| i.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        }
        Some(other) => other.to_string(),
    }
}

fn count_text(n: Option<u64>) -> String {
    n.map(|n| n.to_string()).unwrap_or_default()
}

pub fn field_row(list: &str, i: usize, last: bool, f: &Field, look: &Look) -> FieldRow {
    let noun = if list.contains('.') {
        "Settings field"
    } else {
        "Field"
    };
    let prefix = index(list, i);
    let (t, it) = (f.field_type, f.item_type);
    let used: Vec<&'static str> = FIELD_KEYS
        .iter()
        .copied()
        .filter(|p| props::used(p, t, it))
        .collect();
    let shown = FIELD_KEYS
        .iter()
        .copied()
        .filter(|p| used.contains(p) || props::holds(f, p) || look.errors.has(&join(&prefix, p)))
        .collect();
    FieldRow {
        noun,
        open: look.open(&prefix, &identity(list, &f.key)),
        prefix,
        index: i,
        last,
        key: f.key.clone(),
        label: f.label.clone(),
        field_type: t.as_str().into(),
        required: f.required,
        description: f.description.clone().unwrap_or_default(),
        options: f.options.clone().unwrap_or_default().join("\n"),
        item_type: it.map(|t| t.as_str().to_string()).unwrap_or_default(),
        default: default_text(&f.default),
        min: number_text(f.min),
        max: number_text(f.max),
        exclusive_min: f.exclusive_min,
        min_length: count_text(f.min_length),
        max_length: count_text(f.max_length),
        pattern: f.pattern.clone().unwrap_or_default(),
        min_items: count_text(f.min_items),
        max_items: count_text(f.max_items),
        secret_ref: f.secret_ref,
        sub_fields: f
            .fields
            .as_ref()
            .filter(|s| !s.is_empty())
            .map(|s| serde_json::to_string_pretty(s).unwrap_or_default())
            .unwrap_or_default(),
        shape: shape(t, it),
        shown,
        used,
    }
}

pub fn field_rows(list: &str, fields: &[Field], look: &Look) -> Vec<FieldRow> {
    let n = fields.len();
    fields
        .iter()
        .enumerate()
        .map(|(i, f)| field_row(list, i, i + 1 == n, f, look))
        .collect()
}
