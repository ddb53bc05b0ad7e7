//! The editor's pure parts: reading inputs back, type changes, problems in words.

use std::collections::HashSet;

use serde_json::json;

use super::parse::{Command, parse_default, structured};
use super::problems::links;
use super::rows::{Doc, FieldRow, Look};
use crate::domain::catalog_edit::{EditOp, EditorMode, Fields, Item, SchemaAt, apply};
use crate::domain::definition::{Definition, FieldType, meta_validate};
use crate::domain::forms::Submitted;
use crate::error::Violation;
use crate::web::pages::FormErrors;

fn doc(d: &Definition) -> Doc {
    Doc::new(
        d,
        &Look {
            errors: &FormErrors::default(),
            closed: &HashSet::new(),
            focus: "",
        },
    )
}

/// What a browser submits for the structured editor showing `doc` (mirrors the templates).
fn submission(doc: &Doc) -> Vec<(String, String)> {
    let mut out = vec![
        ("display_name".to_string(), doc.display_name.clone()),
        ("description".into(), doc.description.clone()),
    ];
    let mut put = |k: String, v: String| out.push((k, v));
    for (name, on) in [
        ("approval_required", doc.approval_required),
        ("deterministic", doc.deterministic),
    ] {
        if on {
            put(name.into(), "true".into());
        }
    }
    let put_fields = |rows: &[FieldRow], put: &mut dyn FnMut(String, String)| {
        for r in rows {
            put(r.name("__row"), "1".into());
            put(r.name("__shape"), r.shape.clone());
            put(r.name("__closed"), String::new());
            for p in &r.shown {
                let text = match *p {
                    "key" => &r.key,
                    "label" => &r.label,
                    "type" => &r.field_type,
                    "description" => &r.description,
                    "options" => &r.options,
                    "item_type" => &r.item_type,
                    "default" => &r.default,
                    "min" => &r.min,
                    "max" => &r.max,
                    "min_length" => &r.min_length,
                    "max_length" => &r.max_length,
                    "pattern" => &r.pattern,
                    "min_items" => &r.min_items,
                    "max_items" => &r.max_items,
                    "fields" => &r.sub_fields,
                    _ => {
                        let on = match *p {
                            "required" => r.required,
                            "exclusive_min" => r.exclusive_min,
                            "secret_ref" => r.secret_ref,
                            other => panic!("{other}"),
                        };
                        if on {
                            put(r.name(p), "true".into());
                        }
                        continue;
                    }
                };
                put(r.name(p), text.clone());
            }
        }
    };
    put_fields(&doc.fields, &mut put);
    let put_rules = |rows: &[super::rows::RuleRow], put: &mut dyn FnMut(String, String)| {
        for r in rows {
            put(r.name("__row"), "1".into());
            put(r.name("kind"), r.kind.clone());
            put(r.name("field"), r.field.clone());
            put(r.name("other"), r.other.clone());
        }
    };
    put_rules(&doc.rules, &mut put);
    for t in &doc.templates {
        put(t.name_of("__row"), "1".into());
        for (p, v) in [
            ("goal_template_id", &t.goal_template_id),
            ("name", &t.name),
            ("description", &t.description),
            ("default_frequency", &t.default_frequency),
            ("skill_binding", &t.skill_binding),
        ] {
            put(t.name_of(p), v.clone());
        }
        for (f, on) in &t.allowed {
            if *on {
                put(t.name_of("allowed_frequencies"), f.to_string());
            }
        }
        put_fields(&t.fields, &mut put);
        put_rules(&t.rules, &mut put);
    }
    out
}

/// Rendering a definition into the editor and reading the inputs back gives the same definition,
/// although each row shows only the inputs its type uses.
#[test]
fn structured_editor_round_trips_the_builtins() {
    for d in crate::domain::builtin::definitions() {
        let form: Submitted = submission(&doc(&d)).into_iter().collect();
        let back = structured(&form, &d.agent_type_id, &d.version);
        assert!(back.problems.is_empty(), "{:?}", back.problems);
        assert!(back.type_changes.is_empty());
        assert_eq!(back.definition, d);
    }
}

#[test]
fn rows_show_the_inputs_of_their_type_and_stray_values() {
    let mut d = crate::domain::catalog_edit::blank_definition("t.x", "1.0.0");
    let mut n = crate::domain::definition::Field::new("n", "N", FieldType::Number);
    n.min = Some(1.0);
    let mut t = crate::domain::definition::Field::new("t", "T", FieldType::Text);
    t.options = Some(vec!["x".into()]);
    d.config_schema.fields = vec![n, t];
    let doc = doc(&d);
    let (n, t) = (&doc.fields[0], &doc.fields[1]);
    assert!(n.shows("min") && n.shows("max") && !n.shows("options") && !n.shows("pattern"));
    assert!(t.shows("pattern") && !t.shows("min"));
    assert!(
        t.shows("options") && t.stray("options"),
        "a stray value is not hidden"
    );
    assert!(!n.stray("min"));
    assert!(doc.input_names().contains(&"cf[0].min".to_string()));
    assert!(!doc.input_names().contains(&"cf[0].options".to_string()));
}

