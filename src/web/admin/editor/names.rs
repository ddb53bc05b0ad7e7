//! How the editor names its inputs: `display_name`, `cf[3].label` (configuration field 3), `cr[0].kind`
//! (configuration rule 0), `gt[1].name` (goal template 1), `gt[1].sf[0].key` and `gt[1].sr[0].field`
//! (its settings fields and rules). Rows are addressed by their prefix (`cf[3]`), lists by theirs
//! (`cf`); this module maps them to the domain's [`List`] and [`Item`], and meta-validation paths to
//! the input that holds the value.

use crate::domain::catalog_edit::{Fields, Item, List, SchemaAt};
use crate::domain::forms::dom_id;
use crate::domain::paths::{index, join};

pub const CONFIG_FIELDS: &str = "cf";
pub const CONFIG_RULES: &str = "cr";
pub const TEMPLATES: &str = "gt";
const SETTINGS_FIELDS: &str = "sf";
const SETTINGS_RULES: &str = "sr";

/// A template's settings fields (`gt[1].sf`) and rules (`gt[1].sr`).
pub fn settings_fields(template_prefix: &str) -> String {
    join(template_prefix, SETTINGS_FIELDS)
}

pub fn settings_rules(template_prefix: &str) -> String {
    join(template_prefix, SETTINGS_RULES)
}

/// The element id of one input (or button) of a row: `cf[3]` + `key` → `f-cf-3--key`.
pub fn input_id(prefix: &str, prop: &str) -> String {
    dom_id(&join(prefix, prop))
}

/// The id of the button that adds a row to a list (`cf` → `f-cf-add`).
pub fn add_button_id(list_prefix: &str) -> String {
    input_id(list_prefix, "add")
}

fn schema_prefix(at: SchemaAt, fields: bool) -> String {
    match (at, fields) {
        (SchemaAt::Config, true) => CONFIG_FIELDS.into(),
        (SchemaAt::Config, false) => CONFIG_RULES.into(),
        (SchemaAt::Template(t), true) => settings_fields(&index(TEMPLATES, t)),
        (SchemaAt::Template(t), false) => settings_rules(&index(TEMPLATES, t)),
    }
}

/// The prefix of a list the editor shows (sub-field lists are edited as JSON: none).
pub fn list_prefix(list: &List) -> Option<String> {
    match list {
        List::Fields(f) if f.parents.is_empty() => Some(schema_prefix(f.schema, true)),
        List::Fields(_) => None,
        List::Rules(at) => Some(schema_prefix(*at, false)),
        List::Templates => Some(TEMPLATES.into()),
    }
}

pub fn item_prefix(item: &Item) -> Option<String> {
    list_prefix(&item.list).map(|l| index(&l, item.index))
}

/// `cf` → configuration fields, `gt[2].sr` → template 2's rules, `gt` → the templates.
pub fn list_of(prefix: &str) -> Option<List> {
    match prefix {
        CONFIG_FIELDS => return Some(List::Fields(Fields::of(SchemaAt::Config))),
        CONFIG_RULES => return Some(List::Rules(SchemaAt::Config)),
        TEMPLATES => return Some(List::Templates),
        _ => {}
    }
    let (template, list) = prefix.rsplit_once('.')?;
    let Some(Item {
        list: List::Templates,
        index: t,
    }) = item_of(template)
    else {
        return None;
    };
    match list {
        SETTINGS_FIELDS => Some(List::Fields(Fields::of(SchemaAt::Template(t)))),
        SETTINGS_RULES => Some(List::Rules(SchemaAt::Template(t))),
        _ => None,
    }
}

/// `cf[3]` → configuration field 3, `gt[1].sf[0]` → template 1's settings field 0.
pub fn item_of(prefix: &str) -> Option<Item> {
    let (list, rest) = prefix.rsplit_once('[')?;
    let index = rest.strip_suffix(']')?.parse().ok()?;
    Some(Item {
        list: list_of(list)?,
        index,
    })
}

/// A name that holds a row index (an input name, a fold's identity) after an edit renumbered the
/// rows of the list `list_prefix`: with `cf[1]` removed, `cf[3].min` → `cf[2].min`, `cf[1].min` → none.
/// Names outside that list stay as they are.
pub fn renumber(
    name: &str,
    list_prefix: &str,
    new_index: impl Fn(usize) -> Option<usize>,
) -> Option<String> {
    let row = name
        .strip_prefix(list_prefix)
        .and_then(|r| r.strip_prefix('['))
        .and_then(|r| r.split_once(']'))
        .and_then(|(n, tail)| Some((n.parse::<usize>().ok()?, tail)));
    match row {
        None => Some(name.to_string()),
        Some((i, tail)) => new_index(i).map(|j| format!("{}{tail}", index(list_prefix, j))),
    }
}

