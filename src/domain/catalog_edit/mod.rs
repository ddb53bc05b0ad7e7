//! Editing an agent type definition the way the draft editor does: structural edits (add, remove
//! and move fields, rules, goal templates and sub-fields; change a field's type) as values, applied
//! by one pure function, and the editor's two modes. No I/O: the web editor reads its inputs into a
//! [`Definition`], applies an [`EditOp`] and renders the result.

pub mod mode;
pub mod props;
#[cfg(test)]
mod tests;

use std::fmt;

use super::definition::{Definition, Field, FieldType, GoalTemplate, Rule, Schema};

pub use mode::EditorMode;

/// A schema of the definition: the configuration, or one goal template's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaAt {
    Config,
    Template(usize),
}

/// A list of fields: a schema's own, or (following `parents`, field indexes from the schema down)
/// the sub-fields of an object field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fields {
    pub schema: SchemaAt,
    pub parents: Vec<usize>,
}

impl Fields {
    pub fn of(schema: SchemaAt) -> Fields {
        Fields {
            schema,
            parents: vec![],
        }
    }
}

/// A list the editor shows as rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum List {
    Fields(Fields),
    Rules(SchemaAt),
    Templates,
}

/// One row: an item of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub list: List,
    pub index: usize,
}

impl Item {
    pub fn field(list: Fields, index: usize) -> Item {
        Item {
            list: List::Fields(list),
            index,
        }
    }
}

/// A structural edit.
#[derive(Debug, Clone, PartialEq)]
pub enum EditOp {
    /// Appends an empty field (to an object field's sub-fields: makes the list if there is none).
    AddField {
        to: Fields,
    },
    /// Appends an empty rule (`member_of`).
    AddRule {
        to: SchemaAt,
    },
    /// Appends an empty goal template (weekly).
    AddTemplate,
    Remove {
        item: Item,
    },
    MoveUp {
        item: Item,
    },
    MoveDown {
        item: Item,
    },
    /// Gives a field another type (or list item type), dropping what the new one has no use for
    /// (see [`props::clear_unused`]).
    SetType {
        field: Item,
        field_type: FieldType,
        item_type: Option<FieldType>,
    },
}

/// Where an edit leaves the editor's attention: on a row (the added or moved one, the one after a
/// removed one), or on a list that is empty now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Landing {
    Item(Item),
    EmptyList(List),
}

/// Why an edit was not made. The editor posts row positions, so these mean the page was out of date
/// (or hand-made).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No such row or list (any more).
    Gone,
    /// Moving the first row up, or the last one down.
    AtEdge,
    /// A field operation on something that is not a field, or sub-fields on a non-object field.
    NotApplicable,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refusal::Gone => {
                "That row is not in the editor any more; nothing was changed. Check the rows below."
            }
            Refusal::AtEdge => "That row cannot move further; nothing was changed.",
            Refusal::NotApplicable => {
                "That change does not apply to this row; nothing was changed."
            }
        })
    }
}

impl std::error::Error for Refusal {}

/// A field as the editor adds it: no key, no label, text.
pub fn blank_field() -> Field {
    Field::new("", "", FieldType::Text)
}

pub fn blank_rule() -> Rule {
    Rule::MemberOf {
        field: String::new(),
        of: String::new(),
    }
}

pub fn blank_template() -> GoalTemplate {
    GoalTemplate {
        goal_template_id: String::new(),
        name: String::new(),
        default_frequency: "weekly".into(),
        allowed_frequencies: None,
        settings_schema: Schema::default(),
        skill_binding: None,
        description: None,
    }
}

/// An empty definition of a type and version: what the editor shows while the JSON it was given
/// cannot be read.
pub fn blank_definition(agent_type_id: &str, version: &str) -> Definition {
    Definition {
        agent_type_id: agent_type_id.to_string(),
        version: version.to_string(),
        display_name: None,
        description: None,
        config_schema: Schema::default(),
        goal_templates: vec![],
        enforcement_defaults: Default::default(),
    }
}

fn schema_mut(d: &mut Definition, at: SchemaAt) -> Result<&mut Schema, Refusal> {
    match at {
        SchemaAt::Config => Ok(&mut d.config_schema),
        SchemaAt::Template(t) => d
            .goal_templates
            .get_mut(t)
            .map(|t| &mut t.settings_schema)
            .ok_or(Refusal::Gone),
    }
}

/// The field list at `at`; `create` makes an object field's missing sub-field list.
fn fields_mut<'a>(
    d: &'a mut Definition,
    at: &Fields,
    create: bool,
) -> Result<&'a mut Vec<Field>, Refusal> {
    let mut list = &mut schema_mut(d, at.schema)?.fields;
    for &p in &at.parents {
        let parent = list.get_mut(p).ok_or(Refusal::Gone)?;
        if parent.field_type != FieldType::Object {
            return Err(Refusal::NotApplicable);
        }
        if parent.fields.is_none() && create {
            parent.fields = Some(vec![]);
        }
        list = parent.fields.as_mut().ok_or(Refusal::Gone)?;
    }
    Ok(list)
}

