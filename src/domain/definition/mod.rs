//! Agent type definitions (SPEC §3): the document format, semantic versions and meta-validation.
//!
//! Every key of the Phase-1 shape is always serialised (nulls included), every newer key only when set,
//! so a Phase-1 document reads and writes back unchanged.

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

/// The type of a field's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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

/// One field of a configuration or of a goal template's settings. The Phase-1 keys (`key` to
/// `item_type`) are always written, nulls included; the others only when set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// The value's key in the configuration (or settings) object.
    pub key: String,
    /// What people see next to the input.
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
    /// The sub-fields of an `object` field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(no_recursion)]
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

/// A rule between fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Rule {
    /// The value of `field` must be an element of the list field `of`.
    MemberOf { field: String, of: String },
    /// Object `field` has a non-empty entry for each element of the list field `keys_from`.
    Covers { field: String, keys_from: String },
}

/// The fields of a configuration or of a goal template's settings, and the rules between them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[schema(as = FieldSchema)]
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

/// A kind of goal an agent of this type can be given, with its settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
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

/// How an agent's actions are checked, unless its configuration says otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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

/// An agent type definition: one version of a type (the Phase-1 document format).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    /// The type's id, e.g. `marketing.healthcare.v1`.
    pub agent_type_id: String,
    /// A semantic version, e.g. `1.2.0`.
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
        shape::serde_path_to_error_like(value)
    }
}

/// serde's own messages name the problem but not where; walk the document to say where.
mod meta;
mod shape;

pub use super::version::Version;
pub use meta::meta_validate;
pub use shape::FIELD_KEYS;
