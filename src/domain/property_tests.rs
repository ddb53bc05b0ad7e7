//! Property tests over random definitions (seeded, so every failure is reproducible): the exported
//! schemas compile, configs generated to satisfy them validate and survive the form round trip, and a
//! mutated value is refused.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};

use super::definition::{
    Definition, EnforcementDefaults, Field, FieldType, GoalTemplate, Rule, Schema, meta_validate,
};
use super::forms::{Submitted, parse, submission_of};
use super::schema::{Mode, export, validate};

fn word(rng: &mut StdRng) -> String {
    const SYL: [&str; 8] = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "zi"];
    (0..rng.random_range(1..4))
        .map(|_| SYL[rng.random_range(0..SYL.len())])
        .collect()
}

fn random_field(rng: &mut StdRng, key: String, depth: usize) -> Field {
    let types = if depth == 0 {
        vec![
            FieldType::Text,
            FieldType::Enum,
            FieldType::List,
            FieldType::Object,
            FieldType::Boolean,
            FieldType::Number,
            FieldType::Integer,
        ]
    } else {
        vec![
            FieldType::Text,
            FieldType::Enum,
            FieldType::Boolean,
            FieldType::Number,
            FieldType::Integer,
        ]
    };
    let t = types[rng.random_range(0..types.len())];
    let mut f = Field::new(&key, &format!("{} label", key), t);
    f.required = rng.random_bool(0.5);
    match t {
        FieldType::Text => {
            if rng.random_bool(0.3) {
                f.min_length = Some(rng.random_range(1..4));
                f.max_length = Some(rng.random_range(5..20));
            }
            if rng.random_bool(0.2) {
                f.pattern = Some("^[a-z]+$".into());
            }
            if rng.random_bool(0.15) {
                f.secret_ref = true;
                f.pattern = None;
                f.min_length = None;
                f.max_length = None;
            }
        }
        FieldType::Enum => {
            f.options = Some(
                (0..rng.random_range(1..7))
                    .map(|i| format!("opt{i}"))
                    .collect(),
            )
        }
        FieldType::Number | FieldType::Integer => {
            if rng.random_bool(0.6) {
                f.min = Some(rng.random_range(-5..5) as f64);
                f.max = Some(rng.random_range(10..100) as f64);
                f.exclusive_min = rng.random_bool(0.3);
            }
        }
        FieldType::List => {
            let item = [
                FieldType::Text,
                FieldType::Enum,
                FieldType::Number,
                FieldType::Integer,
            ][rng.random_range(0..4)];
            f.item_type = Some(item);
            if item == FieldType::Enum {
                f.options = Some(
                    (0..rng.random_range(1..5))
                        .map(|i| format!("o{i}"))
                        .collect(),
                );
            }
            if rng.random_bool(0.4) {
                f.min_items = Some(rng.random_range(0..2));
                f.max_items = Some(rng.random_range(3..6));
            }
        }
        FieldType::Object => {
            if rng.random_bool(0.6) {
                let n = rng.random_range(1..4);
                f.fields = Some(
                    (0..n)
                        .map(|i| random_field(rng, format!("sub{i}"), depth + 1))
                        .collect(),
                );
            }
        }
        FieldType::Boolean => {}
    }
    f
}

fn random_schema(rng: &mut StdRng) -> Schema {
    let n = rng.random_range(1..9);
    let fields: Vec<Field> = (0..n)
        .map(|i| {
            let key = format!("{}_{i}", word(rng));
            random_field(rng, key, 0)
        })
        .collect();
    Schema {
        fields,
        rules: vec![],
    }
}

fn random_definition(rng: &mut StdRng) -> Definition {
    let mut config = random_schema(rng);
    // Sometimes a member_of rule over a text field and a list of text.
    if rng.random_bool(0.4) {
        let mut coin = Field::new("pick", "Pick", FieldType::Text);
        coin.required = true;
        let mut pool = Field::new("pool", "Pool", FieldType::List);
        pool.item_type = Some(FieldType::Text);
        pool.required = true;
        config.fields.extend([coin, pool]);
        config.rules.push(Rule::MemberOf {
            field: "pick".into(),
            of: "pool".into(),
        });
    }
    Definition {
        agent_type_id: format!("gen.{}.v1", word(rng)),
        version: format!(
            "{}.{}.{}",
            rng.random_range(0..3),
            rng.random_range(0..20),
            rng.random_range(0..20)
        ),
        display_name: None,
        description: None,
        config_schema: config,
        goal_templates: (0..rng.random_range(0..3))
            .map(|i| GoalTemplate {
                goal_template_id: format!("gen.t{i}"),
                name: format!("Template {i}"),
                default_frequency: "weekly".into(),
                allowed_frequencies: None,
                settings_schema: random_schema(rng),
                skill_binding: None,
                description: None,
            })
            .collect(),
        enforcement_defaults: EnforcementDefaults::default(),
    }
}

fn number_in(rng: &mut StdRng, f: &Field, integer: bool) -> Value {
    let lo = f.min.unwrap_or(-50.0) + if f.exclusive_min { 1.0 } else { 0.0 };
    let hi = f.max.unwrap_or(lo + 100.0).max(lo);
    let n = rng.random_range(lo as i64..=hi as i64);
    if integer || rng.random_bool(0.5) {
        json!(n)
    } else {
        json!(n as f64 + 0.25)
            .as_f64()
            .filter(|x| *x <= hi)
            .map(|x| json!(x))
            .unwrap_or(json!(n))
    }
}

