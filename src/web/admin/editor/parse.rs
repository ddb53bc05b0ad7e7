//! Reading the submitted editor: the button that was pressed ([`Command`]) and the structured
//! editor's inputs ([`structured`]), without losing what was typed.

use std::collections::HashSet;

use serde_json::{Value, json};

use super::field_row::shape;
use super::names;
use super::rows::identity;
use crate::domain::catalog_edit::{EditOp, EditorMode, Fields, Item, List, SchemaAt};
use crate::domain::definition::{
    Definition, EnforcementDefaults, FREQUENCIES, Field, FieldType, GoalTemplate, Rule, Schema,
};
use crate::domain::forms::Submitted;
use crate::domain::forms::text_number::{NotANumber, number_value, read_count, read_number};
use crate::domain::paths::{index, join};
use crate::error::Violation;

/// What a button of the editor asks for (its `op` value).
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// `check`: live validation, answered with error slots.
    Check,
    /// `save`
    Save,
    /// `mode:json`, `mode:structured`
    Switch(EditorMode),
    /// `add_field:cf`, `add_rule:gt[0].sr`, `add_template`, `remove:cf[2]`, `up:gt[1]`, `down:cr[0]`
    Edit(EditOp),
    /// `retype:cf[3]`: show a field row again for its new type.
    Retype(Item),
    /// Anything else (or nothing): show the editor again.
    Show,
}

impl Command {
    pub fn parse(op: &str) -> Command {
        let (verb, target) = op.split_once(':').unwrap_or((op, ""));
        let item = || names::item_of(target);
        let edit = |op: Option<EditOp>| op.map(Command::Edit).unwrap_or(Command::Show);
        match verb {
            "check" => Command::Check,
            "save" => Command::Save,
            "mode" => EditorMode::parse(target)
                .map(Command::Switch)
                .unwrap_or(Command::Show),
            "add_field" => edit(match names::list_of(target) {
                Some(List::Fields(to)) => Some(EditOp::AddField { to }),
                _ => None,
            }),
            "add_rule" => edit(match names::list_of(target) {
                Some(List::Rules(to)) => Some(EditOp::AddRule { to }),
                _ => None,
            }),
            "add_template" => Command::Edit(EditOp::AddTemplate),
            "remove" => edit(item().map(|item| EditOp::Remove { item })),
            "up" => edit(item().map(|item| EditOp::MoveUp { item })),
            "down" => edit(item().map(|item| EditOp::MoveDown { item })),
            "retype" => item().map(Command::Retype).unwrap_or(Command::Show),
            _ => Command::Show,
        }
    }
}

/// The structured editor, read.
pub struct Parsed {
    pub definition: Definition,
    /// What only the editor can see (text where a number belongs, unreadable sub-field JSON), named
    /// by input.
    pub problems: Vec<Violation>,
    /// Fields whose type select changed since the page was rendered: applied, these drop what the
    /// new type has no use for.
    pub type_changes: Vec<EditOp>,
    /// Rows the user folded, by [`identity`].
    pub closed: HashSet<String>,
}

/// A default typed as text, read the way its field type suggests (JSON for lists and objects, or
/// comma-separated values for a list); what cannot be read stays text so meta-validation names it.
pub fn parse_default(text: &str, t: FieldType, item: Option<FieldType>) -> Option<Value> {
    let s = text.trim();
    if s.is_empty() {
        return None;
    }
    Some(match t {
        FieldType::Number => number_value(s, false),
        FieldType::Integer => number_value(s, true),
        FieldType::Boolean => match s.to_lowercase().as_str() {
            "true" | "yes" => json!(true),
            "false" | "no" => json!(false),
            _ => json!(s),
        },
        FieldType::List if s.starts_with('[') => serde_json::from_str(s).unwrap_or(json!(s)),
        FieldType::List => Value::Array(
            s.split(',')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(|x| match item {
                    Some(FieldType::Number) => number_value(x, false),
                    Some(FieldType::Integer) => number_value(x, true),
                    _ => json!(x),
                })
                .collect(),
        ),
        FieldType::Object => serde_json::from_str(s).unwrap_or(json!(s)),
        _ => json!(s),
    })
}

fn opt_text(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

struct Reader<'a> {
    inputs: &'a Submitted,
    problems: Vec<Violation>,
    type_changes: Vec<EditOp>,
    closed: HashSet<String>,
}