/// A meta-validation path (`goal_templates[1].settings_schema.fields[0].default`) → the editor input
/// that holds it (`gt[1].sf[0].default`). Entries of an input's value (`options[1]`) and sub-fields
/// (`fields[0].key`) belong to their input; the editor's own names are returned as they are.
pub fn input_for(path: &str) -> String {
    /// `rest`: `fields[3].default`, `fields[3].options[1]`, `fields[3].fields[0].key`, `rules[0].of`.
    fn schema_part(at: SchemaAt, rest: &str) -> String {
        let (list, tail) = rest.split_once('[').unwrap_or((rest, ""));
        let (n, tail) = tail.split_once(']').unwrap_or((tail, ""));
        let row = index(&schema_prefix(at, list != "rules"), n.parse().unwrap_or(0));
        let prop = tail
            .trim_start_matches('.')
            .split(['.', '['])
            .next()
            .unwrap_or("");
        let prop = match prop {
            "of" | "keys_from" => "other",
            p => p,
        };
        if prop.is_empty() {
            row
        } else {
            join(&row, prop)
        }
    }
    if let Some(rest) = path.strip_prefix("config_schema.") {
        return schema_part(SchemaAt::Config, rest);
    }
    if let Some(rest) = path.strip_prefix("goal_templates[") {
        let (n, tail) = rest.split_once(']').unwrap_or((rest, ""));
        let template = format!("{TEMPLATES}[{n}]");
        let tail = tail.trim_start_matches('.');
        if let (Some(s), Ok(t)) = (tail.strip_prefix("settings_schema."), n.parse()) {
            return schema_part(SchemaAt::Template(t), s);
        }
        let prop = tail.split(['.', '[']).next().unwrap_or("");
        return join(&template, prop);
    }
    if let Some(p) = path.strip_prefix("enforcement_defaults.") {
        return p.to_string();
    }
    path.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_paths_map_to_editor_inputs() {
        for (path, input) in [
            ("config_schema.fields[3].default", "cf[3].default"),
            ("config_schema.fields[2].options[1]", "cf[2].options"),
            ("config_schema.fields[9].fields[0].key", "cf[9].fields"),
            ("config_schema.fields[4]", "cf[4]"),
            ("config_schema.rules[0].of", "cr[0].other"),
            (
                "goal_templates[1].settings_schema.fields[0].label",
                "gt[1].sf[0].label",
            ),
            (
                "goal_templates[1].settings_schema.rules[2].keys_from",
                "gt[1].sr[2].other",
            ),
            (
                "goal_templates[0].allowed_frequencies[1]",
                "gt[0].allowed_frequencies",
            ),
            ("enforcement_defaults.deterministic", "deterministic"),
            ("display_name", "display_name"),
            ("cf[0].min", "cf[0].min"),
        ] {
            assert_eq!(input_for(path), input, "{path}");
        }
    }

    #[test]
    fn prefixes_and_addresses_agree() {
        for p in ["cf[3]", "cr[0]", "gt[2]", "gt[1].sf[0]", "gt[10].sr[4]"] {
            let item = item_of(p).unwrap_or_else(|| panic!("{p}"));
            assert_eq!(item_prefix(&item).as_deref(), Some(p));
        }
        for p in ["cf", "cr", "gt", "gt[1].sf", "gt[1].sr"] {
            assert_eq!(list_prefix(&list_of(p).unwrap()).as_deref(), Some(p));
        }
        for bad in [
            "", "cf[x]", "xx[1]", "gt[1].zz", "cf[1].sf", "gt[1", "cf[-1]",
        ] {
            assert!(item_of(bad).is_none() && list_of(bad).is_none(), "{bad}");
        }
        assert_eq!(
            item_of("gt[1].sf[0]").unwrap().list,
            list_of("gt[1].sf").unwrap()
        );
        assert_eq!(input_id("cf[3]", "key"), "f-cf-3--key");
        let minus_one = |i: usize| i.checked_sub(1);
        assert_eq!(
            renumber("cf[3].min", "cf", minus_one).as_deref(),
            Some("cf[2].min")
        );
        assert_eq!(renumber("cf[0].min", "cf", minus_one), None);
        assert_eq!(
            renumber("cr[3].kind", "cf", minus_one).as_deref(),
            Some("cr[3].kind")
        );
        assert_eq!(
            renumber("gt[2].sf[5].max", "gt", minus_one).as_deref(),
            Some("gt[1].sf[5].max")
        );
        assert_eq!(
            renumber("gt[2].sf/key", "gt", minus_one).as_deref(),
            Some("gt[1].sf/key")
        );
        assert_eq!(
            renumber("gt/weekly", "gt", minus_one).as_deref(),
            Some("gt/weekly")
        );
        assert_eq!(add_button_id("gt[0].sf"), "f-gt-0--sf-add");
    }
}