/// Runs `f` on the vector behind `list`, whatever its element type.
fn with_list<R>(
    d: &mut Definition,
    list: &List,
    f: impl FnOnce(&mut dyn Rows) -> R,
) -> Result<R, Refusal> {
    Ok(match list {
        List::Fields(at) => f(fields_mut(d, at, false)?),
        List::Rules(at) => f(&mut schema_mut(d, *at)?.rules),
        List::Templates => f(&mut d.goal_templates),
    })
}

/// What removing and moving need of a list, whatever it holds.
trait Rows {
    fn count(&self) -> usize;
    fn remove_at(&mut self, i: usize);
    fn swap_at(&mut self, a: usize, b: usize);
}

impl<T> Rows for Vec<T> {
    fn count(&self) -> usize {
        self.len()
    }
    fn remove_at(&mut self, i: usize) {
        self.remove(i);
    }
    fn swap_at(&mut self, a: usize, b: usize) {
        self.swap(a, b);
    }
}

fn at(list: &List, index: usize) -> Landing {
    Landing::Item(Item {
        list: list.clone(),
        index,
    })
}

/// Applies one edit. On a refusal the definition is unchanged.
pub fn apply(d: &mut Definition, op: &EditOp) -> Result<Landing, Refusal> {
    match op {
        EditOp::AddField { to } => {
            let list = fields_mut(d, to, true)?;
            list.push(blank_field());
            Ok(at(&List::Fields(to.clone()), list.len() - 1))
        }
        EditOp::AddRule { to } => {
            let rules = &mut schema_mut(d, *to)?.rules;
            rules.push(blank_rule());
            Ok(at(&List::Rules(*to), rules.len() - 1))
        }
        EditOp::AddTemplate => {
            d.goal_templates.push(blank_template());
            Ok(at(&List::Templates, d.goal_templates.len() - 1))
        }
        EditOp::Remove { item } => with_list(d, &item.list, |rows| {
            let n = rows.count();
            if item.index >= n {
                return Err(Refusal::Gone);
            }
            rows.remove_at(item.index);
            Ok(match n - 1 {
                0 => Landing::EmptyList(item.list.clone()),
                left => at(&item.list, item.index.min(left - 1)),
            })
        })?,
        EditOp::MoveUp { item } | EditOp::MoveDown { item } => {
            let up = matches!(op, EditOp::MoveUp { .. });
            with_list(d, &item.list, |rows| {
                let i = item.index;
                if i >= rows.count() {
                    return Err(Refusal::Gone);
                }
                let to = if up { i.checked_sub(1) } else { Some(i + 1) }
                    .filter(|&j| j < rows.count())
                    .ok_or(Refusal::AtEdge)?;
                rows.swap_at(i, to);
                Ok(at(&item.list, to))
            })?
        }
        EditOp::SetType {
            field,
            field_type,
            item_type,
        } => {
            let List::Fields(list) = &field.list else {
                return Err(Refusal::NotApplicable);
            };
            let f = fields_mut(d, list, false)?
                .get_mut(field.index)
                .ok_or(Refusal::Gone)?;
            f.field_type = *field_type;
            f.item_type = *item_type;
            props::clear_unused(f);
            Ok(Landing::Item(field.clone()))
        }
    }
}

/// How many rows `list` has (`None`: no such list).
pub fn len(d: &Definition, list: &List) -> Option<usize> {
    let schema = |at: SchemaAt| match at {
        SchemaAt::Config => Some(&d.config_schema),
        SchemaAt::Template(t) => d.goal_templates.get(t).map(|t| &t.settings_schema),
    };
    match list {
        List::Fields(at) => {
            let mut fields = &schema(at.schema)?.fields;
            for &p in &at.parents {
                fields = fields.get(p)?.fields.as_ref()?;
            }
            Some(fields.len())
        }
        List::Rules(at) => Some(schema(*at)?.rules.len()),
        List::Templates => Some(d.goal_templates.len()),
    }
}

impl EditOp {
    /// The list whose rows this edit renumbers (adding only appends: none).
    pub fn renumbers(&self) -> Option<&List> {
        match self {
            EditOp::Remove { item } | EditOp::MoveUp { item } | EditOp::MoveDown { item } => {
                Some(&item.list)
            }
            _ => None,
        }
    }

    /// Where row `i` of the list it [renumbers](Self::renumbers) is after this (applied) edit:
    /// `None` for the removed row.
    pub fn new_index(&self, i: usize) -> Option<usize> {
        match self {
            EditOp::Remove { item } if i == item.index => None,
            EditOp::Remove { item } if i > item.index => Some(i - 1),
            EditOp::MoveUp { item } if i == item.index => Some(i - 1),
            EditOp::MoveUp { item } if i + 1 == item.index => Some(i + 1),
            EditOp::MoveDown { item } if i == item.index => Some(i + 1),
            EditOp::MoveDown { item } if i == item.index + 1 => Some(i - 1),
            _ => Some(i),
        }
    }
}
