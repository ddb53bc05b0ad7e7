//! One test per edit operation, on a small definition.

use super::*;
use crate::domain::definition::FieldType;

fn field(key: &str, t: FieldType) -> Field {
    Field::new(key, &key.to_uppercase(), t)
}

fn sample() -> Definition {
    let mut d = blank_definition("t.x", "1.0.0");
    let mut obj = field("limits", FieldType::Object);
    obj.fields = Some(vec![field("low", FieldType::Integer)]);
    d.config_schema.fields = vec![
        field("a", FieldType::Text),
        field("b", FieldType::Text),
        field("c", FieldType::Text),
        obj,
    ];
    d.config_schema.rules = vec![blank_rule(), blank_rule()];
    let mut t = blank_template();
    t.goal_template_id = "g0".into();
    t.settings_schema.fields = vec![field("s", FieldType::Text)];
    let mut t1 = blank_template();
    t1.goal_template_id = "g1".into();
    d.goal_templates = vec![t, t1];
    d
}

fn keys(fields: &[Field]) -> Vec<&str> {
    fields.iter().map(|f| f.key.as_str()).collect()
}

fn config() -> Fields {
    Fields::of(SchemaAt::Config)
}

fn cf(i: usize) -> Item {
    Item::field(config(), i)
}

#[test]
fn add_field_appends_a_blank_field_and_lands_on_it() {
    let mut d = sample();
    let landing = apply(&mut d, &EditOp::AddField { to: config() }).unwrap();
    assert_eq!(landing, Landing::Item(cf(4)));
    assert_eq!(d.config_schema.fields[4], blank_field());
    assert!(d.config_schema.fields[4].label.is_empty());
    let to = Fields::of(SchemaAt::Template(0));
    assert_eq!(
        apply(&mut d, &EditOp::AddField { to: to.clone() }).unwrap(),
        Landing::Item(Item::field(to, 1))
    );
    assert_eq!(d.goal_templates[0].settings_schema.fields.len(), 2);
    let missing = Fields::of(SchemaAt::Template(9));
    assert_eq!(
        apply(&mut d, &EditOp::AddField { to: missing }),
        Err(Refusal::Gone)
    );
}

#[test]
fn add_sub_field_makes_the_list_of_an_object_field() {
    let mut d = sample();
    let subs = Fields {
        schema: SchemaAt::Config,
        parents: vec![3],
    };
    apply(&mut d, &EditOp::AddField { to: subs.clone() }).unwrap();
    assert_eq!(
        keys(d.config_schema.fields[3].fields.as_ref().unwrap()),
        ["low", ""]
    );
    // An object without sub-fields gets its first one.
    d.config_schema.fields[3].fields = None;
    let landing = apply(&mut d, &EditOp::AddField { to: subs.clone() }).unwrap();
    assert_eq!(landing, Landing::Item(Item::field(subs, 0)));
    assert_eq!(d.config_schema.fields[3].fields.as_ref().unwrap().len(), 1);
    // A text field has no sub-fields.
    let before = d.clone();
    let not_object = Fields {
        schema: SchemaAt::Config,
        parents: vec![0],
    };
    assert_eq!(
        apply(&mut d, &EditOp::AddField { to: not_object }),
        Err(Refusal::NotApplicable)
    );
    assert_eq!(d, before);
}

#[test]
fn add_rule_appends_an_empty_member_of() {
    let mut d = sample();
    let landing = apply(
        &mut d,
        &EditOp::AddRule {
            to: SchemaAt::Template(1),
        },
    )
    .unwrap();
    assert_eq!(
        landing,
        Landing::Item(Item {
            list: List::Rules(SchemaAt::Template(1)),
            index: 0
        })
    );
    assert_eq!(d.goal_templates[1].settings_schema.rules, [blank_rule()]);
}

#[test]
fn add_template_appends_a_weekly_one() {
    let mut d = sample();
    let landing = apply(&mut d, &EditOp::AddTemplate).unwrap();
    assert_eq!(
        landing,
        Landing::Item(Item {
            list: List::Templates,
            index: 2
        })
    );
    assert_eq!(d.goal_templates[2].default_frequency, "weekly");
}

#[test]
fn remove_lands_on_the_next_row_then_the_previous_then_the_empty_list() {
    let mut d = sample();
    assert_eq!(
        apply(&mut d, &EditOp::Remove { item: cf(1) }).unwrap(),
        Landing::Item(cf(1))
    );
    assert_eq!(keys(&d.config_schema.fields), ["a", "c", "limits"]);
    assert_eq!(
        apply(&mut d, &EditOp::Remove { item: cf(2) }).unwrap(),
        Landing::Item(cf(1)),
        "the last row removed: the one before it"
    );
    apply(&mut d, &EditOp::Remove { item: cf(0) }).unwrap();
    assert_eq!(
        apply(&mut d, &EditOp::Remove { item: cf(0) }).unwrap(),
        Landing::EmptyList(List::Fields(config()))
    );
    assert_eq!(
        apply(&mut d, &EditOp::Remove { item: cf(0) }),
        Err(Refusal::Gone)
    );
    let rule = Item {
        list: List::Rules(SchemaAt::Config),
        index: 0,
    };
    apply(&mut d, &EditOp::Remove { item: rule }).unwrap();
    assert_eq!(d.config_schema.rules.len(), 1);
    let template = Item {
        list: List::Templates,
        index: 0,
    };
    apply(&mut d, &EditOp::Remove { item: template }).unwrap();
    assert_eq!(d.goal_templates[0].goal_template_id, "g1");
    let mut d = sample();
    let sub = Item::field(
        Fields {
            schema: SchemaAt::Config,
            parents: vec![3],
        },
        0,
    );
    assert_eq!(
        apply(&mut d, &EditOp::Remove { item: sub.clone() }).unwrap(),
        Landing::EmptyList(sub.list)
    );
    assert_eq!(d.config_schema.fields[3].fields, Some(vec![]));
}

