//! The editor's row model: a definition as the structured editor's inputs show it (all text): its
//! field rows ([`super::field_row`]), rule and goal template rows, whether each row is open, and
//! every input name.

use std::collections::HashSet;

use super::field_row::field_rows;
pub use super::field_row::{FieldRow, prop_label};
use super::names::{self, input_id};
use crate::domain::definition::{Definition, FREQUENCIES, Rule};
use crate::domain::paths::{index, join};
use crate::web::pages::FormErrors;

/// What the page around the rows decides: errors by input name, rows the user folded (by
/// [`identity`]), and the element that gets the focus.
pub struct Look<'a> {
    pub errors: &'a FormErrors,
    pub closed: &'a HashSet<String>,
    pub focus: &'a str,
}

impl Look<'_> {
    /// Folded rows stay folded, unless they hold a problem or the focus.
    pub fn open(&self, prefix: &str, identity: &str) -> bool {
        let inside = format!("{prefix}.");
        !self.closed.contains(identity)
            || self.errors.0.iter().any(|v| v.path.starts_with(&inside))
            || self.focus.starts_with(&input_id(prefix, ""))
    }
}

/// Which row a fold belongs to, across edits that renumber rows: its list and key.
pub fn identity(list_prefix: &str, key: &str) -> String {
    format!("{list_prefix}/{}", key.trim())
}

/// The first of `names` that is not blank, else "new".
pub fn name_or_new<'a>(names: &[&'a String]) -> &'a str {
    names
        .iter()
        .map(|s| s.trim())
        .find(|s| !s.is_empty())
        .unwrap_or("new")
}

#[derive(Debug, Clone, Default)]
pub struct RuleRow {
    /// "Configuration rule" or "Settings rule".
    pub noun: &'static str,
    pub prefix: String,
    pub index: usize,
    pub kind: String,
    pub field: String,
    pub other: String,
}

impl RuleRow {
    pub fn name(&self, prop: &str) -> String {
        join(&self.prefix, prop)
    }
    pub fn id(&self, prop: &str) -> String {
        input_id(&self.prefix, prop)
    }
    pub fn title(&self) -> String {
        format!("{} {}", self.noun, self.index + 1)
    }
    pub fn op(&self, verb: &str) -> String {
        format!("{verb}:{}", self.prefix)
    }
    /// "Move Field 4 (Coin) up": a button's name for screen readers.
    pub fn says(&self, verb: &str, tail: &str) -> String {
        format!("{verb} {}{tail}", self.title())
    }
}

fn rule_rows(list: &str, rules: &[Rule]) -> Vec<RuleRow> {
    rules
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let (kind, field, other) = match r {
                Rule::MemberOf { field, of } => ("member_of", field, of),
                Rule::Covers { field, keys_from } => ("covers", field, keys_from),
            };
            RuleRow {
                noun: if list.contains('.') {
                    "Settings rule"
                } else {
                    "Configuration rule"
                },
                prefix: index(list, i),
                index: i,
                kind: kind.into(),
                field: field.clone(),
                other: other.clone(),
            }
        })
        .collect()
}