#[test]
fn a_changed_type_select_drops_what_the_new_type_does_not_use() {
    let form: Submitted = [
        ("cf[0].__row", "1"),
        ("cf[0].__shape", "number"),
        ("cf[0].key", "n"),
        ("cf[0].label", "N"),
        ("cf[0].type", "enum"),
        ("cf[0].min", "3"),
        ("cf[0].default", "a"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    let mut p = structured(&form, "t.x", "1.0.0");
    assert_eq!(
        p.type_changes,
        [EditOp::SetType {
            field: Item::field(Fields::of(SchemaAt::Config), 0),
            field_type: FieldType::Enum,
            item_type: None
        }]
    );
    for op in &p.type_changes {
        apply(&mut p.definition, op).unwrap();
    }
    let f = &p.definition.config_schema.fields[0];
    assert_eq!(
        (f.field_type, f.min, f.default.clone()),
        (FieldType::Enum, None, Some(json!("a")))
    );
}

#[test]
fn buttons_say_what_they_do() {
    use crate::domain::catalog_edit::List;
    let config = || Fields::of(SchemaAt::Config);
    assert_eq!(Command::parse("save"), Command::Save);
    assert_eq!(
        Command::parse("mode:json"),
        Command::Switch(EditorMode::Json)
    );
    assert_eq!(
        Command::parse("add_field:gt[1].sf"),
        Command::Edit(EditOp::AddField {
            to: Fields::of(SchemaAt::Template(1))
        })
    );
    assert_eq!(
        Command::parse("add_rule:cr"),
        Command::Edit(EditOp::AddRule {
            to: SchemaAt::Config
        })
    );
    assert_eq!(
        Command::parse("up:cf[3]"),
        Command::Edit(EditOp::MoveUp {
            item: Item::field(config(), 3)
        })
    );
    assert_eq!(
        Command::parse("remove:gt[0]"),
        Command::Edit(EditOp::Remove {
            item: Item {
                list: List::Templates,
                index: 0
            }
        })
    );
    assert_eq!(
        Command::parse("retype:cf[2]"),
        Command::Retype(Item::field(config(), 2))
    );
    for nonsense in ["", "add_field:cr", "up:zz[1]", "mode:xml", "explode"] {
        assert_eq!(Command::parse(nonsense), Command::Show, "{nonsense}");
    }
}

#[test]
fn problems_are_named_in_words_and_link_to_their_input() {
    let mut d = crate::domain::builtin::definitions().remove(0);
    d.config_schema.fields[3].field_type = FieldType::Enum;
    d.config_schema.fields[3].options = None;
    let label = d.config_schema.fields[3].label.clone();
    let problems = meta_validate(&d);
    let l = links(&problems, &doc(&d), EditorMode::Structured);
    let options = l
        .iter()
        .find(|l| l.href == "#f-cf-3--options")
        .unwrap_or_else(|| panic!("{l:?}"));
    assert_eq!(options.place, format!("Field 4 ({label}) — Options"));
    assert_eq!(options.message, "An enum field needs at least one option.");
    assert!(!options.path);
    let extra = [
        Violation::new("cf[0].min", "Enter a number."),
        Violation::new("goal_templates[0].settings_schema.fields[0].label", "x"),
        Violation::new("config_schema.fields[2].fields[1].key", "y"),
        Violation::new("enforcement_defaults.deterministic", "z"),
    ];
    let l = links(&extra, &doc(&d), EditorMode::Structured);
    assert_eq!(l[0].href, "#f-cf-0--min");
    assert!(l[0].place.ends_with(") — Minimum"), "{:?}", l[0]);
    assert!(l[1].place.starts_with("Goal template 1 ("), "{:?}", l[1]);
    assert!(l[1].place.contains(") — Settings field 1 ("), "{:?}", l[1]);
    assert!(
        l[2].place.ends_with("— Sub-fields (at fields[1].key)"),
        "{:?}",
        l[2]
    );
    assert_eq!(
        (l[3].href.as_str(), l[3].place.as_str()),
        ("#f-deterministic", "Deterministic")
    );
    // In the JSON editor a problem is its path, linking to the text.
    let l = links(&problems, &doc(&d), EditorMode::Json);
    assert!(l.iter().all(|l| l.path && l.href == "#f-raw_json"));
    assert!(
        l.iter()
            .any(|l| l.place == "config_schema.fields[3].options")
    );
}

#[test]
fn defaults_are_read_by_type() {
    assert_eq!(parse_default("3", FieldType::Integer, None), Some(json!(3)));
    assert_eq!(
        parse_default("soon", FieldType::Integer, None),
        Some(json!("soon"))
    );
    assert_eq!(
        parse_default("a, b", FieldType::List, Some(FieldType::Text)),
        Some(json!(["a", "b"]))
    );
    assert_eq!(
        parse_default("[1, 2]", FieldType::List, Some(FieldType::Number)),
        Some(json!([1, 2]))
    );
    assert_eq!(
        parse_default("1, 2.5", FieldType::List, Some(FieldType::Number)),
        Some(json!([1, 2.5]))
    );
    assert_eq!(
        parse_default("yes", FieldType::Boolean, None),
        Some(json!(true))
    );
    assert_eq!(parse_default("", FieldType::Text, None), None);
}