#[test]
fn move_up_swaps_with_the_row_before() {
    let mut d = sample();
    assert_eq!(
        apply(&mut d, &EditOp::MoveUp { item: cf(2) }).unwrap(),
        Landing::Item(cf(1))
    );
    assert_eq!(keys(&d.config_schema.fields), ["a", "c", "b", "limits"]);
    let before = d.clone();
    assert_eq!(
        apply(&mut d, &EditOp::MoveUp { item: cf(0) }),
        Err(Refusal::AtEdge)
    );
    assert_eq!(
        apply(&mut d, &EditOp::MoveUp { item: cf(7) }),
        Err(Refusal::Gone)
    );
    assert_eq!(d, before);
    let template = Item {
        list: List::Templates,
        index: 1,
    };
    apply(&mut d, &EditOp::MoveUp { item: template }).unwrap();
    assert_eq!(d.goal_templates[0].goal_template_id, "g1");
}

#[test]
fn move_down_swaps_with_the_row_after() {
    let mut d = sample();
    assert_eq!(
        apply(&mut d, &EditOp::MoveDown { item: cf(0) }).unwrap(),
        Landing::Item(cf(1))
    );
    assert_eq!(keys(&d.config_schema.fields), ["b", "a", "c", "limits"]);
    assert_eq!(
        apply(&mut d, &EditOp::MoveDown { item: cf(3) }),
        Err(Refusal::AtEdge)
    );
    let rule = Item {
        list: List::Rules(SchemaAt::Config),
        index: 0,
    };
    d.config_schema.rules[0] = Rule::Covers {
        field: "x".into(),
        keys_from: "y".into(),
    };
    apply(&mut d, &EditOp::MoveDown { item: rule }).unwrap();
    assert_eq!(d.config_schema.rules[0], blank_rule());
}

#[test]
fn set_type_drops_what_the_new_type_does_not_use() {
    let mut d = sample();
    let f = &mut d.config_schema.fields[0];
    f.field_type = FieldType::Enum;
    f.options = Some(vec!["x".into()]);
    f.required = true;
    let op = EditOp::SetType {
        field: cf(0),
        field_type: FieldType::Number,
        item_type: None,
    };
    assert_eq!(apply(&mut d, &op).unwrap(), Landing::Item(cf(0)));
    let f = &d.config_schema.fields[0];
    assert_eq!(
        (f.field_type, &f.options, f.required),
        (FieldType::Number, &None, true)
    );
    // To a list of enum: the options stay.
    d.config_schema.fields[0].options = Some(vec!["x".into()]);
    let op = EditOp::SetType {
        field: cf(0),
        field_type: FieldType::List,
        item_type: Some(FieldType::Enum),
    };
    apply(&mut d, &op).unwrap();
    assert!(d.config_schema.fields[0].is_multi_select());
    assert_eq!(d.config_schema.fields[0].options, Some(vec!["x".into()]));
    // Only fields have types.
    let rule = Item {
        list: List::Rules(SchemaAt::Config),
        index: 0,
    };
    let op = EditOp::SetType {
        field: rule,
        field_type: FieldType::Text,
        item_type: None,
    };
    assert_eq!(apply(&mut d, &op), Err(Refusal::NotApplicable));
}

#[test]
fn edits_say_where_the_rows_went() {
    let remove = EditOp::Remove { item: cf(1) };
    assert_eq!(remove.renumbers(), Some(&List::Fields(config())));
    assert_eq!(
        (0..4).map(|i| remove.new_index(i)).collect::<Vec<_>>(),
        [Some(0), None, Some(1), Some(2)]
    );
    let up = EditOp::MoveUp { item: cf(2) };
    assert_eq!(
        (0..4).map(|i| up.new_index(i)).collect::<Vec<_>>(),
        [Some(0), Some(2), Some(1), Some(3)]
    );
    let down = EditOp::MoveDown { item: cf(0) };
    assert_eq!(
        (0..3).map(|i| down.new_index(i)).collect::<Vec<_>>(),
        [Some(1), Some(0), Some(2)]
    );
    assert_eq!(EditOp::AddTemplate.renumbers(), None);
    // Checked against what apply does.
    let d0 = sample();
    for op in [remove, up, down] {
        let mut d = d0.clone();
        apply(&mut d, &op).unwrap();
        for (i, f) in d0.config_schema.fields.iter().enumerate() {
            match op.new_index(i) {
                Some(j) => assert_eq!(&d.config_schema.fields[j], f),
                None => assert!(!d.config_schema.fields.contains(f)),
            }
        }
    }
}

#[test]
fn lists_have_lengths() {
    let d = sample();
    assert_eq!(len(&d, &List::Fields(config())), Some(4));
    assert_eq!(len(&d, &List::Rules(SchemaAt::Config)), Some(2));
    assert_eq!(len(&d, &List::Templates), Some(2));
    let subs = Fields {
        schema: SchemaAt::Config,
        parents: vec![3],
    };
    assert_eq!(len(&d, &List::Fields(subs)), Some(1));
    assert_eq!(len(&d, &List::Rules(SchemaAt::Template(5))), None);
}