#[derive(Debug, Clone, Default)]
pub struct TemplateRow {
    pub prefix: String,
    pub index: usize,
    pub last: bool,
    pub open: bool,
    pub goal_template_id: String,
    pub name: String,
    pub description: String,
    pub default_frequency: String,
    pub allowed: Vec<(&'static str, bool)>,
    pub skill_binding: String,
    pub fields_prefix: String,
    pub rules_prefix: String,
    pub fields: Vec<FieldRow>,
    pub rules: Vec<RuleRow>,
}

impl TemplateRow {
    pub fn name_of(&self, prop: &str) -> String {
        join(&self.prefix, prop)
    }
    pub fn id(&self, prop: &str) -> String {
        input_id(&self.prefix, prop)
    }
    /// "Goal template 2 (Weekly report)", or "Goal template 3 (new)".
    pub fn title(&self) -> String {
        let name = name_or_new(&[&self.name, &self.goal_template_id]);
        format!("Goal template {} ({name})", self.index + 1)
    }
    pub fn op(&self, verb: &str) -> String {
        format!("{verb}:{}", self.prefix)
    }
    /// The button adding to its settings fields (`sf`) or rules (`sr`): `op` and id.
    pub fn add_op(&self, verb: &str, list: &str) -> String {
        format!("{verb}:{}", join(&self.prefix, list))
    }
    pub fn add_id(&self, list: &str) -> String {
        names::add_button_id(&join(&self.prefix, list))
    }
    /// "Move Field 4 (Coin) up": a button's name for screen readers.
    pub fn says(&self, verb: &str, tail: &str) -> String {
        format!("{verb} {}{tail}", self.title())
    }
}

/// The structured editor's view of a definition.
pub struct Doc {
    pub display_name: String,
    pub description: String,
    pub approval_required: bool,
    pub deterministic: bool,
    pub fields: Vec<FieldRow>,
    pub rules: Vec<RuleRow>,
    pub templates: Vec<TemplateRow>,
}

impl Doc {
    pub fn new(d: &Definition, look: &Look) -> Doc {
        let n = d.goal_templates.len();
        Doc {
            display_name: d.display_name.clone().unwrap_or_default(),
            description: d.description.clone().unwrap_or_default(),
            approval_required: d.enforcement_defaults.approval_required,
            deterministic: d.enforcement_defaults.deterministic,
            fields: field_rows(names::CONFIG_FIELDS, &d.config_schema.fields, look),
            rules: rule_rows(names::CONFIG_RULES, &d.config_schema.rules),
            templates: d
                .goal_templates
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let prefix = index(names::TEMPLATES, i);
                    let fields_prefix = names::settings_fields(&prefix);
                    let rules_prefix = names::settings_rules(&prefix);
                    let allowed = t.allowed_frequencies.as_deref().unwrap_or_default();
                    TemplateRow {
                        index: i,
                        last: i + 1 == n,
                        open: look.open(&prefix, &identity(names::TEMPLATES, &t.goal_template_id)),
                        goal_template_id: t.goal_template_id.clone(),
                        name: t.name.clone(),
                        description: t.description.clone().unwrap_or_default(),
                        default_frequency: t.default_frequency.clone(),
                        allowed: FREQUENCIES
                            .iter()
                            .map(|f| (*f, allowed.iter().any(|x| x == f)))
                            .collect(),
                        skill_binding: t.skill_binding.clone().unwrap_or_default(),
                        fields: field_rows(&fields_prefix, &t.settings_schema.fields, look),
                        rules: rule_rows(&rules_prefix, &t.settings_schema.rules),
                        prefix,
                        fields_prefix,
                        rules_prefix,
                    }
                })
                .collect(),
        }
    }

    /// Every input name the page shows (to clear or fill each error slot).
    pub fn input_names(&self) -> Vec<String> {
        let mut names: Vec<String> = [
            "display_name",
            "description",
            "approval_required",
            "deterministic",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let fields = |rows: &[FieldRow], names: &mut Vec<String>| {
            for r in rows {
                names.extend(r.shown.iter().map(|p| r.name(p)));
            }
        };
        let rules = |rows: &[RuleRow], names: &mut Vec<String>| {
            for r in rows {
                names.extend(["kind", "field", "other"].iter().map(|p| r.name(p)));
            }
        };
        fields(&self.fields, &mut names);
        rules(&self.rules, &mut names);
        for t in &self.templates {
            names.extend(
                [
                    "goal_template_id",
                    "name",
                    "description",
                    "default_frequency",
                    "allowed_frequencies",
                    "skill_binding",
                ]
                .iter()
                .map(|p| t.name_of(p)),
            );
            fields(&t.fields, &mut names);
            rules(&t.rules, &mut names);
        }
        names
    }

    /// Inputs the parser could not read (text in a number box, broken sub-field JSON) are shown again
    /// as they were typed, next to their error, instead of coming back empty.
    pub fn keep_unreadable(&mut self, typed: impl Fn(&str) -> Option<String>) {
        let patch = |r: &mut FieldRow| {
            for (prop, slot) in [
                ("min", &mut r.min),
                ("max", &mut r.max),
                ("min_length", &mut r.min_length),
                ("max_length", &mut r.max_length),
                ("min_items", &mut r.min_items),
                ("max_items", &mut r.max_items),
                ("fields", &mut r.sub_fields),
            ] {
                if let Some(raw) = typed(&join(&r.prefix, prop)) {
                    *slot = raw;
                }
            }
        };
        self.fields.iter_mut().for_each(patch);
        for t in self.templates.iter_mut() {
            t.fields.iter_mut().for_each(patch);
        }
    }

    /// The id of the button adding to a list of the page (`cf`, `cr`, `gt`).
    pub fn add_id(&self, list: &str) -> String {
        names::add_button_id(list)
    }

    /// The field row with this prefix, anywhere.
    pub fn field(&self, prefix: &str) -> Option<&FieldRow> {
        self.fields
            .iter()
            .chain(self.templates.iter().flat_map(|t| t.fields.iter()))
            .find(|r| r.prefix == prefix)
    }

    pub fn rule(&self, prefix: &str) -> Option<&RuleRow> {
        self.rules
            .iter()
            .chain(self.templates.iter().flat_map(|t| t.rules.iter()))
            .find(|r| r.prefix == prefix)
    }

    pub fn template(&self, prefix: &str) -> Option<&TemplateRow> {
        self.templates.iter().find(|t| t.prefix == prefix)
    }
}