/// A value that satisfies the field (all fields are filled, so the value is complete).
fn valid_value(rng: &mut StdRng, f: &Field) -> Value {
    match f.field_type {
        FieldType::Text if f.secret_ref => json!(format!("CRED-{}", rng.random_range(1..1000))),
        FieldType::Text => {
            let len = rng.random_range(
                f.min_length.unwrap_or(1).max(1)
                    ..=f.max_length.unwrap_or(12).max(f.min_length.unwrap_or(1)),
            );
            json!(
                (0..len)
                    .map(|_| (b'a' + rng.random_range(0..26)) as char)
                    .collect::<String>()
            )
        }
        FieldType::Enum => {
            let o = f.options.as_ref().unwrap();
            json!(o[rng.random_range(0..o.len())])
        }
        FieldType::Boolean => json!(rng.random_bool(0.5)),
        FieldType::Number => number_in(rng, f, false),
        FieldType::Integer => number_in(rng, f, true),
        FieldType::List => {
            let least = f.min_items.unwrap_or(0).max(u64::from(f.required));
            let n = rng.random_range(least..=f.max_items.unwrap_or(3).max(least).min(4)) as usize;
            let items: Vec<Value> = match f.item_type {
                Some(FieldType::Enum) => {
                    let o = f.options.as_ref().unwrap();
                    o.iter().take(n.min(o.len())).map(|x| json!(x)).collect()
                }
                Some(FieldType::Number) => (0..n).map(|i| json!(i as f64 + 0.5)).collect(),
                Some(FieldType::Integer) => (0..n).map(|i| json!(i)).collect(),
                _ => (0..n).map(|i| json!(format!("item{i}"))).collect(),
            };
            Value::Array(items)
        }
        FieldType::Object => match f.sub_fields() {
            Some(sub) => Value::Object(
                sub.iter()
                    .map(|s| (s.key.clone(), valid_value(rng, s)))
                    .collect(),
            ),
            None => json!({"alpha": "one", "beta": "two"}),
        },
    }
}

fn valid_config(rng: &mut StdRng, s: &Schema) -> Value {
    let mut m: Map<String, Value> = s
        .fields
        .iter()
        .map(|f| (f.key.clone(), valid_value(rng, f)))
        .collect();
    if s.rules.iter().any(|r| matches!(r, Rule::MemberOf { .. })) {
        m.insert("pool".into(), json!(["btc", "eth"]));
        m.insert("pick".into(), json!("eth"));
    }
    Value::Object(m)
}

/// A wrong value for the field: wrong type, or out of its bounds.
fn mutate(f: &Field) -> Value {
    match f.field_type {
        FieldType::Text | FieldType::Enum => json!(12345),
        FieldType::Boolean => json!("maybe"),
        FieldType::Number | FieldType::Integer => match f.max {
            Some(m) => json!(m + 1.0),
            None => json!("not a number"),
        },
        FieldType::List => json!("not a list"),
        FieldType::Object => json!(["not", "an", "object"]),
    }
}

#[test]
fn random_definitions_export_working_schemas() {
    let mut rng = StdRng::seed_from_u64(20261122);
    for round in 0..300 {
        let d = random_definition(&mut rng);
        assert!(
            meta_validate(&d).is_empty(),
            "round {round}: generator made an invalid definition: {:?}\n{d:#?}",
            meta_validate(&d)
        );
        let mut schemas = vec![&d.config_schema];
        schemas.extend(d.goal_templates.iter().map(|t| &t.settings_schema));
        for s in schemas {
            // The export compiles as standard JSON Schema.
            let exported = export(s, "generated", None);
            let validator = jsonschema::validator_for(&exported)
                .unwrap_or_else(|e| panic!("round {round}: {e}\n{exported:#}"));
            // A value built to satisfy it validates, with the standard validator and with ours.
            let config = valid_config(&mut rng, s);
            assert!(
                validator.is_valid(&config),
                "round {round}: {config:#} against {exported:#}"
            );
            assert_eq!(
                validate(s, &config, Mode::Complete),
                vec![],
                "round {round}: {config:#}"
            );
            // It survives the form engine's round trip.
            let back = parse(
                &s.fields,
                "p",
                &Submitted::new(&submission_of(&s.fields, "p", &config)),
                &config,
            );
            assert_eq!(back, config, "round {round}: form round trip");
            // Any single mutated field is refused, and the message names that field.
            let f = &s.fields[rng.random_range(0..s.fields.len())];
            let mut bad = config.clone();
            bad[&f.key] = mutate(f);
            let errors = validate(s, &bad, Mode::Complete);
            assert!(
                !validator.is_valid(&bad),
                "round {round}: standard validator accepted a mutated {}",
                f.key
            );
            assert!(
                errors
                    .iter()
                    .any(|e| e.path == f.key || e.path.starts_with(&format!("{}.", f.key))),
                "round {round}: {errors:?} for {}",
                f.key
            );
        }
    }
}