impl Reader<'_> {
    fn number(&mut self, name: &str) -> Option<f64> {
        read_number(self.inputs.text(name)).unwrap_or_else(|NotANumber| {
            self.problems.push(Violation::new(name, "Enter a number."));
            None
        })
    }

    fn count(&mut self, name: &str) -> Option<u64> {
        read_count(self.inputs.text(name)).unwrap_or_else(|NotANumber| {
            self.problems
                .push(Violation::new(name, "Enter a whole number, 0 or more."));
            None
        })
    }

    fn folded(&mut self, prefix: &str, list: &str, key: &str) {
        if self.inputs.text(&join(prefix, "__closed")) == "1" {
            self.closed.insert(identity(list, key));
        }
    }

    fn fields(&mut self, list: &str, at: SchemaAt) -> Vec<Field> {
        let inputs = self.inputs;
        inputs
            .rows(list)
            .into_iter()
            .enumerate()
            .map(|(position, i)| {
                let p = index(list, i);
                let n = |prop: &str| join(&p, prop);
                let field_type = FieldType::parse(inputs.text(&n("type")));
                if field_type.is_none() {
                    self.problems
                        .push(Violation::new(n("type"), "Choose a type."));
                }
                let ft = field_type.unwrap_or(FieldType::Text);
                let item_type = FieldType::parse(inputs.text(&n("item_type")))
                    .filter(|_| ft == FieldType::List);
                let was = inputs.text(&n("__shape"));
                if !was.is_empty() && was != shape(ft, item_type) {
                    self.type_changes.push(EditOp::SetType {
                        field: Item::field(Fields::of(at), position),
                        field_type: ft,
                        item_type,
                    });
                }
                let options: Vec<String> = inputs
                    .text(&n("options"))
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_string)
                    .collect();
                let sub_text = inputs.text(&n("fields"));
                let fields = if sub_text.trim().is_empty() {
                    None
                } else {
                    serde_json::from_str::<Vec<Field>>(sub_text)
                        .map_err(|e| {
                            self.problems.push(Violation::new(
                                n("fields"),
                                format!("Sub-fields must be a JSON list of fields: {e}."),
                            ))
                        })
                        .ok()
                };
                let key = inputs.text(&n("key")).trim().to_string();
                self.folded(&p, list, &key);
                Field {
                    label: inputs.text(&n("label")).trim().to_string(),
                    field_type: ft,
                    required: inputs.checked(&n("required")),
                    description: opt_text(inputs.text(&n("description"))),
                    options: (!options.is_empty()).then_some(options),
                    item_type,
                    default: parse_default(inputs.text(&n("default")), ft, item_type),
                    min: self.number(&n("min")),
                    max: self.number(&n("max")),
                    exclusive_min: inputs.checked(&n("exclusive_min")),
                    min_length: self.count(&n("min_length")),
                    max_length: self.count(&n("max_length")),
                    pattern: opt_text(inputs.text(&n("pattern"))),
                    min_items: self.count(&n("min_items")),
                    max_items: self.count(&n("max_items")),
                    secret_ref: inputs.checked(&n("secret_ref")),
                    fields,
                    key,
                }
            })
            .collect()
    }

    fn rules(&mut self, list: &str) -> Vec<Rule> {
        let inputs = self.inputs;
        inputs
            .rows(list)
            .into_iter()
            .filter_map(|i| {
                let p = index(list, i);
                let field = inputs.text(&join(&p, "field")).trim().to_string();
                let other = inputs.text(&join(&p, "other")).trim().to_string();
                match inputs.text(&join(&p, "kind")) {
                    "member_of" => Some(Rule::MemberOf { field, of: other }),
                    "covers" => Some(Rule::Covers {
                        field,
                        keys_from: other,
                    }),
                    _ => {
                        self.problems
                            .push(Violation::new(join(&p, "kind"), "Choose the kind of rule."));
                        None
                    }
                }
            })
            .collect()
    }

    fn schema(&mut self, fields: &str, rules: &str, at: SchemaAt) -> Schema {
        Schema {
            fields: self.fields(fields, at),
            rules: self.rules(rules),
        }
    }
}

/// The structured editor's inputs → a definition of `type_id`@`version`.
pub fn structured(inputs: &Submitted, type_id: &str, version: &str) -> Parsed {
    let mut r = Reader {
        inputs,
        problems: vec![],
        type_changes: vec![],
        closed: HashSet::new(),
    };
    let config_schema = r.schema(names::CONFIG_FIELDS, names::CONFIG_RULES, SchemaAt::Config);
    let goal_templates = inputs
        .rows(names::TEMPLATES)
        .into_iter()
        .enumerate()
        .map(|(position, i)| {
            let p = index(names::TEMPLATES, i);
            let n = |prop: &str| join(&p, prop);
            let allowed: Vec<String> = inputs
                .all(&n("allowed_frequencies"))
                .iter()
                .filter(|f| FREQUENCIES.contains(&f.as_str()))
                .cloned()
                .collect();
            let goal_template_id = inputs.text(&n("goal_template_id")).trim().to_string();
            r.folded(&p, names::TEMPLATES, &goal_template_id);
            GoalTemplate {
                goal_template_id,
                name: inputs.text(&n("name")).trim().to_string(),
                default_frequency: inputs.text(&n("default_frequency")).to_string(),
                allowed_frequencies: (!allowed.is_empty()).then_some(allowed),
                settings_schema: r.schema(
                    &names::settings_fields(&p),
                    &names::settings_rules(&p),
                    SchemaAt::Template(position),
                ),
                skill_binding: opt_text(inputs.text(&n("skill_binding"))),
                description: opt_text(inputs.text(&n("description"))),
            }
        })
        .collect();
    let definition = Definition {
        agent_type_id: type_id.to_string(),
        version: version.to_string(),
        display_name: opt_text(inputs.text("display_name")),
        description: opt_text(inputs.text("description")),
        config_schema,
        goal_templates,
        enforcement_defaults: EnforcementDefaults {
            approval_required: inputs.checked("approval_required"),
            deterministic: inputs.checked("deterministic"),
        },
    };
    Parsed {
        definition,
        problems: r.problems,
        type_changes: r.type_changes,
        closed: r.closed,
    }
}
