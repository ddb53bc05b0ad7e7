//! Agent type definitions (SPEC §3): the document format, semantic versions and meta-validation.
//!
//! Every key of the Phase-1 shape is always serialised (nulls included), every newer key only when set,
//! so a Phase-1 document reads and writes back unchanged.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::Violation;

pub const FREQUENCIES: [&str; 4] = ["daily", "weekly", "monthly", "on_demand"];

fn is_false(b: &bool) -> bool {
    !*b
}

fn default_true() -> bool {
    true
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    Text,
    Enum,
    List,
    Object,
    Boolean,
    Number,
    Integer,
}

impl FieldType {
    pub const ALL: [FieldType; 7] = [
        FieldType::Text,
        FieldType::Enum,
        FieldType::List,
        FieldType::Object,
        FieldType::Boolean,
        FieldType::Number,
        FieldType::Integer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Enum => "enum",
            FieldType::List => "list",
            FieldType::Object => "object",
            FieldType::Boolean => "boolean",
            FieldType::Number => "number",
            FieldType::Integer => "integer",
        }
    }

    pub fn parse(s: &str) -> Option<FieldType> {
        FieldType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Element types a list may have.
    pub fn can_be_list_item(self) -> bool {
        matches!(
            self,
            FieldType::Text | FieldType::Enum | FieldType::Number | FieldType::Integer
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    pub key: String,
    pub label: String,
    #[serde(rename = "type")]
    pub field_type: FieldType,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub options: Option<Vec<String>>,
    #[serde(default)]
    pub item_type: Option<FieldType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// `min` is exclusive ("greater than"), for amounts that must be positive.
    #[serde(default, skip_serializing_if = "is_false")]
    pub exclusive_min: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_items: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_items: Option<u64>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub secret_ref: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<Vec<Field>>,
}

impl Field {
    /// A plain field of a type, for editors and tests.
    pub fn new(key: &str, label: &str, field_type: FieldType) -> Field {
        Field {
            key: key.into(),
            label: label.into(),
            field_type,
            required: false,
            description: None,
            options: None,
            item_type: None,
            default: None,
            min: None,
            max: None,
            exclusive_min: false,
            min_length: None,
            max_length: None,
            pattern: None,
            min_items: None,
            max_items: None,
            secret_ref: false,
            fields: None,
        }
    }

    /// A list whose elements are enum values.
    pub fn is_multi_select(&self) -> bool {
        self.field_type == FieldType::List && self.item_type == Some(FieldType::Enum)
    }

    /// An object with declared sub-fields (else: free key/value pairs).
    pub fn sub_fields(&self) -> Option<&[Field]> {
        match (&self.field_type, &self.fields) {
            (FieldType::Object, Some(f)) if !f.is_empty() => Some(f),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Rule {
    /// The value of `field` must be an element of the list field `of`.
    MemberOf { field: String, of: String },
    /// Object `field` has a non-empty entry for each element of the list field `keys_from`.
    Covers { field: String, keys_from: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Schema {
    #[serde(default)]
    pub fields: Vec<Field>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<Rule>,
}

impl Schema {
    pub fn field(&self, key: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.key == key)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoalTemplate {
    pub goal_template_id: String,
    pub name: String,
    pub default_frequency: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_frequencies: Option<Vec<String>>,
    #[serde(default)]
    pub settings_schema: Schema,
    #[serde(default)]
    pub skill_binding: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnforcementDefaults {
    #[serde(default = "default_true")]
    pub approval_required: bool,
    #[serde(default)]
    pub deterministic: bool,
}

impl Default for EnforcementDefaults {
    fn default() -> Self {
        EnforcementDefaults {
            approval_required: true,
            deterministic: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    pub agent_type_id: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub config_schema: Schema,
    #[serde(default)]
    pub goal_templates: Vec<GoalTemplate>,
    #[serde(default)]
    pub enforcement_defaults: EnforcementDefaults,
}

impl Definition {
    /// `"{agent_type_id}@{version}"`.
    pub fn id(&self) -> String {
        format!("{}@{}", self.agent_type_id, self.version)
    }

    pub fn name(&self) -> &str {
        self.display_name
            .as_deref()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or(&self.agent_type_id)
    }

    pub fn template(&self, id: &str) -> Option<&GoalTemplate> {
        self.goal_templates
            .iter()
            .find(|t| t.goal_template_id == id)
    }

    /// Reads a document, reporting a malformed one as violations with paths.
    pub fn from_json(value: &Value) -> Result<Definition, Vec<Violation>> {
        serde_path_to_error_like(value)
    }
}

/// serde's own messages name the problem but not where; walk the document to say where.
fn serde_path_to_error_like(value: &Value) -> Result<Definition, Vec<Violation>> {
    match serde_json::from_value::<Definition>(value.clone()) {
        Ok(d) => Ok(d),
        Err(e) => {
            let mut v = vec![];
            locate_shape_errors(value, &mut v);
            if v.is_empty() {
                v.push(Violation::new(
                    "",
                    format!("The document is not a valid definition: {e}."),
                ));
            }
            Err(v)
        }
    }
}

const DEFINITION_KEYS: &[&str] = &[
    "agent_type_id",
    "version",
    "display_name",
    "description",
    "config_schema",
    "goal_templates",
    "enforcement_defaults",
];
const SCHEMA_KEYS: &[&str] = &["fields", "rules"];
/// Every property a field may have, in the order editors show them.
pub const FIELD_KEYS: &[&str] = &[
    "key",
    "label",
    "type",
    "required",
    "description",
    "options",
    "item_type",
    "default",
    "min",
    "max",
    "exclusive_min",
    "min_length",
    "max_length",
    "pattern",
    "min_items",
    "max_items",
    "secret_ref",
    "fields",
];
const TEMPLATE_KEYS: &[&str] = &[
    "goal_template_id",
    "name",
    "default_frequency",
    "allowed_frequencies",
    "settings_schema",
    "skill_binding",
    "description",
];
const ENFORCEMENT_KEYS: &[&str] = &["approval_required", "deterministic"];

/// Names every property that the format does not have (typos would otherwise vanish silently).
fn unknown_keys(
    obj: &serde_json::Map<String, Value>,
    known: &[&str],
    path: &str,
    out: &mut Vec<Violation>,
) {
    for k in obj.keys().filter(|k| !known.contains(&k.as_str())) {
        let p = if path.is_empty() {
            k.clone()
        } else {
            format!("{path}.{k}")
        };
        out.push(Violation::new(
            p,
            format!("There is no property {k:?} here."),
        ));
    }
}

/// Optional text properties must be text (or null).
fn optional_strings(
    obj: &serde_json::Map<String, Value>,
    keys: &[&str],
    path: &str,
    out: &mut Vec<Violation>,
) {
    for k in keys {
        if let Some(v) = obj.get(*k)
            && !(v.is_string() || v.is_null())
        {
            let p = if path.is_empty() {
                (*k).to_string()
            } else {
                format!("{path}.{k}")
            };
            out.push(Violation::new(p, "Must be text."));
        }
    }
}

fn locate_shape_errors(doc: &Value, out: &mut Vec<Violation>) {
    let Some(obj) = doc.as_object() else {
        out.push(Violation::new("", "A definition must be a JSON object."));
        return;
    };
    unknown_keys(obj, DEFINITION_KEYS, "", out);
    for key in ["agent_type_id", "version"] {
        match obj.get(key) {
            Some(Value::String(_)) => {}
            Some(_) => out.push(Violation::new(key, "Must be a string.")),
            None => out.push(Violation::new(key, "Is required.")),
        }
    }
    for key in ["display_name", "description"] {
        if let Some(v) = obj.get(key)
            && !(v.is_string() || v.is_null())
        {
            out.push(Violation::new(key, "Must be a string."));
        }
    }
    if let Some(s) = obj.get("config_schema") {
        locate_schema_errors(s, "config_schema", out);
    }
    match obj.get("goal_templates") {
        None | Some(Value::Null) => {}
        Some(Value::Array(ts)) => {
            for (i, t) in ts.iter().enumerate() {
                let p = format!("goal_templates[{i}]");
                let Some(to) = t.as_object() else {
                    out.push(Violation::new(p, "A goal template must be an object."));
                    continue;
                };
                unknown_keys(to, TEMPLATE_KEYS, &p, out);
                optional_strings(to, &["skill_binding", "description"], &p, out);
                for key in ["goal_template_id", "name", "default_frequency"] {
                    if !to.get(key).is_some_and(Value::is_string) {
                        out.push(Violation::new(
                            format!("{p}.{key}"),
                            "Is required and must be a string.",
                        ));
                    }
                }
                if let Some(s) = to.get("settings_schema") {
                    locate_schema_errors(s, &format!("{p}.settings_schema"), out);
                }
                if let Some(a) = to.get("allowed_frequencies")
                    && !(a.is_null()
                        || a.as_array().is_some_and(|a| a.iter().all(Value::is_string)))
                {
                    out.push(Violation::new(
                        format!("{p}.allowed_frequencies"),
                        "Must be a list of frequencies.",
                    ));
                }
            }
        }
        Some(_) => out.push(Violation::new("goal_templates", "Must be a list.")),
    }
    if let Some(e) = obj.get("enforcement_defaults") {
        match e.as_object() {
            None => out.push(Violation::new("enforcement_defaults", "Must be an object.")),
            Some(eo) => {
                unknown_keys(eo, ENFORCEMENT_KEYS, "enforcement_defaults", out);
                for key in ["approval_required", "deterministic"] {
                    if let Some(v) = eo.get(key)
                        && !v.is_boolean()
                    {
                        out.push(Violation::new(
                            format!("enforcement_defaults.{key}"),
                            "Must be true or false.",
                        ));
                    }
                }
            }
        }
    }
}

fn locate_schema_errors(s: &Value, path: &str, out: &mut Vec<Violation>) {
    let Some(so) = s.as_object() else {
        out.push(Violation::new(
            path,
            "Must be an object with a list of fields.",
        ));
        return;
    };
    unknown_keys(so, SCHEMA_KEYS, path, out);
    match so.get("fields") {
        None => {}
        Some(Value::Array(fs)) => locate_fields_errors(fs, &format!("{path}.fields"), out),
        Some(_) => out.push(Violation::new(
            format!("{path}.fields"),
            "Must be a list of fields.",
        )),
    }
    if let Some(rules) = so.get("rules") {
        match rules.as_array() {
            None => out.push(Violation::new(
                format!("{path}.rules"),
                "Must be a list of rules.",
            )),
            Some(rs) => {
                for (i, r) in rs.iter().enumerate() {
                    let p = format!("{path}.rules[{i}]");
                    let kind = r.get("kind").and_then(Value::as_str);
                    let needs: &[&str] = match kind {
                        Some("member_of") => &["field", "of"],
                        Some("covers") => &["field", "keys_from"],
                        _ => {
                            out.push(Violation::new(
                                format!("{p}.kind"),
                                "A rule's kind is member_of or covers.",
                            ));
                            continue;
                        }
                    };
                    for k in needs {
                        if !r.get(*k).is_some_and(Value::is_string) {
                            out.push(Violation::new(format!("{p}.{k}"), "Name a field here."));
                        }
                    }
                }
            }
        }
    }
}

fn locate_fields_errors(fs: &[Value], path: &str, out: &mut Vec<Violation>) {
    for (i, f) in fs.iter().enumerate() {
        let p = format!("{path}[{i}]");
        let Some(fo) = f.as_object() else {
            out.push(Violation::new(p, "A field must be an object."));
            continue;
        };
        unknown_keys(fo, FIELD_KEYS, &p, out);
        optional_strings(fo, &["description", "pattern"], &p, out);
        for key in ["key", "label"] {
            if !fo.get(key).is_some_and(Value::is_string) {
                out.push(Violation::new(
                    format!("{p}.{key}"),
                    "Is required and must be a string.",
                ));
            }
        }
        match fo.get("type").and_then(Value::as_str) {
            Some(t) if FieldType::parse(t).is_some() => {}
            _ => out.push(Violation::new(
                format!("{p}.type"),
                "Unknown type: use text, enum, list, object, boolean, number or integer.",
            )),
        }
        if let Some(it) = fo.get("item_type")
            && !it.is_null()
            && it.as_str().is_none_or(|t| FieldType::parse(t).is_none())
        {
            out.push(Violation::new(
                format!("{p}.item_type"),
                "Unknown item type.",
            ));
        }
        for key in ["required", "secret_ref", "exclusive_min"] {
            if let Some(v) = fo.get(key)
                && !v.is_boolean()
            {
                out.push(Violation::new(
                    format!("{p}.{key}"),
                    "Must be true or false.",
                ));
            }
        }
        if let Some(o) = fo.get("options")
            && !(o.is_null() || o.as_array().is_some_and(|a| a.iter().all(Value::is_string)))
        {
            out.push(Violation::new(
                format!("{p}.options"),
                "Options must be a list of strings.",
            ));
        }
        for key in ["min", "max"] {
            if let Some(v) = fo.get(key)
                && !(v.is_null() || v.is_number())
            {
                out.push(Violation::new(format!("{p}.{key}"), "Must be a number."));
            }
        }
        for key in ["min_length", "max_length", "min_items", "max_items"] {
            if let Some(v) = fo.get(key)
                && !(v.is_null() || v.is_u64())
            {
                out.push(Violation::new(
                    format!("{p}.{key}"),
                    "Must be a whole number, 0 or more.",
                ));
            }
        }
        if let Some(sub) = fo.get("fields") {
            match sub {
                Value::Null => {}
                Value::Array(a) => locate_fields_errors(a, &format!("{p}.fields"), out),
                _ => out.push(Violation::new(
                    format!("{p}.fields"),
                    "Sub-fields must be a list of fields.",
                )),
            }
        }
    }
}

/// A semantic version `MAJOR.MINOR.PATCH[-prerelease]`.
pub use super::version::Version;

fn valid_type_id(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 100
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || b"._-".contains(c))
}

fn valid_key(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
}

/// Everything wrong with a definition, each problem with its JSON path. Empty: it may be stored.
pub fn meta_validate(d: &Definition) -> Vec<Violation> {
    let mut out = super::limits::check(d);
    // A definition far over the limits is not examined further: its size is the problem to fix.
    if out
        .iter()
        .any(|v| v.path.ends_with(".fields") || v.path == "goal_templates")
    {
        return out;
    }
    if !valid_type_id(&d.agent_type_id) {
        out.push(Violation::new(
            "agent_type_id",
            "Use lowercase letters, digits, dots, dashes or underscores, starting with a letter (like marketing.healthcare.v1).",
        ));
    }
    if Version::parse(&d.version).is_none() {
        out.push(Violation::new(
            "version",
            "Use a semantic version like 1.2.0.",
        ));
    }
    validate_schema(&d.config_schema, "config_schema", &mut out);
    let mut ids = HashSet::new();
    for (i, t) in d.goal_templates.iter().enumerate() {
        let p = format!("goal_templates[{i}]");
        if t.goal_template_id.trim().is_empty() {
            out.push(Violation::new(
                format!("{p}.goal_template_id"),
                "A goal template needs an id.",
            ));
        } else if !valid_type_id(&t.goal_template_id) {
            out.push(Violation::new(
                format!("{p}.goal_template_id"),
                "Use lowercase letters, digits, dots, dashes or underscores, starting with a letter.",
            ));
        } else if !ids.insert(t.goal_template_id.as_str()) {
            out.push(Violation::new(
                format!("{p}.goal_template_id"),
                format!("The id {} is used twice.", t.goal_template_id),
            ));
        }
        if t.name.trim().is_empty() {
            out.push(Violation::new(
                format!("{p}.name"),
                "A goal template needs a name.",
            ));
        }
        if !FREQUENCIES.contains(&t.default_frequency.as_str()) {
            out.push(Violation::new(
                format!("{p}.default_frequency"),
                "Use daily, weekly, monthly or on_demand.",
            ));
        }
        if let Some(allowed) = &t.allowed_frequencies {
            if allowed.is_empty() {
                out.push(Violation::new(
                    format!("{p}.allowed_frequencies"),
                    "List at least one frequency, or leave it out.",
                ));
            }
            for (j, f) in allowed.iter().enumerate() {
                if !FREQUENCIES.contains(&f.as_str()) {
                    out.push(Violation::new(
                        format!("{p}.allowed_frequencies[{j}]"),
                        "Use daily, weekly, monthly or on_demand.",
                    ));
                }
            }
            if !allowed.is_empty()
                && FREQUENCIES.contains(&t.default_frequency.as_str())
                && !allowed.contains(&t.default_frequency)
            {
                out.push(Violation::new(
                    format!("{p}.default_frequency"),
                    "The default frequency must be one of the allowed frequencies.",
                ));
            }
        }
        validate_schema(
            &t.settings_schema,
            &format!("{p}.settings_schema"),
            &mut out,
        );
    }
    out
}

fn validate_schema(s: &Schema, path: &str, out: &mut Vec<Violation>) {
    validate_fields(&s.fields, &format!("{path}.fields"), out);
    for (i, r) in s.rules.iter().enumerate() {
        let p = format!("{path}.rules[{i}]");
        let (field, other, other_key) = match r {
            Rule::MemberOf { field, of } => (field, of, "of"),
            Rule::Covers { field, keys_from } => (field, keys_from, "keys_from"),
        };
        match s.field(field) {
            None => out.push(Violation::new(
                format!("{p}.field"),
                format!("There is no field {field:?} in this schema."),
            )),
            Some(f) => {
                if matches!(r, Rule::Covers { .. }) && f.field_type != FieldType::Object {
                    out.push(Violation::new(
                        format!("{p}.field"),
                        "covers needs an object field.",
                    ));
                }
                if matches!(r, Rule::MemberOf { .. })
                    && matches!(
                        f.field_type,
                        FieldType::Object | FieldType::List | FieldType::Boolean
                    )
                {
                    out.push(Violation::new(
                        format!("{p}.field"),
                        "member_of needs a single-value field (text, enum or number).",
                    ));
                }
            }
        }
        match s.field(other) {
            None => out.push(Violation::new(
                format!("{p}.{other_key}"),
                format!("There is no field {other:?} in this schema."),
            )),
            Some(f) if f.field_type != FieldType::List => {
                out.push(Violation::new(
                    format!("{p}.{other_key}"),
                    "This must name a list field.",
                ));
            }
            Some(_) => {}
        }
    }
}

fn has_control(s: &str) -> bool {
    s.chars().any(|c| c.is_control() && c != '\n' && c != '\t')
}

fn validate_fields(fields: &[Field], path: &str, out: &mut Vec<Violation>) {
    let mut keys = HashSet::new();
    for (i, f) in fields.iter().enumerate() {
        let p = format!("{path}[{i}]");
        for (prop, text) in [
            ("label", Some(f.label.as_str())),
            ("description", f.description.as_deref()),
        ] {
            if text.is_some_and(has_control) {
                out.push(Violation::new(
                    format!("{p}.{prop}"),
                    "Remove the invisible control characters.",
                ));
            }
        }
        if f.options.iter().flatten().any(|o| has_control(o)) {
            out.push(Violation::new(
                format!("{p}.options"),
                "Remove the invisible control characters.",
            ));
        }
        if f.key.is_empty() {
            out.push(Violation::new(format!("{p}.key"), "A field needs a key."));
        } else if !valid_key(&f.key) {
            out.push(Violation::new(
                format!("{p}.key"),
                "Use lowercase letters, digits and underscores, starting with a letter.",
            ));
        } else if !keys.insert(f.key.as_str()) {
            out.push(Violation::new(
                format!("{p}.key"),
                format!("The key {} is used twice.", f.key),
            ));
        }
        if f.label.trim().is_empty() {
            out.push(Violation::new(
                format!("{p}.label"),
                "A field needs a label.",
            ));
        }
        let t = f.field_type;
        let options_used = t == FieldType::Enum || f.is_multi_select();
        match (&f.options, options_used) {
            (None, true) => out.push(Violation::new(
                format!("{p}.options"),
                "An enum field needs at least one option.",
            )),
            (Some(o), true) if o.is_empty() => out.push(Violation::new(
                format!("{p}.options"),
                "An enum field needs at least one option.",
            )),
            (Some(o), true) => {
                let mut seen = HashSet::new();
                for (j, opt) in o.iter().enumerate() {
                    if opt.trim().is_empty() {
                        out.push(Violation::new(
                            format!("{p}.options[{j}]"),
                            "An option cannot be empty.",
                        ));
                    } else if !seen.insert(opt) {
                        out.push(Violation::new(
                            format!("{p}.options[{j}]"),
                            format!("The option {opt} is listed twice."),
                        ));
                    }
                }
            }
            (Some(o), false) if !o.is_empty() => out.push(Violation::new(
                format!("{p}.options"),
                "Only enum fields (and lists of enum) have options.",
            )),
            _ => {}
        }
        if t == FieldType::List {
            match f.item_type {
                None => out.push(Violation::new(
                    format!("{p}.item_type"),
                    "A list needs an item type (text, enum, number or integer).",
                )),
                Some(it) if !it.can_be_list_item() => out.push(Violation::new(
                    format!("{p}.item_type"),
                    "A list's items are text, enum, number or integer.",
                )),
                _ => {}
            }
        } else if f.item_type.is_some() {
            out.push(Violation::new(
                format!("{p}.item_type"),
                "Only list fields have an item type.",
            ));
        }
        let numeric = matches!(t, FieldType::Number | FieldType::Integer);
        if !numeric && (f.min.is_some() || f.max.is_some() || f.exclusive_min) {
            out.push(Violation::new(
                format!("{p}.min"),
                "Only number and integer fields have bounds.",
            ));
        }
        if let (Some(a), Some(b)) = (f.min, f.max)
            && a > b
        {
            out.push(Violation::new(
                format!("{p}.max"),
                "The maximum is below the minimum.",
            ));
        }
        if t == FieldType::Integer {
            for (k, v) in [("min", f.min), ("max", f.max)] {
                if v.is_some_and(|v| v.fract() != 0.0) {
                    out.push(Violation::new(
                        format!("{p}.{k}"),
                        "An integer field's bounds are whole numbers.",
                    ));
                }
            }
        }
        if f.exclusive_min && f.min.is_none() {
            out.push(Violation::new(
                format!("{p}.exclusive_min"),
                "Set a minimum to make it exclusive.",
            ));
        }
        if t != FieldType::Text
            && (f.min_length.is_some() || f.max_length.is_some() || f.pattern.is_some())
        {
            out.push(Violation::new(
                format!("{p}.min_length"),
                "Only text fields have lengths and patterns.",
            ));
        }
        if let (Some(a), Some(b)) = (f.min_length, f.max_length)
            && a > b
        {
            out.push(Violation::new(
                format!("{p}.max_length"),
                "The maximum length is below the minimum length.",
            ));
        }
        if let Some(pat) = &f.pattern
            && let Err(e) = super::schema::build_validator(
                &serde_json::json!({"type": "string", "pattern": pat}),
            )
        {
            tracing::debug!(error = %e, pattern = %pat, "pattern refused");
            out.push(Violation::new(
                format!("{p}.pattern"),
                "This is not a valid regular expression, or it uses look-around or back-references, \
                 which are not supported (patterns must match in linear time).",
            ));
        }
        if t != FieldType::List && (f.min_items.is_some() || f.max_items.is_some()) {
            out.push(Violation::new(
                format!("{p}.min_items"),
                "Only list fields have item counts.",
            ));
        }
        if let (Some(a), Some(b)) = (f.min_items, f.max_items)
            && a > b
        {
            out.push(Violation::new(
                format!("{p}.max_items"),
                "The maximum count is below the minimum count.",
            ));
        }
        if f.secret_ref && t != FieldType::Text {
            out.push(Violation::new(
                format!("{p}.secret_ref"),
                "Only text fields can hold a secret reference.",
            ));
        }
        if f.secret_ref && (f.min_length.is_some() || f.max_length.is_some() || f.pattern.is_some())
        {
            out.push(Violation::new(
                format!("{p}.secret_ref"),
                "A secret reference has no length or pattern of its own.",
            ));
        }
        match (&f.fields, t) {
            (Some(sub), FieldType::Object) => validate_fields(sub, &format!("{p}.fields"), out),
            (Some(sub), _) if !sub.is_empty() => out.push(Violation::new(
                format!("{p}.fields"),
                "Only object fields have sub-fields.",
            )),
            _ => {}
        }
        if let Some(default) = &f.default {
            let probe = Schema {
                fields: vec![Field {
                    required: true,
                    ..f.clone()
                }],
                rules: vec![],
            };
            let mut config = serde_json::Map::new();
            config.insert(f.key.clone(), default.clone());
            let errors = super::schema::validate(
                &probe,
                &Value::Object(config),
                super::schema::Mode::Complete,
            );
            if let Some(e) = errors.first() {
                out.push(Violation::new(
                    format!("{p}.default"),
                    format!("The default is not valid for this field: {}", e.message),
                ));
            }
        }
    }
}

#[cfg(test)]
mod meta_validation {
    use super::*;
    use serde_json::json;

    fn problems(doc: serde_json::Value) -> Vec<(String, String)> {
        match Definition::from_json(&doc) {
            Err(v) => v,
            Ok(d) => meta_validate(&d),
        }
        .into_iter()
        .map(|v| (v.path, v.message))
        .collect()
    }

    fn has(p: &[(String, String)], path: &str, words: &str) -> bool {
        p.iter().any(|(a, m)| a == path && m.contains(words))
    }

    #[test]
    fn every_kind_of_problem_is_named_with_its_path() {
        let f = |extra: serde_json::Value| {
            let mut base = json!({"key": "k", "label": "K", "type": "text"});
            base.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            base
        };
        let doc = json!({
            "agent_type_id": "t.x", "version": "1.0.0",
            "config_schema": {"fields": [
                f(json!({"type": "enum", "key": "e0"})),
                f(json!({"type": "enum", "key": "e1", "options": ["a", "a"]})),
                f(json!({"type": "list", "key": "l2"})),
                f(json!({"type": "number", "key": "n3", "min": 3, "max": 1})),
                f(json!({"type": "text", "key": "t4", "min": 1})),
                f(json!({"type": "text", "key": "t5", "pattern": "(unclosed"})),
                f(json!({"type": "boolean", "key": "b6", "min_items": 1})),
                f(json!({"type": "integer", "key": "i7", "default": 1.5})),
                f(json!({"type": "number", "key": "n8", "secret_ref": true})),
                f(json!({"type": "text", "key": "Bad Key"})),
                f(json!({"type": "text", "key": "e0"})),
                f(json!({"type": "text", "key": "t11", "label": " "})),
                f(json!({"type": "object", "key": "o12", "fields": [{"key": "s", "label": "S", "type": "enum"}]})),
                f(json!({"type": "text", "key": "t13", "options": ["x"]})),
                f(json!({"type": "integer", "key": "i14", "min": 0.5})),
            ],
            "rules": [{"kind": "member_of", "field": "nope", "of": "t4"}, {"kind": "covers", "field": "t4", "keys_from": "l2"}]},
            "goal_templates": [{"goal_template_id": "g", "name": "G", "default_frequency": "weekly", "allowed_frequencies": ["daily", "yearly"]}]
        });
        let p = problems(doc);
        let fp = |i: usize, prop: &str| format!("config_schema.fields[{i}].{prop}");
        assert!(
            has(
                &p,
                &fp(0, "options"),
                "An enum field needs at least one option"
            ),
            "{p:#?}"
        );
        assert!(has(
            &p,
            "config_schema.fields[1].options[1]",
            "listed twice"
        ));
        assert!(has(&p, &fp(2, "item_type"), "A list needs an item type"));
        assert!(has(&p, &fp(3, "max"), "below the minimum"));
        assert!(has(
            &p,
            &fp(4, "min"),
            "Only number and integer fields have bounds"
        ));
        assert!(has(&p, &fp(5, "pattern"), "not a valid regular expression"));
        assert!(has(
            &p,
            &fp(6, "min_items"),
            "Only list fields have item counts"
        ));
        assert!(has(&p, &fp(7, "default"), "must be a whole number"));
        assert!(has(
            &p,
            &fp(8, "secret_ref"),
            "Only text fields can hold a secret reference"
        ));
        assert!(has(&p, &fp(9, "key"), "lowercase letters"));
        assert!(has(&p, &fp(10, "key"), "used twice"));
        assert!(has(&p, &fp(11, "label"), "needs a label"));
        assert!(has(
            &p,
            "config_schema.fields[12].fields[0].options",
            "An enum field needs at least one option"
        ));
        assert!(has(&p, &fp(13, "options"), "Only enum fields"));
        assert!(has(&p, &fp(14, "min"), "whole numbers"));
        assert!(has(&p, "config_schema.rules[0].field", "no field \"nope\""));
        assert!(has(
            &p,
            "config_schema.rules[0].of",
            "must name a list field"
        ));
        assert!(has(
            &p,
            "config_schema.rules[1].field",
            "covers needs an object field"
        ));
        assert!(has(
            &p,
            "goal_templates[0].allowed_frequencies[1]",
            "daily, weekly, monthly or on_demand"
        ));
        assert!(has(
            &p,
            "goal_templates[0].default_frequency",
            "must be one of the allowed frequencies"
        ));
        // Shape problems are named too, before any of the above can be checked.
        let p = problems(
            json!({"agent_type_id": 5, "config_schema": {"fields": [{"key": "k", "label": "K", "type": "text", "required": "yes"}]}}),
        );
        assert!(has(&p, "agent_type_id", "Must be a string"));
        assert!(has(&p, "version", "Is required"));
        assert!(has(&p, "config_schema.fields[0].required", "true or false"));
    }
}
